#include "core/gzip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <isa-l/igzip_lib.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"

#define MAX_DIGESTS 4

struct dd_gz {
	int fd;
	struct inflate_state st;
	int member;         /* index of the current member, 0-based */
	int in_member;      /* inside a member, end not yet reached */
	uint64_t out_bytes; /* decompressed bytes of this member */
	uint64_t limit;     /* bound on out_bytes */
	EVP_MD_CTX *md[MAX_DIGESTS];
	int nmd;
	unsigned char in[65536];
};

struct dd_gzw {
	z_stream zs;
	dd_write_fn out;
	void *out_ctx;
	EVP_MD_CTX *md;
	gz_header header; /* zlib keeps a pointer to it until the end */
	unsigned char buf[65536];
};

struct dd_gz *dd_gz_open(int fd)
{
	struct dd_gz *gz = dd_xcalloc(1, sizeof(*gz));

	gz->fd = fd;
	gz->member = -1;
	gz->limit = UINT64_MAX;
	isal_inflate_init(&gz->st);
	gz->st.next_in = gz->in;
	return gz;
}

void dd_gz_close(struct dd_gz *gz)
{
	free(gz); /* ISA-L's state holds no allocations */
}

void dd_gz_set_limit(struct dd_gz *gz, uint64_t limit)
{
	gz->limit = limit;
}

uint64_t dd_gz_out_bytes(const struct dd_gz *gz)
{
	return gz->out_bytes;
}

int dd_gz_member(const struct dd_gz *gz)
{
	return gz->member + 1;
}

static ssize_t fill(struct dd_gz *gz)
{
	ssize_t n;

	if (gz->st.avail_in)
		return gz->st.avail_in;
	do
		n = read(gz->fd, gz->in, sizeof(gz->in));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		char name[4096];

		return dd_error_errno("%s", dd_fd_name(gz->fd, name, sizeof(name)));
	}
	gz->st.next_in = gz->in;
	gz->st.avail_in = (uint32_t)n;
	return n;
}

int dd_gz_next(struct dd_gz *gz)
{
	ssize_t n;

	if (gz->in_member)
		return dd_error(DD_E_INTERNAL, "gzip member %d not finished", gz->member);
	n = fill(gz);
	if (n <= 0)
		return (int)n;
	/* A second byte may still be unread; check what we can. */
	if (gz->st.next_in[0] != 0x1f || (gz->st.avail_in > 1 && gz->st.next_in[1] != 0x8b))
		return dd_error(DD_E_FORMAT, "%llu bytes after gzip member %d are not gzip data",
				(unsigned long long)gz->st.avail_in, gz->member + 1);
	{
		uint8_t *next = gz->st.next_in;
		uint32_t avail = gz->st.avail_in;

		isal_inflate_reset(&gz->st);
		gz->st.crc_flag = ISAL_GZIP;
		gz->st.next_in = next;
		gz->st.avail_in = avail;
	}
	gz->member++;
	gz->in_member = 1;
	gz->out_bytes = 0;
	gz->limit = UINT64_MAX;
	gz->nmd = 0;
	return 1;
}

void dd_gz_add_digest(struct dd_gz *gz, EVP_MD_CTX *md)
{
	if (gz->nmd < MAX_DIGESTS)
		gz->md[gz->nmd++] = md;
}

static void digest(struct dd_gz *gz, const unsigned char *p, size_t n)
{
	for (int i = 0; i < gz->nmd; i++)
		EVP_DigestUpdate(gz->md[i], p, n);
}

static int inflate_error(const struct dd_gz *gz, int rc)
{
	const char *what = rc == ISAL_INCORRECT_CHECKSUM   ? "CRC or length mismatch"
			   : rc == ISAL_INVALID_WRAPPER    ? "bad gzip header"
			   : rc == ISAL_UNSUPPORTED_METHOD ? "not deflate-compressed"
			   : rc == ISAL_NEED_DICT          ? "needs a preset dictionary"
							   : "invalid deflate data";

	return dd_error(DD_E_FORMAT, "corrupt gzip data in member %d: %s", gz->member + 1, what);
}

ssize_t dd_gz_read(struct dd_gz *gz, void *buf, size_t len)
{
	size_t want = len, got;

	if (!gz->in_member)
		return 0;
	if (gz->limit - gz->out_bytes < want)
		want = (size_t)(gz->limit - gz->out_bytes) + 1;
	gz->st.next_out = buf;
	gz->st.avail_out = (uint32_t)(want > (1u << 30) ? (1u << 30) : want);
	while (gz->st.avail_out) {
		const uint8_t *start;
		ssize_t n = fill(gz);
		int rc;

		if (n < 0)
			return n;
		if (n == 0)
			return dd_error(DD_E_TRUNCATED,
					"gzip member %d ends early (file truncated?)",
					gz->member + 1);
		start = gz->st.next_in;
		rc = isal_inflate(&gz->st);
		/* ISA-L gives back what it read ahead when a member ends, so
		 * this counts exactly the member's own bytes */
		digest(gz, start, (size_t)(gz->st.next_in - start));
		if (rc < 0 || rc == ISAL_NEED_DICT)
			return inflate_error(gz, rc);
		if (gz->st.block_state == ISAL_BLOCK_FINISH) {
			gz->in_member = 0;
			break;
		}
	}
	got = (size_t)((unsigned char *)gz->st.next_out - (unsigned char *)buf);
	gz->out_bytes += got;
	if (gz->out_bytes > gz->limit)
		return dd_error(DD_E_LIMIT,
				"gzip member %d expands beyond %llu bytes (decompression bomb?)",
				gz->member + 1, (unsigned long long)gz->limit);
	return (ssize_t)got;
}

int dd_gz_skip_member(struct dd_gz *gz)
{
	unsigned char buf[16384];
	ssize_t n;

	while ((n = dd_gz_read(gz, buf, sizeof(buf))) > 0)
		;
	return (int)n;
}

ssize_t dd_gz_read_cb(void *gz, void *buf, size_t len)
{
	return dd_gz_read(gz, buf, len);
}

int dd_gzw_begin(struct dd_gzw **wp, dd_write_fn out, void *ctx, EVP_MD_CTX *md)
{
	struct dd_gzw *w = dd_xcalloc(1, sizeof(*w));

	*wp = NULL;
	w->out = out;
	w->out_ctx = ctx;
	w->md = md;
	if (deflateInit2(&w->zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(w);
		return dd_error(DD_E_NOMEM, "deflateInit failed");
	}
	w->header.os = 3; /* unix, whatever the build host */
	deflateSetHeader(&w->zs, &w->header);
	*wp = w;
	return 0;
}

static int pump(struct dd_gzw *w, int flush)
{
	int rc;

	do {
		size_t n;
		int r;

		w->zs.next_out = w->buf;
		w->zs.avail_out = sizeof(w->buf);
		rc = deflate(&w->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return dd_error(DD_E_INTERNAL, "deflate failed");
		n = sizeof(w->buf) - w->zs.avail_out;
		if (w->md)
			EVP_DigestUpdate(w->md, w->buf, n);
		r = n ? w->out(w->out_ctx, w->buf, n) : 0;
		if (r < 0)
			return r;
	} while (w->zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

int dd_gzw_write(struct dd_gzw *w, const void *data, size_t len)
{
	w->zs.next_in = (Bytef *)data;
	w->zs.avail_in = (uInt)len;
	return pump(w, Z_NO_FLUSH);
}

int dd_gzw_end(struct dd_gzw *w)
{
	int r;

	w->zs.next_in = NULL;
	w->zs.avail_in = 0;
	r = pump(w, Z_FINISH);
	deflateEnd(&w->zs);
	return r;
}

void dd_gzw_free(struct dd_gzw *w)
{
	if (!w)
		return;
	/* zlib ignores a stream whose state is gone (ended already). */
	deflateEnd(&w->zs);
	free(w);
}

int dd_gzw_write_cb(void *w, const void *data, size_t len)
{
	return dd_gzw_write(w, data, len);
}
