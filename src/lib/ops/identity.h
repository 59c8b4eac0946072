/*
 * Signing identities (identity.c): what a signature is made with. The
 * fields are read by identity.c, which loads and frees them, and by
 * signer.c, which signs with them.
 */
#ifndef PKGFLAT_IDENTITY_H
#define PKGFLAT_IDENTITY_H

#include "internal.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

struct pkgflat_identity {
	EVP_PKEY *key;           /* the signing key, or without one: */
	X509 *leaf;
	STACK_OF(X509) *chain;   /* intermediates and root, leaf excluded */
	char *command;           /* an external signer (or none: prepare), */
	EVP_PKEY *stand_in;      /* a throwaway key of the same size that lets
	                            OpenSSL lay out the CMS before the real
	                            signature replaces its own */
	void *engine;            /* pkcs11 keys: the engine holding them */
};

/* An OpenSSL failure as PKGFLAT_E_CRYPTO: what, then OpenSSL's last error;
 * clears OpenSSL's error queue. */
pkgflat_status sign_ssl_fail(pkgflat_error *err, const char *file,
    const char *what);

#endif
