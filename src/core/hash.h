/* Digests as text: lower-case hex, as drydock names blobs. */
#ifndef DD_CORE_HASH_H
#define DD_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* n bytes as 2n hex digits and a NUL. */
void dd_hex(const unsigned char *d, size_t n, char *out);

/* The sha256 of len bytes, as 64 hex digits. */
void dd_sha256_hex(const void *data, size_t len, char out[65]);

/* The sha256 of a file's content, as 64 hex digits; its size in *size
 * when size is not NULL. */
int dd_file_sha256(const char *path, char hex[65], uint64_t *size);

#endif
