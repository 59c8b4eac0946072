/*
 * HFS+ forks and file contents: a fork's extents (the first eight in its
 * record, the rest from the extents-overflow B-tree), reads through them,
 * and the decoding of compressed (decmpfs) files, one 64 KiB chunk at a
 * time (see hfsplus.c for the layouts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hfsplus_int.h"

static pkgflat_status vfail(hfs_vol *v, pkgflat_error *err,
    const char *where, const char *what)
{
	return fail(err, PKGFLAT_E_FORMAT, v->name, where, "%s", what);
}

/* ------------------------------------------------------------------ */
/* Forks                                                               */

void fork_free(void *p)
{
	struct hfs_fork *f = p;

	if (f) {
		free(f->ext);
		free(f);
	}
}

int ovf_cmp(const void *a, const void *b)
{
	const struct ovf *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static pkgflat_status fork_push(hfs_vol *v, struct hfs_fork *f, uint32_t *cap,
    uint32_t start, uint32_t count, const char *what, pkgflat_error *err)
{
	if (!count)
		return PKGFLAT_OK;
	if (start > v->total_blocks || count > v->total_blocks - start)
		return fail(err, PKGFLAT_E_FORMAT, v->name, what, "extent (block "
		    "%u, %u blocks) lies past the volume's %u blocks", start,
		    count, v->total_blocks);
	if (f->next == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 8;
		struct hfs_extent *ne = realloc(f->ext, nc * sizeof *ne);
		if (!ne)
			return fail_nomem(err);
		f->ext = ne;
		*cap = nc;
	}
	f->ext[f->next].start = start;
	f->ext[f->next++].count = count;
	return PKGFLAT_OK;
}

pkgflat_status fork_load(hfs_vol *v, const unsigned char *r,
    uint32_t file, uint8_t type, const char *what, struct hfs_fork **out,
    pkgflat_error *err)
{
	struct hfs_fork *f = pf_calloc(1, sizeof *f);
	uint32_t cap = 0, want = be32(r + 12), have = 0;
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (!f)
		return fail_nomem(err);
	f->size = be64(r);
	for (int i = 0; i < 8 && have < want && !rc; i++) {
		uint32_t c = be32(r + 20 + 8 * i);
		if ((rc = fork_push(v, f, &cap, be32(r + 16 + 8 * i), c, what, err)))
			break;
		have += c;
		if (!c)
			break;
	}
	while (!rc && have < want) {
		struct ovf key = { .file = file, .type = type, .start = have };
		struct ovf *o = v->novf ? bsearch(&key, v->ovf, v->novf,
		    sizeof *v->ovf, ovf_cmp) : NULL;
		if (!o) {
			rc = fail(err, PKGFLAT_E_FORMAT, v->name, what, "fork of "
			    "%u blocks has extents for only %u (none in the "
			    "extents overflow file from block %u)", want, have,
			    have);
			break;
		}
		uint32_t before = have;
		for (int i = 0; i < 8 && have < want && !rc; i++) {
			rc = fork_push(v, f, &cap, o->ext[i].start,
			    o->ext[i].count, what, err);
			have += o->ext[i].count;
		}
		if (have == before)
			rc = fail(err, PKGFLAT_E_FORMAT, v->name, what,
			    "empty extents overflow record");
	}
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < f->next; i++)
		bytes += (uint64_t)f->ext[i].count * v->bs;
	if (!rc && f->size > bytes)
		rc = fail(err, PKGFLAT_E_FORMAT, v->name, what, "fork of %llu "
		    "bytes is larger than its extents (%llu bytes)",
		    (unsigned long long)f->size, (unsigned long long)bytes);
	if (!rc && pv_push(&v->forks, f))
		rc = fail_nomem(err);
	if (rc) {
		fork_free(f);
		return rc;
	}
	*out = f;
	return PKGFLAT_OK;
}

pkgflat_status fork_read(hfs_vol *v, const struct hfs_fork *f,
    uint64_t off, void *buf, size_t n, pkgflat_error *err)
{
	unsigned char *p = buf;
	uint64_t pos = 0;

	if (off > f->size || n > f->size - off)
		return fail(err, PKGFLAT_E_FORMAT, v->name, NULL, "read past the "
		    "end of a fork (%llu bytes)", (unsigned long long)f->size);
	for (uint32_t i = 0; i < f->next && n; i++) {
		uint64_t len = (uint64_t)f->ext[i].count * v->bs;
		if (off >= pos + len) {
			pos += len;
			continue;
		}
		uint64_t in = off - pos, k = len - in < n ? len - in : n;
		pkgflat_status rc = dev_read(v->dev, v->base +
		    (uint64_t)f->ext[i].start * v->bs + in, p, (size_t)k, err);
		if (rc)
			return rc;
		p += k;
		off += k;
		n -= (size_t)k;
		pos += len;
	}
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Reading files                                                       */

static pkgflat_status inflate_exact(hfs_vol *v, const unsigned char *in,
    size_t inlen, unsigned char *out, size_t want, const char *path,
    pkgflat_error *err)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return fail_nomem(err);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)inlen;
	z.next_out = out;
	z.avail_out = (uInt)want;
	r = inflate(&z, Z_FINISH);
	size_t got = want - z.avail_out;
	inflateEnd(&z);
	if (r != Z_STREAM_END || got != want)
		return fail(err, PKGFLAT_E_FORMAT, v->name, path, "compressed "
		    "file data corrupt (%zu of %zu bytes decoded)", got, want);
	return PKGFLAT_OK;
}

static pkgflat_status chunk_buf(hfs_vol *v, size_t need, pkgflat_error *err)
{
	if (v->chunk_len >= need && v->chunk)
		return PKGFLAT_OK;
	free(v->chunk);
	v->chunk_of = NULL;
	v->chunk_len = 0;
	if (!(v->chunk = malloc(need ? need : 1)))
		return fail_nomem(err);
	v->chunk_len = need;
	return PKGFLAT_OK;
}

/* Decode chunk k of a decmpfs file into v->chunk. */
static pkgflat_status load_chunk(hfs_vol *v, const struct hfs_entry *e,
    uint64_t k, pkgflat_error *err)
{
	pkgflat_status rc;

	if (v->chunk_of == e && v->chunk_no == k)
		return PKGFLAT_OK;
	if (e->comp == 1 || e->comp == 3 || e->comp == 9) {
		if ((rc = chunk_buf(v, (size_t)e->size, err)))
			return rc;
		if (e->comp != 3)
			memcpy(v->chunk, e->cdata, (size_t)e->size);
		else if (e->clen && (e->cdata[0] & 0x0f) == 0x0f) {
			if (e->clen - 1 < e->size)
				return vfail(v, err, e->path, "stored compressed "
				    "file shorter than its size");
			memcpy(v->chunk, e->cdata + 1, (size_t)e->size);
		} else if ((rc = inflate_exact(v, e->cdata, e->clen, v->chunk,
		    (size_t)e->size, e->path, err)))
			return rc;
	} else {
		unsigned char h[16];
		uint64_t nchunks = (e->size + DECMPFS_CHUNK - 1) / DECMPFS_CHUNK;
		size_t want = k + 1 < nchunks ? DECMPFS_CHUNK :
		    (size_t)(e->size - k * DECMPFS_CHUNK);
		if ((rc = fork_read(v, e->rsrc, 0, h, 4, err)))
			return rc;
		uint64_t base = (uint64_t)be32(h) + 4;
		if ((rc = fork_read(v, e->rsrc, base, h, 4, err)))
			return rc;
		if (hfs_le32(h) != nchunks)
			return fail(err, PKGFLAT_E_FORMAT, v->name, e->path,
			    "compressed file has %u chunks for %llu bytes",
			    hfs_le32(h), (unsigned long long)e->size);
		if ((rc = fork_read(v, e->rsrc, base + 4 + 8 * k, h, 8, err)))
			return rc;
		uint64_t off = base + hfs_le32(h);
		size_t len = hfs_le32(h + 4);
		if (len > DECMPFS_CHUNK + 1024 || len == 0)
			return vfail(v, err, e->path, "compressed chunk of absurd "
			    "length");
		if (!v->zbuf && !(v->zbuf = malloc(DECMPFS_CHUNK + 1024)))
			return fail_nomem(err);
		if ((rc = fork_read(v, e->rsrc, off, v->zbuf, len, err)) ||
		    (rc = chunk_buf(v, DECMPFS_CHUNK, err)))
			return rc;
		if (e->comp == 10 || (v->zbuf[0] & 0x0f) == 0x0f) {
			size_t skip = e->comp == 10 ? 0 : 1;
			if (len - skip != want)
				return vfail(v, err, e->path, "stored chunk of "
				    "the wrong length");
			memcpy(v->chunk, v->zbuf + skip, want);
		} else if ((rc = inflate_exact(v, v->zbuf, len, v->chunk, want,
		    e->path, err)))
			return rc;
	}
	v->chunk_of = e;
	v->chunk_no = k;
	return PKGFLAT_OK;
}

pkgflat_status hfs_file_read(hfs_vol *v, const struct hfs_entry *e,
    uint64_t off, void *buf, size_t n, pkgflat_error *err)
{
	unsigned char *p = buf;
	pkgflat_status rc;

	if (off > e->size || n > e->size - off)
		return fail(err, PKGFLAT_E_FORMAT, v->name, e->path,
		    "read past the end of the file");
	if (!e->comp)
		return fork_read(v, e->data, off, buf, n, err);
	while (n) {
		int whole = e->comp == 1 || e->comp == 3 || e->comp == 9;
		uint64_t k = whole ? 0 : off / DECMPFS_CHUNK,
		    in = whole ? off : off % DECMPFS_CHUNK,
		    left = whole ? e->size - off : DECMPFS_CHUNK - in;
		size_t c = left < n ? (size_t)left : n;
		if ((rc = load_chunk(v, e, k, err)))
			return rc;
		memcpy(p, v->chunk + in, c);
		p += c;
		off += c;
		n -= c;
	}
	return PKGFLAT_OK;
}

struct fork_dev {
	img_dev base;
	hfs_vol *v;
	const struct hfs_entry *e;
};

static pkgflat_status fdev_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err)
{
	struct fork_dev *f = (struct fork_dev *)d;

	return hfs_file_read(f->v, f->e, off, buf, n, err);
}

static void fdev_close(img_dev *d)
{
	free(d->name);
	free(d);
}

static const struct img_dev_ops fork_dev_ops = { .read = fdev_read,
	.close = fdev_close };

pkgflat_status hfs_file_dev(hfs_vol *v, const struct hfs_entry *e,
    const char *name, img_dev **out, pkgflat_error *err)
{
	struct fork_dev *f = pf_calloc(1, sizeof *f);

	*out = NULL;
	if (!f || !(f->base.name = pf_strdup(name))) {
		free(f);
		return fail_nomem(err);
	}
	f->base.ops = &fork_dev_ops;
	f->base.size = e->size;
	f->v = v;
	f->e = e;
	*out = &f->base;
	return PKGFLAT_OK;
}
