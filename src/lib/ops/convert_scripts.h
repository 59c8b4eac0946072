/* Legacy scripts into a flat Scripts archive (see convert_scripts.c). */
#ifndef PKGFLAT_CONVERT_SCRIPTS_H
#define PKGFLAT_CONVERT_SCRIPTS_H

#include "model.h"
#include "xar_write.h"

/* The two halves of a bundle's scripts: checks and pre-install scripts
 * (run before the payload), and post-install scripts. */
enum { SCRIPTS_PRE = 1, SCRIPTS_POST = 2 };
int scripts_phase_includes(int phases, enum pkgflat_script s);

struct scripts_job {
	const pkgflat_component *bundle;
	src *src;
	const char *identifier;  /* the flat package id, for receipt checks */
	const char *name;        /* for messages */
	xar_writer *xw;
	uint64_t parent;
	int64_t mtime;
	int phases;              /* SCRIPTS_PRE | SCRIPTS_POST */
	pkgflat_error *err;
};

struct scripts_result {
	int preinstall, postinstall; /* wrappers written */
	size_t shipped;              /* resource files in the archive */
	size_t skipped;              /* Cheetah copies and .rtfd documents */
};

/* Writes "Scripts" into parent when the bundle has any script; otherwise
 * writes nothing and leaves res zeroed. */
pkgflat_status scripts_convert(const struct scripts_job *job,
    struct scripts_result *res);

void scripts_lint(const pkgflat_component *b, src *s,
    void (*warn)(void *ctx, const char *fmt, ...), void *ctx);

#endif
