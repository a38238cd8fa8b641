/* Digests as text: lower-case hex, as drydock names blobs. */
#ifndef DD_CORE_HASH_H
#define DD_CORE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* n bytes as 2n hex digits and a NUL. */
void dd_hex(const unsigned char *d, size_t n, char *out);

/* The sha256 of len bytes, as 64 hex digits. */
void dd_sha256_hex(const void *data, size_t len, char out[65]);

/* hex is exactly 64 lower-case hex digits (how drydock names a blob). */
bool dd_sha256_hex_ok(const char *hex);

/*
 * The one reader of a digest taken from untrusted JSON (an OCI
 * descriptor, a statement's subject): "sha256:" and exactly 64
 * lower-case hex digits.  Copies the hex into hex and returns 0, else
 * DD_E_FORMAT with a detail quoting (the start of) digest; NULL reads
 * as missing.  Nothing else in drydock indexes into such a string.
 */
int dd_digest_parse(const char *digest, char hex[65]);

/*
 * The sha256 of the regular file path (dd_open_regular(): no links,
 * FIFOs or devices) of at most max bytes, and its size.
 */
int dd_sha256_regular(const char *path, uint64_t max, char hex[65], uint64_t *size);

/* The sha256 of a file's content, as 64 hex digits; its size in *size
 * when size is not NULL. */
int dd_file_sha256(const char *path, char hex[65], uint64_t *size);

#endif
