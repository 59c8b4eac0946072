/*
 * Tickets (notary.h): the lookup stapler uses, a CloudKit records lookup,
 *   POST {ticket} {"records":[{"recordName":"2/<type>/<hex>"}]}
 *   -> records[].fields.signedTicket {"type":"BYTES","value":base64}
 *      or {"serverErrorCode":"NOT_FOUND"} while not (yet) published,
 * for a flat package's record (its TOC checksum, flat.c), then the staple
 * and a check of what was written.
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

#include "notary.h"

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
		notary_emit(n, PKGFLAT_NOTARY_RETRY, rc ? e.message : "ticket lookup: HTTP 5xx");
		notary_sleep_ms(notary_retry_delay(n, attempt), NULL);
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
		    notary_hash_range(fd, 0, (uint64_t)st.st_size, path, now, err);
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
		notary_emit(n, PKGFLAT_NOTARY_TICKET_WAIT, info.ticket_key);
		notary_sleep_ms(interval < left ? interval : (unsigned)left, stop);
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
