/*
 * Messages built in memory and written with one fwrite (cli.h). stderr is
 * unbuffered: a line written a piece at a time (print_text went a byte at
 * a time) could be cut by another process's or thread's, and batch's
 * workers and notarize's threads all write to the same stderr.
 */
#include <stdarg.h>

#include "cli.h"

void msg_start(struct msg *m, FILE *f)
{
	m->f = f;
	m->len = 0;
}

/* Out with what is there, to make room: a message longer than the buffer
 * goes in several writes rather than cut. */
static void msg_flush(struct msg *m)
{
	if (m->len)
		fwrite(m->buf, 1, m->len, m->f);
	m->len = 0;
}

void msg_add(struct msg *m, const char *fmt, ...)
{
	size_t room = sizeof m->buf - m->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < room) {
		m->len += (size_t)n;
		return;
	}
	msg_flush(m);
	va_start(ap, fmt);
	n = vsnprintf(m->buf, sizeof m->buf, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof m->buf) {
		m->len = (size_t)n;
		return;
	}
	va_start(ap, fmt);
	vfprintf(m->f, fmt, ap);
	va_end(ap);
}

void msg_text(struct msg *m, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (sizeof m->buf - m->len < 5)
			msg_flush(m);
		if (*p == '\n') {
			m->buf[m->len++] = '\\';
			m->buf[m->len++] = 'n';
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(m->buf + m->len, 5, "\\x%02x", *p);
			m->len += 4;
		} else {
			m->buf[m->len++] = (char)*p;
		}
	}
}

void msg_end(struct msg *m)
{
	msg_flush(m);
}

void print_text(FILE *f, const char *s)
{
	struct msg m;

	msg_start(&m, f);
	msg_text(&m, s);
	msg_end(&m);
}
