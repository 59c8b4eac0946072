/* Paths, buffers, content sniffing. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "spill.h"
#include "test.h"

static void norm_is(const char *in, const char *want)
{
	char *got = path_normalize(in);
	if (!want) {
		if (got)
			test_fail(__FILE__, __LINE__, "path_normalize(%s) = %s, want NULL",
			    in, got);
	} else
		CHECK_EQ_STR(got, want);
	free(got);
}

TEST(path_normalize_cases)
{
	norm_is("a/b/c", "a/b/c");
	norm_is("./a//b/./c/", "a/b/c");
	norm_is("a/b/../c", "a/c");
	norm_is("a/..", "");
	norm_is(".", "");
	norm_is("..", NULL);
	norm_is("a/../../b", NULL);
	norm_is("/etc/passwd", NULL);
	norm_is("Contents/Packages/../../../x", NULL);
}

TEST(path_join_cases)
{
	char *p = path_join("Foo.mpkg", "./Contents/Packages");
	CHECK_EQ_STR(p, "Foo.mpkg/Contents/Packages");
	free(p);
	p = path_join("Foo.mpkg", "..");
	CHECK_EQ_STR(p, "");
	free(p);
	CHECK(path_join("Foo.mpkg", "../..") == NULL);
	CHECK(path_join("Foo.mpkg", "/abs") == NULL);
	p = path_dir("a/b/c");
	CHECK_EQ_STR(p, "a/b");
	free(p);
	CHECK_EQ_STR(path_base("a/b/c"), "c");
}

TEST(mime_sniff_cases)
{
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"{\\rtf1 x}", 9, "ReadMe"),
	    "text/rtf");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"\x89PNG\r\n\x1a\n....", 12,
	    "b"), "image/png");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4, "b"),
	    "image/jpeg");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"MM\0*\0\0", 6, "b"),
	    "image/tiff");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"#!/bin/sh\n", 10, "x"),
	    "text/x-script");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"hello\n", 6, "x.html"),
	    "text/html");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"<html><body>", 12, "x"),
	    "text/html");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"plain words", 11, "x"),
	    "text/plain");
	CHECK_EQ_STR(mime_sniff((const unsigned char *)"a\0b\0c", 5, "x"),
	    "application/octet-stream");
	static const unsigned char u16[] = "\xff\xfe<\0?\0x\0m\0l\0 \0<\0p\0l\0i\0s\0t\0";
	CHECK_EQ_STR(mime_sniff(u16, sizeof u16 - 1, "x"), "application/x-plist");
}

TEST(strbuf_grows)
{
	strbuf sb = { 0 };
	for (int i = 0; i < 10000; i++)
		sb_addf(&sb, "%d,", i);
	CHECK(sb.len > 40000);
	CHECK(!sb.oom);
	char *s = sb_detach(&sb);
	CHECK(!strncmp(s, "0,1,2,", 6));
	free(s);
}

TEST(error_text_format)
{
	pkgflat_error err;
	char buf[256];

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(fail(&err, PKGFLAT_E_FORMAT, "Foo.pkg/Contents/Archive.bom",
	    "block 12", "points past end of file"), PKGFLAT_E_FORMAT);
	/* The first error wins. */
	fail(&err, PKGFLAT_E_IO, "other", NULL, "later");
	CHECK_EQ_STR(pkgflat_error_text(&err, buf, sizeof buf),
	    "Foo.pkg/Contents/Archive.bom: block 12: points past end of file");
	CHECK_EQ_STR(pkgflat_status_name(PKGFLAT_E_FORMAT), "malformed input");
}

#include "cksum.h"

TEST(cksum_matches_posix)
{
	/* Values from cksum(1). */
	CHECK_EQ_INT(cksum_buf("", 0), 4294967295u);
	CHECK_EQ_INT(cksum_buf("a", 1), 1220704766u);
	CHECK_EQ_INT(cksum_buf("123456789", 9), 930766865u);
	/* Streaming in odd pieces equals one call. */
	static unsigned char big[100003];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	cksum_ctx c;
	cksum_init(&c);
	for (size_t i = 0; i < sizeof big; i += 997)
		cksum_update(&c, big + i, sizeof big - i < 997 ? sizeof big - i : 997);
	CHECK_EQ_INT(cksum_final(&c), cksum_buf(big, sizeof big));
}

/* Pages dropped by spill_trim() come back with their bytes; growing keeps
 * them and adds zeros; a zeroed struct is an empty spill that closes
 * nothing (fd 0 stays open). */
TEST(spill_trim_keeps_bytes)
{
	struct spill s = { 0 };
	pkgflat_error err = { 0 };
	const size_t mib = (size_t)1 << 20;

	spill_close(&s);
	CHECK(fcntl(0, F_GETFD) != -1 || errno != EBADF);
	CHECK_EQ_INT(spill_reserve(&s, 3 * mib, &err), PKGFLAT_OK);
	CHECK(s.cap >= 3 * mib);
	for (size_t i = 0; i < 3 * mib; i++)
		s.p[i] = (unsigned char)(i * 7 + i / 4096);
	s.len = 3 * mib;
	spill_trim(&s);
	CHECK_EQ_INT(spill_reserve(&s, 40 * mib, &err), PKGFLAT_OK);
	CHECK(s.cap >= 40 * mib);
	int same = 1, zero = 1;
	for (size_t i = 0; i < 3 * mib; i++)
		same &= s.p[i] == (unsigned char)(i * 7 + i / 4096);
	for (size_t i = 3 * mib; i < 40 * mib; i += 4093)
		zero &= s.p[i] == 0;
	CHECK(same);
	CHECK(zero);
	s.len = 40 * mib;
	spill_trim_every(&s, mib);
	CHECK_EQ_INT((int)(s.trimmed == s.len), 1);
	CHECK_EQ_INT(s.p[12345], (unsigned char)(12345 * 7 + 12345 / 4096));
	spill_close(&s);
	CHECK(s.p == NULL && !s.open);
}

/* Without a usable TMPDIR a spill lives in anonymous memory: the bytes
 * survive growth and trims (which then do nothing). */
TEST(spill_without_tmpdir_uses_memory)
{
	struct spill s = { 0 };
	pkgflat_error err = { 0 };
	const char *was = getenv("TMPDIR");
	char *keep = was ? pf_strdup(was) : NULL;

	setenv("TMPDIR", "/nonexistent-pkgflat-dir", 1);
	CHECK_EQ_INT(spill_reserve(&s, 100000, &err), PKGFLAT_OK);
	CHECK(s.anon && !s.open);
	memset(s.p, 0x5a, 100000);
	s.len = 100000;
	spill_trim(&s);
	spill_trim_over(&s, 0);
	CHECK_EQ_INT(spill_reserve(&s, (size_t)8 << 20, &err), PKGFLAT_OK);
	int same = 1;
	for (size_t i = 0; i < 100000; i++)
		same &= s.p[i] == 0x5a;
	CHECK(same);
	CHECK_EQ_INT(s.p[(8 << 20) - 1], 0);
	spill_close(&s);
	if (keep)
		setenv("TMPDIR", keep, 1);
	else
		unsetenv("TMPDIR");
	free(keep);
}

/* The reference vectors of the SipHash paper (key 00..0f, message 00..n-1):
 * verify's Bom check trusts its sums to this function. */
TEST(siphash_reference_vectors)
{
	unsigned char key[16], m[64];
	uint64_t k[2] = { 0, 0 };

	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		m[i] = (unsigned char)i;
	for (int i = 7; i >= 0; i--) {
		k[0] = (k[0] << 8) | key[i];
		k[1] = (k[1] << 8) | key[8 + i];
	}
	CHECK(pf_siphash(k, m, 0) == 0x726fdb47dd0e0e31ull);
	CHECK(pf_siphash(k, m, 15) == 0xa129ca6149be45e5ull);
	CHECK(pf_siphash(k, m, 63) == 0x958a324ceb064572ull);
}
