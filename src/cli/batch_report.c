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

/* XML 1.0 text: markup escaped, control characters and bad UTF-8 as '?'. */
static void xml_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 &&
		    c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n == 0 || (c < 0x20 && c != '\t' && c != '\n')) {
			fputc('?', f);
			p++;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fwrite(p, 1, (size_t)n, f);
		}
		p += n;
	}
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
		xml_text(f, it->input);
		if (it->member) {
			fputc('(', f);
			xml_text(f, it->member);
			fputc(')', f);
		}
		fprintf(f, "\" time=\"%.3f\">\n", it->seconds);
		if (it->st == ST_FAILED) {
			fputs("      <failure message=\"", f);
			xml_text(f, it->error ? it->error : "failed");
			fputs("\"/>\n", f);
		} else if (it->st != ST_CONVERTED && it->st != ST_SKIPPED)
			fputs("      <skipped message=\"interrupted\"/>\n", f);
		fputs("      <system-out>", f);
		xml_text(f, batch_status_names[it->st]);
		fputs(": ", f);
		xml_text(f, it->out);
		for (size_t k = 0; k < it->nwarnings; k++) {
			fputs("\nwarning: ", f);
			xml_text(f, it->warnings[k]);
		}
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return output_fclose(f, tmp, b->junit);
}
