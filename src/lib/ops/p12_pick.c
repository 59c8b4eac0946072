/*
 * One identity out of a PKCS#12 file. A keychain export holds as many
 * identities (private key and certificate) as were selected, plus their
 * CAs; OpenSSL's PKCS12_parse() returns the first key only. productsign
 * picks by name (--sign "Developer ID Installer: ..."): so do we, by a
 * substring of the certificate's common name.
 *
 * PKCS#12 (RFC 7292): AuthenticatedSafe = SEQUENCE of ContentInfo, each
 * plain data or password-encrypted data holding SafeBags: keyBag,
 * pkcs8ShroudedKeyBag, certBag (x509Certificate), ... A key and its
 * certificate are paired here by the key itself (X509_check_private_key),
 * which works whether or not the writer set localKeyID.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "p12_pick.h"

#define MAX_KEYS 16

struct bags {
	STACK_OF(X509) *certs;
	EVP_PKEY *keys[MAX_KEYS];
	int nkeys;
};

static int take_bag(struct bags *b, PKCS12_SAFEBAG *bag, const char *pass)
{
	const PKCS8_PRIV_KEY_INFO *p8;
	PKCS8_PRIV_KEY_INFO *dec;
	EVP_PKEY *k = NULL;
	X509 *x;

	switch (PKCS12_SAFEBAG_get_nid(bag)) {
	case NID_keyBag:
		if ((p8 = PKCS12_SAFEBAG_get0_p8inf(bag)))
			k = EVP_PKCS82PKEY(p8);
		break;
	case NID_pkcs8ShroudedKeyBag:
		if (!(dec = PKCS12_decrypt_skey(bag, pass, -1)))
			return -1;
		k = EVP_PKCS82PKEY(dec);
		PKCS8_PRIV_KEY_INFO_free(dec);
		break;
	case NID_certBag:
		if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
			return 0;
		if (!(x = PKCS12_SAFEBAG_get1_cert(bag)))
			return -1;
		if (!sk_X509_push(b->certs, x)) {
			X509_free(x);
			return -1;
		}
		return 0;
	default:
		return 0; /* CRLs, secrets, nested safes: not ours */
	}
	if (!k || b->nkeys == MAX_KEYS) {
		EVP_PKEY_free(k);
		return -1;
	}
	b->keys[b->nkeys++] = k;
	return 0;
}

static int read_bags(PKCS12 *p12, const char *pass, struct bags *b)
{
	STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
	int rc = safes ? 0 : -1;

	for (int i = 0; !rc && i < sk_PKCS7_num(safes); i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
		int nid = OBJ_obj2nid(p7->type);
		if (nid == NID_pkcs7_data)
			bags = PKCS12_unpack_p7data(p7);
		else if (nid == NID_pkcs7_encrypted)
			bags = PKCS12_unpack_p7encdata(p7, pass, -1);
		else
			continue;
		if (!bags) {
			rc = -1;
			break;
		}
		for (int k = 0; !rc && k < sk_PKCS12_SAFEBAG_num(bags); k++)
			rc = take_bag(b, sk_PKCS12_SAFEBAG_value(bags, k), pass);
		sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return rc;
}

static void common_name(X509 *x, char *out, size_t size)
{
	out[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    out, (int)size) < 0)
		X509_NAME_oneline(X509_get_subject_name(x), out, (int)size);
}

/* "\"A\", \"B\"" of the identities' names, into buf. */
static void names(X509 *const *leaves, int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && len < size; i++) {
		char cn[256];
		common_name(leaves[i], cn, sizeof cn);
		int w = snprintf(buf + len, size - len, "%s\"%s\"", i ? ", " : "", cn);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

pkgflat_status p12_pick(PKCS12 *p12, const char *pass, const char *name,
    const char *file, EVP_PKEY **key, X509 **leaf, STACK_OF(X509) *chain,
    pkgflat_error *err)
{
	struct bags b = { .certs = sk_X509_new_null() };
	X509 *ids[MAX_KEYS];
	int keyof[MAX_KEYS], nids = 0, pick = -1;
	pkgflat_status rc = PKGFLAT_OK;
	char list[1024];

	*key = NULL;
	*leaf = NULL;
	if (!b.certs) {
		rc = fail_nomem(err);
		goto out;
	}
	/* Which passphrase opens it: the one given, else an empty one or
	 * none at all (two spellings writers disagree on). */
	const char *pw = pass ? pass : "";
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pw, -1)) {
		if (!pass && PKCS12_verify_mac(p12, NULL, 0))
			pw = NULL;
		else {
			ERR_clear_error();
			rc = pass ? fail(err, PKGFLAT_E_CRYPTO, file, NULL,
			    "cannot open: wrong passphrase") :
			    fail(err, PKGFLAT_E_USAGE, file, NULL, "needs a "
			    "passphrase: --pass env:VAR | file:PATH | fd:N");
			goto out;
		}
	}
	if (read_bags(p12, pw, &b)) {
		ERR_clear_error();
		rc = fail(err, PKGFLAT_E_CRYPTO, file, NULL,
		    "cannot parse the PKCS#12 file");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(b.certs) && nids < MAX_KEYS; i++)
		for (int k = 0; k < b.nkeys; k++)
			if (X509_check_private_key(sk_X509_value(b.certs, i),
			    b.keys[k]) == 1) {
				ids[nids] = sk_X509_value(b.certs, i);
				keyof[nids++] = k;
				break;
			}
	ERR_clear_error();
	if (!nids) {
		rc = fail(err, PKGFLAT_E_CRYPTO, file, NULL,
		    "holds no private key with its certificate");
		goto out;
	}
	if (!name) {
		if (nids > 1) {
			rc = fail(err, PKGFLAT_E_USAGE, file, NULL, "holds %d "
			    "identities: choose one by its name (sign --sign NAME; "
			    "convert, batch, flatten, build --identity NAME)", nids);
			goto out;
		}
		pick = 0;
	} else {
		X509 *hit[MAX_KEYS];
		int nhit = 0;
		for (int i = 0; i < nids; i++) {
			char cn[256];
			common_name(ids[i], cn, sizeof cn);
			if (strstr(cn, name)) {
				hit[nhit++] = ids[i];
				pick = i;
			}
		}
		if (nhit != 1) {
			names(nhit ? hit : ids, nhit ? nhit : nids, list, sizeof list);
			rc = nhit ? fail(err, PKGFLAT_E_USAGE, file, NULL,
			    "%d identities match '%s': %s", nhit, name, list) :
			    fail(err, PKGFLAT_E_USAGE, file, NULL,
			    "no identity matches '%s'; it holds %s", name, list);
			goto out;
		}
	}
	/* Every certificate but the identities' own is chain. */
	for (int i = 0; i < sk_X509_num(b.certs); i++) {
		X509 *x = sk_X509_value(b.certs, i);
		int is_id = 0;
		for (int k = 0; k < nids; k++)
			is_id |= x == ids[k];
		if (!is_id && (!X509_up_ref(x) || !sk_X509_push(chain, x))) {
			rc = fail_nomem(err);
			goto out;
		}
	}
	*leaf = ids[pick];
	*key = b.keys[keyof[pick]];
	if (!X509_up_ref(*leaf) || !EVP_PKEY_up_ref(*key)) {
		*leaf = NULL;
		*key = NULL;
		rc = fail_nomem(err);
	}
out:
	sk_X509_pop_free(b.certs, X509_free);
	for (int k = 0; k < b.nkeys; k++)
		EVP_PKEY_free(b.keys[k]);
	return rc;
}

int p12_is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}
