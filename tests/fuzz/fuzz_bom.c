/*
 * Fuzz the BOM reader: open and walk any bytes. Every field of every entry
 * is read so that the sanitizers see each byte the reader hands out, and
 * the reader's own promises are checked: a failure always says what is
 * wrong, and every path is "." or starts with "./".
 */
#include <stdlib.h>
#include <string.h>

#include "bom_read.h"
#include "fuzz.h"

static int touch(const pkgflat_entry *e, void *ctx)
{
	uint64_t *sum = ctx;
	size_t n = strlen(e->path);

	if (n == 0 || e->path[0] != '.' || (n > 1 && e->path[1] != '/'))
		abort();
	if (e->link_target)
		n += strlen(e->link_target);
	if (e->hardlink)
		n += strlen(e->hardlink);
	*sum += n + (uint64_t)e->type + e->mode + e->uid + e->gid +
	    (uint64_t)e->mtime + e->size + e->crc + (uint64_t)e->has_crc +
	    e->rdev + e->ino + e->nlink;
	return 0;
}

FUZZ_TARGET(bom)
{
	bom_reader *r = NULL;
	pkgflat_error err = { 0 };
	pkgflat_bom_stats stats;
	pkgflat_status st;
	uint64_t sum = 0;

	st = bom_open(data, size, "fuzz.bom", &r, &err);
	if (st == PKGFLAT_OK) {
		st = bom_walk(r, touch, &sum, &stats, &err);
		if (stats.paths > 0 && st == PKGFLAT_OK && sum == 0)
			abort(); /* entries were listed but none reached us */
	}
	if (st != PKGFLAT_OK && (err.status != st || !err.message[0]))
		abort();
	bom_close(r);
	return 0;
}
