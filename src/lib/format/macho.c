/*
 * Mach-O, read as it streams by (<mach-o/loader.h>, <mach-o/fat.h>,
 * <kern/cs_blobs.h> in Apple's xnu and cctools sources).
 *
 *   thin:  mach_header{,_64} (28/32 bytes: magic, cputype, cpusubtype,
 *          filetype, ncmds, sizeofcmds, flags[, reserved]) in the file's
 *          byte order, then sizeofcmds bytes of load commands (cmd,
 *          cmdsize, ...). LC_BUILD_VERSION (0x32: platform, minos, sdk),
 *          LC_VERSION_MIN_MACOSX (0x24: version, sdk) and
 *          LC_CODE_SIGNATURE (0x1d: dataoff, datasize from the slice's
 *          start) are the ones read.
 *   fat:   big-endian fat_header (0xcafebabe, or 0xcafebabf for fat64;
 *          nfat_arch), then fat_arch (cputype, cpusubtype, offset, size,
 *          align: 20 bytes) or fat_arch_64 (offsets and sizes 64-bit: 32
 *          bytes) records; each slice a thin file at its offset.
 *   signature (big-endian throughout): a SuperBlob 0xfade0cc0 (length,
 *          count, then count {type, offset} records) whose blobs each
 *          start with {magic, length}: CodeDirectory 0xfade0c02 at slot 0
 *          and alternates at 0x1000..0x1004, entitlements 0xfade7171 at
 *          slot 5, the CMS wrapper 0xfade0b01 at slot 0x10000 (a DER
 *          ContentInfo, or nothing at all when ad-hoc signed).
 *
 * Everything points forwards (load commands first, the signature at the
 * end of each slice), so the scanner keeps a short list of the byte
 * ranges it still wants, copies each as the stream passes it, and adds
 * new ones from what it just read: memory is what it asked for, never
 * the file. A range that points back at bytes already gone by is an
 * error, as is a range the stream never reaches.
 */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macho.h"
#include "macho_pages.h"
#include "plist.h"

#define MH_MAGIC     0xfeedfaceu
#define MH_MAGIC_64  0xfeedfacfu
#define FAT_MAGIC    0xcafebabeu
#define FAT_MAGIC_64 0xcafebabfu

#define LC_CODE_SIGNATURE      0x1du
#define LC_VERSION_MIN_MACOSX  0x24u
#define LC_VERSION_MIN_IPHONEOS 0x25u
#define LC_VERSION_MIN_TVOS    0x2fu
#define LC_VERSION_MIN_WATCHOS 0x30u
#define LC_BUILD_VERSION       0x32u

#define CSMAGIC_EMBEDDED_SIGNATURE 0xfade0cc0u
#define CSMAGIC_CODEDIRECTORY      0xfade0c02u
#define CSMAGIC_EMBEDDED_ENTITLEMENTS 0xfade7171u
#define CSMAGIC_BLOBWRAPPER        0xfade0b01u
#define CSSLOT_CODEDIRECTORY       0u
#define CSSLOT_ENTITLEMENTS        5u
#define CSSLOT_ALTERNATE_FIRST     0x1000u
#define CSSLOT_ALTERNATE_LAST      0x1004u
#define CSSLOT_SIGNATURESLOT       0x10000u

/* Limits: far above anything a linker or codesign writes, far below what
 * would hurt. */
#define MAX_SLICES     64u
#define MAX_LCMDS      (4u << 20)      /* sizeofcmds */
#define MAX_SB_COUNT   256u            /* SuperBlob index entries */
#define MAX_STRING     4096u           /* identifier, team id */
#define MAX_ENTS       (1u << 20)      /* entitlements plist */
#define MAX_CMS        (1u << 20)      /* CMS signature */
#define MAX_KEPT       (16u << 20)     /* all captured bytes of one file */
#define MAX_WANTS      1024u
#define CD_HEAD        96u             /* CodeDirectory header through v0x20500 */
#define MAX_CD         (8u << 20)      /* the CodeDirectory the CMS signs */

enum want_kind {
	W_MAGIC, W_FAT_ARCHS, W_HEADER, W_LCMDS, W_SB_HEAD, W_SB_INDEX,
	W_BLOB_HEAD, W_CD, W_IDENT, W_TEAM, W_ENTS, W_CMS
};

struct want {
	enum want_kind kind;
	size_t slice;
	uint64_t off;           /* absolute, in the file */
	uint32_t len, got;
	uint32_t aux;           /* slot type, CD length, ... */
	uint64_t base;          /* the SuperBlob's / blob's offset */
	unsigned char *buf;
};

struct macho {
	char *name;
	int state;              /* -1 unknown, 0 not Mach-O, 1 Mach-O */
	int fat, fat64;
	pkgflat_status failed;
	uint64_t pos;           /* bytes fed so far */
	uint64_t chunk_start;   /* where the chunk being fed starts */
	const unsigned char *chunk;
	size_t chunk_len;
	struct want *wants;
	size_t nwants, capwants;
	uint64_t kept;
	struct macho_slice *slices;
	size_t nslices;
	pkgflat_error *err;
};

static uint32_t rd32(const unsigned char *p, int be)
{
	return be ? be32(p) : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
	    ((uint32_t)p[1] << 8) | p[0];
}

static pkgflat_status bad(struct macho *m, uint64_t off, const char *fmt, ...)
    PF_PRINTF(3, 4);
static pkgflat_status bad(struct macho *m, uint64_t off, const char *fmt, ...)
{
	char msg[400], where[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(where, sizeof where, "offset %llu", (unsigned long long)off);
	m->failed = PKGFLAT_E_FORMAT;
	return fail(m->err, PKGFLAT_E_FORMAT, m->name, where, "%s", msg);
}

int macho_sniff(const unsigned char *h, size_t n)
{
	if (n < 8)
		return 0;
	uint32_t be = be32(h), le = rd32(h, 0);
	if (be == MH_MAGIC || be == MH_MAGIC_64 || le == MH_MAGIC ||
	    le == MH_MAGIC_64)
		return 1;
	/* 0xcafebabe also starts a Java class file, whose next word (minor
	 * and major version) is at least 45: a fat file has a few slices. */
	if (be == FAT_MAGIC || be == FAT_MAGIC_64) {
		uint32_t k = be32(h + 4);
		return k >= 1 && k <= 30;
	}
	return 0;
}

struct macho *macho_new(const char *name)
{
	struct macho *m = pf_calloc(1, sizeof *m);

	if (!m)
		return NULL;
	if (!(m->name = pf_strdup(name ? name : "Mach-O file"))) {
		free(m);
		return NULL;
	}
	m->state = -1;
	return m;
}

static void slice_clear(struct macho_slice *s)
{
	free(s->identifier);
	free(s->team_id);
	free(s->signer_cn);
	free(s->signer_team);
	free(s->cd_bytes);
	free(s->cms_der);
	macho_pages_free(s->pages);
}

void macho_free(struct macho *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nwants; i++)
		free(m->wants[i].buf);
	free(m->wants);
	for (size_t i = 0; i < m->nslices; i++)
		slice_clear(&m->slices[i]);
	free(m->slices);
	free(m->name);
	free(m);
}

static const char *want_what(enum want_kind k)
{
	static const char *const names[] = {
		[W_MAGIC] = "the magic number", [W_FAT_ARCHS] = "the fat header",
		[W_HEADER] = "the Mach-O header", [W_LCMDS] = "the load commands",
		[W_SB_HEAD] = "the code signature",
		[W_SB_INDEX] = "the code signature's index",
		[W_BLOB_HEAD] = "a code signature blob",
		[W_CD] = "the CodeDirectory", [W_IDENT] = "the signing identifier",
		[W_TEAM] = "the team identifier", [W_ENTS] = "the entitlements",
		[W_CMS] = "the CMS signature",
	};
	return names[k];
}

/*
 * Ask for len bytes at off, on behalf of the range `from` just read (NULL
 * for the first). Bytes from holds are copied at once; the rest must lie
 * at or after from's end, so that the answer never depends on how the
 * stream is cut into chunks.
 */
static pkgflat_status want_from(struct macho *m, enum want_kind kind,
    size_t slice, uint64_t off, uint64_t len, uint32_t aux, uint64_t base,
    const struct want *from)
{
	uint64_t have = 0, end = from ? from->off + from->len : 0;

	if (len == 0)
		return bad(m, off, "%s is empty", want_what(kind));
	if (from && off >= from->off && off < end) {
		have = end - off;
		if (have > len)
			have = len;
	}
	if (off + have < end || off + have < m->chunk_start)
		return bad(m, off, "%s at offset %llu lies before the end of %s "
		    "(offset %llu) that points at it", want_what(kind),
		    (unsigned long long)off, from ? want_what(from->kind) :
		    "what was read", (unsigned long long)end);
	if (m->kept + len > MAX_KEPT)
		return bad(m, off, "%s would take the headers kept for this file "
		    "past %u bytes", want_what(kind), MAX_KEPT);
	if (m->nwants >= MAX_WANTS)
		return bad(m, off, "too many structures to read");
	if (m->nwants == m->capwants) {
		size_t cap = m->capwants ? m->capwants * 2 : 8;
		struct want *w = realloc(m->wants, cap * sizeof *w);
		if (!w)
			return m->failed = fail_nomem(m->err);
		m->wants = w;
		m->capwants = cap;
	}
	struct want *w = &m->wants[m->nwants];
	memset(w, 0, sizeof *w);
	if (!(w->buf = malloc((size_t)len)))
		return m->failed = fail_nomem(m->err);
	w->kind = kind;
	w->slice = slice;
	w->off = off;
	w->len = (uint32_t)len;
	w->aux = aux;
	w->base = base;
	if (have) {
		memcpy(w->buf, from->buf + (off - from->off), (size_t)have);
		w->got = (uint32_t)have;
	}
	m->kept += len;
	m->nwants++;
	return PKGFLAT_OK;
}

/* ---- what each range, once read, says ---------------------------- */

static const char *arch_name(uint32_t cpu, uint32_t sub, unsigned int *fam)
{
	sub &= 0x00ffffffu;   /* the top byte holds capability bits */
	*fam = MACHO_FAM_OTHER;
	switch (cpu) {
	case 0x01000007u:
		*fam = MACHO_FAM_X86_64;
		return sub == 8 ? "x86_64h" : "x86_64";
	case 7u:
		*fam = MACHO_FAM_I386;
		return "i386";
	case 0x0100000cu:
		*fam = MACHO_FAM_ARM64;
		return sub == 2 ? "arm64e" : "arm64";
	case 0x0200000cu:
		return "arm64_32";
	case 12u:
		return sub == 9 ? "armv7" : sub == 11 ? "armv7s" : "arm";
	case 18u:
		*fam = MACHO_FAM_PPC;
		return sub == 10 ? "ppc7400" : sub == 100 ? "ppc970" : "ppc";
	case 0x01000012u:
		*fam = MACHO_FAM_PPC;
		return "ppc64";
	default:
		return "unknown";
	}
}

const char *macho_filetype_name(uint32_t t)
{
	static const char *const names[] = {
		NULL, "object", "execute", "fvmlib", "core", "preload", "dylib",
		"dylinker", "bundle", "dylib_stub", "dsym", "kext_bundle",
		"fileset",
	};
	if (t < sizeof names / sizeof *names && names[t])
		return names[t];
	return "unknown";
}

const char *macho_version_text(uint32_t v, char *buf, size_t n)
{
	unsigned int x = v >> 16, y = (v >> 8) & 0xff, z = v & 0xff;

	if (z)
		snprintf(buf, n, "%u.%u.%u", x, y, z);
	else
		snprintf(buf, n, "%u.%u", x, y);
	return buf;
}

static pkgflat_status new_slice(struct macho *m, uint64_t off, uint64_t size,
    size_t *idx)
{
	if (m->nslices >= MAX_SLICES)
		return bad(m, off, "more than %u slices", MAX_SLICES);
	struct macho_slice *s = realloc(m->slices, (m->nslices + 1) * sizeof *s);
	if (!s)
		return m->failed = fail_nomem(m->err);
	m->slices = s;
	memset(&s[m->nslices], 0, sizeof *s);
	s[m->nslices].offset = off;
	s[m->nslices].size = size;
	if (!(s[m->nslices].pages = macho_pages_new(off)))
		return m->failed = fail_nomem(m->err);
	*idx = m->nslices++;
	return PKGFLAT_OK;
}

static pkgflat_status got_magic(struct macho *m, const struct want *w)
{
	const unsigned char *p = w->buf;
	size_t idx;
	pkgflat_status rc;

	if (!macho_sniff(p, 8)) {
		m->state = 0;
		return PKGFLAT_OK;
	}
	m->state = 1;
	uint32_t be = be32(p);
	if (be == FAT_MAGIC || be == FAT_MAGIC_64) {
		uint32_t n = be32(p + 4);
		m->fat = 1;
		m->fat64 = be == FAT_MAGIC_64;
		return want_from(m, W_FAT_ARCHS, 0, 8,
		    (uint64_t)n * (m->fat64 ? 32 : 20), n, 0, w);
	}
	if ((rc = new_slice(m, 0, 0, &idx)))
		return rc;
	return want_from(m, W_HEADER, idx, 0, 28, 0, 0, w);
}

static pkgflat_status got_fat_archs(struct macho *m, const struct want *w)
{
	size_t rec = m->fat64 ? 32 : 20, idx;
	uint64_t hdr_end = 8 + (uint64_t)w->aux * rec;
	pkgflat_status rc;

	for (uint32_t i = 0; i < w->aux; i++) {
		const unsigned char *a = w->buf + i * rec;
		uint64_t off = m->fat64 ? be64(a + 8) : be32(a + 8);
		uint64_t size = m->fat64 ? be64(a + 16) : be32(a + 12);
		uint64_t at = w->off + i * rec;
		if (off < hdr_end)
			return bad(m, at, "fat slice %u starts at offset %llu, inside "
			    "the fat header (%llu bytes)", i, (unsigned long long)off,
			    (unsigned long long)hdr_end);
		if (size < 28 || off + size < off)
			return bad(m, at, "fat slice %u is %llu bytes: too small for a "
			    "Mach-O header", i, (unsigned long long)size);
		if ((rc = new_slice(m, off, size, &idx)))
			return rc;
		m->slices[idx].cputype = be32(a);
		m->slices[idx].cpusubtype = be32(a + 4);
		if ((rc = want_from(m, W_HEADER, idx, off, 28, 0, 0, w)))
			return rc;
	}
	return PKGFLAT_OK;
}

static pkgflat_status got_header(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	const unsigned char *p = w->buf;
	uint32_t be = be32(p), le = rd32(p, 0);

	if (be == MH_MAGIC || be == MH_MAGIC_64)
		s->big_endian = 1;
	else if (le != MH_MAGIC && le != MH_MAGIC_64)
		return bad(m, w->off, "%s: bad magic 0x%08x", m->fat ?
		    "fat slice is not a Mach-O file" : "not a Mach-O file", be);
	s->bits64 = (s->big_endian ? be : le) == MH_MAGIC_64;
	int b = s->big_endian;
	uint32_t cpu = rd32(p + 4, b), sub = rd32(p + 8, b);
	if (m->fat && (cpu != s->cputype))
		return bad(m, w->off, "slice's CPU type 0x%x differs from the fat "
		    "header's 0x%x", cpu, s->cputype);
	s->cputype = cpu;
	s->cpusubtype = sub;
	s->arch = arch_name(cpu, sub, &s->family);
	s->filetype = rd32(p + 12, b);
	uint32_t ncmds = rd32(p + 16, b), sizeofcmds = rd32(p + 20, b);
	uint64_t hsize = s->bits64 ? 32 : 28;
	if (sizeofcmds > MAX_LCMDS)
		return bad(m, w->off + 20, "load commands are %u bytes (at most %u "
		    "read)", sizeofcmds, MAX_LCMDS);
	if ((uint64_t)ncmds * 8 > sizeofcmds)
		return bad(m, w->off + 16, "%u load commands cannot fit in %u bytes",
		    ncmds, sizeofcmds);
	if (s->size && hsize + sizeofcmds > s->size)
		return bad(m, w->off + 20, "load commands (%u bytes) run past the "
		    "end of the slice (%llu bytes)", sizeofcmds,
		    (unsigned long long)s->size);
	if (ncmds == 0)
		return PKGFLAT_OK;
	/* The header was read with 32 bytes (thin) or 28 (fat) so the load
	 * commands start right after its true size. */
	return want_from(m, W_LCMDS, w->slice, s->offset + hsize, sizeofcmds,
	    ncmds, 0, w);
}

static pkgflat_status got_lcmds(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	int b = s->big_endian;
	uint32_t off = 0;

	for (uint32_t i = 0; i < w->aux; i++) {
		uint64_t at = w->off + off;
		if (w->len - off < 8)
			return bad(m, at, "load command %u of %u: truncated (%u bytes "
			    "left of sizeofcmds)", i + 1, w->aux, w->len - off);
		const unsigned char *c = w->buf + off;
		uint32_t cmd = rd32(c, b) & 0x7fffffffu, size = rd32(c + 4, b);
		if (size < 8 || size % 4 || size > w->len - off)
			return bad(m, at, "load command %u of %u (0x%x): cmdsize %u %s",
			    i + 1, w->aux, cmd, size, size < 8 ? "is below 8" :
			    size % 4 ? "is not a multiple of 4" :
			    "runs past the load commands");
		switch (cmd) {
		case LC_BUILD_VERSION:
			if (size < 24)
				return bad(m, at, "LC_BUILD_VERSION is %u bytes (24 at "
				    "least)", size);
			s->has_version = 1;
			s->platform = rd32(c + 8, b);
			s->minos = rd32(c + 12, b);
			s->sdk = rd32(c + 16, b);
			break;
		case LC_VERSION_MIN_MACOSX:
		case LC_VERSION_MIN_IPHONEOS:
		case LC_VERSION_MIN_TVOS:
		case LC_VERSION_MIN_WATCHOS:
			if (size < 16)
				return bad(m, at, "LC_VERSION_MIN_* is %u bytes (16 at "
				    "least)", size);
			if (s->has_version)
				break;   /* LC_BUILD_VERSION says more */
			s->has_version = 1;
			s->platform = cmd == LC_VERSION_MIN_MACOSX ? 1 :
			    cmd == LC_VERSION_MIN_IPHONEOS ? 2 :
			    cmd == LC_VERSION_MIN_TVOS ? 3 : 4;
			s->minos = rd32(c + 8, b);
			s->sdk = rd32(c + 12, b);
			break;
		case LC_CODE_SIGNATURE: {
			if (size < 16)
				return bad(m, at, "LC_CODE_SIGNATURE is %u bytes (16 at "
				    "least)", size);
			if (s->has_signature)
				return bad(m, at, "a second LC_CODE_SIGNATURE");
			uint32_t doff = rd32(c + 8, b), dsize = rd32(c + 12, b);
			if (s->size && (uint64_t)doff + dsize > s->size)
				return bad(m, at, "LC_CODE_SIGNATURE (offset %u, %u bytes) "
				    "runs past the end of the slice (%llu bytes)", doff,
				    dsize, (unsigned long long)s->size);
			if (dsize < 12)
				return bad(m, at, "LC_CODE_SIGNATURE names %u bytes: too "
				    "small for a signature", dsize);
			s->has_signature = 1;
			s->sig_offset = s->offset + doff;
			s->sig_size = dsize;
			break;
		}
		default:
			break;
		}
		off += size;
	}
	if (s->has_signature) {
		macho_pages_limit(s->pages, s->sig_offset);
		return want_from(m, W_SB_HEAD, w->slice, s->sig_offset, 12, 0, 0, w);
	}
	macho_pages_stop(s->pages);
	return PKGFLAT_OK;
}

static pkgflat_status got_sb_head(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	uint32_t magic = be32(w->buf), len = be32(w->buf + 4),
	    count = be32(w->buf + 8);

	if (magic != CSMAGIC_EMBEDDED_SIGNATURE)
		return bad(m, w->off, "code signature: bad magic 0x%08x (not an "
		    "embedded signature)", magic);
	if (len < 12 || len > s->sig_size)
		return bad(m, w->off + 4, "code signature is %u bytes, "
		    "LC_CODE_SIGNATURE gives it %llu", len,
		    (unsigned long long)s->sig_size);
	if (count > MAX_SB_COUNT || 12 + (uint64_t)count * 8 > len)
		return bad(m, w->off + 8, "code signature: %u blobs cannot fit in "
		    "%u bytes", count, len);
	if (count == 0)
		return PKGFLAT_OK;
	return want_from(m, W_SB_INDEX, w->slice, w->off + 12, (uint64_t)count * 8,
	    len, w->off, w);
}

static pkgflat_status got_sb_index(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	uint32_t sblen = w->aux;
	pkgflat_status rc;

	for (uint32_t i = 0; i < w->len / 8; i++) {
		uint32_t type = be32(w->buf + i * 8), off = be32(w->buf + i * 8 + 4);
		if (type != CSSLOT_CODEDIRECTORY && type != CSSLOT_ENTITLEMENTS &&
		    type != CSSLOT_SIGNATURESLOT &&
		    (type < CSSLOT_ALTERNATE_FIRST || type > CSSLOT_ALTERNATE_LAST))
			continue;
		if (off < 12 + w->len || (uint64_t)off + 8 > sblen)
			return bad(m, w->off + i * 8 + 4, "code signature blob %u "
			    "(slot 0x%x) at %u lies outside the signature (%u..%u)",
			    i, type, off, 12 + w->len, sblen);
		if (type == CSSLOT_CODEDIRECTORY ||
		    (type >= CSSLOT_ALTERNATE_FIRST && type <= CSSLOT_ALTERNATE_LAST))
			s->cd_count++;
		if ((rc = want_from(m, W_BLOB_HEAD, w->slice, w->base + off, 8, type,
		    w->base + sblen, w)))
			return rc;
	}
	return PKGFLAT_OK;
}

static pkgflat_status got_blob_head(struct macho *m, const struct want *w)
{
	uint32_t magic = be32(w->buf), len = be32(w->buf + 4);
	uint32_t type = w->aux;
	uint64_t sb_end = w->base;

	if (len < 8 || w->off + len > sb_end)
		return bad(m, w->off + 4, "code signature blob (slot 0x%x) is %u "
		    "bytes: %s", type, len, len < 8 ? "shorter than its header" :
		    "runs past the end of the signature");
	if (type == CSSLOT_CODEDIRECTORY) {
		if (magic != CSMAGIC_CODEDIRECTORY)
			return bad(m, w->off, "CodeDirectory: bad magic 0x%08x", magic);
		if (len < 44)
			return bad(m, w->off + 4, "CodeDirectory is %u bytes (44 at "
			    "least)", len);
		if (len > MAX_CD)
			return bad(m, w->off + 4, "CodeDirectory is %u bytes (at "
			    "most %u read)", len, MAX_CD);
		/* Whole: the CMS signature is over all of it. */
		return want_from(m, W_CD, w->slice, w->off, len, len, 0, w);
	}
	if (type >= CSSLOT_ALTERNATE_FIRST && type <= CSSLOT_ALTERNATE_LAST) {
		if (magic != CSMAGIC_CODEDIRECTORY)
			return bad(m, w->off, "alternate CodeDirectory: bad magic "
			    "0x%08x", magic);
		return PKGFLAT_OK;
	}
	if (type == CSSLOT_ENTITLEMENTS) {
		if (magic != CSMAGIC_EMBEDDED_ENTITLEMENTS)
			return bad(m, w->off, "entitlements: bad magic 0x%08x", magic);
		if (len - 8 > MAX_ENTS)
			return bad(m, w->off + 4, "entitlements are %u bytes (at most "
			    "%u read)", len - 8, MAX_ENTS);
		m->slices[w->slice].has_entitlements = 1;
		if (len == 8)
			return PKGFLAT_OK;
		return want_from(m, W_ENTS, w->slice, w->off + 8, len - 8, 0, 0, w);
	}
	/* CSSLOT_SIGNATURESLOT */
	if (magic != CSMAGIC_BLOBWRAPPER)
		return bad(m, w->off, "CMS signature blob: bad magic 0x%08x", magic);
	m->slices[w->slice].has_cms = 1;
	if (len == 8) {
		m->slices[w->slice].cms_empty = 1;
		return PKGFLAT_OK;
	}
	if (len - 8 > MAX_CMS)
		return bad(m, w->off + 4, "CMS signature is %u bytes (at most %u "
		    "read)", len - 8, MAX_CMS);
	return want_from(m, W_CMS, w->slice, w->off + 8, len - 8, 0, 0, w);
}

/*
 * Once both the CodeDirectory (slot 0) and the CMS signature are read:
 * does the CMS verify over the CodeDirectory's bytes, with the signer's
 * own certificate (its signature and messageDigest)? Whether that
 * certificate is Developer ID, and timestamps, are judged apart. A CMS
 * without its signer's certificate is left unchecked here: it is already
 * "not Developer ID".
 */
static pkgflat_status check_cms(struct macho *m, struct macho_slice *s)
{
	if (!s->cd_bytes || !s->cms_der || s->cms_checked)
		return PKGFLAT_OK;
	const unsigned char *p = s->cms_der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)s->cms_len);
	BIO *cd = BIO_new_mem_buf(s->cd_bytes, (int)s->cd_len);
	if (!cms || !cd) {
		CMS_ContentInfo_free(cms);
		BIO_free(cd);
		ERR_clear_error();
		return m->failed = fail_nomem(m->err);
	}
	s->cms_checked = 1;
	s->cms_bad = CMS_verify(cms, NULL, NULL, cd, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1;
	CMS_ContentInfo_free(cms);
	BIO_free(cd);
	ERR_clear_error();
	free(s->cms_der);
	s->cms_der = NULL;
	return PKGFLAT_OK;
}

static pkgflat_status got_cd(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	const unsigned char *p = w->buf;
	uint32_t len = w->aux;
	pkgflat_status rc;

	s->has_cd = 1;
	s->cd_version = be32(p + 8);
	s->cd_flags = be32(p + 12);
	s->hash_type = p[37];
	uint32_t ident = be32(p + 20);
	if (s->cd_version < 0x20001)
		return bad(m, w->off + 8, "CodeDirectory version 0x%x is older than "
		    "any codesign wrote", s->cd_version);
	if (ident) {
		if (ident < 44 || ident >= len)
			return bad(m, w->off + 20, "CodeDirectory identifier at %u lies "
			    "outside it (44..%u)", ident, len);
		uint32_t n = len - ident < MAX_STRING ? len - ident : MAX_STRING;
		if ((rc = want_from(m, W_IDENT, w->slice, w->off + ident, n, 0, 0,
		    w)))
			return rc;
	}
	if (s->cd_version >= 0x20200 && w->len >= 52) {
		uint32_t team = be32(p + 48);
		if (team) {
			if (team < 52 || team >= len)
				return bad(m, w->off + 48, "CodeDirectory team identifier "
				    "at %u lies outside it (52..%u)", team, len);
			uint32_t n = len - team < MAX_STRING ? len - team : MAX_STRING;
			if ((rc = want_from(m, W_TEAM, w->slice, w->off + team, n, 0,
			    0, w)))
				return rc;
		}
	}
	free(s->cd_bytes);
	if (!(s->cd_bytes = malloc(w->len)))
		return m->failed = fail_nomem(m->err);
	memcpy(s->cd_bytes, w->buf, w->len);
	s->cd_len = w->len;
	return check_cms(m, s);
}

static pkgflat_status got_string(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	const char *what = w->kind == W_IDENT ? "identifier" : "team identifier";
	const unsigned char *nul = memchr(w->buf, 0, w->len);
	char **dst = w->kind == W_IDENT ? &s->identifier : &s->team_id;

	if (!nul)
		return bad(m, w->off, "CodeDirectory %s is not NUL-terminated within "
		    "%u bytes", what, w->len);
	for (const unsigned char *c = w->buf; c < nul; c++)
		if (*c < 0x20 || *c == 0x7f)
			return bad(m, w->off + (uint64_t)(c - w->buf), "CodeDirectory "
			    "%s holds control character 0x%02x", what, *c);
	free(*dst);
	if (!(*dst = pf_strdup((const char *)w->buf)))
		return m->failed = fail_nomem(m->err);
	return PKGFLAT_OK;
}

static pkgflat_status got_ents(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	plist_t root = NULL;
	pkgflat_error perr = { 0 };

	if (plist_parse(w->buf, w->len, m->name, &root, &perr) ||
	    plist_get_node_type(root) != PLIST_DICT) {
		plist_free(root);
		return bad(m, w->off, "entitlements are not a property list "
		    "dictionary%s%s", perr.message[0] ? ": " : "", perr.message);
	}
	plist_t v = plist_dict_get_item(root, "com.apple.security.get-task-allow");
	if (v && plist_get_node_type(v) == PLIST_BOOLEAN) {
		uint8_t b = 0;
		plist_get_bool_val(v, &b);
		s->get_task_allow = b != 0;
	}
	plist_free(root);
	return PKGFLAT_OK;
}

/* The first value of a name attribute, or NULL. */
static char *name_entry(X509_NAME *nm, int nid)
{
	int i = X509_NAME_get_index_by_NID(nm, nid, -1);
	unsigned char *u = NULL;

	if (i < 0)
		return NULL;
	ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
	int n = ASN1_STRING_to_UTF8(&u, d);
	if (n < 0)
		return NULL;
	char *r = pf_strndup((const char *)u, (size_t)n);
	OPENSSL_free(u);
	return r;
}

static pkgflat_status got_cms(struct macho *m, const struct want *w)
{
	struct macho_slice *s = &m->slices[w->slice];
	const unsigned char *p = w->buf;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)w->len);
	STACK_OF(X509) *certs = NULL;
	pkgflat_status rc = PKGFLAT_OK;

	if (!cms)
		return bad(m, w->off, "CMS signature is not DER CMS");
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	if (!sis || sk_CMS_SignerInfo_num(sis) < 1) {
		rc = bad(m, w->off, "CMS signature has no signer");
		goto out;
	}
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
	s->has_timestamp = CMS_unsigned_get_attr_by_NID(si,
	    NID_id_smime_aa_timeStampToken, -1) >= 0;
	certs = CMS_get1_certs(cms);
	X509 *leaf = NULL;
	for (int i = 0; certs && i < sk_X509_num(certs); i++)
		if (!CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i))) {
			leaf = sk_X509_value(certs, i);
			break;
		}
	if (!leaf)
		goto out;   /* signed, but by a certificate it does not carry */
	X509_NAME *subj = X509_get_subject_name(leaf);
	s->signer_cn = name_entry(subj, NID_commonName);
	s->signer_team = name_entry(subj, NID_organizationalUnitName);
	/* Apple marks Developer ID Application leaves with an extension. */
	ASN1_OBJECT *devid = OBJ_txt2obj("1.2.840.113635.100.6.1.13", 1);
	s->signer_devid_app = devid && X509_get_ext_by_OBJ(leaf, devid, -1) >= 0;
	ASN1_OBJECT_free(devid);
	if (!(s->cms_der = malloc(w->len))) {
		rc = m->failed = fail_nomem(m->err);
		goto out;
	}
	memcpy(s->cms_der, w->buf, w->len);
	s->cms_len = w->len;
out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc ? rc : check_cms(m, s);
}

static pkgflat_status complete(struct macho *m, const struct want *w)
{
	switch (w->kind) {
	case W_MAGIC: return got_magic(m, w);
	case W_FAT_ARCHS: return got_fat_archs(m, w);
	case W_HEADER: return got_header(m, w);
	case W_LCMDS: return got_lcmds(m, w);
	case W_SB_HEAD: return got_sb_head(m, w);
	case W_SB_INDEX: return got_sb_index(m, w);
	case W_BLOB_HEAD: return got_blob_head(m, w);
	case W_CD: return got_cd(m, w);
	case W_IDENT:
	case W_TEAM: return got_string(m, w);
	case W_ENTS: return got_ents(m, w);
	case W_CMS: return got_cms(m, w);
	}
	return bad(m, w->off, "internal: unknown range");
}

/*
 * Copy what the chunk holds of each wanted range, then act on the finished
 * ones in the order the stream finishes them (lowest end first), whatever
 * the chunk size: what they ask for next may lie in this same chunk.
 */
static pkgflat_status take(struct macho *m)
{
	uint64_t cs = m->chunk_start, ce = cs + m->chunk_len;

	while (!m->failed) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < m->nwants; i++) {
			struct want *w = &m->wants[i];
			uint64_t from = w->off + w->got, to = w->off + w->len;
			if (w->got < w->len && from >= cs && from < ce) {
				uint64_t end = to < ce ? to : ce;
				memcpy(w->buf + w->got, m->chunk + (from - cs),
				    (size_t)(end - from));
				w->got += (uint32_t)(end - from);
			}
			if (w->got == w->len && (best == SIZE_MAX || to <
			    m->wants[best].off + m->wants[best].len || (to ==
			    m->wants[best].off + m->wants[best].len &&
			    w->off < m->wants[best].off)))
				best = i;
		}
		if (best == SIZE_MAX)
			break;
		struct want done = m->wants[best];
		memmove(&m->wants[best], &m->wants[best + 1],
		    (m->nwants - best - 1) * sizeof *m->wants);
		m->nwants--;
		pkgflat_status rc = complete(m, &done);
		m->kept -= done.len;
		free(done.buf);
		if (rc)
			return m->failed = rc;
	}
	return m->failed;
}

pkgflat_status macho_feed(struct macho *m, const void *buf, size_t n,
    pkgflat_error *err)
{
	m->err = err;
	if (m->failed)
		return m->failed;
	if (m->state == -1 && m->pos == 0 && m->nwants == 0 &&
	    want_from(m, W_MAGIC, 0, 0, 8, 0, 0, NULL))
		return m->failed;
	if (!n || m->state == 0) {
		m->pos += n;
		return PKGFLAT_OK;
	}
	pkgflat_status rc = PKGFLAT_OK;
	if (m->nwants) {
		m->chunk = buf;
		m->chunk_len = n;
		m->chunk_start = m->pos;
		rc = take(m);
		m->chunk = NULL;
		m->chunk_len = 0;
	}
	/* After take(): slices found in this chunk hash it too. */
	for (size_t i = 0; !rc && i < m->nslices; i++)
		if (macho_pages_feed(m->slices[i].pages, m->pos, buf, n))
			rc = m->failed = fail_nomem(err);
	m->pos += n;
	m->chunk_start = m->pos;
	return rc;
}

/* The file is whole: each signed slice's code pages against its
 * CodeDirectory's code slots. */
static void compare_pages(struct macho *m)
{
	for (size_t i = 0; i < m->nslices; i++) {
		struct macho_slice *s = &m->slices[i];
		if (!s->cd_bytes)
			continue;
		int r = macho_pages_compare(s->pages, s->cd_bytes, s->cd_len,
		    &s->bad_page);
		s->pages_checked = r >= 0;
		s->pages_bad = r == 0;
		free(s->cd_bytes);
		s->cd_bytes = NULL;
		macho_pages_free(s->pages);
		s->pages = NULL;
	}
}

pkgflat_status macho_finish(struct macho *m, pkgflat_error *err)
{
	m->err = err;
	if (m->failed)
		return m->failed;
	if (m->state == -1 && m->pos < 8) {
		m->state = 0;   /* too short to be anything */
		return PKGFLAT_OK;
	}
	if (m->state == 0)
		return PKGFLAT_OK;
	if (m->nwants) {
		/* Name the first thing the file ended before. */
		const struct want *w = &m->wants[0];
		for (size_t i = 1; i < m->nwants; i++)
			if (m->wants[i].off < w->off)
				w = &m->wants[i];
		return bad(m, m->pos, "truncated: the file ends at %llu bytes, "
		    "before the end of %s (%u bytes at offset %llu)",
		    (unsigned long long)m->pos, want_what(w->kind), w->len,
		    (unsigned long long)w->off);
	}
	for (size_t i = 0; i < m->nslices; i++) {
		const struct macho_slice *s = &m->slices[i];
		if (s->size && s->offset + s->size > m->pos)
			return bad(m, m->pos, "truncated: fat slice %zu (%s) ends at "
			    "%llu, the file at %llu", i, s->arch ? s->arch : "?",
			    (unsigned long long)(s->offset + s->size),
			    (unsigned long long)m->pos);
	}
	compare_pages(m);
	return PKGFLAT_OK;
}

int macho_is_macho(const struct macho *m)
{
	return m->state;
}

int macho_is_fat(const struct macho *m)
{
	return m->fat;
}

size_t macho_slice_count(const struct macho *m)
{
	return m->failed ? 0 : m->nslices;
}

const struct macho_slice *macho_slice(const struct macho *m, size_t i)
{
	return i < macho_slice_count(m) ? &m->slices[i] : NULL;
}
