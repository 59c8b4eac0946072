/*
 * Fuzz the whole image source: kind sniffing and refusals, gzip expansion,
 * UDIF, partition maps, every HFS+ volume, then the source's own look-ups
 * and reads as the bundle reader makes them.
 */
#include "fuzz.h"
#include "fuzz_image.h"
#include "source_image.h"

FUZZ_TARGET(image)
{
	img_dev *d = NULL;
	img *im = NULL;
	src *s = NULL;
	pkgflat_error err = { 0 };
	struct img_opts o = { .max_image_size = FUZZ_IMAGE_MAX };
	pkgflat_status st;

	if (dev_open_mem(data, size, "fuzz.dmg", &d, &err))
		return 0;
	st = img_open_dev(d, "fuzz.dmg", &o, &im, &err);
	fuzz_check(st, &err);
	if (st != PKGFLAT_OK)
		return 0;
	st = src_open_image_img(im, &o, &s, &err);
	fuzz_check(st, &err);
	if (st != PKGFLAT_OK)
		return 0;
	for (size_t i = 0; i < src_image_volumes(s); i++)
		fuzz_walk_volume(src_image_volume(s, i, NULL));
	ptrvec names = { 0 };
	pkgflat_error e2 = { 0 };
	fuzz_check(s->ops->list(s, "", &names, &e2), &e2);
	for (size_t i = 0; i < names.n; i++) {
		struct src_stat sst;
		pkgflat_error e3 = { 0 };
		char *r = NULL;
		fuzz_check(src_resolve(s, names.v[i], &r, &sst, &e3), &e3);
		free(r);
	}
	pv_free(&names, free);
	src_close(s);
	return 0;
}
