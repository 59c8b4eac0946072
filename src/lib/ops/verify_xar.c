/*
 * The container checks of verify (flat-format.md §1): the 28-byte header,
 * the zlib TOC, the heap ranges every <data>, <ea>, <checksum> and
 * signature element claims, the stapled-ticket trailer after the heap
 * (staple.c describes it), the TOC checksum, and every file's archived and
 * extracted checksums, streamed in 1 MiB reads.
 */
#include <archive.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "verify.h"

#define MAX_TOC (64u << 20)
#define CHUNK (1u << 20)
#define TRAILER 16

static const char *alg_name(unsigned int alg)
{
	static const char *const names[] = { "none", "sha1", "md5", "sha256",
	    "sha512" };
	return alg < sizeof names / sizeof *names ? names[alg] : "unknown";
}

static const EVP_MD *alg_md(unsigned int alg)
{
	return alg == 0 || alg > 4 ? NULL : verify_md(alg_name(alg));
}

/* ------------------------------------------------------------------ */
/* xar-structure                                                      */

struct range {
	uint64_t off, len;
	char *what;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = *(struct range *const *)a;
	const struct range *y = *(struct range *const *)b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void range_free(void *p)
{
	struct range *r = p;

	if (r)
		free(r->what);
	free(r);
}

static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *p = xmlGetProp(n, BAD_CAST name);
	char *s = p ? pf_strdup((const char *)p) : NULL;

	xmlFree(p);
	return s;
}

/* A <file>'s name as the path shows it (base64 names decoded). */
static char *file_name(xmlNodePtr f)
{
	int b64;
	char *s = xar_file_name(f, &b64);

	return s ? s : pf_strdup("?");
}

static void add_range(ptrvec *pv, xmlNodePtr el, const char *lenname,
    const char *what, strbuf *msg, int *bad)
{
	uint64_t off, len;
	struct range *r;

	if (!xar_child_u64(el, "offset", &off) ||
	    !xar_child_u64(el, lenname, &len)) {
		verify_note(msg, bad, "%s: <%s> has no valid <offset> and <%s>", what,
		    el->name, lenname);
		return;
	}
	if (!(r = pf_calloc(1, sizeof *r)) || !(r->what = pf_strdup(what)) ||
	    pv_push(pv, r)) {
		range_free(r);
		verify_note(msg, bad, "out of memory");
		return;
	}
	r->off = off;
	r->len = len;
}

/* Call w->fn for every <data> and <ea> under n, with its file's path. */
struct walk {
	void (*fn)(struct walk *w, xmlNodePtr el, const char *path);
	strbuf *msg;
	int *bad;
};

static void walk_data(struct walk *w, xmlNodePtr n, const char *prefix,
    int depth)
{
	for (xmlNodePtr f = n->children; f; f = f->next) {
		if (!xar_is_elem(f, "file"))
			continue;
		char *name = file_name(f);
		char *path = name ? pf_asprintf("%s%s%s", prefix, *prefix ? "/" : "",
		    name) : NULL;
		free(name);
		if (!path) {
			verify_note(w->msg, w->bad, "out of memory");
			return;
		}
		for (xmlNodePtr c = f->children; c; c = c->next)
			if (xar_is_elem(c, "data") || xar_is_elem(c, "ea"))
				w->fn(w, c, path);
		if (depth < XAR_MAX_DEPTH)  /* check_xar refused deeper */
			walk_data(w, f, path, depth + 1);
		free(path);
	}
}

struct range_walk {
	struct walk w;
	ptrvec *pv;
};

static void range_of(struct walk *w, xmlNodePtr el, const char *path)
{
	struct range_walk *rw = (struct range_walk *)w;
	char *what = xar_is_elem(el, "ea") ?
	    pf_asprintf("%s (extended attribute)", path) : NULL;

	add_range(rw->pv, el, "length", what ? what : path, w->msg, w->bad);
	free(what);
}

/* Bytes after the last range: nothing, a stapled ticket, or something
 * no hash covers (a 2015 pkgbuild left stale TOC text there). */
static void trailer(struct vctx *v, uint64_t used, strbuf *msg, int *bad,
    strbuf *info)
{
	uint64_t tail = v->file_size - v->heap - used;
	unsigned char h[TRAILER] = { 0 }, t[TRAILER] = { 0 };
	pkgflat_error e;

	if (!tail)
		return;
	pkgflat_error_clear(&e);
	xar_pread(v->fd, v->heap + used, h, tail < TRAILER ? (size_t)tail :
	    TRAILER, v->path, &e);
	if (tail >= TRAILER)
		xar_pread(v->fd, v->file_size - TRAILER, t, TRAILER, v->path, &e);
	if (memcmp(h, "t8lr", 4) && memcmp(t, "t8lr", 4)) {
		sb_addf(info, "; %llu bytes after the heap are not a stapled ticket "
		    "(no hash covers them)", (unsigned long long)tail);
		return;
	}
	uint64_t l = (uint64_t)t[8] | (uint64_t)t[9] << 8 | (uint64_t)t[10] << 16 |
	    (uint64_t)t[11] << 24;
	if (tail < 2 * TRAILER || memcmp(h, "t8lr\1\0\1\0", 8) ||
	    memcmp(t, "t8lr\1\0\2\0", 8) || l + 2 * TRAILER != tail) {
		verify_note(msg, bad, "the %llu bytes after the heap look like a "
		    "stapled ticket but are not a well-formed one",
		    (unsigned long long)tail);
		return;
	}
	v->facts.stapled = 1;
	v->facts.ticket_length = l;
	if (v->cksum_len >= 20) {
		int n = snprintf(v->facts.ticket_key, sizeof v->facts.ticket_key,
		    "2/%d/", v->alg == 3 ? 2 : 1);
		verify_hex(v->cksum, 20, v->facts.ticket_key + n);
	}
	sb_addf(info, "; stapled ticket, %llu bytes, record %s",
	    (unsigned long long)l, v->facts.ticket_key[0] ?
	    v->facts.ticket_key : "unknown");
}

static void check_ranges(struct vctx *v, strbuf *msg, int *bad, strbuf *info)
{
	ptrvec pv = { 0 };
	uint64_t heap_len = v->file_size - v->heap, used = 0, end = 0;
	const char *end_what = NULL;
	int outside = 0;

	for (xmlNodePtr c = v->toc->children; c; c = c->next)
		if (xar_is_elem(c, "checksum") || xar_is_elem(c, "signature") ||
		    xar_is_elem(c, "x-signature"))
			add_range(&pv, c, "size", (const char *)c->name, msg, bad);
	struct range_walk rw = { { range_of, msg, bad }, &pv };
	walk_data(&rw.w, v->toc, "", 0);
	if (pv.n)
		qsort(pv.v, pv.n, sizeof *pv.v, range_cmp);
	for (size_t i = 0; i < pv.n; i++) {
		struct range *r = pv.v[i];
		if (r->off > heap_len || r->len > heap_len - r->off) {
			verify_note(msg, bad, "%s: bytes %llu..%llu lie outside the heap "
			    "(%llu bytes)", r->what, (unsigned long long)r->off,
			    (unsigned long long)xar_range_end(r->off, r->len),
			    (unsigned long long)heap_len);
			outside = 1;
			continue;
		}
		if (r->len && end_what && r->off < end)
			verify_note(msg, bad, "%s and %s overlap at heap offset %llu",
			    end_what, r->what, (unsigned long long)r->off);
		if (r->off + r->len > end) {
			end = r->off + r->len;
			end_what = r->what;
		}
		if (r->off + r->len > used)
			used = r->off + r->len;
	}
	v->ranges_ok = !outside;
	sb_addf(info, "; %zu ranges in %llu heap bytes", pv.n,
	    (unsigned long long)heap_len);
	pv_free(&pv, range_free);
	/* The stored checksum names the ticket and is what gets signed. */
	xmlNodePtr ck = xar_child(v->toc, "checksum");
	strbuf ignore = { 0 };
	size_t len = 0;
	unsigned char *sum = ck ? verify_read_range(v, ck, sizeof v->cksum, &len,
	    &ignore) : NULL;
	if (sum) {
		memcpy(v->cksum, sum, len);
		v->cksum_len = len;
	}
	free(sum);
	sb_free(&ignore);
	if (!outside)
		trailer(v, used, msg, bad, info);
}

/* Ids and names of every <file>: ids unique (Apple's xar keys hard links
 * and its extraction on them), and every name one path component, so that
 * no member can land outside the directory it is extracted to. */
struct ids {
	char **v;
	size_t n, cap;
	int oom;
};

/* The bytes a <name> stands for: its text, or base64 decoded when it says
 * enctype="base64" (names that are not UTF-8). NULL if it cannot be had. */
static unsigned char *name_bytes(xmlNodePtr nm, size_t *len)
{
	xmlChar *t = xmlNodeGetContent(nm);
	xmlChar *enc = xmlGetProp(nm, BAD_CAST "enctype");
	unsigned char *out = NULL;
	size_t tl = t ? strlen((const char *)t) : 0;

	if (!t)
		goto out;
	if (!enc) {
		out = (unsigned char *)pf_strdup((const char *)t);
		*len = tl;
		goto out;
	}
	if (strcmp((const char *)enc, "base64"))
		goto out;
	unsigned char *clean = malloc(tl + 1);
	size_t k = 0;
	for (size_t i = 0; clean && i < tl; i++)
		if (!strchr(" \t\r\n", t[i]))
			clean[k++] = t[i];
	out = clean ? malloc(k / 4 * 3 + 3) : NULL;
	int n = out && k % 4 == 0 ? EVP_DecodeBlock(out, clean, (int)k) : -1;
	if (n < 0) {
		free(out);
		out = NULL;
	} else {
		for (size_t i = k; i > 0 && clean[i - 1] == '='; i--)
			n--;
		*len = (size_t)n;
	}
	free(clean);
out:
	xmlFree(t);
	xmlFree(enc);
	return out;
}

static void check_file_names(xmlNodePtr n, const char *prefix, int depth,
    struct ids *ids, strbuf *msg, int *bad)
{
	if (depth >= XAR_MAX_DEPTH)
		return; /* check_xar refused deeper */
	for (xmlNodePtr f = n->children; f; f = f->next) {
		if (!xar_is_elem(f, "file"))
			continue;
		char *shown = file_name(f);
		char *path = pf_asprintf("%s%s%s", prefix, *prefix ? "/" : "",
		    shown ? shown : "?");
		xmlChar *id = xmlGetProp(f, BAD_CAST "id");
		int names = 0;
		free(shown);
		if (!path) {
			xmlFree(id);
			verify_note(msg, bad, "out of memory");
			return;
		}
		if (id) {
			if (ids->n == ids->cap) {
				size_t cap = ids->cap ? 2 * ids->cap : 64;
				char **v = realloc(ids->v, cap * sizeof *v);
				if (v) {
					ids->v = v;
					ids->cap = cap;
				}
			}
			if (ids->n < ids->cap && (ids->v[ids->n] =
			    pf_strdup((const char *)id)))
				ids->n++;
			else
				ids->oom = 1;
			xmlFree(id);
		}
		for (xmlNodePtr c = f->children; c; c = c->next) {
			if (!xar_is_elem(c, "name"))
				continue;
			size_t len = 0;
			unsigned char *b = name_bytes(c, &len);
			names++;
			if (!b)
				verify_note(msg, bad, "%s: its <name> cannot be decoded", path);
			else if (!len || memchr(b, '/', len) || memchr(b, 0, len) ||
			    (len == 1 && b[0] == '.') || (len == 2 && !memcmp(b, "..", 2)))
				verify_note(msg, bad, "%s: file name \"%.*s\" is not a single "
				    "path component", path, (int)(len > 64 ? 64 : len),
				    (const char *)b);
			free(b);
		}
		if (!names)
			verify_note(msg, bad, "%s: a <file> without a <name>", path);
		check_file_names(f, path, depth + 1, ids, msg, bad);
		free(path);
	}
}

static void check_ids_names(struct vctx *v, strbuf *msg, int *bad)
{
	struct ids ids = { 0 };

	check_file_names(v->toc, "", 0, &ids, msg, bad);
	if (ids.oom)
		verify_note(msg, bad, "out of memory");
	if (ids.n)
		qsort(ids.v, ids.n, sizeof *ids.v, str_ptr_cmp);
	for (size_t i = 1; i < ids.n; i++)
		if (!strcmp(ids.v[i - 1], ids.v[i]) && (i < 2 ||
		    strcmp(ids.v[i - 2], ids.v[i])))
			verify_note(msg, bad, "file id %.32s is used more than once",
			    ids.v[i]);
	for (size_t i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
}

/* Inflate the TOC: exactly clen bytes of zlib giving exactly ulen bytes. */
static unsigned char *inflate_toc(struct vctx *v, size_t *got, strbuf *msg,
    int *bad)
{
	unsigned char *buf = malloc(v->ulen + 1);
	z_stream z;

	memset(&z, 0, sizeof z);
	if (!buf || inflateInit(&z) != Z_OK) {
		free(buf);
		verify_note(msg, bad, "out of memory");
		return NULL;
	}
	z.next_in = v->ctoc;
	z.avail_in = (uInt)v->clen;
	z.next_out = buf;
	z.avail_out = (uInt)v->ulen + 1;
	int zr = inflate(&z, Z_FINISH);
	*got = z.total_out;
	if (zr == Z_STREAM_END) {
		if (*got != v->ulen)
			verify_note(msg, bad, "the TOC inflates to %zu bytes, not the "
			    "%llu the header declares", *got, (unsigned long long)v->ulen);
		if (z.avail_in)
			verify_note(msg, bad, "%u bytes of the compressed TOC follow the "
			    "end of its zlib stream", z.avail_in);
	} else {
		if (z.avail_out == 0)
			verify_note(msg, bad, "the TOC inflates to more than the %llu "
			    "bytes the header declares", (unsigned long long)v->ulen);
		else
			verify_note(msg, bad, "the compressed TOC is not a complete zlib "
			    "stream (%s)", z.msg ? z.msg : "truncated");
		free(buf);
		buf = NULL;
	}
	inflateEnd(&z);
	return buf;
}

enum pkgflat_check_result check_xar(struct vctx *v, strbuf *msg)
{
	unsigned char hdr[28], *xml = NULL;
	strbuf info = { 0 };
	pkgflat_error e;
	int bad = 0;
	size_t got = 0;

	pkgflat_error_clear(&e);
	if (v->file_size < sizeof hdr ||
	    xar_pread(v->fd, 0, hdr, sizeof hdr, v->path, &e)) {
		sb_addf(msg, "the 28-byte header is cut short (the file has %llu "
		    "bytes)", (unsigned long long)v->file_size);
		return PKGFLAT_CHECK_FAIL;
	}
	unsigned int size = be16(hdr + 4), version = be16(hdr + 6);
	v->clen = be64(hdr + 8);
	v->ulen = be64(hdr + 16);
	v->alg = be32(hdr + 24);
	if (size != 28)
		verify_note(msg, &bad, "header size %u, not 28 (libarchive refuses "
		    "it; Apple's xar ignores it)", size);
	if (version != 1)
		verify_note(msg, &bad, "header version %u, not 1", version);
	if (v->alg != 1 && v->alg != 3 && v->alg != 4)
		verify_note(msg, &bad, "checksum algorithm %u (%s) is not one Apple's "
		    "xar accepts (1 sha1, 3 sha256, 4 sha512)", v->alg,
		    alg_name(v->alg));
	sb_addf(&info, "xar! version %u, header %u bytes, %s TOC checksum",
	    version, size, alg_name(v->alg));
	if (v->clen == 0 || v->clen > MAX_TOC || v->clen > v->file_size - 28) {
		verify_note(msg, &bad, "the compressed TOC length %llu does not fit "
		    "the file (%llu bytes)", (unsigned long long)v->clen,
		    (unsigned long long)v->file_size);
		goto out;
	}
	if (v->ulen == 0 || v->ulen > MAX_TOC) {
		verify_note(msg, &bad, "the declared TOC length %llu is out of range",
		    (unsigned long long)v->ulen);
		goto out;
	}
	v->heap = 28 + v->clen;
	if (!(v->ctoc = malloc(v->clen)) ||
	    xar_pread(v->fd, 28, v->ctoc, v->clen, v->path, &e)) {
		verify_note(msg, &bad, "cannot read the TOC: %s", e.message[0] ?
		    e.message : "out of memory");
		goto out;
	}
	if (!(xml = inflate_toc(v, &got, msg, &bad)))
		goto out;
	sb_addf(&info, "; TOC %llu -> %zu bytes", (unsigned long long)v->clen, got);
	v->doc = xmlReadMemory((const char *)xml, (int)got, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_NOBLANKS | XML_PARSE_HUGE);
	xmlNodePtr root = v->doc ? xmlDocGetRootElement(v->doc) : NULL;
	if (!v->doc) {
		verify_note(msg, &bad, "the TOC is not well-formed XML");
		goto out;
	}
	if (!xar_is_elem(root, "xar") || !xar_child(root, "toc")) {
		verify_note(msg, &bad, "the TOC has no <xar><toc>");
		goto out;
	}
	v->toc = xar_child(root, "toc");
	const char *deep = xar_toc_depth_problem(v->toc);
	if (deep) {
		verify_note(msg, &bad, "the TOC has %s", deep);
		goto out;
	}
	v->rsa_el = xar_child(v->toc, "signature");
	v->cms_el = xar_child(v->toc, "x-signature");
	v->facts.has_rsa = v->rsa_el != NULL;
	v->facts.has_cms = v->cms_el != NULL;
	v->facts.is_signed = v->rsa_el || v->cms_el;
	check_ranges(v, msg, &bad, &info);
	check_ids_names(v, msg, &bad);
out:
	free(xml);
	verify_note_end(msg, bad);
	if (!bad)
		sb_adds(msg, info.buf ? info.buf : "");
	sb_free(&info);
	return bad ? PKGFLAT_CHECK_FAIL : PKGFLAT_CHECK_PASS;
}

pkgflat_status verify_xar_structure(int fd, const char *path,
    pkgflat_error *err)
{
	struct vctx v = { .path = path, .fd = fd };
	struct stat st;
	strbuf msg = { 0 };
	pkgflat_status rc = PKGFLAT_OK;

	if (fstat(fd, &st) != 0)
		return fail_errno(err, path, "cannot stat");
	v.file_size = (uint64_t)st.st_size;
	if (check_xar(&v, &msg) != PKGFLAT_CHECK_PASS)
		rc = fail(err, PKGFLAT_E_FORMAT, path, "xar-structure", "%s",
		    msg.buf ? msg.buf : "malformed");
	else if (msg.oom)
		rc = fail_nomem(err);
	sb_free(&msg);
	free(v.ctoc);
	xmlFreeDoc(v.doc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* toc-checksum                                                       */

enum pkgflat_check_result check_toc_checksum(struct vctx *v, strbuf *msg)
{
	xmlNodePtr ck = v->toc ? xar_child(v->toc, "checksum") : NULL;
	const EVP_MD *md = alg_md(v->alg);
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	uint64_t size;
	int bad = 0;

	if (!md) {
		sb_addf(msg, "the header's checksum algorithm %u has no digest",
		    v->alg);
		return PKGFLAT_CHECK_FAIL;
	}
	if (!v->toc) {
		/* The TOC is broken, but its checksum may still say whether
		 * these are the bytes that were signed: productsign always puts
		 * it at heap offset 0. */
		pkgflat_error e;
		size_t len = (size_t)EVP_MD_get_size(md);
		pkgflat_error_clear(&e);
		if (v->heap + len <= v->file_size && !xar_pread(v->fd, v->heap,
		    v->cksum, len, v->path, &e))
			v->cksum_len = len;
		sb_adds(msg, "(the TOC cannot be read: taking the checksum at heap "
		    "offset 0, where productsign puts it) ");
	} else if (!ck) {
		sb_adds(msg, "the TOC has no <checksum> element");
		return PKGFLAT_CHECK_FAIL;
	}
	char *style = ck ? prop(ck, "style") : NULL;
	const EVP_MD *smd = verify_md(style);
	if (ck && (!smd || EVP_MD_get_type(smd) != EVP_MD_get_type(md)))
		verify_note(msg, &bad, "<checksum style=\"%s\"> does not match the "
		    "header's %s", style ? style : "", alg_name(v->alg));
	free(style);
	if (ck && (!xar_child_u64(ck, "size", &size) ||
	    size != (uint64_t)EVP_MD_get_size(md)))
		verify_note(msg, &bad, "<checksum> size is not the %d bytes of %s",
		    EVP_MD_get_size(md), alg_name(v->alg));
	if (!EVP_Digest(v->ctoc, v->clen, sum, &n, md, NULL)) {
		verify_note(msg, &bad, "cannot compute %s", alg_name(v->alg));
	} else if (v->cksum_len != n) {
		if (!v->cksum_len)
			verify_note(msg, &bad, "the stored checksum cannot be read");
	} else if (memcmp(sum, v->cksum, n)) {
		char got[2 * EVP_MAX_MD_SIZE + 1];
		verify_hex(v->cksum, n, got);
		verify_hex(sum, n, hex);
		verify_note(msg, &bad, "stored %s, but the compressed TOC hashes to %s",
		    got, hex);
	}
	verify_note_end(msg, bad);
	if (bad)
		return PKGFLAT_CHECK_FAIL;
	verify_hex(sum, n, hex);
	sb_addf(msg, "%s %s over the %llu compressed TOC bytes", alg_name(v->alg),
	    hex, (unsigned long long)v->clen);
	return PKGFLAT_CHECK_PASS;
}

/* ------------------------------------------------------------------ */
/* file-checksums                                                     */

enum decoder { DEC_RAW, DEC_ZLIB, DEC_ARCHIVE, DEC_UNKNOWN };

static const struct {
	const char *mime;
	enum decoder dec;
	int (*filter)(struct archive *);
} encodings[] = {
	{ "application/octet-stream", DEC_RAW, NULL },
	{ "application/x-gzip", DEC_ZLIB, NULL },  /* really zlib (§1.5) */
	{ "application/x-bzip2", DEC_ARCHIVE, archive_read_support_filter_bzip2 },
	{ "application/x-xz", DEC_ARCHIVE, archive_read_support_filter_xz },
	{ "application/x-lzma", DEC_ARCHIVE, archive_read_support_filter_lzma },
};

struct fstats {
	uint64_t files, stored, extracted;
	int unchecked;           /* extracted checksums not checked */
	uint64_t unarchived;     /* spelled <unarchived-checksum> */
	char first_unarchived[256];
	uint64_t eas;            /* <ea> members checked */
};

/* One <data> or <ea> being checked. */
struct fcheck {
	struct vctx *v;
	const char *path;
	uint64_t off, left;      /* heap offset and bytes still to read */
	unsigned char *in, *out; /* CHUNK each */
	EVP_MD_CTX *actx, *ectx; /* archived, extracted (NULL: same as actx) */
	uint64_t decoded;
	int read_error;
};

static ssize_t read_chunk(struct fcheck *f)
{
	size_t n = f->left < CHUNK ? (size_t)f->left : CHUNK;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	if (!n)
		return 0;
	if (xar_pread(f->v->fd, f->v->heap + f->off, f->in, n, f->v->path, &e)) {
		f->read_error = 1;
		return -1;
	}
	EVP_DigestUpdate(f->actx, f->in, n);
	f->off += n;
	f->left -= n;
	f->v->progress_done += n;
	if (f->v->opt->progress) {
		pkgflat_progress pr = { .done = f->v->progress_done,
		    .total = f->v->file_size > f->v->heap ? f->v->file_size -
		    f->v->heap : 0, .component = f->path, .phase = "verifying" };
		if (pr.done > pr.total)
			pr.total = 0; /* overlapping ranges: no true total */
		f->v->opt->progress(&pr, f->v->opt->progress_ctx);
	}
	return (ssize_t)n;
}

static la_ssize_t arc_read(struct archive *a, void *ud, const void **buf)
{
	struct fcheck *f = ud;
	(void)a;
	*buf = f->in;
	return read_chunk(f);
}

/* Read all stored bytes, hashing them, and decode them into ectx.
 * Returns NULL, or why the extracted bytes could not be had. */
static const char *stream(struct fcheck *f, enum decoder dec,
    int (*filter)(struct archive *))
{
	const char *why = NULL;
	ssize_t n;

	if (dec == DEC_RAW) {
		while ((n = read_chunk(f)) > 0) {
			if (f->ectx)
				EVP_DigestUpdate(f->ectx, f->in, (size_t)n);
			f->decoded += (uint64_t)n;
		}
		return n < 0 ? "cannot read" : NULL;
	}
	if (dec == DEC_ZLIB) {
		z_stream z;
		int zr = Z_OK;
		memset(&z, 0, sizeof z);
		if (inflateInit(&z) != Z_OK)
			return "out of memory";
		while (!why && (n = read_chunk(f)) > 0) {
			z.next_in = f->in;
			z.avail_in = (uInt)n;
			while (z.avail_in && zr != Z_STREAM_END) {
				z.next_out = f->out;
				z.avail_out = CHUNK;
				zr = inflate(&z, Z_NO_FLUSH);
				if (zr != Z_OK && zr != Z_STREAM_END) {
					why = "the stored bytes are not a valid zlib stream";
					break;
				}
				EVP_DigestUpdate(f->ectx, f->out, CHUNK - z.avail_out);
				f->decoded += CHUNK - z.avail_out;
			}
			if (!why && zr == Z_STREAM_END && (z.avail_in || f->left))
				why = "bytes follow the end of the zlib stream";
		}
		/* The stream may need a last flush once input is exhausted. */
		while (!why && n == 0 && zr == Z_OK) {
			z.next_out = f->out;
			z.avail_out = CHUNK;
			zr = inflate(&z, Z_FINISH);
			EVP_DigestUpdate(f->ectx, f->out, CHUNK - z.avail_out);
			f->decoded += CHUNK - z.avail_out;
			if (zr == Z_BUF_ERROR || (zr == Z_OK && z.avail_out))
				why = "the zlib stream is cut short";
			else if (zr != Z_OK && zr != Z_STREAM_END)
				why = "the stored bytes are not a valid zlib stream";
		}
		inflateEnd(&z);
		while (read_chunk(f) > 0)
			;
		return f->read_error ? "cannot read" : why;
	}
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	if (!a)
		return "out of memory";
	if (filter(a) != ARCHIVE_OK) {
		/* ARCHIVE_WARN: only through an external program. */
		why = "no decoder built into libarchive";
	} else if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open(a, f, NULL, arc_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		why = "the stored bytes do not decode";
	} else {
		la_ssize_t r;
		while ((r = archive_read_data(a, f->out, CHUNK)) > 0) {
			EVP_DigestUpdate(f->ectx, f->out, (size_t)r);
			f->decoded += (uint64_t)r;
		}
		if (r < 0)
			why = "the stored bytes do not decode";
	}
	archive_read_free(a);
	while (read_chunk(f) > 0)
		;
	return f->read_error ? "cannot read" : why;
}

/* Is the stored hex (any case, surrounding blanks) this digest? */
static int hex_equal(const char *stored, const unsigned char *md, size_t n)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t l;

	while (*stored == ' ' || *stored == '\n' || *stored == '\t')
		stored++;
	l = strlen(stored);
	while (l && (stored[l - 1] == ' ' || stored[l - 1] == '\n' ||
	    stored[l - 1] == '\t'))
		l--;
	verify_hex(md, n, hex);
	return l == 2 * n && !strncasecmp(stored, hex, l);
}

struct sum {
	char *style, *value;
	const EVP_MD *md;
};

static void read_sum(xmlNodePtr data, const char *name, struct sum *s)
{
	xmlNodePtr c = xar_child(data, name);
	xmlChar *t = c ? xmlNodeGetContent(c) : NULL;

	s->style = c ? prop(c, "style") : NULL;
	s->value = t ? pf_strdup((const char *)t) : NULL;
	s->md = verify_md(s->style);
	xmlFree(t);
}

static void check_data(struct vctx *v, xmlNodePtr data, const char *path,
    unsigned char *in, unsigned char *out, struct fstats *st, strbuf *msg,
    int *bad)
{
	struct sum as = { 0 }, es = { 0 };
	struct fcheck f = { .v = v, .path = path, .in = in, .out = out };
	uint64_t size = 0;
	int has_size;
	enum decoder dec = DEC_UNKNOWN;
	int (*filter)(struct archive *) = NULL;
	char *enc = NULL;
	const char *why;
	unsigned char amd[EVP_MAX_MD_SIZE], emd[EVP_MAX_MD_SIZE];
	unsigned int an = 0, en = 0;

	if (!xar_child_u64(data, "offset", &f.off) ||
	    !xar_child_u64(data, "length", &f.left))
		return; /* xar-structure said so */
	has_size = xar_child_u64(data, "size", &size);
	xmlNodePtr encel = xar_child(data, "encoding");
	enc = encel ? prop(encel, "style") : pf_strdup("application/octet-stream");
	for (size_t i = 0; enc && i < sizeof encodings / sizeof *encodings; i++)
		if (!strcmp(enc, encodings[i].mime)) {
			dec = encodings[i].dec;
			filter = encodings[i].filter;
		}
	read_sum(data, "archived-checksum", &as);
	read_sum(data, "extracted-checksum", &es);
	/* libxar before 1.6 wrote the extracted checksum as
	 * <unarchived-checksum>, and libxar still reads it. */
	if (!es.value && !es.style && xar_child(data, "unarchived-checksum")) {
		read_sum(data, "unarchived-checksum", &es);
		if (!st->unarchived++)
			snprintf(st->first_unarchived, sizeof st->first_unarchived, "%s",
			    path);
	}
	if (xar_is_elem(data, "ea"))
		st->eas++;
	st->files++;
	if (f.off > v->file_size - v->heap || f.left > v->file_size - v->heap - f.off) {
		verify_note(msg, bad, "%s: its data lies outside the heap", path);
		goto out;
	}
	if (!as.md || !as.value) {
		verify_note(msg, bad, "%s: %s archived checksum", path, as.value ?
		    "unknown style of" : "no");
		goto out;
	}
	if (!(f.actx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(f.actx, as.md, NULL)) {
		verify_note(msg, bad, "%s: out of memory", path);
		goto out;
	}
	/* Raw data with one digest style for both: hash once. */
	int same = dec == DEC_RAW && es.md && EVP_MD_get_type(es.md) ==
	    EVP_MD_get_type(as.md);
	int decode = es.md && es.value && dec != DEC_UNKNOWN && !same;
	if (decode && (!(f.ectx = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(f.ectx, es.md, NULL))) {
		verify_note(msg, bad, "%s: out of memory", path);
		goto out;
	}
	st->stored += f.left;
	why = stream(&f, decode || same ? dec : DEC_RAW, filter);
	EVP_DigestFinal_ex(f.actx, amd, &an);
	if (f.read_error) {
		verify_note(msg, bad, "%s: cannot read its data", path);
		goto out;
	}
	if (!hex_equal(as.value, amd, an)) {
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		verify_hex(amd, an, hex);
		verify_note(msg, bad, "%s: archived checksum mismatch (stored %s, "
		    "computed %s)", path, as.value, hex);
	}
	if (!es.md || !es.value) {
		verify_note(msg, bad, "%s: %s extracted checksum", path, es.value ?
		    "unknown style of" : "no");
		goto out;
	}
	if (same) {
		memcpy(emd, amd, an);
		en = an;
	} else if (dec == DEC_UNKNOWN || (why && filter &&
	    !strcmp(why, "no decoder built into libarchive"))) {
		st->unchecked++;
		goto out;
	} else if (why) {
		verify_note(msg, bad, "%s: %s (encoding %s)", path, why, enc);
		goto out;
	} else
		EVP_DigestFinal_ex(f.ectx, emd, &en);
	st->extracted += f.decoded;
	if (!hex_equal(es.value, emd, en)) {
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		verify_hex(emd, en, hex);
		verify_note(msg, bad, "%s: extracted checksum mismatch (stored %s, "
		    "computed %s)", path, es.value, hex);
	} else if (has_size && size != f.decoded)
		verify_note(msg, bad, "%s: decodes to %llu bytes, <size> says %llu",
		    path, (unsigned long long)f.decoded, (unsigned long long)size);
out:
	EVP_MD_CTX_free(f.actx);
	EVP_MD_CTX_free(f.ectx);
	free(enc);
	free(as.style);
	free(as.value);
	free(es.style);
	free(es.value);
}

struct file_walk {
	struct walk w;
	struct vctx *v;
	unsigned char *in, *out;
	struct fstats *st;
};

static void file_of(struct walk *w, xmlNodePtr el, const char *path)
{
	struct file_walk *fw = (struct file_walk *)w;

	check_data(fw->v, el, path, fw->in, fw->out, fw->st, w->msg, w->bad);
}

enum pkgflat_check_result check_files(struct vctx *v, strbuf *msg)
{
	unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
	struct fstats st = { 0 };
	int bad = 0;

	if (!in || !out) {
		free(in);
		free(out);
		sb_adds(msg, "out of memory");
		return PKGFLAT_CHECK_FAIL;
	}
	struct file_walk fw = { { file_of, msg, &bad }, v, in, out, &st };
	walk_data(&fw.w, v->toc, "", 0);
	free(in);
	free(out);
	verify_note_end(msg, bad);
	if (bad)
		return PKGFLAT_CHECK_FAIL;
	sb_addf(msg, "%llu files: archived and extracted checksums match "
	    "(%llu bytes stored, %llu extracted)", (unsigned long long)st.files,
	    (unsigned long long)st.stored, (unsigned long long)st.extracted);
	if (st.unchecked)
		sb_addf(msg, "; %d extracted checksums not checked (encoding not "
		    "decodable here)", st.unchecked);
	if (st.eas)
		sb_addf(msg, "; %llu of them extended attributes",
		    (unsigned long long)st.eas);
	if (st.unarchived)
		verify_add_note(v, "%llu member(s) spell the extracted checksum "
		    "<unarchived-checksum>, as libxar before 1.6 wrote it (libxar "
		    "reads both; checked all the same), first %s",
		    (unsigned long long)st.unarchived, st.first_unarchived);
	return PKGFLAT_CHECK_PASS;
}
