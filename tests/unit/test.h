/*
 * A minimal unit-test harness.  Each tests/unit/t_<module>.c defines
 * test functions and one void suite_<module>(void) that RUN()s them;
 * tests/unit/main.c calls every suite.  Each test prints one line
 * "PASS: name", "FAIL: name: file:line: expr" or "SKIP: name: why";
 * tests/run counts those lines across all test programs.
 */
#ifndef DD_TEST_H
#define DD_TEST_H

#include <stdbool.h>
#include <stddef.h>

void t_run(const char *name, void (*fn)(void));
void t_fail(const char *file, int line, const char *what);
/* Mark the running test skipped, with the reason; return from it after. */
void t_skip(const char *why);
/* Path of a file under ../shared/corpus (relative to the repository), or
 * NULL when the corpus is absent. The string is static. */
const char *t_corpus(const char *rel);

struct dd_dep;

/* Equal strings, or both NULL. */
bool t_str_is(const char *a, const char *b);
/* d is name, version, op and conflict as given (NULLs match NULLs). */
bool t_dep_is(const struct dd_dep *d, const char *name, const char *ver, unsigned op,
	      bool conflict);
/* Two dependency lists, element by element. */
bool t_deps_same(const struct dd_dep *a, size_t na, const struct dd_dep *b, size_t nb);

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			t_fail(__FILE__, __LINE__, #cond); \
	} while (0)
#define CHECK_MSG(cond, ...) \
	do { \
		if (!(cond)) { \
			char t_msg_[512]; \
			snprintf(t_msg_, sizeof(t_msg_), __VA_ARGS__); \
			t_fail(__FILE__, __LINE__, t_msg_); \
		} \
	} while (0)
#define RUN(fn) t_run(#fn, fn)

#endif
