/*
 * A small JSON reader (RFC 8259) for the answers of web services: the whole
 * text is parsed into a tree. Strings are UTF-8 with every escape decoded
 * (\u0000 is refused, so that every string is a C string); numbers keep
 * their double value. Nesting deeper than JSON_MAX_DEPTH is refused.
 */
#ifndef PKGFLAT_JSON_READ_H
#define PKGFLAT_JSON_READ_H

#include <stddef.h>

#include "internal.h"

#define JSON_MAX_DEPTH 64

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

typedef struct jv {
	enum jv_type type;
	int boolean;
	double num;
	char *str;            /* JV_STR */
	size_t n;             /* JV_ARR, JV_OBJ: items */
	struct jv **items;
	char **keys;          /* JV_OBJ: keys[i] names items[i] */
} jv;

/* The tree of text[0..len), or NULL with err filled: "file: offset N:
 * what". */
jv *json_parse(const char *text, size_t len, const char *file,
    pkgflat_error *err);
void jv_free(jv *v);
/* The member of an object (the last one of that name), or NULL. */
const jv *jv_get(const jv *obj, const char *key);
/* The string value, or NULL when v is not a string. */
const char *jv_str(const jv *v);
/* Follow the NULL-terminated keys; the string found there, or NULL. */
const char *jv_path_str(const jv *v, ...);
const jv *jv_path(const jv *v, ...);

/* Append s to sb as a JSON string, quotes included. */
void json_quote(strbuf *sb, const char *s);

#endif
