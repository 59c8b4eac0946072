/* pkgflat batch --notarize: after the conversions, every output the
 * pre-flight let through goes to Apple's notary service at once
 * (notarize_many: submitted in parallel, waited for together, stapled when
 * accepted); what became of each is kept for the reports. */
#include <string.h>

#include "batch.h"

/* Remember a stapled output's new digest, so that the next run finds it up
 * to date instead of converting (and notarizing) it again. */
static void restate(struct batch *b, struct item *it)
{
	pkgflat_error err;

	pkgflat_error_clear(&err);
	if (pkgflat_digest_path(it->out, it->out_sha, &it->out_bytes, &err)) {
		report_error(&err);
		return;
	}
	batch_state_update(b, it);
}

/* Up to date and stapled by an earlier run: nothing to send again. */
static int stapled_before(struct item *it)
{
	pkgflat_flat_info fi;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	if (it->st != ST_SKIPPED || pkgflat_flat_inspect(it->out, &fi, &err) ||
	    !fi.stapled)
		return 0;
	snprintf(it->stapled_before, sizeof it->stapled_before, "%s",
	    fi.ticket_key);
	return 1;
}

int batch_notarize(struct batch *b)
{
	const char **paths = batch_xrealloc(NULL, (b->n + 1) * sizeof *paths);
	size_t *idx = batch_xrealloc(NULL, (b->n + 1) * sizeof *idx);
	size_t k = 0, refused = 0;
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		if (it->st != ST_CONVERTED && it->st != ST_SKIPPED)
			continue;
		if (it->pf_run && (it->pf_rejected || it->pf_error)) {
			it->ns = NS_REFUSED;
			refused++;
		} else if (stapled_before(it))
			it->ns = NS_STAPLED_BEFORE;
		else {
			paths[k] = it->out;
			idx[k++] = i;
		}
	}
	if (!b->quiet)
		fprintf(stderr, "%s batch: notarizing %zu output%s (%zu refused by "
		    "the pre-flight)\n", progname, k, k == 1 ? "" : "s", refused);
	b->nres = batch_xrealloc(NULL, (k + 1) * sizeof *b->nres);
	rc = notarize_many(paths, k, b->jobs, &b->key, b->staple, b->wait_limit,
	    b->nres);
	for (size_t j = 0; j < k; j++) {
		struct item *it = &b->items[idx[j]];
		it->ns = NS_SUBMITTED;
		it->nr = &b->nres[j];
		if (it->nr->stapled)
			restate(b, it);
	}
	if (k)
		batch_state_write(b);
	free(paths);
	free(idx);
	return refused && rc == EXIT_OK ? EXIT_NEGATIVE : rc;
}

int batch_notary_failed(const struct item *it, int staple)
{
	switch (it->ns) {
	case NS_REFUSED:
		return 1;
	case NS_SUBMITTED:
		return it->nr->exit != EXIT_OK || (staple && !it->nr->stapled);
	default:
		return 0;
	}
}

char *batch_notary_text(const struct item *it)
{
	const struct notarize_result *r = it->nr;

	switch (it->ns) {
	case NS_NONE:
		return NULL;
	case NS_REFUSED:
		if (it->pf_error)
			return batch_xprintf("not submitted: the pre-flight could not "
			    "read it: %s", it->pf_error);
		return batch_xprintf("not submitted: the notary service would "
		    "reject %llu of its %llu binar%s (pre-flight)",
		    (unsigned long long)it->pf_rejected,
		    (unsigned long long)it->pf_binaries,
		    it->pf_binaries == 1 ? "y" : "ies");
	case NS_STAPLED_BEFORE:
		return batch_xprintf("already stapled (ticket %s)",
		    it->stapled_before);
	case NS_SUBMITTED:
		break;
	}
	if (!r->id[0])
		return batch_xprintf("not submitted: %s", r->error);
	const char *sum = r->log ? pkgflat_notary_log_field(r->log,
	    "statusSummary") : NULL;
	return batch_xprintf("%s: %s%s%s%s%s%s%s%s", r->id, r->status,
	    r->stapled ? ", stapled (ticket " : "", r->stapled ? r->record : "",
	    r->stapled ? ")" : "", sum ? ": " : "", sum ? sum : "",
	    r->error[0] ? ": " : "", r->error);
}

void batch_notary_json(json *j, const struct item *it, int staple)
{
	const struct notarize_result *r = it->nr;
	int sub = it->ns == NS_SUBMITTED;

	json_begin_object(j, "notarization");
	json_string(j, "status", sub ? (r->status[0] ? r->status : "error") :
	    it->ns == NS_STAPLED_BEFORE ? "stapled-before" : "not-submitted");
	json_bool(j, "submitted", sub && r->id[0]);
	json_bool(j, "refused_by_preflight", it->ns == NS_REFUSED);
	json_string(j, "id", sub && r->id[0] ? r->id : NULL);
	json_string(j, "sha256", sub && r->sha256[0] ? r->sha256 : NULL);
	json_bool(j, "stapled", sub ? r->stapled : it->ns == NS_STAPLED_BEFORE);
	json_string(j, "record", sub && r->stapled ? r->record :
	    it->ns == NS_STAPLED_BEFORE ? it->stapled_before : NULL);
	json_bool(j, "failed", batch_notary_failed(it, staple));
	int made = it->st == ST_CONVERTED || it->st == ST_SKIPPED;
	json_string(j, "error", sub && r->error[0] ? r->error : it->ns ==
	    NS_REFUSED ? "refused by the notarization pre-flight" : it->ns !=
	    NS_NONE ? NULL : made ? "not submitted: the run was interrupted" :
	    "not converted");
	if (sub && r->log)
		notary_json_issues(j, r->log);
	json_end_object(j);
}
