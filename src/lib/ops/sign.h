/* productsign-style signatures for the XAR writer (see signer.c), made
 * with the identities of identity.c. */
#ifndef PKGFLAT_SIGN_H
#define PKGFLAT_SIGN_H

#include "internal.h"
#include "xar_write.h"

#include <openssl/x509.h>

struct sign_ctx;

/* A private key named by a pkcs11: URI (pkcs11.c); *engine is released
 * with pkcs11_release() after the key is freed. */
pkgflat_status pkcs11_load_key(const char *uri, const char *pin,
    EVP_PKEY **out, void **engine, pkgflat_error *err);
void pkcs11_release(void *engine);

/* Apple Root CA and the Developer ID Certification Authority (PEM). */
extern const char apple_certs_pem[];

/* Append to chain the Apple certificates it lacks between leaf and a root;
 * returns how many were added (identity.c). */
int sign_complete_chain(X509 *leaf, STACK_OF(X509) *chain);

/* productsign's CMS reservation. */
#define SIGN_CMS_RESERVE PKGFLAT_CMS_RESERVE
/* A DER DigestInfo around a SHA-1 hash: what a raw signer signs. */
#define SIGN_DI_LEN 35

/*
 * Who signs for an identity without a private key: given the DigestInfo
 * of the RSA signature (which RAW_RSA) or of the CMS signed attributes
 * (RAW_CMS), write the siglen-byte PKCS#1 v1.5 signature of it. The
 * signing command is one (signer.c); prepare and inject are others
 * (sign.c).
 */
enum raw_which { RAW_RSA = 0, RAW_CMS = 1 };
typedef pkgflat_status (*raw_sign_fn)(void *ctx, enum raw_which which,
    const unsigned char *di, size_t dilen, unsigned char *sig, size_t siglen,
    pkgflat_error *err);

/* 1 when sig is the PKCS#1 v1.5 signature of di by the leaf's key. */
int sign_check_raw(const pkgflat_identity *id, const unsigned char *di,
    size_t dilen, const unsigned char *sig, size_t siglen);

struct signer_params {
	const pkgflat_identity *id;
	int64_t signing_time;     /* goes into the CMS */
	const char *tsa_url;      /* RFC 3161 server, or NULL: none */
	int tsa_timeout;          /* seconds; 0: 30 */
	int room_for_timestamp;   /* reserve for one even without tsa_url */
	size_t cms_reserve;       /* 0: size it; else exactly this */
	raw_sign_fn raw;          /* NULL: the identity's key or command */
	void *raw_ctx;
};

/* The leaf and chain as PEM, leaf first (allocated; identity.c). */
char *sign_certs_pem(const pkgflat_identity *id);
/* A keyless identity from such PEM, taken as it is (no chain completion). */
pkgflat_status sign_identity_from_pem(const char *path,
    pkgflat_identity **out, pkgflat_error *err);

/* A signer for xar_options.signer. */
pkgflat_status signer_open(const struct signer_params *p,
    struct sign_ctx **out, const struct xar_signer **xs, pkgflat_error *err);
/* The same with only id, signing_time, tsa_url and tsa_timeout. */
pkgflat_status signer_new(const pkgflat_identity *id, int64_t signing_time,
    const char *tsa_url, int tsa_timeout, struct sign_ctx **out,
    const struct xar_signer **xs, pkgflat_error *err);
void signer_free(struct sign_ctx *c);
/* Bytes of the RSA signature, reserved for the CMS, and of the last CMS
 * made (0 before signing). */
void signer_sizes(const struct sign_ctx *c, size_t *rsa, size_t *cms_reserved,
    size_t *cms_used);
/* Reserve `pad` zero bytes more after the CMS than it needs (replacing
 * any padding set before): only to move what follows. */
void signer_pad_cms(struct sign_ctx *c, size_t pad);
/* When the CMS needed more than productsign's reservation: what to warn
 * (allocated), else NULL. */
char *signer_growth_note(const struct sign_ctx *c);

#endif
