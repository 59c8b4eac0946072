/*
 * AWS Signature Version 4 (sigv4.h):
 *   canonical request = method \n uri \n query \n headers \n signed \n hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n date \n scope \n SHA256(cr)
 *   signing key       = HMAC chain over date, region, service,
 *                       "aws4_request", starting from "AWS4" + secret
 * The secret and the derived keys are wiped after use.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

void sigv4_uri_encode(strbuf *sb, const char *s, int keep_slash)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
		    (keep_slash && *p == '/'))
			sb_add(sb, p, 1);
		else
			sb_addf(sb, "%%%02X", *p);
	}
}

static void hmac(const unsigned char *key, size_t klen, const char *msg,
    unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &n);
}

char *sigv4_authorization(const struct sigv4_key *k, const char *method,
    const char *canonical_uri, const char *canonical_query,
    const char *const *names, const char *const *values, size_t n,
    const char *payload_hash, const char *amz_date)
{
	strbuf cr = { 0 }, signed_names = { 0 }, sts = { 0 }, out = { 0 };
	size_t order[32];
	char date[9], crhash[65], sig[65];
	unsigned char kd[32], kr[32], ks[32], kk[32], s[32];

	if (n > sizeof order / sizeof *order || strlen(amz_date) < 8)
		return NULL;
	memcpy(date, amz_date, 8);
	date[8] = 0;
	/* Header names sorted (insertion sort: a handful of them). */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		while (j && strcmp(names[order[j - 1]], names[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	sb_addf(&cr, "%s\n%s\n%s\n", method, canonical_uri, canonical_query);
	for (size_t i = 0; i < n; i++) {
		sb_addf(&cr, "%s:%s\n", names[order[i]], values[order[i]]);
		sb_addf(&signed_names, "%s%s", i ? ";" : "", names[order[i]]);
	}
	sb_addf(&cr, "\n%s\n%s", signed_names.buf ? signed_names.buf : "",
	    payload_hash);
	if (cr.oom || signed_names.oom)
		goto out;
	sha256_hex(cr.buf, cr.len, crhash);
	sb_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    amz_date, date, k->region, k->service, crhash);
	if (sts.oom)
		goto out;
	char *first = pf_asprintf("AWS4%s", k->secret);
	if (!first)
		goto out;
	hmac((const unsigned char *)first, strlen(first), date, kd);
	OPENSSL_cleanse(first, strlen(first));
	free(first);
	hmac(kd, 32, k->region, kr);
	hmac(kr, 32, k->service, ks);
	hmac(ks, 32, "aws4_request", kk);
	hmac(kk, 32, sts.buf, s);
	hex_encode(s, 32, sig);
	sb_addf(&out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", k->access_key, date, k->region,
	    k->service, signed_names.buf, sig);
out:
	OPENSSL_cleanse(kd, sizeof kd);
	OPENSSL_cleanse(kr, sizeof kr);
	OPENSSL_cleanse(ks, sizeof ks);
	OPENSSL_cleanse(kk, sizeof kk);
	sb_free(&cr);
	sb_free(&signed_names);
	sb_free(&sts);
	if (out.oom) {
		sb_free(&out);
		return NULL;
	}
	return out.buf;
}
