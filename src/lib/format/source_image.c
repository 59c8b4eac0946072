/*
 * The disk image source: the HFS+ volumes of a .dmg, .dmg.gz or raw image
 * read in place as a tree of files, so that the legacy bundle reader reads
 * a bundle on an image exactly as it reads one from a directory. With one
 * volume its root is the source's root; with several, each volume is a
 * top-level folder named after it (numbered when names repeat).
 * Paths are looked up as stored (NFD), then ASCII case-insensitively, as
 * the Mac these bundles were made on would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hfsplus.h"
#include "source_image.h"

struct img_src {
	src base;
	img *im;
	hfs_vol **vols;
	char **vnames;
	size_t nvols;
	src *outer;      /* a nested image's container, owned */
};

static void is_close(src *s)
{
	struct img_src *x = (struct img_src *)s;

	for (size_t i = 0; i < x->nvols; i++) {
		hfs_close(x->vols[i]);
		free(x->vnames[i]);
	}
	free(x->vols);
	free(x->vnames);
	img_close(x->im);
	src_close(x->outer);
	free(s->display);
	free(x);
}

/* Which volume path is in, and the path inside it; vol < 0 for the
 * top level of a multi-volume source. */
static int split(struct img_src *x, const char *path, const char **inner)
{
	if (x->nvols == 1) {
		*inner = path;
		return 0;
	}
	if (!path[0]) {
		*inner = path;
		return -1;
	}
	size_t n = strcspn(path, "/");
	for (size_t i = 0; i < x->nvols; i++)
		if (strlen(x->vnames[i]) == n && !strncmp(x->vnames[i], path, n)) {
			*inner = path[n] ? path + n + 1 : "";
			return (int)i;
		}
	*inner = NULL;
	return -2;
}

static struct hfs_entry *find(struct img_src *x, const char *path, int *vol,
    int *root)
{
	const char *in;

	*vol = split(x, path, &in);
	*root = 0;
	if (*vol == -1 || (*vol >= 0 && !in[0])) {
		*root = 1;
		return NULL;
	}
	if (*vol < 0)
		return NULL;
	return hfs_lookup(x->vols[*vol], in);
}

static pkgflat_status is_lstat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	struct img_src *x = (struct img_src *)s;
	int vol, root;
	struct hfs_entry *e = find(x, path, &vol, &root);

	(void)err;
	memset(st, 0, sizeof *st);
	if (root) {
		st->type = SRC_DIR;
		st->mode = 0755;
		return PKGFLAT_OK;
	}
	if (!e)
		return PKGFLAT_OK;
	st->type = e->type;
	st->mode = e->mode;
	st->size = e->size;
	st->link = e->link;
	return PKGFLAT_OK;
}

static pkgflat_status is_list(src *s, const char *dir, ptrvec *names,
    pkgflat_error *err)
{
	struct img_src *x = (struct img_src *)s;
	int vol, root;
	struct hfs_entry *e = find(x, dir, &vol, &root);

	if (vol == -1) {
		for (size_t i = 0; i < x->nvols; i++) {
			char *c = pf_strdup(x->vnames[i]);
			if (!c || pv_push(names, c)) {
				free(c);
				return fail_nomem(err);
			}
		}
		return PKGFLAT_OK;
	}
	if (!root && (!e || e->type != SRC_DIR)) {
		char *n = src_display(s, dir);
		pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
		    "not a directory");
		free(n);
		return rc;
	}
	hfs_vol *v = x->vols[vol];
	/* List under the name as stored, whatever case the caller used. */
	return src_list_sorted(hfs_entry_at(v, 0), hfs_count(v),
	    sizeof(struct hfs_entry), root ? "" : e->path, names, err);
}

static struct hfs_entry *file_of(struct img_src *x, const char *path,
    int *vol, pkgflat_error *err)
{
	int root;
	struct hfs_entry *e = find(x, path, vol, &root);

	if (!e || e->type != SRC_FILE) {
		char *n = src_display(&x->base, path);
		fail(err, PKGFLAT_E_FORMAT, n, NULL, e ? "not a regular file" :
		    "no such file on the image");
		free(n);
		return NULL;
	}
	return e;
}

static pkgflat_status is_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	struct img_src *x = (struct img_src *)s;
	int vol;
	struct hfs_entry *e = file_of(x, path, &vol, err);
	pkgflat_status rc;

	*data = NULL;
	*len = 0;
	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	if (e->size > max)
		return src_too_large(s, path, e->size, max, err);
	unsigned char *buf = malloc((size_t)e->size + 1);
	if (!buf)
		return fail_nomem(err);
	if ((rc = hfs_file_read(x->vols[vol], e, 0, buf, (size_t)e->size, err))) {
		free(buf);
		return rc;
	}
	buf[e->size] = '\0';
	*data = buf;
	*len = (size_t)e->size;
	return PKGFLAT_OK;
}

struct is_stream {
	src_stream base;
	hfs_vol *v;
	const struct hfs_entry *e;
	uint64_t pos;
};

static long is_stream_read(src_stream *st, void *buf, size_t n)
{
	struct is_stream *x = (struct is_stream *)st;
	uint64_t left = x->e->size - x->pos;
	size_t k = left < n ? (size_t)left : n;

	if (k > (1u << 30))
		k = 1u << 30;
	if (!k)
		return 0;
	if (hfs_file_read(x->v, x->e, x->pos, buf, k, st->err))
		return -1;
	x->pos += k;
	return (long)k;
}

static void is_stream_close(src_stream *st)
{
	free(st->path);
	free(st);
}

static pkgflat_status is_open_stream(src *s, const char *path,
    src_stream **out, pkgflat_error *err)
{
	struct img_src *x = (struct img_src *)s;
	int vol;
	struct hfs_entry *e = file_of(x, path, &vol, err);
	struct is_stream *st;

	*out = NULL;
	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	if (!(st = src_stream_new(sizeof *st, s, path, is_stream_read,
	    is_stream_close)))
		return fail_nomem(err);
	st->v = x->vols[vol];
	st->e = e;
	*out = &st->base;
	return PKGFLAT_OK;
}

static const struct src_ops image_ops = {
	.name = "disk image",
	.container = PKGFLAT_CONTAINER_IMAGE,
	.close = is_close,
	.lstat = is_lstat,
	.list = is_list,
	.read = is_read,
	.open_stream = is_open_stream,
};

pkgflat_status src_open_image_img(img *im, const struct img_opts *o,
    src **out, pkgflat_error *err)
{
	struct img_src *x = pf_calloc(1, sizeof *x);
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (!x || !(x->base.display = pf_strdup(im->file)) ||
	    !(x->vols = pf_calloc(im->nparts + 1, sizeof *x->vols)) ||
	    !(x->vnames = pf_calloc(im->nparts + 1, sizeof *x->vnames))) {
		if (x) {
			x->im = im;
			is_close(&x->base);
		} else
			img_close(im);
		return fail_nomem(err);
	}
	x->base.ops = &image_ops;
	x->base.is_archive = 1;
	x->im = im;
	for (size_t i = 0; i < im->nparts && !rc; i++) {
		const struct img_part *p = &im->parts[i];
		if (!p->hfs)
			continue;
		hfs_vol *v;
		uint64_t len = p->offset + p->length - p->vol_offset;
		if ((rc = hfs_open(im->dev, p->vol_offset, len, im->file, o, &v,
		    err)))
			break;
		const char *vn = hfs_volume_name(v);
		char *name = pf_strdup(vn[0] && !strchr(vn, '/') ? vn : "volume");
		for (size_t k = 0; name && k < x->nvols; k++)
			if (!strcmp(x->vnames[k], name)) {
				free(name);
				name = pf_asprintf("%s %zu", vn, i + 1);
				k = (size_t)-1;
			}
		x->vols[x->nvols] = v;
		x->vnames[x->nvols++] = name;
		if (!name)
			rc = fail_nomem(err);
	}
	if (!rc && !x->nvols)
		rc = fail(err, PKGFLAT_E_FORMAT, im->file, NULL,
		    "no HFS+ volume found on the disk");
	if (rc) {
		is_close(&x->base);
		return rc;
	}
	*out = &x->base;
	return PKGFLAT_OK;
}

pkgflat_status src_open_image(const char *file, const struct img_opts *o,
    src **out, pkgflat_error *err)
{
	img *im;
	pkgflat_status rc;

	*out = NULL;
	if ((rc = img_open(file, o, &im, err)))
		return rc;
	return src_open_image_img(im, o, out, err);
}

int src_is_image(const src *s)
{
	return s && s->ops == &image_ops;
}

img *src_image_img(src *s)
{
	return src_is_image(s) ? ((struct img_src *)s)->im : NULL;
}

size_t src_image_volumes(src *s)
{
	return src_is_image(s) ? ((struct img_src *)s)->nvols : 0;
}

hfs_vol *src_image_volume(src *s, size_t i, const char **prefix)
{
	struct img_src *x = (struct img_src *)s;

	if (!src_is_image(s) || i >= x->nvols)
		return NULL;
	if (prefix)
		*prefix = x->nvols == 1 ? "" : x->vnames[i];
	return x->vols[i];
}

pkgflat_status src_image_open_nested(src *s, const char *path,
    const struct img_opts *o, src **out, pkgflat_error *err)
{
	struct img_src *x = (struct img_src *)s;
	int vol;
	struct hfs_entry *e;
	img_dev *d;
	img *im;
	char *name;
	pkgflat_status rc;

	*out = NULL;
	if (!src_is_image(s))
		return fail(err, PKGFLAT_E_USAGE, s->display, path,
		    "not a disk image");
	if (!(e = file_of(x, path, &vol, err)))
		return err ? err->status : PKGFLAT_E_FORMAT;
	if (!(name = src_display(s, path)))
		return fail_nomem(err);
	rc = hfs_file_dev(x->vols[vol], e, name, &d, err);
	if (!rc && !(rc = img_open_dev(d, name, o, &im, err)))
		rc = src_open_image_img(im, o, out, err);
	free(name);
	return rc;
}

void src_image_adopt(src *nested, src *outer)
{
	((struct img_src *)nested)->outer = outer;
}
