/* Whether a signing chain ends at an Apple root (see apple_root.c). */
#ifndef PKGFLAT_APPLE_ROOT_H
#define PKGFLAT_APPLE_ROOT_H

#include <openssl/x509.h>

/* 1 when the chain from leaf through chain (in order) ends at one of the
 * bundled Apple roots, or at a certificate of the PEM file named by
 * PKGFLAT_TEST_APPLE_ROOT (for tests: no test PKI can chain to Apple). */
int sign_chain_apple_root(X509 *leaf, STACK_OF(X509) *chain);

#endif
