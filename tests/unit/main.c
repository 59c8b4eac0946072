/* Runs every registered unit test; prints one line per test and a summary. */
#include <stdarg.h>
#include <stdlib.h>

#include "test.h"

#define MAX_TESTS 1024
/* Another build of some tests (gzin on zlib) names itself apart. */
#ifndef UNIT_LABEL
#define UNIT_LABEL "unit"
#endif

static struct {
	const char *name;
	test_fn fn;
} tests[MAX_TESTS];
static int ntests, cur_failed;

void test_register(const char *name, test_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cur_failed = 1;
}

unsigned char *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_failed = 0;
		tests[i].fn();
		printf("%s " UNIT_LABEL "/%s\n", cur_failed ? "FAIL" : "ok  ",
		    tests[i].name);
		if (cur_failed)
			failed++;
		else
			passed++;
	}
	printf(UNIT_LABEL ": %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
