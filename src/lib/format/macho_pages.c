/*
 * The code pages of a Mach-O slice, hashed as they stream by, for the
 * CodeDirectory's code slots (xnu's <kern/cs_blobs.h>): slot i holds the
 * hash of bytes [i * pageSize, min((i + 1) * pageSize, codeLimit)) of the
 * slice. The CodeDirectory sits in the signature after the code, so the
 * hashes are taken first (SHA-1 and SHA-256 of each 4096-byte page: which
 * one is needed is said only later) and compared once it is read.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "macho_pages.h"

#define PAGE 4096u
#define H1 20u
#define H256 32u
/* 52 bytes a page are kept until the CodeDirectory comes: past 1 GiB of
 * code in one slice (13 MiB of hashes) the pages are not judged. */
#define MAX_PAGES (1u << 18)

struct macho_pages {
	uint64_t start;          /* the slice's offset in the file */
	uint64_t limit;          /* where hashing stops (absolute); 0: not known */
	uint64_t at;             /* next byte expected (absolute) */
	int stopped, broken;
	EVP_MD_CTX *c1, *c256;
	uint32_t in_page;        /* bytes of the current page hashed so far */
	unsigned char *h;        /* per page: SHA-1 then SHA-256 */
	size_t n, cap;
};

struct macho_pages *macho_pages_new(uint64_t start)
{
	struct macho_pages *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->start = p->at = start;
	p->c1 = EVP_MD_CTX_new();
	p->c256 = EVP_MD_CTX_new();
	if (!p->c1 || !p->c256 ||
	    EVP_DigestInit_ex(p->c1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(p->c256, EVP_sha256(), NULL) != 1) {
		macho_pages_free(p);
		return NULL;
	}
	return p;
}

void macho_pages_free(struct macho_pages *p)
{
	if (!p)
		return;
	EVP_MD_CTX_free(p->c1);
	EVP_MD_CTX_free(p->c256);
	free(p->h);
	free(p);
}

void macho_pages_stop(struct macho_pages *p)
{
	p->stopped = 1;
}

void macho_pages_limit(struct macho_pages *p, uint64_t limit)
{
	if (limit < p->at)
		p->broken = 1;  /* already hashed past it: cannot judge */
	p->limit = limit;
}

/* The page being hashed is done: keep its two hashes, start the next. */
static int page_end(struct macho_pages *p)
{
	unsigned int k;

	if (p->n == MAX_PAGES) {
		p->broken = 1;
		free(p->h);
		p->h = NULL;
		p->n = p->cap = 0;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		unsigned char *h = realloc(p->h, cap * (H1 + H256));
		if (!h)
			return -1;
		p->h = h;
		p->cap = cap;
	}
	unsigned char *d = p->h + p->n * (H1 + H256);
	if (EVP_DigestFinal_ex(p->c1, d, &k) != 1 ||
	    EVP_DigestFinal_ex(p->c256, d + H1, &k) != 1 ||
	    EVP_DigestInit_ex(p->c1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(p->c256, EVP_sha256(), NULL) != 1)
		return -1;
	p->n++;
	p->in_page = 0;
	return 0;
}

int macho_pages_feed(struct macho_pages *p, uint64_t pos,
    const unsigned char *buf, size_t len)
{
	if (!p || p->stopped || p->broken)
		return 0;
	uint64_t end = pos + len;
	if (end <= p->at)
		return 0;
	if (pos > p->at) {
		p->broken = 1;   /* a gap: bytes went by unseen */
		return 0;
	}
	buf += p->at - pos;
	len = (size_t)(end - p->at);
	if (p->limit && p->at + len > p->limit)
		len = p->at >= p->limit ? 0 : (size_t)(p->limit - p->at);
	while (len) {
		uint32_t k = PAGE - p->in_page;
		if (k > len)
			k = (uint32_t)len;
		if (EVP_DigestUpdate(p->c1, buf, k) != 1 ||
		    EVP_DigestUpdate(p->c256, buf, k) != 1)
			return -1;
		p->in_page += k;
		p->at += k;
		buf += k;
		len -= k;
		if (p->in_page == PAGE && page_end(p))
			return -1;
		if (p->broken)
			return 0;
	}
	return 0;
}

int macho_pages_compare(struct macho_pages *p, const unsigned char *cd,
    uint32_t cd_len, uint32_t *bad_page)
{
	uint32_t version, hoff, nslots, climit, scatter = 0;

	if (!p || p->broken || p->stopped || !p->limit || cd_len < 44)
		return -1;
	version = (uint32_t)cd[8] << 24 | (uint32_t)cd[9] << 16 |
	    (uint32_t)cd[10] << 8 | cd[11];
#define BE32(q) ((uint32_t)(q)[0] << 24 | (uint32_t)(q)[1] << 16 | \
	(uint32_t)(q)[2] << 8 | (q)[3])
	hoff = BE32(cd + 16);
	nslots = BE32(cd + 28);
	climit = BE32(cd + 32);
	unsigned int hsize = cd[36], htype = cd[37], page_log2 = cd[39];
	if (version >= 0x20100 && cd_len >= 48)
		scatter = BE32(cd + 44);
	if (version >= 0x20300 && cd_len >= 64) {
		for (int i = 56; i < 64; i++)
			if (cd[i])
				return -1;   /* codeLimit64: not judged */
	}
#undef BE32
	/* Only what this was built for is judged: 4096-byte pages, SHA-1,
	 * SHA-256 or SHA-256 cut to 20 bytes, no scatter list, a code limit
	 * at the signature. */
	if (page_log2 != 12 || scatter ||
	    !((htype == 1 && hsize == H1) || (htype == 2 && hsize == H256) ||
	    (htype == 3 && hsize == H1)) ||
	    (uint64_t)climit != p->limit - p->start ||
	    nslots != (climit + PAGE - 1) / PAGE ||
	    (uint64_t)hoff + (uint64_t)nslots * hsize > cd_len)
		return -1;
	/* The last page, cut at the code limit. */
	if (p->at != p->limit)
		return -1;
	if ((p->in_page && page_end(p)) || p->broken)
		return -1;
	if (p->n != nslots)
		return -1;
	for (uint32_t i = 0; i < nslots; i++) {
		const unsigned char *mine = p->h + (size_t)i * (H1 + H256) +
		    (htype == 1 ? 0 : H1);
		if (memcmp(mine, cd + hoff + (size_t)i * hsize, hsize)) {
			*bad_page = i;
			return 0;
		}
	}
	return 1;
}
