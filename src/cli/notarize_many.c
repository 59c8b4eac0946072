/* Notarizing many packages at once (batch --notarize): submitted in
 * parallel, one session per worker, then waited for together by one loop
 * that polls every pending submission with one backoff, stapling each as it
 * is accepted. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct many {
	const char *const *paths;
	struct notarize_result *res;
	size_t n, next;
	const pkgflat_notary_key *key;
	pthread_mutex_t lock;
};

static void set_error(struct notarize_result *r, const pkgflat_error *err)
{
	pkgflat_error_text(err, r->error, sizeof r->error);
	r->exit = err->status == PKGFLAT_E_USAGE ? EXIT_USAGE : EXIT_ERROR;
}

static void *submitter(void *arg)
{
	struct many *m = arg;
	pkgflat_notary_config cfg;
	pkgflat_notary *n = NULL;
	pkgflat_error err;

	const char *current = NULL;

	notary_config_defaults(&cfg);
	/* Progress names the package: several are under way at once. */
	cfg.event_ctx = &current;
	pkgflat_error_clear(&err);
	int failed = pkgflat_notary_open(&cfg, m->key, &n, &err) != PKGFLAT_OK;
	for (;;) {
		pthread_mutex_lock(&m->lock);
		size_t i = m->next < m->n ? m->next++ : m->n;
		pthread_mutex_unlock(&m->lock);
		if (i == m->n)
			break;
		struct notarize_result *r = &m->res[i];
		pkgflat_notary_submission sub;
		if (failed) {
			set_error(r, &err);
			continue;
		}
		pkgflat_error e;
		pkgflat_error_clear(&e);
		current = m->paths[i];
		if (pkgflat_notary_submit(n, m->paths[i], &sub, &e)) {
			set_error(r, &e);
			continue;
		}
		snprintf(r->id, sizeof r->id, "%s", sub.id);
		snprintf(r->sha256, sizeof r->sha256, "%s", sub.sha256);
		snprintf(r->status, sizeof r->status, "%s", sub.status);
	}
	pkgflat_notary_free(n);
	return NULL;
}

static volatile int stop_all;

static void on_stop(int sig)
{
	(void)sig;
	stop_all = 1;
}

int notarize_many(const char *const *paths, size_t n, int jobs,
    const pkgflat_notary_key *key, int staple, int wait_limit,
    struct notarize_result *res)
{
	struct many m = { paths, res, n, 0, key, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[16];
	int nth = jobs < 1 ? 1 : jobs > 16 ? 16 : jobs, started = 0;
	pkgflat_notary_config cfg;
	pkgflat_notary *sess = NULL;
	pkgflat_error err;
	int rc = EXIT_OK;

	memset(res, 0, n * sizeof *res);
	if (!n)
		return EXIT_OK;
	if ((size_t)nth > n)
		nth = (int)n;
	for (int i = 0; i < nth; i++)
		if (!pthread_create(&th[i], NULL, submitter, &m))
			started++;
	if (!started)
		submitter(&m);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&m.lock);

	const char *current = NULL;
	notary_config_defaults(&cfg);
	cfg.event_ctx = &current;
	pkgflat_error_clear(&err);
	if (pkgflat_notary_open(&cfg, key, &sess, &err)) {
		for (size_t i = 0; i < n; i++)
			if (!res[i].error[0])
				set_error(&res[i], &err);
		return EXIT_ERROR;
	}
	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned interval = cfg.poll_ms ? cfg.poll_ms : 5000;
	unsigned max = cfg.poll_max_ms ? cfg.poll_max_ms : 60000;
	for (;;) {
		size_t pending = 0;
		for (size_t i = 0; i < n && !stop_all; i++) {
			struct notarize_result *r = &res[i];
			pkgflat_notary_submission sub;
			if (r->error[0] || !r->id[0] || strcmp(r->status, "In Progress"))
				continue;
			pkgflat_error_clear(&err);
			current = paths[i];
			if (pkgflat_notary_status(sess, r->id, &sub, &err)) {
				set_error(r, &err);
				continue;
			}
			snprintf(r->status, sizeof r->status, "%s", sub.status);
			if (!strcmp(sub.status, "In Progress")) {
				pending++;
				continue;
			}
			fprintf(stderr, "%s notarize: %s: %s\n", progname, paths[i],
			    sub.status);
			if (strcmp(sub.status, "Accepted")) {
				r->exit = EXIT_NEGATIVE;
				/* Without its log a rejection is still a rejection. */
				if (pkgflat_notary_log_fetch(sess, r->id, &r->log, &err))
					pkgflat_error_text(&err, r->error, sizeof r->error);
				continue;
			}
			if (staple && pkgflat_notary_staple(sess, paths[i], r->sha256,
			    300, &stop_all, r->record, &err))
				set_error(r, &err);
			else
				r->stapled = staple;
		}
		if (!pending || stop_all)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (wait_limit > 0 && t.tv_sec - t0.tv_sec >= wait_limit)
			break;
		struct timespec ts = { interval / 1000,
		    (long)(interval % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		interval += interval / 2;
		if (interval > max)
			interval = max;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pkgflat_notary_free(sess);
	for (size_t i = 0; i < n; i++) {
		if (!res[i].exit && res[i].id[0] && !strcmp(res[i].status,
		    "In Progress")) {
			res[i].exit = EXIT_ERROR;
			snprintf(res[i].error, sizeof res[i].error, "still In Progress: "
			    "'%s notarize --status %s --wait' resumes", progname,
			    res[i].id);
		}
		if (res[i].exit > rc)
			rc = res[i].exit;
	}
	return rc;
}
