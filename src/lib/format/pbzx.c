/*
 * pbzx payloads (flat-format.md §3.2): "pbzx", a big-endian u64 of flags
 * (the chunk size the writer used), then chunks of
 *
 *   u64 BE uncompressed length, u64 BE stored length, stored bytes
 *
 * where the bytes are an xz stream, or the data itself when both lengths
 * are equal. The chunks concatenate to an odc cpio (or, from pkgbuild
 * --compression latest, an Apple Archive: aar.c). Apple Archive's other
 * compressed forms use the same chunks with another letter after "pbz":
 * "pbzz" zlib (raw deflate, as Apple's libcompression writes it; a zlib
 * header is accepted too) and "pbz-" stored. Each xz chunk is
 * decoded with libarchive's xz filter over the raw format; memory is one
 * stored chunk at a time (writers use 16 MiB), never the whole payload.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "payload.h"

#define PBZX_MAX_CHUNK (256u << 20)

struct pbzx {
	payload_read_fn rd;
	void *ctx;
	const char *file;
	pkgflat_error *err;
	const unsigned char *pre;  /* bytes read ahead by the caller */
	size_t npre;
	uint64_t off;              /* stored bytes consumed, for messages */
	uint64_t chunk;            /* chunks seen */
	uint64_t raw_left;         /* raw chunk: bytes still to pass through */
	uint64_t xz_left;          /* xz chunk: decoded bytes still expected */
	unsigned char *cbuf;       /* xz chunk: its stored bytes */
	size_t ccap;
	struct archive *ar;
	int done;
	char alg;                  /* 'x' xz, 'z' zlib, '-' stored */
	unsigned char *dbuf;       /* zlib chunk: its decoded bytes */
	size_t dlen, dpos;
};

static long chunk_fail(struct pbzx *p, const char *what, const char *detail)
{
	char where[64];

	snprintf(where, sizeof where, "pbz%c chunk %llu", p->alg,
	    (unsigned long long)p->chunk);
	fail(p->err, PKGFLAT_E_FORMAT, p->file, where, "%s%s", what,
	    detail ? detail : "");
	return -1;
}

/* Up to n stored bytes: read-ahead first, then the source. */
static long pull(struct pbzx *p, void *buf, size_t n)
{
	if (p->npre) {
		size_t k = n < p->npre ? n : p->npre;
		memcpy(buf, p->pre, k);
		p->pre += k;
		p->npre -= k;
		p->off += k;
		return (long)k;
	}
	long r = p->rd(p->ctx, buf, n);
	if (r > 0)
		p->off += (uint64_t)r;
	return r;
}

/* Exactly n bytes; 0 when the stream ended before the first byte. */
static int pull_all(struct pbzx *p, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		long r = pull(p, buf + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (!got)
				return 0;
			chunk_fail(p, "stream ends inside a chunk", NULL);
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/* A zlib chunk decodes whole into dbuf: chunks are at most the writer's
 * block size (1 MiB for Apple Archive). */
static int inflate_chunk(struct pbzx *p, size_t clen, uint64_t ulen)
{
	z_stream z;
	unsigned char *b;

	if (ulen > PBZX_MAX_CHUNK) {
		chunk_fail(p, "chunk larger than any writer makes", NULL);
		return -1;
	}
	if (!(b = realloc(p->dbuf, ulen ? (size_t)ulen : 1))) {
		fail_nomem(p->err);
		return -1;
	}
	p->dbuf = b;
	memset(&z, 0, sizeof z);
	/* A zlib header (CMF 0x?8, FCHECK) or raw deflate. */
	int wrapped = clen >= 2 && (p->cbuf[0] & 0x0f) == 8 &&
	    ((p->cbuf[0] << 8) | p->cbuf[1]) % 31 == 0;
	if (inflateInit2(&z, wrapped ? 15 : -15) != Z_OK) {
		fail_nomem(p->err);
		return -1;
	}
	z.next_in = p->cbuf;
	z.avail_in = (uInt)clen;
	z.next_out = b;
	z.avail_out = (uInt)ulen;
	int r = inflate(&z, Z_FINISH);
	size_t got = z.total_out;
	inflateEnd(&z);
	if (r != Z_STREAM_END || got != ulen) {
		chunk_fail(p, r == Z_STREAM_END || r == Z_BUF_ERROR ?
		    "zlib data does not decode to the length the chunk says" :
		    "not zlib data", NULL);
		return -1;
	}
	p->dlen = (size_t)ulen;
	p->dpos = 0;
	return 1;
}

static int next_chunk(struct pbzx *p)
{
	unsigned char h[16];
	int r = pull_all(p, h, sizeof h);

	if (r <= 0) {
		p->done = r == 0;
		return r;
	}
	p->chunk++;
	uint64_t ulen = be64(h), clen = be64(h + 8);
	if (clen == ulen) {
		p->raw_left = ulen;
		return 1;
	}
	if (clen > PBZX_MAX_CHUNK || ulen > ((uint64_t)1 << 40)) {
		chunk_fail(p, "chunk larger than any writer makes", NULL);
		return -1;
	}
	if (clen > p->ccap) {
		unsigned char *b = realloc(p->cbuf, (size_t)clen);
		if (!b) {
			fail_nomem(p->err);
			return -1;
		}
		p->cbuf = b;
		p->ccap = (size_t)clen;
	}
	if ((r = pull_all(p, p->cbuf, (size_t)clen)) <= 0) {
		if (r == 0)
			chunk_fail(p, "stream ends inside a chunk", NULL);
		return -1;
	}
	if (p->alg == 'z')
		return inflate_chunk(p, (size_t)clen, ulen);
	if (p->alg != 'x') {
		chunk_fail(p, "a stored stream's chunk is compressed", NULL);
		return -1;
	}
	struct archive_entry *ent;
	if (p->ar)
		archive_read_free(p->ar);
	if (!(p->ar = archive_read_new())) {
		fail_nomem(p->err);
		return -1;
	}
	archive_read_append_filter(p->ar, ARCHIVE_FILTER_XZ);
	archive_read_support_format_raw(p->ar);
	if (archive_read_open_memory(p->ar, p->cbuf, (size_t)clen) != ARCHIVE_OK ||
	    archive_read_next_header(p->ar, &ent) != ARCHIVE_OK) {
		chunk_fail(p, "not xz data: ", archive_error_string(p->ar) ?
		    archive_error_string(p->ar) : "unknown");
		return -1;
	}
	p->xz_left = ulen;
	return 1;
}

long pbzx_read(void *ctx, void *buf, size_t n)
{
	struct pbzx *p = ctx;

	for (;;) {
		if (p->raw_left) {
			long r = pull(p, buf, n < p->raw_left ? n : (size_t)p->raw_left);
			if (r == 0)
				return chunk_fail(p, "stream ends inside a chunk", NULL);
			if (r > 0)
				p->raw_left -= (uint64_t)r;
			return r;
		}
		if (p->dpos < p->dlen) {
			size_t k = p->dlen - p->dpos < n ? p->dlen - p->dpos : n;
			memcpy(buf, p->dbuf + p->dpos, k);
			p->dpos += k;
			return (long)k;
		}
		if (p->ar && p->xz_left) {
			la_ssize_t r = archive_read_data(p->ar, buf,
			    n < p->xz_left ? n : (size_t)p->xz_left);
			if (r < 0)
				return chunk_fail(p, "cannot decode xz: ",
				    archive_error_string(p->ar));
			if (r == 0)
				return chunk_fail(p, "xz data shorter than the chunk "
				    "says", NULL);
			p->xz_left -= (uint64_t)r;
			return (long)r;
		}
		if (p->done || !n)
			return 0;
		int c = next_chunk(p);
		if (c < 0)
			return -1;
		if (c == 0)
			return 0;
	}
}

pkgflat_status pbzx_open(payload_read_fn rd, void *ctx,
    const unsigned char *pre, size_t npre, const char *file,
    struct pbzx **out, pkgflat_error *err)
{
	struct pbzx *p = pf_calloc(1, sizeof *p);
	unsigned char head[12];

	*out = NULL;
	if (!p)
		return fail_nomem(err);
	*p = (struct pbzx){ .rd = rd, .ctx = ctx, .file = file, .err = err,
	    .pre = pre, .npre = npre };
	int r = pull_all(p, head, sizeof head);
	if (r <= 0 || memcmp(head, "pbz", 3) || !strchr("xz-", head[3])) {
		pbzx_free(p);
		if (r < 0)
			return err && err->status ? err->status : PKGFLAT_E_FORMAT;
		return fail(err, PKGFLAT_E_FORMAT, file, "offset 0",
		    "not a pbzx stream");
	}
	p->alg = (char)head[3];
	*out = p;
	return PKGFLAT_OK;
}

void pbzx_free(struct pbzx *p)
{
	if (!p)
		return;
	if (p->ar)
		archive_read_free(p->ar);
	free(p->cbuf);
	free(p->dbuf);
	free(p);
}
