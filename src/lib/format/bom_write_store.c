/*
 * The block store a BOM is laid out in, for bom_write.c: the template
 * every mkbom BOM starts from, blocks placed first-fit from a free list
 * sorted by length (holes never merged), and the B+trees (Paths, HLIndex,
 * Size64) written over its blocks. bom_write.c's top comment says why it
 * is laid out this way.
 */
#include <stdlib.h>
#include <string.h>

#include "bom_write_store.h"

static pkgflat_status too_big(struct store *s)
{
	return fail(s->err, PKGFLAT_E_UNSUPPORTED, NULL, NULL,
	    "bom would exceed 4 GiB");
}

#define TRIM_EVERY ((size_t)1 << 20)

void bom_store_trim(struct store *s)
{
	spill_trim_every(&s->file, TRIM_EVERY);
	spill_trim_every(&s->tab, TRIM_EVERY);
}

void bom_store_free(struct store *s)
{
	spill_close(&s->file);
	spill_close(&s->tab);
	s->out = NULL;
}

/* Make room for block index `blk`. */
static pkgflat_status reserve_index(struct store *s, uint32_t blk)
{
	pkgflat_status st;

	if (blk >= s->blkcap) {
		if (blk > UINT32_MAX / 2)
			return too_big(s);
		if ((st = spill_reserve(&s->tab, ((size_t)blk + 1) * 8, s->err)))
			return st;
		s->blkcap = (uint32_t)(s->tab.cap / 8 > UINT32_MAX ?
		    UINT32_MAX : s->tab.cap / 8);
	}
	s->tab.len = ((size_t)blk + 1) * 8;
	return PKGFLAT_OK;
}

/* Grow the file to `end` bytes, the new bytes zero. */
pkgflat_status bom_store_extend(struct store *s, size_t end)
{
	pkgflat_status st;

	if (end > UINT32_MAX)
		return too_big(s);
	if ((st = spill_reserve(&s->file, end, s->err)))
		return st;
	s->out = s->file.p;
	/* The file's bytes past the end were never written: zero. */
	if (end > s->end) {
		s->end = end;
		s->file.len = end;
	}
	bom_store_trim(s);
	return PKGFLAT_OK;
}

/* Put a hole on the free list, in front of the first one at least as long. */
pkgflat_status bom_store_hole_add(struct store *s, uint32_t addr, uint32_t len)
{
	int i = 0;

	if (s->nfl == MAX_HOLES)
		return fail(s->err, PKGFLAT_E_INTERNAL, NULL, NULL,
		    "bom free list overflow");
	while (i < s->nfl && s->fl[i].len < len)
		i++;
	memmove(&s->fl[i + 1], &s->fl[i], (size_t)(s->nfl - i) * sizeof *s->fl);
	s->fl[i].addr = addr;
	s->fl[i].len = len;
	s->nfl++;
	return PKGFLAT_OK;
}

/* Give block blk len bytes: the first hole that fits, else the end. */
pkgflat_status bom_store_place(struct store *s, uint32_t blk, uint32_t len,
    unsigned char **p)
{
	pkgflat_status st;

	for (int i = 0; i < s->nfl; i++) {
		if (s->fl[i].len < len)
			continue;
		struct hole h = s->fl[i];
		memmove(&s->fl[i], &s->fl[i + 1],
		    (size_t)(s->nfl - i - 1) * sizeof *s->fl);
		s->nfl--;
		if (h.len > len && (st = bom_store_hole_add(s, h.addr + len, h.len - len)))
			return st;
		bom_store_set(s, blk, h.addr, len);
		*p = s->out + h.addr;
		memset(*p, 0, len);
		return PKGFLAT_OK;
	}
	size_t at = s->end;
	if ((st = bom_store_extend(s, at + len)))
		return st;
	bom_store_set(s, blk, (uint32_t)at, len);
	*p = s->out + at;
	return PKGFLAT_OK;
}

/* A new block index, not yet placed. */
pkgflat_status bom_store_new_index(struct store *s, uint32_t *blk)
{
	pkgflat_status st = reserve_index(s, s->nblk);

	if (st)
		return st;
	*blk = s->nblk++;
	bom_store_set(s, *blk, 0, 0);
	return PKGFLAT_OK;
}

pkgflat_status bom_store_new_block(struct store *s, uint32_t len, uint32_t *blk,
    unsigned char **p)
{
	pkgflat_status st = bom_store_new_index(s, blk);

	return st ? st : bom_store_place(s, *blk, len, p);
}

void bom_store_tree_header(unsigned char *p, uint32_t root, uint32_t node_size,
    uint32_t count)
{
	memcpy(p, "tree", 4);
	put32(p + 4, 1);
	put32(p + 8, root);
	put32(p + 12, node_size);
	put32(p + 16, count);
	p[20] = 0;
}

/* Lay down the state every mkbom BOM starts from (see the top comment). */
pkgflat_status bom_store_init(struct store *s)
{
	static const struct { uint32_t blk, addr, len; } blocks[] = {
		{ BLK_VINDEX, 512, 13 },
		{ BLK_INFO, OLD_INFO_OFF, OLD_INFO_LEN },
		{ BLK_HL, 540, TREE_LEN },
		{ BLK_PATHS_LEAF, 566, NODE_SIZE },
		{ BLK_PATHS, 4662, TREE_LEN },
		{ BLK_VTREE, 4683, TREE_LEN },
		{ BLK_HL_LEAF, 4721, NODE_SIZE },
		{ BLK_S64, 8817, TREE_LEN },
		{ BLK_VNODE, 8866, 128 },
		{ BLK_S64_LEAF, 9054, NODE_SIZE },
	};
	/* What the holes still hold: the tails of the variable table as it
	 * was rewritten with one, two, three and four variables. */
	static const struct { uint32_t addr, len; const char *bytes; } holes[] = {
		{ 525, 3, "nfo" },
		{ 561, 5, "Paths" },
		{ 4704, 17, "Paths\0\0\0\4\7HLIndex" },
		{ 8838, 28, "Paths\0\0\0\4\7HLIndex\0\0\0\6\6VIndex" },
	};
	static const struct { uint32_t blk; const char *name; } vars[] = {
		{ BLK_INFO, "BomInfo" }, { BLK_PATHS, "Paths" },
		{ BLK_HL, "HLIndex" }, { BLK_VINDEX, "VIndex" },
		{ BLK_S64, "Size64" },
	};
	pkgflat_status st;
	unsigned char *p;

	spill_init(&s->file);
	spill_init(&s->tab);
	s->out = NULL;
	s->end = 0;
	s->blkcap = 0;
	if ((st = reserve_index(s, FIRST_FREE_BLOCK)) ||
	    (st = bom_store_extend(s, TEMPLATE_END)))
		return st;
	s->nblk = FIRST_FREE_BLOCK;
	for (uint32_t b = 0; b < FIRST_FREE_BLOCK; b++)
		bom_store_set(s, b, 0, 0);
	memcpy(s->out, "BOMStore", 8);
	put32(s->out + 8, 1);
	for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) {
		bom_store_set(s, blocks[i].blk, blocks[i].addr, blocks[i].len);
	}
	for (size_t i = 0; i < sizeof holes / sizeof *holes; i++) {
		memcpy(s->out + holes[i].addr, holes[i].bytes, holes[i].len);
		if ((st = bom_store_hole_add(s, holes[i].addr, holes[i].len)))
			return st;
	}
	p = s->out + 512; /* VIndex: version, tree, two zeros */
	put32(p, 1);
	put32(p + 4, BLK_VTREE);
	p = s->out + OLD_INFO_OFF; /* BomInfo as first written: no paths */
	put32(p, 1);
	put32(p + 4, 1);
	bom_store_tree_header(s->out + bom_store_addr(s, BLK_VTREE), BLK_VNODE, 128, 0);
	put16(s->out + bom_store_addr(s, BLK_VNODE), 1);
	p = s->out + VARS_OFF;
	put32(p, 5);
	p += 4;
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		size_t n = strlen(vars[i].name);
		put32(p, vars[i].blk);
		p[4] = (unsigned char)n;
		memcpy(p + 5, vars[i].name, n);
		p += 5 + n;
	}
	return PKGFLAT_OK;
}

static void node_write(unsigned char *p, int leaf, uint32_t count,
    uint32_t forward, uint32_t backward, const uint32_t *pairs)
{
	put16(p, leaf ? 1 : 0);
	put16(p + 2, count);
	put32(p + 4, forward);
	put32(p + 8, backward);
	for (uint32_t k = 0; k < 2 * count; k++)
		put32(p + NODE_HDR + 4 * k, pairs[k]);
}

void bom_pairs_array(void *ctx, uint32_t k, uint32_t pair[2])
{
	const uint32_t *a = ctx;

	pair[0] = a[2 * (size_t)k];
	pair[1] = a[2 * (size_t)k + 1];
}

/*
 * Write a B+tree over n (index0, index1) pairs in key order: full leaves,
 * the first in block `first`, chained both ways; then branch levels, each
 * child keyed by the last index1 below it. *root is the top node.
 */
pkgflat_status bom_store_tree_build(struct store *s, uint32_t first,
    bom_pair_fn pair, void *ctx, uint32_t n, uint32_t *root)
{
	uint32_t nl = n ? (n + PER_NODE - 1) / PER_NODE : 1;
	uint32_t *lv = malloc((size_t)nl * 2 * sizeof *lv), *next = NULL;
	uint32_t buf[2 * PER_NODE];
	pkgflat_status st = PKGFLAT_OK;
	unsigned char *p;

	if (!lv)
		return fail_nomem(s->err);
	/* Leaves: indices first, so that each knows its neighbours. */
	lv[0] = first;
	for (uint32_t k = 1; k < nl; k++)
		if ((st = bom_store_new_index(s, &lv[2 * k])))
			goto done;
	for (uint32_t k = 0; k < nl; k++) {
		uint32_t at = k * PER_NODE;
		uint32_t c = n - at < PER_NODE ? n - at : PER_NODE;
		if (k > 0 && (st = bom_store_place(s, lv[2 * k], NODE_SIZE, &p)))
			goto done;
		for (uint32_t j = 0; j < c; j++)
			pair(ctx, at + j, buf + 2 * j);
		p = s->out + bom_store_addr(s, lv[2 * k]);
		memset(p, 0, NODE_SIZE);
		node_write(p, 1, c, k + 1 < nl ? lv[2 * (k + 1)] : 0,
		    k ? lv[2 * (k - 1)] : 0, c ? buf : NULL);
		lv[2 * k + 1] = c ? buf[2 * (c - 1) + 1] : 0;
	}
	/* Branch levels, until one node holds them all. */
	for (uint32_t cnt = nl; cnt > 1; ) {
		uint32_t nb = (cnt + PER_NODE - 1) / PER_NODE;
		if (!(next = malloc((size_t)nb * 2 * sizeof *next))) {
			st = fail_nomem(s->err);
			goto done;
		}
		for (uint32_t k = 0; k < nb; k++)
			if ((st = bom_store_new_index(s, &next[2 * k])))
				goto done;
		for (uint32_t k = 0; k < nb; k++) {
			uint32_t at = k * PER_NODE;
			uint32_t c = cnt - at < PER_NODE ? cnt - at : PER_NODE;
			if ((st = bom_store_place(s, next[2 * k], NODE_SIZE, &p)))
				goto done;
			node_write(p, 0, c, k + 1 < nb ? next[2 * (k + 1)] : 0,
			    k ? next[2 * (k - 1)] : 0, lv + 2 * (size_t)at);
			next[2 * k + 1] = lv[2 * (size_t)(at + c - 1) + 1];
		}
		free(lv);
		lv = next;
		next = NULL;
		cnt = nb;
	}
	*root = lv[0];
done:
	free(lv);
	free(next);
	return st;
}
