/* pkgflat batch: the JSON report (OUTDIR/pkgflat-report.json) and the
 * JUnit XML one. */
#include <string.h>

#include "batch.h"

/* Reports                                                            */

/* What the notarization pre-flight found in an output; null when it did
 * not run (--no-preflight, or nothing converted). */
static void preflight_json(json *j, const struct item *it)
{
	if (!it->pf_run) {
		json_string(j, "preflight", NULL);
		return;
	}
	json_begin_object(j, "preflight");
	json_string(j, "team", it->pf_team);
	json_uint(j, "binaries", it->pf_binaries);
	json_uint(j, "rejected", it->pf_rejected);
	json_begin_array(j, "rejections");
	for (size_t k = 0; k < it->npf_rejects; k++) {
		const struct pf_reject *r = &it->pf_rejects[k];
		json_begin_object(j, NULL);
		json_string(j, "component", r->component);
		json_string(j, "path", r->path);
		json_string(j, "archs", r->archs);
		json_begin_array(j, "reasons");
		for (unsigned int bit = 1; bit; bit <<= 1)
			if ((r->reasons & bit) && pkgflat_notary_reason_name(bit))
				json_string(j, NULL, pkgflat_notary_reason_name(bit));
		json_end_array(j);
		json_string(j, "text", r->text);
		json_end_object(j);
	}
	json_end_array(j);
	json_string(j, "error", it->pf_error);
	json_end_object(j);
}

/* A testcase fails when its input did not convert or, with --notarize,
 * was not notarized. */
static int junit_failed(const struct batch *b, const struct item *it)
{
	return it->st == ST_FAILED ||
	    (b->notarize && batch_notary_failed(it, b->staple));
}

int batch_write_report(struct batch *b)
{
	char *path = batch_xprintf("%s/%s", b->outdir, REPORT_NAME);
	pkgflat_output *tmp;
	FILE *f = output_fopen(path, &tmp);
	int rc;

	if (!f) {
		free(path);
		return EXIT_ERROR;
	}
	json j = { .f = f };
	json_begin_object(&j, NULL);
	json_string(&j, "pkgflat", PKGFLAT_VERSION);
	json_string(&j, "outdir", b->outdir);
	json_begin_array(&j, "options");
	for (size_t i = 0; i < b->co.ngiven; i++)
		json_string(&j, NULL, b->co.given[i]);
	json_end_array(&j);
	json_string(&j, "options_sha256", b->opt_sha);
	json_bool(&j, "interrupted", batch_stop_signal != 0);
	json_begin_object(&j, "summary");
	json_uint(&j, "inputs", b->n);
	json_uint(&j, "converted", b->converted);
	json_uint(&j, "up-to-date", b->skipped);
	json_uint(&j, "failed", b->failed);
	json_uint(&j, "interrupted", b->n - b->done);
	size_t rejecting = 0, notarized = 0, nfailed = 0;
	for (size_t i = 0; i < b->n; i++) {
		rejecting += b->items[i].pf_rejected > 0;
		nfailed += batch_notary_failed(&b->items[i], b->staple);
		notarized += b->items[i].ns == NS_STAPLED_BEFORE ||
		    (b->items[i].ns == NS_SUBMITTED &&
		    !batch_notary_failed(&b->items[i], b->staple));
	}
	json_uint(&j, "preflight_rejecting", rejecting);
	if (b->notarize) {
		json_uint(&j, "notarized", notarized);
		json_uint(&j, "notarization_failed", nfailed);
	}
	json_end_object(&j);
	json_begin_array(&j, "inputs");
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		int done = it->st == ST_CONVERTED || it->st == ST_SKIPPED;
		json_begin_object(&j, NULL);
		json_string(&j, "input", it->input);
		json_string(&j, "member", it->member);
		json_string(&j, "status", batch_status_names[it->st]);
		json_string(&j, "output", it->out);
		char *wanted = strcmp(it->wanted, it->rel) ?
		    batch_xprintf("%s/%s", b->outdir, it->wanted) : NULL;
		json_string(&j, "renamed_from", wanted);
		free(wanted);
		json_string(&j, "input_sha256", it->in_sha[0] ? it->in_sha : NULL);
		json_string(&j, "output_sha256", done ? it->out_sha : NULL);
		if (it->in_sha[0])
			json_uint(&j, "input_bytes", it->in_bytes);
		if (done)
			json_uint(&j, "output_bytes", it->out_bytes);
		json_int(&j, "duration_ms", (long long)(it->seconds * 1000 + 0.5));
		json_begin_array(&j, "warnings");
		for (size_t k = 0; k < it->nwarnings; k++)
			json_string(&j, NULL, it->warnings[k]);
		json_end_array(&j);
		json_string(&j, "error", it->error);
		/* --check: what the comparison of output and input said. */
		if (b->co.opt.check)
			json_string(&j, "check", it->st == ST_CONVERTED ? "equivalent" :
			    it->error && strstr(it->error, "--check:") ? "different" :
			    NULL);
		preflight_json(&j, it);
		if (b->notarize)
			batch_notary_json(&j, it, b->staple);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "ignored");
	for (size_t i = 0; i + 1 < b->nignored; i += 2) {
		json_begin_object(&j, NULL);
		json_string(&j, "path", b->ignored[i]);
		json_string(&j, "reason", b->ignored[i + 1]);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	rc = output_fclose(f, tmp, path);
	free(path);
	return rc;
}

int batch_write_html(struct batch *b, const char *path)
{
	struct html_input *rows = batch_xrealloc(NULL, (b->n ? b->n : 1) *
	    sizeof *rows);
	char **notary = batch_xrealloc(NULL, (b->n ? b->n : 1) * sizeof *notary);
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		rows[i] = (struct html_input){
			.input = it->input, .status = batch_status_names[it->st],
			.output = it->out, .error = it->error,
			.in_bytes = it->in_bytes, .out_bytes = it->out_bytes,
			.seconds = it->seconds,
			.warnings = (const char *const *)it->warnings,
			.nwarnings = it->nwarnings,
			.mappings = (const char *const *)it->mappings,
			.nmappings = it->nmappings,
			.notary = notary[i] = b->notarize ? batch_notary_text(it) : NULL,
			.notary_failed = b->notarize && batch_notary_failed(it, b->staple),
		};
	}
	rc = html_batch_write(path, b->outdir, rows, b->n);
	for (size_t i = 0; i < b->n; i++)
		free(notary[i]);
	free(notary);
	free(rows);
	return rc;
}

/* Why the notarization failed, one line each: the binaries the pre-flight
 * refused, or the developer log's issues. */
static void junit_notary_reasons(FILE *f, const struct item *it)
{
	for (size_t k = 0; it->ns == NS_REFUSED && k < it->npf_rejects; k++) {
		const struct pf_reject *r = &it->pf_rejects[k];
		markup_text(f, r->component);
		fputc(' ', f);
		markup_text(f, r->path);
		fputs(" (", f);
		markup_text(f, r->archs);
		fputs("): ", f);
		markup_text(f, r->text);
		fputc('\n', f);
	}
	const pkgflat_notary_log *log = it->ns == NS_SUBMITTED ? it->nr->log :
	    NULL;
	for (size_t k = 0; log && k < pkgflat_notary_log_issue_count(log); k++) {
		const pkgflat_notary_issue *is = pkgflat_notary_log_issue(log, k);
		markup_text(f, is->severity ? is->severity : "issue");
		fputs(": ", f);
		markup_text(f, is->path ? is->path : "(no path)");
		if (is->architecture) {
			fputs(" [", f);
			markup_text(f, is->architecture);
			fputc(']', f);
		}
		fputs(": ", f);
		markup_text(f, is->message ? is->message : "");
		if (is->doc_url) {
			fputs(" (", f);
			markup_text(f, is->doc_url);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

int batch_write_junit(struct batch *b)
{
	pkgflat_output *tmp;
	FILE *f = output_fopen(b->junit, &tmp);
	double total = batch_since(&b->t0);
	size_t skipped = b->n - b->done, failures = 0;

	if (!f)
		return EXIT_ERROR;
	for (size_t i = 0; i < b->n; i++)
		failures += junit_failed(b, &b->items[i]);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "time=\"%.3f\">\n"
	    "  <testsuite name=\"pkgflat batch\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
	    b->n, failures, total, b->n, failures, skipped, total);
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		fputs("    <testcase classname=\"pkgflat.batch\" name=\"", f);
		markup_text(f, it->input);
		if (it->member) {
			fputc('(', f);
			markup_text(f, it->member);
			fputc(')', f);
		}
		fprintf(f, "\" time=\"%.3f\">\n", it->seconds);
		char *nt = b->notarize ? batch_notary_text(it) : NULL;
		if (it->st == ST_FAILED) {
			fputs("      <failure message=\"", f);
			markup_text(f, it->error ? it->error : "failed");
			fputs("\"/>\n", f);
		} else if (junit_failed(b, it)) {
			fputs("      <failure message=\"notarization: ", f);
			markup_text(f, nt);
			fputs("\">", f);
			junit_notary_reasons(f, it);
			fputs("</failure>\n", f);
		} else if (it->st != ST_CONVERTED && it->st != ST_SKIPPED)
			fputs("      <skipped message=\"interrupted\"/>\n", f);
		fputs("      <system-out>", f);
		markup_text(f, batch_status_names[it->st]);
		fputs(": ", f);
		markup_text(f, it->out);
		for (size_t k = 0; k < it->nwarnings; k++) {
			fputs("\nwarning: ", f);
			markup_text(f, it->warnings[k]);
		}
		if (nt) {
			fputs("\nnotarization: ", f);
			markup_text(f, nt);
		}
		free(nt);
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return output_fclose(f, tmp, b->junit);
}
