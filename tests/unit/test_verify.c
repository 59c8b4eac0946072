/* verify through the library API: the bundled roots, the report, the
 * options, errors. */
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "test.h"
#include "verify.h"

/* Apple's roots as Apple publishes their fingerprints: the bundled PEM
 * text must be exactly those certificates. */
TEST(verify_bundled_apple_roots)
{
	static const char *const want[] = {
		"c2b9b042dd57830e7d117dac55ac8ae19407d38e41d88f3215bc3a890444a050",
		"63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179",
	};
	BIO *b = BIO_new_mem_buf(apple_roots_pem, -1);
	X509 *x;
	int n = 0;

	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		unsigned char md[32];
		unsigned int l;
		char hex[65];
		CHECK(n < 2);
		CHECK(X509_digest(x, EVP_sha256(), md, &l) && l == 32);
		verify_hex(md, 32, hex);
		if (n < 2)
			CHECK_EQ_STR(hex, want[n]);
		CHECK(X509_check_issued(x, x) == X509_V_OK);
		X509_free(x);
		n++;
	}
	CHECK_EQ_INT(n, 2);
	BIO_free(b);
}

TEST(verify_report_of_an_apple_package)
{
	static const char *const names[] = { "xar-structure", "toc-checksum",
	    "file-checksums", "rsa-signature", "cms-signature", "chain", "policy",
	    "time", "package-structure" };
	pkgflat_verify_report *r = NULL;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK(pkgflat_verify("testdata/flat/Installomator-0.5.pkg", NULL, &r,
	    &err) == PKGFLAT_OK);
	if (!r)
		return;
	CHECK_EQ_INT(pkgflat_verify_check_count(r), 9);
	for (size_t i = 0; i < 9; i++) {
		CHECK_EQ_STR(pkgflat_verify_check(r, i)->name, names[i]);
		CHECK_EQ_INT(pkgflat_verify_check(r, i)->result, PKGFLAT_CHECK_PASS);
	}
	CHECK(pkgflat_verify_check(r, 9) == NULL);
	CHECK_EQ_INT(pkgflat_verify_failures(r), 0);
	CHECK_EQ_INT(pkgflat_verify_verdict(r), PKGFLAT_VERDICT_DEVELOPER_ID);
	const pkgflat_verify_facts *f = pkgflat_verify_get_facts(r);
	CHECK_EQ_STR(f->rsa_form, "hash-of-hash");
	CHECK(f->timestamp_trusted);
	CHECK_EQ_INT(f->timestamp, 1604055848); /* 2020-10-30 11:04:08 */
	CHECK_EQ_INT(f->policy, PKGFLAT_POLICY_DEVELOPER_ID);
	CHECK(f->apple_root && f->stapled);
	CHECK_EQ_INT(f->ticket_length, 1652);
	CHECK_EQ_INT(pkgflat_verify_cert_count(r), 3);
	CHECK_EQ_STR(pkgflat_verify_cert(r, 2)->common_name, "Apple Root CA");
	CHECK_EQ_INT(pkgflat_verify_cert(r, 2)->not_after, 2054670036); /* 2035-02-09 21:40:36 */
	pkgflat_verify_report_free(r);
}

TEST(verify_without_apple_roots)
{
	pkgflat_verify_options o;
	pkgflat_verify_report *r = NULL;

	pkgflat_verify_options_init(&o);
	CHECK_EQ_INT(o.at, -1);
	o.no_apple_roots = 1;
	o.signature_only = 1;
	CHECK(pkgflat_verify("testdata/flat/Disable Gatekeeper.pkg", &o, &r, NULL) ==
	    PKGFLAT_OK);
	if (!r)
		return;
	CHECK_EQ_INT(pkgflat_verify_verdict(r), PKGFLAT_VERDICT_UNTRUSTED);
	CHECK_EQ_INT(pkgflat_verify_check(r, 5)->result, PKGFLAT_CHECK_FAIL);
	CHECK_EQ_INT(pkgflat_verify_check(r, 3)->result, PKGFLAT_CHECK_PASS);
	/* Without the root, Apple's timestamp authority is untrusted too. */
	CHECK_EQ_INT(pkgflat_verify_check(r, 7)->result, PKGFLAT_CHECK_FAIL);
	CHECK_EQ_STR(pkgflat_verdict_name(pkgflat_verify_verdict(r)), "untrusted");
	pkgflat_verify_report_free(r);
}

TEST(verify_errors)
{
	pkgflat_verify_report *r = NULL;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK(pkgflat_verify("testdata/legacy/ExifTool-9.47.pkg/Contents/Archive.bom",
	    NULL, &r, &err) == PKGFLAT_E_FORMAT);
	CHECK(r == NULL);
	CHECK(strstr(err.message, "not a flat package") != NULL);
	pkgflat_error_clear(&err);
	CHECK(pkgflat_verify("testdata/nonexistent.pkg", NULL, &r, &err) ==
	    PKGFLAT_E_IO);
	CHECK_EQ_STR(pkgflat_check_result_name(PKGFLAT_CHECK_NA), "not-applicable");
	pkgflat_verify_report_free(NULL);
}
