/*
 * The result of a comparison: the differences and pairs it holds, the
 * public calls that read them, and the small helpers every part of the
 * comparison shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

const char *diff_keep(pkgflat_diff_result *r, const char *s)
{
	char *c;

	if (!s)
		return NULL;
	if (!(c = pf_strdup(s)) || pv_push(&r->strings, c)) {
		free(c);
		r->oom = 1;
		return NULL;
	}
	return c;
}

void diff_add(pkgflat_diff_result *r, pkgflat_diff_pair *p,
    const char *component, const char *category, const char *change,
    const char *attribute, const char *path, const char *a, const char *b)
{
	pkgflat_difference *d = calloc(1, sizeof *d);

	if (!d || pv_push(&r->diffs, d)) {
		free(d);
		r->oom = 1;
		return;
	}
	d->component = diff_keep(r, component);
	d->category = category;
	d->change = change;
	d->attribute = attribute;
	d->path = diff_keep(r, path);
	d->a = diff_keep(r, a);
	d->b = diff_keep(r, b);
	if (p)
		p->differences++;
}

void diff_hex(const unsigned char *sha, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

int diff_same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

const char *diff_mapped(const pkgflat_diff_options *o, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	for (size_t i = 0; id && i < o->map_count; i++)
		if (!strncmp(o->map[i], id, n) && o->map[i][n] == '=')
			return o->map[i] + n + 1;
	return id;
}

pkgflat_diff_pair *diff_product_pair(pkgflat_diff_result *res)
{
	static const char id[] = "(product)";
	pkgflat_diff_pair *p;

	if (res->product)
		return res->product;
	if (!(p = calloc(1, sizeof *p)) || pv_push(&res->pairs, p)) {
		free(p);
		res->oom = 1;
		return NULL;
	}
	p->a = p->b = diff_keep(res, id);
	return res->product = p;
}

void pkgflat_diff_result_free(pkgflat_diff_result *r)
{
	if (!r)
		return;
	pv_free(&r->diffs, free);
	pv_free(&r->pairs, free);
	pv_free(&r->strings, free);
	free(r);
}

size_t pkgflat_diff_count(const pkgflat_diff_result *r)
{
	return r ? r->diffs.n : 0;
}

const pkgflat_difference *pkgflat_diff_get(const pkgflat_diff_result *r,
    size_t i)
{
	return r && i < r->diffs.n ? r->diffs.v[i] : NULL;
}

int pkgflat_diff_equivalent(const pkgflat_diff_result *r)
{
	for (size_t i = 0; r && i < r->diffs.n; i++)
		if (strcmp(((pkgflat_difference *)r->diffs.v[i])->category,
		    "within-a") && strcmp(((pkgflat_difference *)r->diffs.v[i])->
		    category, "note") &&
		    !((pkgflat_difference *)r->diffs.v[i])->inherited)
			return 0;
	return 1;
}

size_t pkgflat_diff_pair_count(const pkgflat_diff_result *r)
{
	return r ? r->pairs.n : 0;
}

const pkgflat_diff_pair *pkgflat_diff_pair_get(const pkgflat_diff_result *r,
    size_t i)
{
	return r && i < r->pairs.n ? r->pairs.v[i] : NULL;
}

unsigned int pkgflat_diff_ignore_bit(const char *name)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "mtime", PKGFLAT_DIFF_IGNORE_MTIME },
		{ "owner", PKGFLAT_DIFF_IGNORE_OWNER },
		{ "mode", PKGFLAT_DIFF_IGNORE_MODE },
		{ "content", PKGFLAT_DIFF_IGNORE_CONTENT },
		{ "links", PKGFLAT_DIFF_IGNORE_LINKS },
		{ "bom", PKGFLAT_DIFF_IGNORE_BOM },
		{ "scripts", PKGFLAT_DIFF_IGNORE_SCRIPTS },
		{ "version", PKGFLAT_DIFF_IGNORE_VERSION },
		{ "checks", PKGFLAT_DIFF_IGNORE_CHECKS },
	};

	for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
		if (!strcmp(name, names[i].name))
			return names[i].bit;
	return 0;
}

const char *pkgflat_difference_text(const pkgflat_difference *d, char *buf,
    size_t size)
{
	int within = !strncmp(d->category, "within-", 7);
	int changed = !strcmp(d->change, "changed");
	size_t n = 0;
	int w;

#define PUT(...) do { \
	w = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, \
	    __VA_ARGS__); \
	n += w > 0 ? (size_t)w : 0; \
} while (0)
	if (!size)
		return buf;
	buf[0] = 0;
	if (within)
		PUT("within %c%s: ", d->category[7] == 'a' ? 'A' : 'B',
		    d->inherited ? " (as in A)" : "");
	if (!strcmp(d->category, "note") && !strcmp(d->attribute, "ownership"))
		PUT("note: owners changed by the conversion's ownership policy, "
		    "%s -> %s, first: %s", d->a, d->b, d->path);
	else if (!strcmp(d->category, "component"))
		PUT("%s component: %s", d->change, d->a ? d->a : d->b);
	else if (within && !strcmp(d->attribute, "copies"))
		PUT("stored %s times in the payload: %s", d->b, d->path);
	else if (within && !changed)
		PUT("%s only in the %s: %s", d->attribute,
		    !strcmp(d->change, "removed") ? "BOM" : "payload", d->path);
	else if (within)
		PUT("BOM and payload disagree on %s %s -> %s: %s", d->attribute,
		    d->a, d->b, d->path);
	else if (!strcmp(d->category, "note") && !strcmp(d->attribute, "renamed"))
		PUT("note: script %s shipped byte-identical as %s (renamed, not "
		    "wrapped: installs the same)", d->a, d->b);
	else if (!strcmp(d->category, "script") &&
	    !strcmp(d->attribute, "legacy-layout"))
		PUT("script %s shipped as %s needs the legacy bundle: %s", d->path,
		    d->a, d->b);
	else if (!strcmp(d->category, "behaviour") && changed)
		PUT("changed %s: %s%s%s -> %s%s%s", d->attribute, d->a ? "\"" : "",
		    d->a ? d->a : "(none)", d->a ? "\"" : "", d->b ? "\"" : "",
		    d->b ? d->b : "(none)", d->b ? "\"" : "");
	else if (!strcmp(d->category, "behaviour"))
		PUT("%s %s: \"%s\"", d->change, d->attribute, d->a ? d->a : d->b);
	else if (!strcmp(d->category, "script") && !strcmp(d->attribute, "wrapper"))
		PUT("script not run by the wrapper: %s", d->path);
	else if (!strcmp(d->category, "script"))
		PUT("%s script%s: %s", d->change, changed ? " content" : "", d->path);
	else if (!changed && d->path)
		PUT("%s %s: %s", d->change, d->attribute, d->path);
	else if (!changed)
		PUT("%s %s: %s", d->change, d->attribute, d->a ? d->a : d->b);
	else if (!strcmp(d->attribute, "hardlink"))
		PUT("changed hard-link group (first member %s -> %s): %s", d->a,
		    d->b, d->path);
	else if (d->path)
		PUT("changed %s %s -> %s: %s", d->attribute, d->a ? d->a : "-",
		    d->b ? d->b : "-", d->path);
	else
		PUT("changed %s %s -> %s", d->attribute, d->a ? d->a : "-",
		    d->b ? d->b : "-");
#undef PUT
	if (n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}
