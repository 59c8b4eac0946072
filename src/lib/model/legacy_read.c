/*
 * Legacy bundle packages (Apple's "Software Delivery Legacy Guide"; see
 * shared docs legacy-format.md §2-§6):
 *
 *   Foo.pkg/Contents/Info.plist        IFPkgFlag* keys (XML or binary)
 *               /PkgInfo               "pmkrpkg1"
 *               /Archive.pax.gz        payload (odc cpio or ustar, gzip'd)
 *               /Archive.bom           bill of materials
 *               /Resources/            Description.plist, scripts, checks,
 *                                      Welcome/ReadMe/License/background,
 *                                      <lang>.lproj/, Cheetah <Name>.info
 *   Foo.mpkg/Contents/Info.plist       + IFPkgFlagComponentDirectory and
 *                                        IFPkgFlagPackageList
 *               /Packages/<name>.pkg   components (or nested .mpkg)
 *               /<name>.dist           Tiger distribution script
 *
 * This file reads the bundle tree (metapackages, distributions, one
 * bundle) and builds the model; legacy_info.c reads the metadata files of a
 * bundle and legacy_resources.c its Resources folder.
 *
 * Everything is read through a source (directory or archive), so no path
 * taken from the package can reach outside the input.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist.h"
#include "legacy.h"
#include "plist.h"

#define MAX_DEPTH 16                /* nesting of metapackages */
/* Bundles read in all: package lists that name the same metapackage
 * several times at each level would otherwise read it exponentially often
 * (a metapackage is read once per mention, as Installer shows it). */
#define MAX_BUNDLES 4096

/* ------------------------------------------------------------------ */
/* Metapackages                                                       */

static pkgflat_status read_bundle(pkgflat_package *pkg, const char *path,
    int depth, ptrvec *stack, pkgflat_component **out, pkgflat_error *err);

static const char *selection_value(const char *s)
{
	if (!s)
		return "selected";
	if (!strcasecmp(s, "selected"))
		return "selected";
	if (!strcasecmp(s, "unselected"))
		return "unselected";
	if (!strcasecmp(s, "required"))
		return "required";
	return NULL;
}

/* Where a metapackage keeps its components (munki's search list). */
static pkgflat_status component_dirs(pkgflat_component *b, const char *path,
    ptrvec *dirs, pkgflat_error *err)
{
	static const char *const fallback[] = {
		"Contents/Packages", "Contents/Installers", "Contents/Resources",
		"Contents/Resources/Packages", "Contents", "..",
	};
	const char *cd = b->field[PKGFLAT_F_COMPONENT_DIRECTORY];

	if (cd) {
		if (cd[0] == '/') {
			char *n = src_display(b->pkg->src, path);
			pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, n,
			    "IFPkgFlagComponentDirectory",
			    "absolute path \"%s\" points outside the package", cd);
			free(n);
			return rc;
		}
		char *p = path_join(path, cd);
		if (!p) {
			char *n = src_display(b->pkg->src, path);
			pkgflat_status rc = fail(err, PKGFLAT_E_FORMAT, n,
			    "IFPkgFlagComponentDirectory",
			    "\"%s\" points outside the input", cd);
			free(n);
			return rc;
		}
		return pv_push(dirs, p) ? fail_nomem(err) : PKGFLAT_OK;
	}
	for (size_t i = 0; i < sizeof fallback / sizeof *fallback; i++) {
		char *p = path_join(path, fallback[i]);
		if (p && pv_push(dirs, p)) {
			free(p);
			return fail_nomem(err);
		}
	}
	return PKGFLAT_OK;
}

static pkgflat_status add_child(pkgflat_component *b, const char *child_path,
    const char *selection, int depth, ptrvec *stack, pkgflat_error *err)
{
	pkgflat_component *c = NULL;
	pkgflat_status rc = read_bundle(b->pkg, child_path, depth + 1, stack, &c,
	    err);

	if (rc)
		return rc;
	if (pv_push(&b->children, c)) {
		component_free(c);
		return fail_nomem(err);
	}
	if (selection && component_set(c, PKGFLAT_F_SELECTION, selection))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

static pkgflat_status read_package_list(pkgflat_component *b, const char *path,
    plist_t list, const char *info_path, int depth, ptrvec *stack,
    pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec dirs = { 0 };
	pkgflat_status rc;
	char where[96];
	char *info_name = src_display(pkg->src, info_path);

	if (!info_name)
		return fail_nomem(err);
	if (plist_get_node_type(list) != PLIST_ARRAY) {
		rc = fail(err, PKGFLAT_E_FORMAT, info_name, "IFPkgFlagPackageList",
		    "not an array");
		goto out;
	}
	if ((rc = component_dirs(b, path, &dirs, err)))
		goto out;
	for (uint32_t i = 0; i < plist_array_get_size(list) && !rc; i++) {
		plist_t item = plist_array_get_item(list, i);
		snprintf(where, sizeof where, "IFPkgFlagPackageList[%u]", i);
		const char *loc = pl_str(item, "IFPkgFlagPackageLocation");
		if (!loc) {
			rc = fail(err, PKGFLAT_E_FORMAT, info_name, where,
			    "no IFPkgFlagPackageLocation string");
			break;
		}
		const char *selraw = pl_str(item, "IFPkgFlagPackageSelection");
		const char *sel = selection_value(selraw);
		if (!sel) {
			package_warn(pkg, "%s: %s: unknown IFPkgFlagPackageSelection "
			    "\"%s\", read as selected", info_path, where, selraw);
			sel = "selected";
		}
		if (loc[0] == '/' || !strncmp(loc, "file:", 5)) {
			rc = fail(err, PKGFLAT_E_FORMAT, info_name, where,
			    "package location \"%s\" is not a relative path", loc);
			break;
		}
		char *found = NULL;
		for (size_t d = 0; d < dirs.n && !found && !rc; d++) {
			char *p = path_join(dirs.v[d], loc);
			if (!p) {
				rc = fail(err, PKGFLAT_E_FORMAT, info_name, where,
				    "package location \"%s\" points outside the input",
				    loc);
				break;
			}
			enum src_type t = package_path_type(pkg, p, &rc, err);
			if (!rc && t == SRC_DIR)
				found = p;
			else
				free(p);
		}
		if (rc)
			break;
		if (!found) {
			rc = fail(err, PKGFLAT_E_FORMAT, info_name, where,
			    "package \"%s\" not found (looked in %s%s)", loc,
			    dirs.n ? (const char *)dirs.v[0] : "",
			    dirs.n > 1 ? " and the usual places" : "");
			break;
		}
		rc = add_child(b, found, sel, depth, stack, err);
		free(found);
	}
out:
	pv_free(&dirs, free);
	free(info_name);
	return rc;
}

/* A .dist choice holds every package of the bundle its pkg-ref names: a
 * nested metapackage's parts take the choice's selection too. */
static int select_tree(pkgflat_component *b, const char *sel)
{
	if (component_set(b, PKGFLAT_F_SELECTION, sel))
		return -1;
	for (size_t i = 0; i < b->children.n; i++)
		if (select_tree(b->children.v[i], sel))
			return -1;
	return 0;
}

/*
 * A Tiger distribution script: components are the pkg-refs that carry a
 * URL, in choices-outline order when there is one.
 */
static pkgflat_status read_dist(pkgflat_component *b, const char *path,
    const char *dist, int depth, ptrvec *stack, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	xmlDocPtr doc = NULL;
	pkgflat_status rc;
	char *name = src_display(pkg->src, dist);
	ptrvec order = { 0 };   /* pkg-ref ids (borrowed xmlChar *) */

	if (!name)
		return fail_nomem(err);
	if ((rc = dist_load(pkg, dist, &doc, err)))
		goto out;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	/* Title, and the outline order of choices. */
	ptrvec choices = { 0 };
	for (xmlNodePtr n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, "title") && !b->field[PKGFLAT_F_TITLE]) {
			xmlChar *t = xmlNodeGetContent(n);
			if (t && component_set(b, PKGFLAT_F_TITLE, (const char *)t))
				rc = fail_nomem(err);
			xmlFree(t);
		}
		if (!strcmp((const char *)n->name, "choices-outline")) {
			/* Depth-first over <line choice=...>. */
			xmlNodePtr stackn[64];
			int sp = 0;
			for (xmlNodePtr l = n->children; l; l = l->next)
				if (sp < 64)
					stackn[sp++] = l;
			/* Reverse to keep document order. */
			for (int i = 0; i < sp / 2; i++) {
				xmlNodePtr t = stackn[i];
				stackn[i] = stackn[sp - 1 - i];
				stackn[sp - 1 - i] = t;
			}
			while (sp) {
				xmlNodePtr l = stackn[--sp];
				if (l->type != XML_ELEMENT_NODE)
					continue;
				xmlChar *c = xmlGetProp(l, (const xmlChar *)"choice");
				if (c && pv_push(&choices, c))
					xmlFree(c);
				int start = sp;
				for (xmlNodePtr k = l->children; k; k = k->next)
					if (sp < 64)
						stackn[sp++] = k;
				for (int i = start; i < start + (sp - start) / 2; i++) {
					xmlNodePtr t = stackn[i];
					stackn[i] = stackn[sp - 1 - (i - start)];
					stackn[sp - 1 - (i - start)] = t;
				}
			}
		}
	}
	/* Map choice ids to the pkg-ref ids they hold, in outline order. */
	for (size_t c = 0; c < choices.n; c++)
		for (xmlNodePtr n = root->children; n; n = n->next) {
			if (n->type != XML_ELEMENT_NODE ||
			    strcmp((const char *)n->name, "choice"))
				continue;
			xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
			int match = id && !strcmp((const char *)id, choices.v[c]);
			xmlFree(id);
			if (!match)
				continue;
			for (xmlNodePtr r = n->children; r; r = r->next)
				if (r->type == XML_ELEMENT_NODE &&
				    !strcmp((const char *)r->name, "pkg-ref")) {
					xmlChar *pid = xmlGetProp(r, (const xmlChar *)"id");
					if (pid)
						pv_push(&order, pid);
				}
		}
	pv_free(&choices, xmlFree);
	/* Then the URL-carrying pkg-refs, ordered by the outline when known. */
	ptrvec refs = { 0 };
	for (xmlNodePtr n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name,
		    "pkg-ref"))
			continue;
		xmlChar *t = xmlNodeGetContent(n);
		int has_url = t && t[strspn((const char *)t, " \t\r\n")];
		xmlFree(t);
		if (has_url)
			pv_push(&refs, n);
	}
	/* Outline order first, then any package the outline leaves out. */
	size_t done = 0;
	ptrvec picked = { 0 };
	for (size_t k = 0; k < order.n; k++)
		for (size_t i = 0; i < refs.n; i++) {
			xmlNodePtr n = refs.v[i];
			xmlChar *id = n ? xmlGetProp(n, (const xmlChar *)"id") : NULL;
			int match = id && !strcmp((const char *)id, order.v[k]);
			xmlFree(id);
			if (match) {
				pv_push(&picked, n);
				refs.v[i] = NULL;
				break;
			}
		}
	for (size_t i = 0; i < refs.n; i++)
		if (refs.v[i])
			pv_push(&picked, refs.v[i]);
	for (size_t i = 0; i < picked.n && !rc; i++) {
		xmlNodePtr n = picked.v[i];
		xmlChar *t = xmlNodeGetContent(n);
		char *rel = dist_url_path((const char *)t);
		xmlFree(t);
		char where[64];
		snprintf(where, sizeof where, "line %ld", (long)xmlGetLineNo(n));
		char *p = rel ? path_join(path, rel) : NULL;
		/* Relative to Contents/Packages too (path is "" at the top). */
		char *p2 = rel ? path_join(path, "Contents/Packages") : NULL;
		char *p2n = p2 ? path_join(p2, rel) : NULL;
		free(p2);
		const char *use = NULL;
		if (p && package_path_type(pkg, p, &rc, err) == SRC_DIR)
			use = p;
		else if (!rc && p2n && package_path_type(pkg, p2n, &rc, err) == SRC_DIR)
			use = p2n;
		if (!rc && !use)
			rc = fail(err, PKGFLAT_E_FORMAT, name, where,
			    "pkg-ref \"%s\" names a package that is not there (or "
			    "outside the input)", rel ? rel : "");
		xmlChar *rid = xmlGetProp(n, BAD_CAST "id");
		if (!rc)
			rc = add_child(b, use, NULL, depth, stack, err);
		if (!rc && select_tree(b->children.v[b->children.n - 1],
		    dist_ref_selection(root, (const char *)rid)))
			rc = fail_nomem(err);
		xmlFree(rid);
		done++;
		free(rel);
		free(p);
		free(p2n);
	}
	pv_free(&picked, NULL);
	if (!rc && !done)
		package_warn(pkg, "%s: distribution script names no packages", dist);
	pv_free(&refs, NULL);
out:
	pv_free(&order, xmlFree);
	xmlFreeDoc(doc);
	free(name);
	return rc;
}

/*
 * A hybrid metapackage: Installer 10.4 and later install what its .dist
 * says, with the .dist's choices, so each listed package takes the
 * selection of the .dist choice that names it.
 */
static pkgflat_status hybrid_selection(pkgflat_component *b, const char *path,
    const char *dist, pkgflat_error *err)
{
	xmlDocPtr doc = NULL;
	pkgflat_status rc = dist_load(b->pkg, dist, &doc, err);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	char *pk = path_join(path, "Contents/Packages");

	for (xmlNodePtr n = root ? root->children : NULL; n && !rc; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name,
		    "pkg-ref"))
			continue;
		xmlChar *t = xmlNodeGetContent(n);
		char *rel = t ? dist_url_path((const char *)t) : NULL;
		xmlFree(t);
		char *p = rel && rel[0] ? path_join(path, rel) : NULL;
		char *p2 = rel && rel[0] && pk ? path_join(pk, rel) : NULL;
		xmlChar *id = xmlGetProp(n, BAD_CAST "id");
		for (size_t i = 0; i < b->children.n; i++) {
			pkgflat_component *c = b->children.v[i];
			const char *cp = c->field[PKGFLAT_F_PATH];
			if (cp && ((p && !strcmp(cp, p)) || (p2 && !strcmp(cp, p2))) &&
			    select_tree(c, dist_ref_selection(root, (const char *)id)))
				rc = fail_nomem(err);
		}
		xmlFree(id);
		free(rel);
		free(p);
		free(p2);
	}
	free(pk);
	xmlFreeDoc(doc);
	return rc;
}

static pkgflat_status find_dist(pkgflat_package *pkg, const char *contents,
    char **out, pkgflat_error *err)
{
	ptrvec names = { 0 };
	pkgflat_status rc = pkg->src->ops->list(pkg->src, contents, &names, err);

	*out = NULL;
	for (size_t i = 0; i < names.n && !rc && !*out; i++)
		if (str_has_suffix(names.v[i], ".dist") &&
		    !(*out = path_join(contents, names.v[i])))
			rc = fail_nomem(err);
	pv_free(&names, free);
	return rc;
}

/* ------------------------------------------------------------------ */
/* One bundle                                                         */

static pkgflat_status find_archive_file(pkgflat_component *b,
    const char *contents,
    const char *res, const char *const *names, enum pkgflat_field f,
    const char *cheetah_ext, pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;

	for (int i = 0; names[i] && !rc; i++) {
		char *p = path_join(contents, names[i]);
		if (!p)
			return fail_nomem(err);
		if (package_path_type(b->pkg, p, &rc, err) == SRC_FILE) {
			b->field[f] = p;
			return PKGFLAT_OK;
		}
		free(p);
	}
	if (rc)
		return rc;
	/* Cheetah layout: Resources/<Name>.pax.gz / <Name>.bom */
	const char *name = b->field[PKGFLAT_F_NAME];
	size_t n = strlen(name);
	if (str_has_suffix(name, ".pkg"))
		n -= 4;
	char *p = pf_asprintf("%s/%.*s%s", res, (int)n, name, cheetah_ext);
	if (!p)
		return fail_nomem(err);
	if (package_path_type(b->pkg, p, &rc, err) == SRC_FILE)
		b->field[f] = p;
	else
		free(p);
	return rc;
}

static pkgflat_status read_bundle(pkgflat_package *pkg, const char *path,
    int depth, ptrvec *stack, pkgflat_component **out, pkgflat_error *err)
{
	pkgflat_component *b = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	plist_t info = NULL;
	char *contents = path_join(path, "Contents");
	char *res = path_join(path, "Contents/Resources");
	char *info_path = path_join(path, "Contents/Info.plist");
	char *pkginfo = path_join(path, "Contents/PkgInfo");
	char *resolved = NULL, *cheetah = NULL, *dist = NULL;
	struct src_stat st;
	int pushed = 0;

	if (!contents || !res || !info_path || !pkginfo) {
		rc = fail_nomem(err);
		goto out;
	}
	if (depth > MAX_DEPTH) {
		char *n = src_display(pkg->src, path);
		rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
		    "metapackages nested more than %d deep", MAX_DEPTH);
		free(n);
		goto out;
	}
	if (++pkg->bundles > MAX_BUNDLES) {
		char *n = src_display(pkg->src, path);
		rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
		    "package lists name more than %d packages in all "
		    "(the same metapackage listed over and over?)", MAX_BUNDLES);
		free(n);
		goto out;
	}
	/* The same bundle inside itself would recurse forever. */
	if ((rc = src_resolve(pkg->src, path, &resolved, &st, err)))
		goto out;
	for (size_t i = 0; i < stack->n; i++)
		if (!strcmp(stack->v[i], resolved)) {
			char *n = src_display(pkg->src, path);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
			    "package list loops back to a package that contains it");
			free(n);
			goto out;
		}
	if (pv_push(stack, resolved)) {
		rc = fail_nomem(err);
		goto out;
	}
	pushed = 1;

	if (!(b = component_new(pkg))) {
		rc = fail_nomem(err);
		goto out;
	}
	b->kind = PKGFLAT_BUNDLE_COMPONENT;
	if (component_set(b, PKGFLAT_F_PATH, path) ||
	    component_set(b, PKGFLAT_F_NAME, path[0] ? path_base(path) :
	        path_base(pkg->path))) {
		rc = fail_nomem(err);
		goto out;
	}
	if (package_path_type(pkg, contents, &rc, err) != SRC_DIR) {
		if (!rc) {
			char *n = src_display(pkg->src, path);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
			    "not a bundle package: no Contents directory");
			free(n);
		}
		goto out;
	}

	if ((rc = find_dist(pkg, contents, &dist, err)))
		goto out;
	enum src_type t = package_path_type(pkg, info_path, &rc, err);
	if (rc)
		goto out;
	if (t == SRC_NONE && dist) {
		/* Tiger distribution packages need no Info.plist. */
	} else if (t == SRC_FILE) {
		if ((rc = legacy_load_plist(pkg, info_path, &info, err)))
			goto out;
		if (component_set(b, PKGFLAT_F_INFO_SOURCE, "Info.plist")) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = legacy_apply_info_plist(b, info, info_path, err)))
			goto out;
	} else {
		if ((rc = legacy_find_cheetah_info(b, res, &cheetah, err)))
			goto out;
		if (!cheetah || t != SRC_NONE) {
			char *n = src_display(pkg->src, info_path);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL, t == SRC_NONE ?
			    "file is missing (and there is no Cheetah .info file)" :
			    "not a regular file");
			free(n);
			goto out;
		}
		unsigned char *d = NULL;
		size_t len = 0;
		if ((rc = package_read_small(pkg, cheetah, &d, &len, err)))
			goto out;
		if (component_set(b, PKGFLAT_F_INFO_SOURCE, "Cheetah .info"))
			rc = fail_nomem(err);
		else
			rc = legacy_apply_cheetah_info(b, (char *)d, cheetah, err);
		free(d);
		if (rc)
			goto out;
		package_warn(pkg, "%s: no Contents/Info.plist; read the Cheetah "
		    "file %s instead", path, cheetah);
	}

	/* PkgInfo: "pmkrpkg1", maybe with a newline after it. */
	if (package_path_type(pkg, pkginfo, &rc, err) == SRC_FILE) {
		unsigned char *d = NULL;
		size_t len = 0;
		if ((rc = package_read_small(pkg, pkginfo, &d, &len, err)))
			goto out;
		if (len < 8 || memcmp(d, "pmkr", 4))
			package_warn(pkg, "%s: unexpected content (not \"pmkrpkg1\")",
			    pkginfo);
		free(d);
	} else if (!rc)
		package_warn(pkg, "%s: missing", pkginfo);
	if (rc)
		goto out;

	if (package_path_type(pkg, res, &rc, err) == SRC_DIR) {
		if ((rc = legacy_read_description(b, res, err)) ||
		    (rc = legacy_read_resources(b, res, err)) ||
		    (rc = legacy_read_check_strings(b, res, err)) ||
		    (rc = legacy_find_scripts(b, res, err)) ||
		    (rc = legacy_find_cheetah_scripts(b, res, cheetah, err)))
			goto out;
	}
	if (rc)
		goto out;

	/* Fallbacks for the identifier and the version. */
	if (!b->field[PKGFLAT_F_VERSION]) {
		char *pv = path_join(res, "package_version");
		if (pv && package_path_type(pkg, pv, &rc, err) == SRC_FILE) {
			unsigned char *d = NULL;
			size_t len = 0;
			if (!(rc = package_read_small(pkg, pv, &d, &len, err)))
				b->field[PKGFLAT_F_VERSION] =
				    legacy_package_version((const char *)d);
			free(d);
		}
		free(pv);
		if (rc)
			goto out;
	}
	const char *id = b->field[PKGFLAT_F_IDENTIFIER];
	if (!id) {
		package_warn(pkg, "%s: no CFBundleIdentifier; the package has no "
		    "identifier", path[0] ? path : b->field[PKGFLAT_F_NAME]);
	} else {
		if (!strncmp(id, "(null).", 7))
			package_warn(pkg, "%s: identifier \"%s\" starts with \"(null).\" "
			    "(PackageMaker without an organisation)", info_path, id);
		if (strpbrk(id, " \t"))
			package_warn(pkg, "%s: identifier \"%s\" contains spaces",
			    info_path, id);
	}

	/* Archive.sizes: "NumFiles n / InstalledSize kb / CompressedSize kb". */
	if (b->claimed_kbytes < 0) {
		char *sz = path_join(res, "Archive.sizes");
		if (sz && package_path_type(pkg, sz, &rc, err) == SRC_FILE) {
			unsigned char *d = NULL;
			size_t len = 0;
			if (!(rc = package_read_small(pkg, sz, &d, &len, err))) {
				const char *p = strstr((const char *)d, "InstalledSize");
				if (p)
					b->claimed_kbytes = strtoll(p + 13, NULL, 10);
			}
			free(d);
		}
		free(sz);
		if (rc)
			goto out;
	}

	/* Metapackage or component? */
	plist_t list = info ? plist_dict_get_item(info, "IFPkgFlagPackageList") :
	    NULL;
	if (list || dist) {
		b->kind = list && dist ? PKGFLAT_BUNDLE_HYBRID : list ?
		    PKGFLAT_BUNDLE_METAPACKAGE : PKGFLAT_BUNDLE_DISTRIBUTION;
		if (dist && !(b->field[PKGFLAT_F_DIST_FILE] = pf_strdup(dist))) {
			rc = fail_nomem(err);
			goto out;
		}
		if (list) {
			rc = read_package_list(b, path, list, info_path, depth, stack,
			    err);
			if (!rc && dist) {
				package_warn(pkg, "%s: has both IFPkgFlagPackageList and "
				    "%s; Installer 10.4 and later (and convert) follow the "
				    "distribution script", info_path, dist);
				rc = hybrid_selection(b, path, dist, err);
			}
		} else
			rc = read_dist(b, path, dist, depth, stack, err);
		if (rc)
			goto out;
	} else {
		static const char *const payloads[] = {
			"Archive.pax.gz", "Archive.pax", "Archive.cpio.gz",
			"Archive.cpio", NULL
		};
		static const char *const boms[] = { "Archive.bom", NULL };
		if ((rc = find_archive_file(b, contents, res, payloads,
		        PKGFLAT_F_PAYLOAD_PATH, ".pax.gz", err)) ||
		    (rc = find_archive_file(b, contents, res, boms,
		        PKGFLAT_F_BOM_PATH, ".bom", err)))
			goto out;
		b->has_payload = b->field[PKGFLAT_F_PAYLOAD_PATH] != NULL;
		b->has_bom = b->field[PKGFLAT_F_BOM_PATH] != NULL;
		if (!b->has_payload)
			package_warn(pkg, "%s: no Archive.pax.gz: nothing to install",
			    path[0] ? path : b->field[PKGFLAT_F_NAME]);
	}
	*out = b;
	b = NULL;
out:
	if (pushed)
		stack->n--;
	free(resolved);
	component_free(b);
	if (info)
		plist_free(info);
	free(contents);
	free(res);
	free(info_path);
	free(pkginfo);
	free(cheetah);
	free(dist);
	return rc;
}

int legacy_sniff(pkgflat_package *pkg, const char *dir)
{
	(void)pkg;
	(void)dir;
	return 1; /* the fallback: its reader says what is missing */
}

pkgflat_status legacy_read(pkgflat_package *pkg, const char *dir,
    pkgflat_component **out, pkgflat_error *err)
{
	ptrvec stack = { 0 };
	pkgflat_status rc = read_bundle(pkg, dir, 0, &stack, out, err);

	pv_free(&stack, NULL);
	return rc;
}

