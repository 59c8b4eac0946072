/*
 * HTML reports of batch and diff: one self-contained file each (styles and
 * the sorting script inline, no network, no external assets), readable in
 * any browser and valid for an HTML parser (xmllint --html): only HTML 4
 * elements, everything escaped, bad UTF-8 and control characters as '?'.
 *
 * Tables with class "sortable" sort by a column when its header is
 * clicked (again: descending); cells with data-v sort by that number. A
 * "#sort=N" or "#sort=N-desc" fragment sorts at load, so that a link can
 * point at a sorted view.
 */
#include <string.h>

#include "cli.h"

void markup_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		unsigned c = *p;
		int n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 &&
		    c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n == 0 || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
			fputc('?', f);
			p++;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fwrite(p, 1, (size_t)n, f);
		}
		p += n;
	}
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;"
    "vertical-align:top}"
    "th{background:#eee;cursor:pointer;user-select:none}"
    "th:hover{background:#ddd}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.failed td,td.notary-failed{background:#fde8e8}tr.interrupted td{background:#fff6dd}"
    "ul{margin:0;padding-left:1.2em}"
    ".mono{font-family:ui-monospace,monospace;overflow-wrap:anywhere}"
    ".summary span{margin-right:1.5em}";

/* No "</" anywhere in it: the script ends at the first one. */
static const char script[] =
    "function pkgflatSort(t,c,desc){"
    "var b=t.tBodies[0],r=Array.prototype.slice.call(b.rows);"
    "function key(row){var e=row.cells[c];if(!e)return '';"
    "var v=e.getAttribute('data-v');return v===null?e.textContent:"
    "parseFloat(v);}"
    "r.sort(function(x,y){var a=key(x),z=key(y),v;"
    "if(typeof a==='number'&&typeof z==='number')v=a-z;"
    "else v=String(a).localeCompare(String(z));return desc?-v:v;});"
    "for(var i=0;i<r.length;i++)b.appendChild(r[i]);"
    "t.setAttribute('data-sorted',c+(desc?'-desc':''));}"
    "var ts=document.querySelectorAll('table.sortable');"
    "for(var i=0;i<ts.length;i++)(function(t){"
    "var hs=t.tHead.rows[0].cells;"
    "for(var j=0;j<hs.length;j++)(function(c){hs[c].onclick=function(){"
    "pkgflatSort(t,c,t.getAttribute('data-sorted')===String(c));};})(j);"
    "})(ts[i]);"
    "var m=/sort=([0-9]+)(-desc)?/.exec(location.hash);"
    "if(m)for(var k=0;k<ts.length;k++)"
    "pkgflatSort(ts[k],parseInt(m[1],10),!!m[2]);";

static void head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta http-equiv=\"Content-Type\" content=\"text/html; "
	    "charset=utf-8\">\n<title>", f);
	markup_text(f, title);
	fprintf(f, "</title>\n<style type=\"text/css\">%s</style>\n</head>\n"
	    "<body>\n<h1>", style);
	markup_text(f, title);
	fputs("</h1>\n", f);
}

static void tail(FILE *f)
{
	fprintf(f, "<p>Written by pkgflat %s. Click a column header to sort."
	    "</p>\n<script type=\"text/javascript\">%s</script>\n"
	    "</body>\n</html>\n", PKGFLAT_VERSION, script);
}

static void num_cell(FILE *f, uint64_t v, int known)
{
	char h[32];

	if (!known) {
		fputs("<td class=\"n\" data-v=\"-1\"></td>", f);
		return;
	}
	human_size(h, sizeof h, (double)v);
	fprintf(f, "<td class=\"n\" data-v=\"%llu\" title=\"%llu bytes\">%s</td>",
	    (unsigned long long)v, (unsigned long long)v, h);
}

static void list_cell(FILE *f, const char *const *v, size_t n)
{
	fprintf(f, "<td data-v=\"%zu\">", n);
	if (n) {
		fputs("<ul>", f);
		for (size_t i = 0; i < n; i++) {
			fputs("<li>", f);
			markup_text(f, v[i]);
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("</td>", f);
}

int html_batch_write(const char *path, const char *outdir,
    const struct html_input *rows, size_t n)
{
	pkgflat_output *o;
	FILE *f = output_fopen(path, &o);
	size_t count[4] = { 0 }; /* converted, up-to-date, failed, other */
	double total = 0;
	int notary = 0;         /* batch --notarize: its column */

	if (!f)
		return EXIT_ERROR;
	for (size_t i = 0; i < n; i++) {
		const char *s = rows[i].status;
		count[!strcmp(s, "converted") ? 0 : !strcmp(s, "up-to-date") ? 1 :
		    !strcmp(s, "failed") ? 2 : 3]++;
		total += rows[i].seconds;
		notary |= rows[i].notary != NULL;
	}
	head(f, "pkgflat batch report");
	fputs("<p class=\"summary\"><span>Output: <span class=\"mono\">", f);
	markup_text(f, outdir);
	fprintf(f, "</span></span><span id=\"inputs\">%zu inputs</span>"
	    "<span id=\"converted\">%zu converted</span>"
	    "<span id=\"up-to-date\">%zu up to date</span>"
	    "<span id=\"failed\">%zu failed</span>"
	    "<span id=\"interrupted\">%zu interrupted</span>"
	    "<span>%.1f s of work</span></p>\n",
	    n, count[0], count[1], count[2], count[3], total);
	fputs("<table class=\"sortable\" id=\"inputs-table\">\n<thead><tr>"
	    "<th>Input</th><th>Status</th><th>Input size</th>"
	    "<th>Output size</th><th>Time (s)</th><th>Warnings</th>"
	    "<th>Mapping decisions</th><th>Output / error</th>", f);
	if (notary)
		fputs("<th>Notarization</th>", f);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct html_input *r = &rows[i];
		int done = !strcmp(r->status, "converted") ||
		    !strcmp(r->status, "up-to-date");
		fputs("<tr class=\"", f);
		markup_text(f, r->status);
		fputs("\"><td class=\"mono\">", f);
		markup_text(f, r->input);
		fputs("</td><td>", f);
		markup_text(f, r->status);
		fputs("</td>", f);
		num_cell(f, r->in_bytes, r->in_bytes > 0);
		num_cell(f, r->out_bytes, done);
		fprintf(f, "<td class=\"n\" data-v=\"%.3f\">%.2f</td>", r->seconds,
		    r->seconds);
		list_cell(f, r->warnings, r->nwarnings);
		list_cell(f, r->mappings, r->nmappings);
		fputs("<td class=\"mono\">", f);
		markup_text(f, r->error ? r->error : r->output);
		fputs("</td>", f);
		if (notary) {
			fprintf(f, "<td class=\"mono%s\">", r->notary_failed ?
			    " notary-failed" : "");
			markup_text(f, r->notary);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	tail(f);
	return output_fclose(f, o, path);
}

int html_diff_write(const char *path, const char *a, const char *b,
    const pkgflat_diff_result *r)
{
	pkgflat_output *o;
	FILE *f = output_fopen(path, &o);
	size_t n = pkgflat_diff_count(r), np = pkgflat_diff_pair_count(r);
	size_t k = 0, notes = 0;

	if (!f)
		return EXIT_ERROR;
	for (size_t i = 0; i < np; i++)
		notes += pkgflat_diff_pair_get(r, i)->notes;
	head(f, "pkgflat diff report");
	fputs("<table>\n<tbody><tr><th>A</th><td class=\"mono\">", f);
	markup_text(f, a);
	fputs("</td></tr><tr><th>B</th><td class=\"mono\">", f);
	markup_text(f, b);
	fprintf(f, "</td></tr></tbody>\n</table>\n<p id=\"verdict\">%s: %zu "
	    "difference%s, %zu note%s</p>\n",
	    pkgflat_diff_equivalent(r) ? "equivalent" : "different",
	    n - notes, n - notes == 1 ? "" : "s", notes, notes == 1 ? "" : "s");
	/* The library lists differences grouped by pair, in pair order. */
	for (size_t i = 0; i < np; i++) {
		const pkgflat_diff_pair *p = pkgflat_diff_pair_get(r, i);
		fputs("<h2 class=\"component\">", f);
		markup_text(f, p->a ? p->a : p->b);
		if (p->a && p->b && strcmp(p->a, p->b)) {
			fputs(" = ", f);
			markup_text(f, p->b);
		}
		if (!p->a || !p->b)
			fputs(p->a ? " (only in A)" : " (only in B)", f);
		fprintf(f, "</h2>\n<p>%llu / %llu entries, %llu difference%s, "
		    "%llu note%s</p>\n", (unsigned long long)p->entries_a,
		    (unsigned long long)p->entries_b,
		    (unsigned long long)(p->differences - p->notes),
		    p->differences - p->notes == 1 ? "" : "s",
		    (unsigned long long)p->notes, p->notes == 1 ? "" : "s");
		if (!p->differences)
			continue;
		fputs("<table class=\"sortable\">\n<thead><tr><th>Category</th>"
		    "<th>Change</th><th>Attribute</th><th>Path</th>"
		    "<th>A (legacy)</th><th>B (flat)</th></tr></thead>\n<tbody>\n",
		    f);
		for (uint64_t m = 0; m < p->differences && k < n; m++, k++) {
			const pkgflat_difference *d = pkgflat_diff_get(r, k);
			const char *const cells[] = { d->category, d->change,
			    d->attribute, d->path, d->a, d->b };
			fputs("<tr class=\"diff\">", f);
			for (size_t c = 0; c < 6; c++) {
				fputs(c >= 3 ? "<td class=\"mono\">" : "<td>", f);
				markup_text(f, cells[c]);
				fputs("</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</tbody>\n</table>\n", f);
	}
	tail(f);
	return output_fclose(f, o, path);
}
