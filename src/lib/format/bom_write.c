/*
 * Writer for Apple bill-of-materials files ("BOMStore"), laid out the way
 * the current mkbom (pkgbuild, 2015 on) lays them out. bom_read.c describes the
 * format; this comment says how Apple arranges it, as worked out from the
 * nine corpus BOMs that ship with their payloads (testdata/bom/README.md)
 * and checked byte for byte against them by tests/unit/test_bomw.c
 * (scripts/bom-compare shows the differences block by block).
 *
 * mkbom builds the BOM inside a file-backed block store and never compacts
 * it, so the file records the store's history:
 *
 *  - Every BOM starts from the same state (all nine agree): header and
 *    zeros to 512, then VIndex (block 6) at 512, BomInfo (1) at 528, the
 *    HLIndex tree (4) at 540, the Paths leaf (3) at 566, the Paths tree (2)
 *    at 4662, the VIndex tree (7) at 4683, the HLIndex leaf (5) at 4721, the
 *    Size64 tree (9) at 8817, the VIndex node (8, 128 bytes) at 8866, the
 *    variables at 8994 and the Size64 leaf (10) at 9054, ending at 13150.
 *    Four holes are left where the variable table was written while it grew
 *    to one, two, three and four variables: (525,3) "nfo", (561,5) "Paths",
 *    (4704,17) and (8838,28), each still holding that table's tail.
 *  - A new block goes to the first hole of the free list that is large
 *    enough, else to the end of the file. The free list is kept sorted by
 *    length: the unused tail of a hole, or a freed block, goes in front of
 *    the first hole at least as long. Holes are never merged. A hole keeps
 *    its bytes, so the old variable tables show through.
 *  - Per path, in payload order: the record, the {parent id, name} key,
 *    the {id, record} value. Path ids count from 1 ("."), in that order.
 *  - Then, in Paths order, every path gets an HLIndex entry: a tree block
 *    is reserved, a 64-byte empty node written, then the tree, a 4-byte key
 *    (the record's block) and a 4-byte value (the tree's block). All but the
 *    entries of hard-link sets are dropped from the HLIndex leaf again; their
 *    blocks stay behind, unreferenced.
 *  - Last, BomInfo is rewritten with its info entry; at 28 bytes it no
 *    longer fits its 12-byte block, which joins the free list still holding
 *    {1, 1, 0}.
 *  - The block table is written at its capacity, 2730 entries (a 32 KiB
 *    table of 12-byte entries), the unused ones zero; then the free list:
 *    count, entries, and two zero entries.
 *
 * Paths leaves are ordered by (parent id, name), names compared as unsigned
 * bytes (strcmp). A directory's size is 32 * (children + 2), as APFS says,
 * sidecars not counted. BomInfo holds paths + 1 and one info entry, cpu
 * type 0, whose third word is the total size of files and symlinks (per
 * path, modulo 2^32). A "._X" file beside an X is recorded the way pkgbuild
 * records the AppleDouble sidecars it makes: flags 1, X's mode, the rest
 * zero, 31 bytes. Records: directory 31 bytes, file and device 35, symlink
 * 40 + target length, each ending in 8 zero bytes; flags 0x000f; a
 * symlink's size and CRC are its target's length and cksum.
 *
 * How close that comes (tests/unit/test_bomw.c):
 *  - Installomator 0.5 (pkgbuild, 2020): byte-identical, 35,489 bytes.
 *  - Install Joyent Pkgsrc (pkgbuild, 2015, HFS+, only "."): 2 bytes. The
 *    root's size is 68, HFS+'s 34 * (entries + 2), where we say 64; that
 *    pkgbuild also counted it in the BomInfo total.
 *  - First Boot Package Install (2017, new records, HFS+): block numbers,
 *    names and values identical; the 13 directory records differ (HFS+
 *    sizes), as do the Mach-O binary's (56 bytes: its architecture list;
 *    we do not parse Mach-O), one gid the odc payload truncated, BomInfo
 *    (an x86_64 entry) and the HLIndex leftovers, which that tool did not
 *    leave; from the binary on, blocks sit 21 bytes further along.
 *  - ExifTool (PackageMaker, 2014), Keychain Minder 1.3/1.5 (Iceberg),
 *    and three 2011-2012 payload-free packages: old 23/27-byte records, no
 *    HLIndex leftovers, directories in ExifTool's BomInfo total, per-cpu
 *    entries, "._" files as plain files. ExifTool's mkbom also numbered
 *    paths in byte order while its pax wrote them in case-insensitive order,
 *    so its ids differ from ours. Listings agree but for those quirks.
 *
 * What the corpus cannot show, and is our choice: more than 510 entries in
 * a tree. Leaves are filled (510 entries) and chained both ways, the first
 * in the template's block; the other leaves, then the branch levels (each
 * child keyed by the last key below it, nodes chained per level) go after
 * the path blocks, before the HLIndex leftovers. The block table grows by
 * doubling the 32 KiB table. Size64 entries (files of 4 GiB and more; the
 * record keeps the low 32 bits) pair an 8-byte size value with a 4-byte
 * record-block key, allocated after the path's own blocks. A hard-link set
 * keeps one HLIndex entry, for its last member in Paths order, with an
 * empty 64-byte tree, as go-macos-pkg found pkgbuild writes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bom_write.h"
#include "bom_write_store.h"
#include "cksum.h"

#define NONE UINT32_MAX

#define HL_NODE_SIZE 64
#define INFO_LEN 28

/* Record types. */
enum { REC_FILE = 1, REC_DIR, REC_LINK, REC_DEV };

/* Mode type bits, spelled out so they do not depend on the host. */
#define MODE_TYPE 0170000u
#define MODE_FIFO 0010000u
#define MODE_CHR 0020000u
#define MODE_DIR 0040000u
#define MODE_REG 0100000u
#define MODE_LNK 0120000u
#define MODE_SOCK 0140000u

/* ent.flags */
#define E_LINKED 1u  /* a regular file other entries hard-link to */
#define E_SIDECAR 2u /* "._X" beside X: set by bomw_finish */

struct ent {
	uint64_t size;
	uint32_t parent;   /* entry index; NONE for the root */
	uint32_t name;     /* offset of the NUL-terminated name in names */
	uint32_t name_len; /* a symlink's target follows the name's NUL */
	uint32_t link;     /* hard link: the file it links to, else NONE */
	uint32_t uid, gid, mtime;
	uint32_t crc;      /* files: cksum CRC; devices: rdev */
	uint32_t aux;      /* bomw_finish: children of a directory, owner of
	                      a sidecar, last member of a hard-link set */
	uint16_t mode;
	uint8_t type;      /* REC_* */
	uint8_t flags;
};

struct bom_writer {
	struct ent *ents;
	uint32_t n, cap;
	char *names;        /* every name and symlink target, NUL-terminated */
	size_t names_len, names_cap;
	uint32_t *slots;    /* (parent, name) hash: entry index + 1, 0 empty */
	uint32_t nslots;
};

/* ------------------------------------------------------------------ */
/* Entries                                                            */

pkgflat_status bomw_new(bom_writer **out, pkgflat_error *err)
{
	bom_writer *w;

	if (!out)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "no place to put the bom writer");
	if (!(*out = w = pf_calloc(1, sizeof *w)))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

void bomw_free(bom_writer *w)
{
	if (!w)
		return;
	free(w->ents);
	free(w->names);
	free(w->slots);
	free(w);
}

static uint32_t name_hash(uint32_t parent, const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ parent;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	/* murmur3's finaliser: FNV alone clusters on short names. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The slot holding (parent, name), or the empty slot where it belongs. */
static uint32_t *slot_of(const bom_writer *w, uint32_t parent, const char *s,
    size_t n)
{
	uint32_t mask = w->nslots - 1, h = name_hash(parent, s, n) & mask;

	for (;; h = (h + 1) & mask) {
		uint32_t v = w->slots[h];
		if (!v)
			return &w->slots[h];
		const struct ent *e = &w->ents[v - 1];
		if (e->parent == parent && e->name_len == n &&
		    !memcmp(w->names + e->name, s, n))
			return &w->slots[h];
	}
}

static uint32_t lookup(const bom_writer *w, uint32_t parent, const char *s,
    size_t n)
{
	uint32_t v = w->nslots ? *slot_of(w, parent, s, n) : 0;

	return v ? v - 1 : NONE;
}

/* Room for one more entry, the hash kept at most half full. */
static int grow(bom_writer *w)
{
	if (w->n == w->cap) {
		uint32_t cap = w->cap ? w->cap * 2 : 256;
		struct ent *e = realloc(w->ents, (size_t)cap * sizeof *e);
		if (!e)
			return -1;
		w->ents = e;
		w->cap = cap;
	}
	if ((uint64_t)(w->n + 1) * 2 > w->nslots) {
		uint32_t ns = w->nslots ? w->nslots * 2 : 512;
		uint32_t *s = pf_calloc(ns, sizeof *s);
		if (!s)
			return -1;
		free(w->slots);
		w->slots = s;
		w->nslots = ns;
		for (uint32_t i = 0; i < w->n; i++) {
			const struct ent *e = &w->ents[i];
			*slot_of(w, e->parent, w->names + e->name,
			    e->name_len) = i + 1;
		}
	}
	return 0;
}

/* Copy n bytes and a NUL into the name arena; NONE when out of room. */
static uint32_t keep(bom_writer *w, const char *s, size_t n)
{
	size_t need = w->names_len + n + 1;

	if (need > UINT32_MAX)
		return NONE;
	if (need > w->names_cap) {
		size_t cap = w->names_cap ? w->names_cap : 65536;
		while (cap < need)
			cap *= 2;
		char *p = realloc(w->names, cap);
		if (!p)
			return NONE;
		w->names = p;
		w->names_cap = cap;
	}
	uint32_t off = (uint32_t)w->names_len;
	memcpy(w->names + off, s, n);
	w->names[off + n] = '\0';
	w->names_len = need;
	return off;
}

/* Check "." or "./a/b": no empty, "." or ".." components. */
static int path_ok(const char *p)
{
	if (!strcmp(p, "."))
		return 1;
	if (strncmp(p, "./", 2) != 0 || !p[2])
		return 0;
	for (p += 2;;) {
		const char *s = strchr(p, '/');
		size_t n = s ? (size_t)(s - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!s)
			return 1;
		p = s + 1;
	}
}

/*
 * Find the entry of a checked path. On failure *missing is the length of
 * the prefix that was not found (or is not a directory, *notdir).
 */
static uint32_t resolve(const bom_writer *w, const char *path, size_t len,
    size_t *missing, int *notdir)
{
	uint32_t cur;
	size_t i;

	*notdir = 0;
	if (w->n == 0 || w->ents[0].parent != NONE) {
		*missing = 1;
		return NONE;
	}
	cur = 0;
	if (len == 1)
		return cur;
	for (i = 2; i < len; ) {
		const char *c = path + i, *s = memchr(c, '/', len - i);
		size_t n = s ? (size_t)(s - c) : len - i;
		if (w->ents[cur].type != REC_DIR) {
			*notdir = 1;
			*missing = i - 1;
			return NONE;
		}
		if ((cur = lookup(w, cur, c, n)) == NONE) {
			*missing = i + n;
			return NONE;
		}
		i += n + 1;
	}
	return cur;
}

static uint32_t clamp32(int64_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

pkgflat_status bomw_add(bom_writer *w, const pkgflat_entry *e,
    pkgflat_error *err)
{
	char where[32];
	size_t plen, missing;
	int notdir;
	uint32_t parent = NONE, link = NONE;
	uint8_t type;
	uint32_t tbits;

	if (!w || !e || !e->path)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "bomw_add: no writer, entry or path");
	snprintf(where, sizeof where, "entry %" PRIu32, w->n + 1);
	if (!path_ok(e->path))
		return fail(err, PKGFLAT_E_USAGE, NULL, where,
		    "bad path \"%s\": want \".\" or \"./\" and names without "
		    "empty, \".\" or \"..\" parts", e->path);
	if (w->n >= UINT32_MAX / 16)
		return fail(err, PKGFLAT_E_UNSUPPORTED, NULL, where,
		    "too many paths for a bom");
	switch (e->type) {
	case PKGFLAT_ENTRY_FILE:
	case PKGFLAT_ENTRY_HARDLINK: type = REC_FILE; tbits = MODE_REG; break;
	case PKGFLAT_ENTRY_DIR: type = REC_DIR; tbits = MODE_DIR; break;
	case PKGFLAT_ENTRY_SYMLINK: type = REC_LINK; tbits = MODE_LNK; break;
	case PKGFLAT_ENTRY_DEVICE: type = REC_DEV; tbits = MODE_CHR; break;
	case PKGFLAT_ENTRY_FIFO: type = REC_DEV; tbits = MODE_FIFO; break;
	case PKGFLAT_ENTRY_SOCKET: type = REC_DEV; tbits = MODE_SOCK; break;
	default:
		return fail(err, PKGFLAT_E_USAGE, NULL, where,
		    "%s: unknown entry type %d", e->path, e->type);
	}

	plen = strlen(e->path);
	const char *name = ".";
	size_t nlen = 1;
	if (plen == 1) {
		if (w->n)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "duplicate path .");
		if (type != REC_DIR)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "the root . is not a directory");
	} else {
		const char *slash = strrchr(e->path, '/');
		size_t dlen = (size_t)(slash - e->path);
		name = slash + 1;
		nlen = plen - dlen - 1;
		parent = resolve(w, e->path, dlen, &missing, &notdir);
		if (parent == NONE && notdir)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "parent %.*s of %s is not a directory",
			    (int)missing, e->path, e->path);
		if (parent == NONE)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "parent %.*s of %s was not added before it",
			    (int)missing, e->path, e->path);
		if (w->ents[parent].type != REC_DIR)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "parent %.*s of %s is not a directory", (int)dlen,
			    e->path, e->path);
		if (lookup(w, parent, name, nlen) != NONE)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "duplicate path %s", e->path);
	}
	if (e->type == PKGFLAT_ENTRY_HARDLINK) {
		if (!e->hardlink || !path_ok(e->hardlink))
			return fail(err, PKGFLAT_E_USAGE, NULL, where,
			    "hard link %s names no valid path", e->path);
		link = resolve(w, e->hardlink, strlen(e->hardlink), &missing,
		    &notdir);
		if (link == NONE)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "hard link %s names %s, which was not added before "
			    "it", e->path, e->hardlink);
		if (w->ents[link].type != REC_FILE)
			return fail(err, PKGFLAT_E_FORMAT, NULL, where,
			    "hard link %s names %s, which is not a regular file",
			    e->path, e->hardlink);
		if (w->ents[link].link != NONE)
			link = w->ents[link].link;
	}
	if (type == REC_LINK && !e->link_target)
		return fail(err, PKGFLAT_E_USAGE, NULL, where,
		    "symlink %s has no target", e->path);

	if (grow(w))
		return fail_nomem(err);
	struct ent *n = &w->ents[w->n];
	memset(n, 0, sizeof *n);
	n->parent = parent;
	n->name_len = (uint32_t)nlen;
	n->link = link;
	if ((n->name = keep(w, name, nlen)) == NONE)
		return fail_nomem(err);
	if (type == REC_LINK &&
	    keep(w, e->link_target, strlen(e->link_target)) == NONE)
		return fail_nomem(err);
	n->type = type;
	n->mode = (uint16_t)(e->mode & 0177777u);
	if ((n->mode & MODE_TYPE) == 0)
		n->mode = (uint16_t)(n->mode | tbits);
	n->uid = e->uid;
	n->gid = e->gid;
	n->mtime = clamp32(e->mtime);
	if (type == REC_FILE) {
		n->size = e->size;
		n->crc = e->crc;
	} else if (type == REC_LINK) {
		n->size = strlen(e->link_target);
	} else if (type == REC_DEV) {
		n->crc = e->rdev;
	}
	if (link != NONE) {
		struct ent *f = &w->ents[link];
		f->flags |= E_LINKED;
		/* newc cpio keeps a set's data with its last member; then the
		 * file the others link to arrives empty. */
		if (f->size == 0 && e->size > 0 && e->has_crc) {
			f->size = e->size;
			f->crc = e->crc;
		}
	}
	*slot_of(w, parent, name, nlen) = ++w->n;
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Serialising                                                        */

/* Paths order: parent id, then name as unsigned bytes (strcmp). */
static int path_cmp(const void *a, const void *b, void *ctx)
{
	const bom_writer *w = ctx;
	const struct ent *x = &w->ents[*(const uint32_t *)a];
	const struct ent *y = &w->ents[*(const uint32_t *)b];
	/* The root's parent is NONE: id 0, before every other. */
	uint32_t px = x->parent + 1, py = y->parent + 1;

	if (px != py)
		return px < py ? -1 : 1;
	uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(w->names + x->name, w->names + y->name, n);
	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

struct hlent {
	uint32_t rec, value, key;
};

static int hl_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct hlent *)a)->rec;
	uint32_t y = ((const struct hlent *)b)->rec;

	return x < y ? -1 : x > y;
}

/* A symlink's target: kept right after its name. */
static const char *link_target(const bom_writer *w, const struct ent *e)
{
	return w->names + e->name + e->name_len + 1;
}

static uint32_t record_len(const bom_writer *w, const struct ent *e)
{
	if (e->flags & E_SIDECAR)
		return 31;
	switch (e->type) {
	case REC_DIR: return 31;
	case REC_LINK: return 40 + (uint32_t)strlen(link_target(w, e));
	default: return 35;
	}
}

static void record_write(const bom_writer *w, const struct ent *e,
    unsigned char *p)
{
	const struct ent *data = e->link != NONE ? &w->ents[e->link] : e;

	p[0] = e->type;
	p[1] = 1;
	p[22] = 1;
	if (e->flags & E_SIDECAR) {
		/* pkgbuild's AppleDouble record: the owner's mode alone. */
		p[0] = REC_FILE;
		put16(p + 2, 1);
		put16(p + 4, w->ents[e->aux].mode);
		return;
	}
	put16(p + 2, 0x000f);
	put16(p + 4, e->mode);
	put32(p + 6, e->uid);
	put32(p + 10, e->gid);
	put32(p + 14, e->mtime);
	switch (e->type) {
	case REC_FILE:
		put32(p + 18, (uint32_t)data->size);
		put32(p + 23, data->crc);
		break;
	case REC_DIR:
		put32(p + 18, 32 * (e->aux + 2));
		break;
	case REC_LINK: {
		const char *t = link_target(w, e);
		uint32_t tl = (uint32_t)strlen(t);
		put32(p + 18, tl);
		put32(p + 23, cksum_buf(t, tl));
		put32(p + 27, tl + 1);
		memcpy(p + 31, t, tl + 1);
		break;
	}
	default: /* REC_DEV */
		put32(p + 23, e->crc);
		break;
	}
}

/* Work out sidecars, directory sizes and the last member of each hard-link
 * set (in Paths order, which `order` gives). */
static void derive(bom_writer *w, const uint32_t *order)
{
	for (uint32_t i = 0; i < w->n; i++) {
		w->ents[i].aux = 0;
		w->ents[i].flags &= (uint8_t)~E_SIDECAR;
	}
	for (uint32_t i = 0; i < w->n; i++) {
		struct ent *e = &w->ents[i];
		const char *nm = w->names + e->name;
		if (e->type != REC_FILE || e->link != NONE ||
		    (e->flags & E_LINKED) || e->name_len < 3 ||
		    nm[0] != '.' || nm[1] != '_')
			continue;
		uint32_t o = lookup(w, e->parent, nm + 2, e->name_len - 2);
		if (o != NONE) {
			e->flags |= E_SIDECAR;
			e->aux = o;
		}
	}
	for (uint32_t i = 0; i < w->n; i++) {
		const struct ent *e = &w->ents[i];
		if (e->parent != NONE && !(e->flags & E_SIDECAR))
			w->ents[e->parent].aux++;
	}
	for (uint32_t k = 0; k < w->n; k++) {
		uint32_t i = order[k];
		const struct ent *e = &w->ents[i];
		if (e->link != NONE)
			w->ents[e->link].aux = i;
		else if (e->flags & E_LINKED)
			w->ents[i].aux = i;
	}
}

/* Block table capacity: the 32 KiB table of 12-byte entries, doubled. */
static uint64_t table_cap(uint32_t nblk)
{
	uint64_t bytes = TABLE_BYTES;

	while (bytes / 12 < nblk)
		bytes *= 2;
	return bytes / 12;
}

/* A path's name and info blocks follow its record block (bomw_finish). */
#define NAME_BLK(rec) ((rec) + 1)
#define INFO_BLK(rec) ((rec) + 2)

struct paths_ctx {
	const uint32_t *order, *rec;
};

static void paths_pair(void *ctx, uint32_t k, uint32_t pair[2])
{
	const struct paths_ctx *c = ctx;
	uint32_t r = c->rec[c->order[k]];

	pair[0] = INFO_BLK(r);
	pair[1] = NAME_BLK(r);
}

pkgflat_status bomw_finish_spill(bom_writer *w, struct spill *out,
    pkgflat_error *err)
{
	struct store s = { .err = err };
	uint32_t *order = NULL, *rec = NULL, *pairs = NULL, *s64 = NULL;
	struct hlent *hl = NULL;
	uint32_t n64 = 0, nhl = 0, root, blk;
	uint64_t total = 0;
	pkgflat_status st;
	unsigned char *p;

	spill_init(&s.file);
	spill_init(&s.tab);
	if (out)
		spill_init(out);
	if (!w || !out)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "bomw_finish: no writer or output");
	if (w->n == 0)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "nothing added: a bom needs at least the root .");
	uint32_t n = w->n;

	/* Sorted in place of the entries: no copy of the keys. */
	if (!(order = malloc((size_t)n * sizeof *order))) {
		st = fail_nomem(err);
		goto done;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, path_cmp, w);
	derive(w, order);

	if (!(rec = malloc((size_t)n * sizeof *rec))) {
		st = fail_nomem(err);
		goto done;
	}
	if ((st = bom_store_init(&s)))
		goto done;

	/* Per path, in payload order: record, name, {id, record}; and a
	 * Size64 entry for files that do not fit the record's 32 bits. */
	for (uint32_t i = 0; i < n; i++) {
		const struct ent *e = &w->ents[i];
		const struct ent *d = e->link != NONE ? &w->ents[e->link] : e;
		uint32_t nb, ib;
		if ((st = bom_store_new_block(&s, record_len(w, e), &rec[i], &p)))
			goto done;
		record_write(w, e, p);
		if ((st = bom_store_new_block(&s, 4 + e->name_len + 1, &nb, &p)))
			goto done;
		put32(p, e->parent == NONE ? 0 : e->parent + 1);
		memcpy(p + 4, w->names + e->name, e->name_len);
		if ((st = bom_store_new_block(&s, 8, &ib, &p)))
			goto done;
		put32(p, i + 1);
		put32(p + 4, rec[i]);
		if (nb != NAME_BLK(rec[i]) || ib != INFO_BLK(rec[i])) {
			st = fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
			    "bom blocks of path %" PRIu32 " out of sequence", i);
			goto done;
		}
		if (e->flags & E_SIDECAR)
			continue;
		if (e->type == REC_FILE || e->type == REC_LINK)
			total += d->size;
		if (e->type == REC_FILE && d->size > UINT32_MAX) {
			if (!s64 && !(s64 = malloc((size_t)n * 2 * sizeof *s64))) {
				st = fail_nomem(err);
				goto done;
			}
			uint32_t key, value;
			if ((st = bom_store_new_block(&s, 4, &key, &p)))
				goto done;
			put32(p, rec[i]);
			if ((st = bom_store_new_block(&s, 8, &value, &p)))
				goto done;
			put64(p, d->size);
			s64[2 * n64] = value;
			s64[2 * n64 + 1] = key;
			n64++;
		}
	}

	struct paths_ctx pc = { order, rec };
	if ((st = bom_store_tree_build(&s, BLK_PATHS_LEAF, paths_pair, &pc, n,
	    &root)))
		goto done;
	bom_store_tree_header(s.out + bom_store_addr(&s, BLK_PATHS), root,
	    NODE_SIZE, n);

	/* HLIndex: every path's entry, in Paths order; only hard-link sets
	 * (once each, for the last member) stay in the tree. */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = order[k], set = NONE, tree, node, key, value;
		const struct ent *e = &w->ents[i];
		if (e->link != NONE)
			set = e->link;
		else if (e->flags & E_LINKED)
			set = i;
		if (set != NONE && w->ents[set].aux != i)
			continue;
		if ((st = bom_store_new_index(&s, &tree)) ||
		    (st = bom_store_new_block(&s, HL_NODE_SIZE, &node, &p)))
			goto done;
		put16(p, 1);
		if ((st = bom_store_place(&s, tree, TREE_LEN, &p)))
			goto done;
		bom_store_tree_header(p, node, HL_NODE_SIZE, 0);
		if ((st = bom_store_new_block(&s, 4, &key, &p)))
			goto done;
		put32(p, rec[i]);
		if ((st = bom_store_new_block(&s, 4, &value, &p)))
			goto done;
		put32(p, tree);
		if (set == NONE)
			continue;
		if (!hl && !(hl = malloc((size_t)n * sizeof *hl))) {
			st = fail_nomem(err);
			goto done;
		}
		hl[nhl].rec = rec[i];
		hl[nhl].value = value;
		hl[nhl].key = key;
		nhl++;
	}
	free(order);
	free(rec);
	order = rec = NULL;
	if (nhl) {
		qsort(hl, nhl, sizeof *hl, hl_cmp);
		if (!(pairs = malloc((size_t)nhl * 2 * sizeof *pairs))) {
			st = fail_nomem(err);
			goto done;
		}
	}
	for (uint32_t k = 0; k < nhl; k++) {
		pairs[2 * k] = hl[k].value;
		pairs[2 * k + 1] = hl[k].key;
	}
	if ((st = bom_store_tree_build(&s, BLK_HL_LEAF, bom_pairs_array, pairs,
	    nhl, &root)))
		goto done;
	bom_store_tree_header(s.out + bom_store_addr(&s, BLK_HL), root,
	    NODE_SIZE, nhl);

	/* Size64, keyed by record block: already in that order. */
	if ((st = bom_store_tree_build(&s, BLK_S64_LEAF, bom_pairs_array, s64,
	    n64, &root)))
		goto done;
	bom_store_tree_header(s.out + bom_store_addr(&s, BLK_S64), root,
	    NODE_SIZE, n64);

	/* BomInfo outgrows its first block: a new one, the old one freed. */
	if ((st = bom_store_place(&s, BLK_INFO, INFO_LEN, &p)))
		goto done;
	put32(p, 1);
	put32(p + 4, n + 1);
	put32(p + 8, 1);
	put32(p + 20, (uint32_t)total);
	if ((st = bom_store_hole_add(&s, OLD_INFO_OFF, OLD_INFO_LEN)))
		goto done;

	/* The block table at its capacity, then the free list. */
	uint64_t cap = table_cap(s.nblk);
	size_t ioff = s.end;
	uint64_t ilen = 4 + 8 * cap + 4 + 8 * (uint64_t)(s.nfl + 2);
	if ((st = bom_store_extend(&s, (size_t)(ioff + ilen))))
		goto done;
	put32(s.out + ioff, (uint32_t)cap);
	for (blk = 0; blk < s.nblk; blk++) {
		p = s.out + ioff + 4 + 8 * (size_t)blk;
		put32(p, bom_store_addr(&s, blk));
		put32(p + 4, bom_store_len(&s, blk));
		/* The table is as large as the rest: read and written
		 * a window at a time. */
		if ((blk & 0xffff) == 0xffff) {
			spill_trim(&s.file);
			spill_trim(&s.tab);
		}
	}
	p = s.out + ioff + 4 + 8 * cap;
	put32(p, (uint32_t)s.nfl);
	for (int i = 0; i < s.nfl; i++) {
		put32(p + 4 + 8 * i, s.fl[i].addr);
		put32(p + 8 + 8 * i, s.fl[i].len);
	}
	put32(s.out + 12, s.nblk - 1);
	put32(s.out + 16, (uint32_t)ioff);
	put32(s.out + 20, (uint32_t)ilen);
	put32(s.out + 24, VARS_OFF);
	put32(s.out + 28, VARS_LEN);

	spill_close(&s.tab);
	*out = s.file;
	out->len = s.end;
	spill_init(&s.file);
done:
	free(order);
	free(rec);
	free(pairs);
	free(s64);
	free(hl);
	bom_store_free(&s);
	return st;
}

pkgflat_status bomw_finish(bom_writer *w, unsigned char **out, size_t *len,
    pkgflat_error *err)
{
	struct spill sp;
	pkgflat_status st;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!out || !len)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "bomw_finish: no writer or output");
	if ((st = bomw_finish_spill(w, &sp, err)))
		return st;
	if (!(*out = malloc(sp.len ? sp.len : 1))) {
		spill_close(&sp);
		return fail_nomem(err);
	}
	memcpy(*out, sp.p, sp.len);
	*len = sp.len;
	spill_close(&sp);
	return PKGFLAT_OK;
}

int bomw_get(const bom_writer *w, const char *path, pkgflat_entry *out)
{
	size_t missing = 0;
	int notdir = 0;
	uint32_t i = resolve(w, path, strlen(path), &missing, &notdir);

	if (i == NONE)
		return 0;
	const struct ent *n = &w->ents[i];
	memset(out, 0, sizeof *out);
	out->path = path;
	out->mode = n->mode;
	out->uid = n->uid;
	out->gid = n->gid;
	out->size = n->size;
	out->link_target = n->type == REC_LINK ? link_target(w, n) : NULL;
	return 1;
}

int bomw_contains(const bom_writer *w, const char *path)
{
	size_t missing = 0;
	int notdir = 0;

	if (!strcmp(path, "."))
		return w->n > 0;
	return resolve(w, path, strlen(path), &missing, &notdir) != NONE;
}
