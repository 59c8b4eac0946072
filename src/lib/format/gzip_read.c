/*
 * gzip decoding for payloads (RFC 1952): one or more members, each a
 * 10-byte header (optional extra, name, comment, header CRC), raw deflate
 * data, then a trailer of CRC-32 and ISIZE (the length mod 2^32), both
 * little-endian. libarchive's gzip filter checks neither trailer field and
 * stops reading at the archive's end marker, before the trailer, so a
 * corrupt Archive.pax.gz would convert and its bytes be copied as they are.
 * Payloads are decoded here instead: every member's header, CRC-32 and
 * ISIZE are checked, and gzin_drain() reads to the end of the stream.
 *
 * After the last member only zero bytes may follow (gzip -t accepts them
 * without a word); anything else is trailing garbage, which gzip -t warns
 * about, and is an error here: a payload is what the writer produced.
 *
 * The header and trailer are read here; the deflate data in between goes
 * to ISA-L's inflater where the build has it (about 2.4 times zlib's speed
 * on payloads: inflating is most of what convert, verify and diff do),
 * else to zlib's. Both stop at the deflate stream's last bit and leave the
 * trailer's bytes unread, and the CRC-32 is libdeflate's, so the checks and
 * the error messages are the same whichever decodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#ifdef PKGFLAT_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#include "payload.h"

#define GZIN_BUF (128 * 1024)

/* gzip header flags (RFC 1952 2.3.1). */
#define FHCRC    0x02
#define FEXTRA   0x04
#define FNAME    0x08
#define FCOMMENT 0x10
#define FRESERVED 0xe0

enum { HEADER, IN_MEMBER, TRAILER, BETWEEN, DONE };

struct gzin {
	payload_read_fn rd;
	void *ctx;
	const char *file;
	pkgflat_error *err;
#ifdef PKGFLAT_HAVE_ISAL
	struct inflate_state is;
#else
	z_stream z;
	int zinit;
#endif
	int state;
	int eof;              /* the source has ended */
	int corrupt;          /* gz_fail() said why */
	uint64_t fed;         /* compressed bytes read from the source so far */
	uint64_t member;      /* 1-based number of the current member */
	uint32_t crc;         /* of the member's data so far */
	uint64_t len;         /* of the member's data so far */
	const unsigned char *next;  /* unread input: in[] from next, avail */
	size_t avail;
	unsigned char back[8];      /* read by the inflater, not used: first */
	size_t nback, iback;
	unsigned char in[GZIN_BUF];
};

/* Offset of the next compressed byte not yet used. */
static uint64_t pos(const struct gzin *g)
{
	return g->fed - g->avail - (g->nback - g->iback);
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

static long truncated(struct gzin *g)
{
	return gz_fail(g, pos(g), "gzip data ends inside a member (truncated)",
	    NULL);
}

/* More compressed bytes, when the last ones are used up. */
static int refill(struct gzin *g)
{
	if (g->avail || g->eof)
		return 0;
	long n = g->rd(g->ctx, g->in, sizeof g->in);
	if (n < 0) {
		g->state = DONE;
		return -1;
	}
	if (n == 0)
		g->eof = 1;
	g->next = g->in;
	g->avail = (size_t)n;
	g->fed += (uint64_t)n;
	return 0;
}

/* The next byte of a header or trailer; -1 after an error (said), or at
 * the end of the data (said as a truncation). */
static int byte(struct gzin *g)
{
	if (g->iback < g->nback)
		return g->back[g->iback++];
	if (refill(g))
		return -1;
	if (!g->avail) {
		truncated(g);
		return -1;
	}
	g->avail--;
	return *g->next++;
}

static int skip_string(struct gzin *g, uint32_t *hcrc)
{
	for (;;) {
		int c = byte(g);
		if (c < 0)
			return -1;
		unsigned char b = (unsigned char)c;
		*hcrc = libdeflate_crc32(*hcrc, &b, 1);
		if (!c)
			return 0;
	}
}

static int inflate_reset(struct gzin *g)
{
#ifdef PKGFLAT_HAVE_ISAL
	isal_inflate_init(&g->is);
	g->is.crc_flag = ISAL_DEFLATE;
	g->nback = g->iback = 0;
	return 0;
#else
	return inflateReset(&g->z) == Z_OK ? 0 : -1;
#endif
}

/* A member's header, up to its deflate data. */
static int header(struct gzin *g)
{
	unsigned char h[10];
	uint64_t at = pos(g);
	uint32_t hcrc;

	for (size_t i = 0; i < sizeof h; i++) {
		int c = byte(g);
		if (c < 0)
			return -1;
		h[i] = (unsigned char)c;
	}
	if (h[0] != 0x1f || h[1] != 0x8b)
		return (int)gz_fail(g, at, "corrupt gzip data: ",
		    "incorrect header check");
	if (h[2] != 8)
		return (int)gz_fail(g, at + 2, "corrupt gzip data: ",
		    "unknown compression method");
	if (h[3] & FRESERVED)
		return (int)gz_fail(g, at + 3, "corrupt gzip data: ",
		    "unknown header flags set");
	hcrc = libdeflate_crc32(0, h, sizeof h);
	if (h[3] & FEXTRA) {
		int lo = byte(g), hi = lo < 0 ? -1 : byte(g);
		if (hi < 0)
			return -1;
		unsigned char xl[2] = { (unsigned char)lo, (unsigned char)hi };
		hcrc = libdeflate_crc32(hcrc, xl, 2);
		for (unsigned n = (unsigned)lo | (unsigned)hi << 8; n; n--) {
			int c = byte(g);
			if (c < 0)
				return -1;
			unsigned char b = (unsigned char)c;
			hcrc = libdeflate_crc32(hcrc, &b, 1);
		}
	}
	if ((h[3] & FNAME) && skip_string(g, &hcrc))
		return -1;
	if ((h[3] & FCOMMENT) && skip_string(g, &hcrc))
		return -1;
	if (h[3] & FHCRC) {
		uint64_t hat = pos(g);
		int lo = byte(g), hi = lo < 0 ? -1 : byte(g);
		if (hi < 0)
			return -1;
		if (((unsigned)lo | (unsigned)hi << 8) != (hcrc & 0xffff))
			return (int)gz_fail(g, hat, "corrupt gzip data: ",
			    "header crc mismatch");
	}
	if (inflate_reset(g))
		return (int)gz_fail(g, pos(g), "cannot restart gzip decoding",
		    NULL);
	g->crc = 0;
	g->len = 0;
	g->state = IN_MEMBER;
	return 0;
}

static int trailer(struct gzin *g)
{
	unsigned char t[8];
	uint64_t at = pos(g);

	for (size_t i = 0; i < sizeof t; i++) {
		int c = byte(g);
		if (c < 0)
			return -1;
		t[i] = (unsigned char)c;
	}
	uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 |
	    (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
	uint32_t isize = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
	    (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
	if (crc != g->crc)
		return (int)gz_fail(g, at, "CRC-32 in the gzip trailer does "
		    "not match the data (corrupt)", NULL);
	if (isize != (uint32_t)g->len)
		return (int)gz_fail(g, at + 4, "length in the gzip trailer "
		    "(ISIZE) does not match the data (corrupt)", NULL);
	g->state = BETWEEN;
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
#ifndef PKGFLAT_HAVE_ISAL
	/* -15: raw deflate, the largest window; the wrapper is ours. */
	if (inflateInit2(&g->z, -15) != Z_OK) {
		free(g);
		return fail_nomem(err);
	}
	g->zinit = 1;
#endif
	if (npre)
		memcpy(g->in, pre, npre);
	g->next = g->in;
	g->avail = npre;
	g->fed = npre;
	g->state = HEADER;
	*out = g;
	return PKGFLAT_OK;
}

/* After a member: the next one, zero padding to the end, or garbage. */
static int between(struct gzin *g)
{
	for (;;) {
		if (refill(g))
			return -1;
		if (!g->avail) {
			g->state = DONE;
			return 0;
		}
		if (g->next[0] == 0x1f) {
			g->member++;
			g->state = HEADER;
			return 0;
		}
		if (g->next[0] != 0) {
			return (int)gz_fail(g, pos(g),
			    "trailing garbage after the last gzip member", NULL);
		}
		/* Zeros: skip them, but a member never starts after them. */
		while (g->avail && g->next[0] == 0) {
			g->next++;
			g->avail--;
		}
		if (g->avail) {
			return (int)gz_fail(g, pos(g),
			    "trailing garbage after the last gzip member", NULL);
		}
	}
}

/*
 * Inflate from next/avail into buf: the bytes made, or -1 (said). *end
 * is set once the deflate stream's last block is done and all of it is
 * out; the input is then left at the trailer's first byte.
 */
static long inflate_some(struct gzin *g, unsigned char *buf, size_t n,
    int *end)
{
#ifdef PKGFLAT_HAVE_ISAL
	struct inflate_state *s = &g->is;

	s->next_in = (uint8_t *)g->next;
	s->avail_in = (uint32_t)g->avail;
	s->next_out = buf;
	s->avail_out = (uint32_t)n;
	int r = isal_inflate(s);
	g->next = s->next_in;
	g->avail = s->avail_in;
	if (r != ISAL_DECOMP_OK && r != ISAL_END_INPUT) {
		const char *m = r == ISAL_INVALID_BLOCK ? "invalid block type" :
		    r == ISAL_INVALID_SYMBOL ? "invalid code in a block" :
		    r == ISAL_INVALID_LOOKBACK ? "invalid distance too far back" :
		    "invalid data";
		return gz_fail(g, pos(g), "corrupt gzip data: ", m);
	}
	*end = s->block_state == ISAL_BLOCK_FINISH;
	if (*end) {
		/* The inflater reads ahead up to 8 bytes into read_in and
		 * keeps those past the stream's end there: the trailer's
		 * first bytes, after the last byte's padding bits. */
		uint64_t bits = s->read_in >> (s->read_in_length & 7);
		g->nback = (size_t)s->read_in_length / 8;
		g->iback = 0;
		for (size_t i = 0; i < g->nback; i++)
			g->back[i] = (unsigned char)(bits >> (8 * i));
		s->read_in = 0;
		s->read_in_length = 0;
	}
	return (long)(n - s->avail_out);
#else
	z_stream *z = &g->z;

	z->next_in = (Bytef *)g->next;
	z->avail_in = (uInt)g->avail;
	z->next_out = buf;
	z->avail_out = (uInt)n;
	int r = inflate(z, Z_NO_FLUSH);
	g->next = z->next_in;
	g->avail = z->avail_in;
	if (r == Z_MEM_ERROR) {
		fail_nomem(g->err);
		g->state = DONE;
		return -1;
	}
	if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
		return gz_fail(g, pos(g), "corrupt gzip data: ",
		    z->msg ? z->msg : "invalid data");
	*end = r == Z_STREAM_END;
	return (long)(n - z->avail_out);
#endif
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
		if (g->state == HEADER) {
			if (header(g))
				return -1;
			continue;
		}
		if (g->state == TRAILER) {
			if (trailer(g))
				return -1;
			continue;
		}
		if (refill(g))
			return -1;
		int end = 0;
		size_t before = g->avail;
		long got = inflate_some(g, buf, n, &end);
		if (got < 0)
			return -1;
		/* Neither decoder stops with input and room left unless the
		 * stream is done: never spin. */
		if (!got && !end && g->avail && g->avail == before)
			return gz_fail(g, pos(g), "corrupt gzip data: ",
			    "the decoder made no progress");
		if (got) {
			g->crc = libdeflate_crc32(g->crc, buf, (size_t)got);
			g->len += (uint64_t)got;
		}
		/* The trailer is checked before the member's last bytes go
		 * out, as zlib's gzip mode does: a corrupt end is then found
		 * while the reader above is still in its last entry. */
		if (end) {
			g->state = TRAILER;
			if (trailer(g))
				return -1;
		} else if (!got && !g->avail && g->eof)
			return truncated(g);
		if (got)
			return got;
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
#ifndef PKGFLAT_HAVE_ISAL
	if (g->zinit)
		inflateEnd(&g->z);
#endif
	free(g);
}
