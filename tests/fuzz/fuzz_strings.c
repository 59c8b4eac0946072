/* Fuzz the .strings parser. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "strtab.h"

static int count(const char *k, const char *v, void *ctx)
{
	*(size_t *)ctx += strlen(k) + strlen(v);
	return 0;
}

FUZZ_TARGET(strings)
{
	pkgflat_error err = { 0 };
	size_t n = 0;

	if (strings_parse(data, size, "fuzz.strings", count, &n, &err) &&
	    (!err.message[0] || !err.where[0]))
		abort();
	return 0;
}
