#include "core/hash.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/error.h"
#include "core/file.h"

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

bool dd_sha256_hex_ok(const char *hex)
{
	size_t i;

	for (i = 0; hex && i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return false;
	return hex && !hex[64];
}

int dd_digest_parse(const char *digest, char hex[65])
{
	hex[0] = 0;
	if (!digest)
		return dd_error(DD_E_FORMAT, "the digest is missing");
	if (strncmp(digest, "sha256:", 7) || !dd_sha256_hex_ok(digest + 7))
		return dd_error(DD_E_FORMAT,
				"digest '%.80s%s' is not sha256: and 64 lower-case hex "
				"digits",
				digest, strlen(digest) > 80 ? "..." : "");
	memcpy(hex, digest + 7, 65);
	return 0;
}

int dd_sha256_regular(const char *path, uint64_t max, char hex[65], uint64_t *size)
{
	unsigned char buf[1 << 16], d[32];
	uint64_t left, total;
	EVP_MD_CTX *md;
	int fd = dd_open_regular(path, max, &total), rc = 0;

	if (fd < 0)
		return fd;
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (left = total; left && !rc;) {
		ssize_t n = dd_read_full(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n < 0)
			rc = dd_error_prefix((int)n, "%s", path);
		else if (!n)
			rc = dd_error(DD_E_TRUNCATED, "%s: shrank while it was read", path);
		else
			EVP_DigestUpdate(md, buf, (size_t)n);
		left -= n > 0 ? (uint64_t)n : 0;
	}
	close(fd);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	if (rc)
		return rc;
	dd_hex(d, 32, hex);
	if (size)
		*size = total;
	return 0;
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
