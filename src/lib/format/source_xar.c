/*
 * The XAR source: a flat package (flat-format.md §1) read in place as a
 * tree of files. The TOC's nested <file> elements become the tree; each
 * member's bytes are the heap range its <data> names (offset relative to
 * the heap, `length` bytes stored, `size` bytes once decoded). Members
 * encoded application/x-gzip (really zlib) are inflated while streaming,
 * other encodings (bzip2, xz, lzma) go through libarchive's raw reader.
 * Nothing is held in memory beyond one buffer per open stream. Checksums
 * are verify's business, not this module's.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "source.h"
#include "xar_read.h"

#define XAR_BUF (64 * 1024)
#define MAX_XAR_FILES 1000000

enum xar_enc { XENC_RAW = 0, XENC_ZLIB, XENC_OTHER };

struct xar_entry {
	char *path;
	enum src_type type;
	uint32_t mode;
	uint64_t size;       /* extracted */
	uint64_t offset;     /* absolute file offset of the stored bytes */
	uint64_t length;     /* stored bytes */
	enum xar_enc enc;
	int filter;          /* libarchive filter for XENC_OTHER */
	int has_data;
	char *link;
};

struct xar_src {
	src base;
	int fd;
	struct xar_entry *e;
	size_t n, cap;
};

static void xar_entries_free(struct xar_src *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->e[i].path);
		free(x->e[i].link);
	}
	free(x->e);
}

static void xar_close(src *s)
{
	struct xar_src *x = (struct xar_src *)s;

	xar_entries_free(x);
	if (x->fd >= 0)
		close(x->fd);
	free(s->display);
	free(x);
}

static char *node_text(xmlNodePtr n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = t ? pf_strdup((const char *)t) : NULL;

	xmlFree(t);
	return s;
}

/* Member encodings (flat-format.md §1.5): the decoder and, for those
 * libarchive decodes, its filter. */
static const struct {
	const char *style;
	enum xar_enc enc;
	int filter;
} encodings[] = {
	{ "application/octet-stream", XENC_RAW, 0 },
	{ "application/x-gzip", XENC_ZLIB, 0 },
	{ "application/x-bzip2", XENC_OTHER, ARCHIVE_FILTER_BZIP2 },
	{ "application/x-xz", XENC_OTHER, ARCHIVE_FILTER_XZ },
	{ "application/x-lzma", XENC_OTHER, ARCHIVE_FILTER_LZMA },
};

/* 0 when the style is unknown. */
static int encoding_of(xmlNodePtr data, enum xar_enc *enc, int *filter)
{
	xmlNodePtr e = xar_child(data, "encoding");
	xmlChar *style = e ? xmlGetProp(e, BAD_CAST "style") : NULL;
	int found = !style;

	*enc = XENC_RAW;
	*filter = 0;
	for (size_t i = 0; style && i < sizeof encodings / sizeof *encodings; i++)
		if (!strcmp((const char *)style, encodings[i].style)) {
			*enc = encodings[i].enc;
			*filter = encodings[i].filter;
			found = 1;
		}
	xmlFree(style);
	return found;
}

struct toc_walk {
	struct xar_src *x;
	const char *file;
	uint64_t heap, file_size;
	pkgflat_error *err;
};

static pkgflat_status bad_toc(struct toc_walk *w, xmlNodePtr f,
    const char *path, const char *what)
{
	char where[320];
	xmlChar *id = xmlGetProp(f, BAD_CAST "id");

	snprintf(where, sizeof where, "TOC file id %s%s%s%s",
	    id ? (const char *)id : "?", path ? " (" : "", path ? path : "",
	    path ? ")" : "");
	xmlFree(id);
	return fail(w->err, PKGFLAT_E_FORMAT, w->file, where, "%s", what);
}

static pkgflat_status walk_files(struct toc_walk *w, xmlNodePtr parent,
    const char *dir, int depth)
{
	struct xar_src *x = w->x;

	if (depth > XAR_MAX_DEPTH)
		return fail(w->err, PKGFLAT_E_FORMAT, w->file, "TOC",
		    "files nested more than %d deep", XAR_MAX_DEPTH);
	for (xmlNodePtr f = parent->children; f; f = f->next) {
		if (!xar_is_elem(f, "file"))
			continue;
		if (x->n >= MAX_XAR_FILES)
			return fail(w->err, PKGFLAT_E_FORMAT, w->file, "TOC",
			    "more than %d files", MAX_XAR_FILES);
		int b64;
		char *name = xar_file_name(f, &b64);
		if (!name || !name[0] || strchr(name, '/') ||
		    !strcmp(name, ".") || !strcmp(name, "..")) {
			pkgflat_status rc = bad_toc(w, f, name && name[0] ? name : NULL,
			    !name && b64 ? "file name does not decode (base64)" :
			    !name || !name[0] ? "file has no name" :
			    "file name is not a single path component");
			free(name);
			return rc;
		}
		char *path = dir[0] ? pf_asprintf("%s/%s", dir, name) :
		    pf_strdup(name);
		free(name);
		if (!path)
			return fail_nomem(w->err);
		if (x->n == x->cap) {
			size_t cap = x->cap ? x->cap * 2 : 32;
			struct xar_entry *e = realloc(x->e, cap * sizeof *e);
			if (!e) {
				free(path);
				return fail_nomem(w->err);
			}
			x->e = e;
			x->cap = cap;
		}
		struct xar_entry *e = &x->e[x->n++];
		memset(e, 0, sizeof *e);
		e->path = path;

		char *type = node_text(xar_child(f, "type"));
		if (!type || !strcmp(type, "file"))
			e->type = SRC_FILE;
		else if (!strcmp(type, "directory"))
			e->type = SRC_DIR;
		else if (!strcmp(type, "symlink")) {
			e->type = SRC_LINK;
			e->link = node_text(xar_child(f, "link"));
			if (!e->link) {
				free(type);
				return bad_toc(w, f, path, "symlink without a <link>");
			}
		} else
			e->type = SRC_OTHER;
		free(type);
		char *mode = node_text(xar_child(f, "mode"));
		char *end = NULL;
		unsigned long m = mode ? strtoul(mode, &end, 8) : 0;
		e->mode = mode && end != mode && !*end ? (uint32_t)(m & 07777) :
		    e->type == SRC_DIR ? 0755 : 0644;
		free(mode);

		xmlNodePtr data = xar_child(f, "data");
		if (data && e->type == SRC_FILE) {
			uint64_t off, len, size;
			if (!xar_child_u64(data, "offset", &off) ||
			    !xar_child_u64(data, "length", &len))
				return bad_toc(w, f, path,
				    "<data> without a numeric offset and length");
			if (!xar_child_u64(data, "size", &size))
				size = len;
			if (off > w->file_size || len > w->file_size ||
			    w->heap + off + len > w->file_size) {
				char msg[200];
				snprintf(msg, sizeof msg, "data range %llu+%llu in the heap "
				    "ends past the end of the file (%llu bytes)",
				    (unsigned long long)off, (unsigned long long)len,
				    (unsigned long long)w->file_size);
				return bad_toc(w, f, path, msg);
			}
			e->has_data = 1;
			e->offset = w->heap + off;
			e->length = len;
			e->size = size;
			if (!encoding_of(data, &e->enc, &e->filter))
				return bad_toc(w, f, path, "unknown <encoding> style");
			if (e->enc == XENC_RAW && size != len)
				return bad_toc(w, f, path, "stored and extracted sizes "
				    "differ for an uncompressed member");
		}
		if (e->type == SRC_DIR) {
			pkgflat_status rc = walk_files(w, f, path, depth + 1);
			if (rc)
				return rc;
		}
	}
	return PKGFLAT_OK;
}

static int xe_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xar_entry *)a)->path,
	    ((const struct xar_entry *)b)->path);
}

static struct xar_entry *xar_find(struct xar_src *x, const char *path)
{
	struct xar_entry key = { .path = (char *)path };

	return x->n ? bsearch(&key, x->e, x->n, sizeof *x->e, xe_cmp) : NULL;
}

static pkgflat_status xar_lstat(src *s, const char *path, struct src_stat *st,
    pkgflat_error *err)
{
	struct xar_entry *e;

	(void)err;
	memset(st, 0, sizeof *st);
	if (!path || !path[0]) {
		st->type = SRC_DIR;
		st->mode = 0755;
		return PKGFLAT_OK;
	}
	if (!(e = xar_find((struct xar_src *)s, path)))
		return PKGFLAT_OK;
	st->type = e->type;
	st->mode = e->mode;
	st->size = e->size;
	st->link = e->link;
	return PKGFLAT_OK;
}

static pkgflat_status xar_list(src *s, const char *dir, ptrvec *names,
    pkgflat_error *err)
{
	struct xar_src *x = (struct xar_src *)s;

	return src_list_sorted(x->e, x->n, sizeof *x->e, dir, names, err);
}

/* ------------------------------------------------------------------ */
/* Streams                                                            */

struct xar_stream {
	src_stream base;
	int fd;
	enum xar_enc enc;
	uint64_t pos, end;        /* stored range still to read */
	uint64_t left;            /* decoded bytes still expected */
	z_stream z;
	int z_init, z_done;
	struct archive *ar;       /* XENC_OTHER */
	int filter;
	unsigned char in[XAR_BUF];
};

static pkgflat_status stream_fail(src_stream *st, const char *what)
{
	char *name = src_display(st->owner, st->path);
	pkgflat_status rc = fail(st->err, PKGFLAT_E_FORMAT, name, NULL, "%s",
	    what);

	free(name);
	return rc;
}

/* Next stored bytes of the member; 0 at the end of its range. */
static long raw_read(struct xar_stream *s, void *buf, size_t n)
{
	uint64_t avail = s->end - s->pos;

	if (n > avail)
		n = (size_t)avail;
	if (!n)
		return 0;
	for (;;) {
		ssize_t r = pread(s->fd, buf, n, (off_t)s->pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			char *name = src_display(s->base.owner, s->base.path);
			fail_errno(s->base.err, name, "cannot read");
			free(name);
			return -1;
		}
		if (r == 0) {
			stream_fail(&s->base, "the package ends inside this member");
			return -1;
		}
		s->pos += (uint64_t)r;
		return (long)r;
	}
}

static long zlib_read(struct xar_stream *s, void *buf, size_t n)
{
	if (s->z_done || !n)
		return 0;
	s->z.next_out = buf;
	s->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	while (s->z.avail_out) {
		if (!s->z.avail_in) {
			long k = raw_read(s, s->in, sizeof s->in);
			if (k < 0)
				return -1;
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)k;
			if (k == 0) {
				stream_fail(&s->base, "compressed data ends early");
				return -1;
			}
		}
		int r = inflate(&s->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			s->z_done = 1;
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			char msg[160];
			snprintf(msg, sizeof msg, "cannot inflate: %s",
			    s->z.msg ? s->z.msg : "corrupt zlib data");
			stream_fail(&s->base, msg);
			return -1;
		}
	}
	return (long)(n - s->z.avail_out);
}

static la_ssize_t la_pull(struct archive *a, void *p, const void **out)
{
	struct xar_stream *s = p;
	long k = raw_read(s, s->in, sizeof s->in);

	if (k < 0) {
		archive_set_error(a, EIO, "read error");
		return -1;
	}
	*out = s->in;
	return k;
}

static long other_read(struct xar_stream *s, void *buf, size_t n)
{
	la_ssize_t r = archive_read_data(s->ar, buf, n);

	if (r < 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "cannot decode: %s",
		    archive_error_string(s->ar) ? archive_error_string(s->ar) :
		    "unknown encoding");
		stream_fail(&s->base, msg);
		return -1;
	}
	return (long)r;
}

static long xar_stream_read(src_stream *st, void *buf, size_t n)
{
	struct xar_stream *s = (struct xar_stream *)st;
	long r;

	switch (s->enc) {
	case XENC_ZLIB: r = zlib_read(s, buf, n); break;
	case XENC_OTHER: r = other_read(s, buf, n); break;
	default: r = raw_read(s, buf, n); break;
	}
	if (r < 0)
		return r;
	if ((uint64_t)r > s->left) {
		stream_fail(st, "decodes to more bytes than its <size>");
		return -1;
	}
	s->left -= (uint64_t)r;
	if (r == 0 && n && s->left) {
		stream_fail(st, "decodes to fewer bytes than its <size>");
		return -1;
	}
	return r;
}

static void xar_stream_close(src_stream *st)
{
	struct xar_stream *s = (struct xar_stream *)st;

	if (s->z_init)
		inflateEnd(&s->z);
	if (s->ar)
		archive_read_free(s->ar);
	free(st->path);
	free(s);
}

static struct xar_entry *data_entry(struct xar_src *x, const char *path,
    pkgflat_error *err)
{
	struct xar_entry *e = xar_find(x, path);

	if (!e || e->type != SRC_FILE) {
		char *n = src_display(&x->base, path);
		fail(err, PKGFLAT_E_FORMAT, n, NULL, e ? "not a regular file" :
		    "no such file in the package");
		free(n);
		return NULL;
	}
	return e;
}

static pkgflat_status xar_open_stream(src *src_, const char *path,
    src_stream **out, pkgflat_error *err)
{
	struct xar_src *x = (struct xar_src *)src_;
	struct xar_entry *e = data_entry(x, path, err);
	struct xar_stream *s;

	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	s = src_stream_new(sizeof *s, src_, path, xar_stream_read,
	    xar_stream_close);
	if (!s)
		return fail_nomem(err);
	s->base.err = err;
	s->fd = x->fd;
	s->pos = e->offset;
	s->end = e->offset + e->length;
	s->left = e->has_data ? e->size : 0;
	s->enc = e->has_data ? e->enc : XENC_RAW;
	s->filter = e->filter;
	if (s->enc == XENC_ZLIB) {
		/* 15 + 32: zlib as Apple writes it, or gzip as some tools do. */
		if (inflateInit2(&s->z, 15 + 32) != Z_OK) {
			xar_stream_close(&s->base);
			return fail_nomem(err);
		}
		s->z_init = 1;
	} else if (s->enc == XENC_OTHER) {
		struct archive_entry *ent;
		if (!(s->ar = archive_read_new())) {
			xar_stream_close(&s->base);
			return fail_nomem(err);
		}
		/* Exactly this filter: bidding would also unpack a gzip'd
		 * Payload stored inside a bzip2 member. */
		archive_read_append_filter(s->ar, s->filter);
		archive_read_support_format_raw(s->ar);
		if (archive_read_open(s->ar, s, NULL, la_pull, NULL) != ARCHIVE_OK ||
		    archive_read_next_header(s->ar, &ent) != ARCHIVE_OK) {
			char msg[300];
			snprintf(msg, sizeof msg, "cannot decode: %s",
			    archive_error_string(s->ar) ? archive_error_string(s->ar) :
			    "unknown encoding");
			pkgflat_status rc = stream_fail(&s->base, msg);
			xar_stream_close(&s->base);
			return rc;
		}
	}
	*out = &s->base;
	return PKGFLAT_OK;
}

static pkgflat_status xar_read(src *s, const char *path, size_t max,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	struct xar_src *x = (struct xar_src *)s;
	struct xar_entry *e = data_entry(x, path, err);
	src_stream *st = NULL;
	pkgflat_status rc;

	if (!e)
		return err ? err->status : PKGFLAT_E_FORMAT;
	if (e->size > max)
		return src_too_large(s, path, e->size, max, err);
	unsigned char *buf = malloc((size_t)e->size + 1);
	size_t got = 0;
	if (!buf)
		return fail_nomem(err);
	if ((rc = xar_open_stream(s, path, &st, err))) {
		free(buf);
		return rc;
	}
	while (got < e->size) {
		long k = st->read(st, buf + got, (size_t)e->size - got);
		if (k < 0) {
			rc = err && err->status ? err->status : PKGFLAT_E_FORMAT;
			break;
		}
		if (k == 0)
			break; /* the stream reports a short member itself */
		got += (size_t)k;
	}
	if (!rc) {
		/* Make the stream check that nothing follows <size> bytes. */
		unsigned char extra;
		if (st->read(st, &extra, 1) != 0)
			rc = err && err->status ? err->status :
			    stream_fail(st, "decodes to more bytes than its <size>");
	}
	src_stream_close(st);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return PKGFLAT_OK;
}

static const struct src_ops xar_ops = {
	.name = "xar",
	.container = PKGFLAT_CONTAINER_XAR,
	.close = xar_close,
	.lstat = xar_lstat,
	.list = xar_list,
	.read = xar_read,
	.open_stream = xar_open_stream,
};

pkgflat_status src_open_xar(const char *file, src **out, pkgflat_error *err)
{
	struct xar_src *x = pf_calloc(1, sizeof *x);
	struct xar_toc t;
	pkgflat_status rc;

	if (!x || !(x->base.display = pf_strdup(file))) {
		free(x);
		return fail_nomem(err);
	}
	x->base.ops = &xar_ops;
	x->base.is_archive = 1;
	x->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (x->fd < 0) {
		fail_errno(err, file, "cannot open");
		xar_close(&x->base);
		return PKGFLAT_E_IO;
	}
	if ((rc = xar_toc_read(x->fd, file, &t, err))) {
		xar_close(&x->base);
		return rc;
	}
	struct toc_walk w = { x, file, t.heap, t.file_size, err };
	rc = walk_files(&w, t.toc, "", 0);
	xar_toc_free(&t);
	if (!rc && x->n) {
		qsort(x->e, x->n, sizeof *x->e, xe_cmp);
		for (size_t i = 1; i < x->n; i++)
			if (!strcmp(x->e[i - 1].path, x->e[i].path)) {
				rc = fail(err, PKGFLAT_E_FORMAT, file, "TOC",
				    "\"%s\" is stored twice", x->e[i].path);
				break;
			}
	}
	if (rc) {
		xar_close(&x->base);
		return rc;
	}
	*out = &x->base;
	return PKGFLAT_OK;
}
