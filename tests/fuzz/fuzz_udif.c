/*
 * Fuzz the UDIF reader: trailer, property list or resource fork, run
 * tables, every run codec and the three checksums. Reads the whole disk
 * back (bounded) so that every run is decoded.
 */
#include "fuzz.h"
#include "fuzz_image.h"

FUZZ_TARGET(udif)
{
	static unsigned char buf[64 * 1024];
	img_dev *d = NULL, *u = NULL;
	pkgflat_error err = { 0 };
	struct img_opts o = { .max_image_size = FUZZ_IMAGE_MAX };
	pkgflat_status st;

	if (dev_open_mem(data, size, "fuzz.dmg", &d, &err))
		return 0;
	st = udif_open(d, &o, &u, &err);
	fuzz_check(st, &err);
	if (st != PKGFLAT_OK)
		return 0;
	uint64_t left = u->size < 8 * sizeof buf ? u->size : 8 * sizeof buf;
	for (uint64_t off = 0; off < left && st == PKGFLAT_OK; off += sizeof buf) {
		size_t n = left - off < sizeof buf ? (size_t)(left - off) : sizeof buf;
		st = dev_read(u, off, buf, n, &err);
		fuzz_check(st, &err);
	}
	if (u->size <= 16 * sizeof buf) {
		pkgflat_error e2 = { 0 };
		fuzz_check(udif_verify(u, &e2), &e2);
	}
	dev_close(u);
	return 0;
}
