/*
 * A plan: what a job will build from the mirror, before anything is
 * built, or why it cannot be built.  It applies the custom-assembly
 * rules: the base image's packages (the crust) cannot be removed,
 * packages must be guarded unless the job allows unguarded ones, every
 * package must be in the mirror, two packages may not ship one path with
 * different content (unless one replaces the other), FIPS packages are
 * allowed with a warning, and an expired entitlement stops everything.
 */
#ifndef DD_JOB_PLAN_H
#define DD_JOB_PLAN_H

#include <stdbool.h>

#include "core/map.h"
#include "job/job.h"
#include "store/catalog.h"

enum dd_plan_role { DD_PLAN_CRUST, DD_PLAN_REQUESTED, DD_PLAN_PULLED, DD_PLAN_INSTALL_IF };

struct dd_plan_pkg {
	size_t cat; /* index into the catalog */
	enum dd_plan_role role;
	const char *by; /* for PULLED: the name of the package that needs it */
};

struct dd_plan {
	const char *arch;
	bool ok;
	struct dd_plan_pkg *pkgs; /* install order: the crust's closure first */
	size_t n;
	size_t n_crust; /* pkgs[0, n_crust): the base packages, what they
			 * depend on, and install_if packages they alone trigger */
	uint64_t size, installed_size;
	struct dd_map owners; /* contested path -> (void *)(position + 1) of the
			       * package that gets it (dd_plan_owners) */
	char **errors, **warnings;
	size_t n_errors, n_warnings;
};

/* Plan job for arch against the catalog of store. Returns 0 (plan->ok
 * says whether it will build) or an error reading the mirror, and then
 * plan holds nothing (releasing it again is harmless). */
int dd_plan_make(struct dd_store *s, const struct dd_catalog *cat, const struct dd_job *job,
		 const char *arch, struct dd_plan *plan);
void dd_plan_release(struct dd_plan *plan);

/*
 * Who gets each path that several of the packages at positions
 * [0, upto) ship, from the mirror's file index, walking each path's
 * owners in install order: identical content keeps the first, a package
 * that `replaces` the current owner takes the path over, anything else
 * is a conflict, as is a directory in one package where another has a
 * file or link.  Conflicts are added to plan->errors; winners (when not
 * NULL) maps each contested non-directory path to (void *)(position+1).
 * Deciding for a prefix (the crust) never contradicts deciding for the
 * whole plan: a later package can only take a path over.
 */
int dd_plan_owners(struct dd_store *s, const struct dd_catalog *cat, struct dd_plan *p, size_t upto,
		   struct dd_map *winners);

const char *dd_plan_role_str(enum dd_plan_role r);

#endif
