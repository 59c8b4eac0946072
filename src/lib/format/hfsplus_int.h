/* Private to the HFS+ reader: the volume (hfsplus.c) and its forks and
 * file contents (hfsplus_fork.c). */
#ifndef PKGFLAT_HFSPLUS_INT_H
#define PKGFLAT_HFSPLUS_INT_H

#include "hfsplus.h"

#define MAX_ENTRIES 2000000
#define DECMPFS_CHUNK 65536

struct rec {            /* a catalog file or folder record */
	uint32_t parent, cnid;
	char *name;
	int folder;
	int priv;           /* 1 private files folder, 2 private dirs folder */
	uint32_t mode, special;
	uint8_t owner_flags;
	unsigned char finfo[32];
	unsigned char fork[2][80];
	size_t first_child, nchildren;
};

struct ovf {            /* an extents-overflow record */
	uint32_t file, start;
	uint8_t type;
	struct hfs_extent ext[8];
};

struct attr {
	uint32_t file;
	int decmpfs;
	unsigned char *data;
	size_t len;
};

struct hfs_vol {
	img_dev *dev;
	uint64_t base, length;
	char *name;         /* for errors */
	char *volname;
	int hfsx;
	uint32_t bs, total_blocks;
	struct ovf *ovf;
	size_t novf;
	struct rec *recs;
	size_t nrecs;
	struct rec **by_parent;
	struct attr *attrs;
	size_t nattrs;
	struct hfs_entry *e;
	size_t n, cap;
	struct hfs_entry **ci;  /* entries by ASCII-folded path */
	ptrvec forks;
	/* one decoded decmpfs chunk */
	const struct hfs_entry *chunk_of;
	uint64_t chunk_no;
	unsigned char *chunk, *zbuf;
	size_t chunk_len;
};

static inline uint32_t hfs_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

void fork_free(void *p);
int ovf_cmp(const void *a, const void *b);
/* Build a fork from its 80-byte record plus overflow extents; the volume
 * keeps it (freed by hfs_close). */
pkgflat_status fork_load(hfs_vol *v, const unsigned char *r, uint32_t file,
    uint8_t type, const char *what, struct hfs_fork **out, pkgflat_error *err);
pkgflat_status fork_read(hfs_vol *v, const struct hfs_fork *f, uint64_t off,
    void *buf, size_t n, pkgflat_error *err);

#endif
