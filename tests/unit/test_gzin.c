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

/* A gzip member of d (zlib's writer, independent of gzip_write.c). */
static void gz_member(strbuf *out, const unsigned char *d, size_t n)
{
	z_stream z = { 0 };
	unsigned char buf[4096];
	int r;

	CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8,
	    Z_DEFAULT_STRATEGY) == Z_OK);
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

/* Read all of gz in pieces; returns the status, *got the bytes decoded. */
static pkgflat_status read_all(const strbuf *gz, size_t piece, size_t *got,
    pkgflat_error *err)
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
	while ((n = gzin_read(g, buf, sizeof buf)) > 0)
		*got += (size_t)n;
	rc = n < 0 ? err->status : gzin_drain(g);
	gzin_free(g);
	return rc;
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
