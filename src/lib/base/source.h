/*
 * Input sources: a read-only tree of files that a bundle package lives in.
 * Three kinds plug in through struct src_ops: a directory on disk, an
 * archive (.zip, .tar, .tar.gz, .tgz) read with libarchive, never extracted,
 * and a flat package (XAR) whose TOC is the tree.
 * Paths inside a source are relative, normalised, and never leave its root.
 */
#ifndef PKGFLAT_SOURCE_H
#define PKGFLAT_SOURCE_H

#include "internal.h"

enum src_type { SRC_NONE = 0, SRC_FILE, SRC_DIR, SRC_LINK, SRC_OTHER };

struct src_stat {
	enum src_type type;
	uint32_t mode;        /* permission bits */
	uint64_t size;
	const char *link;     /* symlink target (owned by the source) */
};

typedef struct src src;
typedef struct src_stream src_stream;

/* Read up to n bytes; returns bytes read, 0 at end, -1 on error (err set). */
typedef long (*src_read_fn)(src_stream *s, void *buf, size_t n);

struct src_stream {
	src *owner;
	src_read_fn read;
	void (*close)(src_stream *s);
	char *path;
	pkgflat_error *err;
};

struct src_ops {
	const char *name;
	enum pkgflat_container container;
	void (*close)(src *s);
	/* Like lstat: does not follow a final symlink. */
	pkgflat_status (*lstat)(src *s, const char *path, struct src_stat *st,
	    pkgflat_error *err);
	/* Names of the entries of a directory (allocated strings). */
	pkgflat_status (*list)(src *s, const char *dir, ptrvec *names,
	    pkgflat_error *err);
	/* Read a whole regular file, refusing files over max bytes. */
	pkgflat_status (*read)(src *s, const char *path, size_t max,
	    unsigned char **data, size_t *len, pkgflat_error *err);
	pkgflat_status (*open_stream)(src *s, const char *path,
	    src_stream **out, pkgflat_error *err);
};

struct src {
	const struct src_ops *ops;
	char *display;   /* how errors name the root: "dir" or "x.zip" */
	int is_archive;
};

/* A directory: see source_dir.c. */
pkgflat_status src_open_dir(const char *dir, const char *display, src **out,
    pkgflat_error *err);
/* A zip or tar: see source_archive.c. */
pkgflat_status src_open_archive(const char *file, src **out,
    pkgflat_error *err);
/* A flat package (XAR) read in place: see source_xar.c. */
pkgflat_status src_open_xar(const char *file, src **out, pkgflat_error *err);
void src_close(src *s);

/* Fail with "file too large" for a read of path refused at max bytes. */
pkgflat_status src_too_large(const src *s, const char *path, uint64_t size,
    size_t max, pkgflat_error *err);

/* The name an error message uses for path inside the source. */
char *src_display(const src *s, const char *path);

/*
 * Resolve symlinks in path, component by component, within the source.
 * Fails with PKGFLAT_E_FORMAT on a loop or on a link that leaves the root.
 * On success *out is the resolved path and *st describes what it names
 * (type SRC_NONE when it does not exist).
 */
pkgflat_status src_resolve(src *s, const char *path, char **out,
    struct src_stat *st, pkgflat_error *err);

/* Convenience wrappers that resolve first. */
pkgflat_status src_stat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err);
pkgflat_status src_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err);
pkgflat_status src_open_stream(src *s, const char *path, src_stream **out,
    pkgflat_error *err);
/* Like src_read, into a spill (spill.h; spill_close() it): a large file
 * costs the process a window, not its size. */
struct spill;
pkgflat_status src_read_spill(src *s, const char *path, size_t max,
    struct spill *out, pkgflat_error *err);
void src_stream_close(src_stream *st);

/* For backends: the names in dir, from entries sorted by path whose
 * struct starts with a `char *path`, `stride` bytes apart. */
pkgflat_status src_list_sorted(const void *entries, size_t n, size_t stride,
    const char *dir, ptrvec *names, pkgflat_error *err);

/* For backends: a zeroed stream object of `size` bytes whose struct starts
 * with a src_stream, filled in; NULL when out of memory. */
void *src_stream_new(size_t size, src *owner, const char *path,
    src_read_fn rd, void (*close_fn)(src_stream *));

#endif
