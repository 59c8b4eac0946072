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
	if (pkgflat_package_open_member(it->input, it->member, &pkg, &err) ||
	    pkgflat_convert(pkg, &opt, &res, &err) ||
	    pkgflat_digest_path(it->out, out, &out_bytes, &err))
		goto failed;
	status = "converted";
	for (size_t i = 0; i < pkgflat_convert_warning_count(res); i++)
		rec_put(f, "warning", pkgflat_convert_warning(res, i));
	goto done;
failed:
	pkgflat_error_text(&err, text, sizeof text);
done:
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
		}
	}
	free(line);
	fclose(f);
	return have_status ? 0 : -1;
}
