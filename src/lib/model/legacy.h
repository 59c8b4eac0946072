/*
 * The legacy bundle reader (.pkg/.mpkg directories): legacy_read.c builds
 * the tree, legacy_info.c reads a bundle's metadata files and
 * legacy_resources.c its Resources folder (which flat_read.c uses too).
 */
#ifndef PKGFLAT_LEGACY_H
#define PKGFLAT_LEGACY_H

#include "model.h"
#include "plist.h"

/* legacy_read.c. legacy_sniff: always 1, the reader of last resort (its
 * errors say what is missing); legacy_read: build the tree under `dir`. */
int legacy_sniff(pkgflat_package *pkg, const char *dir);
pkgflat_status legacy_read(pkgflat_package *pkg, const char *dir,
    pkgflat_component **out, pkgflat_error *err);

/* legacy_info.c */
/* Read a plist of the package whose top level is a dictionary. */
pkgflat_status legacy_load_plist(pkgflat_package *pkg, const char *path,
    plist_t *out, pkgflat_error *err);
pkgflat_status legacy_apply_info_plist(pkgflat_component *b, plist_t info,
    const char *rel, pkgflat_error *err);
pkgflat_status legacy_apply_cheetah_info(pkgflat_component *b, char *text,
    const char *rel, pkgflat_error *err);
pkgflat_status legacy_find_cheetah_info(pkgflat_component *b, const char *res,
    char **out, pkgflat_error *err);
pkgflat_status legacy_read_description(pkgflat_component *b, const char *res,
    pkgflat_error *err);
char *legacy_package_version(const char *text);

/* legacy_resources.c */
/* Walk the resource directory res into b's resources and localizations. */
pkgflat_status legacy_read_resources(pkgflat_component *b, const char *res,
    pkgflat_error *err);
pkgflat_status legacy_read_check_strings(pkgflat_component *b, const char *res,
    pkgflat_error *err);
pkgflat_status legacy_find_scripts(pkgflat_component *b, const char *res,
    pkgflat_error *err);
pkgflat_status legacy_find_cheetah_scripts(pkgflat_component *b,
    const char *res,
    const char *info, pkgflat_error *err);

#endif
