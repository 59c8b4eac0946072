/*
 * The reading side of XAR (flat-format.md §1): 28-byte big-endian header
 * ("xar!", size 28, version 1, compressed and plain TOC lengths, checksum
 * algorithm), then the zlib TOC, then the heap. Only what signing and
 * inspecting need; verify (issue 5) builds on it.
 */
#include <errno.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "xar_read.h"

#define MAX_TOC (64u << 20)
#define STR_(x) #x
#define STR(x) STR_(x)

int xar_is_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	    !strcmp((const char *)n->name, name);
}

xmlNodePtr xar_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (xar_is_elem(c, name))
			return c;
	return NULL;
}

int xar_child_u64(xmlNodePtr n, const char *name, uint64_t *v)
{
	xmlNodePtr c = xar_child(n, name);
	xmlChar *t;
	char *end;

	if (!c || !(t = xmlNodeGetContent(c)))
		return 0;
	errno = 0;
	*v = strtoull((const char *)t, &end, 10);
	int ok = end != (char *)t && !*end && !errno;
	xmlFree(t);
	return ok;
}

const char *xar_toc_depth_problem(xmlNodePtr toc)
{
	int depth = 0, files = 0;
	xmlNodePtr n = toc ? toc->children : NULL;

	/* Depth first through parent pointers: no stack to exhaust. */
	while (n) {
		if (n->type == XML_ELEMENT_NODE && n->children) {
			if (xar_is_elem(n, "file") && ++files > XAR_MAX_DEPTH)
				return "files nested more than " STR(XAR_MAX_DEPTH)
				    " deep";
			if (++depth > XAR_MAX_DEPTH + XAR_ELEM_SLACK)
				return "elements nested more than "
				    STR(XAR_MAX_DEPTH) " files deep";
			n = n->children;
			continue;
		}
		if (xar_is_elem(n, "file") && files + 1 > XAR_MAX_DEPTH)
			return "files nested more than " STR(XAR_MAX_DEPTH) " deep";
		while (n && !n->next && n->parent != toc) {
			n = n->parent;
			depth--;
			if (xar_is_elem(n, "file"))
				files--;
		}
		n = n ? n->next : NULL;
	}
	return NULL;
}

/* off + len, or UINT64_MAX when that does not fit: a range that cannot
 * exist ends past any file. */
uint64_t xar_range_end(uint64_t off, uint64_t len)
{
	uint64_t end;

	return __builtin_add_overflow(off, len, &end) ? UINT64_MAX : end;
}

static void used(xmlNodePtr n, uint64_t *end, int depth)
{
	if (depth > XAR_MAX_DEPTH + XAR_ELEM_SLACK)
		return; /* xar_toc_read refused such a TOC */
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		uint64_t off, len;
		if ((xar_is_elem(c, "data") || xar_is_elem(c, "ea")) &&
		    xar_child_u64(c, "offset", &off) &&
		    xar_child_u64(c, "length", &len)) {
			if (xar_range_end(off, len) > *end)
				*end = xar_range_end(off, len);
		} else if ((xar_is_elem(c, "checksum") || xar_is_elem(c, "signature") ||
		    xar_is_elem(c, "x-signature")) && xar_child_u64(c, "offset", &off) &&
		    xar_child_u64(c, "size", &len)) {
			if (xar_range_end(off, len) > *end)
				*end = xar_range_end(off, len);
		} else
			used(c, end, depth + 1);
	}
}

uint64_t xar_heap_used(xmlNodePtr toc)
{
	uint64_t end = 0;

	used(toc, &end, 0);
	return end;
}

char *xar_file_name(xmlNodePtr file, int *b64)
{
	xmlNodePtr nm = NULL;

	*b64 = 0;
	for (xmlNodePtr c = file->children; c; c = c->next)
		if (xar_is_elem(c, "name"))
			nm = c;
	xmlChar *t = nm ? xmlNodeGetContent(nm) : NULL;
	xmlChar *enc = nm ? xmlGetProp(nm, BAD_CAST "enctype") : NULL;
	char *out = NULL;

	if (t && enc && !strcmp((const char *)enc, "base64")) {
		size_t n = strlen((const char *)t), k = 0;
		unsigned char *b = malloc(n + 1), *d = malloc(n + 1);
		*b64 = 1;
		for (size_t i = 0; b && i < n; i++)
			if (!strchr(" \t\r\n", t[i]))
				b[k++] = t[i];
		int len = b && d && k % 4 == 0 ? EVP_DecodeBlock(d, b, (int)k) : -1;
		for (size_t i = k; len > 0 && i > 0 && b[i - 1] == '='; i--)
			len--;
		/* A NUL inside would cut the name short: refuse it instead. */
		if (len > 0 && !memchr(d, 0, (size_t)len))
			out = pf_strndup((const char *)d, (size_t)len);
		free(b);
		free(d);
	} else if (t && !enc)
		out = pf_strdup((const char *)t);
	else if (t)
		*b64 = 1; /* an encoding we do not know */
	xmlFree(t);
	xmlFree(enc);
	return out;
}

pkgflat_status xar_pread(int fd, uint64_t off, void *buf, size_t n,
    const char *name, pkgflat_error *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail_errno(err, name, "cannot read");
		if (r == 0)
			return fail(err, PKGFLAT_E_FORMAT, name, NULL,
			    "file ends early (at byte %llu)",
			    (unsigned long long)(off + got));
		got += (size_t)r;
	}
	return PKGFLAT_OK;
}

pkgflat_status xar_toc_read(int fd, const char *name, struct xar_toc *t,
    pkgflat_error *err)
{
	unsigned char hdr[28], *toc = NULL;
	struct stat st;
	pkgflat_status rc;

	memset(t, 0, sizeof *t);
	if (fstat(fd, &st) != 0)
		return fail_errno(err, name, "cannot stat");
	t->file_size = (uint64_t)st.st_size;
	if ((rc = xar_pread(fd, 0, hdr, sizeof hdr, name, err)))
		return rc;
	if (memcmp(hdr, "xar!", 4))
		return fail(err, PKGFLAT_E_FORMAT, name, "offset 0",
		    "not a flat package (no \"xar!\" magic)");
	if (be16(hdr + 4) != 28 || be16(hdr + 6) != 1)
		return fail(err, PKGFLAT_E_UNSUPPORTED, name, "offset 4",
		    "XAR header size %u, version %u (28 and 1 expected)",
		    be16(hdr + 4), be16(hdr + 6));
	t->clen = be64(hdr + 8);
	t->ulen = be64(hdr + 16);
	t->alg = be32(hdr + 24);
	if (t->clen == 0 || t->clen > MAX_TOC || t->ulen == 0 ||
	    t->ulen > MAX_TOC || 28 + t->clen > t->file_size)
		return fail(err, PKGFLAT_E_FORMAT, name, "offset 8",
		    "TOC length %llu/%llu does not fit the file (%llu bytes)",
		    (unsigned long long)t->clen, (unsigned long long)t->ulen,
		    (unsigned long long)t->file_size);
	t->heap = 28 + t->clen;
	if (!(t->ctoc = malloc(t->clen)) || !(toc = malloc(t->ulen + 1))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = xar_pread(fd, 28, t->ctoc, t->clen, name, err)))
		goto out;
	uLongf dl = (uLongf)t->ulen;
	if (uncompress(toc, &dl, t->ctoc, (uLong)t->clen) != Z_OK ||
	    dl != t->ulen) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "offset 28",
		    "the TOC does not inflate to its declared %llu bytes",
		    (unsigned long long)t->ulen);
		goto out;
	}
	if (!(t->doc = xmlReadMemory((const char *)toc, (int)t->ulen, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_NOBLANKS | XML_PARSE_HUGE))) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "TOC", "not well-formed XML");
		goto out;
	}
	xmlNodePtr root = xmlDocGetRootElement(t->doc);
	if (!xar_is_elem(root, "xar") || !(t->toc = xar_child(root, "toc"))) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "TOC", "no <xar><toc>");
		goto out;
	}
	const char *deep = xar_toc_depth_problem(t->toc);
	if (deep) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "TOC", "%s", deep);
		goto out;
	}
out:
	free(toc);
	if (rc)
		xar_toc_free(t);
	return rc;
}

void xar_toc_free(struct xar_toc *t)
{
	xmlFreeDoc(t->doc);
	free(t->ctoc);
	memset(t, 0, sizeof *t);
}

pkgflat_status xar_write_all(int fd, const void *buf, size_t n,
    const char *name, pkgflat_error *err)
{
	const char *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail_errno(err, name, "cannot write");
		p += r;
		n -= (size_t)r;
	}
	return PKGFLAT_OK;
}

pkgflat_status xar_pwrite_all(int fd, const void *buf, size_t n, uint64_t off,
    const char *name, pkgflat_error *err)
{
	const char *p = buf;

	while (n) {
		ssize_t r = pwrite(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail_errno(err, name, "cannot write");
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return PKGFLAT_OK;
}

pkgflat_status xar_copy_range(int in, uint64_t off, uint64_t len,
    const char *in_name, int out, const char *out_name, pkgflat_error *err)
{
	off_t pos = lseek(out, 0, SEEK_CUR);
	pkgflat_status rc;

	if (pos < 0)
		return fail_errno(err, out_name, "cannot seek");
	if (!(rc = xar_copy_range_at(in, off, len, in_name, out, (uint64_t)pos,
	    out_name, err)) && lseek(out, pos + (off_t)len, SEEK_SET) < 0)
		rc = fail_errno(err, out_name, "cannot seek");
	return rc;
}

pkgflat_status xar_copy_range_at(int in, uint64_t off, uint64_t len,
    const char *in_name, int out, uint64_t out_off, const char *out_name,
    pkgflat_error *err)
{
	loff_t ioff = (loff_t)off, ooff = (loff_t)out_off;

	while (len) {
		ssize_t r = copy_file_range(in, &ioff, out, &ooff, len > (1u << 30) ?
		    (1u << 30) : (size_t)len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* fall back to pread/pwrite */
		len -= (uint64_t)r;
	}
	char *buf = len ? malloc(1u << 20) : NULL;
	if (len && !buf)
		return fail_nomem(err);
	while (len) {
		size_t k = len < (1u << 20) ? (size_t)len : (1u << 20);
		pkgflat_status rc = xar_pread(in, (uint64_t)ioff, buf, k, in_name,
		    err);
		if (!rc)
			rc = xar_pwrite_all(out, buf, k, (uint64_t)ooff, out_name, err);
		if (rc) {
			free(buf);
			return rc;
		}
		ioff += (loff_t)k;
		ooff += (loff_t)k;
		len -= k;
	}
	free(buf);
	return PKGFLAT_OK;
}
