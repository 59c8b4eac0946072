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
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
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

#include "json_read.h"
#include "jwt.h"
#include "net.h"
#include "sigv4.h"

#define MAX_KEY_FILE (64u << 10)
#define MIN_PART (5u << 20)
#define MAX_PARTS 10000

struct pkgflat_notary {
	pkgflat_notary_config cfg;
	char *api_url, *s3_url, *s3_region, *ticket_url;
	net_client *net;
	EVP_PKEY *key;
	char *key_id, *issuer;
	char *token;
	int64_t token_exp;
	int tokens;
};

struct pkgflat_notary_log {
	char *text;
	jv *root;
	pkgflat_notary_issue *issues;
	size_t n;
};

/* S3 credentials of one submission; wiped when done. */
struct s3 {
	char *access, *secret, *token, *bucket, *object;
	char *url;    /* the object's URL */
	char *host;   /* host[:port], as signed */
	char *uri;    /* the canonical URI */
};

static void emit(pkgflat_notary *n, enum pkgflat_notary_event e,
    const char *text)
{
	if (n->cfg.event)
		n->cfg.event(n->cfg.event_ctx, e, text);
}

static void sleep_ms(unsigned ms, volatile int *stop)
{
	while (ms && !(stop && *stop)) {
		unsigned step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void free_secret(char *s)
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
	free_secret(n->token);
	n->token = jwt_es256(n->key, n->key_id, n->issuer, now, now + life, err);
	n->token_exp = now + life;
	if (n->token && n->tokens++)
		emit(n, PKGFLAT_NOTARY_TOKEN_RENEWED, NULL);
	return n->token;
}

/* ---- the session ------------------------------------------------------- */

static char *dup_or(const char *s, const char *dflt)
{
	return pf_strdup(s && *s ? s : dflt);
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
	if (!(n->net = net_client_new(cfg ? cfg->ca_file : NULL, n->cfg.timeout))) {
		rc = fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
		    "cannot start the HTTP client (libcurl)");
		goto out;
	}
	if (!key)
		goto out;
	if (key->key_id && *key->key_id)
		n->key_id = pf_strdup(key->key_id);
	if (key->issuer && *key->issuer)
		n->issuer = pf_strdup(key->issuer);
	if (key->api_key_file && key->key_file) {
		rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "give the API key as a .p8 file or as a JSON key file, not both");
		goto out;
	}
	if (key->api_key_file)
		rc = load_json_key(n, key->api_key_file, err);
	else if (key->key_file)
		rc = load_p8(n, key->key_file, err);
	else
		rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "no App Store Connect API key: give --key FILE.p8 with "
		    "--key-id and --issuer, or --api-key-file FILE");
	if (rc)
		goto out;
	if (!n->key_id || !n->issuer) {
		rc = fail(err, PKGFLAT_E_USAGE, NULL, NULL,
		    "the API key needs its key id (--key-id) and issuer id "
		    "(--issuer)");
		goto out;
	}
	/* Fail now, not at the first request, when the key cannot sign. */
	if (!token(n, 1, err))
		rc = err ? err->status : PKGFLAT_E_CRYPTO;
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
	free_secret(n->token);
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

static unsigned retry_delay(const pkgflat_notary *n, int attempt)
{
	unsigned base = n->cfg.poll_ms < 1000 ? n->cfg.poll_ms : 1000;
	return base << (attempt < 6 ? attempt : 6);
}

/* A request to the API, retried on network errors and 5xx answers, with a
 * fresh token after a 401 once. The answer's JSON tree in *out. */
static pkgflat_status api(pkgflat_notary *n, const char *method,
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
		free_secret(auth);
		if (rc == PKGFLAT_E_IO && attempt < n->cfg.retries &&
		    !strstr(e.message, "TLS")) {
			emit(n, PKGFLAT_NOTARY_RETRY, e.message);
			sleep_ms(retry_delay(n, attempt), NULL);
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
			emit(n, PKGFLAT_NOTARY_RETRY, m);
			net_answer_free(&an);
			sleep_ms(retry_delay(n, attempt), NULL);
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

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

/* Ids go into URL paths: letters, digits and dashes only. */
static pkgflat_status check_id(const char *id, pkgflat_error *err)
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
	copy_str(s->id, sizeof s->id, jv_str(jv_get(d, "id")));
	copy_str(s->name, sizeof s->name, jv_path_str(d, "attributes", "name",
	    NULL));
	copy_str(s->status, sizeof s->status, jv_path_str(d, "attributes",
	    "status", NULL));
	copy_str(s->created, sizeof s->created, jv_path_str(d, "attributes",
	    "createdDate", NULL));
}

pkgflat_status pkgflat_notary_status(pkgflat_notary *n, const char *id,
    pkgflat_notary_submission *sub, pkgflat_error *err)
{
	pkgflat_status rc;
	jv *root;
	char path[160];

	memset(sub, 0, sizeof *sub);
	if ((rc = check_id(id, err)))
		return rc;
	snprintf(path, sizeof path, "/submissions/%s", id);
	if ((rc = api(n, "GET", path, NULL, &root, err)))
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
		emit(n, PKGFLAT_NOTARY_STATUS, sub->status);
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
		sleep_ms(interval, stop);
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

	if ((rc = api(n, "GET", "/submissions", NULL, &root, err)))
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
	if ((rc = check_id(id, err)))
		return rc;
	snprintf(path, sizeof path, "/submissions/%s/logs", id);
	if ((rc = api(n, "GET", path, NULL, &root, err)))
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

static pkgflat_status hash_range(int fd, uint64_t off, uint64_t len,
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

/* ---- S3 ---------------------------------------------------------------- */

static void s3_free(struct s3 *s)
{
	free_secret(s->access);
	free_secret(s->secret);
	free_secret(s->token);
	free(s->bucket);
	free(s->object);
	free(s->url);
	free(s->host);
	free(s->uri);
	memset(s, 0, sizeof *s);
}

/* The object's URL, the host to sign and the canonical URI. */
static pkgflat_status s3_locate(pkgflat_notary *n, struct s3 *s,
    pkgflat_error *err)
{
	strbuf u = { 0 }, obj = { 0 };
	const char *b = strstr(n->s3_url, "{bucket}");

	if (b) {
		sb_add(&u, n->s3_url, (size_t)(b - n->s3_url));
		sb_adds(&u, s->bucket);
		sb_adds(&u, b + 8);
	} else {
		sb_adds(&u, n->s3_url);
		while (u.len && u.buf[u.len - 1] == '/')
			u.buf[--u.len] = 0;
		sb_add(&u, "/", 1);
		sigv4_uri_encode(&u, s->bucket, 0);
	}
	while (u.len && u.buf[u.len - 1] == '/')
		u.buf[--u.len] = 0;
	sb_add(&obj, "/", 1);
	sigv4_uri_encode(&obj, s->object, 1);
	sb_adds(&u, obj.buf ? obj.buf : "");
	sb_free(&obj);
	if (u.oom)
		return sb_free(&u), fail_nomem(err);
	s->url = sb_detach(&u);
	const char *p = strstr(s->url, "://");
	if (!p)
		return fail(err, PKGFLAT_E_USAGE, n->s3_url, NULL,
		    "not a URL");
	p += 3;
	size_t hl = strcspn(p, "/");
	s->host = pf_strndup(p, hl);
	s->uri = pf_strdup(p[hl] ? p + hl : "/");
	return s->host && s->uri ? PKGFLAT_OK : fail_nomem(err);
}

/* One signed S3 request; query is canonical ("partNumber=1&uploadId=X"). */
static pkgflat_status s3_send(pkgflat_notary *n, const struct s3 *s,
    const char *method, const char *query, const net_request *body,
    const char *payload_hash, net_answer *an, pkgflat_error *err)
{
	char date[17];
	time_t now = time(NULL);
	struct tm tm;
	struct sigv4_key k = { s->access, s->secret, n->s3_region, "s3" };
	const char *names[] = { "host", "x-amz-content-sha256", "x-amz-date",
	    "x-amz-security-token" };
	const char *values[] = { s->host, payload_hash, date, s->token };
	pkgflat_status rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	char *auth = sigv4_authorization(&k, method, s->uri, query, names,
	    values, s->token ? 4 : 3, payload_hash, date);
	char *h_auth = auth ? pf_asprintf("Authorization: %s", auth) : NULL;
	char *h_host = pf_asprintf("Host: %s", s->host);
	char *h_sha = pf_asprintf("x-amz-content-sha256: %s", payload_hash);
	char *h_date = pf_asprintf("x-amz-date: %s", date);
	char *h_tok = s->token ? pf_asprintf("x-amz-security-token: %s",
	    s->token) : NULL;
	char *url = pf_asprintf("%s%s%s", s->url, *query ? "?" : "", query);
	const char *hd[] = { h_auth, h_host, h_sha, h_date, h_tok, NULL };
	net_request rq = *body;

	free(auth);
	if (!h_auth || !h_host || !h_sha || !h_date || (s->token && !h_tok) ||
	    !url) {
		rc = fail_nomem(err);
		goto out;
	}
	rq.method = method;
	rq.url = url;
	rq.headers = hd;
	rc = net_send(n->net, &rq, an, err);
out:
	free_secret(h_auth);
	free(h_host);
	free(h_sha);
	free(h_date);
	free_secret(h_tok);
	free(url);
	return rc;
}

/* An S3 request retried on network errors and 5xx; PKGFLAT_OK only with a
 * 2xx answer. what names it in messages ("part 3"). */
static pkgflat_status s3_call(pkgflat_notary *n, const struct s3 *s,
    const char *method, const char *query, const net_request *body,
    const char *payload_hash, const char *what, net_answer *an,
    pkgflat_error *err)
{
	char host[256];

	net_url_host(s->url, host, sizeof host);
	for (int attempt = 0;; attempt++) {
		pkgflat_error e;
		pkgflat_status rc;
		char m[600];

		pkgflat_error_clear(&e);
		if (!(rc = s3_send(n, s, method, query, body, payload_hash, an, &e))) {
			if (an->status >= 200 && an->status <= 299 &&
			    !strstr(an->body.buf, "<Error>"))
				return PKGFLAT_OK;
			snprintf(m, sizeof m, "%s: HTTP %ld", what, an->status);
			if (an->status < 500 && an->status != 200) {
				/* S3's own words: <Code> and <Message>. */
				const char *c = strstr(an->body.buf, "<Code>");
				rc = fail(err, PKGFLAT_E_IO, host, NULL,
				    "S3 refused the upload (%s%s%.*s)", m,
				    c ? ", " : "", c ? (int)strcspn(c + 6, "<") : 0,
				    c ? c + 6 : "");
				net_answer_free(an);
				return rc;
			}
			net_answer_free(an);
		} else {
			if (rc != PKGFLAT_E_IO || strstr(e.message, "TLS")) {
				if (err)
					*err = e;
				return rc;
			}
			snprintf(m, sizeof m, "%s: %s", what, e.message);
		}
		if (attempt >= n->cfg.retries)
			return fail(err, PKGFLAT_E_IO, host, NULL,
			    "the upload failed %d times (%s)", attempt + 1, m);
		emit(n, PKGFLAT_NOTARY_RETRY, m);
		sleep_ms(retry_delay(n, attempt), NULL);
	}
}

/* The text of the first element of that name in an S3 XML answer. */
static char *xml_text(const net_answer *an, const char *name)
{
	xmlDocPtr doc = xmlReadMemory(an->body.buf, (int)an->body.len, "s3.xml",
	    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	char *ret = NULL;

	if (!doc)
		return NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr c = root ? root->children : NULL; c && !ret; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name)) {
			xmlChar *t = xmlNodeGetContent(c);
			ret = t ? pf_strdup((const char *)t) : NULL;
			xmlFree(t);
		}
	xmlFreeDoc(doc);
	return ret;
}

static pkgflat_status upload_multipart(pkgflat_notary *n, const struct s3 *s,
    int fd, uint64_t size, const char *path, pkgflat_error *err)
{
	uint64_t part = n->cfg.part_size;
	net_answer an;
	net_request none = { .body_fd = -1 };
	strbuf q = { 0 }, done = { 0 };
	char *upload_id = NULL, empty[65];
	pkgflat_status rc;

	if (part < (size + MAX_PARTS - 1) / MAX_PARTS)
		part = (size + MAX_PARTS - 1) / MAX_PARTS;
	sha256_hex("", 0, empty);
	if ((rc = s3_call(n, s, "POST", "uploads=", &none, empty,
	    "starting the multipart upload", &an, err)))
		return rc;
	upload_id = xml_text(&an, "UploadId");
	net_answer_free(&an);
	if (!upload_id)
		return fail(err, PKGFLAT_E_FORMAT, s->host, NULL,
		    "S3's answer to starting a multipart upload has no UploadId");
	sb_adds(&done, "<CompleteMultipartUpload>");
	for (uint64_t off = 0, i = 1; off < size; off += part, i++) {
		uint64_t len = size - off < part ? size - off : part;
		char hash[65], what[48];
		if ((rc = hash_range(fd, off, len, path, hash, err)))
			goto out;
		q.len = 0;
		sb_addf(&q, "partNumber=%llu&uploadId=", (unsigned long long)i);
		sigv4_uri_encode(&q, upload_id, 0);
		snprintf(what, sizeof what, "part %llu", (unsigned long long)i);
		net_request body = { .body_fd = fd, .body_off = off,
		    .body_len64 = len };
		if (q.oom) {
			rc = fail_nomem(err);
			goto out;
		}
		if ((rc = s3_call(n, s, "PUT", q.buf, &body, hash, what, &an, err)))
			goto out;
		if (!an.etag[0]) {
			net_answer_free(&an);
			rc = fail(err, PKGFLAT_E_FORMAT, s->host, NULL,
			    "S3's answer to %s has no ETag", what);
			goto out;
		}
		sb_addf(&done, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag>"
		    "</Part>", (unsigned long long)i, an.etag);
		net_answer_free(&an);
	}
	sb_adds(&done, "</CompleteMultipartUpload>");
	q.len = 0;
	sb_adds(&q, "uploadId=");
	sigv4_uri_encode(&q, upload_id, 0);
	if (done.oom || q.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	char dh[65];
	sha256_hex(done.buf, done.len, dh);
	net_request body = { .body = done.buf, .body_len = done.len,
	    .body_fd = -1 };
	if (!(rc = s3_call(n, s, "POST", q.buf, &body, dh,
	    "completing the multipart upload", &an, err)))
		net_answer_free(&an);
out:
	if (rc && upload_id && !q.oom) {
		/* Best effort: leave no parts behind in the bucket. */
		q.len = 0;
		sb_adds(&q, "uploadId=");
		sigv4_uri_encode(&q, upload_id, 0);
		if (!q.oom && !s3_send(n, s, "DELETE", q.buf, &none, empty, &an, NULL))
			net_answer_free(&an);
	}
	free(upload_id);
	sb_free(&q);
	sb_free(&done);
	return rc;
}

pkgflat_status pkgflat_notary_submit(pkgflat_notary *n, const char *path,
    pkgflat_notary_submission *sub, pkgflat_error *err)
{
	struct s3 s = { 0 };
	struct stat st;
	strbuf body = { 0 };
	jv *root = NULL;
	pkgflat_status rc;
	int fd;

	memset(sub, 0, sizeof *sub);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail_errno(err, path, "cannot open");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return fail(err, PKGFLAT_E_USAGE, path, NULL,
		    "not a regular non-empty file");
	}
	if ((rc = hash_range(fd, 0, (uint64_t)st.st_size, path, sub->sha256, err)))
		goto out;
	copy_str(sub->name, sizeof sub->name, path_base(path));
	sb_adds(&body, "{\"sha256\":\"");
	sb_adds(&body, sub->sha256);
	sb_adds(&body, "\",\"submissionName\":");
	json_quote(&body, sub->name);
	sb_adds(&body, "}");
	if (body.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = api(n, "POST", "/submissions", body.buf, &root, err)))
		goto out;
	const jv *d = jv_get(root, "data");
	const jv *a = jv_get(d, "attributes");
	const char *id = jv_str(jv_get(d, "id"));
	const char *f[5] = { jv_str(jv_get(a, "awsAccessKeyId")),
	    jv_str(jv_get(a, "awsSecretAccessKey")),
	    jv_str(jv_get(a, "awsSessionToken")), jv_str(jv_get(a, "bucket")),
	    jv_str(jv_get(a, "object")) };
	if (!id || !f[0] || !f[1] || !f[3] || !f[4] || check_id(id, NULL)) {
		rc = fail(err, PKGFLAT_E_FORMAT, n->api_url, "/submissions",
		    "the answer lacks the submission id or its S3 credentials "
		    "(awsAccessKeyId, awsSecretAccessKey, bucket, object)");
		goto out;
	}
	copy_str(sub->id, sizeof sub->id, id);
	s.access = pf_strdup(f[0]);
	s.secret = pf_strdup(f[1]);
	s.token = f[2] ? pf_strdup(f[2]) : NULL;
	s.bucket = pf_strdup(f[3]);
	s.object = pf_strdup(f[4]);
	/* The tree held the secret too. */
	OPENSSL_cleanse((void *)f[1], strlen(f[1]));
	if (f[2])
		OPENSSL_cleanse((void *)f[2], strlen(f[2]));
	if (!s.access || !s.secret || (f[2] && !s.token) || !s.bucket ||
	    !s.object) {
		rc = fail_nomem(err);
		goto out;
	}
	emit(n, PKGFLAT_NOTARY_SUBMITTED, sub->id);
	if ((rc = s3_locate(n, &s, err)))
		goto out;
	if ((uint64_t)st.st_size > n->cfg.multipart_above) {
		rc = upload_multipart(n, &s, fd, (uint64_t)st.st_size, path, err);
	} else {
		net_answer an;
		net_request b = { .body_fd = fd, .body_len64 = (uint64_t)st.st_size };
		if (!(rc = s3_call(n, &s, "PUT", "", &b, sub->sha256, "the upload",
		    &an, err)))
			net_answer_free(&an);
	}
	/* The bytes sent must be the bytes hashed: a file changed during the
	 * upload would be notarized under a digest nobody checks. */
	char after[65];
	if (!rc && !(rc = hash_range(fd, 0, (uint64_t)st.st_size, path, after,
	    err)) && strcmp(after, sub->sha256))
		rc = fail(err, PKGFLAT_E_IO, path, NULL,
		    "the file changed during the upload; submit it again");
	if (!rc) {
		copy_str(sub->status, sizeof sub->status, "In Progress");
		emit(n, PKGFLAT_NOTARY_UPLOADED, sub->id);
	}
out:
	close(fd);
	s3_free(&s);
	sb_free(&body);
	jv_free(root);
	return rc;
}

/* ---- tickets ----------------------------------------------------------- */

/* One lookup: 1 with the ticket, 0 when not (yet) published, or an error. */
static pkgflat_status ticket_lookup(pkgflat_notary *n, const char *record,
    unsigned char **tk, size_t *tlen, int *found, pkgflat_error *err)
{
	strbuf body = { 0 };
	net_answer an;
	char host[256];
	pkgflat_status rc;
	jv *root = NULL;
	const char *hd[] = { "Accept: application/json",
	    "Content-Type: application/json", NULL };

	*found = 0;
	net_url_host(n->ticket_url, host, sizeof host);
	sb_adds(&body, "{\"records\":[{\"recordName\":");
	json_quote(&body, record);
	sb_adds(&body, "}]}");
	if (body.oom)
		return sb_free(&body), fail_nomem(err);
	net_request rq = { .method = "POST", .url = n->ticket_url, .headers = hd,
	    .body = body.buf, .body_len = body.len, .body_fd = -1 };
	for (int attempt = 0;; attempt++) {
		pkgflat_error e;
		pkgflat_error_clear(&e);
		rc = net_send(n->net, &rq, &an, &e);
		if (!rc && an.status < 500)
			break;
		if (attempt >= n->cfg.retries || (rc && (rc != PKGFLAT_E_IO ||
		    strstr(e.message, "TLS")))) {
			if (rc && err)
				*err = e;
			if (!rc) {
				rc = fail(err, PKGFLAT_E_IO, host, NULL,
				    "the ticket lookup answered HTTP %ld", an.status);
				net_answer_free(&an);
			}
			sb_free(&body);
			return rc;
		}
		if (!rc)
			net_answer_free(&an);
		emit(n, PKGFLAT_NOTARY_RETRY, rc ? e.message : "ticket lookup: HTTP 5xx");
		sleep_ms(retry_delay(n, attempt), NULL);
	}
	sb_free(&body);
	if (an.status != 200) {
		rc = fail(err, PKGFLAT_E_IO, host, NULL,
		    "the ticket lookup answered HTTP %ld", an.status);
		goto out;
	}
	if (!(root = json_parse(an.body.buf, an.body.len, host, err))) {
		rc = err ? err->status : PKGFLAT_E_FORMAT;
		goto out;
	}
	const jv *recs = jv_get(root, "records"), *r = NULL;
	for (size_t i = 0; recs && recs->type == JV_ARR && i < recs->n; i++)
		if (!strcmp(jv_str(jv_get(recs->items[i], "recordName")) ?
		    jv_str(jv_get(recs->items[i], "recordName")) : "", record))
			r = recs->items[i];
	if (!r) {
		rc = fail(err, PKGFLAT_E_FORMAT, host, NULL,
		    "the ticket lookup's answer does not name record %s", record);
		goto out;
	}
	const char *code = jv_str(jv_get(r, "serverErrorCode"));
	if (code) {
		if (!strcmp(code, "NOT_FOUND"))
			goto out; /* not published (yet) */
		const char *why = jv_str(jv_get(r, "reason"));
		rc = fail(err, PKGFLAT_E_IO, host, record,
		    "the ticket lookup failed: %s%s%s", code, why ? ": " : "",
		    why ? why : "");
		goto out;
	}
	const jv *st = jv_path(r, "fields", "signedTicket", NULL);
	const char *type = jv_str(jv_get(st, "type"));
	const char *val = jv_str(jv_get(st, "value"));
	if (!val || !type || strcmp(type, "BYTES")) {
		rc = fail(err, PKGFLAT_E_FORMAT, host, record,
		    "the record has no signedTicket of type BYTES");
		goto out;
	}
	size_t vl = strlen(val);
	unsigned char *b = malloc(vl / 4 * 3 + 3);
	int bl = b && vl % 4 == 0 ? EVP_DecodeBlock(b, (const unsigned char *)val,
	    (int)vl) : -1;
	for (size_t k = vl; bl > 0 && k && val[k - 1] == '='; k--)
		bl--;
	if (bl <= 0) {
		free(b);
		rc = b ? fail(err, PKGFLAT_E_FORMAT, host, record,
		    "the signedTicket is not base64") : fail_nomem(err);
		goto out;
	}
	*tk = b;
	*tlen = (size_t)bl;
	*found = 1;
out:
	jv_free(root);
	net_answer_free(&an);
	return rc;
}

/* The stapled trailer's ticket bytes equal tk. */
static int stapled_is(const char *path, const unsigned char *tk, size_t tlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), same = 0;
	struct stat st;
	unsigned char *b = malloc(tlen ? tlen : 1);

	if (fd >= 0 && b && !fstat(fd, &st) && (uint64_t)st.st_size >= tlen + 16 &&
	    pread(fd, b, tlen, st.st_size - 16 - (off_t)tlen) == (ssize_t)tlen)
		same = !memcmp(b, tk, tlen);
	if (fd >= 0)
		close(fd);
	free(b);
	return same;
}

/* The structure and checksum checks of verify: a package whose files no
 * longer match its TOC gets no ticket stapled (the ticket covers the TOC
 * digest only, the TOC covers the rest). */
static pkgflat_status integrity(const char *path, const char *when,
    pkgflat_error *err)
{
	static const char *const checks[] = { "xar-structure", "toc-checksum",
	    "file-checksums" };
	pkgflat_verify_options opt;
	pkgflat_verify_report *r;
	pkgflat_status rc;

	pkgflat_verify_options_init(&opt);
	if ((rc = pkgflat_verify(path, &opt, &r, err)))
		return rc;
	for (size_t i = 0; i < pkgflat_verify_check_count(r); i++) {
		const pkgflat_check *c = pkgflat_verify_check(r, i);
		for (size_t k = 0; k < sizeof checks / sizeof *checks; k++)
			if (!strcmp(c->name, checks[k]) &&
			    c->result != PKGFLAT_CHECK_PASS) {
				rc = fail(err, PKGFLAT_E_FORMAT, path, c->name,
				    "%s: %s (the package changed since it was "
				    "signed, or is damaged)", when, c->message);
				break;
			}
		if (rc)
			break;
	}
	pkgflat_verify_report_free(r);
	return rc;
}

pkgflat_status pkgflat_notary_staple(pkgflat_notary *n, const char *path,
    const char *expect_sha256, int wait, volatile int *stop, char *record,
    pkgflat_error *err)
{
	pkgflat_flat_info info;
	pkgflat_status rc;
	unsigned char *tk = NULL;
	size_t tlen = 0;
	int found = 0;
	char tmp[] = "/tmp/pkgflat-ticket-XXXXXX";
	int tfd = -1;
	const char *td = getenv("TMPDIR");
	char *tpath = NULL;

	if (record)
		record[0] = 0;
	if ((rc = pkgflat_flat_inspect(path, &info, err)))
		return rc;
	if (!info.ticket_key[0])
		return fail(err, PKGFLAT_E_FORMAT, path, NULL,
		    "no TOC checksum to look a ticket up by");
	if (record)
		snprintf(record, 64, "%s", info.ticket_key);
	if (expect_sha256) {
		/* The exact bytes Apple checked, or nothing: below. */
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		char now[65];
		if (fd < 0)
			return fail_errno(err, path, "cannot open");
		rc = fstat(fd, &st) ? fail_errno(err, path, "cannot stat") :
		    hash_range(fd, 0, (uint64_t)st.st_size, path, now, err);
		close(fd);
		if (rc)
			return rc;
		if (strcasecmp(now, expect_sha256))
			return fail(err, PKGFLAT_E_FORMAT, path, NULL,
			    "changed since it was submitted (SHA-256 now %.16s..., "
			    "submitted %.16s...): the ticket is for the submitted "
			    "bytes; submit this version", now, expect_sha256);
	}
	if ((rc = integrity(path, "refused before stapling", err)))
		return rc;
	struct timespec t0, t;
	unsigned interval = n->cfg.poll_ms;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((rc = ticket_lookup(n, info.ticket_key, &tk, &tlen, &found, err)))
			return rc;
		if (found)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t left = (int64_t)wait * 1000 - ((int64_t)(t.tv_sec -
		    t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || (stop && *stop))
			return fail(err, PKGFLAT_E_IO, path, info.ticket_key,
			    "no ticket published for this package%s (not notarized, "
			    "or changed since it was submitted: the record is named "
			    "by the TOC checksum)", wait > 0 ? " in time" : "");
		emit(n, PKGFLAT_NOTARY_TICKET_WAIT, info.ticket_key);
		sleep_ms(interval < left ? interval : (unsigned)left, stop);
		interval += interval / 2;
		if (interval > n->cfg.poll_max_ms)
			interval = n->cfg.poll_max_ms;
	}
	/* pkgflat_staple() takes the ticket as a file. */
	tpath = td && *td ? pf_asprintf("%s/pkgflat-ticket-XXXXXX", td) :
	    pf_strdup(tmp);
	if (!tpath) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((tfd = mkstemp(tpath)) < 0) {
		rc = fail_errno(err, tpath, "cannot create");
		free(tpath);
		tpath = NULL;
		goto out;
	}
	if (write(tfd, tk, tlen) != (ssize_t)tlen) {
		rc = fail_errno(err, tpath, "cannot write");
		goto out;
	}
	if ((rc = pkgflat_staple(path, tpath, err)))
		goto out;
	/* Check what was written: the same record, a trailer with exactly
	 * these bytes. */
	pkgflat_flat_info after;
	if ((rc = pkgflat_flat_inspect(path, &after, err)))
		goto out;
	if (!after.stapled || after.ticket_length != tlen ||
	    strcmp(after.ticket_key, info.ticket_key) || !stapled_is(path, tk, tlen))
		rc = fail(err, PKGFLAT_E_INTERNAL, path, NULL,
		    "the stapled ticket does not read back as written");
	else
		rc = integrity(path, "after stapling", err);
out:
	if (tfd >= 0)
		close(tfd);
	if (tpath) {
		unlink(tpath);
		free(tpath);
	}
	free(tk);
	return rc;
}
