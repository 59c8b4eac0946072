/* Replays each file of ROOT/TARGET/ through its harness, for every ROOT
 * named (default tests/fuzz/corpus): a corpus may be split over several. */
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
	static const char *const default_root[] = { NULL, "tests/fuzz/corpus" };
	const char *const *roots = argc > 1 ? (const char *const *)argv :
	    default_root;
	int nroots = argc > 1 ? argc : 2;
	int passed = 0, failed = 0;

	for (int t = 0; t < ntargets; t++) {
		int files = 0;
		for (int r = 1; r < nroots; r++) {
			char dir[4096];
			snprintf(dir, sizeof dir, "%s/%s", roots[r], targets[t].name);
			DIR *d = opendir(dir);
			if (!d)
				continue;
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
			printf("FAIL fuzz/%s: no corpus in %s/%s\n", targets[t].name,
			    roots[1], targets[t].name);
			failed++;
		}
	}
	printf("fuzz: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
