/*
 * What a component carries, read only when asked: its payload, BOM and
 * scripts listed entry by entry, and the scan that reads each payload and
 * BOM once and cross-checks them (pkgflat_package_scan()).
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bom_read.h"
#include "model.h"
#include "payload.h"
#include "spill.h"

/* ------------------------------------------------------------------ */
/* Streaming a component's payload and BOM                            */

static long stream_read(void *ctx, void *buf, size_t n)
{
	return ((src_stream *)ctx)->read(ctx, buf, n);
}

/* Stream a file of the package through payload_walk_ex(). */
static pkgflat_status walk_member(const pkgflat_component *b, const char *path,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    const struct payload_opts *opt, pkgflat_error *err)
{
	src *s = b->pkg->src;
	src_stream *st = NULL;
	pkgflat_status rc;

	if ((rc = src_open_stream(s, path, &st, err)))
		return rc;
	char *name = src_display(s, path);
	if (!name)
		rc = fail_nomem(err);
	else
		rc = payload_walk_ex(stream_read, st, name, fn, ctx, stats, opt, err);
	free(name);
	src_stream_close(st);
	return rc;
}

static pkgflat_status list_payload(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    const struct payload_opts *opt, pkgflat_error *err)
{
	if (!b->has_payload)
		return fail(err, PKGFLAT_E_USAGE, b->field[PKGFLAT_F_PATH], NULL,
		    "bundle has no payload");
	return walk_member(b, b->field[PKGFLAT_F_PAYLOAD_PATH], fn, ctx, stats,
	    opt, err);
}

pkgflat_status component_walk_payload(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, const struct payload_opts *opt,
    pkgflat_error *err)
{
	return list_payload(b, fn, ctx, NULL, opt, err);
}

pkgflat_status pkgflat_component_list_payload(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	return list_payload(b, fn, ctx, stats, NULL, err);
}

pkgflat_status pkgflat_component_list_payload_digest(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	static const struct payload_opts digest = { .digest = 1 };

	return list_payload(b, fn, ctx, stats, &digest, err);
}

/* ------------------------------------------------------------------ */
/* Scripts with their bytes                                           */

struct scripts_walk {
	const pkgflat_component *b;
	const char *prefix;      /* script paths start with this */
	pkgflat_script_fn fn;
	void *ctx;
};

/* Which of the bundle's scripts lives at rel ("./postinstall"), or -1. */
static int script_at(const pkgflat_component *b, const char *prefix,
    const char *rel)
{
	size_t pl = strlen(prefix);

	if (!strncmp(rel, "./", 2))
		rel += 2;
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++) {
		const char *p = b->script[i];
		if (p && !strncmp(p, prefix, pl) && !strcmp(p + pl, rel))
			return i;
	}
	return -1;
}

static int flat_script_file(const pkgflat_entry *e, const unsigned char *data,
    void *p)
{
	struct scripts_walk *w = p;
	pkgflat_script_file f = {
		.path = e->path, .mode = e->mode & 07777, .size = e->size,
		.data = data,
		.script = script_at(w->b, w->prefix, e->path),
	};

	memcpy(f.sha256, e->sha256, sizeof f.sha256);
	return w->fn(&f, w->ctx);
}

/* A legacy script: streamed for its digest, kept when small. */
static pkgflat_status legacy_script_file(const pkgflat_component *b, int i,
    size_t max, struct scripts_walk *w, pkgflat_error *err)
{
	src *s = b->pkg->src;
	const char *path = b->script[i];
	const char *bp = b->field[PKGFLAT_F_PATH];
	size_t bl = strlen(bp);
	struct src_stat stt;
	src_stream *st = NULL;
	unsigned char *keep = NULL, buf[16384];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	pkgflat_status rc;
	uint64_t got = 0;

	if (!md)
		return fail_nomem(err);
	if ((rc = src_stat(s, path, &stt, err)) ||
	    (rc = src_open_stream(s, path, &st, err)))
		goto out;
	if ((stt.size <= max && !(keep = malloc(stt.size + 1))) ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		rc = fail_nomem(err);
		goto out;
	}
	for (;;) {
		long n = st->read(st, buf, sizeof buf);
		if (n < 0) {
			rc = err && err->status ? err->status : PKGFLAT_E_IO;
			goto out;
		}
		if (n == 0)
			break;
		if (keep && got + (uint64_t)n <= stt.size)
			memcpy(keep + got, buf, (size_t)n);
		got += (uint64_t)n;
		EVP_DigestUpdate(md, buf, (size_t)n);
	}
	if (keep && got != stt.size) {
		char *name = src_display(s, path);
		rc = fail(err, PKGFLAT_E_IO, name, NULL, "changed while reading");
		free(name);
		goto out;
	}
	if (keep)
		keep[got] = 0;
	/* "Foo.pkg/Contents/Resources/preflight" -> "./Contents/Resources/..." */
	const char *rel = bl && !strncmp(path, bp, bl) && path[bl] == '/' ?
	    path + bl + 1 : path;
	char *dot = pf_asprintf("./%s", rel);
	if (!dot) {
		rc = fail_nomem(err);
		goto out;
	}
	pkgflat_script_file f = {
		.path = dot, .script = i, .mode = stt.mode, .size = got, .data = keep,
	};
	EVP_DigestFinal_ex(md, f.sha256, NULL);
	if (w->fn(&f, w->ctx))
		rc = fail(err, PKGFLAT_E_USAGE, path, NULL, "stopped by the caller");
	free(dot);
out:
	src_stream_close(st);
	EVP_MD_CTX_free(md);
	free(keep);
	return rc;
}

pkgflat_status pkgflat_component_list_scripts(const pkgflat_component *b,
    size_t max_size, pkgflat_script_fn fn, void *ctx, pkgflat_error *err)
{
	struct scripts_walk w = { .b = b, .fn = fn, .ctx = ctx };
	pkgflat_status rc = PKGFLAT_OK;

	if (b->kind == PKGFLAT_BUNDLE_FLAT_COMPONENT) {
		char *archive = path_join(b->field[PKGFLAT_F_PATH], "Scripts");
		char *prefix = archive ? pf_asprintf("%s/", archive) : NULL;
		struct src_stat st;
		if (!archive || !prefix)
			rc = fail_nomem(err);
		else if (!(rc = src_stat(b->pkg->src, archive, &st, err)) &&
		    st.type == SRC_FILE) {
			struct payload_opts opt = { .digest = 1, .data_max = max_size,
			    .data_fn = flat_script_file };
			w.prefix = prefix;
			rc = walk_member(b, archive, NULL, &w, NULL, &opt, err);
		}
		free(archive);
		free(prefix);
		return rc;
	}
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_ && !rc; i++)
		if (b->script[i])
			rc = legacy_script_file(b, i, max_size, &w, err);
	return rc;
}

static void trim_spill(void *ctx)
{
	spill_trim_over(ctx, (size_t)4 << 20);
}

pkgflat_status pkgflat_component_list_bom(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_bom_stats *stats,
    pkgflat_error *err)
{
	src *s = b->pkg->src;
	struct spill data = { 0 };
	bom_reader *r = NULL;
	pkgflat_status rc;

	if (!b->has_bom)
		return fail(err, PKGFLAT_E_USAGE, b->field[PKGFLAT_F_PATH], NULL,
		    "bundle has no Archive.bom");
	/* A BOM is metadata, but one per path: allow large ones, and keep
	 * them in a temporary file, not in memory. */
	if ((rc = src_read_spill(s, b->field[PKGFLAT_F_BOM_PATH], (size_t)1 << 31,
	    &data, err)))
		return rc;
	char *name = src_display(s, b->field[PKGFLAT_F_BOM_PATH]);
	if (!name)
		rc = fail_nomem(err);
	else if (!(rc = bom_open(data.p, data.len, name, &r, err))) {
		/* bom_open read the whole block table. */
		spill_trim(&data);
		bom_set_spill(r, trim_spill, &data);
		rc = bom_walk(r, fn, ctx, stats, err);
	}
	bom_close(r);
	free(name);
	spill_close(&data);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Cross-checking a BOM against its payload                           */

struct bom_rec {
	char *path;
	char *link;
	int type;
	uint32_t mode, uid, gid;
	uint64_t size;
	int seen;
	int sidecar;  /* pkgbuild's AppleDouble "._X" record: the mode alone */
};

struct check {
	struct bom_rec *r;
	size_t n, cap;
	int oom;
	/* Disagreements: count and first example of each kind. */
	uint64_t only_payload, dup, type, mode, owner, size, link;
	char dot[256];  /* how the two describe ".", when they differ */
	char ex_only_payload[512], ex_dup[512], ex_type[512], ex_mode[512], ex_owner[512],
	    ex_size[512], ex_link[512];
};

static int collect_bom(const pkgflat_entry *e, void *ctx)
{
	struct check *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct bom_rec *r = realloc(c->r, cap * sizeof *r);
		if (!r) {
			c->oom = 1;
			return 1;
		}
		c->r = r;
		c->cap = cap;
	}
	struct bom_rec *r = &c->r[c->n];
	memset(r, 0, sizeof *r);
	r->path = pf_strdup(e->path);
	r->link = e->link_target ? pf_strdup(e->link_target) : NULL;
	if (!r->path || (e->link_target && !r->link)) {
		free(r->path);
		free(r->link);
		c->oom = 1;
		return 1;
	}
	r->type = e->type;
	r->mode = e->mode & 07777;
	r->uid = e->uid;
	r->gid = e->gid;
	r->size = e->size;
	r->sidecar = e->type == PKGFLAT_ENTRY_FILE && !e->has_crc && !e->size &&
	    !strncmp(path_base(e->path), "._", 2);
	c->n++;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bom_rec *)a)->path,
	    ((const struct bom_rec *)b)->path);
}

static int check_payload(const pkgflat_entry *e, void *ctx)
{
	struct check *c = ctx;
	struct bom_rec key = { .path = (char *)e->path };
	struct bom_rec *r = c->n ? bsearch(&key, c->r, c->n, sizeof *c->r,
	    rec_cmp) : NULL;

	if (!r) {
		if (c->only_payload++ == 0)
			snprintf(c->ex_only_payload, sizeof c->ex_only_payload, "%s",
			    e->path);
		return 0;
	}
	if (r->seen && c->dup++ == 0)
		snprintf(c->ex_dup, sizeof c->ex_dup, "%s", e->path);
	r->seen = 1;
	int ptype = e->type == PKGFLAT_ENTRY_HARDLINK ? PKGFLAT_ENTRY_FILE :
	    e->type;
	if (ptype != r->type) {
		if (c->type++ == 0)
			snprintf(c->ex_type, sizeof c->ex_type,
			    "%s (BOM type %d, payload type %d)", e->path, r->type,
			    ptype);
		return 0;
	}
	if (r->sidecar)
		return 0;
	/* pkgbuild's Bom for a component plist or a synthesized root gives
	 * "." the mode and owner of the directory it was built from, not the
	 * payload's; "." is the install location, which Installer leaves as
	 * it is. Only its type matters (above). */
	if (!strcmp(e->path, ".")) {
		if ((e->mode & 07777) != r->mode || e->uid != r->uid ||
		    e->gid != r->gid)
			snprintf(c->dot, sizeof c->dot, "BOM %04o %u/%u, payload %04o "
			    "%u/%u", r->mode, r->uid, r->gid, e->mode & 07777, e->uid,
			    e->gid);
		return 0;
	}
	if ((e->mode & 07777) != r->mode)
		if (c->mode++ == 0)
			snprintf(c->ex_mode, sizeof c->ex_mode,
			    "%s (BOM %04o, payload %04o)", e->path, r->mode,
			    e->mode & 07777);
	if (e->uid != r->uid || e->gid != r->gid) {
		if (c->owner++ == 0)
			snprintf(c->ex_owner, sizeof c->ex_owner,
			    "%s (BOM %u/%u, payload %u/%u)", e->path, r->uid, r->gid,
			    e->uid, e->gid);
	}
	if (ptype == PKGFLAT_ENTRY_FILE && e->type != PKGFLAT_ENTRY_HARDLINK &&
	    e->size != r->size)
		if (c->size++ == 0)
			snprintf(c->ex_size, sizeof c->ex_size,
			    "%s (BOM %llu bytes, payload %llu)", e->path,
			    (unsigned long long)r->size, (unsigned long long)e->size);
	if (ptype == PKGFLAT_ENTRY_SYMLINK &&
	    strcmp(r->link ? r->link : "", e->link_target ? e->link_target : "")) {
		if (c->link++ == 0)
			snprintf(c->ex_link, sizeof c->ex_link,
			    "%s (BOM -> %s, payload -> %s)", e->path,
			    r->link ? r->link : "", e->link_target ? e->link_target : "");
	}
	return 0;
}

/*
 * The same cross-check in constant memory, tried first. Each side adds a
 * keyed hash of every entry's path and what check_payload() compares of it
 * to a sum; equal sums and counts mean every path is in both with the same
 * attributes (two SipHash-2-4 under a random key: a false "equal" is a
 * 2^-128 chance, and a package cannot be made to aim at it). Anything else,
 * or a case the digests cannot decide, runs the full check above, which
 * finds and names the differences: this only ever says "no difference".
 */
#define MAX_FAST_LINKS 65536

struct fast {
	uint64_t key[2][2];
	uint64_t sum[2][2];      /* [payload, BOM][hash] */
	uint64_t n[2];
	int give_up;
	int oom;
	ptrvec links;            /* the payload's hard links, sorted */
	int have_dot;
	uint32_t dot_mode, dot_uid, dot_gid;
	char dot[256];
};

/* Field by field, lengths fixed or NUL-ended: one encoding per entry. */
struct digest {
	unsigned char buf[2 * 4096 + 64];
	size_t n;
	int over;
};

static void dg_bytes(struct digest *d, const void *p, size_t n)
{
	if (d->n + n > sizeof d->buf) {
		d->over = 1;
		return;
	}
	memcpy(d->buf + d->n, p, n);
	d->n += n;
}

static void dg_u64(struct digest *d, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	dg_bytes(d, b, 8);
}

static void dg_str(struct digest *d, const char *s)
{
	dg_bytes(d, s, strlen(s) + 1);
}

static void fast_add(struct fast *f, int side, const struct digest *d)
{
	if (d->over) {
		f->give_up = 1;
		return;
	}
	f->sum[side][0] += pf_siphash(f->key[0], d->buf, d->n);
	f->sum[side][1] += pf_siphash(f->key[1], d->buf, d->n);
	f->n[side]++;
}

/* An entry as check_payload() sees it: path and type; then, unless it is
 * "." or an AppleDouble sidecar, mode, owner, a file's size (not for hard
 * links) and a symlink's target. */
static void fast_entry(struct fast *f, int side, const char *path, int type,
    int full, uint32_t mode, uint32_t uid, uint32_t gid, int with_size,
    uint64_t size, const char *link)
{
	struct digest d;

	d.n = 0;
	d.over = 0;
	dg_str(&d, path);
	dg_u64(&d, (uint64_t)type);
	if (full) {
		dg_u64(&d, mode & 07777);
		dg_u64(&d, uid);
		dg_u64(&d, gid);
		if (type == PKGFLAT_ENTRY_FILE && with_size)
			dg_u64(&d, size);
		if (type == PKGFLAT_ENTRY_SYMLINK)
			dg_str(&d, link ? link : "");
	}
	fast_add(f, side, &d);
}

static int is_link_path(const struct fast *f, const char *path)
{
	return f->links.n && bsearch(&path, f->links.v, f->links.n,
	    sizeof *f->links.v, str_ptr_cmp) != NULL;
}

static int fast_payload(const pkgflat_entry *e, void *ctx)
{
	struct fast *f = ctx;
	int type = e->type == PKGFLAT_ENTRY_HARDLINK ? PKGFLAT_ENTRY_FILE :
	    e->type;

	if (!strcmp(e->path, ".")) {
		fast_entry(f, 0, ".", type, 0, 0, 0, 0, 0, 0, NULL);
		f->have_dot = 1;
		f->dot_mode = e->mode & 07777;
		f->dot_uid = e->uid;
		f->dot_gid = e->gid;
		return 0;
	}
	if (e->type == PKGFLAT_ENTRY_HARDLINK) {
		char *p;
		if (f->links.n >= MAX_FAST_LINKS) {
			f->give_up = 1;
			return 0;
		}
		if (!(p = pf_strdup(e->path)) || pv_push(&f->links, p)) {
			free(p);
			f->oom = 1;
			return 1;
		}
	}
	/* Whether the BOM holds a "._" file as a sidecar is the BOM's to
	 * say: such files are compared by type here, and the BOM side gives
	 * up on one that is not a sidecar. */
	int sidecar = type == PKGFLAT_ENTRY_FILE &&
	    !strncmp(path_base(e->path), "._", 2);
	fast_entry(f, 0, e->path, type, !sidecar, e->mode, e->uid, e->gid,
	    e->type != PKGFLAT_ENTRY_HARDLINK, e->size, e->link_target);
	return 0;
}

static int fast_bom(const pkgflat_entry *e, void *ctx)
{
	struct fast *f = ctx;

	if (!strcmp(e->path, ".")) {
		fast_entry(f, 1, ".", e->type, 0, 0, 0, 0, 0, 0, NULL);
		if (f->have_dot && ((e->mode & 07777) != f->dot_mode ||
		    e->uid != f->dot_uid || e->gid != f->dot_gid))
			snprintf(f->dot, sizeof f->dot, "BOM %04o %u/%u, payload "
			    "%04o %u/%u", e->mode & 07777, e->uid, e->gid,
			    f->dot_mode, f->dot_uid, f->dot_gid);
		return 0;
	}
	int dotunder = e->type == PKGFLAT_ENTRY_FILE &&
	    !strncmp(path_base(e->path), "._", 2);
	int sidecar = dotunder && !e->has_crc && !e->size;
	if (dotunder && !sidecar) {
		f->give_up = 1;
		return 0;
	}
	fast_entry(f, 1, e->path, e->type, !sidecar, e->mode, e->uid, e->gid,
	    !is_link_path(f, e->path), e->size, e->link_target);
	return 0;
}

/* The payload, then the BOM, through the digests: *same when they agree
 * as check_payload() would find (and f->dot says how "." differs). */
static pkgflat_status fast_check(pkgflat_component *b, struct fast *f,
    int *same, pkgflat_error *err)
{
	pkgflat_status rc;

	*same = 0;
	if (RAND_bytes((unsigned char *)f->key, sizeof f->key) != 1)
		return PKGFLAT_OK; /* no key: the full check */
	rc = pkgflat_component_list_payload(b, fast_payload, f, &b->payload,
	    err);
	if (f->oom)
		return fail_nomem(err);
	if (rc || b->payload.unread || f->give_up)
		return rc;
	if (f->links.n)
		qsort(f->links.v, f->links.n, sizeof *f->links.v, str_ptr_cmp);
	rc = pkgflat_component_list_bom(b, fast_bom, f, &b->bom, err);
	if (rc)
		return rc;
	*same = !f->give_up && f->n[0] == f->n[1] &&
	    f->sum[0][0] == f->sum[1][0] && f->sum[0][1] == f->sum[1][1];
	return PKGFLAT_OK;
}

static pkgflat_status scan_component(pkgflat_component *b, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	struct check c = { 0 };
	struct fast f = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int full = 1;
	const char *path = b->field[PKGFLAT_F_PATH][0] ? b->field[PKGFLAT_F_PATH] :
	    b->field[PKGFLAT_F_NAME];

	if (b->has_bom && b->has_payload) {
		int same;
		if ((rc = fast_check(b, &f, &same, err)))
			goto out;
		full = !same;
	}
	if (b->has_bom && full) {
		rc = pkgflat_component_list_bom(b, collect_bom, &c, &b->bom, err);
		if (c.oom)
			rc = fail_nomem(err);
		if (rc)
			goto out;
		if (c.n)
			qsort(c.r, c.n, sizeof *c.r, rec_cmp);
	}
	if (b->has_payload) {
		if (full)
			rc = pkgflat_component_list_payload(b, b->has_bom ?
			    check_payload : NULL, &c, &b->payload, err);
		if (rc)
			goto out;
		if (b->payload.unread) {
			char up[16];
			size_t i = 0;
			for (; b->payload.compression[i] && i < sizeof up - 1; i++)
				up[i] = (char)toupper((unsigned char)
				    b->payload.compression[i]);
			up[i] = '\0';
			package_warn(pkg, "%s/Payload: %s (%s): contents not read", path,
			    b->payload.format, up);
		}
		else if (!b->payload.entries)
			package_warn(pkg, "%s: payload holds no entries at all", path);
		else if (!b->payload.has_dot_root)
			package_warn(pkg, "%s: payload does not start with \".\"", path);
	}
	b->scanned = 1;
	const char *dot = full ? c.dot : f.dot;
	if (dot[0] && b->has_bom && b->has_payload && !b->payload.unread)
		package_warn(pkg, "%s: BOM and payload describe \".\" "
		    "differently (%s); Installer keeps the install location's "
		    "own", path, dot);
	if (full && b->has_bom && b->has_payload && !b->payload.unread) {
		uint64_t only_bom = 0;
		const char *ex = NULL;
		for (size_t i = 0; i < c.n; i++)
			if (!c.r[i].seen && only_bom++ == 0)
				ex = c.r[i].path;
		if (only_bom)
			package_warn(pkg, "%s: BOM and payload disagree: %llu path(s) "
			    "only in the BOM, first %s", path,
			    (unsigned long long)only_bom, ex);
		struct {
			uint64_t n;
			const char *what, *ex;
		} d[] = {
			{ c.only_payload, "path(s) only in the payload, first", c.ex_only_payload },
			{ c.dup, "path(s) stored twice in the payload, first", c.ex_dup },
			{ c.type, "type(s) differ, first", c.ex_type },
			{ c.mode, "mode(s) differ, first", c.ex_mode },
			{ c.owner, "owner(s) differ, first", c.ex_owner },
			{ c.size, "size(s) differ, first", c.ex_size },
			{ c.link, "symlink target(s) differ, first", c.ex_link },
		};
		for (size_t i = 0; i < sizeof d / sizeof *d; i++)
			if (d[i].n)
				package_warn(pkg, "%s: BOM and payload disagree: %llu %s %s",
				    path, (unsigned long long)d[i].n, d[i].what, d[i].ex);
	}
	if (b->has_payload && !b->payload.unread && b->claimed_kbytes >= 0) {
		int64_t real = (int64_t)b->payload.install_kbytes;
		int64_t diff = b->claimed_kbytes - real;
		if (diff < 0)
			diff = -diff;
		/* Tools rounded per file or counted directories: allow slack. */
		if (diff > 16 && diff * 10 > real)
			package_warn(pkg, "%s: claims %lld KiB installed, payload "
			    "holds %lld KiB", path, (long long)b->claimed_kbytes,
			    (long long)real);
	}
out:
	pv_free(&f.links, free);
	for (size_t i = 0; i < c.n; i++) {
		free(c.r[i].path);
		free(c.r[i].link);
	}
	free(c.r);
	return rc;
}

pkgflat_status pkgflat_package_scan(pkgflat_package *pkg, pkgflat_error *err)
{
	for (size_t i = 0; i < pkg->components.n; i++) {
		pkgflat_component *b = pkg->components.v[i];
		pkgflat_status rc;
		if (b->scanned)
			continue;
		if ((rc = scan_component(b, err)))
			return rc;
	}
	return PKGFLAT_OK;
}
