/*
 * The legacy->flat mapping, one module that convert and diff both use:
 * the plan of the product's components (mapping.c), requirements as
 * Installer JavaScript (mapping_js.c) and the Distribution convert writes
 * (mapping_dist.c). convert writes what it decides; diff asks it what
 * convert would have written for a legacy package.
 */
#ifndef PKGFLAT_MAPPING_H
#define PKGFLAT_MAPPING_H

#include "model.h"
#include "xar_write.h"

struct pkgflat_convert_result {
	ptrvec comps;     /* pkgflat_converted * */
	ptrvec maps;      /* pkgflat_mapping * */
	ptrvec warnings;  /* char * */
};

/* A component of the product, as the Distribution needs it. */
struct comp {
	const pkgflat_component *b;
	char *name;       /* directory in the archive: "Foo.pkg" */
	char *id, *version, *title, *desc;
	const char *selection;   /* effective: selected/unselected/required */
	uint64_t kbytes;
	int scripts_only;        /* metapackage-level scripts */
	int phases;              /* for scripts_only: 1 pre, 2 post */
	int wrote_scripts;       /* a Scripts archive went out */
};

/* One conversion: its plan, its record, and (when writing) its archive. */
struct conv {
	pkgflat_package *pkg;
	const pkgflat_convert_options *opt;
	pkgflat_convert_result *res;
	xar_writer *xw;
	int64_t now;
	pkgflat_error *err;
	struct comp *comps;
	size_t ncomps;
};

/* What the Distribution's <welcome> & co. point at. */
struct shown {
	const char *role;
	char *file;       /* name in Resources (same in every .lproj) */
	const char *mime;
};

/* The record (mapping.c). c NULL: nothing is recorded. */
void conv_warn(struct conv *c, const char *fmt, ...) PF_PRINTF(2, 3);
void conv_warn_cb(void *ctx, const char *fmt, ...);
/* Record one decision. flat NULL: dropped. */
void conv_map(struct conv *c, const char *comp, const char *legacy,
    const char *value, const char *flat, const char *note);

/* Legacy values as flat ones (mapping.c). */
const char *flat_bool(int v);
const char *flat_postinstall_action(const char *restart);
const char *flat_on_conclusion(const char *restart);

/* The components of c->pkg in c->comps, named and identified; and their
 * release (mapping.c). */
pkgflat_status conv_plan(struct conv *c);
void conv_free_plan(struct conv *c);

/* Record how the Info.plist keys of a component, and those of the root
 * that nothing else maps, were mapped (mapping.c). */
void conv_map_component(struct conv *c, struct comp *k);
void conv_map_remaining_keys(struct conv *c, const pkgflat_component *b,
    const char *n);
void conv_superseded(struct conv *c, size_t from);

/* The JavaScript of every requirement check convert makes (mapping_js.c). */
void conv_checks_js(struct conv *c, strbuf *js, int *has_inst, int *has_vol);

/* The JavaScript statement convert writes into the Distribution for one
 * IFRequirementDicts entry of bundle b (appended to out); returns 1 for a
 * volume check, 0 for an installation check, -1 when it has none
 * (mapping_js.c). */
int convert_requirement_js(const pkgflat_component *b,
    const pkgflat_requirement *q, strbuf *out);

/* Does the root's .dist go over whole (mapping_dist.c)? */
int conv_carries_dist(const pkgflat_component *root);
/* The Distribution for the plan in c (malloc'd XML; mapping_dist.c). */
pkgflat_status conv_distribution_text(struct conv *c, struct shown *shown,
    size_t nshown, char **out, size_t *len);
/* The Distribution convert would write for pkg (malloc'd XML;
 * mapping_dist.c). */
pkgflat_status convert_distribution(pkgflat_package *pkg, char **out,
    size_t *len, pkgflat_error *err);

#endif
