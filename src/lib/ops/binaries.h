/* The Mach-O files of a package's payloads (binaries.c): collected while
 * payloads stream, for convert's hostArchitectures and the notarization
 * pre-flight. */
#ifndef PKGFLAT_BINARIES_H
#define PKGFLAT_BINARIES_H

#include "internal.h"

struct bincol;

/* An empty result, to collect into. */
pkgflat_binaries *binaries_new(const char *team);

/*
 * A collector for one payload of component `component` (copied): pass
 * bincol_chunk and it as a payload walk's chunk callback. payload names
 * the payload in messages. Binaries go into res; a path seen again
 * replaces what was collected for it (a pass that starts over, or a path
 * stored twice, which Installer installs last-wins).
 */
struct bincol *bincol_new(pkgflat_binaries *res, const char *component,
    const char *payload);
void bincol_free(struct bincol *c);

/*
 * Each piece of a regular file's data, in order; buf NULL and n 0 once the
 * file's data has ended. Returns nonzero only when memory ran out (with
 * the error in the collector's result).
 */
int bincol_chunk(const pkgflat_entry *e, const unsigned char *buf, size_t n,
    void *ctx);

/* After collecting: union of architectures, hostArchitectures, counts. */
void binaries_done(pkgflat_binaries *res);

/* convert's warnings, or NULL (malloc'd), naming up to five binaries:
 * rosetta 1, those with x86_64 but no arm64 ("Apple silicon Macs will
 * need Rosetta"); 0, those with neither (i386, ppc only). */
char *binaries_arch_warning(const pkgflat_binaries *res, int rosetta);

#endif
