/*
 * BOM reader tests. Real BOMs from the corpus are checked against manifests
 * made from their payloads with bsdtar and cksum(1) (testdata/bom/README.md),
 * never against this reader's own output. Malformed inputs are real BOMs
 * with bytes patched here; synthetic BOMs cover what the corpus lacks
 * (symlinks, devices, Size64, HLIndex, branch nodes, 100,000 paths).
 *
 * With PKGFLAT_BOM_SEED_DIR set, every buffer built here is also written to
 * that directory: that is how tests/fuzz/corpus/bom/ was seeded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* By path: the Makefile builds unit tests with -Iinclude only. */
#include "bom_read.h"
#include "test.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void seed_save(const char *name, const unsigned char *buf, size_t len)
{
	const char *dir = getenv("PKGFLAT_BOM_SEED_DIR");
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

/* Every entry a walk reported, copied out of the callback. */
struct item {
	pkgflat_entry e;
	char *path, *target;
};

struct list {
	struct item *v;
	size_t n, cap;
	size_t stop_after; /* return 7 from the callback after this many */
};

static int collect(const pkgflat_entry *e, void *ctx)
{
	struct list *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			abort();
	}
	struct item *it = &l->v[l->n++];
	it->e = *e;
	it->path = strdup(e->path);
	it->target = e->link_target ? strdup(e->link_target) : NULL;
	it->e.path = it->path;
	it->e.link_target = it->target;
	return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].target);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static const pkgflat_entry *find(const struct list *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path))
			return &l->v[i].e;
	return NULL;
}

/* bom_open + bom_walk over a buffer. */
static pkgflat_status walk_buf(const unsigned char *buf, size_t len,
    struct list *l, pkgflat_bom_stats *stats, pkgflat_error *err)
{
	bom_reader *r = NULL;
	pkgflat_status st;

	pkgflat_error_clear(err);
	st = bom_open(buf, len, "test.bom", &r, err);
	if (st == PKGFLAT_OK)
		st = bom_walk(r, collect, l, stats, err);
	bom_close(r);
	return st;
}

/* The walk must fail as malformed, saying `msg` about the place `where`. */
static void expect_format_error(const char *seed, const unsigned char *buf,
    size_t len, const char *msg, const char *where)
{
	struct list l = { 0 };
	pkgflat_error err;
	pkgflat_status st = walk_buf(buf, len, &l, NULL, &err);

	seed_save(seed, buf, len);
	if (st != PKGFLAT_E_FORMAT || !strstr(err.message, msg) ||
	    (where && strcmp(err.where, where) != 0))
		test_fail(__FILE__, __LINE__,
		    "%s: status %d, where \"%s\", message \"%s\"; want format "
		    "error at \"%s\" saying \"%s\"", seed, (int)st, err.where,
		    err.message, where ? where : "*", msg);
	CHECK_EQ_STR(err.file, "test.bom");
	list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Manifests: "type mode uid gid size mtime crc path", from bsdtar     */

struct mentry {
	char type[8];
	unsigned mode;
	unsigned long uid, gid, size;
	long long mtime;
	char crc[16];
	char path[1024];
};

static struct mentry *manifest_load(const char *file, size_t *n)
{
	FILE *f = fopen(file, "r");
	struct mentry *v = NULL;
	size_t cap = 0;
	char line[2048];

	*n = 0;
	if (!f) {
		fprintf(stderr, "cannot open %s\n", file);
		exit(2);
	}
	while (fgets(line, sizeof line, f)) {
		struct mentry m;
		int off = 0;
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%7s %o %lu %lu %lu %lld %15s %n", m.type, &m.mode,
		    &m.uid, &m.gid, &m.size, &m.mtime, m.crc, &off) != 7 || !off)
			continue;
		snprintf(m.path, sizeof m.path, "%s", line + off);
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(v = realloc(v, cap * sizeof *v)))
				abort();
		}
		v[(*n)++] = m;
	}
	fclose(f);
	return v;
}

static int skipped(const char *const *skip, const char *path,
    const char *field)
{
	size_t n = strlen(path);

	for (; *skip; skip++)
		if (!strncmp(*skip, path, n) && (*skip)[n] == '\t' &&
		    !strcmp(*skip + n + 1, field))
			return 1;
	return 0;
}

/*
 * Compare a BOM with its payload manifest, entry by entry. `skip` lists
 * "path\tfield" pairs where the two are known to disagree.
 */
static void check_manifest(const char *bom, const char *manifest,
    const char *const *skip)
{
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	pkgflat_bom_stats stats;
	size_t nm;
	struct mentry *m = manifest_load(manifest, &nm);
	uint64_t bytes = 0;

	CHECK_EQ_INT(pkgflat_bom_list_file(bom, collect, &l, &stats, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(l.n, nm);
	CHECK_EQ_INT(stats.paths, nm);
	for (size_t i = 0; i < nm; i++) {
		const pkgflat_entry *e = find(&l, m[i].path);
		char what[1100];
		if (!e) {
			test_fail(__FILE__, __LINE__, "%s: %s missing", bom,
			    m[i].path);
			continue;
		}
#define SKIP(field) skipped(skip, m[i].path, field)
#define FIELD(field, got, want)                                           \
	do {                                                              \
		if (!SKIP(field) && (unsigned long long)(got) !=          \
		    (unsigned long long)(want))                           \
			test_fail(__FILE__, __LINE__, "%s %s: %s %llu, want %llu", \
			    bom, m[i].path, field,                        \
			    (unsigned long long)(got),                    \
			    (unsigned long long)(want));                  \
	} while (0)
		FIELD("mode", e->mode, m[i].mode);
		FIELD("uid", e->uid, m[i].uid);
		FIELD("gid", e->gid, m[i].gid);
		FIELD("size", e->size, m[i].size);
		FIELD("mtime", e->mtime, m[i].mtime);
		if (!strcmp(m[i].type, "file")) {
			bytes += m[i].size;
			CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_FILE);
			if (!SKIP("crc")) {
				snprintf(what, sizeof what, "%08x", e->crc);
				CHECK(e->has_crc);
				CHECK_EQ_STR(what, m[i].crc);
			}
		} else if (!strcmp(m[i].type, "dir")) {
			CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_DIR);
			CHECK(!e->has_crc);
		}
	}
	if (!skip[0])
		CHECK_EQ_INT(stats.file_bytes, bytes);
#undef FIELD
#undef SKIP
	free(m);
	list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Real BOMs                                                          */

TEST(bom_exiftool_lists_200_paths)
{
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	pkgflat_bom_stats stats;

	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/exiftool.bom", collect,
	    &l, &stats, &err), PKGFLAT_OK);
	CHECK_EQ_INT(l.n, 200);
	CHECK_EQ_STR(l.v[0].path, ".");
	CHECK_EQ_INT(stats.paths, 200);
	CHECK_EQ_INT(stats.info_paths, 201);
	CHECK_EQ_INT(stats.hardlink_sets, 0);
	CHECK_EQ_INT(stats.size64_entries, 0);
	/* Sum of the regular file sizes bsdtar lists in Archive.pax.gz. */
	CHECK_EQ_INT(stats.file_bytes, 10862058);
	list_free(&l);
}

TEST(bom_exiftool_known_entries)
{
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	const pkgflat_entry *e;

	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/exiftool.bom", collect,
	    &l, NULL, &err), PKGFLAT_OK);
	/* bsdtar: -rwxrwxr-x 0 0 238807 ./usr/bin/exiftool; cksum 164291429 */
	CHECK((e = find(&l, "./usr/bin/exiftool")) != NULL);
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_FILE);
		CHECK(e->has_crc);
		CHECK_EQ_INT(e->crc, 0x09cae365);
		CHECK_EQ_INT(e->mode, 0100775);
		CHECK_EQ_INT(e->uid, 0);
		CHECK_EQ_INT(e->gid, 0);
		CHECK_EQ_INT(e->size, 238807);
		CHECK_EQ_INT(e->mtime, 1389660288);
		CHECK(e->link_target == NULL);
	}
	/* bsdtar: drwxr-xr-x 501 20 . */
	CHECK((e = find(&l, ".")) != NULL);
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_DIR);
		CHECK_EQ_INT(e->mode, 040755);
		CHECK_EQ_INT(e->uid, 501);
		CHECK_EQ_INT(e->gid, 20);
		CHECK_EQ_INT(e->size, 0);
	}
	/* bsdtar: -rw-r--r-- 501 0 19108 .../AES.pm */
	CHECK((e = find(&l, "./usr/bin/lib/Image/ExifTool/AES.pm")) != NULL);
	if (e) {
		CHECK_EQ_INT(e->mode, 0100644);
		CHECK_EQ_INT(e->uid, 501);
		CHECK_EQ_INT(e->gid, 0);
		CHECK_EQ_INT(e->size, 19108);
	}
	list_free(&l);
}

TEST(bom_exiftool_matches_payload)
{
	static const char *const none[] = { NULL };

	check_manifest("testdata/bom/exiftool.bom",
	    "testdata/bom/exiftool.manifest", none);
}

TEST(bom_installomator_new_records_match_payload)
{
	/* mkbom lists the AppleDouble file with its owner's mode, nothing else. */
	static const char *const quirks[] = {
		"./._Installomator.sh\tmode", "./._Installomator.sh\tsize",
		"./._Installomator.sh\tmtime", "./._Installomator.sh\tcrc", NULL
	};
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	const pkgflat_entry *e;

	check_manifest("testdata/bom/installomator.bom",
	    "testdata/bom/installomator.manifest", quirks);
	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/installomator.bom",
	    collect, &l, NULL, &err), PKGFLAT_OK);
	CHECK_EQ_INT(l.n, 3);
	CHECK((e = find(&l, "./._Installomator.sh")) != NULL);
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_FILE);
		CHECK(!e->has_crc);
		CHECK_EQ_INT(e->size, 0);
		CHECK_EQ_INT(e->mode, 0100755);
	}
	CHECK((e = find(&l, "./Installomator.sh")) != NULL);
	if (e) {
		CHECK(e->has_crc);
		CHECK_EQ_INT(e->crc, 0xafa8d59a);
	}
	list_free(&l);
}

TEST(bom_first_boot_fat_record_and_gid)
{
	/* The BOM has the full gid; odc cpio kept only its low 16 bits. */
	static const char *const quirks[] = {
		"./Library/LaunchAgents/com.company.LoginLog.plist\tgid", NULL
	};
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	const pkgflat_entry *e;

	check_manifest("testdata/bom/first-boot.bom",
	    "testdata/bom/first-boot.manifest", quirks);
	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/first-boot.bom",
	    collect, &l, NULL, &err), PKGFLAT_OK);
	CHECK((e = find(&l, "./Library/LaunchAgents/com.company.LoginLog.plist")));
	if (e) {
		CHECK_EQ_INT(e->gid, 1899195968);
		CHECK_EQ_INT(e->gid & 0xffff, 28224);
	}
	/* A 56-byte record: one x86_64 architecture, then 8 zero bytes. */
	CHECK((e = find(&l, "./Library/PrivilegedHelperTools/LoginLog.app/"
	    "Contents/MacOS/LoginLog")));
	if (e) {
		CHECK_EQ_INT(e->size, 40832);
		CHECK_EQ_INT(e->crc, 0xd9d70e09);
	}
	list_free(&l);
}

TEST(bom_keychain_minder_old_fat_record)
{
	/* The AppleDouble file's BOM mtime is the packaging time. */
	static const char *const quirks[] = {
		"./Applications/Utilities/Keychain Minder/._Keychain Minder "
		"Read Me.rtf\tmtime", NULL
	};
	struct list l = { 0 };
	pkgflat_error err = { 0 };
	const pkgflat_entry *e;

	check_manifest("testdata/bom/keychain-minder-1.5.bom",
	    "testdata/bom/keychain-minder-1.5.manifest", quirks);
	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/keychain-minder-1.5.bom",
	    collect, &l, NULL, &err), PKGFLAT_OK);
	/* A 64-byte old-generation record with ppc and i386 slices. */
	CHECK((e = find(&l, "./Applications/Utilities/Keychain Minder/Keychain "
	    "Minder.app/Contents/MacOS/Keychain Minder")));
	if (e) {
		CHECK_EQ_INT(e->size, 69784);
		CHECK_EQ_INT(e->crc, 0x94922a8d);
		CHECK_EQ_INT(e->mode, 0100775);
	}
	list_free(&l);
}

TEST(bom_list_file_reports_io_errors)
{
	pkgflat_error err = { 0 };

	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/no-such.bom", collect,
	    NULL, NULL, &err), PKGFLAT_E_IO);
	CHECK_EQ_STR(err.file, "testdata/bom/no-such.bom");
	CHECK(strstr(err.message, "cannot open") != NULL);
	CHECK(err.sys_errno != 0);
}

TEST(bom_callback_stops_the_walk)
{
	struct list l = { .stop_after = 5 };
	pkgflat_error err = { 0 };

	CHECK_EQ_INT(pkgflat_bom_list_file("testdata/bom/exiftool.bom", collect,
	    &l, NULL, &err), 7);
	CHECK_EQ_INT(l.n, 5);
	list_free(&l);
}

/* ------------------------------------------------------------------ */
/* Malformed BOMs, patched from exiftool.bom                          */

/* Where things are in a real BOM, found without the reader under test. */
struct fx {
	unsigned char *b;
	size_t n;
	uint32_t ioff, voff;
	uint32_t paths_var;  /* offset of the Paths variable's block index */
	uint32_t tree, leaf; /* Paths tree and its (only) leaf node blocks */
};

static uint32_t rd32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t fx_addr(const struct fx *f, uint32_t i)
{
	return rd32(f->b + f->ioff + 4 + 8 * i);
}

static unsigned char *fx_blk(const struct fx *f, uint32_t i)
{
	return f->b + fx_addr(f, i);
}

static void fx_set_len(struct fx *f, uint32_t i, uint32_t len)
{
	put32(f->b + f->ioff + 4 + 8 * i + 4, len);
}

/* Leaf entry k: index0 (path info) or index1 (parent + name). */
static uint32_t fx_ent(const struct fx *f, uint32_t k, int which)
{
	return rd32(fx_blk(f, f->leaf) + 12 + 8 * k + 4 * which);
}

/* The leaf entry whose name is `name`. */
static uint32_t fx_find(const struct fx *f, const char *name)
{
	uint32_t count = (uint32_t)(fx_blk(f, f->leaf)[2] << 8 |
	    fx_blk(f, f->leaf)[3]);

	for (uint32_t k = 0; k < count; k++)
		if (!strcmp((const char *)fx_blk(f, fx_ent(f, k, 1)) + 4, name))
			return k;
	fprintf(stderr, "no %s in the fixture\n", name);
	abort();
}

static struct fx fx_load(void)
{
	struct fx f = { 0 };
	size_t n;
	unsigned char *v;

	f.b = test_slurp("testdata/bom/exiftool.bom", &n);
	f.n = n;
	f.ioff = rd32(f.b + 16);
	f.voff = rd32(f.b + 24);
	v = f.b + f.voff + 4;
	for (uint32_t i = 0; i < rd32(f.b + f.voff); i++) {
		if (v[4] == 5 && !memcmp(v + 5, "Paths", 5))
			f.paths_var = (uint32_t)(v - f.b);
		v += 5 + v[4];
	}
	f.tree = rd32(f.b + f.paths_var);
	f.leaf = rd32(fx_blk(&f, f.tree) + 8);
	return f;
}

TEST(bom_bad_empty_file)
{
	expect_format_error("bad-empty", (const unsigned char *)"", 0,
	    "empty file", "offset 0");
}

TEST(bom_bad_magic)
{
	struct fx f = fx_load();

	memcpy(f.b, "BOMSt0re", 8);
	expect_format_error("bad-magic", f.b, f.n, "bad magic", "offset 0");
	free(f.b);
}

TEST(bom_bad_truncated_header)
{
	struct fx f = fx_load();

	expect_format_error("bad-truncated-header", f.b, 20,
	    "truncated header (20 bytes, need 32)", "offset 0");
	expect_format_error("bad-truncated-magic", f.b, 5,
	    "truncated header (5 bytes", "offset 0");
	free(f.b);
}

TEST(bom_bad_block_table_past_end)
{
	struct fx f = fx_load();

	put32(f.b + 16, (uint32_t)f.n - 8);
	expect_format_error("bad-table-past-end", f.b, f.n,
	    "block table runs past end of file", NULL);
	free(f.b);
}

TEST(bom_bad_block_past_end)
{
	struct fx f = fx_load();
	char msg[128], where[32];

	/* Move the Paths leaf (4096 bytes) so that it ends past the file. */
	put32(f.b + f.ioff + 4 + 8 * f.leaf, (uint32_t)f.n - 100);
	snprintf(msg, sizeof msg, "block %u points past end of file "
	    "(offset %u + 4096 > %zu)", f.leaf, (unsigned)f.n - 100, f.n);
	snprintf(where, sizeof where, "block %u", f.leaf);
	expect_format_error("bad-block-past-end", f.b, f.n, msg, where);
	free(f.b);
}

TEST(bom_bad_block_index_out_of_range)
{
	struct fx f = fx_load();

	put32(f.b + f.paths_var, 99999);
	expect_format_error("bad-index-range", f.b, f.n,
	    "block index 99999 out of range (block table has 2730 entries)",
	    "block 99999");
	free(f.b);
}

TEST(bom_bad_leaf_forward_cycle)
{
	struct fx f = fx_load();
	char where[32];

	put32(fx_blk(&f, f.leaf) + 4, f.leaf); /* forward link to itself */
	snprintf(where, sizeof where, "block %u", f.leaf);
	expect_format_error("bad-leaf-cycle", f.b, f.n,
	    "tree cycle: leaf forward links lead back", where);
	free(f.b);
}

TEST(bom_bad_branch_cycle)
{
	struct fx f = fx_load();

	/* The root becomes a branch whose first child is itself. */
	put16(fx_blk(&f, f.leaf), 0);
	put32(fx_blk(&f, f.leaf) + 12, f.leaf);
	expect_format_error("bad-branch-cycle", f.b, f.n,
	    "tree cycle: branch nodes lead back", NULL);
	free(f.b);
}

TEST(bom_bad_parent_cycle)
{
	struct fx f = fx_load();
	uint32_t usr = fx_ent(&f, fx_find(&f, "usr"), 0);

	/* "." (id 1) becomes a child of "usr", whose parent is ".". */
	put32(fx_blk(&f, fx_ent(&f, fx_find(&f, "."), 1)), rd32(fx_blk(&f, usr)));
	expect_format_error("bad-parent-cycle", f.b, f.n,
	    "parent ids form a cycle", NULL);
	free(f.b);
}

TEST(bom_bad_unknown_parent)
{
	struct fx f = fx_load();

	put32(fx_blk(&f, fx_ent(&f, fx_find(&f, "bin"), 1)), 9999);
	expect_format_error("bad-unknown-parent", f.b, f.n,
	    "has unknown parent id 9999", NULL);
	free(f.b);
}

TEST(bom_bad_duplicate_id)
{
	struct fx f = fx_load();
	uint32_t a = fx_ent(&f, fx_find(&f, "usr"), 0);
	uint32_t b = fx_ent(&f, fx_find(&f, "bin"), 0);

	put32(fx_blk(&f, b), rd32(fx_blk(&f, a)));
	expect_format_error("bad-duplicate-id", f.b, f.n, "duplicate path id",
	    NULL);
	free(f.b);
}

TEST(bom_bad_unterminated_name)
{
	struct fx f = fx_load();
	uint32_t name = fx_ent(&f, fx_find(&f, "exiftool"), 1);
	char where[32];

	/* The block is {parent, "exiftool\0"}: overwrite the NUL. */
	fx_blk(&f, name)[4 + strlen("exiftool")] = 'x';
	snprintf(where, sizeof where, "block %u", name);
	expect_format_error("bad-unterminated-name", f.b, f.n,
	    "file name is not nul-terminated inside its block", where);
	free(f.b);
}

TEST(bom_bad_short_record)
{
	struct fx f = fx_load();
	uint32_t info = fx_ent(&f, fx_find(&f, "exiftool"), 0);
	uint32_t rec = rd32(fx_blk(&f, info) + 4);

	fx_set_len(&f, rec, 25); /* a file record needs its checksum: 27 */
	expect_format_error("bad-short-record", f.b, f.n,
	    "path record too short (25 bytes, need 27", NULL);
	fx_set_len(&f, rec, 3);
	expect_format_error("bad-short-record-3", f.b, f.n,
	    "path record too short (3 bytes, need 4)", NULL);
	free(f.b);
}

TEST(bom_bad_record_type)
{
	struct fx f = fx_load();
	uint32_t info = fx_ent(&f, fx_find(&f, "exiftool"), 0);

	fx_blk(&f, rd32(fx_blk(&f, info) + 4))[0] = 9;
	expect_format_error("bad-record-type", f.b, f.n, "unknown path type 9",
	    NULL);
	free(f.b);
}

TEST(bom_bad_tree_and_variables)
{
	struct fx f = fx_load();

	memcpy(fx_blk(&f, f.tree), "tref", 4);
	expect_format_error("bad-tree-magic", f.b, f.n, "Paths is not a tree",
	    NULL);
	memcpy(fx_blk(&f, f.tree), "tree", 4);
	memcpy(f.b + f.paths_var + 5, "Pathz", 5);
	expect_format_error("bad-missing-paths", f.b, f.n,
	    "missing variable Paths", NULL);
	memcpy(f.b + f.paths_var + 5, "Paths", 5);
	put32(f.b + 28, (uint32_t)f.n); /* varsLength */
	expect_format_error("bad-vars-past-end", f.b, f.n,
	    "variable table runs past end of file", NULL);
	put32(f.b + 28, 12);
	expect_format_error("bad-vars-short", f.b, f.n,
	    "runs past the variable table", NULL);
	free(f.b);
}

TEST(bom_bad_node_count)
{
	struct fx f = fx_load();

	put16(fx_blk(&f, f.leaf) + 2, 600); /* 12 + 600 * 8 > 4096 */
	expect_format_error("bad-node-count", f.b, f.n,
	    "Paths node too short (4096 bytes for 600 entries)", NULL);
	free(f.b);
}

/* ------------------------------------------------------------------ */
/* Synthetic BOMs                                                     */

/* A BOM under construction: blocks appended to data, indexed in blocks. */
struct bb {
	unsigned char *data;
	size_t len, cap;
	uint32_t *blocks; /* address, length pairs */
	uint32_t n, ncap;
};

static void bb_grow(struct bb *b, size_t more)
{
	while (b->len + more > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		if (!(b->data = realloc(b->data, b->cap)))
			abort();
	}
}

static void bb_init(struct bb *b)
{
	memset(b, 0, sizeof *b);
	bb_grow(b, 32);
	memset(b->data, 0, 32);
	b->len = 32;
	b->ncap = 1024;
	if (!(b->blocks = calloc(b->ncap, 2 * sizeof *b->blocks)))
		abort();
	b->n = 1; /* block 0 is the null block */
}

static uint32_t bb_block(struct bb *b, const void *p, size_t len)
{
	if (b->n == b->ncap) {
		b->ncap *= 2;
		if (!(b->blocks = realloc(b->blocks, b->ncap * 2 * sizeof *b->blocks)))
			abort();
	}
	bb_grow(b, len);
	memcpy(b->data + b->len, p, len);
	b->blocks[2 * b->n] = (uint32_t)b->len;
	b->blocks[2 * b->n + 1] = (uint32_t)len;
	b->len += len;
	return b->n++;
}

static uint32_t bb_u32(struct bb *b, uint32_t v)
{
	unsigned char p[4];

	put32(p, v);
	return bb_block(b, p, 4);
}

static uint32_t bb_u64(struct bb *b, uint64_t v)
{
	unsigned char p[8];

	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
	return bb_block(b, p, 8);
}

/*
 * A tree over n (index0, index1) pairs with `per` entries a node, leaves
 * chained both ways and branch levels above them. Returns the tree block.
 */
static uint32_t bb_tree(struct bb *b, const uint32_t *pairs, uint32_t n,
    uint32_t per)
{
	uint32_t *level = malloc(((size_t)n / per + 2) * 2 * sizeof *level);
	uint32_t nl = 0, root;
	unsigned char *node = calloc(1, 12 + 8 * (size_t)per);
	unsigned char hdr[21] = "tree";

	if (!level || !node)
		abort();
	/* Leaves take consecutive blocks, so links can be known up front. */
	uint32_t nleaves = n ? (n + per - 1) / per : 1, first = b->n;
	for (uint32_t i = 0; i < nleaves; i++) {
		uint32_t c = n - i * per < per ? n - i * per : per;
		if (!n)
			c = 0;
		put16(node, 1);
		put16(node + 2, (uint16_t)c);
		put32(node + 4, i + 1 < nleaves ? first + i + 1 : 0);
		put32(node + 8, i ? first + i - 1 : 0);
		for (uint32_t k = 0; k < c; k++) {
			put32(node + 12 + 8 * k, pairs[2 * (i * per + k)]);
			put32(node + 16 + 8 * k, pairs[2 * (i * per + k) + 1]);
		}
		level[2 * nl] = bb_block(b, node, 12 + 8 * (size_t)c);
		level[2 * nl + 1] = c ? pairs[2 * (i * per + c - 1) + 1] : 0;
		nl++;
	}
	/* Branch levels: index0 a child, index1 its last value. */
	while (nl > 1) {
		uint32_t out = 0;
		for (uint32_t i = 0; i < nl; i += per) {
			uint32_t c = nl - i < per ? nl - i : per;
			put16(node, 0);
			put16(node + 2, (uint16_t)c);
			put32(node + 4, 0);
			put32(node + 8, 0);
			for (uint32_t k = 0; k < c; k++) {
				put32(node + 12 + 8 * k, level[2 * (i + k)]);
				put32(node + 16 + 8 * k, level[2 * (i + k) + 1]);
			}
			uint32_t last = level[2 * (i + c - 1) + 1];
			level[2 * out] = bb_block(b, node, 12 + 8 * (size_t)c);
			level[2 * out + 1] = last;
			out++;
		}
		nl = out;
	}
	root = level[0];
	put32(hdr + 4, 1);
	put32(hdr + 8, root);
	put32(hdr + 12, 12 + 8 * per);
	put32(hdr + 16, n);
	free(level);
	free(node);
	return bb_block(b, hdr, sizeof hdr);
}

enum { GEN_OLD, GEN_NEW };

/* A path record of the given generation; extra follows the common part. */
static uint32_t bb_record(struct bb *b, int gen, int type, uint16_t flags,
    uint32_t mode, uint32_t uid, uint32_t gid, uint32_t mtime, uint32_t size,
    const void *extra, size_t extra_len)
{
	unsigned char r[256] = { 0 };
	size_t len = 23;

	r[0] = (unsigned char)type;
	r[1] = 1;
	put16(r + 2, flags);
	put16(r + 4, (uint16_t)mode);
	put32(r + 6, uid);
	put32(r + 10, gid);
	put32(r + 14, mtime);
	put32(r + 18, size);
	r[22] = 1;
	if (extra_len)
		memcpy(r + len, extra, extra_len);
	len += extra_len;
	if (gen == GEN_NEW)
		len += 8; /* trailing zeros */
	return bb_block(b, r, len);
}

/* One Paths leaf pair: {id, record} and {parent, name}. */
static void bb_path(struct bb *b, uint32_t *pair, uint32_t id,
    uint32_t parent, const char *name, uint32_t record)
{
	unsigned char info[8], file[300];
	size_t nl = strlen(name) + 1;

	put32(info, id);
	put32(info + 4, record);
	put32(file, parent);
	memcpy(file + 4, name, nl);
	pair[0] = bb_block(b, info, 8);
	pair[1] = bb_block(b, file, 4 + nl);
}

/* Append block table and variables, fill in the header; hands back data. */
static unsigned char *bb_finish(struct bb *b, size_t *len, uint32_t info,
    uint32_t paths, uint32_t hlindex, uint32_t size64)
{
	static const char *const names[] = { "BomInfo", "Paths", "HLIndex",
		"Size64" };
	uint32_t vals[] = { info, paths, hlindex, size64 };
	uint32_t ioff, voff, nvars = 0;
	unsigned char tmp[16];

	ioff = (uint32_t)b->len;
	put32(tmp, b->n);
	bb_grow(b, 4 + 8 * (size_t)b->n + 4);
	memcpy(b->data + b->len, tmp, 4);
	b->len += 4;
	for (uint32_t i = 0; i < b->n; i++) {
		put32(b->data + b->len, b->blocks[2 * i]);
		put32(b->data + b->len + 4, b->blocks[2 * i + 1]);
		b->len += 8;
	}
	put32(b->data + b->len, 0); /* empty free list */
	b->len += 4;
	voff = (uint32_t)b->len;
	bb_grow(b, 4 + 4 * (5 + 8));
	b->len += 4;
	for (int i = 0; i < 4; i++) {
		if (!vals[i])
			continue;
		put32(b->data + b->len, vals[i]);
		b->data[b->len + 4] = (unsigned char)strlen(names[i]);
		memcpy(b->data + b->len + 5, names[i], strlen(names[i]));
		b->len += 5 + strlen(names[i]);
		nvars++;
	}
	put32(b->data + voff, nvars);
	memcpy(b->data, "BOMStore", 8);
	put32(b->data + 8, 1);
	put32(b->data + 12, b->n - 1);
	put32(b->data + 16, ioff);
	put32(b->data + 20, voff - ioff);
	put32(b->data + 24, voff);
	put32(b->data + 28, (uint32_t)b->len - voff);
	free(b->blocks);
	*len = b->len;
	return b->data;
}

static uint32_t bb_info(struct bb *b, uint32_t paths)
{
	unsigned char p[12];

	put32(p, 1);
	put32(p + 4, paths + 1);
	put32(p + 8, 0);
	return bb_block(b, p, sizeof p);
}

/*
 * One BOM with every kind of record, in both generations, spread over
 * 2-entry nodes so that the tree has branch levels; Size64 in both key
 * orders and one HLIndex entry.
 */
static unsigned char *build_kinds(int gen, size_t *len)
{
	struct bb b;
	uint32_t pairs[2 * 8], p = 0, big, big2, s64[4], hl[2];
	unsigned char x[64];
	static const char target[] = "../lib/libz.dylib";

	bb_init(&b);
	/* Children before parents: the reader must not assume an order. */
	put32(x, 0x12345678);
	big = bb_record(&b, gen, 1, 0xf, 0100644, 0, 0, 1000, 0x00000010, x, 4);
	bb_path(&b, pairs + 2 * p++, 40, 30, "big.dmg", big);
	put32(x, 0x9abcdef0);
	big2 = bb_record(&b, gen, 1, 0xf, 0100600, 0, 0, 1001, 0x00000020, x, 4);
	bb_path(&b, pairs + 2 * p++, 41, 30, "big2.dmg", big2);
	put32(x, 0xdeadbeef);
	put32(x + 4, sizeof target);
	memcpy(x + 8, target, sizeof target);
	bb_path(&b, pairs + 2 * p++, 50, 30, "libz.dylib",
	    bb_record(&b, gen, 3, 0xf, 0120755, 0, 0, 1002, sizeof target - 1,
	    x, 8 + sizeof target));
	put32(x, 0x0e000001);
	bb_path(&b, pairs + 2 * p++, 60, 20, "disk0",
	    bb_record(&b, gen, 4, 0xf, 060640, 0, 5, 1003, 0, x, 4));
	bb_path(&b, pairs + 2 * p++, 30, 20, "lib",
	    bb_record(&b, gen, 2, 0xf, 040755, 0, 0, 1004, 96, NULL, 0));
	bb_path(&b, pairs + 2 * p++, 20, 10, "usr",
	    bb_record(&b, gen, 2, 0xf, 040755, 0, 0, 1005, 128, NULL, 0));
	bb_path(&b, pairs + 2 * p++, 10, 0, ".",
	    bb_record(&b, gen, 2, 0xf, 040755, 0, 80, 1006, 96, NULL, 0));
	/* A paths-only record: type and nothing else. */
	x[0] = 1;
	x[1] = 1;
	put16(x + 2, 0);
	bb_path(&b, pairs + 2 * p++, 70, 20, "bare", bb_block(&b, x, 4));
	uint32_t paths = bb_tree(&b, pairs, p, 2);

	/* Size64: record index first in one entry, size first in the other. */
	s64[0] = bb_u32(&b, big);
	s64[1] = bb_u64(&b, 0x240000010ull);
	s64[2] = bb_u64(&b, 0x100000020ull);
	s64[3] = bb_u32(&b, big2);
	uint32_t size64 = bb_tree(&b, s64, 2, 128);
	hl[0] = bb_u32(&b, big);
	hl[1] = bb_u32(&b, big);
	uint32_t hlindex = bb_tree(&b, hl, 1, 128);
	return bb_finish(&b, len, bb_info(&b, p), paths, hlindex, size64);
}

static void check_kinds(int gen)
{
	size_t len;
	unsigned char *buf = build_kinds(gen, &len);
	struct list l = { 0 };
	pkgflat_error err;
	pkgflat_bom_stats stats;
	const pkgflat_entry *e;

	seed_save(gen == GEN_NEW ? "synthetic-kinds-new" : "synthetic-kinds-old",
	    buf, len);
	CHECK_EQ_INT(walk_buf(buf, len, &l, &stats, &err), PKGFLAT_OK);
	if (err.status)
		fprintf(stderr, "  %s: %s\n", err.where, err.message);
	CHECK_EQ_INT(l.n, 8);
	CHECK_EQ_INT(stats.paths, 8);
	CHECK_EQ_INT(stats.info_paths, 9);
	CHECK_EQ_INT(stats.size64_entries, 2);
	CHECK_EQ_INT(stats.hardlink_sets, 1);
	CHECK_EQ_INT(stats.file_bytes, 0x240000010ull + 0x100000020ull);
	CHECK_EQ_STR(l.v[0].path, "./usr/lib/big.dmg"); /* leaf order */
	CHECK((e = find(&l, "./usr/lib/big.dmg")));
	if (e) {
		CHECK_EQ_INT(e->size, 0x240000010ull);
		CHECK_EQ_INT(e->crc, 0x12345678);
		CHECK(e->has_crc);
	}
	CHECK((e = find(&l, "./usr/lib/big2.dmg")));
	if (e) {
		CHECK_EQ_INT(e->size, 0x100000020ull);
		CHECK_EQ_INT(e->mode, 0100600);
	}
	CHECK((e = find(&l, "./usr/lib/libz.dylib")));
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_SYMLINK);
		CHECK_EQ_STR(e->link_target, "../lib/libz.dylib");
		CHECK_EQ_INT(e->mode, 0120755);
		CHECK_EQ_INT(e->size, 0);
		CHECK(!e->has_crc);
	}
	CHECK((e = find(&l, "./usr/disk0")));
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_DEVICE);
		CHECK_EQ_INT(e->rdev, 0x0e000001);
		CHECK_EQ_INT(e->mode, 060640);
		CHECK_EQ_INT(e->gid, 5);
	}
	CHECK((e = find(&l, ".")));
	if (e) {
		CHECK_EQ_INT(e->gid, 80);
		CHECK_EQ_INT(e->mtime, 1006);
	}
	CHECK((e = find(&l, "./usr/bare")));
	if (e) {
		CHECK_EQ_INT(e->type, PKGFLAT_ENTRY_FILE);
		CHECK_EQ_INT(e->mode, 0100000);
	}
	list_free(&l);
	free(buf);
}

TEST(bom_synthetic_all_kinds_old_records)
{
	check_kinds(GEN_OLD);
}

TEST(bom_synthetic_all_kinds_new_records)
{
	check_kinds(GEN_NEW);
}

/* A chain of single-entry leaves whose last one links back to `to`. */
TEST(bom_bad_long_leaf_cycle)
{
	size_t len;
	unsigned char *buf = build_kinds(GEN_NEW, &len);

	/* Find the Paths tree's leaves: 2-entry leaves, consecutive blocks. */
	uint32_t ioff = rd32(buf + 16), voff = rd32(buf + 24);
	uint32_t tree = rd32(buf + voff + 4 + 12); /* 2nd variable: Paths */
	uint32_t node = rd32(buf + rd32(buf + ioff + 4 + 8 * tree) + 8);
	while (rd32(buf + rd32(buf + ioff + 4 + 8 * node)) >> 16 == 0)
		node = rd32(buf + rd32(buf + ioff + 4 + 8 * node) + 12);
	uint32_t first = node, last = node;
	for (uint32_t next; (next = rd32(buf + rd32(buf + ioff + 4 +
	    8 * last) + 4)); )
		last = next;
	CHECK(last > first + 1);
	/* The last leaf's forward link goes back to the second one. */
	put32(buf + rd32(buf + ioff + 4 + 8 * last) + 4, first + 1);
	expect_format_error("bad-long-leaf-cycle", buf, len,
	    "leaf forward links lead back", NULL);
	free(buf);
}

static int check_large(const pkgflat_entry *e, void *ctx)
{
	size_t *n = ctx;
	char want[64];
	long long k = e->mtime;

	/* mtime carries the number the path was made from. */
	if (k == 0)
		snprintf(want, sizeof want, ".");
	else if (k <= 100)
		snprintf(want, sizeof want, "./d%lld", k);
	else
		snprintf(want, sizeof want, "./d%lld/f%lld", (k - 101) / 1000 + 1,
		    k);
	if (strcmp(want, e->path) != 0) {
		test_fail(__FILE__, __LINE__, "path %s, want %s", e->path, want);
		return 1;
	}
	(*n)++;
	return 0;
}

TEST(bom_synthetic_100000_paths)
{
	enum { DIRS = 100, FILES = 1000, N = 1 + DIRS + DIRS * FILES };
	struct bb b;
	uint32_t *pairs = malloc(2 * sizeof *pairs * N), p = 0;
	unsigned char crc[4] = { 0 };
	size_t len, seen = 0;
	pkgflat_error err;
	pkgflat_bom_stats stats;
	char name[32];

	if (!pairs)
		abort();
	/* Sparse ids from a bijection on 32 bits; files come first. */
#define ID(k) (((uint32_t)(k) + 1) * 2654435761u ^ 0x5bd1e995u)
	bb_init(&b);
	for (uint32_t d = 1; d <= DIRS; d++)
		for (uint32_t f = 0; f < FILES; f++) {
			uint32_t k = 101 + (d - 1) * FILES + f;
			snprintf(name, sizeof name, "f%u", k);
			bb_path(&b, pairs + 2 * p++, ID(k), ID(d), name,
			    bb_record(&b, GEN_NEW, 1, 0xf, 0100644, 0, 0, k, 1,
			    crc, 4));
		}
	for (uint32_t d = 1; d <= DIRS; d++) {
		snprintf(name, sizeof name, "d%u", d);
		bb_path(&b, pairs + 2 * p++, ID(d), ID(0), name,
		    bb_record(&b, GEN_NEW, 2, 0xf, 040755, 0, 0, d, 0, NULL, 0));
	}
	bb_path(&b, pairs + 2 * p++, ID(0), 0, ".",
	    bb_record(&b, GEN_NEW, 2, 0xf, 040755, 0, 0, 0, 0, NULL, 0));
#undef ID
	uint32_t paths = bb_tree(&b, pairs, p, 509);
	unsigned char *buf = bb_finish(&b, &len, bb_info(&b, p), paths, 0, 0);
	bom_reader *r = NULL;

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(bom_open(buf, len, "large.bom", &r, &err), PKGFLAT_OK);
	if (r)
		CHECK_EQ_INT(bom_walk(r, check_large, &seen, &stats, &err),
		    PKGFLAT_OK);
	CHECK_EQ_INT(seen, N);
	CHECK_EQ_INT(stats.paths, N);
	CHECK_EQ_INT(stats.file_bytes, DIRS * FILES);
	bom_close(r);
	free(buf);
	free(pairs);
}

TEST(bom_synthetic_path_edge_cases)
{
	struct bb b;
	uint32_t pairs[2 * 3], p = 0;
	size_t len;
	struct list l = { 0 };
	pkgflat_error err;
	char longname[256];

	/* Top-level names without a "." root, as in some receipts. */
	bb_init(&b);
	bb_path(&b, pairs + 2 * p++, 1, 0, "Applications",
	    bb_record(&b, GEN_OLD, 2, 0xf, 040775, 0, 80, 0, 0, NULL, 0));
	bb_path(&b, pairs + 2 * p++, 2, 1, "A.app",
	    bb_record(&b, GEN_OLD, 2, 0xf, 040775, 0, 80, 0, 0, NULL, 0));
	/* A self-parented entry is the smallest parent cycle. */
	bb_path(&b, pairs + 2 * p++, 3, 3, "loop",
	    bb_record(&b, GEN_OLD, 2, 0xf, 040775, 0, 80, 0, 0, NULL, 0));
	uint32_t paths = bb_tree(&b, pairs, 2, 16);
	uint32_t paths_bad = bb_tree(&b, pairs, 3, 16);
	unsigned char *buf = bb_finish(&b, &len, bb_info(&b, 2), paths, 0, 0);
	seed_save("synthetic-no-root", buf, len);
	CHECK_EQ_INT(walk_buf(buf, len, &l, NULL, &err), PKGFLAT_OK);
	CHECK_EQ_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_EQ_STR(l.v[0].path, "./Applications");
		CHECK_EQ_STR(l.v[1].path, "./Applications/A.app");
	}
	list_free(&l);
	/* Point the Paths variable at the 3-entry tree. */
	put32(buf + rd32(buf + 24) + 4 + 12, paths_bad);
	expect_format_error("bad-self-parent", buf, len,
	    "parent ids form a cycle through path id 3", NULL);
	free(buf);

	/* 100 nested 255-byte names exceed the path length limit. */
	bb_init(&b);
	uint32_t *many = malloc(2 * 100 * sizeof *many);
	if (!many)
		abort();
	memset(longname, 'n', 255);
	longname[255] = '\0';
	for (uint32_t i = 0; i < 100; i++)
		bb_path(&b, many + 2 * i, i + 1, i, longname,
		    bb_record(&b, GEN_NEW, 2, 0xf, 040755, 0, 0, 0, 0, NULL, 0));
	paths = bb_tree(&b, many, 100, 509);
	buf = bb_finish(&b, &len, bb_info(&b, 100), paths, 0, 0);
	expect_format_error("bad-path-too-long", buf, len,
	    "longer than 16384 bytes", NULL);
	free(buf);
	free(many);
}

/*
 * "." and one child "x" whose record is `rec`. With key_len, Size64 gets one
 * entry: a key_len-byte block and a value_len-byte block, both starting with
 * the record's block index.
 */
static unsigned char *build_one(const unsigned char *rec, size_t rec_len,
    size_t key_len, size_t value_len, size_t *len)
{
	struct bb b;
	uint32_t pairs[4], s64[2];
	uint32_t size64 = 0;
	unsigned char dir[23] = { 2, 1, 0, 0xf, 0x41, 0xed };

	bb_init(&b);
	dir[22] = 1;
	bb_path(&b, pairs, 1, 0, ".", bb_block(&b, dir, sizeof dir));
	uint32_t r = bb_block(&b, rec, rec_len);
	bb_path(&b, pairs + 2, 2, 1, "x", r);
	uint32_t paths = bb_tree(&b, pairs, 2, 16);
	if (key_len) {
		unsigned char z[16] = { 0 };
		put32(z, r);
		s64[0] = bb_block(&b, z, key_len);
		s64[1] = bb_block(&b, z, value_len);
		size64 = bb_tree(&b, s64, 1, 16);
	}
	return bb_finish(&b, len, bb_info(&b, 2), paths, 0, size64);
}

TEST(bom_bad_synthetic_records)
{
	unsigned char rec[64] = { 0 };
	unsigned char *buf;
	size_t len;

	/* A symlink whose target length runs past the record. */
	rec[0] = 3;
	rec[1] = 1;
	put16(rec + 2, 0xf);
	put16(rec + 4, 0120755);
	rec[22] = 1;
	put32(rec + 27, 40);
	memcpy(rec + 31, "target", 7);
	buf = build_one(rec, 38, 0, 0, &len);
	expect_format_error("bad-symlink-target", buf, len,
	    "symlink target runs past its record (31 + 40 > 38 bytes)", NULL);
	free(buf);

	/* A fat file claiming 3 architectures with room for one. */
	rec[0] = 1;
	put16(rec + 2, 0x300f);
	put16(rec + 4, 0100755);
	rec[27] = 1;
	put32(rec + 28, 3);
	buf = build_one(rec, 48, 0, 0, &len);
	expect_format_error("bad-fat-record", buf, len,
	    "too short for its architecture list (48 bytes)", NULL);
	free(buf);

	/* Size64 pairs must be one 4-byte and one 8-byte block. */
	put16(rec + 2, 0xf);
	buf = build_one(rec, 35, 4, 8, &len);
	{
		struct list l = { 0 };
		pkgflat_error err;
		pkgflat_bom_stats stats;
		CHECK_EQ_INT(walk_buf(buf, len, &l, &stats, &err), PKGFLAT_OK);
		CHECK_EQ_INT(stats.size64_entries, 1);
		list_free(&l);
	}
	free(buf);
	buf = build_one(rec, 35, 8, 8, &len);
	expect_format_error("bad-size64-lengths", buf, len,
	    "Size64 entry has a 8-byte key and a 8-byte value, want 4 and 8",
	    NULL);
	free(buf);
}
