/* The in-memory model of a package, built by the readers (flat_read.c,
 * legacy_read.c) and used by the operations. */
#ifndef PKGFLAT_MODEL_H
#define PKGFLAT_MODEL_H

#include "internal.h"
#include "source.h"

struct pkgflat_component {
	enum pkgflat_bundle_kind kind;
	pkgflat_package *pkg;
	char *field[PKGFLAT_F_COUNT_];
	int flag[PKGFLAT_FLAG_COUNT_];
	char *script[PKGFLAT_SCRIPT_COUNT_];
	ptrvec children;      /* pkgflat_component * */
	ptrvec resources;     /* pkgflat_resource * */
	ptrvec localizations; /* char * */
	ptrvec requirements;  /* pkgflat_requirement * */
	ptrvec strings;       /* pkgflat_string * */
	ptrvec keys;          /* Info.plist: key, value, key, value, ... */
	int64_t claimed_kbytes;
	int64_t claimed_files;  /* flat PackageInfo numberOfFiles, or -1 */
	int has_payload, has_bom;
	char *fallback_id;   /* pkgflat_component_identifier() when it has none */
	int scanned;
	pkgflat_payload_stats payload;
	pkgflat_bom_stats bom;
};

struct pkgflat_package {
	src *src;
	char *path;          /* as the user gave it */
	pkgflat_component *root;
	ptrvec components;   /* leaf bundles, borrowed from the tree */
	ptrvec warnings;     /* char * */
	unsigned bundles;    /* legacy bundles read so far (see MAX_BUNDLES) */
};

/* component.c: creating, filling and freeing the model, for the readers. */
pkgflat_component *component_new(pkgflat_package *pkg);
void component_free(void *b);
/* Copy v (or NULL) into a field; -1 when out of memory. */
int component_set(pkgflat_component *b, enum pkgflat_field f, const char *v);
/* Give every component without an identifier its fallback. */
pkgflat_status package_fallback_ids(pkgflat_package *pkg, pkgflat_error *err);
void package_warn(pkgflat_package *pkg, const char *fmt, ...) PF_PRINTF(2, 3);
/* Read a small file of the package; *data is NUL-terminated. */
pkgflat_status package_read_small(pkgflat_package *pkg, const char *path,
    unsigned char **data, size_t *len, pkgflat_error *err);
/* What is at path in the package; SRC_NONE with *rc set on error. */
enum src_type package_path_type(pkgflat_package *pkg, const char *path,
    pkgflat_status *rc, pkgflat_error *err);

/* package_open.c: pkgflat_package_open(), or with member non-NULL the
 * bundle at that path inside an archive (see
 * pkgflat_package_open_member()). */
pkgflat_status package_open(const char *path, const char *member,
    pkgflat_package **out, pkgflat_error *err);

#endif
