/*
 * Comparing what two packages install.
 *
 * Either side is anything pkgflat_package_open() reads: a legacy bundle, a
 * flat product or component package, or a directory expanded from one.
 * Components pair up by identifier (or through OLD=NEW renames). For each
 * pair both payloads are walked once, in two threads, with the SHA-256 of
 * every regular file, into arrays of records keyed by the full install
 * path (install location joined with the payload path); a merge pass over
 * the sorted arrays then names every difference. Each side's BOM is set
 * against its own payload the same way, since Installer trusts the BOM for
 * some decisions and the payload for others. Memory grows with the number
 * of entries, never with file bytes.
 *
 * This file pairs the components and runs each comparison: the payloads
 * (diff_payload.c), metadata, checks and the Distribution's behaviour
 * (diff_behaviour.c), scripts (diff_scripts.c), into the result
 * (diff_result.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

/* ------------------------------------------------------------------ */
/* Pairing components                                                 */

static const char *bundle_id(const pkgflat_component *b)
{
	const char *id = pkgflat_component_identifier(b);

	return id ? id : pkgflat_component_get(b, PKGFLAT_F_NAME);
}

/* The ownership policy a conversion between a and b followed: given, or
 * stated by the flat side's generator-version; -1 when neither says or
 * both sides are alike. */
static int pair_policy(const pkgflat_diff_options *o, const pkgflat_component *a,
    const pkgflat_component *b, int *legacy_a)
{
	int fa = pkgflat_component_kind(a) == PKGFLAT_BUNDLE_FLAT_COMPONENT;
	int fb = pkgflat_component_kind(b) == PKGFLAT_BUNDLE_FLAT_COMPONENT;
	char name[32];

	*legacy_a = !fa;
	if (fa == fb)
		return -1;
	if (o->ownership_given)
		return (int)o->ownership;
	const char *gen = pkgflat_component_get(fa ? a : b, PKGFLAT_F_CREATOR);
	const char *p = gen && !strncmp(gen, "pkgflat-", 8) ?
	    strstr(gen, "(ownership ") : NULL;
	if (!p)
		return -1;
	p += strlen("(ownership ");
	snprintf(name, sizeof name, "%.*s", (int)strcspn(p, ")"), p);
	return pkgflat_ownership_from_name(name);
}

/* One note for all the owners the policy changed, A's value first. */
static void note_policy(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, struct cmp *c)
{
	const uint32_t *x = c->legacy_a ? c->norm_from : c->norm_to;
	const uint32_t *y = c->legacy_a ? c->norm_to : c->norm_from;
	char va[32], vb[128];

	if (!c->norm)
		return;
	snprintf(va, sizeof va, "%u:%u", x[0], x[1]);
	snprintf(vb, sizeof vb, "%u:%u (ownership %s, %llu entr%s)", y[0], y[1],
	    pkgflat_ownership_name((enum pkgflat_ownership)c->policy),
	    (unsigned long long)c->norm, c->norm == 1 ? "y" : "ies");
	diff_add(res, pair, id, "note", "changed", "ownership", c->norm_path, va, vb);
	pair->notes++;
}

static pkgflat_status diff_pair(pkgflat_diff_result *res,
    const pkgflat_diff_options *o, const pkgflat_component *a,
    const pkgflat_component *b, pkgflat_error *err)
{
	pkgflat_diff_pair *pair = calloc(1, sizeof *pair);
	const char *ida = a ? bundle_id(a) : NULL, *idb = b ? bundle_id(b) : NULL;
	const char *id = ida ? ida : idb;
	struct side sa = { .b = a, .want_bom = !(o->ignore & PKGFLAT_DIFF_IGNORE_BOM) };
	struct side sb = { .b = b, .want_bom = sa.want_bom };
	pkgflat_status rc = PKGFLAT_OK;
	int payload = o->only != PKGFLAT_DIFF_ONLY_METADATA;

	if (!pair || pv_push(&res->pairs, pair)) {
		free(pair);
		return fail_nomem(err);
	}
	pair->a = diff_keep(res, ida);
	pair->b = diff_keep(res, idb);
	if (!a || !b) {
		diff_add(res, pair, id, "component", a ? "removed" : "added",
		    "component", NULL, ida, idb);
		return res->oom ? fail_nomem(err) : PKGFLAT_OK;
	}
	int rel = 0, moved = 0;
	if (payload) {
		/* Both payloads at once: decoding is the cost, and there are two. */
		pthread_t t;
		int threaded = pthread_create(&t, NULL, read_side, &sb) == 0;
		read_side(&sa);
		if (threaded)
			pthread_join(t, NULL);
		else
			read_side(&sb);
		if (sa.rc || sb.rc) {
			const pkgflat_error *e = sa.rc ? &sa.err : &sb.err;
			rc = sa.rc ? sa.rc : sb.rc;
			if (err)
				*err = *e;
			goto out;
		}
		pair->entries_a = sa.payload.n;
		pair->entries_b = sb.payload.n;
		/*
		 * Different install locations: the same files may still land in
		 * the same places (location "/" and payload "./Library/X" against
		 * location "/Library" and "./X"), or the whole payload moved.
		 * Pair records the way that matches more of them; when the full
		 * paths match, the location change installs nothing differently.
		 */
		if ((moved = strcmp(sa.payload.root, sb.payload.root) != 0)) {
			size_t full = rset_common(&sa.payload, &sb.payload);
			rset_key(&sa.payload, 1);
			rset_key(&sb.payload, 1);
			rel = rset_common(&sa.payload, &sb.payload) > full;
			if (!rel) {
				rset_key(&sa.payload, 0);
				rset_key(&sb.payload, 0);
			} else {
				rset_key(&sa.bom, 1);
				rset_key(&sb.bom, 1);
			}
		}
	}
	if (o->only != PKGFLAT_DIFF_ONLY_PAYLOAD) {
		cmp_metadata(res, pair, id, a, b, o->ignore, strcmp(ida, idb) != 0,
		    payload && moved && !rel);
		if (!(o->ignore & PKGFLAT_DIFF_IGNORE_SCRIPTS) &&
		    (rc = cmp_scripts(res, pair, id, a, b, err)))
			goto out;
	}
	if (!payload) {
		rc = res->oom ? fail_nomem(err) : PKGFLAT_OK;
		goto out;
	}
	struct cmp c = { res, pair, id, "payload", o->ignore, rel, -1, 0, 0,
	    NULL, { 0, 0 }, { 0, 0 } };
	c.policy = pair_policy(o, a, b, &c.legacy_a);
	cmp_sets(&c, &sa.payload, &sb.payload);
	note_policy(res, pair, id, &c);
	free(c.norm_path);
	if (sa.want_bom) {
		size_t ka = res->diffs.n, kb, kend;
		c.category = "within-a";
		if (pkgflat_component_has_bom(a) && pkgflat_component_has_payload(a))
			cmp_sets(&c, &sa.bom, &sa.payload);
		kb = res->diffs.n;
		c.category = "within-b";
		if (pkgflat_component_has_bom(b) && pkgflat_component_has_payload(b))
			cmp_sets(&c, &sb.bom, &sb.payload);
		kend = res->diffs.n;
		mark_inherited(res, ka, kb, kend);
		for (size_t k = ka; k < kend; k++) {
			const pkgflat_difference *d = res->diffs.v[k];
			pair->notes += k < kb || d->inherited;
		}
	}
	if (res->oom)
		rc = fail_nomem(err);
out:
	rset_free(&sa.payload);
	rset_free(&sa.bom);
	rset_free(&sb.payload);
	rset_free(&sb.bom);
	return rc;
}

pkgflat_status pkgflat_diff(pkgflat_package *a, pkgflat_package *b,
    const pkgflat_diff_options *opt, pkgflat_diff_result **result,
    pkgflat_error *err)
{
	static const pkgflat_diff_options defaults = { 0 };
	const pkgflat_diff_options *o = opt ? opt : &defaults;
	pkgflat_diff_result *res = calloc(1, sizeof *res);
	size_t na = pkgflat_package_component_count(a);
	size_t nb = pkgflat_package_component_count(b);
	char *used = calloc(nb ? nb : 1, 1);
	char *used_a = calloc(na ? na : 1, 1);
	pkgflat_status rc = PKGFLAT_OK;

	*result = NULL;
	if (!res || !used || !used_a) {
		free(res);
		free(used);
		free(used_a);
		return fail_nomem(err);
	}
	for (size_t i = 0; i < o->map_count; i++)
		if (!strchr(o->map[i], '=') || o->map[i][0] == '=') {
			rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
			    "component map \"%s\" is not OLD=NEW", o->map[i]);
			goto out;
		}
	/* A's order first, then what only B has, in B's order. */
	for (size_t i = 0; i < na && !rc; i++) {
		const pkgflat_component *ca = pkgflat_package_component(a, i);
		const char *want = diff_mapped(o, bundle_id(ca));
		const pkgflat_component *cb = NULL;
		for (size_t j = 0; j < nb; j++) {
			const pkgflat_component *x = pkgflat_package_component(b, j);
			if (!used[j] && want && !strcmp(bundle_id(x), want)) {
				used[j] = used_a[i] = 1;
				cb = x;
				break;
			}
		}
		/* A flat side's payload-free leftovers may be a legacy
		 * metapackage's own scripts: compared with the product's. */
		if (cb || !meta_scripts(a, ca, b))
			rc = diff_pair(res, o, ca, cb, err);
	}
	for (size_t j = 0; j < nb && !rc; j++)
		if (!used[j] && !meta_scripts(b, pkgflat_package_component(b, j), a))
			rc = diff_pair(res, o, NULL, pkgflat_package_component(b, j), err);
	if (!rc && o->only != PKGFLAT_DIFF_ONLY_PAYLOAD) {
		if (!(o->ignore & PKGFLAT_DIFF_IGNORE_SCRIPTS))
			rc = cmp_product_scripts(res, a, used_a, b, used, err);
		if (!rc && !(o->ignore & PKGFLAT_DIFF_IGNORE_CHECKS))
			rc = cmp_checks(res, a, b, err);
		if (!rc)
			rc = cmp_behaviour(res, a, b, o, err);
	}
	if (!rc && res->oom)
		rc = fail_nomem(err);
out:
	free(used_a);
	free(used);
	if (rc) {
		pkgflat_diff_result_free(res);
		return rc;
	}
	*result = res;
	return PKGFLAT_OK;
}
