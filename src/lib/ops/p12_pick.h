/* Choosing one identity from a PKCS#12 file that may hold several (see
 * p12_pick.c). */
#ifndef PKGFLAT_P12_PICK_H
#define PKGFLAT_P12_PICK_H

#include "internal.h"

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

/*
 * The key, its certificate and every other certificate of p12 (as chain),
 * for the identity whose certificate's common name contains name (NULL:
 * the only one). file labels errors. A file with a MAC that pass (NULL:
 * none given) does not open is PKGFLAT_E_USAGE "needs a passphrase" when
 * no passphrase was given; choosing among several, or none matching, is
 * PKGFLAT_E_USAGE naming the identities there are.
 */
pkgflat_status p12_pick(PKCS12 *p12, const char *pass, const char *name,
    const char *file, EVP_PKEY **key, X509 **leaf, STACK_OF(X509) *chain,
    pkgflat_error *err);

/* 1 when x is a CA certificate (basicConstraints CA:TRUE, or a v1
 * self-signed root): what --cert must not be. */
int p12_is_ca(X509 *x);

#endif
