/*
 * "Did you mean": the closest known name to a mistyped option or command,
 * by Damerau-Levenshtein distance (a swap of two neighbours counts one),
 * so that --timestmp finds --timestamp and chekc finds check-signature's
 * cousin check only when it is really close.
 */
#include <string.h>

#include "cli.h"

#define MAXLEN 64

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[MAXLEN + 1][MAXLEN + 1];

	if (la > MAXLEN || lb > MAXLEN)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *suggest_name(const char *typed, const char *const *names,
    size_t n)
{
	const char *best = NULL, *prefixed = NULL;
	size_t best_d = (size_t)-1, nprefixed = 0, len = strlen(typed);

	if (!len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(typed, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
		if (!strncmp(names[i], typed, len)) {
			prefixed = names[i];
			nprefixed++;
		}
	}
	size_t limit = len / 3 > 1 ? len / 3 : 1;
	if (best && best_d <= limit)
		return best;
	return nprefixed == 1 ? prefixed : NULL;
}

const char *suggest_option(const char *arg, const struct option *table)
{
	const char *names[256];
	char typed[MAXLEN + 1];
	size_t n = 0;

	if (strncmp(arg, "--", 2))
		return NULL; /* a short option: too short to guess from */
	arg += 2;
	size_t len = strcspn(arg, "=");
	if (len > MAXLEN)
		return NULL;
	memcpy(typed, arg, len);
	typed[len] = '\0';
	for (size_t i = 0; table[i].name && n < 256; i++)
		names[n++] = table[i].name;
	return suggest_name(typed, names, n);
}

int option_error_table(const char *cmd, int c, char **argv,
    const struct option *table)
{
	extern int optind;
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(cmd, "option '%s' needs a value", arg);
	const char *s = suggest_option(arg, table);
	if (s)
		return usage_error(cmd, "unknown option '%s'; did you mean '--%s'?",
		    arg, s);
	return usage_error(cmd, "unknown option '%s'", arg);
}
