/*
 * Inspecting and stapling flat packages. A stapled notarization ticket is
 * a trailer after the last heap range (flat-format.md §1.6), little-endian:
 *
 *   {"t8lr", u16 version 1, u16 type 1 (terminator), u32 0, u32 0}
 *   ticket bytes
 *   {"t8lr", u16 version 1, u16 type 2 (ticket), u32 ticket length, u32 0}
 *
 * Its lookup record is "2/<digest type>/<hex of the first 20 bytes of the
 * TOC checksum>", digest type 1 for SHA-1 and 2 for SHA-256.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "xar_read.h"

#define TRAILER 16
#define MAX_TICKET (1u << 20)

static void count_files(xmlNodePtr n, uint64_t *files, int *product,
    int depth)
{
	if (depth >= XAR_MAX_DEPTH)
		return; /* xar_toc_read refused deeper TOCs */
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (xar_is_elem(c, "file")) {
			(*files)++;
			if (!depth) {
				xmlNodePtr nm = xar_child(c, "name");
				xmlChar *t = nm ? xmlNodeGetContent(nm) : NULL;
				if (t && !strcmp((const char *)t, "Distribution"))
					*product = 1;
				xmlFree(t);
			}
			count_files(c, files, product, depth + 1);
		}
}

static void first_cert(xmlNodePtr sig, pkgflat_flat_info *info)
{
	xmlNodePtr ki = xar_child(sig, "KeyInfo");
	xmlNodePtr xd = ki ? xar_child(ki, "X509Data") : NULL;

	for (xmlNodePtr c = xd ? xd->children : NULL; c; c = c->next) {
		if (!xar_is_elem(c, "X509Certificate"))
			continue;
		if (info->certs++)
			continue;
		xmlChar *t = xmlNodeGetContent(c);
		size_t n = t ? strlen((const char *)t) : 0, k = 0;
		unsigned char *b = malloc(n + 1), *der = malloc(n + 1);
		for (size_t i = 0; b && i < n; i++)
			if (!strchr(" \t\r\n", t[i]))
				b[k++] = t[i];
		int len = b && der ? EVP_DecodeBlock(der, b, (int)k) : -1;
		while (len > 0 && k && b[k - 1] == '=') {
			len--;
			k--;
		}
		const unsigned char *p = der;
		X509 *x = len > 0 ? d2i_X509(NULL, &p, len) : NULL;
		if (x)
			X509_NAME_oneline(X509_get_subject_name(x), info->signer,
			    sizeof info->signer);
		X509_free(x);
		free(b);
		free(der);
		xmlFree(t);
	}
}

/* The ticket trailer at the end of the file, if the bytes are one. */
static int find_ticket(int fd, const pkgflat_flat_info *info, uint64_t *len)
{
	unsigned char t[TRAILER], h[TRAILER];
	uint64_t tail = info->file_size - info->heap_offset - info->heap_used;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	if (info->heap_used > info->file_size - info->heap_offset ||
	    tail < 2 * TRAILER ||
	    xar_pread(fd, info->file_size - TRAILER, t, TRAILER, "", &e))
		return 0;
	uint32_t l = (uint32_t)t[8] | (uint32_t)t[9] << 8 | (uint32_t)t[10] << 16 |
	    (uint32_t)t[11] << 24;
	if (memcmp(t, "t8lr", 4) || t[4] != 1 || t[5] || t[6] != 2 || t[7] ||
	    (uint64_t)l + 2 * TRAILER != tail)
		return 0;
	if (xar_pread(fd, info->file_size - 2 * TRAILER - l, h, TRAILER, "", &e) ||
	    memcmp(h, "t8lr", 4) || h[6] != 1)
		return 0;
	*len = l;
	return 1;
}

pkgflat_status pkgflat_flat_inspect(const char *path, pkgflat_flat_info *info,
    pkgflat_error *err)
{
	struct xar_toc t;
	pkgflat_status rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(info, 0, sizeof *info);
	if (fd < 0)
		return fail_errno(err, path, "cannot open");
	if ((rc = xar_toc_read(fd, path, &t, err))) {
		close(fd);
		return rc;
	}
	info->toc_checksum = t.alg;
	info->toc_length = t.clen;
	info->heap_offset = t.heap;
	info->file_size = t.file_size;
	info->heap_used = xar_heap_used(t.toc);
	count_files(t.toc, &info->files, &info->product, 0);
	xmlNodePtr sig = xar_child(t.toc, "signature");
	info->has_rsa = sig != NULL;
	info->has_cms = xar_child(t.toc, "x-signature") != NULL;
	if (sig || (sig = xar_child(t.toc, "x-signature")))
		first_cert(sig, info);
	if (info->heap_used <= info->file_size - info->heap_offset)
		info->trailing = info->file_size - info->heap_offset -
		    info->heap_used;
	info->stapled = find_ticket(fd, info, &info->ticket_length);
	/* The lookup key from the stored TOC checksum. */
	xmlNodePtr ck = xar_child(t.toc, "checksum");
	uint64_t off, size;
	unsigned char sum[20];
	if (ck && xar_child_u64(ck, "offset", &off) &&
	    xar_child_u64(ck, "size", &size) && size >= 20 &&
	    !xar_pread(fd, t.heap + off, sum, 20, path, err)) {
		int n = snprintf(info->ticket_key, sizeof info->ticket_key, "2/%d/",
		    t.alg == 3 ? 2 : 1);
		for (int i = 0; i < 20; i++)
			n += snprintf(info->ticket_key + n,
			    sizeof info->ticket_key - (size_t)n, "%02x", sum[i]);
	}
	if (err)
		pkgflat_error_clear(err);
	xar_toc_free(&t);
	close(fd);
	return PKGFLAT_OK;
}

pkgflat_status pkgflat_staple(const char *path, const char *ticket,
    pkgflat_error *err)
{
	pkgflat_flat_info info;
	pkgflat_status rc;
	unsigned char *tk = NULL;
	size_t tlen = 0;
	char *target = NULL;
	pkgflat_output *of = NULL;
	int in = -1, out;

	if (ticket && (rc = pkgflat_output_check(path, ticket, err)))
		return rc;
	if ((rc = pkgflat_flat_inspect(path, &info, err)))
		return rc;
	if (info.heap_used > info.file_size - info.heap_offset)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "the TOC claims more heap than the file holds");
	if (info.trailing && !info.stapled)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "%llu bytes after the heap are not a stapled ticket; re-sign "
		    "the package to drop them first",
		    (unsigned long long)info.trailing);
	if (!ticket && !info.stapled)
		return PKGFLAT_OK; /* nothing to remove: the file stays as it is */
	if (ticket) {
		FILE *f = fopen(ticket, "rb");
		if (!f)
			return fail_errno(err, ticket, "cannot open");
		tk = malloc(MAX_TICKET + 1);
		tlen = tk ? fread(tk, 1, MAX_TICKET + 1, f) : 0;
		fclose(f);
		if (!tk)
			return fail_nomem(err);
		if (tlen == 0 || tlen > MAX_TICKET) {
			free(tk);
			return fail(err, PKGFLAT_E_FORMAT, ticket, NULL,
			    "a ticket is 1 byte to 1 MiB (this one: %zu)", tlen);
		}
	}
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = fail_errno(err, path, "cannot open");
		goto out;
	}
	/* Written through a symlink to its file; the package replaced only
	 * when the new one is complete. */
	if ((rc = output_in_place(path, path, &target, err)) ||
	    (rc = pkgflat_output_open(target, &of, err)))
		goto out;
	out = pkgflat_output_fd(of);
	/* The package up to the end of its heap, then the new trailer. */
	if ((rc = xar_copy_range(in, 0, info.heap_offset + info.heap_used, path,
	    out, path, err)))
		goto out;
	if (tk) {
		unsigned char a[TRAILER] = { 't', '8', 'l', 'r', 1, 0, 1, 0 };
		unsigned char b[TRAILER] = { 't', '8', 'l', 'r', 1, 0, 2, 0 };
		for (int i = 0; i < 4; i++)
			b[8 + i] = (unsigned char)(tlen >> (8 * i));
		if (write(out, a, TRAILER) != TRAILER ||
		    write(out, tk, tlen) != (ssize_t)tlen ||
		    write(out, b, TRAILER) != TRAILER) {
			rc = fail_errno(err, path, "cannot write");
			goto out;
		}
	}
	rc = pkgflat_output_commit(of, 0, err);
	of = NULL;
out:
	if (in >= 0)
		close(in);
	pkgflat_output_discard(of);
	free(target);
	free(tk);
	return rc;
}
