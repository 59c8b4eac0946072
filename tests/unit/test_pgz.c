/* The parallel gzip writer: valid gzip, same bytes for any thread count. */
#include <stdlib.h>
#include <zlib.h>

#include "internal.h"
#include "gzip_write.h"
#include "test.h"

static int collect(void *ctx, const void *data, size_t len)
{
	sb_add(ctx, data, len);
	return ((strbuf *)ctx)->oom;
}

static strbuf compress_with(const unsigned char *d, size_t n, int threads,
    size_t piece)
{
	strbuf out = { 0 };
	pgz *g = pgz_new(6, threads, collect, &out);

	CHECK(g != NULL);
	for (size_t i = 0; g && i < n; i += piece)
		CHECK(pgz_write(g, d + i, n - i < piece ? n - i : piece) == 0);
	CHECK(g && pgz_finish(g) == 0);
	pgz_free(g);
	return out;
}

static unsigned char *gunzip(const strbuf *gz, size_t want)
{
	unsigned char *buf = malloc(want + 1);
	z_stream z = { 0 };

	CHECK(inflateInit2(&z, 31) == Z_OK);
	z.next_in = (Bytef *)gz->buf;
	z.avail_in = (uInt)gz->len;
	z.next_out = buf;
	z.avail_out = (uInt)want + 1;
	CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END); /* checks CRC and length */
	CHECK_EQ_INT(z.total_out, want);
	CHECK_EQ_INT(z.avail_in, 0);
	inflateEnd(&z);
	return buf;
}

TEST(pgz_roundtrip_and_deterministic)
{
	size_t n = (3u << 20) + 12345;
	unsigned char *d = malloc(n);
	uint32_t x = 1;

	/* Half noise, half text: both kinds of block. */
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = i < n / 2 ? (unsigned char)(x >> 16) : (unsigned char)("pkgflat "[i % 8]);
	}
	strbuf a = compress_with(d, n, 1, 65536);
	strbuf b = compress_with(d, n, 3, 7777);
	CHECK_EQ_INT(a.len, b.len);
	CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	/* gzip header as Apple's payloads have it: no name, mtime 0, OS 3. */
	CHECK(!memcmp(a.buf, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10));
	unsigned char *back = gunzip(&a, n);
	CHECK(memcmp(back, d, n) == 0);
	free(back);
	/* Empty input is a valid empty gzip stream too. */
	strbuf e = compress_with(d, 0, 2, 1);
	free(gunzip(&e, 0));
	sb_free(&a);
	sb_free(&b);
	sb_free(&e);
	free(d);
}
