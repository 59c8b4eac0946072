/*
 * HTTP(S) through libcurl (net.h). One easy handle per client keeps the
 * connection to the same host alive across the many small requests of a
 * wait. libcurl is initialised once per process, lazily.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net.h"

#define MAX_ANSWER (16u << 20)

struct net_client {
	CURL *curl;
	char *ca_file;
	int timeout;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

net_client *net_client_new(const char *ca_file, int timeout)
{
	net_client *c;

	pthread_once(&curl_once, curl_init);
	if (!curl_ok || !(c = calloc(1, sizeof *c)))
		return NULL;
	c->timeout = timeout > 0 ? timeout : 120;
	if ((ca_file && !(c->ca_file = strdup(ca_file))) ||
	    !(c->curl = curl_easy_init())) {
		net_client_free(c);
		return NULL;
	}
	return c;
}

void net_client_free(net_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->ca_file);
	free(c);
}

void net_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = strcspn(p, "/?#");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

static int loopback(const char *url)
{
	char host[256];

	net_url_host(url, host, sizeof host);
	return !strncmp(host, "127.0.0.1", 9) || !strncmp(host, "localhost", 9) ||
	    !strncmp(host, "[::1]", 5);
}

struct ctx {
	net_answer *an;
	size_t max;
	int too_big;
	const net_request *rq;
	uint64_t sent;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct ctx *x = arg;

	if (x->an->body.len + n > x->max) {
		x->too_big = 1;
		return 0;
	}
	sb_add(&x->an->body, p, n);
	return x->an->body.oom ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct ctx *x = arg;
	size_t len = size * n;

	if (len > 5 && !strncasecmp(p, "etag:", 5)) {
		const char *v = p + 5;
		size_t k = len - 5;
		while (k && (*v == ' ' || *v == '\t'))
			v++, k--;
		while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' '))
			k--;
		if (k < sizeof x->an->etag) {
			memcpy(x->an->etag, v, k);
			x->an->etag[k] = 0;
		}
	}
	return len;
}

/* A file body, read as libcurl asks for it: never the whole file. */
static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct ctx *x = arg;
	uint64_t left = x->rq->body_len64 - x->sent;
	size_t want = size * n < left ? size * n : (size_t)left;

	if (!want)
		return 0;
	ssize_t got = pread(x->rq->body_fd, buf, want,
	    (off_t)(x->rq->body_off + x->sent));
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	x->sent += (uint64_t)got;
	return (size_t)got;
}

pkgflat_status net_send(net_client *c, const net_request *rq, net_answer *an,
    pkgflat_error *err)
{
	char ebuf[CURL_ERROR_SIZE] = "", host[256];
	struct curl_slist *hl = NULL;
	struct ctx x = { an, rq->max_answer ? rq->max_answer : MAX_ANSWER, 0, rq, 0 };
	CURL *h = c->curl;
	CURLcode rc;

	memset(an, 0, sizeof *an);
	net_url_host(rq->url, host, sizeof host);
	if (strncmp(rq->url, "https://", 8) &&
	    !(strncmp(rq->url, "http://", 7) == 0 && loopback(rq->url)))
		return fail(err, PKGFLAT_E_USAGE, rq->url, NULL,
		    "only https:// URLs are used (http:// only to the loopback "
		    "address)");
	for (const char *const *hd = rq->headers; hd && *hd; hd++) {
		struct curl_slist *t = curl_slist_append(hl, *hd);
		if (!t) {
			curl_slist_free_all(hl);
			return fail_nomem(err);
		}
		hl = t;
	}
	/* libcurl adds "Expect: 100-continue" to big uploads; S3 does not
	 * need it and a failed part should fail fast. */
	struct curl_slist *t = curl_slist_append(hl, "Expect:");
	if (!t) {
		curl_slist_free_all(hl);
		return fail_nomem(err);
	}
	hl = t;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pkgflat/" PKGFLAT_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	if (rq->body_fd >= 0 && !strcmp(rq->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)rq->body_len64);
	} else if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* POST, PUT or DELETE with a body in memory (maybe empty). */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->body_len);
		if (strcmp(rq->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	rc = curl_easy_perform(h);
	curl_slist_free_all(hl);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &an->status);
	if (an->body.oom) {
		net_answer_free(an);
		return fail_nomem(err);
	}
	if (x.too_big) {
		net_answer_free(an);
		return fail(err, PKGFLAT_E_FORMAT, host, NULL,
		    "the answer to %s is larger than %zu bytes", rq->method, x.max);
	}
	if (rc != CURLE_OK) {
		net_answer_free(an);
		int tls = rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CONNECT_ERROR;
		return fail(err, PKGFLAT_E_IO, host, NULL, "%s: %s",
		    tls ? "TLS failed" : "cannot reach the server",
		    ebuf[0] ? ebuf : curl_easy_strerror(rc));
	}
	if (!an->body.buf)
		sb_add(&an->body, "", 0);
	return an->body.oom ? fail_nomem(err) : PKGFLAT_OK;
}

void net_answer_free(net_answer *an)
{
	sb_free(&an->body);
	memset(an, 0, sizeof *an);
}
