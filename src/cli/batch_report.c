/* pkgflat batch: the JSON report (OUTDIR/pkgflat-report.json) and the
 * JUnit XML one. */
#include <string.h>

#include "batch.h"

/* Reports                                                            */

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
		};
	}
	rc = html_batch_write(path, b->outdir, rows, b->n);
	free(rows);
	return rc;
}

int batch_write_junit(struct batch *b)
{
	pkgflat_output *tmp;
	FILE *f = output_fopen(b->junit, &tmp);
	double total = batch_since(&b->t0);
	size_t skipped = b->n - b->done;

	if (!f)
		return EXIT_ERROR;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "time=\"%.3f\">\n"
	    "  <testsuite name=\"pkgflat batch\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
	    b->n, b->failed, total, b->n, b->failed, skipped, total);
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
		if (it->st == ST_FAILED) {
			fputs("      <failure message=\"", f);
			markup_text(f, it->error ? it->error : "failed");
			fputs("\"/>\n", f);
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
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return output_fclose(f, tmp, b->junit);
}
