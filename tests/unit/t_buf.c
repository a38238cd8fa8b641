#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

static bool blob_is(struct dd_blob b, const char *s)
{
	return dd_blob_eq(b, s);
}

static void t_blob_split(void)
{
	struct dd_blob b = dd_blob_str("key=value=more"), head;

	CHECK(dd_blob_split(&b, '=', &head));
	CHECK(blob_is(head, "key"));
	CHECK(blob_is(b, "value=more"));
	CHECK(dd_blob_split(&b, '=', &head));
	CHECK(blob_is(head, "value"));
	CHECK(blob_is(b, "more"));
	/* No separator: false, everything in head, b left empty. */
	CHECK(!dd_blob_split(&b, '=', &head));
	CHECK(blob_is(head, "more"));
	CHECK(b.len == 0);

	/* Separator first and last give empty parts. */
	b = dd_blob_str("=x=");
	CHECK(dd_blob_split(&b, '=', &head));
	CHECK(head.len == 0);
	CHECK(blob_is(b, "x="));
	CHECK(dd_blob_split(&b, '=', &head));
	CHECK(blob_is(head, "x"));
	CHECK(b.len == 0);

	/* Only len bytes count: a separator beyond them is not seen. */
	b = (struct dd_blob){ "ab\ncd", 2 };
	CHECK(!dd_blob_split(&b, '\n', &head));
	CHECK(blob_is(head, "ab"));

	/* An empty blob splits into nothing. */
	b = dd_blob_str("");
	CHECK(!dd_blob_split(&b, '\n', &head));
	CHECK(head.len == 0 && b.len == 0);
}

static void t_blob_split_lines(void)
{
	struct dd_blob text = dd_blob_str("one\ntwo\n\nfour"), line;
	const char *want[] = { "one", "two", "", "four" };
	size_t n = 0;

	while (text.len) {
		dd_blob_split(&text, '\n', &line);
		CHECK_MSG(n < 4 && blob_is(line, want[n]), "line %zu: '%.*s'", n, (int)line.len,
			  line.ptr);
		n++;
	}
	CHECK(n == 4);
}

static void t_blob_trim(void)
{
	CHECK(blob_is(dd_blob_trim(dd_blob_str("  a b \t\r\n")), "a b"));
	CHECK(blob_is(dd_blob_trim(dd_blob_str("\t\n x")), "x"));
	CHECK(blob_is(dd_blob_trim(dd_blob_str("x")), "x"));
	CHECK(dd_blob_trim(dd_blob_str(" \t\r\n ")).len == 0);
	CHECK(dd_blob_trim(dd_blob_str("")).len == 0);
	/* Trimming looks only inside the slice. */
	CHECK(blob_is(dd_blob_trim((struct dd_blob){ " ab  cd", 4 }), "ab"));
}

static void t_blob_to_u64(void)
{
	uint64_t v = 7;

	CHECK(dd_blob_to_u64(dd_blob_str("0"), &v) && v == 0);
	CHECK(dd_blob_to_u64(dd_blob_str("42"), &v) && v == 42);
	CHECK(dd_blob_to_u64(dd_blob_str("007"), &v) && v == 7);
	CHECK(dd_blob_to_u64(dd_blob_str("18446744073709551615"), &v) && v == UINT64_MAX);

	v = 99;
	CHECK(!dd_blob_to_u64(dd_blob_str("18446744073709551616"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("18446744073709551620"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("99999999999999999999"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("100000000000000000000"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str(""), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str(" 1"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("1 "), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("x1"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("1x"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("-1"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("+1"), &v));
	CHECK(!dd_blob_to_u64(dd_blob_str("0x10"), &v));
	/* Failure leaves the output alone. */
	CHECK(v == 99);
	/* Only len bytes are parsed. */
	CHECK(dd_blob_to_u64((struct dd_blob){ "123abc", 3 }, &v) && v == 123);
}

static void t_blob_misc(void)
{
	char *s;

	CHECK(dd_blob_eq(DD_BLOB("abc"), "abc"));
	CHECK(!dd_blob_eq(DD_BLOB("abc"), "ab"));
	CHECK(!dd_blob_eq(DD_BLOB("ab"), "abc"));
	CHECK(dd_blob_starts(DD_BLOB("so:libc"), "so:"));
	CHECK(!dd_blob_starts(DD_BLOB("s"), "so:"));
	s = dd_blob_dup((struct dd_blob){ "hello world", 5 });
	CHECK(strcmp(s, "hello") == 0);
	free(s);
	s = dd_blob_dup(dd_blob_str(""));
	CHECK(s[0] == 0);
	free(s);
}

static void t_buf_addf_grows(void)
{
	struct dd_buf b = DD_BUF_INIT;
	char want[64];
	size_t off = 0;
	bool ok = true;

	CHECK(dd_buf_blob(&b).len == 0 && dd_buf_blob(&b).ptr[0] == 0);
	for (int i = 0; i < 2000; i++)
		dd_buf_addf(&b, "line %04d of the test\n", i);
	/* 22 bytes a line, 2000 lines: about 43 KiB, many reallocations. */
	CHECK(b.len == 2000 * 22);
	CHECK(b.cap > b.len);
	CHECK(b.ptr[b.len] == 0);
	CHECK(strlen(b.ptr) == b.len);
	for (int i = 0; i < 2000 && ok; i++) {
		snprintf(want, sizeof(want), "line %04d of the test\n", i);
		ok = memcmp(b.ptr + off, want, 22) == 0;
		off += 22;
	}
	CHECK(ok);

	/* One formatted piece larger than everything so far. */
	{
		char *big = dd_xmalloc(10000);

		memset(big, 'z', 9999);
		big[9999] = 0;
		dd_buf_reset(&b);
		CHECK(b.len == 0 && b.ptr[0] == 0);
		dd_buf_adds(&b, "<");
		dd_buf_addf(&b, "%s>%d", big, 5);
		CHECK(b.len == 1 + 9999 + 2);
		CHECK(b.ptr[0] == '<' && b.ptr[9999] == 'z' && b.ptr[10000] == '>');
		CHECK(strcmp(b.ptr + 10000, ">5") == 0);
		free(big);
	}
	dd_buf_release(&b);
	CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0);
	/* Usable again after release. */
	dd_buf_addf(&b, "%d-%s", 12, "ab");
	CHECK(strcmp(b.ptr, "12-ab") == 0);
	dd_buf_release(&b);
}

static void t_buf_add_binary(void)
{
	struct dd_buf b = DD_BUF_INIT;
	static const char bin[] = { 'a', 0, 'b', 0 };

	dd_buf_add(&b, bin, sizeof(bin));
	CHECK(b.len == 4);
	CHECK(memcmp(b.ptr, bin, 4) == 0);
	CHECK(b.ptr[4] == 0);
	dd_buf_add(&b, NULL, 0);
	CHECK(b.len == 4);
	dd_buf_release(&b);
}

static void t_buf_detach(void)
{
	struct dd_buf b = DD_BUF_INIT;
	size_t len = 0;
	char *p;

	dd_buf_addf(&b, "%s/%s", "etc", "passwd");
	p = dd_buf_detach(&b, &len);
	CHECK(len == 10);
	CHECK(strcmp(p, "etc/passwd") == 0);
	CHECK(b.ptr == NULL && b.len == 0 && b.cap == 0);
	free(p);

	/* Detaching an empty buffer gives an empty string, not NULL. */
	len = 99;
	p = dd_buf_detach(&b, &len);
	CHECK(p != NULL && p[0] == 0 && len == 0);
	free(p);

	/* len may be NULL. */
	dd_buf_adds(&b, "x");
	p = dd_buf_detach(&b, NULL);
	CHECK(strcmp(p, "x") == 0);
	free(p);

	/* Releasing twice is harmless. */
	dd_buf_release(&b);
	dd_buf_release(&b);
	CHECK(b.ptr == NULL);
}

static void t_error_detail(void)
{
	int rc;

	dd_error_clear();
	CHECK(dd_error_detail()[0] == 0);
	rc = dd_error(DD_E_FORMAT, "field '%s' is bad", "size");
	CHECK(rc == DD_E_FORMAT);
	CHECK(strcmp(dd_error_detail(), "field 'size' is bad") == 0);
	rc = dd_error_prefix(rc, "%s", "pkg.apk");
	CHECK(rc == DD_E_FORMAT);
	CHECK(strcmp(dd_error_detail(), "pkg.apk: field 'size' is bad") == 0);
	/* Prefix with no detail recorded falls back to the code's text. */
	dd_error_clear();
	dd_error_prefix(DD_E_TRUNCATED, "x.tar");
	CHECK(strcmp(dd_error_detail(), "x.tar: truncated input") == 0);
	CHECK(strcmp(dd_strerror(DD_E_SIG_BAD), "bad signature") == 0);
	dd_error_clear();
}

/* The one reader of digests from untrusted JSON. */
static void t_digest_parse(void)
{
	static const char *const bad[] = {
		"",
		"x",
		"sha256:",
		"sha256",
		"sha256:abc",
		"SHA256:0000000000000000000000000000000000000000000000000000000000000000",
		"sha256:000000000000000000000000000000000000000000000000000000000000000A",
		"sha256:00000000000000000000000000000000000000000000000000000000000000000",
		"sha256:0000000000000000000000000000000000000000000000000000000000000/00",
		"sha512:0000000000000000000000000000000000000000000000000000000000000000",
	};
	const char *good =
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char hex[65] = "junk";

	CHECK(dd_digest_parse(good, hex) == 0);
	CHECK(strcmp(hex, good + 7) == 0);
	CHECK(dd_sha256_hex_ok(good + 7));
	CHECK(!dd_sha256_hex_ok(NULL));
	CHECK(dd_digest_parse(NULL, hex) == DD_E_FORMAT);
	CHECK(strcmp(dd_error_detail(), "the digest is missing") == 0 && !hex[0]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(dd_digest_parse(bad[i], hex) == DD_E_FORMAT);
		CHECK(strstr(dd_error_detail(), "is not sha256: and 64 lower-case hex digits"));
	}
	dd_error_clear();
}

void suite_buf(void)
{
	RUN(t_digest_parse);
	RUN(t_blob_split);
	RUN(t_blob_split_lines);
	RUN(t_blob_trim);
	RUN(t_blob_to_u64);
	RUN(t_blob_misc);
	RUN(t_buf_addf_grows);
	RUN(t_buf_add_binary);
	RUN(t_buf_detach);
	RUN(t_error_detail);
}
