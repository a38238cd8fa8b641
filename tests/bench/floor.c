/*
 * The floor for scripts/bench-build: the least work any build of an
 * image from these packages must do.  For each signed .apk given, in
 * order: inflate its data segment (the third gzip member) with the inflater
 * drydock uses, and write the bytes, as one stream, through a SHA-256
 * (the diff_id) into drydock's compressor on every core, whose output is
 * hashed (the digest) and written to OUT.  No tar parsing, no per-file
 * work, no image documents.
 *
 *   bench-floor [-z] OUT PKG.apk...
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/compress.h"
#include "core/error.h"
#include "core/gzip.h"

struct sink {
	int fd;
	EVP_MD_CTX *md;
};

static int out_write(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	EVP_DigestUpdate(s->md, data, len);
	return write(s->fd, data, len) == (ssize_t)len ? 0 : dd_error_errno("writing");
}

static int pkg(const char *path, struct dd_zw *zw, EVP_MD_CTX *diff)
{
	static unsigned char buf[1 << 17];
	struct dd_gz *gz;
	int fd = open(path, O_RDONLY), rc = 0;
	ssize_t n = 0;

	if (fd < 0)
		return dd_error_errno("%s", path);
	/* signature and control segments: a few kB, skipped; then the data */
	gz = dd_gz_open(fd);
	for (int i = 0; rc >= 0 && i < 2; i++)
		if ((rc = dd_gz_next(gz)) > 0)
			rc = dd_gz_skip_member(gz);
	if (rc >= 0 && (rc = dd_gz_next(gz)) > 0) {
		while ((n = dd_gz_read(gz, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(diff, buf, (size_t)n);
			if ((rc = dd_zw_write(zw, buf, (size_t)n)))
				break;
		}
		if (n < 0)
			rc = (int)n;
	} else if (rc == 0) {
		rc = dd_error(DD_E_FORMAT, "%s: not a signed package (three gzip members)", path);
	}
	if (rc >= 0 && dd_gz_next(gz) > 0)
		rc = dd_error(DD_E_FORMAT, "%s: more than three gzip members", path);
	dd_gz_close(gz);
	close(fd);
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	enum dd_codec codec = DD_CODEC_GZIP;
	struct sink s;
	struct dd_zw *zw;
	EVP_MD_CTX *diff = EVP_MD_CTX_new();
	unsigned char d[32];
	int i = 1, rc = 0;

	if (argc > 1 && !strcmp(argv[1], "-z")) {
		codec = DD_CODEC_ZSTD;
		i++;
	}
	if (argc - i < 2) {
		fputs("usage: bench-floor [-z] OUT PKG.apk...\n", stderr);
		return 2;
	}
	s.fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	s.md = EVP_MD_CTX_new();
	if (s.fd < 0) {
		perror(argv[i]);
		return 1;
	}
	EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
	EVP_DigestInit_ex(diff, EVP_sha256(), NULL);
	if (dd_zw_open(&zw, codec, dd_ncpus(), out_write, &s))
		rc = 1;
	for (i++; !rc && i < argc; i++)
		rc = pkg(argv[i], zw, diff);
	if (!rc)
		rc = dd_zw_close(zw);
	if (!rc && fsync(s.fd))
		rc = dd_error_errno("fsync");
	close(s.fd);
	EVP_DigestFinal_ex(s.md, d, NULL);
	EVP_DigestFinal_ex(diff, d, NULL);
	EVP_MD_CTX_free(s.md);
	EVP_MD_CTX_free(diff);
	if (rc) {
		fprintf(stderr, "bench-floor: %s\n", dd_error_detail());
		return 1;
	}
	return 0;
}
