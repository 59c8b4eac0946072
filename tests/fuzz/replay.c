/* Replays each file of testdata/fuzz/TARGET/ through its harness. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static struct {
	const char *name;
	fuzz_fn fn;
} targets[64];
static int ntargets;

void fuzz_register(const char *name, fuzz_fn fn)
{
	if (ntargets < 64) {
		targets[ntargets].name = name;
		targets[ntargets].fn = fn;
		ntargets++;
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			unsigned char *p = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
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
	const char *root = argc > 1 ? argv[1] : "testdata/fuzz";
	int passed = 0, failed = 0;

	for (int t = 0; t < ntargets; t++) {
		char dir[4096];
		int files = 0;
		snprintf(dir, sizeof dir, "%s/%s", root, targets[t].name);
		DIR *d = opendir(dir);
		if (d) {
			struct dirent *de;
			while ((de = readdir(d))) {
				char path[8192];
				size_t len;
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
				unsigned char *buf = slurp(path, &len);
				if (!buf)
					continue;
				targets[t].fn(buf, len); /* a crash fails the run */
				free(buf);
				files++;
			}
			closedir(d);
		}
		/* A harness with no corpus has tested nothing. */
		if (files) {
			printf("ok   fuzz/%s (%d inputs)\n", targets[t].name, files);
			passed++;
		} else {
			printf("FAIL fuzz/%s: no corpus in %s\n", targets[t].name, dir);
			failed++;
		}
	}
	printf("fuzz: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
