/* Parallel gzip compression for payloads (see gzip_write.c). */
#ifndef PKGFLAT_PGZ_H
#define PKGFLAT_PGZ_H

#include <stddef.h>
#include <stdint.h>

/* Receives the compressed stream in order; returns non-zero to fail. */
typedef int (*pgz_write_fn)(void *ctx, const void *data, size_t len);

typedef struct pgz pgz;

/* level 1-9; threads: worker threads (the caller's thread only feeds and
 * writes). NULL when out of memory or no thread could start. */
pgz *pgz_new(int level, int threads, pgz_write_fn write, void *ctx);
int pgz_write(pgz *g, const void *data, size_t len);
/* Flush everything and write the gzip trailer. */
int pgz_finish(pgz *g);
void pgz_free(pgz *g);

#endif
