/*
 * APK dependency strings, parsed and written the way apk-tools 3 does
 * (apk_dep_parse() and dependency_fromstring()/dependency_tostring()),
 * but strict: where apk would mark a dependency "broken" and carry on,
 * drydock refuses the input, because an image must not be assembled from
 * a constraint nobody can evaluate.
 */
#include "apk/dep.h"

#include <stdlib.h>
#include <string.h>

#include "apk/version.h"
#include "core/error.h"

/* Error messages quote the offending text, but never more than this. */
#define QUOTE_MAX 200
#define QUOTE(b)  (int)((b).len < QUOTE_MAX ? (b).len : QUOTE_MAX), (b).ptr

#define DD_VER_CHECKSUM (DD_VER_LESS | DD_VER_GREATER)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_op_char(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '~';
}

/*
 * apk-tools' APK_CTYPE_DEPENDENCY_NAME: package-name characters plus
 * ':' for namespaces and ", / [ ]" which real provides use ("cmd:[").
 */
static bool is_name_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("+-._:,/[]", c) != NULL;
}

static size_t span(struct dd_blob b, bool (*ok)(char))
{
	size_t i = 0;

	while (i < b.len && ok(b.ptr[i]))
		i++;
	return i;
}

static struct dd_blob blob_from(struct dd_blob b, size_t off)
{
	return (struct dd_blob){ b.ptr + off, b.len - off };
}

static int bad_char(struct dd_blob text, char c)
{
	if (c >= ' ' && c < 0x7f)
		return dd_error(DD_E_FORMAT, "dependency '%.*s': bad character '%c' in name",
				QUOTE(text), c);
	return dd_error(DD_E_FORMAT, "dependency '%.*s': bad character 0x%02x in name", QUOTE(text),
			(unsigned char)c);
}

/*
 * Repository pins ("name@edge") only mean something in apk's world file,
 * against the tags of configured repositories; drydock has neither, and
 * apk itself rejects them in package metadata, so they are refused.
 */
static int check_name(struct dd_blob name, struct dd_blob text)
{
	const char *colon;
	size_t ok;

	if (name.len == 0)
		return dd_error(DD_E_FORMAT, "dependency '%.*s': empty name", QUOTE(text));
	if (memchr(name.ptr, '@', name.len))
		return dd_error(DD_E_FORMAT,
				"dependency '%.*s': repository tags (name@tag) are not supported",
				QUOTE(text));
	ok = span(name, is_name_char);
	if (ok < name.len)
		return bad_char(text, name.ptr[ok]);
	colon = memchr(name.ptr, ':', name.len);
	if (colon && (colon == name.ptr || colon == name.ptr + name.len - 1))
		return dd_error(DD_E_FORMAT,
				"dependency '%.*s': empty namespace or name around ':'",
				QUOTE(text));
	return 0;
}

/*
 * A checksum pin ("name><Q1...") carries a package identity instead of a
 * version; it is kept verbatim and only checked to be one printable word.
 */
static int check_checksum(struct dd_blob ver, struct dd_blob text)
{
	for (size_t i = 0; i < ver.len; i++)
		if (ver.ptr[i] <= ' ' || ver.ptr[i] >= 0x7f)
			return dd_error(DD_E_FORMAT, "dependency '%.*s': bad checksum '%.*s'",
					QUOTE(text), QUOTE(ver));
	return 0;
}

/* Parse "<op><version>" from rest, which starts with an operator char. */
static int parse_constraint(struct dd_blob rest, struct dd_blob text, unsigned *op,
			    struct dd_blob *ver)
{
	size_t run = span(rest, is_op_char);
	size_t n = dd_version_op_parse(rest, op);

	if (n == 0)
		return dd_error(DD_E_FORMAT, "dependency '%.*s': unknown operator '%.*s'",
				QUOTE(text), (int)run, rest.ptr);
	*ver = blob_from(rest, n);
	if (ver->len == 0)
		return dd_error(DD_E_FORMAT, "dependency '%.*s': operator '%.*s' without a version",
				QUOTE(text), (int)n, rest.ptr);
	if (*op == DD_VER_CHECKSUM)
		return check_checksum(*ver, text);
	/* Real indexes carry versions apk-tools 3 calls invalid
	 * ("pc:librtmp=v2.4"); apk keeps them and orders them by its own
	 * rules, so they are kept too.  Only unreadable text is refused. */
	for (size_t i = 0; i < ver->len; i++)
		if (ver->ptr[i] <= ' ' || ver->ptr[i] >= 0x7f || strchr("<>=", ver->ptr[i]))
			return dd_error(DD_E_FORMAT, "dependency '%.*s': bad version '%.*s'",
					QUOTE(text), QUOTE(*ver));
	return 0;
}

int dd_dep_parse(struct dd_blob s, struct dd_dep *out)
{
	struct dd_blob text = s, name, ver = { NULL, 0 };
	unsigned op = DD_VER_ANY;
	bool conflict = false;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s.ptr)
		text = s = (struct dd_blob){ "", 0 };
	if (s.len && s.ptr[0] == '!') {
		conflict = true;
		s = blob_from(s, 1);
	}
	for (i = 0; i < s.len && !is_op_char(s.ptr[i]); i++)
		;
	name = (struct dd_blob){ s.ptr, i };
	rc = check_name(name, text);
	if (rc == 0 && i < s.len)
		rc = parse_constraint(blob_from(s, i), text, &op, &ver);
	if (rc)
		return rc;
	out->name = dd_blob_dup(name);
	out->version = ver.ptr ? dd_blob_dup(ver) : NULL;
	out->op = op;
	out->conflict = conflict;
	return 0;
}

/* Parse every whitespace-separated word of s into a fresh array. */
static int parse_words(struct dd_blob s, struct dd_dep **out, size_t *cnt)
{
	size_t cap = 0, w;
	int rc;

	for (s = blob_from(s, span(s, is_space)); s.len; s = blob_from(s, span(s, is_space))) {
		for (w = 0; w < s.len && !is_space(s.ptr[w]); w++)
			;
		if (*cnt == cap) {
			cap = cap ? cap * 2 : 8;
			*out = dd_xrealloc(*out, cap * sizeof(**out));
		}
		rc = dd_dep_parse((struct dd_blob){ s.ptr, w }, &(*out)[*cnt]);
		if (rc)
			return rc;
		(*cnt)++;
		s = blob_from(s, w);
	}
	return 0;
}

int dd_deps_parse(struct dd_blob s, struct dd_dep **deps, size_t *n)
{
	struct dd_dep *tmp = NULL;
	size_t cnt = 0;
	int rc = parse_words(s, &tmp, &cnt);

	if (rc == 0 && cnt) {
		*deps = dd_xrealloc(*deps, (*n + cnt) * sizeof(**deps));
		memcpy(*deps + *n, tmp, cnt * sizeof(*tmp));
		*n += cnt;
		cnt = 0; /* the entries now belong to *deps */
	}
	dd_deps_free(tmp, cnt);
	return rc;
}

void dd_dep_format(const struct dd_dep *d, struct dd_buf *out)
{
	if (d->conflict)
		dd_buf_adds(out, "!");
	dd_buf_adds(out, d->name);
	if (d->version) {
		dd_buf_adds(out, dd_version_op_str(d->op));
		dd_buf_adds(out, d->version);
	}
}

void dd_deps_format(const struct dd_dep *deps, size_t n, struct dd_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			dd_buf_adds(out, " ");
		dd_dep_format(&deps[i], out);
	}
}

const char *dd_dep_namespace(const char *name, size_t *len)
{
	const char *colon = strchr(name, ':');

	if (!colon || colon == name)
		return NULL;
	if (len)
		*len = (size_t)(colon - name);
	return name;
}

bool dd_dep_matches(const struct dd_dep *d, const char *name, const char *version)
{
	if (strcmp(d->name, name) != 0)
		return false;
	if (!d->version || (d->op & DD_VER_ANY) == DD_VER_ANY)
		return true;
	/* A checksum pins one exact package build, which a version string
	 * cannot identify: the caller has to compare package identities. */
	if (d->op == DD_VER_CHECKSUM || !version)
		return false;
	return dd_version_match(dd_blob_str(version), d->op, dd_blob_str(d->version));
}

void dd_dep_release(struct dd_dep *d)
{
	free(d->name);
	free(d->version);
	memset(d, 0, sizeof(*d));
}

void dd_deps_free(struct dd_dep *deps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dd_dep_release(&deps[i]);
	free(deps);
}
