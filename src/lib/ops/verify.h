/*
 * What the verify checks share (verify.c runs them; verify_xar.c holds the
 * container checks, verify_sig.c the signature ones, verify_util.c the
 * helpers they all call).
 *
 * Checks run in the order of the table in verify.c. Each reads what the
 * ones before it left in the context (the TOC, the stored checksum, the
 * certificates, the chain) and adds what it learns; none depends on an
 * earlier one having passed, only on what it could read.
 */
#ifndef PKGFLAT_VERIFY_H
#define PKGFLAT_VERIFY_H

#include <libxml/tree.h>
#include <openssl/cms.h>
#include <openssl/x509.h>

#include "xar_read.h"

struct vctx {
	const char *path;
	int fd;
	const pkgflat_verify_options *opt;
	uint64_t file_size;

	/* xar-structure */
	unsigned int alg;        /* header checksum algorithm */
	uint64_t clen, ulen, heap;
	unsigned char *ctoc;     /* the compressed TOC as stored */
	xmlDocPtr doc;
	xmlNodePtr toc;          /* NULL when the TOC could not be read */
	int ranges_ok;           /* every range lies inside the heap */
	unsigned char cksum[64]; /* the stored TOC checksum, */
	size_t cksum_len;        /* 0 when it cannot be read */

	/* signatures */
	xmlNodePtr rsa_el, cms_el;
	STACK_OF(X509) *rsa_certs, *cms_certs; /* their KeyInfo, leaf first */
	CMS_ContentInfo *cms;    /* parsed, when the CMS check got that far */
	CMS_SignerInfo *si;

	/* trust */
	STACK_OF(X509) *trusted; /* roots: bundled Apple ones and ca_files */
	STACK_OF(X509) *apple;   /* the bundled Apple roots among them */
	STACK_OF(X509) *chain;   /* verified chain, leaf first, or NULL */

	pkgflat_verify_facts facts;
	const char *check;       /* the check running, for notes */
	ptrvec notes;            /* pkgflat_verify_note */
};

/* Apple Root CA - G2 and - G3 (PEM, apple_certs.c); Apple Root CA itself
 * is in apple_certs_pem (sign.h). */
extern const char apple_roots_pem[];

/* A check writes its finding to msg and returns its result. */
typedef enum pkgflat_check_result (*check_fn)(struct vctx *v, strbuf *msg);

enum pkgflat_check_result check_xar(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_toc_checksum(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_files(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_rsa(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_cms(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_chain(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_policy(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_time(struct vctx *v, strbuf *msg);
enum pkgflat_check_result check_structure(struct vctx *v, strbuf *msg);

/* Run xar-structure on the XAR open on fd: PKGFLAT_OK when it passes,
 * else PKGFLAT_E_FORMAT with its finding. What sign checks before it
 * writes anything. */
pkgflat_status verify_xar_structure(int fd, const char *path,
    pkgflat_error *err);

/* At most this many certificates, and bytes of base64 of them, in one
 * signature's KeyInfo (a chain is 3 or 4; bounds memory on hostile TOCs). */
#define KEYINFO_MAX_CERTS 16
#define KEYINFO_MAX_BYTES (256 * 1024)

/* NULL when every byte of the CMS blob's first `used` bytes is accounted
 * for (verify_cms.c), else why not (in why, or a static string). Needs
 * the KeyInfo certificates and the trust store in v. */
const char *verify_cms_bytes(const struct vctx *v, const unsigned char *blob,
    size_t used, char *why, size_t n);
/* Whether der is one X.509 certificate in DER exactly as OpenSSL would
 * encode it again. */
int verify_der_strict(const unsigned char *der, size_t len);

/* Whether s holds x (the same DER). */
int verify_in_stack(STACK_OF(X509) *s, X509 *x);

/* The leaf the signatures name: the RSA KeyInfo's, else the CMS one's. */
X509 *verify_leaf(const struct vctx *v);
/* The bytes of a <checksum>/<signature>/<x-signature> element's heap
 * range (offset, size), malloc'd; NULL with a reason in msg. */
unsigned char *verify_read_range(struct vctx *v, xmlNodePtr el, size_t max,
    size_t *len, strbuf *msg);
/* A style attribute ("sha1", "SHA1", "sha256", ...) as a digest. */
const EVP_MD *verify_md(const char *style);
/* Lowercase hex of n bytes into out (2n + 1). */
void verify_hex(const unsigned char *p, size_t n, char *out);
/* Add one problem to msg, "; " between them; past the fifth only count. */
void verify_note(strbuf *msg, int *n, const char *fmt, ...) PF_PRINTF(3, 4);
/* After the last verify_note(): " (and N more)" when some were counted. */
void verify_note_end(strbuf *msg, int n);
/* A tolerated difference (pkgflat_verify_note), never a failure. */
void verify_add_note(struct vctx *v, const char *fmt, ...) PF_PRINTF(2, 3);
/* "YYYY-MM-DD HH:MM:SS +0000" */
void verify_time_text(int64_t t, char out[32]);

#endif
