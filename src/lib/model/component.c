/*
 * The package model: a package and its tree of components, created, filled
 * and freed by the readers (flat_read.c, legacy_read.c), and the public
 * accessors. The model calls no reader; contents.c reads what a component
 * carries on demand.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define MAX_META_FILE (16u << 20)   /* plists, scripts, text resources */

static const char *const field_names[PKGFLAT_F_COUNT_] = {
	[PKGFLAT_F_NAME] = "name",
	[PKGFLAT_F_PATH] = "path",
	[PKGFLAT_F_IDENTIFIER] = "identifier",
	[PKGFLAT_F_VERSION] = "version",
	[PKGFLAT_F_TITLE] = "title",
	[PKGFLAT_F_DESCRIPTION] = "description",
	[PKGFLAT_F_DELETE_WARNING] = "delete-warning",
	[PKGFLAT_F_INSTALL_LOCATION] = "install-location",
	[PKGFLAT_F_AUTH] = "auth",
	[PKGFLAT_F_RESTART] = "restart",
	[PKGFLAT_F_SELECTION] = "selection",
	[PKGFLAT_F_BACKGROUND_ALIGNMENT] = "background-alignment",
	[PKGFLAT_F_BACKGROUND_SCALING] = "background-scaling",
	[PKGFLAT_F_CREATOR] = "creator",
	[PKGFLAT_F_COMPONENT_DIRECTORY] = "component-directory",
	[PKGFLAT_F_DIST_FILE] = "distribution-script",
	[PKGFLAT_F_PAYLOAD_PATH] = "payload-path",
	[PKGFLAT_F_BOM_PATH] = "bom-path",
	[PKGFLAT_F_DEVELOPMENT_REGION] = "development-region",
	[PKGFLAT_F_INFO_SOURCE] = "info-source",
};

static const char *const flag_names[PKGFLAT_FLAG_COUNT_] = {
	[PKGFLAT_FLAG_RELOCATABLE] = "relocatable",
	[PKGFLAT_FLAG_OVERWRITE_PERMISSIONS] = "overwrite-permissions",
	[PKGFLAT_FLAG_FOLLOW_LINKS] = "follow-links",
	[PKGFLAT_FLAG_ROOT_VOLUME_ONLY] = "root-volume-only",
	[PKGFLAT_FLAG_ALLOW_BACK_REV] = "allow-back-rev",
	[PKGFLAT_FLAG_REQUIRED] = "required",
	[PKGFLAT_FLAG_INSTALL_FAT] = "install-fat",
	[PKGFLAT_FLAG_USE_USER_MASK] = "use-user-mask",
	[PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES] = "update-installed-languages",
};

static const char *const kind_names[] = {
	[PKGFLAT_BUNDLE_COMPONENT] = "component",
	[PKGFLAT_BUNDLE_METAPACKAGE] = "metapackage",
	[PKGFLAT_BUNDLE_DISTRIBUTION] = "distribution",
	[PKGFLAT_BUNDLE_HYBRID] = "hybrid",
	[PKGFLAT_BUNDLE_PRODUCT] = "product",
	[PKGFLAT_BUNDLE_FLAT_COMPONENT] = "flat-component",
};

const char *pkgflat_field_name(enum pkgflat_field f)
{
	return (unsigned)f < PKGFLAT_F_COUNT_ ? field_names[f] : NULL;
}

const char *pkgflat_flag_name(enum pkgflat_flag f)
{
	return (unsigned)f < PKGFLAT_FLAG_COUNT_ ? flag_names[f] : NULL;
}

const char *pkgflat_component_kind_name(enum pkgflat_bundle_kind k)
{
	return (unsigned)k < sizeof kind_names / sizeof *kind_names ?
	    kind_names[k] : NULL;
}

enum pkgflat_container pkgflat_package_container(const pkgflat_package *p)
{
	return p->src->ops->container;
}

const char *pkgflat_package_path(const pkgflat_package *p)
{
	return p->path;
}

const pkgflat_component *pkgflat_package_root(const pkgflat_package *p)
{
	return p->root;
}

size_t pkgflat_package_component_count(const pkgflat_package *p)
{
	return p->components.n;
}

const pkgflat_component *pkgflat_package_component(const pkgflat_package *p,
    size_t i)
{
	return i < p->components.n ? p->components.v[i] : NULL;
}

size_t pkgflat_package_warning_count(const pkgflat_package *p)
{
	return p->warnings.n;
}

const char *pkgflat_package_warning(const pkgflat_package *p, size_t i)
{
	return i < p->warnings.n ? p->warnings.v[i] : NULL;
}

enum pkgflat_bundle_kind pkgflat_component_kind(const pkgflat_component *b)
{
	return b->kind;
}

int pkgflat_component_is_leaf(const pkgflat_component *b)
{
	return b->kind == PKGFLAT_BUNDLE_COMPONENT ||
	    b->kind == PKGFLAT_BUNDLE_FLAT_COMPONENT;
}

const char *pkgflat_component_get(const pkgflat_component *b,
    enum pkgflat_field f)
{
	return (unsigned)f < PKGFLAT_F_COUNT_ ? b->field[f] : NULL;
}

int pkgflat_component_flag(const pkgflat_component *b, enum pkgflat_flag f)
{
	return (unsigned)f < PKGFLAT_FLAG_COUNT_ ? b->flag[f] : -1;
}

const char *pkgflat_component_identifier(const pkgflat_component *b)
{
	return b->field[PKGFLAT_F_IDENTIFIER] ? b->field[PKGFLAT_F_IDENTIFIER] :
	    b->fallback_id;
}

/* "pkgflat." and the bundle name without .pkg/.mpkg, anything but
 * letters, digits, "." and "-" as "-"; "-2", "-3", ... when another
 * component of the package already goes by it. */
pkgflat_status package_fallback_ids(pkgflat_package *pkg, pkgflat_error *err)
{
	for (size_t i = 0; i < pkg->components.n; i++) {
		pkgflat_component *b = pkg->components.v[i];
		const char *n = b->field[PKGFLAT_F_NAME] ? b->field[PKGFLAT_F_NAME] :
		    "package";
		size_t len = strlen(n);
		strbuf sb = { 0 };

		if (b->field[PKGFLAT_F_IDENTIFIER])
			continue;
		if (str_has_suffix(n, ".mpkg"))
			len -= 5;
		else if (str_has_suffix(n, ".pkg"))
			len -= 4;
		sb_adds(&sb, "pkgflat.");
		for (const char *p = n; p < n + len; p++)
			sb_add(&sb, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ? p : "-",
			    1);
		char *base = sb_detach(&sb), *id = base ? pf_strdup(base) : NULL;
		for (int k = 2; id; k++) {
			int taken = 0;
			for (size_t j = 0; j < pkg->components.n && !taken; j++) {
				const pkgflat_component *o = pkg->components.v[j];
				const char *oid = pkgflat_component_identifier(o);
				taken = j != i && oid && !strcmp(oid, id);
			}
			if (!taken)
				break;
			free(id);
			id = pf_asprintf("%s-%d", base, k);
		}
		free(base);
		if (!id)
			return fail_nomem(err);
		b->fallback_id = id;
	}
	return PKGFLAT_OK;
}

const char *pkgflat_component_script(const pkgflat_component *b,
    enum pkgflat_script s)
{
	return (unsigned)s < PKGFLAT_SCRIPT_COUNT_ ? b->script[s] : NULL;
}

size_t pkgflat_component_child_count(const pkgflat_component *b)
{
	return b->children.n;
}

const pkgflat_component *pkgflat_component_child(const pkgflat_component *b,
    size_t i)
{
	return i < b->children.n ? b->children.v[i] : NULL;
}

size_t pkgflat_component_resource_count(const pkgflat_component *b)
{
	return b->resources.n;
}

const pkgflat_resource *pkgflat_component_resource(const pkgflat_component *b,
    size_t i)
{
	return i < b->resources.n ? b->resources.v[i] : NULL;
}

size_t pkgflat_component_localization_count(const pkgflat_component *b)
{
	return b->localizations.n;
}

const char *pkgflat_component_localization(const pkgflat_component *b, size_t i)
{
	return i < b->localizations.n ? b->localizations.v[i] : NULL;
}

size_t pkgflat_component_requirement_count(const pkgflat_component *b)
{
	return b->requirements.n;
}

const pkgflat_requirement *pkgflat_component_requirement(
    const pkgflat_component *b,
    size_t i)
{
	return i < b->requirements.n ? b->requirements.v[i] : NULL;
}

size_t pkgflat_component_key_count(const pkgflat_component *b)
{
	return b->keys.n / 2;
}

const char *pkgflat_component_key(const pkgflat_component *b, size_t i,
    const char **value)
{
	if (i >= b->keys.n / 2)
		return NULL;
	if (value)
		*value = b->keys.v[2 * i + 1];
	return b->keys.v[2 * i];
}

size_t pkgflat_component_string_count(const pkgflat_component *b)
{
	return b->strings.n;
}

const pkgflat_string *pkgflat_component_string(const pkgflat_component *b,
    size_t i)
{
	return i < b->strings.n ? b->strings.v[i] : NULL;
}

int64_t pkgflat_component_claimed_kbytes(const pkgflat_component *b)
{
	return b->claimed_kbytes;
}

int pkgflat_component_has_payload(const pkgflat_component *b)
{
	return b->has_payload;
}

int pkgflat_component_has_bom(const pkgflat_component *b)
{
	return b->has_bom;
}

const pkgflat_payload_stats *pkgflat_component_payload_stats(
    const pkgflat_component *b)
{
	return b->scanned && b->has_payload ? &b->payload : NULL;
}

const pkgflat_bom_stats *pkgflat_component_bom_stats(const pkgflat_component *b)
{
	return b->scanned && b->has_bom ? &b->bom : NULL;
}

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

void component_free(void *p)
{
	pkgflat_component *b = p;

	if (!b)
		return;
	for (int i = 0; i < PKGFLAT_F_COUNT_; i++)
		free(b->field[i]);
	for (int i = 0; i < PKGFLAT_SCRIPT_COUNT_; i++)
		free(b->script[i]);
	pv_free(&b->children, component_free);
	pv_free(&b->resources, resource_free);
	pv_free(&b->localizations, free);
	pv_free(&b->requirements, requirement_free);
	pv_free(&b->strings, string_free);
	pv_free(&b->keys, free);
	free(b->fallback_id);
	free(b);
}

pkgflat_component *component_new(pkgflat_package *pkg)
{
	pkgflat_component *b = pf_calloc(1, sizeof *b);

	if (!b)
		return NULL;
	b->pkg = pkg;
	b->claimed_kbytes = -1;
	b->claimed_files = -1;
	for (int i = 0; i < PKGFLAT_FLAG_COUNT_; i++)
		b->flag[i] = -1;
	return b;
}

int component_set(pkgflat_component *b, enum pkgflat_field f, const char *v)
{
	free(b->field[f]);
	b->field[f] = NULL;
	if (!v)
		return 0;
	return (b->field[f] = pf_strdup(v)) ? 0 : -1;
}

/* Read a small file of the package; *data is NUL-terminated. */
pkgflat_status package_read_small(pkgflat_package *pkg, const char *path,
    unsigned char **data, size_t *len, pkgflat_error *err)
{
	return src_read(pkg->src, path, MAX_META_FILE, data, len, err);
}

/* What is at path in the package; SRC_NONE with *rc set on error. */
enum src_type package_path_type(pkgflat_package *pkg, const char *path,
    pkgflat_status *rc, pkgflat_error *err)
{
	struct src_stat st;

	*rc = src_stat(pkg->src, path, &st, err);
	return *rc ? SRC_NONE : st.type;
}

void pkgflat_package_free(pkgflat_package *pkg)
{
	if (!pkg)
		return;
	component_free(pkg->root);
	pv_free(&pkg->components, NULL);
	pv_free(&pkg->warnings, free);
	src_close(pkg->src);
	free(pkg->path);
	free(pkg);
}
