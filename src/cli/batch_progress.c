/* pkgflat batch: the status line on a terminal and the per-input lines
 * otherwise. */

#include "batch.h"

/* Progress                                                           */

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
	/* Finished inputs and what the running workers have done of theirs:
	 * counting only finished ones, the first estimates would be far off
	 * while a big input is in flight. */
	uint64_t bytes = b->done_bytes;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].st == ST_RUNNING)
			bytes += inflight_get(&b->fl, i, b->items[i].size);
	double r = t > 0 ? (double)bytes / t : 0;

	if (!b->tty)
		return;
	human_size(done, sizeof done, (double)bytes);
	human_size(rate, sizeof rate, r);
	if (r > 0 && b->total_bytes >= bytes)
		human_duration(eta, sizeof eta, (double)(b->total_bytes - bytes) / r);
	fprintf(stderr, "\r\033[K%s batch: %zu/%zu done, %zu failed, %s, %s/s, "
	    "ETA %s", progname, b->done, b->n, b->failed, done, rate, eta);
	fflush(stderr);
	b->status_shown = 1;
}

void batch_report_item(struct batch *b, const struct item *it)
{
	struct msg m;

	batch_clear_status(b);
	if (it->st == ST_FAILED) {
		msg_start(&m, stderr);
		msg_add(&m, "%s: ", progname);
		msg_text(&m, it->error ? it->error : "failed");
		msg_add(&m, "\n");
		msg_end(&m);
	}
	if (b->plain && !b->quiet) {
		msg_start(&m, stderr);
		msg_add(&m, "[%zu/%zu] %-11s ", b->done, b->n,
		    batch_status_names[it->st]);
		msg_text(&m, it->input);
		if (it->member) {
			msg_add(&m, "(");
			msg_text(&m, it->member);
			msg_add(&m, ")");
		}
		if (it->st == ST_CONVERTED || it->st == ST_SKIPPED) {
			msg_add(&m, " -> ");
			msg_text(&m, it->out);
		}
		if (it->st == ST_CONVERTED && it->nwarnings)
			msg_add(&m, " (%.1f s, %zu warning%s)", it->seconds,
			    it->nwarnings, it->nwarnings == 1 ? "" : "s");
		else if (it->st == ST_CONVERTED)
			msg_add(&m, " (%.1f s)", it->seconds);
		msg_add(&m, "\n");
		msg_end(&m);
	}
	if (b->verbose && it->nwarnings) {
		batch_clear_status(b);
		warnings_print(stderr, (const char *const *)it->warnings,
		    it->nwarnings);
	}
	if (!b->quiet)
		batch_draw_status(b);
}
