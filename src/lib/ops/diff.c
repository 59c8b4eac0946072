/*
 * Comparing what two packages install.
 *
 * Either side is anything pkgflat_package_open() reads: a legacy bundle, a
 * flat product or component package, or a directory expanded from one.
 * Components pair up by identifier (or through OLD=NEW renames). For each
 * pair both payloads are walked once, in two threads, with the SHA-256 of
 * every regular file, into arrays of records keyed by the full install
 * path (install location joined with the payload path); a merge pass over
 * the sorted arrays then names every difference. Each side's BOM is set
 * against its own payload the same way, since Installer trusts the BOM for
 * some decisions and the payload for others. Memory grows with the number
 * of entries, never with file bytes.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bundle.h"
#include "convert.h"
#include "dist.h"

/* ------------------------------------------------------------------ */
/* Records                                                            */

struct rec {
	char *path;          /* full install path */
	char *link;          /* symlink target */
	char *hl;            /* hard link target as a full install path */
	int type;            /* PKGFLAT_ENTRY_*, hard links counted as files */
	uint32_t mode, uid, gid, rdev;
	int64_t mtime;
	uint64_t size;
	unsigned char sha[32];
	int has_sha;
	size_t leader;       /* first path (sorted) of its hard-link group */
	const char *lead;    /* that path (the leader's own string) */
	const char *key;     /* what pairs records up: path, or the part of it
	                        below the install location */
	size_t seq;          /* order in the archive */
	int sidecar;         /* a BOM's AppleDouble "._X" record: mode only */
};

struct rset {
	struct rec *r;
	size_t n, cap;
	char *root;          /* install location, "/" or "/Library/..." */
	int oom;
};

static void rset_free(struct rset *s)
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

static char *norm_root(const char *loc)
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
static void rset_key(struct rset *s, int rel)
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
static size_t rset_common(const struct rset *a, const struct rset *b)
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

struct pkgflat_diff_result {
	ptrvec diffs;   /* pkgflat_difference *, strings allocated with it */
	ptrvec pairs;   /* pkgflat_diff_pair * */
	ptrvec strings; /* everything the two above point at */
	pkgflat_diff_pair *product; /* checks and metapackage scripts */
	int oom;
};

static const char *keep(pkgflat_diff_result *r, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	if (!(c = pf_strdup(s)) || pv_push(&r->strings, c)) {
		free(c);
		r->oom = 1;
		return NULL;
	}
	return c;
}

static void add(pkgflat_diff_result *r, pkgflat_diff_pair *p,
    const char *component, const char *category, const char *change,
    const char *attribute, const char *path, const char *a, const char *b)
{
	pkgflat_difference *d = calloc(1, sizeof *d);

	if (!d || pv_push(&r->diffs, d)) {
		free(d);
		r->oom = 1;
		return;
	}
	d->component = keep(r, component);
	d->category = category;
	d->change = change;
	d->attribute = attribute;
	d->path = keep(r, path);
	d->a = keep(r, a);
	d->b = keep(r, b);
	if (p)
		p->differences++;
}

static pkgflat_diff_pair *product_pair(pkgflat_diff_result *res);

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

static void hex(const unsigned char *sha, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

struct cmp {
	pkgflat_diff_result *res;
	pkgflat_diff_pair *pair;
	const char *component;
	const char *category;   /* "payload", "within-a", "within-b" */
	unsigned int ignore;
	int rel;                /* paired by payload path, not install path */
	/* Owners a conversion's ownership policy changed: policy -1 none
	 * known; legacy_a: A is the legacy side. Counted, the first kept. */
	int policy, legacy_a;
	uint64_t norm;
	char *norm_path;
	uint32_t norm_from[2], norm_to[2];
};

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
	add(c->res, c->pair, c->component, c->category, "changed", attr, \
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
		add(c->res, c->pair, c->component, c->category, "changed", "type",
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
			hex(a->sha, ha);
			hex(b->sha, hb);
			add(c->res, c->pair, c->component, c->category, "changed",
			    "content", a->path, ha, hb);
		}
	}
	if (a->type == PKGFLAT_ENTRY_SYMLINK &&
	    !(c->ignore & PKGFLAT_DIFF_IGNORE_LINKS) &&
	    strcmp(a->link ? a->link : "", b->link ? b->link : ""))
		add(c->res, c->pair, c->component, c->category, "changed", "link",
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
			add(c->res, c->pair, c->component, c->category, "changed",
			    "hardlink", a->path, la, lb);
		}
	}
}

/* Merge two sorted sets; within a package, a is the BOM. */
static void cmp_sets(struct cmp *c, const struct rset *a, const struct rset *b)
{
	size_t i = 0, j = 0;
	int within = strcmp(c->category, "payload") != 0;

	while (i < a->n || j < b->n) {
		int d = i == a->n ? 1 : j == b->n ? -1 :
		    strcmp(a->r[i].key, b->r[j].key);
		if (d < 0) {
			add(c->res, c->pair, c->component, c->category, "removed",
			    type_name(a->r[i].type), a->r[i].path,
			    within ? "in the BOM" : NULL, within ? "not in the payload" : NULL);
			i++;
		} else if (d > 0) {
			add(c->res, c->pair, c->component, c->category, "added",
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
					add(c->res, c->pair, c->component, c->category,
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

static int same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

/* A quirk inside B that A has too (a path stored twice, copied along) was
 * inherited, not introduced. The lists are short in practice; very long
 * ones are left unmarked rather than compared pairwise. */
static void mark_inherited(pkgflat_diff_result *res, size_t ka, size_t kb,
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
			    same_str(d->path, e->path) && same_str(d->a, e->a) &&
			    same_str(d->b, e->b);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Reading one side                                                   */

struct side {
	const pkgflat_bundle *b;
	int want_bom;
	struct rset payload, bom;
	pkgflat_error err;
	pkgflat_status rc;
};

static void *read_side(void *p)
{
	struct side *s = p;
	const char *loc = pkgflat_bundle_get(s->b, PKGFLAT_F_INSTALL_LOCATION);

	s->rc = PKGFLAT_OK;
	if (!(s->payload.root = norm_root(loc)) || !(s->bom.root = pf_strdup(s->payload.root))) {
		s->rc = fail_nomem(&s->err);
		return NULL;
	}
	if (pkgflat_bundle_has_payload(s->b)) {
		pkgflat_payload_stats st = { 0 };
		s->rc = pkgflat_bundle_list_payload_digest(s->b, collect, &s->payload,
		    &st, &s->err);
		/* Files that could not be read cannot be compared: neither
		 * "different" nor "the same" would be true. */
		if (!s->rc && st.unread) {
			char *name = src_display(s->b->pkg->src,
			    pkgflat_bundle_get(s->b, PKGFLAT_F_PAYLOAD_PATH));
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
	if (!s->rc && s->want_bom && pkgflat_bundle_has_bom(s->b)) {
		s->rc = pkgflat_bundle_list_bom(s->b, collect, &s->bom, NULL, &s->err);
		if (s->bom.oom)
			s->rc = fail_nomem(&s->err);
		if (!s->rc)
			qsort(s->bom.r, s->bom.n, sizeof *s->bom.r, rec_order);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                           */

/* A field's value as Installer acts on it. */
static const char *field_value(const pkgflat_bundle *b, enum pkgflat_field f,
    char *buf, size_t size)
{
	const char *v = pkgflat_bundle_get(b, f);

	switch (f) {
	case PKGFLAT_F_IDENTIFIER:
		/* One without gets the fallback convert writes. */
		return pkgflat_bundle_identifier(b);
	case PKGFLAT_F_AUTH:
		/* Flat packages have no separate admin level: both ask for an
		 * administrator and run as root. */
		if (v && !strcmp(v, "admin"))
			v = "root";
		return v ? v : "none";
	case PKGFLAT_F_RESTART:
		return v ? v : "none";
	case PKGFLAT_F_INSTALL_LOCATION: {
		char *n = norm_root(v ? v : "/");
		snprintf(buf, size, "%s", n ? n : "");
		free(n);
		return buf;
	}
	case PKGFLAT_F_SELECTION:
		/* IFPkgFlagIsRequired and a "required" selection both leave the
		 * user no choice, as does a disabled, selected flat choice. */
		if (pkgflat_bundle_flag(b, PKGFLAT_FLAG_REQUIRED) > 0)
			return "required";
		return v ? v : "selected";
	default:
		return v;
	}
}

static const char *flag_value(const pkgflat_bundle *b, enum pkgflat_flag f)
{
	/* Not saying means no for every flag Installer acts on here. */
	return pkgflat_bundle_flag(b, f) > 0 ? "yes" : "no";
}

static void requirement_text(const pkgflat_requirement *q, strbuf *sb)
{
	sb_addf(sb, "%s %s", q->level ? q->level : "", q->spec_type ? q->spec_type : "");
	if (q->spec_argument)
		sb_addf(sb, " %s", q->spec_argument);
	if (q->spec_property)
		sb_addf(sb, " [%s]", q->spec_property);
	sb_addf(sb, " %s %s", q->test_operator ? q->test_operator : "",
	    q->test_object ? q->test_object : "");
}

static void cmp_metadata(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const pkgflat_bundle *a, const pkgflat_bundle *b,
    unsigned int ignore, int renamed, int same_places)
{
	static const struct {
		enum pkgflat_field f;
		const char *name;
		unsigned int ignore;
	} fields[] = {
		{ PKGFLAT_F_IDENTIFIER, "identifier", 0 },
		{ PKGFLAT_F_VERSION, "version", PKGFLAT_DIFF_IGNORE_VERSION },
		{ PKGFLAT_F_INSTALL_LOCATION, "install-location", 0 },
		{ PKGFLAT_F_AUTH, "auth", 0 },
		{ PKGFLAT_F_RESTART, "restart", 0 },
		{ PKGFLAT_F_SELECTION, "selection", 0 },
	};
	static const struct {
		enum pkgflat_flag f;
		const char *name;
	} flags[] = {
		{ PKGFLAT_FLAG_RELOCATABLE, "relocatable" },
	};
	char ba[1024], bb[1024];

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		if ((fields[i].ignore & ignore) ||
		    (renamed && fields[i].f == PKGFLAT_F_IDENTIFIER) ||
		    (same_places && fields[i].f == PKGFLAT_F_INSTALL_LOCATION))
			continue;
		const char *va = field_value(a, fields[i].f, ba, sizeof ba);
		const char *vb = field_value(b, fields[i].f, bb, sizeof bb);
		if (strcmp(va ? va : "", vb ? vb : ""))
			add(res, pair, id, "metadata", "changed", fields[i].name, NULL,
			    va, vb);
	}
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		const char *va = flag_value(a, flags[i].f);
		const char *vb = flag_value(b, flags[i].f);
		if (strcmp(va, vb))
			add(res, pair, id, "metadata", "changed", flags[i].name, NULL,
			    va, vb);
	}
}

/* ------------------------------------------------------------------ */
/* Scripts                                                            */

/* What a bundle runs, by name, with a digest of each script's bytes. */
#define MAX_SCRIPTS 64

struct script_set {
	char *name[MAX_SCRIPTS];
	unsigned char sha[MAX_SCRIPTS][32];
	size_t n;
};

static int script_cb(const char *name, const unsigned char *sha, void *ctx)
{
	struct script_set *s = ctx;

	if (s->n == MAX_SCRIPTS)
		return 0;
	if (!(s->name[s->n] = pf_strdup(name)))
		return 1;
	memcpy(s->sha[s->n], sha, 32);
	s->n++;
	return 0;
}

static int set_has(const struct script_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return 1;
	return 0;
}

static void script_set_free(struct script_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->name[i]);
}

/*
 * The scripts a component runs, by name: a legacy bundle's own, and for a
 * flat component either the legacy originals our converter keeps in
 * Scripts under Contents/Resources (its ./preinstall and ./postinstall are
 * then wrappers that call them) or its own preinstall and postinstall.
 */
struct scan_scripts {
	struct script_set *set;
	int has_originals;
	char *wrapper[2];      /* ./preinstall, ./postinstall text */
	unsigned char wsha[2][32];
	int oom;
};

/* 10.0/10.1 names ("<Name>.post_install") included: they are the
 * originals' names in both packages. */
static int script_index(const char *name)
{
	return pkgflat_script_from_name(name);
}

static int scan_script(const pkgflat_script_file *f, void *ctx)
{
	struct scan_scripts *sc = ctx;
	const char *orig = "./Contents/Resources/";
	const char *name = NULL;

	if (!strncmp(f->path, orig, strlen(orig)) &&
	    script_index(f->path + strlen(orig)) >= 0) {
		name = f->path + strlen(orig);
		sc->has_originals = 1;
	} else if (!strcmp(f->path, "./preinstall") ||
	    !strcmp(f->path, "./postinstall")) {
		int w = f->path[4] == 's'; /* "./po[s]tinstall" */
		if (f->data && !(sc->wrapper[w] = pf_strndup((const char *)f->data,
		    (size_t)f->size)))
			return sc->oom = 1;
		memcpy(sc->wsha[w], f->sha256, 32);
		return 0;
	} else if (f->script >= 0) {
		name = pkgflat_script_name(f->script);
	}
	if (name && script_cb(name, f->sha256, sc->set))
		return sc->oom = 1;
	return 0;
}

/* Does wrapper text w run script name: "step NAME" or "check NAME" as a
 * whole word? */
static int calls(const char *w, const char *name)
{
	static const char *const verbs[] = { "step ", "check " };
	size_t n = strlen(name);

	for (size_t v = 0; w && v < 2; v++)
		for (const char *p = w; (p = strstr(p, verbs[v])); p++) {
			const char *q = p + strlen(verbs[v]);
			/* Names the shell would split come single-quoted. */
			int quoted = *q == '\'';
			q += quoted;
			if (!strncmp(q, name, n) && (!quoted || q[n] == '\'') &&
			    strchr(" ;\n", q[n + quoted]))
				return 1;
		}
	return 0;
}

static pkgflat_status bundle_scripts(const pkgflat_bundle *b,
    struct script_set *set, struct script_set *unrun, pkgflat_error *err)
{
	struct scan_scripts sc = { .set = set };
	pkgflat_status rc = pkgflat_bundle_list_scripts(b, 1 << 20, scan_script,
	    &sc, err);

	if (sc.oom)
		rc = fail_nomem(err);
	/* Wrappers say who wrote them; they stay wrappers when an original
	 * they call has gone missing. */
	for (int w = 0; w < 2; w++)
		if (sc.wrapper[w] && strstr(sc.wrapper[w], "written by pkgflat"))
			sc.has_originals = 1;
	if (!rc && sc.has_originals &&
	    pkgflat_bundle_kind(b) == PKGFLAT_BUNDLE_FLAT_COMPONENT) {
		/* Our wrappers: each original must be called by the one of its
		 * phase ("step NAME" or "check NAME"). */
		for (size_t i = 0; i < set->n; i++) {
			int k = script_index(set->name[i]);
			const char *w = sc.wrapper[k >= PKGFLAT_SCRIPT_POSTINSTALL];
			if (!calls(w, set->name[i]) &&
			    script_cb(set->name[i], set->sha[i], unrun))
				rc = fail_nomem(err);
		}
	} else if (!rc) {
		for (int w = 0; w < 2; w++)
			if (sc.wrapper[w] && script_cb(w ? "postinstall" : "preinstall",
			    sc.wsha[w], set))
				rc = fail_nomem(err);
	}
	free(sc.wrapper[0]);
	free(sc.wrapper[1]);
	return rc;
}

/* Two script sets by name and content; unrun: B's originals that its
 * wrappers do not call. pair NULL: the product's. */
static void cmp_script_sets(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const struct script_set *sa, const struct script_set *sb,
    const struct script_set *unrun)
{
	char ha[65], hb[65];

	if (!pair && !(pair = product_pair(res)))
		return;
	for (size_t i = 0; i < unrun->n; i++)
		add(res, pair, id, "script", "changed", "wrapper", unrun->name[i],
		    "run", "not run by the wrapper");
	for (size_t i = 0; i < sa->n; i++) {
		size_t j;
		for (j = 0; j < sb->n && strcmp(sa->name[i], sb->name[j]); j++)
			;
		hex(sa->sha[i], ha);
		if (j == sb->n) {
			add(res, pair, id, "script", "removed", "script", sa->name[i],
			    ha, NULL);
			continue;
		}
		hex(sb->sha[j], hb);
		if (memcmp(sa->sha[i], sb->sha[j], 32))
			add(res, pair, id, "script", "changed", "content", sa->name[i],
			    ha, hb);
	}
	for (size_t j = 0; j < sb->n; j++) {
		size_t i;
		for (i = 0; i < sa->n && strcmp(sa->name[i], sb->name[j]); i++)
			;
		if (i == sa->n) {
			hex(sb->sha[j], hb);
			add(res, pair, id, "script", "added", "script", sb->name[j],
			    NULL, hb);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Scripts another converter renamed instead of wrapping               */

/*
 * Tools other than pkgflat turn a legacy bundle into a flat component by
 * shipping its preflight as preinstall and its postflight as postinstall,
 * byte for byte. That installs the same as long as the script does not
 * reach into the legacy bundle, which a flat package does not have: $1
 * is then the .pkg file, Contents/Resources does not exist, and Installer
 * sets no PACKAGE_PATH or RECEIPT_PATH.
 */
static const struct {
	const char *legacy, *flat;
} renames[] = {
	{ "preflight", "preinstall" }, { "postflight", "postinstall" },
};

/* B's ./preinstall and ./postinstall text. */
struct flat_texts {
	char *text[2];
	int oom;
};

static int flat_text_cb(const pkgflat_script_file *f, void *ctx)
{
	struct flat_texts *t = ctx;
	int k = !strcmp(f->path, "./preinstall") ? 0 :
	    !strcmp(f->path, "./postinstall") ? 1 : -1;

	if (k >= 0 && f->data && !t->text[k] &&
	    !(t->text[k] = pf_strndup((const char *)f->data, (size_t)f->size)))
		return t->oom = 1;
	return 0;
}

/* The first line of text that needs the legacy bundle: its number, and
 * the line and why in why; 0 when none does. Comment lines do not count. */
static unsigned legacy_layout_line(const char *text, char *why, size_t size)
{
	static const struct {
		const char *needle, *reason;
	} uses[] = {
		{ "$1/Contents", "\"$1/Contents\": $1 is the flat .pkg file, which "
		  "has no Contents" },
		{ "${1}/Contents", "\"${1}/Contents\": $1 is the flat .pkg file, "
		  "which has no Contents" },
		{ "\"$1\"/Contents", "\"$1\"/Contents: $1 is the flat .pkg file, "
		  "which has no Contents" },
		{ "PACKAGE_PATH", "$PACKAGE_PATH: Installer does not set it for "
		  "flat packages" },
		{ "RECEIPT_PATH", "$RECEIPT_PATH: Installer does not set it for "
		  "flat packages" },
		{ "Contents/Resources", "a Contents/Resources path: the legacy "
		  "bundle's, which a flat package does not have" },
	};
	unsigned line = 1;

	for (const char *p = text; p && *p; line++) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *q = p + strspn(p, " \t");
		if (*q != '#')
			for (size_t i = 0; i < sizeof uses / sizeof *uses; i++) {
				size_t l = strlen(uses[i].needle);
				for (const char *h = p; h + l <= p + n; h++)
					if (!memcmp(h, uses[i].needle, l)) {
						size_t k = (size_t)(p + n - q);
						while (k && strchr(" \t\r", q[k - 1]))
							k--;
						snprintf(why, size, "%.*s%s (%s)", k > 72 ? 69 :
						    (int)k, q, k > 72 ? "..." : "", uses[i].reason);
						return line;
					}
			}
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static void set_remove(struct script_set *s, size_t i)
{
	free(s->name[i]);
	for (; i + 1 < s->n; i++) {
		s->name[i] = s->name[i + 1];
		memcpy(s->sha[i], s->sha[i + 1], 32);
	}
	s->n--;
}

static size_t set_find(const struct script_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n && strcmp(s->name[i], name); i++)
		;
	return i;
}

/* Pair A's legacy scripts with the renamed copies in B, taking both out
 * of the sets the name-by-name comparison sees. */
static pkgflat_status pair_renamed(pkgflat_diff_result *res,
    pkgflat_diff_pair *pair, const char *id, const pkgflat_bundle *a,
    const pkgflat_bundle *b, struct script_set *sa, struct script_set *sb,
    pkgflat_error *err)
{
	struct flat_texts t = { { NULL, NULL }, 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int kind = pkgflat_bundle_kind(a);

	if (kind == PKGFLAT_BUNDLE_FLAT_COMPONENT || kind ==
	    PKGFLAT_BUNDLE_PRODUCT || pkgflat_bundle_kind(b) !=
	    PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return PKGFLAT_OK;
	for (size_t r = 0; r < sizeof renames / sizeof *renames; r++) {
		size_t i = set_find(sa, renames[r].legacy);
		size_t j = set_find(sb, renames[r].flat);
		/* Wrapped (pkgflat's own) or shipped under its own name. */
		if (i == sa->n || j == sb->n || set_find(sa, renames[r].flat) <
		    sa->n || memcmp(sa->sha[i], sb->sha[j], 32))
			continue;
		if (!t.text[0] && !t.text[1] && !t.oom &&
		    (rc = pkgflat_bundle_list_scripts(b, 1 << 20, flat_text_cb, &t,
		    err)))
			break;
		if (t.oom) {
			rc = fail_nomem(err);
			break;
		}
		char why[300], where[400];
		const char *text = t.text[!strcmp(renames[r].flat, "postinstall")];
		unsigned line = legacy_layout_line(text, why, sizeof why);
		if (line) {
			snprintf(where, sizeof where, "%s line %u: %s", renames[r].flat,
			    line, why);
			add(res, pair, id, "script", "changed", "legacy-layout",
			    renames[r].legacy, renames[r].flat, where);
		} else {
			add(res, pair, id, "note", "changed", "renamed",
			    renames[r].legacy, renames[r].legacy, renames[r].flat);
			pair->notes++;
		}
		set_remove(sa, i);
		set_remove(sb, j);
	}
	free(t.text[0]);
	free(t.text[1]);
	return rc;
}

static pkgflat_status cmp_scripts(pkgflat_diff_result *res,
    pkgflat_diff_pair *pair, const char *id, const pkgflat_bundle *a,
    const pkgflat_bundle *b, pkgflat_error *err)
{
	struct script_set sa = { 0 }, sb = { 0 }, ua = { 0 }, ub = { 0 };
	pkgflat_status rc;

	if (!(rc = bundle_scripts(a, &sa, &ua, err)) &&
	    !(rc = bundle_scripts(b, &sb, &ub, err)) &&
	    !(rc = pair_renamed(res, pair, id, a, b, &sa, &sb, err)))
		cmp_script_sets(res, pair, id, &sa, &sb, &ub);
	script_set_free(&sa);
	script_set_free(&sb);
	script_set_free(&ua);
	script_set_free(&ub);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Pairing components                                                 */

static const char *mapped(const pkgflat_diff_options *o, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	for (size_t i = 0; id && i < o->map_count; i++)
		if (!strncmp(o->map[i], id, n) && o->map[i][n] == '=')
			return o->map[i] + n + 1;
	return id;
}

static const char *bundle_id(const pkgflat_bundle *b)
{
	const char *id = pkgflat_bundle_identifier(b);

	return id ? id : pkgflat_bundle_get(b, PKGFLAT_F_NAME);
}

/* The ownership policy a conversion between a and b followed: given, or
 * stated by the flat side's generator-version; -1 when neither says or
 * both sides are alike. */
static int pair_policy(const pkgflat_diff_options *o, const pkgflat_bundle *a,
    const pkgflat_bundle *b, int *legacy_a)
{
	int fa = pkgflat_bundle_kind(a) == PKGFLAT_BUNDLE_FLAT_COMPONENT;
	int fb = pkgflat_bundle_kind(b) == PKGFLAT_BUNDLE_FLAT_COMPONENT;
	char name[32];

	*legacy_a = !fa;
	if (fa == fb)
		return -1;
	if (o->ownership_given)
		return (int)o->ownership;
	const char *gen = pkgflat_bundle_get(fa ? a : b, PKGFLAT_F_CREATOR);
	const char *p = gen && !strncmp(gen, "pkgflat-", 8) ?
	    strstr(gen, "(ownership ") : NULL;
	if (!p)
		return -1;
	p += strlen("(ownership ");
	snprintf(name, sizeof name, "%.*s", (int)strcspn(p, ")"), p);
	return pkgflat_ownership_from_name(name);
}

/* One note for all the owners the policy changed, A's value first. */
static void note_policy(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, struct cmp *c)
{
	const uint32_t *x = c->legacy_a ? c->norm_from : c->norm_to;
	const uint32_t *y = c->legacy_a ? c->norm_to : c->norm_from;
	char va[32], vb[128];

	if (!c->norm)
		return;
	snprintf(va, sizeof va, "%u:%u", x[0], x[1]);
	snprintf(vb, sizeof vb, "%u:%u (ownership %s, %llu entr%s)", y[0], y[1],
	    pkgflat_ownership_name((enum pkgflat_ownership)c->policy),
	    (unsigned long long)c->norm, c->norm == 1 ? "y" : "ies");
	add(res, pair, id, "note", "changed", "ownership", c->norm_path, va, vb);
	pair->notes++;
}

static pkgflat_status diff_pair(pkgflat_diff_result *res,
    const pkgflat_diff_options *o, const pkgflat_bundle *a,
    const pkgflat_bundle *b, pkgflat_error *err)
{
	pkgflat_diff_pair *pair = calloc(1, sizeof *pair);
	const char *ida = a ? bundle_id(a) : NULL, *idb = b ? bundle_id(b) : NULL;
	const char *id = ida ? ida : idb;
	struct side sa = { .b = a, .want_bom = !(o->ignore & PKGFLAT_DIFF_IGNORE_BOM) };
	struct side sb = { .b = b, .want_bom = sa.want_bom };
	pkgflat_status rc = PKGFLAT_OK;
	int payload = o->only != PKGFLAT_DIFF_ONLY_METADATA;

	if (!pair || pv_push(&res->pairs, pair)) {
		free(pair);
		return fail_nomem(err);
	}
	pair->a = keep(res, ida);
	pair->b = keep(res, idb);
	if (!a || !b) {
		add(res, pair, id, "component", a ? "removed" : "added",
		    "component", NULL, ida, idb);
		return res->oom ? fail_nomem(err) : PKGFLAT_OK;
	}
	int rel = 0, moved = 0;
	if (payload) {
		/* Both payloads at once: decoding is the cost, and there are two. */
		pthread_t t;
		int threaded = pthread_create(&t, NULL, read_side, &sb) == 0;
		read_side(&sa);
		if (threaded)
			pthread_join(t, NULL);
		else
			read_side(&sb);
		if (sa.rc || sb.rc) {
			const pkgflat_error *e = sa.rc ? &sa.err : &sb.err;
			rc = sa.rc ? sa.rc : sb.rc;
			if (err)
				*err = *e;
			goto out;
		}
		pair->entries_a = sa.payload.n;
		pair->entries_b = sb.payload.n;
		/*
		 * Different install locations: the same files may still land in
		 * the same places (location "/" and payload "./Library/X" against
		 * location "/Library" and "./X"), or the whole payload moved.
		 * Pair records the way that matches more of them; when the full
		 * paths match, the location change installs nothing differently.
		 */
		if ((moved = strcmp(sa.payload.root, sb.payload.root) != 0)) {
			size_t full = rset_common(&sa.payload, &sb.payload);
			rset_key(&sa.payload, 1);
			rset_key(&sb.payload, 1);
			rel = rset_common(&sa.payload, &sb.payload) > full;
			if (!rel) {
				rset_key(&sa.payload, 0);
				rset_key(&sb.payload, 0);
			} else {
				rset_key(&sa.bom, 1);
				rset_key(&sb.bom, 1);
			}
		}
	}
	if (o->only != PKGFLAT_DIFF_ONLY_PAYLOAD) {
		cmp_metadata(res, pair, id, a, b, o->ignore, strcmp(ida, idb) != 0,
		    payload && moved && !rel);
		if (!(o->ignore & PKGFLAT_DIFF_IGNORE_SCRIPTS) &&
		    (rc = cmp_scripts(res, pair, id, a, b, err)))
			goto out;
	}
	if (!payload) {
		rc = res->oom ? fail_nomem(err) : PKGFLAT_OK;
		goto out;
	}
	struct cmp c = { res, pair, id, "payload", o->ignore, rel, -1, 0, 0,
	    NULL, { 0, 0 }, { 0, 0 } };
	c.policy = pair_policy(o, a, b, &c.legacy_a);
	cmp_sets(&c, &sa.payload, &sb.payload);
	note_policy(res, pair, id, &c);
	free(c.norm_path);
	if (sa.want_bom) {
		size_t ka = res->diffs.n, kb, kend;
		c.category = "within-a";
		if (pkgflat_bundle_has_bom(a) && pkgflat_bundle_has_payload(a))
			cmp_sets(&c, &sa.bom, &sa.payload);
		kb = res->diffs.n;
		c.category = "within-b";
		if (pkgflat_bundle_has_bom(b) && pkgflat_bundle_has_payload(b))
			cmp_sets(&c, &sb.bom, &sb.payload);
		kend = res->diffs.n;
		mark_inherited(res, ka, kb, kend);
		for (size_t k = ka; k < kend; k++) {
			const pkgflat_difference *d = res->diffs.v[k];
			pair->notes += k < kb || d->inherited;
		}
	}
	if (res->oom)
		rc = fail_nomem(err);
out:
	rset_free(&sa.payload);
	rset_free(&sa.bom);
	rset_free(&sb.payload);
	rset_free(&sb.bom);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The product: requirement checks and the metapackage's own scripts   */

static int is_flat(const pkgflat_package *p)
{
	enum pkgflat_bundle_kind k = pkgflat_bundle_kind(pkgflat_package_root(p));

	return k == PKGFLAT_BUNDLE_PRODUCT || k == PKGFLAT_BUNDLE_FLAT_COMPONENT;
}

/* The text of a flat package's Distribution <script> elements ("" when it
 * has none). */
static pkgflat_status dist_script(const pkgflat_package *p, strbuf *out,
    pkgflat_error *err)
{
	const char *path = pkgflat_bundle_get(pkgflat_package_root(p),
	    PKGFLAT_F_DIST_FILE);
	unsigned char *data = NULL;
	size_t len = 0;
	pkgflat_status rc;
	xmlDocPtr doc;

	if (!path)
		return PKGFLAT_OK;
	if ((rc = src_read(p->src, path, (size_t)16 << 20, &data, &len, err)))
		return rc;
	doc = xmlReadMemory((const char *)data, (int)len, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(data);
	if (!doc)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL, "not well-formed XML");
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name,
		    "script"))
			continue;
		xmlChar *t = xmlNodeGetContent(n);
		if (t)
			sb_adds(out, (const char *)t);
		xmlFree(t);
	}
	xmlFreeDoc(doc);
	return out->oom ? fail_nomem(err) : PKGFLAT_OK;
}

/* Every requirement of a legacy package: the root's and its components'. */
static void legacy_reqs(const pkgflat_package *p, ptrvec *bundles, ptrvec *reqs)
{
	const pkgflat_bundle *root = pkgflat_package_root(p);
	size_t n = pkgflat_package_component_count(p);

	for (size_t i = 0; i <= n; i++) {
		const pkgflat_bundle *b = i ? pkgflat_package_component(p, i - 1) : root;
		if (i && b == root)
			continue;
		for (size_t k = 0; k < pkgflat_bundle_requirement_count(b); k++) {
			pv_push(bundles, (void *)b);
			pv_push(reqs, (void *)pkgflat_bundle_requirement(b, k));
		}
	}
}

static pkgflat_diff_pair *product_pair(pkgflat_diff_result *res)
{
	static const char id[] = "(product)";
	pkgflat_diff_pair *p;

	if (res->product)
		return res->product;
	if (!(p = calloc(1, sizeof *p)) || pv_push(&res->pairs, p)) {
		free(p);
		res->oom = 1;
		return NULL;
	}
	p->a = p->b = keep(res, id);
	return res->product = p;
}

/*
 * Requirement checks. Legacy IFRequirementDicts become Distribution
 * JavaScript; a legacy requirement is kept when the flat side's script
 * holds the very statement convert writes for it. Two legacy packages
 * compare their requirement lists, two flat ones their scripts.
 */
static pkgflat_status cmp_checks(pkgflat_diff_result *res, pkgflat_package *a,
    pkgflat_package *b, pkgflat_error *err)
{
	int fa = is_flat(a), fb = is_flat(b);
	strbuf sa = { 0 }, sb = { 0 };
	ptrvec ba = { 0 }, ra = { 0 }, bb = { 0 }, rb = { 0 };
	pkgflat_status rc = PKGFLAT_OK;

	if (fa && fb) {
		if (!(rc = dist_script(a, &sa, err)) && !(rc = dist_script(b, &sb, err)) &&
		    strcmp(sa.buf ? sa.buf : "", sb.buf ? sb.buf : "")) {
			unsigned char ha[32], hb[32];
			char xa[65], xb[65];
			EVP_Digest(sa.buf ? sa.buf : "", sa.len, ha, NULL, EVP_sha256(), NULL);
			EVP_Digest(sb.buf ? sb.buf : "", sb.len, hb, NULL, EVP_sha256(), NULL);
			hex(ha, xa);
			hex(hb, xb);
			add(res, product_pair(res), "(product)", "metadata", "changed",
			    "checks-script", NULL, xa, xb);
		}
		goto out;
	}
	legacy_reqs(fa ? b : a, fa ? &bb : &ba, fa ? &rb : &ra);
	if (!fa && !fb)
		legacy_reqs(b, &bb, &rb);
	else if ((rc = dist_script(fa ? a : b, fa ? &sa : &sb, err)))
		goto out;
	/* Each legacy requirement of one side, looked for on the other. */
	for (int side = 0; side < 2; side++) {
		ptrvec *bun = side ? &bb : &ba, *req = side ? &rb : &ra;
		ptrvec *obun = side ? &ba : &bb, *oreq = side ? &ra : &rb;
		strbuf *oscript = side ? &sa : &sb;
		int other_flat = side ? fa : fb;
		for (size_t i = 0; i < req->n; i++) {
			strbuf t = { 0 }, js = { 0 };
			int found = 0;
			requirement_text(req->v[i], &t);
			if (other_flat) {
				found = convert_requirement_js(bun->v[i], req->v[i], &js) >= 0 &&
				    js.buf && oscript->buf && strstr(oscript->buf, js.buf);
			} else {
				for (size_t j = 0; j < oreq->n && !found; j++) {
					strbuf u = { 0 };
					requirement_text(oreq->v[j], &u);
					found = u.buf && t.buf && !strcmp(u.buf, t.buf);
					sb_free(&u);
				}
				(void)obun;
			}
			if (!found)
				add(res, product_pair(res), "(product)", "metadata",
				    side ? "added" : "removed", "requirement", NULL,
				    side ? NULL : t.buf, side ? t.buf : NULL);
			sb_free(&t);
			sb_free(&js);
		}
	}
out:
	sb_free(&sa);
	sb_free(&sb);
	pv_free(&ba, NULL);
	pv_free(&bb, NULL);
	pv_free(&ra, NULL);
	pv_free(&rb, NULL);
	return res->oom && !rc ? fail_nomem(err) : rc;
}

/* A metapackage's own scripts: a legacy .mpkg runs them itself; convert
 * moves each into a payload-free component of its own. */
static int meta_scripts(const pkgflat_package *p, const pkgflat_bundle *c,
    const pkgflat_package *other);

static pkgflat_status product_scripts(const pkgflat_package *p, const char *used,
    const pkgflat_package *other, struct script_set *set,
    struct script_set *unrun, pkgflat_error *err)
{
	const pkgflat_bundle *root = pkgflat_package_root(p);
	pkgflat_status rc = PKGFLAT_OK;

	if (!is_flat(p)) {
		if (!pkgflat_bundle_is_component(root))
			rc = bundle_scripts(root, set, unrun, err);
		return rc;
	}
	/* Each original counts where a wrapper runs it; convert copies all
	 * of them into each such component but runs one. */
	struct script_set notrun = { 0 };
	for (size_t i = 0; !rc && i < pkgflat_package_component_count(p); i++) {
		const pkgflat_bundle *c = pkgflat_package_component(p, i);
		struct script_set cs = { 0 }, cu = { 0 };
		if (used[i] || !meta_scripts(p, c, other))
			continue;
		rc = bundle_scripts(c, &cs, &cu, err);
		for (size_t k = 0; !rc && k < cs.n; k++) {
			int run = !set_has(&cu, cs.name[k]);
			struct script_set *to = run ? set : &notrun;
			if (!set_has(to, cs.name[k]) &&
			    script_cb(cs.name[k], cs.sha[k], to))
				rc = fail_nomem(err);
		}
		script_set_free(&cs);
		script_set_free(&cu);
	}
	for (size_t k = 0; !rc && k < notrun.n; k++)
		if (!set_has(set, notrun.name[k]) &&
		    script_cb(notrun.name[k], notrun.sha[k], unrun))
			rc = fail_nomem(err);
	script_set_free(&notrun);
	return rc;
}

static pkgflat_status cmp_product_scripts(pkgflat_diff_result *res,
    pkgflat_package *a, const char *used_a, pkgflat_package *b,
    const char *used_b, pkgflat_error *err)
{
	struct script_set sa = { 0 }, sb = { 0 }, ua = { 0 }, ub = { 0 };
	pkgflat_status rc;

	if (!(rc = product_scripts(a, used_a, b, &sa, &ua, err)) &&
	    !(rc = product_scripts(b, used_b, a, &sb, &ub, err)) &&
	    (sa.n || sb.n || ub.n))
		cmp_script_sets(res, NULL, "(product)", &sa, &sb, &ub);
	script_set_free(&sa);
	script_set_free(&sb);
	script_set_free(&ua);
	script_set_free(&ub);
	return rc;
}

/* Is c, a component of p without a partner, one that convert made of
 * the other side's metapackage scripts? */
static int meta_scripts(const pkgflat_package *p, const pkgflat_bundle *c,
    const pkgflat_package *other)
{
	return is_flat(p) && !is_flat(other) &&
	    !pkgflat_bundle_is_component(pkgflat_package_root(other)) &&
	    !pkgflat_bundle_has_payload(c);
}

/* ------------------------------------------------------------------ */
/* Behaviour: the Distribution's choices, checks and JavaScript        */

static const char *rename_id(void *ctx, const char *id)
{
	return mapped(ctx, id);
}

/*
 * The behaviour facts of one side (dist.c): a flat product's from its
 * Distribution, a legacy package's from the Distribution convert writes
 * for it (the .dist carried over, or the one made of Info.plist keys), so
 * that convert and diff read the legacy package through one mapping.
 * A flat component package has no Distribution (*have 0); nor has a legacy
 * package convert would refuse, whose other differences still count.
 */
static pkgflat_status side_behaviour(pkgflat_package *p, const
    pkgflat_diff_options *rename, ptrvec *facts, int *have, pkgflat_error *err)
{
	const pkgflat_bundle *root = pkgflat_package_root(p);
	enum pkgflat_bundle_kind k = pkgflat_bundle_kind(root);
	xmlDocPtr doc = NULL;
	pkgflat_status rc = PKGFLAT_OK;

	*have = 0;
	if (k == PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return PKGFLAT_OK;
	if (k == PKGFLAT_BUNDLE_PRODUCT) {
		const char *path = pkgflat_bundle_get(root, PKGFLAT_F_DIST_FILE);
		if (!path)
			return PKGFLAT_OK;
		rc = dist_load(p, path, &doc, err);
	} else {
		pkgflat_error e;
		char *text = NULL;
		size_t len = 0;
		pkgflat_error_clear(&e);
		if (!convert_distribution(p, &text, &len, &e))
			rc = dist_parse((const unsigned char *)text, len, "Distribution",
			    &doc, err);
		else if (e.status == PKGFLAT_E_NOMEM)
			rc = fail_nomem(err);
		free(text);
	}
	if (!rc && doc) {
		rc = dist_behaviour(doc, rename ? rename_id : NULL, (void *)rename,
		    facts, err);
		*have = !rc;
	}
	xmlFreeDoc(doc);
	return rc;
}

static const struct dist_fact *fact_get(const ptrvec *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(((struct dist_fact *)f->v[i])->key, key))
			return f->v[i];
	return NULL;
}

/* "choice \"ID\" attr" -> the choice's key prefix, or 0 when not one. */
static size_t choice_prefix(const char *key)
{
	const char *q;

	if (strncmp(key, "choice \"", 8) || !(q = strstr(key + 8, "\" ")))
		return 0;
	return (size_t)(q - key) + 2;
}

static int has_choice(const ptrvec *f, const char *key, size_t n)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strncmp(((struct dist_fact *)f->v[i])->key, key, n))
			return 1;
	return 0;
}

static void cmp_facts(pkgflat_diff_result *res, const ptrvec *fa,
    const ptrvec *fb, int skip_checks, int skip_script)
{
	pkgflat_diff_pair *pp = product_pair(res);

	for (int side = 0; side < 2; side++) {
		const ptrvec *mine = side ? fb : fa, *other = side ? fa : fb;
		for (size_t i = 0; i < mine->n; i++) {
			const struct dist_fact *f = mine->v[i];
			size_t cp = choice_prefix(f->key);
			int script = !strcmp(f->key, "script");
			int check = script || str_has_suffix(f->key, "-check script");
			if ((skip_checks && check) || (skip_script && script))
				continue;
			if (cp && !has_choice(other, f->key, cp)) {
				/* One difference per choice, named by its id line. */
				if (strcmp(f->key + cp, "selected"))
					continue;
				char *id = pf_strndup(f->key + 8, cp - 10);
				add(res, pp, "(product)", "behaviour", side ? "added" :
				    "removed", "choice", NULL, side ? NULL : id,
				    side ? id : NULL);
				free(id);
				continue;
			}
			const struct dist_fact *g = fact_get(other, f->key);
			if (side || same_str(f->value, g ? g->value : NULL))
				continue;
			const char *va = f->value, *vb = g ? g->value : NULL;
			add(res, pp, "(product)", "behaviour", !vb ? "removed" : !va ?
			    "added" : "changed", keep(res, f->key), NULL, va, vb);
		}
	}
}

/* The two sides' choice trees, check calls and <script>s. Two flat
 * products' scripts are cmp_checks()'s; the other facts are compared
 * for any pair with a Distribution on both sides. */
static pkgflat_status cmp_behaviour(pkgflat_diff_result *res,
    pkgflat_package *a, pkgflat_package *b, const pkgflat_diff_options *o,
    pkgflat_error *err)
{
	ptrvec fa = { 0 }, fb = { 0 };
	int ha = 0, hb = 0;
	pkgflat_status rc = side_behaviour(a, o, &fa, &ha, err);

	if (!rc && ha)
		rc = side_behaviour(b, NULL, &fb, &hb, err);
	if (!rc && ha && hb)
		cmp_facts(res, &fa, &fb, (o->ignore & PKGFLAT_DIFF_IGNORE_CHECKS) != 0,
		    is_flat(a) && is_flat(b));
	pv_free(&fa, dist_fact_free);
	pv_free(&fb, dist_fact_free);
	return !rc && res->oom ? fail_nomem(err) : rc;
}

pkgflat_status pkgflat_diff(pkgflat_package *a, pkgflat_package *b,
    const pkgflat_diff_options *opt, pkgflat_diff_result **result,
    pkgflat_error *err)
{
	static const pkgflat_diff_options defaults = { 0 };
	const pkgflat_diff_options *o = opt ? opt : &defaults;
	pkgflat_diff_result *res = calloc(1, sizeof *res);
	size_t na = pkgflat_package_component_count(a);
	size_t nb = pkgflat_package_component_count(b);
	char *used = calloc(nb ? nb : 1, 1);
	char *used_a = calloc(na ? na : 1, 1);
	pkgflat_status rc = PKGFLAT_OK;

	*result = NULL;
	if (!res || !used || !used_a) {
		free(res);
		free(used);
		free(used_a);
		return fail_nomem(err);
	}
	for (size_t i = 0; i < o->map_count; i++)
		if (!strchr(o->map[i], '=') || o->map[i][0] == '=') {
			rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
			    "component map \"%s\" is not OLD=NEW", o->map[i]);
			goto out;
		}
	/* A's order first, then what only B has, in B's order. */
	for (size_t i = 0; i < na && !rc; i++) {
		const pkgflat_bundle *ca = pkgflat_package_component(a, i);
		const char *want = mapped(o, bundle_id(ca));
		const pkgflat_bundle *cb = NULL;
		for (size_t j = 0; j < nb; j++) {
			const pkgflat_bundle *x = pkgflat_package_component(b, j);
			if (!used[j] && want && !strcmp(bundle_id(x), want)) {
				used[j] = used_a[i] = 1;
				cb = x;
				break;
			}
		}
		/* A flat side's payload-free leftovers may be a legacy
		 * metapackage's own scripts: compared with the product's. */
		if (cb || !meta_scripts(a, ca, b))
			rc = diff_pair(res, o, ca, cb, err);
	}
	for (size_t j = 0; j < nb && !rc; j++)
		if (!used[j] && !meta_scripts(b, pkgflat_package_component(b, j), a))
			rc = diff_pair(res, o, NULL, pkgflat_package_component(b, j), err);
	if (!rc && o->only != PKGFLAT_DIFF_ONLY_PAYLOAD) {
		if (!(o->ignore & PKGFLAT_DIFF_IGNORE_SCRIPTS))
			rc = cmp_product_scripts(res, a, used_a, b, used, err);
		if (!rc && !(o->ignore & PKGFLAT_DIFF_IGNORE_CHECKS))
			rc = cmp_checks(res, a, b, err);
		if (!rc)
			rc = cmp_behaviour(res, a, b, o, err);
	}
	if (!rc && res->oom)
		rc = fail_nomem(err);
out:
	free(used_a);
	free(used);
	if (rc) {
		pkgflat_diff_result_free(res);
		return rc;
	}
	*result = res;
	return PKGFLAT_OK;
}

void pkgflat_diff_result_free(pkgflat_diff_result *r)
{
	if (!r)
		return;
	pv_free(&r->diffs, free);
	pv_free(&r->pairs, free);
	pv_free(&r->strings, free);
	free(r);
}

size_t pkgflat_diff_count(const pkgflat_diff_result *r)
{
	return r ? r->diffs.n : 0;
}

const pkgflat_difference *pkgflat_diff_get(const pkgflat_diff_result *r,
    size_t i)
{
	return r && i < r->diffs.n ? r->diffs.v[i] : NULL;
}

int pkgflat_diff_equivalent(const pkgflat_diff_result *r)
{
	for (size_t i = 0; r && i < r->diffs.n; i++)
		if (strcmp(((pkgflat_difference *)r->diffs.v[i])->category,
		    "within-a") && strcmp(((pkgflat_difference *)r->diffs.v[i])->
		    category, "note") &&
		    !((pkgflat_difference *)r->diffs.v[i])->inherited)
			return 0;
	return 1;
}

size_t pkgflat_diff_pair_count(const pkgflat_diff_result *r)
{
	return r ? r->pairs.n : 0;
}

const pkgflat_diff_pair *pkgflat_diff_pair_get(const pkgflat_diff_result *r,
    size_t i)
{
	return r && i < r->pairs.n ? r->pairs.v[i] : NULL;
}

unsigned int pkgflat_diff_ignore_bit(const char *name)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "mtime", PKGFLAT_DIFF_IGNORE_MTIME },
		{ "owner", PKGFLAT_DIFF_IGNORE_OWNER },
		{ "mode", PKGFLAT_DIFF_IGNORE_MODE },
		{ "content", PKGFLAT_DIFF_IGNORE_CONTENT },
		{ "links", PKGFLAT_DIFF_IGNORE_LINKS },
		{ "bom", PKGFLAT_DIFF_IGNORE_BOM },
		{ "scripts", PKGFLAT_DIFF_IGNORE_SCRIPTS },
		{ "version", PKGFLAT_DIFF_IGNORE_VERSION },
		{ "checks", PKGFLAT_DIFF_IGNORE_CHECKS },
	};

	for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
		if (!strcmp(name, names[i].name))
			return names[i].bit;
	return 0;
}

const char *pkgflat_difference_text(const pkgflat_difference *d, char *buf,
    size_t size)
{
	int within = !strncmp(d->category, "within-", 7);
	int changed = !strcmp(d->change, "changed");
	size_t n = 0;
	int w;

#define PUT(...) do { \
	w = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, \
	    __VA_ARGS__); \
	n += w > 0 ? (size_t)w : 0; \
} while (0)
	if (!size)
		return buf;
	buf[0] = 0;
	if (within)
		PUT("within %c%s: ", d->category[7] == 'a' ? 'A' : 'B',
		    d->inherited ? " (as in A)" : "");
	if (!strcmp(d->category, "note") && !strcmp(d->attribute, "ownership"))
		PUT("note: owners changed by the conversion's ownership policy, "
		    "%s -> %s, first: %s", d->a, d->b, d->path);
	else if (!strcmp(d->category, "component"))
		PUT("%s component: %s", d->change, d->a ? d->a : d->b);
	else if (within && !strcmp(d->attribute, "copies"))
		PUT("stored %s times in the payload: %s", d->b, d->path);
	else if (within && !changed)
		PUT("%s only in the %s: %s", d->attribute,
		    !strcmp(d->change, "removed") ? "BOM" : "payload", d->path);
	else if (within)
		PUT("BOM and payload disagree on %s %s -> %s: %s", d->attribute,
		    d->a, d->b, d->path);
	else if (!strcmp(d->category, "note") && !strcmp(d->attribute, "renamed"))
		PUT("note: script %s shipped byte-identical as %s (renamed, not "
		    "wrapped: installs the same)", d->a, d->b);
	else if (!strcmp(d->category, "script") &&
	    !strcmp(d->attribute, "legacy-layout"))
		PUT("script %s shipped as %s needs the legacy bundle: %s", d->path,
		    d->a, d->b);
	else if (!strcmp(d->category, "behaviour") && changed)
		PUT("changed %s: %s%s%s -> %s%s%s", d->attribute, d->a ? "\"" : "",
		    d->a ? d->a : "(none)", d->a ? "\"" : "", d->b ? "\"" : "",
		    d->b ? d->b : "(none)", d->b ? "\"" : "");
	else if (!strcmp(d->category, "behaviour"))
		PUT("%s %s: \"%s\"", d->change, d->attribute, d->a ? d->a : d->b);
	else if (!strcmp(d->category, "script") && !strcmp(d->attribute, "wrapper"))
		PUT("script not run by the wrapper: %s", d->path);
	else if (!strcmp(d->category, "script"))
		PUT("%s script%s: %s", d->change, changed ? " content" : "", d->path);
	else if (!changed && d->path)
		PUT("%s %s: %s", d->change, d->attribute, d->path);
	else if (!changed)
		PUT("%s %s: %s", d->change, d->attribute, d->a ? d->a : d->b);
	else if (!strcmp(d->attribute, "hardlink"))
		PUT("changed hard-link group (first member %s -> %s): %s", d->a,
		    d->b, d->path);
	else if (d->path)
		PUT("changed %s %s -> %s: %s", d->attribute, d->a ? d->a : "-",
		    d->b ? d->b : "-", d->path);
	else
		PUT("changed %s %s -> %s", d->attribute, d->a ? d->a : "-",
		    d->b ? d->b : "-");
#undef PUT
	if (n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}
