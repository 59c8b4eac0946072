/* Private helpers shared by the library modules. */
#ifndef PKGFLAT_INTERNAL_H
#define PKGFLAT_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "pkgflat.h"

#if defined(__GNUC__)
#define PF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PF_PRINTF(a, b)
#endif

/*
 * Record an error and return its status, so call sites read
 *     return fail(err, PKGFLAT_E_FORMAT, file, "offset 12", "bad magic");
 * file and where may be NULL. The first error recorded wins: callers up the
 * stack that fail() again do not overwrite the more precise message.
 */
pkgflat_status fail(pkgflat_error *err, pkgflat_status status,
    const char *file, const char *where, const char *fmt, ...) PF_PRINTF(5, 6);
/* Same, for a failed system call: appends strerror(errno). */
pkgflat_status fail_errno(pkgflat_error *err, const char *file,
    const char *fmt, ...) PF_PRINTF(3, 4);
pkgflat_status fail_nomem(pkgflat_error *err);

/* Allocation that cannot be ignored. */
void *pf_calloc(size_t n, size_t size);
char *pf_strdup(const char *s);
char *pf_strndup(const char *s, size_t n);
char *pf_asprintf(const char *fmt, ...) PF_PRINTF(1, 2);

/* A growable byte buffer, always NUL-terminated. */
typedef struct strbuf {
	char *buf;
	size_t len, cap;
	int oom;
} strbuf;
void sb_add(strbuf *sb, const void *data, size_t n);
void sb_adds(strbuf *sb, const char *s);
void sb_addf(strbuf *sb, const char *fmt, ...) PF_PRINTF(2, 3);
void sb_free(strbuf *sb);
char *sb_detach(strbuf *sb);

/* A growable array of pointers. */
typedef struct ptrvec {
	void **v;
	size_t n, cap;
} ptrvec;
int pv_push(ptrvec *pv, void *p);
void pv_free(ptrvec *pv, void (*free_fn)(void *));
/* qsort/bsearch comparison of two char * (strcmp order). */
int str_ptr_cmp(const void *a, const void *b);
/* SipHash-2-4 of n bytes under the 128-bit key k (two little-endian
 * halves): a keyed hash whose collisions no input can aim at. */
uint64_t pf_siphash(const uint64_t k[2], const void *data, size_t n);

/* Big-endian readers over a bounded buffer. */
static inline uint16_t be16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t be64(const unsigned char *p)
{
	return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/*
 * Lexically normalise a relative path: drop "." parts and empty parts,
 * resolve "..". Returns NULL when the result would climb above the start
 * (escapes) or the input is absolute.
 */
char *path_normalize(const char *path);
/* dir + "/" + name, normalised; NULL if it escapes. */
char *path_join(const char *dir, const char *name);
const char *path_base(const char *path);
/* Allocated parent directory ("" for a top-level name). */
char *path_dir(const char *path);
int str_has_suffix(const char *s, const char *suffix);
int str_casecmp_ascii(const char *a, const char *b);

/* Whether to fsync an output before renaming it into place: when the
 * caller asked, or when PKGFLAT_FSYNC is set and not "0". The rename
 * alone keeps outputs whole across errors and interrupts; fsync adds
 * durability across power loss, at the cost of waiting for the disk. */
int want_fsync(int asked);

/* Content sniffing for resources. */
const char *mime_sniff(const unsigned char *data, size_t len, const char *name);

#endif
