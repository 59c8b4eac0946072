/*
 * Signing identities: a certificate chain with its private key (PEM, DER,
 * PKCS#12, pkcs11:) or with an external signing command, loaded, checked
 * for installer signing, and completed with the Apple intermediates;
 * passphrases read from env:, file: or fd: and wiped after use. signer.c
 * signs with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "sign.h"

pkgflat_status sign_ssl_fail(pkgflat_error *err, const char *file,
    const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return fail(err, PKGFLAT_E_CRYPTO, file, NULL, "%s%s%s", what,
	    buf[0] ? ": " : "", buf);
}

/* --pass env:VAR | file:PATH | fd:N, like openssl's -passin. */
static pkgflat_status read_pass(const char *spec, char **out,
    pkgflat_error *err)
{
	char buf[1024];
	size_t n = 0;

	*out = NULL;
	if (!spec)
		return PKGFLAT_OK;
	if (!strncmp(spec, "env:", 4)) {
		const char *v = getenv(spec + 4);
		if (!v)
			return fail(err, PKGFLAT_E_USAGE, NULL, "--pass",
			    "environment variable %s is not set", spec + 4);
		if (!(*out = pf_strdup(v)))
			return fail_nomem(err);
		return PKGFLAT_OK;
	}
	int fd = -1, own = 0;
	if (!strncmp(spec, "file:", 5)) {
		if ((fd = open(spec + 5, O_RDONLY | O_CLOEXEC)) < 0)
			return fail_errno(err, spec + 5, "cannot read the passphrase");
		own = 1;
	} else if (!strncmp(spec, "fd:", 3)) {
		char *end;
		long v = strtol(spec + 3, &end, 10);
		if (end == spec + 3 || *end || v < 0)
			return fail(err, PKGFLAT_E_USAGE, NULL, "--pass",
			    "\"%s\" is not a file descriptor number", spec + 3);
		fd = (int)v;
	} else
		return fail(err, PKGFLAT_E_USAGE, NULL, "--pass",
		    "use env:VAR, file:PATH or fd:N (never the passphrase itself)");
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) || n == sizeof buf - 1)
			break;
	}
	if (own)
		close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = pf_strdup(buf);
	OPENSSL_cleanse(buf, sizeof buf);
	return *out ? PKGFLAT_OK : fail_nomem(err);
}

static void wipe(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static pkgflat_status load_certs(const char *path, STACK_OF(X509) *into,
    pkgflat_error *err)
{
	BIO *b = BIO_new_file(path, "rb");
	X509 *x;
	int n = 0;

	if (!b)
		return fail_errno(err, path, "cannot open");
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		sk_X509_push(into, x);
		n++;
	}
	ERR_clear_error();
	if (!n) {
		/* One DER certificate. */
		BIO_reset(b);
		if ((x = d2i_X509_bio(b, NULL))) {
			sk_X509_push(into, x);
			n++;
		}
	}
	BIO_free(b);
	if (!n)
		return sign_ssl_fail(err, path, "no certificate in PEM or DER form");
	return PKGFLAT_OK;
}

static int pass_cb(char *buf, int size, int rw, void *u)
{
	const char *p = u;
	(void)rw;
	if (!p)
		return 0;
	int n = (int)strlen(p);
	if (n > size)
		n = size;
	memcpy(buf, p, (size_t)n);
	return n;
}

static pkgflat_status load_key(const char *path, const char *pass,
    EVP_PKEY **out, pkgflat_error *err)
{
	BIO *b = BIO_new_file(path, "rb");
	char head[4096];
	int n;

	if (!b)
		return fail_errno(err, path, "cannot open");
	n = BIO_read(b, head, sizeof head - 1);
	head[n > 0 ? n : 0] = '\0';
	int encrypted = strstr(head, "ENCRYPTED") != NULL;
	BIO_reset(b);
	*out = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)pass);
	if (!*out && !encrypted) {
		ERR_clear_error();
		BIO_reset(b);
		*out = d2i_PrivateKey_bio(b, NULL);
	}
	BIO_free(b);
	if (!*out && encrypted) {
		ERR_clear_error();
		return fail(err, PKGFLAT_E_CRYPTO, path, NULL, pass ?
		    "cannot decrypt the key: wrong passphrase" :
		    "the key is encrypted: give its passphrase with --pass");
	}
	if (!*out)
		return sign_ssl_fail(err, path, "no private key in PEM or DER form "
		    "(an encrypted key needs --pass)");
	return PKGFLAT_OK;
}

pkgflat_status pkgflat_identity_load(const pkgflat_identity_spec *spec,
    pkgflat_identity **out, pkgflat_error *err)
{
	pkgflat_identity *id = pf_calloc(1, sizeof *id);
	pkgflat_status rc = PKGFLAT_OK;
	char *pass = NULL;

	*out = NULL;
	if (!id || !(id->chain = sk_X509_new_null())) {
		free(id);
		return fail_nomem(err);
	}
	if ((rc = read_pass(spec->pass, &pass, err)))
		goto out;
	if (spec->p12) {
		BIO *b = BIO_new_file(spec->p12, "rb");
		PKCS12 *p12 = b ? d2i_PKCS12_bio(b, NULL) : NULL;
		BIO_free(b);
		if (!p12) {
			rc = b ? sign_ssl_fail(err, spec->p12, "not a PKCS#12 file") :
			    fail_errno(err, spec->p12, "cannot open");
			goto out;
		}
		STACK_OF(X509) *ca = NULL;
		if (!PKCS12_parse(p12, pass ? pass : "", &id->key, &id->leaf, &ca)) {
			unsigned long e = ERR_peek_last_error();
			ERR_clear_error();
			PKCS12_free(p12);
			rc = fail(err, PKGFLAT_E_CRYPTO, spec->p12, NULL, "%s",
			    ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE ?
			    "cannot open: wrong passphrase" : "cannot parse the PKCS#12 file");
			goto out;
		}
		PKCS12_free(p12);
		for (int i = 0; ca && i < sk_X509_num(ca); i++)
			sk_X509_push(id->chain, X509_dup(sk_X509_value(ca, i)));
		sk_X509_pop_free(ca, X509_free);
		if (!id->key || !id->leaf) {
			rc = fail(err, PKGFLAT_E_CRYPTO, spec->p12, NULL,
			    "holds no private key with its certificate");
			goto out;
		}
	} else {
		if (!spec->cert || (spec->key && spec->sign_command)) {
			rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
			    "an identity needs --p12, or --cert with either --key or "
			    "--sign-command (or neither, to prepare a request)");
			goto out;
		}
		STACK_OF(X509) *certs = sk_X509_new_null();
		if (!certs) {
			rc = fail_nomem(err);
			goto out;
		}
		int p11 = spec->key && !strncmp(spec->key, "pkcs11:", 7);
		if ((p11 && (rc = pkcs11_load_key(spec->key, pass, &id->key,
		    &id->engine, err))) ||
		    (spec->key && !p11 && (rc = load_key(spec->key, pass, &id->key,
		    err))) || (rc = load_certs(spec->cert, certs, err))) {
			sk_X509_pop_free(certs, X509_free);
			goto out;
		}
		/* The first certificate is the leaf; any others are chain. */
		id->leaf = sk_X509_shift(certs);
		while (sk_X509_num(certs))
			sk_X509_push(id->chain, sk_X509_shift(certs));
		sk_X509_free(certs);
	}
	if (spec->chain) {
		/* --chain always wins over what came with the identity. */
		sk_X509_pop_free(id->chain, X509_free);
		if (!(id->chain = sk_X509_new_null())) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = load_certs(spec->chain, id->chain, err)))
			goto out;
	} else
		sign_complete_chain(id->leaf, id->chain);
	if (!id->key) {
		/* An external signer, or none yet (pkgflat_sign_prepare). */
		EVP_PKEY *pub = X509_get0_pubkey(id->leaf);
		if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
			rc = fail(err, PKGFLAT_E_UNSUPPORTED, spec->cert, NULL,
			    "installer signatures need an RSA key");
			goto out;
		}
		if ((spec->sign_command && !(id->command =
		    pf_strdup(spec->sign_command))) || !(id->stand_in =
		    EVP_RSA_gen((unsigned int)EVP_PKEY_get_bits(pub)))) {
			rc = sign_ssl_fail(err, NULL, "cannot prepare for the external signer");
			goto out;
		}
		*out = id;
		id = NULL;
		goto out;
	}
	if (X509_check_private_key(id->leaf, id->key) != 1) {
		ERR_clear_error();
		rc = fail(err, PKGFLAT_E_CRYPTO, spec->p12 ? spec->p12 : spec->key,
		    NULL, "the private key does not match the certificate");
		goto out;
	}
	if (EVP_PKEY_get_base_id(id->key) != EVP_PKEY_RSA) {
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, spec->p12 ? spec->p12 :
		    spec->key, NULL, "installer signatures need an RSA key");
		goto out;
	}
	*out = id;
	id = NULL;
out:
	wipe(pass);
	pkgflat_identity_free(id);
	return rc;
}

char *sign_certs_pem(const pkgflat_identity *id)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	int ok = b && PEM_write_bio_X509(b, id->leaf);

	for (int i = 0; ok && i < sk_X509_num(id->chain); i++)
		ok = PEM_write_bio_X509(b, sk_X509_value(id->chain, i));
	long n = ok ? BIO_get_mem_data(b, &data) : 0;
	if (n > 0)
		out = pf_strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

pkgflat_status sign_identity_from_pem(const char *path,
    pkgflat_identity **out, pkgflat_error *err)
{
	pkgflat_identity *id = pf_calloc(1, sizeof *id);
	pkgflat_status rc;

	*out = NULL;
	if (!id || !(id->chain = sk_X509_new_null())) {
		free(id);
		return fail_nomem(err);
	}
	if ((rc = load_certs(path, id->chain, err)))
		goto out;
	id->leaf = sk_X509_shift(id->chain);
	EVP_PKEY *pub = X509_get0_pubkey(id->leaf);
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		rc = fail(err, PKGFLAT_E_UNSUPPORTED, path, NULL,
		    "installer signatures need an RSA key");
		goto out;
	}
	if (!(id->stand_in = EVP_RSA_gen((unsigned int)EVP_PKEY_get_bits(pub)))) {
		rc = sign_ssl_fail(err, NULL, "cannot prepare for the external signature");
		goto out;
	}
	*out = id;
	id = NULL;
out:
	pkgflat_identity_free(id);
	return rc;
}

int sign_complete_chain(X509 *leaf, STACK_OF(X509) *chain)
{
	BIO *b = BIO_new_mem_buf(apple_certs_pem, -1);
	STACK_OF(X509) *apple = sk_X509_new_null();
	X509 *x, *cur = sk_X509_num(chain) ? sk_X509_value(chain,
	    sk_X509_num(chain) - 1) : leaf;
	int added = 0;

	while (b && apple && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(apple, x);
	ERR_clear_error();
	for (int depth = 0; apple && depth < 8; depth++) {
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break; /* a root: done */
		X509 *next = NULL;
		for (int i = 0; i < sk_X509_num(apple) && !next; i++)
			if (X509_check_issued(sk_X509_value(apple, i), cur) == X509_V_OK)
				next = sk_X509_value(apple, i);
		if (!next)
			break;
		sk_X509_push(chain, X509_dup(next));
		added++;
		cur = next;
	}
	sk_X509_pop_free(apple, X509_free);
	BIO_free(b);
	return added;
}

void pkgflat_identity_free(pkgflat_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	pkcs11_release(id->engine);
	EVP_PKEY_free(id->stand_in);
	free(id->command);
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	free(id);
}

/* The leaf must be able to sign installers now. */
static void asn1_time_text(const ASN1_TIME *a, char *out, size_t size)
{
	struct tm tm;

	if (a && ASN1_TIME_to_tm(a, &tm))
		strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

pkgflat_status pkgflat_identity_check(const pkgflat_identity *id,
    int64_t now, pkgflat_error *err)
{
	X509 *x = id->leaf;
	time_t t = (time_t)now;
	char name[256];

	X509_NAME_oneline(X509_get_subject_name(x), name, sizeof name);
	if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(x), &t) < 0) {
		/* Name the time judged, and the window it falls outside. */
		char at[32], from[64] = "?", until[64] = "?";
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S UTC", &tm);
		else
			snprintf(at, sizeof at, "%lld", (long long)now);
		asn1_time_text(X509_get0_notBefore(x), from, sizeof from);
		asn1_time_text(X509_get0_notAfter(x), until, sizeof until);
		return fail(err, PKGFLAT_E_CRYPTO, name, NULL,
		    "the certificate is not valid now (judged at %s; valid from %s "
		    "until %s)", at, from, until);
	}
	if (!(X509_get_key_usage(x) & X509v3_KU_DIGITAL_SIGNATURE))
		return fail(err, PKGFLAT_E_CRYPTO, name, NULL,
		    "the certificate may not make digital signatures (KeyUsage)");
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);
	int ok = 0;
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		char oid[64];
		OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, i), 1);
		if (!strcmp(oid, "1.2.840.113635.100.4.13") ||
		    !strcmp(oid, "1.2.840.113635.100.4.9"))
			ok = 1;
	}
	EXTENDED_KEY_USAGE_free(eku);
	if (!ok)
		return fail(err, PKGFLAT_E_CRYPTO, name, NULL,
		    "not a Developer ID Installer or Mac Installer Distribution "
		    "certificate (EKU 1.2.840.113635.100.4.13 or .4.9 missing)");
	return PKGFLAT_OK;
}
