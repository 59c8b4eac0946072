/* Shared pieces of the command-line tool. Uses only the public API. */
#ifndef PKGFLAT_CLI_H
#define PKGFLAT_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
};

/* Takes one identity option; 1 if c was one. */
static inline int identity_option(int c, pkgflat_identity_spec *s, int *force,
    struct tsa_opts *t)
{
	extern char *optarg;
	switch (c) {
	case 'T': t->url = optarg ? optarg : PKGFLAT_APPLE_TSA; return 1;
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

#endif
