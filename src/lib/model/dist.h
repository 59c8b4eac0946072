/*
 * Distribution scripts: the legacy Tiger `.dist` carried into a flat
 * Distribution (dist.c), and the behaviour a Distribution gives Installer,
 * as diff compares it.
 */
#ifndef PKGFLAT_DIST_H
#define PKGFLAT_DIST_H

#include <libxml/tree.h>

#include "model.h"

/* One component of the product as convert names it. */
struct dist_comp {
	const pkgflat_component *b;   /* the legacy bundle it is made from */
	const char *name;          /* "Foo.pkg", the directory in the archive */
	const char *id, *version, *title;
	uint64_t kbytes;
	const char *auth;          /* pkg-ref auth: "Root" or "none" */
	const char *on_conclusion; /* pkg-ref onConclusion */
	int scripts_only;          /* the metapackage's own scripts */
	int first;                 /* scripts_only: runs before the others */
};

/* What convert adds to what the .dist says. */
struct dist_extra {
	const char *title;         /* --title, or NULL */
	const char *host_arch;     /* --host-arch, or NULL */
	const char *min_os;        /* --min-os, or NULL */
	const char *script;        /* generated JavaScript, or NULL */
	const char *inst_call;     /* its installation check call, or NULL */
	const char *vol_call;      /* its volume check call, or NULL */
};

/* A mapping decision (flat NULL: dropped). convert records it in its
 * report; a dropped one, or one with warn set, is also a warning. */
typedef void (*dist_note_fn)(void *ctx, const char *legacy, const char *value,
    const char *flat, const char *note, int warn);

/*
 * Parse a distribution script (legacy or flat): no network, no external
 * entities or DTDs loaded, entities left unexpanded in the tree, elements
 * nested at most DIST_MAX_DEPTH deep. name is for messages.
 */
#define DIST_MAX_DEPTH 64
pkgflat_status dist_parse(const unsigned char *data, size_t len,
    const char *name, xmlDocPtr *out, pkgflat_error *err);
pkgflat_status dist_load(pkgflat_package *pkg, const char *path,
    xmlDocPtr *out, pkgflat_error *err);

/* "file:./Contents/Packages/A%20B.pkg" -> "./Contents/Packages/A B.pkg"
 * (also "#A.pkg", "A.pkg"); malloc'd. */
char *dist_url_path(const char *url);

/* "selected", "unselected" or "required": what a choice's literal
 * selected/enabled values (or start_ ones) leave the user. */
const char *dist_choice_selection(xmlNodePtr choice);
/* The same for the first choice that holds pkg-ref id ("selected" when
 * none does). */
const char *dist_ref_selection(xmlNodePtr gui, const char *id);

/*
 * The flat Distribution for metapackage root, whose .dist is
 * root's PKGFLAT_F_DIST_FILE: the .dist whole, root renamed to
 * <installer-gui-script>, pkg-refs pointing at comps (ids, URLs, version,
 * installKBytes, auth, onConclusion), what convert adds. *out is malloc'd
 * UTF-8 XML.
 */
pkgflat_status dist_carry(pkgflat_package *pkg, const pkgflat_component *root,
    const struct dist_comp *comps, size_t ncomps,
    const struct dist_extra *extra, dist_note_fn note, void *ctx,
    char **out, size_t *outlen, pkgflat_error *err);

/* One behaviour of a Distribution: key (what) and its value (NULL when
 * the Distribution does not say). */
struct dist_fact {
	char *key;
	char *value;
};

/*
 * What a flat Distribution makes Installer do, as facts in a fixed
 * order: the choices outline, each choice's id, selected, enabled,
 * visible, start_* values, title, description and packages, the
 * installation and volume check calls and the <script> text. Ids are
 * renamed through rename(old) when given (diff's OLD=NEW maps).
 */
pkgflat_status dist_behaviour(xmlDocPtr doc,
    const char *(*rename)(void *ctx, const char *id), void *ctx,
    ptrvec *facts, pkgflat_error *err);
void dist_fact_free(void *p);

#endif
