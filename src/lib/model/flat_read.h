/* The flat package reader (flat_read.c): builds the model from a XAR or an
 * expanded flat package. */
#ifndef PKGFLAT_FLAT_READ_H
#define PKGFLAT_FLAT_READ_H

#include "model.h"

/*
 * flat_sniff: is `dir` inside the source an expanded flat package or the
 * top of a XAR (Distribution or PackageInfo there)? flat_read: build the
 * tree under `dir` ("" for a XAR).
 */
int flat_sniff(pkgflat_package *pkg, const char *dir);
pkgflat_status flat_read(pkgflat_package *pkg, const char *dir,
    pkgflat_component **out, pkgflat_error *err);

#endif
