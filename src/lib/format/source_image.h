/* The disk image source (source_image.c). */
#ifndef PKGFLAT_SRC_IMAGE_H
#define PKGFLAT_SRC_IMAGE_H

#include "hfsplus.h"
#include "image.h"
#include "source.h"

pkgflat_status src_open_image(const char *file, const struct img_opts *o,
    src **out, pkgflat_error *err);
/* Over an image already open; takes im over (closed on failure too). */
pkgflat_status src_open_image_img(img *im, const struct img_opts *o,
    src **out, pkgflat_error *err);
/* An image stored as a file on this image's volumes. The nested source
 * reads through the outer one, which must outlive it. */
pkgflat_status src_image_open_nested(src *s, const char *path,
    const struct img_opts *o, src **out, pkgflat_error *err);

/* Hand the outer source to the nested one, closed with it. */
void src_image_adopt(src *nested, src *outer);

/*
 * The source and path a package on an image is read from, for
 * package_open: member is a path from pkgflat_image_packages() ("A.pkg",
 * "Inner.dmg//A.pkg"), or NULL for the image's only bundle package.
 */
pkgflat_status image_package_source(const char *file, const char *member,
    const struct img_opts *o, src **out, char **inner, pkgflat_error *err);

/* The bundle packages on an image (and on images on it), as allocated
 * member paths, for pkgflat_archive_packages(). */
pkgflat_status image_bundle_members(const char *file, char ***members,
    size_t *count, pkgflat_error *err);

int src_is_image(const src *s);
img *src_image_img(src *s);
size_t src_image_volumes(src *s);
/* Volume i, and the folder it appears under in the source ("" for one). */
hfs_vol *src_image_volume(src *s, size_t i, const char **prefix);

#endif
