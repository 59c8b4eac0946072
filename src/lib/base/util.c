/* Errors, allocation, buffers and path helpers used across the library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const status_names[] = {
	[PKGFLAT_OK] = "ok",
	[PKGFLAT_E_USAGE] = "usage error",
	[PKGFLAT_E_IO] = "i/o error",
	[PKGFLAT_E_FORMAT] = "malformed input",
	[PKGFLAT_E_UNSUPPORTED] = "unsupported input",
	[PKGFLAT_E_NOMEM] = "out of memory",
	[PKGFLAT_E_CRYPTO] = "cryptographic error",
	[PKGFLAT_E_INTERNAL] = "internal error",
	[PKGFLAT_E_DIFFERS] = "packages differ",
};

const char *pkgflat_status_name(pkgflat_status status)
{
	if ((size_t)status < sizeof status_names / sizeof *status_names &&
	    status_names[status])
		return status_names[status];
	return "unknown error";
}

void pkgflat_error_clear(pkgflat_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

const char *pkgflat_error_text(const pkgflat_error *err, char *buf,
    size_t size)
{
	if (!size)
		return buf;
	buf[0] = '\0';
	if (!err)
		return buf;
	snprintf(buf, size, "%s%s%s%s%s", err->file,
	    err->file[0] ? ": " : "", err->where, err->where[0] ? ": " : "",
	    err->message[0] ? err->message : pkgflat_status_name(err->status));
	return buf;
}

static void vset(pkgflat_error *err, pkgflat_status status, const char *file,
    const char *where, const char *fmt, va_list ap)
{
	if (!err || err->status != PKGFLAT_OK)
		return;
	err->status = status;
	snprintf(err->file, sizeof err->file, "%s", file ? file : "");
	snprintf(err->where, sizeof err->where, "%s", where ? where : "");
	vsnprintf(err->message, sizeof err->message, fmt, ap);
}

pkgflat_status fail(pkgflat_error *err, pkgflat_status status,
    const char *file, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, status, file, where, fmt, ap);
	va_end(ap);
	return status;
}

pkgflat_status fail_errno(pkgflat_error *err, const char *file,
    const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (!err || err->status != PKGFLAT_OK)
		return PKGFLAT_E_IO;
	va_start(ap, fmt);
	vset(err, PKGFLAT_E_IO, file, NULL, fmt, ap);
	va_end(ap);
	err->sys_errno = e;
	size_t n = strlen(err->message);
	snprintf(err->message + n, sizeof err->message - n, "%s%s",
	    n ? ": " : "", strerror(e));
	return PKGFLAT_E_IO;
}

pkgflat_status fail_nomem(pkgflat_error *err)
{
	return fail(err, PKGFLAT_E_NOMEM, NULL, NULL, "out of memory");
}

void *pf_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

char *pf_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *pf_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *pf_asprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(p = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static int sb_grow(strbuf *sb, size_t more)
{
	if (sb->oom)
		return -1;
	if (sb->len + more + 1 <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + more + 1) {
		if (cap > SIZE_MAX / 2) {
			sb->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	char *p = realloc(sb->buf, cap);
	if (!p) {
		sb->oom = 1;
		return -1;
	}
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

void sb_add(strbuf *sb, const void *data, size_t n)
{
	if (sb_grow(sb, n))
		return;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_adds(strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_free(strbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof *sb);
}

char *sb_detach(strbuf *sb)
{
	char *p;

	if (sb->oom) {
		sb_free(sb);
		return NULL;
	}
	p = sb->buf ? sb->buf : strdup("");
	memset(sb, 0, sizeof *sb);
	return p;
}

int pv_push(ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 8;
		void **v = realloc(pv->v, cap * sizeof *v);
		if (!v)
			return -1;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

void pv_free(ptrvec *pv, void (*free_fn)(void *))
{
	if (free_fn)
		for (size_t i = 0; i < pv->n; i++)
			free_fn(pv->v[i]);
	free(pv->v);
	memset(pv, 0, sizeof *pv);
}

int want_fsync(int asked)
{
	const char *e = getenv("PKGFLAT_FSYNC");

	return asked || (e && *e && strcmp(e, "0") != 0);
}

char *path_normalize(const char *path)
{
	strbuf sb = { 0 };
	const char *p = path;

	if (!path || path[0] == '/')
		return NULL;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (sb.len == 0) {
				sb_free(&sb);
				return NULL;
			}
			char *slash = strrchr(sb.buf, '/');
			sb.len = slash ? (size_t)(slash - sb.buf) : 0;
			sb.buf[sb.len] = '\0';
		} else {
			if (sb.len)
				sb_add(&sb, "/", 1);
			sb_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return sb_detach(&sb);
}

char *path_join(const char *dir, const char *name)
{
	char *tmp, *out;

	if (!name || name[0] == '/')
		return NULL;
	if (!dir || !dir[0])
		return path_normalize(name);
	tmp = pf_asprintf("%s/%s", dir, name);
	if (!tmp)
		return NULL;
	out = path_normalize(tmp);
	free(tmp);
	return out;
}

const char *path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *path_dir(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? pf_strndup(path, (size_t)(s - path)) : pf_strdup("");
}

int str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && str_casecmp_ascii(s + a - b, suffix) == 0;
}

int str_casecmp_ascii(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca += 32;
		if (cb >= 'A' && cb <= 'Z')
			cb += 32;
		if (ca != cb || !ca)
			return ca - cb;
	}
}

const char *mime_sniff(const unsigned char *d, size_t n, const char *name)
{
	if (n >= 5 && !memcmp(d, "{\\rtf", 5))
		return "text/rtf";
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && !memcmp(d, "\xff\xd8\xff", 3))
		return "image/jpeg";
	if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4)))
		return "image/tiff";
	if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
		return "image/gif";
	if (n >= 5 && !memcmp(d, "%PDF-", 5))
		return "application/pdf";
	if (n >= 8 && !memcmp(d, "bplist00", 8))
		return "application/x-plist";
	if (n >= 2 && d[0] == '#' && d[1] == '!')
		return "text/x-script";
	if (n >= 4 && !memcmp(d, "\xca\xfe\xba\xbe", 4))
		return "application/x-mach-binary";
	if (n >= 4 && (!memcmp(d, "\xcf\xfa\xed\xfe", 4) ||
	    !memcmp(d, "\xce\xfa\xed\xfe", 4)))
		return "application/x-mach-binary";
	/* Text: look at a prefix for markup or binary bytes. */
	size_t lim = n < 512 ? n : 512;
	int binary = 0;
	for (size_t i = 0; i < lim; i++)
		if (d[i] == 0 && !(i < 2 && n >= 2 &&
		    ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))))
			binary = 1;
	if (n >= 2 && ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
		/* Look at the ASCII projection of the UTF-16 text. */
		char a[256];
		size_t k = 0, off = d[0] == 0xff ? 2 : 3;
		for (size_t i = off; i < n && k < sizeof a - 1; i += 2)
			a[k++] = (char)d[i];
		a[k] = '\0';
		if (!strncmp(a, "<?xml", 5))
			return strstr(a, "<plist") || strstr(a, "PropertyList") ?
			    "application/x-plist" : "text/xml";
		return "text/plain; charset=utf-16";
	}
	if (binary)
		return "application/octet-stream";
	const char *p = (const char *)d;
	for (size_t i = 0; i < lim && (p[i] == ' ' || p[i] == '\n' ||
	    p[i] == '\r' || p[i] == '\t');)
		p++, lim--;
	if (lim >= 5 && (!strncmp(p, "<?xml", 5))) {
		if (memmem(d, n < 1024 ? n : 1024, "<plist", 6))
			return "application/x-plist";
		if (memmem(d, n < 1024 ? n : 1024, "<html", 5))
			return "text/html";
		return "text/xml";
	}
	if (name && (str_has_suffix(name, ".html") || str_has_suffix(name, ".htm")))
		return "text/html";
	if (lim >= 5 && (!strncmp(p, "<html", 5) || !strncmp(p, "<HTML", 5) ||
	    !strncmp(p, "<!DOC", 5)))
		return "text/html";
	return "text/plain";
}

int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do { \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

static uint64_t sip_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson and Bernstein), 64-bit output; k[0] and k[1] are
 * the key's two halves read little-endian. */
uint64_t pf_siphash(const uint64_t k[2], const void *data, size_t n)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull;
	uint64_t v3 = k[1] ^ 0x7465646279746573ull;
	const unsigned char *p = data;
	uint64_t b = (uint64_t)n << 56, m;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = sip_le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t j = 0; i + j < n; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
