/*
 * HTTP(S) through libcurl (net.h). One easy handle per client keeps the
 * connection to the same host alive across the many small requests of a
 * wait.
 *
 * libcurl is loaded on first use (dlopen), not linked: with the ~25
 * libraries it pulls in (TLS, Kerberos, LDAP, SSH, HTTP/2, ...) it doubled
 * the start-up of every pkgflat run, and only the notary commands talk to
 * a server. <curl/curl.h> still gives the types and constants; the calls
 * go through the table below, filled once per process.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net.h"

#define MAX_ANSWER (16u << 20)
/* Debian's soname (package libcurl4); PKGFLAT_LIBCURL names another. */
#define LIBCURL_NAME "libcurl.so.4"

struct net_client {
	CURL *curl;
	char *ca_file;
	int timeout;
};

static struct curl_api {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_reset)(CURL *);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

static const struct {
	const char *name;
	size_t off;
} curl_syms[] = {
	{ "curl_global_init", offsetof(struct curl_api, global_init) },
	{ "curl_easy_init", offsetof(struct curl_api, easy_init) },
	{ "curl_easy_setopt", offsetof(struct curl_api, easy_setopt) },
	{ "curl_easy_perform", offsetof(struct curl_api, easy_perform) },
	{ "curl_easy_getinfo", offsetof(struct curl_api, easy_getinfo) },
	{ "curl_easy_strerror", offsetof(struct curl_api, easy_strerror) },
	{ "curl_easy_reset", offsetof(struct curl_api, easy_reset) },
	{ "curl_easy_cleanup", offsetof(struct curl_api, easy_cleanup) },
	{ "curl_slist_append", offsetof(struct curl_api, slist_append) },
	{ "curl_slist_free_all", offsetof(struct curl_api, slist_free_all) },
};

/* POSIX lets dlsym's void * hold a function's address. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "function pointers are not the size of void *");

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static char curl_name[256];   /* what was loaded, for messages */
static char curl_why[512];    /* why it could not be, when !curl_ok */

/* dlerror() without the leading "NAME: " it repeats. */
static void set_why(const char *msg)
{
	size_t n = strlen(curl_name);

	if (!msg)
		msg = "unknown error";
	if (!strncmp(msg, curl_name, n) && !strncmp(msg + n, ": ", 2))
		msg += n + 2;
	snprintf(curl_why, sizeof curl_why, "%s", msg);
}

static void curl_init(void)
{
	const char *name = getenv("PKGFLAT_LIBCURL");
	void *h;

	snprintf(curl_name, sizeof curl_name, "%s",
	    name && *name ? name : LIBCURL_NAME);
	/* RTLD_LOCAL: its symbols stay out of the way of everything else. */
	if (!(h = dlopen(curl_name, RTLD_NOW | RTLD_LOCAL))) {
		set_why(dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof curl_syms / sizeof *curl_syms; i++) {
		void *sym;

		dlerror();
		if (!(sym = dlsym(h, curl_syms[i].name))) {
			set_why(dlerror());
			dlclose(h);
			memset(&cu, 0, sizeof cu);
			return;
		}
		memcpy((char *)&cu + curl_syms[i].off, &sym, sizeof sym);
	}
	/* Never unloaded: libcurl lives as long as the process. */
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(curl_why, sizeof curl_why, "curl_global_init failed");
		return;
	}
	curl_ok = 1;
}

pkgflat_status net_client_new(const char *ca_file, int timeout,
    const char *url, net_client **out, pkgflat_error *err)
{
	net_client *c;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (!curl_ok)
		return fail(err, PKGFLAT_E_IO, NULL, NULL,
		    "cannot reach %s: cannot load %s (%s): install the libcurl4 "
		    "package", url, curl_name, curl_why);
	if (!(c = pf_calloc(1, sizeof *c)))
		return fail_nomem(err);
	c->timeout = timeout > 0 ? timeout : 120;
	if (ca_file && !(c->ca_file = pf_strdup(ca_file))) {
		net_client_free(c);
		return fail_nomem(err);
	}
	if (!(c->curl = cu.easy_init())) {
		net_client_free(c);
		return fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
		    "cannot start the HTTP client (curl_easy_init failed)");
	}
	*out = c;
	return PKGFLAT_OK;
}

void net_client_free(net_client *c)
{
	if (!c)
		return;
	if (c->curl)
		cu.easy_cleanup(c->curl);
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
		struct curl_slist *t = cu.slist_append(hl, *hd);
		if (!t) {
			cu.slist_free_all(hl);
			return fail_nomem(err);
		}
		hl = t;
	}
	/* libcurl adds "Expect: 100-continue" to big uploads; S3 does not
	 * need it and a failed part should fail fast. */
	struct curl_slist *t = cu.slist_append(hl, "Expect:");
	if (!t) {
		cu.slist_free_all(hl);
		return fail_nomem(err);
	}
	hl = t;
	cu.easy_reset(h);
	cu.easy_setopt(h, CURLOPT_URL, rq->url);
	cu.easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	cu.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cu.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		cu.easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	cu.easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout);
	cu.easy_setopt(h, CURLOPT_USERAGENT, "pkgflat/" PKGFLAT_VERSION);
	cu.easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(h, CURLOPT_WRITEDATA, &x);
	cu.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	cu.easy_setopt(h, CURLOPT_HEADERDATA, &x);
	if (rq->body_fd >= 0 && !strcmp(rq->method, "PUT")) {
		cu.easy_setopt(h, CURLOPT_UPLOAD, 1L);
		cu.easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		cu.easy_setopt(h, CURLOPT_READDATA, &x);
		cu.easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)rq->body_len64);
	} else if (!strcmp(rq->method, "GET")) {
		cu.easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		/* POST, PUT or DELETE with a body in memory (maybe empty). */
		cu.easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		cu.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->body_len);
		if (strcmp(rq->method, "POST"))
			cu.easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	rc = cu.easy_perform(h);
	cu.slist_free_all(hl);
	cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &an->status);
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
		    ebuf[0] ? ebuf : cu.easy_strerror(rc));
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
