/*
 * Disk images, read-only: a stack of random-access byte devices.
 *
 *   file            an image file on disk (raw, or the bytes of a UDIF)
 *   gz temp file    a .dmg.gz expanded once into an unlinked sparse file
 *   UDIF            sectors assembled from a UDIF's run tables (udif.c)
 *   fork            a file's data fork on an HFS+ volume (hfsplus.c), so
 *                   that an image inside an image opens the same way
 *
 * On top of a device: the partition map (bare volume, APM, GPT, MBR) and
 * the HFS+/HFSX volumes it holds (hfsplus.c); source_image.c turns a volume
 * into an input source. Every device reads whole ranges or fails.
 */
#ifndef PKGFLAT_IMAGE_H
#define PKGFLAT_IMAGE_H

#include "internal.h"

typedef struct img_dev img_dev;

struct img_dev_ops {
	/* Read exactly n bytes at off (off + n <= size), or fail. */
	pkgflat_status (*read)(img_dev *d, uint64_t off, void *buf, size_t n,
	    pkgflat_error *err);
	void (*close)(img_dev *d);
};

struct img_dev {
	const struct img_dev_ops *ops;
	uint64_t size;
	char *name;      /* how errors name the image */
};

pkgflat_status dev_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err);
void dev_close(img_dev *d);

/* Limits the caller may set; zero fields take the defaults. */
struct img_opts {
	uint64_t max_image_size;  /* expanded .gz and UDIF sector count cap */
	int force;                /* open journaled volumes not cleanly unmounted */
};
#define IMG_DEFAULT_MAX_SIZE (8ULL << 30)

/* An image file as it lies on disk. name is used in errors. */
pkgflat_status dev_open_file(const char *path, img_dev **out,
    pkgflat_error *err);
/* n bytes at data, which must outlive the device. */
pkgflat_status dev_open_mem(const void *data, size_t n, const char *name,
    img_dev **out, pkgflat_error *err);
/* A gzip stream from `in` expanded into an unlinked sparse temporary file
 * (removed by the kernel on any exit, signals included). */
pkgflat_status dev_open_gunzip(img_dev *in, const struct img_opts *o,
    img_dev **out, pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* UDIF (udif.c)                                                       */

enum udif_codec {
	UDIF_ZERO = 0, UDIF_RAW, UDIF_IGNORE, UDIF_ADC, UDIF_ZLIB, UDIF_BZIP2,
	UDIF_LZMA, UDIF_NCODECS
};
extern const char *const udif_codec_names[UDIF_NCODECS];

struct udif_info {
	unsigned codecs;        /* bit per enum udif_codec seen in the runs */
	size_t nparts;          /* blkx entries */
	uint64_t sectors;
};

/* Whether the device ends in a koly trailer. */
int udif_sniff(img_dev *d);
/* The disk a UDIF describes, over `in` (which the new device owns). */
pkgflat_status udif_open(img_dev *in, const struct img_opts *o,
    img_dev **out, pkgflat_error *err);
void udif_get_info(img_dev *udif, struct udif_info *info);
/* Check the data-fork, every partition and the master CRC-32. */
pkgflat_status udif_verify(img_dev *udif, pkgflat_error *err);
/* The name of each blkx partition (valid while the device lives). */
const char *udif_part_name(img_dev *udif, size_t i);

/* ------------------------------------------------------------------ */
/* The image as a whole (image.c)                                      */

enum img_kind { IMG_RAW = 1, IMG_UDIF, IMG_GZIP };
enum img_map { MAP_NONE = 1, MAP_APM, MAP_GPT, MAP_MBR };

struct img_part {
	uint64_t offset, length;
	char *name;        /* the map's name or type; NULL when bare */
	char *type;
	int hfs;           /* an HFS+/HFSX volume starts here (after any wrapper) */
	uint64_t vol_offset;
};

typedef struct img img;
struct img {
	img_dev *dev;        /* the disk */
	enum img_kind kind;
	enum img_map map;
	struct img_part *parts;
	size_t nparts;
	char *file;
};

/*
 * Open an image: sniffs UDIF, gzip, raw; refuses the kinds we cannot read
 * by name; finds every HFS+ volume through the partition map. `in` is the
 * image's bytes and is taken over (closed on failure too).
 */
pkgflat_status img_open_dev(img_dev *in, const char *file,
    const struct img_opts *o, img **out, pkgflat_error *err);
pkgflat_status img_open(const char *path, const struct img_opts *o,
    img **out, pkgflat_error *err);
void img_close(img *im);
/* 1 when the file looks like a disk image we should try (by content). */
int img_sniff_file(const char *path);

#endif
