/*
 * HFS+ and HFSX volumes, read-only (hfsplus.c): the catalog becomes a
 * sorted list of entries with paths; files are read through their extents.
 */
#ifndef PKGFLAT_HFSPLUS_H
#define PKGFLAT_HFSPLUS_H

#include "image.h"
#include "source.h"

struct hfs_extent {
	uint32_t start, count;
};

struct hfs_fork {
	uint64_t size;
	struct hfs_extent *ext;
	uint32_t next;
};

/* What an entry carries that a flat package cannot hold. */
enum {
	HFS_X_RSRC = 1,    /* a resource fork */
	HFS_X_FINFO = 2,   /* Finder info (type/creator, flags, ...) */
	HFS_X_XATTR = 4,   /* extended attributes */
	HFS_X_ALIAS = 8    /* a Finder alias file */
};

struct hfs_entry {
	char *path;          /* first: src_list_sorted relies on it */
	enum src_type type;
	uint32_t mode;
	uint64_t size;       /* bytes read back (decoded for decmpfs files) */
	char *link;
	uint32_t cnid;
	struct hfs_fork *data, *rsrc;  /* shared between hard links */
	uint32_t comp;       /* decmpfs type, 0 when not compressed */
	unsigned char *cdata;   /* decmpfs payload after its 16-byte header */
	size_t clen;
	unsigned extras;
};

typedef struct hfs_vol hfs_vol;

pkgflat_status hfs_open(img_dev *dev, uint64_t offset, uint64_t length,
    const char *name, const struct img_opts *o, hfs_vol **out,
    pkgflat_error *err);
void hfs_close(hfs_vol *v);

/* Entries sorted by path; "" is the root directory. */
size_t hfs_count(const hfs_vol *v);
struct hfs_entry *hfs_entry_at(hfs_vol *v, size_t i);
/* Exact match first, then ASCII case-insensitive; NULL when absent. */
struct hfs_entry *hfs_lookup(hfs_vol *v, const char *path);
const char *hfs_volume_name(const hfs_vol *v);
int hfs_is_hfsx(const hfs_vol *v);

/* Read n bytes of a regular file's contents (decoded) at off. */
pkgflat_status hfs_file_read(hfs_vol *v, const struct hfs_entry *e,
    uint64_t off, void *buf, size_t n, pkgflat_error *err);

/* A regular file as a device, for an image inside an image. */
pkgflat_status hfs_file_dev(hfs_vol *v, const struct hfs_entry *e,
    const char *name, img_dev **out, pkgflat_error *err);

#endif
