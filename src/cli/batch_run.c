/* pkgflat batch: running the workers, at most -j at a time; reaping them,
 * and stopping them all on SIGINT or SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "batch.h"

volatile sig_atomic_t batch_stop_signal;
int batch_wake_fd[2] = { -1, -1 };

void batch_on_signal(int sig)
{
	int saved = errno;

	if (sig != SIGCHLD)
		batch_stop_signal = sig;
	if (batch_wake_fd[1] >= 0 && write(batch_wake_fd[1], "x", 1) < 0) {
		/* full: the parent wakes up anyway */
	}
	errno = saved;
}

/* Running                                                            */


static char *record_path(struct batch *b, size_t i)
{
	return batch_xprintf("%s/%zu", b->tmpdir, i);
}

static void start(struct batch *b, size_t i)
{
	struct item *it = &b->items[i];
	char *dir = batch_xstrdup(it->out);
	char *rec = record_path(b, i);

	*strrchr(dir, '/') = '\0';
	clock_gettime(CLOCK_MONOTONIC, &it->t0);
	if (batch_mkdirs(dir) != 0) {
		it->st = ST_FAILED;
		it->error = batch_xprintf("%s: cannot create directory: %s", dir,
		    strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		/* A worker dies with the run: a killed batch leaves no worker
		 * writing on (the parent may have died before prctl). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(EXIT_ERROR);
		struct sigaction sa = { .sa_handler = SIG_DFL };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		close(batch_wake_fd[0]);
		close(batch_wake_fd[1]);
		batch_worker(b, it, rec);
	}
	if (pid < 0) {
		it->st = ST_FAILED;
		it->error = batch_xprintf("%s: cannot start a worker: %s", it->input,
		    strerror(errno));
		goto out;
	}
	it->pid = pid;
	it->st = ST_RUNNING;
out:
	free(dir);
	free(rec);
}

static void finish(struct batch *b, size_t i, int wstatus)
{
	struct item *it = &b->items[i];
	char *rec = record_path(b, i);

	it->pid = 0;
	it->seconds = batch_since(&it->t0);
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		if (batch_stop_signal && (sig == SIGTERM || sig == SIGINT)) {
			it->st = ST_INTERRUPTED;
			pkgflat_output_clean(it->out);
		} else {
			it->st = ST_FAILED;
			it->error = batch_xprintf("%s: worker killed by signal SIG%s (%s)",
			    it->input, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
			    strsignal(sig));
			pkgflat_output_clean(it->out);
		}
	} else if (batch_read_record(it, rec) != 0) {
		it->st = ST_FAILED;
		it->error = batch_xprintf("%s: the worker left no result (exit %d)",
		    it->input, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		pkgflat_output_clean(it->out);
	}
	unlink(rec);
	free(rec);
}

/* After start() or finish(): count it, show it, remember it. */
static void settle(struct batch *b, struct item *it)
{
	if (it->st == ST_INTERRUPTED || it->st == ST_RUNNING)
		return;
	b->done++;
	b->done_bytes += it->size;
	if (it->st == ST_FAILED)
		b->failed++;
	else if (it->st == ST_SKIPPED)
		b->skipped++;
	else
		b->converted++;
	batch_state_update(b, it);
	batch_state_write(b);
	batch_report_item(b, it);
}

void batch_run_all(struct batch *b)
{
	size_t next = 0, running = 0;
	int killed = 0;

	clock_gettime(CLOCK_MONOTONIC, &b->t0);
	if (!b->quiet)
		batch_draw_status(b);
	while (next < b->n || running) {
		while (!batch_stop_signal && running < (size_t)b->jobs && next < b->n) {
			struct item *it = &b->items[next++];
			start(b, (size_t)(it - b->items));
			if (it->st == ST_RUNNING)
				running++;
			else
				settle(b, it);
		}
		if (batch_stop_signal && !killed) {
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].pid > 0)
					kill(b->items[i].pid, SIGTERM);
			killed = 1;
		}
		if (!running)
			break;
		struct pollfd p = { .fd = batch_wake_fd[0], .events = POLLIN };
		if (poll(&p, 1, b->tty && !b->quiet ? 500 : 5000) > 0) {
			char buf[64];
			while (read(batch_wake_fd[0], buf, sizeof buf) > 0)
				;
		}
		int ws;
		pid_t pid;
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].pid == pid) {
					running--;
					finish(b, i, ws);
					settle(b, &b->items[i]);
					break;
				}
		}
		if (!b->quiet && b->tty)
			batch_draw_status(b);
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].st == ST_PENDING)
			b->items[i].st = ST_INTERRUPTED;
	batch_clear_status(b);
}
