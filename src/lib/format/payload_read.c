/*
 * Payload archives. A legacy Archive.pax.gz is usually gzip'd odc cpio
 * ("070707" headers, "." first, "./" names, TRAILER!!!, zero padding to 512),
 * but CPython's build script writes gzip'd ustar through Apple's pax, and
 * other writers leave it uncompressed; a flat Payload is gzip'd odc cpio.
 * libarchive decodes all of them; this module normalises what it reports.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "payload.h"

#define PAYLOAD_BUF (128 * 1024)

struct rd_state {
	payload_read_fn rd;
	void *ctx;
	unsigned char head[64];   /* read ahead to sniff pbzx and gzip */
	size_t nhead;
	int failed;               /* rd failed and said why in err */
	unsigned char buf[PAYLOAD_BUF];
};

static la_ssize_t la_read(struct archive *a, void *p, const void **out)
{
	struct rd_state *s = p;

	if (s->nhead) {
		*out = s->head;
		la_ssize_t k = (la_ssize_t)s->nhead;
		s->nhead = 0;
		return k;
	}
	long n = s->rd(s->ctx, s->buf, sizeof s->buf);

	if (n < 0) {
		s->failed = 1;
		archive_set_error(a, EIO, "read error");
		return -1;
	}
	*out = s->buf;
	return n;
}

/* libarchive's message, lowercased to match ours. */
static const char *la_message(struct archive *a)
{
	static _Thread_local char buf[256];
	const char *m = archive_error_string(a);

	snprintf(buf, sizeof buf, "%s", m ? m : "unreadable archive");
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] + 32);
	return buf;
}

static const char *format_name(int code)
{
	switch (code) {
	case ARCHIVE_FORMAT_CPIO_POSIX: return "odc cpio";
	case ARCHIVE_FORMAT_CPIO_SVR4_NOCRC: return "newc cpio";
	case ARCHIVE_FORMAT_CPIO_SVR4_CRC: return "crc cpio";
	case ARCHIVE_FORMAT_CPIO_BIN_LE:
	case ARCHIVE_FORMAT_CPIO_BIN_BE: return "binary cpio";
	case ARCHIVE_FORMAT_CPIO_AFIO_LARGE: return "afio cpio";
	case ARCHIVE_FORMAT_CPIO: return "cpio";
	case ARCHIVE_FORMAT_TAR_USTAR: return "ustar";
	case ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE: return "pax";
	case ARCHIVE_FORMAT_TAR_PAX_RESTRICTED: return "pax";
	case ARCHIVE_FORMAT_TAR_GNUTAR: return "gnu tar";
	case ARCHIVE_FORMAT_TAR: return "v7 tar";
	case ARCHIVE_FORMAT_EMPTY: return "empty";
	default: return "unknown";
	}
}

static const char *filter_name(int code)
{
	switch (code) {
	case ARCHIVE_FILTER_NONE: return "none";
	case ARCHIVE_FILTER_GZIP: return "gzip";
	case ARCHIVE_FILTER_BZIP2: return "bzip2";
	case ARCHIVE_FILTER_COMPRESS: return "compress";
	case ARCHIVE_FILTER_LZMA: return "lzma";
	case ARCHIVE_FILTER_XZ: return "xz";
	case ARCHIVE_FILTER_ZSTD: return "zstd";
	default: return "other";
	}
}

void payload_where_entry(pkgflat_error *err, const char *entry)
{
	char w[sizeof err->where];
	size_t n = strlen(entry), m = strlen(err->where);

	if (n + 2 + m >= sizeof w)
		return;
	memcpy(w, entry, n);
	if (m) {
		memcpy(w + n, ": ", 2);
		memcpy(w + n + 2, err->where, m);
		n += 2 + m;
	}
	w[n] = '\0';
	memcpy(err->where, w, n + 1);
}

/* A reader below libarchive failed and said why: add the entry. */
static pkgflat_status reader_failed(pkgflat_error *err, const char *entry)
{
	payload_where_entry(err, entry);
	return err->status;
}

/* The outer compression: ours when we decode it, else libarchive's. */
static const char *compression(struct archive *a, const struct pbzx *pz,
    const struct gzin *gz)
{
	return pz ? "pbzx" : gz ? "gzip" : filter_name(archive_filter_code(a, 0));
}

int payload_entry_type(unsigned int m, int hardlink)
{
	if (hardlink)
		return PKGFLAT_ENTRY_HARDLINK;
	switch (m & AE_IFMT) {
	case AE_IFREG: return PKGFLAT_ENTRY_FILE;
	case AE_IFDIR: return PKGFLAT_ENTRY_DIR;
	case AE_IFLNK: return PKGFLAT_ENTRY_SYMLINK;
	case AE_IFCHR:
	case AE_IFBLK: return PKGFLAT_ENTRY_DEVICE;
	case AE_IFIFO: return PKGFLAT_ENTRY_FIFO;
	case AE_IFSOCK: return PKGFLAT_ENTRY_SOCKET;
	default: return 0;
	}
}

void payload_fill_entry(struct archive_entry *ent, const char *path,
    const char *hardlink, pkgflat_entry *e)
{
	memset(e, 0, sizeof *e);
	e->path = path;
	e->hardlink = hardlink;
	e->mode = (uint32_t)archive_entry_mode(ent);
	e->type = payload_entry_type(archive_entry_filetype(ent),
	    hardlink != NULL);
	e->link_target = archive_entry_symlink(ent);
	e->uid = (uint32_t)archive_entry_uid(ent);
	e->gid = (uint32_t)archive_entry_gid(ent);
	e->mtime = archive_entry_mtime(ent);
	e->size = archive_entry_size(ent) > 0 ?
	    (uint64_t)archive_entry_size(ent) : 0;
	e->rdev = (uint32_t)archive_entry_rdev(ent);
	e->ino = (uint64_t)archive_entry_ino64(ent);
	e->nlink = archive_entry_nlink(ent);
	/* cpio stores a symlink's target as its data, tar does not: report
	 * the target length either way, as a BOM does. */
	if (e->type == PKGFLAT_ENTRY_SYMLINK)
		e->size = e->link_target ? strlen(e->link_target) : 0;
}

pkgflat_status payload_walk(payload_read_fn rd, void *rdctx, const char *file,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	return payload_walk_ex(rd, rdctx, file, fn, ctx, stats, NULL, err);
}

/*
 * Read an entry's data: hash it, and keep it when asked and small enough.
 * Memory stays one buffer per walk, plus the kept bytes of small files.
 */
static int read_data(struct archive *a, EVP_MD_CTX *md, unsigned char *buf,
    size_t bufsize, pkgflat_entry *e, unsigned char *keep)
{
	uint64_t got = 0;

	if (md && !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		return -1;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, bufsize);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (md && !EVP_DigestUpdate(md, buf, (size_t)n))
			return -1;
		if (keep && got + (uint64_t)n <= e->size)
			memcpy(keep + got, buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (got != e->size && e->type == PKGFLAT_ENTRY_FILE) {
		archive_set_error(a, EIO, "file data is %llu bytes, its header "
		    "says %llu", (unsigned long long)got,
		    (unsigned long long)e->size);
		return -1;
	}
	if (md) {
		unsigned int len = 0;
		if (!EVP_DigestFinal_ex(md, e->sha256, &len) || len != 32)
			return -1;
		e->has_sha256 = 1;
	}
	return 0;
}

/* The compression of an Apple chunked stream ("pbz" and a letter). */
static const char *pbz_name(const unsigned char *h)
{
	static const struct {
		char c;
		const char *name;
	} algs[] = { { 'x', "pbzx" }, { 'z', "zlib" }, { '-', "none" },
	    { 'e', "lzfse" }, { '4', "lz4" } };

	for (size_t i = 0; !memcmp(h, "pbz", 3) && i < sizeof algs /
	    sizeof *algs; i++)
		if (h[3] == algs[i].c)
			return algs[i].name;
	return NULL;
}

pkgflat_status payload_walk_ex(payload_read_fn rd, void *rdctx,
    const char *file, pkgflat_entry_fn fn, void *ctx,
    pkgflat_payload_stats *stats, const struct payload_opts *opt,
    pkgflat_error *err)
{
	static const struct payload_opts plain = { 0 };
	struct pbzx *pz = NULL;
	struct gzin *gz = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *keep = NULL, *dbuf = NULL;
	struct archive *a = archive_read_new();
	struct rd_state *st = malloc(sizeof *st);
	struct archive_entry *ent;
	pkgflat_payload_stats s = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	char *path = NULL, *link = NULL, *last = NULL;
	int r, saw_pax = 0, all_dot_slash = 1;
	struct cpio_track ct = { -1, -1 };
	char where[160];

	if (!opt)
		opt = &plain;
	if (!a || !st || ((opt->digest || opt->data_fn) &&
	    !(dbuf = malloc(PAYLOAD_BUF))) || (opt->digest &&
	    !(md = EVP_MD_CTX_new()))) {
		rc = fail_nomem(err);
		goto out;
	}
	st->rd = rd;
	st->ctx = rdctx;
	st->nhead = 0;
	st->failed = 0;
	/* pbzx (macOS 10.10+ payloads) is decoded in front of libarchive. */
	while (st->nhead < 4) {
		long k = rd(rdctx, st->head + st->nhead, sizeof st->head - st->nhead);
		if (k < 0) {
			rc = err && err->status ? err->status : PKGFLAT_E_IO;
			goto out;
		}
		if (k == 0)
			break;
		st->nhead += (size_t)k;
	}
	const char *pbz = NULL;
	if (st->nhead >= 4 && (pbz = pbz_name(st->head)) &&
	    (!strcmp(pbz, "lzfse") || !strcmp(pbz, "lz4"))) {
		/* Apple Archive compressed with what no Debian library
		 * decodes: say what it is, and that its entries were not read. */
		s.format = "Apple Archive";
		s.compression = pbz;
		s.unread = 1;
		if (stats)
			*stats = s;
		goto out;
	}
	if (pbz) {
		if ((rc = pbzx_open(rd, rdctx, st->head, st->nhead, file, &pz, err)))
			goto out;
		st->rd = pbzx_read;
		st->ctx = pz;
		st->nhead = 0;
		/* pbzx holds a cpio, or from pkgbuild --compression latest an
		 * Apple Archive: look at what it decodes to. */
		while (st->nhead < 4) {
			long k = pbzx_read(pz, st->head + st->nhead, 4 - st->nhead);
			if (k < 0) {
				rc = err && err->status ? err->status : PKGFLAT_E_FORMAT;
				goto out;
			}
			if (k == 0)
				break;
			st->nhead += (size_t)k;
		}
	} else if (st->nhead >= 2 && GZIP_MAGIC(st->head)) {
		/* Not libarchive's gzip filter: it checks no trailer. */
		if ((rc = gzin_open(rd, rdctx, st->head, st->nhead, file, &gz, err)))
			goto out;
		st->rd = gzin_read;
		st->ctx = gz;
		st->nhead = 0;
	}
	if (aar_sniff(st->head, st->nhead)) {
		rc = aar_walk(st->rd, st->ctx, st->head, st->nhead, file,
		    pbz ? pbz : "none", fn, ctx, stats, opt, err);
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open(a, st, NULL, la_read, NULL) != ARCHIVE_OK) {
		rc = st->failed ? err->status : fail(err, PKGFLAT_E_FORMAT, file,
		    "offset 0", "not a cpio or tar payload: %s",
		    archive_error_string(a));
		goto out;
	}
	s.format = "empty";
	for (;;) {
		char msg[256];
		r = archive_read_next_header(a, &ent);
		if (cpio_track_step(&ct, a, r, ent, s.entries, last, where,
		    sizeof where, msg, sizeof msg)) {
			rc = fail(err, PKGFLAT_E_FORMAT, file, where, "%s", msg);
			goto out;
		}
		if (r == ARCHIVE_EOF)
			break;
		/* libarchive warns when it skips garbage to find the next cpio
		 * header: in a payload that is corruption, not a detail. Only
		 * name-conversion warnings are harmless here. */
		if (r == ARCHIVE_WARN && archive_error_string(a) &&
		    !strstr(archive_error_string(a), "can't be converted"))
			r = ARCHIVE_FATAL;
		if (r < ARCHIVE_WARN) {
			if (last)
				snprintf(where, sizeof where, "entry %llu (after %s)",
				    (unsigned long long)s.entries, last);
			else
				snprintf(where, sizeof where, "entry %llu",
				    (unsigned long long)s.entries);
			rc = st->failed ? reader_failed(err, where) :
			    fail(err, PKGFLAT_E_FORMAT, file, where, "%s",
			    la_message(a));
			goto out;
		}
		if (s.entries == 0)
			s.compression = compression(a, pz, gz);
		int fmt = archive_format(a);
		if (fmt == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE ||
		    fmt == ARCHIVE_FORMAT_TAR_PAX_RESTRICTED)
			saw_pax = 1;
		if (s.entries == 0 || !saw_pax)
			s.format = format_name(fmt);
		if (saw_pax)
			s.format = "pax";

		const char *raw = archive_entry_pathname(ent);
		free(path);
		path = payload_norm_path(raw);
		if (!path) {
			snprintf(where, sizeof where, "entry %llu",
			    (unsigned long long)s.entries);
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "member name \"%s\" climbs out of the install root",
			    raw ? raw : "");
			goto out;
		}
		if (s.entries == 0)
			s.has_dot_root = !strcmp(path, ".");
		if (strcmp(path, ".") && (!raw || strncmp(raw, "./", 2)))
			all_dot_slash = 0;

		pkgflat_entry e = { 0 };
		const char *hl = archive_entry_hardlink(ent);
		free(link);
		link = NULL;
		if (hl && !(link = payload_norm_path(hl))) {
			snprintf(where, sizeof where, "entry %llu (%s)",
			    (unsigned long long)s.entries, path);
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "hard link target \"%s\" climbs out of the install root", hl);
			goto out;
		}
		payload_fill_entry(ent, path, link, &e);
		if (!e.type) {
			snprintf(where, sizeof where, "entry %llu (%s)",
			    (unsigned long long)s.entries, path);
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "unknown file type (mode %06o)", e.mode);
			goto out;
		}

		s.entries++;
		switch (e.type) {
		case PKGFLAT_ENTRY_FILE:
			s.files++;
			s.file_bytes += e.size;
			break;
		case PKGFLAT_ENTRY_DIR: s.dirs++; break;
		case PKGFLAT_ENTRY_SYMLINK: s.symlinks++; break;
		case PKGFLAT_ENTRY_HARDLINK: s.hardlinks++; break;
		default: s.others++; break;
		}
		int has_data = e.type == PKGFLAT_ENTRY_FILE ||
		    (e.type == PKGFLAT_ENTRY_HARDLINK && e.size);
		if (has_data && (opt->digest || opt->data_fn)) {
			free(keep);
			keep = NULL;
			if (opt->data_fn && e.type == PKGFLAT_ENTRY_FILE &&
			    e.size <= opt->data_max && !(keep = malloc(e.size + 1))) {
				rc = fail_nomem(err);
				goto out;
			}
			if (read_data(a, md, dbuf, PAYLOAD_BUF, &e, keep)) {
				snprintf(where, sizeof where, "entry %llu (%s)",
				    (unsigned long long)s.entries - 1, path);
				rc = st->failed ? reader_failed(err, where) :
				    fail(err, PKGFLAT_E_FORMAT, file, where, "%s",
				    la_message(a));
				goto out;
			}
			if (keep)
				keep[e.size] = 0;
		}
		int stop = opt->data_fn && e.type == PKGFLAT_ENTRY_FILE ?
		    opt->data_fn(&e, keep, ctx) : fn ? fn(&e, ctx) : 0;
		if (stop) {
			rc = fail(err, PKGFLAT_E_USAGE, file, NULL, "stopped by the caller");
			goto out;
		}
		/* Read through the data: corruption shows only when decoded. */
		if (archive_read_data_skip(a) < ARCHIVE_WARN) {
			snprintf(where, sizeof where, "entry %llu (%s)",
			    (unsigned long long)s.entries - 1, path);
			rc = st->failed ? reader_failed(err, where) :
			    fail(err, PKGFLAT_E_FORMAT, file, where, "%s",
			    la_message(a));
			goto out;
		}
		free(last);
		last = pf_strdup(path);
	}
	/* The archive ends before the gzip trailer: read on to check it. */
	if (gz && (rc = gzin_drain(gz)))
		goto out;
	s.dot_slash_names = s.entries > (uint64_t)s.has_dot_root && all_dot_slash;
	if (!s.compression)
		s.compression = compression(a, pz, gz);
	s.install_kbytes = (s.file_bytes + 1023) / 1024;
	if (stats)
		*stats = s;
out:
	free(path);
	free(link);
	free(last);
	free(keep);
	free(dbuf);
	EVP_MD_CTX_free(md);
	if (a)
		archive_read_free(a);
	pbzx_free(pz);
	gzin_free(gz);
	free(st);
	return rc;
}

struct fd_ctx {
	int fd;
	const char *file;
	pkgflat_error *err;
};

static long fd_read(void *p, void *buf, size_t n)
{
	struct fd_ctx *c = p;

	for (;;) {
		ssize_t r = read(c->fd, buf, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR) {
			fail_errno(c->err, c->file, "cannot read");
			return -1;
		}
	}
}

static pkgflat_status list_file(const char *path, pkgflat_entry_fn fn,
    void *ctx, pkgflat_payload_stats *stats, const struct payload_opts *opt,
    pkgflat_error *err)
{
	struct fd_ctx c = { .file = path, .err = err };
	pkgflat_status rc;

	c.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c.fd < 0)
		return fail_errno(err, path, "cannot open");
	rc = payload_walk_ex(fd_read, &c, path, fn, ctx, stats, opt, err);
	close(c.fd);
	return rc;
}

pkgflat_status pkgflat_payload_list_file(const char *path, pkgflat_entry_fn fn,
    void *ctx, pkgflat_payload_stats *stats, pkgflat_error *err)
{
	return list_file(path, fn, ctx, stats, NULL, err);
}

pkgflat_status pkgflat_payload_list_file_digest(const char *path,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err)
{
	static const struct payload_opts digest = { .digest = 1 };

	return list_file(path, fn, ctx, stats, &digest, err);
}
