/* Internals shared by the comparison's modules (see diff.c). */
#ifndef PKGFLAT_DIFF_H
#define PKGFLAT_DIFF_H

#include "model.h"

struct pkgflat_diff_result {
	ptrvec diffs;   /* pkgflat_difference *, strings allocated with it */
	ptrvec pairs;   /* pkgflat_diff_pair * */
	ptrvec strings; /* everything the two above point at */
	pkgflat_diff_pair *product; /* checks and metapackage scripts */
	int oom;
};

/* A copy of s kept with the result (NULL on no memory, r->oom set). */
const char *diff_keep(pkgflat_diff_result *r, const char *s);
/* Record one difference, counted for pair p when there is one. */
void diff_add(pkgflat_diff_result *r, pkgflat_diff_pair *p,
    const char *component, const char *category, const char *change,
    const char *attribute, const char *path, const char *a, const char *b);
/* The pair that holds the product's checks and metapackage scripts. */
pkgflat_diff_pair *diff_product_pair(pkgflat_diff_result *res);
void diff_hex(const unsigned char *sha, char *out);
int diff_same_str(const char *x, const char *y);
/* B's identifier for A's id, through the OLD=NEW maps. */
const char *diff_mapped(const pkgflat_diff_options *o, const char *id);

static inline int diff_is_flat(const pkgflat_package *p)
{
	enum pkgflat_bundle_kind k = pkgflat_component_kind(pkgflat_package_root(p));

	return k == PKGFLAT_BUNDLE_PRODUCT || k == PKGFLAT_BUNDLE_FLAT_COMPONENT;
}

/* Payloads and BOMs as records (diff_payload.c). */
struct rec {
	char *path;          /* full install path */
	char *link;          /* symlink target */
	char *hl;            /* hard link target as a full install path */
	int type;            /* PKGFLAT_ENTRY_*, hard links counted as files */
	uint32_t mode, uid, gid, rdev;
	int64_t mtime;
	uint64_t size;
	unsigned char sha[32];
	int has_sha;
	size_t leader;       /* first path (sorted) of its hard-link group */
	const char *lead;    /* that path (the leader's own string) */
	const char *key;     /* what pairs records up: path, or the part of it
	                        below the install location */
	size_t seq;          /* order in the archive */
	int sidecar;         /* a BOM's AppleDouble "._X" record: mode only */
};

struct rset {
	struct rec *r;
	size_t n, cap;
	char *root;          /* install location, "/" or "/Library/..." */
	int oom;
};

struct cmp {
	pkgflat_diff_result *res;
	pkgflat_diff_pair *pair;
	const char *component;
	const char *category;   /* "payload", "within-a", "within-b" */
	unsigned int ignore;
	int rel;                /* paired by payload path, not install path */
	/* Owners a conversion's ownership policy changed: policy -1 none
	 * known; legacy_a: A is the legacy side. Counted, the first kept. */
	int policy, legacy_a;
	uint64_t norm;
	char *norm_path;
	uint32_t norm_from[2], norm_to[2];
};

struct side {
	const pkgflat_component *b;
	int want_bom;
	struct rset payload, bom;
	pkgflat_error err;
	pkgflat_status rc;
};

char *norm_root(const char *loc);
void rset_free(struct rset *s);
/* How many keys two sorted sets share. */
size_t rset_common(const struct rset *a, const struct rset *b);
/* Pair records by full path (rel 0) or by payload path (rel 1). */
void rset_key(struct rset *s, int rel);
/* Read one side's payload and BOM (a thread's start routine). */
void *read_side(void *p);
/* Merge two sorted sets; within a package, a is the BOM. */
void cmp_sets(struct cmp *c, const struct rset *a, const struct rset *b);
void mark_inherited(pkgflat_diff_result *res, size_t ka, size_t kb,
    size_t kend);

/* Behaviour besides the payload (diff_behaviour.c). */
void cmp_metadata(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const pkgflat_component *a, const pkgflat_component *b,
    unsigned int ignore, int renamed, int moved);
pkgflat_status cmp_checks(pkgflat_diff_result *res, pkgflat_package *a,
    pkgflat_package *b, pkgflat_error *err);
pkgflat_status cmp_behaviour(pkgflat_diff_result *res, pkgflat_package *a,
    pkgflat_package *b, const pkgflat_diff_options *o, pkgflat_error *err);

/* Scripts (diff_scripts.c). */
pkgflat_status cmp_scripts(pkgflat_diff_result *res, pkgflat_diff_pair *pair,
    const char *id, const pkgflat_component *a, const pkgflat_component *b,
    pkgflat_error *err);
pkgflat_status cmp_product_scripts(pkgflat_diff_result *res,
    pkgflat_package *a, const char *used_a, pkgflat_package *b,
    const char *used_b, pkgflat_error *err);
int meta_scripts(const pkgflat_package *p, const pkgflat_component *c,
    const pkgflat_package *other);

#endif
