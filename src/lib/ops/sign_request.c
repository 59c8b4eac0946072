/*
 * Two-step signing (pkgflat_sign_prepare, pkgflat_sign_inject): prepare
 * does everything pkgflat_sign() does up to the TOC checksum and saves the
 * output's first bytes (header, TOC, checksum) with the two DigestInfos to
 * sign in a request directory; inject puts the signatures made elsewhere
 * behind those bytes through the same signer, so the result is what one
 * step would have written. The request's files are described in pkgflat.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "sign.h"
#include "sign_plan.h"
#include "xar_read.h"

/* ------------------------------------------------------------------ */
/* Two-step signing: the request directory                            */

#define REQ_MAGIC "pkgflat sign request 1"

static const char req_readme[] =
    "A request to sign a flat package, made by `pkgflat sign --prepare`.\n"
    "\n"
    "rsa.tbs and cms.tbs each hold a DER DigestInfo (SHA-1, 35 bytes).\n"
    "Sign each with the RSA key of the certificate in certs.pem (the first\n"
    "one), PKCS#1 v1.5, and write the raw signatures (as many bytes as the\n"
    "modulus) to rsa.sig and cms.sig in this directory, e.g.\n"
    "\n"
    "  openssl pkeyutl -sign -inkey KEY -in rsa.tbs -out rsa.sig\n"
    "  openssl pkeyutl -sign -inkey KEY -in cms.tbs -out cms.sig\n"
    "\n"
    "(a PKCS#11 token: mechanism CKM_RSA_PKCS over the .tbs bytes). Signers\n"
    "that want the hash instead get it in rsa.sha1 and cms.sha1:\n"
    "\n"
    "  openssl pkeyutl -sign -inkey KEY -pkeyopt digest:sha1 -in rsa.sha1 -out rsa.sig\n"
    "\n"
    "Then, where the package is: pkgflat sign --inject DIR IN.pkg -o OUT.pkg\n"
    "\n"
    "state, head and certs.pem are for pkgflat; do not edit them.\n";

/* The request's values, in `state` as "key value" lines. */
struct req {
	uint64_t input_size, src, len, signing_time, rsa_size, cms_reserved;
	unsigned char input_sha256[32], toc_sha1[20];
	unsigned char request_sha256[32]; /* of the lines before it, head and
	                                     certs.pem: catches edits */
	unsigned char rsa_di[SIGN_DI_LEN], cms_di[SIGN_DI_LEN];
};

static const struct req_field {
	const char *key;
	size_t off;
	size_t hex;   /* bytes of hex; 0: a decimal number */
} req_fields[] = {
	{ "input-size", offsetof(struct req, input_size), 0 },
	{ "input-sha256", offsetof(struct req, input_sha256), 32 },
	{ "heap-from", offsetof(struct req, src), 0 },
	{ "heap-length", offsetof(struct req, len), 0 },
	{ "signing-time", offsetof(struct req, signing_time), 0 },
	{ "rsa-size", offsetof(struct req, rsa_size), 0 },
	{ "cms-reserved", offsetof(struct req, cms_reserved), 0 },
	{ "toc-sha1", offsetof(struct req, toc_sha1), 20 },
	{ "rsa-digestinfo", offsetof(struct req, rsa_di), SIGN_DI_LEN },
	{ "cms-digestinfo", offsetof(struct req, cms_di), SIGN_DI_LEN },
	{ "request-sha256", offsetof(struct req, request_sha256), 32 },
};
#define NFIELDS (sizeof req_fields / sizeof *req_fields)

static void hex(strbuf *sb, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(sb, "%02x", b[i]);
}

static char *req_format(const struct req *r)
{
	strbuf sb = { 0 };

	sb_adds(&sb, REQ_MAGIC "\n");
	for (size_t i = 0; i + 1 < NFIELDS; i++) {
		const struct req_field *f = &req_fields[i];
		const unsigned char *v = (const unsigned char *)r + f->off;
		sb_addf(&sb, "%s ", f->key);
		if (f->hex)
			hex(&sb, v, f->hex);
		else {
			uint64_t u;
			memcpy(&u, v, sizeof u);
			sb_addf(&sb, "%llu", (unsigned long long)u);
		}
		sb_add(&sb, "\n", 1);
	}
	return sb_detach(&sb);
}

/* SHA-256 over the state's lines before request-sha256, head, certs.pem. */
static int req_digest(const void *state, size_t state_len, const void *head,
    size_t head_len, const char *pem, size_t pem_len, unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, state, state_len) &&
	    EVP_DigestUpdate(c, head, head_len) &&
	    EVP_DigestUpdate(c, pem, pem_len) && EVP_DigestFinal_ex(c, md, NULL);

	EVP_MD_CTX_free(c);
	return ok;
}

static int unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + (size_t)k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return 0;
		}
		out[i] = (unsigned char)v;
	}
	return 1;
}

static pkgflat_status req_parse(const char *name, const char *text, size_t n,
    struct req *r, pkgflat_error *err)
{
	int seen[NFIELDS] = { 0 };
	const char *p = text, *end = text + n;
	char where[32];
	int line = 1;

	memset(r, 0, sizeof *r);
	if (n < sizeof REQ_MAGIC || memcmp(text, REQ_MAGIC "\n",
	    sizeof REQ_MAGIC))
		return fail(err, PKGFLAT_E_FORMAT, name, "line 1",
		    "not a pkgflat sign request (\"%s\" expected)", REQ_MAGIC);
	p += sizeof REQ_MAGIC;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		snprintf(where, sizeof where, "line %d", line);
		if (!nl)
			return fail(err, PKGFLAT_E_FORMAT, name, where,
			    "the last line is cut short");
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		size_t i = 0;
		while (sp && i < NFIELDS && (strlen(req_fields[i].key) !=
		    (size_t)(sp - p) || memcmp(req_fields[i].key, p,
		    (size_t)(sp - p))))
			i++;
		if (!sp || i == NFIELDS)
			return fail(err, PKGFLAT_E_FORMAT, name, where,
			    "not a \"key value\" line with a known key");
		if (seen[i]++)
			return fail(err, PKGFLAT_E_FORMAT, name, where,
			    "%s given twice", req_fields[i].key);
		const char *v = sp + 1;
		size_t vl = (size_t)(nl - v);
		unsigned char *dst = (unsigned char *)r + req_fields[i].off;
		if (req_fields[i].hex) {
			if (!unhex(v, vl, dst, req_fields[i].hex))
				return fail(err, PKGFLAT_E_FORMAT, name, where,
				    "%s is not %zu bytes in lowercase hex",
				    req_fields[i].key, req_fields[i].hex);
		} else {
			uint64_t u = 0;
			if (!vl || vl > 19)
				goto badnum;
			for (size_t k = 0; k < vl; k++) {
				if (v[k] < '0' || v[k] > '9')
					goto badnum;
				u = u * 10 + (uint64_t)(v[k] - '0');
			}
			memcpy(dst, &u, sizeof u);
		}
		p = nl + 1;
		continue;
badnum:
		return fail(err, PKGFLAT_E_FORMAT, name, where,
		    "%s is not a decimal number", req_fields[i].key);
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (!seen[i])
			return fail(err, PKGFLAT_E_FORMAT, name, NULL, "no %s",
			    req_fields[i].key);
	return PKGFLAT_OK;
}

/* Read a whole small file (at most max bytes). */
static pkgflat_status read_small(const char *path, size_t max,
    unsigned char **out, size_t *len, pkgflat_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	pkgflat_status rc;

	*out = NULL;
	if (fd < 0)
		return fail_errno(err, path, "cannot open");
	if (fstat(fd, &st) != 0) {
		rc = fail_errno(err, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a regular file of at most %zu bytes", max);
		goto out;
	}
	*len = (size_t)st.st_size;
	if (!(*out = malloc(*len + 1))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = xar_pread(fd, 0, *out, *len, path, err))) {
		free(*out);
		*out = NULL;
		goto out;
	}
	(*out)[*len] = '\0';
out:
	close(fd);
	return rc;
}

/* SHA-256 of the whole input, in constant memory. */
static pkgflat_status hash_input(int fd, uint64_t size, unsigned char md[32],
    const char *name, pkgflat_error *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char *buf = malloc(1u << 20);
	pkgflat_status rc = PKGFLAT_OK;

	if (!c || !buf || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		rc = fail_nomem(err);
		goto out;
	}
	for (uint64_t off = 0; off < size && !rc;) {
		size_t k = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
		if (!(rc = xar_pread(fd, off, buf, k, name, err)))
			EVP_DigestUpdate(c, buf, k);
		off += k;
	}
	if (!rc && !EVP_DigestFinal_ex(c, md, NULL))
		rc = fail(err, PKGFLAT_E_CRYPTO, name, NULL, "SHA-256 failed");
out:
	EVP_MD_CTX_free(c);
	free(buf);
	return rc;
}

/* prepare's signer: remember what is to be signed, sign nothing. */
struct capture {
	unsigned char di[2][SIGN_DI_LEN];
	int got[2];
};

static pkgflat_status capture_sign(void *ctx, enum raw_which which,
    const unsigned char *di, size_t dilen, unsigned char *sig, size_t siglen,
    pkgflat_error *err)
{
	struct capture *c = ctx;

	if (dilen != SIGN_DI_LEN)
		return fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
		    "a %zu-byte DigestInfo", dilen);
	memcpy(c->di[which], di, dilen);
	c->got[which] = 1;
	memset(sig, 0, siglen);
	return PKGFLAT_OK;
}

static pkgflat_status write_file(int dfd, const char *dir, const char *name,
    const void *data, size_t len, int durable, pkgflat_error *err)
{
	char *path = pf_asprintf("%s/%s", dir, name);
	pkgflat_status rc = PKGFLAT_OK;
	int fd;

	if (!path)
		return fail_nomem(err);
	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0)
		rc = fail_errno(err, path, "cannot create");
	else {
		rc = xar_write_all(fd, data, len, path, err);
		if (!rc && want_fsync(durable) && fsync(fd) != 0)
			rc = fail_errno(err, path, "cannot write");
		if (close(fd) != 0 && !rc)
			rc = fail_errno(err, path, "cannot write");
	}
	free(path);
	return rc;
}

static const char *const req_files[] = {
	"README", "state", "head", "certs.pem", "rsa.tbs", "cms.tbs", "rsa.sha1",
	"cms.sha1",
};

pkgflat_status pkgflat_sign_prepare(const char *in, const char *req,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err)
{
	struct capture cap = { 0 };
	struct signer_params sp = { .id = id, .signing_time = signing_time(opt),
	    .room_for_timestamp = 1, .raw = capture_sign, .raw_ctx = &cap };
	struct plan p;
	struct req r = { 0 };
	struct stat st;
	unsigned char *sig = NULL;
	char *tmp = NULL, *state = NULL, *pem = NULL;
	int dfd = -1;
	pkgflat_status rc;

	if (res)
		memset(res, 0, sizeof *res);
	if (opt->tsa_url)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "a timestamp is added at inject, when the signature is known");
	if (lstat(req, &st) == 0)
		return fail(err, PKGFLAT_E_IO, req, NULL,
		    "already exists; name a new request directory");
	if ((rc = plan_open(in, &sp, &p, err)))
		return rc;
	if (!(sig = malloc(p.xs->reserve))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = p.xs->sign(p.xs->ctx, p.ck, 20, sig, err)))
		goto out;
	if (!cap.got[RAW_RSA] || !cap.got[RAW_CMS]) {
		rc = fail(err, PKGFLAT_E_INTERNAL, in, NULL,
		    "the signer asked for no signature");
		goto out;
	}
	if ((rc = hash_input(p.fd, p.file_size, r.input_sha256, in, err)))
		goto out;
	r.input_size = p.file_size;
	r.src = p.src;
	r.len = p.len;
	r.signing_time = (uint64_t)sp.signing_time;
	size_t rsa_len, cms_len, unused;
	signer_sizes(p.sctx, &rsa_len, &cms_len, &unused);
	r.rsa_size = rsa_len;
	r.cms_reserved = cms_len;
	memcpy(r.toc_sha1, p.ck, 20);
	memcpy(r.rsa_di, cap.di[RAW_RSA], SIGN_DI_LEN);
	memcpy(r.cms_di, cap.di[RAW_CMS], SIGN_DI_LEN);
	if (!(state = req_format(&r)) || !(pem = sign_certs_pem(id)) ||
	    !req_digest(state, strlen(state), p.head, p.head_len, pem,
	    strlen(pem), r.request_sha256)) {
		rc = fail_nomem(err);
		goto out;
	}
	strbuf sb = { 0 };
	sb_adds(&sb, state);
	sb_adds(&sb, "request-sha256 ");
	hex(&sb, r.request_sha256, 32);
	sb_adds(&sb, "\n");
	free(state);
	if (!(state = sb_detach(&sb))) {
		rc = fail_nomem(err);
		goto out;
	}

	/* A directory beside req, filled, then renamed into place. */
	if ((dfd = output_mkdtemp(req, &tmp)) < 0) {
		rc = errno == ENOMEM ? fail_nomem(err) :
		    fail_errno(err, req, "cannot create");
		goto out;
	}
	const void *data[] = { req_readme, state, p.head, pem, r.rsa_di,
	    r.cms_di, r.rsa_di + SIGN_DI_LEN - 20, r.cms_di + SIGN_DI_LEN - 20 };
	size_t len[] = { strlen(req_readme), strlen(state), p.head_len,
	    strlen(pem), SIGN_DI_LEN, SIGN_DI_LEN, 20, 20 };
	for (size_t i = 0; i < sizeof req_files / sizeof *req_files; i++)
		if ((rc = write_file(dfd, req, req_files[i], data[i], len[i],
		    opt->fsync, err)))
			goto out;
	if (fchmod(dfd, 0755) != 0) {
		rc = fail_errno(err, req, "cannot create");
		goto out;
	}
	if (lstat(req, &st) == 0) {
		rc = fail(err, PKGFLAT_E_IO, req, NULL,
		    "already exists; name a new request directory");
		goto out;
	}
	if (rename(tmp, req) != 0) {
		rc = fail_errno(err, req, "cannot rename into place");
		goto out;
	}
	free(tmp);
	tmp = NULL;
	fill_result(res, &p, sp.signing_time);
out:
	if (tmp) {
		for (size_t i = 0; dfd >= 0 && i < sizeof req_files /
		    sizeof *req_files; i++)
			unlinkat(dfd, req_files[i], 0);
		rmdir(tmp);
		free(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	free(state);
	free(pem);
	free(sig);
	plan_free(&p);
	return rc;
}

/* inject's signer: the signatures made elsewhere, for exactly the bytes
 * that were prepared. */
struct inject {
	const struct req *r;
	unsigned char *sig[2];
};

static pkgflat_status inject_sign(void *ctx, enum raw_which which,
    const unsigned char *di, size_t dilen, unsigned char *sig, size_t siglen,
    pkgflat_error *err)
{
	struct inject *c = ctx;
	const unsigned char *want = which == RAW_RSA ? c->r->rsa_di :
	    c->r->cms_di;

	if (dilen != SIGN_DI_LEN || memcmp(di, want, SIGN_DI_LEN) ||
	    siglen != c->r->rsa_size)
		return fail(err, PKGFLAT_E_INTERNAL, NULL, NULL, "the %s signature "
		    "would cover other bytes than were prepared",
		    which == RAW_RSA ? "RSA" : "CMS");
	memcpy(sig, c->sig[which], siglen);
	return PKGFLAT_OK;
}

/* Read REQ/NAME; *path is kept for messages. */
static pkgflat_status req_read(const char *req, const char *name, size_t max,
    char **path, unsigned char **data, size_t *len, pkgflat_error *err)
{
	if (!(*path = pf_asprintf("%s/%s", req, name)))
		return fail_nomem(err);
	return read_small(*path, max, data, len, err);
}

pkgflat_status pkgflat_sign_inject(const char *req, const char *in,
    const char *out, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err)
{
	static const char *const sig_names[2] = { "rsa.sig", "cms.sig" };
	static const char *const tbs_names[2] = { "rsa.tbs", "cms.tbs" };
	struct req r;
	struct inject inj = { &r, { NULL, NULL } };
	struct plan p = { .fd = -1 };
	pkgflat_identity *id = NULL;
	char *path[5] = { NULL };
	unsigned char *state = NULL, *head = NULL, *pem = NULL, *sig = NULL;
	size_t state_len, head_len, pem_len, sig_len[2];
	pkgflat_status rc;

	if (res)
		memset(res, 0, sizeof *res);
	if ((rc = output_in_place(out, in, NULL, err)) ||
	    (rc = pkgflat_output_check(out, req, err)))
		return rc;
	if ((rc = req_read(req, "state", 4096, &path[0], &state, &state_len,
	    err)) || (rc = req_parse(path[0], (const char *)state, state_len, &r,
	    err)))
		goto out;
	/* The output's first bytes, as prepared: header, TOC, checksum. */
	if ((rc = req_read(req, "head", 28 + (64u << 20) + 20, &path[1], &head,
	    &head_len, err)) || (rc = req_read(req, "certs.pem", 1u << 20,
	    &path[2], &pem, &pem_len, err)))
		goto out;
	/* Nothing changed since prepare: request-sha256 is the last line. */
	const char *last = memmem(state, state_len, "\nrequest-sha256 ", 16);
	unsigned char md[32];
	if (!last || (size_t)(last - (const char *)state) + 1 + 15 + 64 + 1 !=
	    state_len || !req_digest(state, (size_t)(last - (const char *)state) +
	    1, head, head_len, (const char *)pem, pem_len, md) ||
	    memcmp(md, r.request_sha256, 32)) {
		rc = fail(err, PKGFLAT_E_FORMAT, path[0], NULL,
		    "the request was changed after it was prepared (its "
		    "request-sha256 does not match state, head and certs.pem)");
		goto out;
	}
	unsigned char ck[20];
	uint64_t clen = head_len >= 48 ? be64(head + 8) : 0;
	if (head_len < 48 || memcmp(head, "xar!", 4) || clen != head_len - 48 ||
	    !EVP_Digest(head + 28, (size_t)clen, ck, NULL, EVP_sha1(), NULL) ||
	    memcmp(ck, r.toc_sha1, 20) || memcmp(head + head_len - 20, ck, 20)) {
		rc = fail(err, PKGFLAT_E_FORMAT, path[1], NULL,
		    "not the header and TOC the request was prepared with");
		goto out;
	}
	if ((rc = sign_identity_from_pem(path[2], &id, err)))
		goto out;
	/* Both signatures, checked against the certificate before anything
	 * else is done. */
	for (int i = 0; i < 2; i++) {
		if ((rc = req_read(req, sig_names[i], 4096, &path[3 + i],
		    &inj.sig[i], &sig_len[i], err)))
			goto out;
		if (sig_len[i] != r.rsa_size) {
			rc = fail(err, PKGFLAT_E_CRYPTO, path[3 + i], NULL,
			    "%zu bytes, not a %llu-byte RSA signature of %s%s",
			    sig_len[i], (unsigned long long)r.rsa_size, tbs_names[i],
			    sig_len[i] < r.rsa_size ? " (cut short?)" : "");
			goto out;
		}
		if (!sign_check_raw(id, i ? r.cms_di : r.rsa_di, SIGN_DI_LEN,
		    inj.sig[i], sig_len[i])) {
			rc = fail(err, PKGFLAT_E_CRYPTO, path[3 + i], NULL,
			    "does not verify with the certificate's key: made with "
			    "another key, or not PKCS#1 v1.5 over %s", tbs_names[i]);
			goto out;
		}
	}
	/* The very input that was prepared. */
	struct stat st;
	if ((p.fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = fail_errno(err, in, "cannot open");
		goto out;
	}
	if (fstat(p.fd, &st) != 0) {
		rc = fail_errno(err, in, "cannot stat");
		goto out;
	}
	if ((uint64_t)st.st_size != r.input_size || (rc = hash_input(p.fd,
	    r.input_size, md, in, err)) || memcmp(md, r.input_sha256, 32) ||
	    r.src > r.input_size || r.len > r.input_size - r.src) {
		rc = rc ? rc : fail(err, PKGFLAT_E_FORMAT, in, NULL,
		    "not the package %s was prepared from (its size or SHA-256 "
		    "differ)", req);
		goto out;
	}
	p.src = r.src;
	p.len = r.len;
	struct signer_params sp = { .id = id,
	    .signing_time = (int64_t)r.signing_time, .tsa_url = opt->tsa_url,
	    .tsa_timeout = opt->tsa_timeout, .room_for_timestamp = 1,
	    .cms_reserve = r.cms_reserved,
	    .raw = inject_sign, .raw_ctx = &inj };
	if ((rc = signer_open(&sp, &p.sctx, &p.xs, err)))
		goto out;
	if (p.xs->reserve != r.rsa_size + r.cms_reserved) {
		rc = fail(err, PKGFLAT_E_FORMAT, path[0], NULL,
		    "rsa-size does not match the certificate's key");
		goto out;
	}
	if (!(sig = malloc(p.xs->reserve))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = p.xs->sign(p.xs->ctx, r.toc_sha1, 20, sig, err)) ||
	    (rc = write_signed(in, out, &p, head, head_len, sig, p.xs->reserve,
	    opt, err)))
		goto out;
	fill_result(res, &p, (int64_t)r.signing_time);
out:
	for (int i = 0; i < 5; i++)
		free(path[i]);
	for (int i = 0; i < 2; i++)
		free(inj.sig[i]);
	free(state);
	free(head);
	free(pem);
	free(sig);
	pkgflat_identity_free(id);
	plan_free(&p);
	return rc;
}
