/* POSIX cksum(1) CRC: what a BOM stores for each file. */
#ifndef PKGFLAT_CKSUM_H
#define PKGFLAT_CKSUM_H

#include <stddef.h>
#include <stdint.h>

typedef struct cksum_ctx {
	uint32_t crc;
	uint64_t len;
} cksum_ctx;

void cksum_init(cksum_ctx *c);
void cksum_update(cksum_ctx *c, const void *data, size_t n);
/* The CRC of everything fed so far, with the length folded in. */
uint32_t cksum_final(const cksum_ctx *c);
uint32_t cksum_buf(const void *data, size_t n);

#endif
