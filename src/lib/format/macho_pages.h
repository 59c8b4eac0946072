/*
 * A Mach-O slice's code pages hashed as they stream by, for the
 * CodeDirectory's code slots (macho_pages.c); used by macho.c.
 */
#ifndef PKGFLAT_MACHO_PAGES_H
#define PKGFLAT_MACHO_PAGES_H

#include <stddef.h>
#include <stdint.h>

struct macho_pages;

/* Hash from start, the slice's offset in the file. NULL: out of memory. */
struct macho_pages *macho_pages_new(uint64_t start);
void macho_pages_free(struct macho_pages *p);
/* The slice has no signature: nothing more to hash. */
void macho_pages_stop(struct macho_pages *p);
/* The code ends at limit (absolute: the signature's offset). */
void macho_pages_limit(struct macho_pages *p, uint64_t limit);
/* The file's bytes [pos, pos + len); bytes before the slice or past the
 * limit are passed over. 0, or -1 out of memory. */
int macho_pages_feed(struct macho_pages *p, uint64_t pos,
    const unsigned char *buf, size_t len);
/* After the whole code went by: 1 every code slot of the CodeDirectory
 * cd matches, 0 page *bad_page does not, -1 not judged (a layout this
 * does not check, or pages not all seen). */
int macho_pages_compare(struct macho_pages *p, const unsigned char *cd,
    uint32_t cd_len, uint32_t *bad_page);

#endif
