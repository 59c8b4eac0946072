/*
 * The checking gzip reader: what zlib's own gzip writer (compress2 through
 * deflateInit2 with a gzip wrapper) produced reads back; a flipped trailer
 * byte, a cut, trailing garbage are errors with an offset; zero padding
 * and several members are read as gzip -t reads them.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"
#include "payload.h"
#include "test.h"

struct mem {
	const unsigned char *p;
	size_t n, pos, piece;
};

static long mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	size_t k = m->n - m->pos;

	if (k > n)
		k = n;
	if (k > m->piece)
		k = m->piece;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (long)k;
}

/* A gzip member of d at level (zlib's writer, independent of gzip_write.c);
 * full: with an extra field, name, comment and header CRC, as zlib writes
 * them (deflateSetHeader). */
static void gz_member_at(strbuf *out, const unsigned char *d, size_t n,
    int level, int full)
{
	z_stream z = { 0 };
	gz_header h = { 0 };
	unsigned char buf[4096];
	static unsigned char extra[] = "AP\x04\0abcd";
	int r;

	CHECK(deflateInit2(&z, level, Z_DEFLATED, 16 + 15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
	if (full) {
		h.extra = extra;
		h.extra_len = sizeof extra - 1;
		h.name = (Bytef *)"Archive.pax";
		h.comment = (Bytef *)"made by zlib";
		h.hcrc = 1;
		CHECK(deflateSetHeader(&z, &h) == Z_OK);
	}
	z.next_in = (Bytef *)d;
	z.avail_in = (uInt)n;
	do {
		z.next_out = buf;
		z.avail_out = sizeof buf;
		r = deflate(&z, Z_FINISH);
		sb_add(out, buf, sizeof buf - z.avail_out);
	} while (r == Z_OK);
	CHECK(r == Z_STREAM_END);
	deflateEnd(&z);
}

static void gz_member(strbuf *out, const unsigned char *d, size_t n)
{
	gz_member_at(out, d, n, 6, 0);
}

static void gz_member_hdr(strbuf *out, const unsigned char *d, size_t n,
    int level)
{
	gz_member_at(out, d, n, level, 1);
}

/* Read all of gz in pieces; returns the status, *got the bytes decoded,
 * compared with want[0..] as they come when want is given. */
static pkgflat_status read_check(const strbuf *gz, size_t piece, size_t *got,
    const unsigned char *want, pkgflat_error *err)
{
	struct mem m = { (const unsigned char *)gz->buf, gz->len, 2, piece };
	struct gzin *g = NULL;
	unsigned char buf[3000];
	pkgflat_status rc;
	long n;

	pkgflat_error_clear(err);
	*got = 0;
	if ((rc = gzin_open(mem_read, &m, m.p, 2, "t.gz", &g, err)))
		return rc;
	while ((n = gzin_read(g, buf, sizeof buf)) > 0) {
		if (want && memcmp(buf, want + *got, (size_t)n)) {
			gzin_free(g);
			return PKGFLAT_E_INTERNAL;
		}
		*got += (size_t)n;
	}
	rc = n < 0 ? err->status : gzin_drain(g);
	gzin_free(g);
	return rc;
}

static pkgflat_status read_all(const strbuf *gz, size_t piece, size_t *got,
    pkgflat_error *err)
{
	return read_check(gz, piece, got, NULL, err);
}

TEST(gzin_checks_trailers)
{
	size_t n = 200000, got;
	unsigned char *d = malloc(n);
	uint32_t x = 7;
	pkgflat_error err;
	strbuf one = { 0 }, two = { 0 }, bad = { 0 };

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = i % 3 ? (unsigned char)(x >> 24) : 'a';
	}
	gz_member(&one, d, n);
	CHECK_EQ_INT(read_all(&one, 1000, &got, &err), PKGFLAT_OK);
	CHECK_EQ_INT(got, n);
	CHECK_EQ_INT(read_all(&one, 1, &got, &err), PKGFLAT_OK);

	/* Two members and zero padding: as gzip -t. */
	gz_member(&two, d, n / 3);
	gz_member(&two, d + n / 3, n - n / 3);
	sb_add(&two, "\0\0\0\0\0\0\0", 7);
	CHECK_EQ_INT(read_all(&two, 777, &got, &err), PKGFLAT_OK);
	CHECK_EQ_INT(got, n);

	/* Each trailer byte flipped: an error at the field, naming it. */
	for (size_t k = 8; k >= 1; k--) {
		sb_free(&bad);
		sb_add(&bad, one.buf, one.len);
		bad.buf[bad.len - k] ^= 0x20;
		CHECK_EQ_INT(read_all(&bad, 4096, &got, &err), PKGFLAT_E_FORMAT);
		CHECK(strstr(err.message, k > 4 ? "CRC-32" : "ISIZE") != NULL);
		char want[64];
		snprintf(want, sizeof want, "offset %zu (gzip member 1)",
		    bad.len - (k > 4 ? 8 : 4));
		CHECK_EQ_STR(err.where, want);
	}
	/* The second member's CRC. */
	sb_free(&bad);
	sb_add(&bad, two.buf, two.len - 7);
	bad.buf[bad.len - 8] ^= 1;
	CHECK_EQ_INT(read_all(&bad, 4096, &got, &err), PKGFLAT_E_FORMAT);
	CHECK(strstr(err.where, "(gzip member 2)") != NULL);

	/* Cut anywhere in the member, even inside the trailer. */
	for (size_t cut = 1; cut < 12; cut += 3) {
		sb_free(&bad);
		sb_add(&bad, one.buf, one.len - cut);
		CHECK_EQ_INT(read_all(&bad, 4096, &got, &err), PKGFLAT_E_FORMAT);
		CHECK(strstr(err.message, "(truncated)") != NULL);
	}
	/* Garbage after the last member, straight or after zeros. */
	sb_free(&bad);
	sb_add(&bad, one.buf, one.len);
	sb_add(&bad, "\0\0x", 3);
	CHECK_EQ_INT(read_all(&bad, 4096, &got, &err), PKGFLAT_E_FORMAT);
	CHECK(strstr(err.message, "trailing garbage") != NULL);
	sb_free(&bad);
	sb_add(&bad, one.buf, one.len);
	sb_add(&bad, "PK", 2);
	CHECK_EQ_INT(read_all(&bad, 4096, &got, &err), PKGFLAT_E_FORMAT);
	CHECK(strstr(err.message, "trailing garbage") != NULL);

	sb_free(&one);
	sb_free(&two);
	sb_free(&bad);
	free(d);
}

/*
 * The inflater reads ahead: whatever the pieces the source hands over
 * (the trailer split anywhere between them, a member ending where a piece
 * does), every member's data comes out whole and right, and its trailer
 * is found. Stored blocks (level 0), fixed and dynamic Huffman blocks, an
 * empty member, and full headers (extra, name, comment, header CRC).
 */
TEST(gzin_any_piece_size)
{
	size_t n = 70000, got;
	unsigned char *d = malloc(2 * n);
	uint32_t x = 11;
	pkgflat_error err;
	strbuf s = { 0 };

	for (size_t i = 0; i < 2 * n; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = i % 5 ? (unsigned char)(x >> 24) : (unsigned char)('a' + i % 7);
	}
	memcpy(d + n, d, n);
	gz_member(&s, d, 2 * n);
	gz_member_hdr(&s, d, 100, 9);
	gz_member(&s, d, 0);
	gz_member_hdr(&s, d + 3, n, 0);
	gz_member_hdr(&s, d + 5, 5000, 1);
	strbuf want = { 0 };
	sb_add(&want, d, 2 * n);
	sb_add(&want, d, 100);
	sb_add(&want, d + 3, n);
	sb_add(&want, d + 5, 5000);
	static const size_t pieces[] = { 1, 2, 3, 5, 7, 8, 9, 13, 31, 64, 255,
	    256, 257, 1000, 4095, 4096, 4097, 65536, 1u << 20 };
	for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
		pkgflat_status rc = read_check(&s, pieces[i], &got,
		    (const unsigned char *)want.buf, &err);
		if (rc)
			test_fail(__FILE__, __LINE__, "piece %zu: status %d: %s: %s",
			    pieces[i], rc, err.where, err.message);
		CHECK_EQ_INT(got, want.len);
	}
	/* Every trailer of every member cut off at every byte: an error. */
	for (size_t cut = 1; cut <= 8; cut++) {
		strbuf t = { 0 };
		sb_add(&t, s.buf, s.len - cut);
		CHECK_EQ_INT(read_all(&t, 4096, &got, &err), PKGFLAT_E_FORMAT);
		CHECK(strstr(err.message, "(truncated)") != NULL);
		sb_free(&t);
	}
	sb_free(&s);
	sb_free(&want);
	free(d);
}

/* Header damage: each check names the place. */
TEST(gzin_header_errors)
{
	static const struct {
		size_t at;
		unsigned char xor;
		const char *msg, *where;
	} cases[] = {
		{ 1, 0x01, "incorrect header check", "offset 0 (gzip member 1)" },
		{ 2, 0x01, "unknown compression method", "offset 2 (gzip member 1)" },
		{ 3, 0x80, "unknown header flags set", "offset 3 (gzip member 1)" },
		/* A byte of the extra field: the header CRC no longer matches. */
		{ 12, 0x01, "header crc mismatch", NULL },
	};
	unsigned char d[300];
	size_t got;
	pkgflat_error err;

	memset(d, 'x', sizeof d);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		strbuf s = { 0 };
		gz_member_hdr(&s, d, sizeof d, 6);
		s.buf[cases[i].at] ^= cases[i].xor;
		CHECK_EQ_INT(read_all(&s, 4096, &got, &err), PKGFLAT_E_FORMAT);
		CHECK(strstr(err.message, cases[i].msg) != NULL);
		if (cases[i].where)
			CHECK_EQ_STR(err.where, cases[i].where);
		CHECK_EQ_INT(got, 0);
		sb_free(&s);
	}
	/* Cut inside the header (in the name): truncated, not garbage. */
	strbuf s = { 0 };
	gz_member_hdr(&s, d, sizeof d, 6);
	s.len = 20;
	CHECK_EQ_INT(read_all(&s, 4096, &got, &err), PKGFLAT_E_FORMAT);
	CHECK(strstr(err.message, "(truncated)") != NULL);
	sb_free(&s);
	/* A broken deflate stream: a block of the reserved type 3. */
	strbuf b = { 0 };
	sb_add(&b, "\x1f\x8b\x08\0\0\0\0\0\0\x03\x07\0\0\0\0\0\0\0", 18);
	CHECK_EQ_INT(read_all(&b, 4096, &got, &err), PKGFLAT_E_FORMAT);
	CHECK(strstr(err.message, "corrupt gzip data: ") != NULL);
	sb_free(&b);
}
