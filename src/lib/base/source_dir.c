/*
 * The directory source (source.h): a package as a directory tree, read
 * through an open directory descriptor with *at() calls. It never follows a
 * symlink itself; src_resolve() (source.c) does, one component at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

struct dir_src {
	src base;
	int fd;
	char link[4096];
};

static const char *dot(const char *path)
{
	return path && path[0] ? path : ".";
}

static void dir_close(src *s)
{
	struct dir_src *d = (struct dir_src *)s;

	if (d->fd >= 0)
		close(d->fd);
	free(s->display);
	free(d);
}

static pkgflat_status dir_lstat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	struct dir_src *d = (struct dir_src *)s;
	struct stat sb;

	memset(st, 0, sizeof *st);
	if (fstatat(d->fd, dot(path), &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return PKGFLAT_OK; /* type SRC_NONE */
		char *name = src_display(s, path);
		fail_errno(err, name, "cannot stat");
		free(name);
		return PKGFLAT_E_IO;
	}
	st->mode = sb.st_mode & 07777;
	st->size = (uint64_t)sb.st_size;
	if (S_ISREG(sb.st_mode))
		st->type = SRC_FILE;
	else if (S_ISDIR(sb.st_mode))
		st->type = SRC_DIR;
	else if (S_ISLNK(sb.st_mode)) {
		ssize_t n = readlinkat(d->fd, path, d->link, sizeof d->link - 1);
		if (n < 0) {
			char *name = src_display(s, path);
			fail_errno(err, name, "cannot read symlink");
			free(name);
			return PKGFLAT_E_IO;
		}
		d->link[n] = '\0';
		st->type = SRC_LINK;
		st->link = d->link;
	} else
		st->type = SRC_OTHER;
	return PKGFLAT_OK;
}

static pkgflat_status dir_list(src *s, const char *path, ptrvec *names,
    pkgflat_error *err)
{
	struct dir_src *d = (struct dir_src *)s;
	int fd = openat(d->fd, dot(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *dir;
	struct dirent *de;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		char *name = src_display(s, path);
		fail_errno(err, name, "cannot list directory");
		free(name);
		if (fd >= 0)
			close(fd);
		return PKGFLAT_E_IO;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *n = pf_strdup(de->d_name);
		if (!n || pv_push(names, n)) {
			free(n);
			closedir(dir);
			return fail_nomem(err);
		}
	}
	closedir(dir);
	/* Directory order differs between filesystems: sort for stable output. */
	if (names->n)
		qsort(names->v, names->n, sizeof *names->v, str_ptr_cmp);
	return PKGFLAT_OK;
}

static int dir_open_file(struct dir_src *d, const char *path,
    pkgflat_error *err, struct stat *sb)
{
	int fd = openat(d->fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, sb) != 0) {
		char *name = src_display(&d->base, path);
		fail_errno(err, name, "cannot open");
		free(name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		char *name = src_display(&d->base, path);
		fail(err, PKGFLAT_E_FORMAT, name, NULL, "not a regular file");
		free(name);
		close(fd);
		return -1;
	}
	return fd;
}

static pkgflat_status dir_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	struct dir_src *d = (struct dir_src *)s;
	struct stat sb;
	int fd = dir_open_file(d, path, err, &sb);
	pkgflat_status rc = PKGFLAT_OK;
	unsigned char *buf = NULL;
	size_t n = 0;

	if (fd < 0)
		return err ? err->status : PKGFLAT_E_IO;
	if ((uint64_t)sb.st_size > max) {
		char *name = src_display(s, path);
		rc = fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "file too large (%lld bytes, at most %zu expected)",
		    (long long)sb.st_size, max);
		free(name);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		rc = fail_nomem(err);
		goto out;
	}
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			char *name = src_display(s, path);
			rc = r < 0 ? fail_errno(err, name, "cannot read") :
			    fail(err, PKGFLAT_E_IO, name, NULL, "file shrank while reading");
			free(name);
			goto out;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

struct fd_stream {
	src_stream base;
	int fd;
};

static long fd_stream_read(src_stream *st, void *buf, size_t n)
{
	struct fd_stream *f = (struct fd_stream *)st;

	for (;;) {
		ssize_t r = read(f->fd, buf, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR) {
			char *name = src_display(st->owner, st->path);
			fail_errno(st->err, name, "cannot read");
			free(name);
			return -1;
		}
	}
}

static void fd_stream_close(src_stream *st)
{
	struct fd_stream *f = (struct fd_stream *)st;

	close(f->fd);
	free(st->path);
	free(f);
}

static pkgflat_status dir_open_stream(src *s, const char *path,
    src_stream **out, pkgflat_error *err)
{
	struct dir_src *d = (struct dir_src *)s;
	struct stat sb;
	int fd = dir_open_file(d, path, err, &sb);
	struct fd_stream *f;

	if (fd < 0)
		return err ? err->status : PKGFLAT_E_IO;
	f = src_stream_new(sizeof *f, s, path, fd_stream_read, fd_stream_close);
	if (!f) {
		close(fd);
		return fail_nomem(err);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	f->fd = fd;
	*out = &f->base;
	return PKGFLAT_OK;
}

static const struct src_ops dir_ops = {
	.name = "directory",
	.container = PKGFLAT_CONTAINER_DIRECTORY,
	.close = dir_close,
	.lstat = dir_lstat,
	.list = dir_list,
	.read = dir_read,
	.open_stream = dir_open_stream,
};

pkgflat_status src_open_dir(const char *dir, const char *display, src **out,
    pkgflat_error *err)
{
	struct dir_src *d = pf_calloc(1, sizeof *d);

	if (!d || !(d->base.display = pf_strdup(display))) {
		free(d);
		return fail_nomem(err);
	}
	d->base.ops = &dir_ops;
	d->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		fail_errno(err, dir, "cannot open directory");
		dir_close(&d->base);
		return PKGFLAT_E_IO;
	}
	*out = &d->base;
	return PKGFLAT_OK;
}
