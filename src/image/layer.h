/*
 * One image layer being written: tar entries go through a sha256 (the
 * diff_id), the compressor (core/compress.h) and a second sha256 (the
 * digest) into a temporary file, which on completion is moved to
 * BLOBS/<hex of the digest>.
 */
#ifndef DD_IMAGE_LAYER_H
#define DD_IMAGE_LAYER_H

#include <stdint.h>
#include <openssl/evp.h>

#include "apk/tar.h"
#include "core/compress.h"

struct dd_blob_desc {
	char digest[72];  /* "sha256:<hex>" of the stored bytes */
	char diff_id[72]; /* layers: "sha256:<hex>" of the uncompressed tar */
	uint64_t size;    /* stored bytes */
	uint64_t usize;   /* layers: uncompressed bytes */
	const char *media_type;
};

typedef int (*dd_check_fn)(void *ctx);

struct dd_layer_writer {
	struct dd_tar_writer tar; /* entries go in through dd_layer_write_header() */
	int fd;
	char *tmp;
	EVP_MD_CTX *dmd, *umd;
	struct dd_zw *zw;
	enum dd_codec codec;
	uint64_t size, usize;
	dd_check_fn check; /* called for every compressed chunk (timeouts) */
	void *check_ctx;
};

int dd_layer_begin(struct dd_layer_writer *w, const char *blobs, enum dd_codec codec, int threads);
/*
 * The header of the next member (then its data through w->tar and
 * dd_tar_pad()).  A member whose name is empty, absolute or has a '..'
 * component, or a hard link whose target does, is refused with
 * DD_E_UNSAFE_PATH: whatever a job or a package says, nothing a layer
 * holds lands outside the image root.
 */
int dd_layer_write_header(struct dd_layer_writer *w, const struct dd_tar_entry *e);
/* End the tar, flush, fsync and move into blobs; fills out. */
int dd_layer_finish(struct dd_layer_writer *w, const char *blobs, struct dd_blob_desc *out);
void dd_layer_abort(struct dd_layer_writer *w);

const char *dd_layer_media_type(enum dd_codec codec);

/*
 * Store bytes (a JSON document) in blobs under their sha256, with
 * media_type; fills out.
 */
int dd_blob_put(const char *blobs, const void *data, size_t len, const char *media_type,
		struct dd_blob_desc *out);

/*
 * Copy the file at src into blobs while hashing it; DD_E_DIGEST unless
 * its digest is want ("sha256:<hex>").
 */
int dd_blob_copy_in(const char *blobs, const char *src, const char *want);

/*
 * The same, but hard-linked when src is on the same filesystem (after
 * checking its digest all the same): for layers kept in the mirror's
 * cache, whose files are never written again.
 */
int dd_blob_link_in(const char *blobs, const char *src, const char *want);

#endif
