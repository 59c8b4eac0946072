/*
 * Distribution scripts (docs/formats/legacy-dist.md; legacy-format.md §7,
 * flat-format.md §3.6).
 *
 * A Tiger distribution metapackage (PackageMaker 2/3: Foo.mpkg/Contents/
 * <name>.dist, no Info.plist) and a hybrid one (an Info.plist metapackage
 * that also has a .dist, which Installer on 10.4 and later uses) keep their
 * behaviour in the .dist: choices whose selected/enabled/visible are
 * JavaScript calls into its <script>, hidden choices, installation and
 * volume checks, localized titles. The flat Distribution is the same
 * language, so the .dist is carried whole:
 *
 *   <installer-script minSpecVersion="1.000000">  -> <installer-gui-script
 *                                                     minSpecVersion="1">
 *   <pkg-ref id=X ...>file:./Contents/Packages/X.pkg</pkg-ref>
 *                    -> <pkg-ref id=IDENTIFIER version= installKBytes=
 *                         auth= onConclusion=>#X.pkg</pkg-ref>
 *   <choice><pkg-ref id=X/></choice> -> the same ids renamed
 *   elements the flat format does not have -> dropped, reported
 *
 * and what convert adds of its own (checks from IFRequirementDicts, the
 * metapackage's scripts as hidden choices, --title/--min-os/--host-arch)
 * is added beside it, never in place of it.
 *
 * The behaviour reader turns any flat Distribution into the facts diff
 * compares; for a legacy package diff reads them from the Distribution
 * convert would write, so both go through this one mapping.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dist.h"

#define MAX_DIST (16u << 20)

/* Every element of Apple's Distribution XML reference; anything else
 * Installer does not read. */
static const char *const flat_elements[] = {
	"allowed-os-versions", "app", "background", "background-darkAqua",
	"bundle", "bundle-version", "choice", "choices-outline", "conclusion",
	"domains", "installation-check", "installer-gui-script", "license",
	"line", "localization", "locator", "must-close", "options",
	"os-version", "pkg-ref", "product", "ram", "readme", "relocate",
	"required-bundles", "required-claimed-graphics", "required-graphics",
	"script", "search", "strings", "title", "volume-check", "welcome",
};

static int is_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	    !strcmp((const char *)n->name, name);
}

static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? pf_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static int has_text(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	int r = t && t[strspn((const char *)t, " \t\r\n")];

	xmlFree(t);
	return r;
}

static int too_deep(xmlNodePtr n, int depth)
{
	if (depth > DIST_MAX_DEPTH)
		return 1;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && too_deep(c, depth + 1))
			return 1;
	return 0;
}

pkgflat_status dist_parse(const unsigned char *data, size_t len,
    const char *name, xmlDocPtr *out, pkgflat_error *err)
{
	xmlParserCtxtPtr ctx;
	xmlDocPtr doc;
	pkgflat_status rc = PKGFLAT_OK;
	char where[64];

	*out = NULL;
	if (len > MAX_DIST)
		return fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "distribution script larger than %u bytes", MAX_DIST);
	if (!(ctx = xmlNewParserCtxt()))
		return fail_nomem(err);
	/* No NOENT/DTDLOAD: entities are never fetched nor substituted. */
	doc = xmlCtxtReadMemory(ctx, (const char *)data, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[256];
		snprintf(msg, sizeof msg, "%s", e && e->message ? e->message :
		    "not well-formed");
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		snprintf(where, sizeof where, "line %d", e ? e->line : 0);
		rc = fail(err, PKGFLAT_E_FORMAT, name, where,
		    "malformed distribution script: %s", msg);
		goto out;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || (strcmp((const char *)root->name, "installer-script") &&
	    strcmp((const char *)root->name, "installer-gui-script"))) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "root element",
		    "<%s>, not <installer-script> or <installer-gui-script>",
		    root ? (const char *)root->name : "");
		goto out;
	}
	/* Entity declarations have no place in a distribution script, and
	 * expanding them would let a small file grow without bound. */
	if ((doc->intSubset && doc->intSubset->entities) ||
	    (doc->extSubset && doc->extSubset->entities)) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, "DOCTYPE",
		    "entity declarations are not allowed in a distribution script");
		goto out;
	}
	if (too_deep(root, 1)) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "elements nested more than %d deep", DIST_MAX_DEPTH);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	return rc;
}

pkgflat_status dist_load(pkgflat_package *pkg, const char *path,
    xmlDocPtr *out, pkgflat_error *err)
{
	unsigned char *data = NULL;
	size_t len = 0;
	char *name = src_display(pkg->src, path);
	pkgflat_status rc;

	*out = NULL;
	if (!name)
		return fail_nomem(err);
	if (!(rc = src_read(pkg->src, path, MAX_DIST, &data, &len, err)))
		rc = dist_parse(data, len, name, out, err);
	free(data);
	free(name);
	return rc;
}

char *dist_url_path(const char *url)
{
	const char *u = url;
	char *dec;

	while (*u == ' ' || *u == '\n' || *u == '\t' || *u == '\r')
		u++;
	if (!strncmp(u, "file:", 5))
		u += 5;
	if (u[0] == '#')
		u++;
	dec = xmlURIUnescapeString(u, 0, NULL);
	if (!dec)
		return NULL;
	size_t n = strlen(dec);
	while (n && (dec[n - 1] == ' ' || dec[n - 1] == '\n' || dec[n - 1] == '\t'
	    || dec[n - 1] == '\r'))
		dec[--n] = '\0';
	char *out = pf_strdup(dec);
	xmlFree(dec);
	return out;
}

const char *dist_choice_selection(xmlNodePtr c)
{
	char *en = prop(c, "enabled"), *sen = prop(c, "start_enabled");
	char *sel = prop(c, "selected"), *ssel = prop(c, "start_selected");
	const char *r = "selected";

	if ((en && !strcasecmp(en, "false")) || (sen && !strcasecmp(sen, "false"))) {
		if (!(sel && !strcasecmp(sel, "false")) &&
		    !(ssel && !strcasecmp(ssel, "false")))
			r = "required";
	} else if ((sel && !strcasecmp(sel, "false")) ||
	    (ssel && !strcasecmp(ssel, "false")))
		r = "unselected";
	free(en);
	free(sen);
	free(sel);
	free(ssel);
	return r;
}

const char *dist_ref_selection(xmlNodePtr gui, const char *id)
{
	for (xmlNodePtr c = gui ? gui->children : NULL; c && id; c = c->next) {
		if (!is_elem(c, "choice"))
			continue;
		for (xmlNodePtr r = c->children; r; r = r->next) {
			char *rid = is_elem(r, "pkg-ref") ? prop(r, "id") : NULL;
			int hit = rid && !strcmp(rid, id);
			free(rid);
			if (hit)
				return dist_choice_selection(c);
		}
	}
	return "selected";
}

/* ------------------------------------------------------------------ */
/* Carrying a .dist over                                              */

struct carry {
	pkgflat_package *pkg;
	const pkgflat_component *root;
	const struct dist_comp *comps;
	size_t ncomps;
	dist_note_fn note;
	void *ctx;
	char *name;       /* the .dist, for messages */
	char *used;       /* comps named by a pkg-ref URL */
	pkgflat_error *err;
	int oom;
};

static void note(struct carry *k, const char *legacy, const char *value,
    const char *flat, const char *why)
{
	if (k->note)
		k->note(k->ctx, legacy, value, flat, why, 0);
}

static void vnotef(struct carry *k, int warn, const char *legacy,
    const char *value, const char *flat, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (k->note)
		k->note(k->ctx, legacy, value, flat, buf, warn);
}

static void notef(struct carry *k, const char *legacy, const char *value,
    const char *flat, const char *fmt, ...) PF_PRINTF(5, 6);
static void notef(struct carry *k, const char *legacy, const char *value,
    const char *flat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnotef(k, 0, legacy, value, flat, fmt, ap);
	va_end(ap);
}

/* A decision the user should hear about although nothing is dropped. */
static void warnf(struct carry *k, const char *legacy, const char *value,
    const char *flat, const char *fmt, ...) PF_PRINTF(5, 6);
static void warnf(struct carry *k, const char *legacy, const char *value,
    const char *flat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnotef(k, 1, legacy, value, flat, fmt, ap);
	va_end(ap);
}

static void set_prop(struct carry *k, xmlNodePtr n, const char *name,
    const char *value)
{
	if (value && !xmlSetProp(n, BAD_CAST name, BAD_CAST value))
		k->oom = 1;
}

/* Is bundle x b itself or inside it? */
static int within(const pkgflat_component *b, const pkgflat_component *x)
{
	if (b == x)
		return 1;
	for (size_t i = 0; i < pkgflat_component_child_count(b); i++)
		if (within(pkgflat_component_child(b, i), x))
			return 1;
	return 0;
}

static const pkgflat_component *bundle_at(const pkgflat_component *b,
    const char *path)
{
	const char *p = pkgflat_component_get(b, PKGFLAT_F_PATH);

	if (p && !strcmp(p, path))
		return b;
	for (size_t i = 0; i < pkgflat_component_child_count(b); i++) {
		const pkgflat_component *r = bundle_at(pkgflat_component_child(b, i), path);
		if (r)
			return r;
	}
	return NULL;
}

/*
 * The bundle a pkg-ref URL names, resolved as the reader does (relative to
 * the metapackage, then to its Contents/Packages), or failing that the
 * component whose identifier is the pkg-ref's id.
 */
static const pkgflat_component *ref_bundle(struct carry *k, const char *url,
    const char *id)
{
	const char *top = pkgflat_component_get(k->root, PKGFLAT_F_PATH);
	char *rel = url ? dist_url_path(url) : NULL;
	const pkgflat_component *r = NULL;

	if (rel && rel[0]) {
		char *p = path_join(top ? top : "", rel);
		char *p2 = pf_asprintf("%s%sContents/Packages/%s", top ? top : "",
		    top && top[0] ? "/" : "", rel);
		char *p2n = p2 ? path_normalize(p2) : NULL;
		if (p)
			r = bundle_at(k->root, p);
		if (!r && p2n)
			r = bundle_at(k->root, p2n);
		free(p);
		free(p2);
		free(p2n);
	}
	free(rel);
	for (size_t i = 0; !r && id && i < k->ncomps; i++) {
		const char *bid = pkgflat_component_get(k->comps[i].b,
		    PKGFLAT_F_IDENTIFIER);
		if (!k->comps[i].scripts_only && bid && !strcmp(bid, id))
			r = k->comps[i].b;
	}
	return r;
}

/* The components made of bundle b, in product order. */
static size_t comps_of(struct carry *k, const pkgflat_component *b, size_t *idx,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; b && i < k->ncomps && n < max; i++)
		if (!k->comps[i].scripts_only && within(b, k->comps[i].b))
			idx[n++] = i;
	return n;
}

/* An old pkg-ref id and the components it stands for now. */
struct ref_map {
	char *old;
	size_t *idx;
	size_t n;
	int gone;         /* named a package the product does not hold */
};

static void ref_map_free(void *p)
{
	struct ref_map *m = p;

	if (m) {
		free(m->old);
		free(m->idx);
		free(m);
	}
}

static struct ref_map *find_map(ptrvec *maps, const char *id)
{
	for (size_t i = 0; id && i < maps->n; i++) {
		struct ref_map *m = maps->v[i];
		if (!strcmp(m->old, id))
			return m;
	}
	return NULL;
}

static int same_class(const char *a, const char *b)
{
	int ra = a && strcasecmp(a, "none"), rb = b && strcasecmp(b, "none");

	return ra == rb;
}

/* A pkg-ref standing for comps[i]: id, URL (when it had one) and the
 * attributes Installer reads off it, taken from the component. */
static void point_ref(struct carry *k, xmlNodePtr r, size_t i, int url)
{
	const struct dist_comp *c = &k->comps[i];
	char *old = prop(r, "id");

	set_prop(k, r, "id", c->id);
	if (url && old && strcmp(old, c->id))
		notef(k, "pkg-ref id", old, c->id, "%s: the component's identifier, "
		    "here and in every choice", c->name);
	free(old);
	if (!url)
		return;
	static const char *const attrs[] = { "version", "installKBytes", "auth",
	    "onConclusion" };
	char kb[32];
	snprintf(kb, sizeof kb, "%llu", (unsigned long long)c->kbytes);
	const char *now[] = { c->version, kb, c->auth, c->on_conclusion };
	for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
		char *was = prop(r, attrs[a]);
		int same = !was || !strcasecmp(was, now[a]) || (a == 2 &&
		    same_class(was, now[a]));
		if (!same) {
			char what[64];
			snprintf(what, sizeof what, "pkg-ref %s", attrs[a]);
			notef(k, what, was, now[a], a == 1 ? "%s: recomputed from the "
			    "payload" : "%s: the component's value, as in its "
			    "PackageInfo", c->name);
		}
		free(was);
		set_prop(k, r, attrs[a], now[a]);
	}
	strbuf u = { 0 };
	sb_adds(&u, "#");
	for (const char *s = c->name; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch))
			sb_add(&u, s, 1);
		else
			sb_addf(&u, "%%%02X", ch);
	}
	if (u.oom)
		k->oom = 1;
	else
		xmlNodeSetContent(r, BAD_CAST u.buf);
	sb_free(&u);
	k->used[i] = 1;
}

/* Drop what the flat format does not have, naming each. */
static void prune(struct carry *k, xmlNodePtr n)
{
	xmlNodePtr next;

	for (xmlNodePtr c = n->children; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE) {
			int known = 0;
			for (size_t i = 0; i < sizeof flat_elements /
			    sizeof *flat_elements && !known; i++)
				known = !strcmp((const char *)c->name, flat_elements[i]);
			if (!known) {
				char what[300], where[64];
				snprintf(what, sizeof what, "<%s>", (const char *)c->name);
				snprintf(where, sizeof where, "line %ld",
				    (long)xmlGetLineNo(c));
				notef(k, what, where, NULL, "not an element of the flat "
				    "Distribution format: Installer would ignore it");
				xmlUnlinkNode(c);
				xmlFreeNode(c);
				continue;
			}
			prune(k, c);
		} else if (c->type == XML_DTD_NODE) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

/* Point every pkg-ref at the components convert writes. */
static void rewrite_refs(struct carry *k, xmlNodePtr gui, ptrvec *maps)
{
	/* First the URL-carrying ones: they say which package an id means. */
	for (xmlNodePtr r = gui->children; r; r = r->next) {
		if (!is_elem(r, "pkg-ref") || !has_text(r))
			continue;
		char *id = prop(r, "id");
		xmlChar *url = xmlNodeGetContent(r);
		if (!id || find_map(maps, id)) {
			free(id);
			xmlFree(url);
			continue;
		}
		struct ref_map *m = pf_calloc(1, sizeof *m);
		size_t *idx = pf_calloc(k->ncomps + 1, sizeof *idx);
		if (!m || !idx || pv_push(maps, m)) {
			free(m);
			free(idx);
			free(id);
			xmlFree(url);
			k->oom = 1;
			return;
		}
		m->old = id;
		m->idx = idx;
		const pkgflat_component *b = ref_bundle(k, (const char *)url, id);
		m->n = comps_of(k, b, idx, k->ncomps);
		if (!m->n) {
			m->gone = 1;
			char where[64];
			snprintf(where, sizeof where, "line %ld", (long)xmlGetLineNo(r));
			notef(k, "pkg-ref", id, NULL, "%s, %s: names \"%s\", which is "
			    "not a package of this product", k->name, where,
			    url ? (const char *)url : "");
		}
		xmlFree(url);
	}
	/* Then every pkg-ref, top-level or inside a choice. */
	ptrvec all = { 0 };
	for (xmlNodePtr c = gui->children; c; c = c->next) {
		if (is_elem(c, "pkg-ref") && pv_push(&all, c))
			k->oom = 1;
		for (xmlNodePtr r = is_elem(c, "choice") ? c->children : NULL; r;
		    r = r->next)
			if (is_elem(r, "pkg-ref") && pv_push(&all, r))
				k->oom = 1;
	}
	for (size_t i = 0; i < all.n && !k->oom; i++) {
		xmlNodePtr r = all.v[i];
		char *id = prop(r, "id");
		struct ref_map *m = find_map(maps, id);
		int url = has_text(r);
		free(id);
		if (!m)
			continue;
		if (m->gone) {
			xmlUnlinkNode(r);
			xmlFreeNode(r);
			continue;
		}
		/* A nested metapackage is several components now: one pkg-ref
		 * each, in product order. */
		for (size_t j = 1; j < m->n && !k->oom; j++) {
			xmlNodePtr dup = xmlCopyNode(r, 1);
			if (!dup || !xmlAddNextSibling(r, dup)) {
				xmlFreeNode(dup);
				k->oom = 1;
				break;
			}
			point_ref(k, dup, m->idx[m->n - j], url);
		}
		point_ref(k, r, m->idx[0], url);
	}
	pv_free(&all, NULL);
}

static xmlNodePtr first_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* A new element under parent: after `after` (NULL: last). */
static xmlNodePtr add_elem(struct carry *k, xmlNodePtr parent,
    xmlNodePtr after, const char *name)
{
	xmlNodePtr n = xmlNewNode(NULL, BAD_CAST name);

	if (!n) {
		k->oom = 1;
		return NULL;
	}
	if (after ? !xmlAddNextSibling(after, n) : !xmlAddChild(parent, n)) {
		xmlFreeNode(n);
		k->oom = 1;
		return NULL;
	}
	return n;
}

/* Components no pkg-ref URL names: the metapackage's own scripts get a
 * hidden, required choice (first or last, as they ran); others are in the
 * archive with a pkg-ref but no choice, which installs nothing, as with
 * Installer 10.4 and later. */
static void add_unnamed(struct carry *k, xmlNodePtr gui)
{
	xmlNodePtr outline = first_child(gui, "choices-outline");

	for (size_t i = 0; i < k->ncomps && !k->oom; i++) {
		const struct dist_comp *c = &k->comps[i];
		if (k->used[i])
			continue;
		if (c->scripts_only) {
			if (!outline) {
				notef(k, "metapackage scripts", c->name, NULL, "the "
				    "distribution script has no <choices-outline> to "
				    "run them from");
				continue;
			}
			xmlNodePtr line = xmlNewNode(NULL, BAD_CAST "line");
			if (!line) {
				k->oom = 1;
				return;
			}
			set_prop(k, line, "choice", c->id);
			xmlNodePtr fl = first_child(outline, "line");
			if (c->first && fl ? !xmlAddPrevSibling(fl, line) :
			    !xmlAddChild(outline, line)) {
				xmlFreeNode(line);
				k->oom = 1;
				return;
			}
			xmlNodePtr ch = add_elem(k, gui, NULL, "choice");
			if (!ch)
				return;
			set_prop(k, ch, "id", c->id);
			set_prop(k, ch, "visible", "false");
			set_prop(k, ch, "title", c->title ? c->title : c->name);
			set_prop(k, ch, "selected", "true");
			set_prop(k, ch, "enabled", "false");
			xmlNodePtr r = add_elem(k, ch, NULL, "pkg-ref");
			if (r)
				set_prop(k, r, "id", c->id);
		} else
			notef(k, c->name, c->id, "pkg-ref without a choice",
			    "not named by the distribution script: in the archive, "
			    "but no choice installs it (as with Installer 10.4 and later)");
		xmlNodePtr r = add_elem(k, gui, NULL, "pkg-ref");
		if (r)
			point_ref(k, r, i, 1);
	}
}

/* The check call convert generated, run before the .dist's own. */
static void chain_check(struct carry *k, xmlNodePtr gui, const char *elem,
    const char *call)
{
	xmlNodePtr n = first_child(gui, elem);
	char *was = n ? prop(n, "script") : NULL;

	if (!call) {
		free(was);
		return;
	}
	if (!n && !(n = add_elem(k, gui, first_child(gui, "title"), elem))) {
		free(was);
		return;
	}
	if (!first_child(gui, "title") && n->parent == gui && n != gui->children) {
		xmlUnlinkNode(n);
		if (gui->children)
			xmlAddPrevSibling(gui->children, n);
		else
			xmlAddChild(gui, n);
	}
	if (was) {
		/* "f();" is a statement; "a && (f();)" would not parse. */
		size_t l = strlen(was);
		while (l && strchr("; \t\r\n", was[l - 1]))
			was[--l] = '\0';
	}
	char *v = was && was[0] ? pf_asprintf("%s && (%s)", call, was) :
	    pf_strdup(call);
	if (!v)
		k->oom = 1;
	set_prop(k, n, "script", v);
	free(v);
	free(was);
}

/* What convert adds: its checks, --title, --min-os, --host-arch. */
static void add_extra(struct carry *k, xmlNodePtr gui,
    const struct dist_extra *x)
{
	if (x->title) {
		xmlNodePtr t = first_child(gui, "title");
		if (!t && (t = xmlNewNode(NULL, BAD_CAST "title"))) {
			if (gui->children)
				xmlAddPrevSibling(gui->children, t);
			else
				xmlAddChild(gui, t);
		}
		if (!t)
			k->oom = 1;
		else
			xmlNodeSetContent(t, BAD_CAST x->title);
	}
	if (x->host_arch) {
		xmlNodePtr o = first_child(gui, "options");
		if (!o)
			o = add_elem(k, gui, first_child(gui, "title"), "options");
		if (o)
			set_prop(k, o, "hostArchitectures", x->host_arch);
	}
	if (x->script) {
		xmlNodePtr s = add_elem(k, gui, NULL, "script");
		xmlNodePtr t = s ? xmlNewText(BAD_CAST x->script) : NULL;
		if (s && (!t || !xmlAddChild(s, t))) {
			xmlFreeNode(t);
			k->oom = 1;
		}
	}
	chain_check(k, gui, "installation-check", x->inst_call);
	chain_check(k, gui, "volume-check", x->vol_call);
	if (x->min_os) {
		xmlNodePtr v = first_child(gui, "volume-check");
		if (!v)
			v = add_elem(k, gui, first_child(gui, "title"), "volume-check");
		xmlNodePtr a = v ? add_elem(k, v, NULL, "allowed-os-versions") : NULL;
		xmlNodePtr o = a ? add_elem(k, a, NULL, "os-version") : NULL;
		if (o)
			set_prop(k, o, "min", x->min_os);
	}
}

/* Resources the Distribution shows must be in the product's Resources. */
static void check_shown(struct carry *k, xmlNodePtr gui)
{
	static const char *const shown[] = { "welcome", "readme", "license",
	    "conclusion", "background", "background-darkAqua" };

	for (xmlNodePtr n = gui->children; n; n = n->next) {
		int is = 0;
		for (size_t i = 0; i < sizeof shown / sizeof *shown && !is; i++)
			is = is_elem(n, shown[i]);
		char *file = is ? prop(n, "file") : NULL;
		if (!file)
			continue;
		int found = 0;
		for (size_t i = 0; i < pkgflat_component_resource_count(k->root) &&
		    !found; i++) {
			const pkgflat_resource *r = pkgflat_component_resource(k->root, i);
			found = !strcmp(path_base(r->path), file) ||
			    !strcmp(r->path, file);
		}
		if (!found) {
			char what[64];
			snprintf(what, sizeof what, "<%s> file", (const char *)n->name);
			warnf(k, what, file, "kept as written", "%s: no such file in "
			    "Contents/Resources (nor in a .lproj there): Installer shows "
			    "nothing, as it did before", k->name);
		}
		free(file);
	}
}

pkgflat_status dist_carry(pkgflat_package *pkg, const pkgflat_component *root,
    const struct dist_comp *comps, size_t ncomps,
    const struct dist_extra *extra, dist_note_fn note_fn, void *ctx,
    char **out, size_t *outlen, pkgflat_error *err)
{
	const char *path = pkgflat_component_get(root, PKGFLAT_F_DIST_FILE);
	struct carry k = { pkg, root, comps, ncomps, note_fn, ctx, NULL, NULL,
	    err, 0 };
	xmlDocPtr doc = NULL;
	ptrvec maps = { 0 };
	pkgflat_status rc;

	*out = NULL;
	*outlen = 0;
	if (!path)
		return fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
		    "no distribution script to carry");
	if (!(k.name = src_display(pkg->src, path)) ||
	    !(k.used = pf_calloc(ncomps + 1, 1))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = dist_load(pkg, path, &doc, err)))
		goto out;
	xmlNodePtr gui = xmlDocGetRootElement(doc);
	if (!strcmp((const char *)gui->name, "installer-script")) {
		xmlNodeSetName(gui, BAD_CAST "installer-gui-script");
		note(&k, "<installer-script>", NULL, "<installer-gui-script>",
		    "the flat name of the root element");
	}
	/* Tiger wrote "1.000000"; flat Installer knows 1 and 2. */
	char *spec = prop(gui, "minSpecVersion");
	if (!spec || strtod(spec, NULL) < 2) {
		if (spec && strcmp(spec, "1"))
			note(&k, "minSpecVersion", spec, "1", NULL);
		set_prop(&k, gui, "minSpecVersion", "1");
	}
	free(spec);
	prune(&k, (xmlNodePtr)doc);
	rewrite_refs(&k, gui, &maps);
	add_unnamed(&k, gui);
	add_extra(&k, gui, extra);
	check_shown(&k, gui);
	/* JavaScript that names a pkg-ref by its old id would not find it. */
	for (xmlNodePtr s = gui->children; s; s = s->next) {
		xmlChar *t = is_elem(s, "script") ? xmlNodeGetContent(s) : NULL;
		for (size_t i = 0; t && i < maps.n; i++) {
			struct ref_map *m = maps.v[i];
			if (m->gone || m->n != 1 || !strcmp(m->old,
			    comps[m->idx[0]].id) || !strstr((const char *)t, m->old))
				continue;
			warnf(&k, "<script>", m->old, "kept as written", "%s: the "
			    "JavaScript names "
			    "pkg-ref \"%s\", which is \"%s\" now; that reference is "
			    "left as it was", k.name, m->old, comps[m->idx[0]].id);
		}
		xmlFree(t);
	}
	if (k.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	xmlChar *mem = NULL;
	int len = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 0);
	if (!mem || len < 0 || !(*out = pf_strndup((const char *)mem,
	    (size_t)len))) {
		xmlFree(mem);
		rc = fail_nomem(err);
		goto out;
	}
	*outlen = (size_t)len;
	xmlFree(mem);
out:
	pv_free(&maps, ref_map_free);
	xmlFreeDoc(doc);
	free(k.used);
	free(k.name);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Behaviour                                                          */

void dist_fact_free(void *p)
{
	struct dist_fact *f = p;

	if (f) {
		free(f->key);
		free(f->value);
		free(f);
	}
}

static int push_fact(ptrvec *facts, char *key, char *value)
{
	struct dist_fact *f = pf_calloc(1, sizeof *f);

	if (!key || !f || pv_push(facts, f)) {
		free(key);
		free(value);
		free(f);
		return -1;
	}
	f->key = key;
	f->value = value;
	return 0;
}

/* An attribute as Installer reads it: trimmed, booleans in one case. */
static char *value_of(xmlNodePtr n, const char *name)
{
	char *v = prop(n, name);

	if (!v)
		return NULL;
	char *s = v + strspn(v, " \t\r\n");
	size_t l = strlen(s);
	while (l && strchr(" \t\r\n", s[l - 1]))
		l--;
	if ((l == 4 && !strncasecmp(s, "true", 4)) ||
	    (l == 5 && !strncasecmp(s, "false", 5))) {
		char *b = pf_strdup(l == 4 ? "true" : "false");
		free(v);
		return b;
	}
	char *t = pf_strndup(s, l);
	free(v);
	return t;
}

static const char *renamed(const char *(*rename)(void *, const char *),
    void *ctx, const char *id)
{
	const char *r = rename && id ? rename(ctx, id) : id;

	return r ? r : id;
}

static void outline_text(xmlNodePtr line, strbuf *sb,
    const char *(*rename)(void *, const char *), void *ctx)
{
	int first = 1;

	for (xmlNodePtr l = line->children; l; l = l->next) {
		if (!is_elem(l, "line"))
			continue;
		char *id = prop(l, "choice");
		sb_adds(sb, first ? "" : ", ");
		sb_adds(sb, renamed(rename, ctx, id ? id : "?"));
		free(id);
		first = 0;
		if (first_child(l, "line")) {
			sb_adds(sb, " (");
			outline_text(l, sb, rename, ctx);
			sb_adds(sb, ")");
		}
	}
}

/* "functions f, g; 812 bytes, sha256 0123abcd": enough to name a change. */
static char *script_summary(const strbuf *js)
{
	strbuf sb = { 0 };
	unsigned char h[32];
	int n = 0;

	for (const char *p = js->buf; p && (p = strstr(p, "function")); p += 8) {
		if (p > js->buf && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
		    (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9')))
			continue;
		const char *q = p + 8;
		q += strspn(q, " \t\r\n");
		size_t l = strcspn(q, " \t\r\n(");
		if (!l || q == p + 8)
			continue;
		sb_adds(&sb, n++ ? ", " : "functions ");
		sb_add(&sb, q, l);
	}
	EVP_Digest(js->buf ? js->buf : "", js->len, h, NULL, EVP_sha256(), NULL);
	sb_addf(&sb, "%s%zu bytes, sha256 %02x%02x%02x%02x", n ? "; " : "",
	    js->len, h[0], h[1], h[2], h[3]);
	return sb_detach(&sb);
}

pkgflat_status dist_behaviour(xmlDocPtr doc,
    const char *(*rename)(void *ctx, const char *id), void *ctx,
    ptrvec *facts, pkgflat_error *err)
{
	static const char *const attrs[] = { "selected", "enabled", "visible",
	    "start_selected", "start_enabled", "start_visible", "title",
	    "description" };
	xmlNodePtr gui = xmlDocGetRootElement(doc);
	int bad = 0;
	strbuf sb = { 0 }, js = { 0 };

	xmlNodePtr outline = first_child(gui, "choices-outline");
	if (outline)
		outline_text(outline, &sb, rename, ctx);
	bad |= push_fact(facts, pf_strdup("choices-outline"), outline ?
	    sb_detach(&sb) : NULL);
	sb_free(&sb);
	for (xmlNodePtr c = gui ? gui->children : NULL; c && !bad; c = c->next) {
		if (!is_elem(c, "choice"))
			continue;
		char *raw = prop(c, "id");
		const char *id = renamed(rename, ctx, raw ? raw : "");
		for (size_t i = 0; i < sizeof attrs / sizeof *attrs && !bad; i++)
			bad |= push_fact(facts, pf_asprintf("choice \"%s\" %s", id,
			    attrs[i]), value_of(c, attrs[i]));
		for (xmlNodePtr r = c->children; r; r = r->next) {
			char *rid = is_elem(r, "pkg-ref") ? prop(r, "id") : NULL;
			if (rid)
				sb_addf(&sb, "%s%s", sb.len ? ", " : "",
				    renamed(rename, ctx, rid));
			free(rid);
		}
		bad |= push_fact(facts, pf_asprintf("choice \"%s\" packages", id),
		    sb.len ? sb_detach(&sb) : NULL);
		sb_free(&sb);
		free(raw);
	}
	static const char *const checks[] = { "installation-check",
	    "volume-check" };
	for (size_t i = 0; i < 2 && !bad; i++)
		bad |= push_fact(facts, pf_asprintf("%s script", checks[i]),
		    value_of(first_child(gui, checks[i]), "script"));
	for (xmlNodePtr s = gui ? gui->children : NULL; s; s = s->next) {
		xmlChar *t = is_elem(s, "script") ? xmlNodeGetContent(s) : NULL;
		if (t)
			sb_adds(&js, (const char *)t);
		xmlFree(t);
	}
	if (!bad)
		bad |= push_fact(facts, pf_strdup("script"), js.len ?
		    script_summary(&js) : NULL);
	sb_free(&js);
	return bad || sb.oom ? fail_nomem(err) : PKGFLAT_OK;
}
