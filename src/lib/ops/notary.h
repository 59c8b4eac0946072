/*
 * What the notary client's files share (notary.c: the session, its API key
 * and token, API requests; notary_s3.c: submit and upload; notary_ticket.c:
 * ticket lookup and staple).
 */
#ifndef PKGFLAT_NOTARY_H
#define PKGFLAT_NOTARY_H

#include <stdint.h>
#include <openssl/evp.h>

#include "json_read.h"
#include "net.h"

struct pkgflat_notary {
	pkgflat_notary_config cfg;
	char *api_url, *s3_url, *s3_region, *ticket_url;
	net_client *net;
	EVP_PKEY *key;
	char *key_id, *issuer;
	char *token;
	int64_t token_exp;
	int tokens;
};

void notary_emit(pkgflat_notary *n, enum pkgflat_notary_event e,
    const char *text);
/* Sleep ms, waking early when *stop becomes non-zero. */
void notary_sleep_ms(unsigned ms, volatile int *stop);
/* Wipe and free a string that held a secret. */
void notary_free_secret(char *s);
/* Milliseconds before attempt + 1 of a failed request. */
unsigned notary_retry_delay(const pkgflat_notary *n, int attempt);
/* A request to the API (path under api_url), retried on network errors
 * and 5xx, with a fresh token once after a 401; the answer's JSON in *out. */
pkgflat_status notary_api(pkgflat_notary *n, const char *method,
    const char *path, const char *body, jv **out, pkgflat_error *err);
/* Ids go into URL paths: letters, digits and dashes only. */
pkgflat_status notary_check_id(const char *id, pkgflat_error *err);
void notary_copy_str(char *dst, size_t size, const char *s);
/* Hex SHA-256 of len bytes of fd from off. */
pkgflat_status notary_hash_range(int fd, uint64_t off, uint64_t len,
    const char *path, char hex[65], pkgflat_error *err);

#endif
