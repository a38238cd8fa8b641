/*
 * Byte buffers.
 *
 * struct dd_blob is a non-owning slice {ptr, len}: it points into memory
 * someone else owns and is never freed.  Parsers walk input with blobs.
 *
 * struct dd_buf is an owning, growable buffer.  Invariant: when ptr is
 * not NULL, ptr[len] == 0, so the contents can be used as a C string
 * when they hold text.  A zeroed struct (DD_BUF_INIT) is an empty buffer;
 * dd_buf_release() frees the memory and leaves it empty again.
 * Allocation failure aborts: every caller would do the same.
 */
#ifndef DD_BUF_H
#define DD_BUF_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct dd_blob {
	const char *ptr;
	size_t len;
};

#define DD_BLOB(s) ((struct dd_blob){ (s), sizeof(s) - 1 })

struct dd_blob dd_blob_str(const char *s);
bool dd_blob_eq(struct dd_blob a, const char *s);
bool dd_blob_starts(struct dd_blob a, const char *prefix);
/* Split at the first sep: *head gets the part before, b the part after.
 * Returns false (and the whole of b in head) when sep does not occur. */
bool dd_blob_split(struct dd_blob *b, char sep, struct dd_blob *head);
/* Strip ASCII whitespace at both ends. */
struct dd_blob dd_blob_trim(struct dd_blob b);
/* Newly allocated NUL-terminated copy. */
char *dd_blob_dup(struct dd_blob b);
/* Parse all of b as a decimal unsigned number; false on junk/overflow. */
bool dd_blob_to_u64(struct dd_blob b, uint64_t *out);

struct dd_buf {
	char *ptr;
	size_t len;
	size_t cap;
};

#define DD_BUF_INIT \
	{ \
		NULL, 0, 0 \
	}

void dd_buf_grow(struct dd_buf *b, size_t extra);
void dd_buf_add(struct dd_buf *b, const void *data, size_t len);
void dd_buf_adds(struct dd_buf *b, const char *s);
void dd_buf_addf(struct dd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dd_buf_reset(struct dd_buf *b);
void dd_buf_release(struct dd_buf *b);
/* Hand the contents to the caller (who frees them); b becomes empty. */
char *dd_buf_detach(struct dd_buf *b, size_t *len);
static inline struct dd_blob dd_buf_blob(const struct dd_buf *b)
{
	return (struct dd_blob){ b->ptr ? b->ptr : "", b->len };
}

void *dd_xmalloc(size_t n);
void *dd_xcalloc(size_t n, size_t size);
void *dd_xrealloc(void *p, size_t n);
/*
 * Room for element n of an array that holds n elements of size bytes:
 * `DD_GROW(v, n); v[n++] = x;`.  The capacity is implied, the next power
 * of two at or above n, so the array is reallocated only when n is 0 or a
 * power of two: log n reallocations for n appends, and no capacity field.
 * So an array grown this way must only ever grow this way, from NULL (or
 * from an allocation of a power-of-two count).
 */
void *dd_grow(void *v, size_t n, size_t size);
#define DD_GROW(v, n) ((v) = dd_grow((v), (n), sizeof(*(v))))
char *dd_xstrdup(const char *s);
/* vasprintf that cannot fail (aborts when out of memory, as the above). */
char *dd_xvasprintf(const char *fmt, va_list ap);

#endif
