/*
 * Signing an existing flat package (flat-format.md §2.4, relic's method):
 * inflate the TOC, drop its <checksum>, <signature> and <x-signature>,
 * shift every <data> and <ea> offset by the change in reserved space, write
 * the TOC again with a new checksum and the signature elements, and copy
 * the heap behind it once. Bytes after the last file (a stapled ticket, or
 * stale TOC text some pkgbuild versions left) are not carried over.
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sign.h"
#include "xar_read.h"

struct walk {
	int64_t delta;
	uint64_t min_off, max_end;
	int bad;
};

/* Shift every data/ea offset, and find the heap range files use. */
static void shift(xmlNodePtr n, struct walk *w)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xar_is_elem(c, "data") || xar_is_elem(c, "ea")) {
			uint64_t off, len;
			if (!xar_child_u64(c, "offset", &off) || !xar_child_u64(c, "length",
			    &len)) {
				w->bad = 1;
				continue;
			}
			if (off < w->min_off)
				w->min_off = off;
			if (off + len > w->max_end)
				w->max_end = off + len;
			if (w->delta) {
				char buf[32];
				snprintf(buf, sizeof buf, "%llu",
				    (unsigned long long)((int64_t)off + w->delta));
				xmlNodeSetContent(xar_child(c, "offset"), BAD_CAST buf);
			}
			continue;
		}
		shift(c, w);
	}
}

/* Write a subtree through the text writer, dropping layout whitespace. */
static void emit(xmlTextWriterPtr w, xmlNodePtr n)
{
	if (n->ns && n->ns->prefix)
		xmlTextWriterStartElementNS(w, n->ns->prefix, n->name, NULL);
	else
		xmlTextWriterStartElement(w, n->name);
	for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
		if (ns->prefix) {
			char a[128];
			snprintf(a, sizeof a, "xmlns:%s", (const char *)ns->prefix);
			xmlTextWriterWriteAttribute(w, BAD_CAST a, ns->href);
		} else
			xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", ns->href);
	}
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		xmlTextWriterWriteAttribute(w, a->name, v ? v : BAD_CAST "");
		xmlFree(v);
	}
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			emit(w, c);
		else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const char *t = (const char *)c->content;
			if (t && t[strspn(t, " \t\r\n")])
				xmlTextWriterWriteString(w, c->content);
		}
	}
	xmlTextWriterEndElement(w);
}

static pkgflat_status write_all(int fd, const void *buf, size_t n,
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

static pkgflat_status copy_range(int in, uint64_t off, uint64_t len, int out,
    const char *name, pkgflat_error *err)
{
	loff_t ioff = (loff_t)off;

	while (len) {
		ssize_t r = copy_file_range(in, &ioff, out, NULL, len > (1u << 30) ?
		    (1u << 30) : (size_t)len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* fall back to read/write */
		len -= (uint64_t)r;
	}
	char *buf = len ? malloc(1u << 20) : NULL;
	if (len && !buf)
		return fail_nomem(err);
	while (len) {
		size_t k = len < (1u << 20) ? (size_t)len : (1u << 20);
		pkgflat_status rc = xar_pread(in, (uint64_t)ioff, buf, k, name, err);
		if (!rc)
			rc = write_all(out, buf, k, name, err);
		if (rc) {
			free(buf);
			return rc;
		}
		ioff += (loff_t)k;
		len -= k;
	}
	free(buf);
	return PKGFLAT_OK;
}

pkgflat_status pkgflat_sign_file(const char *in, const char *out,
    const pkgflat_identity *id, int64_t timestamp, const char *tsa_url,
    int tsa_timeout, pkgflat_error *err)
{
	unsigned char *ntoc = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	struct xar_toc xt = { 0 };
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;
	struct sign_ctx *sctx = NULL;
	const struct xar_signer *xs = NULL;
	char *dir = NULL, *tmp = NULL;
	unsigned char *sig = NULL;
	int fd = -1, ofd = -1;

	if ((fd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return fail_errno(err, in, "cannot open");
	if ((rc = xar_toc_read(fd, in, &xt, err)))
		goto out;
	xmlNodePtr tocn = xt.toc;
	/* The old checksum and signatures: their space goes. */
	uint64_t old_base = 0;
	for (xmlNodePtr c = tocn->children, next; c; c = next) {
		next = c->next;
		if (!xar_is_elem(c, "checksum") && !xar_is_elem(c, "signature") &&
		    !xar_is_elem(c, "x-signature"))
			continue;
		uint64_t off, size;
		if (!xar_child_u64(c, "offset", &off) || !xar_child_u64(c, "size", &size)) {
			rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
			    "<%s> without a readable offset and size", c->name);
			goto out;
		}
		if (off + size > old_base)
			old_base = off + size;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	struct walk wk = { 0, UINT64_MAX, 0, 0 };
	shift(tocn, &wk);
	if (wk.bad) {
		rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
		    "a <data> or <ea> without a readable offset and length");
		goto out;
	}
	uint64_t heap = xt.heap;
	if (wk.min_off == UINT64_MAX)
		wk.min_off = wk.max_end = old_base;
	if (wk.min_off < old_base || heap + wk.max_end > xt.file_size) {
		rc = fail(err, PKGFLAT_E_FORMAT, in, "TOC",
		    "file data overlaps the signatures or runs past the end");
		goto out;
	}

	if ((rc = signer_new(id, timestamp, tsa_url, tsa_timeout, &sctx, &xs,
	    err)))
		goto out;
	uint64_t new_base = 20 + xs->reserve;
	struct walk w2 = { (int64_t)new_base - (int64_t)old_base, UINT64_MAX, 0,
	    0 };
	shift(tocn, &w2);

	/* The TOC again, checksum and signatures first. */
	if (!(xb = xmlBufferCreate()) || !(w = xmlNewTextWriterMemory(xb, 0))) {
		rc = fail_nomem(err);
		goto out;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST " ");
	xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
	xmlTextWriterStartElement(w, BAD_CAST "xar");
	xmlTextWriterStartElement(w, BAD_CAST "toc");
	xmlNodePtr first = tocn->children;
	if (xar_is_elem(first, "creation-time")) {
		emit(w, first);
		first = first->next;
	}
	xmlTextWriterStartElement(w, BAD_CAST "checksum");
	xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST "sha1");
	xmlTextWriterWriteElement(w, BAD_CAST "offset", BAD_CAST "0");
	xmlTextWriterWriteElement(w, BAD_CAST "size", BAD_CAST "20");
	xmlTextWriterEndElement(w);
	if ((rc = xs->write_toc(xs->ctx, w, 20, err)))
		goto out;
	for (xmlNodePtr c = first; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			emit(w, c);
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
	if (xmlTextWriterEndDocument(w) < 0) {
		rc = fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot write the TOC");
		goto out;
	}
	xmlFreeTextWriter(w);
	w = NULL;
	size_t tl = (size_t)xmlBufferLength(xb);
	uLongf nl = compressBound((uLong)tl);
	if (!(ntoc = malloc(nl))) {
		rc = fail_nomem(err);
		goto out;
	}
	if (compress2(ntoc, &nl, xmlBufferContent(xb), (uLong)tl, 9) != Z_OK) {
		rc = fail(err, PKGFLAT_E_INTERNAL, in, "TOC", "cannot compress");
		goto out;
	}
	unsigned char ck[20];
	unsigned int cl = 0;
	if (!EVP_Digest(ntoc, nl, ck, &cl, EVP_sha1(), NULL) || cl != 20) {
		rc = fail(err, PKGFLAT_E_CRYPTO, in, NULL, "SHA-1 failed");
		goto out;
	}
	if (!(sig = malloc(xs->reserve))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = xs->sign(xs->ctx, ck, 20, sig, err)))
		goto out;

	/* Write it all next to the output, then rename over it. */
	unsigned char nh[28];
	memcpy(nh, "xar!", 4);
	nh[4] = 0; nh[5] = 28; nh[6] = 0; nh[7] = 1;
	for (int i = 0; i < 8; i++) {
		nh[8 + i] = (unsigned char)((uint64_t)nl >> (56 - 8 * i));
		nh[16 + i] = (unsigned char)((uint64_t)tl >> (56 - 8 * i));
	}
	nh[24] = 0; nh[25] = 0; nh[26] = 0; nh[27] = 1;
	if (!(dir = path_dir(out)) || !(tmp = pf_asprintf("%s%s.%s.XXXXXX", dir,
	    dir[0] ? "/" : "", path_base(out)))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((ofd = mkstemp(tmp)) < 0) {
		rc = fail_errno(err, out, "cannot create");
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if ((rc = write_all(ofd, nh, 28, out, err)) ||
	    (rc = write_all(ofd, ntoc, nl, out, err)) ||
	    (rc = write_all(ofd, ck, 20, out, err)) ||
	    (rc = write_all(ofd, sig, xs->reserve, out, err)) ||
	    (rc = copy_range(fd, heap + old_base, wk.max_end - old_base, ofd, in,
	    err)))
		goto out;
	if (fsync(ofd) != 0 || fchmod(ofd, 0644) != 0) {
		rc = fail_errno(err, out, "cannot write");
		goto out;
	}
	if (close(ofd) != 0) {
		ofd = -1;
		rc = fail_errno(err, out, "cannot write");
		goto out;
	}
	ofd = -1;
	if (rename(tmp, out) != 0) {
		rc = fail_errno(err, out, "cannot rename into place");
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (ofd >= 0)
		close(ofd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (fd >= 0)
		close(fd);
	if (w)
		xmlFreeTextWriter(w);
	if (xb)
		xmlBufferFree(xb);
	xar_toc_free(&xt);
	signer_free(sctx);
	free(ntoc);
	free(sig);
	free(dir);
	return rc;
}
