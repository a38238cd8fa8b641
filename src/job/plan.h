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

#include "core/buf.h"
#include "job/job.h"
#include "store/catalog.h"

enum dd_plan_role { DD_PLAN_CRUST, DD_PLAN_REQUESTED, DD_PLAN_PULLED, DD_PLAN_INSTALL_IF };

struct dd_plan_pkg {
	size_t cat;            /* index into the catalog */
	enum dd_plan_role role;
	const char *by;        /* for PULLED: the name of the package that needs it */
};

struct dd_plan {
	const char *arch;
	bool ok;
	struct dd_plan_pkg *pkgs; /* install order */
	size_t n;
	uint64_t size, installed_size;
	char **errors, **warnings;
	size_t n_errors, n_warnings;
};

/* Plan job for arch against the catalog of store. Returns 0 (plan->ok
 * says whether it will build) or an error reading the mirror. */
int dd_plan_make(struct dd_store *s, const struct dd_catalog *cat, const struct dd_job *job,
		 const char *arch, struct dd_plan *plan);
void dd_plan_release(struct dd_plan *plan);

const char *dd_plan_role_str(enum dd_plan_role r);

#endif
