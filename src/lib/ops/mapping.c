/*
 * The legacy->flat mapping (legacy-format.md §7-§9): which components the
 * product gets and what they are named, what each Info.plist key becomes,
 * and the record of every decision and warning (the convert result). The
 * Distribution it implies is in mapping_dist.c, requirement JavaScript in
 * mapping_js.c; convert writes what this decides, and diff asks it what
 * convert would have written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_scripts.h"
#include "mapping.h"

void pkgflat_convert_options_init(pkgflat_convert_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->ownership = PKGFLAT_OWNERSHIP_RECOMMENDED;
	opt->toc_checksum = PKGFLAT_TOC_SHA1;
	opt->timestamp = -1;
}

/* ------------------------------------------------------------------ */
/* The result                                                         */

static void mapping_free(void *p)
{
	pkgflat_mapping *m = p;

	if (!m)
		return;
	free((char *)m->component);
	free((char *)m->legacy);
	free((char *)m->value);
	free((char *)m->flat);
	free((char *)m->note);
	free(m);
}

static void converted_free(void *p)
{
	pkgflat_converted *c = p;

	if (!c)
		return;
	free((char *)c->name);
	free((char *)c->identifier);
	free((char *)c->version);
	free(c);
}

void pkgflat_convert_result_free(pkgflat_convert_result *r)
{
	if (!r)
		return;
	pv_free(&r->comps, converted_free);
	pv_free(&r->maps, mapping_free);
	pv_free(&r->warnings, free);
	free(r);
}

size_t pkgflat_convert_component_count(const pkgflat_convert_result *r)
{
	return r->comps.n;
}

const pkgflat_converted *pkgflat_convert_component(
    const pkgflat_convert_result *r, size_t i)
{
	return i < r->comps.n ? r->comps.v[i] : NULL;
}

size_t pkgflat_convert_mapping_count(const pkgflat_convert_result *r)
{
	return r->maps.n;
}

const pkgflat_mapping *pkgflat_convert_mapping(const pkgflat_convert_result *r,
    size_t i)
{
	return i < r->maps.n ? r->maps.v[i] : NULL;
}

size_t pkgflat_convert_warning_count(const pkgflat_convert_result *r)
{
	return r->warnings.n;
}

const char *pkgflat_convert_warning(const pkgflat_convert_result *r, size_t i)
{
	return i < r->warnings.n ? r->warnings.v[i] : NULL;
}

void conv_warn(struct conv *c, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	if (!c)
		return; /* convert_requirement_js() for diff */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *w = pf_strdup(buf);
	if (w && pv_push(&c->res->warnings, w))
		free(w);
}

void conv_warn_cb(void *ctx, const char *fmt, ...)
{
	struct conv *c = ctx;
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	conv_warn(c, "%s", buf);
}

/* Record one decision. flat NULL: dropped. */
void conv_map(struct conv *c, const char *comp, const char *legacy,
    const char *value, const char *flat, const char *note)
{
	pkgflat_mapping *m;

	if (!c)
		return;
	m = pf_calloc(1, sizeof *m);
	if (!m || pv_push(&c->res->maps, m)) {
		free(m);
		return;
	}
	m->component = pf_strdup(comp);
	m->legacy = pf_strdup(legacy);
	m->value = pf_strdup(value);
	m->flat = pf_strdup(flat);
	m->note = pf_strdup(note);
}

const char *flat_bool(int v)
{
	return v > 0 ? "true" : "false";
}

/* ------------------------------------------------------------------ */
/* Info.plist keys                                                    */

const char *flat_postinstall_action(const char *restart)
{
	if (!restart || !strcmp(restart, "none"))
		return "none";
	if (!strcmp(restart, "logout"))
		return "logout";
	if (!strcmp(restart, "shutdown"))
		return "shutdown";
	return "restart";
}

const char *flat_on_conclusion(const char *restart)
{
	if (!restart || !strcmp(restart, "none"))
		return "none";
	if (!strcmp(restart, "recommended-restart"))
		return "RecommendRestart";
	if (!strcmp(restart, "logout"))
		return "RequireLogout";
	if (!strcmp(restart, "shutdown"))
		return "RequireShutdown";
	return "RequireRestart";
}

/* Every Info.plist key not mapped by name above: say it was dropped, and
 * why. Keys that are handled elsewhere are listed here to be skipped. */
void conv_map_remaining_keys(struct conv *c, const pkgflat_component *b,
    const char *n)
{
	static const char *const handled[] = {
		"CFBundleIdentifier", "CFBundleShortVersionString",
		"IFPkgFlagDefaultLocation", "IFPkgFlagAuthorizationAction",
		"IFPkgFlagRestartAction", "IFPkgFlagRelocatable",
		"IFPkgFlagOverwritePermissions", "IFPkgFlagFollowLinks",
		"IFPkgFlagRootVolumeOnly", "IFPkgFlagIsRequired",
		"IFPkgFlagAllowBackRev", "IFPkgFlagInstallFat", "IFPkgFlagUseUserMask",
		"IFPkgFlagUpdateInstalledLanguages", "IFPkgFlagInstalledSize",
		"IFRequirementDicts", "IFPkgFlagBackgroundAlignment",
		"IFPkgFlagBackgroundScaling", "IFPkgFlagComponentDirectory",
		"IFPkgFlagPackageList",
	};
	static const char *const informational[] = {
		"CFBundleGetInfoString", "CFBundleName", "CFBundleVersion",
		"CFBundleDevelopmentRegion", "CFBundleInfoDictionaryVersion",
		"CFBundleSignature", "CFBundlePackageType", "IFMajorVersion",
		"IFMinorVersion", "IFMinorRevision", "IFPkgFormatVersion",
		"IFPkgBuildDate", "IFPkgBuildVersion", "IFPkgCreator",
		"Bundle identifier",
	};
	for (size_t i = 0; i < pkgflat_component_key_count(b); i++) {
		const char *v = NULL, *k = pkgflat_component_key(b, i, &v);
		size_t j;
		for (j = 0; j < sizeof handled / sizeof *handled; j++)
			if (!strcmp(k, handled[j]))
				break;
		if (j < sizeof handled / sizeof *handled)
			continue;
		const char *why = "unknown key; no flat equivalent";
		for (j = 0; j < sizeof informational / sizeof *informational; j++)
			if (!strcmp(k, informational[j]))
				why = "informational; no flat equivalent";
		if (!strcmp(k, "IFPkgFlagUpdateInstalledLangauges"))
			why = "misspelled key that Installer never read";
		conv_map(c, n, k, v, NULL, why);
	}
}

/* The selection attributes generate_distribution() (mapping_dist.c)
 * gives a choice, as the report quotes them. */
static const char *choice_selection_attrs(const char *selection)
{
	if (!strcmp(selection, "required"))
		return "selected=\"true\" enabled=\"false\"";
	return strcmp(selection, "unselected") ? "start_selected=\"true\"" :
	    "start_selected=\"false\"";
}

/* Record how a component's Info.plist keys were mapped. */
void conv_map_component(struct conv *c, struct comp *k)
{
	const pkgflat_component *b = k->b;
	const char *n = k->name;
	char flat[256];
	const char *v;

	conv_map(c, n, "CFBundleIdentifier", pkgflat_component_get(b,
	    PKGFLAT_F_IDENTIFIER), "PackageInfo identifier, pkg-ref id, choice id",
	    k->id != pkgflat_component_get(b, PKGFLAT_F_IDENTIFIER) &&
	    (!pkgflat_component_get(b, PKGFLAT_F_IDENTIFIER) ||
	    strcmp(k->id, pkgflat_component_get(b, PKGFLAT_F_IDENTIFIER))) ?
	    k->id : NULL);
	conv_map(c, n, "CFBundleShortVersionString", pkgflat_component_get(b,
	    PKGFLAT_F_VERSION), "PackageInfo version, pkg-ref version", NULL);
	v = pkgflat_component_get(b, PKGFLAT_F_INSTALL_LOCATION);
	snprintf(flat, sizeof flat, "PackageInfo install-location=\"%s\"",
	    v ? v : "/");
	conv_map(c, n, "IFPkgFlagDefaultLocation", v, flat, v ? NULL :
	    "absent: installs relative to /");
	v = pkgflat_component_get(b, PKGFLAT_F_AUTH);
	snprintf(flat, sizeof flat, "PackageInfo auth=\"%s\", pkg-ref auth=\"%s\"",
	    v && !strcmp(v, "none") ? "none" : "root",
	    v && !strcmp(v, "none") ? "none" : "Root");
	conv_map(c, n, "IFPkgFlagAuthorizationAction", v, flat, v && !strcmp(v,
	    "admin") ? "flat packages have no admin-only mode: root" : NULL);
	v = pkgflat_component_get(b, PKGFLAT_F_RESTART);
	snprintf(flat, sizeof flat,
	    "PackageInfo postinstall-action=\"%s\", pkg-ref onConclusion=\"%s\"",
	    flat_postinstall_action(v), flat_on_conclusion(v));
	conv_map(c, n, "IFPkgFlagRestartAction", v, flat, NULL);
	static const struct {
		enum pkgflat_flag f;
		const char *key, *flat;
	} flags[] = {
		{ PKGFLAT_FLAG_RELOCATABLE, "IFPkgFlagRelocatable",
		  "PackageInfo relocatable" },
		{ PKGFLAT_FLAG_OVERWRITE_PERMISSIONS, "IFPkgFlagOverwritePermissions",
		  "PackageInfo overwrite-permissions" },
		{ PKGFLAT_FLAG_FOLLOW_LINKS, "IFPkgFlagFollowLinks",
		  "PackageInfo followSymLinks" },
		{ PKGFLAT_FLAG_ROOT_VOLUME_ONLY, "IFPkgFlagRootVolumeOnly",
		  "Distribution options rootVolumeOnly and domains" },
		{ PKGFLAT_FLAG_ALLOW_BACK_REV, "IFPkgFlagAllowBackRev",
		  "Distribution volume-check downgrade test when false" },
	};
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		int f = pkgflat_component_flag(b, flags[i].f);
		if (f >= 0)
			conv_map(c, n, flags[i].key, flat_bool(f), flags[i].flat, NULL);
	}
	int req = pkgflat_component_flag(b, PKGFLAT_FLAG_REQUIRED);
	if (req >= 0) {
		/* Say what the choice got, which also depends on the selection. */
		snprintf(flat, sizeof flat, "Distribution choice %s",
		    choice_selection_attrs(k->selection));
		conv_map(c, n, "IFPkgFlagIsRequired", flat_bool(req), flat, req > 0 ? NULL :
		    !strcmp(k->selection, "required") ? "required by the "
		    "metapackage's package list" : "the user may deselect it");
	}
	static const struct {
		enum pkgflat_flag f;
		const char *key, *why;
	} dropped[] = {
		{ PKGFLAT_FLAG_INSTALL_FAT, "IFPkgFlagInstallFat",
		  "flat Installer never thins binaries" },
		{ PKGFLAT_FLAG_USE_USER_MASK, "IFPkgFlagUseUserMask",
		  "no flat equivalent" },
		{ PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES,
		  "IFPkgFlagUpdateInstalledLanguages",
		  "no flat equivalent (deleteObsoleteLanguages is another feature)" },
	};
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++) {
		int f = pkgflat_component_flag(b, dropped[i].f);
		if (f >= 0)
			conv_map(c, n, dropped[i].key, flat_bool(f), NULL, dropped[i].why);
	}
	if (pkgflat_component_claimed_kbytes(b) >= 0) {
		char v2[32];
		snprintf(v2, sizeof v2, "%lld",
		    (long long)pkgflat_component_claimed_kbytes(b));
		conv_map(c, n, "IFPkgFlagInstalledSize", v2, NULL,
		    "recomputed from the payload");
	}
	if (pkgflat_component_get(b, PKGFLAT_F_TITLE))
		conv_map(c, n, "IFPkgDescriptionTitle", pkgflat_component_get(b,
		    PKGFLAT_F_TITLE), "Distribution choice title", NULL);
	else {
		/* generate_distribution() falls back on the component's name. */
		snprintf(flat, sizeof flat, "Distribution choice title=\"%s\"",
		    k->title ? k->title : k->name);
		conv_map(c, n, "IFPkgDescriptionTitle", NULL, flat,
		    "no title: the component's name");
	}
	if (pkgflat_component_get(b, PKGFLAT_F_DESCRIPTION))
		conv_map(c, n, "IFPkgDescriptionDescription", pkgflat_component_get(b,
		    PKGFLAT_F_DESCRIPTION), "Distribution choice description", NULL);
	if (pkgflat_component_get(b, PKGFLAT_F_DELETE_WARNING))
		conv_map(c, n, "IFPkgDescriptionDeleteWarning", pkgflat_component_get(b,
		    PKGFLAT_F_DELETE_WARNING), NULL, "informational");
	conv_map_remaining_keys(c, b, n);
}

/* ------------------------------------------------------------------ */
/* The product's components                                          */

static int has_phase_scripts(const pkgflat_component *b, int phase)
{
	for (int s = 0; s < PKGFLAT_SCRIPT_COUNT_; s++)
		if (pkgflat_component_script(b, s) && scripts_phase_includes(phase, s))
			return 1;
	return 0;
}

/* An archive-safe, unique component directory name. */
static char *component_name(struct conv *c, const char *base, const char *suffix)
{
	strbuf sb = { 0 };
	const char *n = base;
	size_t len = strlen(base);

	if (suffix && str_has_suffix(base, ".mpkg"))
		len -= 5;
	else if (suffix && str_has_suffix(base, ".pkg"))
		len -= 4;
	for (; n < base + len; n++)
		sb_add(&sb, *n == '/' || *n == ':' ? "_" : n, 1);
	if (suffix)
		sb_adds(&sb, suffix);
	if (!str_has_suffix(sb.buf ? sb.buf : "", ".pkg")) {
		if (str_has_suffix(sb.buf ? sb.buf : "", ".mpkg"))
			sb.len -= 5;
		sb_adds(&sb, ".pkg");
	}
	char *name = sb_detach(&sb);
	/* Apple's xar drops siblings whose names differ only in case. */
	for (int k = 2; name; k++) {
		int clash = !str_casecmp_ascii(name, "Distribution") ||
		    !str_casecmp_ascii(name, "Resources");
		for (size_t i = 0; i < c->ncomps && !clash; i++)
			if (c->comps[i].name && !str_casecmp_ascii(c->comps[i].name, name))
				clash = 1;
		if (!clash)
			break;
		char *stem = pf_strndup(name, strlen(name) - 4);
		char *next = stem ? pf_asprintf("%s-%d.pkg", stem, k) : NULL;
		free(stem);
		free(name);
		name = next;
		if (k > 10000)
			break;
	}
	return name;
}

static void collect(struct conv *c, const pkgflat_component *b,
    const char *parent_sel)
{
	size_t n = pkgflat_component_child_count(b);

	if (pkgflat_component_kind(b) == PKGFLAT_BUNDLE_COMPONENT) {
		struct comp *k = &c->comps[c->ncomps++];
		const char *sel = pkgflat_component_get(b, PKGFLAT_F_SELECTION);
		if (!sel)
			sel = "selected";
		if (pkgflat_component_flag(b, PKGFLAT_FLAG_REQUIRED) > 0)
			sel = "required";
		/* An unselected metapackage leaves its parts unselected. */
		if (parent_sel && !strcmp(parent_sel, "unselected") &&
		    strcmp(sel, "required"))
			sel = "unselected";
		k->b = b;
		k->selection = sel;
		return;
	}
	const char *sel = pkgflat_component_get(b, PKGFLAT_F_SELECTION);
	if (parent_sel && !strcmp(parent_sel, "unselected"))
		sel = parent_sel;
	for (size_t i = 0; i < n; i++)
		collect(c, pkgflat_component_child(b, i), sel);
}

pkgflat_status conv_plan(struct conv *c)
{
	const pkgflat_component *root = pkgflat_package_root(c->pkg);
	size_t n = pkgflat_package_component_count(c->pkg);
	int meta = pkgflat_component_kind(root) != PKGFLAT_BUNDLE_COMPONENT;
	int pre = meta && has_phase_scripts(root, SCRIPTS_PRE);
	int post = meta && has_phase_scripts(root, SCRIPTS_POST);

	if (!(c->comps = pf_calloc(n + 2, sizeof *c->comps)))
		return fail_nomem(c->err);
	if (c->opt->identifier && n != 1)
		return fail(c->err, PKGFLAT_E_USAGE, NULL, NULL,
		    "--identifier is for a single component; this package has %zu",
		    n);
	/* Metapackage scripts run before and after all components. */
	if (pre) {
		struct comp *k = &c->comps[c->ncomps++];
		k->b = root;
		k->scripts_only = 1;
		k->phases = SCRIPTS_PRE;
		k->selection = "required";
	}
	collect(c, root, NULL);
	if (post) {
		struct comp *k = &c->comps[c->ncomps++];
		k->b = root;
		k->scripts_only = 1;
		k->phases = SCRIPTS_POST;
		k->selection = "required";
	}
	for (size_t i = 0; i < c->ncomps; i++) {
		struct comp *k = &c->comps[i];
		const char *id = pkgflat_component_get(k->b, PKGFLAT_F_IDENTIFIER);
		const char *name = pkgflat_component_get(k->b, PKGFLAT_F_NAME);
		if (k->scripts_only) {
			k->name = component_name(c, name, k->phases == SCRIPTS_PRE ?
			    "-preflight" : "-postflight");
			k->id = pf_asprintf("%s.%s", id ? id : "pkgflat.metapackage",
			    k->phases == SCRIPTS_PRE ? "preflight" : "postflight");
			k->title = pf_strdup(k->phases == SCRIPTS_PRE ?
			    "Preparation" : "Completion");
			conv_map(c, name, "metapackage scripts", NULL, k->name,
			    k->phases == SCRIPTS_PRE ? "a scripts-only component "
			    "that runs first" : "a scripts-only component that runs last");
		} else {
			k->name = component_name(c, name, NULL);
			if (c->opt->identifier)
				k->id = pf_strdup(c->opt->identifier);
			else {
				/* The fallback diff pairs by too, so --check holds. */
				k->id = pf_strdup(pkgflat_component_identifier(k->b));
				if (!id)
					conv_warn(c, "%s: no identifier; using %s", name,
					    k->id ? k->id : "");
			}
			const char *v = pkgflat_component_get(k->b, PKGFLAT_F_VERSION);
			k->title = pf_strdup(pkgflat_component_get(k->b, PKGFLAT_F_TITLE));
			k->desc = pf_strdup(pkgflat_component_get(k->b,
			    PKGFLAT_F_DESCRIPTION));
			if (!v)
				conv_warn(c, "%s: no version; using 0", name);
			k->version = pf_strdup(v ? v : "0");
		}
		if (!k->version)
			k->version = pf_strdup(pkgflat_component_get(k->b,
			    PKGFLAT_F_VERSION) ? pkgflat_component_get(k->b,
			    PKGFLAT_F_VERSION) : "0");
		if (!k->name || !k->id || !k->version)
			return fail_nomem(c->err);
		if (strpbrk(k->id, " \t"))
			conv_warn(c, "%s: identifier \"%s\" contains spaces; kept so that "
			    "receipts of the legacy package still match", k->name, k->id);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->comps[j].id, k->id))
				return fail(c->err, PKGFLAT_E_UNSUPPORTED, NULL, NULL,
				    "two components share the identifier %s (%s and %s); "
				    "a product archive needs distinct ones", k->id,
				    c->comps[j].name, k->name);
	}
	return PKGFLAT_OK;
}

void conv_free_plan(struct conv *c)
{
	for (size_t i = 0; i < c->ncomps; i++) {
		free(c->comps[i].name);
		free(c->comps[i].id);
		free(c->comps[i].version);
		free(c->comps[i].title);
		free(c->comps[i].desc);
	}
	free(c->comps);
	c->comps = NULL;
	c->ncomps = 0;
}

/* A carried .dist has its own choices and options: what the component
 * mapping says it would have written there is not in the output. */
void conv_superseded(struct conv *c, size_t from)
{
	for (size_t i = from; i < c->res->maps.n; i++) {
		pkgflat_mapping *m = c->res->maps.v[i];
		if (!m->flat || (strncmp(m->flat, "Distribution choice", 19) &&
		    strncmp(m->flat, "Distribution options", 20)))
			continue;
		char *note = pf_asprintf("not written as %s: the distribution "
		    "script's own choices and options decide, as with Installer "
		    "10.4 and later", m->flat);
		if (!note)
			continue;
		free((char *)m->flat);
		free((char *)m->note);
		m->flat = NULL;
		m->note = note;
	}
}
