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
	int has_payload, has_bom;
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
};

/* pkgflat_package_open(), or with member non-NULL the bundle at that path
 * inside an archive (see pkgflat_package_open_member()). */
pkgflat_status package_open(const char *path, const char *member,
    pkgflat_package **out, pkgflat_error *err);

void package_warn(pkgflat_package *pkg, const char *fmt, ...) PF_PRINTF(2, 3);

#endif
