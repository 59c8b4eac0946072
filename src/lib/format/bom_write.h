/* Writing Apple BOM ("BOMStore") files from a payload's entries. */
#ifndef PKGFLAT_BOMW_H
#define PKGFLAT_BOMW_H

#include "internal.h"
#include "spill.h"

typedef struct bom_writer bom_writer;

pkgflat_status bomw_new(bom_writer **out, pkgflat_error *err);
void bomw_free(bom_writer *w);

/*
 * Add one entry, in payload order ("." first, then "./a", ...). Strings are
 * copied. Files carry their POSIX cksum CRC in crc/has_crc (the caller
 * computes it while streaming the data); the writer works out symlink CRCs
 * itself. A PKGFLAT_ENTRY_HARDLINK entry names the earlier path it links to
 * in `hardlink` and is recorded as a file with that file's size and CRC.
 * A path whose parent was not added before it is an error.
 */
pkgflat_status bomw_add(bom_writer *w, const pkgflat_entry *e,
    pkgflat_error *err);

/* Whether path was added already (a payload may store a path twice). */
int bomw_contains(const bom_writer *w, const char *path);

/* What path was added with (mode, owner, size, symlink target; strings
 * borrowed until the next add): 1, or 0 when it was not added. */
int bomw_get(const bom_writer *w, const char *path, pkgflat_entry *out);

/* Serialise. *out is malloc'd. Memory use is proportional to the number of
 * entries, never to file sizes. */
pkgflat_status bomw_finish(bom_writer *w, unsigned char **out, size_t *len,
    pkgflat_error *err);

/* Serialise into a spill (out->p, out->len; spill_close() it): the BOM and
 * its block table stay in a temporary file, not in memory. */
pkgflat_status bomw_finish_spill(bom_writer *w, struct spill *out,
    pkgflat_error *err);

#endif
