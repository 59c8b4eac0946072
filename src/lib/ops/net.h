/*
 * The one network module: HTTP(S) requests through libcurl, nothing else
 * in the library opens a connection but the RFC 3161 timestamp request
 * (signer.c, through OpenSSL's own HTTP client). TLS is verified against the system
 * store, or against ca_file when given; plain http:// is refused except to
 * the loopback address (tests start their servers there). Redirects are not
 * followed. Requests and answers are never logged: they carry tokens.
 */
#ifndef PKGFLAT_NET_H
#define PKGFLAT_NET_H

#include <stdint.h>

#include "internal.h"

typedef struct net_client net_client;

/* ca_file NULL: the system store; timeout: seconds per request (connect
 * and transfer), 0 for 120. Loads libcurl on the first call
 * (PKGFLAT_LIBCURL names another file than libcurl.so.4); when it cannot
 * be loaded, fails with PKGFLAT_E_IO naming url, the server the caller is
 * about to reach. */
pkgflat_status net_client_new(const char *ca_file, int timeout,
    const char *url, net_client **out, pkgflat_error *err);
void net_client_free(net_client *c);

typedef struct net_request {
	const char *method;            /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *const *headers;    /* "Name: value", NULL-terminated */
	const void *body;              /* a body in memory... */
	size_t body_len;
	int body_fd;                   /* ...or body_len64 bytes of this file */
	uint64_t body_off, body_len64; /* from body_off (body_fd >= 0) */
	size_t max_answer;             /* 0: 16 MiB */
} net_request;

typedef struct net_answer {
	long status;                   /* HTTP status */
	strbuf body;
	char etag[128];                /* the ETag header, quotes kept */
} net_answer;

/* Send one request; PKGFLAT_OK whenever an HTTP answer came back, whatever
 * its status. A failure to connect, resolve, verify TLS or transfer is
 * PKGFLAT_E_IO naming the host. */
pkgflat_status net_send(net_client *c, const net_request *rq, net_answer *an,
    pkgflat_error *err);
void net_answer_free(net_answer *an);

/* The host[:port] of a URL, for messages; "" when it has none. */
void net_url_host(const char *url, char *out, size_t size);

#endif
