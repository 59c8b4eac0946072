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

/* What else a walk does with each regular file's bytes. */
struct payload_opts {
	int digest;          /* fill sha256/has_sha256 (data is read first) */
	/* With data_fn: each regular file's bytes up to data_max (NULL when
	 * larger) go to data_fn instead of fn. */
	size_t data_max;
	int (*data_fn)(const pkgflat_entry *e, const unsigned char *data,
	    void *ctx);
	/* With chunk_fn: each regular file's bytes as they are read (before
	 * fn sees the entry), then once with buf NULL and n 0 at the end of
	 * them. Nonzero stops the walk as fn does. */
	int (*chunk_fn)(const pkgflat_entry *e, const unsigned char *buf,
	    size_t n, void *ctx);
	/* Refuse what an extraction would lose (aar_walk: extended
	 * attributes, ACLs, file flags), naming it. */
	int strict;
};

pkgflat_status payload_walk_ex(payload_read_fn rd, void *rdctx,
    const char *file, pkgflat_entry_fn fn, void *ctx,
    pkgflat_payload_stats *stats, const struct payload_opts *opt,
    pkgflat_error *err);

/* pbzx (pbzx.c): a pull reader decoding another; pre/npre are bytes the
 * caller already read from it (the magic included). */
struct pbzx;
pkgflat_status pbzx_open(payload_read_fn rd, void *ctx,
    const unsigned char *pre, size_t npre, const char *file,
    struct pbzx **out, pkgflat_error *err);
long pbzx_read(void *pbzx, void *buf, size_t n);
void pbzx_free(struct pbzx *p);

struct archive;
/* Apple Archive (aar.c): does h start an entry ("AA01", "YAA1")? */
int aar_sniff(const unsigned char *h, size_t n);
/* Walk an Apple Archive stream (already decoded from its pbz* chunks);
 * pre/npre are bytes the caller already read from rd. compression names
 * what it was decoded from, for the stats. */
pkgflat_status aar_walk(payload_read_fn rd, void *rdctx,
    const unsigned char *pre, size_t npre, const char *file,
    const char *compression, pkgflat_entry_fn fn, void *ctx,
    pkgflat_payload_stats *stats, const struct payload_opts *opt,
    pkgflat_error *err);

struct archive_entry;

/* gzip (gzip_read.c): a pull reader inflating another, checking each member's
 * CRC-32 and ISIZE; pre/npre as for pbzx (at most 128 KiB). Errors go to
 * err, naming file, the compressed offset and the member. */
struct gzin;
pkgflat_status gzin_open(payload_read_fn rd, void *ctx,
    const unsigned char *pre, size_t npre, const char *file,
    struct gzin **out, pkgflat_error *err);
long gzin_read(void *gzin, void *buf, size_t n);
/* Read to the end of the compressed stream: the last trailer is checked
 * there, and libarchive stops before it. */
pkgflat_status gzin_drain(struct gzin *g);
void gzin_free(struct gzin *g);

/* 1 when gzin itself found the stream corrupt (not an I/O error). */
int gzin_failed(const struct gzin *g);
/* Put an entry ("entry 3 (./a)") in front of err's where: for an error a
 * reader below libarchive raised while that entry was read. */
void payload_where_entry(pkgflat_error *err, const char *entry);

/*
 * libarchive's cpio reader searches past a member header it cannot read
 * and says so only with a warning, which it drops when the next header it
 * finds is the end marker; and it cuts a name at a NUL byte. So walkers
 * check that each header lies where the one before said, and that the
 * end marker is no longer than itself.
 */
struct cpio_track {
	int64_t next;        /* where the next header must start; -1: no check */
	int64_t last;        /* where the last header started */
};
/* After each header: -1 with msg when the member before it is not as long
 * as its header says. */
int cpio_track_entry(struct cpio_track *t, struct archive *a,
    struct archive_entry *e, char *msg, size_t n);
/* At ARCHIVE_EOF: as above, or -2 when the end marker was found only after
 * skipping bytes (a member after the last one reported). */
int cpio_track_end(struct cpio_track *t, struct archive *a, char *msg,
    size_t n);
/* Both in one, after archive_read_next_header() returned r with e, for
 * the entry numbered index (0 first) after the one named last (NULL
 * before the first): nonzero as they return, with where naming the member
 * at fault ("entry 3 (./a)", or "entry 4 (after ./a)" when it is unseen). */
int cpio_track_step(struct cpio_track *t, struct archive *a, int r,
    struct archive_entry *e, uint64_t index, const char *last, char *where,
    size_t wn, char *msg, size_t n);

/* The first two bytes of a gzip stream. */
#define GZIP_MAGIC(p) ((p)[0] == 0x1f && (p)[1] == 0x8b)

/* A libarchive entry as a pkgflat_entry (path and hardlink borrowed). */
void payload_fill_entry(struct archive_entry *ent, const char *path,
    const char *hardlink, pkgflat_entry *e);

/* PKGFLAT_ENTRY_* for a file type (AE_IFREG, ...); 0 when unknown. */
int payload_entry_type(unsigned int filetype, int hardlink);

/* "./a/b" form of an archive member name; NULL if it climbs out with ".."
 * (payload_name.c). */
char *payload_norm_path(const char *name);

#endif
