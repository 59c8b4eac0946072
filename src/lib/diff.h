/* Comparing packages: what the comparison needs from the readers. */
#ifndef PKGFLAT_DIFF_H
#define PKGFLAT_DIFF_H

#include "internal.h"

#define PKGFLAT_DIFF_MAX_SCRIPTS 32

/*
 * Call fn with the name and SHA-256 of every script the bundle would run:
 * for a legacy bundle its preflight, postinstall, ... and checks; for a
 * flat component the legacy originals our converter keeps under
 * Contents/Resources in Scripts (by their legacy names), else its own
 * preinstall and postinstall. fn returns nonzero on allocation failure.
 */
pkgflat_status diff_bundle_scripts(const pkgflat_bundle *b,
    int (*fn)(const char *name, const unsigned char *sha, void *ctx),
    void *ctx, pkgflat_error *err);

#endif
