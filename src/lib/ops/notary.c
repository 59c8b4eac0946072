/*
 * A client of Apple's notary service (the "Notary API") and of the ticket
 * lookup stapler uses:
 *
 *   POST {api}/submissions             {"sha256", "submissionName"} -> id and
 *                                      temporary S3 credentials (awsAccessKeyId,
 *                                      awsSecretAccessKey, awsSessionToken,
 *                                      bucket, object)
 *   PUT  {s3}/object                   the file, signed with SigV4 (or the
 *                                      multipart upload: POST ?uploads, PUT
 *                                      ?partNumber&uploadId, POST ?uploadId)
 *   GET  {api}/submissions/ID          data.attributes.status
 *   GET  {api}/submissions/ID/logs     data.attributes.developerLogUrl
 *   GET  {api}/submissions             the team's recent submissions
 *   POST {ticket}                      {"records":[{"recordName":R}]} ->
 *                                      records[].fields.signedTicket.value
 *
 * Every API request carries "Authorization: Bearer" and an ES256 token
 * (jwt.c) renewed before it expires. All traffic goes through net.c.
 * This file: the session, its key and token, the API requests, status,
 * wait, history and logs; notary_s3.c submits, notary_ticket.c staples.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jwt.h"
#include "notary.h"
#include "sigv4.h"

#define MAX_KEY_FILE (64u << 10)

struct pkgflat_notary_log {
	char *text;
	jv *root;
	pkgflat_notary_issue *issues;
	size_t n;
};


void notary_emit(pkgflat_notary *n, enum pkgflat_notary_event e,
    const char *text)
{
	if (n->cfg.event)
		n->cfg.event(n->cfg.event_ctx, e, text);
}

void notary_sleep_ms(unsigned ms, volatile int *stop)
{
	while (ms && !(stop && *stop)) {
		unsigned step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

void notary_free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* ---- the API key ------------------------------------------------------- */

/* A whole small file into memory (NUL-terminated); the caller wipes it. */
static pkgflat_status read_small(const char *path, char **out, size_t *len,
    pkgflat_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;
	ssize_t got;

	if (fd < 0)
		return fail_errno(err, path, "cannot open");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > MAX_KEY_FILE) {
		close(fd);
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a key file (a regular file of 1 byte to 64 KiB)");
	}
	if (!(b = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return fail_nomem(err);
	}
	got = read(fd, b, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		OPENSSL_cleanse(b, (size_t)st.st_size);
		free(b);
		return fail_errno(err, path, "cannot read");
	}
	b[got] = 0;
	*out = b;
	*len = (size_t)got;
	return PKGFLAT_OK;
}

/* App Store Connect keys are ECDSA P-256; say so naming the file. */
static pkgflat_status check_key(pkgflat_notary *n, const char *path,
    pkgflat_error *err)
{
	if (EVP_PKEY_get_base_id(n->key) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(n->key) == 256)
		return PKGFLAT_OK;
	return fail(err, PKGFLAT_E_FORMAT, path, NULL, "not an ECDSA P-256 key "
	    "(App Store Connect API keys are)");
}

static pkgflat_status load_p8(pkgflat_notary *n, const char *path,
    pkgflat_error *err)
{
	char *b;
	size_t len;
	pkgflat_status rc;

	if ((rc = read_small(path, &b, &len, err)))
		return rc;
	BIO *bio = BIO_new_mem_buf(b, (int)len);
	n->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(b, len);
	free(b);
	if (!n->key)
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "not a PEM private key (App Store Connect's AuthKey_ID.p8 "
		    "is one)");
	return check_key(n, path, err);
}

/* rcodesign's key file: {"issuer_id", "key_id", "private_key": base64 of
 * the PKCS#8 DER}. */
static pkgflat_status load_json_key(pkgflat_notary *n, const char *path,
    pkgflat_error *err)
{
	char *b;
	size_t len;
	pkgflat_status rc;
	jv *root;

	if ((rc = read_small(path, &b, &len, err)))
		return rc;
	root = json_parse(b, len, path, err);
	OPENSSL_cleanse(b, len);
	free(b);
	if (!root)
		return err ? err->status : PKGFLAT_E_FORMAT;
	const char *iss = jv_str(jv_get(root, "issuer_id"));
	const char *kid = jv_str(jv_get(root, "key_id"));
	jv *pk = (jv *)jv_get(root, "private_key");
	if (!iss || !kid || !jv_str(pk)) {
		rc = fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "an API key file has the strings issuer_id, key_id and "
		    "private_key");
		goto out;
	}
	size_t plen = strlen(pk->str);
	unsigned char *der = malloc(plen + 1);
	int dlen = der ? EVP_DecodeBlock(der, (unsigned char *)pk->str,
	    (int)plen) : -1;
	while (dlen > 0 && plen && pk->str[plen - 1] == '=') {
		dlen--;
		plen--;
	}
	const unsigned char *p = der;
	n->key = dlen > 0 ? d2i_AutoPrivateKey(NULL, &p, dlen) : NULL;
	if (der) {
		OPENSSL_cleanse(der, strlen(pk->str) + 1);
		free(der);
	}
	if (!n->key) {
		rc = fail(err, PKGFLAT_E_FORMAT, path, "private_key",
		    "not base64 of a DER private key");
		goto out;
	}
	if ((rc = check_key(n, path, err)))
		goto out;
	if (!n->key_id)
		n->key_id = pf_strdup(kid);
	if (!n->issuer)
		n->issuer = pf_strdup(iss);
out:
	if (jv_str(pk))
		OPENSSL_cleanse(pk->str, strlen(pk->str));
	jv_free(root);
	return rc;
}

/* A token, renewed when it is about to end. */
static const char *token(pkgflat_notary *n, int force, pkgflat_error *err)
{
	int64_t now = (int64_t)time(NULL);
	int life = n->cfg.token_lifetime;
	int margin = life >= 180 ? 60 : life / 2;

	if (n->token && !force && now + margin < n->token_exp)
		return n->token;
	notary_free_secret(n->token);
	n->token = jwt_es256(n->key, n->key_id, n->issuer, now, now + life, err);
	n->token_exp = now + life;
	if (n->token && n->tokens++)
		notary_emit(n, PKGFLAT_NOTARY_TOKEN_RENEWED, NULL);
	return n->token;
}

/* ---- the session ------------------------------------------------------- */

static char *dup_or(const char *s, const char *dflt)
{
	return pf_strdup(s && *s ? s : dflt);
}

/* The API key, from a .p8 or a JSON key file, and its ids. */
static pkgflat_status open_key(pkgflat_notary *n, const pkgflat_notary_key *key,
    pkgflat_error *err)
{
	pkgflat_status rc;

	if (key->key_id && *key->key_id)
		n->key_id = pf_strdup(key->key_id);
	if (key->issuer && *key->issuer)
		n->issuer = pf_strdup(key->issuer);
	if (key->api_key_file && key->key_file)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "give the API key as a .p8 file or as a JSON key file, not both");
	if (key->api_key_file)
		rc = load_json_key(n, key->api_key_file, err);
	else if (key->key_file)
		rc = load_p8(n, key->key_file, err);
	else
		rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "no App Store Connect API key: give --key FILE.p8 with "
		    "--key-id and --issuer, or --api-key-file FILE");
	if (rc)
		return rc;
	if (!n->key_id || !n->issuer)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "the API key needs its key id (--key-id) and issuer id "
		    "(--issuer)");
	/* Fail now, not at the first request, when the key cannot sign. */
	if (!token(n, 1, err))
		return err ? err->status : PKGFLAT_E_CRYPTO;
	return PKGFLAT_OK;
}

pkgflat_status pkgflat_notary_open(const pkgflat_notary_config *cfg,
    const pkgflat_notary_key *key, pkgflat_notary **out,
    pkgflat_error *err)
{
	pkgflat_notary_config none = { 0 };
	pkgflat_notary *n = pf_calloc(1, sizeof *n);
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (!n)
		return fail_nomem(err);
	n->cfg = cfg ? *cfg : none;
	if (n->cfg.token_lifetime <= 0 || n->cfg.token_lifetime > 1200)
		n->cfg.token_lifetime = n->cfg.token_lifetime > 1200 ? 1200 : 600;
	if (!n->cfg.part_size)
		n->cfg.part_size = 16u << 20;
	if (!n->cfg.multipart_above)
		n->cfg.multipart_above = 64u << 20;
	if (n->cfg.retries <= 0)
		n->cfg.retries = 4;
	if (!n->cfg.poll_ms)
		n->cfg.poll_ms = 5000;
	if (!n->cfg.poll_max_ms)
		n->cfg.poll_max_ms = 60000;
	if (n->cfg.poll_max_ms < n->cfg.poll_ms)
		n->cfg.poll_max_ms = n->cfg.poll_ms;
	n->cfg.api_url = n->cfg.s3_url = n->cfg.s3_region = NULL;
	n->cfg.ticket_url = n->cfg.ca_file = NULL;
	n->api_url = dup_or(cfg ? cfg->api_url : NULL, PKGFLAT_NOTARY_URL);
	n->s3_url = dup_or(cfg ? cfg->s3_url : NULL, PKGFLAT_NOTARY_S3_URL);
	n->s3_region = dup_or(cfg ? cfg->s3_region : NULL,
	    PKGFLAT_NOTARY_S3_REGION);
	n->ticket_url = dup_or(cfg ? cfg->ticket_url : NULL, PKGFLAT_TICKET_URL);
	if (!n->api_url || !n->s3_url || !n->s3_region || !n->ticket_url) {
		rc = fail_nomem(err);
		goto out;
	}
	/* No trailing slash on the API base: paths are appended. */
	size_t l = strlen(n->api_url);
	while (l && n->api_url[l - 1] == '/')
		n->api_url[--l] = 0;
	if (cfg && cfg->ca_file && access(cfg->ca_file, R_OK)) {
		rc = fail_errno(err, cfg->ca_file, "cannot read the CA file");
		goto out;
	}
	if (key && (rc = open_key(n, key, err)))
		goto out;
	/* After the key: a usage error is told before a missing libcurl. */
	rc = net_client_new(cfg ? cfg->ca_file : NULL, n->cfg.timeout,
	    key ? n->api_url : n->ticket_url, &n->net, err);
out:
	if (rc) {
		pkgflat_notary_free(n);
		return rc;
	}
	*out = n;
	return PKGFLAT_OK;
}

void pkgflat_notary_free(pkgflat_notary *n)
{
	if (!n)
		return;
	net_client_free(n->net);
	EVP_PKEY_free(n->key); /* clears the private scalar */
	notary_free_secret(n->token);
	free(n->key_id);
	free(n->issuer);
	free(n->api_url);
	free(n->s3_url);
	free(n->s3_region);
	free(n->ticket_url);
	free(n);
}

/* ---- requests to the API ----------------------------------------------- */

/* The service's own words about an error answer: errors[0].detail/title. */
static const char *api_detail(const net_answer *an, jv **tree)
{
	*tree = json_parse(an->body.buf, an->body.len, "", NULL);
	const jv *e = jv_get(*tree, "errors");
	const jv *e0 = e && e->type == JV_ARR && e->n ? e->items[0] : NULL;
	const char *d = jv_str(jv_get(e0, "detail"));
	return d ? d : jv_str(jv_get(e0, "title"));
}

unsigned notary_retry_delay(const pkgflat_notary *n, int attempt)
{
	unsigned base = n->cfg.poll_ms < 1000 ? n->cfg.poll_ms : 1000;
	return base << (attempt < 6 ? attempt : 6);
}

/* A request to the API, retried on network errors and 5xx answers, with a
 * fresh token after a 401 once. The answer's JSON tree in *out. */
pkgflat_status notary_api(pkgflat_notary *n, const char *method,
    const char *path, const char *body, jv **out, pkgflat_error *err)
{
	char *url = pf_asprintf("%s%s", n->api_url, path);
	pkgflat_status rc = PKGFLAT_OK;
	int renewed = 0;

	*out = NULL;
	if (!url)
		return fail_nomem(err);
	if (!n->key) {
		free(url);
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "no App Store Connect API key given");
	}
	for (int attempt = 0;; attempt++) {
		const char *tok = token(n, 0, err);
		if (!tok) {
			rc = err ? err->status : PKGFLAT_E_CRYPTO;
			break;
		}
		char *auth = pf_asprintf("Authorization: Bearer %s", tok);
		const char *hd[] = { auth, "Accept: application/json",
		    body ? "Content-Type: application/json" : NULL, NULL };
		net_request rq = { .method = method, .url = url, .headers = hd,
		    .body = body, .body_len = body ? strlen(body) : 0,
		    .body_fd = -1 };
		net_answer an;
		pkgflat_error e;
		pkgflat_error_clear(&e);
		rc = auth ? net_send(n->net, &rq, &an, &e) : fail_nomem(&e);
		notary_free_secret(auth);
		if (rc == PKGFLAT_E_IO && attempt < n->cfg.retries &&
		    !strstr(e.message, "TLS")) {
			notary_emit(n, PKGFLAT_NOTARY_RETRY, e.message);
			notary_sleep_ms(notary_retry_delay(n, attempt), NULL);
			continue;
		}
		if (rc) {
			if (err)
				*err = e;
			break;
		}
		if (an.status == 401 && !renewed) {
			/* Maybe the token expired in flight: one more with a
			 * new one tells that apart from a wrong key. */
			net_answer_free(&an);
			renewed = 1;
			if (!token(n, 1, err)) {
				rc = err ? err->status : PKGFLAT_E_CRYPTO;
				break;
			}
			attempt--;
			continue;
		}
		if (an.status >= 500 && attempt < n->cfg.retries) {
			char m[64];
			snprintf(m, sizeof m, "%s %s: HTTP %ld", method, path, an.status);
			notary_emit(n, PKGFLAT_NOTARY_RETRY, m);
			net_answer_free(&an);
			notary_sleep_ms(notary_retry_delay(n, attempt), NULL);
			continue;
		}
		jv *tree = NULL;
		if (an.status == 401 || an.status == 403) {
			const char *d = api_detail(&an, &tree);
			rc = fail(err, PKGFLAT_E_IO, n->api_url, NULL,
			    "the notary service refused the API key (HTTP %ld%s%s): "
			    "check that --key-id and --issuer belong to this .p8 "
			    "key, that the key is not revoked, and that its role "
			    "may notarize (Developer or above)", an.status,
			    d ? ": " : "", d ? d : "");
		} else if (an.status < 200 || an.status > 299) {
			const char *d = api_detail(&an, &tree);
			rc = fail(err, an.status == 404 ? PKGFLAT_E_USAGE :
			    PKGFLAT_E_IO, n->api_url, path,
			    "the notary service answered %s with HTTP %ld%s%s", method,
			    an.status, d ? ": " : "", d ? d : "");
		} else if (!(*out = json_parse(an.body.buf, an.body.len, url, err))) {
			rc = err ? err->status : PKGFLAT_E_FORMAT;
		}
		jv_free(tree);
		net_answer_free(&an);
		break;
	}
	free(url);
	return rc;
}

void notary_copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* Ids go into URL paths: letters, digits and dashes only. */
pkgflat_status notary_check_id(const char *id, pkgflat_error *err)
{
	size_t l = strlen(id);

	if (!l || l > 100 || strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != l)
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "'%s' is not a submission id (letters, digits and dashes)", id);
	return PKGFLAT_OK;
}

static void fill_submission(const jv *d, pkgflat_notary_submission *s)
{
	notary_copy_str(s->id, sizeof s->id, jv_str(jv_get(d, "id")));
	notary_copy_str(s->name, sizeof s->name, jv_path_str(d, "attributes", "name",
	    NULL));
	notary_copy_str(s->status, sizeof s->status, jv_path_str(d, "attributes",
	    "status", NULL));
	notary_copy_str(s->created, sizeof s->created, jv_path_str(d, "attributes",
	    "createdDate", NULL));
}

pkgflat_status pkgflat_notary_status(pkgflat_notary *n, const char *id,
    pkgflat_notary_submission *sub, pkgflat_error *err)
{
	pkgflat_status rc;
	jv *root;
	char path[160];

	memset(sub, 0, sizeof *sub);
	if ((rc = notary_check_id(id, err)))
		return rc;
	snprintf(path, sizeof path, "/submissions/%s", id);
	if ((rc = notary_api(n, "GET", path, NULL, &root, err)))
		return rc;
	fill_submission(jv_get(root, "data"), sub);
	jv_free(root);
	if (!sub->status[0])
		return fail(err, PKGFLAT_E_FORMAT, n->api_url, path,
		    "the answer has no data.attributes.status");
	return PKGFLAT_OK;
}

pkgflat_status pkgflat_notary_wait(pkgflat_notary *n, const char *id,
    int timeout, volatile int *stop, pkgflat_notary_submission *sub,
    pkgflat_error *err)
{
	struct timespec t0, t;
	unsigned interval = n->cfg.poll_ms;
	pkgflat_status rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((rc = pkgflat_notary_status(n, id, sub, err)))
			return rc;
		notary_emit(n, PKGFLAT_NOTARY_STATUS, sub->status);
		if (strcmp(sub->status, "In Progress"))
			return PKGFLAT_OK;
		clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t spent = (int64_t)(t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (stop && *stop)
			return PKGFLAT_OK;
		if (timeout > 0) {
			int64_t left = (int64_t)timeout * 1000 - spent;
			if (left <= 0)
				return PKGFLAT_OK;
			if (left < interval)
				interval = (unsigned)left;
		}
		notary_sleep_ms(interval, stop);
		if (stop && *stop)
			return PKGFLAT_OK;
		interval += interval / 2;
		if (interval > n->cfg.poll_max_ms)
			interval = n->cfg.poll_max_ms;
	}
}

pkgflat_status pkgflat_notary_history(pkgflat_notary *n,
    int (*fn)(const pkgflat_notary_submission *s, void *ctx), void *ctx,
    pkgflat_error *err)
{
	pkgflat_status rc;
	jv *root;

	if ((rc = notary_api(n, "GET", "/submissions", NULL, &root, err)))
		return rc;
	const jv *d = jv_get(root, "data");
	if (!d || d->type != JV_ARR) {
		jv_free(root);
		return fail(err, PKGFLAT_E_FORMAT, n->api_url, "/submissions",
		    "the answer has no data array");
	}
	for (size_t i = 0; i < d->n; i++) {
		pkgflat_notary_submission s = { 0 };
		fill_submission(d->items[i], &s);
		if (fn(&s, ctx))
			break;
	}
	jv_free(root);
	return PKGFLAT_OK;
}

/* ---- the developer log ------------------------------------------------- */

pkgflat_status pkgflat_notary_log_fetch(pkgflat_notary *n, const char *id,
    pkgflat_notary_log **out, pkgflat_error *err)
{
	pkgflat_status rc;
	jv *root;
	char path[160];
	pkgflat_notary_log *log = NULL;

	*out = NULL;
	if ((rc = notary_check_id(id, err)))
		return rc;
	snprintf(path, sizeof path, "/submissions/%s/logs", id);
	if ((rc = notary_api(n, "GET", path, NULL, &root, err)))
		return rc;
	const char *url = jv_path_str(root, "data", "attributes",
	    "developerLogUrl", NULL);
	if (!url) {
		rc = fail(err, PKGFLAT_E_FORMAT, n->api_url, path,
		    "the answer has no data.attributes.developerLogUrl");
		goto out;
	}
	/* A presigned URL: no token goes with it. */
	net_request rq = { .method = "GET", .url = url, .body_fd = -1 };
	net_answer an;
	if ((rc = net_send(n->net, &rq, &an, err)))
		goto out;
	if (an.status != 200) {
		char host[256];
		net_url_host(url, host, sizeof host);
		rc = fail(err, PKGFLAT_E_IO, host, NULL,
		    "the developer log of %s: HTTP %ld", id, an.status);
		net_answer_free(&an);
		goto out;
	}
	if (!(log = calloc(1, sizeof *log))) {
		net_answer_free(&an);
		rc = fail_nomem(err);
		goto out;
	}
	log->text = sb_detach(&an.body);
	net_answer_free(&an);
	if (!log->text || !(log->root = json_parse(log->text, strlen(log->text),
	    "developer log", err))) {
		rc = log->text ? (err ? err->status : PKGFLAT_E_FORMAT) :
		    fail_nomem(err);
		goto out;
	}
	const jv *is = jv_get(log->root, "issues");
	if (is && is->type == JV_ARR && is->n) {
		if (!(log->issues = calloc(is->n, sizeof *log->issues))) {
			rc = fail_nomem(err);
			goto out;
		}
		for (size_t i = 0; i < is->n; i++) {
			const jv *x = is->items[i];
			pkgflat_notary_issue *o = &log->issues[log->n++];
			o->severity = jv_str(jv_get(x, "severity"));
			o->path = jv_str(jv_get(x, "path"));
			o->architecture = jv_str(jv_get(x, "architecture"));
			o->message = jv_str(jv_get(x, "message"));
			o->doc_url = jv_str(jv_get(x, "docUrl"));
			o->code = jv_str(jv_get(x, "code"));
		}
	}
out:
	jv_free(root);
	if (rc)
		pkgflat_notary_log_free(log);
	else
		*out = log;
	return rc;
}

const char *pkgflat_notary_log_text(const pkgflat_notary_log *log)
{
	return log->text;
}

const char *pkgflat_notary_log_field(const pkgflat_notary_log *log,
    const char *name)
{
	return jv_str(jv_get(log->root, name));
}

size_t pkgflat_notary_log_issue_count(const pkgflat_notary_log *log)
{
	return log->n;
}

const pkgflat_notary_issue *pkgflat_notary_log_issue(
    const pkgflat_notary_log *log, size_t i)
{
	return i < log->n ? &log->issues[i] : NULL;
}

void pkgflat_notary_log_free(pkgflat_notary_log *log)
{
	if (!log)
		return;
	free(log->text);
	jv_free(log->root);
	free(log->issues);
	free(log);
}

/* ---- hashing ----------------------------------------------------------- */

pkgflat_status notary_hash_range(int fd, uint64_t off, uint64_t len,
    const char *path, char hex[65], pkgflat_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[1 << 16], d[32];
	pkgflat_status rc = PKGFLAT_OK;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return fail_nomem(err);
	}
	while (len) {
		size_t want = len < sizeof buf ? (size_t)len : sizeof buf;
		ssize_t got = pread(fd, buf, want, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = got ? fail_errno(err, path, "cannot read") :
			    fail(err, PKGFLAT_E_IO, path, NULL,
			    "the file shrank while it was read");
			break;
		}
		EVP_DigestUpdate(md, buf, (size_t)got);
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	hex_encode(d, 32, hex);
	return rc;
}
