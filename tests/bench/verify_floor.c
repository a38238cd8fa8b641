/*
 * The floor for 'drydock verify' in scripts/bench-build: the least work
 * any check of a layout's blobs must do.  Each file given is read once;
 * its bytes go through a SHA-256 (the digest) and, when it is gzip,
 * through zlib's inflate (the inflater drydock reads layers with, via
 * libarchive), every member, into a second SHA-256 (the diff_id).  No
 * tar parsing, no JSON, no signature.
 *
 *   bench-verify-floor BLOB...
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>

static unsigned char in[1 << 16], out[1 << 17];

static int blob(const char *path)
{
	EVP_MD_CTX *digest = EVP_MD_CTX_new(), *diff = EVP_MD_CTX_new();
	unsigned char d[32];
	z_stream z;
	ssize_t n;
	int fd = open(path, O_RDONLY), gz = -1, rc = 0;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(&z, 0, sizeof(z));
	EVP_DigestInit_ex(digest, EVP_sha256(), NULL);
	EVP_DigestInit_ex(diff, EVP_sha256(), NULL);
	while (!rc && (n = read(fd, in, sizeof(in))) > 0) {
		EVP_DigestUpdate(digest, in, (size_t)n);
		if (gz < 0 && (gz = n >= 2 && in[0] == 0x1f && in[1] == 0x8b))
			inflateInit2(&z, 15 + 16);
		if (!gz)
			continue;
		z.next_in = in;
		z.avail_in = (uInt)n;
		while (!rc && z.avail_in) {
			int r;

			z.next_out = out;
			z.avail_out = sizeof(out);
			r = inflate(&z, Z_NO_FLUSH);
			EVP_DigestUpdate(diff, out, sizeof(out) - z.avail_out);
			if (r == Z_STREAM_END)
				inflateReset(&z); /* the next gzip member */
			else if (r != Z_OK && r != Z_BUF_ERROR)
				rc = 1;
		}
	}
	EVP_DigestFinal_ex(digest, d, NULL);
	EVP_DigestFinal_ex(diff, d, NULL);
	if (gz > 0)
		inflateEnd(&z);
	EVP_MD_CTX_free(digest);
	EVP_MD_CTX_free(diff);
	close(fd);
	if (rc)
		fprintf(stderr, "%s: not gzip\n", path);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++)
		rc |= blob(argv[i]);
	return rc;
}
