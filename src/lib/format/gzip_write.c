/*
 * A gzip writer that compresses on several threads: the input is cut into
 * fixed 512 KiB blocks, each deflated on its own by libdeflate (about twice zlib's
 * speed at the same level, and a little smaller), and the raw deflate
 * pieces are written in order between one gzip header (no name, mtime 0,
 * OS 3, like Apple's payloads) and a trailer of CRC-32 and length. Blocks
 * never depend on each other or on timing, so the output is the same bytes
 * whatever the number of threads.
 *
 * libdeflate ends every piece with a final block, so a piece that is not
 * the last is made to run on, as zlib's sync flush would: its final block's
 * BFINAL bit is cleared (found by walking the block headers with zlib's
 * inflate and Z_BLOCK, as zlib's gzjoin example does) and an empty stored
 * block brings the stream to a byte boundary.
 */
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzip_write.h"

/* Large blocks keep the cost of starting each without a dictionary small
 * (a few tenths of a percent of the output at 512 KiB); the ring holds
 * 2 x threads + 1 of them, in and out. */
#define BLOCK (512u << 10)
#define MAX_THREADS 16
/* Room for the empty stored block a piece may get. */
#define TAIL 5

struct job {
	unsigned char *in;
	size_t len;
	int last;
	unsigned char *out;
	size_t outlen, outcap;
	uLong crc;
	int done, failed;
};

struct pgz {
	int level, nthreads;
	pgz_write_fn write;
	void *ctx;
	pthread_t th[MAX_THREADS];
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	/* A ring of jobs: [head, tail) in flight, next handed to a worker. */
	struct job *ring;
	size_t nring, head, tail, next;
	int stop;
	/* The block being filled. */
	unsigned char *fill;
	size_t fill_len;
	uLong crc;
	uint64_t total;
	int header_done, failed;
};

/* What a worker keeps from job to job. */
struct wstate {
	struct libdeflate_compressor *c;
	z_stream z;
	int zinit;
	unsigned char scratch[1u << 16];
};

/* The bit offsets of the last block's header and of the stream's end in
 * the raw deflate stream p[0..n), by inflating it; -1 if it is not one
 * whole stream. */
static int find_last_block(struct wstate *w, const unsigned char *p,
    size_t n, uint64_t *hdr, uint64_t *end)
{
	z_stream *z = &w->z;

	if (!w->zinit) {
		if (inflateInit2(z, -15) != Z_OK)
			return -1;
		w->zinit = 1;
	} else if (inflateReset(z) != Z_OK) {
		return -1;
	}
	z->next_in = (Bytef *)p;
	z->avail_in = (uInt)n;
	*hdr = 0;
	for (;;) {
		z->next_out = w->scratch;
		z->avail_out = sizeof w->scratch;
		int r = inflate(z, Z_BLOCK);
		if (r == Z_STREAM_END)
			return 0;
		if (r != Z_OK)
			return -1;
		/* 128: stopped at a block boundary; 64: the block just
		 * decoded (or being decoded) is the last; low bits: bits
		 * taken from next_in but not used. */
		if (z->data_type & 128) {
			uint64_t at = (uint64_t)z->total_in * 8 -
			    (uint64_t)(z->data_type & 63);
			if (z->data_type & 64)
				*end = at;
			else
				*hdr = at;
		}
	}
}

static void compress_job(int level, struct wstate *w, struct job *j)
{
	j->failed = 1;
	if (!w->c && !(w->c = libdeflate_alloc_compressor(level)))
		return;
	size_t need = libdeflate_deflate_compress_bound(w->c, j->len) + TAIL;
	if (need > j->outcap) {
		unsigned char *o = realloc(j->out, need);
		if (!o)
			return;
		j->out = o;
		j->outcap = need;
	}
	size_t n = libdeflate_deflate_compress(w->c, j->in, j->len, j->out,
	    j->outcap - TAIL);
	if (!n)
		return;
	if (!j->last) {
		uint64_t hdr, end = (uint64_t)n * 8;
		if (find_last_block(w, j->out, n, &hdr, &end) || end > n * 8 ||
		    n * 8 - end > 7)
			return;
		j->out[hdr >> 3] &= (unsigned char)~(1u << (hdr & 7));
		/* An empty stored block: three header bits, all 0, in the
		 * zero padding after the block if they fit, else in one more
		 * byte; then LEN 0 and NLEN 0xffff on the byte boundary. */
		if (n * 8 - end < 3)
			j->out[n++] = 0;
		memcpy(j->out + n, "\0\0\xff\xff", 4);
		n += 4;
	}
	j->outlen = n;
	j->crc = libdeflate_crc32(0, j->in, j->len);
	j->failed = 0;
}

static void *worker(void *p)
{
	struct pgz *g = p;
	struct wstate *w = calloc(1, sizeof *w);

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop && g->next == g->tail)
			pthread_cond_wait(&g->cv_work, &g->mu);
		if (g->next == g->tail && g->stop)
			break;
		struct job *j = &g->ring[g->next++ % g->nring];
		pthread_mutex_unlock(&g->mu);
		if (w)
			compress_job(g->level, w, j);
		else
			j->failed = 1;
		pthread_mutex_lock(&g->mu);
		j->done = 1;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
	if (w) {
		libdeflate_free_compressor(w->c);
		if (w->zinit)
			inflateEnd(&w->z);
		free(w);
	}
	return NULL;
}

pgz *pgz_new(int level, int threads, pgz_write_fn write, void *ctx)
{
	struct pgz *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->level = level;
	g->nthreads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS :
	    threads;
	g->write = write;
	g->ctx = ctx;
	g->nring = (size_t)g->nthreads * 2 + 1;
	g->ring = calloc(g->nring, sizeof *g->ring);
	g->fill = malloc(BLOCK);
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv_work, NULL);
	pthread_cond_init(&g->cv_done, NULL);
	if (!g->ring || !g->fill) {
		pgz_free(g);
		return NULL;
	}
	for (int i = 0; i < g->nthreads; i++) {
		if (pthread_create(&g->th[i], NULL, worker, g) != 0)
			break;
		g->started++;
	}
	if (!g->started) {
		pgz_free(g);
		return NULL;
	}
	return g;
}

/* Write out the oldest job once it is done. */
static int drain_one(struct pgz *g)
{
	struct job *j = &g->ring[g->head % g->nring];

	pthread_mutex_lock(&g->mu);
	while (!j->done)
		pthread_cond_wait(&g->cv_done, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (j->failed || (j->outlen && g->write(g->ctx, j->out, j->outlen))) {
		g->failed = 1;
		return -1;
	}
	g->crc = crc32_combine(g->crc, j->crc, (z_off_t)j->len);
	g->head++;
	return 0;
}

static int submit(struct pgz *g, int last)
{
	if (!g->header_done) {
		/* gzip: magic, deflate, no flags, mtime 0, XFL 0, OS 3 (Unix). */
		static const unsigned char hdr[10] = {
			0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3
		};
		if (g->write(g->ctx, hdr, sizeof hdr))
			return -1;
		g->header_done = 1;
	}
	if (g->tail - g->head == g->nring && drain_one(g))
		return -1;
	struct job *j = &g->ring[g->tail % g->nring];
	unsigned char *in = j->in;
	/* Hand the filled buffer to the job; fill the job's old one next. */
	j->in = g->fill;
	j->len = g->fill_len;
	j->last = last;
	j->done = 0;
	j->failed = 0;
	j->outlen = 0;
	if (!in && !(in = malloc(BLOCK)))
		return -1;
	g->fill = in;
	g->fill_len = 0;
	pthread_mutex_lock(&g->mu);
	g->tail++;
	pthread_cond_signal(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

int pgz_write(pgz *g, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (g->failed)
		return -1;
	g->total += len;
	while (len) {
		size_t k = BLOCK - g->fill_len;
		if (k > len)
			k = len;
		memcpy(g->fill + g->fill_len, p, k);
		g->fill_len += k;
		p += k;
		len -= k;
		if (g->fill_len == BLOCK && submit(g, 0)) {
			g->failed = 1;
			return -1;
		}
	}
	return 0;
}

int pgz_finish(pgz *g)
{
	unsigned char tr[8];

	if (g->failed || submit(g, 1))
		return -1;
	while (g->head != g->tail)
		if (drain_one(g))
			return -1;
	for (int i = 0; i < 4; i++) {
		tr[i] = (unsigned char)(g->crc >> (8 * i));
		tr[4 + i] = (unsigned char)(g->total >> (8 * i));
	}
	return g->write(g->ctx, tr, sizeof tr) ? -1 : 0;
}

void pgz_free(pgz *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_broadcast(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	/* Workers finish the jobs already queued, then leave. */
	for (int i = 0; i < g->started; i++)
		pthread_join(g->th[i], NULL);
	for (size_t i = 0; g->ring && i < g->nring; i++) {
		free(g->ring[i].in);
		free(g->ring[i].out);
	}
	free(g->ring);
	free(g->fill);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv_work);
	pthread_cond_destroy(&g->cv_done);
	free(g);
}
