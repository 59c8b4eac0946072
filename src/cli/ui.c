/* What every command shows, and how much: -v, -q, the progress line. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int ui_option(int c, struct ui *u)
{
	switch (c) {
	case 'v': u->verbose = 1; u->quiet = 0; return 1;
	case 'q': u->quiet = 1; u->verbose = 0; return 1;
	case OPT_UI_PROGRESS: u->progress = 1; return 1;
	case OPT_UI_NO_PROGRESS: u->progress = 0; return 1;
	default: return 0;
	}
}

static void vline(struct progress *p, const char *fmt, va_list ap)
{
	char buf[4096];
	struct msg m;

	if (p)
		progress_clear(p);
	vsnprintf(buf, sizeof buf, fmt, ap);
	msg_start(&m, stderr);
	msg_add(&m, "%s: ", progname);
	msg_text(&m, buf);
	msg_add(&m, "\n");
	msg_end(&m);
}

void say(const struct ui *u, struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (u && u->quiet)
		return;
	va_start(ap, fmt);
	vline(p, fmt, ap);
	va_end(ap);
}

void verbose(const struct ui *u, struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!u || !u->verbose)
		return;
	va_start(ap, fmt);
	vline(p, fmt, ap);
	va_end(ap);
}
