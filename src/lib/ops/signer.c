/*
 * Signing flat packages as productsign does (flat-format.md §2):
 *
 *   heap offset 0           TOC checksum, SHA-1 of the compressed TOC (H)
 *   heap offset 20          <signature style="RSA">: PKCS#1 v1.5 over
 *                           DigestInfo(sha1) || H, H not hashed again
 *   heap offset 20 + RSA    <x-signature style="CMS">: detached SignedData
 *                           over the 20 bytes of H, SHA-1, signed attributes
 *                           contentType, signingTime, messageDigest, no
 *                           S/MIME capabilities, sha1WithRSAEncryption,
 *                           zero-padded to a fixed reservation (9216)
 *
 * Both signature elements carry KeyInfo/X509Data with the whole chain, leaf
 * first, base64 in 72-column lines.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"
#include "sign.h"

/* ------------------------------------------------------------------ */
/* The signer behind the XAR writer                                   */

struct signer {
	const pkgflat_identity *id;
	raw_sign_fn raw;          /* keyless identities: who signs */
	void *raw_ctx;
	size_t rsa_len, cms_len;
	size_t cms_base, cms_room; /* the CMS without a timestamp, and room kept
	                              for one (or for encoding slack) */
	size_t cms_used;          /* DER bytes of the last CMS made */
	size_t cms_pad;           /* of cms_len, zeros added only to place
	                             what follows (signer_pad_cms) */
	int64_t signing_time;
	const char *tsa_url;      /* RFC 3161 server, or NULL */
	int tsa_timeout;
	char **b64;   /* certificates, leaf first, 72-column base64 */
	int ncerts;
};

static char *cert_b64(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	strbuf sb = { 0 };

	if (n <= 0)
		return NULL;
	char *b = malloc((size_t)(4 * ((n + 2) / 3)) + 1);
	if (!b) {
		OPENSSL_free(der);
		return NULL;
	}
	int bl = EVP_EncodeBlock((unsigned char *)b, der, n);
	OPENSSL_free(der);
	for (int i = 0; i < bl; i += 72) {
		if (i)
			sb_add(&sb, "\n", 1);
		sb_add(&sb, b + i, (size_t)(bl - i < 72 ? bl - i : 72));
	}
	free(b);
	return sb_detach(&sb);
}

static void key_info(xmlTextWriterPtr w, const struct signer *s)
{
	xmlTextWriterStartElement(w, BAD_CAST "KeyInfo");
	xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns",
	    BAD_CAST "http://www.w3.org/2000/09/xmldsig#");
	xmlTextWriterStartElement(w, BAD_CAST "X509Data");
	for (int i = 0; i < s->ncerts; i++)
		xmlTextWriterWriteElement(w, BAD_CAST "X509Certificate",
		    BAD_CAST s->b64[i]);
	xmlTextWriterEndElement(w);
	xmlTextWriterEndElement(w);
}

static pkgflat_status signer_toc(void *ctx, xmlTextWriterPtr w,
    uint64_t offset, pkgflat_error *err)
{
	struct signer *s = ctx;
	(void)err;

	xmlTextWriterStartElement(w, BAD_CAST "signature");
	xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST "RSA");
	xmlTextWriterWriteFormatElement(w, BAD_CAST "offset", "%llu",
	    (unsigned long long)offset);
	xmlTextWriterWriteFormatElement(w, BAD_CAST "size", "%zu", s->rsa_len);
	key_info(w, s);
	xmlTextWriterEndElement(w);
	xmlTextWriterStartElement(w, BAD_CAST "x-signature");
	xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST "CMS");
	xmlTextWriterWriteFormatElement(w, BAD_CAST "offset", "%llu",
	    (unsigned long long)(offset + s->rsa_len));
	xmlTextWriterWriteFormatElement(w, BAD_CAST "size", "%zu", s->cms_len);
	key_info(w, s);
	return xmlTextWriterEndElement(w) < 0 ? fail(err, PKGFLAT_E_INTERNAL,
	    NULL, NULL, "cannot write the signature elements") : PKGFLAT_OK;
}

/*
 * A signer that exits without reading its input must not kill us with
 * SIGPIPE: block it for this thread while writing, and take back a
 * SIGPIPE the write raised so it is not delivered later.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t n)
{
	sigset_t pipe_set, old;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	w = write(fd, buf, n);
	if (w < 0 && errno == EPIPE) {
		sigset_t pending;
		const struct timespec zero = { 0, 0 };
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE) && !sigismember(&old, SIGPIPE))
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return w;
}

/* Run the external signer command on a DigestInfo (a raw_sign_fn). */
static pkgflat_status run_command(void *ctx, enum raw_which which,
    const unsigned char *di, size_t dilen, unsigned char *out, size_t siglen,
    pkgflat_error *err)
{
	const char *command = ctx;
	int in[2], outp[2];
	pid_t pid;
	size_t got = 0;
	int status;

	(void)which;
	if (pipe(in) || pipe(outp))
		return fail_errno(err, command, "cannot start the signer");
	if ((pid = fork()) < 0)
		return fail_errno(err, command, "cannot start the signer");
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* 35 bytes fit any pipe buffer: write, then read. */
	ssize_t w = write_nosigpipe(in[1], di, dilen);
	close(in[1]);
	for (;;) {
		unsigned char buf[4096];
		ssize_t r = read(outp[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (got + (size_t)r <= siglen)
			memcpy(out + got, buf, (size_t)r);
		got += (size_t)r;
	}
	close(outp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (w != (ssize_t)dilen || !WIFEXITED(status) || WEXITSTATUS(status))
		return fail(err, PKGFLAT_E_CRYPTO, command, NULL,
		    "the signing command failed (exit status %d)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (got != siglen)
		return fail(err, PKGFLAT_E_CRYPTO, command, NULL,
		    "the signing command wrote %zu bytes, not a %zu-byte signature",
		    got, siglen);
	return PKGFLAT_OK;
}

int sign_check_raw(const pkgflat_identity *id, const unsigned char *di,
    size_t dilen, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(X509_get0_pubkey(id->leaf), NULL);
	unsigned char rec[512];
	size_t rl = sizeof rec;
	int ok = c && EVP_PKEY_verify_recover_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(c, rec, &rl, sig, siglen) == 1 &&
	    rl == dilen && !memcmp(rec, di, dilen);

	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok;
}

/* A keyless identity's signature over a DigestInfo, from whoever signs for
 * it; a command's is checked against the certificate here (the others
 * check their own, with better words). */
static pkgflat_status ext_sign(const struct signer *s, enum raw_which which,
    const unsigned char *di, size_t dilen, unsigned char *out,
    pkgflat_error *err)
{
	pkgflat_status rc;

	if (!s->raw)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "the identity has no key and no signing command");
	if ((rc = s->raw(s->raw_ctx, which, di, dilen, out, s->rsa_len, err)))
		return rc;
	if (s->raw == run_command && !sign_check_raw(s->id, di, dilen, out,
	    s->rsa_len))
		return fail(err, PKGFLAT_E_CRYPTO, s->id->command, NULL,
		    "the signing command's signature does not verify with the "
		    "certificate's key (wrong key, or not PKCS#1 v1.5 over its input)");
	return PKGFLAT_OK;
}

static const unsigned char sha1_prefix[15] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
	0x00, 0x04, 0x14
};

/* RSA: PKCS#1 v1.5 with the SHA-1 DigestInfo around H itself. */
static pkgflat_status rsa_sign(const struct signer *s, const unsigned char *h,
    size_t hlen, unsigned char *out, pkgflat_error *err)
{
	if (!s->id->key) {
		unsigned char di[SIGN_DI_LEN];
		if (hlen != 20)
			return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
			    "external signing needs a SHA-1 checksum");
		memcpy(di, sha1_prefix, sizeof sha1_prefix);
		memcpy(di + sizeof sha1_prefix, h, 20);
		return ext_sign(s, RAW_RSA, di, sizeof di, out, err);
	}
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->id->key, NULL);
	size_t len = s->rsa_len;
	int ok = c && EVP_PKEY_sign_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha1()) == 1 &&
	    EVP_PKEY_sign(c, out, &len, h, hlen) == 1 && len == s->rsa_len;

	EVP_PKEY_CTX_free(c);
	return ok ? PKGFLAT_OK : sign_ssl_fail(err, NULL, "RSA signing failed");
}

/*
 * OpenSSL's HTTP client retries a refused connection until its timeout
 * (30 s by default). When the server is reached directly (no proxy from
 * the environment), try one connection first so that "nobody listening"
 * or an unknown host is said at once; on success the real request follows.
 */
static pkgflat_status tsa_reachable(const struct signer *s, const char *host,
    const char *port, int ssl, pkgflat_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int last = 0, ok = 0, gai;

	if (OSSL_HTTP_adapt_proxy(NULL, NULL, host, ssl) != NULL)
		return PKGFLAT_OK;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return fail(err, PKGFLAT_E_IO, s->tsa_url, NULL,
		    "cannot reach the timestamp server: host %s: %s", host,
		    gai_strerror(gai));
	for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			ok = 1;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int r, e = 0;
			socklen_t el = sizeof e;
			while ((r = poll(&p, 1, s->tsa_timeout * 1000)) < 0 &&
			    errno == EINTR)
				;
			if (r == 0)
				last = ETIMEDOUT;
			else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
			    &el) == 0)
				ok = e == 0, last = e;
			else
				last = errno;
		} else {
			last = errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (ok)
		return PKGFLAT_OK;
	return fail(err, PKGFLAT_E_IO, s->tsa_url, NULL,
	    "cannot reach the timestamp server at %s port %s: %s", host, port,
	    strerror(last ? last : ECONNREFUSED));
}

/*
 * RFC 3161: ask the TSA for a token over SHA-1 of the SignerInfo's
 * signature value, as productsign does, and add it as the unsigned
 * attribute id-smime-aa-timeStampToken. OpenSSL's HTTP client honours
 * http_proxy/no_proxy and the timeout.
 */
static pkgflat_status timestamp(const struct signer *s, CMS_SignerInfo *si,
    pkgflat_error *err)
{
	ASN1_OCTET_STRING *sigv = CMS_SignerInfo_get0_signature(si);
	unsigned char md[20], *reqder = NULL, nonce[8];
	unsigned int mdlen = 0;
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imp = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *n = NULL;
	BIO *reqbio = NULL, *resp = NULL;
	TS_RESP *tr = NULL;
	char *host = NULL, *port = NULL, *path = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	int ssl = 0;

	if (!req || !imp || !alg || !sigv ||
	    !EVP_Digest(ASN1_STRING_get0_data(sigv), (size_t)ASN1_STRING_length(sigv),
	    md, &mdlen, EVP_sha1(), NULL) ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha1), V_ASN1_NULL, NULL) ||
	    !TS_MSG_IMPRINT_set_algo(imp, alg) ||
	    !TS_MSG_IMPRINT_set_msg(imp, md, (int)mdlen) ||
	    !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, imp) ||
	    !TS_REQ_set_cert_req(req, 1) || RAND_bytes(nonce, sizeof nonce) != 1 ||
	    !(n = ASN1_INTEGER_new()) ||
	    !ASN1_INTEGER_set_uint64(n, ((uint64_t)nonce[0] << 48 |
	    (uint64_t)nonce[1] << 40 | (uint64_t)nonce[2] << 32 |
	    (uint64_t)nonce[3] << 24 | (uint64_t)nonce[4] << 16 |
	    (uint64_t)nonce[5] << 8 | nonce[6])) || !TS_REQ_set_nonce(req, n)) {
		rc = sign_ssl_fail(err, s->tsa_url, "cannot build the timestamp request");
		goto out;
	}
	int len = i2d_TS_REQ(req, &reqder);
	if (len <= 0 || !(reqbio = BIO_new_mem_buf(reqder, len))) {
		rc = sign_ssl_fail(err, s->tsa_url, "cannot encode the timestamp request");
		goto out;
	}
	if (!OSSL_HTTP_parse_url(s->tsa_url, &ssl, NULL, &host, &port, NULL, &path,
	    NULL, NULL)) {
		ERR_clear_error();
		rc = fail(err, PKGFLAT_E_USAGE, s->tsa_url, NULL,
		    "not an http:// or https:// URL");
		goto out;
	}
	if ((rc = tsa_reachable(s, host, port, ssl, err)))
		goto out;
	resp = OSSL_HTTP_transfer(NULL, host, port, path, ssl, NULL, NULL, NULL,
	    NULL, NULL, NULL, 0, NULL, "application/timestamp-query", reqbio,
	    "application/timestamp-reply", 1, 1 << 20, s->tsa_timeout, 0);
	if (!resp) {
		rc = sign_ssl_fail(err, s->tsa_url, "the timestamp server did not answer "
		    "with a timestamp");
		goto out;
	}
	if (!(tr = d2i_TS_RESP_bio(resp, NULL))) {
		rc = sign_ssl_fail(err, s->tsa_url, "the timestamp server's answer is not "
		    "an RFC 3161 response");
		goto out;
	}
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
	    TS_RESP_get_status_info(tr)));
	if (status != 0 && status != 1) {
		rc = fail(err, PKGFLAT_E_CRYPTO, s->tsa_url, NULL,
		    "the timestamp server refused (status %ld)", status);
		goto out;
	}
	/* The token must be for what was asked. */
	TS_TST_INFO *ti = TS_RESP_get_tst_info(tr);
	TS_MSG_IMPRINT *got = ti ? TS_TST_INFO_get_msg_imprint(ti) : NULL;
	ASN1_OCTET_STRING *gm = got ? TS_MSG_IMPRINT_get_msg(got) : NULL;
	const ASN1_INTEGER *gn = ti ? TS_TST_INFO_get_nonce(ti) : NULL;
	if (!gm || ASN1_STRING_length(gm) != (int)mdlen ||
	    memcmp(ASN1_STRING_get0_data(gm), md, mdlen) ||
	    !gn || ASN1_INTEGER_cmp(gn, n)) {
		rc = fail(err, PKGFLAT_E_CRYPTO, s->tsa_url, NULL,
		    "the timestamp does not cover this signature (imprint or nonce "
		    "differ)");
		goto out;
	}
	unsigned char *tok = NULL;
	int toklen = i2d_PKCS7(TS_RESP_get_token(tr), &tok);
	if (toklen <= 0 || !CMS_unsigned_add1_attr_by_NID(si,
	    NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, tok, toklen))
		rc = sign_ssl_fail(err, s->tsa_url, "cannot add the timestamp");
	OPENSSL_free(tok);
out:
	TS_RESP_free(tr);
	BIO_free(resp);
	BIO_free(reqbio);
	OPENSSL_free(reqder);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imp);
	TS_REQ_free(req);
	return rc;
}

/* Replace the stand-in's CMS signature by the external signer's: the
 * stand-in's signature recovers to the DigestInfo that was signed. */
static pkgflat_status cms_resign(const struct signer *s, CMS_SignerInfo *si,
    pkgflat_error *err)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->id->stand_in, NULL);
	unsigned char di[512], real[1024];
	size_t dl = sizeof di;
	int ok = sig && c && EVP_PKEY_verify_recover_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(c, di, &dl, ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig)) == 1;
	pkgflat_status rc;

	EVP_PKEY_CTX_free(c);
	if (!ok || s->rsa_len > sizeof real)
		return sign_ssl_fail(err, NULL, "cannot lay out the CMS signature");
	if ((rc = ext_sign(s, RAW_CMS, di, dl, real, err)))
		return rc;
	if (!ASN1_STRING_set(sig, real, (int)s->rsa_len))
		return fail_nomem(err);
	return PKGFLAT_OK;
}

/* CMS: detached SignedData over H. Returns the DER in *der. */
static pkgflat_status cms_sign(const struct signer *s, const unsigned char *h,
    size_t hlen, int with_ts, unsigned char **der, int *derlen,
    pkgflat_error *err)
{
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL |
	    CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	BIO *data = BIO_new_mem_buf(h, (int)hlen);
	pkgflat_status rc = PKGFLAT_OK;
	CMS_SignerInfo *si;
	ASN1_TIME *at = NULL;
	X509 *stand_cert = NULL;

	*der = NULL;
	/* With an external signer, OpenSSL signs with a stand-in key under a
	 * copy of the leaf carrying the stand-in's public key; the SignerInfo
	 * names the leaf by issuer and serial only, so swapping in the real
	 * signature afterwards leaves a CMS made with the real leaf. */
	if (!s->id->key) {
		if (!(stand_cert = X509_dup(s->id->leaf)) ||
		    !X509_set_pubkey(stand_cert, s->id->stand_in)) {
			rc = sign_ssl_fail(err, NULL, "cannot set up the CMS signature");
			goto out;
		}
	}
	if (!cms || !data || !(si = CMS_add1_signer(cms, s->id->key ?
	    s->id->leaf : stand_cert, s->id->key ? s->id->key :
	    s->id->stand_in, EVP_sha1(), flags | (s->id->key ? 0 : CMS_NOCERTS)))) {
		rc = sign_ssl_fail(err, NULL, "cannot set up the CMS signature");
		goto out;
	}
	if (!s->id->key && !CMS_add1_cert(cms, s->id->leaf)) {
		rc = sign_ssl_fail(err, NULL, "cannot add the leaf to the CMS");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(s->id->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(s->id->chain, i))) {
			rc = sign_ssl_fail(err, NULL, "cannot add the chain to the CMS");
			goto out;
		}
	/* A fixed signingTime (SOURCE_DATE_EPOCH) keeps output reproducible;
	 * OpenSSL adds the current time only when none is there. */
	if (!(at = ASN1_TIME_set(NULL, (time_t)s->signing_time)) ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    at->type, at, -1)) {
		rc = sign_ssl_fail(err, NULL, "cannot set the signing time");
		goto out;
	}
	/* Apple writes sha1WithRSAEncryption, OpenSSL rsaEncryption. */
	X509_ALGOR *sigalg = NULL;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
	if (sigalg)
		X509_ALGOR_set0(sigalg, OBJ_nid2obj(NID_sha1WithRSAEncryption),
		    V_ASN1_NULL, NULL);
	if (!CMS_final(cms, data, NULL, flags)) {
		rc = sign_ssl_fail(err, NULL, "CMS signing failed");
		goto out;
	}
	/* Sizing (with_ts 0) keeps the stand-in's signature: same length. */
	if (!s->id->key && with_ts && (rc = cms_resign(s, si, err)))
		goto out;
	if (with_ts && s->tsa_url && (rc = timestamp(s, si, err)))
		goto out;
	if ((*derlen = i2d_CMS_ContentInfo(cms, der)) <= 0) {
		rc = sign_ssl_fail(err, NULL, "cannot encode the CMS signature");
		goto out;
	}
out:
	X509_free(stand_cert);
	ASN1_TIME_free(at);
	BIO_free(data);
	CMS_ContentInfo_free(cms);
	return rc;
}

static pkgflat_status signer_sign(void *ctx, const unsigned char *h,
    size_t hlen, unsigned char *out, pkgflat_error *err)
{
	struct signer *s = ctx;
	unsigned char *der = NULL;
	int derlen = 0;
	pkgflat_status rc;

	memset(out, 0, s->rsa_len + s->cms_len);
	if ((rc = rsa_sign(s, h, hlen, out, err)) ||
	    (rc = cms_sign(s, h, hlen, 1, &der, &derlen, err)))
		return rc;
	s->cms_used = (size_t)derlen;
	if ((size_t)derlen > s->cms_len)
		rc = fail(err, PKGFLAT_E_CRYPTO, s->tsa_url, NULL,
		    "the CMS signature with its timestamp (%d bytes) does not fit "
		    "the %zu bytes reserved for it; the timestamp token is unusually "
		    "large", derlen, s->cms_len);
	else
		memcpy(out + s->rsa_len, der, (size_t)derlen);
	OPENSSL_free(der);
	return rc;
}

struct sign_ctx {
	struct xar_signer xs;
	struct signer s;
};

pkgflat_status signer_open(const struct signer_params *p,
    struct sign_ctx **out, const struct xar_signer **xs, pkgflat_error *err)
{
	const pkgflat_identity *id = p->id;
	struct sign_ctx *c = pf_calloc(1, sizeof *c);
	pkgflat_status rc;

	if (p->raw && id->key) {
		free(c);
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "signatures made "
		    "elsewhere need an identity without a key");
	}
	if (!c)
		return fail_nomem(err);
	c->s.id = id;
	c->s.raw = p->raw ? p->raw : id->command ? run_command : NULL;
	c->s.raw_ctx = p->raw ? p->raw_ctx : id->command;
	c->s.signing_time = p->signing_time;
	c->s.tsa_url = p->tsa_url;
	c->s.tsa_timeout = p->tsa_timeout > 0 ? p->tsa_timeout : 30;
	c->s.rsa_len = (size_t)EVP_PKEY_get_size(id->key ? id->key :
	    X509_get0_pubkey(id->leaf));
	c->s.ncerts = 1 + sk_X509_num(id->chain);
	if (!(c->s.b64 = pf_calloc((size_t)c->s.ncerts, sizeof *c->s.b64)))
		goto nomem;
	for (int i = 0; i < c->s.ncerts; i++)
		if (!(c->s.b64[i] = cert_b64(i ? sk_X509_value(id->chain, i - 1) :
		    id->leaf)))
			goto nomem;
	/* Size the CMS once with a dummy checksum: its length does not depend
	 * on the bytes signed. Reserve like productsign, more if needed. */
	unsigned char zero[64] = { 0 }, *der = NULL;
	int derlen = 0;
	c->s.cms_len = SIGN_CMS_RESERVE;
	if ((rc = cms_sign(&c->s, zero, 20, 0, &der, &derlen, err))) {
		signer_free(c);
		return rc;
	}
	OPENSSL_free(der);
	/* A timestamp token brings its own chain: Apple's is 4284 bytes. */
	c->s.cms_base = (size_t)derlen;
	c->s.cms_room = p->tsa_url || p->room_for_timestamp ? 5120 : 512;
	size_t need = c->s.cms_base + c->s.cms_room;
	if (need > c->s.cms_len)
		c->s.cms_len = (need + 1023) / 1024 * 1024;
	if (p->cms_reserve) {
		/* As prepared: what it holds beyond this sizing is padding. */
		c->s.cms_pad = p->cms_reserve > c->s.cms_len ?
		    p->cms_reserve - c->s.cms_len : 0;
		c->s.cms_len = p->cms_reserve;
	}
	c->xs.reserve = c->s.rsa_len + c->s.cms_len;
	c->xs.write_toc = signer_toc;
	c->xs.sign = signer_sign;
	c->xs.ctx = &c->s;
	*out = c;
	*xs = &c->xs;
	return PKGFLAT_OK;
nomem:
	signer_free(c);
	return fail_nomem(err);
}

pkgflat_status signer_new(const pkgflat_identity *id, int64_t signing_time,
    const char *tsa_url, int tsa_timeout, struct sign_ctx **out,
    const struct xar_signer **xs, pkgflat_error *err)
{
	struct signer_params p = { .id = id, .signing_time = signing_time,
	    .tsa_url = tsa_url, .tsa_timeout = tsa_timeout };

	return signer_open(&p, out, xs, err);
}

void signer_sizes(const struct sign_ctx *c, size_t *rsa, size_t *cms_reserved,
    size_t *cms_used)
{
	*rsa = c->s.rsa_len;
	*cms_reserved = c->s.cms_len;
	*cms_used = c->s.cms_used;
}

void signer_pad_cms(struct sign_ctx *c, size_t pad)
{
	c->s.cms_len = c->s.cms_len - c->s.cms_pad + pad;
	c->s.cms_pad = pad;
	c->xs.reserve = c->s.rsa_len + c->s.cms_len;
}

char *signer_growth_note(const struct sign_ctx *c)
{
	if (!c || c->s.cms_len - c->s.cms_pad <= SIGN_CMS_RESERVE)
		return NULL;
	return pf_asprintf("the CMS signature with its %d certificates needs "
	    "%zu bytes (and %zu kept %s): more than productsign's %d-byte "
	    "reservation; %zu bytes are reserved instead", c->s.ncerts,
	    c->s.cms_base, c->s.cms_room, c->s.cms_room > 512 ?
	    "for a timestamp" : "spare", SIGN_CMS_RESERVE,
	    c->s.cms_len - c->s.cms_pad);
}

void signer_free(struct sign_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; c->s.b64 && i < c->s.ncerts; i++)
		free(c->s.b64[i]);
	free(c->s.b64);
	free(c);
}
