/* Shared pieces of the command-line tool. Uses only the public API. */
#ifndef PKGFLAT_CLI_H
#define PKGFLAT_CLI_H

#include <stdint.h>
#include <stdio.h>

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

int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_convert(int argc, char **argv);

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
