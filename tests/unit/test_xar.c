/*
 * XAR writer tests. Archives are written to temporary files and read back
 * by hand here, against flat-format.md §1, not with any reader of ours;
 * tests/cli/test_xarcheck.sh adds bsdtar, 7zz and tests/tools/xarcheck.
 *
 * With PKGFLAT_XAR_SAMPLE=PATH, the xar_sample test writes a product-
 * archive-shaped sample to PATH for those command-line checks.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "test.h"
#include "xar_write.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

#define CTIME 1700000000 /* 2023-11-14T22:13:20 */

static const char *tmpdir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

struct arc {
	unsigned char *b;
	size_t n;
	/* Parsed header. */
	uint64_t lc, lu;
	uint32_t alg;
	size_t heap;    /* file offset of the heap */
	char *toc;      /* inflated, NUL-terminated */
};

static void arc_free(struct arc *a)
{
	free(a->b);
	free(a->toc);
	memset(a, 0, sizeof *a);
}

static uint64_t get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Parses header and TOC; returns 0 when both are sound. */
static int arc_parse(struct arc *a)
{
	uLongf got;

	if (a->n < 28 || memcmp(a->b, "xar!", 4) || get_be(a->b + 4, 2) != 28 ||
	    get_be(a->b + 6, 2) != 1)
		return -1;
	a->lc = get_be(a->b + 8, 8);
	a->lu = get_be(a->b + 16, 8);
	a->alg = (uint32_t)get_be(a->b + 24, 4);
	if (a->lc > a->n - 28 || a->lu > (1u << 24))
		return -1;
	a->heap = 28 + (size_t)a->lc;
	a->toc = malloc((size_t)a->lu + 1);
	got = (uLongf)a->lu;
	if (!a->toc || uncompress((Bytef *)a->toc, &got, a->b + 28,
	    (uLong)a->lc) != Z_OK || got != a->lu)
		return -1;
	a->toc[a->lu] = '\0';
	return 0;
}

/* Finishes w into a temporary file and reads it back into *a. */
static pkgflat_status finish_to(xar_writer *w, struct arc *a,
    pkgflat_error *err)
{
	char path[4096];
	int fd;
	pkgflat_status st;

	memset(a, 0, sizeof *a);
	snprintf(path, sizeof path, "%s/pkgflat-xar-test-XXXXXX", tmpdir());
	if ((fd = mkstemp(path)) < 0) {
		test_fail(__FILE__, __LINE__, "mkstemp failed");
		return PKGFLAT_E_IO;
	}
	unlink(path);
	st = xarw_finish(w, fd, err);
	if (st == PKGFLAT_OK) {
		off_t end = lseek(fd, 0, SEEK_END);
		a->n = (size_t)end;
		a->b = malloc(a->n ? a->n : 1);
		if (!a->b || pread(fd, a->b, a->n, 0) != (ssize_t)a->n)
			st = PKGFLAT_E_IO;
		else if (arc_parse(a))
			test_fail(__FILE__, __LINE__, "archive does not parse");
	}
	close(fd);
	return st;
}

static xar_writer *new_writer(const struct xar_options *opt)
{
	struct xar_options def = { .toc_cksum = XAR_CKSUM_SHA1,
		.creation_time = CTIME };
	pkgflat_error err = { 0 };
	xar_writer *w = NULL;

	if (xarw_new(tmpdir(), "test.pkg", opt ? opt : &def, &w, &err) != PKGFLAT_OK)
		test_fail(__FILE__, __LINE__, "xarw_new: %s", err.message);
	return w;
}

static void sha1_hex(const void *p, size_t n, char out[41])
{
	unsigned char h[20];

	EVP_Digest(p, n, h, NULL, EVP_sha1(), NULL);
	for (int i = 0; i < 20; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

/* The number in the first "<tag>N</tag>" after `from` in the TOC. */
static uint64_t toc_num(const char *toc, const char *from, const char *tag)
{
	char open[64];
	const char *p = strstr(toc, from);

	snprintf(open, sizeof open, "<%s>", tag);
	if (!p || !(p = strstr(p, open)))
		return UINT64_MAX;
	return strtoull(p + strlen(open), NULL, 10);
}

/* Deterministic, partly compressible test data. */
static unsigned char *make_data(size_t n, uint32_t seed)
{
	unsigned char *d = malloc(n);
	uint32_t x = seed;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		/* Runs of text with random bytes mixed in. */
		d[i] = (i / 97) % 3 ? (unsigned char)"the quick brown fox "[i % 20] :
		    (unsigned char)(x >> 16);
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Layout                                                             */

TEST(xar_layout)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);
	struct arc a;
	uint64_t dir = 0;
	static const char dist[] = "<installer-gui-script minSpecVersion=\"2\"/>\n";
	unsigned char zdist[256];
	uLongf zlen = sizeof zdist;
	char h1[41], h2[41], h3[41], want[4096];

	CHECK_EQ_INT(xarw_add_file(w, 0, "Distribution", XAR_ENC_ZLIB, dist,
	    strlen(dist), &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, 0, "foo.pkg", &dir, &err), PKGFLAT_OK);
	CHECK_EQ_INT(dir, 2);
	CHECK_EQ_INT(xarw_add_file(w, dir, "Payload", XAR_ENC_RAW, "\x1f\x8b", 2,
	    &err), PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	xarw_free(w);

	/* Header: "xar!", 28, 1, lengths, sha1. */
	CHECK(!memcmp(a.b, "xar!\x00\x1c\x00\x01", 8));
	CHECK_EQ_INT(a.alg, 1);
	CHECK_EQ_INT(strlen(a.toc), a.lu);
	/* The compressed TOC is zlib at level 9, like Apple's. */
	CHECK(a.b[28] == 0x78 && a.b[29] == 0xda);
	/* Checksum at heap offset 0 = SHA-1 of the compressed TOC. */
	unsigned char ck[20];
	EVP_Digest(a.b + 28, (size_t)a.lc, ck, NULL, EVP_sha1(), NULL);
	CHECK(!memcmp(a.b + a.heap, ck, 20));

	/* File data: an independent zlib level 9 of the same bytes, then the
	 * raw bytes right after it; the archive ends with the heap. */
	CHECK_EQ_INT(compress2(zdist, &zlen, (const Bytef *)dist, strlen(dist),
	    9), Z_OK);
	CHECK(!memcmp(a.b + a.heap + 20, zdist, zlen));
	CHECK(!memcmp(a.b + a.heap + 20 + zlen, "\x1f\x8b", 2));
	CHECK_EQ_INT(a.n, a.heap + 20 + zlen + 2);

	sha1_hex(dist, strlen(dist), h1);
	sha1_hex(zdist, zlen, h2);
	sha1_hex("\x1f\x8b", 2, h3);
	snprintf(want, sizeof want,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<xar>\n"
	    " <toc>\n"
	    "  <creation-time>2023-11-14T22:13:20</creation-time>\n"
	    "  <checksum style=\"sha1\">\n"
	    "   <offset>0</offset>\n"
	    "   <size>20</size>\n"
	    "  </checksum>\n"
	    "  <file id=\"1\">\n"
	    "   <data>\n"
	    "    <length>%lu</length>\n"
	    "    <offset>20</offset>\n"
	    "    <size>%zu</size>\n"
	    "    <encoding style=\"application/x-gzip\"/>\n"
	    "    <extracted-checksum style=\"sha1\">%s</extracted-checksum>\n"
	    "    <archived-checksum style=\"sha1\">%s</archived-checksum>\n"
	    "   </data>\n"
	    "   <ctime>2023-11-14T22:13:20Z</ctime>\n"
	    "   <mtime>2023-11-14T22:13:20Z</mtime>\n"
	    "   <atime>2023-11-14T22:13:20Z</atime>\n"
	    "   <group>wheel</group>\n"
	    "   <gid>0</gid>\n"
	    "   <user>root</user>\n"
	    "   <uid>0</uid>\n"
	    "   <mode>0644</mode>\n"
	    "   <deviceno>0</deviceno>\n"
	    "   <inode>0</inode>\n"
	    "   <type>file</type>\n"
	    "   <name>Distribution</name>\n"
	    "  </file>\n"
	    "  <file id=\"2\">\n"
	    "   <ctime>2023-11-14T22:13:20Z</ctime>\n"
	    "   <mtime>2023-11-14T22:13:20Z</mtime>\n"
	    "   <atime>2023-11-14T22:13:20Z</atime>\n"
	    "   <group>wheel</group>\n"
	    "   <gid>0</gid>\n"
	    "   <user>root</user>\n"
	    "   <uid>0</uid>\n"
	    "   <mode>0755</mode>\n"
	    "   <deviceno>0</deviceno>\n"
	    "   <inode>0</inode>\n"
	    "   <type>directory</type>\n"
	    "   <name>foo.pkg</name>\n"
	    "   <file id=\"3\">\n"
	    "    <data>\n"
	    "     <length>2</length>\n"
	    "     <offset>%lu</offset>\n"
	    "     <size>2</size>\n"
	    "     <encoding style=\"application/octet-stream\"/>\n"
	    "     <extracted-checksum style=\"sha1\">%s</extracted-checksum>\n"
	    "     <archived-checksum style=\"sha1\">%s</archived-checksum>\n"
	    "    </data>\n"
	    "    <ctime>2023-11-14T22:13:20Z</ctime>\n"
	    "    <mtime>2023-11-14T22:13:20Z</mtime>\n"
	    "    <atime>2023-11-14T22:13:20Z</atime>\n"
	    "    <group>wheel</group>\n"
	    "    <gid>0</gid>\n"
	    "    <user>root</user>\n"
	    "    <uid>0</uid>\n"
	    "    <mode>0644</mode>\n"
	    "    <deviceno>0</deviceno>\n"
	    "    <inode>0</inode>\n"
	    "    <type>file</type>\n"
	    "    <name>Payload</name>\n"
	    "   </file>\n"
	    "  </file>\n"
	    " </toc>\n"
	    "</xar>\n",
	    (unsigned long)zlen, strlen(dist), h1, h2, 20 + (unsigned long)zlen,
	    h3, h3);
	CHECK_EQ_STR(a.toc, want);
	arc_free(&a);
}

static void check_alg(enum xar_cksum alg, const char *style, int size,
    const EVP_MD *md)
{
	struct xar_options o = { .toc_cksum = alg, .creation_time = CTIME };
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(&o);
	struct arc a;
	unsigned char ck[EVP_MAX_MD_SIZE];
	char want[128];

	CHECK_EQ_INT(xarw_add_file(w, 0, "a", XAR_ENC_RAW, "x", 1, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	xarw_free(w);
	CHECK_EQ_INT(a.alg, alg);
	snprintf(want, sizeof want, "<checksum style=\"%s\">\n   <offset>0"
	    "</offset>\n   <size>%d</size>", style, size);
	CHECK(strstr(a.toc, want) != NULL);
	EVP_Digest(a.b + 28, (size_t)a.lc, ck, NULL, md, NULL);
	CHECK(!memcmp(a.b + a.heap, ck, (size_t)size));
	/* File checksums stay sha1, and data follows the longer checksum. */
	CHECK(strstr(a.toc, "<archived-checksum style=\"sha1\">") != NULL);
	CHECK_EQ_INT(toc_num(a.toc, "<data>", "offset"), size);
	CHECK_EQ_INT(a.b[a.heap + (size_t)size], 'x');
	arc_free(&a);
}

TEST(xar_toc_checksum_algorithms)
{
	check_alg(XAR_CKSUM_SHA1, "sha1", 20, EVP_sha1());
	check_alg(XAR_CKSUM_SHA256, "sha256", 32, EVP_sha256());
	check_alg(XAR_CKSUM_SHA512, "sha512", 64, EVP_sha512());
}

/* ------------------------------------------------------------------ */
/* Streaming, abort, determinism                                      */

/* One file of `data` written in chunks of the given sizes (cycled). */
static void write_chunked(struct arc *a, enum xar_encoding enc,
    const unsigned char *data, size_t n, const size_t *chunks, size_t nchunks)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);

	CHECK_EQ_INT(xarw_add_file(w, 0, "before", XAR_ENC_ZLIB, "0123", 4,
	    &err), PKGFLAT_OK);
	if (!chunks) {
		CHECK_EQ_INT(xarw_add_file(w, 0, "f", enc, data, n, &err),
		    PKGFLAT_OK);
	} else {
		CHECK_EQ_INT(xarw_file_begin(w, 0, "f", enc, &err), PKGFLAT_OK);
		for (size_t off = 0, i = 0; off < n; i++) {
			size_t k = chunks[i % nchunks];
			if (k > n - off)
				k = n - off;
			if (xarw_file_write(w, data + off, k, &err) != PKGFLAT_OK) {
				test_fail(__FILE__, __LINE__, "write: %s",
				    err.message);
				break;
			}
			off += k;
		}
		CHECK_EQ_INT(xarw_file_end(w, &err), PKGFLAT_OK);
	}
	CHECK_EQ_INT(xarw_add_file(w, 0, "after", XAR_ENC_RAW, "tail", 4, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, a, &err), PKGFLAT_OK);
	xarw_free(w);
}

static void check_same(const struct arc *x, const struct arc *y, int line)
{
	if (x->n != y->n || memcmp(x->b, y->b, x->n))
		test_fail(__FILE__, line, "archives differ (%zu and %zu bytes)",
		    x->n, y->n);
}

TEST(xar_streaming_chunks)
{
	const size_t n = 700 * 1024 + 3;
	unsigned char *data = make_data(n, 7);
	static const size_t one[] = { 1 }, odd[] = { 7, 4093, 65537, 1, 300001 },
	    large[] = { 1u << 30 };

	for (int e = 0; e < 2; e++) {
		enum xar_encoding enc = e ? XAR_ENC_ZLIB : XAR_ENC_RAW;
		struct arc whole, a1, a2, a3;

		write_chunked(&whole, enc, data, n, NULL, 0);
		write_chunked(&a1, enc, data, n, one, 1);
		write_chunked(&a2, enc, data, n, odd, 5);
		write_chunked(&a3, enc, data, n, large, 1);
		check_same(&whole, &a1, __LINE__);
		check_same(&whole, &a2, __LINE__);
		check_same(&whole, &a3, __LINE__);

		/* The stored bytes decode to the data; sizes as declared. */
		const char *f = strstr(whole.toc, "<name>before</name>");
		uint64_t len = toc_num(whole.toc, f ? f : "", "length");
		uint64_t off = toc_num(whole.toc, f ? f : "", "offset");
		uint64_t size = toc_num(whole.toc, f ? f : "", "size");
		CHECK_EQ_INT(size, n);
		if (enc == XAR_ENC_RAW) {
			CHECK_EQ_INT(len, n);
			CHECK(off + len <= whole.n - whole.heap &&
			    !memcmp(whole.b + whole.heap + off, data, n));
		} else {
			unsigned char *out = malloc(n);
			uLongf got = n;
			CHECK(len < n);
			CHECK(off + len <= whole.n - whole.heap);
			CHECK_EQ_INT(uncompress(out, &got, whole.b + whole.heap + off,
			    (uLong)len), Z_OK);
			CHECK(got == n && !memcmp(out, data, n));
			free(out);
		}
		arc_free(&whole);
		arc_free(&a1);
		arc_free(&a2);
		arc_free(&a3);
	}
	free(data);
}

static void abort_case(enum xar_encoding first, int rewrite)
{
	pkgflat_error err = { 0 };
	const size_t n = 200000;
	unsigned char *data = make_data(n, 3);
	xar_writer *w1 = new_writer(NULL), *w2 = new_writer(NULL);
	struct arc a, b;
	uint64_t d1 = 0, d2 = 0;

	/* Once straight. */
	CHECK_EQ_INT(xarw_add_file(w1, 0, "one", XAR_ENC_ZLIB, data, 1000, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w1, 0, "d", &d1, &err), PKGFLAT_OK);
	if (rewrite)
		CHECK_EQ_INT(xarw_add_file(w1, d1, "two", XAR_ENC_RAW, data, n,
		    &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w1, d1, "three", XAR_ENC_ZLIB, data + 5, 5000,
	    &err), PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w1, &a, &err), PKGFLAT_OK);

	/* With a false start of "two" (more than the heap buffer), dropped. */
	CHECK_EQ_INT(xarw_add_file(w2, 0, "one", XAR_ENC_ZLIB, data, 1000, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w2, 0, "d", &d2, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_begin(w2, d2, "two", first, &err), PKGFLAT_OK);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(xarw_file_write(w2, data, n, &err), PKGFLAT_OK);
	xarw_file_abort(w2);
	xarw_file_abort(w2);   /* harmless with nothing open */
	if (rewrite)
		CHECK_EQ_INT(xarw_add_file(w2, d2, "two", XAR_ENC_RAW, data, n,
		    &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w2, d2, "three", XAR_ENC_ZLIB, data + 5, 5000,
	    &err), PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w2, &b, &err), PKGFLAT_OK);
	check_same(&a, &b, __LINE__);
	/* Ids stay dense: the aborted file took none. */
	CHECK(strstr(b.toc, rewrite ? "<file id=\"4\">" : "<file id=\"3\">"));
	CHECK(!strstr(b.toc, rewrite ? "<file id=\"5\">" : "<file id=\"4\">"));

	xarw_free(w1);
	xarw_free(w2);
	arc_free(&a);
	arc_free(&b);
	free(data);
}

TEST(xar_abort_then_rewrite)
{
	abort_case(XAR_ENC_ZLIB, 1);
	abort_case(XAR_ENC_RAW, 1);
	abort_case(XAR_ENC_ZLIB, 0);
}

/* A small product-archive-shaped tree. */
static void add_tree(xar_writer *w)
{
	pkgflat_error err = { 0 };
	unsigned char *data = make_data(50000, 11);
	uint64_t res = 0, lproj = 0, pkg = 0;

	CHECK_EQ_INT(xarw_add_file(w, 0, "Distribution", XAR_ENC_ZLIB, data, 3000,
	    &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, 0, "Resources", &res, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, res, "en.lproj", &lproj, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, lproj, "Welcome.rtf", XAR_ENC_ZLIB, data + 9,
	    777, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, 0, "x.pkg", &pkg, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, pkg, "Bom", XAR_ENC_ZLIB, data, 50000, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, pkg, "Payload", XAR_ENC_RAW, data, 40000,
	    &err), PKGFLAT_OK);
	free(data);
}

static void build_tree(struct arc *a)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);

	add_tree(w);
	CHECK_EQ_INT(finish_to(w, a, &err), PKGFLAT_OK);
	xarw_free(w);
}

TEST(xar_deterministic)
{
	struct arc a, b;

	build_tree(&a);
	build_tree(&b);
	CHECK(a.n > 0);
	check_same(&a, &b, __LINE__);
	/* Nested: Welcome.rtf sits inside en.lproj inside Resources. */
	const char *r = strstr(a.toc, "<name>Resources</name>");
	const char *l = strstr(a.toc, "<name>en.lproj</name>");
	const char *wr = strstr(a.toc, "<name>Welcome.rtf</name>");
	CHECK(r && l && wr && r < l && l < wr);
	CHECK(strstr(a.toc, "    <file id=\"4\">\n     <data>") != NULL);
	arc_free(&a);
	arc_free(&b);
}

/* Heap data in add order, each right after the previous. */
TEST(xar_heap_order)
{
	struct arc a;
	static const char *const names[] = { "Distribution", "Welcome.rtf",
		"Bom", "Payload" };
	uint64_t expect = 20;

	build_tree(&a);
	for (size_t i = 0; i < 4; i++) {
		char tag[64];
		snprintf(tag, sizeof tag, "<name>%s</name>", names[i]);
		/* <data> precedes <name> within a file element. */
		const char *p = strstr(a.toc, tag), *d = p;
		while (d && d > a.toc && strncmp(d, "<data>", 6))
			d--;
		CHECK_EQ_INT(toc_num(d, "<data>", "offset"), expect);
		expect += toc_num(d, "<data>", "length");
	}
	CHECK_EQ_INT(a.heap + expect, a.n);
	arc_free(&a);
}

/* ------------------------------------------------------------------ */
/* Signer reservation                                                 */

#define FAKE_RESERVE 300

struct fake {
	int toc_calls, sign_calls;
	uint64_t offset;
	unsigned char cksum[20];
};

static pkgflat_status fake_toc(void *ctx, xmlTextWriterPtr x, uint64_t offset,
    pkgflat_error *err)
{
	struct fake *f = ctx;

	(void)err;
	f->toc_calls++;
	f->offset = offset;
	if (xmlTextWriterStartElement(x, BAD_CAST "signature") < 0 ||
	    xmlTextWriterWriteAttribute(x, BAD_CAST "style", BAD_CAST "RSA") < 0 ||
	    xmlTextWriterWriteFormatElement(x, BAD_CAST "offset", "%" PRIu64,
	    offset) < 0 ||
	    xmlTextWriterWriteFormatElement(x, BAD_CAST "size", "%d",
	    FAKE_RESERVE) < 0 ||
	    xmlTextWriterEndElement(x) < 0)
		return PKGFLAT_E_INTERNAL;
	return PKGFLAT_OK;
}

static pkgflat_status fake_sign(void *ctx, const unsigned char *cksum,
    size_t cksum_len, unsigned char *out, pkgflat_error *err)
{
	struct fake *f = ctx;

	(void)err;
	f->sign_calls++;
	if (cksum_len == 20)
		memcpy(f->cksum, cksum, 20);
	memset(out, 0xaa, FAKE_RESERVE);
	return PKGFLAT_OK;
}

static pkgflat_status failing_sign(void *ctx, const unsigned char *cksum,
    size_t cksum_len, unsigned char *out, pkgflat_error *err)
{
	(void)ctx, (void)cksum, (void)cksum_len, (void)out;
	return fail(err, PKGFLAT_E_CRYPTO, "key.pem", NULL, "no key");
}

TEST(xar_signer_reserve)
{
	struct fake f = { 0 };
	struct xar_signer s = { .reserve = FAKE_RESERVE, .write_toc = fake_toc,
		.sign = fake_sign, .ctx = &f };
	struct xar_options o = { .creation_time = CTIME, .signer = &s };
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(&o);
	struct arc a;
	unsigned char ck[20];

	CHECK_EQ_INT(xarw_add_file(w, 0, "PackageInfo", XAR_ENC_RAW, "hello", 5,
	    &err), PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	xarw_free(w);
	CHECK_EQ_INT(f.toc_calls, 1);
	CHECK_EQ_INT(f.sign_calls, 1);
	CHECK_EQ_INT(f.offset, 20);
	/* The signer saw the final checksum, the one stored at heap 0. */
	EVP_Digest(a.b + 28, (size_t)a.lc, ck, NULL, EVP_sha1(), NULL);
	CHECK(!memcmp(f.cksum, ck, 20));
	CHECK(!memcmp(a.b + a.heap, ck, 20));
	/* The signature element follows the checksum, before the files. */
	CHECK(strstr(a.toc, "  </checksum>\n  <signature style=\"RSA\">\n"
	    "   <offset>20</offset>\n   <size>300</size>\n  </signature>\n"
	    "  <file id=\"1\">") != NULL);
	/* Reserved bytes at heap 20..320, the file right after. */
	int all_aa = 1;
	for (size_t i = 0; i < FAKE_RESERVE; i++)
		all_aa &= a.b[a.heap + 20 + i] == 0xaa;
	CHECK(all_aa);
	CHECK_EQ_INT(toc_num(a.toc, "<data>", "offset"), 20 + FAKE_RESERVE);
	CHECK(!memcmp(a.b + a.heap + 20 + FAKE_RESERVE, "hello", 5));
	CHECK_EQ_INT(a.n, a.heap + 20 + FAKE_RESERVE + 5);
	arc_free(&a);

	/* A signer failure is reported as the signer said it. */
	struct xar_signer bad = s;
	bad.sign = failing_sign;
	o.signer = &bad;
	w = new_writer(&o);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_E_CRYPTO);
	CHECK_EQ_STR(err.message, "no key");
	xarw_free(w);
	arc_free(&a);
}

/* ------------------------------------------------------------------ */
/* Names and misuse                                                   */

TEST(xar_name_collisions)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);
	uint64_t d = 0;

	CHECK_EQ_INT(xarw_add_dir(w, 0, "Foo.pkg", &d, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, d, "Bom", XAR_ENC_ZLIB, "b", 1, &err),
	    PKGFLAT_OK);
	/* The same name in another directory is fine. */
	CHECK_EQ_INT(xarw_add_file(w, 0, "Bom", XAR_ENC_ZLIB, "b", 1, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, d, "BOM", XAR_ENC_RAW, "c", 1, &err),
	    PKGFLAT_E_USAGE);
	CHECK_EQ_STR(err.file, "test.pkg");
	CHECK_EQ_STR(err.where, "Foo.pkg/BOM");
	CHECK(strstr(err.message, "differs only in case from sibling \"Bom\""));
	/* After an error the writer refuses everything. */
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_add_file(w, d, "Other", XAR_ENC_RAW, "c", 1, &err),
	    PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "earlier error"));
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_finish(w, -1, &err), PKGFLAT_E_USAGE);
	xarw_free(w);

	/* Directories collide with files too. */
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_add_file(w, 0, "resources", XAR_ENC_RAW, "x", 1, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, 0, "Resources", NULL, &err),
	    PKGFLAT_E_USAGE);
	xarw_free(w);

	/* Exact duplicates. */
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_add_dir(w, 0, "a", NULL, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_begin(w, 0, "a", XAR_ENC_RAW, &err),
	    PKGFLAT_E_USAGE);
	CHECK_EQ_STR(err.message, "name already used");
	xarw_free(w);
}

static void bad_name(const char *name, const char *msg)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);

	if (xarw_add_file(w, 0, name, XAR_ENC_RAW, "x", 1, &err) != PKGFLAT_E_USAGE ||
	    !strstr(err.message, msg))
		test_fail(__FILE__, __LINE__, "name \"%s\": got \"%s\", want \"%s\"",
		    name, err.message, msg);
	xarw_free(w);
}

TEST(xar_bad_names)
{
	bad_name("", "empty name");
	bad_name(".", "\".\" or \"..\"");
	bad_name("..", "\".\" or \"..\"");
	bad_name("a/b", "contains \"/\"");
	bad_name("caf\xe9", "not valid UTF-8");           /* Latin-1 */
	bad_name("\xc0\xaf", "not valid UTF-8");          /* overlong "/" */
	bad_name("\xed\xa0\x80", "not valid UTF-8");      /* surrogate */
	bad_name("\xf4\x90\x80\x80", "not valid UTF-8");  /* > U+10FFFF */
	bad_name("a\xe2\x82", "not valid UTF-8");         /* truncated */
	bad_name("tab\there", "control character");
	bad_name("\xef\xbf\xbe", "XML cannot carry");     /* U+FFFE */
	bad_name("a\xc2\x85", "control character");   /* U+0085 */

	/* Valid UTF-8 and XML metacharacters are fine, escaped in the TOC. */
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);
	struct arc a;
	CHECK_EQ_INT(xarw_add_file(w, 0, "caf\xc3\xa9 <&> \xf0\x9f\x93\xa6",
	    XAR_ENC_RAW, "x", 1, &err), PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	CHECK(strstr(a.toc, "<name>caf\xc3\xa9 &lt;&amp;&gt; \xf0\x9f\x93\xa6"
	    "</name>") != NULL);
	xarw_free(w);
	arc_free(&a);
}

TEST(xar_misuse)
{
	pkgflat_error err = { 0 };
	xar_writer *w;
	struct arc a;
	struct xar_options o = { .toc_cksum = 2, .creation_time = CTIME };

	/* Options. */
	w = (xar_writer *)1;
	CHECK_EQ_INT(xarw_new(tmpdir(), "o.pkg", &o, &w, &err), PKGFLAT_E_USAGE);
	CHECK(w == NULL);
	CHECK_EQ_STR(err.file, "o.pkg");
	o.toc_cksum = XAR_CKSUM_SHA1;
	o.zlib_level = 10;
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_new(tmpdir(), "o.pkg", &o, &w, &err), PKGFLAT_E_USAGE);
	o.zlib_level = 0;
	o.creation_time = -1;
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_new(tmpdir(), "o.pkg", &o, &w, &err), PKGFLAT_E_USAGE);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_new("/nonexistent/dir", "o.pkg", NULL, &w, &err),
	    PKGFLAT_E_IO);
	CHECK(strstr(err.message, "/nonexistent/dir") != NULL);
	CHECK(err.sys_errno != 0);

	/* A parent that is not there, or not a directory. */
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_add_file(w, 7, "x", XAR_ENC_RAW, "x", 1, &err),
	    PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "parent 7 does not exist"));
	xarw_free(w);
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_add_file(w, 0, "f", XAR_ENC_RAW, "x", 1, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_dir(w, 1, "sub", NULL, &err), PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "not a directory"));
	xarw_free(w);

	/* Writes without a file; two files open; finish with one open. */
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_file_write(w, "x", 1, &err), PKGFLAT_E_USAGE);
	xarw_free(w);
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_file_begin(w, 0, "a", XAR_ENC_RAW, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_begin(w, 0, "b", XAR_ENC_RAW, &err),
	    PKGFLAT_E_USAGE);
	xarw_free(w);
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_file_begin(w, 0, "a", XAR_ENC_ZLIB, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_write(w, "abc", 3, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_finish(w, -1, &err), PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "while a file is open"));
	xarw_free(w);

	/* Finishing twice; a write error on the output. */
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_finish(w, -1, &err), PKGFLAT_E_USAGE);
	CHECK(strstr(err.message, "already finished"));
	xarw_free(w);
	arc_free(&a);
	w = new_writer(NULL);
	memset(&err, 0, sizeof err);
	CHECK_EQ_INT(xarw_finish(w, -1, &err), PKGFLAT_E_IO);
	CHECK_EQ_STR(err.file, "test.pkg");
	xarw_free(w);
	xarw_free(NULL);
}

/* An empty archive and an empty file: no <data>, no heap bytes. */
TEST(xar_empty)
{
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);
	struct arc a;

	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	CHECK_EQ_INT(a.n, a.heap + 20);
	CHECK(strstr(a.toc, "<file") == NULL);
	xarw_free(w);
	arc_free(&a);

	w = new_writer(NULL);
	CHECK_EQ_INT(xarw_add_file(w, 0, "empty", XAR_ENC_ZLIB, NULL, 0, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_begin(w, 0, "empty2", XAR_ENC_RAW, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(xarw_file_end(w, &err), PKGFLAT_OK);
	CHECK_EQ_INT(xarw_add_file(w, 0, "x", XAR_ENC_RAW, "x", 1, &err),
	    PKGFLAT_OK);
	CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
	/* An empty file: no <data>, straight to its attributes. */
	CHECK(strstr(a.toc, "<file id=\"1\">\n   <ctime>") != NULL);
	CHECK(strstr(a.toc, "   <mode>0644</mode>\n   <deviceno>0</deviceno>\n"
	    "   <inode>0</inode>\n   <type>file</type>\n"
	    "   <name>empty</name>\n  </file>") != NULL);
	CHECK_EQ_INT(toc_num(a.toc, "<data>", "offset"), 20);
	CHECK_EQ_INT(a.n, a.heap + 21);
	xarw_free(w);
	arc_free(&a);
}

/* Output to a pipe: no copy_file_range there, read/write takes over. */
TEST(xar_output_to_pipe)
{
	pkgflat_error err = { 0 };
	struct arc ref, viapipe = { 0 };
	int p[2];

	build_tree(&ref);
	CHECK(ref.n < 65536);   /* fits the pipe buffer */
	xar_writer *w = new_writer(NULL);
	add_tree(w);
	if (pipe(p) == 0) {
		CHECK_EQ_INT(xarw_finish(w, p[1], &err), PKGFLAT_OK);
		close(p[1]);
		viapipe.b = malloc(ref.n + 1);
		ssize_t r;
		while ((r = read(p[0], viapipe.b + viapipe.n, ref.n + 1 - viapipe.n)) > 0)
			viapipe.n += (size_t)r;
		close(p[0]);
		check_same(&ref, &viapipe, __LINE__);
	}
	xarw_free(w);
	arc_free(&ref);
	arc_free(&viapipe);
}

/* ------------------------------------------------------------------ */
/* A product-archive-shaped sample for the command-line tests         */

/*
 * Archive path, source file, encoding. The contents are stand-ins taken
 * from testdata (this is about the container, not about what Installer
 * would make of them); tests/cli/test_xarcheck.sh has the same table.
 */
static const struct {
	const char *path, *src;
	enum xar_encoding enc;
} sample[] = {
	{ "Distribution", "testdata/legacy/ExifTool-9.47.pkg/Contents/Resources/en.lproj/Description.plist", XAR_ENC_ZLIB },
	{ "Resources/en.lproj/Welcome.rtf", "testdata/cpython/resources/Welcome.rtf", XAR_ENC_ZLIB },
	{ "Resources/en.lproj/Localizable.strings", "/dev/null", XAR_ENC_ZLIB },
	{ "foo.pkg/PackageInfo", "testdata/legacy/ExifTool-9.47.pkg/Contents/Info.plist", XAR_ENC_ZLIB },
	{ "foo.pkg/Bom", "testdata/legacy/ExifTool-9.47.pkg/Contents/Archive.bom", XAR_ENC_ZLIB },
	{ "foo.pkg/Payload", "testdata/legacy/ExifTool-9.47.pkg/Contents/Archive.pax.gz", XAR_ENC_RAW },
};

/* The id of directory `path` (made on first use), 0 for the top level. */
static uint64_t sample_dir(xar_writer *w, const char *path, size_t len,
    char (*names)[64], uint64_t *ids, size_t *n, pkgflat_error *err)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], path, len))
			return ids[i];
	const char *slash = memchr(path, '/', len), *last = slash;
	while (slash) {
		last = slash;
		slash = memchr(slash + 1, '/', len - (size_t)(slash + 1 - path));
	}
	size_t plen = last ? (size_t)(last - path) : 0;
	uint64_t parent = sample_dir(w, path, plen, names, ids, n, err), id = 0;
	char base[64];
	snprintf(base, sizeof base, "%.*s", (int)(len - (last ? plen + 1 : 0)),
	    last ? last + 1 : path);
	if (xarw_add_dir(w, parent, base, &id, err) != PKGFLAT_OK)
		return UINT64_MAX;
	snprintf(names[*n], 64, "%.*s", (int)len, path);
	ids[(*n)++] = id;
	return id;
}

TEST(xar_sample)
{
	const char *out = getenv("PKGFLAT_XAR_SAMPLE");
	char tmp[4096];
	pkgflat_error err = { 0 };
	xar_writer *w = new_writer(NULL);
	char names[8][64];
	uint64_t ids[8];
	size_t ndirs = 0;
	FILE *of;

	if (!out) {
		snprintf(tmp, sizeof tmp, "%s/pkgflat-xar-sample-%ld.pkg",
		    tmpdir(), (long)getpid());
	}
	for (size_t i = 0; i < sizeof sample / sizeof *sample; i++) {
		const char *slash = strrchr(sample[i].path, '/');
		size_t dl = slash ? (size_t)(slash - sample[i].path) : 0;
		uint64_t parent = sample_dir(w, sample[i].path, dl, names, ids,
		    &ndirs, &err);
		FILE *f = fopen(sample[i].src, "rb");
		unsigned char buf[7777];   /* odd-sized chunks */
		size_t r;

		if (!f) {
			test_fail(__FILE__, __LINE__, "cannot open %s", sample[i].src);
			xarw_free(w);
			return;
		}
		CHECK_EQ_INT(xarw_file_begin(w, parent, slash ? slash + 1 :
		    sample[i].path, sample[i].enc, &err), PKGFLAT_OK);
		while ((r = fread(buf, 1, sizeof buf, f)) > 0)
			CHECK_EQ_INT(xarw_file_write(w, buf, r, &err), PKGFLAT_OK);
		fclose(f);
		CHECK_EQ_INT(xarw_file_end(w, &err), PKGFLAT_OK);
	}
	of = fopen(out ? out : tmp, "wb");
	CHECK(of != NULL);
	if (of) {
		CHECK_EQ_INT(xarw_finish(w, fileno(of), &err), PKGFLAT_OK);
		if (err.status)
			test_fail(__FILE__, __LINE__, "%s", err.message);
		CHECK(fclose(of) == 0);
	}
	if (!out)
		unlink(tmp);
	xarw_free(w);
}

/*
 * A member over 1 MiB added whole is deflated at level 7, one of 1 MiB at
 * 9: each the bytes an independent compress2() at that level makes (both
 * begin "78 da", as Apple's do). zlib 9 on a large Bom's records took
 * 24 s where 7 takes 3.4 s.
 */
TEST(xar_large_member_level)
{
	static const size_t sizes[] = { 1u << 20, (1u << 20) + 1 };
	static const int levels[] = { 9, 7 };

	for (size_t k = 0; k < 2; k++) {
		pkgflat_error err = { 0 };
		xar_writer *w = new_writer(NULL);
		struct arc a;
		size_t n = sizes[k];
		unsigned char *d = make_data(n, 5 + (uint32_t)k);
		uLongf zlen = compressBound((uLong)n);
		unsigned char *z = malloc(zlen);

		CHECK(d && z);
		CHECK_EQ_INT(xarw_add_file(w, 0, "Bom", XAR_ENC_ZLIB, d, n, &err),
		    PKGFLAT_OK);
		/* The next member is back at the writer's level. */
		CHECK_EQ_INT(xarw_add_file(w, 0, "PackageInfo", XAR_ENC_ZLIB,
		    "<pkg-info/>", 11, &err), PKGFLAT_OK);
		CHECK_EQ_INT(finish_to(w, &a, &err), PKGFLAT_OK);
		xarw_free(w);
		CHECK_EQ_INT(compress2(z, &zlen, d, (uLong)n, levels[k]), Z_OK);
		CHECK(z[0] == 0x78 && z[1] == 0xda);
		CHECK(!memcmp(a.b + a.heap + 20, z, zlen));
		uLongf slen = 64;
		unsigned char s[64];
		CHECK_EQ_INT(compress2(s, &slen, (const Bytef *)"<pkg-info/>", 11, 9),
		    Z_OK);
		CHECK(!memcmp(a.b + a.heap + 20 + zlen, s, slen));
		arc_free(&a);
		free(d);
		free(z);
	}
}
