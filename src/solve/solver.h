/*
 * The resolver: from a set of available packages and a world (the
 * dependencies asked for), the one set of packages to install, chosen
 * the way apk-tools chooses for a fresh install, in install order.
 *
 * It works on struct dd_apk_pkg as parsed from APKINDEX text or read
 * from the mirror, and never prints; failures are explained in a
 * struct dd_solve_error list the caller formats.
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
 * / DD_E_FORMAT (unsatisfiable) with a detail in apk-tools' style:
 *
 *   unable to select packages:
 *     d-2.0:
 *       breaks: b-1[d<2.0]
 *       satisfies: world[d>1.5] a-3[d>1.5]
 *
 * written to `why` (appended; may be NULL).  Deterministic: the same
 * repo and world give the same solution in the same order.
 */
int dd_solve(const struct dd_repo *repo, const struct dd_dep *world, size_t n_world,
	     struct dd_solution *sol, struct dd_buf *why);

void dd_solution_release(struct dd_solution *sol);

#endif
