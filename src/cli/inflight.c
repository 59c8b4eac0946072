/*
 * Bytes in flight: how far each batch worker is through its input, shared
 * with the parent through one anonymous shared mapping made before the
 * workers are forked. A worker stores its conversion's progress in its
 * own slot; the parent adds the slots of running workers to the bytes of
 * finished inputs, so that its rate and time left are right from the
 * first seconds, not only once a big input has finished.
 */
#include <sys/mman.h>

#include "cli.h"

int inflight_open(struct inflight *f, size_t n)
{
	f->n = n;
	f->bytes = mmap(NULL, (n ? n : 1) * sizeof *f->bytes,
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->bytes == MAP_FAILED) {
		f->bytes = NULL;
		return -1;
	}
	return 0;
}

void inflight_close(struct inflight *f)
{
	if (f->bytes)
		munmap(f->bytes, (f->n ? f->n : 1) * sizeof *f->bytes);
	f->bytes = NULL;
}

void inflight_cb(const pkgflat_progress *p, void *ctx)
{
	__atomic_store_n((uint64_t *)ctx, p->done, __ATOMIC_RELAXED);
}

uint64_t inflight_get(const struct inflight *f, size_t i, uint64_t cap)
{
	uint64_t v = f->bytes && i < f->n ?
	    __atomic_load_n(&f->bytes[i], __ATOMIC_RELAXED) : 0;

	return v < cap ? v : cap;
}
