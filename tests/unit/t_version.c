#include "test.h"

#include <stdio.h>
#include <string.h>

#include "apk/version.h"

static struct dd_blob B(const char *s) {
	return dd_blob_str(s);
}

static int
cmp(const char *a, const char *b)
{
	return dd_version_compare(B(a), B(b));
}

/* "a OP b" with OP as written in a dependency. */
static bool holds(const char *a, const char *op, const char *b)
{
	unsigned mask = 0;
	size_t n = dd_version_op_parse(B(op), &mask);

	return n == strlen(op) && dd_version_match(B(a), mask, B(b));
}

/*
 * One line of apk-tools' test/unit/version.data:
 *   "V"          V is valid
 *   "!V"         V is invalid
 *   "A op B"     A op B holds
 *   "A !op B"    A op B does not hold
 * Returns false with *why set when the line does not hold; counts the
 * lines that assert something (not blank, not only a comment) in *counted.
 */
static bool corpus_line(char *line, const char **why, int *counted)
{
	char *hash = strchr(line, '#'), *a, *op, *b, *save = NULL;
	bool invert = false, ok;
	unsigned mask = 0;
	size_t n;

	if (hash)
		*hash = 0;
	a = strtok_r(line, " \t\r\n", &save);
	if (!a)
		return true;
	(*counted)++;
	op = strtok_r(NULL, " \t\r\n", &save);
	b = op ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	if (op && (!b || strtok_r(NULL, " \t\r\n", &save))) {
		*why = "unparsable line";
		return false;
	}
	if (!op) {
		invert = a[0] == '!';
		ok = dd_version_valid(B(a + invert));
		*why = invert ? "should be invalid" : "should be valid";
		return ok != invert;
	}
	invert = op[0] == '!';
	n = dd_version_op_parse(B(op + invert), &mask);
	if (n == 0 || n != strlen(op + invert)) {
		*why = "operator not recognised";
		return false;
	}
	ok = dd_version_match(B(a), mask, B(b));
	*why = "comparison does not hold";
	return ok != invert;
}

static void t_version_corpus(void)
{
	const char *path = t_corpus("apk-tools/version.data");
	char line[1024], orig[1024];
	const char *why = NULL;
	int lineno = 0, checked = 0;
	FILE *f;

	if (!path) {
		t_skip("corpus absent: ../shared/corpus/apk-tools/version.data");
		return;
	}
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		snprintf(orig, sizeof(orig), "%s", line);
		CHECK_MSG(corpus_line(line, &why, &checked), "version.data:%d: '%.300s': %s",
			  lineno, orig, why);
	}
	fclose(f);
	/* Guard against a truncated or emptied corpus passing vacuously. */
	CHECK_MSG(checked > 700, "only %d lines checked in %s", checked, path);
}

static void t_version_valid(void)
{
	const char *good[] = { "0",
			       "1.2.3",
			       "1.2a",
			       "1.0_alpha",
			       "1.0_rc1_p2",
			       "1.0~deadBEEF",
			       "1.0_git20240101~abc-r3",
			       "2.31-r1",
			       "1.0-r0",
			       "00.01" };
	const char *bad[] = { "",      "a",         "1.",      "1..2",      "1.0-",
			      "1.0-1", "1.0-r",     "1.0_",    "1.0_foo",   "1.0A",
			      "1.0ab", "1.0~",      "1.0~xyz", "1.0-r1~ab", "1.0 ",
			      " 1.0",  "1.0-r1_p1", "1.0_p1a", "v1.0" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_MSG(dd_version_valid(B(good[i])), "'%s' should be valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(!dd_version_valid(B(bad[i])), "'%s' should be invalid", bad[i]);
	CHECK(!dd_version_valid((struct dd_blob){ NULL, 0 }));
	/* A blob need not be NUL-terminated: only len bytes count. */
	CHECK(dd_version_valid((struct dd_blob){ "1.2junk", 3 }));
}

static void t_version_suffix_order(void)
{
	/* Each is strictly older than the next. */
	const char *chain[] = { "1.0_alpha", "1.0_alpha1", "1.0_beta", "1.0_pre", "1.0_rc",
				"1.0_rc2",   "1.0",        "1.0-r1",   "1.0_cvs", "1.0_svn",
				"1.0_git",   "1.0_hg",     "1.0_p",    "1.0_p1",  "1.0a",
				"1.0b",      "1.0.1" };
	size_t n = sizeof(chain) / sizeof(chain[0]);

	for (size_t i = 0; i + 1 < n; i++) {
		CHECK_MSG(cmp(chain[i], chain[i + 1]) == DD_VER_LESS, "%s < %s", chain[i],
			  chain[i + 1]);
		CHECK_MSG(cmp(chain[i + 1], chain[i]) == DD_VER_GREATER, "%s > %s", chain[i + 1],
			  chain[i]);
		CHECK_MSG(cmp(chain[i], chain[i]) == DD_VER_EQUAL, "%s = %s", chain[i], chain[i]);
	}
}

static void t_version_numbers(void)
{
	CHECK(cmp("1.10", "1.9") == DD_VER_GREATER);
	CHECK(cmp("10", "9") == DD_VER_GREATER);
	CHECK(cmp("1.0-r10", "1.0-r9") == DD_VER_GREATER);
	CHECK(cmp("1.0_p10", "1.0_p9") == DD_VER_GREATER);
	/* A leading zero makes a component compare as text. */
	CHECK(cmp("8.2.0015", "8.2.002") == DD_VER_LESS);
	CHECK(cmp("1.01", "1.1") == DD_VER_LESS);
	CHECK(cmp("1.0", "1.00") == DD_VER_LESS);
	/* ...but not the first one, which is always numeric. */
	CHECK(cmp("01.0", "1.0") == DD_VER_EQUAL);
	CHECK(cmp("18446744073709551615", "1") == DD_VER_GREATER);
}

static void t_version_hash_and_revision(void)
{
	CHECK(cmp("1.0~1234", "1.0~2345") == DD_VER_LESS);
	CHECK(cmp("1.0~abc", "1.0~abc") == DD_VER_EQUAL);
	CHECK(cmp("1.0~1234-r1", "1.0~1234-r0") == DD_VER_GREATER);
	/* Where the two diverge, the side whose next token comes earlier in
	 * the grammar is newer: 1.0 < 1.0-r1 < 1.0~abc. */
	CHECK(cmp("1.0~abc", "1.0") == DD_VER_GREATER);
	CHECK(cmp("1.0-r1", "1.0~abc") == DD_VER_LESS);
}

static void t_version_invalid_compare(void)
{
	/* Invalid versions still compare token by token up to the first
	 * bad token; the broken side then sorts older (apk-tools). */
	CHECK(cmp("1.0_foo", "1.0") == DD_VER_LESS);
	CHECK(cmp("1.1_foo", "1.0") == DD_VER_GREATER);
	CHECK(cmp("1.0", "1.0_foo") == DD_VER_GREATER);
	CHECK(cmp("", "0") == DD_VER_LESS);
	CHECK(cmp("", "") == DD_VER_EQUAL);
}

static void t_version_fuzzy(void)
{
	CHECK(holds("3.6.9", "~", "3.6"));
	CHECK(holds("3.6", "~", "3.6"));
	CHECK(holds("3.6_rc1", "~", "3.6"));
	CHECK(!holds("3.6", "~", "3.6.0"));
	CHECK(!holds("3.7", "~", "3.6"));
	CHECK(!holds("3.61", "~", "3.6"));
	CHECK(holds("3.6.2", "=~", "3.6"));
	CHECK(holds("3.6.2", "~=", "3.6"));
	CHECK(holds("3.5", "<~", "3.6"));
	CHECK(holds("3.6.9", "<~", "3.6"));
	CHECK(!holds("3.7", "<~", "3.6"));
	CHECK(holds("3.7", ">~", "3.6"));
	CHECK(holds("3.6.1", ">~", "3.6"));
	CHECK(!holds("3.5", ">~", "3.6"));
	/* Without the fuzzy bit, a longer version is simply newer. */
	CHECK(!holds("3.6.9", "=", "3.6"));
	CHECK(holds("3.6.9", ">", "3.6"));
}

static void t_version_ops(void)
{
	static const struct {
		const char *in, *canon;
		unsigned op;
	} ops[] = {
		{ "<", "<", DD_VER_LESS },
		{ "<=", "<=", DD_VER_LESS | DD_VER_EQUAL },
		{ "=", "=", DD_VER_EQUAL },
		{ ">=", ">=", DD_VER_GREATER | DD_VER_EQUAL },
		{ ">", ">", DD_VER_GREATER },
		{ "~", "~", DD_VER_EQUAL | DD_VER_FUZZY },
		{ "=~", "~", DD_VER_EQUAL | DD_VER_FUZZY },
		{ "~=", "~", DD_VER_EQUAL | DD_VER_FUZZY },
		{ "<~", "<~", DD_VER_LESS | DD_VER_EQUAL | DD_VER_FUZZY },
		{ ">~", ">~", DD_VER_GREATER | DD_VER_EQUAL | DD_VER_FUZZY },
		{ "><", "><", DD_VER_LESS | DD_VER_GREATER },
	};
	const char *junk[] = {
		"", "1.0", "!", "<<", "=>", "=<", "<>", "==", "~~", "<=>", "-", " <"
	};
	unsigned op;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		char with_ver[16];

		op = 0;
		CHECK_MSG(dd_version_op_parse(B(ops[i].in), &op) == strlen(ops[i].in), "parse '%s'",
			  ops[i].in);
		CHECK_MSG(op == ops[i].op, "'%s' gave 0x%x", ops[i].in, op);
		CHECK_MSG(strcmp(dd_version_op_str(op), ops[i].canon) == 0, "'%s' printed as '%s'",
			  ops[i].in, dd_version_op_str(op));
		snprintf(with_ver, sizeof(with_ver), "%s1.0", ops[i].in);
		CHECK_MSG(dd_version_op_parse(B(with_ver), &op) == strlen(ops[i].in), "parse '%s'",
			  with_ver);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		CHECK_MSG(dd_version_op_parse(B(junk[i]), &op) == 0, "'%s' accepted", junk[i]);
	CHECK(strcmp(dd_version_op_str(DD_VER_ANY), "") == 0);
	CHECK(strcmp(dd_version_op_str(DD_VER_FUZZY), "~") == 0);
	CHECK(strcmp(dd_version_op_str(0), "?") == 0);
}

static void t_version_match(void)
{
	CHECK(holds("1.0", "<=", "1.0"));
	CHECK(holds("0.9", "<=", "1.0"));
	CHECK(!holds("1.1", "<=", "1.0"));
	CHECK(holds("1.0-r1", ">=", "1.0"));
	CHECK(!holds("1.0_rc1", ">=", "1.0"));
	CHECK(holds("1.0_rc1", "<", "1.0"));
	CHECK(holds("2", "=", "2"));
	CHECK(!holds("2-r1", "=", "2"));
	CHECK(dd_version_match(B("anything"), DD_VER_ANY, B("1.0")));
	CHECK(dd_version_match(B("1"), DD_VER_ANY | DD_VER_FUZZY, B("2")));
}

void suite_version(void)
{
	RUN(t_version_corpus);
	RUN(t_version_valid);
	RUN(t_version_suffix_order);
	RUN(t_version_numbers);
	RUN(t_version_hash_and_revision);
	RUN(t_version_invalid_compare);
	RUN(t_version_fuzzy);
	RUN(t_version_ops);
	RUN(t_version_match);
}
