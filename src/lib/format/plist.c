/*
 * Property-list loading. Binary plists ("bplist00", trailer of 32 bytes at
 * the end: offset size, ref size, object count, top object, offset-table
 * offset) are bounds-checked here before libplist sees them. XML plists go
 * through libxml2 first: it locates syntax errors by line and converts
 * UTF-16 files, which libplist's own XML parser does not read.
 *
 * libplist's binary parser recurses once per nesting level and expands a
 * shared object once per reference, so a hostile file can exhaust the
 * stack or memory. bplist_shape() walks the object graph first, without
 * recursion: containers nest at most PLIST_MAX_DEPTH deep, the expanded
 * tree has at most PLIST_MAX_NODES nodes, and no object contains itself.
 * XML plists are held to 256 levels by libxml2 before libplist sees them.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plist.h"

/* Containers (arrays, sets, dicts) inside one another, the top one is 1. */
#define PLIST_MAX_DEPTH 512
/* Nodes libplist would build, counting a shared object at each use. */
#define PLIST_MAX_NODES (1u << 20)

/* Offset of object i, checked by parse_binary() to lie in [8, table). */
static uint64_t bplist_off(const unsigned char *d, uint64_t table,
    unsigned osize, uint64_t i)
{
	uint64_t off = 0;

	for (unsigned k = 0; k < osize; k++)
		off = (off << 8) | d[table + i * osize + k];
	return off;
}

/*
 * The references of object i: *nref of them at *refs, 0 for a scalar.
 * Returns -1 (with *why) when the container runs past the object area.
 */
static int bplist_refs(const unsigned char *d, uint64_t table, uint64_t off,
    unsigned rsize, uint64_t *refs, uint64_t *nref, const char **why)
{
	unsigned type = d[off] >> 4, info = d[off] & 0xf;
	uint64_t p = off + 1, count = info;

	*nref = 0;
	if (type != 0xa && type != 0xb && type != 0xc && type != 0xd)
		return 0;
	if (info == 0xf) {
		/* The count follows as an integer object: 0x1n, 2^n bytes. */
		if (p >= table || d[p] >> 4 != 1 || (d[p] & 0xf) > 3) {
			*why = "has a malformed element count";
			return -1;
		}
		unsigned nb = 1u << (d[p] & 0xf);
		if (table - p - 1 < nb) {
			*why = "has an element count past the object area";
			return -1;
		}
		count = 0;
		for (unsigned k = 0; k < nb; k++)
			count = (count << 8) | d[p + 1 + k];
		p += 1 + nb;
	}
	if (type == 0xd) {
		if (count > UINT64_MAX / 2) {
			*why = "has more elements than the file holds";
			return -1;
		}
		count *= 2; /* keys, then values */
	}
	if (p > table || count > (table - p) / rsize) {
		*why = "has more elements than the file holds";
		return -1;
	}
	*refs = p;
	*nref = count;
	return 0;
}

static uint64_t bplist_ref(const unsigned char *d, uint64_t at, unsigned rsize)
{
	uint64_t r = 0;

	for (unsigned k = 0; k < rsize; k++)
		r = (r << 8) | d[at + k];
	return r;
}

/*
 * Depth-first walk from the top object with an explicit stack of at most
 * PLIST_MAX_DEPTH frames. Per object: 0 unseen, 1 on the stack, 2 done;
 * a done object keeps the size of its expanded subtree.
 */
static pkgflat_status bplist_shape(const unsigned char *d, uint64_t nobj,
    uint64_t top, uint64_t table, unsigned osize, unsigned rsize,
    const char *file, pkgflat_error *err)
{
	struct frame {
		uint64_t obj, refs, nref, next, nodes;
	} *stk = malloc(PLIST_MAX_DEPTH * sizeof *stk);
	unsigned char *state = calloc(nobj, 1);
	uint64_t *nodes = malloc(nobj * sizeof *nodes);
	pkgflat_status rc = PKGFLAT_OK;
	const char *why = NULL;
	char where[64];
	size_t sp = 0;

	if (!stk || !state || !nodes) {
		rc = fail_nomem(err);
		goto out;
	}
	uint64_t obj = top;
	for (;;) {
		/* Enter obj (unseen). */
		uint64_t off = bplist_off(d, table, osize, obj);
		struct frame f = { obj, 0, 0, 0, 1 };
		if (bplist_refs(d, table, off, rsize, &f.refs, &f.nref, &why)) {
			snprintf(where, sizeof where, "offset %llu",
			    (unsigned long long)off);
			rc = fail(err, PKGFLAT_E_FORMAT, file, where,
			    "binary property list object %llu %s",
			    (unsigned long long)obj, why);
			goto out;
		}
		if (f.nref) {
			if (sp == PLIST_MAX_DEPTH) {
				snprintf(where, sizeof where, "offset %llu",
				    (unsigned long long)off);
				rc = fail(err, PKGFLAT_E_FORMAT, file, where,
				    "binary property list nested more than %d deep",
				    PLIST_MAX_DEPTH);
				goto out;
			}
			state[obj] = 1;
			stk[sp++] = f;
		} else {
			state[obj] = 2;
			nodes[obj] = 1;
		}
		/* Go on with the innermost container that has a child left. */
		obj = UINT64_MAX;
		while (sp && obj == UINT64_MAX) {
			struct frame *t = &stk[sp - 1];
			if (t->next == t->nref) {
				state[t->obj] = 2;
				nodes[t->obj] = t->nodes;
				uint64_t n = t->nodes;
				if (--sp && (stk[sp - 1].nodes += n) > PLIST_MAX_NODES)
					goto bomb;
				continue;
			}
			uint64_t at = t->refs + t->next++ * rsize;
			uint64_t c = bplist_ref(d, at, rsize);
			if (c >= nobj || state[c] == 1) {
				snprintf(where, sizeof where, "offset %llu",
				    (unsigned long long)at);
				rc = fail(err, PKGFLAT_E_FORMAT, file, where, c >= nobj ?
				    "binary property list object %llu refers to object "
				    "%llu, past the %llu objects" :
				    "binary property list object %llu refers back to "
				    "object %llu, which contains it", (unsigned long long)t->obj,
				    (unsigned long long)c, (unsigned long long)nobj);
				goto out;
			}
			if (state[c] == 2)
				t->nodes += nodes[c];
			else
				obj = c;
			if (t->nodes > PLIST_MAX_NODES)
				goto bomb;
		}
		if (obj == UINT64_MAX)
			break;
	}
	goto out;
bomb:
	rc = fail(err, PKGFLAT_E_FORMAT, file, NULL,
	    "binary property list expands to more than %u nodes "
	    "(objects shared many times over)", PLIST_MAX_NODES);
out:
	free(stk);
	free(state);
	free(nodes);
	return rc;
}

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
		uint64_t off = bplist_off(d, table, osize, i);
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
	pkgflat_status rc = bplist_shape(d, nobj, top, table, osize, rsize,
	    file, err);
	if (rc)
		return rc;
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
