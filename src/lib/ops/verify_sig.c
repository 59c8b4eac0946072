/*
 * The signature checks of verify (flat-format.md §2, §4 and §7): the RSA
 * <signature> (PKCS#1 v1.5 over DigestInfo(sha1) || TOC checksum, or over
 * a hash of the checksum as productsign on macOS 11 wrote it), the CMS
 * <x-signature> (detached SignedData over the checksum bytes, BER or DER,
 * zero-padded, with or without signed attributes), the chain from the
 * KeyInfo leaf to a trusted root, the installer-certificate policy, and
 * certificate validity at the time of an RFC 3161 timestamp, or now.
 *
 * OpenSSL refuses certificates with critical extensions it does not know,
 * and Apple marks its own critical (1.2.840.113635.100.6.1.14 on every
 * Developer ID Installer leaf): verify_cb lets exactly those through.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "verify.h"

#define APPLE_OID "1.2.840.113635.100."
#define OID_DEVID_EKU "1.2.840.113635.100.4.13"
#define OID_DEVID_EXT "1.2.840.113635.100.6.1.14"
#define OID_DEVID_CA "1.2.840.113635.100.6.2.6"
#define OID_MAS_EKU "1.2.840.113635.100.4.9"
#define OID_MAS_EXT "1.2.840.113635.100.6.1.10"
#define MAX_SIG (1u << 20)

/* The first OpenSSL error as text, and clear the queue. */
static const char *ssl_reason(char *buf, size_t n)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e = ERR_peek_last_error_data(&data, &flags);

	buf[0] = '\0';
	if (e) {
		const char *r = ERR_reason_error_string(e);
		snprintf(buf, n, "%s%s%s", r ? r : "unknown error",
		    data && (flags & ERR_TXT_STRING) && *data ? ": " : "",
		    data && (flags & ERR_TXT_STRING) ? data : "");
	}
	ERR_clear_error();
	return buf[0] ? buf : "no reason given";
}

static const char *cn(X509 *x, char *buf, size_t n)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)n) < 0)
		X509_NAME_oneline(name, buf, (int)n);
	return buf;
}

static int str_ieq(const char *a, const char *b)
{
	return a && !strcasecmp(a, b);
}

static char *style_of(xmlNodePtr el)
{
	xmlChar *p = xmlGetProp(el, BAD_CAST "style");
	char *s = pf_strdup(p ? (const char *)p : "");

	xmlFree(p);
	return s;
}

/* The certificates of a signature's KeyInfo/X509Data, in order; *bad
 * counts those that do not decode as strict DER. Past KEYINFO_MAX_CERTS
 * certificates or KEYINFO_MAX_BYTES of base64 the rest is not decoded
 * and *too_many is set: a chain is three or four certificates, and a
 * TOC of 70 KB can otherwise hold 10,000 of them. */
static STACK_OF(X509) *keyinfo(xmlNodePtr sig, int *bad, int *too_many)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	xmlNodePtr ki = xar_child(sig, "KeyInfo");
	xmlNodePtr xd = ki ? xar_child(ki, "X509Data") : NULL;
	size_t count = 0, bytes = 0;

	for (xmlNodePtr c = xd ? xd->children : NULL; out && c; c = c->next) {
		if (!xar_is_elem(c, "X509Certificate"))
			continue;
		xmlChar *t = xmlNodeGetContent(c);
		bytes += t ? strlen((const char *)t) : 0;
		if (++count > KEYINFO_MAX_CERTS || bytes > KEYINFO_MAX_BYTES) {
			xmlFree(t);
			*too_many = 1;
			break;
		}
		int len = t ? (int)strlen((const char *)t) : 0, a = 0, b = 0;
		unsigned char *der = malloc((size_t)len + 3);
		EVP_ENCODE_CTX *e = EVP_ENCODE_CTX_new();
		X509 *x = NULL;
		if (der && e) {
			EVP_DecodeInit(e);
			if (EVP_DecodeUpdate(e, der, &a, t, len) >= 0 &&
			    EVP_DecodeFinal(e, der + a, &b) == 1) {
				const unsigned char *p = der;
				x = d2i_X509(NULL, &p, a + b);
				if (x && (p != der + a + b || !verify_der_strict(der,
				    (size_t)(a + b)))) {
					X509_free(x);
					x = NULL;
				}
			}
		}
		if (!x || !sk_X509_push(out, x)) {
			X509_free(x);
			(*bad)++;
		}
		EVP_ENCODE_CTX_free(e);
		free(der);
		xmlFree(t);
	}
	ERR_clear_error();
	return out;
}

/* ------------------------------------------------------------------ */
/* rsa-signature                                                      */

enum pkgflat_check_result check_rsa(struct vctx *v, strbuf *msg)
{
	enum pkgflat_check_result res = PKGFLAT_CHECK_FAIL;
	unsigned char *sig = NULL, rec[1024];
	size_t len = 0, rl = sizeof rec;
	char *style = NULL, name[256], why[256];
	EVP_PKEY_CTX *c = NULL;
	X509_SIG *di = NULL;
	int bad = 0, too_many = 0;

	if (!v->rsa_el) {
		sb_adds(msg, "the TOC has no <signature> (RSA)");
		return PKGFLAT_CHECK_NA;
	}
	style = style_of(v->rsa_el);
	v->rsa_certs = keyinfo(v->rsa_el, &bad, &too_many);
	X509 *leaf = sk_X509_num(v->rsa_certs) > 0 ? sk_X509_value(v->rsa_certs, 0) :
	    NULL;
	EVP_PKEY *pub = leaf ? X509_get0_pubkey(leaf) : NULL;
	if (!str_ieq(style, "RSA")) {
		sb_addf(msg, "<signature style=\"%s\">, not RSA", style);
		goto out;
	}
	if (too_many) {
		sb_addf(msg, "its KeyInfo holds more than %d certificates or %d bytes "
		    "of them", KEYINFO_MAX_CERTS, KEYINFO_MAX_BYTES);
		goto out;
	}
	if (bad || !leaf) {
		sb_addf(msg, "its KeyInfo holds %s", bad ? "a certificate that does "
		    "not decode as DER" : "no certificate");
		goto out;
	}
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		sb_addf(msg, "the leaf \"%s\" has no RSA key", cn(leaf, name,
		    sizeof name));
		goto out;
	}
	if (!(sig = verify_read_range(v, v->rsa_el, MAX_SIG, &len, msg)))
		goto out;
	if (len != (size_t)EVP_PKEY_get_size(pub)) {
		sb_addf(msg, "the signature is %zu bytes, the leaf's RSA modulus %d",
		    len, EVP_PKEY_get_size(pub));
		goto out;
	}
	if (!v->cksum_len) {
		sb_adds(msg, "the stored TOC checksum it signs cannot be read");
		goto out;
	}
	c = EVP_PKEY_CTX_new(pub, NULL);
	if (!c || EVP_PKEY_verify_recover_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_verify_recover(c, rec, &rl, sig, len) != 1) {
		sb_addf(msg, "does not verify with the key of \"%s\" (%s)",
		    cn(leaf, name, sizeof name), ssl_reason(why, sizeof why));
		goto out;
	}
	const unsigned char *p = rec;
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *dg = NULL;
	const ASN1_OBJECT *obj = NULL;
	if (!(di = d2i_X509_SIG(NULL, &p, (long)rl)) || p != rec + rl) {
		sb_adds(msg, "the signature does not hold a DigestInfo");
		goto out;
	}
	X509_SIG_get0(di, &alg, &dg);
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	const EVP_MD *md = EVP_get_digestbyobj(obj);
	const unsigned char *d = ASN1_STRING_get0_data(dg);
	size_t dl = (size_t)ASN1_STRING_length(dg);
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	int bits = EVP_PKEY_get_bits(pub);
	if (dl == v->cksum_len && !memcmp(d, v->cksum, dl)) {
		v->facts.rsa_form = "digestinfo";
		sb_addf(msg, "PKCS#1 v1.5 over DigestInfo(%s) || the TOC checksum, "
		    "%d-bit key of \"%s\"", md ? EVP_MD_get0_name(md) : "?", bits,
		    cn(leaf, name, sizeof name));
		res = PKGFLAT_CHECK_PASS;
	} else if (md && EVP_Digest(v->cksum, v->cksum_len, h, &hl, md, NULL) &&
	    hl == dl && !memcmp(d, h, dl)) {
		v->facts.rsa_form = "hash-of-hash";
		sb_addf(msg, "PKCS#1 v1.5 over DigestInfo(%s) of the TOC checksum "
		    "hashed once more (the hash-of-hash form productsign on macOS 11 "
		    "wrote), %d-bit key of \"%s\"", EVP_MD_get0_name(md), bits,
		    cn(leaf, name, sizeof name));
		res = PKGFLAT_CHECK_PASS;
	} else
		sb_adds(msg, "the signature is valid RSA but signs something other "
		    "than the TOC checksum");
out:
	EVP_PKEY_CTX_free(c);
	X509_SIG_free(di);
	free(sig);
	free(style);
	ERR_clear_error();
	return res;
}

/* ------------------------------------------------------------------ */
/* cms-signature                                                      */

static ASN1_OBJECT *oid(int nid)
{
	return OBJ_nid2obj(nid);
}

enum pkgflat_check_result check_cms(struct vctx *v, strbuf *msg)
{
	enum pkgflat_check_result res = PKGFLAT_CHECK_FAIL;
	unsigned char *blob = NULL;
	size_t len = 0;
	char *style = NULL, name[256], why[256];
	STACK_OF(X509) *signer = NULL;
	BIO *content = NULL;
	int bad = 0, too_many = 0;

	if (!v->cms_el) {
		sb_adds(msg, "the TOC has no <x-signature> (CMS)");
		return PKGFLAT_CHECK_NA;
	}
	style = style_of(v->cms_el);
	v->cms_certs = keyinfo(v->cms_el, &bad, &too_many);
	X509 *leaf = sk_X509_num(v->cms_certs) > 0 ? sk_X509_value(v->cms_certs, 0) :
	    NULL;
	if (!str_ieq(style, "CMS")) {
		sb_addf(msg, "<x-signature style=\"%s\">, not CMS", style);
		goto out;
	}
	if (too_many) {
		sb_addf(msg, "its KeyInfo holds more than %d certificates or %d bytes "
		    "of them", KEYINFO_MAX_CERTS, KEYINFO_MAX_BYTES);
		goto out;
	}
	if (bad || !leaf) {
		sb_addf(msg, "its KeyInfo holds %s", bad ? "a certificate that does "
		    "not decode as DER" : "no certificate");
		goto out;
	}
	if (!(blob = verify_read_range(v, v->cms_el, MAX_SIG, &len, msg)))
		goto out;
	const unsigned char *p = blob;
	if (!(v->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len))) {
		sb_addf(msg, "not a CMS ContentInfo in BER or DER (%s)",
		    ssl_reason(why, sizeof why));
		goto out;
	}
	size_t used = (size_t)(p - blob), pad = len - used;
	for (size_t i = used; i < len; i++)
		if (blob[i]) {
			sb_addf(msg, "the %zu bytes after the CMS are not zero padding "
			    "(byte %zu is 0x%02x)", pad, i - used, blob[i]);
			goto out;
		}
	const char *unaccounted = verify_cms_bytes(v, blob, used, why, sizeof why);
	if (unaccounted) {
		sb_adds(msg, unaccounted);
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(v->cms)) != NID_pkcs7_signed) {
		sb_adds(msg, "the CMS is not SignedData");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_eContentType(v->cms)) != NID_pkcs7_data ||
	    CMS_is_detached(v->cms) != 1) {
		sb_adds(msg, "the CMS is not detached id-data content");
		goto out;
	}
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(v->cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		sb_addf(msg, "%d signers, one expected", sk_CMS_SignerInfo_num(sis));
		goto out;
	}
	v->si = sk_CMS_SignerInfo_value(sis, 0);
	v->facts.has_timestamp = CMS_unsigned_get_attr_by_NID(v->si,
	    NID_id_smime_aa_timeStampToken, -1) >= 0;
	if (CMS_SignerInfo_cert_cmp(v->si, leaf)) {
		sb_addf(msg, "the signer is not the KeyInfo leaf \"%s\"",
		    cn(leaf, name, sizeof name));
		goto out;
	}
	if (!v->cksum_len) {
		sb_adds(msg, "the stored TOC checksum it signs cannot be read");
		goto out;
	}
	/* Only the KeyInfo leaf may be the signer (CMS_NOINTERN); the chain
	 * is the chain check's business. */
	if (!(signer = sk_X509_new_null()) || !sk_X509_push(signer, leaf) ||
	    !(content = BIO_new_mem_buf(v->cksum, (int)v->cksum_len))) {
		sb_adds(msg, "out of memory");
		goto out;
	}
	if (CMS_verify(v->cms, signer, NULL, content, NULL, CMS_BINARY |
	    CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		sb_addf(msg, "does not verify over the TOC checksum (%s)",
		    ssl_reason(why, sizeof why));
		goto out;
	}
	int nattr = CMS_signed_get_attr_count(v->si);
	if (nattr > 0) {
		ASN1_OBJECT *ct = CMS_signed_get0_data_by_OBJ(v->si,
		    oid(NID_pkcs9_contentType), -3, V_ASN1_OBJECT);
		if (!ct || OBJ_obj2nid(ct) != NID_pkcs7_data) {
			sb_adds(msg, "the signed contentType attribute is missing or not "
			    "id-data");
			goto out;
		}
		if (!CMS_signed_get0_data_by_OBJ(v->si, oid(NID_pkcs9_messageDigest),
		    -3, V_ASN1_OCTET_STRING)) {
			sb_adds(msg, "signed attributes without a messageDigest");
			goto out;
		}
	}
	X509_ALGOR *dig = NULL, *sigalg = NULL;
	CMS_SignerInfo_get0_algs(v->si, NULL, NULL, &dig, &sigalg);
	const ASN1_OBJECT *dobj = NULL, *sobj = NULL;
	X509_ALGOR_get0(&dobj, NULL, NULL, dig);
	X509_ALGOR_get0(&sobj, NULL, NULL, sigalg);
	sb_addf(msg, "%s, %zu bytes%s; %s with %s; %s; signer is the KeyInfo leaf "
	    "\"%s\"%s", len > 1 && blob[1] == 0x80 ? "BER (indefinite lengths)" :
	    "DER", used, pad ? " and zero padding" : "", OBJ_nid2sn(OBJ_obj2nid(dobj)),
	    OBJ_nid2sn(OBJ_obj2nid(sobj)), nattr > 0 ? "signed attributes "
	    "consistent (contentType, messageDigest)" : "no signed attributes "
	    "(signed over the checksum itself)", cn(leaf, name, sizeof name),
	    v->facts.has_timestamp ? "; carries a timestamp" : "");
	res = PKGFLAT_CHECK_PASS;
out:
	sk_X509_free(signer);
	BIO_free(content);
	free(blob);
	free(style);
	ERR_clear_error();
	return res;
}

/* ------------------------------------------------------------------ */
/* chain                                                              */

/* Accept a certificate whose only unknown critical extensions are
 * Apple's own. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);

	if (ok || X509_STORE_CTX_get_error(ctx) !=
	    X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION || !x)
		return ok;
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		char o[80];
		if (!X509_EXTENSION_get_critical(e) || X509_supported_extension(e))
			continue;
		OBJ_obj2txt(o, sizeof o, X509_EXTENSION_get_object(e), 1);
		if (strncmp(o, APPLE_OID, strlen(APPLE_OID)))
			return 0;
	}
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

static X509_STORE *make_store(const struct vctx *v)
{
	X509_STORE *s = X509_STORE_new();

	for (int i = 0; s && i < sk_X509_num(v->trusted); i++)
		X509_STORE_add_cert(s, sk_X509_value(v->trusted, i));
	if (s)
		X509_STORE_set_verify_cb(s, verify_cb);
	ERR_clear_error();
	return s;
}

enum pkgflat_check_result check_chain(struct vctx *v, strbuf *msg)
{
	enum pkgflat_check_result res = PKGFLAT_CHECK_FAIL;
	X509 *leaf = verify_leaf(v);
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	char name[256];

	if (sk_X509_num(v->rsa_certs) > 0 && sk_X509_num(v->cms_certs) > 0 &&
	    X509_cmp(sk_X509_value(v->rsa_certs, 0), sk_X509_value(v->cms_certs, 0))) {
		sb_adds(msg, "the RSA and CMS KeyInfo name different leaves");
		goto out;
	}
	for (int i = 1; untrusted && i < sk_X509_num(v->rsa_certs); i++)
		sk_X509_push(untrusted, sk_X509_value(v->rsa_certs, i));
	for (int i = 1; untrusted && i < sk_X509_num(v->cms_certs); i++)
		sk_X509_push(untrusted, sk_X509_value(v->cms_certs, i));
	if (!untrusted || !(store = make_store(v)) ||
	    !(ctx = X509_STORE_CTX_new()) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		sb_adds(msg, "out of memory");
		goto out;
	}
	/* Validity dates are the time check's business. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		X509 *at = X509_STORE_CTX_get_current_cert(ctx);
		sb_addf(msg, "\"%s\": %s", cn(at ? at : leaf, name, sizeof name),
		    X509_verify_cert_error_string(e));
		if (e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
		    e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
		    e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
			sb_adds(msg, " (no trusted root for it)");
		goto out;
	}
	v->chain = X509_STORE_CTX_get1_chain(ctx);
	X509 *root = sk_X509_value(v->chain, sk_X509_num(v->chain) - 1);
	v->facts.apple_root = verify_in_stack(v->apple, root);
	for (int i = 0; i < sk_X509_num(v->chain); i++)
		sb_addf(msg, "%s\"%s\"", i ? " <- " : "",
		    cn(sk_X509_value(v->chain, i), name, sizeof name));
	sb_adds(msg, v->facts.apple_root ? " (a bundled Apple root)" :
	    " (a root given to trust)");
	res = PKGFLAT_CHECK_PASS;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return res;
}

/* ------------------------------------------------------------------ */
/* policy                                                             */

static int has_ext(X509 *x, const char *oidtxt)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oidtxt, 1);
	int r = o && X509_get_ext_by_OBJ(x, o, -1) >= 0;

	ASN1_OBJECT_free(o);
	return r;
}

/* The leaf's EKUs as text; whether it has dev / mas. */
static void ekus(X509 *x, strbuf *text, int *dev, int *mas)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		char o[80];
		ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(obj);
		OBJ_obj2txt(o, sizeof o, obj, 1);
		*dev |= !strcmp(o, OID_DEVID_EKU);
		*mas |= !strcmp(o, OID_MAS_EKU);
		sb_addf(text, "%s%s%s%s%s", i ? ", " : "", nid != NID_undef ?
		    OBJ_nid2sn(nid) : "", nid != NID_undef ? " (" : "", o,
		    nid != NID_undef ? ")" : "");
	}
	if (!eku)
		sb_adds(text, "absent");
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
}

enum pkgflat_check_result check_policy(struct vctx *v, strbuf *msg)
{
	STACK_OF(X509) *c = v->chain ? v->chain : sk_X509_num(v->rsa_certs) > 0 ?
	    v->rsa_certs : v->cms_certs;
	X509 *leaf = sk_X509_value(c, 0), *ca = NULL;
	strbuf eku = { 0 };
	int dev = 0, mas = 0;
	char name[256];
	enum pkgflat_check_result res = PKGFLAT_CHECK_FAIL;

	ekus(leaf, &eku, &dev, &mas);
	for (int i = 1; i < sk_X509_num(c) && !ca; i++)
		if (has_ext(sk_X509_value(c, i), OID_DEVID_CA))
			ca = sk_X509_value(c, i);
	uint32_t ku = X509_get_key_usage(leaf);
	if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE)) {
		sb_adds(msg, "the leaf's key usage does not allow digital signatures");
	} else if (dev && has_ext(leaf, OID_DEVID_EXT) && ca) {
		v->facts.policy = PKGFLAT_POLICY_DEVELOPER_ID;
		sb_addf(msg, "Developer ID Installer: leaf EKU " OID_DEVID_EKU " and "
		    "extension " OID_DEVID_EXT ", intermediate \"%s\" with "
		    OID_DEVID_CA, cn(ca, name, sizeof name));
		res = PKGFLAT_CHECK_PASS;
	} else if (mas && has_ext(leaf, OID_MAS_EXT)) {
		v->facts.policy = PKGFLAT_POLICY_MAC_INSTALLER;
		sb_adds(msg, "Mac Installer Distribution: leaf EKU " OID_MAS_EKU
		    " and extension " OID_MAS_EXT);
		res = PKGFLAT_CHECK_PASS;
	} else if (dev) {
		sb_addf(msg, "Developer ID Installer EKU, but %s",
		    !has_ext(leaf, OID_DEVID_EXT) ? "the leaf lacks extension "
		    OID_DEVID_EXT : "no intermediate carries " OID_DEVID_CA);
	} else if (mas) {
		sb_adds(msg, "Mac Installer Distribution EKU, but the leaf lacks "
		    "extension " OID_MAS_EXT);
	} else
		sb_addf(msg, "neither Developer ID Installer (EKU " OID_DEVID_EKU
		    ", extension " OID_DEVID_EXT ") nor Mac Installer Distribution "
		    "(EKU " OID_MAS_EKU ", extension " OID_MAS_EXT "): the leaf's "
		    "extended key usage is %s", eku.buf ? eku.buf : "absent");
	sb_free(&eku);
	return res;
}

/* ------------------------------------------------------------------ */
/* time                                                               */

static int64_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

/* Verify the RFC 3161 token in the CMS: its imprint is over the
 * SignerInfo's signature value; its signature and the TSA's chain are
 * checked at the token's own time (TSA certificates live a few weeks). */
static const char *timestamp(struct vctx *v, int64_t *when, char *why,
    size_t n)
{
	ASN1_STRING *tok = CMS_unsigned_get0_data_by_OBJ(v->si,
	    oid(NID_id_smime_aa_timeStampToken), -3, V_ASN1_SEQUENCE);
	const unsigned char *p;
	PKCS7 *p7 = NULL;
	TS_TST_INFO *tst = NULL;
	TS_VERIFY_CTX *vc = NULL;
	X509_STORE *store = NULL;
	const char *res = NULL;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (!tok) {
		res = "the timestamp attribute does not hold one token";
		goto out;
	}
	p = ASN1_STRING_get0_data(tok);
	if (!(p7 = d2i_PKCS7(NULL, &p, ASN1_STRING_length(tok))) ||
	    !(tst = PKCS7_to_TS_TST_INFO(p7))) {
		res = "the timestamp token does not decode";
		goto out;
	}
	if ((*when = asn1_time(TS_TST_INFO_get_time(tst))) < 0) {
		res = "the timestamp has no valid time";
		goto out;
	}
	v->facts.timestamp = *when;
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(tst);
	const ASN1_OBJECT *obj = NULL;
	X509_ALGOR_get0(&obj, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
	const EVP_MD *md = EVP_get_digestbyobj(obj);
	ASN1_OCTET_STRING *sigv = CMS_SignerInfo_get0_signature(v->si);
	ASN1_OCTET_STRING *im = TS_MSG_IMPRINT_get_msg(mi);
	if (!md || !sigv || !EVP_Digest(ASN1_STRING_get0_data(sigv),
	    (size_t)ASN1_STRING_length(sigv), h, &hl, md, NULL) ||
	    (int)hl != ASN1_STRING_length(im) ||
	    memcmp(h, ASN1_STRING_get0_data(im), hl)) {
		res = "the timestamp's message imprint is not the hash of the CMS "
		    "signature value";
		goto out;
	}
	if (!(store = make_store(v)) || !(vc = TS_VERIFY_CTX_new())) {
		res = "out of memory";
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)*when);
	TS_VERIFY_CTX_set_flags(vc, TS_VFY_SIGNATURE | TS_VFY_VERSION);
	TS_VERIFY_CTX_set_store(vc, store); /* vc owns it now */
	store = NULL;
	if (TS_RESP_verify_token(vc, p7) != 1) {
		char reason[256];
		snprintf(why, n, "the timestamp's signature or its authority's chain "
		    "does not verify (%s)", ssl_reason(reason, sizeof reason));
		res = why;
	}
out:
	TS_VERIFY_CTX_free(vc);
	X509_STORE_free(store);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	ERR_clear_error();
	return res;
}

enum pkgflat_check_result check_time(struct vctx *v, strbuf *msg)
{
	STACK_OF(X509) *c = v->chain ? v->chain : sk_X509_num(v->rsa_certs) > 0 ?
	    v->rsa_certs : v->cms_certs;
	char when[32], t2[32], name[256], why[512];
	int64_t t;
	int bad = 0;

	if (v->facts.has_timestamp && v->si) {
		const char *err = timestamp(v, &t, why, sizeof why);
		if (err) {
			sb_addf(msg, "%s", err);
			return PKGFLAT_CHECK_FAIL;
		}
		v->facts.timestamp_trusted = 1;
		v->facts.judged_by = "timestamp";
	} else if (v->opt->at >= 0) {
		t = v->opt->at;
		v->facts.judged_by = "given time";
	} else {
		t = (int64_t)time(NULL);
		v->facts.judged_by = "now";
	}
	v->facts.judged_at = t;
	verify_time_text(t, when);
	for (int i = 0; i < sk_X509_num(c); i++) {
		X509 *x = sk_X509_value(c, i);
		time_t tt = (time_t)t;
		if (X509_cmp_time(X509_get0_notBefore(x), &tt) > 0) {
			verify_time_text(asn1_time(X509_get0_notBefore(x)), t2);
			verify_note(msg, &bad, "\"%s\" is not valid until %s",
			    cn(x, name, sizeof name), t2);
		} else if (X509_cmp_time(X509_get0_notAfter(x), &tt) < 0) {
			verify_time_text(asn1_time(X509_get0_notAfter(x)), t2);
			verify_note(msg, &bad, "\"%s\" expired on %s",
			    cn(x, name, sizeof name), t2);
		}
	}
	verify_note_end(msg, bad);
	sb_addf(msg, "%s%s at %s (%s)", bad ? "; judged" : "every certificate is "
	    "valid", bad ? "" : "", when, !strcmp(v->facts.judged_by, "timestamp") ?
	    "the trusted timestamp" : !strcmp(v->facts.judged_by, "now") ?
	    "now: no timestamp" : "the given time: no timestamp");
	ERR_clear_error();
	return bad ? PKGFLAT_CHECK_FAIL : PKGFLAT_CHECK_PASS;
}
