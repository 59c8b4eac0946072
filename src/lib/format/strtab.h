/* Old-style .strings files: "key" = "value"; in UTF-8 or UTF-16. */
#ifndef PKGFLAT_STRTAB_H
#define PKGFLAT_STRTAB_H

#include "internal.h"

/* Calls fn(key, value, ctx) for each pair; stops at the first error, which
 * names file and line. fn returns non-zero on failure (out of memory). */
pkgflat_status strings_parse(const unsigned char *data, size_t len,
    const char *file, int (*fn)(const char *key, const char *value, void *ctx),
    void *ctx, pkgflat_error *err);

#endif
