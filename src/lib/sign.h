/* productsign-style signatures for the XAR writer (see sign.c). */
#ifndef PKGFLAT_SIGN_H
#define PKGFLAT_SIGN_H

#include "internal.h"
#include "xar.h"

#include <openssl/x509.h>

struct sign_ctx;

/* A private key named by a pkcs11: URI (pkcs11.c); *engine is released
 * with pkcs11_release() after the key is freed. */
pkgflat_status pkcs11_load_key(const char *uri, const char *pin,
    EVP_PKEY **out, void **engine, pkgflat_error *err);
void pkcs11_release(void *engine);

/* Apple Root CA and the Developer ID Certification Authority (PEM). */
extern const char apple_certs_pem[];

/* Append to chain the Apple certificates it lacks between leaf and a root;
 * returns how many were added. */
int sign_complete_chain(X509 *leaf, STACK_OF(X509) *chain);

/* A signer for xar_options.signer; signing_time goes into the CMS, and a
 * timestamp from tsa_url (NULL: none), waiting at most tsa_timeout s. */
pkgflat_status signer_new(const pkgflat_identity *id, int64_t signing_time,
    const char *tsa_url, int tsa_timeout, struct sign_ctx **out,
    const struct xar_signer **xs, pkgflat_error *err);
void signer_free(struct sign_ctx *c);

#endif
