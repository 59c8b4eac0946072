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

#include "bundle.h"
#include "dist.h"
#include "plist.h"
#include "strtab.h"

#define MAX_META_FILE (16u << 20)   /* plists, scripts, text resources */
#define MAX_DEPTH 16                /* nesting of metapackages */
/* Bundles read in all: package lists that name the same metapackage
 * several times at each level would otherwise read it exponentially often
 * (a metapackage is read once per mention, as Installer shows it). */
#define MAX_BUNDLES 4096
#define MAX_RESOURCES 100000

static const char *const script_names[PKGFLAT_SCRIPT_COUNT_] = {
	[PKGFLAT_SCRIPT_INSTALLATION_CHECK] = "InstallationCheck",
	[PKGFLAT_SCRIPT_VOLUME_CHECK] = "VolumeCheck",
	[PKGFLAT_SCRIPT_PREFLIGHT] = "preflight",
	[PKGFLAT_SCRIPT_PREINSTALL] = "preinstall",
	[PKGFLAT_SCRIPT_PREUPGRADE] = "preupgrade",
	[PKGFLAT_SCRIPT_POSTINSTALL] = "postinstall",
	[PKGFLAT_SCRIPT_POSTUPGRADE] = "postupgrade",
	[PKGFLAT_SCRIPT_POSTFLIGHT] = "postflight",
};

const char *pkgflat_script_name(enum pkgflat_script s)
{
	return (unsigned)s < PKGFLAT_SCRIPT_COUNT_ ? script_names[s] : NULL;
}

/* 10.0/10.1 packages name their scripts after the bundle:
 * "<Name>.pre_install" ran where later packages run "preinstall". */
static const struct {
	const char *suffix;
	enum pkgflat_script script;
} cheetah_scripts[] = {
	{ ".pre_install", PKGFLAT_SCRIPT_PREINSTALL },
	{ ".pre_upgrade", PKGFLAT_SCRIPT_PREUPGRADE },
	{ ".post_install", PKGFLAT_SCRIPT_POSTINSTALL },
	{ ".post_upgrade", PKGFLAT_SCRIPT_POSTUPGRADE },
};

int pkgflat_script_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++)
		if (!strcmp(name, script_names[i]))
			return i;
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof cheetah_scripts / sizeof *cheetah_scripts;
	    i++) {
		size_t k = strlen(cheetah_scripts[i].suffix);
		if (n > k && !strchr(name, '/') &&
		    !strcmp(name + n - k, cheetah_scripts[i].suffix))
			return (int)cheetah_scripts[i].script;
	}
	return -1;
}

/* Keys the reader understands; anything else in Info.plist is reported. */
static const char *const known_keys[] = {
	"CFBundleIdentifier", "CFBundleShortVersionString", "CFBundleVersion",
	"CFBundleGetInfoString", "CFBundleName", "CFBundleDevelopmentRegion",
	"CFBundleInfoDictionaryVersion", "CFBundleSignature",
	"CFBundlePackageType", "CFBundleExecutable", "CFBundleIconFile",
	"Bundle identifier",
	"IFMajorVersion", "IFMinorVersion", "IFMinorRevision",
	"IFPkgFormatVersion", "IFPkgFlagAllowBackRev",
	"IFPkgFlagAuthorizationAction", "IFPkgFlagDefaultLocation",
	"IFPkgFlagFollowLinks", "IFPkgFlagInstallFat", "IFPkgFlagInstalledSize",
	"IFPkgFlagIsRequired", "IFPkgFlagOverwritePermissions",
	"IFPkgFlagRelocatable", "IFPkgFlagRestartAction",
	"IFPkgFlagRootVolumeOnly", "IFPkgFlagUpdateInstalledLanguages",
	"IFPkgFlagUpdateInstalledLangauges", "IFPkgFlagUseUserMask",
	"IFPkgFlagBackgroundAlignment", "IFPkgFlagBackgroundScaling",
	"IFPkgFlagComponentDirectory", "IFPkgFlagPackageList",
	"IFRequirementDicts", "IFPkgPathMappings", "IFPkgBuildDate",
	"IFPkgBuildVersion", "IFPkgCreator", "IFPkgFlagPackageLocation",
	"IFPkgFlagPackageSelection",
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */

void package_warn(pkgflat_package *pkg, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *w = pf_strdup(buf);
	if (w && pv_push(&pkg->warnings, w))
		free(w);
}

static void resource_free(void *p)
{
	pkgflat_resource *r = p;

	if (!r)
		return;
	free((char *)r->path);
	free((char *)r->lang);
	free((char *)r->link_target);
	free(r);
}

static void requirement_free(void *p)
{
	pkgflat_requirement *q = p;

	if (!q)
		return;
	free((char *)q->level);
	free((char *)q->spec_type);
	free((char *)q->spec_argument);
	free((char *)q->spec_property);
	free((char *)q->test_operator);
	free((char *)q->test_object);
	free((char *)q->label_key);
	free((char *)q->title_key);
	free((char *)q->message_key);
	free(q);
}

static void string_free(void *p)
{
	pkgflat_string *s = p;

	if (!s)
		return;
	free((char *)s->table);
	free((char *)s->lang);
	free((char *)s->key);
	free((char *)s->value);
	free(s);
}

void bundle_free(void *p)
{
	pkgflat_bundle *b = p;

	if (!b)
		return;
	for (int i = 0; i < PKGFLAT_F_COUNT_; i++)
		free(b->field[i]);
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++)
		free(b->script[i]);
	pv_free(&b->children, bundle_free);
	pv_free(&b->resources, resource_free);
	pv_free(&b->localizations, free);
	pv_free(&b->requirements, requirement_free);
	pv_free(&b->strings, string_free);
	pv_free(&b->keys, free);
	free(b->fallback_id);
	free(b);
}

pkgflat_bundle *bundle_new(pkgflat_package *pkg)
{
	pkgflat_bundle *b = pf_calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->pkg = pkg;
	b->claimed_kbytes = -1;
	b->claimed_files = -1;
	for (int i = 0; i < PKGFLAT_FLAG_COUNT_; i++)
		b->flag[i] = -1;
	return b;
}

int bundle_set(pkgflat_bundle *b, enum pkgflat_field f, const char *v)
{
	free(b->field[f]);
	b->field[f] = NULL;
	if (!v)
		return 0;
	return (b->field[f] = pf_strdup(v)) ? 0 : -1;
}

/* Read a small file of the package; *data is NUL-terminated. */
static pkgflat_status read_small(pkgflat_package *pkg, const char *path,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	return src_read(pkg->src, path, MAX_META_FILE, data, len, err);
}

static pkgflat_status load_plist(pkgflat_package *pkg, const char *path,
    plist_t *out, pkgflat_error *err)
{
	unsigned char *d = NULL;
	size_t n = 0;
	pkgflat_status rc = read_small(pkg, path, &d, &n, err);

	if (rc)
		return rc;
	char *name = src_display(pkg->src, path);
	rc = plist_parse(d, n, name, out, err);
	if (!rc && plist_get_node_type(*out) != PLIST_DICT) {
		rc = fail(err, PKGFLAT_E_FORMAT, name, NULL,
		    "top level is not a dictionary");
		plist_free(*out);
		*out = NULL;
	}
	free(name);
	free(d);
	return rc;
}

static enum src_type kind_of(pkgflat_package *pkg, const char *path,
    pkgflat_status *rc, pkgflat_error *err)
{
	struct src_stat st;

	*rc = src_stat(pkg->src, path, &st, err);
	return *rc ? SRC_NONE : st.type;
}

/* ------------------------------------------------------------------ */
/* Info.plist, Description.plist and the Cheetah .info file            */

static const struct {
	const char *key;
	enum pkgflat_flag flag;
} flag_keys[] = {
	{ "IFPkgFlagRelocatable", PKGFLAT_FLAG_RELOCATABLE },
	{ "IFPkgFlagOverwritePermissions", PKGFLAT_FLAG_OVERWRITE_PERMISSIONS },
	{ "IFPkgFlagFollowLinks", PKGFLAT_FLAG_FOLLOW_LINKS },
	{ "IFPkgFlagRootVolumeOnly", PKGFLAT_FLAG_ROOT_VOLUME_ONLY },
	{ "IFPkgFlagAllowBackRev", PKGFLAT_FLAG_ALLOW_BACK_REV },
	{ "IFPkgFlagIsRequired", PKGFLAT_FLAG_REQUIRED },
	{ "IFPkgFlagInstallFat", PKGFLAT_FLAG_INSTALL_FAT },
	{ "IFPkgFlagUseUserMask", PKGFLAT_FLAG_USE_USER_MASK },
	{ "IFPkgFlagUpdateInstalledLanguages",
	  PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES },
};

static const struct {
	const char *legacy, *value;
} auth_values[] = {
	{ "RootAuthorization", "root" },
	{ "AdminAuthorization", "admin" },
	{ "NoAuthorization", "none" },
};

static const struct {
	const char *legacy, *value;
	int standard;
} restart_values[] = {
	{ "NoRestart", "none", 1 },
	{ "None", "none", 0 },
	{ "RecommendedRestart", "recommended-restart", 1 },
	{ "RequiredRestart", "restart", 1 },
	{ "RequiredLogout", "logout", 1 },
	{ "Shutdown", "shutdown", 1 },
	{ "RequiredShutdown", "shutdown", 0 },
};

static int is_known_key(const char *k)
{
	for (size_t i = 0; i < sizeof known_keys / sizeof *known_keys; i++)
		if (!strcmp(k, known_keys[i]))
			return 1;
	return 0;
}

static pkgflat_status read_requirements(pkgflat_bundle *b, plist_t info,
    const char *where_file, pkgflat_error *err)
{
	plist_t arr = plist_dict_get_item(info, "IFRequirementDicts");

	if (!arr)
		return PKGFLAT_OK;
	if (plist_get_node_type(arr) != PLIST_ARRAY) {
		package_warn(b->pkg, "%s: IFRequirementDicts is not an array; ignored",
		    where_file);
		return PKGFLAT_OK;
	}
	for (uint32_t i = 0; i < plist_array_get_size(arr); i++) {
		plist_t d = plist_array_get_item(arr, i);
		if (plist_get_node_type(d) != PLIST_DICT) {
			package_warn(b->pkg, "%s: IFRequirementDicts[%u] is not a "
			    "dictionary; ignored", where_file, i);
			continue;
		}
		pkgflat_requirement *q = pf_calloc(1, sizeof *q);
		if (!q || pv_push(&b->requirements, q)) {
			free(q);
			return fail_nomem(err);
		}
		q->level = pf_strdup(pl_str(d, "Level"));
		q->spec_type = pf_strdup(pl_str(d, "SpecType"));
		q->spec_argument = pl_text(plist_dict_get_item(d, "SpecArgument"));
		q->spec_property = pl_text(plist_dict_get_item(d, "SpecProperty"));
		q->test_operator = pf_strdup(pl_str(d, "TestOperator"));
		q->test_object = pl_text(plist_dict_get_item(d, "TestObject"));
		q->label_key = pf_strdup(pl_str(d, "LabelKey"));
		q->title_key = pf_strdup(pl_str(d, "TitleKey"));
		q->message_key = pf_strdup(pl_str(d, "MessageKey"));
		if (!q->spec_type)
			package_warn(b->pkg, "%s: IFRequirementDicts[%u] has no SpecType",
			    where_file, i);
	}
	return PKGFLAT_OK;
}

static pkgflat_status apply_info_plist(pkgflat_bundle *b, plist_t info,
    const char *rel, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	const char *s;
	int64_t n;

	/* Keys we do not know, in the order they appear. */
	plist_dict_iter it = NULL;
	plist_dict_new_iter(info, &it);
	for (;;) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(info, it, &key, &val);
		if (!key)
			break;
		if (!is_known_key(key))
			package_warn(pkg, "%s: unknown key %s", rel, key);
		plist_type t = plist_get_node_type(val);
		char *v = t == PLIST_ARRAY ? pf_strdup("(array)") :
		    t == PLIST_DICT ? pf_strdup("(dictionary)") : pl_text(val);
		if (!v)
			v = pf_strdup("");
		if (!v || pv_push(&b->keys, key)) {
			free(key);
			free(v);
			free(it);
			return fail_nomem(err);
		}
		if (pv_push(&b->keys, v)) {
			free(v);
			free(it);
			return fail_nomem(err);
		}
	}
	free(it);

	s = pl_str(info, "CFBundleIdentifier");
	if (!s && (s = pl_str(info, "Bundle identifier")))
		package_warn(pkg, "%s: no CFBundleIdentifier; using \"Bundle "
		    "identifier\" (%s)", rel, s);
	if (bundle_set(b, PKGFLAT_F_IDENTIFIER, s))
		return fail_nomem(err);

	s = pl_str(info, "CFBundleShortVersionString");
	if (!s)
		s = pl_str(info, "CFBundleVersion");
	if (bundle_set(b, PKGFLAT_F_VERSION, s))
		return fail_nomem(err);
	if (!b->field[PKGFLAT_F_VERSION]) {
		int64_t maj, min;
		if (pl_int(info, "IFMajorVersion", &maj)) {
			if (!pl_int(info, "IFMinorVersion", &min) &&
			    !pl_int(info, "IFMinorRevision", &min))
				min = 0;
			char *v = pf_asprintf("%lld.%lld", (long long)maj,
			    (long long)min);
			if (!v)
				return fail_nomem(err);
			b->field[PKGFLAT_F_VERSION] = v;
		}
	}

	s = pl_str(info, "IFPkgFlagDefaultLocation");
	if (bundle_set(b, PKGFLAT_F_INSTALL_LOCATION, s))
		return fail_nomem(err);

	s = pl_str(info, "IFPkgFlagAuthorizationAction");
	if (s) {
		const char *v = NULL;
		for (size_t i = 0; i < sizeof auth_values / sizeof *auth_values; i++)
			if (!strcmp(s, auth_values[i].legacy))
				v = auth_values[i].value;
		if (!v) {
			package_warn(pkg, "%s: IFPkgFlagAuthorizationAction: unknown "
			    "value \"%s\", read as RootAuthorization", rel, s);
			v = "root";
		}
		if (bundle_set(b, PKGFLAT_F_AUTH, v))
			return fail_nomem(err);
	}

	s = pl_str(info, "IFPkgFlagRestartAction");
	if (s) {
		const char *v = NULL;
		for (size_t i = 0; i < sizeof restart_values / sizeof *restart_values;
		    i++)
			if (!strcmp(s, restart_values[i].legacy)) {
				v = restart_values[i].value;
				if (!restart_values[i].standard)
					package_warn(pkg, "%s: IFPkgFlagRestartAction: "
					    "non-standard value \"%s\", read as %s", rel, s, v);
			}
		if (!v) {
			package_warn(pkg, "%s: IFPkgFlagRestartAction: unknown value "
			    "\"%s\", read as NoRestart", rel, s);
			v = "none";
		}
		if (bundle_set(b, PKGFLAT_F_RESTART, v))
			return fail_nomem(err);
	}

	for (size_t i = 0; i < sizeof flag_keys / sizeof *flag_keys; i++) {
		int odd = 0;
		int v = pl_bool(info, flag_keys[i].key, &odd);
		if (odd && v < 0)
			package_warn(pkg, "%s: %s is not a boolean; ignored", rel,
			    flag_keys[i].key);
		else if (odd)
			package_warn(pkg, "%s: %s is not written as a boolean; read as %s",
			    rel, flag_keys[i].key, v ? "true" : "false");
		b->flag[flag_keys[i].flag] = v;
	}
	if (plist_dict_get_item(info, "IFPkgFlagUpdateInstalledLangauges")) {
		package_warn(pkg, "%s: misspelled key IFPkgFlagUpdateInstalledLangauges "
		    "(Installer never read it); ignored", rel);
	}

	if (pl_int(info, "IFPkgFlagInstalledSize", &n))
		b->claimed_kbytes = n;
	if (bundle_set(b, PKGFLAT_F_BACKGROUND_ALIGNMENT,
	        pl_str(info, "IFPkgFlagBackgroundAlignment")) ||
	    bundle_set(b, PKGFLAT_F_BACKGROUND_SCALING,
	        pl_str(info, "IFPkgFlagBackgroundScaling")) ||
	    bundle_set(b, PKGFLAT_F_CREATOR, pl_str(info, "IFPkgCreator")) ||
	    bundle_set(b, PKGFLAT_F_DEVELOPMENT_REGION,
	        pl_str(info, "CFBundleDevelopmentRegion")) ||
	    bundle_set(b, PKGFLAT_F_COMPONENT_DIRECTORY,
	        pl_str(info, "IFPkgFlagComponentDirectory")))
		return fail_nomem(err);
	return read_requirements(b, info, rel, err);
}

/* Cheetah (10.0/10.1) "<Name>.info": lines of "Key Value". */
static pkgflat_status apply_cheetah_info(pkgflat_bundle *b, char *text,
    const char *rel, pkgflat_error *err)
{
	static const struct {
		const char *key;
		enum pkgflat_flag flag;
	} flags[] = {
		{ "Relocatable", PKGFLAT_FLAG_RELOCATABLE },
		{ "OverwritePermissions", PKGFLAT_FLAG_OVERWRITE_PERMISSIONS },
		{ "RootVolumeOnly", PKGFLAT_FLAG_ROOT_VOLUME_ONLY },
		{ "AllowBackRev", PKGFLAT_FLAG_ALLOW_BACK_REV },
		{ "Required", PKGFLAT_FLAG_REQUIRED },
		{ "InstallFat", PKGFLAT_FLAG_INSTALL_FAT },
		{ "UseUserMask", PKGFLAT_FLAG_USE_USER_MASK },
		{ "OnlyUpdateInstalledLanguages",
		  PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES },
	};
	char *save = NULL;

	for (char *line = strtok_r(text, "\r\n", &save); line;
	    line = strtok_r(NULL, "\r\n", &save)) {
		/* "### Package Flags" and other comment lines head sections. */
		line += strspn(line, " \t");
		if (line[0] == '#')
			continue;
		char *v = line + strcspn(line, " \t");
		if (*v)
			*v++ = '\0';
		v += strspn(v, " \t");
		int yes = !strcasecmp(v, "YES"), no = !strcasecmp(v, "NO");
		int r = 0;
		if (!strcmp(line, "Title"))
			r = bundle_set(b, PKGFLAT_F_TITLE, v);
		else if (!strcmp(line, "Version"))
			r = bundle_set(b, PKGFLAT_F_VERSION, v);
		else if (!strcmp(line, "Description"))
			r = bundle_set(b, PKGFLAT_F_DESCRIPTION, v);
		else if (!strcmp(line, "DefaultLocation"))
			r = bundle_set(b, PKGFLAT_F_INSTALL_LOCATION, v);
		else if (!strcmp(line, "DeleteWarning"))
			r = bundle_set(b, PKGFLAT_F_DELETE_WARNING, v);
		else if (!strcmp(line, "NeedsAuthorization"))
			r = bundle_set(b, PKGFLAT_F_AUTH, yes ? "root" : "none");
		else if (!strcmp(line, "RequiresReboot"))
			r = bundle_set(b, PKGFLAT_F_RESTART, yes ? "restart" : "none");
		else {
			size_t i;
			for (i = 0; i < sizeof flags / sizeof *flags; i++)
				if (!strcmp(line, flags[i].key)) {
					b->flag[flags[i].flag] = yes ? 1 : no ? 0 : -1;
					break;
				}
			if (i == sizeof flags / sizeof *flags && line[0])
				package_warn(b->pkg, "%s: unknown key %s", rel, line);
		}
		if (r)
			return fail_nomem(err);
	}
	return PKGFLAT_OK;
}

static pkgflat_status find_cheetah_info(pkgflat_bundle *b, const char *res,
    char **out, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec names = { 0 };
	pkgflat_status rc;
	struct src_stat st;

	*out = NULL;
	if ((rc = src_stat(pkg->src, res, &st, err)) || st.type != SRC_DIR)
		return rc;
	if ((rc = pkg->src->ops->list(pkg->src, res, &names, err)))
		return rc;
	/* Resources/<Name>.info first, then <lang>.lproj/<Name>.info. */
	for (size_t i = 0; i < names.n && !*out; i++)
		if (str_has_suffix(names.v[i], ".info"))
			*out = path_join(res, names.v[i]);
	for (size_t i = 0; i < names.n && !*out && !rc; i++) {
		if (!str_has_suffix(names.v[i], ".lproj"))
			continue;
		char *dir = path_join(res, names.v[i]);
		ptrvec sub = { 0 };
		if (dir && !(rc = pkg->src->ops->list(pkg->src, dir, &sub, err)))
			for (size_t j = 0; j < sub.n && !*out; j++)
				if (str_has_suffix(sub.v[j], ".info"))
					*out = path_join(dir, sub.v[j]);
		pv_free(&sub, free);
		free(dir);
	}
	pv_free(&names, free);
	return rc;
}

static pkgflat_status read_description(pkgflat_bundle *b, const char *res,
    pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	const char *region = b->field[PKGFLAT_F_DEVELOPMENT_REGION];
	char *cands[6] = { 0 };
	pkgflat_status rc = PKGFLAT_OK;
	int n = 0;

	cands[n++] = path_join(res, "Description.plist");
	if (region)
		cands[n++] = pf_asprintf("%s/%s.lproj/Description.plist", res, region);
	cands[n++] = pf_asprintf("%s/English.lproj/Description.plist", res);
	cands[n++] = pf_asprintf("%s/en.lproj/Description.plist", res);
	for (int i = 0; i < n && !rc; i++) {
		if (!cands[i]) {
			rc = fail_nomem(err);
			break;
		}
		enum src_type t = kind_of(pkg, cands[i], &rc, err);
		if (rc || t != SRC_FILE)
			continue;
		plist_t d = NULL;
		if ((rc = load_plist(pkg, cands[i], &d, err)))
			break;
		if (bundle_set(b, PKGFLAT_F_TITLE, pl_str(d, "IFPkgDescriptionTitle")) ||
		    bundle_set(b, PKGFLAT_F_DESCRIPTION,
		        pl_str(d, "IFPkgDescriptionDescription")) ||
		    bundle_set(b, PKGFLAT_F_DELETE_WARNING,
		        pl_str(d, "IFPkgDescriptionDeleteWarning")))
			rc = fail_nomem(err);
		plist_free(d);
		break;
	}
	for (int i = 0; i < n; i++)
		free(cands[i]);
	return rc;
}

/* "major: 9\nminor: 47" (PackageMaker) or "Major:\t1\nMinor:\t0" (Iceberg). */
static char *parse_package_version(const char *text)
{
	long maj = -1, min = -1;
	const char *p = text;

	while (*p) {
		if (!strncasecmp(p, "major:", 6))
			maj = strtol(p + 6, NULL, 10);
		else if (!strncasecmp(p, "minor:", 6))
			min = strtol(p + 6, NULL, 10);
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	if (maj < 0)
		return NULL;
	return pf_asprintf("%ld.%ld", maj, min < 0 ? 0 : min);
}

/* ------------------------------------------------------------------ */
/* Resources                                                          */

static const char *resource_role(const char *name)
{
	static const struct {
		const char *base, *role;
	} roles[] = {
		{ "welcome", "welcome" }, { "readme", "readme" },
		{ "license", "license" }, { "conclusion", "conclusion" },
		{ "background", "background" }, { "description", "description" },
		{ "package_version", "package-version" },
		{ "tokendefinitions", "tokens" },
	};
	char base[256];
	const char *dot = strrchr(name, '.');
	size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);

	if (pkgflat_script_from_name(name) >= 0)
		return "script";
	if (str_has_suffix(name, ".strings"))
		return "strings";
	if (str_has_suffix(name, ".sizes"))
		return "sizes";
	if (str_has_suffix(name, ".info") || str_has_suffix(name, ".bom") ||
	    str_has_suffix(name, ".pax.gz") || str_has_suffix(name, ".pax"))
		return "cheetah";
	if (n >= sizeof base)
		return "other";
	for (size_t i = 0; i < n; i++)
		base[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 :
		    name[i]);
	base[n] = '\0';
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (!strcmp(base, roles[i].base))
			return roles[i].role;
	return "other";
}

static pkgflat_status walk_resources(pkgflat_bundle *b, const char *res,
    const char *rel, const char *lang, int depth, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec names = { 0 };
	pkgflat_status rc;
	char *dir = rel[0] ? path_join(res, rel) : pf_strdup(res);

	if (!dir)
		return fail_nomem(err);
	if (depth > 32) {
		char *n = src_display(pkg->src, dir);
		rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
		    "resources nested too deeply");
		free(n);
		free(dir);
		return rc;
	}
	if ((rc = pkg->src->ops->list(pkg->src, dir, &names, err)))
		goto out;
	for (size_t i = 0; i < names.n && !rc; i++) {
		const char *name = names.v[i];
		char *rpath = rel[0] ? pf_asprintf("%s/%s", rel, name) :
		    pf_strdup(name);
		char *full = path_join(res, rpath ? rpath : "");
		struct src_stat lst, st;
		pkgflat_resource *r = NULL;

		if (!rpath || !full) {
			rc = fail_nomem(err);
			goto next;
		}
		if (b->resources.n >= MAX_RESOURCES) {
			char *n = src_display(pkg->src, res);
			rc = fail(err, PKGFLAT_E_FORMAT, n, NULL,
			    "more than %d resources", MAX_RESOURCES);
			free(n);
			goto next;
		}
		if ((rc = pkg->src->ops->lstat(pkg->src, full, &lst, err)))
			goto next;
		r = pf_calloc(1, sizeof *r);
		if (!r || pv_push(&b->resources, r)) {
			free(r);
			rc = fail_nomem(err);
			goto next;
		}
		r->path = rpath;
		rpath = NULL;
		r->lang = pf_strdup(lang);
		r->role = resource_role(name);
		if (lst.type == SRC_LINK) {
			r->link_target = pf_strdup(lst.link);
			if ((rc = src_stat(pkg->src, full, &st, err)))
				goto next;
			if (st.type == SRC_NONE) {
				package_warn(pkg, "%s: dangling symlink to %s", full,
				    r->link_target);
				goto next;
			}
		} else
			st = lst;
		r->size = st.type == SRC_FILE ? st.size : 0;
		r->mode = st.mode;
		if (st.type == SRC_DIR) {
			r->is_dir = 1;
			if (str_has_suffix(name, ".rtfd")) {
				r->mime = "text/rtfd";
				goto next; /* one document, not a folder of resources */
			}
			if (lst.type == SRC_LINK)
				goto next; /* do not walk into linked directories */
			if (str_has_suffix(name, ".lproj") && !lang) {
				char *l = pf_strndup(name, strlen(name) - 6);
				if (!l || pv_push(&b->localizations, l)) {
					free(l);
					rc = fail_nomem(err);
					goto next;
				}
				rc = walk_resources(b, res, r->path, l, depth + 1, err);
			} else
				rc = walk_resources(b, res, r->path, lang, depth + 1, err);
		} else if (st.type == SRC_FILE) {
			/* The first bytes tell the type; no need for the rest. */
			unsigned char head[1024];
			size_t n = 0;
			src_stream *in = NULL;
			if ((rc = src_open_stream(pkg->src, full, &in, err)))
				goto next;
			while (n < sizeof head) {
				long k = in->read(in, head + n, sizeof head - n);
				if (k < 0) {
					rc = err && err->status ? err->status : PKGFLAT_E_IO;
					break;
				}
				if (k == 0)
					break;
				n += (size_t)k;
			}
			src_stream_close(in);
			if (rc)
				goto next;
			r->mime = mime_sniff(head, n, name);
		}
next:
		free(rpath);
		free(full);
	}
out:
	pv_free(&names, free);
	free(dir);
	return rc;
}

pkgflat_status bundle_read_resources(pkgflat_bundle *b, const char *res,
    pkgflat_error *err)
{
	return walk_resources(b, res, "", NULL, 0, err);
}

struct strings_ctx {
	pkgflat_bundle *b;
	const char *table, *lang;
};

static int add_string(const char *key, const char *value, void *p)
{
	struct strings_ctx *c = p;
	pkgflat_string *s = pf_calloc(1, sizeof *s);

	if (!s || pv_push(&c->b->strings, s)) {
		free(s);
		return -1;
	}
	s->table = pf_strdup(c->table);
	s->lang = pf_strdup(c->lang);
	s->key = pf_strdup(key);
	s->value = pf_strdup(value);
	return !s->table || (c->lang && !s->lang) || !s->key || !s->value;
}

/* The message tables of the install checks. A broken table does not stop
 * the package from being read: it is reported as a warning. */
static pkgflat_status read_check_strings(pkgflat_bundle *b, const char *res,
    pkgflat_error *err)
{
	static const char *const tables[] = {
		"InstallationCheck", "VolumeCheck", "IFRequirements",
	};

	for (size_t i = 0; i < b->resources.n; i++) {
		const pkgflat_resource *r = b->resources.v[i];
		if (r->is_dir || strcmp(r->role, "strings"))
			continue;
		const char *base = path_base(r->path);
		for (size_t k = 0; k < sizeof tables / sizeof *tables; k++) {
			size_t tl = strlen(tables[k]);
			if (strncmp(base, tables[k], tl) || strcmp(base + tl, ".strings"))
				continue;
			char *full = path_join(res, r->path);
			unsigned char *d = NULL;
			size_t n = 0;
			pkgflat_status rc;
			if (!full)
				return fail_nomem(err);
			if ((rc = read_small(b->pkg, full, &d, &n, err))) {
				free(full);
				return rc;
			}
			struct strings_ctx c = { b, tables[k], r->lang };
			pkgflat_error e2;
			pkgflat_error_clear(&e2);
			rc = strings_parse(d, n, full, add_string, &c, &e2);
			if (rc == PKGFLAT_E_NOMEM) {
				free(d);
				free(full);
				return fail_nomem(err);
			}
			if (rc)
				package_warn(b->pkg, "%s: %s: %s; ignored", full, e2.where,
				    e2.message);
			free(d);
			free(full);
		}
	}
	return PKGFLAT_OK;
}

static pkgflat_status find_scripts(pkgflat_bundle *b, const char *res,
    pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;

	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++) {
		char *p = path_join(res, script_names[i]);
		struct src_stat st;
		pkgflat_status rc;

		if (!p)
			return fail_nomem(err);
		if ((rc = src_stat(pkg->src, p, &st, err))) {
			free(p);
			return rc;
		}
		if (st.type == SRC_FILE) {
			if (!(st.mode & 0111))
				package_warn(pkg, "%s: not executable; Installer would "
				    "not run it", p);
			b->script[i] = p;
		} else {
			if (st.type != SRC_NONE)
				package_warn(pkg, "%s: not a regular file; ignored", p);
			free(p);
		}
	}
	return PKGFLAT_OK;
}

/* The stem of name without suffix, when it ends so; else NULL. */
static char *stem_of(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix) ?
	    pf_strndup(name, n - k) : NULL;
}

/*
 * 10.0/10.1 scripts: Resources/<Name>.pre_install, .pre_upgrade,
 * .post_install, .post_upgrade, <Name> being the bundle's (as in
 * <Name>.info, .bom, .pax.gz). The stem of the .info file counts first,
 * then the bundle directory's; a lone file of a kind is taken whatever its
 * stem, since bundles get renamed. A later name (preinstall, ...) for the
 * same script wins: it is what a 10.2+ Installer looks for.
 */
static pkgflat_status find_cheetah_scripts(pkgflat_bundle *b, const char *res,
    const char *info, pkgflat_error *err)
{
	pkgflat_package *pkg = b->pkg;
	ptrvec names = { 0 };
	pkgflat_status rc;
	char *stems[2] = { NULL, NULL };

	if ((rc = pkg->src->ops->list(pkg->src, res, &names, err)))
		return rc;
	if (info)
		stems[0] = stem_of(path_base(info), ".info");
	const char *bn = b->field[PKGFLAT_F_NAME];
	if (!(stems[1] = stem_of(bn, ".pkg")) && !(stems[1] = stem_of(bn, ".mpkg")))
		stems[1] = pf_strdup(bn);
	for (size_t k = 0; !rc && k < sizeof cheetah_scripts /
	    sizeof *cheetah_scripts; k++) {
		const char *suffix = cheetah_scripts[k].suffix;
		const char *pick = NULL, *lone = NULL;
		size_t count = 0;
		for (size_t i = 0; i < names.n; i++) {
			char *st = stem_of(names.v[i], suffix);
			if (!st)
				continue;
			count++;
			lone = names.v[i];
			for (int j = 0; j < 2 && !pick; j++)
				if (stems[j] && !strcmp(st, stems[j]))
					pick = names.v[i];
			free(st);
		}
		if (!pick && count == 1)
			pick = lone;
		if (!pick) {
			if (count)
				package_warn(pkg, "%s: %zu files end in %s and none is named "
				    "after the bundle; none is run", res, count, suffix);
			continue;
		}
		enum pkgflat_script slot = cheetah_scripts[k].script;
		char *p = path_join(res, pick);
		struct src_stat st;
		if (!p) {
			rc = fail_nomem(err);
			break;
		}
		if ((rc = src_stat(pkg->src, p, &st, err))) {
			free(p);
			break;
		}
		if (st.type != SRC_FILE) {
			package_warn(pkg, "%s: not a regular file; ignored", p);
			free(p);
		} else if (b->script[slot]) {
			package_warn(pkg, "%s: the bundle also has %s, which Installer "
			    "runs instead; kept only as a file", p, script_names[slot]);
			free(p);
		} else {
			if (!(st.mode & 0111))
				package_warn(pkg, "%s: not executable; Installer would "
				    "not run it", p);
			b->script[slot] = p;
		}
	}
	free(stems[0]);
	free(stems[1]);
	pv_free(&names, free);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Metapackages                                                       */

static pkgflat_status read_bundle(pkgflat_package *pkg, const char *path,
    int depth, ptrvec *stack, pkgflat_bundle **out, pkgflat_error *err);

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
static pkgflat_status component_dirs(pkgflat_bundle *b, const char *path,
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

static pkgflat_status add_child(pkgflat_bundle *b, const char *child_path,
    const char *selection, int depth, ptrvec *stack, pkgflat_error *err)
{
	pkgflat_bundle *c = NULL;
	pkgflat_status rc = read_bundle(b->pkg, child_path, depth + 1, stack, &c,
	    err);

	if (rc)
		return rc;
	if (pv_push(&b->children, c)) {
		bundle_free(c);
		return fail_nomem(err);
	}
	if (selection && bundle_set(c, PKGFLAT_F_SELECTION, selection))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

static pkgflat_status read_package_list(pkgflat_bundle *b, const char *path,
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
			enum src_type t = kind_of(pkg, p, &rc, err);
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
static int select_tree(pkgflat_bundle *b, const char *sel)
{
	if (bundle_set(b, PKGFLAT_F_SELECTION, sel))
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
static pkgflat_status read_dist(pkgflat_bundle *b, const char *path,
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
			if (t && bundle_set(b, PKGFLAT_F_TITLE, (const char *)t))
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
		if (p && kind_of(pkg, p, &rc, err) == SRC_DIR)
			use = p;
		else if (!rc && p2n && kind_of(pkg, p2n, &rc, err) == SRC_DIR)
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
static pkgflat_status hybrid_selection(pkgflat_bundle *b, const char *path,
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
			pkgflat_bundle *c = b->children.v[i];
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

static pkgflat_status find_archive_file(pkgflat_bundle *b, const char *contents,
    const char *res, const char *const *names, enum pkgflat_field f,
    const char *cheetah_ext, pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;

	for (int i = 0; names[i] && !rc; i++) {
		char *p = path_join(contents, names[i]);
		if (!p)
			return fail_nomem(err);
		if (kind_of(b->pkg, p, &rc, err) == SRC_FILE) {
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
	if (kind_of(b->pkg, p, &rc, err) == SRC_FILE)
		b->field[f] = p;
	else
		free(p);
	return rc;
}

static pkgflat_status read_bundle(pkgflat_package *pkg, const char *path,
    int depth, ptrvec *stack, pkgflat_bundle **out, pkgflat_error *err)
{
	pkgflat_bundle *b = NULL;
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

	if (!(b = bundle_new(pkg))) {
		rc = fail_nomem(err);
		goto out;
	}
	b->kind = PKGFLAT_BUNDLE_COMPONENT;
	if (bundle_set(b, PKGFLAT_F_PATH, path) ||
	    bundle_set(b, PKGFLAT_F_NAME, path[0] ? path_base(path) :
	        path_base(pkg->path))) {
		rc = fail_nomem(err);
		goto out;
	}
	if (kind_of(pkg, contents, &rc, err) != SRC_DIR) {
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
	enum src_type t = kind_of(pkg, info_path, &rc, err);
	if (rc)
		goto out;
	if (t == SRC_NONE && dist) {
		/* Tiger distribution packages need no Info.plist. */
	} else if (t == SRC_FILE) {
		if ((rc = load_plist(pkg, info_path, &info, err)))
			goto out;
		if (bundle_set(b, PKGFLAT_F_INFO_SOURCE, "Info.plist")) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = apply_info_plist(b, info, info_path, err)))
			goto out;
	} else {
		if ((rc = find_cheetah_info(b, res, &cheetah, err)))
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
		if ((rc = read_small(pkg, cheetah, &d, &len, err)))
			goto out;
		if (bundle_set(b, PKGFLAT_F_INFO_SOURCE, "Cheetah .info"))
			rc = fail_nomem(err);
		else
			rc = apply_cheetah_info(b, (char *)d, cheetah, err);
		free(d);
		if (rc)
			goto out;
		package_warn(pkg, "%s: no Contents/Info.plist; read the Cheetah "
		    "file %s instead", path, cheetah);
	}

	/* PkgInfo: "pmkrpkg1", maybe with a newline after it. */
	if (kind_of(pkg, pkginfo, &rc, err) == SRC_FILE) {
		unsigned char *d = NULL;
		size_t len = 0;
		if ((rc = read_small(pkg, pkginfo, &d, &len, err)))
			goto out;
		if (len < 8 || memcmp(d, "pmkr", 4))
			package_warn(pkg, "%s: unexpected content (not \"pmkrpkg1\")",
			    pkginfo);
		free(d);
	} else if (!rc)
		package_warn(pkg, "%s: missing", pkginfo);
	if (rc)
		goto out;

	if (kind_of(pkg, res, &rc, err) == SRC_DIR) {
		if ((rc = read_description(b, res, err)) ||
		    (rc = walk_resources(b, res, "", NULL, 0, err)) ||
		    (rc = read_check_strings(b, res, err)) ||
		    (rc = find_scripts(b, res, err)) ||
		    (rc = find_cheetah_scripts(b, res, cheetah, err)))
			goto out;
	}
	if (rc)
		goto out;

	/* Fallbacks for the identifier and the version. */
	if (!b->field[PKGFLAT_F_VERSION]) {
		char *pv = path_join(res, "package_version");
		if (pv && kind_of(pkg, pv, &rc, err) == SRC_FILE) {
			unsigned char *d = NULL;
			size_t len = 0;
			if (!(rc = read_small(pkg, pv, &d, &len, err)))
				b->field[PKGFLAT_F_VERSION] =
				    parse_package_version((const char *)d);
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
		if (sz && kind_of(pkg, sz, &rc, err) == SRC_FILE) {
			unsigned char *d = NULL;
			size_t len = 0;
			if (!(rc = read_small(pkg, sz, &d, &len, err))) {
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
	bundle_free(b);
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

/* ------------------------------------------------------------------ */
/* Opening                                                            */

static int is_bundle_name(const char *n)
{
	return str_has_suffix(n, ".pkg") || str_has_suffix(n, ".mpkg");
}

/* The bundle inside an archive: one .mpkg, or one .pkg, at the top or one
 * folder down; or the archive root itself when it holds Contents/. */
static pkgflat_status find_in_archive(pkgflat_package *pkg, char **out,
    pkgflat_error *err)
{
	src *s = pkg->src;
	ptrvec top = { 0 }, mpkgs = { 0 }, pkgs = { 0 };
	pkgflat_status rc;
	struct src_stat st;

	*out = NULL;
	if ((rc = s->ops->list(s, "", &top, err)))
		goto out;
	for (int level = 0; level < 2 && !mpkgs.n && !pkgs.n; level++) {
		ptrvec next = { 0 };
		for (size_t i = 0; i < top.n; i++) {
			const char *p = top.v[i];
			if (!strcmp(path_base(p), "__MACOSX"))
				continue;
			if ((rc = s->ops->lstat(s, p, &st, err)))
				break;
			if (st.type != SRC_DIR)
				continue;
			if (is_bundle_name(p)) {
				char *c = pf_strdup(p);
				if (!c || pv_push(str_has_suffix(p, ".mpkg") ?
				    &mpkgs : &pkgs, c)) {
					free(c);
					rc = fail_nomem(err);
					break;
				}
			} else if (level == 0) {
				ptrvec sub = { 0 };
				if ((rc = s->ops->list(s, p, &sub, err)))
					break;
				for (size_t j = 0; !rc && j < sub.n; j++) {
					char *c = pf_asprintf("%s/%s", p,
					    (char *)sub.v[j]);
					if (!c || pv_push(&next, c)) {
						free(c);
						rc = fail_nomem(err);
					}
				}
				pv_free(&sub, free);
				if (rc)
					break;
			}
		}
		pv_free(&top, free);
		top = next;
		if (rc)
			goto out;
	}
	ptrvec *pick = mpkgs.n ? &mpkgs : &pkgs;
	if (pick->n == 1) {
		*out = pick->v[0];
		pick->v[0] = NULL;
	} else if (pick->n > 1) {
		strbuf sb = { 0 };
		for (size_t i = 0; i < pick->n && i < 4; i++)
			sb_addf(&sb, "%s%s", i ? ", " : "", (char *)pick->v[i]);
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, pkg->path, NULL,
		    "archive holds %zu packages (%s%s) and no metapackage; "
		    "unpack it and name one", pick->n, sb.buf ? sb.buf : "",
		    pick->n > 4 ? ", ..." : "");
		sb_free(&sb);
	} else {
		if ((rc = s->ops->lstat(s, "Contents/Info.plist", &st, err)))
			goto out;
		if (st.type != SRC_NONE)
			*out = pf_strdup("");
		else
			rc = fail(err, PKGFLAT_E_FORMAT, pkg->path, NULL,
			    "archive holds no .pkg or .mpkg bundle");
	}
out:
	pv_free(&top, free);
	pv_free(&mpkgs, free);
	pv_free(&pkgs, free);
	return rc;
}

static void collect_components(pkgflat_package *pkg, pkgflat_bundle *b)
{
	if (pkgflat_bundle_is_component(b)) {
		pv_push(&pkg->components, b);
		return;
	}
	for (size_t i = 0; i < b->children.n; i++)
		collect_components(pkg, b->children.v[i]);
}

void pkgflat_package_free(pkgflat_package *pkg)
{
	if (!pkg)
		return;
	bundle_free(pkg->root);
	pv_free(&pkg->components, NULL);
	pv_free(&pkg->warnings, free);
	src_close(pkg->src);
	free(pkg->path);
	free(pkg);
}

static int sniff_file(const char *path, unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return -1;
	memset(buf, 0, n);
	got = fread(buf, 1, n, f);
	fclose(f);
	return (int)got;
}

enum pkgflat_file_kind pkgflat_file_sniff(const char *path)
{
	unsigned char b[8192];
	int n = sniff_file(path, b, sizeof b);

	if (n < 4)
		return PKGFLAT_FILE_UNKNOWN;
	if (n >= 8 && !memcmp(b, "BOMStore", 8))
		return PKGFLAT_FILE_BOM;
	if (!memcmp(b, "xar!", 4))
		return PKGFLAT_FILE_XAR;
	if (!memcmp(b, "pbzx", 4))
		return PKGFLAT_FILE_PAYLOAD;
	if (!memcmp(b, "PK\3\4", 4) || !memcmp(b, "PK\5\6", 4))
		return PKGFLAT_FILE_ARCHIVE;
	if (n >= 6 && (!memcmp(b, "070707", 6) || !memcmp(b, "070701", 6) ||
	    !memcmp(b, "070702", 6)))
		return PKGFLAT_FILE_PAYLOAD;
	if (n >= 262 && !memcmp(b + 257, "ustar", 5)) {
		/* A tar: payloads start with "." or "./", bundle archives with
		 * the bundle's name. Skip pax extended headers to see it. */
		size_t off = 0;
		while (off + 512 <= (size_t)n && (b[off + 156] == 'x' ||
		    b[off + 156] == 'g' || b[off + 156] == 'L')) {
			char field[13];
			memcpy(field, b + off + 124, 12);
			field[12] = '\0';
			unsigned long long size = strtoull(field, NULL, 8);
			if (size > (size_t)n)
				break;
			off += 512 + (size_t)((size + 511) / 512 * 512);
		}
		if (off + 512 > (size_t)n)
			return PKGFLAT_FILE_ARCHIVE;
		return b[off] == '.' ? PKGFLAT_FILE_PAYLOAD : PKGFLAT_FILE_ARCHIVE;
	}
	if (b[0] == 0x1f && b[1] == 0x8b) {
		/* Compressed: a payload by name, else an archive. */
		if (str_has_suffix(path, ".pax.gz") || str_has_suffix(path, "Payload")
		    || str_has_suffix(path, ".cpio.gz"))
			return PKGFLAT_FILE_PAYLOAD;
		return PKGFLAT_FILE_ARCHIVE;
	}
	if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h')
		return PKGFLAT_FILE_ARCHIVE;
	return PKGFLAT_FILE_UNKNOWN;
}

static int legacy_sniff(pkgflat_package *pkg, const char *dir)
{
	(void)pkg;
	(void)dir;
	return 1; /* the fallback: its reader says what is missing */
}

static pkgflat_status legacy_read(pkgflat_package *pkg, const char *dir,
    pkgflat_bundle **out, pkgflat_error *err)
{
	ptrvec stack = { 0 };
	pkgflat_status rc = read_bundle(pkg, dir, 0, &stack, out, err);

	pv_free(&stack, NULL);
	return rc;
}

/* The kinds of package, tried in order on what the input holds. */
static const struct input_kind {
	const char *name;
	int (*sniff)(pkgflat_package *pkg, const char *dir);
	pkgflat_status (*read)(pkgflat_package *pkg, const char *dir,
	    pkgflat_bundle **out, pkgflat_error *err);
} input_kinds[] = {
	{ .name = "flat", .sniff = flat_sniff, .read = flat_read },
	{ .name = "legacy bundle", .sniff = legacy_sniff, .read = legacy_read },
};

pkgflat_status pkgflat_package_open(const char *path, pkgflat_package **out,
    pkgflat_error *err)
{
	return package_open(path, NULL, out, err);
}

pkgflat_status package_open(const char *path, const char *member,
    pkgflat_package **out, pkgflat_error *err)
{
	pkgflat_package *pkg = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	char *inner = NULL, *trimmed = NULL, *real = NULL;
	struct stat sb;

	*out = NULL;
	if (!path || !path[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no package named");
	if (!(pkg = pf_calloc(1, sizeof *pkg)) || !(pkg->path = pf_strdup(path)))
		goto nomem;
	if (stat(path, &sb) != 0) {
		rc = fail_errno(err, path, "cannot open");
		goto out;
	}
	if (S_ISDIR(sb.st_mode)) {
		/* The source is the directory that holds the bundle, so that
		 * IFPkgFlagComponentDirectory ".." still resolves. */
		if (!(trimmed = pf_strdup(path)))
			goto nomem;
		size_t n = strlen(trimmed);
		while (n > 1 && trimmed[n - 1] == '/')
			trimmed[--n] = '\0';
		const char *base = path_base(trimmed);
		if (!strcmp(base, ".") || !strcmp(base, "..") || !base[0]) {
			if (!(real = realpath(path, NULL))) {
				rc = fail_errno(err, path, "cannot resolve");
				goto out;
			}
			free(trimmed);
			trimmed = pf_strdup(real);
			if (!trimmed)
				goto nomem;
			base = path_base(trimmed);
		}
		char *parent = path_dir(trimmed);
		if (!parent)
			goto nomem;
		const char *open_dir = parent[0] ? parent : (trimmed[0] == '/' ?
		    "/" : ".");
		rc = src_open_dir(open_dir, parent, &pkg->src, err);
		free(parent);
		if (rc)
			goto out;
		if (!(inner = pf_strdup(base)))
			goto nomem;
	} else if (S_ISREG(sb.st_mode)) {
		enum pkgflat_file_kind k = pkgflat_file_sniff(path);
		if (k == PKGFLAT_FILE_XAR) {
			if ((rc = src_open_xar(path, &pkg->src, err)))
				goto out;
			if (!(inner = pf_strdup("")))
				goto nomem;
			if (!flat_sniff(pkg, inner)) {
				rc = fail(err, PKGFLAT_E_FORMAT, path, "TOC", "neither "
				    "Distribution nor PackageInfo at the top: not an "
				    "installer package");
				goto out;
			}
		} else if (k != PKGFLAT_FILE_ARCHIVE) {
			rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
			    "not a bundle package, nor a zip or tar archive of one");
			goto out;
		} else {
			if ((rc = src_open_archive(path, &pkg->src, err)))
				goto out;
			if (member)
				inner = pf_strdup(member);
			else if ((rc = find_in_archive(pkg, &inner, err)))
				goto out;
			if (!inner)
				goto nomem;
		}
	} else {
		rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a directory or a regular file");
		goto out;
	}
	for (size_t i = 0; i < sizeof input_kinds / sizeof *input_kinds; i++)
		if (input_kinds[i].sniff(pkg, inner)) {
			rc = input_kinds[i].read(pkg, inner, &pkg->root, err);
			break;
		}
	if (rc)
		goto out;
	collect_components(pkg, pkg->root);
	if ((rc = package_fallback_ids(pkg, err)))
		goto out;
	*out = pkg;
	pkg = NULL;
	goto out;
nomem:
	rc = fail_nomem(err);
out:
	pkgflat_package_free(pkg);
	free(inner);
	free(trimmed);
	free(real);
	return rc;
}
