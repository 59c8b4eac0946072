/*
 * UDIF (.dmg) read as a disk of 512-byte sectors.
 *
 * Layout (all big-endian; Apple's DiskImages, documented by readers such as
 * libdmg-hfsplus and 7-Zip): the file ends in a 512-byte "koly" trailer:
 *   0 "koly", 4 version, 8 header size, 24 data fork offset, 32 its length,
 *   40 resource fork offset, 48 its length, 56 segment number, 60 segment
 *   count, 80 data fork checksum (type, bits, 128 bytes), 216 XML offset,
 *   224 XML length, 352 master checksum, 492 sector count.
 * The XML property list (or, in the oldest images, a binary resource fork)
 * holds resource-fork/blkx: one "mish" table per partition, 204 bytes of
 * header (8 first sector, 16 sector count, 24 data offset, 64 checksum,
 * 200 run count) then 40-byte runs: type, comment, first sector (relative),
 * sector count, stored offset, stored length.
 *
 * Checksums (type 2 is CRC-32): the data fork's over its stored bytes, each
 * partition's over its sectors (ignore runs skipped), the master over the
 * partition checksums as stored, in table order.
 *
 * Compressed runs are decoded whole into a small cache of slots; nothing
 * proportional to the image is held in memory. zlib runs, nearly all runs
 * of real images, go through libdeflate: a run is one whole buffer, and its
 * Adler-32 check is much cheaper there than in zlib's inflate.
 */
#include <bzlib.h>
#include <libdeflate.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image.h"
#include "plist.h"

#define KOLY_SIZE 512
#define MISH_HDR 204
#define RUN_SIZE 40
#define SECTOR 512ULL
#define MAX_RUNS 4000000
#define MAX_XML (64u << 20)
/* The largest run we decode: hdiutil writes 1 MiB runs; a run this big
 * still fits the memory budget in one slot. */
#define MAX_RUN_BYTES (16u << 20)
#define CACHE_BUDGET (8u << 20)
#define CACHE_SLOTS 4

#define T_ZERO 0x00000000u
#define T_RAW 0x00000001u
#define T_IGNORE 0x00000002u
#define T_ADC 0x80000004u
#define T_ZLIB 0x80000005u
#define T_BZIP2 0x80000006u
#define T_LZFSE 0x80000007u
#define T_LZMA 0x80000008u
#define T_COMMENT 0x7ffffffeu
#define T_END 0xffffffffu

const char *const udif_codec_names[UDIF_NCODECS] = {
	[UDIF_ZERO] = "zero", [UDIF_RAW] = "raw", [UDIF_IGNORE] = "ignore",
	[UDIF_ADC] = "adc", [UDIF_ZLIB] = "zlib", [UDIF_BZIP2] = "bzip2",
	[UDIF_LZMA] = "lzma",
};

struct run {
	uint64_t sector, count;   /* absolute */
	uint64_t off, len;        /* in the image file */
	uint32_t type;
	uint32_t part;
};

struct part {
	char *name;
	uint64_t first, count;
	uint32_t crc_type, crc;
};

struct slot {
	size_t run;
	unsigned char *buf;
	size_t cap;
	uint64_t tick;
	int used;
};

struct udif_dev {
	img_dev base;
	img_dev *in;
	struct run *runs;
	size_t nruns;
	struct part *parts;
	size_t nparts;
	uint64_t data_off, data_len;
	uint32_t data_crc_type, data_crc, master_crc_type, master_crc;
	unsigned codecs;
	struct slot slot[CACHE_SLOTS];
	size_t nslots;
	uint64_t tick;
	unsigned char *ibuf;
	size_t icap;
	struct libdeflate_decompressor *zd;
};


int udif_sniff(img_dev *d)
{
	unsigned char k[4];
	pkgflat_error *none = NULL;

	return d->size >= KOLY_SIZE &&
	    dev_read(d, d->size - KOLY_SIZE, k, 4, none) == PKGFLAT_OK &&
	    !memcmp(k, "koly", 4);
}

static int codec_of(uint32_t t)
{
	switch (t) {
	case T_ZERO: return UDIF_ZERO;
	case T_RAW: return UDIF_RAW;
	case T_IGNORE: return UDIF_IGNORE;
	case T_ADC: return UDIF_ADC;
	case T_ZLIB: return UDIF_ZLIB;
	case T_BZIP2: return UDIF_BZIP2;
	case T_LZMA: return UDIF_LZMA;
	default: return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Decoders: each fills exactly `want` bytes from exactly the run.     */

static int adc_decode(const unsigned char *in, size_t inlen, unsigned char *out,
    size_t want, size_t *got)
{
	size_t i = 0, o = 0;

	while (i < inlen && o < want) {
		unsigned b = in[i];
		size_t n, dist;
		if (b & 0x80) {
			n = (b & 0x7f) + 1;
			if (i + 1 + n > inlen || o + n > want)
				return -1;
			memcpy(out + o, in + i + 1, n);
			i += 1 + n;
			o += n;
			continue;
		}
		if (b & 0x40) {
			if (i + 3 > inlen)
				return -1;
			n = (b & 0x3f) + 4;
			dist = ((size_t)in[i + 1] << 8 | in[i + 2]) + 1;
			i += 3;
		} else {
			if (i + 2 > inlen)
				return -1;
			n = ((b >> 2) & 0xf) + 3;
			dist = ((size_t)(b & 3) << 8 | in[i + 1]) + 1;
			i += 2;
		}
		if (dist > o || o + n > want)
			return -1;
		/* Overlapping copies repeat the last bytes: byte by byte. */
		for (size_t k = 0; k < n; k++, o++)
			out[o] = out[o - dist];
	}
	*got = o;
	return i == inlen ? 0 : 1;
}

/* Returns 0 on a whole stream (*got may still fall short), -1 corrupt,
 * 1 long (the stream decodes to more than want). */
static int zlib_decode(struct libdeflate_decompressor *zd,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t want,
    size_t *got)
{
	*got = 0;
	switch (libdeflate_zlib_decompress(zd, in, inlen, out, want, got)) {
	case LIBDEFLATE_SUCCESS:
		return 0;
	case LIBDEFLATE_INSUFFICIENT_SPACE:
		*got = want;
		return 1;
	default:
		return -1;
	}
}

static int bz_decode(const unsigned char *in, size_t inlen, unsigned char *out,
    size_t want, size_t *got)
{
	bz_stream z;
	int r;

	memset(&z, 0, sizeof z);
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
		return -1;
	z.next_in = (char *)in;
	z.avail_in = (unsigned)inlen;
	z.next_out = (char *)out;
	z.avail_out = (unsigned)want;
	r = BZ2_bzDecompress(&z);
	*got = want - z.avail_out;
	BZ2_bzDecompressEnd(&z);
	if (r == BZ_STREAM_END)
		return 0;
	if (r == BZ_OK && z.avail_out == 0)
		return 1;
	return -1;
}

static int xz_decode(const unsigned char *in, size_t inlen, unsigned char *out,
    size_t want, size_t *got)
{
	lzma_stream z = LZMA_STREAM_INIT;
	lzma_ret r;

	if (lzma_auto_decoder(&z, 64u << 20, 0) != LZMA_OK)
		return -1;
	z.next_in = in;
	z.avail_in = inlen;
	z.next_out = out;
	z.avail_out = want;
	r = lzma_code(&z, LZMA_FINISH);
	*got = want - z.avail_out;
	lzma_end(&z);
	if (r == LZMA_STREAM_END)
		return 0;
	if ((r == LZMA_OK || r == LZMA_BUF_ERROR) && z.avail_out == 0)
		return 1;
	return -1;
}

static pkgflat_status run_where(struct udif_dev *u, size_t i, char *buf,
    size_t n)
{
	snprintf(buf, n, "partition %u, run at sector %llu",
	    u->runs[i].part, (unsigned long long)u->runs[i].sector);
	return PKGFLAT_OK;
}

/* The decoded bytes of compressed run i, through the cache. */
static pkgflat_status load_run(struct udif_dev *u, size_t i,
    const unsigned char **data, pkgflat_error *err)
{
	struct run *r = &u->runs[i];
	size_t want = (size_t)(r->count * SECTOR), got = 0, s, victim = 0;
	char where[96];
	int res = -1;
	pkgflat_status rc;

	for (s = 0; s < u->nslots; s++)
		if (u->slot[s].used && u->slot[s].run == i) {
			u->slot[s].tick = ++u->tick;
			*data = u->slot[s].buf;
			return PKGFLAT_OK;
		}
	for (s = 0; s < u->nslots; s++) {
		if (!u->slot[s].used) {
			victim = s;
			break;
		}
		if (u->slot[s].tick < u->slot[victim].tick)
			victim = s;
	}
	struct slot *sl = &u->slot[victim];
	sl->used = 0;
	if (sl->cap < want) {
		free(sl->buf);
		sl->cap = 0;
		if (!(sl->buf = malloc(want)))
			return fail_nomem(err);
		sl->cap = want;
	}
	if (u->icap < r->len) {
		free(u->ibuf);
		u->icap = 0;
		if (!(u->ibuf = malloc((size_t)r->len)))
			return fail_nomem(err);
		u->icap = (size_t)r->len;
	}
	if (r->type == T_ZLIB && !u->zd &&
	    !(u->zd = libdeflate_alloc_decompressor()))
		return fail_nomem(err);
	if ((rc = dev_read(u->in, r->off, u->ibuf, (size_t)r->len, err)))
		return rc;
	switch (r->type) {
	case T_ADC: res = adc_decode(u->ibuf, r->len, sl->buf, want, &got); break;
	case T_ZLIB:
		res = zlib_decode(u->zd, u->ibuf, r->len, sl->buf, want, &got);
		break;
	case T_BZIP2: res = bz_decode(u->ibuf, r->len, sl->buf, want, &got); break;
	case T_LZMA: res = xz_decode(u->ibuf, r->len, sl->buf, want, &got); break;
	default: break;
	}
	run_where(u, i, where, sizeof where);
	if (res < 0 && got < want)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "%s run corrupt or short: %zu of %zu bytes decoded",
		    udif_codec_names[codec_of(r->type)], got, want);
	if (res < 0 || res == 1)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "%s run decodes to more than its %zu bytes",
		    udif_codec_names[codec_of(r->type)], want);
	if (got != want)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "%s run short: %zu of %zu bytes decoded",
		    udif_codec_names[codec_of(r->type)], got, want);
	sl->run = i;
	sl->used = 1;
	sl->tick = ++u->tick;
	*data = sl->buf;
	return PKGFLAT_OK;
}

static size_t find_run(const struct udif_dev *u, uint64_t sector)
{
	size_t lo = 0, hi = u->nruns;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->runs[mid].sector <= sector)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static pkgflat_status udif_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err)
{
	struct udif_dev *u = (struct udif_dev *)d;
	unsigned char *p = buf;
	pkgflat_status rc;

	while (n) {
		size_t i = find_run(u, off / SECTOR);
		const struct run *r = &u->runs[i];
		uint64_t in_run = off - r->sector * SECTOR,
		    left = r->count * SECTOR - in_run;
		size_t k = left < n ? (size_t)left : n;
		const unsigned char *data = NULL;

		switch (r->type) {
		case T_ZERO:
		case T_IGNORE:
			memset(p, 0, k);
			break;
		case T_RAW:
			if ((rc = dev_read(u->in, r->off + in_run, p, k, err)))
				return rc;
			break;
		default:
			if ((rc = load_run(u, i, &data, err)))
				return rc;
			memcpy(p, data + in_run, k);
			break;
		}
		p += k;
		off += k;
		n -= k;
	}
	return PKGFLAT_OK;
}

static void udif_close(img_dev *d)
{
	struct udif_dev *u = (struct udif_dev *)d;

	if (!u)
		return;
	dev_close(u->in);
	for (size_t i = 0; i < u->nparts; i++)
		free(u->parts[i].name);
	free(u->parts);
	free(u->runs);
	for (size_t s = 0; s < CACHE_SLOTS; s++)
		free(u->slot[s].buf);
	free(u->ibuf);
	if (u->zd)
		libdeflate_free_decompressor(u->zd);
	free(d->name);
	free(u);
}

static const struct img_dev_ops udif_ops = { .read = udif_read,
	.close = udif_close };

/* ------------------------------------------------------------------ */
/* The run tables                                                      */

static pkgflat_status add_mish(struct udif_dev *u, const unsigned char *m,
    size_t len, const char *name, pkgflat_error *err)
{
	char where[64];
	uint32_t pno = (uint32_t)u->nparts;

	snprintf(where, sizeof where, "blkx %u", pno);
	if (len < MISH_HDR || memcmp(m, "mish", 4))
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "not a mish run table (%zu bytes)", len);
	uint64_t first = be64(m + 8), count = be64(m + 16),
	    dataoff = be64(m + 24);
	uint32_t nr = be32(m + 200);
	if ((len - MISH_HDR) / RUN_SIZE < nr)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "run table claims %u runs but holds %zu bytes", nr, len);
	if (nr > MAX_RUNS - u->nruns)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "absurd run count %u", nr);
	if (first > (UINT64_MAX / SECTOR) / 2 || count > (UINT64_MAX / SECTOR) / 2)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "absurd sector range");
	struct part *np = realloc(u->parts, (u->nparts + 1) * sizeof *np);
	if (!np)
		return fail_nomem(err);
	u->parts = np;
	np = &u->parts[u->nparts++];
	memset(np, 0, sizeof *np);
	np->first = first;
	np->count = count;
	np->crc_type = be32(m + 64);
	np->crc = be32(m + 72);
	if (!(np->name = pf_strdup(name ? name : "")))
		return fail_nomem(err);
	if (nr) {
		struct run *nrr = realloc(u->runs, (u->nruns + nr) * sizeof *nrr);
		if (!nrr)
			return fail_nomem(err);
		u->runs = nrr;
	}
	uint64_t next = 0;
	for (uint32_t i = 0; i < nr; i++) {
		const unsigned char *r = m + MISH_HDR + (size_t)i * RUN_SIZE;
		uint32_t t = be32(r);
		uint64_t sec = be64(r + 8), cnt = be64(r + 16), off = be64(r + 24),
		    sl = be64(r + 32);
		snprintf(where, sizeof where, "blkx %u run %u", pno, i);
		if (t == T_COMMENT)
			continue;
		if (t == T_END)
			break;
		if (t == T_LZFSE)
			return fail(err, PKGFLAT_E_UNSUPPORTED, u->base.name, where,
			    "LZFSE compressed runs (ULFO image): not supported");
		int c = codec_of(t);
		if (c < 0)
			return fail(err, PKGFLAT_E_UNSUPPORTED, u->base.name, where,
			    "unknown run type 0x%08x", t);
		if (sec != next)
			return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
			    "run starts at sector %llu where the previous ended "
			    "at %llu (%s)", (unsigned long long)sec,
			    (unsigned long long)next, sec < next ? "overlap" : "gap");
		if (cnt > count - next || cnt == 0)
			return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
			    "run of %llu sectors does not fit the partition's %llu",
			    (unsigned long long)cnt, (unsigned long long)count);
		if (t != T_ZERO && t != T_IGNORE) {
			uint64_t start = u->data_off + dataoff + off;
			if (dataoff > u->in->size || off > u->in->size ||
			    start < off || sl > u->data_off + u->data_len ||
			    start > u->data_off + u->data_len - sl)
				return fail(err, PKGFLAT_E_FORMAT, u->base.name,
				    where, "run data (offset %llu, %llu bytes) "
				    "lies outside the data fork",
				    (unsigned long long)start,
				    (unsigned long long)sl);
			if (t == T_RAW && sl != cnt * SECTOR)
				return fail(err, PKGFLAT_E_FORMAT, u->base.name,
				    where, "raw run stores %llu bytes for %llu "
				    "sectors", (unsigned long long)sl,
				    (unsigned long long)cnt);
			if (t != T_RAW && (cnt * SECTOR > MAX_RUN_BYTES ||
			    sl > 2 * MAX_RUN_BYTES))
				return fail(err, PKGFLAT_E_UNSUPPORTED,
				    u->base.name, where, "compressed run of %llu "
				    "sectors is larger than we decode",
				    (unsigned long long)cnt);
			off = start;
		}
		u->codecs |= 1u << c;
		struct run *x = &u->runs[u->nruns++];
		x->sector = first + sec;
		x->count = cnt;
		x->off = off;
		x->len = sl;
		x->type = t;
		x->part = pno;
		next += cnt;
	}
	if (next != count)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
		    "runs cover %llu of the partition's %llu sectors (gap)",
		    (unsigned long long)next, (unsigned long long)count);
	return PKGFLAT_OK;
}

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->sector < y->sector ? -1 : x->sector > y->sector;
}

/* The oldest images keep blkx in a real resource fork (Inside Macintosh:
 * header of data/map offsets and lengths; the map's type list names
 * 'blkx' and its reference list points at length-prefixed data). */
static pkgflat_status parse_rsrc(struct udif_dev *u, const unsigned char *f,
    size_t len, pkgflat_error *err)
{
	pkgflat_status rc;

	if (len < 16)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, "resource fork",
		    "too short");
	uint32_t doff = be32(f), moff = be32(f + 4), dlen = be32(f + 8),
	    mlen = be32(f + 12);
	if (doff > len || dlen > len - doff || moff > len || mlen > len - moff ||
	    mlen < 30)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, "resource fork",
		    "header points past its end");
	const unsigned char *map = f + moff;
	uint32_t tl = be16(map + 24);
	if (tl + 2 > mlen)
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, "resource fork",
		    "type list outside the map");
	unsigned ntypes = (unsigned)be16(map + tl) + 1;
	for (unsigned t = 0; t < ntypes; t++) {
		size_t te = tl + 2 + (size_t)t * 8;
		if (te + 8 > mlen)
			return fail(err, PKGFLAT_E_FORMAT, u->base.name,
			    "resource fork", "type list outside the map");
		if (memcmp(map + te, "blkx", 4))
			continue;
		unsigned nref = (unsigned)be16(map + te + 4) + 1;
		size_t rl = tl + be16(map + te + 6);
		for (unsigned r = 0; r < nref; r++) {
			size_t re = rl + (size_t)r * 12;
			if (re + 12 > mlen)
				return fail(err, PKGFLAT_E_FORMAT, u->base.name,
				    "resource fork", "reference outside the map");
			uint32_t ro = be32(map + re + 4) & 0xffffff;
			if (ro + 4ULL > dlen || be32(f + doff + ro) > dlen - ro - 4)
				return fail(err, PKGFLAT_E_FORMAT, u->base.name,
				    "resource fork", "blkx data outside the fork");
			if ((rc = add_mish(u, f + doff + ro + 4,
			    be32(f + doff + ro), NULL, err)))
				return rc;
		}
	}
	return PKGFLAT_OK;
}

static pkgflat_status parse_plist(struct udif_dev *u, const unsigned char *x,
    size_t len, pkgflat_error *err)
{
	plist_t root = NULL;
	pkgflat_status rc;

	if ((rc = plist_parse(x, len, u->base.name, &root, err)))
		return rc;
	plist_t rf = plist_get_node_type(root) == PLIST_DICT ?
	    plist_dict_get_item(root, "resource-fork") : NULL;
	plist_t arr = rf && plist_get_node_type(rf) == PLIST_DICT ?
	    plist_dict_get_item(rf, "blkx") : NULL;
	if (!arr || plist_get_node_type(arr) != PLIST_ARRAY) {
		plist_free(root);
		return fail(err, PKGFLAT_E_FORMAT, u->base.name, "XML property list",
		    "no resource-fork/blkx array");
	}
	uint32_t n = plist_array_get_size(arr);
	for (uint32_t i = 0; i < n && !rc; i++) {
		plist_t e = plist_array_get_item(arr, i), d;
		char *data = NULL;
		uint64_t dlen = 0;
		if (plist_get_node_type(e) != PLIST_DICT ||
		    !(d = plist_dict_get_item(e, "Data")) ||
		    plist_get_node_type(d) != PLIST_DATA) {
			rc = fail(err, PKGFLAT_E_FORMAT, u->base.name,
			    "XML property list", "blkx entry %u has no Data", i);
			break;
		}
		plist_get_data_val(d, &data, &dlen);
		const char *nm = pl_str(e, "Name");
		if (!nm)
			nm = pl_str(e, "CFName");
		rc = data ? add_mish(u, (unsigned char *)data, (size_t)dlen, nm, err)
		    : fail_nomem(err);
		free(data);
	}
	plist_free(root);
	return rc;
}

pkgflat_status udif_open(img_dev *in, const struct img_opts *o,
    img_dev **out, pkgflat_error *err)
{
	struct udif_dev *u = pf_calloc(1, sizeof *u);
	unsigned char k[KOLY_SIZE], *meta = NULL;
	uint64_t cap = o && o->max_image_size ? o->max_image_size :
	    IMG_DEFAULT_MAX_SIZE;
	pkgflat_status rc;

	*out = NULL;
	if (!u || !(u->base.name = pf_strdup(in->name))) {
		free(u);
		dev_close(in);
		return fail_nomem(err);
	}
	u->in = in;
	u->base.ops = &udif_ops;
	if (in->size < KOLY_SIZE) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "koly trailer",
		    "file too short for a UDIF trailer");
		goto out;
	}
	if ((rc = dev_read(in, in->size - KOLY_SIZE, k, KOLY_SIZE, err)))
		goto out;
	if (memcmp(k, "koly", 4) || be32(k + 8) != KOLY_SIZE) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "koly trailer",
		    "bad signature or header size");
		goto out;
	}
	if (be32(k + 60) > 1 || be32(k + 56) > 1) {
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, in->name, "koly trailer",
		    "segmented disk image (segment %u of %u): not supported",
		    be32(k + 56), be32(k + 60));
		goto out;
	}
	uint64_t body = in->size - KOLY_SIZE;
	u->data_off = be64(k + 24);
	u->data_len = be64(k + 32);
	uint64_t roff = be64(k + 40), rlen = be64(k + 48), xoff = be64(k + 216),
	    xlen = be64(k + 224);
	u->data_crc_type = be32(k + 80);
	u->data_crc = be32(k + 88);
	u->master_crc_type = be32(k + 352);
	u->master_crc = be32(k + 360);
	if (u->data_off > body || u->data_len > body - u->data_off) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "koly trailer",
		    "data fork (offset %llu, %llu bytes) runs past the end of "
		    "the file (%llu bytes)", (unsigned long long)u->data_off,
		    (unsigned long long)u->data_len, (unsigned long long)in->size);
		goto out;
	}
	int xml = xlen != 0;
	uint64_t moff = xml ? xoff : roff, mlen = xml ? xlen : rlen;
	if (!mlen || moff > body || mlen > body - moff) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "koly trailer",
		    "%s (offset %llu, %llu bytes) %s", xml ? "XML property list"
		    : "resource fork", (unsigned long long)moff,
		    (unsigned long long)mlen, mlen ? "runs past the end of the "
		    "file" : "is empty");
		goto out;
	}
	if (mlen > MAX_XML) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "koly trailer",
		    "run tables of %llu bytes: absurdly large",
		    (unsigned long long)mlen);
		goto out;
	}
	if (!(meta = malloc((size_t)mlen))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = dev_read(in, moff, meta, (size_t)mlen, err)))
		goto out;
	if ((rc = xml ? parse_plist(u, meta, (size_t)mlen, err) :
	    parse_rsrc(u, meta, (size_t)mlen, err)))
		goto out;
	if (!u->nruns) {
		rc = fail(err, PKGFLAT_E_FORMAT, in->name, "blkx",
		    "no runs: the image holds no sectors");
		goto out;
	}
	qsort(u->runs, u->nruns, sizeof *u->runs, run_cmp);
	uint64_t next = 0;
	for (size_t i = 0; i < u->nruns; i++) {
		if (u->runs[i].sector != next) {
			char where[64];
			snprintf(where, sizeof where, "blkx %u", u->runs[i].part);
			rc = fail(err, PKGFLAT_E_FORMAT, in->name, where,
			    "partition starts at sector %llu where the previous "
			    "ended at %llu (%s)",
			    (unsigned long long)u->runs[i].sector,
			    (unsigned long long)next,
			    u->runs[i].sector < next ? "overlap" : "gap");
			goto out;
		}
		next += u->runs[i].count;
	}
	if (next > cap / SECTOR) {
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, in->name, "blkx",
		    "disk of %llu sectors is larger than the limit of %llu bytes "
		    "(--max-image-size)", (unsigned long long)next,
		    (unsigned long long)cap);
		goto out;
	}
	u->base.size = next * SECTOR;
	size_t biggest = 0;
	for (size_t i = 0; i < u->nruns; i++)
		if (u->runs[i].type != T_RAW && u->runs[i].type != T_ZERO &&
		    u->runs[i].type != T_IGNORE &&
		    u->runs[i].count * SECTOR > biggest)
			biggest = (size_t)(u->runs[i].count * SECTOR);
	u->nslots = biggest ? CACHE_BUDGET / biggest : 1;
	if (u->nslots < 1)
		u->nslots = 1;
	if (u->nslots > CACHE_SLOTS)
		u->nslots = CACHE_SLOTS;
	*out = &u->base;
	u = NULL;
out:
	free(meta);
	udif_close(u ? &u->base : NULL);
	return rc;
}

void udif_get_info(img_dev *d, struct udif_info *info)
{
	struct udif_dev *u = (struct udif_dev *)d;

	info->codecs = u->codecs;
	info->nparts = u->nparts;
	info->sectors = u->base.size / SECTOR;
}

const char *udif_part_name(img_dev *d, size_t i)
{
	struct udif_dev *u = (struct udif_dev *)d;

	return i < u->nparts ? u->parts[i].name : NULL;
}

/* ------------------------------------------------------------------ */
/* Checksums                                                           */

#define CRC_BUF (256 * 1024)

static pkgflat_status crc_range(img_dev *d, uint64_t off, uint64_t len,
    unsigned char *buf, uLong *crc, pkgflat_error *err)
{
	while (len) {
		size_t k = len < CRC_BUF ? (size_t)len : CRC_BUF;
		pkgflat_status rc = dev_read(d, off, buf, k, err);
		if (rc)
			return rc;
		*crc = crc32(*crc, buf, (uInt)k);
		off += k;
		len -= k;
	}
	return PKGFLAT_OK;
}

/* The CRC-32 of crc's bytes followed by n zero bytes (n a multiple of a
 * sector), without reading them: the CRCs of zero blocks of 512 << k bytes
 * combine by length, so a 4 GiB disk of free space costs a few dozen
 * combinations, not 4 GiB of CRC. */
static uLong crc_zeros(uLong crc, uint64_t n)
{
	static const unsigned char zero[SECTOR];
	uLong z = crc32(crc32(0, NULL, 0), zero, (uInt)SECTOR);
	uint64_t len = SECTOR;

	for (n /= SECTOR; n; n >>= 1) {
		if (n & 1)
			crc = crc32_combine(crc, z, (z_off_t)len);
		if (n > 1) {
			z = crc32_combine(z, z, (z_off_t)len);
			len *= 2;
		}
	}
	return crc;
}

pkgflat_status udif_verify(img_dev *d, pkgflat_error *err)
{
	struct udif_dev *u = (struct udif_dev *)d;
	unsigned char *buf = malloc(CRC_BUF), *all = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	uLong crc;

	if (!buf)
		return fail_nomem(err);
	if (u->data_crc_type == 2) {
		crc = crc32(0, NULL, 0);
		if ((rc = crc_range(u->in, u->data_off, u->data_len, buf, &crc,
		    err)))
			goto out;
		if ((uint32_t)crc != u->data_crc) {
			rc = fail(err, PKGFLAT_E_FORMAT, u->base.name,
			    "data fork checksum", "CRC-32 is %08x, the trailer "
			    "says %08x", (unsigned)crc, u->data_crc);
			goto out;
		}
	}
	for (size_t p = 0; p < u->nparts; p++) {
		if (u->parts[p].crc_type != 2)
			continue;
		crc = crc32(0, NULL, 0);
		for (size_t i = 0; i < u->nruns; i++) {
			const struct run *r = &u->runs[i];
			if (r->part != p || r->type == T_IGNORE)
				continue;
			if (r->type == T_ZERO) {
				crc = crc_zeros(crc, r->count * SECTOR);
				continue;
			}
			if ((rc = crc_range(d, r->sector * SECTOR,
			    r->count * SECTOR, buf, &crc, err)))
				goto out;
		}
		if ((uint32_t)crc != u->parts[p].crc) {
			char where[64];
			snprintf(where, sizeof where, "blkx %zu checksum", p);
			rc = fail(err, PKGFLAT_E_FORMAT, u->base.name, where,
			    "CRC-32 of partition \"%s\" is %08x, its table says "
			    "%08x", u->parts[p].name, (unsigned)crc,
			    u->parts[p].crc);
			goto out;
		}
	}
	if (u->master_crc_type == 2 && u->nparts) {
		if (!(all = malloc(4 * u->nparts))) {
			rc = fail_nomem(err);
			goto out;
		}
		for (size_t p = 0; p < u->nparts; p++) {
			uint32_t c = u->parts[p].crc;
			all[4 * p] = (unsigned char)(c >> 24);
			all[4 * p + 1] = (unsigned char)(c >> 16);
			all[4 * p + 2] = (unsigned char)(c >> 8);
			all[4 * p + 3] = (unsigned char)c;
		}
		crc = crc32(crc32(0, NULL, 0), all, (uInt)(4 * u->nparts));
		if ((uint32_t)crc != u->master_crc)
			rc = fail(err, PKGFLAT_E_FORMAT, u->base.name,
			    "master checksum", "CRC-32 over the partition "
			    "checksums is %08x, the trailer says %08x",
			    (unsigned)crc, u->master_crc);
	}
out:
	free(all);
	free(buf);
	return rc;
}
