/*
 * The byte-flip sweep: every single-byte change of a signed package must
 * make verify fail a check that passed before, except where no hash or
 * signature can cover the byte. Those ranges, decided and documented in
 * README ("What verify covers"), are exactly:
 *
 *   - a stapled ticket and its two "t8lr" frames (stapler's trailer after
 *     the heap; no hash covers it, replacing it is what staple does);
 *   - other bytes after the last heap range (a note in xar-structure: some
 *     pkgbuild versions left stale TOC text there);
 *   - the last byte of a SignerInfo's signatureAlgorithm OID turned from
 *     1 to 5 or back: rsaEncryption and sha1WithRSAEncryption name the
 *     same PKCS#1 v1.5 signature, so both forms verify.
 *
 * The magic bytes are the one place where the answer is an error rather
 * than a failed check ("not a flat package", naming offset 0).
 *
 * Default run (about a minute on one core): every byte of the header, the
 * TOC, the TOC checksum and the RSA signature, every CMS_STRIDE-th byte of
 * the CMS blob (a different phase for each package, cycling the XOR masks)
 * and every HEAP_STRIDE-th byte of the file data. PKGFLAT_SWEEP=full flips
 * every byte of the file (some minutes per package). The packages are
 * the signed ones in testdata/flat plus any listed (one path a line) in
 * the file PKGFLAT_SWEEP_LIST, judged with the roots in PKGFLAT_SWEEP_CA;
 * tests/cli/test_reliability_sign.sh passes packages pkgflat signed with
 * the test PKI that way.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "xar_read.h"

#define CMS_STRIDE 4
#define HEAP_STRIDE 61

static const unsigned char masks[] = { 0xff, 0x01, 0x80, 0x04, 0x20, 0x10,
    0x02, 0x40, 0x08 };

/* Result of each check, or -1 with the error status when verify errs. */
static int verdicts(const char *path, const pkgflat_verify_options *opt,
    int res[16], pkgflat_error *err)
{
	pkgflat_verify_report *r = NULL;

	pkgflat_error_clear(err);
	if (pkgflat_verify(path, opt, &r, err))
		return -1;
	size_t n = pkgflat_verify_check_count(r);
	for (size_t i = 0; i < n && i < 16; i++)
		res[i] = pkgflat_verify_check(r, i)->result;
	pkgflat_verify_report_free(r);
	return (int)n;
}

static void first_data(xmlNodePtr n, uint64_t *min, int depth)
{
	for (xmlNodePtr c = n->children; c && depth < XAR_MAX_DEPTH; c = c->next) {
		uint64_t off;
		if (xar_is_elem(c, "data") && xar_child_u64(c, "offset", &off) &&
		    off < *min)
			*min = off;
		else if (xar_is_elem(c, "file"))
			first_data(c, min, depth + 1);
	}
}

/* The documented rsaEncryption/sha1WithRSAEncryption equivalence. */
static int sigalg_twin(const unsigned char *d, size_t i, unsigned char was,
    unsigned char now)
{
	static const unsigned char pkcs1[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x01 };
	return i >= sizeof pkcs1 && !memcmp(d + i - sizeof pkcs1, pkcs1,
	    sizeof pkcs1) && (was == 1 || was == 5) && (now == 1 || now == 5);
}

static void sweep(const char *pkg, const char *ca, int full, size_t phase)
{
	pkgflat_verify_options opt;
	pkgflat_flat_info info;
	pkgflat_error err;
	struct xar_toc t;
	int base[16], res[16], fd;
	size_t len, tested = 0;
	char tmp[] = "/tmp/pkgflat-sweep-XXXXXX";
	const char *cas[1] = { ca };

	pkgflat_verify_options_init(&opt);
	opt.at = 1700000000;  /* certificates judged at a fixed time */
	if (ca) {
		opt.ca_files = cas;
		opt.ca_count = 1;
	}
	unsigned char *d = test_slurp(pkg, &len);
	pkgflat_error_clear(&err);
	CHECK(pkgflat_flat_inspect(pkg, &info, &err) == PKGFLAT_OK);
	int in = open(pkg, O_RDONLY);
	CHECK(in >= 0 && xar_toc_read(in, pkg, &t, &err) == PKGFLAT_OK);
	close(in);
	uint64_t first = UINT64_MAX, cms_off = 0, cms_len = 0;
	first_data(t.toc, &first, 0);
	xmlNodePtr x = xar_child(t.toc, "x-signature");
	if (x && xar_child_u64(x, "offset", &cms_off) &&
	    xar_child_u64(x, "size", &cms_len))
		cms_off += info.heap_offset;
	xar_toc_free(&t);
	uint64_t sens = first == UINT64_MAX ? len : info.heap_offset + first;
	uint64_t end = info.heap_offset + info.heap_used;

	if ((fd = mkstemp(tmp)) < 0 || write(fd, d, len) != (ssize_t)len) {
		test_fail(__FILE__, __LINE__, "cannot write %s", tmp);
		goto out;
	}
	int n = verdicts(tmp, &opt, base, &err);
	CHECK(n > 0);
	for (size_t i = 0; n > 0 && i < len; i++) {
		if (!full && ((i >= sens && i < end && (i - sens) % HEAP_STRIDE) ||
		    (i >= cms_off && i < cms_off + cms_len &&
		    (i - cms_off) % CMS_STRIDE != phase % CMS_STRIDE)))
			continue;
		unsigned char was = d[i], now = (unsigned char)(was ^ masks[i %
		    sizeof masks]);
		if (pwrite(fd, &now, 1, (off_t)i) != 1)
			break;
		int m = verdicts(tmp, &opt, res, &err), newly = 0;
		for (int k = 0; k < m; k++)
			newly |= res[k] == PKGFLAT_CHECK_FAIL &&
			    base[k] != PKGFLAT_CHECK_FAIL;
		int uncovered = i >= end || sigalg_twin(d, i, was, now);
		if (uncovered && (m < 0 || newly))
			/* A trailer flip may turn it into a malformed ticket:
			 * failing there is fine. */
			newly = 0;
		else if (m < 0 && i < 4 && err.status == PKGFLAT_E_FORMAT)
			newly = 1;  /* the magic: "not a flat package" */
		if (!uncovered && !newly)
			test_fail(__FILE__, __LINE__, "%s: byte %zu (0x%02x -> 0x%02x) "
			    "changed and verify still passes every check it passed",
			    pkg, i, was, now);
		if (pwrite(fd, &was, 1, (off_t)i) != 1)
			break;
		tested++;
	}
	CHECK(tested > 0);
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(d);
}

TEST(flip_sweep_signed_packages)
{
	static const char *const apple[] = {
		"testdata/flat/Installomator-0.5.pkg",
		"testdata/flat/Disable Gatekeeper.pkg",
		"testdata/flat/Re-Enable Java 6.pkg",
	};
	const char *full = getenv("PKGFLAT_SWEEP");
	const char *list = getenv("PKGFLAT_SWEEP_LIST");
	int f = full && !strcmp(full, "full");

	if (!list)
		for (size_t i = 0; i < sizeof apple / sizeof *apple; i++)
			sweep(apple[i], NULL, f, i);
	else {
		size_t n, i = 0;
		char *text = (char *)test_slurp(list, &n), *save = NULL;
		text = realloc(text, n + 1);
		text[n] = '\0';
		for (char *l = strtok_r(text, "\n", &save); l;
		    l = strtok_r(NULL, "\n", &save))
			sweep(l, getenv("PKGFLAT_SWEEP_CA"), f, i++);
		free(text);
	}
}
