/*
 * What sign.c and sign_request.c (two-step signing) share: the plan of
 * a signed package up to its signatures, and writing it.
 */
#ifndef PKGFLAT_SIGN_PLAN_H
#define PKGFLAT_SIGN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "pkgflat.h"
#include "sign.h"
#include "xar_read.h"

/* What signing `in` needs, up to the signatures. */
struct plan {
	int fd;                 /* the input, open */
	uint64_t file_size;
	uint64_t src, len;      /* file bytes of the input's heap to copy */
	struct xar_toc xt;      /* its TOC, the old signatures taken out */
	uint64_t base;          /* where the TOC's offsets now count from */
	unsigned char *head;    /* header, compressed TOC and checksum: the */
	size_t head_len;        /* output's first bytes */
	unsigned char ck[20];   /* the TOC checksum */
	struct sign_ctx *sctx;
	const struct xar_signer *xs;
};

void plan_free(struct plan *p);
/* Read and check `in`, and lay out its signed form for sp: p->head is the
 * output's header, TOC and checksum, p->xs->reserve bytes of signatures
 * follow, then p->len bytes of the input's heap from p->src. */
pkgflat_status plan_open(const char *in, const struct signer_params *sp,
    struct plan *p, pkgflat_error *err);
/* The output: head, the signatures, then the input's heap; it appears
 * only when complete (outfile.c), in place of the input when it names it. */
pkgflat_status write_signed(const char *in, const char *out,
    const struct plan *p, const unsigned char *head, size_t head_len,
    const unsigned char *sig, size_t sig_len,
    const pkgflat_sign_options *opt, pkgflat_error *err);
void fill_result(pkgflat_sign_result *res, const struct plan *p,
    int64_t signing_time);
/* opt->timestamp, or now. */
int64_t signing_time(const pkgflat_sign_options *opt);

#endif
