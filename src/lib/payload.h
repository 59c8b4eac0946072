/* Reading installer payloads (Archive.pax.gz, Payload) as entry streams. */
#ifndef PKGFLAT_PAYLOAD_H
#define PKGFLAT_PAYLOAD_H

#include "internal.h"

/* Pull-style input: returns bytes read, 0 at end, -1 on error. */
typedef long (*payload_read_fn)(void *ctx, void *buf, size_t n);

/*
 * Stream a cpio (odc, newc, binary) or tar (ustar, pax, gnu) archive,
 * compressed with anything libarchive knows or not at all, and call fn for
 * each entry with a normalised "./" path. file names the payload in errors.
 */
pkgflat_status payload_walk(payload_read_fn rd, void *rdctx, const char *file,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);

/* Same, with digest set: every regular file's data is read through
 * SHA-256 and fn is called after it (e->sha256, e->has_sha256). */
pkgflat_status payload_walk_digest(payload_read_fn rd, void *rdctx,
    const char *file, int digest, pkgflat_entry_fn fn, void *ctx,
    pkgflat_payload_stats *stats, pkgflat_error *err);

struct archive_entry;

/* A libarchive entry as a pkgflat_entry (path and hardlink borrowed). */
void payload_fill_entry(struct archive_entry *ent, const char *path,
    const char *hardlink, pkgflat_entry *e);

/* PKGFLAT_ENTRY_* for a file type (AE_IFREG, ...); 0 when unknown. */
int payload_entry_type(unsigned int filetype, int hardlink);

/* "./a/b" form of an archive member name; NULL if it climbs out with "..". */
char *payload_norm_path(const char *name);

#endif
