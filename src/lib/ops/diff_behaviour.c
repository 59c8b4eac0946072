/*
 * What Installer does besides the payload and scripts: a component's
 * metadata (location, flags, restart action, ...), the product's
 * requirement checks, and the Distribution's choices and JavaScript, a
 * legacy side read through the mapping convert uses (mapping.h).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "diff.h"
#include "dist.h"
#include "mapping.h"

/* ------------------------------------------------------------------ */
/* Metadata                                                           */

/* A field's value as Installer acts on it. */
static const char *field_value(const pkgflat_component *b, enum pkgflat_field f,
    char *buf, size_t size)
{
	const char *v = pkgflat_component_get(b, f);

	switch (f) {
	case PKGFLAT_F_IDENTIFIER:
		/* One without gets the fallback convert writes. */
		return pkgflat_component_identifier(b);
	case PKGFLAT_F_AUTH:
		/* Flat packages have no separate admin level: both ask for an
		 * administrator and run as root. */
		if (v && !strcmp(v, "admin"))
			v = "root";
		return v ? v : "none";
	case PKGFLAT_F_RESTART:
		return v ? v : "none";
	case PKGFLAT_F_INSTALL_LOCATION: {
		char *n = norm_root(v ? v : "/");
		snprintf(buf, size, "%s", n ? n : "");
		free(n);
		return buf;
	}
	case PKGFLAT_F_SELECTION:
		/* IFPkgFlagIsRequired and a "required" selection both leave the
		 * user no choice, as does a disabled, selected flat choice. */
		if (pkgflat_component_flag(b, PKGFLAT_FLAG_REQUIRED) > 0)
			return "required";
		return v ? v : "selected";
	default:
		return v;
	}
}

static const char *flag_value(const pkgflat_component *b, enum pkgflat_flag f)
{
	/* Not saying means no for every flag Installer acts on here. */
	return pkgflat_component_flag(b, f) > 0 ? "yes" : "no";
}

static void requirement_text(const pkgflat_requirement *q, strbuf *sb)
{
	sb_addf(sb, "%s %s", q->level ? q->level : "", q->spec_type ? q->spec_type : "");
	if (q->spec_argument)
		sb_addf(sb, " %s", q->spec_argument);
	if (q->spec_property)
		sb_addf(sb, " [%s]", q->spec_property);
	sb_addf(sb, " %s %s", q->test_operator ? q->test_operator : "",
	    q->test_object ? q->test_object : "");
}

void cmp_metadata(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const pkgflat_component *a, const pkgflat_component *b,
    unsigned int ignore, int renamed, int same_places)
{
	static const struct {
		enum pkgflat_field f;
		const char *name;
		unsigned int ignore;
	} fields[] = {
		{ PKGFLAT_F_IDENTIFIER, "identifier", 0 },
		{ PKGFLAT_F_VERSION, "version", PKGFLAT_DIFF_IGNORE_VERSION },
		{ PKGFLAT_F_INSTALL_LOCATION, "install-location", 0 },
		{ PKGFLAT_F_AUTH, "auth", 0 },
		{ PKGFLAT_F_RESTART, "restart", 0 },
		{ PKGFLAT_F_SELECTION, "selection", 0 },
	};
	static const struct {
		enum pkgflat_flag f;
		const char *name;
	} flags[] = {
		{ PKGFLAT_FLAG_RELOCATABLE, "relocatable" },
	};
	char ba[1024], bb[1024];

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		if ((fields[i].ignore & ignore) ||
		    (renamed && fields[i].f == PKGFLAT_F_IDENTIFIER) ||
		    (same_places && fields[i].f == PKGFLAT_F_INSTALL_LOCATION))
			continue;
		const char *va = field_value(a, fields[i].f, ba, sizeof ba);
		const char *vb = field_value(b, fields[i].f, bb, sizeof bb);
		if (strcmp(va ? va : "", vb ? vb : ""))
			diff_add(res, pair, id, "metadata", "changed", fields[i].name, NULL,
			    va, vb);
	}
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		const char *va = flag_value(a, flags[i].f);
		const char *vb = flag_value(b, flags[i].f);
		if (strcmp(va, vb))
			diff_add(res, pair, id, "metadata", "changed", flags[i].name, NULL,
			    va, vb);
	}
}

/* ------------------------------------------------------------------ */
/* The product: requirement checks and the metapackage's own scripts   */

/* The text of a flat package's Distribution <script> elements ("" when it
 * has none). */
static pkgflat_status dist_script(const pkgflat_package *p, strbuf *out,
    pkgflat_error *err)
{
	const char *path = pkgflat_component_get(pkgflat_package_root(p),
	    PKGFLAT_F_DIST_FILE);
	unsigned char *data = NULL;
	size_t len = 0;
	pkgflat_status rc;
	xmlDocPtr doc;

	if (!path)
		return PKGFLAT_OK;
	if ((rc = src_read(p->src, path, (size_t)16 << 20, &data, &len, err)))
		return rc;
	doc = xmlReadMemory((const char *)data, (int)len, path, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(data);
	if (!doc)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL, "not well-formed XML");
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name,
		    "script"))
			continue;
		xmlChar *t = xmlNodeGetContent(n);
		if (t)
			sb_adds(out, (const char *)t);
		xmlFree(t);
	}
	xmlFreeDoc(doc);
	return out->oom ? fail_nomem(err) : PKGFLAT_OK;
}

/* Every requirement of a legacy package: the root's and its components'. */
static void legacy_reqs(const pkgflat_package *p, ptrvec *bundles, ptrvec *reqs)
{
	const pkgflat_component *root = pkgflat_package_root(p);
	size_t n = pkgflat_package_component_count(p);

	for (size_t i = 0; i <= n; i++) {
		const pkgflat_component *b = i ? pkgflat_package_component(p, i - 1) : root;
		if (i && b == root)
			continue;
		for (size_t k = 0; k < pkgflat_component_requirement_count(b); k++) {
			pv_push(bundles, (void *)b);
			pv_push(reqs, (void *)pkgflat_component_requirement(b, k));
		}
	}
}

/*
 * Requirement checks. Legacy IFRequirementDicts become Distribution
 * JavaScript; a legacy requirement is kept when the flat side's script
 * holds the very statement convert writes for it. Two legacy packages
 * compare their requirement lists, two flat ones their scripts.
 */
pkgflat_status cmp_checks(pkgflat_diff_result *res, pkgflat_package *a,
    pkgflat_package *b, pkgflat_error *err)
{
	int fa = diff_is_flat(a), fb = diff_is_flat(b);
	strbuf sa = { 0 }, sb = { 0 };
	ptrvec ba = { 0 }, ra = { 0 }, bb = { 0 }, rb = { 0 };
	pkgflat_status rc = PKGFLAT_OK;

	if (fa && fb) {
		if (!(rc = dist_script(a, &sa, err)) && !(rc = dist_script(b, &sb, err)) &&
		    strcmp(sa.buf ? sa.buf : "", sb.buf ? sb.buf : "")) {
			unsigned char ha[32], hb[32];
			char xa[65], xb[65];
			EVP_Digest(sa.buf ? sa.buf : "", sa.len, ha, NULL, EVP_sha256(), NULL);
			EVP_Digest(sb.buf ? sb.buf : "", sb.len, hb, NULL, EVP_sha256(), NULL);
			diff_hex(ha, xa);
			diff_hex(hb, xb);
			diff_add(res, diff_product_pair(res), "(product)", "metadata", "changed",
			    "checks-script", NULL, xa, xb);
		}
		goto out;
	}
	legacy_reqs(fa ? b : a, fa ? &bb : &ba, fa ? &rb : &ra);
	if (!fa && !fb)
		legacy_reqs(b, &bb, &rb);
	else if ((rc = dist_script(fa ? a : b, fa ? &sa : &sb, err)))
		goto out;
	/* Each legacy requirement of one side, looked for on the other. */
	for (int side = 0; side < 2; side++) {
		ptrvec *bun = side ? &bb : &ba, *req = side ? &rb : &ra;
		ptrvec *obun = side ? &ba : &bb, *oreq = side ? &ra : &rb;
		strbuf *oscript = side ? &sa : &sb;
		int other_flat = side ? fa : fb;
		for (size_t i = 0; i < req->n; i++) {
			strbuf t = { 0 }, js = { 0 };
			int found = 0;
			requirement_text(req->v[i], &t);
			if (other_flat) {
				found = convert_requirement_js(bun->v[i], req->v[i], &js) >= 0 &&
				    js.buf && oscript->buf && strstr(oscript->buf, js.buf);
			} else {
				for (size_t j = 0; j < oreq->n && !found; j++) {
					strbuf u = { 0 };
					requirement_text(oreq->v[j], &u);
					found = u.buf && t.buf && !strcmp(u.buf, t.buf);
					sb_free(&u);
				}
				(void)obun;
			}
			if (!found)
				diff_add(res, diff_product_pair(res), "(product)", "metadata",
				    side ? "added" : "removed", "requirement", NULL,
				    side ? NULL : t.buf, side ? t.buf : NULL);
			sb_free(&t);
			sb_free(&js);
		}
	}
out:
	sb_free(&sa);
	sb_free(&sb);
	pv_free(&ba, NULL);
	pv_free(&bb, NULL);
	pv_free(&ra, NULL);
	pv_free(&rb, NULL);
	return res->oom && !rc ? fail_nomem(err) : rc;
}

/* ------------------------------------------------------------------ */
/* Behaviour: the Distribution's choices, checks and JavaScript        */

static const char *rename_id(void *ctx, const char *id)
{
	return diff_mapped(ctx, id);
}

/*
 * The behaviour facts of one side (dist.c): a flat product's from its
 * Distribution, a legacy package's from the Distribution convert writes
 * for it (the .dist carried over, or the one made of Info.plist keys), so
 * that convert and diff read the legacy package through one mapping.
 * A flat component package has no Distribution (*have 0); nor has a legacy
 * package convert would refuse, whose other differences still count.
 */
static pkgflat_status side_behaviour(pkgflat_package *p, const
    pkgflat_diff_options *rename, ptrvec *facts, int *have, pkgflat_error *err)
{
	const pkgflat_component *root = pkgflat_package_root(p);
	enum pkgflat_bundle_kind k = pkgflat_component_kind(root);
	xmlDocPtr doc = NULL;
	pkgflat_status rc = PKGFLAT_OK;

	*have = 0;
	if (k == PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return PKGFLAT_OK;
	if (k == PKGFLAT_BUNDLE_PRODUCT) {
		const char *path = pkgflat_component_get(root, PKGFLAT_F_DIST_FILE);
		if (!path)
			return PKGFLAT_OK;
		rc = dist_load(p, path, &doc, err);
	} else {
		pkgflat_error e;
		char *text = NULL;
		size_t len = 0;
		pkgflat_error_clear(&e);
		if (!convert_distribution(p, &text, &len, &e))
			rc = dist_parse((const unsigned char *)text, len, "Distribution",
			    &doc, err);
		else if (e.status == PKGFLAT_E_NOMEM)
			rc = fail_nomem(err);
		free(text);
	}
	if (!rc && doc) {
		rc = dist_behaviour(doc, rename ? rename_id : NULL, (void *)rename,
		    facts, err);
		*have = !rc;
	}
	xmlFreeDoc(doc);
	return rc;
}

static const struct dist_fact *fact_get(const ptrvec *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(((struct dist_fact *)f->v[i])->key, key))
			return f->v[i];
	return NULL;
}

/* "choice \"ID\" attr" -> the choice's key prefix, or 0 when not one. */
static size_t choice_prefix(const char *key)
{
	const char *q;

	if (strncmp(key, "choice \"", 8) || !(q = strstr(key + 8, "\" ")))
		return 0;
	return (size_t)(q - key) + 2;
}

static int has_choice(const ptrvec *f, const char *key, size_t n)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strncmp(((struct dist_fact *)f->v[i])->key, key, n))
			return 1;
	return 0;
}

static void cmp_facts(pkgflat_diff_result *res, const ptrvec *fa,
    const ptrvec *fb, int skip_checks, int skip_script)
{
	pkgflat_diff_pair *pp = diff_product_pair(res);

	for (int side = 0; side < 2; side++) {
		const ptrvec *mine = side ? fb : fa, *other = side ? fa : fb;
		for (size_t i = 0; i < mine->n; i++) {
			const struct dist_fact *f = mine->v[i];
			size_t cp = choice_prefix(f->key);
			int script = !strcmp(f->key, "script");
			int check = script || str_has_suffix(f->key, "-check script");
			if ((skip_checks && check) || (skip_script && script))
				continue;
			if (cp && !has_choice(other, f->key, cp)) {
				/* One difference per choice, named by its id line. */
				if (strcmp(f->key + cp, "selected"))
					continue;
				char *id = pf_strndup(f->key + 8, cp - 10);
				diff_add(res, pp, "(product)", "behaviour", side ? "added" :
				    "removed", "choice", NULL, side ? NULL : id,
				    side ? id : NULL);
				free(id);
				continue;
			}
			const struct dist_fact *g = fact_get(other, f->key);
			if (side || diff_same_str(f->value, g ? g->value : NULL))
				continue;
			const char *va = f->value, *vb = g ? g->value : NULL;
			diff_add(res, pp, "(product)", "behaviour", !vb ? "removed" : !va ?
			    "added" : "changed", diff_keep(res, f->key), NULL, va, vb);
		}
	}
}

/* The two sides' choice trees, check calls and <script>s. Two flat
 * products' scripts are cmp_checks()'s; the other facts are compared
 * for any pair with a Distribution on both sides. */
pkgflat_status cmp_behaviour(pkgflat_diff_result *res,
    pkgflat_package *a, pkgflat_package *b, const pkgflat_diff_options *o,
    pkgflat_error *err)
{
	ptrvec fa = { 0 }, fb = { 0 };
	int ha = 0, hb = 0;
	pkgflat_status rc = side_behaviour(a, o, &fa, &ha, err);

	if (!rc && ha)
		rc = side_behaviour(b, NULL, &fb, &hb, err);
	if (!rc && ha && hb)
		cmp_facts(res, &fa, &fb, (o->ignore & PKGFLAT_DIFF_IGNORE_CHECKS) != 0,
		    diff_is_flat(a) && diff_is_flat(b));
	pv_free(&fa, dist_fact_free);
	pv_free(&fb, dist_fact_free);
	return !rc && res->oom ? fail_nomem(err) : rc;
}
