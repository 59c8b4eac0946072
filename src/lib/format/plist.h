/* Property lists (XML or binary) on top of libplist, with located errors. */
#ifndef PKGFLAT_PLIST_H
#define PKGFLAT_PLIST_H

#include <plist/plist.h>

#include "internal.h"

/*
 * Parse an XML (any encoding libxml2 knows) or binary property list.
 * Errors name file and, for XML, the line; for binary, the byte offset.
 */
pkgflat_status plist_parse(const unsigned char *data, size_t len,
    const char *file, plist_t *out, pkgflat_error *err);

/* Typed look-ups in a dict. Absent keys and wrong types give NULL / -1. */
const char *pl_str(plist_t dict, const char *key);
/*
 * Booleans as real packages write them: <true/>, <integer>1</integer>,
 * "YES", "true". Returns 1, 0, or -1 when absent or unreadable; *odd is set
 * (when non-NULL) if the value was not a plain boolean.
 */
int pl_bool(plist_t dict, const char *key, int *odd);
int pl_int(plist_t dict, const char *key, int64_t *out);
/* Any scalar rendered as text (allocated), NULL for containers. */
char *pl_text(plist_t node);

#endif
