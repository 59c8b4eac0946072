/*
 * A Payload or Scripts archive extracted into a directory (expand --full).
 *
 * Every path is created relative to the directory's descriptor, one
 * component at a time, with O_NOFOLLOW: a name with "..", or a path whose
 * parent is a symlink the archive made earlier, is refused, so nothing is
 * ever written outside the directory or through a link. Modes and times
 * are kept (directories' once their contents are in), owners too when
 * running as root. A path stored twice ends as its last copy, as
 * Installer leaves it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payload.h"
#include "tree.h"

#define XBUF (256 * 1024)

struct xin {
	payload_read_fn rd;
	void *ctx;
	unsigned char head[8];
	size_t nhead, hpos;
	unsigned char buf[XBUF];
};

static long xin_read(void *p, void *buf, size_t n)
{
	struct xin *x = p;

	if (x->hpos < x->nhead) {
		size_t k = x->nhead - x->hpos < n ? x->nhead - x->hpos : n;
		memcpy(buf, x->head + x->hpos, k);
		x->hpos += k;
		return (long)k;
	}
	return x->rd(x->ctx, buf, n);
}

static la_ssize_t la_cb(struct archive *a, void *p, const void **out)
{
	struct xin *x = p;
	long k = xin_read(x, x->buf, sizeof x->buf);

	(void)a;
	*out = x->buf;
	return k < 0 ? -1 : (la_ssize_t)k;
}

static long stream_rd(void *p, void *buf, size_t n)
{
	src_stream *s = p;

	return s->read(s, buf, n);
}

struct dirattr {
	char *rel;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime;
};

struct ex {
	int rootfd;
	const char *name;
	pkgflat_error *err;
	int as_root;
	struct dirattr *dirs;
	size_t ndirs, capdirs;
	char where[512];
};

/* The directory holding rel ("./a/b/c" -> a/b), made when missing; *base
 * is the last component. -1 with err set when a parent is not a plain
 * directory. */
static int open_parent(struct ex *x, const char *rel, const char **base,
    int make)
{
	const char *p = rel + 2;
	int fd = dup(x->rootfd);

	if (fd < 0) {
		fail_errno(x->err, x->name, "%s", x->where);
		return -1;
	}
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		char comp[1024];
		size_t len = (size_t)(slash - p);
		if (len >= sizeof comp) {
			close(fd);
			fail(x->err, PKGFLAT_E_UNSUPPORTED, x->name, x->where,
			    "a path component longer than %zu bytes", sizeof comp - 1);
			return -1;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && make &&
		    mkdirat(fd, comp, 0755) == 0)
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (nfd < 0) {
			int e = errno;
			close(fd);
			if (e == ELOOP || e == ENOTDIR)
				fail(x->err, PKGFLAT_E_FORMAT, x->name, x->where,
				    "its parent %.*s is not a directory (a symlink is "
				    "never written through)", (int)(slash - rel), rel);
			else {
				errno = e;
				fail_errno(x->err, x->name, "%s", x->where);
			}
			return -1;
		}
		close(fd);
		fd = nfd;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

/* Make room for base: remove what a previous copy of the path left,
 * unless both are directories. */
static pkgflat_status clear_for(struct ex *x, int pfd, const char *base,
    int is_dir)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? PKGFLAT_OK : fail_errno(x->err, x->name,
		    "%s", x->where);
	if (S_ISDIR(st.st_mode)) {
		if (is_dir)
			return PKGFLAT_OK;
		if (unlinkat(pfd, base, AT_REMOVEDIR))
			return fail(x->err, PKGFLAT_E_FORMAT, x->name, x->where,
			    "a file stored over a directory that is not empty");
		return PKGFLAT_OK;
	}
	if (unlinkat(pfd, base, 0))
		return fail_errno(x->err, x->name, "%s", x->where);
	return PKGFLAT_OK;
}

static pkgflat_status set_attrs(struct ex *x, int pfd, const char *base,
    int fd, mode_t mode, uid_t uid, gid_t gid, int64_t mtime, int is_link)
{
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	int r;

	if (x->as_root) {
		r = fd >= 0 ? fchown(fd, uid, gid) :
		    fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW);
		if (r)
			return fail_errno(x->err, x->name, "%s: cannot set owner %u:%u",
			    x->where, (unsigned)uid, (unsigned)gid);
	}
	if (!is_link) {
		/* After chown, which clears the set-id bits. */
		r = fd >= 0 ? fchmod(fd, mode & 07777) :
		    fchmodat(pfd, base, mode & 07777, 0);
		if (r)
			return fail_errno(x->err, x->name, "%s: cannot set mode %04o",
			    x->where, (unsigned)(mode & 07777));
	}
	r = fd >= 0 ? futimens(fd, ts) :
	    utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	if (r)
		return fail_errno(x->err, x->name, "%s: cannot set times", x->where);
	return PKGFLAT_OK;
}

static pkgflat_status write_data(struct ex *x, struct archive *a, int fd)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		while (len) {
			ssize_t k = pwrite(fd, p, len, (off_t)off);
			if (k < 0)
				return fail_errno(x->err, x->name, "%s: cannot write",
				    x->where);
			p += k;
			len -= (size_t)k;
			off += k;
		}
	}
	if (r != ARCHIVE_EOF)
		return x->err->status ? x->err->status : fail(x->err,
		    PKGFLAT_E_FORMAT, x->name, x->where, "cannot read the data: %s",
		    archive_error_string(a));
	return PKGFLAT_OK;
}

/* One entry as either reader gives it. */
struct xent {
	const char *rel;        /* "." or "./a/b" */
	uint32_t mode;          /* type and permission bits */
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	const char *symlink;    /* symlinks: the target */
	const char *hardlink;   /* hard links: the path linked to */
	dev_t rdev;
	int64_t size;
};

static pkgflat_status defer_dir(struct ex *x, const struct xent *e)
{
	if (x->ndirs == x->capdirs) {
		size_t cap = x->capdirs ? x->capdirs * 2 : 64;
		struct dirattr *v = realloc(x->dirs, cap * sizeof *v);
		if (!v)
			return fail_nomem(x->err);
		x->dirs = v;
		x->capdirs = cap;
	}
	struct dirattr *d = &x->dirs[x->ndirs];
	if (!(d->rel = pf_strdup(e->rel)))
		return fail_nomem(x->err);
	d->mode = e->mode;
	d->uid = e->uid;
	d->gid = e->gid;
	d->mtime = e->mtime;
	x->ndirs++;
	return PKGFLAT_OK;
}

/*
 * Make the entry. A regular file, or a hard link that carries data again,
 * is left open for its data in *fd, to be finished by entry_end() once
 * written; everything else is complete on return (*fd -1).
 */
static pkgflat_status entry_begin(struct ex *x, const struct xent *e, int *fd)
{
	const char *base;
	pkgflat_status rc = PKGFLAT_OK;

	*fd = -1;
	if (!strcmp(e->rel, "."))
		return defer_dir(x, e);
	int pfd = open_parent(x, e->rel, &base, 1);
	if (pfd < 0)
		return x->err->status;
	if (e->hardlink) {
		char *target = payload_norm_path(e->hardlink);
		const char *tbase;
		int tfd = -1;
		if (!target || !strcmp(target, "."))
			rc = fail(x->err, PKGFLAT_E_FORMAT, x->name, x->where,
			    "hard link to \"%s\", which is not inside the payload",
			    e->hardlink);
		else if ((tfd = open_parent(x, target, &tbase, 0)) < 0)
			rc = x->err->status;
		else if (!(rc = clear_for(x, pfd, base, 0)) &&
		    linkat(tfd, tbase, pfd, base, 0))
			rc = fail_errno(x->err, x->name, "%s: cannot link to %s",
			    x->where, target);
		if (tfd >= 0)
			close(tfd);
		free(target);
		/* odc carries the data at every link: write it again. */
		if (!rc && e->size > 0 && (*fd = openat(pfd, base, O_WRONLY |
		    O_TRUNC | O_NOFOLLOW | O_CLOEXEC)) < 0)
			rc = fail_errno(x->err, x->name, "%s", x->where);
		goto out;
	}
	switch (e->mode & AE_IFMT) {
	case AE_IFDIR:
		if ((rc = clear_for(x, pfd, base, 1)))
			break;
		if (mkdirat(pfd, base, 0700) && errno != EEXIST) {
			rc = fail_errno(x->err, x->name, "%s", x->where);
			break;
		}
		rc = defer_dir(x, e);
		break;
	case AE_IFREG:
		if ((rc = clear_for(x, pfd, base, 0)))
			break;
		*fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (*fd < 0)
			rc = fail_errno(x->err, x->name, "%s", x->where);
		break;
	case AE_IFLNK:
		if ((rc = clear_for(x, pfd, base, 0)))
			break;
		if (symlinkat(e->symlink ? e->symlink : "", pfd, base)) {
			rc = fail_errno(x->err, x->name, "%s", x->where);
			break;
		}
		rc = set_attrs(x, pfd, base, -1, e->mode, e->uid, e->gid, e->mtime,
		    1);
		break;
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		if ((e->mode & AE_IFMT) != AE_IFIFO && !x->as_root) {
			rc = fail(x->err, PKGFLAT_E_UNSUPPORTED, x->name, x->where,
			    "a device node can be made only as root");
			break;
		}
		if ((rc = clear_for(x, pfd, base, 0)))
			break;
		if (mknodat(pfd, base, (e->mode & AE_IFMT) | 0600, e->rdev)) {
			rc = fail_errno(x->err, x->name, "%s", x->where);
			break;
		}
		rc = set_attrs(x, pfd, base, -1, e->mode, e->uid, e->gid, e->mtime,
		    0);
		break;
	default:
		rc = fail(x->err, PKGFLAT_E_UNSUPPORTED, x->name, x->where,
		    "an entry of type %#o cannot be extracted",
		    (unsigned)(e->mode & AE_IFMT));
	}
out:
	if (rc && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	close(pfd);
	return rc;
}

/* A file's data is in: its owner, mode and time, and close it. */
static pkgflat_status entry_end(struct ex *x, const struct xent *e, int fd)
{
	pkgflat_status rc = set_attrs(x, -1, NULL, fd, e->mode, e->uid, e->gid,
	    e->mtime, 0);

	close(fd);
	return rc;
}

static pkgflat_status one_entry(struct ex *x, struct archive *a,
    struct archive_entry *ae, const char *rel)
{
	struct xent e = {
		.rel = rel, .mode = archive_entry_mode(ae),
		.uid = (uid_t)archive_entry_uid(ae),
		.gid = (gid_t)archive_entry_gid(ae),
		.mtime = archive_entry_mtime(ae),
		.symlink = archive_entry_symlink(ae),
		.hardlink = archive_entry_hardlink(ae),
		.rdev = archive_entry_rdev(ae), .size = archive_entry_size(ae),
	};
	int fd;
	pkgflat_status rc = entry_begin(x, &e, &fd);

	if (rc || fd < 0)
		return rc;
	if ((rc = write_data(x, a, fd))) {
		close(fd);
		return rc;
	}
	return entry_end(x, &e, fd);
}

/* ------------------------------------------------------------------ */
/* Apple Archive: aar_walk() hands each file's data over in chunks before
 * the entry itself, so the file is begun at its first chunk and finished
 * when the entry comes. */

struct aa_ex {
	struct ex *x;
	int fd;                 /* the file being written, or -1 */
	off_t off;
	uint64_t index;
};

static void aa_xent(const pkgflat_entry *pe, struct xent *e)
{
	memset(e, 0, sizeof *e);
	e->rel = pe->path;
	e->mode = pe->mode;
	e->uid = (uid_t)pe->uid;
	e->gid = (gid_t)pe->gid;
	e->mtime = pe->mtime;
	e->symlink = pe->link_target;
	e->hardlink = pe->type == PKGFLAT_ENTRY_HARDLINK ? pe->hardlink : NULL;
	e->rdev = (dev_t)pe->rdev;
	e->size = (int64_t)pe->size;
}

static void aa_where(struct aa_ex *ax, const pkgflat_entry *pe)
{
	snprintf(ax->x->where, sizeof ax->x->where, "Apple Archive entry %llu "
	    "(%s)", (unsigned long long)ax->index, pe->path);
}

static int aa_chunk(const pkgflat_entry *pe, const unsigned char *buf,
    size_t n, void *ctx)
{
	struct aa_ex *ax = ctx;
	struct xent e;

	if (!buf)
		return 0;
	if (ax->fd < 0) {
		aa_xent(pe, &e);
		aa_where(ax, pe);
		if (entry_begin(ax->x, &e, &ax->fd))
			return 1;
		ax->off = 0;
		if (ax->fd < 0) {
			fail(ax->x->err, PKGFLAT_E_FORMAT, ax->x->name, ax->x->where,
			    "data for an entry that holds none");
			return 1;
		}
	}
	while (n) {
		ssize_t k = pwrite(ax->fd, buf, n, ax->off);
		if (k < 0) {
			fail_errno(ax->x->err, ax->x->name, "%s: cannot write",
			    ax->x->where);
			return 1;
		}
		buf += k;
		n -= (size_t)k;
		ax->off += k;
	}
	return 0;
}

static int aa_entry(const pkgflat_entry *pe, void *ctx)
{
	struct aa_ex *ax = ctx;
	struct xent e;
	int fd = ax->fd;

	aa_xent(pe, &e);
	aa_where(ax, pe);
	ax->index++;
	ax->fd = -1;
	if (fd < 0 && entry_begin(ax->x, &e, &fd))
		return 1;
	return fd >= 0 && entry_end(ax->x, &e, fd);
}

static pkgflat_status aa_extract(struct ex *x, struct xin *xi)
{
	struct aa_ex ax = { .x = x, .fd = -1 };
	struct payload_opts po = { .chunk_fn = aa_chunk, .strict = 1 };
	pkgflat_status rc = aar_walk(xi->rd, xi->ctx, xi->head, xi->nhead,
	    x->name, NULL, aa_entry, &ax, NULL, &po, x->err);

	if (ax.fd >= 0)
		close(ax.fd);
	/* Our own refusals say why; the walk's "stopped" says nothing. */
	if (rc == PKGFLAT_E_USAGE && x->err->status &&
	    x->err->status != PKGFLAT_E_USAGE)
		rc = x->err->status;
	return rc;
}

/* Directories last, deepest first: their modes may forbid writing in
 * them, and writing in them changes their times. */
static pkgflat_status finish_dirs(struct ex *x)
{
	pkgflat_status rc = PKGFLAT_OK;

	for (size_t i = x->ndirs; i-- > 0 && !rc;) {
		struct dirattr *d = &x->dirs[i];
		snprintf(x->where, sizeof x->where, "%s", d->rel);
		if (!strcmp(d->rel, ".")) {
			rc = set_attrs(x, -1, NULL, x->rootfd, d->mode, d->uid, d->gid,
			    d->mtime, 0);
			continue;
		}
		const char *base;
		int pfd = open_parent(x, d->rel, &base, 0);
		if (pfd < 0)
			return x->err->status;
		struct stat st;
		/* A later copy of the path may have replaced the directory. */
		if (!fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISDIR(st.st_mode))
			rc = set_attrs(x, pfd, base, -1, d->mode, d->uid, d->gid,
			    d->mtime, 0);
		close(pfd);
	}
	return rc;
}

pkgflat_status tree_extract(src_stream *in, int dirfd, const char *name,
    pkgflat_error *err)
{
	struct xin *xi = pf_calloc(1, sizeof *xi);
	struct archive *a = archive_read_new();
	struct pbzx *pz = NULL;
	struct gzin *gz = NULL;
	struct archive_entry *e;
	struct ex x = { .rootfd = dirfd, .name = name, .err = err };
	pkgflat_status rc = PKGFLAT_OK;
	uint64_t index = 0;
	int r;

	x.as_root = geteuid() == 0;
	if (!xi || !a) {
		rc = fail_nomem(err);
		goto out;
	}
	xi->rd = stream_rd;
	xi->ctx = in;
	while (xi->nhead < 4) {
		long k = in->read(in, xi->head + xi->nhead, 4 - xi->nhead);
		if (k < 0) {
			rc = err->status ? err->status : PKGFLAT_E_IO;
			goto out;
		}
		if (!k)
			break;
		xi->nhead += (size_t)k;
	}
	if (xi->nhead == 4 && !memcmp(xi->head, "pbz", 3)) {
		if (xi->head[3] == 'e' || xi->head[3] == '4') {
			rc = fail(err, PKGFLAT_E_UNSUPPORTED, name, NULL,
			    "an Apple Archive in %s chunks: no Debian library decodes "
			    "it", xi->head[3] == 'e' ? "LZFSE" : "LZ4");
			goto out;
		}
		if ((rc = pbzx_open(stream_rd, in, xi->head, xi->nhead, name, &pz,
		    err)))
			goto out;
		xi->rd = pbzx_read;
		xi->ctx = pz;
		xi->nhead = xi->hpos = 0;
	} else if (xi->nhead >= 2 && GZIP_MAGIC(xi->head)) {
		if ((rc = gzin_open(stream_rd, in, xi->head, xi->nhead, name, &gz,
		    err)))
			goto out;
		xi->rd = gzin_read;
		xi->ctx = gz;
		xi->nhead = xi->hpos = 0;
	}
	/* What is inside, looked at once more behind any decoder. */
	while (xi->nhead < 4) {
		long k = xi->rd(xi->ctx, xi->head + xi->nhead, 4 - xi->nhead);
		if (k < 0) {
			rc = err->status ? err->status : PKGFLAT_E_FORMAT;
			goto out;
		}
		if (!k)
			break;
		xi->nhead += (size_t)k;
	}
	if (aar_sniff(xi->head, xi->nhead)) {
		if (!(rc = aa_extract(&x, xi)) && gz)
			rc = gzin_drain(gz);
		if (!rc)
			rc = finish_dirs(&x);
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, xi, NULL, la_cb, NULL) != ARCHIVE_OK) {
		rc = err->status ? err->status : fail(err, PKGFLAT_E_FORMAT, name,
		    "offset 0", "not a cpio or tar archive: %s",
		    archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(e);
		char *rel = p ? payload_norm_path(p) : NULL;
		snprintf(x.where, sizeof x.where, "entry %llu (%s)",
		    (unsigned long long)index++, p ? p : "?");
		if (!rel) {
			rc = fail(err, PKGFLAT_E_FORMAT, name, x.where,
			    "the name climbs out of the payload with \"..\"");
			break;
		}
		rc = one_entry(&x, a, e, rel);
		free(rel);
		if (rc)
			break;
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = err->status ? err->status : fail(err, PKGFLAT_E_FORMAT, name,
		    x.where, "cannot read the next entry: %s",
		    archive_error_string(a));
	if (!rc && gz)
		rc = gzin_drain(gz);
	if (!rc)
		rc = finish_dirs(&x);
out:
	for (size_t i = 0; i < x.ndirs; i++)
		free(x.dirs[i].rel);
	free(x.dirs);
	if (a)
		archive_read_free(a);
	gzin_free(gz);
	pbzx_free(pz);
	free(xi);
	return rc;
}

/* ------------------------------------------------------------------ */

void tree_remove_below(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dirfd, de->d_name, 0))
			continue;
		int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			/* A directory extracted without write or search bits. */
			fchmodat(dirfd, de->d_name, 0700, 0);
			sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (sub >= 0) {
			fchmod(sub, 0700);
			tree_remove_below(sub);
			close(sub);
			unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}
