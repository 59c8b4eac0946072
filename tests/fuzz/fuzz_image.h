/* Shared by the disk image harnesses: read every entry of a volume, a
 * bounded number of bytes of each, so the sanitizers see what the reader
 * hands out; and check that a failure always says what is wrong. */
#ifndef PKGFLAT_FUZZ_IMAGE_H
#define PKGFLAT_FUZZ_IMAGE_H

#include <stdlib.h>
#include <string.h>

#include "hfsplus.h"

#define FUZZ_IMAGE_MAX (64u << 20)
#define FUZZ_READ_MAX (256u * 1024)

static inline void fuzz_check(pkgflat_status st, const pkgflat_error *err)
{
	if (st != PKGFLAT_OK && (err->status != st || !err->message[0]))
		abort();
}

static inline void fuzz_walk_volume(hfs_vol *v)
{
	static unsigned char buf[FUZZ_READ_MAX];
	size_t budget = 4 * FUZZ_READ_MAX;

	for (size_t i = 0; i < hfs_count(v); i++) {
		struct hfs_entry *e = hfs_entry_at(v, i);
		pkgflat_error err = { 0 };
		if (!e->path[0] || e->path[strlen(e->path) - 1] == '/')
			abort();
		if (hfs_lookup(v, e->path) == NULL)
			abort();
		if (e->type != SRC_FILE || !budget)
			continue;
		size_t n = e->size < FUZZ_READ_MAX ? (size_t)e->size : FUZZ_READ_MAX;
		if (n > budget)
			n = budget;
		budget -= n;
		fuzz_check(hfs_file_read(v, e, 0, buf, n, &err), &err);
	}
}

#endif
