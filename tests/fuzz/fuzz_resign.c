/*
 * Fuzz the re-sign planning of an existing XAR (sign.c): the TOC is
 * read, checked with verify's xar-structure, its old checksum and
 * signatures dropped, every offset moved, the TOC written again. It runs
 * through pkgflat_sign_prepare with a keyless identity, so nothing needs
 * a key: on success the request's head must be the header, TOC and
 * checksum of a XAR, and its heap range must lie inside the input.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "pkgflat.h"
#include "sign.h"

static pkgflat_identity *ident;

/* A self-signed RSA certificate, made once per process. */
static pkgflat_identity *identity(void)
{
	char pem[] = "/tmp/pkgflat-fuzz-resign-cert-XXXXXX";
	EVP_PKEY *k = ident ? NULL : EVP_RSA_gen(1024);
	X509 *x = k ? X509_new() : NULL;
	pkgflat_error err = { 0 };
	int fd;

	if (ident || !x)
		goto out;
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz", -1, -1, 0);
	X509_set_issuer_name(x, n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	if (!X509_sign(x, k, EVP_sha256()) || (fd = mkstemp(pem)) < 0)
		goto out;
	FILE *f = fdopen(fd, "w");
	if (f && PEM_write_X509(f, x) && !fclose(f))
		sign_identity_from_pem(pem, &ident, &err);
	else if (f)
		fclose(f);
	unlink(pem);
out:
	X509_free(x);
	EVP_PKEY_free(k);
	if (!ident)
		abort();
	return ident;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;

	if (f && !fseek(f, 0, SEEK_END) && (*len = (size_t)ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET) && (b = malloc(*len)) &&
	    fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	if (f)
		fclose(f);
	return b;
}

FUZZ_TARGET(resign)
{
	char in[] = "/tmp/pkgflat-fuzz-resign-XXXXXX";
	char dir[] = "/tmp/pkgflat-fuzz-resign-req-XXXXXX";
	static const char *const files[] = { "README", "state", "head",
	    "certs.pem", "rsa.tbs", "cms.tbs", "rsa.sha1", "cms.sha1" };
	pkgflat_sign_options opt;
	pkgflat_error err = { 0 };
	int fd = mkstemp(in);

	if (fd < 0 || !mkdtemp(dir)) {
		if (fd >= 0) {
			close(fd);
			unlink(in);
		}
		return 0;
	}
	rmdir(dir); /* prepare wants to create it */
	pkgflat_sign_options_init(&opt);
	opt.timestamp = 1700000000;
	if (write(fd, data, size) == (ssize_t)size) {
		pkgflat_status rc = pkgflat_sign_prepare(in, dir, identity(), &opt,
		    NULL, &err);
		if (rc && !err.message[0])
			abort();
		if (!rc) {
			char path[128];
			size_t hl = 0;
			snprintf(path, sizeof path, "%s/head", dir);
			unsigned char *h = slurp(path, &hl);
			/* xar!, 28-byte header, version 1, SHA-1 and exactly the
			 * compressed TOC and its checksum. */
			if (!h || hl < 48 || memcmp(h, "xar!\0\34\0\1", 8) ||
			    be64(h + 8) != hl - 48 || h[27] != 1)
				abort();
			free(h);
		}
		for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
			char path[128];
			snprintf(path, sizeof path, "%s/%s", dir, files[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	close(fd);
	unlink(in);
	return 0;
}
