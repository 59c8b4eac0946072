/* pkgflat batch: the status line on a terminal and the per-input lines
 * otherwise. */

#include "batch.h"

/* Progress                                                           */

static void human_bytes(char *buf, size_t size, double v)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void batch_clear_status(struct batch *b)
{
	if (b->tty && b->status_shown) {
		fputs("\r\033[K", stderr);
		b->status_shown = 0;
	}
}

void batch_draw_status(struct batch *b)
{
	char done[32], rate[32], eta[32] = "--:--";
	double t = batch_since(&b->t0);
	double r = t > 0 ? (double)b->done_bytes / t : 0;

	if (!b->tty)
		return;
	human_bytes(done, sizeof done, (double)b->done_bytes);
	human_bytes(rate, sizeof rate, r);
	if (r > 0 && b->total_bytes >= b->done_bytes) {
		long s = (long)((double)(b->total_bytes - b->done_bytes) / r + 0.5);
		snprintf(eta, sizeof eta, "%ld:%02ld", s / 60, s % 60);
	}
	fprintf(stderr, "\r\033[K%s batch: %zu/%zu done, %zu failed, %s, %s/s, "
	    "ETA %s", progname, b->done, b->n, b->failed, done, rate, eta);
	fflush(stderr);
	b->status_shown = 1;
}

void batch_report_item(struct batch *b, const struct item *it)
{
	batch_clear_status(b);
	if (it->st == ST_FAILED) {
		fprintf(stderr, "%s: ", progname);
		print_text(stderr, it->error ? it->error : "failed");
		fputc('\n', stderr);
	}
	if (b->plain && !b->quiet) {
		fprintf(stderr, "[%zu/%zu] %-11s ", b->done, b->n,
		    batch_status_names[it->st]);
		print_text(stderr, it->input);
		if (it->member) {
			fputc('(', stderr);
			print_text(stderr, it->member);
			fputc(')', stderr);
		}
		if (it->st == ST_CONVERTED || it->st == ST_SKIPPED) {
			fputs(" -> ", stderr);
			print_text(stderr, it->out);
		}
		if (it->st == ST_CONVERTED && it->nwarnings)
			fprintf(stderr, " (%.1f s, %zu warning%s)", it->seconds,
			    it->nwarnings, it->nwarnings == 1 ? "" : "s");
		else if (it->st == ST_CONVERTED)
			fprintf(stderr, " (%.1f s)", it->seconds);
		fputc('\n', stderr);
	}
	if (!b->quiet)
		batch_draw_status(b);
}
