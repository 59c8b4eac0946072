/* The bundled Apple certificates and chain completion. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <zlib.h>

#include "sign.h"
#include "test.h"

/* The certificates in a flat package's signature KeyInfo, read straight
 * from the TOC: an oracle independent of the bundled PEM text. */
static STACK_OF(X509) *keyinfo_certs(const char *path)
{
	size_t n;
	unsigned char *d = test_slurp(path, &n);
	uint64_t clen = 0, ulen = 0;
	for (int i = 0; i < 8; i++) {
		clen = clen << 8 | d[8 + i];
		ulen = ulen << 8 | d[16 + i];
	}
	char *toc = malloc(ulen + 1);
	uLongf dl = (uLongf)ulen;
	CHECK(uncompress((Bytef *)toc, &dl, d + 28, (uLong)clen) == Z_OK);
	toc[dl] = '\0';
	STACK_OF(X509) *out = sk_X509_new_null();
	for (char *p = strstr(toc, "<X509Certificate>"); p && sk_X509_num(out) < 3;
	    p = strstr(p + 1, "<X509Certificate>")) {
		p += strlen("<X509Certificate>");
		char *e = strstr(p, "</X509Certificate>");
		char *b64 = malloc((size_t)(e - p) + 1);
		size_t k = 0;
		for (char *q = p; q < e; q++)
			if (*q != '\n' && *q != '\r' && *q != ' ' && *q != '\t')
				b64[k++] = *q;
		unsigned char *der = malloc(k);
		int len = EVP_DecodeBlock(der, (unsigned char *)b64, (int)k);
		while (len > 0 && k && b64[--k] == '=')
			len--;
		const unsigned char *dp = der;
		X509 *x = d2i_X509(NULL, &dp, len);
		CHECK(x != NULL);
		sk_X509_push(out, x);
		free(der);
		free(b64);
	}
	free(toc);
	free(d);
	return out;
}

TEST(sign_bundled_apple_certs_match_corpus)
{
	STACK_OF(X509) *k = keyinfo_certs("testdata/flat/Installomator-0.5.pkg");
	BIO *b = BIO_new_mem_buf(apple_certs_pem, -1);
	X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
	X509 *root = PEM_read_bio_X509(b, NULL, NULL, NULL);

	CHECK_EQ_INT(sk_X509_num(k), 3);
	CHECK(ca && root);
	CHECK(X509_cmp(ca, sk_X509_value(k, 1)) == 0);
	CHECK(X509_cmp(root, sk_X509_value(k, 2)) == 0);
	unsigned char md[20];
	unsigned int n;
	X509_digest(root, EVP_sha1(), md, &n);
	CHECK(!memcmp(md, "\x61\x1e\x5b\x66\x2c\x59\x3a\x08\xff\x58\xd1\x4a\xe2\x24"
	    "\x52\xd1\x98\xdf\x6c\x60", 20));
	X509_free(ca);
	X509_free(root);
	BIO_free(b);
	sk_X509_pop_free(k, X509_free);
}

TEST(sign_completes_an_apple_chain)
{
	STACK_OF(X509) *k = keyinfo_certs("testdata/flat/Disable Gatekeeper.pkg");
	STACK_OF(X509) *chain = sk_X509_new_null();

	/* Only the leaf: the Developer ID CA and the root are added, in order. */
	CHECK_EQ_INT(sign_complete_chain(sk_X509_value(k, 0), chain), 2);
	CHECK(X509_cmp(sk_X509_value(chain, 0), sk_X509_value(k, 1)) == 0);
	CHECK(X509_cmp(sk_X509_value(chain, 1), sk_X509_value(k, 2)) == 0);
	/* A complete chain is left alone. */
	CHECK_EQ_INT(sign_complete_chain(sk_X509_value(k, 0), chain), 0);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(k, X509_free);
}

/* Outputs are fsynced only when asked: by the caller or PKGFLAT_FSYNC. */
TEST(sign_fsync_is_opt_in)
{
	const char *old = getenv("PKGFLAT_FSYNC");
	char *saved = old ? strdup(old) : NULL;

	unsetenv("PKGFLAT_FSYNC");
	CHECK_EQ_INT(want_fsync(0), 0);
	CHECK_EQ_INT(want_fsync(1), 1);
	setenv("PKGFLAT_FSYNC", "0", 1);
	CHECK_EQ_INT(want_fsync(0), 0);
	setenv("PKGFLAT_FSYNC", "", 1);
	CHECK_EQ_INT(want_fsync(0), 0);
	setenv("PKGFLAT_FSYNC", "1", 1);
	CHECK_EQ_INT(want_fsync(0), 1);
	if (saved)
		setenv("PKGFLAT_FSYNC", saved, 1);
	else
		unsetenv("PKGFLAT_FSYNC");
	free(saved);
}

/* inject without a request: an i/o error naming the missing file, and
 * the result left empty. */
TEST(sign_inject_needs_a_request)
{
	pkgflat_sign_options opt;
	pkgflat_sign_result res = { 0 };
	pkgflat_error err;

	pkgflat_sign_options_init(&opt);
	CHECK_EQ_INT(opt.timestamp, -1);
	CHECK_EQ_INT(opt.fsync, 0);
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(pkgflat_sign_inject("/nonexistent/req", "in.pkg", "out.pkg",
	    &opt, &res, &err), PKGFLAT_E_IO);
	CHECK_EQ_STR(err.file, "/nonexistent/req/state");
	CHECK(res.note == NULL && res.cms_reserved == 0);
	pkgflat_sign_result_clear(&res);
	pkgflat_sign_result_clear(NULL);
}
