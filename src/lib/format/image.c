/*
 * Disk images as a whole: the kinds we refuse by name, and the partition
 * maps that say where volumes start.
 *
 * Partition maps (all big-endian except GPT and MBR, which are little):
 *   APM  block 0 "ER" (driver descriptor, sbBlkSize at 2), then one 512-byte
 *        "PM" entry per block from block 1: pmMapBlkCnt at 4, start at 8,
 *        count at 12 (in blocks), name at 16, type at 48 (32 bytes each)
 *   GPT  "EFI PART" at LBA 1: entries LBA at 72, count at 80, size at 84;
 *        each entry: type GUID, unique GUID, first LBA at 32, last at 40
 *   MBR  0x55AA at 510, four 16-byte entries at 446: type at 4, LBA at 8
 * A volume is HFS+ ("H+"), HFSX ("HX"), or an HFS wrapper ("BD") whose
 * drEmbedSigWord says an HFS+ volume is embedded (TN1150 "HFS Wrapper").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "image.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Sniffing and refusals                                               */

static pkgflat_status peek(img_dev *d, uint64_t off, void *buf, size_t n,
    int *ok, pkgflat_error *err)
{
	*ok = 0;
	if (off > d->size || n > d->size - off)
		return PKGFLAT_OK;
	pkgflat_status rc = dev_read(d, off, buf, n, err);
	*ok = rc == PKGFLAT_OK;
	return rc;
}

/* Kinds we know and refuse, each by its name. */
static pkgflat_status refuse_kinds(img_dev *d, int *gz, pkgflat_error *err)
{
	unsigned char h[128];
	int ok;
	pkgflat_status rc;

	*gz = 0;
	if ((rc = peek(d, 0, h, sizeof h, &ok, err)))
		return rc;
	if (ok && !memcmp(h, "encrcdsa", 8))
		return fail(err, PKGFLAT_E_UNSUPPORTED, d->name, "offset 0",
		    "encrypted disk image (encrcdsa): not supported");
	if (ok && !memcmp(h, "sprs", 4))
		return fail(err, PKGFLAT_E_UNSUPPORTED, d->name, "offset 0",
		    "sparse disk image (sprs): not supported; convert it to a "
		    "read-only image first");
	if (ok && h[0] == 0x1f && h[1] == 0x8b) {
		*gz = 1;
		return PKGFLAT_OK;
	}
	/* MacBinary wrapping a Disk Copy 6 (NDIF) image: type/creator. */
	if (ok && h[0] == 0 && h[1] >= 1 && h[1] <= 63 && h[74] == 0 &&
	    (!memcmp(h + 69, "ddsk", 4) || !memcmp(h + 65, "rohd", 4) ||
	    !memcmp(h + 65, "dimg", 4)))
		return fail(err, PKGFLAT_E_UNSUPPORTED, d->name, "offset 65",
		    "NDIF disk image (Mac OS 9 Disk Copy, in MacBinary): not "
		    "supported");
	/* Disk Copy 4.2: a Pascal name, then 0x0100 at 82. */
	if (ok && h[0] <= 63 && h[82] == 1 && h[83] == 0 &&
	    be32(h + 64) % 512 == 0 && be32(h + 64) &&
	    (uint64_t)be32(h + 64) + 84 <= d->size)
		return fail(err, PKGFLAT_E_UNSUPPORTED, d->name, "offset 82",
		    "Disk Copy 4.2 image (Mac OS 9): not supported");
	/* A UDIF cut short, or with bytes after it: its trailer is there,
	 * but not in the last 512 bytes. */
	if (d->size >= 1024) {
		unsigned char t[1024];
		if ((rc = dev_read(d, d->size - 1024, t, sizeof t, err)))
			return rc;
		for (size_t i = 0; i + 4 <= sizeof t; i++)
			if (!memcmp(t + i, "koly", 4) && i != 512 &&
			    (i + 12 > sizeof t || be32(t + i + 8) == 512))
				return fail(err, PKGFLAT_E_FORMAT, d->name,
				    "koly trailer", "UDIF trailer found %zu bytes "
				    "from the end instead of 512: the image is "
				    "truncated or has bytes appended",
				    sizeof t - i);
	}
	if (d->size >= 8) {
		unsigned char t[8];
		if ((rc = dev_read(d, d->size - 8, t, 8, err)))
			return rc;
		if (!memcmp(t, "cdsaencr", 8))
			return fail(err, PKGFLAT_E_UNSUPPORTED, d->name, "trailer",
			    "encrypted disk image (cdsaencr): not supported");
	}
	return PKGFLAT_OK;
}

static int name_ends(const char *p, const char *suf)
{
	size_t n = strlen(p), m = strlen(suf);

	return n >= m && !str_casecmp_ascii(p + n - m, suf);
}

int img_sniff_file(const char *path)
{
	unsigned char h[4096 + 2], t[512];
	struct stat sb;
	int fd, r = 0;
	ssize_t n;

	if (stat(path, &sb) != 0)
		return 0;
	if (S_ISDIR(sb.st_mode))
		return name_ends(path, ".sparsebundle") ||
		    name_ends(path, ".sparsebundle/");
	if (!S_ISREG(sb.st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = pread(fd, h, sizeof h, 0);
	/* APM entries follow the driver descriptor's block size. */
	size_t bs = n >= 4 ? be16(h + 2) : 0;
	if (bs != 512 && bs != 1024 && bs != 2048 && bs != 4096)
		bs = 512;
	if (n >= 8 && (!memcmp(h, "encrcdsa", 8) || !memcmp(h, "sprs", 4)))
		r = 1;
	else if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		r = name_ends(path, ".dmg.gz") || name_ends(path, ".img.gz") ||
		    name_ends(path, ".iso.gz") || name_ends(path, ".cdr.gz");
	else if (n >= 1026 && ((h[0] == 'E' && h[1] == 'R' &&
	    (size_t)n >= bs + 2 && h[bs] == 'P' && h[bs + 1] == 'M') ||
	    (h[0] == 'E' && h[1] == 'R' && h[512] == 'P' && h[513] == 'M') ||
	    !memcmp(h + 512, "EFI PART", 8) ||
	    (h[1024] == 'H' && (h[1025] == '+' || h[1025] == 'X')) ||
	    (h[1024] == 'B' && h[1025] == 'D')))
		r = 1;
	if (!r && sb.st_size >= 512 &&
	    pread(fd, t, 512, sb.st_size - 512) == 512 && !memcmp(t, "koly", 4))
		r = 1;
	if (!r && (name_ends(path, ".dmg") || name_ends(path, ".dmgpart") ||
	    name_ends(path, ".sparseimage")))
		r = 1;
	close(fd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Partition maps                                                      */

#define MAX_PARTS 256

static const unsigned char GUID_HFS[16] = { 0x00, 0x53, 0x46, 0x48, 0x00, 0x00,
	0xaa, 0x11, 0xaa, 0x11, 0x00, 0x30, 0x65, 0x43, 0xec, 0xac };
static const unsigned char GUID_APFS[16] = { 0xef, 0x57, 0x34, 0x7c, 0x00, 0x00,
	0xaa, 0x11, 0xaa, 0x11, 0x00, 0x30, 0x65, 0x43, 0xec, 0xac };

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static pkgflat_status add_part(img *im, uint64_t off, uint64_t len,
    const char *name, const char *type, pkgflat_error *err)
{
	struct img_part *np;

	if (im->nparts >= MAX_PARTS)
		return fail(err, PKGFLAT_E_FORMAT, im->file, "partition map",
		    "more than %d partitions", MAX_PARTS);
	if (off > im->dev->size || len > im->dev->size - off)
		return fail(err, PKGFLAT_E_FORMAT, im->file, "partition map",
		    "partition %zu (offset %llu, %llu bytes) lies past the end "
		    "of the disk (%llu bytes)", im->nparts,
		    (unsigned long long)off, (unsigned long long)len,
		    (unsigned long long)im->dev->size);
	if (!(np = realloc(im->parts, (im->nparts + 1) * sizeof *np)))
		return fail_nomem(err);
	im->parts = np;
	np = &im->parts[im->nparts];
	memset(np, 0, sizeof *np);
	np->offset = off;
	np->length = len;
	if ((name && !(np->name = pf_strdup(name))) ||
	    (type && !(np->type = pf_strdup(type))))
		return fail_nomem(err);
	im->nparts++;
	return PKGFLAT_OK;
}

static char *fixed_str(const unsigned char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k])
		k++;
	char *s = pf_strndup((const char *)p, k);
	for (size_t i = 0; s && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	return s;
}

/* Entries sit one per block of the driver descriptor's block size (2048
 * on CD hybrids such as xorriso's), in units of that block; most disk
 * images use 512. */
static uint32_t apm_block(img *im, const unsigned char *s)
{
	uint32_t bs = be16(s + 2);
	unsigned char pm[2];

	if ((bs == 1024 || bs == 2048 || bs == 4096) &&
	    2ULL * bs <= im->dev->size &&
	    !dev_read(im->dev, bs, pm, 2, NULL) && pm[0] == 'P' && pm[1] == 'M')
		return bs;
	return 512;
}

static pkgflat_status read_apm(img *im, uint32_t bs, pkgflat_error *err)
{
	unsigned char e[512];
	uint32_t count = 1;
	pkgflat_status rc;

	for (uint32_t i = 1; i <= count; i++) {
		if ((uint64_t)(i + 1) * bs > im->dev->size)
			return fail(err, PKGFLAT_E_FORMAT, im->file, "partition map",
			    "APM entry %u past the end of the disk", i);
		if ((rc = dev_read(im->dev, (uint64_t)i * bs, e, 512, err)))
			return rc;
		if (e[0] != 'P' || e[1] != 'M')
			return fail(err, PKGFLAT_E_FORMAT, im->file, "partition map",
			    "APM entry %u lacks its PM signature", i);
		if (i == 1) {
			count = be32(e + 4);
			if (count == 0 || count > MAX_PARTS)
				return fail(err, PKGFLAT_E_FORMAT, im->file,
				    "partition map", "APM claims %u entries",
				    count);
		}
		char *name = fixed_str(e + 16, 32), *type = fixed_str(e + 48, 32);
		if (!name || !type) {
			free(name);
			free(type);
			return fail_nomem(err);
		}
		uint64_t off = (uint64_t)be32(e + 8) * bs,
		    len = (uint64_t)be32(e + 12) * bs;
		/* Images cut short leave the free-space entry hanging past
		 * the end; only partitions we will read must fit. */
		if (off + len > im->dev->size && off < im->dev->size &&
		    strncmp(type, "Apple_HFS", 9))
			len = im->dev->size - off;
		rc = PKGFLAT_OK;
		if (off < im->dev->size || !strncmp(type, "Apple_HFS", 9))
			rc = add_part(im, off, len, name, type, err);
		free(name);
		free(type);
		if (rc)
			return rc;
	}
	return PKGFLAT_OK;
}

static pkgflat_status read_gpt(img *im, uint64_t lba, pkgflat_error *err)
{
	unsigned char h[92], e[128];
	pkgflat_status rc;

	if ((rc = dev_read(im->dev, lba, h, sizeof h, err)))
		return rc;
	uint64_t table = le64(h + 72) * 512;
	uint32_t n = le32(h + 80), esz = le32(h + 84);
	if (n > 1024 || esz < 128 || esz > 4096)
		return fail(err, PKGFLAT_E_FORMAT, im->file, "GPT header",
		    "absurd entry table (%u entries of %u bytes)", n, esz);
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = dev_read(im->dev, table + (uint64_t)i * esz, e, sizeof e,
		    err)))
			return rc;
		if (all_zero(e, 16))
			continue;
		uint64_t first = le64(e + 32), last = le64(e + 40);
		if (last < first || last > UINT64_MAX / 512 - 1)
			return fail(err, PKGFLAT_E_FORMAT, im->file, "GPT",
			    "entry %u ends before it starts", i);
		const char *type = !memcmp(e, GUID_HFS, 16) ? "Apple_HFS" :
		    !memcmp(e, GUID_APFS, 16) ? "Apple_APFS" : "other";
		char name[40];
		size_t k = 0;
		for (size_t j = 0; j < 36 && k < sizeof name - 1; j++) {
			unsigned c = e[56 + 2 * j] | e[57 + 2 * j] << 8;
			if (!c)
				break;
			name[k++] = c < 0x80 && c >= 0x20 ? (char)c : '?';
		}
		name[k] = '\0';
		if ((rc = add_part(im, first * 512, (last - first + 1) * 512,
		    name, type, err)))
			return rc;
	}
	return PKGFLAT_OK;
}

static pkgflat_status read_mbr(img *im, const unsigned char *s,
    pkgflat_error *err)
{
	for (int i = 0; i < 4; i++) {
		const unsigned char *e = s + 446 + 16 * i;
		uint64_t off = (uint64_t)le32(e + 8) * 512,
		    len = (uint64_t)le32(e + 12) * 512;
		if (!e[4] || !len)
			continue;
		pkgflat_status rc = add_part(im, off, len, NULL,
		    e[4] == 0xaf ? "Apple_HFS" : "other", err);
		if (rc)
			return rc;
	}
	return PKGFLAT_OK;
}

/* What lies at the start of a partition: an HFS+ volume (maybe inside an
 * HFS wrapper), or something we name in a refusal. */
static pkgflat_status probe_volume(img *im, struct img_part *p,
    const char **refusal, pkgflat_error *err)
{
	unsigned char v[162];
	int ok;
	pkgflat_status rc;

	if (p->length < 1024 + sizeof v)
		return PKGFLAT_OK;
	if ((rc = peek(im->dev, p->offset, v, 64, &ok, err)))
		return rc;
	if (ok && !memcmp(v + 32, "NXSB", 4)) {
		*refusal = "APFS volume";
		return PKGFLAT_OK;
	}
	if ((rc = dev_read(im->dev, p->offset + 1024, v, sizeof v, err)))
		return rc;
	if (v[0] == 'H' && (v[1] == '+' || v[1] == 'X')) {
		p->hfs = 1;
		p->vol_offset = p->offset;
	} else if (v[0] == 'B' && v[1] == 'D') {
		if (v[124] == 'H' && v[125] == '+') {
			uint64_t alblk = be32(v + 20), st = be16(v + 28),
			    start = be16(v + 126);
			p->hfs = 1;
			p->vol_offset = p->offset + st * 512 + start * alblk;
			if (p->vol_offset + 1536 > p->offset + p->length) {
				p->hfs = 0;
				return fail(err, PKGFLAT_E_FORMAT, im->file,
				    "HFS wrapper", "embedded HFS+ volume lies "
				    "outside its partition");
			}
		} else
			*refusal = "classic HFS volume (Mac OS Standard)";
	}
	if (!p->hfs && p->type && !strcmp(p->type, "Apple_APFS"))
		*refusal = "APFS volume";
	return PKGFLAT_OK;
}

static pkgflat_status find_volumes(img *im, pkgflat_error *err)
{
	unsigned char s[1024];
	const char *refusal = NULL;
	size_t hfs = 0;
	pkgflat_status rc;

	if (im->dev->size < 4096)
		return fail(err, PKGFLAT_E_FORMAT, im->file, NULL,
		    "disk of %llu bytes is too small to hold a volume",
		    (unsigned long long)im->dev->size);
	if ((rc = dev_read(im->dev, 0, s, sizeof s, err)))
		return rc;
	uint32_t apm_bs = s[0] == 'E' && s[1] == 'R' ? apm_block(im, s) : 0;
	unsigned char pm[2] = { 0, 0 };
	if (apm_bs && apm_bs != 512)
		(void)dev_read(im->dev, apm_bs, pm, 2, NULL);
	if (apm_bs && ((s[512] == 'P' && s[513] == 'M') ||
	    (pm[0] == 'P' && pm[1] == 'M'))) {
		im->map = MAP_APM;
		rc = read_apm(im, apm_bs, err);
	} else if (!memcmp(s + 512, "EFI PART", 8)) {
		im->map = MAP_GPT;
		rc = read_gpt(im, 512, err);
	} else if (s[510] == 0x55 && s[511] == 0xaa && s[446 + 4] != 0xee &&
	    (s[446] == 0 || s[446] == 0x80)) {
		unsigned char v[2];
		if ((rc = dev_read(im->dev, 1024, v, 2, err)))
			return rc;
		if (v[0] == 'H' && (v[1] == '+' || v[1] == 'X')) {
			im->map = MAP_NONE;
			rc = add_part(im, 0, im->dev->size, NULL, NULL, err);
		} else {
			im->map = MAP_MBR;
			rc = read_mbr(im, s, err);
		}
	} else {
		im->map = MAP_NONE;
		rc = add_part(im, 0, im->dev->size, NULL, NULL, err);
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < im->nparts; i++) {
		if ((rc = probe_volume(im, &im->parts[i], &refusal, err)))
			return rc;
		hfs += im->parts[i].hfs;
	}
	if (hfs)
		return PKGFLAT_OK;
	if (refusal)
		return fail(err, PKGFLAT_E_UNSUPPORTED, im->file, NULL,
		    "%s: not supported (only HFS+ and HFSX are read)", refusal);
	return fail(err, PKGFLAT_E_FORMAT, im->file, NULL,
	    "no HFS+ volume found on the disk");
}

pkgflat_status img_open_dev(img_dev *in, const char *file,
    const struct img_opts *o, img **out, pkgflat_error *err)
{
	img *im = NULL;
	int gz;
	pkgflat_status rc;

	*out = NULL;
	if (!(im = pf_calloc(1, sizeof *im)) || !(im->file = pf_strdup(file))) {
		free(im);
		dev_close(in);
		return fail_nomem(err);
	}
	if ((rc = refuse_kinds(in, &gz, err)))
		goto fail_in;
	if (gz) {
		im->kind = IMG_GZIP;
		if ((rc = dev_open_gunzip(in, o, &im->dev, err)))
			goto out;
		in = NULL;
	} else if (udif_sniff(in)) {
		im->kind = IMG_UDIF;
		if ((rc = udif_open(in, o, &im->dev, err)))
			goto out;
		in = NULL;
	} else {
		im->kind = IMG_RAW;
		im->dev = in;
		in = NULL;
	}
	if ((rc = find_volumes(im, err)))
		goto out;
	*out = im;
	return PKGFLAT_OK;
fail_in:
	dev_close(in);
out:
	img_close(im);
	return rc;
}

pkgflat_status img_open(const char *path, const struct img_opts *o,
    img **out, pkgflat_error *err)
{
	struct stat sb;
	img_dev *d;
	pkgflat_status rc;

	*out = NULL;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return fail(err, PKGFLAT_E_UNSUPPORTED, path, NULL,
		    "sparse bundle disk image: not supported; convert it to a "
		    "read-only image first");
	if (name_ends(path, ".dmgpart"))
		return fail(err, PKGFLAT_E_UNSUPPORTED, path, NULL,
		    "segmented disk image: not supported");
	if ((rc = dev_open_file(path, &d, err)))
		return rc;
	return img_open_dev(d, path, o, out, err);
}

void img_close(img *im)
{
	if (!im)
		return;
	dev_close(im->dev);
	for (size_t i = 0; i < im->nparts; i++) {
		free(im->parts[i].name);
		free(im->parts[i].type);
	}
	free(im->parts);
	free(im->file);
	free(im);
}
