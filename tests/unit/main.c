#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/dep.h"

/* clang-format off: one suite per line (clang-format 14 reflows this list
 * differently each time it runs) */
#define SUITES(X) \
	X(pgp) \
	X(version) \
	X(dep) \
	X(buf) \
	X(tar) \
	X(pkginfo) \
	X(index) \
	X(solver) \
	X(job) \
	X(manifest) \
	X(provenance) \
	X(advisory)
/* clang-format on */

#define DECLARE(name) void suite_##name(void);
SUITES(DECLARE)

static int failed_now, skipped_now;
static char skip_why[256];

void t_fail(const char *file, int line, const char *what)
{
	if (failed_now++ < 5)
		fprintf(stderr, "  %s:%d: %s\n", file, line, what);
}

void t_skip(const char *why)
{
	skipped_now = 1;
	snprintf(skip_why, sizeof(skip_why), "%s", why);
}

void t_run(const char *name, void (*fn)(void))
{
	failed_now = skipped_now = 0;
	fn();
	if (failed_now)
		printf("FAIL: unit/%s (%d checks failed)\n", name, failed_now);
	else if (skipped_now)
		printf("SKIP: unit/%s: %s\n", name, skip_why);
	else
		printf("PASS: unit/%s\n", name);
	fflush(stdout);
}

const char *t_corpus(const char *rel)
{
	static char path[4096];
	const char *root = getenv("DD_CORPUS");

	snprintf(path, sizeof(path), "%s/%s", root ? root : "../shared/corpus", rel);
	return access(path, R_OK) == 0 ? path : NULL;
}

bool t_str_is(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool t_dep_is(const struct dd_dep *d, const char *name, const char *ver, unsigned op, bool conflict)
{
	return t_str_is(d->name, name) && t_str_is(d->version, ver) && d->op == op &&
	       d->conflict == conflict;
}

bool t_deps_same(const struct dd_dep *a, size_t na, const struct dd_dep *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!t_dep_is(&a[i], b[i].name, b[i].version, b[i].op, b[i].conflict))
			return false;
	return true;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
#define CALL(name) suite_##name();
	SUITES(CALL)
	return 0;
}
