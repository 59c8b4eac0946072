/* How every command reports a usage error or a library error, and the
 * exit code that goes with each (see cli.h). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

const char *progname = "pkgflat";

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", progname, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", progname, cmd ? " " : "",
	    cmd ? cmd : "");
	return EXIT_USAGE;
}

int report_error(const pkgflat_error *err)
{
	char buf[2048];

	fprintf(stderr, "%s: ", progname);
	print_text(stderr, pkgflat_error_text(err, buf, sizeof buf));
	fputc('\n', stderr);
	return err->status == PKGFLAT_E_USAGE ? EXIT_USAGE :
	    err->status == PKGFLAT_E_DIFFERS ? EXIT_NEGATIVE : EXIT_ERROR;
}
