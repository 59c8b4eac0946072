/*
 * Apple ".strings" tables as used by InstallationCheck.strings,
 * VolumeCheck.strings and IFRequirements.strings:
 *
 *     "16" = "This package requires Mac OS X 10.3.";   // a comment
 *
 * with C and C++ comments between entries.
 *
 * Keys and values are quoted strings (bare words are accepted too) with
 * C-style escapes and \Uxxxx. Files are UTF-16 with a byte-order mark
 * (bdist_mpkg writes them so) or UTF-8. Everything becomes UTF-8 here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"

static void put_utf8(strbuf *sb, unsigned long c)
{
	unsigned char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | (c >> 6));
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (c >> 12));
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (c >> 18));
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	sb_add(sb, b, n);
}

/* UTF-16 (with BOM) to UTF-8; other input is taken as UTF-8 already. */
static char *to_utf8(const unsigned char *d, size_t len, size_t *outlen)
{
	strbuf sb = { 0 };

	if (len >= 2 && ((d[0] == 0xff && d[1] == 0xfe) ||
	    (d[0] == 0xfe && d[1] == 0xff))) {
		int le = d[0] == 0xff;
		for (size_t i = 2; i + 1 < len; i += 2) {
			unsigned long c = le ? (unsigned long)(d[i] | d[i + 1] << 8) :
			    (unsigned long)(d[i] << 8 | d[i + 1]);
			if (c >= 0xd800 && c < 0xdc00 && i + 3 < len) {
				unsigned long c2 = le ?
				    (unsigned long)(d[i + 2] | d[i + 3] << 8) :
				    (unsigned long)(d[i + 2] << 8 | d[i + 3]);
				if (c2 >= 0xdc00 && c2 < 0xe000) {
					c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
					i += 2;
				}
			}
			put_utf8(&sb, c);
		}
	} else {
		if (len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
			d += 3;
			len -= 3;
		}
		sb_add(&sb, d, len);
	}
	*outlen = sb.len;
	return sb_detach(&sb);
}

struct lexer {
	const char *p, *end;
	int line;
};

static void skip_space(struct lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
			lx->p++;
		} else if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '/') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
			lx->p += 2;
			while (lx->p < lx->end && !(lx->end - lx->p >= 2 &&
			    lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			lx->p = lx->p < lx->end ? lx->p + 2 : lx->end;
		} else
			break;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A quoted string or a bare word; NULL with *why set on error. */
static char *token(struct lexer *lx, const char **why)
{
	strbuf sb = { 0 };

	if (lx->p >= lx->end) {
		*why = "unexpected end of file";
		return NULL;
	}
	if (*lx->p != '"') {
		const char *s = lx->p;
		while (lx->p < lx->end && (strchr("._-/:$", *lx->p) ||
		    (*lx->p >= '0' && *lx->p <= '9') || (*lx->p >= 'a' &&
		    *lx->p <= 'z') || (*lx->p >= 'A' && *lx->p <= 'Z')))
			lx->p++;
		if (lx->p == s) {
			*why = "expected a quoted string";
			return NULL;
		}
		return pf_strndup(s, (size_t)(lx->p - s));
	}
	int start = lx->line;
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;
		if (c == '\n')
			lx->line++;
		if (c != '\\') {
			sb_add(&sb, &c, 1);
			continue;
		}
		if (lx->p >= lx->end)
			break;
		c = *lx->p++;
		switch (c) {
		case 'n': sb_add(&sb, "\n", 1); break;
		case 't': sb_add(&sb, "\t", 1); break;
		case 'r': sb_add(&sb, "\r", 1); break;
		case 'U':
		case 'u': {
			unsigned long v = 0;
			int k;
			for (k = 0; k < 4 && lx->p < lx->end && hexval(*lx->p) >= 0; k++)
				v = v * 16 + (unsigned long)hexval(*lx->p++);
			if (k != 4) {
				sb_free(&sb);
				*why = "bad \\U escape";
				return NULL;
			}
			put_utf8(&sb, v);
			break;
		}
		default: sb_add(&sb, &c, 1); break;
		}
	}
	if (lx->p >= lx->end) {
		sb_free(&sb);
		lx->line = start; /* report where the string began */
		*why = "unterminated string";
		return NULL;
	}
	lx->p++;
	char *out = sb_detach(&sb);
	if (!out)
		*why = "out of memory";
	return out;
}

pkgflat_status strings_parse(const unsigned char *data, size_t len,
    const char *file, int (*fn)(const char *key, const char *value, void *ctx),
    void *ctx, pkgflat_error *err)
{
	size_t n = 0;
	char *text = to_utf8(data, len, &n);
	struct lexer lx;
	pkgflat_status rc = PKGFLAT_OK;
	const char *why = NULL;
	char where[32];

	if (!text)
		return fail_nomem(err);
	lx.p = text;
	lx.end = text + n;
	lx.line = 1;
	for (;;) {
		char *key = NULL, *val = NULL;
		skip_space(&lx);
		if (lx.p >= lx.end)
			break;
		if (!(key = token(&lx, &why)))
			goto bad;
		skip_space(&lx);
		if (lx.p < lx.end && *lx.p == ';') {
			/* "key"; means key = key */
			lx.p++;
			int r = fn(key, key, ctx);
			free(key);
			if (r) {
				rc = fail_nomem(err);
				break;
			}
			continue;
		}
		if (lx.p >= lx.end || *lx.p != '=') {
			free(key);
			why = "expected '=' after the key";
			goto bad;
		}
		lx.p++;
		skip_space(&lx);
		if (!(val = token(&lx, &why))) {
			free(key);
			goto bad;
		}
		skip_space(&lx);
		if (lx.p >= lx.end || *lx.p != ';') {
			free(key);
			free(val);
			why = "expected ';' after the value";
			goto bad;
		}
		lx.p++;
		int r = fn(key, val, ctx);
		free(key);
		free(val);
		if (r) {
			rc = fail_nomem(err);
			break;
		}
		continue;
bad:
		snprintf(where, sizeof where, "line %d", lx.line);
		rc = fail(err, PKGFLAT_E_FORMAT, file, where, "malformed strings file: %s",
		    why);
		break;
	}
	free(text);
	return rc;
}
