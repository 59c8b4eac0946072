/*
 * The public face of disk images: open, verify, describe, list, and find
 * the packages on an image (bundles, flat packages, and those on images
 * stored on it, one level deep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_image.h"

struct pkgflat_image {
	src *s;
	struct img_opts o;
};

static struct img_opts defaults;

void pkgflat_image_set_defaults(const pkgflat_image_opts *opts)
{
	memset(&defaults, 0, sizeof defaults);
	if (opts) {
		defaults.max_image_size = opts->max_image_size;
		defaults.force = opts->force;
	}
}

int pkgflat_file_is_image(const char *path)
{
	return path && img_sniff_file(path);
}

static void opts_of(const pkgflat_image_opts *in, struct img_opts *o)
{
	memset(o, 0, sizeof *o);
	if (in) {
		o->max_image_size = in->max_image_size;
		o->force = in->force;
	}
}

pkgflat_status pkgflat_image_open(const char *path,
    const pkgflat_image_opts *opts, pkgflat_image **out, pkgflat_error *err)
{
	pkgflat_image *im = pf_calloc(1, sizeof *im);
	pkgflat_status rc;

	*out = NULL;
	if (!im)
		return fail_nomem(err);
	opts_of(opts, &im->o);
	if ((rc = src_open_image(path, &im->o, &im->s, err))) {
		free(im);
		return rc;
	}
	*out = im;
	return PKGFLAT_OK;
}

void pkgflat_image_free(pkgflat_image *im)
{
	if (!im)
		return;
	src_close(im->s);
	free(im);
}

pkgflat_status pkgflat_image_verify(pkgflat_image *im, pkgflat_error *err)
{
	img *i = src_image_img(im->s);

	return i->kind == IMG_UDIF ? udif_verify(i->dev, err) : PKGFLAT_OK;
}

void pkgflat_image_describe(pkgflat_image *im, pkgflat_image_field_fn fn,
    void *ctx)
{
	static const char *const kinds[] = { [IMG_RAW] = "raw disk image",
		[IMG_UDIF] = "UDIF (.dmg)", [IMG_GZIP] = "gzip'd raw disk image" };
	static const char *const maps[] = { [MAP_NONE] = "none (bare volume)",
		[MAP_APM] = "Apple Partition Map", [MAP_GPT] = "GPT",
		[MAP_MBR] = "MBR" };
	img *i = src_image_img(im->s);
	char buf[512];

	fn(ctx, "kind", kinds[i->kind]);
	if (i->kind == IMG_UDIF) {
		struct udif_info u;
		size_t k = 0;
		udif_get_info(i->dev, &u);
		buf[0] = '\0';
		for (int c = 0; c < UDIF_NCODECS; c++)
			if (u.codecs & (1u << c))
				k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s",
				    k ? " " : "", udif_codec_names[c]);
		fn(ctx, "codecs", buf);
	}
	snprintf(buf, sizeof buf, "%llu bytes",
	    (unsigned long long)i->dev->size);
	fn(ctx, "disk size", buf);
	fn(ctx, "partition map", maps[i->map]);
	for (size_t p = 0; p < i->nparts && i->map != MAP_NONE; p++) {
		snprintf(buf, sizeof buf, "%zu: %s \"%s\" at %llu, %llu bytes%s",
		    p, i->parts[p].type ? i->parts[p].type : "",
		    i->parts[p].name ? i->parts[p].name : "",
		    (unsigned long long)i->parts[p].offset,
		    (unsigned long long)i->parts[p].length,
		    i->parts[p].hfs ? ", HFS+" : "");
		fn(ctx, "partition", buf);
	}
	for (size_t v = 0; v < src_image_volumes(im->s); v++) {
		hfs_vol *h = src_image_volume(im->s, v, NULL);
		snprintf(buf, sizeof buf, "%s \"%s\", %zu entries",
		    hfs_is_hfsx(h) ? "HFSX" : "HFS+", hfs_volume_name(h),
		    hfs_count(h));
		fn(ctx, "volume", buf);
	}
}

pkgflat_status pkgflat_image_list(pkgflat_image *im,
    int (*fn)(void *ctx, const pkgflat_image_entry *e), void *ctx,
    pkgflat_error *err)
{
	for (size_t v = 0; v < src_image_volumes(im->s); v++) {
		const char *prefix;
		hfs_vol *h = src_image_volume(im->s, v, &prefix);
		for (size_t i = 0; i < hfs_count(h); i++) {
			struct hfs_entry *e = hfs_entry_at(h, i);
			char *p = prefix[0] ? pf_asprintf("%s/%s", prefix, e->path) :
			    NULL;
			pkgflat_image_entry x = {
				.path = p ? p : e->path,
				.type = e->type == SRC_DIR ? 'd' :
				    e->type == SRC_LINK ? 'l' : 'f',
				.mode = e->mode, .size = e->size, .link = e->link,
				.extras = e->extras,
			};
			if (prefix[0] && !p)
				return fail_nomem(err);
			int stop = fn(ctx, &x);
			free(p);
			if (stop)
				return PKGFLAT_OK;
		}
	}
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Finding packages                                                    */

static int bundle_name(const char *n)
{
	size_t k = strlen(n);

	return (k > 4 && !str_casecmp_ascii(n + k - 4, ".pkg")) ||
	    (k > 5 && !str_casecmp_ascii(n + k - 5, ".mpkg"));
}

static int image_name(const char *n)
{
	static const char *const sfx[] = { ".dmg", ".dmg.gz", ".img",
		".img.gz", ".cdr" };
	size_t k = strlen(n);

	for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
		size_t m = strlen(sfx[i]);
		if (k > m && !str_casecmp_ascii(n + k - m, sfx[i]))
			return 1;
	}
	return 0;
}

static int is_dir(src *s, const char *path)
{
	struct src_stat st;

	return !s->ops->lstat(s, path, &st, NULL) && st.type == SRC_DIR;
}

static pkgflat_status push(ptrvec *out, const char *outer, const char *path,
    enum pkgflat_image_found kind, pkgflat_error *err)
{
	pkgflat_image_package *p = pf_calloc(1, sizeof *p);

	if (!p)
		return fail_nomem(err);
	p->kind = kind;
	p->member = outer ? pf_asprintf("%s//%s", outer, path) : pf_strdup(path);
	if (!p->member || pv_push(out, p)) {
		free(p->member);
		free(p);
		return fail_nomem(err);
	}
	return PKGFLAT_OK;
}

static pkgflat_status search(src *s, const struct img_opts *o,
    const char *dir, const char *outer, int depth, ptrvec *out,
    pkgflat_error *err)
{
	ptrvec names = { 0 };
	struct src_stat st;
	pkgflat_status rc;

	if (depth > 64)
		return PKGFLAT_OK;
	if ((rc = s->ops->list(s, dir, &names, err)))
		return rc;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *n = names.v[i];
		char *p = dir[0] ? pf_asprintf("%s/%s", dir, n) : pf_strdup(n);
		if (!p) {
			rc = fail_nomem(err);
			break;
		}
		if ((rc = s->ops->lstat(s, p, &st, err))) {
			free(p);
			break;
		}
		if (st.type == SRC_DIR && bundle_name(n)) {
			char *c = pf_asprintf("%s/Contents", p),
			    *r = pf_asprintf("%s/Resources", p);
			if (!c || !r)
				rc = fail_nomem(err);
			else if (is_dir(s, c) || is_dir(s, r))
				rc = push(out, outer, p, PKGFLAT_FOUND_BUNDLE, err);
			free(c);
			free(r);
		} else if (st.type == SRC_DIR) {
			rc = search(s, o, p, outer, depth + 1, out, err);
		} else if (st.type == SRC_FILE && bundle_name(n) && st.size > 28) {
			src_stream *ss = NULL;
			unsigned char h[4];
			if (!(rc = s->ops->open_stream(s, p, &ss, err))) {
				long got = ss->read(ss, h, 4);
				if (got == 4 && !memcmp(h, "xar!", 4))
					rc = push(out, outer, p, PKGFLAT_FOUND_FLAT,
					    err);
				src_stream_close(ss);
			}
		} else if (st.type == SRC_FILE && image_name(n) && !outer) {
			src *inner = NULL;
			pkgflat_error e2 = { 0 };
			/* A nested image we cannot read is not an error of the
			 * outer one: it just holds no packages we can see. */
			if (!src_image_open_nested(s, p, o, &inner, &e2))
				rc = search(inner, o, "", p, 0, out, err);
			pkgflat_error_clear(&e2);
			src_close(inner);
		}
		free(p);
	}
	pv_free(&names, free);
	return rc;
}

pkgflat_status pkgflat_image_packages(pkgflat_image *im,
    pkgflat_image_package **list, size_t *count, pkgflat_error *err)
{
	ptrvec out = { 0 };
	pkgflat_status rc;

	*list = NULL;
	*count = 0;
	if ((rc = search(im->s, &im->o, "", NULL, 0, &out, err))) {
		for (size_t i = 0; i < out.n; i++) {
			pkgflat_image_package *p = out.v[i];
			free(p->member);
			free(p);
		}
		pv_free(&out, NULL);
		return rc;
	}
	pkgflat_image_package *arr = pf_calloc(out.n + 1, sizeof *arr);
	if (!arr) {
		pv_free(&out, free);
		return fail_nomem(err);
	}
	for (size_t i = 0; i < out.n; i++) {
		arr[i] = *(pkgflat_image_package *)out.v[i];
		free(out.v[i]);
	}
	*list = arr;
	*count = out.n;
	pv_free(&out, NULL);
	return PKGFLAT_OK;
}

void pkgflat_image_packages_free(pkgflat_image_package *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++)
		free(list[i].member);
	free(list);
}

pkgflat_status image_package_source(const char *file, const char *member,
    const struct img_opts *o, src **out, char **inner, pkgflat_error *err)
{
	pkgflat_image im = { 0 };
	pkgflat_image_package *list = NULL;
	size_t n = 0;
	char *path = NULL;
	pkgflat_status rc;

	*out = NULL;
	*inner = NULL;
	im.o = o ? *o : defaults;
	if ((rc = src_open_image(file, &im.o, &im.s, err)))
		return rc;
	if (!member || !member[0]) {
		size_t bundles = 0, pick = 0;
		if ((rc = pkgflat_image_packages(&im, &list, &n, err)))
			goto out;
		for (size_t i = 0; i < n; i++)
			if (list[i].kind == PKGFLAT_FOUND_BUNDLE) {
				bundles++;
				pick = i;
			}
		if (bundles != 1) {
			rc = fail(err, bundles ? PKGFLAT_E_USAGE : PKGFLAT_E_FORMAT,
			    file, NULL, bundles ? "the image holds %zu bundle "
			    "packages: select one (pkgflat info lists them)" :
			    "no bundle package on the image", bundles);
			goto out;
		}
		member = list[pick].member;
	}
	const char *sep = strstr(member, "//");
	if (sep) {
		char *outer_path = pf_strndup(member, (size_t)(sep - member));
		src *nested = NULL;
		if (!outer_path) {
			rc = fail_nomem(err);
			goto out;
		}
		rc = src_image_open_nested(im.s, outer_path, &im.o, &nested, err);
		free(outer_path);
		if (rc)
			goto out;
		src_image_adopt(nested, im.s);
		im.s = nested;
		member = sep + 2;
	}
	if (!(path = path_normalize(member)) || !path[0]) {
		rc = fail(err, PKGFLAT_E_USAGE, file, member, "not a path on the "
		    "image");
		goto out;
	}
	struct src_stat st;
	if ((rc = src_stat(im.s, path, &st, err)))
		goto out;
	if (st.type != SRC_DIR) {
		rc = fail(err, PKGFLAT_E_USAGE, file, member, st.type == SRC_NONE ?
		    "no such package on the image" : "not a bundle package "
		    "directory");
		goto out;
	}
	*out = im.s;
	im.s = NULL;
	*inner = path;
	path = NULL;
out:
	free(path);
	pkgflat_image_packages_free(list, n);
	src_close(im.s);
	return rc;
}

pkgflat_status image_bundle_members(const char *file, char ***members,
    size_t *count, pkgflat_error *err)
{
	pkgflat_image im = { .o = defaults };
	pkgflat_image_package *list = NULL;
	size_t n = 0, k = 0;
	pkgflat_status rc;

	*members = NULL;
	*count = 0;
	if ((rc = src_open_image(file, &im.o, &im.s, err)))
		return rc;
	rc = pkgflat_image_packages(&im, &list, &n, err);
	src_close(im.s);
	if (rc)
		return rc;
	char **out = pf_calloc(n + 1, sizeof *out);
	if (!out) {
		pkgflat_image_packages_free(list, n);
		return fail_nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		if (list[i].kind == PKGFLAT_FOUND_BUNDLE) {
			out[k++] = list[i].member;
			list[i].member = NULL;
		}
	pkgflat_image_packages_free(list, n);
	*members = out;
	*count = k;
	return PKGFLAT_OK;
}
