/*
 * Apple Archive payloads (pkgbuild --compression latest, macOS 12 and
 * later). The stream is a sequence of entries, each a header and then
 * the header's blobs:
 *
 *   "AA01" (or the older "YAA1"), u16 LE header size (magic included),
 *   then fields: a 3-letter key and a subtype letter, and its value:
 *     '*'              none (a flag)
 *     '1' '2' '4' '8'  unsigned integer, little-endian, of that width
 *     'P'              string: u16 LE length, then the bytes
 *     'A' 'B' 'C'      blob: u16 / u32 / u64 LE size; the blob's bytes
 *                      follow the header, in field order
 *     'F'..'J'         hash: CRC32, SHA-1, SHA-256, SHA-384, SHA-512
 *                      (4, 20, 32, 48, 64 bytes)
 *     'S' 'T'          time: u64 seconds, and 'T' a u32 of nanoseconds
 *
 * Keys read here: TYP (entry type, a letter: F file, D directory, L
 * symlink, B/C devices, P fifo, S socket, M metadata), PAT path, LNK
 * symlink target, UID, GID, MOD (permission bits), MTM, DAT (file data
 * blob), HLC (hard-link cluster), DEV (device number); everything else is
 * skipped by size, except that a strict walk (extraction) refuses what it
 * would lose: extended attributes (XAT), ACLs (ACL), file flags (FLG).
 * Apple's compressed form wraps the stream in pbzx-style chunks ("pbze"
 * LZFSE, "pbzx" LZMA, "pbzz" zlib, "pbz4" LZ4, "pbz-" none), which pbzx.c
 * decodes where Debian can; this file reads the decoded stream.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

#define AA_MAX_HEADER 65535u
#define AA_MAX_BLOBS 64
#define AA_BUF (128 * 1024)

int aar_sniff(const unsigned char *h, size_t n)
{
	return n >= 4 && (!memcmp(h, "AA01", 4) || !memcmp(h, "YAA1", 4));
}

struct aar {
	payload_read_fn rd;
	void *ctx;
	const unsigned char *pre;
	size_t npre;
	uint64_t off;
	const char *file;
	pkgflat_error *err;
	uint64_t entry;
};

static long pull(struct aar *a, void *buf, size_t n)
{
	if (a->npre) {
		size_t k = n < a->npre ? n : a->npre;
		memcpy(buf, a->pre, k);
		a->pre += k;
		a->npre -= k;
		a->off += k;
		return (long)k;
	}
	long r = a->rd(a->ctx, buf, n);
	if (r > 0)
		a->off += (uint64_t)r;
	return r;
}

static pkgflat_status bad(struct aar *a, const char *fmt, ...)
    PF_PRINTF(2, 3);
static pkgflat_status bad(struct aar *a, const char *fmt, ...)
{
	char where[96], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(where, sizeof where, "Apple Archive entry %llu (offset %llu)",
	    (unsigned long long)a->entry, (unsigned long long)a->off);
	return fail(a->err, PKGFLAT_E_FORMAT, a->file, where, "%s", msg);
}

/* Exactly n bytes: 1, or 0 at a clean end before the first, or -1. */
static int pull_all(struct aar *a, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		long r = pull(a, buf + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (!got)
				return 0;
			bad(a, "%s", "the stream ends inside an entry");
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

static uint64_t le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

struct aa_entry {
	char type;
	char *path, *link;
	uint64_t uid, gid, mode, mtime, hlc, dev, flags;
	int has_mode, has_hlc, has_xat, has_acl;
	uint64_t blob[AA_MAX_BLOBS];
	int dat;                 /* index of the DAT blob, or -1 */
	size_t nblobs;
};

/* Bytes of a field's value for a subtype; -1 when the subtype is unknown,
 * -2 when its length is in the value (P) or it is a blob (A B C). */
static long value_size(char sub)
{
	switch (sub) {
	case '*': return 0;
	case '1': return 1;
	case '2': return 2;
	case '4': return 4;
	case '8': return 8;
	case 'F': return 4;
	case 'G': return 20;
	case 'H': return 32;
	case 'I': return 48;
	case 'J': return 64;
	case 'S': return 8;
	case 'T': return 12;
	case 'P': case 'A': case 'B': case 'C': return -2;
	default: return -1;
	}
}

static pkgflat_status parse_header(struct aar *a, const unsigned char *h,
    size_t n, struct aa_entry *e)
{
	size_t i = 0;
	char sub[2] = { 0, 0 };

	while (i < n) {
		if (n - i < 4)
			return bad(a, "%s", "a header field is cut short");
		const unsigned char *k = h + i;
		sub[0] = (char)k[3];
		long vs = value_size(sub[0]);
		i += 4;
		if (vs == -1)
			return bad(a, "unknown field subtype '%c'", sub[0]);
		if (vs == -2 && sub[0] == 'P') {
			if (n - i < 2)
				return bad(a, "%s", "a string field is cut short");
			size_t l = (size_t)le(h + i, 2);
			i += 2;
			if (n - i < l)
				return bad(a, "%s", "a string field is cut short");
			char *s = pf_strndup((const char *)h + i, l);
			if (!s)
				return fail_nomem(a->err);
			if (!memcmp(k, "PAT", 3)) {
				free(e->path);
				e->path = s;
			} else if (!memcmp(k, "LNK", 3)) {
				free(e->link);
				e->link = s;
			} else
				free(s);
			i += l;
			continue;
		}
		if (vs == -2) {
			size_t w = sub[0] == 'A' ? 2 : sub[0] == 'B' ? 4 : 8;
			if (n - i < w)
				return bad(a, "%s", "a blob field is cut short");
			if (e->nblobs == AA_MAX_BLOBS)
				return bad(a, "%s", "more blobs than any writer makes");
			if (!memcmp(k, "DAT", 3))
				e->dat = (int)e->nblobs;
			else if (!memcmp(k, "XAT", 3))
				e->has_xat = 1;
			else if (!memcmp(k, "ACL", 3))
				e->has_acl = 1;
			e->blob[e->nblobs++] = le(h + i, w);
			i += w;
			continue;
		}
		if (n - i < (size_t)vs)
			return bad(a, "%s", "a header field is cut short");
		uint64_t v = vs <= 8 ? le(h + i, (size_t)vs) : 0;
		if (!memcmp(k, "TYP", 3) && vs >= 1 && vs <= 8)
			e->type = (char)v;
		else if (!memcmp(k, "UID", 3) && vs <= 8)
			e->uid = v;
		else if (!memcmp(k, "GID", 3) && vs <= 8)
			e->gid = v;
		else if (!memcmp(k, "MOD", 3) && vs <= 8) {
			e->mode = v & 07777;
			e->has_mode = 1;
		} else if (!memcmp(k, "MTM", 3) && (sub[0] == 'S' || sub[0] == 'T'))
			e->mtime = le(h + i, 8);
		else if (!memcmp(k, "DEV", 3) && vs <= 8)
			e->dev = v;
		else if (!memcmp(k, "FLG", 3) && vs <= 8)
			e->flags = v;
		else if (!memcmp(k, "HLC", 3) && vs <= 8) {
			e->hlc = v;
			e->has_hlc = 1;
		}
		i += (size_t)vs;
	}
	return PKGFLAT_OK;
}

/* Skip or read a blob; DAT bytes go to the digest and the kept copy. */
static pkgflat_status read_blob(struct aar *a, uint64_t len, EVP_MD_CTX *md,
    unsigned char *keep, unsigned char *buf, const struct payload_opts *opt,
    const pkgflat_entry *pe, void *ctx)
{
	uint64_t got = 0;

	while (got < len) {
		size_t k = len - got < AA_BUF ? (size_t)(len - got) : AA_BUF;
		int r = pull_all(a, buf, k);
		if (r == 0)
			return bad(a, "%s", "the stream ends inside a blob");
		if (r < 0)
			return a->err && a->err->status ? a->err->status :
			    PKGFLAT_E_FORMAT;
		if (md)
			EVP_DigestUpdate(md, buf, k);
		if (keep)
			memcpy(keep + got, buf, k);
		if (opt && opt->chunk_fn && opt->chunk_fn(pe, buf, k, ctx))
			return fail(a->err, PKGFLAT_E_USAGE, a->file, NULL,
			    "stopped by the caller");
		got += k;
	}
	if (opt && opt->chunk_fn && opt->chunk_fn(pe, NULL, 0, ctx))
		return fail(a->err, PKGFLAT_E_USAGE, a->file, NULL,
		    "stopped by the caller");
	return PKGFLAT_OK;
}

static int entry_type(char t, uint32_t *ifmt)
{
	switch (t) {
	case 'F': *ifmt = 0100000; return PKGFLAT_ENTRY_FILE;
	case 'D': *ifmt = 0040000; return PKGFLAT_ENTRY_DIR;
	case 'L': *ifmt = 0120000; return PKGFLAT_ENTRY_SYMLINK;
	case 'B': *ifmt = 0060000; return PKGFLAT_ENTRY_DEVICE;
	case 'C': *ifmt = 0020000; return PKGFLAT_ENTRY_DEVICE;
	case 'P': *ifmt = 0010000; return PKGFLAT_ENTRY_FIFO;
	case 'S': *ifmt = 0140000; return PKGFLAT_ENTRY_SOCKET;
	default: *ifmt = 0; return 0;
	}
}

/* What an extraction on Linux could not keep: refused, named. */
static pkgflat_status strict_check(struct aar *a, const struct aa_entry *e,
    const char *path)
{
	if (e->has_xat)
		return bad(a, "%s has extended attributes (XAT), which cannot be "
		    "extracted faithfully", path);
	if (e->has_acl)
		return bad(a, "%s has an access control list (ACL), which cannot "
		    "be extracted faithfully", path);
	if (e->flags)
		return bad(a, "%s has file flags %#llx (FLG), which cannot be "
		    "extracted faithfully", path, (unsigned long long)e->flags);
	if ((e->type == 'B' || e->type == 'C') && e->dev > UINT32_MAX)
		return bad(a, "%s: device number %#llx does not fit", path,
		    (unsigned long long)e->dev);
	return PKGFLAT_OK;
}

struct hl {
	uint64_t cluster;
	char *path;
};

static void hl_free(void *p)
{
	struct hl *h = p;

	if (h)
		free(h->path);
	free(h);
}

pkgflat_status aar_walk(payload_read_fn rd, void *rdctx,
    const unsigned char *pre, size_t npre, const char *file,
    const char *compression, pkgflat_entry_fn fn, void *ctx,
    pkgflat_payload_stats *stats, const struct payload_opts *opt,
    pkgflat_error *err)
{
	struct aar a = { .rd = rd, .ctx = rdctx, .pre = pre, .npre = npre,
	    .file = file, .err = err };
	pkgflat_payload_stats s = { .format = "Apple Archive",
	    .compression = compression };
	unsigned char *h = malloc(AA_MAX_HEADER), *buf = malloc(AA_BUF);
	unsigned char *keep = NULL;
	EVP_MD_CTX *md = opt && opt->digest ? EVP_MD_CTX_new() : NULL;
	ptrvec links = { 0 };
	char *path = NULL;
	pkgflat_status rc = PKGFLAT_OK;

	if (!h || !buf || (opt && opt->digest && !md)) {
		rc = fail_nomem(err);
		goto out;
	}
	for (;; a.entry++) {
		struct aa_entry e = { .dat = -1 };
		int r = pull_all(&a, h, 6);
		if (r <= 0) {
			if (r < 0)
				rc = err && err->status ? err->status : PKGFLAT_E_FORMAT;
			break;
		}
		if (!aar_sniff(h, 4)) {
			rc = bad(&a, "%s", "no \"AA01\" entry header here");
			break;
		}
		size_t hs = (size_t)le(h + 4, 2);
		if (hs < 6) {
			rc = bad(&a, "%s", "header size smaller than its own fields");
			break;
		}
		if ((r = pull_all(&a, h, hs - 6)) < 0 || (r == 0 && hs > 6)) {
			rc = r == 0 ? bad(&a, "%s", "the stream ends inside a header") :
			    err && err->status ? err->status : PKGFLAT_E_FORMAT;
			break;
		}
		rc = parse_header(&a, h, hs - 6, &e);
		free(path);
		path = NULL;
		if (!rc && !(path = payload_norm_path(e.path ? e.path : "")))
			rc = bad(&a, "member name \"%s\" climbs out of the install root",
			    e.path ? e.path : "");
		uint32_t ifmt;
		pkgflat_entry pe = { .path = path };
		if (!rc && !(pe.type = entry_type(e.type, &ifmt)) && e.type != 'M')
			rc = bad(&a, "unknown entry type '%c'", e.type);
		if (!rc && opt && opt->strict)
			rc = strict_check(&a, &e, path);
		if (rc) {
			free(e.path);
			free(e.link);
			break;
		}
		pe.mode = ifmt | (uint32_t)(e.has_mode ? e.mode :
		    pe.type == PKGFLAT_ENTRY_DIR ? 0755 : 0644);
		pe.uid = (uint32_t)e.uid;
		pe.gid = (uint32_t)e.gid;
		pe.mtime = (int64_t)e.mtime;
		pe.rdev = (uint32_t)e.dev;
		pe.link_target = e.link;
		pe.size = e.dat >= 0 ? e.blob[e.dat] : 0;
		if (pe.type == PKGFLAT_ENTRY_SYMLINK)
			pe.size = e.link ? strlen(e.link) : 0;
		/* A later member of a hard-link cluster links to the first. */
		if (pe.type == PKGFLAT_ENTRY_FILE && e.has_hlc) {
			for (size_t i = 0; i < links.n; i++) {
				struct hl *l = links.v[i];
				if (l->cluster == e.hlc)
					pe.hardlink = l->path;
			}
			struct hl *l = pe.hardlink ? NULL : pf_calloc(1, sizeof *l);
			if (l && ((l->path = pf_strdup(path)) == NULL ||
			    pv_push(&links, l))) {
				hl_free(l);
				l = NULL;
			}
			if (!pe.hardlink && !l)
				rc = fail_nomem(err);
			else if (l)
				l->cluster = e.hlc;
			if (pe.hardlink)
				pe.type = PKGFLAT_ENTRY_HARDLINK;
		}
		int has_data = e.dat >= 0 && pe.size;
		int want = opt && (opt->digest || opt->data_fn || opt->chunk_fn) &&
		    has_data;
		free(keep);
		keep = NULL;
		if (!rc && want && opt->data_fn && pe.type == PKGFLAT_ENTRY_FILE &&
		    pe.size <= opt->data_max && !(keep = malloc((size_t)pe.size + 1)))
			rc = fail_nomem(err);
		if (!rc && md && want && !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
			rc = fail_nomem(err);
		/* Blobs in field order; data before the callback, as a
		 * cpio walk gives it. */
		for (size_t i = 0; !rc && i < e.nblobs; i++)
			rc = read_blob(&a, e.blob[i], (int)i == e.dat && want ? md :
			    NULL, (int)i == e.dat ? keep : NULL, buf,
			    (int)i == e.dat && want ? opt : NULL, &pe, ctx);
		if (!rc && md && want) {
			unsigned int l = 0;
			EVP_DigestFinal_ex(md, pe.sha256, &l);
			pe.has_sha256 = l == 32;
		}
		if (keep)
			keep[pe.size] = 0;
		if (!rc && pe.type) {
			if (s.entries == 0)
				s.has_dot_root = !strcmp(path, ".");
			s.entries++;
			switch (pe.type) {
			case PKGFLAT_ENTRY_FILE:
				s.files++;
				s.file_bytes += pe.size;
				break;
			case PKGFLAT_ENTRY_DIR: s.dirs++; break;
			case PKGFLAT_ENTRY_SYMLINK: s.symlinks++; break;
			case PKGFLAT_ENTRY_HARDLINK: s.hardlinks++; break;
			default: s.others++; break;
			}
			int stop = opt && opt->data_fn && pe.type == PKGFLAT_ENTRY_FILE ?
			    opt->data_fn(&pe, keep, ctx) : fn ? fn(&pe, ctx) : 0;
			if (stop)
				rc = fail(err, PKGFLAT_E_USAGE, file, NULL,
				    "stopped by the caller");
		}
		free(e.path);
		free(e.link);
		if (rc)
			break;
	}
	if (!rc) {
		s.install_kbytes = (s.file_bytes + 1023) / 1024;
		if (stats)
			*stats = s;
	}
out:
	pv_free(&links, hl_free);
	EVP_MD_CTX_free(md);
	free(keep);
	free(path);
	free(h);
	free(buf);
	return rc;
}
