/*
 * The legacy reader's metadata files of one bundle: Contents/Info.plist
 * (IFPkgFlag* keys, IFRequirementDicts), Resources/Description.plist, the
 * Cheetah (10.0/10.1) "<Name>.info" text file and package_version.
 * legacy_read.c calls these while it builds a component.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "legacy.h"
#include "plist.h"

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

pkgflat_status legacy_load_plist(pkgflat_package *pkg, const char *path,
    plist_t *out, pkgflat_error *err)
{
	unsigned char *d = NULL;
	size_t n = 0;
	pkgflat_status rc = package_read_small(pkg, path, &d, &n, err);

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

static pkgflat_status read_requirements(pkgflat_component *b, plist_t info,
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

pkgflat_status legacy_apply_info_plist(pkgflat_component *b, plist_t info,
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
	if (component_set(b, PKGFLAT_F_IDENTIFIER, s))
		return fail_nomem(err);

	s = pl_str(info, "CFBundleShortVersionString");
	if (!s)
		s = pl_str(info, "CFBundleVersion");
	if (component_set(b, PKGFLAT_F_VERSION, s))
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
	if (component_set(b, PKGFLAT_F_INSTALL_LOCATION, s))
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
		if (component_set(b, PKGFLAT_F_AUTH, v))
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
		if (component_set(b, PKGFLAT_F_RESTART, v))
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
	if (component_set(b, PKGFLAT_F_BACKGROUND_ALIGNMENT,
	        pl_str(info, "IFPkgFlagBackgroundAlignment")) ||
	    component_set(b, PKGFLAT_F_BACKGROUND_SCALING,
	        pl_str(info, "IFPkgFlagBackgroundScaling")) ||
	    component_set(b, PKGFLAT_F_CREATOR, pl_str(info, "IFPkgCreator")) ||
	    component_set(b, PKGFLAT_F_DEVELOPMENT_REGION,
	        pl_str(info, "CFBundleDevelopmentRegion")) ||
	    component_set(b, PKGFLAT_F_COMPONENT_DIRECTORY,
	        pl_str(info, "IFPkgFlagComponentDirectory")))
		return fail_nomem(err);
	return read_requirements(b, info, rel, err);
}

/* Cheetah (10.0/10.1) "<Name>.info": lines of "Key Value". */
pkgflat_status legacy_apply_cheetah_info(pkgflat_component *b, char *text,
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
			r = component_set(b, PKGFLAT_F_TITLE, v);
		else if (!strcmp(line, "Version"))
			r = component_set(b, PKGFLAT_F_VERSION, v);
		else if (!strcmp(line, "Description"))
			r = component_set(b, PKGFLAT_F_DESCRIPTION, v);
		else if (!strcmp(line, "DefaultLocation"))
			r = component_set(b, PKGFLAT_F_INSTALL_LOCATION, v);
		else if (!strcmp(line, "DeleteWarning"))
			r = component_set(b, PKGFLAT_F_DELETE_WARNING, v);
		else if (!strcmp(line, "NeedsAuthorization"))
			r = component_set(b, PKGFLAT_F_AUTH, yes ? "root" : "none");
		else if (!strcmp(line, "RequiresReboot"))
			r = component_set(b, PKGFLAT_F_RESTART, yes ? "restart" : "none");
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

pkgflat_status legacy_find_cheetah_info(pkgflat_component *b, const char *res,
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

pkgflat_status legacy_read_description(pkgflat_component *b, const char *res,
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
		enum src_type t = package_path_type(pkg, cands[i], &rc, err);
		if (rc || t != SRC_FILE)
			continue;
		plist_t d = NULL;
		if ((rc = legacy_load_plist(pkg, cands[i], &d, err)))
			break;
		if (component_set(b, PKGFLAT_F_TITLE, pl_str(d, "IFPkgDescriptionTitle")) ||
		    component_set(b, PKGFLAT_F_DESCRIPTION,
		        pl_str(d, "IFPkgDescriptionDescription")) ||
		    component_set(b, PKGFLAT_F_DELETE_WARNING,
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
char *legacy_package_version(const char *text)
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

