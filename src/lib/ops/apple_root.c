/*
 * Does a signing identity chain to Apple? productsign timestamps Developer
 * ID signatures by default; so does `pkgflat sign` when the identity's
 * chain ends at Apple Root CA (or its G2/G3 successors), and the question
 * is answered here: walk from the leaf up its chain by issuer, and look
 * whether the top is, or is issued by, one of the bundled roots.
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "apple_root.h"
#include "sign.h"
#include "verify.h"

static void load_pem(STACK_OF(X509) *into, const char *pem, const char *path)
{
	BIO *b = path ? BIO_new_file(path, "r") : BIO_new_mem_buf(pem, -1);
	X509 *x;

	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(into, x))
			X509_free(x);
	BIO_free(b);
	ERR_clear_error();
}

int sign_chain_apple_root(X509 *leaf, STACK_OF(X509) *chain)
{
	STACK_OF(X509) *roots = sk_X509_new_null();
	const char *test = getenv("PKGFLAT_TEST_APPLE_ROOT");
	X509 *top = leaf;
	int apple = 0;

	if (!roots || !leaf)
		goto out;
	load_pem(roots, apple_certs_pem, NULL);
	load_pem(roots, apple_roots_pem, NULL);
	if (test && *test)
		load_pem(roots, NULL, test);
	/* Up the chain as far as issuers go, at most its length. */
	for (int depth = 0; depth <= sk_X509_num(chain); depth++) {
		X509 *next = NULL;
		for (int i = 0; i < sk_X509_num(chain) && !next; i++) {
			X509 *c = sk_X509_value(chain, i);
			if (c != top && X509_check_issued(c, top) == X509_V_OK)
				next = c;
		}
		if (!next)
			break;
		top = next;
	}
	for (int i = 0; i < sk_X509_num(roots) && !apple; i++) {
		X509 *r = sk_X509_value(roots, i);
		apple = !X509_cmp(r, top) ||
		    (X509_check_issued(r, r) == X509_V_OK &&
		    X509_check_issued(r, top) == X509_V_OK);
	}
out:
	sk_X509_pop_free(roots, X509_free);
	return apple;
}
