/* pkgflat batch: the worker process that converts one input, and the
 * result record it leaves for the parent (format in cmd_batch.c). */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "batch.h"

/* The worker                                                         */

static void rec_put(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%s ", k);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('\n', f);
}

static int file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void test_hooks(const struct item *it)
{
	const char *delay = getenv("PKGFLAT_BATCH_TEST_DELAY");
	const char *crash = getenv("PKGFLAT_BATCH_TEST_CRASH");

	if (delay && *delay) {
		double s = atof(delay);
		struct timespec ts = { (time_t)s,
		    (long)((s - (double)(time_t)s) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (crash && *crash && strstr(it->input, crash)) {
		/* abort(): sanitizers leave SIGABRT alone, unlike SIGSEGV */
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		abort();
	}
}

/* Tabs cannot be told from the record's separators: spaces instead. */
static char *untabbed(const char *s)
{
	char *d = batch_xstrdup(s);

	for (char *q = d; *q; q++)
		if (*q == '\t')
			*q = ' ';
	return d;
}

/* The notarization pre-flight of an output, into the record: the counts,
 * each binary it would reject ("preflight-reject COMPONENT\tPATH\tARCHS\t
 * REASON-BITS\tTEXT"), each also a warning, or why it could not run. */
static void preflight_record(FILE *f, const char *out)
{
	pkgflat_binaries *bs = NULL;
	pkgflat_error err;
	char text[2048];

	pkgflat_error_clear(&err);
	if (pkgflat_notary_preflight(out, &bs, &err)) {
		pkgflat_error_text(&err, text, sizeof text);
		rec_put(f, "preflight-error", text);
		char *w = batch_xprintf("notarization pre-flight: %s", text);
		rec_put(f, "warning", w);
		free(w);
		return;
	}
	fprintf(f, "preflight-binaries %zu\npreflight-rejected %zu\n",
	    pkgflat_binaries_count(bs), pkgflat_binaries_rejected(bs));
	if (pkgflat_binaries_team(bs))
		rec_put(f, "preflight-team", pkgflat_binaries_team(bs));
	for (size_t i = 0; i < pkgflat_binaries_count(bs); i++) {
		const pkgflat_binary *bin = pkgflat_binaries_get(bs, i);
		if (!bin->notary)
			continue;
		pkgflat_binary_notary_text(bin, text, sizeof text);
		char *c = untabbed(bin->component ? bin->component : "");
		char *p = untabbed(bin->path), *t = untabbed(text);
		char *line = batch_xprintf("%s\t%s\t%s\t%u\t%s", c, p, bin->archs,
		    bin->notary, t);
		rec_put(f, "preflight-reject", line);
		free(line);
		line = batch_xprintf("notarization pre-flight: %s %s%s%s%s: %s", c, p,
		    bin->archs[0] ? " (" : "", bin->archs, bin->archs[0] ? ")" : "",
		    t);
		rec_put(f, "warning", line);
		free(line);
		free(c);
		free(p);
		free(t);
	}
	pkgflat_binaries_free(bs);
}

void batch_worker(struct batch *b, struct item *it, const char *record)
{
	pkgflat_error err;
	pkgflat_package *pkg = NULL;
	pkgflat_convert_result *res = NULL;
	pkgflat_convert_options opt = b->co.opt;
	char text[2048], in[65] = "", out[65] = "";
	uint64_t in_bytes = 0, out_bytes = 0;
	const char *status = "failed";
	FILE *f = fopen(record, "w");

	if (!f)
		_exit(EXIT_ERROR);
	test_hooks(it);
	pkgflat_error_clear(&err);
	text[0] = '\0';
	if (pkgflat_digest_path(it->input, in, &in_bytes, &err))
		goto failed;
	if (it->shared) { /* the archive's digest and the member's name */
		char *s = batch_xprintf("%s\n%s", in, it->member);
		pkgflat_digest_data(s, strlen(s), in);
		free(s);
	}
	struct state_entry *e = batch_state_find(b, it->rel);
	if (!b->force && e && !strcmp(e->in, in) && !strcmp(e->opt, b->opt_sha) &&
	    file_exists(it->out) &&
	    !pkgflat_digest_path(it->out, out, &out_bytes, &err) &&
	    !strcmp(out, e->out)) {
		status = "up-to-date";
		goto done;
	}
	pkgflat_error_clear(&err);
	opt.output = it->out;
	opt.threads = b->threads;
	if (b->fl.bytes) {
		opt.progress = inflight_cb;
		opt.progress_ctx = &b->fl.bytes[it - b->items];
	}
	if (pkgflat_package_open_member(it->input, it->member, &pkg, &err) ||
	    pkgflat_convert(pkg, &opt, &res, &err) ||
	    pkgflat_digest_path(it->out, out, &out_bytes, &err))
		goto failed;
	status = "converted";
	for (size_t i = 0; i < pkgflat_convert_warning_count(res); i++)
		rec_put(f, "warning", pkgflat_convert_warning(res, i));
	for (size_t i = 0; i < pkgflat_convert_mapping_count(res); i++) {
		const pkgflat_mapping *m = pkgflat_convert_mapping(res, i);
		char *line = batch_xprintf("%s: %s%s%s -> %s%s%s%s", m->component ?
		    m->component : "product", m->legacy, m->value ? "=" : "",
		    m->value ? m->value : "", m->flat ? m->flat : "dropped",
		    m->note ? " (" : "", m->note ? m->note : "", m->note ? ")" : "");
		rec_put(f, "mapping", line);
		free(line);
	}
	goto done;
failed:
	pkgflat_error_text(&err, text, sizeof text);
done:
	if (b->preflight && strcmp(status, "failed"))
		preflight_record(f, it->out);
	rec_put(f, "status", status);
	rec_put(f, "in", in);
	fprintf(f, "in-bytes %llu\n", (unsigned long long)in_bytes);
	rec_put(f, "out", out);
	fprintf(f, "out-bytes %llu\n", (unsigned long long)out_bytes);
	if (text[0])
		rec_put(f, "error", text);
	pkgflat_convert_result_free(res);
	pkgflat_package_free(pkg);
	_exit(fclose(f) == 0 ? EXIT_OK : EXIT_ERROR);
}

/* A "preflight-KEY VALUE" line of the record. */
static void read_preflight(struct item *it, const char *key, char *v)
{
	it->pf_run = 1;
	if (!strcmp(key, "binaries"))
		it->pf_binaries = strtoull(v, NULL, 10);
	else if (!strcmp(key, "rejected"))
		it->pf_rejected = strtoull(v, NULL, 10);
	else if (!strcmp(key, "team")) {
		free(it->pf_team);
		it->pf_team = batch_xstrdup(v);
	} else if (!strcmp(key, "error")) {
		free(it->pf_error);
		it->pf_error = batch_xstrdup(v);
	} else if (!strcmp(key, "reject")) {
		char *f[5];
		for (int i = 0; i < 5; i++) {
			f[i] = v;
			v = i < 4 ? strchr(v, '\t') : NULL;
			if (i < 4 && !v)
				return; /* not what the worker writes */
			if (v)
				*v++ = '\0';
		}
		it->pf_rejects = batch_xrealloc(it->pf_rejects,
		    (it->npf_rejects + 1) * sizeof *it->pf_rejects);
		it->pf_rejects[it->npf_rejects++] = (struct pf_reject){
			batch_xstrdup(f[0]), batch_xstrdup(f[1]), batch_xstrdup(f[2]),
			batch_xstrdup(f[4]), (unsigned int)strtoul(f[3], NULL, 10) };
	}
}

/* The record a worker left; 0 when it was complete. */
int batch_read_record(struct item *it, const char *record)
{
	FILE *f = fopen(record, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int have_status = 0;

	if (!f)
		return -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break; /* cut short */
		line[--len] = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		batch_unescape(v);
		if (!strcmp(line, "status")) {
			have_status = 1;
			it->st = !strcmp(v, "converted") ? ST_CONVERTED :
			    !strcmp(v, "up-to-date") ? ST_SKIPPED : ST_FAILED;
		} else if (!strcmp(line, "in") && strlen(v) < 65)
			strcpy(it->in_sha, v);
		else if (!strcmp(line, "out") && strlen(v) < 65)
			strcpy(it->out_sha, v);
		else if (!strcmp(line, "in-bytes"))
			it->in_bytes = strtoull(v, NULL, 10);
		else if (!strcmp(line, "out-bytes"))
			it->out_bytes = strtoull(v, NULL, 10);
		else if (!strcmp(line, "error")) {
			free(it->error);
			it->error = batch_xstrdup(v);
		} else if (!strcmp(line, "warning")) {
			it->warnings = batch_xrealloc(it->warnings, (it->nwarnings + 1) *
			    sizeof *it->warnings);
			it->warnings[it->nwarnings++] = batch_xstrdup(v);
		} else if (!strncmp(line, "preflight-", 10)) {
			read_preflight(it, line + 10, v);
		} else if (!strcmp(line, "mapping")) {
			it->mappings = batch_xrealloc(it->mappings, (it->nmappings + 1) *
			    sizeof *it->mappings);
			it->mappings[it->nmappings++] = batch_xstrdup(v);
		}
	}
	free(line);
	fclose(f);
	return have_status ? 0 : -1;
}
