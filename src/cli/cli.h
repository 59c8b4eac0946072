/* Shared pieces of the command-line tool. Uses only the public API. */
#ifndef PKGFLAT_CLI_H
#define PKGFLAT_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkgflat.h"

/* Exit codes, documented in `pkgflat --help`. */
enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1, /* a negative answer: verification failed, differs */
	EXIT_USAGE = 2,
	EXIT_ERROR = 3
};

extern const char *progname;

int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int report_error(const pkgflat_error *err);
/* EXIT_USAGE, the error printed, when writing out would destroy or change
 * one of the n inputs (NULL ones skipped), or out is an input's very name. */
int refuse_overwrite(const char *out, const char *const *inputs, size_t n);
/* A stream to a file that appears only when output_fclose() succeeds
 * (pkgflat_output_open); both print their errors. */
FILE *output_fopen(const char *path, pkgflat_output **o);
int output_fclose(FILE *f, pkgflat_output *o, const char *path);

int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_staple(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_notarize(int argc, char **argv);
/* The notary service's endpoints and tuning from the environment
 * (PKGFLAT_NOTARY_URL, ...), progress printed on stderr (cmd_notarize.c). */
void notary_config_defaults(pkgflat_notary_config *c);
/* The API key from PKGFLAT_NOTARY_KEY, _KEY_ID, _ISSUER and
 * _API_KEY_FILE (cmd_notarize.c). */
void notary_key_from_env(pkgflat_notary_key *k);
/* A whole number of seconds (1 to a week) for cmd's option opt, or a usage
 * error (cmd_notarize.c). */
int seconds_arg(const char *cmd, const char *opt, const char *v, int *out);
/* What became of one package of notarize_many(). */
struct notarize_result {
	char id[128];         /* empty when the submission failed */
	char sha256[65];
	char status[32];      /* "Accepted", "Invalid", ..., "In Progress" */
	char record[64];      /* the ticket's record, when stapled */
	int stapled;
	int exit;             /* EXIT_OK, EXIT_NEGATIVE (Invalid, Rejected), ... */
	char error[600];      /* what went wrong, when something did */
	pkgflat_notary_log *log; /* Invalid or Rejected: the developer log
	                            (pkgflat_notary_log_free() it) */
};
/* Submit the n packages, jobs at a time, then wait for all of them together
 * (at most wait_limit seconds, 0: no limit; Ctrl-C stops the wait) and
 * staple each accepted one when asked. Returns the worst exit code;
 * res[i] tells each (notarize_many.c). */
int notarize_many(const char *const *paths, size_t n, int jobs,
    const pkgflat_notary_key *key, int staple, int wait_limit,
    struct notarize_result *res);
/* staple --fetch (cmd_notarize.c): look the ticket up, staple, check. */
int staple_fetch(const char *pkg, int ticket_wait, const char *ticket_url,
    const char *ca_file);
int cmd_check_signature(int argc, char **argv);
int cmd_expand(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_build(int argc, char **argv);

/* Disk images (image.c): info, ls and checksum verification of an image,
 * and the --max-image-size argument. */
int image_info(const char *path, const pkgflat_image_opts *o, int as_json);
int image_ls(const char *path, const pkgflat_image_opts *o);
int image_verify(const char *path, const pkgflat_image_opts *o);
int image_size_arg(const char *s, uint64_t *out);
/* Options info, ls and verify take for images: --max-image-size ('Z') and
 * --force ('F'); image_option() takes one (1), else 0, or an exit code. */
#define IMAGE_OPTIONS \
	{ "max-image-size", required_argument, NULL, 'Z' }, \
	{ "force", no_argument, NULL, 'F' }
int image_option(const char *cmd, int c, pkgflat_image_opts *o);
extern const char image_options_help[];
/* The "image" object of a conversion report: the image, the package and
 * the files in it with resource forks, Finder info, xattrs or aliases. */
struct json;
void image_report_extras(struct json *j, const char *image,
    const char *member);
/* convert IMAGE -o OUTDIR: each bundle on the image through convert_one()
 * into OUTDIR/NAME.pkg. */
int image_convert_all(const char *image, const char *outdir,
    int (*convert_one)(void *ctx, const char *member, const char *out),
    void *ctx);

/* Identity options (identity.c): long options 'P' --p12, 'K' --key,
 * 'C' --cert, 'H' --chain, 'S' --pass, 'F' --force. */
#define IDENTITY_OPTIONS \
	{ "p12", required_argument, NULL, 'P' }, \
	{ "key", required_argument, NULL, 'K' }, \
	{ "cert", required_argument, NULL, 'C' }, \
	{ "chain", required_argument, NULL, 'H' }, \
	{ "pass", required_argument, NULL, 'S' }, \
	{ "force", no_argument, NULL, 'F' }, \
	{ "timestamp", optional_argument, NULL, 'T' }, \
	{ "sign-command", required_argument, NULL, 'X' }, \
	{ "timestamp-timeout", required_argument, NULL, 'W' }

/* Where and how long to ask for a timestamp. */
struct tsa_opts {
	const char *url;
	int timeout;
	int none;               /* --timestamp=none */
	int apple_default;      /* url is Apple's, by productsign's habit */
};

/* Takes one identity option; 1 if c was one. */
static inline int identity_option(int c, pkgflat_identity_spec *s, int *force,
    struct tsa_opts *t)
{
	extern char *optarg;
	switch (c) {
	case 'T':
		/* productsign's --timestamp=none: no timestamp, not a host. */
		t->none = optarg && !strcmp(optarg, "none");
		t->url = t->none ? NULL : optarg ? optarg : PKGFLAT_APPLE_TSA;
		return 1;
	case 'W': t->timeout = atoi(optarg); return 1;
	case 'P': s->p12 = optarg; return 1;
	case 'K': s->key = optarg; return 1;
	case 'C': s->cert = optarg; return 1;
	case 'H': s->chain = optarg; return 1;
	case 'S': s->pass = optarg; return 1;
	case 'X': s->sign_command = optarg; return 1;
	case 'F': *force = 1; return 1;
	default: return 0;
	}
}
int identity_load(const pkgflat_identity_spec *spec, int force, int64_t now,
    pkgflat_identity **out);
/* The same without the checks on which options are combined. */
int identity_open(const pkgflat_identity_spec *spec, int force, int64_t now,
    pkgflat_identity **out);
int64_t now_or_epoch(void);

/*
 * The options of a conversion (convert_opts.c), taken by convert and batch
 * alike. A command builds its getopt_long table with options_table(own):
 * its own options first, then every shared one whose name it does not take
 * itself. Option values (the val of struct option) of the shared table:
 * 'O' 'm' 't' 'i' 'a' 'c' 's' and those of IDENTITY_OPTIONS.
 */
struct convert_opts {
	pkgflat_convert_options opt;
	pkgflat_identity_spec spec;
	struct tsa_opts tsa;
	int sign, force;
	pkgflat_image_opts image;  /* --max-image-size; force from --force */
	pkgflat_identity *id;   /* loaded by convert_opts_finish() */
	char **given;           /* every option taken, "--name[=value]" */
	size_t ngiven;
};
extern const struct option convert_options[];
extern const char convert_options_help[];
struct option *options_table(const struct option *own); /* free() it */
void convert_opts_init(struct convert_opts *o);
/* Take getopt_long's c: 1 when it was a conversion option, 0 when not,
 * else an exit code (the error is printed). */
int convert_option(const char *cmd, int c, struct convert_opts *o);
/* getopt_long() that takes the conversion options on its way: the next
 * option that is not one, -1 at the end, -2 when one was wrong (*rc is
 * then the exit code, the error printed). */
int next_option(const char *cmd, int argc, char **argv, const char *shorts,
    const struct option *table, struct convert_opts *o, int *rc);
/* After the options: check they go together, load the identity. */
int convert_opts_finish(const char *cmd, struct convert_opts *o);
void convert_opts_free(struct convert_opts *o);
/* After convert_opts_finish(): the writing options into fo, refusing the
 * conversion-only ones (--min-os, --title, --identifier, --arch, --check)
 * unless named in the NULL-terminated `allowed` (flat_opts.c). */
int flat_opts_take(const char *cmd, const struct convert_opts *co,
    const char *const *allowed, pkgflat_flatten_options *fo);
/* getopt_long said ':' (no value) or '?' (unknown): say so, EXIT_USAGE. */
int option_error(const char *cmd, int c, char **argv);

/* A streaming JSON writer with two-space indentation. */
typedef struct json {
	FILE *f;
	int depth;
	int need_comma[64];
} json;

void json_begin_object(json *j, const char *key);
void json_end_object(json *j);
void json_begin_array(json *j, const char *key);
void json_end_array(json *j);
void json_string(json *j, const char *key, const char *value); /* NULL -> null */
void json_int(json *j, const char *key, long long value);
void json_uint(json *j, const char *key, unsigned long long value);
void json_bool(json *j, const char *key, int value);  /* -1 -> null */
void json_finish(json *j);

/* Write s for a terminal or a text file: control characters escaped. */
void print_text(FILE *f, const char *s);

/* A message built in memory and written with one fwrite by msg_end()
 * (msg.c): stderr is unbuffered, and the lines of batch's workers and of
 * notarize's threads share it. One longer than the buffer goes out in
 * several writes, never cut. */
struct msg {
	FILE *f;
	size_t len;
	char buf[8192];
};
void msg_start(struct msg *m, FILE *f);
void msg_add(struct msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as print_text() writes it. */
void msg_text(struct msg *m, const char *s);
void msg_end(struct msg *m);

/* Mach-O binaries (binaries_out.c): info's architectures line and JSON
 * for one component, the notarization section, and verify
 * --notarization (an exit code). */
void binaries_text(const pkgflat_binaries *bs, const char *component);
void binaries_json_component(json *j, const pkgflat_binaries *bs,
    const char *component);
void binaries_json_notarization(json *j, const pkgflat_binaries *bs);
int verify_notarization(const char *path, int as_json, int quiet);
/* verify --notarization's text: a line per binary the notary service would
 * reject, then the count (binaries_out.c; notarize prints it too). */
void binaries_notary_text(const pkgflat_binaries *bs);
/* A developer log's summary and issues into JSON, as notarize --json
 * writes them (cmd_notarize.c). */
void notary_json_issues(json *j, const pkgflat_notary_log *log);

/* The progress line (progress.c). mode: -1 on a terminal only (the
 * default), 0 never (--no-progress), 1 always (--progress). */
struct progress {
	const char *cmd;
	int on, shown;
	double t0, last;        /* monotonic seconds; last -1: never drawn */
	uint64_t done, total;
	char component[160];
};
void progress_init(struct progress *p, const char *cmd, int mode);
void progress_update(struct progress *p, uint64_t done, uint64_t total,
    const char *component);
/* A pkgflat_progress_fn; ctx is the struct progress. */
void progress_cb(const pkgflat_progress *pp, void *ctx);
/* Erase the line (before printing anything else); it comes back on the
 * next update. progress_end() erases it for good. */
void progress_clear(struct progress *p);
void progress_end(struct progress *p);
/* "pkgflat CMD: 1.2 GB / 3.4 GB (35%), 41.0 MB/s, ETA 0:53, COMPONENT" */
void progress_line(char *buf, size_t size, const char *cmd, uint64_t done,
    uint64_t total, double elapsed, const char *component);
void human_size(char *buf, size_t size, double bytes); /* "1.5 GB" */
void human_duration(char *buf, size_t size, double seconds); /* "1:05" */

/* What every command takes about what it shows (ui.c): -v, -q,
 * --progress, --no-progress. */
enum { OPT_UI_PROGRESS = 0x1000, OPT_UI_NO_PROGRESS };
#define UI_OPTIONS \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "progress", no_argument, NULL, OPT_UI_PROGRESS }, \
	{ "no-progress", no_argument, NULL, OPT_UI_NO_PROGRESS }
#define UI_OPTIONS_HELP \
    "  -v, --verbose            say what was decided and why\n" \
    "  -q, --quiet              print nothing but errors\n" \
    "  --progress, --no-progress\n" \
    "                           show (or never show) the progress line; by\n" \
    "                           default it is shown when standard error is a\n" \
    "                           terminal\n"
struct ui {
	int verbose, quiet;
	int progress;           /* as for progress_init() */
};
#define UI_INIT { 0, 0, -1 }
/* Takes one of UI_OPTIONS; 1 if c was one. */
int ui_option(int c, struct ui *u);
/* Print to standard error unless -q; verbose() only with -v. Both erase
 * a progress line first when one is given. */
void say(const struct ui *u, struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void verbose(const struct ui *u, struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Warnings once (warnings.c): "SUBJECT: TEXT" lines with the same TEXT
 * from several subjects are printed once, with their count and the
 * subjects; others as they are. */
void warnings_print(FILE *f, const char *const *w, size_t n);
/* A conversion's warnings, so (cmd_convert.c). */
void print_convert_warnings(const pkgflat_convert_result *r);

/* The closest of the names to what was typed (suggest.c), or NULL when
 * none is close: edit distance at most a third of its length (at least
 * 1), or typed is a prefix of only that name. */
const char *suggest_name(const char *typed, const char *const *names,
    size_t n);
/* The closest long option of a getopt table to arg ("--timestmp=x"). */
const char *suggest_option(const char *arg, const struct option *table);
/* getopt_long said ':' or '?': say so, with the closest option, and
 * return EXIT_USAGE. */
int option_error_table(const char *cmd, int c, char **argv,
    const struct option *table);

/* Self-contained HTML reports (html.c). */
/* Text for HTML or XML: markup escaped, control characters and bad UTF-8
 * as '?'. */
void markup_text(FILE *f, const char *s);
struct html_input {
	const char *input, *status, *output, *error;
	uint64_t in_bytes, out_bytes;
	double seconds;
	const char *const *warnings;
	size_t nwarnings;
	const char *const *mappings;   /* decisions, one line each */
	size_t nmappings;
	const char *notary;            /* batch --notarize: what became of it */
	int notary_failed;
};
int html_batch_write(const char *path, const char *outdir,
    const struct html_input *rows, size_t n);
int html_diff_write(const char *path, const char *a, const char *b,
    const pkgflat_diff_result *r);


/* Apple's habits (habits.c). */
/* EXIT_ERROR (3, not a flat package), the error printed, when path is a legacy bundle directory
 * where a flat package belongs (sign, verify); else EXIT_OK. */
int refuse_bundle(const char *path);
/* Which timestamp server, if any: --timestamp=none none, --timestamp[=URL]
 * that, else Apple's when the identity chains to an Apple root (as
 * productsign does; PKGFLAT_TEST_APPLE_TSA stands in for it in tests). */
int tsa_decide(struct tsa_opts *t, const pkgflat_identity *id,
    const struct ui *u);
/* After a failure: when the timestamp was the default, how to opt out. */
void tsa_hint(const struct tsa_opts *t);
/* "signed as \"CN\" (team T), timestamped by URL", or "not signed". */
void signing_text(char *buf, size_t size, const pkgflat_identity *id,
    const struct tsa_opts *t);
void identity_verbose(const struct ui *u, const pkgflat_identity *id);


/* Bytes each batch worker has done, shared across fork (inflight.c). */
struct inflight {
	uint64_t *bytes;        /* one slot per input */
	size_t n;
};
int inflight_open(struct inflight *f, size_t n);
void inflight_close(struct inflight *f);
/* A pkgflat_progress_fn; ctx is the worker's slot (&f->bytes[i]). */
void inflight_cb(const pkgflat_progress *p, void *ctx);
/* Slot i, at most cap. */
uint64_t inflight_get(const struct inflight *f, size_t i, uint64_t cap);

#endif
