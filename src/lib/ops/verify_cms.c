/*
 * Accounting for every byte of a CMS signature blob (part of verify's
 * cms-signature check). OpenSSL's CMS_verify checks what the signature
 * covers (the signed attributes, or the checksum itself) but not the rest
 * of the SignedData: the certificate set, the digest algorithm set, the
 * versions, the signer's issuer and serial, the signature algorithm, the
 * unsigned attributes with the RFC 3161 token and its own certificates.
 * A flipped byte there left the signature "valid". This walk reads the
 * blob as BER (Apple's encoder writes indefinite lengths) with minimal
 * length octets, expects exactly the structure of RFC 5652 §5 and RFC
 * 3161 §2.4.2, and checks every field no signature covers:
 *
 *   ContentInfo { id-signedData, [0] SignedData {
 *     version (1, or 3 for a token), digestAlgorithms (exactly the
 *     signer's), encapContentInfo (id-data detached, or a TSTInfo),
 *     [0] certificates (each strict DER, and byte-identical to a KeyInfo
 *     certificate or signed by an issuer found here or in the trust
 *     store), no [1] crls, signerInfos { one SignerInfo {
 *       version, sid (byte-identical to the signer's certificate issuer and
 *       serial), digestAlgorithm, [0] signedAttrs (the signature covers
 *       them), signatureAlgorithm (RSA, with the same digest), signature,
 *       [1] unsignedAttrs (only one timeStampToken, itself walked the same
 *       way) } } } }
 *
 * Anything else in those places is refused: no check could cover it.
 */
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

#define MAX_NEST 48
#define MAX_KIDS 8
#define MAX_CERTS 32   /* in the CMS and its token together */

static const unsigned char OID_SIGNED_DATA[] = { 0x06, 0x09, 0x2a, 0x86, 0x48,
    0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const unsigned char OID_DATA[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
    0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char OID_TST_INFO[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48,
    0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04 };
static const unsigned char OID_TIMESTAMP[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48,
    0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e };

/* One BER element: tag octet, where its contents are, how long it all is. */
struct tlv {
	const unsigned char *p;  /* the tag octet */
	unsigned tag;
	int indef;               /* indefinite length: contents end at 00 00 */
	const unsigned char *c;  /* contents */
	size_t clen;             /* contents, without the end-of-contents */
	size_t total;            /* tag, length, contents (and 00 00) */
};

static int tlv_read(const unsigned char *p, size_t avail, struct tlv *t,
    int depth);

/* The children of t, at most max; -1 when they do not fill it exactly. */
static int kids(const struct tlv *t, struct tlv *out, int max, int depth)
{
	const unsigned char *p = t->c, *end = t->c + t->clen;
	int n = 0;

	if (!(t->tag & 0x20))
		return -1;
	while (p < end) {
		if (n == max || tlv_read(p, (size_t)(end - p), &out[n], depth + 1))
			return -1;
		p += out[n++].total;
	}
	return p == end ? n : -1;
}

/* 0 when p holds a well-formed element; lengths must be minimal. */
static int tlv_read(const unsigned char *p, size_t avail, struct tlv *t,
    int depth)
{
	size_t hl = 2, len = 0;

	if (depth > MAX_NEST || avail < 2 || (p[0] & 0x1f) == 0x1f || !p[0])
		return -1;
	t->p = p;
	t->tag = p[0];
	t->indef = p[1] == 0x80;
	if (t->indef) {
		struct tlv k;
		const unsigned char *q = p + 2, *end = p + avail;
		if (!(p[0] & 0x20))
			return -1;
		while (end - q >= 2 && (q[0] || q[1])) {
			if (tlv_read(q, (size_t)(end - q), &k, depth + 1))
				return -1;
			q += k.total;
		}
		if (end - q < 2)
			return -1;
		t->c = p + 2;
		t->clen = (size_t)(q - t->c);
		t->total = t->clen + 4;
		return 0;
	}
	if (p[1] < 0x80)
		len = p[1];
	else {
		size_t n = p[1] & 0x7f;
		if (n > 4 || avail < 2 + n || !p[2])
			return -1;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return -1;
		hl += n;
	}
	if (len > avail - hl)
		return -1;
	t->c = p + hl;
	t->clen = len;
	t->total = hl + len;
	if (t->tag & 0x20) { /* the children must fill it */
		struct tlv k;
		const unsigned char *q = t->c, *end = t->c + len;
		while (q < end) {
			if (tlv_read(q, (size_t)(end - q), &k, depth + 1))
				return -1;
			q += k.total;
		}
	}
	return 0;
}

static int is(const struct tlv *t, const unsigned char *der, size_t n)
{
	return !t->indef && t->total == n && !memcmp(t->p, der, n);
}

static int same(const struct tlv *a, const struct tlv *b)
{
	return !a->indef && !b->indef && a->total == b->total &&
	    !memcmp(a->p, b->p, a->total);
}

/* An AlgorithmIdentifier { OID, NULL or nothing } as a NID. */
static int alg_nid(const struct tlv *t)
{
	struct tlv k[3];
	int n = t->tag == 0x30 ? kids(t, k, 3, 0) : -1;
	ASN1_OBJECT *o = NULL;
	const unsigned char *p;
	int nid;

	if (n < 1 || n > 2 || k[0].tag != 0x06 || k[0].indef ||
	    (n == 2 && (k[1].tag != 0x05 || k[1].total != 2)))
		return NID_undef;
	p = k[0].p;
	o = d2i_ASN1_OBJECT(NULL, &p, (long)k[0].total);
	nid = o && p == k[0].p + k[0].total ? OBJ_obj2nid(o) : NID_undef;
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return nid;
}

/* The DER of a certificate's issuer and serial, as a sid holds them. */
static int sid_matches(const struct tlv *sid, X509 *x)
{
	struct tlv k[2];
	unsigned char *in = NULL, *sn = NULL;
	int il, sl, ok;

	if (sid->tag != 0x30 || kids(sid, k, 2, 0) != 2)
		return 0;
	il = i2d_X509_NAME(X509_get_issuer_name(x), &in);
	sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(x), &sn);
	ok = il > 0 && sl > 0 && !k[0].indef && !k[1].indef &&
	    k[0].total == (size_t)il && !memcmp(k[0].p, in, (size_t)il) &&
	    k[1].total == (size_t)sl && !memcmp(k[1].p, sn, (size_t)sl);
	OPENSSL_free(in);
	OPENSSL_free(sn);
	return ok;
}

struct audit {
	const struct vctx *v;
	X509 *certs[MAX_CERTS];  /* from the blob, in order */
	int ncerts;
	int tokens;
};

int verify_der_strict(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	X509 *y = d2i_X509(NULL, &p, (long)len);
	int rl, ok = 0;

	/* i2d_re_X509_tbs drops the cached encoding of the signed part, so
	 * what follows is OpenSSL's own DER of every field. */
	if (y && p == der + len && i2d_re_X509_tbs(y, NULL) > 0 &&
	    (rl = i2d_X509(y, &re)) > 0)
		ok = (size_t)rl == len && !memcmp(re, der, len);
	OPENSSL_free(re);
	X509_free(y);
	ERR_clear_error();
	return ok;
}

static const char *signed_data(struct audit *a, const struct tlv *ci,
    int token, char *why, size_t n);

/* [1] unsignedAttrs: one timestamp token, nothing else. */
static const char *unsigned_attrs(struct audit *a, const struct tlv *ua,
    char *why, size_t n)
{
	struct tlv at[MAX_KIDS], k[2], vals[2];
	int na = kids(ua, at, MAX_KIDS, 0);

	if (na < 1)
		return "its unsigned attributes do not parse";
	for (int i = 0; i < na; i++) {
		if (at[i].tag != 0x30 || kids(&at[i], k, 2, 0) != 2 ||
		    k[1].tag != 0x31)
			return "an unsigned attribute does not parse";
		if (!is(&k[0], OID_TIMESTAMP, sizeof OID_TIMESTAMP))
			return "an unsigned attribute other than a timestamp token (no "
			    "signature covers it)";
		if (a->tokens++ || kids(&k[1], vals, 2, 0) != 1)
			return "more than one timestamp token";
		const char *r = signed_data(a, &vals[0], 1, why, n);
		if (r)
			return r;
	}
	return NULL;
}

/* A ContentInfo holding SignedData: the CMS itself, or (token) an RFC
 * 3161 timestamp token inside it. */
static const char *signed_data(struct audit *a, const struct tlv *ci,
    int token, char *why, size_t n)
{
	struct tlv k[3], sd[MAX_KIDS], enc[3], si[2], f[MAX_KIDS], ex[2];
	const char *what = token ? "the timestamp token" : "the CMS";
	int nsd, i = 0, nf;

	snprintf(why, n, "%s is not SignedData of the expected structure", what);
	if (ci->tag != 0x30 || kids(ci, k, 3, 0) != 2 ||
	    !is(&k[0], OID_SIGNED_DATA, sizeof OID_SIGNED_DATA) ||
	    k[1].tag != 0xa0 || kids(&k[1], ex, 2, 0) != 1 || ex[0].tag != 0x30 ||
	    (nsd = kids(&ex[0], sd, MAX_KIDS, 0)) < 4 || nsd > 5)
		return why;
	const struct tlv *version = &sd[i++], *dalgs = &sd[i++],
	    *encap = &sd[i++], *certs = NULL;
	if (sd[i].tag == 0xa0)
		certs = &sd[i++];
	if (i != nsd - 1 || sd[i].tag != 0x31) {
		snprintf(why, n, "%s has %s", what, sd[i].tag == 0xa1 ?
		    "CRLs (no check covers them)" : "unexpected fields");
		return why;
	}
	const struct tlv *sis = &sd[i];
	/* encapContentInfo: id-data without content, or a TSTInfo. */
	int ne = encap->tag == 0x30 ? kids(encap, enc, 3, 0) : -1;
	if (token ? ne != 2 || !is(&enc[0], OID_TST_INFO, sizeof OID_TST_INFO) ||
	    enc[1].tag != 0xa0 : ne != 1 || !is(&enc[0], OID_DATA, sizeof OID_DATA)) {
		snprintf(why, n, "%s's encapsulated content is not %s", what, token ?
		    "a TSTInfo" : "detached id-data");
		return why;
	}
	/* Certificates: strict DER, kept for the issuer checks. */
	struct tlv c[MAX_CERTS];
	int nc = certs ? kids(certs, c, MAX_CERTS, 0) : 0;
	if (nc < 0 || a->ncerts + nc > MAX_CERTS) {
		snprintf(why, n, "%s's certificate set does not parse or holds more "
		    "than %d certificates", what, MAX_CERTS);
		return why;
	}
	int first = a->ncerts;
	for (int j = 0; j < nc; j++) {
		const unsigned char *p = c[j].p;
		X509 *x = c[j].tag == 0x30 && !c[j].indef ?
		    d2i_X509(NULL, &p, (long)c[j].total) : NULL;
		if (!x || p != c[j].p + c[j].total ||
		    !verify_der_strict(c[j].p, c[j].total)) {
			X509_free(x);
			ERR_clear_error();
			snprintf(why, n, "certificate %d of %s is not a certificate in "
			    "DER", j + 1, what);
			return why;
		}
		a->certs[a->ncerts++] = x;
	}
	/* One SignerInfo. */
	struct tlv one[2];
	if (kids(sis, one, 2, 0) != 1 || one[0].tag != 0x30 ||
	    (nf = kids(&one[0], f, MAX_KIDS, 0)) < 5 || nf > 7) {
		snprintf(why, n, "%s does not hold exactly one SignerInfo of the "
		    "expected structure", what);
		return why;
	}
	i = 0;
	const struct tlv *siv = &f[i++], *sid = &f[i++], *dalg = &f[i++];
	if (f[i].tag == 0xa0)
		i++; /* signedAttrs: the signature covers them */
	const struct tlv *salg = &f[i++], *sig = &f[i++];
	const struct tlv *ua = i < nf ? &f[i++] : NULL;
	if (i != nf || sig->tag != 0x04 || (ua && ua->tag != 0xa1)) {
		snprintf(why, n, "%s's SignerInfo has unexpected fields", what);
		return why;
	}
	/* Versions (RFC 5652 §5.1, §5.3). */
	static const unsigned char V1[] = { 0x02, 0x01, 0x01 },
	    V3[] = { 0x02, 0x01, 0x03 };
	int ski = sid->tag == 0x80;
	if (!is(siv, ski ? V3 : V1, 3) || !is(version, ski || token ? V3 : V1, 3)) {
		snprintf(why, n, "%s's SignedData or SignerInfo version is not the "
		    "one RFC 5652 requires for its contents", what);
		return why;
	}
	/* The digest algorithm set is exactly the signer's. */
	if (kids(dalgs, si, 2, 0) != 1 || dalgs->tag != 0x31 ||
	    !same(&si[0], dalg)) {
		snprintf(why, n, "%s's digest algorithm set is not the signer's digest "
		    "algorithm", what);
		return why;
	}
	int dnid = alg_nid(dalg), snid = alg_nid(salg), sd_nid = NID_undef,
	    pk_nid = NID_undef;
	if (snid != NID_rsaEncryption && (!OBJ_find_sigid_algs(snid, &sd_nid,
	    &pk_nid) || pk_nid != NID_rsaEncryption || sd_nid != dnid))
		dnid = NID_undef;
	if (dnid == NID_undef) {
		snprintf(why, n, "%s's digest or signature algorithm is not RSA with "
		    "one digest", what);
		return why;
	}
	/* The signer: the KeyInfo leaf, or a certificate of the token. */
	int found = 0;
	if (!token)
		found = !ski && verify_leaf(a->v) && sid_matches(sid, verify_leaf(a->v));
	for (int j = first; token && !ski && j < a->ncerts && !found; j++)
		found = sid_matches(sid, a->certs[j]);
	if (!found) {
		snprintf(why, n, "%s's signer identifier is not byte for byte the "
		    "issuer and serial number of its %s", what, token ?
		    "authority's certificate" : "KeyInfo leaf");
		return why;
	}
	if (ua) {
		if (token)
			return "the timestamp token has unsigned attributes (no "
			    "signature covers them)";
		return unsigned_attrs(a, ua, why, n);
	}
	return NULL;
}

int verify_in_stack(STACK_OF(X509) *s, X509 *x)
{
	for (int i = 0; i < sk_X509_num(s); i++)
		if (!X509_cmp(sk_X509_value(s, i), x))
			return 1;
	return 0;
}

/* Signed by one of these? */
static int issued_by_one(X509 *x, X509 *const *v, int n, STACK_OF(X509) *s)
{
	for (int i = 0; i < n + sk_X509_num(s); i++) {
		X509 *c = i < n ? v[i] : sk_X509_value(s, i - n);
		EVP_PKEY *k;
		if (X509_check_issued(c, x) == X509_V_OK &&
		    (k = X509_get0_pubkey(c)) && X509_verify(x, k) == 1)
			return 1;
	}
	ERR_clear_error();
	return 0;
}

const char *verify_cms_bytes(const struct vctx *v, const unsigned char *blob,
    size_t used, char *why, size_t n)
{
	struct audit a = { .v = v };
	struct tlv ci;
	const char *r;

	if (tlv_read(blob, used, &ci, 0) || ci.total != used) {
		snprintf(why, n, "the CMS is not one well-formed BER element of the "
		    "%zu bytes OpenSSL read", used);
		return why;
	}
	if ((r = signed_data(&a, &ci, 0, why, n)))
		goto out;
	/* X509_cmp compares the DER (SHA-1 of the encoding, then bytes). */
	for (int i = 0; i < a.ncerts && !r; i++) {
		X509 *x = a.certs[i];
		char name[256];
		if (verify_in_stack(v->rsa_certs, x) || verify_in_stack(v->cms_certs, x))
			continue;
		STACK_OF(X509) *more = sk_X509_new_null();
		for (int k = 0; more && k < sk_X509_num(v->rsa_certs); k++)
			sk_X509_push(more, sk_X509_value(v->rsa_certs, k));
		for (int k = 0; more && k < sk_X509_num(v->cms_certs); k++)
			sk_X509_push(more, sk_X509_value(v->cms_certs, k));
		for (int k = 0; more && k < sk_X509_num(v->trusted); k++)
			sk_X509_push(more, sk_X509_value(v->trusted, k));
		if (!more || !issued_by_one(x, a.certs, a.ncerts, more)) {
			if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
			    NID_commonName, name, sizeof name) < 0)
				X509_NAME_oneline(X509_get_subject_name(x), name,
				    sizeof name);
			snprintf(why, n, "certificate \"%s\" in the CMS is neither one of "
			    "the KeyInfo certificates nor signed by an issuer found in "
			    "the signature or the trust store", name);
			r = why;
		}
		sk_X509_free(more);
	}
out:
	for (int i = 0; i < a.ncerts; i++)
		X509_free(a.certs[i]);
	ERR_clear_error();
	return r;
}
