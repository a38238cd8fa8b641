/*
 * Compressing a stream on every core, with output that depends only on
 * the input: never on the number of threads or the machine.
 *
 * gzip: the input is cut into fixed 1 MiB chunks and each chunk becomes
 * one gzip member, compressed by libdeflate (level 6) on a worker
 * thread; members are written in order.  RFC 1952 defines a gzip file
 * as a series of members, and every gzip reader (zlib, Go, gzip -d)
 * reads them as one stream.  Independent chunks cost about 1% in size
 * and make the bytes independent of scheduling.
 *
 * zstd: libzstd in multi-threaded mode (nbWorkers >= 1 always: its
 * single-threaded mode produces different bytes), level 3, fixed job
 * size, with a content checksum.
 *
 * Memory is bounded: a few chunks per thread.
 */
#ifndef DD_COMPRESS_H
#define DD_COMPRESS_H

#include <stddef.h>

#include "core/file.h"

enum dd_codec { DD_CODEC_GZIP, DD_CODEC_ZSTD };

struct dd_zw;

/* Start a compressor writing to out (called from this thread only). */
int dd_zw_open(struct dd_zw **zw, enum dd_codec codec, int threads, dd_write_fn out, void *out_ctx);
/* dd_write_fn: compress len bytes (ctx is the struct dd_zw). */
int dd_zw_write(void *zw, const void *data, size_t len);
/* Flush everything to out and free zw; returns the first error seen. */
int dd_zw_close(struct dd_zw *zw);
/* Free without flushing (after an error elsewhere). */
void dd_zw_abort(struct dd_zw *zw);

/* "gzip (libdeflate 1.14, level 6, 1 MiB members)" and the like, for
 * logs and provenance: another library version may change the bytes. */
const char *dd_codec_describe(enum dd_codec codec);
/* Number of online CPUs (at least 1). */
int dd_ncpus(void);

#endif
