/*
 * The archive source (source.h): a package inside a zip or tar. It indexes
 * every entry once, keeps small files in memory and re-reads the archive
 * to stream large ones.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source.h"

#define ARCHIVE_CACHE_FILE (1u << 20)        /* keep files up to 1 MiB */
#define ARCHIVE_CACHE_TOTAL (256u << 20)     /* and up to 256 MiB in all */

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
