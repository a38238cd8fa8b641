#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apk/dep.h"
#include "apk/pkg.h"
#include "apk/read.h"
#include "apk/version.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "solve/solver.h"

/* ---- helpers ------------------------------------------------------------ */

struct fixture {
	struct dd_solve_index ix;
	struct dd_repo repo;
	struct dd_solution sol;
	struct dd_buf why;
	struct dd_dep *world;
	size_t n_world;
	int rc;
};

static void fx_release(struct fixture *f)
{
	dd_solution_release(&f->sol);
	dd_buf_release(&f->why);
	dd_deps_free(f->world, f->n_world);
	dd_solve_index_release(&f->ix);
	memset(f, 0, sizeof(*f));
}

/* Load APKINDEX text (blocks separated by blank lines). */
static bool fx_load(struct fixture *f, const char *text, const char *arch)
{
	int rc = dd_solve_index_add_text(&f->ix, dd_blob_str(text));

	CHECK_MSG(rc == 0, "index: %s", dd_error_detail());
	dd_solve_index_repo(&f->ix, arch, &f->repo);
	return rc == 0;
}

/* Solve a space-separated world; returns the solver's rc. */
static int fx_solve_flags(struct fixture *f, const char *world, unsigned flags)
{
	char *copy = dd_xstrdup(world), *save = NULL;

	dd_solution_release(&f->sol);
	dd_buf_reset(&f->why);
	dd_deps_free(f->world, f->n_world);
	f->world = NULL;
	f->n_world = 0;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		f->world = dd_xrealloc(f->world, (f->n_world + 1) * sizeof(*f->world));
		if (dd_solve_world_dep(w, &f->world[f->n_world]) == 0)
			f->n_world++;
		else
			CHECK_MSG(0, "world dep %s: %s", w, dd_error_detail());
	}
	free(copy);
	f->rc = dd_solve_flags(&f->repo, f->world, f->n_world, flags, &f->sol, &f->why);
	return f->rc;
}

static int fx_solve(struct fixture *f, const char *world)
{
	return fx_solve_flags(f, world, 0);
}

/* The solution as "name-version name-version ...", in install order. */
static const char *fx_result(struct fixture *f)
{
	static struct dd_buf b;

	dd_buf_reset(&b);
	if (f->rc)
		dd_buf_addf(&b, "ERROR %d", f->rc);
	for (size_t i = 0; i < f->sol.n; i++)
		dd_buf_addf(&b, "%s%s-%s", i ? " " : "", f->sol.pkgs[i]->name,
			    f->sol.pkgs[i]->version);
	return b.ptr ? b.ptr : "";
}

#define CHECK_RESULT(f, world, want) \
	do { \
		fx_solve(f, world); \
		CHECK_MSG(!strcmp(fx_result(f), want), "[%s]: got '%s', want '%s'%s%s", world, \
			  fx_result(f), want, (f)->why.len ? "\n" : "", \
			  (f)->why.len ? (f)->why.ptr : ""); \
	} while (0)

#define CHECK_WHY(f, text) \
	CHECK_MSG((f)->why.ptr && !strcmp((f)->why.ptr, text), "report:\n%s\nwant:\n%s", \
		  (f)->why.ptr ? (f)->why.ptr : "(none)", text)

/* ---- rules, one repository each --------------------------------------------- */

static void t_solver_highest_version(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:a\nV:1\nD:b\n\nP:a\nV:2\nD:b>=2\n\nP:b\nV:1\n\nP:b\nV:2_rc1\n\n"
		     "P:b\nV:2\n\nP:b\nV:10\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "a", "b-10 a-2");
	CHECK_RESULT(&f, "a<2", "b-10 a-1");
	CHECK_RESULT(&f, "a b<10", "b-2 a-2");
	CHECK_RESULT(&f, "b~2", "b-2");
	CHECK_RESULT(&f, "b<2", "b-2_rc1");
	/* the reason: a is from the world, b pulled in by a */
	fx_solve(&f, "a");
	CHECK(f.sol.n == 2 && f.sol.reason[1] == 0 && f.sol.reason[0] == -1 - 1);
	fx_release(&f);
}

/* A later constraint rules out the obvious pick: a-3 needs d>1.5 but
 * its own b needs d<2.0, so a-2 (with d-1.5) is the answer. */
static void t_solver_rechoose(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:a\nV:2\nD:b c\n\nP:a\nV:3\nD:b c d>1.5\n\nP:b\nV:1\nD:c d<2.0\n\n"
		     "P:c\nV:1\nD:d>1.0\n\nP:d\nV:1.0\n\nP:d\nV:1.5\n\nP:d\nV:2.0\n\n"
		     /* the best provider of pc:x needs y=10, old needs y<5 */
		     "P:x-dev\nV:10\nD:y=10\np:pc:x=10\n\nP:x-dev\nV:2\nD:y=2\np:pc:x=2\n\n"
		     "P:y\nV:10\n\nP:y\nV:2\n\nP:tool\nV:1\nD:y>5\n\nP:old\nV:1\nD:y<5\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "a", "d-1.5 c-1 b-1 a-2");
	CHECK_RESULT(&f, "pc:x", "y-10 x-dev-10");
	CHECK_RESULT(&f, "pc:x<5 tool", "ERROR -3");
	CHECK_RESULT(&f, "pc:x old", "y-2 old-1 x-dev-2");
	fx_solve(&f, "a d>1.5");
	CHECK(f.rc == DD_E_FORMAT);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  d-2.0:\n"
		      "    breaks: b-1[d<2.0]\n"
		      "    satisfies: world[d>1.5] a-3[d>1.5] c-1[d>1.0]\n");
	fx_release(&f);
}

static void t_solver_provider_priority(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:busybox-binsh\nV:1.35\nk:100\np:/bin/sh cmd:sh=1.35\n\n"
		     "P:dash-binsh\nV:0.5\nk:60\np:/bin/sh cmd:sh=0.5\n\n"
		     "P:app\nV:1\nD:/bin/sh\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "app", "busybox-binsh-1.35 app-1");
	CHECK_RESULT(&f, "app dash-binsh", "dash-binsh-0.5 app-1");
	/* a versioned provide: highest version of the name asked for */
	CHECK_RESULT(&f, "cmd:sh", "busybox-binsh-1.35");
	CHECK_RESULT(&f, "cmd:sh<1", "dash-binsh-0.5");
	fx_release(&f);
}

static void t_solver_virtual_needs_choice(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f, "P:mta-a\nV:1\np:mta\n\nP:mta-b\nV:1\np:mta\n\nP:mailer\nV:1\nD:mta\n",
		     NULL))
		return;
	fx_solve(&f, "mailer");
	CHECK(f.rc == DD_E_FORMAT);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  mta (virtual):\n"
		      "    note: please select one of the 'provided by'\n"
		      "          packages explicitly\n"
		      "    provided by: mta-a mta-b\n"
		      "    required by: mailer-1[mta]\n");
	/* naming a provider settles it; both may provide it unversioned */
	CHECK_RESULT(&f, "mailer mta-b", "mta-b-1 mailer-1");
	CHECK_RESULT(&f, "mta-a mta-b", "mta-a-1 mta-b-1");
	fx_release(&f);
}

static void t_solver_so_cmd_pc(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:libfoo\nV:1\np:so:libfoo.so.1=1.0.0 pc:foo=1.0\n\n"
		     "P:libfoo\nV:2\np:so:libfoo.so.2=2.0.0 pc:foo=2.0\n\n"
		     "P:app1\nV:1\nD:so:libfoo.so.1\n\n"
		     "P:foo-dev\nV:1\nD:pc:foo>=2\n\n"
		     "P:tool\nV:3\nD:cmd:frob\n\nP:frobber\nV:1\np:cmd:frob=1\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "app1", "libfoo-1 app1-1");
	CHECK_RESULT(&f, "foo-dev", "libfoo-2 foo-dev-1");
	CHECK_RESULT(&f, "tool", "frobber-1 tool-3");
	/* so:libfoo.so.1 and so:libfoo.so.2 at once: two versions of libfoo */
	fx_solve(&f, "app1 so:libfoo.so.2");
	CHECK(f.rc == DD_E_FORMAT);
	fx_release(&f);
}

static void t_solver_install_if(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:foo\nV:1\n\nP:docs\nV:1\n\nP:foo-doc\nV:1\ni:foo docs\n\n"
		     "P:bar\nV:1\n\nP:foo-bar\nV:1\ni:foo bar=2\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "foo", "foo-1");
	CHECK_RESULT(&f, "foo docs", "docs-1 foo-1 foo-doc-1");
	CHECK_RESULT(&f, "foo bar", "bar-1 foo-1");
	fx_solve(&f, "docs foo");
	CHECK(f.sol.n == 3 && f.sol.reason[2] == -1 - 3);
	fx_release(&f);
}

static void t_solver_conflicts(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:libold\nV:1\n\nP:libnew\nV:1\nD:!libold\n\n"
		     "P:app\nV:1\nD:libold\n\nP:app\nV:2\nD:libnew\n",
		     NULL))
		return;
	CHECK_RESULT(&f, "app", "libnew-1 app-2");
	CHECK_RESULT(&f, "app<2 libold", "libold-1 app-1");
	CHECK_RESULT(&f, "app !libnew", "libold-1 app-1");
	fx_solve(&f, "libnew libold");
	CHECK(f.rc == DD_E_FORMAT);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  libold-1:\n"
		      "    breaks: libnew-1[!libold]\n"
		      "    satisfies: world[libold]\n");
	/*
	 * Like apk-tools, the solver does not search: app-2 is taken before
	 * the conflict of its libnew with libold is seen, and apk fails the
	 * same way (app<2 above is how a user settles it).
	 */
	fx_solve(&f, "app libold");
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  libold-1:\n"
		      "    breaks: libnew-1[!libold]\n"
		      "    satisfies: world[libold]\n");
	fx_release(&f);
}

static void t_solver_arch(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f,
		     "P:tool\nV:2\nA:aarch64\n\nP:tool\nV:1\nA:x86_64\n\n"
		     "P:data\nV:1\nA:noarch\n\nP:plain\nV:1\n",
		     "x86_64"))
		return;
	CHECK_RESULT(&f, "tool data plain", "data-1 plain-1 tool-1");
	fx_solve(&f, "tool>1");
	CHECK(f.rc == DD_E_FORMAT);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  tool-2:\n"
		      "    error: uninstallable\n"
		      "    arch: aarch64\n"
		      "    satisfies: world[tool>1]\n");
	dd_solve_index_repo(&f.ix, NULL, &f.repo);
	CHECK_RESULT(&f, "tool", "tool-2");
	fx_release(&f);
}

static void t_solver_missing(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f, "P:a\nV:1\nD:gone\n\nP:b\nV:1\n", NULL))
		return;
	fx_solve(&f, "b nonexistent");
	CHECK(f.rc == DD_E_NOTFOUND);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  nonexistent (no such package):\n"
		      "    required by: world[nonexistent]\n");
	fx_solve(&f, "a");
	CHECK(f.rc == DD_E_NOTFOUND);
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  gone (no such package):\n"
		      "    required by: a-1[gone]\n");
	CHECK(fx_solve_flags(&f, "a b nonexistent", DD_SOLVE_FORCE_BROKEN_WORLD) == 0);
	CHECK(!strcmp(fx_result(&f), "b-1"));
	fx_release(&f);
}

/* The same order, run after run; a package listed by two indexes counts
 * once; a later world entry for a name replaces an earlier one. */
static void t_solver_deterministic(void)
{
	struct fixture f = { 0 };
	char first[1024];

	if (!fx_load(&f,
		     "C:Q1aaaa\nP:a\nV:1\nD:b c d\n\nC:Q1bbbb\nP:b\nV:1\nD:d\n\n"
		     "C:Q1cccc\nP:c\nV:1\nD:d\n\nC:Q1dddd\nP:d\nV:1\n\n"
		     "C:Q1aaaa\nP:a\nV:1\nD:b c d\n",
		     NULL))
		return;
	fx_solve(&f, "a");
	snprintf(first, sizeof(first), "%s", fx_result(&f));
	CHECK_MSG(!strcmp(first, "d-1 b-1 c-1 a-1"), "got %.400s", first);
	for (int i = 0; i < 5; i++) {
		fx_solve(&f, "a");
		CHECK(!strcmp(fx_result(&f), first));
	}
	CHECK_RESULT(&f, "d b>1 b", "d-1 b-1");
	fx_release(&f);
}

static void t_solver_world_dep_syntax(void)
{
	static const char *bad[] = { "foo=", "foo==", "foo=invalid", "", "foo@edge", "!", NULL };
	static const char *good[] = { "foo", "foo>=1.2", "!foo", "foo~1", "so:libc.so.6", NULL };
	struct dd_dep d;

	for (int i = 0; bad[i]; i++) {
		char want[256];

		snprintf(want, sizeof(want),
			 "'%s' is not a valid world dependency, format is "
			 "name(@tag)([<>~=]version)",
			 bad[i]);
		CHECK_MSG(dd_solve_world_dep(bad[i], &d) == DD_E_FORMAT, "accepted %s", bad[i]);
		CHECK_MSG(!strcmp(dd_error_detail(), want), "%s", dd_error_detail());
	}
	for (int i = 0; good[i]; i++) {
		CHECK_MSG(dd_solve_world_dep(good[i], &d) == 0, "%s: %s", good[i],
			  dd_error_detail());
		dd_dep_release(&d);
	}
}

/* An entry apk-tools cannot read is kept, marked broken, and refused
 * with an explanation; the rest of the index still works. */
static void t_solver_broken_entry(void)
{
	struct fixture f = { 0 };

	if (!fx_load(&f, "P:ok\nV:1\n\nP:bad\nV:1\nD:ok dep@tag\n\nP:odd\nV:1\nX:new\n", NULL))
		return;
	CHECK(f.ix.n == 3 && !f.ix.broken[0] && f.ix.broken[1] && f.ix.broken[2]);
	CHECK_RESULT(&f, "ok", "ok-1");
	fx_solve(&f, "bad");
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  bad-1:\n"
		      "    error: uninstallable\n"
		      "    satisfies: world[bad]\n");
	fx_solve(&f, "odd");
	CHECK(f.rc == DD_E_FORMAT);
	fx_release(&f);
	/* without a name an entry is still an error */
	CHECK(dd_solve_index_add_text(&f.ix, DD_BLOB("V:1\nD:x@y\n")) == DD_E_FORMAT);
	dd_solve_index_release(&f.ix);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_deps(const struct dd_dep *a, size_t na, const struct dd_dep *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_str(a[i].name, b[i].name) || !same_str(a[i].version, b[i].version) ||
		    a[i].op != b[i].op || a[i].conflict != b[i].conflict)
			return false;
	return true;
}

/* What resolving reads must come out of the lean reading exactly as
 * dd_apkindex_parse() reads it. */
static void check_same_reading(const char *what, struct dd_blob text)
{
	struct dd_solve_index ix = { 0 };
	struct dd_apk_pkg *full = NULL;
	size_t n = 0;

	if (dd_apkindex_parse(text, &full, &n) < 0 || dd_solve_index_add_text(&ix, text) < 0) {
		CHECK_MSG(0, "%s: %s", what, dd_error_detail());
		goto out;
	}
	CHECK_MSG(ix.n == n, "%s: %zu packages, want %zu", what, ix.n, n);
	CHECK_MSG(!n || !ix.n || strncmp(what, "alpine", 6) || ix.lean[0],
		  "%s: not read the lean way", what);
	for (size_t i = 0; i < n && i < ix.n; i++) {
		const struct dd_apk_pkg *a = &ix.pkgs[i], *b = &full[i];

		CHECK_MSG(same_str(a->name, b->name) && same_str(a->version, b->version) &&
				  same_str(a->arch, b->arch) && !strcmp(a->checksum, b->checksum) &&
				  a->has_provider_priority == b->has_provider_priority &&
				  a->provider_priority == b->provider_priority &&
				  same_deps(a->depends, a->n_depends, b->depends, b->n_depends) &&
				  same_deps(a->provides, a->n_provides, b->provides,
					    b->n_provides) &&
				  same_deps(a->install_if, a->n_install_if, b->install_if,
					    b->n_install_if),
			  "%s: entry %zu (%s) read differently", what, i, b->name);
	}
out:
	dd_apk_pkgs_free(full, n);
	dd_solve_index_release(&ix);
}

static void t_solver_lean_reading(void)
{
	static const struct {
		const char *text;
		bool lean; /* read the lean way, or left to the full reading */
	} cases[] = {
		{ "P:a\nV:1\nk:-3\nD:b>=1.2 !c so:x.so.1 d~2 e<3 f><Q1abc=\n"
		  "p:cmd:a=1 /bin/a\ni:b c=1\nr:old\nq:2\nS:1\nI:2\nt:3\n",
		  true },
		{ "\n\nC:Q1xyz=\r\nP:b\r\nV:2\r\nA:noarch\r\nT:desc: a b c\r\nx:new\r\n\r\n",
		  true },
		{ "P:c\nV:1\nD:a\nD:b\np:x\np:y=1\n", true },
		{ "P:d\nV:1\nD:a>=\n", false },
		{ "P:d\nV:1\nD:a>>1\n", false },
		{ "P:d\nV:1\nD::a\n", false },
		{ "P:d\nV:1\nD:a@edge\n", false },
		{ "P:d\nV:1\nX:new\n", false },
		{ "P:e\nV:1\nD:a\tb\r c\n", false },
	};
	const char *path = t_corpus("apk/alpine-316/APKINDEX.tar.gz");
	struct dd_apk_file f;
	char what[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dd_blob text = dd_blob_str(cases[i].text);
		struct dd_solve_index ix = { 0 };
		struct dd_apk_pkg *full = NULL;
		size_t n = 0;

		snprintf(what, sizeof(what), "case %zu", i);
		if (dd_apkindex_parse(text, &full, &n) == 0)
			check_same_reading(what, text);
		dd_apk_pkgs_free(full, n);
		/* a malformed entry still loads, as a broken package */
		CHECK_MSG(dd_solve_index_add_text(&ix, text) == 0 && ix.n == 1, "%s: %s", what,
			  dd_error_detail());
		CHECK_MSG(ix.n != 1 || ix.lean[0] == cases[i].lean, "%s: lean %d", what,
			  ix.n ? ix.lean[0] : -1);
		dd_solve_index_release(&ix);
	}
	if (!path) {
		t_skip("corpus absent: apk/alpine-316/APKINDEX.tar.gz");
		return;
	}
	if (dd_apk_read(path, &f) < 0) {
		CHECK_MSG(0, "%s", dd_error_detail());
		return;
	}
	check_same_reading("alpine-316", dd_buf_blob(&f.index_text));
	dd_apk_file_release(&f);
}

/* ---- apk-tools' own solver tests -------------------------------------------- */

#define SOLVER_DIR "apk-tools/solver"

struct tcase {
	char args[512];
	char repos[8][256];
	int n_repos;
	char world[512];
	const char *skip;
	struct dd_buf expect;
};

static char cur_case[256];
static int n_pass, n_fail, n_skip;

static void tcase_line(struct tcase *tc, struct dd_blob line, bool *in_expect)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%.*s", (int)line.len, line.ptr);
	if (*in_expect) {
		dd_buf_addf(&tc->expect, "%s\n", buf);
	} else if (!strncmp(buf, "@ARGS ", 6)) {
		snprintf(tc->args, sizeof(tc->args), "%s", buf + 6);
	} else if (!strncmp(buf, "@REPO ", 6)) {
		if (buf[6] == '@')
			tc->skip = "tagged repositories (@REPO @tag) are not modelled";
		else if (tc->n_repos < 8)
			snprintf(tc->repos[tc->n_repos++], sizeof(tc->repos[0]), "%.250s", buf + 6);
	} else if (!strncmp(buf, "@WORLD ", 7)) {
		snprintf(tc->world, sizeof(tc->world), "%s", buf + 7);
	} else if (!strncmp(buf, "@INSTALLED", 10)) {
		tc->skip = "upgrade of an installed system (@INSTALLED); only fresh installs "
			   "are modelled";
	} else if (!strncmp(buf, "@CACHE", 6)) {
		tc->skip = "needs a package cache (@CACHE); only fresh installs are modelled";
	} else if (!strcmp(buf, "@EXPECT")) {
		*in_expect = true;
	}
}

static bool tcase_read(const char *path, struct tcase *tc)
{
	struct dd_buf text = DD_BUF_INIT;
	struct dd_blob b, line;
	bool in_expect = false;

	if (dd_read_file(path, 1 << 20, &text) < 0) {
		CHECK_MSG(0, "%s", dd_error_detail());
		return false;
	}
	for (b = dd_buf_blob(&text); b.len;) {
		dd_blob_split(&b, '\n', &line);
		tcase_line(tc, line, &in_expect);
	}
	dd_buf_release(&text);
	return true;
}

/* What the test's apk run did: "name version" lines of its Installing
 * output, or the text of its ERROR (without "ERROR: "). */
static void expected(const struct tcase *tc, struct dd_buf *installs, const char **error)
{
	const char *p = tc->expect.ptr ? tc->expect.ptr : "";

	*error = NULL;
	for (; *p; p = strchr(p, '\n') + 1) {
		char name[256], ver[256];

		if (!strncmp(p, "ERROR: ", 7)) {
			*error = p + 7;
			return;
		}
		if (sscanf(p, "(%*d/%*d) Installing %255s (%255[^)])", name, ver) == 2)
			dd_buf_addf(installs, "%s-%s\n", name, ver);
	}
}

struct apk_args {
	char *words[64];
	int n_words;
	unsigned flags;
	const char *virtual_pkg;
	const char *skip;
};

/* The parts of apk's command line that matter for a fresh `add`. */
static void parse_args(char *args, struct apk_args *j)
{
	char *save = NULL, *w;
	bool applet = false;

	for (w = strtok_r(args, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strcmp(w, "--force-broken-world"))
			j->flags |= DD_SOLVE_FORCE_BROKEN_WORLD;
		else if (!strcmp(w, "--no-network"))
			; /* every index here is local */
		else if (applet && (!strcmp(w, "-t") || !strcmp(w, "--virtual")))
			j->virtual_pkg = strtok_r(NULL, " ", &save);
		else if (w[0] == '-')
			j->skip = "an apk option that is not modelled";
		else if (!applet && strcmp(w, "add"))
			j->skip = "only 'apk add' (a fresh install) is modelled";
		else if (!applet)
			applet = true;
		else if (j->n_words < 64)
			j->words[j->n_words++] = w;
	}
}

static bool parse_world(struct apk_args *j, struct dd_dep **world, size_t *n, const char **err)
{
	*world = dd_xcalloc((size_t)j->n_words + 1, sizeof(**world));
	for (int i = 0; i < j->n_words; i++) {
		if (dd_solve_world_dep(j->words[i], &(*world)[*n]) < 0) {
			*err = dd_error_detail();
			return false;
		}
		(*n)++;
	}
	return true;
}

/* apk add -t NAME=VERSION DEPS...: an empty package carrying the deps,
 * which becomes the only world entry. */
static void make_virtual(const char *spec, struct dd_dep *deps, size_t n, struct dd_apk_pkg *v,
			 struct dd_dep **world, size_t *n_world)
{
	const char *eq = strchr(spec, '=');

	memset(v, 0, sizeof(*v));
	v->name =
		eq ? dd_blob_dup((struct dd_blob){ spec, (size_t)(eq - spec) }) : dd_xstrdup(spec);
	v->version = dd_xstrdup(eq ? eq + 1 : "0");
	v->arch = dd_xstrdup("noarch");
	v->depends = deps;
	v->n_depends = n;
	*world = dd_xcalloc(1, sizeof(**world));
	dd_solve_world_dep(v->name, *world);
	*n_world = 1;
}

/* Same set of "name-version" lines?  apk-tools' order is checked too. */
static bool compare_ok(const char *got_installs, const char *want_installs)
{
	char *a = dd_xstrdup(got_installs), *b = dd_xstrdup(want_installs);
	char *la[512], *lb[512], *save = NULL;
	int na = 0, nb = 0;
	bool same, ordered;

	for (char *s = strtok_r(a, "\n", &save); s && na < 512; s = strtok_r(NULL, "\n", &save))
		la[na++] = s;
	for (char *s = strtok_r(b, "\n", &save); s && nb < 512; s = strtok_r(NULL, "\n", &save))
		lb[nb++] = s;
	same = na == nb;
	for (int i = 0; same && i < na; i++) {
		bool found = false;

		for (int k = 0; k < nb && !found; k++)
			found = !strcmp(la[i], lb[k]);
		same = found;
	}
	ordered = same && !strcmp(got_installs, want_installs);
	CHECK_MSG(same, "installs:\n%swant:\n%s", got_installs, want_installs);
	CHECK_MSG(!same || ordered, "same set, other order:\n%swant:\n%s", got_installs,
		  want_installs);
	free(a);
	free(b);
	return ordered;
}

static int load_repos(const struct tcase *tc, const char *dir, struct dd_solve_index *ix)
{
	for (int i = 0; i < tc->n_repos; i++) {
		char path[1024];

		snprintf(path, sizeof(path), "%s/%s", dir, tc->repos[i]);
		if (dd_solve_index_add_file(ix, path) < 0) {
			CHECK_MSG(0, "%s", dd_error_detail());
			return -1;
		}
	}
	return 0;
}

struct run {
	struct dd_solve_index ix;
	struct dd_apk_pkg virt;
	const struct dd_apk_pkg **pkgs;
	bool *broken;
	struct dd_dep *deps, *world;
	size_t n_deps, n_world;
	struct dd_solution sol;
	struct dd_buf why, got;
	int rc;
};

static void run_release(struct run *r)
{
	if (r->virt.name) {
		r->virt.depends = NULL; /* the deps are r->deps */
		r->virt.n_depends = 0;
		dd_apk_pkg_release(&r->virt);
		dd_deps_free(r->world, r->n_world);
	}
	dd_deps_free(r->deps, r->n_deps);
	free(r->pkgs);
	free(r->broken);
	dd_solution_release(&r->sol);
	dd_buf_release(&r->why);
	dd_buf_release(&r->got);
	dd_solve_index_release(&r->ix);
}

static void solve_case(struct run *r, struct apk_args *j)
{
	struct dd_repo repo;

	dd_solve_index_repo(&r->ix, "x86_64", &repo);
	if (j->virtual_pkg) {
		make_virtual(j->virtual_pkg, r->deps, r->n_deps, &r->virt, &r->world, &r->n_world);
		r->pkgs = dd_xcalloc(repo.n + 1, sizeof(*r->pkgs));
		r->broken = dd_xcalloc(repo.n + 1, sizeof(*r->broken));
		if (repo.n) {
			memcpy(r->pkgs, repo.pkgs, repo.n * sizeof(*r->pkgs));
			memcpy(r->broken, repo.broken, repo.n * sizeof(*r->broken));
		}
		r->pkgs[repo.n] = &r->virt;
		repo.pkgs = r->pkgs;
		repo.broken = r->broken;
		repo.n++;
	}
	r->rc = dd_solve_flags(&repo, j->virtual_pkg ? r->world : r->deps,
			       j->virtual_pkg ? r->n_world : r->n_deps, j->flags, &r->sol, &r->why);
	for (size_t i = 0; i < r->sol.n; i++)
		dd_buf_addf(&r->got, "%s-%s\n", r->sol.pkgs[i]->name, r->sol.pkgs[i]->version);
}

static bool check_outcome(struct run *r, const char *world_err, const char *want_installs,
			  const char *want_error)
{
	bool ok;

	if (world_err) {
		/* apk's message, word for word */
		ok = want_error && !strncmp(want_error, world_err, strlen(world_err));
		CHECK_MSG(ok, "world rejected: %s\nwant: %s", world_err,
			  want_error ? want_error : "success");
	} else if (want_error) {
		ok = r->rc < 0 && r->why.ptr && !strcmp(r->why.ptr, want_error);
		CHECK_MSG(r->rc < 0, "resolved, but apk fails:\n%s", want_error);
		CHECK_MSG(r->rc >= 0 || ok, "report:\n%swant:\n%s", r->why.ptr ? r->why.ptr : "",
			  want_error);
	} else {
		ok = r->rc == 0;
		CHECK_MSG(ok, "failed:\n%s", r->why.ptr ? r->why.ptr : dd_error_detail());
		ok = ok && compare_ok(r->got.ptr ? r->got.ptr : "", want_installs);
	}
	return ok;
}

static void run_corpus_case(void)
{
	const char *dir = t_corpus(SOLVER_DIR), *world_err = NULL, *want_error;
	struct tcase tc = { 0 };
	struct apk_args j = { 0 };
	struct run r = { 0 };
	struct dd_buf want = DD_BUF_INIT;
	char path[1024], args[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, cur_case);
	if (!tcase_read(path, &tc))
		goto out;
	snprintf(args, sizeof(args), "%s %s", tc.args, tc.world);
	parse_args(args, &j);
	if (tc.skip || j.skip) {
		char why[1024];

		snprintf(why, sizeof(why), "%s: @ARGS %.400s", tc.skip ? tc.skip : j.skip, tc.args);
		t_skip(why);
		n_skip++;
		goto out;
	}
	expected(&tc, &want, &want_error);
	if (load_repos(&tc, dir, &r.ix) == 0 && parse_world(&j, &r.deps, &r.n_deps, &world_err))
		solve_case(&r, &j);
	if (check_outcome(&r, world_err, want.ptr ? want.ptr : "", want_error))
		n_pass++;
	else
		n_fail++;
out:
	run_release(&r);
	dd_buf_release(&want);
	dd_buf_release(&tc.expect);
}

static int test_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && !strcmp(e->d_name + n - 5, ".test");
}

static void t_solver_corpus_absent(void)
{
	t_skip("corpus absent: ../shared/corpus/" SOLVER_DIR);
}

/* One reported test per .test file of apk-tools' solver suite. */
static void run_corpus(void)
{
	const char *dir = t_corpus(SOLVER_DIR "/basic1.test") ? t_corpus(SOLVER_DIR) : NULL;
	struct dirent **list = NULL;
	int n;

	if (!dir || (n = scandir(dir, &list, test_file, alphasort)) < 0) {
		RUN(t_solver_corpus_absent);
		return;
	}
	for (int i = 0; i < n; i++) {
		char name[300];
		snprintf(cur_case, sizeof(cur_case), "%s", list[i]->d_name);
		snprintf(name, sizeof(name), "solver/%s", list[i]->d_name);
		t_run(name, run_corpus_case);
		free(list[i]);
	}
	free(list);
	printf("# apk-tools solver cases: %d passed, %d failed, %d skipped\n", n_pass, n_fail,
	       n_skip);
}

/* ---- the real Alpine 3.16 index ------------------------------------------------ */

static bool alpine_ver_ok(const char *have, const struct dd_dep *d)
{
	if (!d->version)
		return true;
	if (!have)
		return false; /* stricter than apk-tools: no unversioned provide for a version
			       */
	return dd_version_match(dd_blob_str(have), d->op, dd_blob_str(d->version));
}

/* Some package of sol other than `self` has name or provides d->name
 * at a version d accepts. */
static bool held_by(const struct dd_solution *sol, const struct dd_dep *d,
		    const struct dd_apk_pkg *self)
{
	for (size_t i = 0; i < sol->n; i++) {
		const struct dd_apk_pkg *q = sol->pkgs[i];

		if (q == self)
			continue;
		if (!strcmp(q->name, d->name) && alpine_ver_ok(q->version, d))
			return true;
		for (size_t j = 0; j < q->n_provides; j++)
			if (!strcmp(q->provides[j].name, d->name) &&
			    alpine_ver_ok(q->provides[j].version, d))
				return true;
	}
	return false;
}

static bool iif_holds(const struct dd_solution *sol, const struct dd_apk_pkg *p)
{
	for (size_t j = 0; j < p->n_install_if; j++)
		if (held_by(sol, &p->install_if[j], NULL) == p->install_if[j].conflict)
			return false;
	return p->n_install_if > 0;
}

static bool in_solution(const struct dd_solution *sol, const char *name)
{
	for (size_t i = 0; i < sol->n; i++)
		if (!strcmp(sol->pkgs[i]->name, name))
			return true;
	return false;
}

/* Every dependency met inside the set, no conflict holds, one package
 * per name, and every install_if that holds is honoured. */
static void check_closure(const char *what, const struct dd_repo *repo,
			  const struct dd_solution *sol)
{
	for (size_t i = 0; i < sol->n; i++) {
		const struct dd_apk_pkg *p = sol->pkgs[i];

		for (size_t k = i + 1; k < sol->n; k++)
			CHECK_MSG(strcmp(p->name, sol->pkgs[k]->name), "%s: %s twice", what,
				  p->name);
		for (size_t j = 0; j < p->n_depends; j++) {
			const struct dd_dep *d = &p->depends[j];

			CHECK_MSG(held_by(sol, d, d->conflict ? p : NULL) != d->conflict,
				  "%s: %s-%s: %s%s not %s", what, p->name, p->version,
				  d->conflict ? "!" : "", d->name,
				  d->conflict ? "respected" : "satisfied");
		}
	}
	for (size_t i = 0; i < repo->n; i++)
		if (iif_holds(sol, repo->pkgs[i]))
			CHECK_MSG(in_solution(sol, repo->pkgs[i]->name),
				  "%s: install_if of %s holds, not installed", what,
				  repo->pkgs[i]->name);
}

/*
 * With the crust of docs/entitlements.md.  Without a /bin/sh in the
 * world, nginx and git cannot be resolved: busybox provides /bin/sh
 * without a version or provider_priority, and apk-tools 3 (whose rules
 * the solver tests encode, see provides14.test) will not pick such a
 * provider on its own.
 */
#define CRUST "alpine-baselayout busybox musl "

static void t_solver_alpine_closures(void)
{
	static const char *jobs[] = { CRUST "python3",
				      CRUST "nginx",
				      CRUST "git",
				      CRUST "build-base",
				      CRUST "python3 nginx git build-base",
				      "python3",
				      "build-base",
				      NULL };
	const char *path = t_corpus("apk/alpine-316/APKINDEX.tar.gz");
	struct dd_solve_index ix = { 0 };
	struct fixture f = { 0 };

	if (!path) {
		t_skip("corpus absent: apk/alpine-316/APKINDEX.tar.gz");
		return;
	}
	if (dd_solve_index_add_file(&ix, path) < 0) {
		CHECK_MSG(0, "%s", dd_error_detail());
		return;
	}
	CHECK(ix.n == 4929);
	f.ix = ix;
	dd_solve_index_repo(&f.ix, "x86_64", &f.repo);
	for (int i = 0; jobs[i]; i++) {
		CHECK_MSG(fx_solve(&f, jobs[i]) == 0, "%s:\n%s", jobs[i], f.why.ptr);
		CHECK_MSG(f.sol.n > 5, "%s: %zu packages", jobs[i], f.sol.n);
		check_closure(jobs[i], &f.repo, &f.sol);
		/* dependencies come first */
		for (size_t k = 0; k < f.sol.n; k++)
			CHECK(f.sol.reason[k] >= 0 || f.sol.reason[k] == -1 - (int)f.sol.n ||
			      -1 - f.sol.reason[k] > (int)k);
	}
	fx_solve(&f, "nginx");
	CHECK_WHY(&f, "unable to select packages:\n"
		      "  /bin/sh (virtual):\n"
		      "    note: please select one of the 'provided by'\n"
		      "          packages explicitly\n"
		      "    provided by: busybox\n"
		      "    required by: nginx-1.22.1-r0[/bin/sh]\n");
	fx_solve(&f, "python3<3");
	CHECK_MSG(f.rc == DD_E_FORMAT && strstr(f.why.ptr, "breaks: world[python3<3]"), "%s",
		  f.why.ptr ? f.why.ptr : "");
	fx_release(&f);
}

void suite_solver(void)
{
	RUN(t_solver_highest_version);
	RUN(t_solver_rechoose);
	RUN(t_solver_provider_priority);
	RUN(t_solver_virtual_needs_choice);
	RUN(t_solver_so_cmd_pc);
	RUN(t_solver_install_if);
	RUN(t_solver_conflicts);
	RUN(t_solver_arch);
	RUN(t_solver_missing);
	RUN(t_solver_deterministic);
	RUN(t_solver_world_dep_syntax);
	RUN(t_solver_broken_entry);
	RUN(t_solver_lean_reading);
	RUN(t_solver_alpine_closures);
	run_corpus();
}
