/*
 * A directory tree on disk as a flat component's Payload and Bom, or as
 * its Scripts (flatten of an expand --full directory, build --root).
 *
 * The tree is listed once, sorted by name at every level, without
 * following any symlink; then an odc cpio stream of it is generated on
 * demand (no temporary file) and handed to payload_convert(), which gzips
 * it and builds the Bom exactly as for a converted legacy payload. Hard
 * links inside the tree share one inode number and carry their data at
 * every link, as bsdtar writes odc; links to files outside the tree are
 * plain files. Memory grows with the number of entries, not their sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gzip_write.h"
#include "tree.h"

#define ODC_MAX6 0777777u
#define ODC_MAX11 ((uint64_t)077777777777)
#define MAX_DEPTH 256

/* ------------------------------------------------------------------ */
/* Owners from an old Bom                                             */

struct owner {
	char *path;
	uint32_t uid, gid;
	int type;
};

struct bom_owners {
	struct owner *v;
	size_t n, cap;
};

static int owner_add(const pkgflat_entry *e, void *ctx)
{
	bom_owners *o = ctx;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct owner *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return 1;
		o->v = v;
		o->cap = cap;
	}
	if (!(o->v[o->n].path = pf_strdup(e->path)))
		return 1;
	o->v[o->n].uid = e->uid;
	o->v[o->n].gid = e->gid;
	o->v[o->n].type = e->type == PKGFLAT_ENTRY_HARDLINK ?
	    PKGFLAT_ENTRY_FILE : e->type;
	o->n++;
	return 0;
}

static int owner_cmp(const void *a, const void *b)
{
	return strcmp(((const struct owner *)a)->path,
	    ((const struct owner *)b)->path);
}

pkgflat_status bom_owners_load(const char *bom_path, bom_owners **out,
    pkgflat_error *err)
{
	bom_owners *o = pf_calloc(1, sizeof *o);
	pkgflat_status rc;

	*out = NULL;
	if (!o)
		return fail_nomem(err);
	if ((rc = pkgflat_bom_list_file(bom_path, owner_add, o, NULL, err))) {
		if (!strcmp(err->message, "stopped by the caller")) {
			pkgflat_error_clear(err);
			rc = fail_nomem(err);
		}
		bom_owners_free(o);
		return rc;
	}
	if (o->n)
		qsort(o->v, o->n, sizeof *o->v, owner_cmp);
	*out = o;
	return PKGFLAT_OK;
}

void bom_owners_free(bom_owners *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].path);
	free(o->v);
	free(o);
}

static const struct owner *owner_find(const bom_owners *o, const char *path)
{
	struct owner key = { .path = (char *)path };

	return o && o->n ? bsearch(&key, o->v, o->n, sizeof *o->v, owner_cmp) :
	    NULL;
}

/* ------------------------------------------------------------------ */
/* Listing the tree                                                   */

struct tnode {
	char *rel;          /* "." or "./a/b" */
	struct stat st;
	uint32_t ino;       /* as written: shared by hard links in the tree */
	uint32_t nlink;     /* links inside the tree (directories: 2) */
	uint32_t uid, gid;  /* as written */
	char *link;         /* symlink target */
};

struct tree {
	struct tnode *v;
	size_t n, cap;
	int rootfd;
	const struct tree_job *job;
};

static pkgflat_status tree_push(struct tree *t, const char *rel,
    const struct stat *st)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct tnode *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return fail_nomem(t->job->err);
		t->v = v;
		t->cap = cap;
	}
	struct tnode *n = &t->v[t->n];
	memset(n, 0, sizeof *n);
	if (!(n->rel = pf_strdup(rel)))
		return fail_nomem(t->job->err);
	n->st = *st;
	t->n++;
	return PKGFLAT_OK;
}

static pkgflat_status walk(struct tree *t, int dfd, const char *rel,
    int depth)
{
	const struct tree_job *job = t->job;
	ptrvec names = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	DIR *d;
	struct dirent *de;

	if (depth > MAX_DEPTH)
		return fail(job->err, PKGFLAT_E_FORMAT, job->name, rel,
		    "directories nested more than %d deep", MAX_DEPTH);
	int fd = dup(dfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail_errno(job->err, job->name, "%s: cannot list", rel);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *n = pf_strdup(de->d_name);
		if (!n || pv_push(&names, n)) {
			free(n);
			rc = fail_nomem(job->err);
			break;
		}
	}
	closedir(d);
	if (rc)
		goto out;
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, str_ptr_cmp);
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *nm = names.v[i];
		struct stat st;
		char *child = pf_asprintf("%s/%s", rel, nm);
		if (!child) {
			rc = fail_nomem(job->err);
			break;
		}
		if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = fail_errno(job->err, job->name, "%s", child);
		} else if (S_ISSOCK(st.st_mode)) {
			rc = fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name, child,
			    "a socket cannot go into a payload");
		} else if (!(rc = tree_push(t, child, &st)) && S_ISDIR(st.st_mode)) {
			int cfd = openat(dfd, nm, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				rc = fail_errno(job->err, job->name, "%s", child);
			else {
				rc = walk(t, cfd, child, depth + 1);
				close(cfd);
			}
		}
		free(child);
	}
out:
	pv_free(&names, free);
	return rc;
}

struct link_key {
	dev_t dev;
	ino_t ino;
	size_t index;
};

static int link_cmp(const void *a, const void *b)
{
	const struct link_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Inode numbers and link counts as written, and owners. */
static pkgflat_status number(struct tree *t)
{
	const struct tree_job *job = t->job;
	struct link_key *k = pf_calloc(t->n ? t->n : 1, sizeof *k);
	size_t nk = 0;
	uint32_t next = 1;

	if (!k)
		return fail_nomem(job->err);
	for (size_t i = 0; i < t->n; i++) {
		struct tnode *n = &t->v[i];
		n->nlink = S_ISDIR(n->st.st_mode) ? 2 : 1;
		n->ino = next++;
		if (S_ISREG(n->st.st_mode) && n->st.st_nlink > 1)
			k[nk++] = (struct link_key){ n->st.st_dev, n->st.st_ino, i };
	}
	if (nk)
		qsort(k, nk, sizeof *k, link_cmp);
	for (size_t i = 0; i < nk;) {
		size_t j = i;
		while (j < nk && k[j].dev == k[i].dev && k[j].ino == k[i].ino)
			j++;
		for (size_t m = i; m < j; m++) {
			t->v[k[m].index].ino = t->v[k[i].index].ino;
			t->v[k[m].index].nlink = (uint32_t)(j - i);
		}
		i = j;
	}
	free(k);
	if (next > ODC_MAX6)
		return fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name, NULL,
		    "more than %u entries do not fit odc cpio", ODC_MAX6 - 1);
	for (size_t i = 0; i < t->n; i++) {
		struct tnode *n = &t->v[i];
		const struct owner *o = owner_find(job->owners, n->rel);
		int type = S_ISDIR(n->st.st_mode) ? PKGFLAT_ENTRY_DIR :
		    S_ISLNK(n->st.st_mode) ? PKGFLAT_ENTRY_SYMLINK :
		    S_ISREG(n->st.st_mode) ? PKGFLAT_ENTRY_FILE : 0;
		if (o && (o->type == type || !type)) {
			n->uid = o->uid;
			n->gid = o->gid;
		} else {
			n->uid = n->st.st_uid;
			n->gid = n->st.st_gid;
			pkgflat_ownership_apply(job->ownership, &n->uid, &n->gid);
		}
		if (n->uid > ODC_MAX6 || n->gid > ODC_MAX6)
			return fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name, n->rel,
			    "owner %u:%u does not fit odc cpio", n->uid, n->gid);
		if (S_ISREG(n->st.st_mode) && (uint64_t)n->st.st_size > ODC_MAX11)
			return fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name, n->rel,
			    "%lld bytes do not fit odc cpio (8 GiB at most)",
			    (long long)n->st.st_size);
		if ((S_ISCHR(n->st.st_mode) || S_ISBLK(n->st.st_mode)) &&
		    n->st.st_rdev > ODC_MAX6)
			return fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name, n->rel,
			    "device number %#llx does not fit odc cpio",
			    (unsigned long long)n->st.st_rdev);
		if (S_ISLNK(n->st.st_mode)) {
			char buf[4096];
			const char *inner = n->rel[1] ? n->rel + 2 : ".";
			ssize_t len = readlinkat(t->rootfd, inner, buf, sizeof buf);
			if (len < 0)
				return fail_errno(job->err, job->name, "%s", n->rel);
			if ((size_t)len == sizeof buf)
				return fail(job->err, PKGFLAT_E_UNSUPPORTED, job->name,
				    n->rel, "symlink target too long");
			if (!(n->link = pf_strndup(buf, (size_t)len)))
				return fail_nomem(job->err);
		}
	}
	return PKGFLAT_OK;
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].rel);
		free(t->v[i].link);
	}
	free(t->v);
	if (t->rootfd >= 0)
		close(t->rootfd);
	memset(t, 0, sizeof *t);
	t->rootfd = -1;
}

static pkgflat_status tree_list(struct tree *t, const struct tree_job *job)
{
	struct stat st;
	pkgflat_status rc;

	memset(t, 0, sizeof *t);
	t->job = job;
	t->rootfd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0)
		return fail_errno(job->err, job->dir, "cannot open the directory");
	if (fstat(t->rootfd, &st))
		return fail_errno(job->err, job->dir, "cannot stat");
	if ((rc = tree_push(t, ".", &st)) || (rc = walk(t, t->rootfd, ".", 0)))
		return rc;
	return number(t);
}

/* ------------------------------------------------------------------ */
/* The odc stream                                                     */

struct gen {
	src_stream base;
	struct tree *t;
	size_t next;        /* entry whose header comes next */
	int fd;             /* file whose data is being read */
	const char *cur;    /* its path */
	uint64_t left;      /* data bytes still to come */
	const char *link;   /* symlink target being written */
	int trailer_done;
	unsigned char hdr[76 + 4096 + 1];
	size_t hlen, hpos;
};

static void gen_header(struct gen *g, const char *name, uint32_t mode,
    uint32_t uid, uint32_t gid, uint32_t nlink, uint32_t rdev, int64_t mtime,
    uint32_t ino, uint64_t size)
{
	size_t nl = strlen(name) + 1;

	if (mtime < 0)
		mtime = 0;
	if ((uint64_t)mtime > ODC_MAX11)
		mtime = (int64_t)ODC_MAX11;
	g->hlen = (size_t)snprintf((char *)g->hdr, sizeof g->hdr,
	    "070707%06o%06o%06o%06o%06o%06o%06o%011llo%06o%011llo", 0u,
	    ino, mode, uid, gid, nlink, rdev, (unsigned long long)mtime,
	    (unsigned)nl, (unsigned long long)size);
	memcpy(g->hdr + g->hlen, name, nl);
	g->hlen += nl;
	g->hpos = 0;
}

static pkgflat_status gen_next(struct gen *g)
{
	struct tree *t = g->t;
	const struct tree_job *job = t->job;

	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
	g->link = NULL;
	if (g->next == t->n) {
		if (g->trailer_done)
			return PKGFLAT_OK;
		gen_header(g, "TRAILER!!!", 0, 0, 0, 1, 0, 0, 0, 0);
		g->trailer_done = 1;
		return PKGFLAT_OK;
	}
	struct tnode *n = &t->v[g->next++];
	uint64_t size = 0;
	if (S_ISREG(n->st.st_mode)) {
		const char *inner = n->rel + 2;
		g->fd = openat(t->rootfd, inner, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (g->fd < 0)
			return fail_errno(job->err, job->name, "%s", n->rel);
		size = (uint64_t)n->st.st_size;
		g->cur = n->rel;
	} else if (S_ISLNK(n->st.st_mode)) {
		g->link = n->link;
		size = strlen(n->link);
	}
	g->left = size;
	gen_header(g, n->rel, (uint32_t)n->st.st_mode & 0177777, n->uid, n->gid,
	    n->nlink, (S_ISCHR(n->st.st_mode) || S_ISBLK(n->st.st_mode)) ?
	    (uint32_t)n->st.st_rdev : 0, (int64_t)n->st.st_mtime, n->ino, size);
	return PKGFLAT_OK;
}

static long gen_read(src_stream *s, void *buf, size_t n)
{
	struct gen *g = (struct gen *)s;
	const struct tree_job *job = g->t->job;
	unsigned char *out = buf;
	size_t done = 0;

	while (done < n) {
		if (g->hpos < g->hlen) {
			size_t k = g->hlen - g->hpos;
			if (k > n - done)
				k = n - done;
			memcpy(out + done, g->hdr + g->hpos, k);
			g->hpos += k;
			done += k;
			continue;
		}
		if (g->left && g->link) {
			size_t off = strlen(g->link) - (size_t)g->left;
			size_t k = (size_t)g->left < n - done ? (size_t)g->left :
			    n - done;
			memcpy(out + done, g->link + off, k);
			g->left -= k;
			done += k;
			continue;
		}
		if (g->left) {
			size_t want = g->left < n - done ? (size_t)g->left : n - done;
			ssize_t k = read(g->fd, out + done, want);
			if (k < 0) {
				fail_errno(job->err, job->name, "%s: cannot read", g->cur);
				return -1;
			}
			if (k == 0) {
				fail(job->err, PKGFLAT_E_IO, job->name, g->cur,
				    "the file shrank while it was read");
				return -1;
			}
			g->left -= (uint64_t)k;
			done += (size_t)k;
			continue;
		}
		if (g->trailer_done)
			break;
		if (gen_next(g))
			return -1;
	}
	return (long)done;
}

static void gen_close(src_stream *s)
{
	struct gen *g = (struct gen *)s;

	if (g->fd >= 0)
		close(g->fd);
	free(s->path);
	free(g);
}

static pkgflat_status gen_open(void *ctx, src_stream **out, pkgflat_error *err)
{
	struct tree *t = ctx;
	struct gen *g = src_stream_new(sizeof *g, NULL, t->job->name, gen_read,
	    gen_close);

	*out = NULL;
	if (!g)
		return fail_nomem(err);
	g->t = t;
	g->fd = -1;
	g->base.err = err;
	*out = &g->base;
	return PKGFLAT_OK;
}

pkgflat_status tree_payload(const struct tree_job *job,
    struct payload_result *res)
{
	struct tree t;
	struct payload_job pj = { 0 };
	pkgflat_status rc;

	memset(res, 0, sizeof *res);
	if (!(rc = tree_list(&t, job))) {
		pj.open = gen_open;
		pj.open_ctx = &t;
		pj.name = job->name;
		pj.xw = job->xw;
		pj.parent = job->parent;
		/* Owners were settled while listing. */
		pj.ownership = PKGFLAT_OWNERSHIP_PRESERVE;
		pj.force_transcode = 1;
		pj.mtime = t.n ? (int64_t)t.v[0].st.st_mtime : 0;
		pj.gzip_level = 6;
		pj.threads = job->threads;
		pj.err = job->err;
		rc = payload_convert(&pj, res);
	}
	tree_free(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Scripts                                                            */

static int scripts_out(void *ctx, const void *data, size_t len)
{
	const struct tree_job *job = ctx;

	return xarw_file_write(job->xw, data, len, job->err) ? -1 : 0;
}

pkgflat_status tree_scripts(const struct tree_job *job, int *pre, int *post)
{
	struct tree_job j = *job;
	struct tree t;
	src_stream *in = NULL;
	pgz *gz = NULL;
	unsigned char *buf = NULL;
	pkgflat_status rc;

	/* Installer runs scripts from a copy; their owners do not matter. */
	j.owners = NULL;
	j.ownership = PKGFLAT_OWNERSHIP_ROOT;
	if (pre)
		*pre = 0;
	if (post)
		*post = 0;
	if ((rc = tree_list(&t, &j)))
		goto out;
	for (size_t i = 0; i < t.n; i++) {
		if (!S_ISREG(t.v[i].st.st_mode))
			continue;
		if (pre && !strcmp(t.v[i].rel, "./preinstall"))
			*pre = 1;
		if (post && !strcmp(t.v[i].rel, "./postinstall"))
			*post = 1;
	}
	if ((rc = gen_open(&t, &in, job->err)) ||
	    (rc = xarw_file_begin(job->xw, job->parent, "Scripts", XAR_ENC_RAW,
	    job->err)))
		goto out;
	if (!(gz = pgz_new(9, 1, scripts_out, &j)) ||
	    !(buf = malloc(256 * 1024))) {
		rc = fail_nomem(job->err);
		goto out;
	}
	for (;;) {
		long k = in->read(in, buf, 256 * 1024);
		if (k < 0) {
			rc = job->err->status ? job->err->status : PKGFLAT_E_IO;
			goto out;
		}
		if (!k)
			break;
		if (pgz_write(gz, buf, (size_t)k)) {
			rc = job->err->status ? job->err->status : fail(job->err,
			    PKGFLAT_E_IO, job->name, NULL, "cannot compress");
			goto out;
		}
	}
	if (pgz_finish(gz)) {
		rc = job->err->status ? job->err->status : fail(job->err,
		    PKGFLAT_E_IO, job->name, NULL, "cannot compress");
		goto out;
	}
	rc = xarw_file_end(job->xw, job->err);
out:
	if (rc)
		xarw_file_abort(job->xw);
	pgz_free(gz);
	free(buf);
	src_stream_close(in);
	tree_free(&t);
	return rc;
}
