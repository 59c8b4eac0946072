/*
 * Input sources (see source.h). The directory source works on an open
 * directory descriptor with *at() calls and never follows a symlink itself;
 * src_resolve() follows links one component at a time so that a link can
 * neither loop forever nor lead outside the package. The archive source
 * indexes every entry of a zip or tar once, keeps small files in memory and
 * re-reads the archive to stream large ones.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

#define MAX_LINK_HOPS 40
#define ARCHIVE_CACHE_FILE (1u << 20)        /* keep files up to 1 MiB */
#define ARCHIVE_CACHE_TOTAL (256u << 20)     /* and up to 256 MiB in all */

pkgflat_status src_too_large(const src *s, const char *path, uint64_t size,
    size_t max, pkgflat_error *err)
{
	char *n = src_display(s, path);
	pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
	    "file too large (%llu bytes, at most %zu expected)",
	    (unsigned long long)size, max);

	free(n);
	return rc;
}

char *src_display(const src *s, const char *path)
{
	if (!path || !path[0])
		return pf_strdup(s->display);
	if (s->is_archive)
		return pf_asprintf("%s(%s)", s->display, path);
	if (!s->display[0] || !strcmp(s->display, "."))
		return pf_strdup(path);
	return pf_asprintf("%s/%s", s->display, path);
}

void src_close(src *s)
{
	if (s)
		s->ops->close(s);
}

void src_stream_close(src_stream *st)
{
	if (st)
		st->close(st);
}

void *src_stream_new(size_t size, src *owner, const char *path,
    src_read_fn rd, void (*close_fn)(src_stream *))
{
	src_stream *st = pf_calloc(1, size);

	if (!st || !(st->path = pf_strdup(path))) {
		free(st);
		return NULL;
	}
	st->owner = owner;
	st->read = rd;
	st->close = close_fn;
	return st;
}

/* ------------------------------------------------------------------ */
/* Directory source                                                   */

struct dir_src {
	src base;
	int fd;
	char link[4096];
};

/* libarchive's message, which it does not always set (a failed read(2)
 * leaves only its errno). */
static const char *ar_why(struct archive *a)
{
	const char *m = archive_error_string(a);

	if (m)
		return m;
	return archive_errno(a) > 0 ? strerror(archive_errno(a)) :
	    "cannot read (libarchive gives no reason)";
}

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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
		qsort(names->v, names->n, sizeof *names->v, cmp_str);
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

/* ------------------------------------------------------------------ */
/* Archive source                                                     */

struct ar_entry {
	char *path;
	enum src_type type;
	uint32_t mode;
	uint64_t size;
	char *link;          /* symlink target */
	char *hardlink;      /* tar hard link: path of the entry with the data */
	unsigned char *data; /* cached content, or NULL */
	size_t index;        /* position in the archive, for re-reading */
};

struct ar_src {
	src base;
	char *file;
	struct ar_entry *e;
	size_t n, cap;
};

static const struct src_ops archive_ops;

static struct archive *ar_reader(const char *file, pkgflat_error *err)
{
	struct archive *a = archive_read_new();

	if (!a) {
		fail_nomem(err);
		return NULL;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		/* The caller has already checked that the file exists. */
		fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "not a zip or tar archive: %s", ar_why(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static void ar_close(src *s)
{
	struct ar_src *a = (struct ar_src *)s;

	for (size_t i = 0; i < a->n; i++) {
		free(a->e[i].path);
		free(a->e[i].link);
		free(a->e[i].hardlink);
		free(a->e[i].data);
	}
	free(a->e);
	free(a->file);
	free(s->display);
	free(a);
}

static int ar_cmp(const void *x, const void *y)
{
	const struct ar_entry *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	if (c)
		return c;
	/* Keep the later entry of a duplicate first, as tar would. */
	return a->index < b->index ? 1 : a->index > b->index ? -1 : 0;
}

static struct ar_entry *ar_find(struct ar_src *a, const char *path)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->e[mid].path, path);
		if (c == 0) {
			/* Several entries with this path: the first is the latest. */
			while (mid > 0 && !strcmp(a->e[mid - 1].path, path))
				mid--;
			return &a->e[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct ar_entry *ar_add(struct ar_src *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct ar_entry *e = realloc(a->e, cap * sizeof *e);
		if (!e)
			return NULL;
		a->e = e;
		a->cap = cap;
	}
	memset(&a->e[a->n], 0, sizeof a->e[a->n]);
	return &a->e[a->n++];
}

/* Zip files often leave out directory entries: add the missing parents. */
static pkgflat_status ar_add_parents(struct ar_src *a, pkgflat_error *err)
{
	size_t n0 = a->n;

	for (size_t i = 0; i < n0; i++) {
		char *p = pf_strdup(a->e[i].path);
		if (!p)
			return fail_nomem(err);
		char *slash;
		while ((slash = strrchr(p, '/'))) {
			*slash = '\0';
			int found = 0;
			for (size_t j = n0; j < a->n; j++)
				if (!strcmp(a->e[j].path, p))
					found = 1;
			for (size_t j = 0; j < n0 && !found; j++)
				if (!strcmp(a->e[j].path, p))
					found = 1;
			if (found)
				break;
			struct ar_entry *e = ar_add(a);
			if (!e || !(e->path = pf_strdup(p))) {
				free(p);
				return fail_nomem(err);
			}
			e->type = SRC_DIR;
			e->mode = 0755;
			e->index = (size_t)-1;
		}
		free(p);
	}
	return PKGFLAT_OK;
}

pkgflat_status src_open_archive(const char *file, src **out,
    pkgflat_error *err)
{
	struct ar_src *a = pf_calloc(1, sizeof *a);
	struct archive *ar = NULL;
	struct archive_entry *ent;
	pkgflat_status rc = PKGFLAT_OK;
	size_t cached = 0, index = 0;
	int r;

	if (!a || !(a->file = pf_strdup(file)) ||
	    !(a->base.display = pf_strdup(file))) {
		rc = fail_nomem(err);
		goto fail;
	}
	a->base.ops = &archive_ops;
	a->base.is_archive = 1;
	if (!(ar = ar_reader(file, err))) {
		rc = err ? err->status : PKGFLAT_E_FORMAT;
		goto fail;
	}
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(ent);
		char where[64];
		snprintf(where, sizeof where, "entry %zu", index);
		if (!name)
			name = archive_entry_pathname(ent);
		if (!name || !name[0]) {
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "entry has no name");
			goto fail;
		}
		char *norm = name[0] == '/' ? NULL : path_normalize(name);
		if (!norm) {
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "entry \"%s\" points outside the archive", name);
			goto fail;
		}
		if (!norm[0]) { /* "./" itself */
			free(norm);
			index++;
			continue;
		}
		struct ar_entry *e = ar_add(a);
		if (!e) {
			free(norm);
			rc = fail_nomem(err);
			goto fail;
		}
		e->path = norm;
		e->index = index++;
		e->mode = archive_entry_perm(ent);
		e->size = archive_entry_size_is_set(ent) ?
		    (uint64_t)archive_entry_size(ent) : 0;
		const char *hl = archive_entry_hardlink(ent);
		switch (archive_entry_filetype(ent)) {
		case AE_IFREG: e->type = SRC_FILE; break;
		case AE_IFDIR: e->type = SRC_DIR; break;
		case AE_IFLNK:
			e->type = SRC_LINK;
			e->link = pf_strdup(archive_entry_symlink(ent) ?
			    archive_entry_symlink(ent) : "");
			if (!e->link) {
				rc = fail_nomem(err);
				goto fail;
			}
			break;
		default:
			e->type = hl ? SRC_FILE : SRC_OTHER;
			break;
		}
		if (hl) {
			char *t = path_normalize(hl);
			if (!t) {
				rc = fail(err, PKGFLAT_E_FORMAT, file, where,
				    "hard link \"%s\" points outside the archive", hl);
				goto fail;
			}
			e->hardlink = t;
			e->type = SRC_FILE;
		}
		if (e->type == SRC_FILE && !hl && e->size <= ARCHIVE_CACHE_FILE &&
		    cached + e->size <= ARCHIVE_CACHE_TOTAL) {
			e->data = malloc(e->size + 1);
			if (!e->data) {
				rc = fail_nomem(err);
				goto fail;
			}
			la_ssize_t got = e->size ?
			    archive_read_data(ar, e->data, e->size) : 0;
			if (got < 0 || (uint64_t)got != e->size) {
				char *n = src_display(&a->base, e->path);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "cannot read from archive: %s",
				    got < 0 ? ar_why(ar) : "short read");
				free(n);
				goto fail;
			}
			e->data[e->size] = '\0';
			cached += e->size;
		}
	}
	if (r != ARCHIVE_EOF) {
		char where[64];
		snprintf(where, sizeof where, "entry %zu", index);
		rc = fail(err, PKGFLAT_E_FORMAT, file, where, "%s",
		    ar_why(ar));
		goto fail;
	}
	if ((rc = ar_add_parents(a, err)))
		goto fail;
	if (a->n)
		qsort(a->e, a->n, sizeof *a->e, ar_cmp);
	archive_read_free(ar);
	*out = &a->base;
	return PKGFLAT_OK;
fail:
	if (ar)
		archive_read_free(ar);
	if (a) {
		for (size_t i = 0; i < a->n; i++) {
			free(a->e[i].path);
			free(a->e[i].link);
			free(a->e[i].hardlink);
			free(a->e[i].data);
		}
		free(a->e);
		free(a->file);
		free(a->base.display);
		free(a);
	}
	return rc;
}

static pkgflat_status ar_lstat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	struct ar_src *a = (struct ar_src *)s;
	struct ar_entry *e;

	(void)err;
	memset(st, 0, sizeof *st);
	if (!path || !path[0]) {
		st->type = SRC_DIR;
		st->mode = 0755;
		return PKGFLAT_OK;
	}
	if (!(e = ar_find(a, path)))
		return PKGFLAT_OK;
	if (e->hardlink) {
		struct ar_entry *t = ar_find(a, e->hardlink);
		if (t)
			e->size = t->size;
	}
	st->type = e->type;
	st->mode = e->mode;
	st->size = e->size;
	st->link = e->link;
	return PKGFLAT_OK;
}

pkgflat_status src_list_sorted(const void *entries, size_t n, size_t stride,
    const char *dir, ptrvec *names, pkgflat_error *err)
{
	size_t dl = dir ? strlen(dir) : 0;
	const char *last = NULL;

	/* Sorted paths: the children of dir are one contiguous run. */
	for (size_t i = 0; i < n; i++) {
		const char *p = *(char *const *)((const char *)entries + i * stride);
		if (dl) {
			if (strncmp(p, dir, dl) || p[dl] != '/')
				continue;
			p += dl + 1;
		}
		if (strchr(p, '/'))
			continue;
		if (last && !strcmp(last, p))
			continue;
		last = p;
		char *c = pf_strdup(p);
		if (!c || pv_push(names, c)) {
			free(c);
			return fail_nomem(err);
		}
	}
	return PKGFLAT_OK;
}

static pkgflat_status ar_list(src *s, const char *dir, ptrvec *names,
    pkgflat_error *err)
{
	struct ar_src *a = (struct ar_src *)s;

	return src_list_sorted(a->e, a->n, sizeof *a->e, dir, names, err);
}

/* Re-read the archive up to entry e and hand back the open reader. */
static struct archive *ar_seek(struct ar_src *a, const struct ar_entry *e,
    pkgflat_error *err)
{
	struct archive *ar = ar_reader(a->file, err);
	struct archive_entry *ent;
	size_t index = 0;

	if (!ar)
		return NULL;
	while (archive_read_next_header(ar, &ent) >= ARCHIVE_WARN) {
		if (index++ == e->index)
			return ar;
	}
	char *n = src_display(&a->base, e->path);
	fail(err, PKGFLAT_E_IO, n, NULL, "archive changed while reading: %s",
	    ar_why(ar));
	free(n);
	archive_read_free(ar);
	return NULL;
}

static struct ar_entry *ar_data_entry(struct ar_src *a, const char *path,
    pkgflat_error *err)
{
	struct ar_entry *e = ar_find(a, path);

	if (e && e->hardlink)
		e = ar_find(a, e->hardlink);
	if (!e || e->type != SRC_FILE) {
		char *n = src_display(&a->base, path);
		fail(err, e ? PKGFLAT_E_FORMAT : PKGFLAT_E_IO, n, NULL,
		    e ? "not a regular file" : "no such file in the archive");
		free(n);
		return NULL;
	}
	return e;
}

static pkgflat_status ar_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	struct ar_src *a = (struct ar_src *)s;
	struct ar_entry *e = ar_data_entry(a, path, err);

	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	if (e->size > max)
		return src_too_large(s, path, e->size, max, err);
	unsigned char *buf = malloc(e->size + 1);
	if (!buf)
		return fail_nomem(err);
	if (e->data) {
		memcpy(buf, e->data, e->size);
	} else {
		struct archive *ar = ar_seek(a, e, err);
		if (!ar) {
			free(buf);
			return err ? err->status : PKGFLAT_E_IO;
		}
		la_ssize_t got = archive_read_data(ar, buf, e->size);
		if (got < 0 || (uint64_t)got != e->size) {
			char *n = src_display(s, path);
			fail(err, PKGFLAT_E_FORMAT, n, NULL,
			    "cannot read from archive: %s",
			    got < 0 ? ar_why(ar) : "short read");
			free(n);
			archive_read_free(ar);
			free(buf);
			return PKGFLAT_E_FORMAT;
		}
		archive_read_free(ar);
	}
	buf[e->size] = '\0';
	*data = buf;
	*len = e->size;
	return PKGFLAT_OK;
}

struct ar_stream {
	src_stream base;
	struct archive *ar;       /* when streaming from the archive */
	const unsigned char *mem; /* when the entry is cached */
	size_t len, pos;
};

static long ar_stream_read(src_stream *st, void *buf, size_t n)
{
	struct ar_stream *s = (struct ar_stream *)st;

	if (s->mem) {
		size_t k = s->len - s->pos < n ? s->len - s->pos : n;
		memcpy(buf, s->mem + s->pos, k);
		s->pos += k;
		return (long)k;
	}
	la_ssize_t r = archive_read_data(s->ar, buf, n);
	if (r < 0) {
		char *name = src_display(st->owner, st->path);
		fail(st->err, PKGFLAT_E_FORMAT, name, NULL,
		    "cannot read from archive: %s", ar_why(s->ar));
		free(name);
		return -1;
	}
	return (long)r;
}

static void ar_stream_close(src_stream *st)
{
	struct ar_stream *s = (struct ar_stream *)st;

	if (s->ar)
		archive_read_free(s->ar);
	free(st->path);
	free(s);
}

static pkgflat_status ar_open_stream(src *src_, const char *path,
    src_stream **out, pkgflat_error *err)
{
	struct ar_src *a = (struct ar_src *)src_;
	struct ar_entry *e = ar_data_entry(a, path, err);
	struct ar_stream *s;

	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	s = src_stream_new(sizeof *s, src_, path, ar_stream_read, ar_stream_close);
	if (!s)
		return fail_nomem(err);
	if (e->data || e->size == 0) {
		s->mem = e->data ? e->data : (const unsigned char *)"";
		s->len = e->size;
	} else if (!(s->ar = ar_seek(a, e, err))) {
		ar_stream_close(&s->base);
		return err ? err->status : PKGFLAT_E_IO;
	}
	*out = &s->base;
	return PKGFLAT_OK;
}

static const struct src_ops archive_ops = {
	.name = "archive",
	.container = PKGFLAT_CONTAINER_ARCHIVE,
	.close = ar_close,
	.lstat = ar_lstat,
	.list = ar_list,
	.read = ar_read,
	.open_stream = ar_open_stream,
};

/* ------------------------------------------------------------------ */
/* Symlink resolution                                                 */

pkgflat_status src_resolve(src *s, const char *path, char **out,
    struct src_stat *st, pkgflat_error *err)
{
	strbuf cur = { 0 };
	ptrvec todo = { 0 };   /* remaining components, last on top */
	pkgflat_status rc = PKGFLAT_OK;
	int hops = 0;
	char *lastlink = NULL;

	memset(st, 0, sizeof *st);
	sb_adds(&cur, "");
	/* Push components in reverse so the first is on top. */
	{
		char *p = pf_strdup(path ? path : "");
		if (!p) {
			rc = fail_nomem(err);
			goto out;
		}
		ptrvec parts = { 0 };
		char *save = NULL;
		/* strtok_r: diff reads two packages in two threads. */
		for (char *tok = strtok_r(p, "/", &save); tok;
		    tok = strtok_r(NULL, "/", &save))
			if (pv_push(&parts, pf_strdup(tok))) {
				free(p);
				pv_free(&parts, free);
				rc = fail_nomem(err);
				goto out;
			}
		free(p);
		for (size_t i = parts.n; i > 0; i--)
			pv_push(&todo, parts.v[i - 1]);
		free(parts.v);
	}
	st->type = SRC_DIR;
	while (todo.n) {
		char *comp = todo.v[--todo.n];
		if (!strcmp(comp, ".") || !comp[0]) {
			free(comp);
			continue;
		}
		if (!strcmp(comp, "..")) {
			free(comp);
			if (!cur.len) {
				char *n = src_display(s, lastlink ? lastlink : path);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "symlink points outside the package");
				free(n);
				goto out;
			}
			char *slash = strrchr(cur.buf, '/');
			cur.len = slash ? (size_t)(slash - cur.buf) : 0;
			cur.buf[cur.len] = '\0';
			continue;
		}
		size_t oldlen = cur.len;
		if (cur.len)
			sb_add(&cur, "/", 1);
		sb_adds(&cur, comp);
		free(comp);
		if (cur.oom) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = s->ops->lstat(s, cur.buf, st, err)))
			goto out;
		if (st->type == SRC_NONE) {
			/* Missing: report the path as far as it resolved. */
			while (todo.n) {
				char *c = todo.v[--todo.n];
				sb_add(&cur, "/", 1);
				sb_adds(&cur, c);
				free(c);
			}
			break;
		}
		if (st->type == SRC_LINK) {
			if (++hops > MAX_LINK_HOPS) {
				char *n = src_display(s, path);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "too many levels of symlinks (a symlink loop)");
				free(n);
				goto out;
			}
			free(lastlink);
			lastlink = pf_strdup(cur.buf);
			if (st->link[0] == '/') {
				char *n = src_display(s, cur.buf);
				rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
				    "symlink to an absolute path (%s) leaves the package",
				    st->link);
				free(n);
				goto out;
			}
			char *t = pf_strdup(st->link);
			if (!t) {
				rc = fail_nomem(err);
				goto out;
			}
			ptrvec parts = { 0 };
			char *tsave = NULL;
			for (char *tok = strtok_r(t, "/", &tsave); tok;
			    tok = strtok_r(NULL, "/", &tsave))
				pv_push(&parts, pf_strdup(tok));
			free(t);
			for (size_t i = parts.n; i > 0; i--)
				pv_push(&todo, parts.v[i - 1]);
			free(parts.v);
			cur.len = oldlen;
			cur.buf[cur.len] = '\0';
			continue;
		}
		if (st->type != SRC_DIR && todo.n) {
			/* A file in the middle of a path: nothing there. */
			memset(st, 0, sizeof *st);
			while (todo.n) {
				char *c = todo.v[--todo.n];
				sb_add(&cur, "/", 1);
				sb_adds(&cur, c);
				free(c);
			}
			break;
		}
	}
	if (cur.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	if (out) {
		*out = sb_detach(&cur);
		if (!*out)
			rc = fail_nomem(err);
	}
out:
	sb_free(&cur);
	pv_free(&todo, free);
	free(lastlink);
	return rc;
}

pkgflat_status src_stat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	return src_resolve(s, path, NULL, st, err);
}

static pkgflat_status resolve_file(src *s, const char *path, char **real,
    pkgflat_error *err)
{
	struct src_stat st;
	pkgflat_status rc = src_resolve(s, path, real, &st, err);

	if (rc)
		return rc;
	if (st.type != SRC_FILE) {
		char *n = src_display(s, path);
		rc = st.type == SRC_NONE ?
		    fail(err, PKGFLAT_E_FORMAT, n, NULL, "file is missing") :
		    fail(err, PKGFLAT_E_FORMAT, n, NULL, "not a regular file");
		free(n);
		free(*real);
		*real = NULL;
	}
	return rc;
}

pkgflat_status src_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	char *real = NULL;
	pkgflat_status rc = resolve_file(s, path, &real, err);

	if (!rc)
		rc = s->ops->read(s, real, max, data, len, err);
	free(real);
	return rc;
}

pkgflat_status src_open_stream(src *s, const char *path, src_stream **out,
    pkgflat_error *err)
{
	char *real = NULL;
	pkgflat_status rc = resolve_file(s, path, &real, err);

	if (!rc) {
		rc = s->ops->open_stream(s, real, out, err);
		if (!rc)
			(*out)->err = err;
	}
	free(real);
	return rc;
}
