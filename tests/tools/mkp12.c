/*
 * mkp12: write a PKCS#12 file holding several identities (key and
 * certificate pairs) and chain certificates, the way a keychain export of
 * several Developer ID identities looks; `openssl pkcs12 -export` can only
 * put one key in a file. For tests/cli/test_ux.sh.
 *
 * usage: mkp12 OUT.p12 PASS KEY.pem CERT.pem [KEY.pem CERT.pem ...]
 *             [-- CHAIN.pem...]
 *
 * Each certificate bag gets the friendlyName of its subject's CN and a
 * localKeyID shared with its key bag; keys are shrouded with PBES2/AES-256
 * (OpenSSL's defaults), the MAC is SHA-256.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return k;
}

int main(int argc, char **argv)
{
	STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12;
	int i, n = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: mkp12 OUT.p12 PASS KEY CERT [KEY CERT...] "
		    "[-- CHAIN...]\n");
		return 2;
	}
	const char *pass = argv[2];
	for (i = 3; i + 1 < argc && strcmp(argv[i], "--"); i += 2) {
		X509 *x = read_cert(argv[i + 1]);
		EVP_PKEY *k = read_key(argv[i]);
		unsigned char id[4] = { 'k', 'e', 'y', (unsigned char)n++ };
		char cn[256] = "";
		if (!x || !k) {
			fprintf(stderr, "mkp12: cannot read %s or %s\n", argv[i],
			    argv[i + 1]);
			return 1;
		}
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
		    cn, sizeof cn);
		PKCS12_SAFEBAG *cb = PKCS12_add_cert(&bags, x);
		if (!cb || !PKCS12_add_localkeyid(cb, id, sizeof id) ||
		    !PKCS12_add_friendlyname(cb, cn, -1))
			goto fail;
		PKCS12_SAFEBAG *kb = PKCS12_add_key(&bags, k, 0, PKCS12_DEFAULT_ITER,
		    NID_aes_256_cbc, pass);
		if (!kb || !PKCS12_add_localkeyid(kb, id, sizeof id))
			goto fail;
		X509_free(x);
		EVP_PKEY_free(k);
	}
	for (i++; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");
		X509 *x;
		while (f && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
			if (!PKCS12_add_cert(&bags, x))
				goto fail;
			X509_free(x);
		}
		ERR_clear_error();
		if (f)
			fclose(f);
	}
	if (!PKCS12_add_safe(&safes, bags, -1, 0, NULL) ||
	    !(p12 = PKCS12_add_safes(safes, 0)) ||
	    !PKCS12_set_mac(p12, pass, -1, NULL, 0, PKCS12_DEFAULT_ITER,
	    EVP_sha256()))
		goto fail;
	FILE *out = fopen(argv[1], "wb");
	if (!out || !i2d_PKCS12_fp(out, p12) || fclose(out))
		goto fail;
	return 0;
fail:
	ERR_print_errors_fp(stderr);
	return 1;
}
