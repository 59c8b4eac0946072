/*
 * pkgflat_verify(): check a flat package the way pkgutil --check-signature
 * and Installer do (flat-format.md §1, §2 and §4), as a table of checks.
 * Adding a check is one row in `checks` below and one function: it gets
 * the shared context (verify.h) and reports pass, fail, skipped or
 * not-applicable with a message. Rows say what a check needs (a readable
 * TOC, a signature, a leaf certificate) so the driver can skip it with the
 * reason, which verdict a failure of it means, and whether it checks the
 * package structure (left out with signature_only) or the signature.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sign.h"
#include "verify.h"

enum needs {
	NEED_TOC = 1,       /* a TOC that inflated and parsed */
	NEED_SIGNED = 2,    /* a <signature> or <x-signature> */
	NEED_LEAF = 4,      /* a leaf certificate in a KeyInfo */
	NEED_CTOC = 8       /* the compressed TOC bytes */
};

static const struct check {
	const char *name;
	unsigned needs;
	int structure;      /* a package-structure check, not a signature one */
	enum pkgflat_verdict on_fail;
	check_fn run;
} checks[] = {
	{ .name = "xar-structure", .on_fail = PKGFLAT_VERDICT_INVALID,
	  .run = check_xar },
	{ .name = "toc-checksum", .needs = NEED_CTOC,
	  .on_fail = PKGFLAT_VERDICT_INVALID, .run = check_toc_checksum },
	{ .name = "file-checksums", .needs = NEED_TOC,
	  .on_fail = PKGFLAT_VERDICT_INVALID, .run = check_files },
	{ .name = "rsa-signature", .needs = NEED_TOC | NEED_SIGNED,
	  .on_fail = PKGFLAT_VERDICT_BAD_SIGNATURE, .run = check_rsa },
	{ .name = "cms-signature", .needs = NEED_TOC | NEED_SIGNED,
	  .on_fail = PKGFLAT_VERDICT_BAD_SIGNATURE, .run = check_cms },
	{ .name = "chain", .needs = NEED_TOC | NEED_SIGNED | NEED_LEAF,
	  .on_fail = PKGFLAT_VERDICT_UNTRUSTED, .run = check_chain },
	{ .name = "policy", .needs = NEED_TOC | NEED_SIGNED | NEED_LEAF,
	  .on_fail = PKGFLAT_VERDICT_NOT_INSTALLER, .run = check_policy },
	{ .name = "time", .needs = NEED_TOC | NEED_SIGNED | NEED_LEAF,
	  .on_fail = PKGFLAT_VERDICT_EXPIRED, .run = check_time },
	{ .name = "package-structure", .needs = NEED_TOC, .structure = 1,
	  .on_fail = PKGFLAT_VERDICT_INVALID, .run = check_structure },
};
#define NCHECKS (sizeof checks / sizeof *checks)

struct pkgflat_verify_report {
	pkgflat_check results[NCHECKS];
	size_t failures;
	enum pkgflat_verdict verdict;
	pkgflat_verify_facts facts;
	pkgflat_cert *certs;
	size_t ncerts;
	ptrvec notes;
};

static const char *const result_names[] = {
	[PKGFLAT_CHECK_PASS] = "pass",
	[PKGFLAT_CHECK_FAIL] = "fail",
	[PKGFLAT_CHECK_SKIPPED] = "skipped",
	[PKGFLAT_CHECK_NA] = "not-applicable",
};

const char *pkgflat_check_result_name(enum pkgflat_check_result r)
{
	return (size_t)r < sizeof result_names / sizeof *result_names ?
	    result_names[r] : "?";
}

static const char *const verdict_names[] = {
	[PKGFLAT_VERDICT_DEVELOPER_ID] = "developer-id",
	[PKGFLAT_VERDICT_APPLE_TRUSTED] = "apple-trusted",
	[PKGFLAT_VERDICT_CA_TRUSTED] = "ca-trusted",
	[PKGFLAT_VERDICT_UNSIGNED] = "unsigned",
	[PKGFLAT_VERDICT_INVALID] = "invalid",
	[PKGFLAT_VERDICT_BAD_SIGNATURE] = "bad-signature",
	[PKGFLAT_VERDICT_UNTRUSTED] = "untrusted",
	[PKGFLAT_VERDICT_NOT_INSTALLER] = "not-installer",
	[PKGFLAT_VERDICT_EXPIRED] = "expired",
};

const char *pkgflat_verdict_name(enum pkgflat_verdict v)
{
	return (size_t)v < sizeof verdict_names / sizeof *verdict_names ?
	    verdict_names[v] : "?";
}

void pkgflat_verify_options_init(pkgflat_verify_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->at = -1;
}

static void note_free(void *p)
{
	pkgflat_verify_note *n = p;

	if (n)
		free((char *)n->text);
	free(n);
}

/* ------------------------------------------------------------------ */
/* Trust store                                                        */

static int load_pem_certs(BIO *b, STACK_OF(X509) *into)
{
	X509 *x;
	int n = 0;

	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (!sk_X509_push(into, x)) {
			X509_free(x);
			break;
		}
		n++;
	}
	ERR_clear_error();
	return n;
}

static pkgflat_status load_trust(struct vctx *v, pkgflat_error *err)
{
	if (!(v->trusted = sk_X509_new_null()) || !(v->apple = sk_X509_new_null()))
		return fail_nomem(err);
	if (!v->opt->no_apple_roots) {
		/* Only the self-signed Apple certificates are anchors; the
		 * bundled Developer ID CA is there to complete chains. */
		const char *const pems[] = { apple_certs_pem, apple_roots_pem };
		STACK_OF(X509) *all = sk_X509_new_null();
		for (size_t i = 0; all && i < sizeof pems / sizeof *pems; i++) {
			BIO *b = BIO_new_mem_buf(pems[i], -1);
			if (b)
				load_pem_certs(b, all);
			BIO_free(b);
		}
		for (int i = 0; all && i < sk_X509_num(all); i++) {
			X509 *x = sk_X509_value(all, i);
			if (X509_check_issued(x, x) == X509_V_OK &&
			    X509_up_ref(x) && X509_up_ref(x)) {
				sk_X509_push(v->trusted, x);
				sk_X509_push(v->apple, x);
			}
		}
		sk_X509_pop_free(all, X509_free);
		if (!sk_X509_num(v->apple))
			return fail(err, PKGFLAT_E_INTERNAL, NULL, NULL,
			    "cannot load the bundled Apple roots");
	}
	for (size_t i = 0; i < v->opt->ca_count; i++) {
		const char *f = v->opt->ca_files[i];
		BIO *b = BIO_new_file(f, "rb");
		if (!b) {
			ERR_clear_error();
			return fail_errno(err, f, "cannot open");
		}
		int n = load_pem_certs(b, v->trusted);
		BIO_free(b);
		if (!n)
			return fail(err, PKGFLAT_E_FORMAT, f, NULL,
			    "no PEM certificate in it");
	}
	return PKGFLAT_OK;
}

/* ------------------------------------------------------------------ */
/* The driver                                                         */

static const char *unmet(const struct vctx *v, unsigned needs)
{
	if ((needs & NEED_CTOC) && !v->ctoc)
		return "the compressed TOC cannot be read";
	if ((needs & NEED_TOC) && !v->toc)
		return "the TOC cannot be read";
	if ((needs & NEED_SIGNED) && !v->facts.is_signed)
		return NULL; /* not-applicable, not skipped */
	if ((needs & NEED_LEAF) && !verify_leaf(v))
		return "no certificate in the signature's KeyInfo";
	return "";
}

static void fill_cert(pkgflat_cert *c, X509 *x, int from_store)
{
	char buf[1024];
	unsigned char md[32];
	unsigned int n = 0;
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME *name = X509_get_subject_name(x);
	int cn = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		int l = BIO_read(b, buf, sizeof buf - 1);
		buf[l > 0 ? l : 0] = '\0';
		c->subject = pf_strdup(buf);
	}
	BIO_free(b);
	if (cn >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, cn));
		unsigned char *u = NULL;
		int l = ASN1_STRING_to_UTF8(&u, s);
		if (l >= 0)
			c->common_name = pf_strndup((const char *)u, (size_t)l);
		OPENSSL_free(u);
	}
	if (!c->common_name)
		c->common_name = pf_strdup(c->subject ? c->subject : "");
	if (!c->subject)
		c->subject = pf_strdup("");
	if (X509_digest(x, EVP_sha256(), md, &n) && n == 32)
		verify_hex(md, 32, c->sha256);
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm))
		c->not_before = (int64_t)timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		c->not_after = (int64_t)timegm(&tm);
	c->from_store = from_store;
	ERR_clear_error();
}

static void fill_certs(pkgflat_verify_report *r, const struct vctx *v)
{
	STACK_OF(X509) *s = v->chain ? v->chain :
	    sk_X509_num(v->rsa_certs) > 0 ? v->rsa_certs : v->cms_certs;
	int n = sk_X509_num(s);

	if (n <= 0 || !(r->certs = pf_calloc((size_t)n, sizeof *r->certs)))
		return;
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(s, i);
		int carried = 0;
		for (int k = 0; k < sk_X509_num(v->rsa_certs) && !carried; k++)
			carried = !X509_cmp(x, sk_X509_value(v->rsa_certs, k));
		for (int k = 0; k < sk_X509_num(v->cms_certs) && !carried; k++)
			carried = !X509_cmp(x, sk_X509_value(v->cms_certs, k));
		fill_cert(&r->certs[i], x, !carried);
	}
	r->ncerts = (size_t)n;
}

static enum pkgflat_verdict verdict(const pkgflat_verify_report *r)
{
	for (size_t i = 0; i < NCHECKS; i++)
		if (r->results[i].result == PKGFLAT_CHECK_FAIL)
			return checks[i].on_fail;
	if (!r->facts.is_signed)
		return PKGFLAT_VERDICT_UNSIGNED;
	if (!r->facts.apple_root)
		return PKGFLAT_VERDICT_CA_TRUSTED;
	return r->facts.policy == PKGFLAT_POLICY_DEVELOPER_ID ?
	    PKGFLAT_VERDICT_DEVELOPER_ID : PKGFLAT_VERDICT_APPLE_TRUSTED;
}

static void vctx_free(struct vctx *v)
{
	if (v->fd >= 0)
		close(v->fd);
	free(v->ctoc);
	xmlFreeDoc(v->doc);
	sk_X509_pop_free(v->rsa_certs, X509_free);
	sk_X509_pop_free(v->cms_certs, X509_free);
	CMS_ContentInfo_free(v->cms);
	sk_X509_pop_free(v->trusted, X509_free);
	sk_X509_pop_free(v->apple, X509_free);
	sk_X509_pop_free(v->chain, X509_free);
	pv_free(&v->notes, note_free);
}

/*
 * The package-structure check inflates every payload; file-checksums reads
 * and hashes the whole heap. Neither needs the other, so the structure check
 * runs on a second thread from the moment the TOC is known to be readable,
 * with a context of its own (it reads only the path and adds notes), and the
 * driver picks up its result at its row. Its notes go last, where its row
 * is.
 */
struct side_check {
	const struct check *c;
	struct vctx v;
	strbuf msg;
	enum pkgflat_check_result result;
	pthread_t th;
	int running;
};

static void *side_run(void *p)
{
	struct side_check *s = p;

	s->result = s->c->run(&s->v, &s->msg);
	ERR_clear_error();
	return NULL;
}

static void side_start(struct side_check *s, const struct check *c,
    const struct vctx *v)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->v.path = v->path;
	s->v.fd = -1;
	s->v.opt = v->opt;
	s->v.check = c->name;
	s->running = pthread_create(&s->th, NULL, side_run, s) == 0;
	if (!s->running)
		s->c = NULL; /* no thread: the row runs in its turn */
}

/* Wait for it; its notes join v's. */
static int side_join(struct side_check *s, struct vctx *v)
{
	int oom = 0;

	if (!s->running)
		return 0;
	pthread_join(s->th, NULL);
	s->running = 0;
	for (size_t i = 0; i < s->v.notes.n; i++)
		if (!oom && pv_push(&v->notes, s->v.notes.v[i]) == 0)
			s->v.notes.v[i] = NULL;
		else
			oom = 1;
	vctx_free(&s->v);
	return oom;
}

pkgflat_status pkgflat_verify(const char *path,
    const pkgflat_verify_options *opt, pkgflat_verify_report **out,
    pkgflat_error *err)
{
	struct side_check side = { 0 };
	pkgflat_verify_options defaults;
	struct vctx v = { .fd = -1 };
	pkgflat_verify_report *r = NULL;
	pkgflat_status rc = PKGFLAT_OK;
	unsigned char magic[4];
	struct stat st;

	*out = NULL;
	if (!opt) {
		pkgflat_verify_options_init(&defaults);
		opt = &defaults;
	}
	v.path = path;
	v.opt = opt;
	v.facts.judged_by = "now";
	if ((v.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail_errno(err, path, "cannot open");
	if (fstat(v.fd, &st) != 0) {
		rc = fail_errno(err, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, PKGFLAT_E_USAGE, path, NULL, "not a regular file");
		goto out;
	}
	v.file_size = (uint64_t)st.st_size;
	posix_fadvise(v.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Not a XAR at all is an error, not a failed check. */
	if (v.file_size < 4 || (rc = xar_pread(v.fd, 0, magic, 4, path, err)) ||
	    memcmp(magic, "xar!", 4)) {
		rc = rc ? rc : fail(err, PKGFLAT_E_FORMAT, path, "offset 0",
		    "not a flat package (no \"xar!\" magic)");
		goto out;
	}
	if ((rc = load_trust(&v, err)))
		goto out;
	if (!(r = pf_calloc(1, sizeof *r))) {
		rc = fail_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < NCHECKS; i++) {
		const struct check *c = &checks[i];
		pkgflat_check *res = &r->results[i];
		strbuf msg = { 0 };
		const char *why = unmet(&v, c->needs);

		/* Start the last row, the structure check, early once it can
		 * run (after xar-structure has read the TOC). */
		const struct check *last = &checks[NCHECKS - 1];
		const char *last_why = unmet(&v, last->needs);
		if (i > 0 && i < NCHECKS - 1 && !side.c && last->structure &&
		    !opt->signature_only && last_why && !*last_why)
			side_start(&side, last, &v);
		res->name = c->name;
		v.check = c->name;
		if (c == side.c) {
			if (side_join(&side, &v))
				msg.oom = 1;
			res->result = side.result;
			if (side.msg.oom)
				msg.oom = 1;
			sb_add(&msg, side.msg.buf ? side.msg.buf : "", side.msg.len);
			sb_free(&side.msg);
		} else if (c->structure && opt->signature_only) {
			res->result = PKGFLAT_CHECK_SKIPPED;
			sb_adds(&msg, "left out: signature checks only");
		} else if (!why) {
			res->result = PKGFLAT_CHECK_NA;
			sb_adds(&msg, "the package is not signed");
		} else if (*why) {
			res->result = PKGFLAT_CHECK_SKIPPED;
			sb_adds(&msg, why);
		} else
			res->result = c->run(&v, &msg);
		ERR_clear_error();
		if (msg.oom || !(res->message = sb_detach(&msg))) {
			sb_free(&msg);
			rc = fail_nomem(err);
			goto out;
		}
		if (res->result == PKGFLAT_CHECK_FAIL)
			r->failures++;
	}
	r->facts = v.facts;
	r->notes = v.notes;
	memset(&v.notes, 0, sizeof v.notes);
	r->verdict = verdict(r);
	fill_certs(r, &v);
	*out = r;
	r = NULL;
	rc = PKGFLAT_OK;
out:
	side_join(&side, &v);
	sb_free(&side.msg);
	pkgflat_verify_report_free(r);
	vctx_free(&v);
	return rc;
}

void pkgflat_verify_report_free(pkgflat_verify_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < NCHECKS; i++)
		free((char *)r->results[i].message);
	for (size_t i = 0; i < r->ncerts; i++) {
		free((char *)r->certs[i].subject);
		free((char *)r->certs[i].common_name);
	}
	free(r->certs);
	pv_free(&r->notes, note_free);
	free(r);
}

size_t pkgflat_verify_note_count(const pkgflat_verify_report *r)
{
	return r ? r->notes.n : 0;
}

const pkgflat_verify_note *pkgflat_verify_get_note(
    const pkgflat_verify_report *r, size_t i)
{
	return r && i < r->notes.n ? r->notes.v[i] : NULL;
}

size_t pkgflat_verify_check_count(const pkgflat_verify_report *r)
{
	return r ? NCHECKS : 0;
}

const pkgflat_check *pkgflat_verify_check(const pkgflat_verify_report *r,
    size_t i)
{
	return r && i < NCHECKS ? &r->results[i] : NULL;
}

size_t pkgflat_verify_failures(const pkgflat_verify_report *r)
{
	return r ? r->failures : 0;
}

enum pkgflat_verdict pkgflat_verify_verdict(const pkgflat_verify_report *r)
{
	return r->verdict;
}

const pkgflat_verify_facts *pkgflat_verify_get_facts(
    const pkgflat_verify_report *r)
{
	return &r->facts;
}

size_t pkgflat_verify_cert_count(const pkgflat_verify_report *r)
{
	return r ? r->ncerts : 0;
}

const pkgflat_cert *pkgflat_verify_cert(const pkgflat_verify_report *r,
    size_t i)
{
	return r && i < r->ncerts ? &r->certs[i] : NULL;
}
