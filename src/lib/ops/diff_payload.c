/*
 * What two payloads install, entry by entry: each side's payload (and
 * BOM) walked into sorted records keyed by install path, then merged to
 * name every difference in type, mode, owner, size, contents and links.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

/* ------------------------------------------------------------------ */
/* Records                                                            */

void rset_free(struct rset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].path);
		free(s->r[i].link);
		free(s->r[i].hl);
	}
	free(s->r);
	free(s->root);
	memset(s, 0, sizeof *s);
}

/* "/" + location + payload path, normalised. */
static char *install_path(const char *root, const char *rel)
{
	if (!strcmp(rel, "."))
		return pf_strdup(root);
	if (!strncmp(rel, "./", 2))
		rel += 2;
	return pf_asprintf("%s%s%s", root, strcmp(root, "/") ? "/" : "", rel);
}

char *norm_root(const char *loc)
{
	char *n = path_normalize(loc && loc[0] == '/' ? loc + 1 :
	    loc ? loc : "");
	char *out;

	if (!n)
		return pf_asprintf("/%s", loc ? loc : "");
	out = pf_asprintf("/%s", n);
	free(n);
	return out;
}

static int collect(const pkgflat_entry *e, void *ctx)
{
	struct rset *s = ctx;
	struct rec *r;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct rec *v = realloc(s->r, cap * sizeof *v);
		if (!v) {
			s->oom = 1;
			return 1;
		}
		s->r = v;
		s->cap = cap;
	}
	r = &s->r[s->n];
	memset(r, 0, sizeof *r);
	r->path = install_path(s->root, e->path);
	r->link = e->link_target ? pf_strdup(e->link_target) : NULL;
	r->hl = e->hardlink ? install_path(s->root, e->hardlink) : NULL;
	if (!r->path || (e->link_target && !r->link) ||
	    (e->hardlink && !r->hl)) {
		free(r->path);
		free(r->link);
		free(r->hl);
		s->oom = 1;
		return 1;
	}
	r->type = e->type == PKGFLAT_ENTRY_HARDLINK ? PKGFLAT_ENTRY_FILE : e->type;
	r->mode = e->mode & 07777;
	r->uid = e->uid;
	r->gid = e->gid;
	r->rdev = e->type == PKGFLAT_ENTRY_DEVICE ? e->rdev : 0;
	r->mtime = e->mtime;
	r->size = r->type == PKGFLAT_ENTRY_FILE ? e->size : 0;
	r->has_sha = e->has_sha256;
	if (e->has_sha256)
		memcpy(r->sha, e->sha256, sizeof r->sha);
	r->seq = s->n;
	r->key = r->path;
	/* pkgbuild (and our writer) record "._X" sidecars with flags 1, X's
	 * mode and nothing else: no owner, size or checksum to compare. */
	r->sidecar = e->type == PKGFLAT_ENTRY_FILE && !e->has_crc && !e->size &&
	    !strncmp(path_base(e->path), "._", 2);
	s->n++;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->path, ((const struct rec *)b)->path);
}

/* Stored twice, a path keeps its archive order: the later copy is what
 * Installer leaves on disk. */
static int rec_order(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	return d ? d : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The part of a full install path below the set's install location. */
static const char *rel_of(const struct rset *s, const char *full)
{
	size_t n = strlen(s->root);

	if (!strcmp(s->root, "/"))
		return full + 1;
	return full[n] ? full + n + 1 : full + n;
}

/* Pair records by full path (rel 0) or by payload path (rel 1). */
void rset_key(struct rset *s, int rel)
{
	for (size_t i = 0; i < s->n; i++)
		s->r[i].key = rel ? rel_of(s, s->r[i].path) : s->r[i].path;
	qsort(s->r, s->n, sizeof *s->r, rec_order);
}

static const char *lead_key(const struct rset *s, const struct rec *r, int rel)
{
	return rel ? rel_of(s, r->lead) : r->lead;
}

/* How many keys two sorted sets share. */
size_t rset_common(const struct rset *a, const struct rset *b)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->n && j < b->n) {
		int d = strcmp(a->r[i].key, b->r[j].key);
		n += d == 0;
		i += d <= 0;
		j += d >= 0;
	}
	return n;
}

static struct rec *rset_find(const struct rset *s, const char *path)
{
	struct rec key = { .path = (char *)path };

	return s->n ? bsearch(&key, s->r, s->n, sizeof *s->r, rec_cmp) : NULL;
}

static size_t uf_find(size_t *parent, size_t i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/*
 * Sort, then join hard-link groups: every member takes the group's first
 * path as its leader, and the content of the member that carried the data
 * (cpio and tar store it once per group).
 */
static pkgflat_status rset_finish(struct rset *s, pkgflat_error *err)
{
	size_t *parent;

	qsort(s->r, s->n, sizeof *s->r, rec_order);
	if (!(parent = malloc((s->n ? s->n : 1) * sizeof *parent)))
		return fail_nomem(err);
	for (size_t i = 0; i < s->n; i++)
		parent[i] = i;
	for (size_t i = 0; i < s->n; i++) {
		struct rec *t;
		if (!s->r[i].hl || !(t = rset_find(s, s->r[i].hl)))
			continue;
		size_t a = uf_find(parent, i), b = uf_find(parent, (size_t)(t - s->r));
		/* The root is always the smaller index: the first path. */
		if (a < b)
			parent[b] = a;
		else
			parent[a] = b;
	}
	for (size_t i = 0; i < s->n; i++) {
		s->r[i].leader = uf_find(parent, i);
		s->r[i].lead = s->r[s->r[i].leader].path;
	}
	/* Content: the member with data wins; members read as links have 0
	 * bytes in the archive. */
	for (size_t i = 0; i < s->n; i++) {
		struct rec *r = &s->r[i], *l = &s->r[s->r[i].leader];
		if (r->leader == i || r->type != PKGFLAT_ENTRY_FILE)
			continue;
		if (!r->hl && r->has_sha && (!l->has_sha || l->hl)) {
			l->size = r->size;
			memcpy(l->sha, r->sha, sizeof l->sha);
			l->has_sha = 1;
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		struct rec *r = &s->r[i], *l = &s->r[r->leader];
		if (r->leader != i && r->type == PKGFLAT_ENTRY_FILE) {
			r->size = l->size;
			r->has_sha = l->has_sha;
			memcpy(r->sha, l->sha, sizeof r->sha);
		}
	}
	free(parent);
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Results                                                            */

static const char *type_name(int t)
{
	static const char *const names[] = {
		[PKGFLAT_ENTRY_FILE] = "file", [PKGFLAT_ENTRY_DIR] = "directory",
		[PKGFLAT_ENTRY_SYMLINK] = "symlink",
		[PKGFLAT_ENTRY_HARDLINK] = "file", [PKGFLAT_ENTRY_DEVICE] = "device",
		[PKGFLAT_ENTRY_FIFO] = "fifo", [PKGFLAT_ENTRY_SOCKET] = "socket",
	};
	return t > 0 && t < (int)(sizeof names / sizeof *names) && names[t] ?
	    names[t] : "unknown";
}

/* Is b's owner what the conversion's policy made of a's (legacy to flat,
 * either way round)? Then it is counted, not reported one by one. */
static int owner_by_policy(struct cmp *c, const struct rec *a,
    const struct rec *b)
{
	const struct rec *l = c->legacy_a ? a : b, *f = c->legacy_a ? b : a;
	uint32_t uid = l->uid, gid = l->gid;

	if (c->policy < 0 || !pkgflat_ownership_apply(
	    (enum pkgflat_ownership)c->policy, &uid, &gid) ||
	    uid != f->uid || gid != f->gid)
		return 0;
	if (c->norm++ == 0) {
		c->norm_path = pf_strdup(a->path);
		c->norm_from[0] = l->uid;
		c->norm_from[1] = l->gid;
		c->norm_to[0] = uid;
		c->norm_to[1] = gid;
	}
	return 1;
}

#define NUM(attr, fmt, x, y) do { \
	char va_[32], vb_[32]; \
	snprintf(va_, sizeof va_, fmt, x); \
	snprintf(vb_, sizeof vb_, fmt, y); \
	diff_add(c->res, c->pair, c->component, c->category, "changed", attr, \
	    a->path, va_, vb_); \
} while (0)

/* Compare two records of one path. sa/sb are the sets they belong to (for
 * hard-link leaders); within a package a is the BOM's record, which has no
 * content digest, mtime or hard links to compare. */
static void cmp_rec(struct cmp *c, const struct rset *sa, const struct rec *a,
    const struct rset *sb, const struct rec *b)
{
	int within = strcmp(c->category, "payload") != 0;

	if (a->type != b->type) {
		diff_add(c->res, c->pair, c->component, c->category, "changed", "type",
		    a->path, type_name(a->type), type_name(b->type));
		return;
	}
	if (within && a->sidecar)
		return;
	if (!(c->ignore & PKGFLAT_DIFF_IGNORE_MODE) && a->mode != b->mode &&
	    a->type != PKGFLAT_ENTRY_SYMLINK)
		NUM("mode", "%04o", a->mode, b->mode);
	if (!(c->ignore & PKGFLAT_DIFF_IGNORE_OWNER) &&
	    (within || !owner_by_policy(c, a, b))) {
		if (a->uid != b->uid)
			NUM("uid", "%u", a->uid, b->uid);
		if (a->gid != b->gid)
			NUM("gid", "%u", a->gid, b->gid);
	}
	if (!within && !(c->ignore & PKGFLAT_DIFF_IGNORE_MTIME) &&
	    a->mtime != b->mtime)
		NUM("mtime", "%lld", (long long)a->mtime, (long long)b->mtime);
	if (a->type == PKGFLAT_ENTRY_FILE && !(c->ignore & PKGFLAT_DIFF_IGNORE_CONTENT)) {
		if (a->size != b->size)
			NUM("size", "%llu", (unsigned long long)a->size,
			    (unsigned long long)b->size);
		else if (!within && a->has_sha && b->has_sha &&
		    memcmp(a->sha, b->sha, sizeof a->sha)) {
			char ha[65], hb[65];
			diff_hex(a->sha, ha);
			diff_hex(b->sha, hb);
			diff_add(c->res, c->pair, c->component, c->category, "changed",
			    "content", a->path, ha, hb);
		}
	}
	if (a->type == PKGFLAT_ENTRY_SYMLINK &&
	    !(c->ignore & PKGFLAT_DIFF_IGNORE_LINKS) &&
	    strcmp(a->link ? a->link : "", b->link ? b->link : ""))
		diff_add(c->res, c->pair, c->component, c->category, "changed", "link",
		    a->path, a->link ? a->link : "", b->link ? b->link : "");
	if (a->type == PKGFLAT_ENTRY_DEVICE && a->rdev != b->rdev)
		NUM("rdev", "%u", a->rdev, b->rdev);
	if (!within && a->type == PKGFLAT_ENTRY_FILE &&
	    !(c->ignore & PKGFLAT_DIFF_IGNORE_LINKS)) {
		const char *la = lead_key(sa, a, c->rel), *lb = lead_key(sb, b, c->rel);
		if (strcmp(la, lb)) {
			la = a->lead;
			lb = b->lead;
			/* Name what each path is linked with: its leader, or, for
			 * the leader itself, "not linked" unless others follow. */
			diff_add(c->res, c->pair, c->component, c->category, "changed",
			    "hardlink", a->path, la, lb);
		}
	}
}

/* Merge two sorted sets; within a package, a is the BOM. */
void cmp_sets(struct cmp *c, const struct rset *a, const struct rset *b)
{
	size_t i = 0, j = 0;
	int within = strcmp(c->category, "payload") != 0;

	while (i < a->n || j < b->n) {
		int d = i == a->n ? 1 : j == b->n ? -1 :
		    strcmp(a->r[i].key, b->r[j].key);
		if (d < 0) {
			diff_add(c->res, c->pair, c->component, c->category, "removed",
			    type_name(a->r[i].type), a->r[i].path,
			    within ? "in the BOM" : NULL, within ? "not in the payload" : NULL);
			i++;
		} else if (d > 0) {
			diff_add(c->res, c->pair, c->component, c->category, "added",
			    type_name(b->r[j].type), b->r[j].path,
			    within ? "not in the BOM" : NULL, within ? "in the payload" : NULL);
			j++;
		} else {
			size_t i2 = i + 1, j2 = j + 1;
			while (i2 < a->n && !strcmp(a->r[i2].key, a->r[i].key))
				i2++;
			while (j2 < b->n && !strcmp(b->r[j2].key, b->r[j].key))
				j2++;
			if (within) {
				/* mkbom listed the first copy of a path stored twice. */
				cmp_rec(c, a, &a->r[i], b, &b->r[j]);
				if (j2 - j > 1) {
					char nb[24];
					snprintf(nb, sizeof nb, "%zu", j2 - j);
					diff_add(c->res, c->pair, c->component, c->category,
					    "changed", "copies", b->r[j].path, "1", nb);
				}
			} else {
				cmp_rec(c, a, &a->r[i2 - 1], b, &b->r[j2 - 1]);
			}
			i = i2;
			j = j2;
		}
	}
}

/* A quirk inside B that A has too (a path stored twice, copied along) was
 * inherited, not introduced. The lists are short in practice; very long
 * ones are left unmarked rather than compared pairwise. */
void mark_inherited(pkgflat_diff_result *res, size_t ka, size_t kb,
    size_t kend)
{
	if ((kb - ka) * (kend - kb) > 10000000u)
		return;
	for (size_t i = kb; i < kend; i++) {
		pkgflat_difference *d = res->diffs.v[i];
		for (size_t j = ka; j < kb && !d->inherited; j++) {
			const pkgflat_difference *e = res->diffs.v[j];
			d->inherited = !strcmp(d->change, e->change) &&
			    !strcmp(d->attribute, e->attribute) &&
			    diff_same_str(d->path, e->path) && diff_same_str(d->a, e->a) &&
			    diff_same_str(d->b, e->b);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Reading one side                                                   */

void *read_side(void *p)
{
	struct side *s = p;
	const char *loc = pkgflat_component_get(s->b, PKGFLAT_F_INSTALL_LOCATION);

	s->rc = PKGFLAT_OK;
	if (!(s->payload.root = norm_root(loc)) || !(s->bom.root = pf_strdup(s->payload.root))) {
		s->rc = fail_nomem(&s->err);
		return NULL;
	}
	if (pkgflat_component_has_payload(s->b)) {
		pkgflat_payload_stats st = { 0 };
		s->rc = pkgflat_component_list_payload_digest(s->b, collect, &s->payload,
		    &st, &s->err);
		/* Files that could not be read cannot be compared: neither
		 * "different" nor "the same" would be true. */
		if (!s->rc && st.unread) {
			char *name = src_display(s->b->pkg->src,
			    pkgflat_component_get(s->b, PKGFLAT_F_PAYLOAD_PATH));
			s->rc = fail(&s->err, PKGFLAT_E_UNSUPPORTED, name, NULL,
			    "%s (%s): contents not read, so its files cannot be "
			    "compared (--only metadata compares the rest)", st.format,
			    st.compression);
			free(name);
		}
		if (s->payload.oom)
			s->rc = fail_nomem(&s->err);
		if (!s->rc)
			s->rc = rset_finish(&s->payload, &s->err);
	}
	if (!s->rc && s->want_bom && pkgflat_component_has_bom(s->b)) {
		s->rc = pkgflat_component_list_bom(s->b, collect, &s->bom, NULL, &s->err);
		if (s->bom.oom)
			s->rc = fail_nomem(&s->err);
		if (!s->rc)
			qsort(s->bom.r, s->bom.n, sizeof *s->bom.r, rec_order);
	}
	return NULL;
}
