/*
 * A gzip writer that compresses on several threads, the way pigz does:
 * the input is cut into blocks, each block is deflated on its own with the
 * 32 KiB before it as a preset dictionary and ends in a sync flush, the
 * last in Z_FINISH; the raw deflate pieces are written in order between one
 * gzip header (no name, mtime 0, OS 3, like Apple's payloads) and a trailer
 * of CRC-32 and length. Blocks never depend on timing, so the output is
 * the same bytes whatever the number of threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gzip_write.h"

#define BLOCK (256u << 10)
#define DICT 32768u
#define MAX_THREADS 16

struct job {
	unsigned char *in;     /* DICT bytes of dictionary, then the block */
	size_t dict, len;
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
	size_t fill_dict, fill_len;
	uLong crc;
	uint64_t total;
	int header_done, failed;
};

static void compress_job(int level, struct job *j)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	j->failed = 1;
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return;
	if (j->dict && deflateSetDictionary(&z, j->in, (uInt)j->dict) != Z_OK)
		goto out;
	size_t need = deflateBound(&z, (uLong)j->len) + 16;
	if (need > j->outcap) {
		unsigned char *o = realloc(j->out, need);
		if (!o)
			goto out;
		j->out = o;
		j->outcap = need;
	}
	z.next_in = j->in + j->dict;
	z.avail_in = (uInt)j->len;
	z.next_out = j->out;
	z.avail_out = (uInt)j->outcap;
	int r = deflate(&z, j->last ? Z_FINISH : Z_SYNC_FLUSH);
	if ((j->last && r != Z_STREAM_END) || (!j->last && r != Z_OK) ||
	    z.avail_in)
		goto out;
	j->outlen = j->outcap - z.avail_out;
	j->crc = crc32(0L, j->in + j->dict, (uInt)j->len);
	j->failed = 0;
out:
	deflateEnd(&z);
}

static void *worker(void *p)
{
	struct pgz *g = p;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stop && g->next == g->tail)
			pthread_cond_wait(&g->cv_work, &g->mu);
		if (g->next == g->tail && g->stop)
			break;
		struct job *j = &g->ring[g->next++ % g->nring];
		pthread_mutex_unlock(&g->mu);
		compress_job(g->level, j);
		pthread_mutex_lock(&g->mu);
		j->done = 1;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
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
	g->fill = malloc(DICT + BLOCK);
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
	/* Hand the filled buffer to the job; keep its last 32 KiB. */
	j->in = g->fill;
	j->dict = g->fill_dict;
	j->len = g->fill_len;
	j->last = last;
	j->done = 0;
	j->failed = 0;
	j->outlen = 0;
	if (!in && !(in = malloc(DICT + BLOCK)))
		return -1;
	size_t keep = g->fill_dict + g->fill_len < DICT ? g->fill_dict +
	    g->fill_len : DICT;
	memcpy(in, g->fill + g->fill_dict + g->fill_len - keep, keep);
	g->fill = in;
	g->fill_dict = keep;
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
		memcpy(g->fill + g->fill_dict + g->fill_len, p, k);
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
