/*
 * Loading indexes for the resolver, and world dependencies.
 *
 * dd_apkindex_parse() refuses an index with any malformed field, which
 * is right for inspecting and importing.  Resolving follows apk-tools
 * instead: an entry whose depend list cannot be read is kept but can
 * never be installed (apk reports it as "uninstallable"), so asking for
 * it gives an explanation rather than "the index is unreadable".
 */
#include "solve/solver.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/read.h"
#include "apk/version.h"
#include "core/error.h"
#include "core/file.h"
#include "core/map.h"

#define MAX_INDEX_TEXT (512u << 20)

static const char world_format[] = "format is name(@tag)([<>~=]version)";

int dd_solve_world_dep(const char *text, struct dd_dep *out)
{
	int rc = dd_dep_parse(dd_blob_str(text), out);

	if (rc == 0 && out->version && !dd_version_valid(dd_blob_str(out->version))) {
		dd_dep_release(out);
		rc = DD_E_FORMAT;
	}
	if (rc)
		return dd_error(rc, "'%s' is not a valid world dependency, %s", text, world_format);
	return 0;
}

/* ---- the lean reading --------------------------------------------------------
 *
 * dd_apkindex_parse() keeps every field of every entry, each in its own
 * allocation: for a distribution index (5,000 entries, 20,000
 * dependencies) that is a hundred thousand small mallocs and frees, a
 * third of the time of a whole resolve.  Resolving reads only names,
 * versions, architectures, dependency lists, provider priorities and
 * checksums, so the lean reading takes just those, with every string
 * left in one copy of the text (terminated in place) and every
 * dependency in one array.
 *
 * It accepts only what dd_dep_parse() and dd_apkindex_parse() accept,
 * checked the same way; on anything else it gives up and the text is
 * read the full way, which decides (and words the errors).  So the two
 * readings never disagree on an index they both accept.
 */

#define OP_CHECKSUM   (DD_VER_LESS | DD_VER_GREATER)
#define MAX_DEP_LINES 8 /* D:, p: or i: lines in one entry */

static bool is_sep(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_op(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '~';
}

/* dd_dep_parse()'s name characters */
static bool is_name_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c == '+' || c == '-' || c == '.' || c == '_' || c == ':' || c == ',' || c == '/' ||
	       c == '[' || c == ']';
}

static bool version_chars_ok(const char *v, const char *end, unsigned op)
{
	if (v == end)
		return false;
	for (; v < end; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= ' ' || c >= 0x7f)
			return false;
		if (op != OP_CHECKSUM && (c == '<' || c == '>' || c == '='))
			return false;
	}
	return true;
}

/* One dependency token [tok, end); end is NUL-terminated by the caller. */
static bool lean_dep(char *tok, char *end, struct dd_dep *d)
{
	char *name = tok, *op_at, *colon;
	unsigned op = DD_VER_ANY;

	d->conflict = *tok == '!';
	name += d->conflict;
	for (op_at = name; op_at < end && !is_op(*op_at); op_at++)
		if (!is_name_char(*op_at))
			return false;
	colon = memchr(name, ':', (size_t)(op_at - name));
	if (op_at == name || (colon && (colon == name || colon == op_at - 1)))
		return false;
	d->version = NULL;
	if (op_at < end) {
		size_t n =
			dd_version_op_parse((struct dd_blob){ op_at, (size_t)(end - op_at) }, &op);

		if (!n || !version_chars_ok(op_at + n, end, op))
			return false;
		d->version = op_at + n;
		*op_at = 0;
	}
	d->name = name;
	d->op = op;
	return true;
}

/*
 * Next whitespace-separated word of *v, NUL-terminated in place: sets
 * *word and advances *v; false when no word is left.
 */
static bool next_word(char **v, char **word)
{
	char *end;

	while (is_sep(**v))
		(*v)++;
	if (!**v)
		return false;
	for (end = *v; *end && !is_sep(*end); end++)
		;
	*word = *v;
	*v = *end ? end + 1 : end;
	*end = 0;
	return true;
}

/* The words of one D:, p: or i: value, appended at *next. */
static bool lean_deps(char *v, struct dd_dep **next, struct dd_dep *limit, size_t *count)
{
	char *w;

	while (next_word(&v, &w)) {
		if (*next == limit || !lean_dep(w, w + strlen(w), *next))
			return false;
		(*next)++;
		(*count)++;
	}
	return true;
}

/* set_int() of pkg.c: an optional '-', digits, at most INT32_MAX. */
static bool lean_int(const char *v, int *out)
{
	bool neg = *v == '-';
	uint64_t u = 0;

	v += neg;
	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || (u = u * 10 + (uint64_t)(*v - '0')) > INT32_MAX)
			return false;
	}
	*out = neg ? -(int)u : (int)u;
	return true;
}

struct lean_index {
	char *text;          /* the index text; the strings point into it */
	struct dd_dep *deps; /* every dependency of every entry */
	struct dd_apk_pkg *pkgs;
	size_t n;
};

struct entry {
	struct dd_apk_pkg *p;
	char *dep_lines[3][MAX_DEP_LINES];
	int n_lines[3];
};

/* A dependency list resolving does not keep (replaces), checked. */
static bool lean_check_deps(char *v)
{
	struct dd_dep d;
	char *w;

	while (next_word(&v, &w))
		if (!lean_dep(w, w + strlen(w), &d))
			return false;
	return true;
}

/*
 * Fields resolving ignores, as long as the full parser would accept
 * them too: S, I and t are numbers (18 digits stay clear of its
 * overflow checks), r a dependency list, q a small integer; unknown
 * lower-case keys are harmless.  An unknown upper-case key is not
 * (apk-tools refuses such a package): the full reading handles it.
 */
static bool ignored_ok(char key, char *v)
{
	size_t len = strlen(v);
	int q;

	if (key == 'S' || key == 'I' || key == 't')
		return len > 0 && len <= 18 && strspn(v, "0123456789") == len;
	if (key == 'r')
		return lean_check_deps(v);
	if (key == 'q')
		return lean_int(v, &q);
	return key >= 'a' && key <= 'z';
}

static bool lean_field(struct entry *e, char key, char *v)
{
	struct dd_apk_pkg *p = e->p;
	int list = key == 'D' ? 0 : key == 'p' ? 1 : key == 'i' ? 2 : -1;
	size_t len;

	if (list >= 0) {
		if (e->n_lines[list] == MAX_DEP_LINES)
			return false;
		e->dep_lines[list][e->n_lines[list]++] = v;
		return true;
	}
	switch (key) {
	case 'P':
		p->name = v;
		return true;
	case 'V':
		p->version = v;
		return *v != 0;
	case 'A':
		p->arch = v;
		return true;
	case 'k':
		p->has_provider_priority = true;
		return lean_int(v, &p->provider_priority);
	case 'C':
		len = strlen(v);
		return dd_apk_checksum_set(v, len, p->checksum);
	case 'T':
	case 'U':
	case 'L':
	case 'o':
	case 'm':
	case 'c':
		return true;
	default:
		return ignored_ok(key, v);
	}
}

/* Dependencies go in after the entry's last line, each list contiguous. */
static bool lean_finish(struct entry *e, struct dd_dep **next, struct dd_dep *limit)
{
	struct dd_dep **lists[3] = { &e->p->depends, &e->p->provides, &e->p->install_if };
	size_t *counts[3] = { &e->p->n_depends, &e->p->n_provides, &e->p->n_install_if };

	if (!e->p->name || !e->p->name[0] || !e->p->version)
		return false;
	for (int i = 0; i < 3; i++) {
		*lists[i] = *next;
		for (int j = 0; j < e->n_lines[i]; j++)
			if (!lean_deps(e->dep_lines[i][j], next, limit, counts[i]))
				return false;
		if (!*counts[i])
			*lists[i] = NULL;
	}
	return true;
}

/* Upper bounds: entries, and dependency words. */
static void count(const char *t, const char *end, size_t *entries, size_t *words)
{
	bool blank = true;

	*entries = *words = 0;
	for (const char *line = t; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);

		if (len && !(len == 1 && *line == '\r')) {
			*entries += blank;
			blank = false;
			if (len > 1 && line[1] == ':' &&
			    (line[0] == 'D' || line[0] == 'p' || line[0] == 'i'))
				for (size_t i = 2; i <= len; i++)
					*words += i == len || is_sep(line[i]);
		} else {
			blank = true;
		}
		line += len + (nl != NULL);
	}
}

static bool lean_parse(struct lean_index *ix, char *end, size_t max_entries, size_t max_words)
{
	struct dd_dep *next = ix->deps, *limit = ix->deps + max_words;
	struct entry e = { 0 };

	for (char *line = ix->text; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line)), *stop = nl ? nl : end;

		*stop = 0;
		if (stop > line && stop[-1] == '\r')
			*--stop = 0;
		if (stop == line) {
			if (e.p && !lean_finish(&e, &next, limit))
				return false;
			e.p = NULL;
		} else {
			if (!e.p) {
				if (ix->n == max_entries)
					return false;
				memset(&e, 0, sizeof(e));
				e.p = &ix->pkgs[ix->n++];
			}
			if (line[1] != ':' || !lean_field(&e, line[0], line + 2))
				return false;
		}
		line = nl ? nl + 1 : end;
	}
	return !e.p || lean_finish(&e, &next, limit);
}

/* Read text (len bytes, then a NUL), which becomes ix->text. */
static bool lean_read(char *text, size_t len, struct lean_index *ix)
{
	size_t entries, words;

	memset(ix, 0, sizeof(*ix));
	ix->text = text;
	if (memchr(text, 0, len))
		return false;
	count(text, text + len, &entries, &words);
	ix->pkgs = dd_xcalloc(entries ? entries : 1, sizeof(*ix->pkgs));
	ix->deps = dd_xcalloc(words ? words : 1, sizeof(*ix->deps));
	if (lean_parse(ix, text + len, entries, words))
		return true;
	free(ix->pkgs);
	free(ix->deps);
	return false;
}

/* ---- loading ---------------------------------------------------------------------- */

/* Take over pkgs (an array of n, freed here; its entries now belong to ix). */
static void append(struct dd_solve_index *ix, struct dd_apk_pkg *pkgs, size_t n, bool broken,
		   bool lean)
{
	if (!ix->pkgs) {
		/* the first file: keep its array rather than copy it */
		ix->pkgs = pkgs;
		ix->cap = n;
		pkgs = NULL;
	} else if (ix->n + n > ix->cap) {
		ix->cap = ix->cap * 2 > ix->n + n ? ix->cap * 2 : ix->n + n;
		ix->pkgs = dd_xrealloc(ix->pkgs, ix->cap * sizeof(*ix->pkgs));
	}
	ix->broken = dd_xrealloc(ix->broken, (ix->cap ? ix->cap : 1) * sizeof(*ix->broken));
	ix->lean = dd_xrealloc(ix->lean, (ix->cap ? ix->cap : 1) * sizeof(*ix->lean));
	if (pkgs)
		memcpy(ix->pkgs + ix->n, pkgs, n * sizeof(*pkgs));
	for (size_t i = 0; i < n; i++) {
		ix->broken[ix->n + i] = broken;
		ix->lean[ix->n + i] = lean;
	}
	ix->n += n;
	free(pkgs);
}

static void keep_block(struct dd_solve_index *ix, void *block)
{
	DD_GROW(ix->blocks, ix->n_blocks);
	ix->blocks[ix->n_blocks++] = block;
}

/* The words of a dependency list up to the first one that does not
 * parse (apk-tools stops there too); *bad tells whether one did not. */
static void good_prefix(struct dd_blob v, struct dd_buf *out, bool *bad)
{
	size_t start = out->len, i = 0;
	struct dd_dep d;

	*bad = false;
	while (i < v.len) {
		size_t w = i;

		while (w < v.len && !strchr(" \t\r", v.ptr[w]))
			w++;
		if (w > i) {
			if (dd_dep_parse((struct dd_blob){ v.ptr + i, w - i }, &d)) {
				*bad = true;
				return;
			}
			dd_dep_release(&d);
			if (out->len > start)
				dd_buf_adds(out, " ");
			dd_buf_add(out, v.ptr + i, w - i);
		}
		i = w + 1;
	}
}

/* An upper-case key apk-tools does not know makes it refuse the
 * package ("lower case index entries are safe to be ignored"). */
static bool unknown_upper(char key)
{
	return key >= 'A' && key <= 'Z' && !strchr("PVTULADCSIFMRZ", key);
}

/*
 * Rewrite one entry without what apk-tools would not read: a depend
 * list is cut at its first malformed word (and the package marked
 * broken), a provides list likewise, an install_if rule dropped whole.
 */
static void salvage(struct dd_blob block, struct dd_buf *out, bool *broken)
{
	while (block.len) {
		struct dd_blob line;
		bool bad = false;
		char key;

		dd_blob_split(&block, '\n', &line);
		key = line.len >= 2 && line.ptr[1] == ':' ? line.ptr[0] : 0;
		*broken |= unknown_upper(key);
		if (key == 'D' || key == 'p' || key == 'i') {
			size_t start = out->len;

			dd_buf_add(out, line.ptr, 2);
			good_prefix((struct dd_blob){ line.ptr + 2, line.len - 2 }, out, &bad);
			if (key == 'D')
				*broken |= bad;
			if (bad && key == 'i') {
				out->len = start;
				out->ptr[start] = 0;
			} else {
				dd_buf_adds(out, "\n");
			}
			continue;
		}
		dd_buf_add(out, line.ptr, line.len);
		dd_buf_adds(out, "\n");
	}
}

static bool next_block(struct dd_blob *text, struct dd_blob *block, unsigned *lineno,
		       unsigned *first)
{
	const char *start = NULL;
	size_t len = 0;

	while (text->len) {
		struct dd_blob line;
		size_t l;

		dd_blob_split(text, '\n', &line);
		(*lineno)++;
		l = line.len && line.ptr[line.len - 1] == '\r' ? line.len - 1 : line.len;
		if (!l) {
			if (start)
				break;
			continue;
		}
		if (!start) {
			start = line.ptr;
			*first = *lineno;
		}
		len = (size_t)(line.ptr + line.len - start);
	}
	*block = (struct dd_blob){ start, len };
	return start != NULL;
}

/* One entry; a malformed one is salvaged and marked broken. */
static int add_block(struct dd_solve_index *ix, struct dd_blob block, unsigned first)
{
	struct dd_apk_pkg *pkgs = NULL;
	struct dd_buf fixed = DD_BUF_INIT;
	bool broken = false;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i + 1 < block.len; i++)
		if ((i == 0 || block.ptr[i - 1] == '\n') && block.ptr[i + 1] == ':')
			broken |= unknown_upper(block.ptr[i]);
	rc = dd_apkindex_parse(block, &pkgs, &n);
	if (rc) {
		broken = true;
		salvage(block, &fixed, &broken);
		rc = dd_apkindex_parse(dd_buf_blob(&fixed), &pkgs, &n);
		dd_buf_release(&fixed);
	}
	if (rc)
		return dd_error_prefix(rc, "APKINDEX entry at line %u", first);
	append(ix, pkgs, n, broken, false);
	return 0;
}

static bool any_unknown_upper(const struct dd_apk_pkg *pkgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < pkgs[i].n_extra; j++)
			if (strlen(pkgs[i].extra[j].key) == 1 &&
			    unknown_upper(pkgs[i].extra[j].key[0]))
				return true;
	return false;
}

/* The full reading, for text the lean one did not take. */
static int add_text_full(struct dd_solve_index *ix, struct dd_blob text)
{
	struct dd_apk_pkg *pkgs = NULL;
	struct dd_blob block;
	unsigned lineno = 0, first = 0;
	size_t n = 0;
	int rc;

	if (dd_apkindex_parse(text, &pkgs, &n) == 0) {
		if (!any_unknown_upper(pkgs, n)) {
			append(ix, pkgs, n, false, false);
			return 0;
		}
		dd_apk_pkgs_free(pkgs, n);
	}
	/* entry by entry: a damaged entry costs only itself */
	while (next_block(&text, &block, &lineno, &first))
		if ((rc = add_block(ix, block, first)) < 0)
			return rc;
	return 0;
}

/* The lean reading of text (len bytes and a NUL), which ix then owns;
 * false (text changed, not freed) when it has to be read the full way. */
static bool add_lean(struct dd_solve_index *ix, char *text, size_t len)
{
	struct lean_index lean;

	if (!lean_read(text, len, &lean))
		return false;
	append(ix, lean.pkgs, lean.n, false, true);
	keep_block(ix, lean.text);
	keep_block(ix, lean.deps);
	return true;
}

int dd_solve_index_add_text(struct dd_solve_index *ix, struct dd_blob text)
{
	char *copy = dd_xmalloc(text.len + 1);

	memcpy(copy, text.ptr, text.len);
	copy[text.len] = 0;
	if (add_lean(ix, copy, text.len))
		return 0;
	free(copy);
	return add_text_full(ix, text);
}

static bool is_gzip(const char *path)
{
	unsigned char magic[2] = { 0, 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool gz;

	if (fd < 0)
		return false;
	gz = read(fd, magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
	close(fd);
	return gz;
}

/* The APKINDEX of a file, in text. */
static int read_index(const char *path, struct dd_buf *text)
{
	struct dd_apk_file f;
	int rc;

	if (!is_gzip(path))
		/* dd_read_file()'s errors already name the path */
		return dd_read_file(path, MAX_INDEX_TEXT, text);
	if ((rc = dd_apk_read(path, &f)) < 0)
		return rc;
	if (f.kind != DD_APK_INDEX)
		rc = dd_error(DD_E_FORMAT, "%s: a package, not an index", path);
	else {
		*text = f.index_text;
		f.index_text = (struct dd_buf)DD_BUF_INIT;
	}
	dd_apk_file_release(&f);
	return rc;
}

int dd_solve_index_add_file(struct dd_solve_index *ix, const char *path)
{
	struct dd_buf text = DD_BUF_INIT;
	size_t len;
	char *owned;
	int rc;

	if ((rc = read_index(path, &text)) < 0)
		goto out;
	/* read in place: the text becomes the strings of the packages */
	len = text.len;
	owned = dd_buf_detach(&text, NULL);
	if (add_lean(ix, owned, len)) {
		rc = 0;
		goto out;
	}
	/* the lean reading wrote into the text: read it again, the full way */
	free(owned);
	if ((rc = read_index(path, &text)) == 0 && (rc = add_text_full(ix, dd_buf_blob(&text))) < 0)
		dd_error_prefix(rc, "%s", path);
out:
	dd_buf_release(&text);
	return rc;
}

static void warn(struct dd_solve_index *ix, const struct dd_apk_pkg *dup,
		 const struct dd_apk_pkg *first)
{
	struct dd_buf w = DD_BUF_INIT;

	dd_buf_addf(&w,
		    "%s-%s: its checksum %s is that of %s-%s listed before it: one package "
		    "(the first entry kept, this one ignored, as apk does)",
		    dup->name, dup->version, dup->checksum, first->name, first->version);
	ix->warnings = dd_xrealloc(ix->warnings, (ix->n_warnings + 1) * sizeof(char *));
	ix->warnings[ix->n_warnings++] = dd_buf_detach(&w, NULL);
}

void dd_solve_index_repo(struct dd_solve_index *ix, const char *arch, struct dd_repo *repo)
{
	struct dd_map seen = DD_MAP_INIT;
	size_t n = 0;

	free(ix->ptrs);
	free(ix->ptr_broken);
	for (size_t i = 0; i < ix->n_warnings; i++)
		free(ix->warnings[i]);
	ix->n_warnings = 0;
	ix->ptrs = dd_xcalloc(ix->n ? ix->n : 1, sizeof(*ix->ptrs));
	ix->ptr_broken = dd_xcalloc(ix->n ? ix->n : 1, sizeof(*ix->ptr_broken));
	for (size_t i = 0; i < ix->n; i++) {
		const struct dd_apk_pkg *p = &ix->pkgs[i];

		/* a package is its checksum (decoded, as dd_apk_checksum_set()
		 * keeps it): a second entry with the same one is the same package */
		if (p->checksum[0]) {
			void **first = dd_map_put(&seen, p->checksum);

			if (*first) {
				warn(ix, p, *first);
				continue;
			}
			*first = (void *)p;
		}
		ix->ptr_broken[n] = ix->broken[i];
		ix->ptrs[n++] = p;
	}
	dd_map_release(&seen, NULL);
	*repo = (struct dd_repo){ ix->ptrs, n, arch, ix->ptr_broken };
}

void dd_solve_index_release(struct dd_solve_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		if (!ix->lean[i])
			dd_apk_pkg_release(&ix->pkgs[i]);
	for (size_t i = 0; i < ix->n_blocks; i++)
		free(ix->blocks[i]);
	free(ix->blocks);
	free(ix->pkgs);
	free(ix->broken);
	free(ix->lean);
	free(ix->ptrs);
	free(ix->ptr_broken);
	for (size_t i = 0; i < ix->n_warnings; i++)
		free(ix->warnings[i]);
	free(ix->warnings);
	memset(ix, 0, sizeof(*ix));
}
