/*
 * Writing flat payloads (payload_write.c): odc cpio in 512-byte blocks,
 * "." first, "./" names, TRAILER!!!, through the parallel gzip compressor
 * (flat-format.md §3.2). The reading side is payload.h.
 */
#ifndef PKGFLAT_PAYLOAD_WRITE_H
#define PKGFLAT_PAYLOAD_WRITE_H

#include "internal.h"
#include "gzip_write.h"

struct archive_entry;
typedef struct payload_writer payload_writer;

/* A writer sending the compressed payload to sink. gzip level 1-9;
 * threads: 0 for one per core, at most 8 either way. name names the
 * payload in errors and must outlive the writer; errors go to err. */
pkgflat_status payload_writer_open(const char *name, int level, int threads,
    pgz_write_fn sink, void *sink_ctx, payload_writer **out,
    pkgflat_error *err);

/* A member's header (where names it in errors); its data follows with
 * payload_writer_data(). */
pkgflat_status payload_writer_entry(payload_writer *w, struct archive_entry *e,
    const char *where);
pkgflat_status payload_writer_data(payload_writer *w, const void *buf,
    size_t n, const char *where);

/* The end marker, the padding and the gzip trailer. */
pkgflat_status payload_writer_finish(payload_writer *w);

/* Flushes what is buffered into the sink: free the writer before the sink
 * goes away. NULL is fine. */
void payload_writer_free(payload_writer *w);

/* A copy of ent as a flat payload member: path, owner, no hard-link name,
 * user or group names, device, extended attributes, ACLs or sparse map.
 * The caller sets inode and link count. NULL when out of memory. */
struct archive_entry *payload_odc_entry(struct archive_entry *ent,
    const char *path, uint32_t uid, uint32_t gid);

#endif
