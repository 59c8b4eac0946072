/*
 * gzip decoding for payloads (RFC 1952): one or more members, each a
 * 10-byte header (optional extra, name, comment, header CRC), raw deflate
 * data, then a trailer of CRC-32 and ISIZE (the length mod 2^32), both
 * little-endian. libarchive's gzip filter checks neither trailer field and
 * stops reading at the archive's end marker, before the trailer, so a
 * corrupt Archive.pax.gz would convert and its bytes be copied as they are.
 * Payloads are decoded here instead: zlib's gzip mode checks every member's
 * CRC-32 and ISIZE, and gzin_drain() reads to the end of the stream.
 *
 * After the last member only zero bytes may follow (gzip -t accepts them
 * without a word); anything else is trailing garbage, which gzip -t warns
 * about, and is an error here: a payload is what the writer produced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "payload.h"

#define GZIN_BUF (128 * 1024)

enum { IN_MEMBER, BETWEEN, DONE };

struct gzin {
	payload_read_fn rd;
	void *ctx;
	const char *file;
	pkgflat_error *err;
	z_stream z;
	int zinit;
	int state;
	int eof;              /* the source has ended */
	int corrupt;          /* gz_fail() said why */
	uint64_t fed;         /* compressed bytes handed to zlib so far */
	uint64_t member;      /* 1-based number of the current member */
	unsigned char in[GZIN_BUF];
};

/* Offset of the next compressed byte zlib has not consumed. */
static uint64_t pos(const struct gzin *g)
{
	return g->fed - g->z.avail_in;
}

static long gz_fail(struct gzin *g, uint64_t off, const char *what,
    const char *detail)
{
	char where[96];

	snprintf(where, sizeof where, "offset %llu (gzip member %llu)",
	    (unsigned long long)off, (unsigned long long)g->member);
	fail(g->err, PKGFLAT_E_FORMAT, g->file, where, "%s%s", what,
	    detail ? detail : "");
	g->state = DONE;
	g->corrupt = 1;
	return -1;
}

/* More compressed bytes, when zlib has used up the last ones. */
static int refill(struct gzin *g)
{
	if (g->z.avail_in || g->eof)
		return 0;
	long n = g->rd(g->ctx, g->in, sizeof g->in);
	if (n < 0) {
		g->state = DONE;
		return -1;
	}
	if (n == 0)
		g->eof = 1;
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)n;
	g->fed += (uint64_t)n;
	return 0;
}

pkgflat_status gzin_open(payload_read_fn rd, void *ctx,
    const unsigned char *pre, size_t npre, const char *file,
    struct gzin **out, pkgflat_error *err)
{
	struct gzin *g = calloc(1, sizeof *g);

	*out = NULL;
	if (!g || npre > sizeof g->in) {
		free(g);
		return fail_nomem(err);
	}
	g->rd = rd;
	g->ctx = ctx;
	g->file = file;
	g->err = err;
	g->member = 1;
	/* 16 + 15: gzip wrapper only, the largest window. */
	if (inflateInit2(&g->z, 16 + 15) != Z_OK) {
		free(g);
		return fail_nomem(err);
	}
	g->zinit = 1;
	memcpy(g->in, pre, npre);
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)npre;
	g->fed = npre;
	*out = g;
	return PKGFLAT_OK;
}

/* After a member: the next one, zero padding to the end, or garbage. */
static int between(struct gzin *g)
{
	for (;;) {
		if (refill(g))
			return -1;
		if (!g->z.avail_in) {
			g->state = DONE;
			return 0;
		}
		if (g->z.next_in[0] == 0x1f) {
			g->member++;
			if (inflateReset(&g->z) != Z_OK)
				return (int)gz_fail(g, pos(g),
				    "cannot restart gzip decoding", NULL);
			g->state = IN_MEMBER;
			return 0;
		}
		if (g->z.next_in[0] != 0) {
			return (int)gz_fail(g, pos(g),
			    "trailing garbage after the last gzip member", NULL);
		}
		/* Zeros: skip them, but a member never starts after them. */
		while (g->z.avail_in && g->z.next_in[0] == 0) {
			g->z.next_in++;
			g->z.avail_in--;
		}
		if (g->z.avail_in) {
			return (int)gz_fail(g, pos(g),
			    "trailing garbage after the last gzip member", NULL);
		}
	}
}

long gzin_read(void *p, void *buf, size_t n)
{
	struct gzin *g = p;

	if (n > UINT32_MAX)
		n = UINT32_MAX;
	while (g->state != DONE) {
		if (g->state == BETWEEN) {
			if (between(g))
				return -1;
			continue;
		}
		if (refill(g))
			return -1;
		g->z.next_out = buf;
		g->z.avail_out = (uInt)n;
		int r = inflate(&g->z, Z_NO_FLUSH);
		size_t got = n - g->z.avail_out;
		if (r == Z_STREAM_END) {
			g->state = BETWEEN;
		} else if (r == Z_DATA_ERROR) {
			const char *m = g->z.msg ? g->z.msg : "invalid data";
			/* zlib has read the 4-byte field it rejects. */
			if (!strcmp(m, "incorrect data check"))
				return gz_fail(g, pos(g) - 4, "CRC-32 in the gzip "
				    "trailer does not match the data (corrupt)", NULL);
			if (!strcmp(m, "incorrect length check"))
				return gz_fail(g, pos(g) - 4, "length in the gzip "
				    "trailer (ISIZE) does not match the data (corrupt)",
				    NULL);
			return gz_fail(g, pos(g), "corrupt gzip data: ", m);
		} else if (r == Z_MEM_ERROR) {
			fail_nomem(g->err);
			g->state = DONE;
			return -1;
		} else if (r == Z_BUF_ERROR || (r == Z_OK && !got)) {
			if (g->eof)
				return gz_fail(g, pos(g),
				    "gzip data ends inside a member (truncated)", NULL);
		} else if (r != Z_OK) {
			return gz_fail(g, pos(g), "corrupt gzip data: ",
			    g->z.msg ? g->z.msg : "inflate failed");
		}
		if (got)
			return (long)got;
	}
	return 0;
}

pkgflat_status gzin_drain(struct gzin *g)
{
	unsigned char buf[16384];
	long n;

	while ((n = gzin_read(g, buf, sizeof buf)) > 0)
		;
	if (n < 0)
		return g->err->status ? g->err->status : PKGFLAT_E_IO;
	return PKGFLAT_OK;
}

int gzin_failed(const struct gzin *g)
{
	return g && g->corrupt;
}

void gzin_free(struct gzin *g)
{
	if (!g)
		return;
	if (g->zinit)
		inflateEnd(&g->z);
	free(g);
}
