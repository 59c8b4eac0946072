/*
 * Fuzz the HFS+ reader (volume header, catalog, extents and attributes
 * B-trees, hard links, decmpfs) on a bare volume: open any bytes as one,
 * then read every entry it lists.
 */
#include "fuzz.h"
#include "fuzz_image.h"

FUZZ_TARGET(hfsplus)
{
	img_dev *d = NULL;
	hfs_vol *v = NULL;
	pkgflat_error err = { 0 };
	struct img_opts o = { .max_image_size = FUZZ_IMAGE_MAX };
	pkgflat_status st;

	if (dev_open_mem(data, size, "fuzz.hfs", &d, &err))
		return 0;
	st = hfs_open(d, 0, size, "fuzz.hfs", &o, &v, &err);
	fuzz_check(st, &err);
	if (st == PKGFLAT_OK)
		fuzz_walk_volume(v);
	hfs_close(v);
	dev_close(d);
	return 0;
}
