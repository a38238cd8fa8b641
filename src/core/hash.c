#include "core/hash.h"

#include <fcntl.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/error.h"

void dd_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = 0;
}

void dd_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];

	EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL);
	dd_hex(d, 32, out);
}

int dd_file_sha256(const char *path, char hex[65], uint64_t *size)
{
	unsigned char buf[1 << 16], d[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t total = 0;
	ssize_t n;

	if (fd < 0) {
		EVP_MD_CTX_free(md);
		return dd_error_errno("%s", path);
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	if (n < 0)
		return dd_error_errno("%s", path);
	dd_hex(d, 32, hex);
	if (size)
		*size = total;
	return 0;
}
