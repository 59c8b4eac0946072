/*
 * The progress line of long commands: bytes done of the total, rate, time
 * left and the component at work, on standard error, redrawn in place.
 *
 * Shown only on a terminal (or when asked with --progress), so that pipes
 * and logs never get carriage returns; redrawn at most PROGRESS_HZ times a
 * second however often the library reports; erased before anything else
 * is printed and at the end, so that what stays on the screen is the
 * command's real output.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_HZ 4

static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void human_size(char *buf, size_t size, double v)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void human_duration(char *buf, size_t size, double seconds)
{
	long s = (long)(seconds + 0.5);

	if (seconds < 0 || seconds > 359999)
		snprintf(buf, size, "--:--");
	else if (s >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
		    s % 60);
	else
		snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void progress_init(struct progress *p, const char *cmd, int mode)
{
	memset(p, 0, sizeof *p);
	p->cmd = cmd;
	p->on = mode > 0 || (mode < 0 && isatty(STDERR_FILENO));
	p->t0 = mono_now();
	p->last = -1;
}

static int columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

void progress_line(char *buf, size_t size, const char *cmd, uint64_t done,
    uint64_t total, double elapsed, const char *component)
{
	char d[32], t[32], r[32], eta[32];
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	int n;

	human_size(d, sizeof d, (double)done);
	human_size(r, sizeof r, rate);
	if (total && total >= done) {
		human_size(t, sizeof t, (double)total);
		human_duration(eta, sizeof eta, rate > 0 ?
		    (double)(total - done) / rate : -1);
		n = snprintf(buf, size, "%s %s: %s / %s (%d%%), %s/s, ETA %s",
		    progname, cmd, d, t, (int)(done * 100 / total), r, eta);
	} else {
		n = snprintf(buf, size, "%s %s: %s, %s/s", progname, cmd, d, r);
	}
	if (component && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", %s", component);
}

static void draw(struct progress *p, double now)
{
	char line[512];
	int w = columns() - 1;
	struct msg m;

	progress_line(line, sizeof line, p->cmd, p->done, p->total,
	    now - p->t0, p->component[0] ? p->component : NULL);
	/* One row only: a wrapped line could not be erased with \r. */
	if (w > 0 && (size_t)w < sizeof line)
		line[w] = '\0';
	msg_start(&m, stderr);
	msg_add(&m, "\r\033[K");
	msg_text(&m, line);
	msg_end(&m);
	fflush(stderr);
	p->shown = 1;
	p->last = now;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total,
    const char *component)
{
	double now;

	if (!p->on)
		return;
	p->done = done;
	p->total = total;
	if (component && strcmp(component, p->component))
		snprintf(p->component, sizeof p->component, "%s", component);
	now = mono_now();
	if (p->last >= 0 && now - p->last < 1.0 / PROGRESS_HZ)
		return;
	draw(p, now);
}

void progress_cb(const pkgflat_progress *pp, void *ctx)
{
	progress_update(ctx, pp->done, pp->total, pp->component);
}

void progress_clear(struct progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = 0;
		p->last = -1; /* the next update draws at once */
	}
}

void progress_end(struct progress *p)
{
	progress_clear(p);
	p->on = 0;
}
