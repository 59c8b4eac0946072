/*
 * HFS+ and HFSX, read-only (Apple TN1150 "HFS Plus Volume Format").
 *
 * The volume header sits 1024 bytes into the volume: signature "H+"/"HX",
 * attributes at 4 (bit 8 cleanly unmounted, bit 13 journaled), block size
 * at 40, total blocks at 44, then five 80-byte fork records from 112
 * (allocation, extents, catalog, attributes, startup): logical size,
 * clump size, total blocks, eight (start, count) extents.
 *
 * B-trees are files of fixed-size nodes: a 14-byte descriptor (forward
 * link, backward link, kind, height, record count), records, and record
 * offsets counted back from the node's end. Node 0's header record gives
 * the node size, node count and first leaf. We walk the leaf chain only
 * (every record of a tree is in its leaves), with a visited bitmap so a
 * cycle in the chain is an error rather than a hang.
 *
 * Catalog leaf records: key (length, parent CNID, UTF-16BE name), then a
 * folder (type 1) or file (type 2) record; threads (3, 4) are skipped.
 * Files carry BSD info at 32 (mode at 42, special at 44), Finder info at
 * 48 (type, creator, flags at 56) and data/resource forks at 88 and 168.
 * Special files: symlinks (type 'slnk', creator 'rhap': the target is the
 * data fork), file hard links ('hlnk'/'hfs+': the inode is
 * "iNode<special>" in the private "\0\0\0\0HFS+ Private Data" folder),
 * directory hard links ('fdrp'/'MACS': "dir_<special>" in
 * ".HFS+ Private Directory Data\r").
 *
 * Extents past a fork's first eight are in the extents-overflow B-tree,
 * keyed by (file ID, fork type, first block). Compressed files (BSD owner
 * flag UF_COMPRESSED) hold a "com.apple.decmpfs" attribute: a 16-byte
 * header ("fpmc", type, size, little-endian) and for types 1 and 3 the data
 * itself, for type 4 a resource fork of zlib chunks (256-byte header, then
 * at 0x104 a chunk count and (offset, length) pairs relative to 0x104).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hfsplus_int.h"

#define MAX_DEPTH 256
#define MAX_LINK 4096
#define MAX_DECMPFS_ATTR (1u << 20)

static pkgflat_status vfail(hfs_vol *v, pkgflat_error *err,
    const char *where, const char *what)
{
	return fail(err, PKGFLAT_E_FORMAT, v->name, where, "%s", what);
}

/* ------------------------------------------------------------------ */
/* B-trees                                                             */

struct btree {
	hfs_vol *v;
	const struct hfs_fork *f;
	const char *what;
	uint32_t node_size, total, first_leaf;
	unsigned char *node;
	uint8_t *seen;
};

static pkgflat_status bt_open(hfs_vol *v, const struct hfs_fork *f,
    const char *what, struct btree *bt, pkgflat_error *err)
{
	unsigned char h[106];
	pkgflat_status rc;

	memset(bt, 0, sizeof *bt);
	bt->v = v;
	bt->f = f;
	bt->what = what;
	if (f->size < 512)
		return fail(err, PKGFLAT_E_FORMAT, v->name, what, "B-tree file "
		    "of %llu bytes is too small", (unsigned long long)f->size);
	if ((rc = fork_read(v, f, 0, h, sizeof h, err)))
		return rc;
	if ((int8_t)h[8] != 1)
		return vfail(v, err, what, "node 0 is not a B-tree header node");
	bt->first_leaf = be32(h + 24);
	bt->node_size = be16(h + 32);
	bt->total = be32(h + 36);
	if (bt->node_size < 512 || bt->node_size > 32768 ||
	    (bt->node_size & (bt->node_size - 1)))
		return fail(err, PKGFLAT_E_FORMAT, v->name, what, "B-tree node "
		    "size %u is not a power of two from 512 to 32768",
		    bt->node_size);
	if (!bt->total || bt->total > f->size / bt->node_size)
		return fail(err, PKGFLAT_E_FORMAT, v->name, what, "B-tree claims "
		    "%u nodes of %u bytes in a file of %llu bytes", bt->total,
		    bt->node_size, (unsigned long long)f->size);
	if (!(bt->node = malloc(bt->node_size)) ||
	    !(bt->seen = pf_calloc(bt->total / 8 + 1, 1)))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

static void bt_close(struct btree *bt)
{
	free(bt->node);
	free(bt->seen);
}

typedef pkgflat_status (*bt_rec_fn)(hfs_vol *v, const unsigned char *rec,
    size_t len, const char *where, pkgflat_error *err);

/* Every leaf record, in order along the leaf chain. */
static pkgflat_status bt_leaves(struct btree *bt, bt_rec_fn fn,
    pkgflat_error *err)
{
	hfs_vol *v = bt->v;
	uint32_t n = bt->first_leaf;
	char where[96];
	pkgflat_status rc;

	if (!n)
		return PKGFLAT_OK;   /* an empty tree */
	while (n) {
		snprintf(where, sizeof where, "%s node %u", bt->what, n);
		if (n >= bt->total)
			return fail(err, PKGFLAT_E_FORMAT, v->name, where, "node "
			    "number out of range (the tree has %u nodes)",
			    bt->total);
		if (bt->seen[n / 8] & (1u << (n % 8)))
			return fail(err, PKGFLAT_E_FORMAT, v->name, where,
			    "cycle in the leaf chain");
		bt->seen[n / 8] |= (uint8_t)(1u << (n % 8));
		if ((rc = fork_read(v, bt->f, (uint64_t)n * bt->node_size,
		    bt->node, bt->node_size, err)))
			return rc;
		const unsigned char *nd = bt->node;
		if ((int8_t)nd[8] != -1)
			return vfail(v, err, where, "leaf chain reaches a node "
			    "that is not a leaf");
		uint16_t nrec = be16(nd + 10);
		size_t tbl = bt->node_size - 2 * ((size_t)nrec + 1);
		if ((size_t)nrec * 2 + 2 + 14 > bt->node_size)
			return vfail(v, err, where, "absurd record count");
		for (uint16_t i = 0; i < nrec; i++) {
			size_t a = be16(nd + bt->node_size - 2 * (i + 1)),
			    b = be16(nd + bt->node_size - 2 * (i + 2));
			if (a < 14 || b < a || b > tbl)
				return fail(err, PKGFLAT_E_FORMAT, v->name, where,
				    "record %u offsets out of order or range", i);
			if ((rc = fn(v, nd + a, b - a, where, err)))
				return rc;
		}
		n = be32(nd);
	}
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* UTF-16BE to UTF-8, as stored (NFD); "/" is ":" as the Mac shows it.
 * *nuls counts U+0000, which only the private folders' names hold. */
static char *utf16_name(const unsigned char *p, size_t n, int *nuls)
{
	char *s = malloc(n * 3 + 1), *o = s;

	*nuls = 0;
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = be16(p + 2 * i);
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < n &&
		    be16(p + 2 * i + 2) >= 0xdc00 && be16(p + 2 * i + 2) < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) +
			    (be16(p + 2 * i + 2) - 0xdc00);
			i++;
		} else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (c == 0) {
			(*nuls)++;
			continue;
		}
		if (c == '/')
			c = ':';
		if (c < 0x80)
			*o++ = (char)c;
		else if (c < 0x800) {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			*o++ = (char)(0xe0 | c >> 12);
			*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		} else {
			*o++ = (char)(0xf0 | c >> 18);
			*o++ = (char)(0x80 | ((c >> 12) & 0x3f));
			*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* Record collectors                                                   */

static pkgflat_status ovf_rec(hfs_vol *v, const unsigned char *r, size_t len,
    const char *where, pkgflat_error *err)
{
	if (len < 12 + 64 || be16(r) < 10)
		return vfail(v, err, where, "extents overflow record too short");
	if (v->novf >= MAX_ENTRIES)
		return vfail(v, err, where, "absurd number of extent records");
	struct ovf *n = realloc(v->ovf, (v->novf + 1) * sizeof *n);
	if (!n)
		return fail_nomem(err);
	v->ovf = n;
	n = &v->ovf[v->novf++];
	n->type = r[2];
	n->file = be32(r + 4);
	n->start = be32(r + 8);
	for (int i = 0; i < 8; i++) {
		n->ext[i].start = be32(r + 12 + 8 * i);
		n->ext[i].count = be32(r + 16 + 8 * i);
	}
	return PKGFLAT_OK;
}

static pkgflat_status cat_rec(hfs_vol *v, const unsigned char *r, size_t len,
    const char *where, pkgflat_error *err)
{
	if (len < 8)
		return vfail(v, err, where, "catalog record too short");
	size_t klen = be16(r), nlen = be16(r + 6);
	if (klen < 6 || klen + 2 > len || 8 + 2 * nlen > klen + 2)
		return vfail(v, err, where, "catalog key length out of range");
	size_t d = klen + 2;
	d += d & 1;
	if (d + 2 > len)
		return vfail(v, err, where, "catalog record has no data");
	const unsigned char *x = r + d;
	size_t xl = len - d;
	int16_t type = (int16_t)be16(x);
	if (type == 3 || type == 4)
		return PKGFLAT_OK;
	if (type != 1 && type != 2)
		return fail(err, PKGFLAT_E_FORMAT, v->name, where, "unknown "
		    "catalog record type %d", type);
	if ((type == 1 && xl < 88) || (type == 2 && xl < 248))
		return vfail(v, err, where, "catalog record too short");
	if (v->nrecs >= MAX_ENTRIES)
		return vfail(v, err, where, "absurd number of catalog records");
	struct rec *n = realloc(v->recs, (v->nrecs + 1) * sizeof *n);
	if (!n)
		return fail_nomem(err);
	v->recs = n;
	n = &v->recs[v->nrecs];
	memset(n, 0, sizeof *n);
	int nuls;
	if (!(n->name = utf16_name(r + 8, nlen, &nuls)))
		return fail_nomem(err);
	v->nrecs++;
	n->parent = be32(r + 2);
	n->folder = type == 1;
	n->cnid = be32(x + 8);
	n->owner_flags = x[32 + 9];
	n->mode = be16(x + 32 + 10);
	n->special = be32(x + 32 + 12);
	memcpy(n->finfo, x + 48, 32);
	if (type == 2) {
		memcpy(n->fork[0], x + 88, 80);
		memcpy(n->fork[1], x + 168, 80);
	}
	if (n->parent == 2 && nuls == 4 && type == 1 &&
	    !strcmp(n->name, "HFS+ Private Data"))
		n->priv = 1;
	if (n->parent == 2 && type == 1 &&
	    !strcmp(n->name, ".HFS+ Private Directory Data\r"))
		n->priv = 2;
	if (nuls && !n->priv)
		return fail(err, PKGFLAT_E_FORMAT, v->name, where, "name with a "
		    "NUL character in folder %u", n->parent);
	if (!n->name[0] && n->parent != 1)
		return vfail(v, err, where, "empty file name");
	return PKGFLAT_OK;
}

static pkgflat_status attr_rec(hfs_vol *v, const unsigned char *r,
    size_t len, const char *where, pkgflat_error *err)
{
	if (len < 14)
		return vfail(v, err, where, "attribute record too short");
	size_t klen = be16(r), nlen = be16(r + 12);
	if (klen + 2 > len || 14 + 2 * nlen > klen + 2)
		return vfail(v, err, where, "attribute key length out of range");
	if (be32(r + 8))
		return PKGFLAT_OK;   /* a continuation of an earlier record */
	size_t d = klen + 2;
	d += d & 1;
	if (d + 16 > len)
		return vfail(v, err, where, "attribute record has no data");
	const unsigned char *x = r + d;
	static const char dn[] = "com.apple.decmpfs";
	int dec = nlen == sizeof dn - 1;
	for (size_t i = 0; dec && i < nlen; i++)
		dec = be16(r + 14 + 2 * i) == (unsigned char)dn[i];
	if (v->nattrs >= MAX_ENTRIES)
		return vfail(v, err, where, "absurd number of attributes");
	struct attr *n = realloc(v->attrs, (v->nattrs + 1) * sizeof *n);
	if (!n)
		return fail_nomem(err);
	v->attrs = n;
	n = &v->attrs[v->nattrs++];
	memset(n, 0, sizeof *n);
	n->file = be32(r + 4);
	n->decmpfs = dec;
	if (!dec)
		return PKGFLAT_OK;
	uint32_t rt = be32(x);
	if (rt == 0x10) {
		size_t sz = be32(x + 12);
		if (sz > len - d - 16)
			return vfail(v, err, where, "inline attribute data runs "
			    "past its record");
		if (!(n->data = malloc(sz ? sz : 1)))
			return fail_nomem(err);
		memcpy(n->data, x + 16, sz);
		n->len = sz;
	} else if (rt == 0x20) {
		struct hfs_fork *f;
		pkgflat_status rc;
		if (len - d < 8 + 80)
			return vfail(v, err, where, "attribute fork record too short");
		/* Attribute forks never overflow into the extents file in the
		 * volumes we read; a bigger one fails fork_load's check. */
		if ((rc = fork_load(v, x + 8, 0xffffffffu, 0, where, &f, err)))
			return rc;
		if (f->size > MAX_DECMPFS_ATTR)
			return vfail(v, err, where, "decmpfs attribute too large");
		if (!(n->data = malloc(f->size ? (size_t)f->size : 1)))
			return fail_nomem(err);
		n->len = (size_t)f->size;
		if ((rc = fork_read(v, f, 0, n->data, n->len, err)))
			return rc;
	} else
		return fail(err, PKGFLAT_E_FORMAT, v->name, where, "unknown "
		    "attribute record type 0x%x", rt);
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* The tree                                                            */

static int rec_parent_cmp(const void *a, const void *b)
{
	const struct rec *x = *(struct rec *const *)a,
	    *y = *(struct rec *const *)b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The children of folder cnid: a run of by_parent. */
static struct rec **children(hfs_vol *v, uint32_t cnid, size_t *n)
{
	size_t lo = 0, hi = v->nrecs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->by_parent[mid]->parent < cnid)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t e = lo;
	while (e < v->nrecs && v->by_parent[e]->parent == cnid)
		e++;
	*n = e - lo;
	return v->by_parent + lo;
}

static struct rec *child_named(hfs_vol *v, uint32_t dir, const char *name)
{
	size_t n;
	struct rec **c = children(v, dir, &n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i]->name, name))
			return c[i];
	return NULL;
}

static struct rec *private_dir(hfs_vol *v, int which)
{
	size_t n;
	struct rec **c = children(v, 2, &n);

	for (size_t i = 0; i < n; i++)
		if (c[i]->priv == which)
			return c[i];
	return NULL;
}

static int is_type(const struct rec *r, const char *type, const char *creator)
{
	return !memcmp(r->finfo, type, 4) && !memcmp(r->finfo + 4, creator, 4);
}


static pkgflat_status add_entry(hfs_vol *v, char *path, struct hfs_entry **out,
    pkgflat_error *err)
{
	if (v->n >= MAX_ENTRIES) {
		free(path);
		return fail(err, PKGFLAT_E_FORMAT, v->name, "catalog", "more than "
		    "%d paths (directory hard links multiply them)", MAX_ENTRIES);
	}
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 256;
		struct hfs_entry *ne = realloc(v->e, nc * sizeof *ne);
		if (!ne) {
			free(path);
			return fail_nomem(err);
		}
		v->e = ne;
		v->cap = nc;
	}
	*out = &v->e[v->n++];
	memset(*out, 0, sizeof **out);
	(*out)->path = path;
	return PKGFLAT_OK;
}

static int attr_cmp(const void *a, const void *b)
{
	const struct attr *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return y->decmpfs - x->decmpfs;   /* decmpfs first */
}

/* The first attribute of file (its decmpfs one, if any, comes first). */
static struct attr *attrs_of(hfs_vol *v, uint32_t file)
{
	size_t lo = 0, hi = v->nattrs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->attrs[mid].file < file)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->nattrs && v->attrs[lo].file == file ? &v->attrs[lo] : NULL;
}


static pkgflat_status decmpfs_setup(hfs_vol *v, struct hfs_entry *e,
    const char *where, pkgflat_error *err)
{
	struct attr *a = attrs_of(v, e->cnid);

	if (!a || !a->decmpfs)
		return vfail(v, err, where, "compressed file without its "
		    "com.apple.decmpfs attribute");
	if (a->len < 16 || memcmp(a->data, "fpmc", 4))
		return vfail(v, err, where, "com.apple.decmpfs attribute lacks "
		    "its fpmc header");
	e->comp = hfs_le32(a->data + 4);
	e->size = hfs_le32(a->data + 8) | (uint64_t)hfs_le32(a->data + 12) << 32;
	switch (e->comp) {
	case 1: case 3: case 9:
		if (e->size > MAX_DECMPFS_ATTR * 16ULL)
			return vfail(v, err, where, "decmpfs inline file too large");
		e->cdata = a->data + 16;
		e->clen = a->len - 16;
		if ((e->comp == 1 || e->comp == 9) && e->clen < e->size)
			return vfail(v, err, where, "decmpfs attribute shorter "
			    "than the file it holds");
		return PKGFLAT_OK;
	case 4: case 10:
		return PKGFLAT_OK;
	case 7: case 8:
		return fail(err, PKGFLAT_E_UNSUPPORTED, v->name, where,
		    "LZVN-compressed file (decmpfs type %u): not supported",
		    e->comp);
	case 11: case 12:
		return fail(err, PKGFLAT_E_UNSUPPORTED, v->name, where,
		    "LZFSE-compressed file (decmpfs type %u): not supported",
		    e->comp);
	default:
		return fail(err, PKGFLAT_E_UNSUPPORTED, v->name, where,
		    "decmpfs compression type %u: not supported", e->comp);
	}
}

static int nonzero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

/* A regular file or symlink r, reached through `link` (itself or a hard
 * link record). */
static pkgflat_status file_entry(hfs_vol *v, const struct rec *link,
    const struct rec *r, struct hfs_entry *e, const char *where,
    pkgflat_error *err)
{
	pkgflat_status rc;
	struct attr *a;

	e->cnid = r->cnid;
	e->type = SRC_FILE;
	e->mode = r->mode & 07777;
	if (!(r->mode & 0170000))
		e->mode = 0644;
	if ((rc = fork_load(v, r->fork[0], r->cnid, 0, where, &e->data, err)) ||
	    (rc = fork_load(v, r->fork[1], r->cnid, 0xff, where, &e->rsrc, err)))
		return rc;
	e->size = e->data->size;
	if (is_type(r, "slnk", "rhap")) {
		e->type = SRC_LINK;
		e->mode = 0755;
		if (e->size == 0 || e->size > MAX_LINK)
			return fail(err, PKGFLAT_E_FORMAT, v->name, where,
			    "symbolic link target of %llu bytes",
			    (unsigned long long)e->size);
		if (!(e->link = pf_calloc(1, (size_t)e->size + 1)))
			return fail_nomem(err);
		if ((rc = fork_read(v, e->data, 0, e->link, (size_t)e->size, err)))
			return rc;
		if (memchr(e->link, 0, (size_t)e->size))
			return vfail(v, err, where, "NUL in a symbolic link target");
		return PKGFLAT_OK;
	}
	if (r->owner_flags & 0x20) {
		if ((rc = decmpfs_setup(v, e, where, err)))
			return rc;
	} else if (e->rsrc->size)
		e->extras |= HFS_X_RSRC;
	/* Type, creator, flags; a hard link's own Finder info is the
	 * system's bookkeeping, so look at the inode's. */
	if (nonzero(r->finfo, 10))
		e->extras |= HFS_X_FINFO;
	if ((be16(link->finfo + 8) & 0x8000) && link == r)
		e->extras |= HFS_X_ALIAS;
	for (a = attrs_of(v, r->cnid); a && a < v->attrs + v->nattrs &&
	    a->file == r->cnid; a++)
		if (!a->decmpfs)
			e->extras |= HFS_X_XATTR;
	return PKGFLAT_OK;
}

static char *join(const char *prefix, const char *name)
{
	return prefix[0] ? pf_asprintf("%s/%s", prefix, name) : pf_strdup(name);
}

static pkgflat_status walk(hfs_vol *v, uint32_t dir, const char *prefix,
    uint32_t *stack, int depth, pkgflat_error *err)
{
	size_t n;
	struct rec **c = children(v, dir, &n);
	pkgflat_status rc = PKGFLAT_OK;

	if (depth >= MAX_DEPTH)
		return fail(err, PKGFLAT_E_FORMAT, v->name, prefix, "folders "
		    "nested deeper than %d", MAX_DEPTH);
	stack[depth] = dir;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct rec *r = c[i], *t = r;
		struct hfs_entry *e = NULL;
		char nm[32];

		if (dir == 2 && (r->priv || (!r->folder &&
		    (!strcmp(r->name, ".journal") ||
		    !strcmp(r->name, ".journal_info_block")))))
			continue;
		char *path = join(prefix, r->name);
		if (!path)
			return fail_nomem(err);
		if (!r->folder && is_type(r, "fdrp", "MACS")) {
			const struct rec *pd = private_dir(v, 2);
			snprintf(nm, sizeof nm, "dir_%u", r->special);
			t = pd ? child_named(v, pd->cnid, nm) : NULL;
			if (!t || !t->folder) {
				rc = fail(err, PKGFLAT_E_FORMAT, v->name, path,
				    "directory hard link to a missing %s", nm);
				free(path);
				break;
			}
			for (int k = 0; k <= depth; k++)
				if (stack[k] == t->cnid) {
					rc = fail(err, PKGFLAT_E_FORMAT, v->name,
					    path, "directory hard link makes a "
					    "cycle");
					break;
				}
			if (rc) {
				free(path);
				break;
			}
		} else if (!r->folder && is_type(r, "hlnk", "hfs+")) {
			const struct rec *pd = private_dir(v, 1);
			snprintf(nm, sizeof nm, "iNode%u", r->special);
			t = pd ? child_named(v, pd->cnid, nm) : NULL;
			if (!t || t->folder) {
				rc = fail(err, PKGFLAT_E_FORMAT, v->name, path,
				    "hard link to a missing %s", nm);
				free(path);
				break;
			}
		}
		if ((rc = add_entry(v, path, &e, err)))
			break;
		if (t->folder) {
			e->type = SRC_DIR;
			e->cnid = t->cnid;
			e->mode = t->mode & 07777;
			if (!(t->mode & 0170000))
				e->mode = 0755;
			if (nonzero(t->finfo, 16))
				e->extras |= HFS_X_FINFO;
			rc = walk(v, t->cnid, path, stack, depth + 1, err);
		} else
			rc = file_entry(v, r, t, e, path, err);
	}
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hfs_entry *)a)->path,
	    ((const struct hfs_entry *)b)->path);
}

static int ci_cmp(const void *a, const void *b)
{
	return str_casecmp_ascii((*(struct hfs_entry *const *)a)->path,
	    (*(struct hfs_entry *const *)b)->path);
}

pkgflat_status hfs_open(img_dev *dev, uint64_t offset, uint64_t length,
    const char *name, const struct img_opts *o, hfs_vol **out,
    pkgflat_error *err)
{
	hfs_vol *v = pf_calloc(1, sizeof *v);
	unsigned char h[512];
	struct hfs_fork *ext = NULL, *cat = NULL, *att = NULL;
	struct btree bt;
	uint32_t *stack = NULL;
	pkgflat_status rc;

	*out = NULL;
	memset(&bt, 0, sizeof bt);
	if (!v || !(v->name = pf_strdup(name))) {
		free(v);
		return fail_nomem(err);
	}
	v->dev = dev;
	v->base = offset;
	v->length = length;
	if ((rc = dev_read(dev, offset + 1024, h, sizeof h, err)))
		goto out;
	if (h[0] != 'H' || (h[1] != '+' && h[1] != 'X')) {
		rc = vfail(v, err, "volume header", "not an HFS+ volume");
		goto out;
	}
	v->hfsx = h[1] == 'X';
	v->bs = be32(h + 40);
	v->total_blocks = be32(h + 44);
	if (v->bs < 512 || v->bs > (1u << 20) || (v->bs & (v->bs - 1))) {
		rc = fail(err, PKGFLAT_E_FORMAT, v->name, "volume header",
		    "block size %u is not a power of two from 512", v->bs);
		goto out;
	}
	if ((uint64_t)v->total_blocks * v->bs > length) {
		rc = fail(err, PKGFLAT_E_FORMAT, v->name, "volume header",
		    "volume of %u blocks of %u bytes is larger than its "
		    "partition (%llu bytes)", v->total_blocks, v->bs,
		    (unsigned long long)length);
		goto out;
	}
	uint32_t attrs = be32(h + 4);
	if ((attrs & 0x2000) && !(attrs & 0x100) && !(o && o->force)) {
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, v->name, "volume header",
		    "journaled volume was not cleanly unmounted; its journal is "
		    "not replayed (--force reads it as it is)");
		goto out;
	}
	if ((rc = fork_load(v, h + 192, 3, 0, "extents file", &ext, err)))
		goto out;
	if (ext->size) {
		if ((rc = bt_open(v, ext, "extents overflow B-tree", &bt, err)) ||
		    (rc = bt_leaves(&bt, ovf_rec, err)))
			goto out;
		bt_close(&bt);
		memset(&bt, 0, sizeof bt);
		if (v->novf)
			qsort(v->ovf, v->novf, sizeof *v->ovf, ovf_cmp);
	}
	if ((rc = fork_load(v, h + 272, 4, 0, "catalog file", &cat, err)) ||
	    (rc = bt_open(v, cat, "catalog B-tree", &bt, err)) ||
	    (rc = bt_leaves(&bt, cat_rec, err)))
		goto out;
	bt_close(&bt);
	memset(&bt, 0, sizeof bt);
	if ((rc = fork_load(v, h + 352, 8, 0, "attributes file", &att, err)))
		goto out;
	if (att->size) {
		if ((rc = bt_open(v, att, "attributes B-tree", &bt, err)) ||
		    (rc = bt_leaves(&bt, attr_rec, err)))
			goto out;
		bt_close(&bt);
		memset(&bt, 0, sizeof bt);
		if (v->nattrs)
			qsort(v->attrs, v->nattrs, sizeof *v->attrs, attr_cmp);
	}
	if (!(v->by_parent = malloc((v->nrecs + 1) * sizeof *v->by_parent))) {
		rc = fail_nomem(err);
		goto out;
	}
	int root = 0;
	for (size_t i = 0; i < v->nrecs; i++) {
		v->by_parent[i] = &v->recs[i];
		if (v->recs[i].cnid == 2 && v->recs[i].folder &&
		    v->recs[i].parent == 1) {
			root = 1;
			free(v->volname);
			v->volname = pf_strdup(v->recs[i].name);
		}
	}
	if (!root) {
		rc = vfail(v, err, "catalog B-tree", "no root folder");
		goto out;
	}
	qsort(v->by_parent, v->nrecs, sizeof *v->by_parent, rec_parent_cmp);
	if (!(stack = malloc(MAX_DEPTH * sizeof *stack))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = walk(v, 2, "", stack, 0, err)))
		goto out;
	if (v->n)
		qsort(v->e, v->n, sizeof *v->e, entry_cmp);
	for (size_t i = 1; i < v->n; i++)
		if (!strcmp(v->e[i].path, v->e[i - 1].path)) {
			rc = fail(err, PKGFLAT_E_FORMAT, v->name, v->e[i].path,
			    "name appears twice in its folder");
			goto out;
		}
	if (!(v->ci = malloc((v->n + 1) * sizeof *v->ci))) {
		rc = fail_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < v->n; i++)
		v->ci[i] = &v->e[i];
	qsort(v->ci, v->n, sizeof *v->ci, ci_cmp);
	*out = v;
	v = NULL;
out:
	bt_close(&bt);
	free(stack);
	hfs_close(v);
	return rc;
}

void hfs_close(hfs_vol *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nrecs; i++)
		free(v->recs[i].name);
	free(v->recs);
	free(v->by_parent);
	free(v->ovf);
	for (size_t i = 0; i < v->nattrs; i++)
		free(v->attrs[i].data);
	free(v->attrs);
	for (size_t i = 0; i < v->n; i++) {
		free(v->e[i].path);
		free(v->e[i].link);
	}
	free(v->e);
	free(v->ci);
	pv_free(&v->forks, fork_free);
	free(v->chunk);
	free(v->zbuf);
	free(v->name);
	free(v->volname);
	free(v);
}

size_t hfs_count(const hfs_vol *v)
{
	return v->n;
}

struct hfs_entry *hfs_entry_at(hfs_vol *v, size_t i)
{
	return i < v->n ? &v->e[i] : NULL;
}

const char *hfs_volume_name(const hfs_vol *v)
{
	return v->volname ? v->volname : "";
}

int hfs_is_hfsx(const hfs_vol *v)
{
	return v->hfsx;
}

struct hfs_entry *hfs_lookup(hfs_vol *v, const char *path)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->e[mid].path, path);
		if (!c)
			return &v->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* As on the Mac, which ships these bundles: "Contents/Info.plist"
	 * finds "contents/info.plist". */
	lo = 0;
	hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = str_casecmp_ascii(v->ci[mid]->path, path);
		if (!c)
			return v->ci[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

