/* Reader for Apple BOM ("BOMStore") files: legacy Archive.bom and flat Bom. */
#ifndef PKGFLAT_BOM_H
#define PKGFLAT_BOM_H

#include "internal.h"

typedef struct bom_reader bom_reader;

/*
 * Parse the header, block table and variables of a BOM held in memory.
 * data stays owned by the caller and must outlive the reader. file names
 * the BOM in error messages ("Foo.pkg/Contents/Archive.bom").
 */
pkgflat_status bom_open(const unsigned char *data, size_t len,
    const char *file, bom_reader **out, pkgflat_error *err);
void bom_close(bom_reader *r);

/* data is a spill (spill.h: a writable shared file mapping): fn(ctx) is
 * called now and then during a walk to drop its pages (spill_trim), which
 * are read again as needed. */
void bom_set_spill(bom_reader *r, void (*fn)(void *ctx), void *ctx);

/*
 * Walk every path of the Paths tree in leaf order, calling fn with full
 * "./a/b" paths (the root is "."). Fills stats when non-NULL. Fails with
 * PKGFLAT_E_FORMAT, naming the block or offset, on anything out of bounds,
 * a cycle in the tree or in parent links, or a record too short.
 */
pkgflat_status bom_walk(bom_reader *r, pkgflat_entry_fn fn, void *ctx,
    pkgflat_bom_stats *stats, pkgflat_error *err);

#endif
