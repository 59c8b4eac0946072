/* Reading the header and TOC of a XAR (flat package). */
#ifndef PKGFLAT_XAR_READ_H
#define PKGFLAT_XAR_READ_H

#include <libxml/tree.h>

#include "internal.h"

struct xar_toc {
	uint64_t clen, ulen;   /* compressed and XML TOC lengths */
	uint64_t heap;         /* file offset of the heap */
	uint64_t file_size;
	unsigned int alg;      /* header checksum algorithm */
	unsigned char *ctoc;   /* the compressed TOC as stored */
	xmlDocPtr doc;
	xmlNodePtr toc;        /* <toc> */
};

/*
 * How deep <file> elements may nest in a TOC. Every reader and writer of
 * a TOC walks it recursively; the limit is checked on the whole tree
 * (xar_toc_depth) before any of them gets it, and each walk also stops at
 * it, so a hostile TOC cannot exhaust the stack. Installer packages nest
 * a handful of levels; 64 is what the flat reader has always accepted.
 * Other elements may sit at most XAR_ELEM_SLACK levels below the deepest
 * <file> (<data><encoding>, <signature><KeyInfo><X509Data>...).
 */
#define XAR_MAX_DEPTH 64
#define XAR_ELEM_SLACK 8

/* NULL when the tree under toc keeps to XAR_MAX_DEPTH, else why not (a
 * static string). Walks without recursion. */
const char *xar_toc_depth_problem(xmlNodePtr toc);

/* Read and check header and TOC of the XAR open on fd (the depth limit
 * included). */
pkgflat_status xar_toc_read(int fd, const char *name, struct xar_toc *t,
    pkgflat_error *err);
void xar_toc_free(struct xar_toc *t);

/* Helpers over the TOC tree. */
/* off + len, or UINT64_MAX when the sum does not fit in 64 bits. */
uint64_t xar_range_end(uint64_t off, uint64_t len);
int xar_is_elem(xmlNodePtr n, const char *name);
xmlNodePtr xar_child(xmlNodePtr n, const char *name);
int xar_child_u64(xmlNodePtr n, const char *name, uint64_t *v);
/* The end of the last range any <data>, <ea>, <checksum> or signature
 * element claims in the heap. */
uint64_t xar_heap_used(xmlNodePtr toc);
/* A <file>'s name, malloc'd: its last <name> (productsign repeats it),
 * base64-decoded when it says enctype="base64" (libarchive and libxar write
 * names that are not UTF-8 so). NULL when there is none or it does not
 * decode; *b64 says whether it was encoded. */
char *xar_file_name(xmlNodePtr file, int *b64);
pkgflat_status xar_pread(int fd, uint64_t off, void *buf, size_t n,
    const char *name, pkgflat_error *err);

/* write(2) until done; name is the file errors name. */
pkgflat_status xar_write_all(int fd, const void *buf, size_t n,
    const char *name, pkgflat_error *err);
/* pwrite(2) until done, at off. */
pkgflat_status xar_pwrite_all(int fd, const void *buf, size_t n, uint64_t off,
    const char *name, pkgflat_error *err);
/* Copy len bytes at off of in to out's file position (errors name
 * in_name or out_name, whichever failed): copy_file_range
 * (the kernel copies, nothing is read into memory), falling back to
 * pread/pwrite where it is not supported (another filesystem, old
 * kernel); the file position then moves past what was copied. */
pkgflat_status xar_copy_range(int in, uint64_t off, uint64_t len,
    const char *in_name, int out, const char *out_name, pkgflat_error *err);

/* The same to out's offset out_off (pwrite where copy_file_range fails);
 * out's file position is not used. */
pkgflat_status xar_copy_range_at(int in, uint64_t off, uint64_t len,
    const char *in_name, int out, uint64_t out_off, const char *out_name,
    pkgflat_error *err);

#endif
