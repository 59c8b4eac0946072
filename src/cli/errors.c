/* How every command reports a usage error or a library error, and the
 * exit code that goes with each (see cli.h). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

const char *progname = "pkgflat";

int usage_error(const char *cmd, const char *fmt, ...)
{
	char text[4096];
	struct msg m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	msg_start(&m, stderr);
	msg_add(&m, "%s%s%s: %s\nTry '%s%s%s --help'.\n", progname,
	    cmd ? " " : "", cmd ? cmd : "", text, progname, cmd ? " " : "",
	    cmd ? cmd : "");
	msg_end(&m);
	return EXIT_USAGE;
}

int report_error(const pkgflat_error *err)
{
	char buf[2048];
	struct msg m;

	msg_start(&m, stderr);
	msg_add(&m, "%s: ", progname);
	msg_text(&m, pkgflat_error_text(err, buf, sizeof buf));
	msg_add(&m, "\n");
	msg_end(&m);
	return err->status == PKGFLAT_E_USAGE ? EXIT_USAGE :
	    err->status == PKGFLAT_E_DIFFERS ? EXIT_NEGATIVE : EXIT_ERROR;
}
