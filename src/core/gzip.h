/*
 * Gzip member by member.
 *
 * APK v2 files are several gzip members back to back, and signatures
 * and checksums cover the *compressed* bytes of individual members, so
 * a plain multi-member reader (zlib's gzread, libarchive) that hides the
 * boundaries will not do.  dd_gz reads one member at a time from a file
 * descriptor, passes the compressed bytes it consumes to the attached
 * digests, and stops at the member's end; each member's CRC and length
 * are checked.  Memory use is fixed; decompressed output per member is
 * bounded by a limit the caller sets (decompression bombs).
 *
 * Reading uses ISA-L's inflate (igzip), about twice as fast as zlib's on
 * the same data; inflating every package is what a mirror import and a
 * build spend most of their time on.  Writing uses zlib.
 */
#ifndef DD_GZIP_H
#define DD_GZIP_H

#include <stdint.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "core/file.h"

/* Both states are opaque: ISA-L's and zlib's types stay in gzip.c. */
struct dd_gz;
struct dd_gzw;

/* A reader of fd (not owned) from its current offset; never NULL. */
struct dd_gz *dd_gz_open(int fd);
void dd_gz_close(struct dd_gz *gz);

/*
 * Move to the next member: returns 1 when one starts, 0 at a clean end
 * of input, or a negative code (trailing bytes that are not gzip).
 * Detaches digests and resets the counters and the limit (to
 * UINT64_MAX).
 */
int dd_gz_next(struct dd_gz *gz);

/* Feed this member's compressed bytes, from its first byte, to md (at
 * most four digests per member). */
void dd_gz_add_digest(struct dd_gz *gz, EVP_MD_CTX *md);

/* Bound this member's decompressed size: a read past it fails with
 * DD_E_LIMIT (a decompression bomb). */
void dd_gz_set_limit(struct dd_gz *gz, uint64_t limit);
/* Decompressed bytes read so far of the current member. */
uint64_t dd_gz_out_bytes(const struct dd_gz *gz);
/* The current member's number, from 1 (0 before the first). */
int dd_gz_member(const struct dd_gz *gz);

/* Read decompressed bytes of the current member: returns the count, 0
 * at the member's end, or a negative code. */
ssize_t dd_gz_read(struct dd_gz *gz, void *buf, size_t len);

/* Read and discard the rest of the current member. */
int dd_gz_skip_member(struct dd_gz *gz);

/* Read callback for struct dd_tar_reader. */
ssize_t dd_gz_read_cb(void *gz, void *buf, size_t len);

/*
 * Gzip writer of one member: deterministic bytes (no name, mtime 0, OS
 * unix).  Compressed output goes to out, and through md when set.
 * dd_gzw_begin() makes *w (NULL when it fails); dd_gzw_end() writes the
 * trailer; dd_gzw_free() frees *w on every path, ended or not.
 */
int dd_gzw_begin(struct dd_gzw **w, dd_write_fn out, void *ctx, EVP_MD_CTX *md);
int dd_gzw_write(struct dd_gzw *w, const void *data, size_t len);
int dd_gzw_end(struct dd_gzw *w);
void dd_gzw_free(struct dd_gzw *w);
/* Write callback adapter for struct dd_tar_writer. */
int dd_gzw_write_cb(void *w, const void *data, size_t len);

#endif
