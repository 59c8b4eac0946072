/* The notary client's pieces: SigV4 against AWS's published example, ES256
 * tokens verified with OpenSSL's verify path, base64url (RFC 4648 vectors),
 * and the JSON reader on good and malformed input. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include "json_read.h"
#include "jwt.h"
#include "sigv4.h"
#include "test.h"

/* AWS, "Signature Calculations for the Authorization Header", example GET
 * Object (us-east-1, examplebucket, Range bytes=0-9). */
TEST(sigv4_aws_get_object_example)
{
	struct sigv4_key k = { "AKIAIOSFODNN7EXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3" };
	const char *empty =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	/* Given in another order than the canonical one: sorted inside. */
	const char *names[] = { "x-amz-date", "range", "host",
	    "x-amz-content-sha256" };
	const char *values[] = { "20130524T000000Z", "bytes=0-9",
	    "examplebucket.s3.amazonaws.com", empty };
	char *a = sigv4_authorization(&k, "GET", "/test.txt", "", names, values,
	    4, empty, "20130524T000000Z");

	CHECK_EQ_STR(a, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
	    "20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date, Signature="
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	free(a);
}

TEST(sigv4_uri_encoding)
{
	strbuf sb = { 0 };

	sigv4_uri_encode(&sb, "prod/a b+c~d_e.f-g/\xc3\xa9=&", 1);
	CHECK_EQ_STR(sb.buf, "prod/a%20b%2Bc~d_e.f-g/%C3%A9%3D%26");
	sb.len = 0;
	sigv4_uri_encode(&sb, "a/b", 0);
	CHECK_EQ_STR(sb.buf, "a%2Fb");
	sb_free(&sb);
}

TEST(base64url_rfc4648)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
	    "Zm9vYmE", "Zm9vYmFy" };

	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		strbuf sb = { 0 };
		base64url(&sb, (const unsigned char *)in[i], strlen(in[i]));
		CHECK_EQ_STR(sb.buf ? sb.buf : "", out[i]);
		sb_free(&sb);
	}
	strbuf sb = { 0 };
	base64url(&sb, (const unsigned char *)"\xfb\xff", 2);
	CHECK_EQ_STR(sb.buf, "-_8");
	sb_free(&sb);
}

static unsigned char *b64url_decode(const char *s, size_t n, size_t *out)
{
	char *t = calloc(1, n + 4);
	unsigned char *b = malloc(n + 4);
	size_t k;

	for (k = 0; k < n; k++)
		t[k] = s[k] == '-' ? '+' : s[k] == '_' ? '/' : s[k];
	while (k % 4)
		t[k++] = '=';
	int l = EVP_DecodeBlock(b, (unsigned char *)t, (int)k);
	while (l > 0 && k && t[k - 1] == '=') {
		l--;
		k--;
	}
	free(t);
	*out = (size_t)l;
	return b;
}

TEST(jwt_es256_verifies)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK(key != NULL);
	char *tok = jwt_es256(key, "KEY\"ID", "issuer-1", 1700000000, 1700000600,
	    &err);
	CHECK(tok != NULL);
	if (!tok) {
		EVP_PKEY_free(key);
		return;
	}
	char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	CHECK(d1 && d2);
	size_t hl, cl, sl;
	unsigned char *h = b64url_decode(tok, (size_t)(d1 - tok), &hl);
	unsigned char *c = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &cl);
	unsigned char *s = b64url_decode(d2 + 1, strlen(d2 + 1), &sl);
	jv *hv = json_parse((char *)h, hl, "header", &err);
	jv *cv = json_parse((char *)c, cl, "claims", &err);
	CHECK_EQ_STR(jv_str(jv_get(hv, "alg")), "ES256");
	CHECK_EQ_STR(jv_str(jv_get(hv, "kid")), "KEY\"ID");
	CHECK_EQ_STR(jv_str(jv_get(hv, "typ")), "JWT");
	CHECK_EQ_STR(jv_str(jv_get(cv, "iss")), "issuer-1");
	CHECK_EQ_STR(jv_str(jv_get(cv, "aud")), "appstoreconnect-v1");
	CHECK(jv_get(cv, "iat") && jv_get(cv, "iat")->num == 1700000000);
	CHECK(jv_get(cv, "exp") && jv_get(cv, "exp")->num == 1700000600);
	/* r || s back to DER, checked by OpenSSL's verify. */
	CHECK_EQ_INT(sl, 64);
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(s, 32, NULL), BN_bin2bn(s + 32, 32, NULL));
	unsigned char *der = NULL;
	int dl = i2d_ECDSA_SIG(es, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestVerify(md, der, (size_t)dl, (unsigned char *)tok,
	    (size_t)(d2 - tok)) == 1);
	/* And not over anything else. */
	tok[1] ^= 1;
	CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
	CHECK(EVP_DigestVerify(md, der, (size_t)dl, (unsigned char *)tok,
	    (size_t)(d2 - tok)) != 1);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	jv_free(hv);
	jv_free(cv);
	free(h);
	free(c);
	free(s);
	free(tok);
	EVP_PKEY_free(key);
}

TEST(jwt_refuses_other_keys)
{
	EVP_PKEY *key = EVP_RSA_gen(1024);
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK(jwt_es256(key, "K", "I", 0, 1, &err) == NULL);
	CHECK(strstr(err.message, "not an ECDSA P-256 key") != NULL);
	EVP_PKEY_free(key);
}

TEST(json_reads_values)
{
	const char *t = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00"
	    "\\n\\\"\"], \"b\": {\"c\": \"d\"}, \"b\": {\"c\": \"last\"}, \"e\": {}} ";
	pkgflat_error err;
	jv *v = json_parse(t, strlen(t), "t", &err);

	CHECK(v != NULL);
	const jv *a = jv_get(v, "a");
	CHECK(a && a->type == JV_ARR && a->n == 6);
	if (a && a->n == 6) {
		CHECK(a->items[0]->num == 1);
		CHECK(a->items[1]->num == -2500);
		CHECK(a->items[2]->type == JV_BOOL && a->items[2]->boolean);
		CHECK(a->items[3]->type == JV_BOOL && !a->items[3]->boolean);
		CHECK(a->items[4]->type == JV_NULL);
		CHECK_EQ_STR(jv_str(a->items[5]), "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
	}
	/* The last member of a name wins, as most readers do. */
	CHECK_EQ_STR(jv_path_str(v, "b", "c", NULL), "last");
	CHECK(jv_path(v, "e", NULL) && jv_path(v, "e", NULL)->n == 0);
	CHECK(jv_path_str(v, "a", "x", NULL) == NULL);
	jv_free(v);
}

TEST(json_refuses_malformed)
{
	static const char *const bad[] = {
		"", " ", "{", "[", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]",
		"[1 2]", "{a:1}", "\"abc", "\"a\\x\"", "\"a\\u12\"", "\"\\ud800\"",
		"\"\\udc00x\"", "\"\\u0000\"", "\"a\tb\"", "01", "1.", "-", "1e",
		"+1", "tru", "nul", "[1]x", "{\"a\":1}}", "NaN", "\"\\", "[\"a\\",
	};
	pkgflat_error err;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		pkgflat_error_clear(&err);
		jv *v = json_parse(bad[i], strlen(bad[i]), "bad.json", &err);
		if (v)
			test_fail(__FILE__, __LINE__, "'%s' parsed", bad[i]);
		jv_free(v);
		CHECK(err.status == PKGFLAT_E_FORMAT);
		CHECK(!strcmp(err.file, "bad.json") && !strncmp(err.where,
		    "offset ", 7));
	}
}

TEST(json_depth_limit)
{
	char t[2 * (JSON_MAX_DEPTH + 2) + 1];
	pkgflat_error err;

	for (int depth = JSON_MAX_DEPTH + 1; depth <= JSON_MAX_DEPTH + 2; depth++) {
		size_t n = 0;
		for (int i = 0; i < depth; i++)
			t[n++] = '[';
		for (int i = 0; i < depth; i++)
			t[n++] = ']';
		pkgflat_error_clear(&err);
		jv *v = json_parse(t, n, "deep", &err);
		/* 65 arrays are depths 0 to 64: the limit; one more is not. */
		if (depth == JSON_MAX_DEPTH + 1)
			CHECK(v != NULL);
		else
			CHECK(v == NULL && strstr(err.message, "nested too deep"));
		jv_free(v);
	}
}
