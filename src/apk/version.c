/*
 * APK version ordering, following apk-tools 3 (src/version.c) token by
 * token so that drydock and apk always agree on which package is newer.
 *
 * A version is read as a sequence of typed tokens:
 *
 *   1.2.3a_rc4_p1~0abc-r2
 *   ^ ^ ^^^  ^^ ^^ ^   ^
 *   | | ||   |  |  |   revision number
 *   | | ||   |  |  commit hash
 *   | | ||   |  suffix + suffix number
 *   | | |suffix ("rc") + suffix number
 *   | | letter
 *   | digits
 *   initial digits
 *
 * The token types are ordered, and a token may only follow one whose type
 * allows it; that single rule gives both validation and the "which one is
 * longer" tie-break in compare_fuzzy().
 */
#include "apk/version.h"

#include <stdint.h>
#include <string.h>

/* Order matters: tok_next() bounds transitions by it and compare_fuzzy()
 * uses it to decide which of two diverging versions is newer. */
enum tok_type {
	TOK_INITIAL_DIGIT,
	TOK_DIGIT,
	TOK_LETTER,
	TOK_SUFFIX,
	TOK_SUFFIX_NO,
	TOK_COMMIT_HASH,
	TOK_REVISION_NO,
	TOK_END,
	TOK_INVALID,
};

/* Suffix ranks: pre-release suffixes sort below SUFFIX_NONE (no suffix),
 * post-release ones above it. */
enum {
	SUFFIX_INVALID,
	SUFFIX_ALPHA,
	SUFFIX_BETA,
	SUFFIX_PRE,
	SUFFIX_RC,
	SUFFIX_NONE,
	SUFFIX_CVS,
	SUFFIX_SVN,
	SUFFIX_GIT,
	SUFFIX_HG,
	SUFFIX_P,
};

struct tok {
	enum tok_type type;
	int suffix;          /* SUFFIX_* when type is TOK_SUFFIX */
	uint64_t number;     /* value of a digit run */
	struct dd_blob text; /* the token's own characters */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void blob_skip(struct dd_blob *b, size_t n)
{
	b->ptr += n;
	b->len -= n;
}

/* Take the longest prefix of *b whose characters satisfy ok(). */
static struct dd_blob blob_take(struct dd_blob *b, bool (*ok)(char))
{
	struct dd_blob head = { b->ptr, 0 };

	while (head.len < b->len && ok(b->ptr[head.len]))
		head.len++;
	blob_skip(b, head.len);
	return head;
}

static int suffix_rank(struct dd_blob s)
{
	static const char *const names[] = {
		[SUFFIX_ALPHA] = "alpha", [SUFFIX_BETA] = "beta", [SUFFIX_PRE] = "pre",
		[SUFFIX_RC] = "rc",       [SUFFIX_CVS] = "cvs",   [SUFFIX_SVN] = "svn",
		[SUFFIX_GIT] = "git",     [SUFFIX_HG] = "hg",     [SUFFIX_P] = "p",
	};

	for (int i = SUFFIX_ALPHA; i <= SUFFIX_P; i++)
		if (names[i] && dd_blob_eq(s, names[i]))
			return i;
	return SUFFIX_INVALID;
}

/* The number wraps modulo 2^64 on overflow, exactly like apk-tools'
 * apk_blob_pull_uint(), so absurdly long components order the same way. */
static void tok_digits(struct tok *t, struct dd_blob *b)
{
	t->text = blob_take(b, is_digit);
	t->number = 0;
	for (size_t i = 0; i < t->text.len; i++)
		t->number = t->number * 10 + (uint64_t)(t->text.ptr[i] - '0');
	if (t->text.len == 0)
		t->type = TOK_INVALID;
}

static void tok_first(struct tok *t, struct dd_blob *b)
{
	t->type = TOK_INITIAL_DIGIT;
	tok_digits(t, b);
}

static void tok_suffix(struct tok *t, struct dd_blob *b)
{
	blob_skip(b, 1);
	t->text = blob_take(b, is_lower);
	t->suffix = suffix_rank(t->text);
	t->type = t->suffix == SUFFIX_INVALID ? TOK_INVALID : TOK_SUFFIX;
}

static void tok_hash(struct tok *t, struct dd_blob *b)
{
	blob_skip(b, 1);
	t->text = blob_take(b, is_hex);
	t->type = t->text.len ? TOK_COMMIT_HASH : TOK_INVALID;
}

static void tok_revision(struct tok *t, struct dd_blob *b)
{
	if (b->len < 2 || b->ptr[1] != 'r') {
		t->type = TOK_INVALID;
		return;
	}
	blob_skip(b, 2);
	t->type = TOK_REVISION_NO;
	tok_digits(t, b);
}

/* A digit run: after '.', or directly after a suffix name ("_rc4"). */
static void tok_number(struct tok *t, struct dd_blob *b)
{
	if (t->type == TOK_INITIAL_DIGIT || t->type == TOK_DIGIT)
		t->type = TOK_DIGIT;
	else if (t->type == TOK_SUFFIX)
		t->type = TOK_SUFFIX_NO;
	else {
		t->type = TOK_INVALID;
		return;
	}
	tok_digits(t, b);
}

/* Advance to the next token; its first character decides its type, and
 * the previous token's type decides whether it may appear here. */
static void tok_next(struct tok *t, struct dd_blob *b)
{
	char c;

	if (b->len == 0) {
		t->type = TOK_END;
		return;
	}
	c = b->ptr[0];
	if (is_lower(c) && t->type <= TOK_DIGIT) {
		t->text = (struct dd_blob){ b->ptr, 1 };
		t->type = TOK_LETTER;
		blob_skip(b, 1);
	} else if (c == '.' && t->type <= TOK_DIGIT) {
		blob_skip(b, 1);
		tok_number(t, b);
	} else if (is_digit(c)) {
		tok_number(t, b);
	} else if (c == '_' && t->type <= TOK_SUFFIX_NO) {
		tok_suffix(t, b);
	} else if (c == '~' && t->type < TOK_COMMIT_HASH) {
		tok_hash(t, b);
	} else if (c == '-' && t->type < TOK_REVISION_NO) {
		tok_revision(t, b);
	} else {
		t->type = TOK_INVALID;
	}
}

/* Plain byte order, shorter first on a common prefix (apk_blob_sort). */
static int blob_order(struct dd_blob a, struct dd_blob b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int r = n ? memcmp(a.ptr, b.ptr, n) : 0;

	if (r == 0)
		r = (a.len > b.len) - (a.len < b.len);
	return r < 0 ? DD_VER_LESS : r > 0 ? DD_VER_GREATER : DD_VER_EQUAL;
}

static int num_order(uint64_t a, uint64_t b)
{
	return a < b ? DD_VER_LESS : a > b ? DD_VER_GREATER : DD_VER_EQUAL;
}

/* Compare two tokens of the same type. */
static int tok_cmp(const struct tok *a, const struct tok *b)
{
	switch (a->type) {
	case TOK_DIGIT:
		/* A component with a leading zero ("001") compares as text,
		 * as in Gentoo, so 8.2.0015 < 8.2.002. */
		if (a->text.ptr[0] == '0' || b->text.ptr[0] == '0')
			return blob_order(a->text, b->text);
		return num_order(a->number, b->number);
	case TOK_INITIAL_DIGIT:
	case TOK_SUFFIX_NO:
	case TOK_REVISION_NO:
		return num_order(a->number, b->number);
	case TOK_LETTER:
		return num_order((unsigned char)a->text.ptr[0], (unsigned char)b->text.ptr[0]);
	case TOK_SUFFIX:
		return num_order((uint64_t)a->suffix, (uint64_t)b->suffix);
	default:
		return blob_order(a->text, b->text);
	}
}

static struct dd_blob blob_or_empty(struct dd_blob b)
{
	return b.ptr ? b : (struct dd_blob){ "", 0 };
}

/*
 * Walk both versions in step while the token types agree.  An invalid
 * tail is not an error here: like apk-tools, the comparison simply stops
 * at the first token that breaks the grammar, and TOK_INVALID (the
 * highest type) then makes that side the older one.
 */
static int compare_fuzzy(struct dd_blob a, struct dd_blob b, bool fuzzy)
{
	struct tok ta, tb;
	int r;

	a = blob_or_empty(a);
	b = blob_or_empty(b);
	tok_first(&ta, &a);
	tok_first(&tb, &b);
	while (ta.type == tb.type && ta.type < TOK_END) {
		r = tok_cmp(&ta, &tb);
		if (r != DD_VER_EQUAL)
			return r;
		tok_next(&ta, &a);
		tok_next(&tb, &b);
	}
	if (ta.type == tb.type)
		return DD_VER_EQUAL;
	/* "~ 3.6" is satisfied by anything that starts with 3.6's tokens. */
	if (fuzzy && tb.type == TOK_END)
		return DD_VER_EQUAL;
	/* The longer one is newer, unless what it has more of is a
	 * pre-release suffix (1.0_rc1 < 1.0). */
	if (ta.type == TOK_SUFFIX && ta.suffix < SUFFIX_NONE)
		return DD_VER_LESS;
	if (tb.type == TOK_SUFFIX && tb.suffix < SUFFIX_NONE)
		return DD_VER_GREATER;
	return ta.type > tb.type ? DD_VER_LESS : DD_VER_GREATER;
}

bool dd_version_valid(struct dd_blob v)
{
	struct tok t;

	v = blob_or_empty(v);
	for (tok_first(&t, &v); t.type < TOK_END; tok_next(&t, &v))
		;
	return t.type == TOK_END;
}

int dd_version_compare(struct dd_blob a, struct dd_blob b)
{
	return compare_fuzzy(a, b, false);
}

bool dd_version_match(struct dd_blob a, unsigned op, struct dd_blob b)
{
	if ((op & DD_VER_ANY) == DD_VER_ANY)
		return true;
	return (compare_fuzzy(a, b, (op & DD_VER_FUZZY) != 0) & (int)op) != 0;
}

/* Only these spellings are accepted; apk-tools would OR together any run
 * of <>=~, but "<<" or "=>" in a dependency is far more likely a typo than
 * intent, so they are rejected rather than guessed at. */
static const struct {
	const char *text;
	unsigned op;
} op_table[] = {
	{ "<=", DD_VER_LESS | DD_VER_EQUAL },
	{ ">=", DD_VER_GREATER | DD_VER_EQUAL },
	{ "<~", DD_VER_LESS | DD_VER_EQUAL | DD_VER_FUZZY },
	{ ">~", DD_VER_GREATER | DD_VER_EQUAL | DD_VER_FUZZY },
	{ "=~", DD_VER_EQUAL | DD_VER_FUZZY },
	{ "~=", DD_VER_EQUAL | DD_VER_FUZZY },
	{ "><", DD_VER_LESS | DD_VER_GREATER },
	{ "<", DD_VER_LESS },
	{ ">", DD_VER_GREATER },
	{ "=", DD_VER_EQUAL },
	{ "~", DD_VER_EQUAL | DD_VER_FUZZY },
};

static bool is_op_char(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '~';
}

size_t dd_version_op_parse(struct dd_blob s, unsigned *op)
{
	struct dd_blob run = blob_take(&s, is_op_char);

	for (size_t i = 0; i < sizeof(op_table) / sizeof(op_table[0]); i++) {
		if (dd_blob_eq(run, op_table[i].text)) {
			*op = op_table[i].op;
			return run.len;
		}
	}
	return 0;
}

const char *dd_version_op_str(unsigned op)
{
	switch (op) {
	case DD_VER_LESS:
		return "<";
	case DD_VER_LESS | DD_VER_EQUAL:
		return "<=";
	case DD_VER_LESS | DD_VER_EQUAL | DD_VER_FUZZY:
		return "<~";
	case DD_VER_EQUAL:
		return "=";
	case DD_VER_EQUAL | DD_VER_FUZZY:
	case DD_VER_FUZZY:
		return "~";
	case DD_VER_GREATER | DD_VER_EQUAL:
		return ">=";
	case DD_VER_GREATER | DD_VER_EQUAL | DD_VER_FUZZY:
		return ">~";
	case DD_VER_GREATER:
		return ">";
	case DD_VER_LESS | DD_VER_GREATER:
		return "><";
	case DD_VER_ANY:
		return "";
	default:
		return "?";
	}
}
