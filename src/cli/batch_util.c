/* pkgflat batch: allocation that exits on failure, input and output
 * names, paths and clocks, shared by the batch files. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"

const char *const batch_status_names[] = {
	[ST_PENDING] = "interrupted", [ST_RUNNING] = "interrupted",
	[ST_CONVERTED] = "converted", [ST_SKIPPED] = "up-to-date",
	[ST_FAILED] = "failed", [ST_INTERRUPTED] = "interrupted",
};

void *batch_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		exit(EXIT_ERROR);
	}
	return q;
}

char *batch_xstrdup(const char *s)
{
	return s ? strcpy(batch_xrealloc(NULL, strlen(s) + 1), s) : NULL;
}

char *batch_xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		exit(EXIT_ERROR);
	}
	return s;
}

double batch_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int batch_has_suffix_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

const char *batch_base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int batch_is_bundle(const char *name)
{
	return batch_has_suffix_ci(name, ".pkg") || batch_has_suffix_ci(name, ".mpkg");
}

static const char *const archive_exts[] = {
	".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tar", ".tgz", ".tbz",
	".tbz2", ".txz", ".dmg.gz", ".dmg",
};

/* name without its package or archive extension */
char *batch_stem(const char *name)
{
	static const char *const exts[] = { ".pkg", ".mpkg" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
		if (batch_has_suffix_ci(name, exts[i]) && len > strlen(exts[i]))
			return batch_xprintf("%.*s", (int)(len - strlen(exts[i])), name);
	for (size_t i = 0; i < sizeof archive_exts / sizeof *archive_exts; i++)
		if (batch_has_suffix_ci(name, archive_exts[i]) &&
		    len > strlen(archive_exts[i]))
			return batch_xprintf("%.*s", (int)(len - strlen(archive_exts[i])),
			    name);
	return batch_xstrdup(name);
}

int batch_is_archive_name(const char *name)
{
	for (size_t i = 0; i < sizeof archive_exts / sizeof *archive_exts; i++)
		if (batch_has_suffix_ci(name, archive_exts[i]))
			return 1;
	return 0;
}

char *batch_join(const char *dir, const char *name)
{
	return dir[0] ? batch_xprintf("%s/%s", dir, name) : batch_xstrdup(name);
}


int batch_mkdirs(const char *path)
{
	char *p = batch_xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && !rc; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0777) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}
