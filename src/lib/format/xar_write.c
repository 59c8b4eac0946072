/*
 * XAR writer: the container of flat packages, laid out as productbuild
 * writes it (flat-format.md §1):
 *
 *   header   28 bytes, big-endian: "xar!", size 28, version 1,
 *            toc_length_compressed, toc_length_uncompressed, cksum_alg
 *   TOC      zlib (level 9, "78 da") of the XML table of contents
 *   heap     [TOC checksum][signer's reserved bytes][file data in add order]
 *
 * Every <offset> in the TOC is relative to the heap. File data goes first
 * into an unlinked temporary file (the "heap file"), hashed as it streams
 * by; the TOC is only known at the end, so xarw_finish() writes header, TOC,
 * checksum and signature space to the output and then copies the heap file
 * behind them. Memory use depends on the number of files, never on their
 * sizes.
 *
 * The TOC is written with libxml2's text writer and one-space indentation,
 * like Apple's libxar: creation-time, checksum, the signer's elements, then
 * the <file> tree. Every member carries the attributes productbuild gives
 * its members, root:wheel, dated the archive's creation time (so
 * SOURCE_DATE_EPOCH), with an installed package's modes: 0644 files and
 * 0755 directories, so that xar -x and bsdtar -x give sane files. File
 * checksums are always SHA-1, as Apple writes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "xar_write.h"

#define XAR_HEADER_SIZE 28
#define HEAP_BUF_SIZE (256 * 1024)
#define SHA1_LEN 20
/* zlib counts in uInt: feed it at most this much at a time. */
#define ZCHUNK (1u << 30)

struct xnode {
	uint64_t id, parent;
	char *name;
	int is_dir;
	int has_data;           /* files with at least one byte */
	enum xar_encoding enc;
	uint64_t offset;        /* in the heap file, before the reserved area */
	uint64_t length;        /* bytes stored */
	uint64_t size;          /* bytes extracted */
	unsigned char archived[SHA1_LEN], extracted[SHA1_LEN];
	ptrvec kids;            /* struct xnode *, in add order */
};

struct xar_writer {
	char *name;             /* labels errors */
	enum xar_cksum cksum;
	char ctime[32];         /* <creation-time> text */
	int level;              /* zlib level for XAR_ENC_ZLIB files */
	int next_level;         /* for the next file only, when not 0 */
	const struct xar_signer *signer;

	int fd;                 /* heap file, already unlinked */
	uint64_t heap_len;      /* bytes of it on disk */
	unsigned char *buf;     /* heap bytes not yet written */
	size_t buflen;

	struct xnode root;      /* id 0: its kids are the top level */
	ptrvec nodes;           /* struct xnode *, nodes.v[id - 1] */

	struct xnode *cur;      /* the open file, not yet in the tree */
	z_stream z;
	int z_ready;
	EVP_MD_CTX *md_ext, *md_arc;

	int broken;             /* an error happened: only free() is left */
	int finished;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

static pkgflat_status broken(xar_writer *w, pkgflat_error *err)
{
	if (w->finished)
		return fail(err, PKGFLAT_E_USAGE, w->name, NULL,
		    "archive already finished");
	return fail(err, PKGFLAT_E_USAGE, w->name, NULL,
	    "archive writer unusable after an earlier error");
}

/* Marks the writer broken; returns the status to pass up. */
static pkgflat_status breaks(xar_writer *w, pkgflat_status st)
{
	w->broken = 1;
	return st;
}

static void put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static const EVP_MD *cksum_md(enum xar_cksum c, const char **style)
{
	switch (c) {
	case XAR_CKSUM_SHA1:
		*style = "sha1";
		return EVP_sha1();
	case XAR_CKSUM_SHA256:
		*style = "sha256";
		return EVP_sha256();
	case XAR_CKSUM_SHA512:
		*style = "sha512";
		return EVP_sha512();
	}
	return NULL;
}

static void hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * A name must be one path component of valid UTF-8 that XML 1.0 can carry:
 * no "/", not "." or "..", no control characters, no surrogates or
 * noncharacters U+FFFE/U+FFFF. Returns NULL or what is wrong.
 */
static const char *bad_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!name || !*name)
		return "empty name";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "name is \".\" or \"..\"";
	while (*p) {
		uint32_t c = *p;
		int n;

		if (c < 0x80) {
			if (c == '/')
				return "name contains \"/\"";
			if (c < 0x20 || c == 0x7f)
				return "name contains a control character";
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			c &= 0x07;
		} else {
			return "name is not valid UTF-8";
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return "name is not valid UTF-8";
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return "name is not valid UTF-8";
		if (c >= 0x80 && c <= 0x9f)
			return "name contains a control character";
		if (c == 0xfffe || c == 0xffff)
			return "name contains a character XML cannot carry";
		p += n + 1;
	}
	return NULL;
}

static void node_free(void *p)
{
	struct xnode *n = p;

	if (!n)
		return;
	free(n->name);
	pv_free(&n->kids, NULL);
	free(n);
}

static struct xnode *node_get(xar_writer *w, uint64_t id)
{
	if (id == 0)
		return &w->root;
	if (id > w->nodes.n)
		return NULL;
	return w->nodes.v[id - 1];
}

/* "dir/sub/name" for error messages; never NULL. */
static void node_path(xar_writer *w, uint64_t parent, const char *name,
    char *out, size_t size)
{
	const char *parts[64];
	size_t np = 0, len = 0;
	struct xnode *n = node_get(w, parent);

	while (n && n != &w->root && np < 64) {
		parts[np++] = n->name;
		n = node_get(w, n->parent);
	}
	out[0] = '\0';
	while (np-- > 0) {
		int k = snprintf(out + len, size - len, "%s/", parts[np]);
		if (k < 0 || (size_t)k >= size - len)
			return;
		len += (size_t)k;
	}
	snprintf(out + len, size - len, "%s", name);
}

/*
 * Checks parent and name for a new entry. Apple's libxar keeps only one of
 * two siblings whose names differ in case alone, so that is refused here.
 * Case is folded for ASCII only, like strcasecmp() in libxar.
 */
static pkgflat_status check_entry(xar_writer *w, uint64_t parent,
    const char *name, struct xnode **pnode, pkgflat_error *err)
{
	char path[1024];
	struct xnode *p = node_get(w, parent);
	const char *why;

	if (!p)
		return fail(err, PKGFLAT_E_USAGE, w->name, name ? name : "",
		    "parent %" PRIu64 " does not exist", parent);
	if (!p->is_dir)
		return fail(err, PKGFLAT_E_USAGE, w->name, p->name,
		    "parent is not a directory");
	node_path(w, parent, name ? name : "", path, sizeof path);
	if ((why = bad_name(name)))
		return fail(err, PKGFLAT_E_USAGE, w->name, path, "%s", why);
	for (size_t i = 0; i < p->kids.n; i++) {
		const struct xnode *k = p->kids.v[i];
		if (str_casecmp_ascii(k->name, name) == 0)
			return fail(err, PKGFLAT_E_USAGE, w->name, path,
			    !strcmp(k->name, name) ? "name already used" :
			    "name differs only in case from sibling \"%s\" "
			    "(xar keeps one of them)", k->name);
	}
	*pnode = p;
	return PKGFLAT_OK;
}

static pkgflat_status new_node(uint64_t parent,
    const char *name, struct xnode **out, pkgflat_error *err)
{
	struct xnode *n = pf_calloc(1, sizeof *n);

	if (!n || !(n->name = pf_strdup(name))) {
		free(n);
		return fail_nomem(err);
	}
	n->parent = parent;
	*out = n;
	return PKGFLAT_OK;
}

/* Puts a finished node in the tree: its id is the next one. */
static pkgflat_status attach(xar_writer *w, struct xnode *p, struct xnode *n,
    pkgflat_error *err)
{
	if (pv_push(&w->nodes, n))
		return fail_nomem(err);
	if (pv_push(&p->kids, n)) {
		w->nodes.n--;
		return fail_nomem(err);
	}
	n->id = w->nodes.n;
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Writer life cycle                                                  */

static int open_heap(const char *dir)
{
	int fd;
	char *tmpl;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	/* Filesystems without O_TMPFILE: a named file, unlinked at once
	 * (a name that pkgflat_output_clean() removes if it stays). */
	if (!(tmpl = pf_asprintf("%s/.pkgflat-%ld-XXXXXX-heap", dir,
	    (long)getpid()))) {
		errno = ENOMEM;
		return -1;
	}
	fd = mkostemps(tmpl, 5, O_CLOEXEC);
	if (fd >= 0 && unlink(tmpl) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	free(tmpl);
	return fd;
}

pkgflat_status xarw_new(const char *tmpdir, const char *name,
    const struct xar_options *opt, xar_writer **out, pkgflat_error *err)
{
	static const struct xar_options defaults = { .toc_cksum = XAR_CKSUM_SHA1 };
	const char *label = name ? name : "archive", *style;
	xar_writer *w;
	struct tm tm;
	time_t t;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	enum xar_cksum ck = opt->toc_cksum ? opt->toc_cksum : XAR_CKSUM_SHA1;
	if (!cksum_md(ck, &style))
		return fail(err, PKGFLAT_E_USAGE, label, NULL,
		    "unknown toc checksum algorithm %d", (int)opt->toc_cksum);
	if (opt->zlib_level < 0 || opt->zlib_level > 9)
		return fail(err, PKGFLAT_E_USAGE, label, NULL,
		    "zlib level %d out of range 1-9", opt->zlib_level);
	t = (time_t)opt->creation_time;
	if (opt->creation_time < 0 || (int64_t)t != opt->creation_time ||
	    !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
		return fail(err, PKGFLAT_E_USAGE, label, NULL,
		    "creation time %" PRId64 " out of range", opt->creation_time);
	if (opt->signer && (!opt->signer->write_toc || !opt->signer->sign))
		return fail(err, PKGFLAT_E_USAGE, label, NULL,
		    "signer lacks write_toc or sign");
	if (!tmpdir && !(tmpdir = getenv("TMPDIR")))
		tmpdir = "/tmp";

	if (!(w = pf_calloc(1, sizeof *w)))
		return fail_nomem(err);
	w->fd = -1;
	w->root.is_dir = 1;
	w->cksum = ck;
	w->level = opt->zlib_level ? opt->zlib_level : Z_BEST_COMPRESSION;
	w->signer = opt->signer;
	strftime(w->ctime, sizeof w->ctime, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!(w->name = pf_strdup(label)) ||
	    !(w->buf = malloc(HEAP_BUF_SIZE)) ||
	    !(w->md_ext = EVP_MD_CTX_new()) || !(w->md_arc = EVP_MD_CTX_new())) {
		xarw_free(w);
		return fail_nomem(err);
	}
	if ((w->fd = open_heap(tmpdir)) < 0) {
		pkgflat_status st = fail_errno(err, label,
		    "cannot create temporary heap file in %s", tmpdir);
		xarw_free(w);
		return st;
	}
	*out = w;
	return PKGFLAT_OK;
}

void xarw_free(xar_writer *w)
{
	if (!w)
		return;
	node_free(w->cur);
	pv_free(&w->nodes, node_free);
	pv_free(&w->root.kids, NULL);
	if (w->z_ready)
		deflateEnd(&w->z);
	EVP_MD_CTX_free(w->md_ext);
	EVP_MD_CTX_free(w->md_arc);
	if (w->fd >= 0)
		close(w->fd);
	free(w->buf);
	free(w->name);
	free(w);
}

/* ------------------------------------------------------------------ */
/* Entries                                                            */

pkgflat_status xarw_add_dir(xar_writer *w, uint64_t parent, const char *name,
    uint64_t *id, pkgflat_error *err)
{
	struct xnode *p = NULL, *n = NULL;
	pkgflat_status st;

	if (w->broken || w->finished)
		return broken(w, err);
	if (w->cur)
		return breaks(w, fail(err, PKGFLAT_E_USAGE, w->name, w->cur->name,
		    "directory added while a file is open"));
	if ((st = check_entry(w, parent, name, &p, err)) ||
	    (st = new_node(parent, name, &n, err)))
		return breaks(w, st);
	n->is_dir = 1;
	if ((st = attach(w, p, n, err))) {
		node_free(n);
		return breaks(w, st);
	}
	if (id)
		*id = n->id;
	return PKGFLAT_OK;
}

static pkgflat_status flush_buf(xar_writer *w, pkgflat_error *err)
{
	if (!w->buflen)
		return PKGFLAT_OK;
	if (pwrite_all(w->fd, w->buf, w->buflen, w->heap_len))
		return fail_errno(err, w->name, "writing temporary heap file");
	w->heap_len += w->buflen;
	w->buflen = 0;
	return PKGFLAT_OK;
}

static pkgflat_status crypto_fail(xar_writer *w, pkgflat_error *err)
{
	return fail(err, PKGFLAT_E_CRYPTO, w->name, w->cur ? w->cur->name : NULL,
	    "sha-1 failed");
}

pkgflat_status xarw_file_begin(xar_writer *w, uint64_t parent,
    const char *name, enum xar_encoding enc, pkgflat_error *err)
{
	struct xnode *p = NULL, *n = NULL;
	pkgflat_status st;

	if (w->broken || w->finished)
		return broken(w, err);
	if (w->cur)
		return breaks(w, fail(err, PKGFLAT_E_USAGE, w->name, w->cur->name,
		    "file begun while another is open"));
	if (enc != XAR_ENC_RAW && enc != XAR_ENC_ZLIB)
		return breaks(w, fail(err, PKGFLAT_E_USAGE, w->name, name,
		    "unknown encoding %d", (int)enc));
	if ((st = check_entry(w, parent, name, &p, err)) ||
	    (st = new_node(parent, name, &n, err)))
		return breaks(w, st);
	n->enc = enc;
	n->offset = w->heap_len + w->buflen;
	w->cur = n;
	if (EVP_DigestInit_ex(w->md_ext, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(w->md_arc, EVP_sha1(), NULL) != 1)
		return breaks(w, crypto_fail(w, err));
	if (enc == XAR_ENC_ZLIB) {
		int level = w->next_level ? w->next_level : w->level;
		int rc = w->z_ready ? deflateReset(&w->z) :
		    deflateInit(&w->z, level);
		/* Before any data, deflateParams only sets the level. */
		if (rc == Z_OK && w->z_ready)
			rc = deflateParams(&w->z, level, Z_DEFAULT_STRATEGY);
		if (rc != Z_OK)
			return breaks(w, fail(err, rc == Z_MEM_ERROR ?
			    PKGFLAT_E_NOMEM : PKGFLAT_E_INTERNAL, w->name,
			    name, "zlib deflate init failed (%d)", rc));
		w->z_ready = 1;
	}
	return PKGFLAT_OK;
}

/* Runs deflate over whatever is in w->z, emitting into the heap buffer. */
static pkgflat_status deflate_run(xar_writer *w, int flush, pkgflat_error *err)
{
	pkgflat_status st;

	for (;;) {
		if (w->buflen == HEAP_BUF_SIZE && (st = flush_buf(w, err)))
			return st;
		size_t room = HEAP_BUF_SIZE - w->buflen;
		w->z.next_out = w->buf + w->buflen;
		w->z.avail_out = (uInt)room;
		int rc = deflate(&w->z, flush);
		size_t made = room - w->z.avail_out;
		if (made && EVP_DigestUpdate(w->md_arc, w->buf + w->buflen,
		    made) != 1)
			return crypto_fail(w, err);
		w->buflen += made;
		if (rc == Z_STREAM_END)
			return PKGFLAT_OK;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return fail(err, PKGFLAT_E_INTERNAL, w->name, w->cur->name,
			    "zlib deflate failed (%d)", rc);
		if (flush == Z_NO_FLUSH && w->z.avail_in == 0)
			return PKGFLAT_OK;
		if (rc == Z_BUF_ERROR && made == 0 && w->buflen < HEAP_BUF_SIZE)
			return fail(err, PKGFLAT_E_INTERNAL, w->name, w->cur->name,
			    "zlib deflate made no progress");
	}
}

pkgflat_status xarw_file_write(xar_writer *w, const void *data, size_t len,
    pkgflat_error *err)
{
	const unsigned char *p = data;
	struct xnode *n = w->cur;
	pkgflat_status st;

	if (w->broken || w->finished)
		return broken(w, err);
	if (!n)
		return breaks(w, fail(err, PKGFLAT_E_USAGE, w->name, NULL,
		    "file write without an open file"));
	if (!len)
		return PKGFLAT_OK;
	if (EVP_DigestUpdate(w->md_ext, p, len) != 1)
		return breaks(w, crypto_fail(w, err));
	n->size += len;
	if (n->enc == XAR_ENC_ZLIB) {
		while (len) {
			size_t k = len < ZCHUNK ? len : ZCHUNK;
			w->z.next_in = (Bytef *)(uintptr_t)p;
			w->z.avail_in = (uInt)k;
			if ((st = deflate_run(w, Z_NO_FLUSH, err)))
				return breaks(w, st);
			p += k;
			len -= k;
		}
		return PKGFLAT_OK;
	}
	/* Raw: the stored bytes are the extracted ones, hashed once above. */
	while (len) {
		if (w->buflen == HEAP_BUF_SIZE && (st = flush_buf(w, err)))
			return breaks(w, st);
		size_t k = HEAP_BUF_SIZE - w->buflen;
		if (k > len)
			k = len;
		memcpy(w->buf + w->buflen, p, k);
		w->buflen += k;
		p += k;
		len -= k;
	}
	return PKGFLAT_OK;
}

/* Drops the heap back to `off` (the start of the open file). */
static int heap_truncate(xar_writer *w, uint64_t off)
{
	w->buflen = 0;
	if (off < w->heap_len) {
		if (ftruncate(w->fd, (off_t)off) != 0)
			return -1;
		w->heap_len = off;
	}
	return 0;
}

pkgflat_status xarw_file_end(xar_writer *w, pkgflat_error *err)
{
	struct xnode *n = w->cur, *p;
	pkgflat_status st;
	unsigned int mdlen;

	if (w->broken || w->finished)
		return broken(w, err);
	if (!n)
		return breaks(w, fail(err, PKGFLAT_E_USAGE, w->name, NULL,
		    "file end without an open file"));
	if (n->enc == XAR_ENC_ZLIB) {
		w->z.next_in = NULL;
		w->z.avail_in = 0;
		if ((st = deflate_run(w, Z_FINISH, err)))
			return breaks(w, st);
	}
	if (EVP_DigestFinal_ex(w->md_ext, n->extracted, &mdlen) != 1)
		return breaks(w, crypto_fail(w, err));
	if (n->enc == XAR_ENC_ZLIB) {
		if (EVP_DigestFinal_ex(w->md_arc, n->archived, &mdlen) != 1)
			return breaks(w, crypto_fail(w, err));
	} else {
		memcpy(n->archived, n->extracted, SHA1_LEN);
	}
	if (n->size == 0) {
		/* Like xar: an empty file has no <data>, so no heap bytes. */
		if (heap_truncate(w, n->offset))
			return breaks(w, fail_errno(err, w->name,
			    "truncating temporary heap file"));
	} else {
		if ((st = flush_buf(w, err)))
			return breaks(w, st);
		n->has_data = 1;
		n->length = w->heap_len - n->offset;
	}
	p = node_get(w, n->parent);
	if ((st = attach(w, p, n, err)))
		return breaks(w, st);
	w->cur = NULL;
	return PKGFLAT_OK;
}

void xarw_file_abort(xar_writer *w)
{
	if (!w || !w->cur)
		return;
	if (heap_truncate(w, w->cur->offset))
		w->broken = 1;
	node_free(w->cur);
	w->cur = NULL;
}

/* Add a file from memory; a spill's pages are dropped as they go in. */
static pkgflat_status add_file(xar_writer *w, uint64_t parent,
    const char *name, enum xar_encoding enc, const void *data, size_t len,
    struct spill *sp, pkgflat_error *err)
{
	const unsigned char *p = data;
	pkgflat_status st;

	/*
	 * zlib 9's match search grows without bound on the repetitive records
	 * of a large Bom: 24 s for the 54 MB Bom of 200,000 entries, against
	 * 3.4 s at level 7 for 0.2 % more bytes. Level 7 writes the same
	 * "78 da" header as 9 (and as Apple's packages), so above 1 MiB the
	 * level is at most 7; what real packages hold stays at 9.
	 */
	if (len > (1u << 20) && w->level > 7)
		w->next_level = 7;
	st = xarw_file_begin(w, parent, name, enc, err);
	w->next_level = 0;
	if (st)
		return st;
	for (size_t off = 0; off < len; ) {
		size_t n = len - off < ((size_t)1 << 20) ? len - off :
		    (size_t)1 << 20;
		if ((st = xarw_file_write(w, p + off, n, err)))
			return st;
		off += n;
		if (sp)
			spill_trim(sp);
	}
	return xarw_file_end(w, err);
}

pkgflat_status xarw_add_file(xar_writer *w, uint64_t parent, const char *name,
    enum xar_encoding enc, const void *data, size_t len, pkgflat_error *err)
{
	return add_file(w, parent, name, enc, data, len, NULL, err);
}

pkgflat_status xarw_add_spill(xar_writer *w, uint64_t parent,
    const char *name, enum xar_encoding enc, struct spill *sp,
    pkgflat_error *err)
{
	return add_file(w, parent, name, enc, sp->p, sp->len, sp, err);
}

/* ------------------------------------------------------------------ */
/* Table of contents                                                  */

#define X(call)                  \
	do {                     \
		if ((call) < 0)  \
			return -1; \
	} while (0)
#define S(s) BAD_CAST(s)

static int toc_file(xmlTextWriterPtr x, const struct xnode *n, uint64_t base,
    const char *mtime)
{
	char h[2 * SHA1_LEN + 1];

	X(xmlTextWriterStartElement(x, S("file")));
	X(xmlTextWriterWriteFormatAttribute(x, S("id"), "%" PRIu64, n->id));
	if (n->has_data) {
		X(xmlTextWriterStartElement(x, S("data")));
		X(xmlTextWriterWriteFormatElement(x, S("length"), "%" PRIu64,
		    n->length));
		X(xmlTextWriterWriteFormatElement(x, S("offset"), "%" PRIu64,
		    base + n->offset));
		X(xmlTextWriterWriteFormatElement(x, S("size"), "%" PRIu64,
		    n->size));
		X(xmlTextWriterStartElement(x, S("encoding")));
		X(xmlTextWriterWriteAttribute(x, S("style"),
		    S(n->enc == XAR_ENC_ZLIB ? "application/x-gzip" :
		    "application/octet-stream")));
		X(xmlTextWriterEndElement(x));
		hex(h, n->extracted, SHA1_LEN);
		X(xmlTextWriterStartElement(x, S("extracted-checksum")));
		X(xmlTextWriterWriteAttribute(x, S("style"), S("sha1")));
		X(xmlTextWriterWriteString(x, S(h)));
		X(xmlTextWriterEndElement(x));
		hex(h, n->archived, SHA1_LEN);
		X(xmlTextWriterStartElement(x, S("archived-checksum")));
		X(xmlTextWriterWriteAttribute(x, S("style"), S("sha1")));
		X(xmlTextWriterWriteString(x, S(h)));
		X(xmlTextWriterEndElement(x));
		X(xmlTextWriterEndElement(x));
	}
	/* Every member gets what productbuild gives its directories, with
	 * the modes an installed package has (0644 files, 0755 directories)
	 * and the archive's creation time: without them xar -x and bsdtar -x
	 * make every member 0777 (or the extracting user's) and undated. */
	static const char *const owner[][2] = {
		{ "group", "wheel" }, { "gid", "0" },
		{ "user", "root" }, { "uid", "0" },
	};
	X(xmlTextWriterWriteElement(x, S("ctime"), S(mtime)));
	X(xmlTextWriterWriteElement(x, S("mtime"), S(mtime)));
	X(xmlTextWriterWriteElement(x, S("atime"), S(mtime)));
	for (size_t i = 0; i < sizeof owner / sizeof *owner; i++)
		X(xmlTextWriterWriteElement(x, S(owner[i][0]), S(owner[i][1])));
	X(xmlTextWriterWriteElement(x, S("mode"), S(n->is_dir ? "0755" : "0644")));
	X(xmlTextWriterWriteElement(x, S("deviceno"), S("0")));
	X(xmlTextWriterWriteElement(x, S("inode"), S("0")));
	X(xmlTextWriterWriteElement(x, S("type"), S(n->is_dir ? "directory" :
	    "file")));
	X(xmlTextWriterWriteElement(x, S("name"), S(n->name)));
	for (size_t i = 0; i < n->kids.n; i++)
		X(toc_file(x, n->kids.v[i], base, mtime));
	X(xmlTextWriterEndElement(x));
	return 0;
}

/* The XML TOC; *sig_st tells a signer failure apart from libxml2's. */
static int toc_xml(xar_writer *w, xmlTextWriterPtr x, const char *style,
    size_t cklen, pkgflat_status *sig_st, pkgflat_error *err)
{
	uint64_t base = cklen + (w->signer ? (uint64_t)w->signer->reserve : 0);

	X(xmlTextWriterSetIndent(x, 1));
	X(xmlTextWriterSetIndentString(x, S(" ")));
	X(xmlTextWriterStartDocument(x, NULL, "UTF-8", NULL));
	X(xmlTextWriterStartElement(x, S("xar")));
	X(xmlTextWriterStartElement(x, S("toc")));
	X(xmlTextWriterWriteElement(x, S("creation-time"), S(w->ctime)));
	X(xmlTextWriterStartElement(x, S("checksum")));
	X(xmlTextWriterWriteAttribute(x, S("style"), S(style)));
	X(xmlTextWriterWriteElement(x, S("offset"), S("0")));
	X(xmlTextWriterWriteFormatElement(x, S("size"), "%zu", cklen));
	X(xmlTextWriterEndElement(x));
	if (w->signer) {
		*sig_st = w->signer->write_toc(w->signer->ctx, x, cklen, err);
		if (*sig_st)
			return -1;
	}
	char mtime[40];
	snprintf(mtime, sizeof mtime, "%sZ", w->ctime);
	for (size_t i = 0; i < w->root.kids.n; i++)
		X(toc_file(x, w->root.kids.v[i], base, mtime));
	X(xmlTextWriterEndElement(x));
	X(xmlTextWriterEndElement(x));
	X(xmlTextWriterEndDocument(x));
	return 0;
}

#undef X
#undef S

/* ------------------------------------------------------------------ */
/* Output                                                             */

static pkgflat_status copy_heap(xar_writer *w, int out_fd, pkgflat_error *err)
{
	uint64_t off = 0;
	int use_cfr = 1;

	while (off < w->heap_len) {
		uint64_t left = w->heap_len - off;
		size_t want = left > (1u << 30) ? (1u << 30) : (size_t)left;

		if (use_cfr) {
			loff_t in = (loff_t)off;
			ssize_t n = copy_file_range(w->fd, &in, out_fd, NULL,
			    want, 0);
			if (n > 0) {
				off += (uint64_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			/* Unsupported here (other filesystem, pipe, old
			 * kernel...) or a real error: a failed call copied
			 * nothing, so read/write carries on from `off` and
			 * reports whatever error persists. */
			use_cfr = 0;
		}
		if (want > HEAP_BUF_SIZE)
			want = HEAP_BUF_SIZE;
		ssize_t r = pread(w->fd, w->buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(err, w->name,
			    "reading temporary heap file");
		if (r == 0)
			return fail(err, PKGFLAT_E_IO, w->name, NULL,
			    "temporary heap file ends at %" PRIu64
			    ", expected %" PRIu64, off, w->heap_len);
		if (write_all(out_fd, w->buf, (size_t)r))
			return fail_errno(err, w->name, "writing archive heap");
		off += (uint64_t)r;
	}
	return PKGFLAT_OK;
}

pkgflat_status xarw_finish(xar_writer *w, int out_fd, pkgflat_error *err)
{
	unsigned char hdr[XAR_HEADER_SIZE], ck[EVP_MAX_MD_SIZE];
	unsigned char *ztoc = NULL, *sig = NULL;
	const char *style = NULL;
	const EVP_MD *md = cksum_md(w->cksum, &style);
	pkgflat_status st = PKGFLAT_OK, sig_st = PKGFLAT_OK;
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr x = NULL;
	size_t reserve = w->signer ? w->signer->reserve : 0;
	size_t cklen = (size_t)EVP_MD_get_size(md), xlen;
	unsigned int mdlen = 0;
	uLongf zlen;
	int rc;

	if (w->broken || w->finished)
		return broken(w, err);
	if (w->cur) {
		st = fail(err, PKGFLAT_E_USAGE, w->name, w->cur->name,
		    "archive finished while a file is open");
		goto out;
	}
	if ((st = flush_buf(w, err)))
		goto out;

	if (!(xb = xmlBufferCreate()) || !(x = xmlNewTextWriterMemory(xb, 0))) {
		st = fail_nomem(err);
		goto out;
	}
	if (toc_xml(w, x, style, cklen, &sig_st, err) < 0) {
		st = sig_st ? fail(err, sig_st, w->name, "signature",
		    "writing the signature elements failed") :
		    fail(err, PKGFLAT_E_INTERNAL, w->name, "toc",
		    "writing the xml table of contents failed");
		goto out;
	}
	xmlFreeTextWriter(x);   /* flushes into xb */
	x = NULL;
	xlen = (size_t)xmlBufferLength(xb);

	zlen = compressBound((uLong)xlen);
	if (!(ztoc = malloc(zlen))) {
		st = fail_nomem(err);
		goto out;
	}
	/* Level 9 like Apple, whatever the file data level. */
	rc = compress2(ztoc, &zlen, xmlBufferContent(xb), (uLong)xlen,
	    Z_BEST_COMPRESSION);
	if (rc != Z_OK) {
		st = fail(err, rc == Z_MEM_ERROR ? PKGFLAT_E_NOMEM :
		    PKGFLAT_E_INTERNAL, w->name, "toc",
		    "zlib compress failed (%d)", rc);
		goto out;
	}
	if (EVP_Digest(ztoc, zlen, ck, &mdlen, md, NULL) != 1 ||
	    mdlen != cklen) {
		st = fail(err, PKGFLAT_E_CRYPTO, w->name, "toc",
		    "%s of the table of contents failed", style);
		goto out;
	}
	if (w->signer) {
		if (!(sig = pf_calloc(reserve, 1))) {
			st = fail_nomem(err);
			goto out;
		}
		if ((st = w->signer->sign(w->signer->ctx, ck, cklen, sig, err))) {
			fail(err, st, w->name, "signature", "signing failed");
			goto out;
		}
	}

	memcpy(hdr, "xar!", 4);
	put_be16(hdr + 4, XAR_HEADER_SIZE);
	put_be16(hdr + 6, 1);
	put_be64(hdr + 8, (uint64_t)zlen);
	put_be64(hdr + 16, (uint64_t)xlen);
	put_be32(hdr + 24, (uint32_t)w->cksum);
	if (write_all(out_fd, hdr, sizeof hdr) ||
	    write_all(out_fd, ztoc, zlen) ||
	    write_all(out_fd, ck, cklen) ||
	    (reserve && write_all(out_fd, sig, reserve))) {
		st = fail_errno(err, w->name, "writing archive");
		goto out;
	}
	st = copy_heap(w, out_fd, err);
out:
	if (x)
		xmlFreeTextWriter(x);
	if (xb)
		xmlBufferFree(xb);
	free(ztoc);
	if (sig) {
		OPENSSL_cleanse(sig, reserve);
		free(sig);
	}
	if (st)
		w->broken = 1;
	else
		w->finished = 1;
	return st;
}
