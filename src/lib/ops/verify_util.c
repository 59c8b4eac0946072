/*
 * What the verify checks share: the leaf the signatures name, reading a
 * signature's heap range, digest names, hex, and the way a check words its
 * findings (verify_note) and tolerated differences (verify_add_note).
 * Below the checks (verify_xar.c, verify_sig.c, verify_cms.c,
 * verify_pkg.c) and the driver (verify.c), which all call it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify.h"

X509 *verify_leaf(const struct vctx *v)
{
	if (sk_X509_num(v->rsa_certs) > 0)
		return sk_X509_value(v->rsa_certs, 0);
	if (sk_X509_num(v->cms_certs) > 0)
		return sk_X509_value(v->cms_certs, 0);
	return NULL;
}

unsigned char *verify_read_range(struct vctx *v, xmlNodePtr el, size_t max,
    size_t *len, strbuf *msg)
{
	uint64_t off, size;
	unsigned char *buf;
	pkgflat_error e;

	if (!xar_child_u64(el, "offset", &off) || !xar_child_u64(el, "size", &size)) {
		sb_addf(msg, "<%s> has no valid <offset> and <size>", el->name);
		return NULL;
	}
	if (size == 0 || size > max) {
		sb_addf(msg, "<%s> size %llu is out of range (1 to %zu)", el->name,
		    (unsigned long long)size, max);
		return NULL;
	}
	if (off > v->file_size || size > v->file_size - v->heap ||
	    v->heap + off > v->file_size - size) {
		sb_addf(msg, "<%s> bytes %llu..%llu lie outside the heap", el->name,
		    (unsigned long long)off, (unsigned long long)(off + size));
		return NULL;
	}
	if (!(buf = malloc((size_t)size))) {
		sb_adds(msg, "out of memory");
		return NULL;
	}
	pkgflat_error_clear(&e);
	if (xar_pread(v->fd, v->heap + off, buf, (size_t)size, v->path, &e)) {
		sb_addf(msg, "cannot read <%s>: %s", el->name, e.message);
		free(buf);
		return NULL;
	}
	*len = (size_t)size;
	return buf;
}

const EVP_MD *verify_md(const char *style)
{
	static const struct {
		const char *name;
		const EVP_MD *(*md)(void);
	} mds[] = {
		{ "sha1", EVP_sha1 }, { "sha256", EVP_sha256 },
		{ "sha512", EVP_sha512 }, { "md5", EVP_md5 },
	};

	for (size_t i = 0; style && i < sizeof mds / sizeof *mds; i++)
		if (!str_casecmp_ascii(style, mds[i].name))
			return mds[i].md();
	return NULL;
}

void verify_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * n] = '\0';
}

#define MAX_NOTES 5

void verify_note(strbuf *msg, int *n, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if ((*n)++ >= MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (msg->len)
		sb_adds(msg, "; ");
	sb_adds(msg, buf);
}

void verify_note_end(strbuf *msg, int n)
{
	if (n > MAX_NOTES)
		sb_addf(msg, " (and %d more)", n - MAX_NOTES);
}

void verify_add_note(struct vctx *v, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	pkgflat_verify_note *n = pf_calloc(1, sizeof *n);

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* The same note from two places (info and verify read one package
	 * twice) is said once. */
	for (size_t i = 0; n && i < v->notes.n; i++) {
		const pkgflat_verify_note *o = v->notes.v[i];
		if (!strcmp(o->text, buf)) {
			free(n);
			return;
		}
	}
	/* Out of memory loses a note, never a failure. */
	if (!n || !(n->text = pf_strdup(buf)) || pv_push(&v->notes, n)) {
		if (n)
			free((char *)n->text);
		free(n);
		return;
	}
	n->check = v->check;
}

void verify_time_text(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%d %H:%M:%S +0000", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}
