/*
 * AWS Signature Version 4 (the "Authorization: AWS4-HMAC-SHA256" header),
 * as S3 checks it. Reference: AWS's "Signature Version 4 signing process"
 * and its S3 examples (the GET-object example is a unit test).
 */
#ifndef PKGFLAT_SIGV4_H
#define PKGFLAT_SIGV4_H

#include <stddef.h>

#include "internal.h"

struct sigv4_key {
	const char *access_key, *secret, *region, *service;
};

/* The Authorization header value (without "Authorization: ") for a request.
 * canonical_uri and canonical_query are already in canonical form (URI-
 * encoded; query pairs sorted). names[i] (lowercase) and values[i] are the
 * signed headers, in any order. payload_hash is the hex SHA-256 of the body
 * (or "UNSIGNED-PAYLOAD"); amz_date is "YYYYMMDDTHHMMSSZ". NULL when out of
 * memory. */
char *sigv4_authorization(const struct sigv4_key *k, const char *method,
    const char *canonical_uri, const char *canonical_query,
    const char *const *names, const char *const *values, size_t n,
    const char *payload_hash, const char *amz_date);

/* Append s URI-encoded as SigV4 wants it: unreserved characters kept, '/'
 * kept when keep_slash, every other byte %XX in upper case. */
void sigv4_uri_encode(strbuf *sb, const char *s, int keep_slash);

/* hex of SHA-256(data) into out[65]. */
void sha256_hex(const void *data, size_t len, char out[65]);
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
