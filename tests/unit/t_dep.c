#include "test.h"

#include <stdio.h>
#include <string.h>

#include "apk/dep.h"
#include "apk/version.h"
#include "core/error.h"

/* Parse s, format it again and compare with want (NULL: same as s). */
static bool round_trip(const char *s, const char *want)
{
	struct dd_dep d;
	struct dd_buf out = DD_BUF_INIT;
	bool ok;

	if (dd_dep_parse(dd_blob_str(s), &d) != 0)
		return false;
	dd_dep_format(&d, &out);
	ok = strcmp(dd_buf_blob(&out).ptr, want ? want : s) == 0;
	dd_buf_release(&out);
	dd_dep_release(&d);
	return ok;
}

/* s must be refused with DD_E_FORMAT and a detail containing needle. */
static bool rejects(const char *s, const char *needle)
{
	struct dd_dep d;
	int rc = dd_dep_parse(dd_blob_str(s), &d);

	if (rc != DD_E_FORMAT)
		return false;
	return d.name == NULL && d.version == NULL && strstr(dd_error_detail(), needle) != NULL;
}

static void t_dep_plain(void)
{
	struct dd_dep d;

	CHECK(dd_dep_parse(dd_blob_str("musl"), &d) == 0);
	CHECK(strcmp(d.name, "musl") == 0);
	CHECK(d.version == NULL);
	CHECK(d.op == DD_VER_ANY);
	CHECK(!d.conflict);
	dd_dep_release(&d);
	CHECK(d.name == NULL);

	CHECK(dd_dep_parse(dd_blob_str("libstdc++-dev"), &d) == 0);
	CHECK(strcmp(d.name, "libstdc++-dev") == 0);
	dd_dep_release(&d);

	/* Only len bytes of the blob count. */
	CHECK(dd_dep_parse((struct dd_blob){ "zlib>=1.2 junk", 9 }, &d) == 0);
	CHECK(strcmp(d.name, "zlib") == 0 && strcmp(d.version, "1.2") == 0);
	dd_dep_release(&d);
}

static void t_dep_each_operator(void)
{
	static const struct {
		const char *in, *out;
		unsigned op;
	} cases[] = {
		{ "a<1.0", NULL, DD_VER_LESS },
		{ "a<=1.0", NULL, DD_VER_LESS | DD_VER_EQUAL },
		{ "a=1.0", NULL, DD_VER_EQUAL },
		{ "a>=1.0", NULL, DD_VER_GREATER | DD_VER_EQUAL },
		{ "a>1.0", NULL, DD_VER_GREATER },
		{ "a~1.0", NULL, DD_VER_EQUAL | DD_VER_FUZZY },
		{ "a=~1.0", "a~1.0", DD_VER_EQUAL | DD_VER_FUZZY },
		{ "a~=1.0", "a~1.0", DD_VER_EQUAL | DD_VER_FUZZY },
		{ "a<~1.0", NULL, DD_VER_LESS | DD_VER_EQUAL | DD_VER_FUZZY },
		{ "a>~1.0", NULL, DD_VER_GREATER | DD_VER_EQUAL | DD_VER_FUZZY },
		{ "a><Q1abc+/=", NULL, DD_VER_LESS | DD_VER_GREATER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dd_dep d;

		CHECK_MSG(dd_dep_parse(dd_blob_str(cases[i].in), &d) == 0, "'%s': %s", cases[i].in,
			  dd_error_detail());
		CHECK_MSG(d.op == cases[i].op, "'%s' op 0x%x", cases[i].in, d.op);
		CHECK_MSG(d.name && strcmp(d.name, "a") == 0, "'%s' name", cases[i].in);
		CHECK_MSG(d.version != NULL, "'%s' version", cases[i].in);
		dd_dep_release(&d);
		CHECK_MSG(round_trip(cases[i].in, cases[i].out), "round trip '%s'", cases[i].in);
	}
}

static void t_dep_round_trip(void)
{
	const char *same[] = { "busybox",
			       "so:libc.musl-x86_64.so.1",
			       "cmd:sh",
			       "pc:zlib>=1.2.13",
			       "cmd:[",
			       "py3-foo=1.0_rc1-r2",
			       "!openssl1.1-compat",
			       "!libressl<3.0",
			       "gcc~12",
			       "x=1.0~abcdef01-r0" };

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		CHECK_MSG(round_trip(same[i], NULL), "round trip '%s'", same[i]);
}

static void t_dep_conflict(void)
{
	struct dd_dep d;

	CHECK(dd_dep_parse(dd_blob_str("!foo"), &d) == 0);
	CHECK(d.conflict && strcmp(d.name, "foo") == 0);
	CHECK(d.version == NULL && d.op == DD_VER_ANY);
	/* Matching ignores the '!': the caller decides what it means. */
	CHECK(dd_dep_matches(&d, "foo", "1.0"));
	CHECK(dd_dep_matches(&d, "foo", NULL));
	dd_dep_release(&d);

	CHECK(dd_dep_parse(dd_blob_str("!foo<2"), &d) == 0);
	CHECK(d.conflict && d.op == DD_VER_LESS && strcmp(d.version, "2") == 0);
	CHECK(dd_dep_matches(&d, "foo", "1.9"));
	CHECK(!dd_dep_matches(&d, "foo", "2"));
	dd_dep_release(&d);
}

static void t_dep_namespace(void)
{
	size_t len = 0;
	const char *ns;

	ns = dd_dep_namespace("so:libz.so.1", &len);
	CHECK(ns && len == 2 && strncmp(ns, "so", len) == 0);
	ns = dd_dep_namespace("cmd:sh", &len);
	CHECK(ns && len == 3 && strncmp(ns, "cmd", len) == 0);
	ns = dd_dep_namespace("pc:zlib", &len);
	CHECK(ns && len == 2 && strncmp(ns, "pc", len) == 0);
	CHECK(dd_dep_namespace("zlib", &len) == NULL);
	CHECK(dd_dep_namespace("zlib-dev", NULL) == NULL);
	CHECK(dd_dep_namespace(":odd", &len) == NULL);
}

static void t_dep_list(void)
{
	struct dd_dep *deps = NULL;
	struct dd_buf out = DD_BUF_INIT;
	size_t n = 0;

	CHECK(dd_deps_parse(dd_blob_str("  musl\tso:libz.so.1>=1\n !foo  "), &deps, &n) == 0);
	CHECK(n == 3);
	CHECK(dd_deps_parse(dd_blob_str("cmd:sh"), &deps, &n) == 0);
	CHECK(n == 4);
	dd_deps_format(deps, n, &out);
	CHECK(strcmp(dd_buf_blob(&out).ptr, "musl so:libz.so.1>=1 !foo cmd:sh") == 0);

	/* A bad word leaves the list as it was. */
	CHECK(dd_deps_parse(dd_blob_str("a b< c"), &deps, &n) == DD_E_FORMAT);
	CHECK(n == 4);
	CHECK(strstr(dd_error_detail(), "b<") != NULL);

	/* Nothing to parse is not an error. */
	CHECK(dd_deps_parse(dd_blob_str(" \n\t"), &deps, &n) == 0);
	CHECK(dd_deps_parse(dd_blob_str(""), &deps, &n) == 0);
	CHECK(n == 4);

	dd_buf_reset(&out);
	dd_deps_format(NULL, 0, &out);
	CHECK(out.len == 0);
	dd_buf_release(&out);
	dd_deps_free(deps, n);
}

static void t_dep_matches(void)
{
	struct dd_dep d;

	CHECK(dd_dep_parse(dd_blob_str("zlib>=1.2.13"), &d) == 0);
	CHECK(dd_dep_matches(&d, "zlib", "1.2.13-r0"));
	CHECK(dd_dep_matches(&d, "zlib", "1.3"));
	CHECK(!dd_dep_matches(&d, "zlib", "1.2.12"));
	CHECK(!dd_dep_matches(&d, "zlib", "1.2.13_rc1"));
	CHECK(!dd_dep_matches(&d, "zlib-dev", "1.3"));
	/* An unversioned provide never satisfies a versioned dependency. */
	CHECK(!dd_dep_matches(&d, "zlib", NULL));
	dd_dep_release(&d);

	CHECK(dd_dep_parse(dd_blob_str("so:libc.musl-x86_64.so.1"), &d) == 0);
	CHECK(dd_dep_matches(&d, "so:libc.musl-x86_64.so.1", NULL));
	CHECK(dd_dep_matches(&d, "so:libc.musl-x86_64.so.1", "1"));
	CHECK(!dd_dep_matches(&d, "libc.musl-x86_64.so.1", "1"));
	dd_dep_release(&d);

	CHECK(dd_dep_parse(dd_blob_str("python3~3.11"), &d) == 0);
	CHECK(dd_dep_matches(&d, "python3", "3.11.9-r0"));
	CHECK(!dd_dep_matches(&d, "python3", "3.12.1-r0"));
	dd_dep_release(&d);

	CHECK(dd_dep_parse(dd_blob_str("a=1.0"), &d) == 0);
	CHECK(dd_dep_matches(&d, "a", "1.0"));
	CHECK(!dd_dep_matches(&d, "a", "1.0-r1"));
	dd_dep_release(&d);

	/* A checksum pin cannot be decided from a version string. */
	CHECK(dd_dep_parse(dd_blob_str("a><Q1xyz="), &d) == 0);
	CHECK(!dd_dep_matches(&d, "a", "1.0"));
	dd_dep_release(&d);
}

static void t_dep_bad(void)
{
	CHECK(rejects("", "empty name"));
	{
		struct dd_dep d;

		CHECK(dd_dep_parse((struct dd_blob){ NULL, 0 }, &d) == DD_E_FORMAT);
	}
	CHECK(rejects("!", "empty name"));
	CHECK(rejects(">=1.0", "'>=1.0': empty name"));
	CHECK(rejects("!=1.0", "empty name"));
	CHECK(rejects("so:", "':'"));
	CHECK(rejects(":foo", "':'"));
	CHECK(rejects("foo bar", "bad character ' '"));
	CHECK(rejects("foo$", "bad character '$'"));
	CHECK(rejects("!!foo", "bad character '!'"));
	CHECK(rejects("Foo\x01", "0x01"));
	CHECK(rejects("foo\xc3\xa9", "0xc3"));
	CHECK(rejects("foo@edge", "name@tag"));
	CHECK(rejects("foo@edge>=1", "name@tag"));
	CHECK(rejects("foo>=", "operator '>=' without a version"));
	CHECK(rejects("foo<", "'foo<'"));
	CHECK(rejects("foo~", "without a version"));
	CHECK(rejects("foo<<1", "unknown operator '<<'"));
	CHECK(rejects("foo=>1", "unknown operator '=>'"));
	CHECK(rejects("foo>=1.0\x01", "bad version"));
	CHECK(rejects("foo<1.0>2", "bad version '1.0>2'"));
	CHECK(rejects("foo><", "without a version"));
	CHECK(rejects("foo><Q1\x7f", "bad checksum"));
}

/* Real indexes hold versions apk-tools 3 calls invalid; apk keeps them. */
static void t_dep_lenient_versions(void)
{
	struct dd_dep d;

	CHECK(dd_dep_parse(dd_blob_str("pc:librtmp=v2.4"), &d) == 0);
	CHECK(d.version && !strcmp(d.version, "v2.4"));
	CHECK(d.op == DD_VER_EQUAL);
	dd_dep_release(&d);
}

void suite_dep(void)
{
	RUN(t_dep_lenient_versions);
	RUN(t_dep_plain);
	RUN(t_dep_each_operator);
	RUN(t_dep_round_trip);
	RUN(t_dep_conflict);
	RUN(t_dep_namespace);
	RUN(t_dep_list);
	RUN(t_dep_matches);
	RUN(t_dep_bad);
}
