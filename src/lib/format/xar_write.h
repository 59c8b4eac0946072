/*
 * Writing XAR archives the way productbuild does (flat-format.md §1):
 * 28-byte header, zlib TOC, TOC checksum at heap offset 0, optional
 * signature space right after it, then the file data.
 *
 * File data is streamed into a temporary heap file next to the output while
 * it is hashed; xarw_finish() writes header and TOC to the output and then
 * copies the heap behind them (copy_file_range where the kernel has it).
 * Nothing proportional to file sizes is held in memory.
 */
#ifndef PKGFLAT_XAR_H
#define PKGFLAT_XAR_H

#include <libxml/xmlwriter.h>

#include "internal.h"
#include "spill.h"

enum xar_cksum { XAR_CKSUM_SHA1 = 1, XAR_CKSUM_SHA256 = 3, XAR_CKSUM_SHA512 = 4 };

/* How a file's bytes are stored in the heap. */
enum xar_encoding {
	XAR_ENC_RAW = 0,  /* application/octet-stream: Payload, Scripts */
	XAR_ENC_ZLIB      /* application/x-gzip (really zlib): PackageInfo,
	                     Bom, Distribution, Resources */
};

/*
 * Signatures (issue 4) plug in here. The writer reserves `reserve` heap
 * bytes after the TOC checksum, calls write_toc() while writing the TOC
 * right after the <checksum> element (so that <signature> and
 * <x-signature> describe offsets starting at `offset`), and once the TOC
 * checksum is known calls sign() to fill the reserved bytes.
 */
struct xar_signer {
	size_t reserve;
	pkgflat_status (*write_toc)(void *ctx, xmlTextWriterPtr w,
	    uint64_t offset, pkgflat_error *err);
	pkgflat_status (*sign)(void *ctx, const unsigned char *cksum,
	    size_t cksum_len, unsigned char *out, pkgflat_error *err);
	void *ctx;
};

struct xar_options {
	enum xar_cksum toc_cksum;   /* default XAR_CKSUM_SHA1 */
	int64_t creation_time;      /* seconds since 1970 (SOURCE_DATE_EPOCH) */
	int zlib_level;             /* 0 means Z_BEST_COMPRESSION, like Apple */
	const struct xar_signer *signer; /* NULL: unsigned */
};

typedef struct xar_writer xar_writer;

/*
 * Start an archive. tmpdir is where the heap file goes (the output's
 * directory, so the final copy stays on one filesystem); the heap file is
 * unlinked as soon as it is created. `name` labels errors.
 */
pkgflat_status xarw_new(const char *tmpdir, const char *name,
    const struct xar_options *opt, xar_writer **out, pkgflat_error *err);
void xarw_free(xar_writer *w);

/* A directory (mode 0755 root:wheel, dated the creation time, like every
 * member). parent 0 is the top level. */
pkgflat_status xarw_add_dir(xar_writer *w, uint64_t parent, const char *name,
    uint64_t *id, pkgflat_error *err);

/* A file from memory. */
pkgflat_status xarw_add_file(xar_writer *w, uint64_t parent, const char *name,
    enum xar_encoding enc, const void *data, size_t len, pkgflat_error *err);

/* A file streamed in pieces: begin, write any number of times, end. Only one
 * file can be open at a time. abort() drops what was written of it (the
 * heap is truncated back), so a caller can start the file over. */
/* Same, from a spill (spill.h), its pages dropped as they are read. */
pkgflat_status xarw_add_spill(xar_writer *w, uint64_t parent,
    const char *name, enum xar_encoding enc, struct spill *sp,
    pkgflat_error *err);

pkgflat_status xarw_file_begin(xar_writer *w, uint64_t parent,
    const char *name, enum xar_encoding enc, pkgflat_error *err);
pkgflat_status xarw_file_write(xar_writer *w, const void *data, size_t len,
    pkgflat_error *err);
pkgflat_status xarw_file_end(xar_writer *w, pkgflat_error *err);
void xarw_file_abort(xar_writer *w);

/* Write the whole archive to out_fd (positioned at 0, empty). */
pkgflat_status xarw_finish(xar_writer *w, int out_fd, pkgflat_error *err);

#endif
