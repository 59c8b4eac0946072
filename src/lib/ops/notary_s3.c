/*
 * Submitting to the notary service (notary.h): the SHA-256 of the file,
 * POST {api}/submissions, then the upload to the S3 bucket and object the
 * answer names, with its temporary credentials, every request signed with
 * SigV4 (sigv4.c). Files above multipart_above go up in parts (POST
 * ?uploads, PUT ?partNumber&uploadId, POST ?uploadId), each part retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "notary.h"
#include "sigv4.h"

#define MAX_PARTS 10000

/* S3 credentials of one submission; wiped when done. */
struct s3 {
	char *access, *secret, *token, *bucket, *object;
	char *url;    /* the object's URL */
	char *host;   /* host[:port], as signed */
	char *uri;    /* the canonical URI */
};

/* ---- S3 ---------------------------------------------------------------- */

static void s3_free(struct s3 *s)
{
	notary_free_secret(s->access);
	notary_free_secret(s->secret);
	notary_free_secret(s->token);
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
	notary_free_secret(h_auth);
	free(h_host);
	free(h_sha);
	free(h_date);
	notary_free_secret(h_tok);
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
		notary_emit(n, PKGFLAT_NOTARY_RETRY, m);
		notary_sleep_ms(notary_retry_delay(n, attempt), NULL);
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
		if ((rc = notary_hash_range(fd, off, len, path, hash, err)))
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
	if ((rc = notary_hash_range(fd, 0, (uint64_t)st.st_size, path, sub->sha256, err)))
		goto out;
	notary_copy_str(sub->name, sizeof sub->name, path_base(path));
	sb_adds(&body, "{\"sha256\":\"");
	sb_adds(&body, sub->sha256);
	sb_adds(&body, "\",\"submissionName\":");
	json_quote(&body, sub->name);
	sb_adds(&body, "}");
	if (body.oom) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = notary_api(n, "POST", "/submissions", body.buf, &root, err)))
		goto out;
	const jv *d = jv_get(root, "data");
	const jv *a = jv_get(d, "attributes");
	const char *id = jv_str(jv_get(d, "id"));
	const char *f[5] = { jv_str(jv_get(a, "awsAccessKeyId")),
	    jv_str(jv_get(a, "awsSecretAccessKey")),
	    jv_str(jv_get(a, "awsSessionToken")), jv_str(jv_get(a, "bucket")),
	    jv_str(jv_get(a, "object")) };
	if (!id || !f[0] || !f[1] || !f[3] || !f[4] || notary_check_id(id, NULL)) {
		rc = fail(err, PKGFLAT_E_FORMAT, n->api_url, "/submissions",
		    "the answer lacks the submission id or its S3 credentials "
		    "(awsAccessKeyId, awsSecretAccessKey, bucket, object)");
		goto out;
	}
	notary_copy_str(sub->id, sizeof sub->id, id);
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
	notary_emit(n, PKGFLAT_NOTARY_SUBMITTED, sub->id);
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
	if (!rc && !(rc = notary_hash_range(fd, 0, (uint64_t)st.st_size, path, after,
	    err)) && strcmp(after, sub->sha256))
		rc = fail(err, PKGFLAT_E_IO, path, NULL,
		    "the file changed during the upload; submit it again");
	if (!rc) {
		notary_copy_str(sub->status, sizeof sub->status, "In Progress");
		notary_emit(n, PKGFLAT_NOTARY_UPLOADED, sub->id);
	}
out:
	close(fd);
	s3_free(&s);
	sb_free(&body);
	jv_free(root);
	return rc;
}
