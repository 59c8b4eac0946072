/*
 * JSON reader: a recursive-descent parser over a bounded buffer, depth
 * limited (json_read.h). Used for the notary service's answers, the ticket
 * lookup, its developer logs and App Store Connect API key files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"

struct jp {
	const char *p, *end, *start, *file;
	pkgflat_error *err;
	int failed;
};

static jv *jp_fail(struct jp *j, const char *what)
{
	if (!j->failed) {
		char where[64];
		snprintf(where, sizeof where, "offset %zu", (size_t)(j->p - j->start));
		fail(j->err, PKGFLAT_E_FORMAT, j->file, where, "%s", what);
	}
	j->failed = 1;
	return NULL;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(strbuf *sb, unsigned cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_add(sb, b, n);
}

/* A string at j->p (on its opening quote), decoded. */
static char *parse_string(struct jp *j)
{
	strbuf sb = { 0 };

	j->p++;
	for (;;) {
		if (j->p >= j->end) {
			sb_free(&sb);
			return jp_fail(j, "unterminated string"), NULL;
		}
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20) {
			sb_free(&sb);
			return jp_fail(j, "control character in a string"), NULL;
		}
		if (c != '\\') {
			sb_add(&sb, j->p++, 1);
			continue;
		}
		if (j->end - j->p < 2) {
			sb_free(&sb);
			return jp_fail(j, "unterminated escape"), NULL;
		}
		char e = j->p[1];
		j->p += 2;
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			static const char out[] = "\"\\/\b\f\n\r\t";
			sb_add(&sb, &out[simple - "\"\\/bfnrt"], 1);
			continue;
		}
		unsigned cp, lo;
		if (e != 'u' || j->end - j->p < 4 || hex4(j->p, &cp)) {
			sb_free(&sb);
			return jp_fail(j, "bad escape in a string"), NULL;
		}
		j->p += 4;
		if (cp >= 0xd800 && cp < 0xdc00) {
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    hex4(j->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) {
				sb_free(&sb);
				return jp_fail(j, "unpaired surrogate in a string"), NULL;
			}
			j->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			sb_free(&sb);
			return jp_fail(j, "unpaired surrogate in a string"), NULL;
		}
		if (cp == 0) {
			sb_free(&sb);
			return jp_fail(j, "\\u0000 in a string"), NULL;
		}
		put_utf8(&sb, cp);
	}
	if (sb.oom) {
		sb_free(&sb);
		fail_nomem(j->err);
		j->failed = 1;
		return NULL;
	}
	return sb.buf ? sb_detach(&sb) : pf_strdup("");
}

static jv *parse_value(struct jp *j, int depth);

static int push_item(jv *v, char *key, jv *item)
{
	if (!(v->n & (v->n - 1)) || !v->items) {
		size_t cap = v->n ? v->n * 2 : 4;
		jv **it = realloc(v->items, cap * sizeof *it);
		if (!it)
			return -1;
		v->items = it;
		if (v->type == JV_OBJ) {
			char **k = realloc(v->keys, cap * sizeof *k);
			if (!k)
				return -1;
			v->keys = k;
		}
	}
	if (v->type == JV_OBJ)
		v->keys[v->n] = key;
	v->items[v->n++] = item;
	return 0;
}

static jv *parse_container(struct jp *j, jv *v, int depth)
{
	char close = v->type == JV_OBJ ? '}' : ']';

	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(j);
		if (v->type == JV_OBJ) {
			if (j->p >= j->end || *j->p != '"')
				goto bad;
			if (!(key = parse_string(j)))
				goto out;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				jp_fail(j, "':' expected after a key");
				goto out;
			}
			j->p++;
		}
		jv *item = parse_value(j, depth + 1);
		if (!item) {
			free(key);
			goto out;
		}
		if (push_item(v, key, item)) {
			free(key);
			jv_free(item);
			fail_nomem(j->err);
			j->failed = 1;
			goto out;
		}
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return v;
		}
		goto bad;
	}
bad:
	jp_fail(j, v->type == JV_OBJ ? "malformed object" : "malformed array");
out:
	jv_free(v);
	return NULL;
}

static jv *parse_value(struct jp *j, int depth)
{
	jv *v;

	if (depth > JSON_MAX_DEPTH)
		return jp_fail(j, "nested too deep");
	skip_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "value expected");
	if (!(v = calloc(1, sizeof *v))) {
		fail_nomem(j->err);
		j->failed = 1;
		return NULL;
	}
	char c = *j->p;
	size_t left = (size_t)(j->end - j->p);
	if (c == '{' || c == '[') {
		v->type = c == '{' ? JV_OBJ : JV_ARR;
		return parse_container(j, v, depth);
	}
	if (c == '"') {
		v->type = JV_STR;
		if (!(v->str = parse_string(j))) {
			free(v);
			return NULL;
		}
		return v;
	}
	if (left >= 4 && !memcmp(j->p, "true", 4)) {
		v->type = JV_BOOL;
		v->boolean = 1;
		j->p += 4;
		return v;
	}
	if (left >= 5 && !memcmp(j->p, "false", 5)) {
		v->type = JV_BOOL;
		j->p += 5;
		return v;
	}
	if (left >= 4 && !memcmp(j->p, "null", 4)) {
		j->p += 4;
		return v;
	}
	/* A number, checked against the grammar, then read by strtod. */
	const char *s = j->p, *q = s;
	if (q < j->end && *q == '-')
		q++;
	if (q < j->end && *q == '0')
		q++;
	else if (q < j->end && *q >= '1' && *q <= '9')
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	else
		goto nonum;
	if (q < j->end && *q == '.') {
		if (++q >= j->end || *q < '0' || *q > '9')
			goto nonum;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < j->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= j->end || *q < '0' || *q > '9')
			goto nonum;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	char num[64];
	if ((size_t)(q - s) >= sizeof num)
		goto nonum;
	memcpy(num, s, (size_t)(q - s));
	num[q - s] = 0;
	v->type = JV_NUM;
	v->num = strtod(num, NULL);
	j->p = q;
	return v;
nonum:
	free(v);
	return jp_fail(j, "not a JSON value");
}

jv *json_parse(const char *text, size_t len, const char *file,
    pkgflat_error *err)
{
	struct jp j = { text, text + len, text, file, err, 0 };
	jv *v = parse_value(&j, 0);

	if (!v)
		return NULL;
	skip_ws(&j);
	if (j.p != j.end) {
		jv_free(v);
		return jp_fail(&j, "bytes after the JSON value");
	}
	return v;
}

void jv_free(jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		jv_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const jv *jv_get(const jv *obj, const char *key)
{
	const jv *found = NULL;

	if (!obj || obj->type != JV_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			found = obj->items[i];
	return found;
}

const char *jv_str(const jv *v)
{
	return v && v->type == JV_STR ? v->str : NULL;
}

static const jv *jv_vpath(const jv *v, va_list ap)
{
	const char *k;

	while (v && (k = va_arg(ap, const char *)))
		v = jv_get(v, k);
	return v;
}

const jv *jv_path(const jv *v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = jv_vpath(v, ap);
	va_end(ap);
	return v;
}

const char *jv_path_str(const jv *v, ...)
{
	va_list ap;

	va_start(ap, v);
	v = jv_vpath(v, ap);
	va_end(ap);
	return jv_str(v);
}

void json_quote(strbuf *sb, const char *s)
{
	sb_add(sb, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_addf(sb, "\\%c", *p);
		else if (*p < 0x20)
			sb_addf(sb, "\\u%04x", *p);
		else
			sb_add(sb, p, 1);
	}
	sb_add(sb, "\"", 1);
}
