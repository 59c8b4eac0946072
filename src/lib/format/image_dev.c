/*
 * The byte devices under a disk image: the image file, bytes in memory,
 * and a .gz expanded once into an unlinked sparse temporary file (gzip
 * has no random access; zero blocks become holes, so a 500 MiB template
 * costs the few MiB it holds).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "payload.h"
#include "spill.h"

pkgflat_status dev_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err)
{
	if (off > d->size || n > d->size - off)
		return fail(err, PKGFLAT_E_FORMAT, d->name, NULL,
		    "read of %zu bytes at offset %llu past the end of the image "
		    "(%llu bytes)", n, (unsigned long long)off,
		    (unsigned long long)d->size);
	return d->ops->read(d, off, buf, n, err);
}

void dev_close(img_dev *d)
{
	if (d)
		d->ops->close(d);
}

/* ------------------------------------------------------------------ */
/* A file on disk                                                      */

struct file_dev {
	img_dev base;
	int fd;
};

static pkgflat_status file_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err)
{
	struct file_dev *f = (struct file_dev *)d;
	unsigned char *p = buf;

	while (n) {
		ssize_t r = pread(f->fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(err, d->name, "read at offset %llu",
			    (unsigned long long)off);
		if (r == 0)
			return fail(err, PKGFLAT_E_FORMAT, d->name, NULL,
			    "file shrank while reading (offset %llu)",
			    (unsigned long long)off);
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return PKGFLAT_OK;
}

static void file_close(img_dev *d)
{
	struct file_dev *f = (struct file_dev *)d;

	if (f->fd >= 0)
		close(f->fd);
	free(d->name);
	free(f);
}

static const struct img_dev_ops file_ops = { .read = file_read,
	.close = file_close };

static pkgflat_status file_dev_fd(int fd, const char *name, img_dev **out,
    pkgflat_error *err)
{
	struct file_dev *f = pf_calloc(1, sizeof *f);
	struct stat sb;

	if (!f || !(f->base.name = pf_strdup(name))) {
		free(f);
		close(fd);
		return fail_nomem(err);
	}
	f->fd = fd;
	f->base.ops = &file_ops;
	if (fstat(fd, &sb) != 0) {
		pkgflat_status rc = fail_errno(err, name, "cannot stat");
		file_close(&f->base);
		return rc;
	}
	f->base.size = (uint64_t)sb.st_size;
	*out = &f->base;
	return PKGFLAT_OK;
}

pkgflat_status dev_open_file(const char *path, img_dev **out,
    pkgflat_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return fail_errno(err, path, "cannot open");
	return file_dev_fd(fd, path, out, err);
}

/* ------------------------------------------------------------------ */
/* Bytes in memory (fuzzing, tests)                                    */

struct mem_dev {
	img_dev base;
	const unsigned char *p;
};

static pkgflat_status mem_read(img_dev *d, uint64_t off, void *buf, size_t n,
    pkgflat_error *err)
{
	(void)err;
	memcpy(buf, ((struct mem_dev *)d)->p + off, n);
	return PKGFLAT_OK;
}

static void mem_close(img_dev *d)
{
	free(d->name);
	free(d);
}

static const struct img_dev_ops mem_ops = { .read = mem_read,
	.close = mem_close };

pkgflat_status dev_open_mem(const void *data, size_t n, const char *name,
    img_dev **out, pkgflat_error *err)
{
	struct mem_dev *m = pf_calloc(1, sizeof *m);

	*out = NULL;
	if (!m || !(m->base.name = pf_strdup(name))) {
		free(m);
		return fail_nomem(err);
	}
	m->base.ops = &mem_ops;
	m->base.size = n;
	m->p = data;
	*out = &m->base;
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* .gz expanded into a sparse temporary file                           */

#define GZ_BUF (64 * 1024)

/* memcmp against itself shifted by one: as fast as memcmp, which a
 * 4 GiB disk of free space needs. */
static int all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static pkgflat_status write_all(int fd, const unsigned char *p, size_t n,
    const char *name, pkgflat_error *err)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail_errno(err, name, "cannot write the expanded "
			    "image to a temporary file");
		p += w;
		n -= (size_t)w;
	}
	return PKGFLAT_OK;
}

/* The compressed image's bytes, for gzin. */
struct gz_src {
	img_dev *in;
	uint64_t off;
	pkgflat_error *err;
};

static long gz_src_read(void *p, void *buf, size_t n)
{
	struct gz_src *s = p;
	uint64_t left = s->in->size - s->off;

	if (n > left)
		n = (size_t)left;
	if (n == 0)
		return 0;
	if (dev_read(s->in, s->off, buf, n, s->err))
		return -1;
	s->off += n;
	return (long)n;
}

/* A .dmg.gz: inflated by the payload reader's gzip code, so every member's
 * CRC-32 and length are checked, every member is read and trailing garbage
 * is an error, as for a payload. */
pkgflat_status dev_open_gunzip(img_dev *in, const struct img_opts *o,
    img_dev **out, pkgflat_error *err)
{
	uint64_t cap = o && o->max_image_size ? o->max_image_size :
	    IMG_DEFAULT_MAX_SIZE;
	unsigned char *obuf = malloc(GZ_BUF);
	struct gz_src src = { .in = in, .err = err };
	struct gzin *gz = NULL;
	uint64_t total = 0;
	pkgflat_status rc = PKGFLAT_OK;
	int fd = -1;

	*out = NULL;
	if (!obuf) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((fd = pf_temp_fd()) < 0) {
		rc = fail_errno(err, in->name, "cannot create a temporary file");
		goto out;
	}
	if ((rc = gzin_open(gz_src_read, &src, NULL, 0, in->name, &gz, err)))
		goto out;
	for (;;) {
		long got = gzin_read(gz, obuf, GZ_BUF);
		if (got < 0) {
			rc = err->status ? err->status : PKGFLAT_E_FORMAT;
			goto out;
		}
		if (got == 0)
			break;
		if (total + (uint64_t)got > cap) {
			rc = fail(err, PKGFLAT_E_UNSUPPORTED, in->name, NULL,
			    "expanded image larger than the limit of %llu bytes "
			    "(--max-image-size)", (unsigned long long)cap);
			goto out;
		}
		/* Zero blocks become holes: a 500 MiB template holds a few
		 * MiB of data and costs that much disk. */
		if (!all_zero(obuf, (size_t)got)) {
			if (lseek(fd, (off_t)total, SEEK_SET) < 0) {
				rc = fail_errno(err, in->name, "cannot seek "
				    "the temporary file");
				goto out;
			}
			if ((rc = write_all(fd, obuf, (size_t)got, in->name,
			    err)))
				goto out;
		}
		total += (uint64_t)got;
	}
	if (ftruncate(fd, (off_t)total) != 0) {
		rc = fail_errno(err, in->name, "cannot size the temporary file");
		goto out;
	}
	rc = file_dev_fd(fd, in->name, out, err);
	fd = -1;
out:
	gzin_free(gz);
	if (fd >= 0)
		close(fd);
	free(obuf);
	dev_close(in);
	return rc;
}

