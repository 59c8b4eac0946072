/* ES256 JSON Web Tokens for the App Store Connect API (jwt.h). */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <string.h>

#include "json_read.h"
#include "jwt.h"

void base64url(strbuf *sb, const unsigned char *in, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		char o[4] = { a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63],
		    a[v & 63] };
		sb_add(sb, o, left > 2 ? 4 : left + 1);
	}
}

char *jwt_es256(EVP_PKEY *key, const char *kid, const char *iss, int64_t iat,
    int64_t exp, pkgflat_error *err)
{
	strbuf hdr = { 0 }, claims = { 0 }, tok = { 0 };
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[128], raw[64];
	size_t dlen = sizeof der;
	char *ret = NULL;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256) {
		fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "the API key is not an ECDSA P-256 key (App Store Connect "
		    "keys are)");
		return NULL;
	}
	sb_adds(&hdr, "{\"alg\":\"ES256\",\"kid\":");
	json_quote(&hdr, kid);
	sb_adds(&hdr, ",\"typ\":\"JWT\"}");
	sb_adds(&claims, "{\"iss\":");
	json_quote(&claims, iss);
	sb_addf(&claims, ",\"iat\":%lld,\"exp\":%lld,\"aud\":\"appstoreconnect-v1\"}",
	    (long long)iat, (long long)exp);
	if (hdr.oom || claims.oom)
		goto nomem;
	base64url(&tok, (const unsigned char *)hdr.buf, hdr.len);
	sb_add(&tok, ".", 1);
	base64url(&tok, (const unsigned char *)claims.buf, claims.len);
	if (tok.oom)
		goto nomem;
	const unsigned char *p = der;
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, der, &dlen, (const unsigned char *)tok.buf,
	    tok.len) != 1 ||
	    !(es = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32) {
		fail(err, PKGFLAT_E_CRYPTO, NULL, NULL,
		    "cannot sign the API token with the key");
		goto out;
	}
	sb_add(&tok, ".", 1);
	base64url(&tok, raw, 64);
	if (tok.oom)
		goto nomem;
	ret = sb_detach(&tok);
	goto out;
nomem:
	fail_nomem(err);
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	sb_free(&hdr);
	sb_free(&claims);
	sb_free(&tok);
	return ret;
}
