/* What the commands share for the files they write besides packages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int refuse_overwrite(const char *out, const char *const *inputs, size_t n)
{
	pkgflat_error err;

	for (size_t i = 0; out && i < n; i++) {
		pkgflat_error_clear(&err);
		if (inputs[i] && pkgflat_output_check(out, inputs[i], &err))
			return report_error(&err);
		if (inputs[i] && !strcmp(out, inputs[i])) { /* not there yet */
			fprintf(stderr, "%s: %s: named both to read and to write\n",
			    progname, out);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

FILE *output_fopen(const char *path, pkgflat_output **o)
{
	pkgflat_error err;
	FILE *f = NULL;
	int fd;

	pkgflat_error_clear(&err);
	if (pkgflat_output_open(path, o, &err)) {
		report_error(&err);
		return NULL;
	}
	/* The stream gets its own descriptor: the output's stays open until
	 * it is linked into place. */
	if ((fd = dup(pkgflat_output_fd(*o))) < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "%s: %s: cannot write: %s\n", progname, path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		pkgflat_output_discard(*o);
		*o = NULL;
	}
	return f;
}

int output_fclose(FILE *f, pkgflat_output *o, const char *path)
{
	pkgflat_error err;
	int bad = ferror(f);

	bad |= fclose(f) != 0;
	pkgflat_error_clear(&err);
	if (bad) {
		fprintf(stderr, "%s: %s: cannot write: %s\n", progname, path,
		    strerror(errno));
		pkgflat_output_discard(o);
		return EXIT_ERROR;
	}
	if (pkgflat_output_commit(o, 0, &err))
		return report_error(&err);
	return EXIT_OK;
}
