/*
 * App Store Connect API tokens: a JWT (RFC 7519) signed with ES256 (RFC
 * 7518 §3.4: ECDSA P-256 over SHA-256, the signature as r || s, 32 bytes
 * each), header {"alg":"ES256","kid":KEY-ID,"typ":"JWT"}, claims iss
 * (issuer id), iat, exp and aud "appstoreconnect-v1". Reference: Apple's
 * "Generating Tokens for API Requests".
 */
#ifndef PKGFLAT_JWT_H
#define PKGFLAT_JWT_H

#include <openssl/evp.h>
#include <stdint.h>

#include "internal.h"

/* The token, allocated; NULL with err filled. */
char *jwt_es256(EVP_PKEY *key, const char *kid, const char *iss, int64_t iat,
    int64_t exp, pkgflat_error *err);

/* base64url without padding (RFC 4648 §5), appended to sb. */
void base64url(strbuf *sb, const unsigned char *in, size_t n);

#endif
