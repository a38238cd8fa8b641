/*
 * Rebuilding a run from what its provenance recorded, months later.
 *
 * The statement's resolvedDependencies name every package blob the run
 * was built from (with the bundle that brought it) and the entitlement
 * manifest; externalParameters hold the job's content and
 * SOURCE_DATE_EPOCH.  A rebuild plans the job against the mirror
 * narrowed to exactly those blobs and that entitlement manifest (a
 * pinned plan: store/catalog.h), so newer packages or a newer
 * entitlement imported since change nothing, and builds without the
 * layer cache, so the image depends on the signed packages alone.
 */
#ifndef DD_IMAGE_REBUILD_H
#define DD_IMAGE_REBUILD_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

struct dd_rebuild_opts {
	const char *mirror;   /* the mirror's root */
	const char *out;      /* the rebuilt run goes to OUT/<job>/<run-id>/ */
	int threads;          /* < 1: every core (the digest does not depend on it) */
	const char *sign_key; /* sign the rebuilt run's provenance; NULL: unsigned */
	const char *gnupg_home;
};

/*
 * Rebuild the run whose in-toto statement is st (borrowed).  Returns 0
 * when the image was built (*result is its result.json, *run_dir its
 * folder; compare result's "digest" with the run's), else a negative
 * code whose detail says what is missing: the job's content, or which
 * package blob, from which bundle, the mirror lacks.  *result and
 * *run_dir are set (possibly NULL) in every case; the caller frees them.
 */
int dd_rebuild(const struct dd_rebuild_opts *o, json_t *st, json_t **result, char **run_dir);

/*
 * The first difference between two OCI image layouts (folders holding
 * index.json and blobs/), described for a person: a package, a layer's
 * file (name, type, mode, owner, time, size, link or content), a
 * config or manifest field.  a_name and b_name say which is which ("the
 * run", "the rebuild").  Returns false, why untouched, when the two
 * top digests are the same.
 */
bool dd_layout_diff(const char *a, const char *b, const char *a_name, const char *b_name,
		    struct dd_buf *why);

#endif
