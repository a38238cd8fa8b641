#include "core/compress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zstd.h>

#include "core/buf.h"
#include "core/error.h"

#define GZ_CHUNK   (1u << 20)
#define GZ_LEVEL   6
#define ZSTD_LEVEL 3
#define ZSTD_JOB   (2u << 20)

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	enum slot_state state;
};

struct dd_zw {
	enum dd_codec codec;
	dd_write_fn out;
	void *out_ctx;
	int err;
	/* gzip */
	struct slot *slots;
	size_t n_slots, head, count; /* ring: oldest unwritten, in flight */
	size_t cur;                  /* the slot being filled */
	size_t out_cap;
	bool any; /* a member was submitted */
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	bool stop;
	/* zstd */
	ZSTD_CCtx *zc;
	unsigned char *zbuf;
	size_t zbuf_cap;
};

int dd_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

const char *dd_codec_describe(enum dd_codec codec)
{
	static char gz[96], zs[96];

	if (codec == DD_CODEC_GZIP) {
		snprintf(gz, sizeof(gz), "gzip (libdeflate %s, level %d, %u KiB members)",
			 LIBDEFLATE_VERSION_STRING, GZ_LEVEL, GZ_CHUNK >> 10);
		return gz;
	}
	snprintf(zs, sizeof(zs), "zstd (libzstd %s, level %d, multi-threaded, %u KiB jobs)",
		 ZSTD_versionString(), ZSTD_LEVEL, ZSTD_JOB >> 10);
	return zs;
}

static void *worker(void *arg)
{
	struct dd_zw *z = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZ_LEVEL);

	if (!c)
		abort();
	pthread_mutex_lock(&z->mu);
	for (;;) {
		struct slot *s = NULL;

		/* the oldest queued slot first, so output is never held up */
		for (size_t i = 0; i < z->count && !s; i++) {
			struct slot *t = &z->slots[(z->head + i) % z->n_slots];

			if (t->state == SLOT_QUEUED)
				s = t;
		}
		if (!s) {
			if (z->stop)
				break;
			pthread_cond_wait(&z->work, &z->mu);
			continue;
		}
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&z->mu);
		s->out_len = libdeflate_gzip_compress(c, s->in, s->in_len, s->out, z->out_cap);
		pthread_mutex_lock(&z->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&z->done);
	}
	pthread_mutex_unlock(&z->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

/* Write out the oldest slot once it is compressed. */
static int flush_head(struct dd_zw *z)
{
	struct slot *s = &z->slots[z->head];

	pthread_mutex_lock(&z->mu);
	while (s->state != SLOT_DONE)
		pthread_cond_wait(&z->done, &z->mu);
	pthread_mutex_unlock(&z->mu);
	if (!z->err && s->out_len == 0)
		z->err = dd_error(DD_E_INTERNAL, "gzip: a chunk did not compress");
	if (!z->err)
		z->err = z->out(z->out_ctx, s->out, s->out_len);
	s->state = SLOT_FREE;
	s->in_len = 0;
	z->head = (z->head + 1) % z->n_slots;
	z->count--;
	return z->err;
}

/* Queue the slot being filled and take the next free one. */
static int submit(struct dd_zw *z)
{
	pthread_mutex_lock(&z->mu);
	z->slots[z->cur].state = SLOT_QUEUED;
	z->count++;
	z->any = true;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->mu);
	z->cur = (z->cur + 1) % z->n_slots;
	if (z->count == z->n_slots)
		return flush_head(z);
	return z->err;
}

static int gz_open(struct dd_zw *z, int threads)
{
	z->n_threads = threads;
	z->n_slots = (size_t)threads * 2 + 2;
	z->out_cap = libdeflate_gzip_compress_bound(NULL, GZ_CHUNK);
	z->slots = dd_xcalloc(z->n_slots, sizeof(*z->slots));
	for (size_t i = 0; i < z->n_slots; i++) {
		z->slots[i].in = dd_xmalloc(GZ_CHUNK);
		z->slots[i].out = dd_xmalloc(z->out_cap);
	}
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->done, NULL);
	z->threads = dd_xcalloc((size_t)threads, sizeof(*z->threads));
	for (int i = 0; i < threads; i++)
		if (pthread_create(&z->threads[i], NULL, worker, z))
			abort();
	return 0;
}

static int zstd_open(struct dd_zw *z, int threads)
{
	z->zc = ZSTD_createCCtx();
	if (!z->zc)
		return dd_error(DD_E_NOMEM, "zstd: cannot create a compression context");
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->zc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->zc, ZSTD_c_nbWorkers, threads)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->zc, ZSTD_c_jobSize, ZSTD_JOB))) {
		ZSTD_freeCCtx(z->zc);
		z->zc = NULL;
		return dd_error(DD_E_INTERNAL, "zstd: this libzstd has no multi-threaded mode; "
					       "a deterministic zstd layer needs one (use gzip)");
	}
	z->zbuf_cap = ZSTD_CStreamOutSize();
	z->zbuf = dd_xmalloc(z->zbuf_cap);
	return 0;
}

int dd_zw_open(struct dd_zw **out, enum dd_codec codec, int threads, dd_write_fn sink, void *ctx)
{
	struct dd_zw *z = dd_xcalloc(1, sizeof(*z));
	int rc;

	z->codec = codec;
	z->out = sink;
	z->out_ctx = ctx;
	if (threads < 1)
		threads = 1;
	rc = codec == DD_CODEC_GZIP ? gz_open(z, threads) : zstd_open(z, threads);
	if (rc) {
		free(z);
		return rc;
	}
	*out = z;
	return 0;
}

static int zstd_run(struct dd_zw *z, const void *data, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { data, len, 0 };

	for (;;) {
		ZSTD_outBuffer o = { z->zbuf, z->zbuf_cap, 0 };
		size_t left = ZSTD_compressStream2(z->zc, &o, &in, mode);

		if (ZSTD_isError(left))
			return z->err =
				       dd_error(DD_E_INTERNAL, "zstd: %s", ZSTD_getErrorName(left));
		if (o.pos && (z->err = z->out(z->out_ctx, z->zbuf, o.pos)))
			return z->err;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int dd_zw_write(void *ctx, const void *data, size_t len)
{
	struct dd_zw *z = ctx;
	const unsigned char *p = data;

	if (z->err)
		return z->err;
	if (z->codec == DD_CODEC_ZSTD)
		return zstd_run(z, data, len, ZSTD_e_continue);
	while (len) {
		struct slot *s = &z->slots[z->cur];
		size_t n = GZ_CHUNK - s->in_len;

		if (n > len)
			n = len;
		memcpy(s->in + s->in_len, p, n);
		s->in_len += n;
		p += n;
		len -= n;
		if (s->in_len == GZ_CHUNK && submit(z))
			return z->err;
	}
	return 0;
}

static void gz_stop(struct dd_zw *z)
{
	pthread_mutex_lock(&z->mu);
	z->stop = true;
	pthread_cond_broadcast(&z->work);
	pthread_mutex_unlock(&z->mu);
	for (int i = 0; i < z->n_threads; i++)
		pthread_join(z->threads[i], NULL);
	for (size_t i = 0; i < z->n_slots; i++) {
		free(z->slots[i].in);
		free(z->slots[i].out);
	}
	free(z->slots);
	free(z->threads);
	pthread_mutex_destroy(&z->mu);
	pthread_cond_destroy(&z->work);
	pthread_cond_destroy(&z->done);
}

static void zw_free(struct dd_zw *z)
{
	if (z->codec == DD_CODEC_GZIP)
		gz_stop(z);
	ZSTD_freeCCtx(z->zc);
	free(z->zbuf);
	free(z);
}

int dd_zw_close(struct dd_zw *z)
{
	int rc;

	if (z->codec == DD_CODEC_ZSTD) {
		if (!z->err)
			zstd_run(z, NULL, 0, ZSTD_e_end);
	} else {
		/* a partial chunk, or one empty member for empty input */
		if (!z->err && (z->slots[z->cur].in_len || !z->any))
			submit(z);
		while (z->count)
			flush_head(z);
	}
	rc = z->err;
	zw_free(z);
	return rc;
}

void dd_zw_abort(struct dd_zw *z)
{
	if (!z)
		return;
	if (z->codec == DD_CODEC_GZIP) {
		/* let queued chunks finish so no worker touches freed memory */
		z->err = z->err ? z->err : DD_E_INTERNAL;
		while (z->count)
			flush_head(z);
	}
	zw_free(z);
}
