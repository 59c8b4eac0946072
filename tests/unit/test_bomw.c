/*
 * BOM writer tests.
 *
 * The oracle is Apple: every real package in testdata/ whose payload is at
 * hand is read with libarchive straight from where it is checked in (the
 * flat packages' xar, the legacy zips, the ExifTool bundle), its payload
 * listed with our payload reader, each file's CRC computed from the data
 * here, and the BOM we write from that compared with the BOM Apple's tools
 * wrote for the same payload: the listing entry by entry, and the bytes.
 * The CRCs are checked against the manifests in testdata/bom/, made with
 * bsdtar and cksum(1). Synthetic entries cover what the corpus lacks.
 *
 * PKGFLAT_BOMW_VERBOSE=1 prints, per sample, which blocks differ from
 * Apple's; PKGFLAT_BOMW_DUMP=DIR writes our BOMs there.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bom_read.h"
#include "bom_write.h"
#include "cksum.h"
#include "payload.h"
#include "test.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static int verbose(void)
{
	const char *v = getenv("PKGFLAT_BOMW_VERBOSE");

	return v && *v && strcmp(v, "0");
}

static void dump(const char *name, const unsigned char *buf, size_t len)
{
	const char *dir = getenv("PKGFLAT_BOMW_DUMP");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb"))) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
}

/* Entries copied out of a walk. */
struct item {
	pkgflat_entry e;
	char *path, *target, *hardlink;
};

struct list {
	struct item *v;
	size_t n, cap;
};

static int collect(const pkgflat_entry *e, void *ctx)
{
	struct list *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if (!(l->v = realloc(l->v, l->cap * sizeof *l->v)))
			abort();
	}
	struct item *it = &l->v[l->n++];
	it->e = *e;
	it->path = strdup(e->path);
	it->target = e->link_target ? strdup(e->link_target) : NULL;
	it->hardlink = e->hardlink ? strdup(e->hardlink) : NULL;
	it->e.path = it->path;
	it->e.link_target = it->target;
	it->e.hardlink = it->hardlink;
	return 0;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].target);
		free(l->v[i].hardlink);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static pkgflat_status walk_buf(const unsigned char *buf, size_t len,
    struct list *l, pkgflat_bom_stats *stats)
{
	bom_reader *r = NULL;
	pkgflat_error err = { 0 };
	pkgflat_status st = bom_open(buf, len, "test.bom", &r, &err);

	if (st == PKGFLAT_OK)
		st = bom_walk(r, collect, l, stats, &err);
	if (st)
		fprintf(stderr, "  bom_walk: %s: %s\n", err.where, err.message);
	bom_close(r);
	return st;
}

static void add_ok(bom_writer *w, const pkgflat_entry *e)
{
	pkgflat_error err = { 0 };

	if (bomw_add(w, e, &err) != PKGFLAT_OK)
		test_fail(__FILE__, __LINE__, "bomw_add %s: %s: %s", e->path,
		    err.where, err.message);
}

static unsigned char *finish_ok(bom_writer *w, size_t *len)
{
	unsigned char *out = NULL;
	pkgflat_error err = { 0 };

	if (bomw_finish(w, &out, len, &err) != PKGFLAT_OK)
		test_fail(__FILE__, __LINE__, "bomw_finish: %s", err.message);
	return out;
}

/* The block table of a BOM: address and length of block i. */
struct blocks {
	const unsigned char *data;
	size_t len;
	uint32_t count;
	const unsigned char *table;
};

static int blocks_open(struct blocks *b, const unsigned char *d, size_t len)
{
	uint32_t ioff = get32(d + 16);

	b->data = d;
	b->len = len;
	b->count = get32(d + ioff);
	b->table = d + ioff + 4;
	return 0;
}

static const unsigned char *blk(const struct blocks *b, uint32_t i,
    uint32_t *len)
{
	*len = get32(b->table + 8 * (size_t)i + 4);
	return b->data + get32(b->table + 8 * (size_t)i);
}

/* Block of the variable `name`. */
static uint32_t var(const struct blocks *b, const char *name)
{
	const unsigned char *v = b->data + get32(b->data + 24);
	uint32_t n = get32(v);

	v += 4;
	for (uint32_t i = 0; i < n; i++) {
		if (v[4] == strlen(name) && !memcmp(v + 5, name, v[4]))
			return get32(v);
		v += 5 + v[4];
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the real packages                                          */

/* The member of an archive (zip, xar) whose name ends in `suffix`. */
static unsigned char *member(const char *archive, const char *suffix,
    size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	unsigned char *buf = NULL;
	size_t sl = strlen(suffix);

	*len = 0;
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, archive, 65536) != ARCHIVE_OK) {
		fprintf(stderr, "cannot open %s: %s\n", archive,
		    archive_error_string(a));
		exit(2);
	}
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(ent);
		size_t nl = n ? strlen(n) : 0;
		if (!n || strstr(n, "__MACOSX") || nl < sl ||
		    strcmp(n + nl - sl, suffix) ||
		    (nl > sl && n[nl - sl - 1] != '/'))
			continue;
		size_t cap = 65536;
		la_ssize_t r;
		buf = malloc(cap);
		for (;;) {
			if (*len == cap && !(buf = realloc(buf, cap *= 2)))
				abort();
			if ((r = archive_read_data(a, buf + *len, cap - *len)) <= 0)
				break;
			*len += (size_t)r;
		}
		break;
	}
	archive_read_free(a);
	if (!buf) {
		fprintf(stderr, "%s: no member %s\n", archive, suffix);
		exit(2);
	}
	return buf;
}

struct memrd {
	const unsigned char *p;
	size_t n, off;
};

static long mem_read(void *ctx, void *buf, size_t n)
{
	struct memrd *m = ctx;

	if (n > m->n - m->off)
		n = m->n - m->off;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (long)n;
}

struct crcs {
	char **path;
	uint32_t *crc;
	size_t n;
};

/* The cksum CRC of every regular file of a payload, by "./" path. */
static void payload_crcs(const unsigned char *p, size_t len, struct crcs *c)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	unsigned char buf[65536];
	size_t cap = 0;

	memset(c, 0, sizeof *c);
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_memory(a, p, len) != ARCHIVE_OK)
		abort();
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		if (archive_entry_filetype(ent) != AE_IFREG)
			continue;
		cksum_ctx ck;
		la_ssize_t r;
		cksum_init(&ck);
		while ((r = archive_read_data(a, buf, sizeof buf)) > 0)
			cksum_update(&ck, buf, (size_t)r);
		if (c->n == cap) {
			cap = cap ? cap * 2 : 64;
			c->path = realloc(c->path, cap * sizeof *c->path);
			c->crc = realloc(c->crc, cap * sizeof *c->crc);
			if (!c->path || !c->crc)
				abort();
		}
		c->path[c->n] = payload_norm_path(archive_entry_pathname(ent));
		c->crc[c->n++] = cksum_final(&ck);
	}
	archive_read_free(a);
}

static int crc_of(const struct crcs *c, const char *path, uint32_t *crc)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->path[i] && !strcmp(c->path[i], path)) {
			*crc = c->crc[i];
			return 1;
		}
	return 0;
}

static void crcs_free(struct crcs *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->path[i]);
	free(c->path);
	free(c->crc);
}

/* Our CRCs must be those bsdtar + cksum(1) gave for the manifest. */
static void crcs_match_manifest(const struct crcs *c, const char *manifest)
{
	FILE *f = fopen(manifest, "r");
	char line[2048], type[8], crc[16];
	size_t files = 0;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", manifest);
		exit(2);
	}
	while (fgets(line, sizeof line, f)) {
		unsigned mode;
		unsigned long uid, gid, size;
		long long mtime;
		int off = 0;
		uint32_t ours;
		char want[16];
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || sscanf(line, "%7s %o %lu %lu %lu %lld %15s %n",
		    type, &mode, &uid, &gid, &size, &mtime, crc, &off) != 7 ||
		    !off || strcmp(type, "file"))
			continue;
		files++;
		if (!crc_of(c, line + off, &ours)) {
			test_fail(__FILE__, __LINE__, "%s: no crc for %s",
			    manifest, line + off);
			continue;
		}
		snprintf(want, sizeof want, "%08x", ours);
		if (strcmp(want, crc))
			test_fail(__FILE__, __LINE__, "%s: %s crc %s, cksum(1) %s",
			    manifest, line + off, want, crc);
	}
	fclose(f);
	CHECK(files > 0);
	CHECK(files <= c->n);
}

/* Write a BOM from a payload, with CRCs from its data. */
static unsigned char *bom_from_payload(const unsigned char *pay, size_t plen,
    const char *manifest, size_t *len)
{
	struct memrd m = { pay, plen, 0 };
	struct list l = { 0 };
	struct crcs c;
	pkgflat_error err = { 0 };
	bom_writer *w = NULL;
	unsigned char *out = NULL;

	*len = 0;
	payload_crcs(pay, plen, &c);
	if (manifest)
		crcs_match_manifest(&c, manifest);
	if (payload_walk(mem_read, &m, "Payload", collect, &l, NULL, &err)) {
		test_fail(__FILE__, __LINE__, "payload_walk: %s", err.message);
		goto done;
	}
	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	for (size_t i = 0; i < l.n; i++) {
		pkgflat_entry e = l.v[i].e;
		/* IcebergBuilder wrote an AppleDouble file twice; the writer
		 * refuses duplicates, Apple's BOM lists the first. */
		size_t k = 0;
		while (k < i && strcmp(l.v[k].path, e.path))
			k++;
		if (k < i)
			continue;
		if (e.type == PKGFLAT_ENTRY_FILE) {
			CHECK(crc_of(&c, e.path, &e.crc));
			e.has_crc = 1;
		}
		add_ok(w, &e);
	}
	out = finish_ok(w, len);
done:
	bomw_free(w);
	list_free(&l);
	crcs_free(&c);
	return out;
}

/* ------------------------------------------------------------------ */
/* Comparing with Apple                                               */

enum { F_MODE = 1, F_UID = 2, F_GID = 4, F_SIZE = 8, F_CRC = 16,
    F_MTIME = 32,
    /* A "._" file recorded as a plain file by an old tool, as a sidecar
     * (owner's mode, the rest zero) by us and pkgbuild. */
    F_SIDECAR = F_MODE | F_UID | F_GID | F_SIZE | F_CRC | F_MTIME };

struct quirk {
	const char *path;
	unsigned fields; /* F_* that may differ */
};

static unsigned quirk_fields(const struct quirk *q, const char *path)
{
	for (; q && q->path; q++)
		if (!strcmp(q->path, path))
			return q->fields;
	return 0;
}

/*
 * The listing of our BOM must be Apple's, in the same order, field for
 * field, but for the quirks. Returns the number of entries.
 */
static size_t same_listing(const char *name, const unsigned char *apple,
    size_t alen, const unsigned char *ours, size_t olen,
    const struct quirk *quirks)
{
	struct list a = { 0 }, o = { 0 };
	pkgflat_bom_stats as, os;
	size_t n;

	CHECK_EQ_INT(walk_buf(apple, alen, &a, &as), PKGFLAT_OK);
	CHECK_EQ_INT(walk_buf(ours, olen, &o, &os), PKGFLAT_OK);
	CHECK_EQ_INT(o.n, a.n);
	CHECK_EQ_INT(os.paths, as.paths);
	CHECK_EQ_INT(os.info_paths, as.info_paths);
	CHECK_EQ_INT(os.hardlink_sets, as.hardlink_sets);
	CHECK_EQ_INT(os.size64_entries, as.size64_entries);
	CHECK_EQ_INT(os.vindex_entries, as.vindex_entries);
	n = a.n < o.n ? a.n : o.n;
	for (size_t i = 0; i < n; i++) {
		const pkgflat_entry *x = &a.v[i].e, *y = &o.v[i].e;
		unsigned skip = quirk_fields(quirks, x->path);
		if (strcmp(x->path, y->path)) {
			test_fail(__FILE__, __LINE__, "%s: entry %zu is %s, "
			    "Apple has %s", name, i, y->path, x->path);
			break;
		}
#define SAME(flag, field)                                                 \
	do {                                                              \
		if (!(skip & (flag)) && x->field != y->field)             \
			test_fail(__FILE__, __LINE__,                     \
			    "%s %s: " #field " %llu, Apple %llu", name,   \
			    x->path, (unsigned long long)y->field,        \
			    (unsigned long long)x->field);                \
	} while (0)
		SAME(0, type);
		SAME(F_MODE, mode);
		SAME(F_UID, uid);
		SAME(F_GID, gid);
		SAME(F_SIZE, size);
		SAME(F_MTIME, mtime);
		SAME(F_CRC, has_crc);
		SAME(F_CRC, crc);
		SAME(0, rdev);
#undef SAME
		if ((x->link_target || y->link_target) &&
		    (!x->link_target || !y->link_target ||
		    strcmp(x->link_target, y->link_target)))
			test_fail(__FILE__, __LINE__, "%s %s: link target differs",
			    name, x->path);
	}
	list_free(&a);
	list_free(&o);
	return n;
}

/* How a block of ours compares with Apple's block of the same index. */
enum { B_SAME, B_MOVED, B_DIFFER, B_OURS, B_APPLE };

static int block_class(const struct blocks *a, const struct blocks *o,
    uint32_t i)
{
	uint32_t al = 0, ol = 0;
	const unsigned char *ap = i < a->count ? blk(a, i, &al) : NULL;
	const unsigned char *op = i < o->count ? blk(o, i, &ol) : NULL;

	if (!al && !ol)
		return B_SAME;
	if (!al)
		return B_OURS;
	if (!ol)
		return B_APPLE;
	if (al != ol || memcmp(ap, op, al))
		return B_DIFFER;
	return ap - a->data == op - o->data ? B_SAME : B_MOVED;
}

/* How many bytes differ; with PKGFLAT_BOMW_VERBOSE, which blocks. */
static size_t byte_diff(const char *name, const unsigned char *apple,
    size_t alen, const unsigned char *ours, size_t olen)
{
	static const char *const what[] = { "same", "same, elsewhere",
	    "differ", "ours only", "Apple's only" };
	size_t n = alen < olen ? alen : olen, diff = alen > olen ? alen - olen :
	    olen - alen;
	uint32_t count[5] = { 0 }, runs = 0;
	struct blocks a, o;

	for (size_t i = 0; i < n; i++)
		diff += apple[i] != ours[i];
	blocks_open(&a, apple, alen);
	blocks_open(&o, ours, olen);
	uint32_t nb = get32(apple + 12) > get32(ours + 12) ?
	    get32(apple + 12) : get32(ours + 12);
	for (uint32_t i = 1; i <= nb; ) {
		int c = block_class(&a, &o, i);
		uint32_t j = i;
		while (j + 1 <= nb && block_class(&a, &o, j + 1) == c)
			j++;
		count[c] += j - i + 1;
		if (verbose() && c >= B_DIFFER && runs++ < 6)
			printf("  %s: blocks %u-%u: %s\n", name, i, j, what[c]);
		i = j + 1;
	}
	if (verbose() && runs > 6)
		printf("  %s: ... %u more runs of blocks that differ\n", name,
		    runs - 6);
	if (verbose())
		printf("  %s: %zu of %zu bytes differ (ours %zu); blocks: %u "
		    "same, %u same elsewhere, %u differ, %u ours only, %u "
		    "Apple's only\n", name, diff, alen, olen, count[B_SAME],
		    count[B_MOVED], count[B_DIFFER], count[B_OURS],
		    count[B_APPLE]);
	return diff;
}

struct sample {
	const char *name;
	const char *archive;  /* zip or xar, or NULL for a directory */
	const char *bom, *payload; /* member suffixes, or file paths */
	const char *manifest;
	struct quirk quirks[4];
};

static const struct sample samples[] = {
	{ "installomator", "testdata/flat/Installomator-0.5.pkg",
	    "Installomator.pkg/Bom", "Installomator.pkg/Payload",
	    "testdata/bom/installomator.manifest", { { NULL, 0 } } },
	{ "joyent", "testdata/flat/Install Joyent Pkgsrc.pkg", "Bom", "Payload",
	    NULL, { { NULL, 0 } } },
	{ "exiftool", NULL,
	    "testdata/legacy/ExifTool-9.47.pkg/Contents/Archive.bom",
	    "testdata/legacy/ExifTool-9.47.pkg/Contents/Archive.pax.gz",
	    "testdata/bom/exiftool.manifest", { { NULL, 0 } } },
	/* Apple's BOM has the gid of the file the package was built from;
	 * the odc header could only hold its low 16 bits. */
	{ "first-boot", "testdata/legacy/zips/First_Boot_Package_Install.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz",
	    "testdata/bom/first-boot.manifest",
	    { { "./Library/LaunchAgents/com.company.LoginLog.plist", F_GID },
	    { NULL, 0 } } },
	/* IcebergBuilder recorded the "._" file as a plain file; we record
	 * it as pkgbuild does its sidecars. Its payloads hold it twice. */
	{ "keychain-minder-1.3", "testdata/legacy/zips/Keychain_Minder_1_3.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz", NULL,
	    { { "./Applications/Utilities/Keychain Minder/._Keychain Minder "
	    "Read Me.rtf", F_SIDECAR }, { NULL, 0 } } },
	{ "keychain-minder-1.5", "testdata/legacy/zips/Keychain_Minder_1_5.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz",
	    "testdata/bom/keychain-minder-1.5.manifest",
	    { { "./Applications/Utilities/Keychain Minder/._Keychain Minder "
	    "Read Me.rtf", F_SIDECAR }, { NULL, 0 } } },
	{ "office-2011-fix", "testdata/legacy/zips/"
	    "Office_2011_SP_2_World-Writable_Permissions_Fix.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz", NULL,
	    { { NULL, 0 } } },
	/* The builder's uid 222214203: odc kept its low 16 bits. */
	{ "reset-font-caches", "testdata/legacy/zips/"
	    "Reset_User_and_System_Font_Caches.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz", NULL,
	    { { ".", F_UID }, { NULL, 0 } } },
	{ "retrospect-uninstaller", "testdata/legacy/zips/"
	    "Retrospect_Client_Uninstaller.zip",
	    "Contents/Archive.bom", "Contents/Archive.pax.gz", NULL,
	    { { NULL, 0 } } },
};

/* Build our BOM for a sample; compare; return the bytes that differ. */
static size_t against_apple(const struct sample *s, unsigned char **apple,
    size_t *alen, unsigned char **ours, size_t *olen)
{
	unsigned char *pay;
	size_t plen;

	if (s->archive) {
		*apple = member(s->archive, s->bom, alen);
		pay = member(s->archive, s->payload, &plen);
	} else {
		*apple = test_slurp(s->bom, alen);
		pay = test_slurp(s->payload, &plen);
	}
	*ours = bom_from_payload(pay, plen, s->manifest, olen);
	free(pay);
	if (!*ours)
		return SIZE_MAX;
	char dn[256];
	snprintf(dn, sizeof dn, "%s.bom", s->name);
	dump(dn, *ours, *olen);
	CHECK(same_listing(s->name, *apple, *alen, *ours, *olen, s->quirks) > 0);
	return byte_diff(s->name, *apple, *alen, *ours, *olen);
}

TEST(bomw_installomator_byte_identical)
{
	unsigned char *a, *o;
	size_t al, ol;

	CHECK_EQ_INT(against_apple(&samples[0], &a, &al, &o, &ol), 0);
	CHECK_EQ_INT(ol, al);
	CHECK(o && ol == al && !memcmp(a, o, al));
	free(a);
	free(o);
}

/*
 * Built in 2015 on HFS+: the empty root's size is 68, 34 * (0 + 2), where
 * APFS (and we) say 64; and that pkgbuild counted it in the BomInfo
 * total, where the 2020 one counts files only, as we do. Nothing else.
 */
TEST(bomw_joyent_differs_only_in_root_size)
{
	unsigned char *a, *o;
	size_t al, ol;
	struct blocks b;
	uint32_t len;

	CHECK_EQ_INT(against_apple(&samples[1], &a, &al, &o, &ol), 2);
	CHECK_EQ_INT(ol, al);
	if (!o || ol != al)
		goto done;
	blocks_open(&b, a, al);
	const unsigned char *info = blk(&b, 1, &len);
	const unsigned char *rec = blk(&b, 11, &len);
	size_t at_info = (size_t)(info - a) + 20, at_rec = (size_t)(rec - a) + 18;
	CHECK_EQ_INT(len, 31);
	CHECK_EQ_INT(get32(info + 20), 68);
	CHECK_EQ_INT(get32(rec + 18), 68);
	CHECK_EQ_INT(get32(o + at_info), 0);
	CHECK_EQ_INT(get32(o + at_rec), 64);
	memcpy(o + at_info, a + at_info, 4);
	memcpy(o + at_rec, a + at_rec, 4);
	CHECK(!memcmp(a, o, al));
done:
	free(a);
	free(o);
}

/* The older BOMs: same listing; how the bytes differ is documented in
 * bom_write.c and printed with PKGFLAT_BOMW_VERBOSE=1. */
TEST(bomw_older_apple_boms_same_listing)
{
	for (size_t i = 2; i < sizeof samples / sizeof *samples; i++) {
		unsigned char *a, *o;
		size_t al, ol;
		size_t d = against_apple(&samples[i], &a, &al, &o, &ol);
		CHECK(d != SIZE_MAX);
		/* Old 23/27-byte records, no HLIndex leftovers: never equal,
		 * but the common start (template) is. */
		CHECK(d > 0);
		CHECK(o && !memcmp(a + 32, o + 32, 480));
		CHECK(o && !memcmp(a + 4662, o + 4662, 21 + 21));
		free(a);
		free(o);
	}
}

/* ------------------------------------------------------------------ */
/* Round trip                                                         */

static const char big_target[] = "../../Versions/Current/Frameworks/X.framework";

TEST(bomw_round_trip_every_field)
{
	static const struct {
		const char *path;
		int type;
		uint32_t mode, uid, gid;
		int64_t mtime;
		uint64_t size;
		uint32_t crc, rdev;
		const char *target, *hardlink;
	} in[] = {
		{ ".", PKGFLAT_ENTRY_DIR, 041775, 0, 80, 1506710284, 0, 0, 0,
		    NULL, NULL },
		{ "./zeta", PKGFLAT_ENTRY_DIR, 040700, 501, 20, 100, 0, 0, 0,
		    NULL, NULL },
		{ "./zeta/b.txt", PKGFLAT_ENTRY_FILE, 0100644, 0, 0,
		    1700000000, 12, 0x12345678, 0, NULL, NULL },
		{ "./zeta/._b.txt", PKGFLAT_ENTRY_FILE, 0100644, 0, 0,
		    1700000000, 227, 0x5ea7da2f, 0, NULL, NULL },
		{ "./zeta/a.txt", PKGFLAT_ENTRY_HARDLINK, 0100644, 0, 0,
		    1700000001, 0, 0, 0, NULL, "./zeta/b.txt" },
		{ "./Alpha", PKGFLAT_ENTRY_SYMLINK, 0120755, 0, 0, 5, 0, 0, 0,
		    big_target, NULL },
		{ "./dev", PKGFLAT_ENTRY_DIR, 040755, 0, 0, 6, 0, 0, 0, NULL,
		    NULL },
		{ "./dev/null", PKGFLAT_ENTRY_DEVICE, 020666, 0, 5, 7, 0, 0,
		    0x03000002, NULL, NULL },
		{ "./dev/fifo", PKGFLAT_ENTRY_FIFO, 010600, 0, 0, 8, 0, 0, 0,
		    NULL, NULL },
		{ "./dev/sock", PKGFLAT_ENTRY_SOCKET, 0140755, 0, 0, 9, 0, 0,
		    0, NULL, NULL },
		{ "./big.img", PKGFLAT_ENTRY_FILE, 0100600, 4294967294u,
		    4294967295u, 4294967295LL, (5ULL << 32) + 17, 0xdeadbeef,
		    0, NULL, NULL },
		{ "./empty", PKGFLAT_ENTRY_FILE, 04755, 0, 0, 0, 0, 0xffffffff,
		    0, NULL, NULL },
		{ "./\xc3\xa9t\xc3\xa9", PKGFLAT_ENTRY_FILE, 0100444, 0, 0, 10,
		    3, 0x1, 0, NULL, NULL },
		{ "./zeta/c", PKGFLAT_ENTRY_HARDLINK, 0100644, 0, 0, 11, 0, 0,
		    0, NULL, "./zeta/a.txt" },
	};
	/* Paths order: parent id, then name bytes. */
	static const char *const order[] = {
		".", "./Alpha", "./big.img", "./dev", "./empty", "./zeta",
		"./\xc3\xa9t\xc3\xa9", "./zeta/._b.txt", "./zeta/a.txt",
		"./zeta/b.txt", "./zeta/c", "./dev/fifo", "./dev/null",
		"./dev/sock",
	};
	const size_t n = sizeof in / sizeof *in;
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	struct list l = { 0 };
	pkgflat_bom_stats st;
	unsigned char *out;
	size_t len;

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	for (size_t i = 0; i < n; i++) {
		pkgflat_entry e = { 0 };
		e.path = in[i].path;
		e.type = in[i].type;
		e.mode = in[i].mode;
		e.uid = in[i].uid;
		e.gid = in[i].gid;
		e.mtime = in[i].mtime;
		e.size = in[i].size;
		e.crc = in[i].crc;
		e.has_crc = e.type == PKGFLAT_ENTRY_FILE;
		e.rdev = in[i].rdev;
		e.link_target = in[i].target;
		e.hardlink = in[i].hardlink;
		add_ok(w, &e);
	}
	out = finish_ok(w, &len);
	bomw_free(w);
	if (!out)
		return;
	dump("round-trip.bom", out, len);
	CHECK_EQ_INT(walk_buf(out, len, &l, &st), PKGFLAT_OK);
	CHECK_EQ_INT(l.n, n);
	CHECK_EQ_INT(st.paths, n);
	CHECK_EQ_INT(st.info_paths, n + 1);
	CHECK_EQ_INT(st.hardlink_sets, 1);
	CHECK_EQ_INT(st.size64_entries, 1);
	CHECK_EQ_INT(st.vindex_entries, 0);
	for (size_t k = 0; k < l.n && k < n; k++)
		CHECK_EQ_STR(l.v[k].path, order[k]);
	for (size_t i = 0; i < n; i++) {
		const pkgflat_entry *e = NULL;
		for (size_t k = 0; k < l.n; k++)
			if (!strcmp(l.v[k].path, in[i].path))
				e = &l.v[k].e;
		if (!e) {
			test_fail(__FILE__, __LINE__, "%s missing", in[i].path);
			continue;
		}
		int type = in[i].type == PKGFLAT_ENTRY_HARDLINK ?
		    PKGFLAT_ENTRY_FILE : in[i].type;
		int sidecar = !strcmp(in[i].path, "./zeta/._b.txt");
		CHECK_EQ_INT(e->type, type);
		if (sidecar) {
			/* pkgbuild's AppleDouble record: b.txt's mode, the
			 * rest zero, no checksum. */
			CHECK_EQ_INT(e->mode, 0100644);
			CHECK_EQ_INT(e->size, 0);
			CHECK_EQ_INT(e->mtime, 0);
			CHECK(!e->has_crc);
			continue;
		}
		/* Type bits added where the caller left them out. */
		CHECK_EQ_INT(e->mode, in[i].mode & 0170000 ? in[i].mode :
		    in[i].mode | 0100000);
		CHECK_EQ_INT(e->uid, in[i].uid);
		CHECK_EQ_INT(e->gid, in[i].gid);
		CHECK_EQ_INT(e->mtime, in[i].mtime);
		CHECK_EQ_INT(e->rdev, in[i].rdev);
		if (type == PKGFLAT_ENTRY_FILE) {
			CHECK(e->has_crc);
			if (in[i].hardlink) { /* b.txt's data */
				CHECK_EQ_INT(e->size, 12);
				CHECK_EQ_INT(e->crc, 0x12345678);
			} else {
				CHECK_EQ_INT(e->size, in[i].size);
				CHECK_EQ_INT(e->crc, in[i].crc);
			}
		}
		if (in[i].target)
			CHECK_EQ_STR(e->link_target, in[i].target);
		else
			CHECK(!e->link_target);
	}
	list_free(&l);

	/* What the reader does not show: the records themselves. */
	struct blocks b;
	uint32_t rl;
	blocks_open(&b, out, len);
	const unsigned char *info = blk(&b, var(&b, "BomInfo"), &rl);
	CHECK_EQ_INT(rl, 28);
	CHECK_EQ_INT(get32(info + 8), 1);
	/* Files (b.txt three times, the sidecar not at all) and the
	 * symlink's target, modulo 2^32. */
	CHECK_EQ_INT(get32(info + 20), (uint32_t)(3 * 12 + (5ULL << 32) + 17 +
	    0 + 3 + strlen(big_target)));
	/* Symlink: size and CRC of the target, its length with the NUL. */
	size_t tl = strlen(big_target);
	unsigned char sym[40 + sizeof big_target];
	memset(sym, 0, sizeof sym);
	memcpy(sym, "\3\1\0\x0f\xa1\xed\0\0\0\0\0\0\0\0\0\0\0\5", 18);
	sym[21] = (unsigned char)tl;
	sym[22] = 1;
	uint32_t c = cksum_buf(big_target, tl);
	sym[23] = (unsigned char)(c >> 24);
	sym[24] = (unsigned char)(c >> 16);
	sym[25] = (unsigned char)(c >> 8);
	sym[26] = (unsigned char)c;
	sym[30] = (unsigned char)(tl + 1);
	memcpy(sym + 31, big_target, tl);
	CHECK(memmem(out, len, sym, 40 + tl) != NULL);
	/* Directories: 32 * (children + 2), sidecars not counted. */
	static const unsigned char zeta[] = "\2\1\0\x0f\x41\xc0\0\0\x01\xf5"
	    "\0\0\0\x14\0\0\0\x64\0\0\0\xa0\1\0\0\0\0\0\0\0\0";
	CHECK(memmem(out, len, zeta, 31) != NULL);
	/* The 4 GiB file: low 32 bits in the record. */
	static const unsigned char bigrec[] = "\1\1\0\x0f\x81\x80\xff\xff\xff"
	    "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\x11\1\xde\xad\xbe\xef"
	    "\0\0\0\0\0\0\0\0";
	CHECK(memmem(out, len, bigrec, 35) != NULL);
	free(out);
}

/* ------------------------------------------------------------------ */
/* Big trees                                                          */

struct tree_shape {
	uint32_t depth, leaves, branches, entries;
};

/* Walk the Paths tree level by level: links, counts, depth. */
static void tree_shape(const unsigned char *out, size_t len,
    struct tree_shape *sh)
{
	struct blocks b;
	uint32_t l, first;

	memset(sh, 0, sizeof *sh);
	blocks_open(&b, out, len);
	const unsigned char *t = blk(&b, var(&b, "Paths"), &l);
	CHECK_EQ_INT(get32(t + 12), 4096);
	first = get32(t + 8);
	for (;;) {
		const unsigned char *p = blk(&b, first, &l);
		int leaf = p[1];
		uint32_t prev = 0, nodes = 0;
		CHECK_EQ_INT(l, 4096);
		sh->depth++;
		for (uint32_t i = first; i; ) {
			p = blk(&b, i, &l);
			CHECK_EQ_INT(p[1], leaf);
			CHECK_EQ_INT(get32(p + 8), prev);
			CHECK((get32(p) & 0xffff) <= 510 &&
			    (get32(p) & 0xffff) > 0);
			if (leaf)
				sh->entries += get32(p) & 0xffff;
			nodes++;
			prev = i;
			i = get32(p + 4);
		}
		if (leaf) {
			sh->leaves = nodes;
			break;
		}
		sh->branches += nodes;
		first = get32(blk(&b, first, &l) + 12);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(bomw_500000_flat_entries)
{
	const uint32_t n = 500000;
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	pkgflat_entry e = { .path = ".", .type = PKGFLAT_ENTRY_DIR,
	    .mode = 040755 };
	struct list l = { 0 };
	pkgflat_bom_stats st;
	struct tree_shape sh;
	char **names = malloc(n * sizeof *names);
	unsigned char *out;
	size_t len;
	clock_t t0 = clock();

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	add_ok(w, &e);
	e.type = PKGFLAT_ENTRY_FILE;
	e.mode = 0100644;
	e.has_crc = 1;
	for (uint32_t i = 0; i < n; i++) {
		char p[32];
		/* Not added in name order: the writer sorts. */
		snprintf(p, sizeof p, "./f%07u", (i * 7919u) % n);
		names[i] = strdup(p);
		e.path = p;
		e.size = i;
		e.crc = i * 2654435761u;
		if (bomw_add(w, &e, &err)) {
			test_fail(__FILE__, __LINE__, "%s: %s", p, err.message);
			break;
		}
	}
	out = finish_ok(w, &len);
	bomw_free(w);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(out != NULL);
	if (out) {
		CHECK_EQ_INT(walk_buf(out, len, &l, &st), PKGFLAT_OK);
		CHECK_EQ_INT(l.n, n + 1);
		CHECK_EQ_INT(st.info_paths, n + 2);
		qsort(names, n, sizeof *names, by_name);
		CHECK_EQ_STR(l.v[0].path, ".");
		for (uint32_t i = 0; i < n && i + 1 < l.n; i++)
			if (strcmp(l.v[i + 1].path, names[i])) {
				test_fail(__FILE__, __LINE__, "entry %u is %s, "
				    "want %s", i + 1, l.v[i + 1].path, names[i]);
				break;
			}
		tree_shape(out, len, &sh);
		/* 500,001 entries: 981 full leaves, 2 branches, a root. */
		CHECK_EQ_INT(sh.entries, n + 1);
		CHECK_EQ_INT(sh.leaves, (n + 1 + 509) / 510);
		CHECK_EQ_INT(sh.depth, 3);
		CHECK_EQ_INT(sh.branches, 3);
	}
	if (verbose())
		printf("  500,000 entries: %.2f s to write, %zu bytes\n", secs,
		    len);
	CHECK(secs < 20);
	for (uint32_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	list_free(&l);
	free(out);
}

/* Expected Paths order for the deep tree: (parent id, name). */
struct dent {
	char *path;
	uint32_t parent_id;
	const char *name;
};

static int dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	if (x->parent_id != y->parent_id)
		return x->parent_id < y->parent_id ? -1 : 1;
	return strcmp(x->name, y->name);
}

TEST(bomw_100000_deep_and_wide_entries)
{
	/* 101 top directories, each a chain 12 deep, each level holding 80
	 * files, a symlink and the next level: 1 + 101 * (1 + 12 * 82) =
	 * 99,486 paths, and 600 more files at the top: 100,086. Added
	 * depth first, siblings out of name order. */
	const uint32_t tops = 101, depth = 12, files = 80, extra = 600;
	uint32_t cap = 1 + tops * (1 + depth * (2 + files)) + extra;
	struct dent *d = calloc(cap, sizeof *d);
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	struct list l = { 0 };
	pkgflat_bom_stats st;
	struct tree_shape sh;
	uint32_t n = 0;
	unsigned char *out;
	size_t len;
	clock_t t0 = clock();
	char p[512];

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
#define ADD(type_, parent_)                                               \
	do {                                                              \
		pkgflat_entry e_ = { .path = p, .type = (type_),          \
		    .mode = (type_) == PKGFLAT_ENTRY_DIR ? 040755 : 0100644, \
		    .link_target = "target", .has_crc = 1, .size = n };   \
		add_ok(w, &e_);                                           \
		d[n].path = strdup(p);                                    \
		d[n].parent_id = (parent_);                               \
		d[n].name = strrchr(d[n].path, '/') ?                     \
		    strrchr(d[n].path, '/') + 1 : d[n].path;              \
		n++;                                                      \
	} while (0)
	strcpy(p, ".");
	ADD(PKGFLAT_ENTRY_DIR, 0);
	for (uint32_t t = 0; t < tops; t++) {
		uint32_t parent = 1;
		snprintf(p, sizeof p, "./top%03u", (t * 37) % tops);
		ADD(PKGFLAT_ENTRY_DIR, parent);
		parent = n;
		for (uint32_t k = 0; k < depth; k++) {
			size_t base = strlen(p);
			for (uint32_t f = 0; f < files; f++) {
				snprintf(p + base, sizeof p - base, "/f%02u.txt",
				    (f * 13) % files);
				ADD(PKGFLAT_ENTRY_FILE, parent);
			}
			snprintf(p + base, sizeof p - base, "/Link");
			ADD(PKGFLAT_ENTRY_SYMLINK, parent);
			snprintf(p + base, sizeof p - base, "/level%02u", k);
			ADD(PKGFLAT_ENTRY_DIR, parent);
			parent = n;
		}
	}
	for (uint32_t x = 0; x < extra; x++) {
		snprintf(p, sizeof p, "./z%04u", x);
		ADD(PKGFLAT_ENTRY_FILE, 1);
	}
#undef ADD
	CHECK(n >= 100000);
	out = finish_ok(w, &len);
	bomw_free(w);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	qsort(d, n, sizeof *d, dent_cmp);
	if (out) {
		CHECK_EQ_INT(walk_buf(out, len, &l, &st), PKGFLAT_OK);
		CHECK_EQ_INT(l.n, n);
		for (uint32_t i = 0; i < n && i < l.n; i++)
			if (strcmp(l.v[i].path, d[i].path)) {
				test_fail(__FILE__, __LINE__, "entry %u is %s, "
				    "want %s", i, l.v[i].path, d[i].path);
				break;
			}
		tree_shape(out, len, &sh);
		CHECK_EQ_INT(sh.entries, n);
		CHECK_EQ_INT(sh.depth, 2);
		CHECK_EQ_INT(sh.branches, 1);
		CHECK_EQ_INT(sh.leaves, (n + 509) / 510);
	}
	if (verbose())
		printf("  %u deep and wide entries: %.2f s\n", n, secs);
	CHECK(secs < 20);
	for (uint32_t i = 0; i < n; i++)
		free(d[i].path);
	free(d);
	list_free(&l);
	free(out);
}

/* Hard-link sets past one leaf, and the HLIndex entry of each. */
TEST(bomw_hardlink_sets_and_size64_need_branches)
{
	const uint32_t sets = 700;
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	pkgflat_entry e = { .path = ".", .type = PKGFLAT_ENTRY_DIR,
	    .mode = 040755 };
	struct list l = { 0 };
	pkgflat_bom_stats st;
	unsigned char *out;
	size_t len;
	char p[64], q[64];

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	add_ok(w, &e);
	for (uint32_t i = 0; i < sets; i++) {
		pkgflat_entry f = { .path = p, .type = PKGFLAT_ENTRY_FILE,
		    .mode = 0100644, .size = (6ULL << 30) + i, .crc = i,
		    .has_crc = 1 };
		snprintf(p, sizeof p, "./d%04u", i);
		add_ok(w, &f);
		snprintf(q, sizeof q, "./e%04u", i);
		f.path = q;
		f.type = PKGFLAT_ENTRY_HARDLINK;
		f.hardlink = p;
		f.size = 0;
		add_ok(w, &f);
	}
	out = finish_ok(w, &len);
	bomw_free(w);
	if (!out)
		return;
	CHECK_EQ_INT(walk_buf(out, len, &l, &st), PKGFLAT_OK);
	CHECK_EQ_INT(st.hardlink_sets, sets);
	CHECK_EQ_INT(st.size64_entries, 2 * sets);
	for (size_t i = 1; i < l.n; i++) {
		uint32_t k = (uint32_t)atoi(l.v[i].path + 3);
		CHECK_EQ_INT(l.v[i].e.size, (6ULL << 30) + k);
		CHECK_EQ_INT(l.v[i].e.crc, k);
	}
	/* Both trees grew a branch root. */
	struct blocks b;
	uint32_t bl;
	blocks_open(&b, out, len);
	const char *const vars[] = { "HLIndex", "Size64" };
	const uint32_t kids[] = { 2, 3 }; /* 700 and 1,400 entries */
	for (int v = 0; v < 2; v++) {
		const unsigned char *t = blk(&b, var(&b, vars[v]), &bl);
		const unsigned char *root = blk(&b, get32(t + 8), &bl);
		CHECK_EQ_INT(root[1], 0);
		CHECK_EQ_INT(get32(root) & 0xffff, kids[v]);
	}
	list_free(&l);
	free(out);
}

/* ------------------------------------------------------------------ */
/* Errors                                                             */

static void expect_error(bom_writer *w, const char *path, int type,
    const char *hardlink, pkgflat_status want, const char *msg,
    const char *where)
{
	pkgflat_entry e = { .path = path, .type = type, .mode = 0100644,
	    .hardlink = hardlink, .link_target = "t" };
	pkgflat_error err = { 0 };
	pkgflat_status st = bomw_add(w, &e, &err);

	if (st != want || !strstr(err.message, msg) ||
	    (where && strcmp(err.where, where)))
		test_fail(__FILE__, __LINE__, "%s: status %d, where \"%s\", "
		    "message \"%s\"; want %d at \"%s\" saying \"%s\"",
		    path ? path : "(null)", (int)st, err.where, err.message,
		    (int)want, where ? where : "*", msg);
	CHECK_EQ_INT(err.status, want);
}

TEST(bomw_errors)
{
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	unsigned char *out = (unsigned char *)"x";
	size_t len = 1;
	const int F = PKGFLAT_ENTRY_FILE, D = PKGFLAT_ENTRY_DIR;

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	CHECK_EQ_INT(bomw_finish(w, &out, &len, &err), PKGFLAT_E_USAGE);
	CHECK(out == NULL && len == 0);
	CHECK(strstr(err.message, "nothing added") != NULL);

	expect_error(w, "./a", F, NULL, PKGFLAT_E_FORMAT,
	    "parent . of ./a was not added before it", "entry 1");
	expect_error(w, ".", F, NULL, PKGFLAT_E_FORMAT,
	    "the root . is not a directory", "entry 1");
	pkgflat_entry root = { .path = ".", .type = D, .mode = 040755 };
	add_ok(w, &root);
	expect_error(w, ".", D, NULL, PKGFLAT_E_FORMAT, "duplicate path .",
	    "entry 2");
	static const char *const bad[] = { "", "a", "/a", "./", "./a/",
	    "./a//b", "./a/./b", "./a/../b", "./..", "..", "./.", ".//a" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char want[64];
		snprintf(want, sizeof want, "bad path \"%s\"", bad[i]);
		expect_error(w, bad[i], F, NULL, PKGFLAT_E_USAGE, want,
		    "entry 2");
	}
	expect_error(w, NULL, F, NULL, PKGFLAT_E_USAGE, "no writer", NULL);
	expect_error(w, "./x", 99, NULL, PKGFLAT_E_USAGE,
	    "./x: unknown entry type 99", "entry 2");
	expect_error(w, "./a/b/c", F, NULL, PKGFLAT_E_FORMAT,
	    "parent ./a of ./a/b/c was not added before it", "entry 2");

	pkgflat_entry a = { .path = "./a", .type = D, .mode = 040755 };
	pkgflat_entry f = { .path = "./a/f", .type = F, .mode = 0100644,
	    .size = 3, .crc = 7, .has_crc = 1 };
	add_ok(w, &a);
	add_ok(w, &f);
	expect_error(w, "./a", D, NULL, PKGFLAT_E_FORMAT,
	    "duplicate path ./a", "entry 4");
	expect_error(w, "./a/f", F, NULL, PKGFLAT_E_FORMAT,
	    "duplicate path ./a/f", "entry 4");
	expect_error(w, "./a/f/g", F, NULL, PKGFLAT_E_FORMAT,
	    "parent ./a/f of ./a/f/g is not a directory", "entry 4");
	expect_error(w, "./a/f/g/h", F, NULL, PKGFLAT_E_FORMAT,
	    "parent ./a/f of ./a/f/g/h is not a directory", "entry 4");
	expect_error(w, "./a/b/c", F, NULL, PKGFLAT_E_FORMAT,
	    "parent ./a/b of ./a/b/c was not added before it", "entry 4");
	expect_error(w, "./h", PKGFLAT_ENTRY_HARDLINK, "./nope",
	    PKGFLAT_E_FORMAT, "hard link ./h names ./nope, which was not "
	    "added before it", "entry 4");
	expect_error(w, "./h", PKGFLAT_ENTRY_HARDLINK, "./a",
	    PKGFLAT_E_FORMAT, "hard link ./h names ./a, which is not a "
	    "regular file", "entry 4");
	expect_error(w, "./h", PKGFLAT_ENTRY_HARDLINK, NULL,
	    PKGFLAT_E_USAGE, "hard link ./h names no valid path", "entry 4");
	pkgflat_entry s = { .path = "./s", .type = PKGFLAT_ENTRY_SYMLINK };
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(bomw_add(w, &s, &err), PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "symlink ./s has no target") != NULL);

	/* The failures left the writer as it was. */
	out = finish_ok(w, &len);
	if (out) {
		struct list l = { 0 };
		CHECK_EQ_INT(walk_buf(out, len, &l, NULL), PKGFLAT_OK);
		CHECK_EQ_INT(l.n, 3);
		if (l.n == 3) {
			CHECK_EQ_STR(l.v[2].path, "./a/f");
			CHECK_EQ_INT(l.v[2].e.crc, 7);
		}
		list_free(&l);
	}
	free(out);
	bomw_free(w);
	bomw_free(NULL);
	CHECK_EQ_INT(bomw_new(NULL, &err), PKGFLAT_E_USAGE);
}

/* Finishing twice gives the same bytes. */
TEST(bomw_finish_is_repeatable)
{
	bom_writer *w = NULL;
	pkgflat_error err = { 0 };
	pkgflat_entry e[] = {
		{ .path = ".", .type = PKGFLAT_ENTRY_DIR, .mode = 040755 },
		{ .path = "./b", .type = PKGFLAT_ENTRY_FILE, .mode = 0100644 },
		{ .path = "./._b", .type = PKGFLAT_ENTRY_FILE, .mode = 0100644,
		    .size = 9 },
	};
	unsigned char *x, *y;
	size_t xl, yl;

	CHECK_EQ_INT(bomw_new(&w, &err), PKGFLAT_OK);
	for (size_t i = 0; i < 3; i++)
		add_ok(w, &e[i]);
	x = finish_ok(w, &xl);
	y = finish_ok(w, &yl);
	CHECK(x && y && xl == yl && !memcmp(x, y, xl));
	free(x);
	free(y);
	bomw_free(w);
}
