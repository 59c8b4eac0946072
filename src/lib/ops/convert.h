/* Internals shared by the converter's modules. */
#ifndef PKGFLAT_CONVERT_H
#define PKGFLAT_CONVERT_H

#include "bom_write.h"
#include "model.h"
#include "source.h"
#include "xar_write.h"

/* One payload to convert into the component directory `parent`. */
struct payload_job {
	/* Opens the legacy payload; called again when a pass starts over. */
	pkgflat_status (*open)(void *ctx, src_stream **out, pkgflat_error *err);
	void *open_ctx;
	const char *name;        /* the payload as error messages name it */
	xar_writer *xw;
	uint64_t parent;
	enum pkgflat_ownership ownership; /* applied to every entry */
	int force_transcode;
	int64_t mtime;           /* for a "." the payload lacks */
	int gzip_level;          /* 1-9 */
	int threads;             /* compression threads; 0: one per core */
	pkgflat_error *err;
	/* Given: each regular file's bytes as they pass, then buf NULL at
	 * its end (a pass that starts over sends them again). */
	int (*chunk_fn)(const pkgflat_entry *e, const unsigned char *buf,
	    size_t n, void *ctx);
	void *chunk_ctx;
	/* Told the bytes of the payload read so far in this pass (a pass
	 * that starts over starts from 0 again), or NULL. */
	void (*progress)(void *ctx, uint64_t bytes);
	void *progress_ctx;
};

struct payload_result {
	pkgflat_payload_stats stats;
	int copied;              /* fast path taken: bytes copied unchanged */
	struct spill bom;        /* the Bom for what was written: bom.p,
	                            bom.len; spill_close() it */
	uint64_t nonroot;        /* entries not owned by root, as written */
	char *nonroot_path;      /* the first of them (malloc'd) */
	uint32_t nonroot_uid;
	uint64_t normalised;     /* entries whose owner the policy changed */
	char *norm_path;         /* the first of them (malloc'd) */
	uint32_t norm_uid, norm_gid, norm_to_uid, norm_to_gid;
	uint64_t dups;           /* paths stored more than once */
	char *dup_path;          /* the first of them (malloc'd) */
	int empty;               /* the payload held no entry: "." was added */
};

pkgflat_status payload_convert(const struct payload_job *job,
    struct payload_result *res);

struct conv;
struct comp;
struct shown;

/* One component's directory in the archive (convert_component.c). */
pkgflat_status convert_component(struct conv *c, struct comp *k);
/* The size of a component's payload in the source (0: not known), for
 * progress. */
uint64_t convert_payload_size(struct conv *c, const pkgflat_component *b);

/* The Resources a plain package shows, and a carried .dist's whole
 * Resources folder (convert_resources.c). */
pkgflat_status convert_write_resources(struct conv *c,
    const pkgflat_component *b, struct shown *shown, size_t nshown);
pkgflat_status convert_copy_resources(struct conv *c, const pkgflat_component *b);

/* The whole product archive for pkg, written into *of, finished but not
 * yet in place: the caller commits or discards it (convert_check.c). */
pkgflat_status convert_product(pkgflat_package *pkg,
    const pkgflat_convert_options *opt, pkgflat_output **of,
    pkgflat_convert_result **result, pkgflat_error *err);

#endif
