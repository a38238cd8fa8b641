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
#include <zlib.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>

#define DD_GZ_MAX_DIGESTS 4

struct dd_gz {
	int fd;
	struct inflate_state st;
	int member;           /* index of the current member, 0-based */
	int in_member;        /* inside a member, end not yet reached */
	uint64_t in_bytes;    /* compressed bytes consumed of this member */
	uint64_t out_bytes;   /* decompressed bytes of this member */
	uint64_t limit;       /* bound on out_bytes */
	EVP_MD_CTX *md[DD_GZ_MAX_DIGESTS];
	int nmd;
	unsigned char in[65536];
};

/* Start reading fd (not owned) at its current offset. */
void dd_gz_init(struct dd_gz *gz, int fd);
void dd_gz_release(struct dd_gz *gz);

/*
 * Move to the next member: returns 1 when one starts, 0 at a clean end
 * of input, or a negative code (trailing bytes that are not gzip).
 * Detaches digests and resets the counters and the limit (to
 * UINT64_MAX).
 */
int dd_gz_next(struct dd_gz *gz);

/* Feed this member's compressed bytes, from its first byte, to md. */
void dd_gz_add_digest(struct dd_gz *gz, EVP_MD_CTX *md);

/* Read decompressed bytes of the current member: returns the count, 0
 * at the member's end, or a negative code. */
ssize_t dd_gz_read(struct dd_gz *gz, void *buf, size_t len);

/* Read and discard the rest of the current member. */
int dd_gz_skip_member(struct dd_gz *gz);

/* Read callback for struct dd_tar_reader. */
ssize_t dd_gz_read_cb(void *gz, void *buf, size_t len);

/* Output sink: returns 0 or a negative code. */
typedef int (*dd_write_fn)(void *ctx, const void *data, size_t len);
int dd_write_fd(void *fdp, const void *data, size_t len); /* ctx: int * */
int dd_write_buf(void *buf, const void *data, size_t len); /* ctx: dd_buf */

/*
 * Gzip writer: one member per begin/end pair, deterministic bytes (no
 * name, mtime 0, OS unix).  Compressed output goes to out, and through
 * md when set.
 */
struct dd_gzw {
	z_stream zs;
	dd_write_fn out;
	void *out_ctx;
	EVP_MD_CTX *md;
	uint64_t in_bytes, out_bytes;
	gz_header header; /* zlib keeps a pointer to it until the end */
	unsigned char buf[65536];
};

int dd_gzw_begin(struct dd_gzw *w, dd_write_fn out, void *ctx, EVP_MD_CTX *md);
int dd_gzw_write(struct dd_gzw *w, const void *data, size_t len);
/* Finish the member (its trailer written to out) and release zlib's state. */
int dd_gzw_end(struct dd_gzw *w);
/*
 * Release zlib's state of a member given up on the way (a failed write);
 * nothing after dd_gzw_end() or a failed dd_gzw_begin(), so callers may
 * call it on every path.
 */
void dd_gzw_release(struct dd_gzw *w);
/* Write callback adapter for struct dd_tar_writer. */
int dd_gzw_write_cb(void *w, const void *data, size_t len);

#endif
