/*
 * Flat packages into the package model (flat-format.md §3; the inverse of
 * convert.c's mapping, legacy-format.md §7):
 *
 *   Distribution              product: title, resources, options, checks,
 *                             choices (selection), pkg-refs (components)
 *   Resources/<lang>.lproj/   Welcome, ReadMe, License, Conclusion, background
 *   <Name>.pkg/PackageInfo    component: identifier, version, location, auth,
 *                             flags, postinstall-action, payload size, scripts
 *   <Name>.pkg/Payload, Bom   what payload_read.c and bom_read.c read
 *   <Name>.pkg/Scripts        gzip'd cpio: preinstall, postinstall, helpers
 *
 * A component package has PackageInfo, Payload, Bom and Scripts at its top.
 * The tree is read through a source: a XAR read in place (source_xar.c) or a
 * directory expanded from one (pkgutil --expand, xar -x).
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dist.h"
#include "flat_read.h"
#include "legacy.h"
#include "xar_read.h"

#define MAX_XML (16u << 20)

/* Value tables: flat spellings to the model's. */
struct word_map {
	const char *flat, *model;
};

static const struct word_map auth_words[] = {
	{ "root", "root" }, { "admin", "admin" }, { "none", "none" },
};

static const struct word_map postinstall_words[] = {
	{ "none", "none" }, { "restart", "restart" }, { "logout", "logout" },
	{ "shutdown", "shutdown" },
};

static const struct word_map conclusion_words[] = {
	{ "none", "none" }, { "RecommendRestart", "recommended-restart" },
	{ "RequireRestart", "restart" }, { "RequireLogout", "logout" },
	{ "RequireShutdown", "shutdown" },
};

static const struct {
	const char *attr;
	enum pkgflat_flag flag;
} pi_flags[] = {
	{ "relocatable", PKGFLAT_FLAG_RELOCATABLE },
	{ "overwrite-permissions", PKGFLAT_FLAG_OVERWRITE_PERMISSIONS },
	{ "followSymLinks", PKGFLAT_FLAG_FOLLOW_LINKS },
};

static const struct {
	const char *elem;
	enum pkgflat_script script;
} pi_scripts[] = {
	{ "preinstall", PKGFLAT_SCRIPT_PREINSTALL },
	{ "postinstall", PKGFLAT_SCRIPT_POSTINSTALL },
};

static const char *map_word(const struct word_map *m, size_t n,
    const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (!strcasecmp(m[i].flat, v))
			return m[i].model;
	return NULL;
}
#define MAP_WORD(table, v) map_word((table), sizeof (table) / sizeof *(table), (v))

/* An attribute as a malloc'd string (NULL when absent). */
static char *attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v ? pf_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

static int attr_is(xmlNodePtr n, const char *name, const char *value)
{
	char *v = attr(n, name);
	int r = v && !strcasecmp(v, value);

	free(v);
	return r;
}

static int set_attr(pkgflat_component *b, enum pkgflat_field f, xmlNodePtr n,
    const char *name)
{
	char *v = attr(n, name);
	int r = component_set(b, f, v);

	free(v);
	return r;
}

static pkgflat_status load_xml(pkgflat_package *pkg, const char *path,
    const char *root_name, xmlDocPtr *doc, pkgflat_error *err)
{
	unsigned char *d = NULL;
	size_t n = 0;
	pkgflat_status rc = src_read(pkg->src, path, MAX_XML, &d, &n, err);
	char *name = NULL;

	*doc = NULL;
	if (rc)
		return rc;
	if (!(name = src_display(pkg->src, path))) {
		free(d);
		return fail_nomem(err);
	}
	xmlResetLastError();
	*doc = xmlReadMemory((const char *)d, (int)n, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!*doc) {
		const xmlError *e = xmlGetLastError();
		char where[64];
		snprintf(where, sizeof where, "line %d", e ? e->line : 0);
		rc = fail(err, PKGFLAT_E_FORMAT, name, where, "not well-formed XML%s%s",
		    e && e->message ? ": " : "", e && e->message ? e->message : "");
		/* libxml2's messages end in a newline. */
		size_t l = err ? strlen(err->message) : 0;
		while (l && (err->message[l - 1] == '\n' || err->message[l - 1] == ' '))
			err->message[--l] = '\0';
	} else if (!xar_is_elem(xmlDocGetRootElement(*doc), root_name)) {
		xmlNodePtr r = xmlDocGetRootElement(*doc);
		rc = fail(err, PKGFLAT_E_FORMAT, name, "root element",
		    "<%s>, not <%s>", r ? (const char *)r->name : "", root_name);
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	free(name);
	free(d);
	return rc;
}

static enum src_type type_at(pkgflat_package *pkg, const char *dir,
    const char *name)
{
	char *p = path_join(dir, name);
	struct src_stat st;
	pkgflat_error e;

	pkgflat_error_clear(&e);
	if (!p || src_stat(pkg->src, p, &st, &e))
		st.type = SRC_NONE;
	free(p);
	return st.type;
}

int flat_sniff(pkgflat_package *pkg, const char *dir)
{
	return type_at(pkg, dir, "Distribution") == SRC_FILE ||
	    type_at(pkg, dir, "PackageInfo") == SRC_FILE;
}

static pkgflat_status nomem_free(pkgflat_component *b, pkgflat_error *err)
{
	component_free(b);
	return fail_nomem(err);
}

/* Every attribute of <pkg-info>, in order, as the bundle's keys. */
static int keep_attrs(pkgflat_component *b, xmlNodePtr n)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char *k = pf_strdup((const char *)a->name);
		xmlChar *t = xmlNodeListGetString(n->doc, a->children, 1);
		char *v = pf_strdup(t ? (const char *)t : "");
		xmlFree(t);
		if (!k || !v || pv_push(&b->keys, k)) {
			free(k);
			free(v);
			return -1;
		}
		if (pv_push(&b->keys, v)) {
			free(v);
			return -1;
		}
	}
	return 0;
}

/* <scripts><preinstall file="./preinstall"/>...: paths inside Scripts. */
static pkgflat_status read_pi_scripts(pkgflat_component *b, xmlNodePtr pi,
    const char *dir, const char *pi_name, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	xmlNodePtr sc = xar_child(pi, "scripts");
	char *archive = path_join(dir, "Scripts");
	int any = 0;
	pkgflat_status rc = PKGFLAT_OK;

	if (!archive)
		return fail_nomem(err);
	for (size_t i = 0; sc && i < sizeof pi_scripts / sizeof *pi_scripts; i++) {
		xmlNodePtr e = xar_child(sc, pi_scripts[i].elem);
		char *file = attr(e, "file");
		if (!e)
			continue;
		char *p = file ? path_join(archive, file) : NULL;
		if (!file || !p || strncmp(p, archive, strlen(archive)) ||
		    p[strlen(archive)] != '/') {
			rc = fail(err, PKGFLAT_E_FORMAT, pi_name, pi_scripts[i].elem,
			    "file \"%s\" is not a path inside Scripts",
			    file ? file : "");
			free(file);
			free(p);
			break;
		}
		free(file);
		b->script[pi_scripts[i].script] = p;
		any = 1;
	}
	if (!rc && any && type_at(pkg, dir, "Scripts") != SRC_FILE)
		package_warn(pkg, "%s: names scripts, but there is no %s", pi_name,
		    archive);
	free(archive);
	return rc;
}

static pkgflat_status read_component(pkgflat_package *pkg, const char *dir,
    const char *name, pkgflat_component **out, pkgflat_error *err)
{
	pkgflat_component *b = component_new(pkg);
	char *pi_path = path_join(dir, "PackageInfo");
	char *pi_name = pi_path ? src_display(pkg->src, pi_path) : NULL;
	xmlDocPtr doc = NULL;
	pkgflat_status rc;

	*out = NULL;
	if (!b || !pi_path || !pi_name) {
		free(pi_path);
		free(pi_name);
		return nomem_free(b, err);
	}
	b->kind = PKGFLAT_BUNDLE_FLAT_COMPONENT;
	if (component_set(b, PKGFLAT_F_PATH, dir) ||
	    component_set(b, PKGFLAT_F_NAME, name) ||
	    component_set(b, PKGFLAT_F_INFO_SOURCE, "PackageInfo")) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = load_xml(pkg, pi_path, "pkg-info", &doc, err)))
		goto out;
	xmlNodePtr pi = xmlDocGetRootElement(doc);
	if (!xmlHasProp(pi, BAD_CAST "identifier") ||
	    attr_is(pi, "identifier", "")) {
		rc = fail(err, PKGFLAT_E_FORMAT, pi_name, "pkg-info",
		    "no identifier");
		goto out;
	}
	if (set_attr(b, PKGFLAT_F_IDENTIFIER, pi, "identifier") ||
	    set_attr(b, PKGFLAT_F_VERSION, pi, "version") ||
	    set_attr(b, PKGFLAT_F_INSTALL_LOCATION, pi, "install-location") ||
	    set_attr(b, PKGFLAT_F_CREATOR, pi, "generator-version") ||
	    keep_attrs(b, pi)) {
		rc = fail_nomem(err);
		goto out;
	}
	char *v = attr(pi, "auth");
	const char *m = MAP_WORD(auth_words, v);
	if (v && !m)
		package_warn(pkg, "%s: auth \"%s\" is not root or none", pi_name, v);
	int bad = component_set(b, PKGFLAT_F_AUTH, m ? m : v);
	free(v);
	v = attr(pi, "postinstall-action");
	m = MAP_WORD(postinstall_words, v);
	if (v && !m)
		package_warn(pkg, "%s: unknown postinstall-action \"%s\"", pi_name, v);
	bad |= component_set(b, PKGFLAT_F_RESTART, m ? m : v);
	free(v);
	if (bad) {
		rc = fail_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < sizeof pi_flags / sizeof *pi_flags; i++) {
		if (!xmlHasProp(pi, BAD_CAST pi_flags[i].attr))
			continue;
		b->flag[pi_flags[i].flag] = attr_is(pi, pi_flags[i].attr, "true");
	}
	xmlNodePtr pl = xar_child(pi, "payload");
	uint64_t kb;
	char *kbs = attr(pl, "installKBytes"), *end = NULL;
	if (kbs) {
		kb = strtoull(kbs, &end, 10);
		if (end != kbs && !*end && kb < INT64_MAX)
			b->claimed_kbytes = (int64_t)kb;
		else
			package_warn(pkg, "%s: installKBytes \"%s\" is not a number",
			    pi_name, kbs);
		free(kbs);
	}
	char *nfs = attr(pl, "numberOfFiles");
	if (nfs) {
		uint64_t nf = strtoull(nfs, &end, 10);
		if (end != nfs && !*end && nf < INT64_MAX)
			b->claimed_files = (int64_t)nf;
		else
			package_warn(pkg, "%s: numberOfFiles \"%s\" is not a number",
			    pi_name, nfs);
		free(nfs);
	}
	if ((rc = read_pi_scripts(b, pi, dir, pi_name, err)))
		goto out;
	static const struct {
		const char *file;
		enum pkgflat_field field;
		size_t has;
	} parts[] = {
		{ "Payload", PKGFLAT_F_PAYLOAD_PATH,
		  offsetof(pkgflat_component, has_payload) },
		{ "Bom", PKGFLAT_F_BOM_PATH, offsetof(pkgflat_component, has_bom) },
	};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		enum src_type t = type_at(pkg, dir, parts[i].file);
		if (t == SRC_NONE)
			continue;
		char *p = path_join(dir, parts[i].file);
		if (!p) {
			rc = fail_nomem(err);
			goto out;
		}
		if (t != SRC_FILE) {
			char *n = src_display(pkg->src, p);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL, "not a regular file");
			free(n);
			free(p);
			goto out;
		}
		b->field[parts[i].field] = p;
		*(int *)((char *)b + parts[i].has) = 1;
	}
	*out = b;
	b = NULL;
out:
	xmlFreeDoc(doc);
	component_free(b);
	free(pi_path);
	free(pi_name);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Distribution                                                       */

struct dist {
	pkgflat_package *pkg;
	pkgflat_component *root;
	xmlNodePtr gui;          /* <installer-gui-script> */
	const char *dir;
	char *name;              /* Distribution as errors name it */
	ptrvec seen;             /* pkg-ref ids already turned into components */
};

static xmlNodePtr find_by_id(xmlNodePtr parent, const char *elem,
    const char *id, int with_text)
{
	for (xmlNodePtr c = parent->children; c; c = c->next) {
		if (!xar_is_elem(c, elem) || !attr_is(c, "id", id))
			continue;
		if (!with_text)
			return c;
		xmlChar *t = xmlNodeGetContent(c);
		int has = t && t[strspn((const char *)t, " \t\r\n")];
		xmlFree(t);
		if (has)
			return c;
	}
	return NULL;
}

/* "#Name%20X.pkg" → "Name X.pkg"; also "file:./Name.pkg" and "Name.pkg". */
static char *ref_to_dir(const char *url)
{
	url += strspn(url, " \t\r\n");
	if (url[0] == '#')
		url++;
	else if (!strncmp(url, "file:", 5))
		url += 5;
	char *out = pf_calloc(1, strlen(url) + 1), *o = out;
	for (const char *p = url; out && *p; p++) {
		if (*p == '%' && p[1] && p[2] && strchr("0123456789abcdefABCDEF", p[1])
		    && strchr("0123456789abcdefABCDEF", p[2])) {
			char hex[3] = { p[1], p[2], 0 };
			*o++ = (char)strtol(hex, NULL, 16);
			p += 2;
		} else
			*o++ = *p;
	}
	if (o) {
		while (o > out && strchr(" \t\r\n", o[-1]))
			o--;
		*o = '\0';
	}
	return out;
}

/*
 * Selection and required state of the choice holding pkg-ref id. A
 * pkg-ref that no choice holds is still listed (the archive carries it),
 * but by the Distribution's rules Installer installs only what a choice
 * names: it is "not installed" and not required, which a note says.
 */
static void apply_choice(struct dist *d, pkgflat_component *b, const char *id)
{
	for (xmlNodePtr c = d->gui->children; c; c = c->next) {
		if (!xar_is_elem(c, "choice"))
			continue;
		int holds = 0;
		for (xmlNodePtr r = c->children; r; r = r->next)
			if (xar_is_elem(r, "pkg-ref") && attr_is(r, "id", id))
				holds = 1;
		if (!holds)
			continue;
		const char *sel = dist_choice_selection(c);
		if (!strcmp(sel, "required"))
			b->flag[PKGFLAT_FLAG_REQUIRED] = 1;
		/* Out of memory leaves a field empty; nothing worse. */
		component_set(b, PKGFLAT_F_SELECTION, sel);
		set_attr(b, PKGFLAT_F_TITLE, c, "title");
		set_attr(b, PKGFLAT_F_DESCRIPTION, c, "description");
		return;
	}
	b->flag[PKGFLAT_FLAG_REQUIRED] = 0;
	component_set(b, PKGFLAT_F_SELECTION, "not installed");
	package_warn(d->pkg, "%s: pkg-ref \"%s\" (%s) is in no choice: "
	    "Installer does not install it", d->name, id,
	    b->field[PKGFLAT_F_NAME]);
}

static pkgflat_status add_ref(struct dist *d, const char *id,
    pkgflat_error *err)
{
	for (size_t i = 0; i < d->seen.n; i++)
		if (!strcmp(d->seen.v[i], id))
			return PKGFLAT_OK;
	char *copy = pf_strdup(id);
	if (!copy || pv_push(&d->seen, copy)) {
		free(copy);
		return fail_nomem(err);
	}
	xmlNodePtr ref = find_by_id(d->gui, "pkg-ref", id, 1);
	if (!ref) {
		package_warn(d->pkg, "%s: pkg-ref \"%s\" names no package", d->name,
		    id);
		return PKGFLAT_OK;
	}
	xmlChar *url = xmlNodeGetContent(ref);
	char *name = url ? ref_to_dir((const char *)url) : NULL;
	xmlFree(url);
	if (!name)
		return fail_nomem(err);
	char *cdir = name[0] && !strchr(name, '/') ? path_join(d->dir, name) : NULL;
	char where[300];
	snprintf(where, sizeof where, "pkg-ref \"%s\"", id);
	if (!cdir) {
		pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, d->name, where,
		    "\"%s\" is not a component inside the package", name);
		free(name);
		return rc;
	}
	if (type_at(d->pkg, cdir, "PackageInfo") != SRC_FILE) {
		pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, d->name, where,
		    "component %s is missing (no %s/PackageInfo)", name, name);
		free(name);
		free(cdir);
		return rc;
	}
	pkgflat_component *b = NULL;
	pkgflat_status rc = read_component(d->pkg, cdir, name, &b, err);
	free(cdir);
	free(name);
	if (rc)
		return rc;
	if (pv_push(&d->root->children, b))
		return nomem_free(b, err);
	const char *pid = b->field[PKGFLAT_F_IDENTIFIER];
	if (strcmp(pid, id))
		package_warn(d->pkg, "%s: pkg-ref \"%s\" names %s, whose identifier "
		    "is \"%s\"", d->name, id, b->field[PKGFLAT_F_NAME], pid);
	/* For a product, Installer acts on the Distribution's onConclusion. */
	char *oc = attr(ref, "onConclusion");
	const char *r = MAP_WORD(conclusion_words, oc);
	if (oc && !r)
		package_warn(d->pkg, "%s: %s: unknown onConclusion \"%s\"", d->name,
		    where, oc);
	if (r && component_set(b, PKGFLAT_F_RESTART, r))
		rc = fail_nomem(err);
	free(oc);
	if (b->claimed_kbytes < 0) {
		char *kb = attr(ref, "installKBytes"), *end = NULL;
		long long v = kb ? strtoll(kb, &end, 10) : -1;
		if (kb && end != kb && !*end && v >= 0)
			b->claimed_kbytes = v;
		free(kb);
	}
	apply_choice(d, b, id);
	return rc;
}

/* The choices outline, depth first: Installer's install order. */
static pkgflat_status walk_outline(struct dist *d, xmlNodePtr line, int depth,
    pkgflat_error *err)
{
	if (depth > 64)
		return fail(err, PKGFLAT_E_FORMAT, d->name, "choices-outline",
		    "lines nested more than 64 deep");
	for (xmlNodePtr l = line->children; l; l = l->next) {
		if (!xar_is_elem(l, "line"))
			continue;
		char *id = attr(l, "choice");
		xmlNodePtr c = id ? find_by_id(d->gui, "choice", id, 0) : NULL;
		free(id);
		for (xmlNodePtr r = c ? c->children : NULL; r; r = r->next) {
			char *rid = xar_is_elem(r, "pkg-ref") ? attr(r, "id") : NULL;
			pkgflat_status rc = rid ? add_ref(d, rid, err) : PKGFLAT_OK;
			free(rid);
			if (rc)
				return rc;
		}
		pkgflat_status rc = walk_outline(d, l, depth + 1, err);
		if (rc)
			return rc;
	}
	return PKGFLAT_OK;
}

static pkgflat_status add_requirement(pkgflat_component *b, const char *type,
    const char *arg, const char *op, const char *obj, pkgflat_error *err)
{
	pkgflat_requirement *q = pf_calloc(1, sizeof *q);

	if (!q || pv_push(&b->requirements, q)) {
		free(q);
		return fail_nomem(err);
	}
	q->level = pf_strdup("requires");
	q->spec_type = pf_strdup(type);
	q->spec_argument = arg ? pf_strdup(arg) : NULL;
	q->test_operator = op ? pf_strdup(op) : NULL;
	q->test_object = obj ? pf_strdup(obj) : NULL;
	if (!q->level || !q->spec_type || (arg && !q->spec_argument) ||
	    (op && !q->test_operator) || (obj && !q->test_object))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

/* installation-check and volume-check as requirements: the function each
 * calls, and the OS versions allowed. */
static pkgflat_status read_checks(struct dist *d, pkgflat_error *err)
{
	static const char *const checks[] = { "installation-check",
	    "volume-check" };
	pkgflat_status rc = PKGFLAT_OK;

	for (size_t i = 0; i < sizeof checks / sizeof *checks && !rc; i++) {
		xmlNodePtr c = xar_child(d->gui, checks[i]);
		char *script = attr(c, "script");
		if (script)
			rc = add_requirement(d->root, checks[i], script, NULL, NULL, err);
		free(script);
	}
	xmlNodePtr vc = xar_child(d->gui, "volume-check");
	xmlNodePtr aov = xar_child(vc, "allowed-os-versions");
	if (!aov)
		aov = xar_child(d->gui, "allowed-os-versions");
	for (xmlNodePtr o = aov ? aov->children : NULL; o && !rc; o = o->next) {
		if (!xar_is_elem(o, "os-version"))
			continue;
		char *min = attr(o, "min"), *before = attr(o, "before");
		if (min)
			rc = add_requirement(d->root, "os-version", NULL, ">=", min, err);
		if (before && !rc)
			rc = add_requirement(d->root, "os-version", NULL, "<", before, err);
		free(min);
		free(before);
	}
	return rc;
}

static pkgflat_status read_product(pkgflat_package *pkg, const char *dir,
    pkgflat_component **out, pkgflat_error *err)
{
	struct dist d = { .pkg = pkg, .dir = dir };
	char *dpath = path_join(dir, "Distribution");
	char *res = path_join(dir, "Resources");
	xmlDocPtr doc = NULL;
	pkgflat_status rc;

	*out = NULL;
	if (!dpath || !res || !(d.name = src_display(pkg->src, dpath)) ||
	    !(d.root = component_new(pkg))) {
		rc = fail_nomem(err);
		goto out;
	}
	d.root->kind = PKGFLAT_BUNDLE_PRODUCT;
	if (component_set(d.root, PKGFLAT_F_PATH, dir) ||
	    component_set(d.root, PKGFLAT_F_NAME, dir[0] ? path_base(dir) :
	        path_base(pkg->path)) ||
	    component_set(d.root, PKGFLAT_F_DIST_FILE, dpath) ||
	    component_set(d.root, PKGFLAT_F_INFO_SOURCE, "Distribution")) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = load_xml(pkg, dpath, "installer-gui-script", &doc, err)))
		goto out;
	d.gui = xmlDocGetRootElement(doc);
	xmlNodePtr t = xar_child(d.gui, "title");
	xmlChar *title = t ? xmlNodeGetContent(t) : NULL;
	xmlNodePtr product = xar_child(d.gui, "product");
	xmlNodePtr bg = xar_child(d.gui, "background");
	int bad = component_set(d.root, PKGFLAT_F_TITLE, (const char *)title) ||
	    set_attr(d.root, PKGFLAT_F_IDENTIFIER, product, "id") ||
	    set_attr(d.root, PKGFLAT_F_VERSION, product, "version") ||
	    set_attr(d.root, PKGFLAT_F_BACKGROUND_ALIGNMENT, bg, "alignment") ||
	    set_attr(d.root, PKGFLAT_F_BACKGROUND_SCALING, bg, "scaling");
	xmlFree(title);
	if (bad) {
		rc = fail_nomem(err);
		goto out;
	}
	/* rootVolumeOnly, or <domains> that allow only the system volume. */
	xmlNodePtr opts = xar_child(d.gui, "options");
	xmlNodePtr dom = xar_child(d.gui, "domains");
	if (opts && xmlHasProp(opts, BAD_CAST "rootVolumeOnly"))
		d.root->flag[PKGFLAT_FLAG_ROOT_VOLUME_ONLY] =
		    attr_is(opts, "rootVolumeOnly", "true");
	else if (dom)
		d.root->flag[PKGFLAT_FLAG_ROOT_VOLUME_ONLY] =
		    attr_is(dom, "enable_anywhere", "false") &&
		    !attr_is(dom, "enable_currentUserHome", "true");
	if (type_at(pkg, dir, "Resources") == SRC_DIR &&
	    (rc = legacy_read_resources(d.root, res, err)))
		goto out;
	if ((rc = read_checks(&d, err)))
		goto out;
	xmlNodePtr outline = xar_child(d.gui, "choices-outline");
	if (outline && (rc = walk_outline(&d, outline, 0, err)))
		goto out;
	/* pkg-refs no choice reaches are still in the archive: list them
	 * after the others, in document order. */
	for (xmlNodePtr r = d.gui->children; r && !rc; r = r->next) {
		if (!xar_is_elem(r, "pkg-ref"))
			continue;
		char *id = attr(r, "id");
		xmlChar *url = xmlNodeGetContent(r);
		if (id && url && url[strspn((const char *)url, " \t\r\n")])
			rc = add_ref(&d, id, err);
		free(id);
		xmlFree(url);
	}
	if (rc)
		goto out;
	*out = d.root;
	d.root = NULL;
out:
	xmlFreeDoc(doc);
	component_free(d.root);
	pv_free(&d.seen, free);
	free(d.name);
	free(dpath);
	free(res);
	return rc;
}

pkgflat_status flat_read(pkgflat_package *pkg, const char *dir,
    pkgflat_component **out, pkgflat_error *err)
{
	if (type_at(pkg, dir, "Distribution") == SRC_FILE)
		return read_product(pkg, dir, out, err);
	return read_component(pkg, dir, dir[0] ? path_base(dir) :
	    path_base(pkg->path), out, err);
}
