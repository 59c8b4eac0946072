/* Internals shared by the files of `pkgflat batch` (cmd_batch.c describes
 * the design). Each section names the file that defines it. */
#ifndef PKGFLAT_CLI_BATCH_H
#define PKGFLAT_CLI_BATCH_H

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include "cli.h"

#define STATE_NAME ".pkgflat-batch-state"
#define STATE_HEADER "pkgflat-batch-state 1"
#define REPORT_NAME "pkgflat-report.json"
#define HTML_NAME "pkgflat-report.html"

enum item_status { ST_PENDING = 0, ST_RUNNING, ST_CONVERTED, ST_SKIPPED,
	ST_FAILED, ST_INTERRUPTED };

extern const char *const batch_status_names[];

/* One binary the notary service would reject. */
struct pf_reject {
	char *component, *path, *archs, *text;
	unsigned int reasons;   /* enum pkgflat_notary_reason bits */
};

enum notary_state { NS_NONE = 0, /* not asked, or the input did not convert */
	NS_REFUSED,           /* the pre-flight found binaries to reject */
	NS_STAPLED_BEFORE,    /* up to date and already stapled */
	NS_SUBMITTED };

struct item {
	char *input;          /* as found: "dir/zips/Foo.zip" */
	char *member;         /* the bundle inside the archive, or NULL */
	int shared;           /* the archive holds other inputs too */
	char *key;            /* realpath + member: finds duplicates */
	char *wanted;         /* output name before clashes were resolved */
	char *rel;            /* output, relative to OUTDIR */
	char *out;            /* OUTDIR/rel */
	uint64_t size;        /* bytes of its files, for progress */
	enum item_status st;
	pid_t pid;
	struct timespec t0;
	double seconds;
	char in_sha[65], out_sha[65];
	uint64_t in_bytes, out_bytes;
	char *error;
	char **warnings;
	size_t nwarnings;
	char **mappings;      /* the conversion's decisions, one line each */
	size_t nmappings;
	/* The notarization pre-flight of the output (the worker's record). */
	int pf_run;           /* it ran (and pf_error says if it could not read) */
	uint64_t pf_binaries, pf_rejected;
	char *pf_team, *pf_error;
	struct pf_reject *pf_rejects;
	size_t npf_rejects;
	/* batch --notarize: what became of it (batch_notarize.c). */
	enum notary_state ns;
	struct notarize_result *nr; /* NS_SUBMITTED: the submission */
	char stapled_before[64];    /* NS_STAPLED_BEFORE: the ticket's record */
};


struct state_entry {
	char *rel;
	char in[65], opt[65], out[65];
};

struct batch {
	const char *outdir;
	dev_t out_dev;
	ino_t out_ino;
	struct item *items;
	size_t n, cap;
	char **ignored;       /* path, reason, path, reason, ... */
	size_t nignored;
	struct state_entry *state;
	/* The pre-flight (unless --no-preflight) and --notarize. */
	int preflight, notarize, staple, wait_limit;
	pkgflat_notary_key key;
	struct notarize_result *nres;
	size_t nstate;
	struct convert_opts co;
	char opt_sha[65];
	int jobs, threads, force, quiet, tty, plain, verbose;
	const char *junit;
	const char *html;     /* --html FILE, besides OUTDIR's own */
	struct inflight fl;   /* what each worker has done so far */
	char tmpdir[4096];
	size_t done, failed, skipped, converted;
	uint64_t total_bytes, done_bytes;
	struct timespec t0;
	int status_shown;
};

/* Allocation, names and paths (batch_util.c) */
const char *batch_base_name(const char *p);
int batch_has_suffix_ci(const char *s, const char *suffix);
int batch_is_archive_name(const char *name);
int batch_is_bundle(const char *name);
char *batch_join(const char *dir, const char *name);
int batch_mkdirs(const char *path);
double batch_since(const struct timespec *t0);
char *batch_stem(const char *name);
char *batch_xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void *batch_xrealloc(void *p, size_t n);
char *batch_xstrdup(const char *s);

/* Finding the inputs (batch_find.c) */
int batch_add_path(struct batch *b, const char *path);
int batch_cmp_str(const void *x, const void *y);
void batch_drop_components(struct batch *b);
void batch_item_free(struct item *it);
void batch_name_outputs(struct batch *b);
int batch_refuse_inputs(struct batch *b);

/* State between runs (batch_state.c) */
void batch_options_digest(struct batch *b);
struct state_entry *batch_state_find(struct batch *b, const char *rel);
void batch_state_read(struct batch *b);
void batch_state_update(struct batch *b, const struct item *it);
int batch_state_write(struct batch *b);
void batch_unescape(char *s);

/* The worker (batch_worker.c) */
int batch_read_record(struct item *it, const char *record);
void batch_worker(struct batch *b, struct item *it, const char *record);

/* Progress (batch_progress.c) */
void batch_clear_status(struct batch *b);
void batch_draw_status(struct batch *b);
void batch_report_item(struct batch *b, const struct item *it);

/* Running (batch_run.c) */
void batch_on_signal(int sig);
void batch_run_all(struct batch *b);
extern volatile sig_atomic_t batch_stop_signal;
extern int batch_wake_fd[2];

/* --notarize: submit every output that may go, wait, staple, and remember
 * the stapled digests (batch_notarize.c); an exit code. */
int batch_notarize(struct batch *b);
/* Not converted, refused by the pre-flight, or not accepted (and stapled
 * when asked): the input fails. */
int batch_notary_failed(const struct item *it, int staple);
/* One line on what became of its notarization, or NULL (not asked). */
char *batch_notary_text(const struct item *it);
/* Its "notarization" object of the JSON report. */
void batch_notary_json(json *j, const struct item *it, int staple);

/* Reports (batch_report.c) */
int batch_write_junit(struct batch *b);
int batch_write_html(struct batch *b, const char *path);
int batch_write_report(struct batch *b);

#endif
