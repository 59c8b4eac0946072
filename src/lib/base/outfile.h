/* Atomic outputs (outfile.c); the rest of the interface is in pkgflat.h. */
#ifndef PKGFLAT_OUTFILE_H
#define PKGFLAT_OUTFILE_H

#include <stddef.h>

#include "pkgflat.h"

/* A path that opens the output's content before it is committed (the
 * temporary name, or /proc/self/fd/N for an unnamed file): for reading the
 * output back, as convert --check does. */
const char *output_reopen_path(const pkgflat_output *o, char *buf,
    size_t size);

#endif

/*
 * For commands that may rewrite their input (sign -o IN, staple): where to
 * write (*target, allocated, may be NULL when only checking). The input's
 * own path, resolved, when output names the input by the same resolved
 * path, so that a symlink stays a symlink and its file is rewritten; the
 * output as given when it is another file; PKGFLAT_E_USAGE when it is the
 * same file under another name (a hard link: replacing that name would
 * leave the input as it was and break the link).
 */
pkgflat_status output_in_place(const char *output, const char *input,
    char **target, pkgflat_error *err);

/* A new directory beside path under a temporary name that the next
 * pkgflat_output_clean() there removes once this process is gone: its open
 * descriptor (-1 and errno on failure), the name in *tmp (allocated). */
int output_mkdtemp(const char *path, char **tmp);
