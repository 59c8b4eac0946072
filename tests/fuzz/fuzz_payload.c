/* Fuzz the payload reader (libarchive underneath, our normalisation on top). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "payload.h"

struct mem {
	const uint8_t *p;
	size_t n, pos;
};

static long mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	size_t k = m->n - m->pos < n ? m->n - m->pos : n;

	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (long)k;
}

static int check(const pkgflat_entry *e, void *ctx)
{
	(void)ctx;
	if (strcmp(e->path, ".") && strncmp(e->path, "./", 2))
		abort();
	if (strstr(e->path, "/../") || (e->hardlink && strstr(e->hardlink, "/../")))
		abort(); /* normalisation must never let ".." through */
	return 0;
}

FUZZ_TARGET(payload)
{
	struct mem m = { data, size, 0 };
	pkgflat_error err = { 0 };
	pkgflat_payload_stats st;

	if (payload_walk(mem_read, &m, "fuzz.pax.gz", check, NULL, &st, &err) &&
	    !err.message[0])
		abort();
	return 0;
}
