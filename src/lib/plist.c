/*
 * Property-list loading. Binary plists ("bplist00", trailer of 32 bytes at
 * the end: offset size, ref size, object count, top object, offset-table
 * offset) are bounds-checked here before libplist sees them. XML plists go
 * through libxml2 first: it locates syntax errors by line and converts
 * UTF-16 files, which libplist's own XML parser does not read.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plist.h"

static pkgflat_status parse_binary(const unsigned char *d, size_t len,
    const char *file, plist_t *out, pkgflat_error *err)
{
	char where[64];

	if (len < 8 + 32) {
		snprintf(where, sizeof where, "offset %zu", len);
		return fail(err, PKGFLAT_E_FORMAT, file, where,
		    "truncated binary property list (%zu bytes, a trailer alone is 32)",
		    len);
	}
	const unsigned char *t = d + len - 32;
	unsigned osize = t[6], rsize = t[7];
	uint64_t nobj = be64(t + 8), top = be64(t + 16), table = be64(t + 24);
	snprintf(where, sizeof where, "offset %zu", len - 32);
	if (osize < 1 || osize > 8 || rsize < 1 || rsize > 8)
		return fail(err, PKGFLAT_E_FORMAT, file, where,
		    "binary property list trailer has bad sizes (offsets %u, refs %u)"
		    " (truncated or corrupt)", osize, rsize);
	if (nobj == 0 || top >= nobj || table < 8 || table > len - 32 ||
	    nobj > (len - 32 - table) / osize)
		return fail(err, PKGFLAT_E_FORMAT, file, where,
		    "binary property list trailer points past the data "
		    "(%llu objects, offset table at %llu, file %zu bytes): truncated or corrupt",
		    (unsigned long long)nobj, (unsigned long long)table, len);
	for (uint64_t i = 0; i < nobj; i++) {
		uint64_t off = 0;
		for (unsigned k = 0; k < osize; k++)
			off = (off << 8) | d[table + i * osize + k];
		if (off < 8 || off >= table) {
			snprintf(where, sizeof where, "offset %llu",
			    (unsigned long long)(table + i * osize));
			return fail(err, PKGFLAT_E_FORMAT, file, where,
			    "binary property list object %llu at offset %llu lies "
			    "outside the object area", (unsigned long long)i,
			    (unsigned long long)off);
		}
	}
	if (len > UINT32_MAX)
		return fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "property list too large");
	plist_from_bin((const char *)d, (uint32_t)len, out);
	if (!*out)
		return fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "malformed binary property list");
	return PKGFLAT_OK;
}

static pkgflat_status parse_xml(const unsigned char *d, size_t len,
    const char *file, plist_t *out, pkgflat_error *err)
{
	xmlParserCtxtPtr ctx = xmlNewParserCtxt();
	xmlDocPtr doc = NULL;
	xmlChar *utf8 = NULL;
	int utf8len = 0;
	pkgflat_status rc = PKGFLAT_OK;
	char where[64];

	if (!ctx)
		return fail_nomem(err);
	if (len > INT32_MAX) {
		rc = fail(err, PKGFLAT_E_FORMAT, file, NULL, "property list too large");
		goto out;
	}
	doc = xmlCtxtReadMemory(ctx, (const char *)d, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_NOBLANKS);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[256];
		snprintf(msg, sizeof msg, "%s", e && e->message ? e->message :
		    "not well-formed");
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		if (n)
			msg[0] = (char)(msg[0] >= 'A' && msg[0] <= 'Z' ?
			    msg[0] + 32 : msg[0]);
		snprintf(where, sizeof where, "line %d", e ? e->line : 0);
		rc = fail(err, PKGFLAT_E_FORMAT, file, where,
		    "malformed XML property list: %s", msg);
		goto out;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "plist") != 0) {
		snprintf(where, sizeof where, "line %ld",
		    root ? (long)xmlGetLineNo(root) : 1L);
		rc = fail(err, PKGFLAT_E_FORMAT, file, where,
		    "not a property list: root element is <%s>, not <plist>",
		    root ? (const char *)root->name : "");
		goto out;
	}
	xmlDocDumpMemoryEnc(doc, &utf8, &utf8len, "UTF-8");
	if (!utf8) {
		rc = fail_nomem(err);
		goto out;
	}
	plist_from_xml((const char *)utf8, (uint32_t)utf8len, out);
	if (!*out)
		rc = fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "malformed XML property list: not a valid plist structure");
out:
	xmlFree(utf8);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	return rc;
}

pkgflat_status plist_parse(const unsigned char *data, size_t len,
    const char *file, plist_t *out, pkgflat_error *err)
{
	*out = NULL;
	if (len == 0)
		return fail(err, PKGFLAT_E_FORMAT, file, NULL,
		    "empty property list");
	if (len >= 6 && !memcmp(data, "bplist", 6)) {
		if (len < 8 || memcmp(data + 6, "00", 2))
			return fail(err, PKGFLAT_E_FORMAT, file, "offset 6",
			    "unsupported binary property list version");
		return parse_binary(data, len, file, out, err);
	}
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
	    data[i] == '\n'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '('))
		return fail(err, PKGFLAT_E_UNSUPPORTED, file, NULL,
		    "old-style (OpenStep) property lists are not supported");
	return parse_xml(data, len, file, out, err);
}

const char *pl_str(plist_t dict, const char *key)
{
	plist_t n;

	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return NULL;
	n = plist_dict_get_item(dict, key);
	if (!n || plist_get_node_type(n) != PLIST_STRING)
		return NULL;
	return plist_get_string_ptr(n, NULL);
}

int pl_bool(plist_t dict, const char *key, int *odd)
{
	plist_t n;
	int o = 0, v = -1;

	if (dict && plist_get_node_type(dict) == PLIST_DICT &&
	    (n = plist_dict_get_item(dict, key))) {
		switch (plist_get_node_type(n)) {
		case PLIST_BOOLEAN: {
			uint8_t b = 0;
			plist_get_bool_val(n, &b);
			v = b != 0;
			break;
		}
		case PLIST_UINT: {
			uint64_t u = 0;
			plist_get_uint_val(n, &u);
			v = u != 0;
			o = 1;
			break;
		}
		case PLIST_STRING: {
			const char *s = plist_get_string_ptr(n, NULL);
			o = 1;
			if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
			    !strcmp(s, "1"))
				v = 1;
			else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
			    !strcmp(s, "0"))
				v = 0;
			break;
		}
		default:
			o = 1;
			break;
		}
	}
	if (odd)
		*odd = o;
	return v;
}

int pl_int(plist_t dict, const char *key, int64_t *out)
{
	plist_t n;

	if (!dict || plist_get_node_type(dict) != PLIST_DICT ||
	    !(n = plist_dict_get_item(dict, key)))
		return 0;
	if (plist_get_node_type(n) == PLIST_UINT) {
		uint64_t u;
		plist_get_uint_val(n, &u);
		*out = (int64_t)u;
		return 1;
	}
	if (plist_get_node_type(n) == PLIST_REAL) {
		double r;
		plist_get_real_val(n, &r);
		*out = (int64_t)r;
		return 1;
	}
	if (plist_get_node_type(n) == PLIST_STRING) {
		char *end;
		const char *s = plist_get_string_ptr(n, NULL);
		long long v = strtoll(s, &end, 10);
		if (end != s && !*end) {
			*out = v;
			return 1;
		}
	}
	return 0;
}

char *pl_text(plist_t n)
{
	if (!n)
		return NULL;
	switch (plist_get_node_type(n)) {
	case PLIST_STRING:
		return pf_strdup(plist_get_string_ptr(n, NULL));
	case PLIST_BOOLEAN: {
		uint8_t b = 0;
		plist_get_bool_val(n, &b);
		return pf_strdup(b ? "true" : "false");
	}
	case PLIST_UINT: {
		uint64_t u = 0;
		plist_get_uint_val(n, &u);
		return pf_asprintf("%lld", (long long)u);
	}
	case PLIST_REAL: {
		double r = 0;
		plist_get_real_val(n, &r);
		return pf_asprintf("%g", r);
	}
	default:
		return NULL;
	}
}
