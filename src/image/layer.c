#include "image/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/read.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

const char *dd_layer_media_type(enum dd_codec codec)
{
	return codec == DD_CODEC_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
				      : "application/vnd.oci.image.layer.v1.tar+gzip";
}

/* Compressed bytes: hashed and written to the temporary file. */
static int compressed_out(void *ctx, const void *data, size_t len)
{
	struct dd_layer_writer *w = ctx;
	int rc;

	EVP_DigestUpdate(w->dmd, data, len);
	w->size += len;
	rc = dd_write_fd(&w->fd, data, len); /* names the file on failure */
	if (rc)
		return rc;
	if (w->check)
		rc = w->check(w->check_ctx);
	return rc;
}

/* Tar bytes: hashed (diff_id) and compressed. */
static int tar_out(void *ctx, const void *data, size_t len)
{
	struct dd_layer_writer *w = ctx;

	EVP_DigestUpdate(w->umd, data, len);
	w->usize += len;
	return dd_zw_write(w->zw, data, len);
}

static int open_tmp(const char *blobs, char **tmp, int *fd)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_addf(&b, "%s/.tmp-XXXXXX", blobs);
	*fd = mkostemp(b.ptr, O_CLOEXEC);
	if (*fd >= 0 && fchmod(*fd, 0644)) {
		close(*fd);
		unlink(b.ptr);
		*fd = -1;
	}
	if (*fd < 0) {
		int rc = dd_error_errno("%s", b.ptr);

		dd_buf_release(&b);
		return rc;
	}
	*tmp = dd_buf_detach(&b, NULL);
	return 0;
}

int dd_layer_begin(struct dd_layer_writer *w, const char *blobs, enum dd_codec codec, int threads)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->codec = codec;
	rc = open_tmp(blobs, &w->tmp, &w->fd);
	if (rc)
		return rc;
	rc = dd_zw_open(&w->zw, codec, threads, compressed_out, w);
	if (rc) {
		dd_layer_abort(w);
		return rc;
	}
	w->dmd = EVP_MD_CTX_new();
	w->umd = EVP_MD_CTX_new();
	EVP_DigestInit_ex(w->dmd, EVP_sha256(), NULL);
	EVP_DigestInit_ex(w->umd, EVP_sha256(), NULL);
	dd_tar_writer_init(&w->tar, tar_out, w);
	return 0;
}

int dd_layer_write_header(struct dd_layer_writer *w, const struct dd_tar_entry *e)
{
	const char *link = e->link ? e->link : "";

	if (!e->path[0] || !dd_tar_path_safe(e->path))
		return dd_error(DD_E_UNSAFE_PATH, "refusing to write a layer member named '%s': %s",
				e->path,
				e->path[0] ? "an absolute path or a '..' component"
					   : "an empty name");
	if (e->type == DD_TAR_HARDLINK && (!link[0] || !dd_tar_path_safe(link)))
		return dd_error(DD_E_UNSAFE_PATH,
				"refusing to write the layer member %s: a hard "
				"link to '%s' would leave the image root",
				e->path, link);
	return dd_tar_write_header(&w->tar, e);
}

static void digest_str(EVP_MD_CTX *md, char out[72])
{
	unsigned char d[32];

	EVP_DigestFinal_ex(md, d, NULL);
	memcpy(out, "sha256:", 7);
	dd_hex(d, 32, out + 7);
}

/* fsync fd, close it and rename tmp to blobs/<hex>. */
static int settle(int fd, char *tmp, const char *blobs, const char *digest)
{
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	if (fsync(fd) || close(fd))
		rc = dd_error_errno("%s", tmp);
	dd_buf_addf(&path, "%s/%s", blobs, digest + 7);
	if (!rc && rename(tmp, path.ptr))
		rc = dd_error_errno("%s", path.ptr);
	dd_buf_release(&path);
	return rc;
}

int dd_layer_finish(struct dd_layer_writer *w, const char *blobs, struct dd_blob_desc *out)
{
	int rc = dd_tar_write_end(&w->tar);
	struct dd_zw *zw = w->zw;

	w->zw = NULL;
	if (rc) {
		dd_zw_abort(zw);
	} else {
		rc = dd_zw_close(zw);
	}
	if (rc) {
		dd_layer_abort(w);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	digest_str(w->dmd, out->digest);
	digest_str(w->umd, out->diff_id);
	out->size = w->size;
	out->usize = w->usize;
	out->media_type = dd_layer_media_type(w->codec);
	rc = settle(w->fd, w->tmp, blobs, out->digest);
	w->fd = -1; /* settle() closed it */
	if (!rc) {  /* and moved the file into place */
		free(w->tmp);
		w->tmp = NULL;
	}
	dd_layer_abort(w); /* the rest, and the file when it was not moved */
	return rc;
}

void dd_layer_abort(struct dd_layer_writer *w)
{
	dd_zw_abort(w->zw);
	w->zw = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	w->tmp = NULL;
	EVP_MD_CTX_free(w->dmd);
	EVP_MD_CTX_free(w->umd);
	w->dmd = w->umd = NULL;
}

int dd_blob_put(const char *blobs, const void *data, size_t len, const char *media_type,
		struct dd_blob_desc *out)
{
	char *tmp;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->digest, "sha256:", 7);
	dd_sha256_hex(data, len, out->digest + 7);
	out->size = len;
	out->media_type = media_type;
	rc = open_tmp(blobs, &tmp, &fd);
	if (rc)
		return rc;
	rc = dd_write_fd(&fd, data, len);
	if (rc)
		close(fd);
	else
		rc = settle(fd, tmp, blobs, out->digest);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int dd_blob_link_in(const char *blobs, const char *src, const char *want)
{
	struct dd_buf dst = DD_BUF_INIT;
	char got[65];
	int rc = dd_file_sha256(src, got, NULL);

	if (!rc && strcmp(got, want + 7))
		rc = dd_error(DD_E_DIGEST, "%s: its digest is sha256:%s, not %s", src, got, want);
	if (rc)
		return rc;
	dd_buf_addf(&dst, "%s/%s", blobs, want + 7);
	if (link(src, dst.ptr) && errno != EEXIST)
		rc = dd_blob_copy_in(blobs, src, want); /* another filesystem */
	dd_buf_release(&dst);
	return rc;
}

int dd_blob_copy_in(const char *blobs, const char *src, const char *want)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[1 << 16], d[32];
	char got[72], *tmp = NULL;
	int in, fd = -1, rc;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		EVP_MD_CTX_free(md);
		return dd_error_errno("%s", src);
	}
	rc = open_tmp(blobs, &tmp, &fd);
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while (!rc && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			rc = dd_error_errno("%s", src);
			break;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		rc = dd_write_fd(&fd, buf, (size_t)n);
	}
	close(in);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	memcpy(got, "sha256:", 7);
	dd_hex(d, 32, got + 7);
	if (!rc && strcmp(got, want))
		rc = dd_error(DD_E_DIGEST, "%s: its digest is %s, not %s", src, got, want);
	if (!rc) {
		rc = settle(fd, tmp, blobs, got);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	return rc;
}
