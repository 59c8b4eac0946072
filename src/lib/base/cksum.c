/*
 * POSIX cksum: CRC-32 with polynomial 0x04C11DB7, most significant bit
 * first, no reflection, initial value 0; after the data, the length in
 * bytes is fed least significant byte first, without its high zero bytes;
 * the result is complemented. An empty input gives 0xFFFFFFFF.
 * Slice-by-8 tables keep it near memory speed on large payloads.
 */
#include <pthread.h>

#include "cksum.h"

static uint32_t tab[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			tab[t][i] = (tab[t - 1][i] << 8) ^ tab[0][tab[t - 1][i] >> 24];
}

void cksum_init(cksum_ctx *c)
{
	/* Once, whichever thread comes first. */
	pthread_once(&once, init_tables);
	c->crc = 0;
	c->len = 0;
}

static uint32_t update(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint32_t a = crc ^ ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3]);
		crc = tab[7][a >> 24] ^ tab[6][(a >> 16) & 0xff] ^
		    tab[5][(a >> 8) & 0xff] ^ tab[4][a & 0xff] ^
		    tab[3][p[4]] ^ tab[2][p[5]] ^ tab[1][p[6]] ^ tab[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc << 8) ^ tab[0][(crc >> 24) ^ *p++];
	return crc;
}

void cksum_update(cksum_ctx *c, const void *data, size_t n)
{
	c->crc = update(c->crc, data, n);
	c->len += n;
}

uint32_t cksum_final(const cksum_ctx *c)
{
	uint32_t crc = c->crc;
	unsigned char b;

	for (uint64_t len = c->len; len; len >>= 8) {
		b = (unsigned char)(len & 0xff);
		crc = update(crc, &b, 1);
	}
	return ~crc;
}

uint32_t cksum_buf(const void *data, size_t n)
{
	cksum_ctx c;

	cksum_init(&c);
	cksum_update(&c, data, n);
	return cksum_final(&c);
}
