/*
 * Mach-O files read as they stream by (macho.c): thin and fat (fat64 too),
 * 32 and 64 bit, either byte order; per slice the CPU, file type, minimum
 * OS and SDK, and what its embedded code signature says.
 */
#ifndef PKGFLAT_MACHO_H
#define PKGFLAT_MACHO_H

#include "internal.h"

/* Architecture families (pkgflat_macho_arch_*): what hostArchitectures
 * and Rosetta care about. */
#define MACHO_FAM_ARM64  0x1u   /* arm64, arm64e */
#define MACHO_FAM_X86_64 0x2u   /* x86_64, x86_64h */
#define MACHO_FAM_I386   0x4u
#define MACHO_FAM_PPC    0x8u   /* ppc, ppc7400, ppc970, ppc64 */
#define MACHO_FAM_OTHER  0x10u

/* CodeDirectory flags the pre-flight looks at. */
#define MACHO_CS_ADHOC         0x2u
#define MACHO_CS_RUNTIME       0x10000u
#define MACHO_CS_LINKER_SIGNED 0x20000u

struct macho_slice {
	uint32_t cputype, cpusubtype;
	const char *arch;         /* "x86_64", "arm64e", ... (static) */
	unsigned int family;      /* MACHO_FAM_* */
	int bits64, big_endian;
	uint32_t filetype;        /* MH_EXECUTE = 2, MH_DYLIB = 6, ... */
	uint64_t offset, size;    /* in the file; size 0: to its end (thin) */
	/* LC_BUILD_VERSION or LC_VERSION_MIN_*: X.Y.Z as 0xXXXXYYZZ. */
	int has_version;
	uint32_t platform;        /* LC_BUILD_VERSION platform; 1 for MIN_MACOSX */
	uint32_t minos, sdk;
	/* LC_CODE_SIGNATURE */
	int has_signature;
	uint64_t sig_offset, sig_size;  /* in the file */
	int has_cd;
	uint32_t cd_version, cd_flags;
	unsigned int hash_type;   /* 1 sha1, 2 sha256, 3 sha256/20, 4 sha384 */
	unsigned int cd_count;    /* CodeDirectories: primary + alternates */
	char *identifier, *team_id;
	int has_entitlements, get_task_allow;
	int has_cms;              /* a CMS wrapper blob ... */
	int cms_empty;            /* ...that holds nothing (ad-hoc) */
	char *signer_cn, *signer_team;   /* the signing certificate's CN, OU */
	int signer_devid_app;     /* Developer ID Application (100.6.1.13) */
	int has_timestamp;        /* an RFC 3161 token in the signer info */
	/* The CMS signature was checked against the CodeDirectory it signs
	 * (slot 0): its signature and content digest, by its own leaf
	 * certificate. cms_bad: it does not match. */
	int cms_checked, cms_bad;
	/* Held until the file ends: the CodeDirectory's code slots are
	 * compared with the pages then; the CMS until checked. */
	unsigned char *cd_bytes, *cms_der;
	uint32_t cd_len, cms_len;
	/* The code pages against the CodeDirectory's code slots (4096-byte
	 * pages, SHA-1 / SHA-256 only): pages_checked when judged, and then
	 * pages_bad with the first page that differs. */
	struct macho_pages *pages;
	int pages_checked, pages_bad;
	uint32_t bad_page;
};

struct macho;

/* A scanner for one file; name (copied) is the file as errors name it. */
struct macho *macho_new(const char *name);
void macho_free(struct macho *m);

/* Does a file starting with these bytes look like Mach-O? n >= 8. */
int macho_sniff(const unsigned char *h, size_t n);

/*
 * Feed the file's next n bytes. Only what the scanner asked for is kept
 * (headers, load commands, parts of the code signature), never the file.
 * Returns PKGFLAT_OK, or an error naming the place (later feeds do
 * nothing and return it again).
 */
pkgflat_status macho_feed(struct macho *m, const void *buf, size_t n,
    pkgflat_error *err);
/* The file has ended: fails when something it points at never came. */
pkgflat_status macho_finish(struct macho *m, pkgflat_error *err);

/* After the first 8 bytes: 1 Mach-O, 0 not, -1 not known yet. */
int macho_is_macho(const struct macho *m);
int macho_is_fat(const struct macho *m);
size_t macho_slice_count(const struct macho *m);
const struct macho_slice *macho_slice(const struct macho *m, size_t i);

/* "execute", "dylib", ... for a file type; "type N" (static) otherwise. */
const char *macho_filetype_name(uint32_t filetype);
/* 0xXXXXYYZZ as "X.Y" or "X.Y.Z" into buf. */
const char *macho_version_text(uint32_t v, char *buf, size_t n);

#endif
