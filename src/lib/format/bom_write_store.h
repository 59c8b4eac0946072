/*
 * The block store a BOM is laid out in (bom_write_store.c), shared by the
 * BOM writer (bom_write.c): Apple's template, blocks placed first-fit
 * from a free list of holes, and the B+trees over them. bom_write.c's top
 * comment says how mkbom arranges them.
 */
#ifndef PKGFLAT_BOM_WRITE_STORE_H
#define PKGFLAT_BOM_WRITE_STORE_H

#include "internal.h"
#include "spill.h"

#define NODE_SIZE 4096
#define NODE_HDR 12
#define PER_NODE ((NODE_SIZE - NODE_HDR) / 8) /* 510 */
#define TREE_LEN 21

/* The template every BOM starts from; see bom_write.c's top comment. */
#define VARS_OFF 8994u
#define VARS_LEN 60u
#define TEMPLATE_END 13150u
#define OLD_INFO_OFF 528u
#define OLD_INFO_LEN 12u
#define FIRST_FREE_BLOCK 11u
#define TABLE_BYTES 32768u /* the store's first block table, 12-byte entries */
#define MAX_HOLES 16

enum { BLK_INFO = 1, BLK_PATHS, BLK_PATHS_LEAF, BLK_HL, BLK_HL_LEAF,
    BLK_VINDEX, BLK_VTREE, BLK_VNODE, BLK_S64, BLK_S64_LEAF };

struct hole {
	uint32_t addr, len;
};

/* The block store being laid out by bomw_finish. The file and the block
 * table (addr, len per block) live in spills, trimmed as they grow, so a
 * BOM of millions of blocks costs the process a window, not its size. */
struct store {
	unsigned char *out;  /* == file.p: moves when the file grows */
	size_t end;
	struct spill file;
	struct spill tab;    /* uint32_t pairs: addr, len */
	uint32_t nblk, blkcap;
	struct hole fl[MAX_HOLES]; /* the free list, sorted by length */
	int nfl;
	pkgflat_error *err;
};

static inline uint32_t bom_store_addr(const struct store *s, uint32_t blk)
{
	return ((const uint32_t *)s->tab.p)[2 * (size_t)blk];
}

static inline uint32_t bom_store_len(const struct store *s, uint32_t blk)
{
	return ((const uint32_t *)s->tab.p)[2 * (size_t)blk + 1];
}

static inline void bom_store_set(struct store *s, uint32_t blk,
    uint32_t addr, uint32_t len)
{
	uint32_t *t = (uint32_t *)s->tab.p + 2 * (size_t)blk;

	t[0] = addr;
	t[1] = len;
}

static inline void put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Lay down the state every mkbom BOM starts from. */
pkgflat_status bom_store_init(struct store *s);
/* Drop both spills (bomw_finish hands the file on first). */
void bom_store_free(struct store *s);
/* Drop what is resident of the file and the table, every few MiB. */
void bom_store_trim(struct store *s);
/* Grow the file to `end` bytes, the new bytes zero. */
pkgflat_status bom_store_extend(struct store *s, size_t end);
/* Put a hole on the free list, in front of the first one at least as long. */
pkgflat_status bom_store_hole_add(struct store *s, uint32_t addr, uint32_t len);
/* Give block blk len bytes: the first hole that fits, else the end; *p
 * points at them. */
pkgflat_status bom_store_place(struct store *s, uint32_t blk, uint32_t len,
    unsigned char **p);
/* A new block index, not yet placed. */
pkgflat_status bom_store_new_index(struct store *s, uint32_t *blk);
/* A new block of len bytes, placed; *p points at it. */
pkgflat_status bom_store_new_block(struct store *s, uint32_t len,
    uint32_t *blk, unsigned char **p);
/* A 21-byte "tree" block: root node, node size, entry count. */
void bom_store_tree_header(unsigned char *p, uint32_t root,
    uint32_t node_size, uint32_t count);
/* The k-th (index0, index1) pair of a tree, in key order. */
typedef void (*bom_pair_fn)(void *ctx, uint32_t k, uint32_t pair[2]);
/* A B+tree over n pairs, its first leaf in block `first`; *root is the
 * top node. */
pkgflat_status bom_store_tree_build(struct store *s, uint32_t first,
    bom_pair_fn pair, void *ctx, uint32_t n, uint32_t *root);
/* bom_pair_fn over an array of 2n uint32_t. */
void bom_pairs_array(void *ctx, uint32_t k, uint32_t pair[2]);

#endif
