/*
 * The resolver: from a set of available packages and a world (the
 * dependencies asked for), the one set of packages to install, chosen
 * the way apk-tools chooses for a fresh install, in install order.
 *
 * It works on struct dd_apk_pkg as parsed from APKINDEX text or read
 * from the mirror, and never prints; a failure is explained the way
 * apk-tools explains it (which package, which constraint broke it, who
 * asked for it), as text the caller prints.
 *
 * The algorithm is apk-tools' (src/solver.c there), re-implemented:
 * constraints propagate down from the world and disqualify candidates
 * that cannot satisfy them, a candidate whose own dependencies became
 * unsatisfiable is disqualified in turn, and names are then decided one
 * at a time, most constrained first, each taking its best remaining
 * candidate: highest version of the name asked for, then highest
 * provider_priority, then the earlier repository.  An unversioned
 * provide (cmd:, /bin/sh) is only taken unasked when it has a
 * provider_priority (apk-tools 3).  Like apk-tools it does not search:
 * a pick that a constraint found later rules out fails the job, with
 * the explanation.
 */
#ifndef DD_SOLVE_SOLVER_H
#define DD_SOLVE_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "apk/dep.h"
#include "apk/pkg.h"
#include "core/buf.h"

/* The packages the resolver may choose from (not owned). */
struct dd_repo {
	const struct dd_apk_pkg **pkgs;
	size_t n;
	const char *arch; /* only packages of this arch or "noarch" are installable; NULL: any */
	/*
	 * NULL, or one flag per package: true when its index entry had a
	 * field apk-tools could not read (a malformed depend, an unknown
	 * upper-case key), which makes apk-tools refuse to install it.
	 */
	const bool *broken;
};

struct dd_solution {
	const struct dd_apk_pkg **pkgs; /* install order: dependencies first */
	size_t n;
	/* why each package is there: index into world (>= 0), or -1 - i when
	 * pulled in by pkgs[i], or -1 - n for install_if */
	int *reason;
};

/*
 * Resolve world against repo.  Returns 0 and fills sol, or DD_E_NOTFOUND
 * (a required name nobody provides) / DD_E_FORMAT (unsatisfiable) with
 * a detail in apk-tools' style:
 *
 *   unable to select packages:
 *     d-2.0:
 *       breaks: b-1[d<2.0]
 *       satisfies: world[d>1.5] a-3[d>1.5]
 *
 * written to `why` (appended; may be NULL).  Deterministic: the same
 * repo and world give the same solution in the same order.  Packages
 * that appear twice in repo (same APKINDEX checksum) count once; when
 * two otherwise equal candidates remain, the one earlier in repo wins,
 * as apk-tools prefers the first configured repository.  World entries
 * naming the same package more than once: the last one counts, as with
 * `apk add`.
 */
int dd_solve(const struct dd_repo *repo, const struct dd_dep *world, size_t n_world,
	     struct dd_solution *sol, struct dd_buf *why);

/* apk --force-broken-world: world entries that cannot be installed
 * are left out (as apk-tools does, by solving again without them). */
#define DD_SOLVE_FORCE_BROKEN_WORLD 0x1u

/* dd_solve() with DD_SOLVE_* flags. */
int dd_solve_flags(const struct dd_repo *repo, const struct dd_dep *world, size_t n_world,
		   unsigned flags, struct dd_solution *sol, struct dd_buf *why);

void dd_solution_release(struct dd_solution *sol);

/*
 * Parse one world dependency as `apk add` does: "name", "name<op>version"
 * or "!name".  Stricter than dd_dep_parse(): the version must be valid
 * ("foo=invalid", "foo=" and "foo==" are refused), with the detail
 * "'TEXT' is not a valid world dependency, format is ...".
 */
int dd_solve_world_dep(const char *text, struct dd_dep *out);

/*
 * Indexes loaded for resolving, from APKINDEX text or APKINDEX.tar.gz.
 * Unlike dd_apkindex_parse(), an entry with a field apk-tools cannot
 * read does not make the whole index unreadable: as in apk-tools, that
 * one package is kept but marked broken (never installable).  An entry
 * without name or version is still an error.
 *
 * The packages carry what resolving reads: name, version, arch,
 * depends, provides, install_if, provider_priority, checksum.  Other
 * fields may be left out (a well-formed index is read without them, in
 * a fraction of the time).  They belong to the index: release them
 * only with dd_solve_index_release().
 */
struct dd_solve_index {
	struct dd_apk_pkg *pkgs; /* every file's packages, in order */
	size_t n, cap;
	bool *broken;                   /* one flag per package */
	const struct dd_apk_pkg **ptrs; /* filled by dd_solve_index_repo() */
	bool *ptr_broken;               /* the flags of ptrs */
	/* filled by dd_solve_index_repo(): one line per entry left out as
	 * the duplicate of an earlier one (same decoded checksum) */
	char **warnings;
	size_t n_warnings;
	/* private: packages read the lean way keep their strings and
	 * dependencies in these blocks */
	bool *lean;
	void **blocks;
	size_t n_blocks;
};

/* Append the packages of APKINDEX text.  Errors name the line. */
int dd_solve_index_add_text(struct dd_solve_index *ix, struct dd_blob text);

/* Append the packages of a file: gzip (APKINDEX.tar.gz, read and
 * checked with dd_apk_read()) or plain APKINDEX text.  Errors start with
 * the path. */
int dd_solve_index_add_file(struct dd_solve_index *ix, const char *path);

/* Point repo at everything loaded so far (valid until the next add or
 * the release).  As in apk-tools, a package is its checksum: an entry
 * whose C: decodes to the digest of an earlier entry is that package
 * again and is left out, with a line in ix->warnings. */
void dd_solve_index_repo(struct dd_solve_index *ix, const char *arch, struct dd_repo *repo);

void dd_solve_index_release(struct dd_solve_index *ix);

#endif
