#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("drydock: out of memory\n", stderr);
	abort();
}

void *dd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *dd_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *dd_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *dd_grow(void *v, size_t n, size_t size)
{
	size_t cap = n ? 2 * n : 1;

	if (n & (n - 1))
		return v;
	if (cap < n || cap > SIZE_MAX / size)
		oom();
	return dd_xrealloc(v, cap * size);
}

char *dd_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *dd_xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

struct dd_blob dd_blob_str(const char *s)
{
	return (struct dd_blob){ s, s ? strlen(s) : 0 };
}

bool dd_blob_eq(struct dd_blob a, const char *s)
{
	size_t n = strlen(s);

	return a.len == n && memcmp(a.ptr, s, n) == 0;
}

bool dd_blob_starts(struct dd_blob a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

bool dd_blob_split(struct dd_blob *b, char sep, struct dd_blob *head)
{
	const char *p = b->len ? memchr(b->ptr, sep, b->len) : NULL;

	if (!p) {
		*head = *b;
		b->ptr += b->len;
		b->len = 0;
		return false;
	}
	head->ptr = b->ptr;
	head->len = (size_t)(p - b->ptr);
	b->len -= head->len + 1;
	b->ptr = p + 1;
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct dd_blob dd_blob_trim(struct dd_blob b)
{
	while (b.len && is_space(b.ptr[0])) {
		b.ptr++;
		b.len--;
	}
	while (b.len && is_space(b.ptr[b.len - 1]))
		b.len--;
	return b;
}

char *dd_blob_dup(struct dd_blob b)
{
	char *s = dd_xmalloc(b.len + 1);

	if (b.len)
		memcpy(s, b.ptr, b.len);
	s[b.len] = 0;
	return s;
}

bool dd_blob_to_u64(struct dd_blob b, uint64_t *out)
{
	uint64_t v = 0;

	if (!b.len || b.len > 20)
		return false;
	for (size_t i = 0; i < b.len; i++) {
		unsigned d = (unsigned char)b.ptr[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

void dd_buf_grow(struct dd_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (need < b->len)
		oom();
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->ptr = dd_xrealloc(b->ptr, b->cap);
}

void dd_buf_add(struct dd_buf *b, const void *data, size_t len)
{
	dd_buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = 0;
}

void dd_buf_adds(struct dd_buf *b, const char *s)
{
	dd_buf_add(b, s, strlen(s));
}

void dd_buf_addf(struct dd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	dd_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void dd_buf_reset(struct dd_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = 0;
}

void dd_buf_release(struct dd_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

char *dd_buf_detach(struct dd_buf *b, size_t *len)
{
	char *p = b->ptr ? b->ptr : dd_xstrdup("");

	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}
