/* The in-memory model of a legacy package, shared by reader and writers. */
#ifndef PKGFLAT_BUNDLE_H
#define PKGFLAT_BUNDLE_H

#include "internal.h"
#include "source.h"

struct pkgflat_bundle {
	enum pkgflat_bundle_kind kind;
	pkgflat_package *pkg;
	char *field[PKGFLAT_F_COUNT_];
	int flag[PKGFLAT_FLAG_COUNT_];
	char *script[PKGFLAT_SCRIPT_COUNT_];
	ptrvec children;      /* pkgflat_bundle * */
	ptrvec resources;     /* pkgflat_resource * */
	ptrvec localizations; /* char * */
	ptrvec requirements;  /* pkgflat_requirement * */
	ptrvec strings;       /* pkgflat_string * */
	ptrvec keys;          /* Info.plist: key, value, key, value, ... */
	int64_t claimed_kbytes;
	int64_t claimed_files;  /* flat PackageInfo numberOfFiles, or -1 */
	int has_payload, has_bom;
	char *fallback_id;   /* pkgflat_bundle_identifier() when it has none */
	int scanned;
	pkgflat_payload_stats payload;
	pkgflat_bom_stats bom;
};

struct pkgflat_package {
	src *src;
	char *path;          /* as the user gave it */
	pkgflat_bundle *root;
	ptrvec components;   /* leaf bundles, borrowed from the tree */
	ptrvec warnings;     /* char * */
	unsigned bundles;    /* legacy bundles read so far (see MAX_BUNDLES) */
};

/* Shared by the legacy reader (bundle.c) and the flat one (flatpkg.c). */
pkgflat_bundle *bundle_new(pkgflat_package *pkg);
void bundle_free(void *b);
/* Copy v (or NULL) into a field; -1 when out of memory. */
int bundle_set(pkgflat_bundle *b, enum pkgflat_field f, const char *v);
/* Walk the resource directory res into b's resources and localizations. */
pkgflat_status bundle_read_resources(pkgflat_bundle *b, const char *res,
    pkgflat_error *err);

/*
 * The flat reader (flatpkg.c). flat_sniff: is `dir` inside the source an
 * expanded flat package or the top of a XAR (Distribution or PackageInfo
 * there)? flat_read: build the tree under `dir` ("" for a XAR).
 */
int flat_sniff(pkgflat_package *pkg, const char *dir);
pkgflat_status flat_read(pkgflat_package *pkg, const char *dir,
    pkgflat_bundle **out, pkgflat_error *err);
/* pkgflat_package_open(), or with member non-NULL the bundle at that path
 * inside an archive (see pkgflat_package_open_member()). */
pkgflat_status package_open(const char *path, const char *member,
    pkgflat_package **out, pkgflat_error *err);

/* Give every component without an identifier its fallback (package.c). */
pkgflat_status package_fallback_ids(pkgflat_package *pkg, pkgflat_error *err);

void package_warn(pkgflat_package *pkg, const char *fmt, ...) PF_PRINTF(2, 3);

#endif
