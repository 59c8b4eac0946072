/*
 * Reader for Apple bill-of-materials files ("BOMStore"): the Archive.bom of a
 * legacy bundle package and the Bom of a flat one. Big-endian throughout.
 * References: legacy-format.md section 6, flat-format.md 3.4, peers.md 5;
 * hogliux/bomutils src/bom.h. The record layouts below were worked out from
 * the corpus BOMs and checked against their payloads (bsdtar listings, cksum
 * of the extracted files); testdata/bom/README.md says which.
 *
 * Header, at offset 0:
 *    0  "BOMStore"
 *    8  u32 version, 1
 *   12  u32 numberOfBlocks (non-null blocks; informational only)
 *   16  u32 indexOffset, u32 indexLength: the block table
 *   24  u32 varsOffset, u32 varsLength: the variables
 * Block table: u32 count, count x {u32 address, u32 length}, then a free
 *   list we ignore. Everything else refers to blocks by index into this
 *   table; block 0 is the null block.
 * Variables: u32 count, count x {u32 block, u8 nameLength, name}, naming
 *   BomInfo, Paths, HLIndex, VIndex and Size64.
 * BomInfo: u32 version, u32 numberOfPaths (paths + 1), u32 numberOfInfoEntries,
 *   then that many 16-byte per-CPU-type size totals.
 * Tree (Paths, HLIndex, Size64): "tree", u32 version, u32 root node block,
 *   u32 node size (4096 or 128), u32 entry count, u8 unknown.
 * Tree node: u16 isLeaf, u16 count, u32 forward, u32 backward, then
 *   count x {u32 index0, u32 index1}. In a branch index0 is a child node;
 *   leaves are chained left to right through forward.
 * Paths leaf entry: index0 -> {u32 path id, u32 record block},
 *   index1 -> {u32 parent id (0 at the top), NUL-terminated name}.
 *
 * Path record; the block length, not a struct size, says where it ends:
 *    0  u8 type: 1 file, 2 directory, 3 symlink, 4 device
 *    1  u8 1
 *    2  u16 flags: low nibble 0xf when all fields are valid, 0 in a paths-only
 *       BOM (mkbom -s; the record stops here), 1 in AppleDouble "._" records
 *       (mode only, the rest zero); high nibble = Mach-O architecture count
 *    4  u16 mode, type bits included (0100644, 040755)
 *    6  u32 uid, 10 u32 gid, 14 u32 mtime, 18 u32 size (low 32 bits), 22 u8 1
 *   23  directory: nothing
 *       file: u32 POSIX cksum CRC; if the flags count architectures, u8 1,
 *             u32 n, n x {u32 cputype, u32 cpusubtype, u32 size, u32 crc}
 *       symlink: u32 CRC of the target, u32 target length with its NUL,
 *             target at 31
 *       device: u32 device number
 *   mkbom up to about 2014 stops there (directory 23 bytes, file 27, a
 *   one-architecture binary 48); later ones append 8 zero bytes (31, 35, 56).
 *
 * Size64 holds the real size of files of 4 GiB and more. Each entry pairs a
 * 4-byte block holding the block index of the path record with an 8-byte
 * block holding the size. go-macos-pkg (tested against pkgbuild) puts the
 * record index in index0, stuckliste the other way round, so the two are told
 * apart by their lengths. HLIndex has one entry per hard-link set; only its
 * entries are counted. VIndex is a small header around one more tree; its
 * entries are counted too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bom_read.h"

#define HEADER_LEN 32
#define TREE_LEN 21
#define NODE_LEN 12
#define RECORD_COMMON_LEN 23
/* No real path comes near this; it bounds the work a hostile file can cause. */
#define MAX_PATH_LEN 16384
#define MAX_FILE_LEN ((uint64_t)2 << 30)
#define NONE UINT32_MAX

/* st_mode type bits, spelled out so that they do not depend on the host. */
#define MODE_TYPE 0170000
#define MODE_FIFO 0010000
#define MODE_CHR 0020000
#define MODE_DIR 0040000
#define MODE_REG 0100000
#define MODE_LNK 0120000
#define MODE_SOCK 0140000

struct bom_reader {
	const unsigned char *data;
	size_t len;
	char *file;
	const unsigned char *table; /* count x {address, length} */
	uint32_t nblocks;           /* entries in the block table */
	/* Blocks the variables name; 0 when absent. */
	uint32_t var_info, var_paths, var_hlindex, var_size64, var_vindex;
	void (*trim)(void *ctx);    /* bom_set_spill() */
	void *trim_ctx;
};

void bom_set_spill(bom_reader *r, void (*fn)(void *ctx), void *ctx)
{
	r->trim = fn;
	r->trim_ctx = ctx;
}

/* Entries between calls of the trim hook, less one. Each reads a few
 * blocks scattered over the BOM, and a fault on a mapped file maps more
 * than the page it needs (fault-around, large folios); the hook looks at
 * what is resident and drops it past a budget (spill_trim_over). */
#define TRIM_MASK 15u

/* Told every `mask + 1` steps of a walk: the owner of the data may drop
 * what is resident of it. */
static void maybe_trim(const bom_reader *r, uint32_t step, uint32_t mask)
{
	if (r->trim && (step & mask) == 0)
		r->trim(r->trim_ctx);
}

/* One Paths leaf entry. The name points into the BOM itself. */
struct pent {
	const char *name;
	uint32_t name_len;
	uint32_t id, parent;
	uint32_t record;    /* block of the path record */
	uint32_t name_blk;  /* block of {parent, name}, for messages */
	uint32_t up;        /* index of the parent entry, NONE at the top */
	unsigned char state; /* parent-chain check: 0 new, 1 on the walk, 2 ok */
};

struct size64 {
	uint32_t record;
	uint64_t size;
};

/* What bom_walk gathers before it calls back. */
struct walk {
	struct pent *ents;
	uint32_t n, cap;
	uint32_t *slots;    /* id hash: entry index + 1, 0 when empty */
	uint32_t nslots;    /* a power of two, or 0 */
	struct size64 *s64;
	uint32_t ns64;
	uint32_t nhl;
	uint32_t nvi;
	char *path;         /* MAX_PATH_LEN + 1 bytes */
};

struct node {
	int leaf;
	uint16_t count;
	uint32_t forward;
	const unsigned char *ent; /* count x {index0, index1} */
};

/* Record an error at "block N" or "offset N", as `kind` says. */
static pkgflat_status bad(const bom_reader *r, pkgflat_error *err,
    const char *kind, uint64_t n, const char *fmt, ...) PF_PRINTF(5, 6);

static pkgflat_status bad(const bom_reader *r, pkgflat_error *err,
    const char *kind, uint64_t n, const char *fmt, ...)
{
	char where[48], msg[sizeof err->message];
	va_list ap;

	snprintf(where, sizeof where, "%s %" PRIu64, kind, n);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail(err, PKGFLAT_E_FORMAT, r->file, where, "%s", msg);
}

/* The bytes of block i, checked against the table and the file. */
static pkgflat_status blk(const bom_reader *r, uint32_t i, const char *what,
    const unsigned char **p, uint32_t *len, pkgflat_error *err)
{
	if (i == 0)
		return bad(r, err, "block", i, "%s is the null block", what);
	if (i >= r->nblocks)
		return bad(r, err, "block", i,
		    "%s block index %" PRIu32 " out of range (block table has %"
		    PRIu32 " entries)", what, i, r->nblocks);
	uint32_t addr = be32(r->table + 8 * (size_t)i);
	uint32_t l = be32(r->table + 8 * (size_t)i + 4);
	if ((uint64_t)addr + l > r->len)
		return bad(r, err, "block", i,
		    "%s block %" PRIu32 " points past end of file (offset %"
		    PRIu32 " + %" PRIu32 " > %zu)", what, i, addr, l, r->len);
	*p = r->data + addr;
	*len = l;
	return PKGFLAT_OK;
}

pkgflat_status bom_open(const unsigned char *data, size_t len,
    const char *file, bom_reader **out, pkgflat_error *err)
{
	bom_reader *r = pf_calloc(1, sizeof *r);
	pkgflat_status st = PKGFLAT_OK;

	*out = NULL;
	if (!r || !(r->file = pf_strdup(file ? file : ""))) {
		st = fail_nomem(err);
		goto done;
	}
	r->data = data;
	r->len = len;
	if (len == 0) {
		st = bad(r, err, "offset", 0, "empty file");
		goto done;
	}
	if (memcmp(data, "BOMStore", len < 8 ? len : 8) != 0) {
		st = bad(r, err, "offset", 0, "bad magic (not a BOMStore file)");
		goto done;
	}
	if (len < HEADER_LEN) {
		st = bad(r, err, "offset", 0,
		    "truncated header (%zu bytes, need %d)", len, HEADER_LEN);
		goto done;
	}
	if (be32(data + 8) != 1) {
		st = fail(err, PKGFLAT_E_UNSUPPORTED, r->file, "offset 8",
		    "unsupported BOM version %" PRIu32, be32(data + 8));
		goto done;
	}

	uint32_t ioff = be32(data + 16), ilen = be32(data + 20);
	if ((uint64_t)ioff + ilen > len || ilen < 4) {
		st = bad(r, err, "offset", ioff,
		    "block table runs past end of file (offset %" PRIu32 " + %"
		    PRIu32 " > %zu)", ioff, ilen, len);
		goto done;
	}
	r->nblocks = be32(data + ioff);
	if (4 + 8 * (uint64_t)r->nblocks > ilen) {
		st = bad(r, err, "offset", ioff,
		    "block table of %" PRIu32 " entries does not fit in its %"
		    PRIu32 " bytes", r->nblocks, ilen);
		goto done;
	}
	r->table = data + ioff + 4;

	uint32_t voff = be32(data + 24), vlen = be32(data + 28);
	if ((uint64_t)voff + vlen > len || vlen < 4) {
		st = bad(r, err, "offset", voff,
		    "variable table runs past end of file (offset %" PRIu32
		    " + %" PRIu32 " > %zu)", voff, vlen, len);
		goto done;
	}
	const unsigned char *v = data + voff, *vend = v + vlen;
	uint32_t nvars = be32(v);
	v += 4;
	for (uint32_t i = 0; i < nvars; i++) {
		size_t at = (size_t)(v - data);
		if (vend - v < 5 || (size_t)(vend - v) < 5u + v[4]) {
			st = bad(r, err, "offset", at,
			    "variable %" PRIu32 " of %" PRIu32
			    " runs past the variable table", i + 1, nvars);
			goto done;
		}
		uint32_t b = be32(v);
		size_t nl = v[4];
		const char *name = (const char *)v + 5;
		uint32_t *slot = NULL;
		if (nl == 7 && !memcmp(name, "BomInfo", 7))
			slot = &r->var_info;
		else if (nl == 5 && !memcmp(name, "Paths", 5))
			slot = &r->var_paths;
		else if (nl == 7 && !memcmp(name, "HLIndex", 7))
			slot = &r->var_hlindex;
		else if (nl == 6 && !memcmp(name, "Size64", 6))
			slot = &r->var_size64;
		else if (nl == 6 && !memcmp(name, "VIndex", 6))
			slot = &r->var_vindex;
		if (slot && !*slot) {
			if (!b) {
				st = bad(r, err, "offset", at,
				    "variable %.*s names the null block",
				    (int)nl, name);
				goto done;
			}
			*slot = b;
		}
		v += 5 + nl;
	}
	if (!r->var_info || !r->var_paths) {
		st = bad(r, err, "offset", voff, "missing variable %s",
		    r->var_info ? "Paths" : "BomInfo");
		goto done;
	}
	*out = r;
	r = NULL;
done:
	bom_close(r);
	return st;
}

void bom_close(bom_reader *r)
{
	if (!r)
		return;
	free(r->file);
	free(r);
}

static pkgflat_status node_read(const bom_reader *r, const char *tree,
    uint32_t i, struct node *n, pkgflat_error *err)
{
	const unsigned char *p;
	uint32_t len;
	pkgflat_status st = blk(r, i, tree, &p, &len, err);

	if (st)
		return st;
	if (len < NODE_LEN)
		return bad(r, err, "block", i,
		    "%s node too short (%" PRIu32 " bytes, need %d)", tree, len,
		    NODE_LEN);
	n->leaf = be16(p) != 0;
	n->count = be16(p + 2);
	n->forward = be32(p + 4);
	n->ent = p + NODE_LEN;
	if (NODE_LEN + 8 * (uint32_t)n->count > len)
		return bad(r, err, "block", i,
		    "%s node too short (%" PRIu32 " bytes for %u entries)", tree,
		    len, (unsigned)n->count);
	return PKGFLAT_OK;
}

/*
 * Follow a chain of nodes to its end: first children down to the leftmost
 * leaf when descending, else forward links along the leaves. Brent's
 * algorithm finds a cycle without remembering the nodes seen.
 */
static pkgflat_status chain_end(const bom_reader *r, const char *tree,
    uint32_t start, int descend, uint32_t *last, pkgflat_error *err)
{
	uint32_t tortoise = start, hare = start;
	uint64_t power = 1, lam = 0;

	for (uint32_t steps = 0;; steps++) {
		struct node n;
		uint32_t next;
		maybe_trim(r, steps, 7);
		pkgflat_status st = node_read(r, tree, hare, &n, err);

		if (st)
			return st;
		if (descend) {
			if (n.leaf) {
				next = 0;
			} else if (n.count == 0) {
				return bad(r, err, "block", hare,
				    "%s branch node has no entries", tree);
			} else {
				next = be32(n.ent);
			}
		} else {
			if (!n.leaf)
				return bad(r, err, "block", hare,
				    "%s leaf chain reaches a branch node", tree);
			next = n.forward;
		}
		if (!next) {
			*last = hare;
			return PKGFLAT_OK;
		}
		hare = next;
		lam++;
		if (hare == tortoise)
			return bad(r, err, "block", hare, descend ?
			    "%s tree cycle: branch nodes lead back to block %"
			    PRIu32 : "%s tree cycle: leaf forward links lead "
			    "back to block %" PRIu32, tree, hare);
		if (lam == power) {
			tortoise = hare;
			power *= 2;
			lam = 0;
		}
	}
}

typedef pkgflat_status (*leaf_fn)(const bom_reader *r, uint32_t node,
    uint32_t index0, uint32_t index1, struct walk *w, pkgflat_error *err);

/* Call fn for every leaf entry of the tree at block tree_blk, in order. */
static pkgflat_status tree_walk(const bom_reader *r, uint32_t tree_blk,
    const char *tree, leaf_fn fn, struct walk *w, pkgflat_error *err)
{
	const unsigned char *p;
	uint32_t len, first, last;
	pkgflat_status st = blk(r, tree_blk, tree, &p, &len, err);

	if (st)
		return st;
	if (len < TREE_LEN || memcmp(p, "tree", 4) != 0)
		return bad(r, err, "block", tree_blk,
		    "%s is not a tree (bad magic or %" PRIu32 " bytes)", tree,
		    len);
	if ((st = chain_end(r, tree, be32(p + 8), 1, &first, err)))
		return st;
	/* Prove the leaf chain ends before trusting it to stop the loop. */
	if ((st = chain_end(r, tree, first, 0, &last, err)))
		return st;
	uint32_t steps = 0;
	for (uint32_t i = first; i; ) {
		struct node n;
		if ((st = node_read(r, tree, i, &n, err)))
			return st;
		for (uint32_t k = 0; k < n.count; k++) {
			maybe_trim(r, steps++, TRIM_MASK);
			if ((st = fn(r, i, be32(n.ent + 8 * k),
			    be32(n.ent + 8 * k + 4), w, err)))
				return st;
		}
		i = n.forward;
	}
	return PKGFLAT_OK;
}

/* murmur3's finaliser: ids are often dense, this spreads them. */
static uint32_t id_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/* The slot holding id, or the empty slot where it belongs. */
static uint32_t *id_slot(const struct walk *w, uint32_t id)
{
	uint32_t mask = w->nslots - 1, h = id_hash(id) & mask;

	while (w->slots[h] && w->ents[w->slots[h] - 1].id != id)
		h = (h + 1) & mask;
	return &w->slots[h];
}

static uint32_t id_find(const struct walk *w, uint32_t id)
{
	uint32_t s = w->nslots ? *id_slot(w, id) : 0;

	return s ? s - 1 : NONE;
}

/* Make room for one more entry, keeping the hash at most half full. */
static int walk_grow(struct walk *w)
{
	if (w->n == w->cap) {
		if (w->cap >= UINT32_MAX / 4)
			return -1;
		uint32_t cap = w->cap ? w->cap * 2 : 256;
		struct pent *e = realloc(w->ents, (size_t)cap * sizeof *e);
		if (!e)
			return -1;
		w->ents = e;
		w->cap = cap;
	}
	if ((uint64_t)(w->n + 1) * 2 > w->nslots) {
		uint32_t ns = w->nslots ? w->nslots * 2 : 512;
		uint32_t *old = w->slots, on = w->nslots;
		if (!(w->slots = pf_calloc(ns, sizeof *w->slots))) {
			w->slots = old;
			return -1;
		}
		w->nslots = ns;
		for (uint32_t i = 0; i < on; i++)
			if (old[i])
				*id_slot(w, w->ents[old[i] - 1].id) = old[i];
		free(old);
	}
	return 0;
}

static pkgflat_status paths_leaf(const bom_reader *r, uint32_t node,
    uint32_t index0, uint32_t index1, struct walk *w, pkgflat_error *err)
{
	const unsigned char *info, *file, *nul;
	uint32_t ilen, flen;
	pkgflat_status st;

	(void)node;
	if ((st = blk(r, index0, "path info", &info, &ilen, err)) ||
	    (st = blk(r, index1, "path name", &file, &flen, err)))
		return st;
	if (ilen < 8)
		return bad(r, err, "block", index0,
		    "path info too short (%" PRIu32 " bytes, need 8)", ilen);
	if (flen < 5)
		return bad(r, err, "block", index1,
		    "path name record too short (%" PRIu32 " bytes, need 5)",
		    flen);
	if (!(nul = memchr(file + 4, 0, flen - 4)))
		return bad(r, err, "block", index1,
		    "file name is not nul-terminated inside its block");
	if (walk_grow(w))
		return fail_nomem(err);

	uint32_t id = be32(info), *slot = id_slot(w, id);
	if (*slot)
		return bad(r, err, "block", index0,
		    "duplicate path id %" PRIu32, id);
	struct pent *e = &w->ents[w->n];
	memset(e, 0, sizeof *e);
	e->id = id;
	e->record = be32(info + 4);
	e->parent = be32(file);
	e->name = (const char *)file + 4;
	e->name_len = (uint32_t)((const char *)nul - e->name);
	e->name_blk = index1;
	*slot = ++w->n;
	return PKGFLAT_OK;
}

/* Link each entry to its parent; fail on unknown parents and cycles. */
static pkgflat_status link_parents(const bom_reader *r, struct walk *w,
    pkgflat_error *err)
{
	for (uint32_t i = 0; i < w->n; i++) {
		struct pent *e = &w->ents[i];
		e->up = NONE;
		if (e->parent && (e->up = id_find(w, e->parent)) == NONE)
			return bad(r, err, "block", e->name_blk,
			    "path id %" PRIu32 " has unknown parent id %" PRIu32,
			    e->id, e->parent);
	}
	/*
	 * Mark the chain up from each entry; meeting a mark of the current
	 * walk means a cycle. Chains proved finite are marked done so each
	 * entry is climbed through once.
	 */
	for (uint32_t i = 0; i < w->n; i++) {
		uint32_t j = i;
		while (j != NONE && w->ents[j].state == 0) {
			w->ents[j].state = 1;
			j = w->ents[j].up;
		}
		if (j != NONE && w->ents[j].state == 1)
			return bad(r, err, "block", w->ents[j].name_blk,
			    "parent ids form a cycle through path id %" PRIu32,
			    w->ents[j].id);
		for (j = i; j != NONE && w->ents[j].state == 1;
		    j = w->ents[j].up)
			w->ents[j].state = 2;
	}
	return PKGFLAT_OK;
}

/*
 * The full path of entry i in w->path: "." for a top-level ".", else "./"
 * and the names from the top down. Parent cycles are ruled out already.
 */
static pkgflat_status build_path(const bom_reader *r, struct walk *w,
    uint32_t i, pkgflat_error *err)
{
	size_t total = 1;
	uint32_t j;

	for (j = i; j != NONE; j = w->ents[j].up) {
		const struct pent *e = &w->ents[j];
		if (e->up == NONE && e->name_len == 1 && e->name[0] == '.')
			break;
		total += 1 + e->name_len;
		if (total > MAX_PATH_LEN)
			return bad(r, err, "block", w->ents[i].name_blk,
			    "path of id %" PRIu32 " longer than %d bytes",
			    w->ents[i].id, MAX_PATH_LEN);
	}
	char *p = w->path + total;
	*p = '\0';
	for (j = i; p > w->path + 1; j = w->ents[j].up) {
		const struct pent *e = &w->ents[j];
		p -= e->name_len;
		memcpy(p, e->name, e->name_len);
		*--p = '/';
	}
	w->path[0] = '.';
	return PKGFLAT_OK;
}

static pkgflat_status size64_leaf(const bom_reader *r, uint32_t node,
    uint32_t index0, uint32_t index1, struct walk *w, pkgflat_error *err)
{
	const unsigned char *a, *b;
	uint32_t alen, blen;
	pkgflat_status st;

	/* Every entry names a path record, so there are no more than paths. */
	if (w->ns64 >= w->n)
		return bad(r, err, "block", node,
		    "Size64 has more entries than Paths (%" PRIu32 ")", w->n);
	if ((st = blk(r, index0, "Size64 key", &a, &alen, err)) ||
	    (st = blk(r, index1, "Size64 value", &b, &blen, err)))
		return st;
	struct size64 *s = &w->s64[w->ns64++];
	if (alen == 4 && blen == 8) {
		s->record = be32(a);
		s->size = be64(b);
	} else if (alen == 8 && blen == 4) {
		s->record = be32(b);
		s->size = be64(a);
	} else {
		return bad(r, err, "block", node,
		    "Size64 entry has a %" PRIu32 "-byte key and a %" PRIu32
		    "-byte value, want 4 and 8", alen, blen);
	}
	return PKGFLAT_OK;
}

static pkgflat_status hlindex_leaf(const bom_reader *r, uint32_t node,
    uint32_t index0, uint32_t index1, struct walk *w, pkgflat_error *err)
{
	(void)index0;
	(void)index1;
	/* One entry per inode at most, so never more than there are paths. */
	if (w->nhl >= w->n)
		return bad(r, err, "block", node,
		    "HLIndex has more entries than Paths (%" PRIu32 ")", w->n);
	w->nhl++;
	return PKGFLAT_OK;
}

static pkgflat_status vindex_leaf(const bom_reader *r, uint32_t node,
    uint32_t index0, uint32_t index1, struct walk *w, pkgflat_error *err)
{
	(void)index0;
	(void)index1;
	if (w->nvi >= w->n)
		return bad(r, err, "block", node,
		    "VIndex has more entries than Paths (%" PRIu32 ")", w->n);
	w->nvi++;
	return PKGFLAT_OK;
}

/* VIndex: {u32 version 1, u32 tree block, u32 0, u8 0} around a tree that
 * every BOM we have leaves empty. */
static pkgflat_status read_vindex(const bom_reader *r, struct walk *w,
    pkgflat_error *err)
{
	const unsigned char *p;
	uint32_t len;
	pkgflat_status st = blk(r, r->var_vindex, "VIndex", &p, &len, err);

	if (st)
		return st;
	if (len < 8)
		return bad(r, err, "block", r->var_vindex,
		    "VIndex too short (%" PRIu32 " bytes)", len);
	return tree_walk(r, be32(p + 4), "VIndex tree", vindex_leaf, w, err);
}

static int size64_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct size64 *)a)->record;
	uint32_t y = ((const struct size64 *)b)->record;

	return x < y ? -1 : x > y;
}

/* Decode the path record at block rec into e (all but path). */
static pkgflat_status record_read(const bom_reader *r, const struct walk *w,
    uint32_t rec, pkgflat_entry *e, pkgflat_error *err)
{
	static const uint32_t type_bits[] = {
		[PKGFLAT_ENTRY_FILE] = MODE_REG,
		[PKGFLAT_ENTRY_DIR] = MODE_DIR,
		[PKGFLAT_ENTRY_SYMLINK] = MODE_LNK,
		[PKGFLAT_ENTRY_DEVICE] = MODE_CHR,
	};
	const unsigned char *p;
	uint32_t len, need;
	pkgflat_status st = blk(r, rec, "path record", &p, &len, err);

	if (st)
		return st;
	if (len < 4)
		return bad(r, err, "block", rec,
		    "path record too short (%" PRIu32 " bytes, need 4)", len);
	switch (p[0]) {
	case 1: e->type = PKGFLAT_ENTRY_FILE; break;
	case 2: e->type = PKGFLAT_ENTRY_DIR; break;
	case 3: e->type = PKGFLAT_ENTRY_SYMLINK; break;
	case 4: e->type = PKGFLAT_ENTRY_DEVICE; break;
	default:
		return bad(r, err, "block", rec, "unknown path type %u",
		    (unsigned)p[0]);
	}
	uint16_t flags = be16(p + 2);
	if ((flags & 0xf) == 0) {
		/* A paths-only BOM: the type is all there is. */
		e->mode = type_bits[e->type];
		return PKGFLAT_OK;
	}
	need = RECORD_COMMON_LEN;
	if (e->type == PKGFLAT_ENTRY_FILE || e->type == PKGFLAT_ENTRY_DEVICE)
		need += 4;
	else if (e->type == PKGFLAT_ENTRY_SYMLINK)
		need += 8;
	if (len < need)
		return bad(r, err, "block", rec,
		    "path record too short (%" PRIu32 " bytes, need %" PRIu32
		    " for type %u)", len, need, (unsigned)p[0]);

	e->mode = be16(p + 4);
	e->uid = be32(p + 6);
	e->gid = be32(p + 10);
	e->mtime = be32(p + 14);
	/*
	 * The mode carries the type bits in every BOM seen; trust it as
	 * stored (AppleDouble "._" records copy the mode of the file they
	 * belong to, directory or not) and only fill in missing bits.
	 */
	if ((e->mode & MODE_TYPE) == 0)
		e->mode |= type_bits[e->type];
	switch (e->type) {
	case PKGFLAT_ENTRY_FILE: {
		e->size = be32(p + 18);
		/* A high-nibble count of architectures adds their records. */
		if (flags >> 12) {
			if (len < 32 || 32 + 16 * (uint64_t)be32(p + 28) > len)
				return bad(r, err, "block", rec,
				    "path record too short for its "
				    "architecture list (%" PRIu32 " bytes)", len);
		}
		/* "._" records (flags 1) hold zero, not a checksum. */
		e->crc = be32(p + 23);
		e->has_crc = (flags & 0xf) == 0xf;
		struct size64 key = { .record = rec }, *s64 = w->ns64 ?
		    bsearch(&key, w->s64, w->ns64, sizeof *w->s64, size64_cmp) :
		    NULL;
		if (s64)
			e->size = s64->size;
		break;
	}
	case PKGFLAT_ENTRY_SYMLINK: {
		uint32_t tl = be32(p + 27);
		if ((uint64_t)need + tl > len)
			return bad(r, err, "block", rec,
			    "symlink target runs past its record (%" PRIu32
			    " + %" PRIu32 " > %" PRIu32 " bytes)", need, tl, len);
		/* The length counts the NUL; do not rely on it being there. */
		const unsigned char *t = p + need, *z = memchr(t, 0, tl);
		e->link_target = pf_strndup((const char *)t,
		    z ? (size_t)(z - t) : tl);
		if (!e->link_target)
			return fail_nomem(err);
		break;
	}
	case PKGFLAT_ENTRY_DEVICE:
		/* Type 4 stands for any special file; the mode says which. */
		e->rdev = be32(p + 23);
		if ((e->mode & MODE_TYPE) == MODE_FIFO)
			e->type = PKGFLAT_ENTRY_FIFO;
		else if ((e->mode & MODE_TYPE) == MODE_SOCK)
			e->type = PKGFLAT_ENTRY_SOCKET;
		break;
	default:
		break;
	}
	return PKGFLAT_OK;
}

static pkgflat_status read_info(const bom_reader *r, uint32_t *paths,
    pkgflat_error *err)
{
	const unsigned char *p;
	uint32_t len;
	pkgflat_status st = blk(r, r->var_info, "BomInfo", &p, &len, err);

	if (st)
		return st;
	if (len < 12 || 12 + 16 * (uint64_t)be32(p + 8) > len)
		return bad(r, err, "block", r->var_info,
		    "BomInfo too short (%" PRIu32 " bytes)", len);
	*paths = be32(p + 4);
	return PKGFLAT_OK;
}

pkgflat_status bom_walk(bom_reader *r, pkgflat_entry_fn fn, void *ctx,
    pkgflat_bom_stats *stats, pkgflat_error *err)
{
	struct walk w = { 0 };
	pkgflat_bom_stats s = { 0 };
	pkgflat_status st;
	char *target = NULL;

	if ((st = read_info(r, &s.info_paths, err)))
		goto done;
	if ((st = tree_walk(r, r->var_paths, "Paths", paths_leaf, &w, err)))
		goto done;
	if ((st = link_parents(r, &w, err)))
		goto done;
	if (r->var_hlindex &&
	    (st = tree_walk(r, r->var_hlindex, "HLIndex", hlindex_leaf, &w,
	    err)))
		goto done;
	if (r->var_vindex && (st = read_vindex(r, &w, err)))
		goto done;
	if (r->var_size64) {
		if (!(w.s64 = pf_calloc(w.n, sizeof *w.s64))) {
			st = fail_nomem(err);
			goto done;
		}
		if ((st = tree_walk(r, r->var_size64, "Size64", size64_leaf,
		    &w, err)))
			goto done;
		qsort(w.s64, w.ns64, sizeof *w.s64, size64_cmp);
	}
	if (!(w.path = malloc(MAX_PATH_LEN + 1))) {
		st = fail_nomem(err);
		goto done;
	}
	s.paths = w.n;
	s.hardlink_sets = w.nhl;
	s.vindex_entries = w.nvi;
	s.size64_entries = w.ns64;

	for (uint32_t i = 0; i < w.n; i++) {
		pkgflat_entry e = { 0 };
		maybe_trim(r, i, TRIM_MASK);
		if ((st = record_read(r, &w, w.ents[i].record, &e, err)) ||
		    (st = build_path(r, &w, i, err)))
			goto done;
		target = (char *)e.link_target;
		e.path = w.path;
		if (e.type == PKGFLAT_ENTRY_FILE)
			s.file_bytes += e.size;
		int rc = fn ? fn(&e, ctx) : 0;
		free(target);
		target = NULL;
		if (rc) {
			/* The callback's value is handed back, as promised. */
			st = (pkgflat_status)rc;
			goto done;
		}
	}
done:
	if (stats)
		*stats = s;
	free(target);
	free(w.ents);
	free(w.slots);
	free(w.s64);
	free(w.path);
	return st;
}

pkgflat_status pkgflat_bom_list_file(const char *path, pkgflat_entry_fn fn,
    void *ctx, pkgflat_bom_stats *stats, pkgflat_error *err)
{
	unsigned char *buf = NULL;
	size_t n = 0, cap;
	bom_reader *r = NULL;
	pkgflat_status st = PKGFLAT_OK;
	struct stat sb;
	int fd = -1;

	if (stats)
		memset(stats, 0, sizeof *stats);
	if (!path)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no BOM path given");
	if ((fd = open(path, O_RDONLY)) < 0) {
		st = fail_errno(err, path, "cannot open");
		goto done;
	}
	if (fstat(fd, &sb) != 0) {
		st = fail_errno(err, path, "cannot stat");
		goto done;
	}
	if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > MAX_FILE_LEN) {
		st = fail(err, PKGFLAT_E_UNSUPPORTED, path, NULL,
		    "file too large for a BOM (%" PRIu64 " bytes, limit 2 GiB)",
		    (uint64_t)sb.st_size);
		goto done;
	}
	/* Size from fstat when it can say, else grow: pipes report 0. */
	cap = sb.st_size > 0 ? (size_t)sb.st_size + 1 : 65536;
	for (;;) {
		if (n == cap) {
			unsigned char *p;
			/* Never beyond the limit + 1: enough to notice. */
			cap = (uint64_t)cap * 2 > MAX_FILE_LEN + 1 ?
			    (size_t)(MAX_FILE_LEN + 1) : cap * 2;
			if (!(p = realloc(buf, cap))) {
				st = fail_nomem(err);
				goto done;
			}
			buf = p;
		} else if (!buf && !(buf = malloc(cap))) {
			st = fail_nomem(err);
			goto done;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			st = fail_errno(err, path, "cannot read");
			goto done;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > MAX_FILE_LEN) {
			st = fail(err, PKGFLAT_E_UNSUPPORTED, path, NULL,
			    "file too large for a BOM (more than 2 GiB)");
			goto done;
		}
	}
	if ((st = bom_open(buf, n, path, &r, err)))
		goto done;
	st = bom_walk(r, fn, ctx, stats, err);
done:
	if (fd >= 0)
		close(fd);
	bom_close(r);
	free(buf);
	return st;
}
