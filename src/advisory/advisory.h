/*
 * Which advisories apply to a set of installed packages, from the
 * security databases the mirror holds (advisory/secdb.h), and what the
 * mirror can do about each:
 *
 *   fixed             the installed version has the fix (>= the fixed version)
 *   fix available     it lacks the fix, and the mirror holds a version of
 *                     the same package with it (named, with its bundle):
 *                     a rebuild picks it up
 *   fix not yet here  it lacks the fix, and no version in the mirror has
 *                     it: a newer bundle must bring it
 *   not affected      the secdb lists the id under "0" for its origin
 *
 * An advisory applies to a package through its origin (the APK "o:"
 * field, else its name).  An id listed under "0" by any secdb is not
 * affected; listed under several versions, the lowest one counts.
 */
#ifndef DD_ADVISORY_H
#define DD_ADVISORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/map.h"
#include "job/plan.h"
#include "store/catalog.h"
#include "store/store.h"

/* One security database in use, and where it came from. */
struct dd_adv_feed {
	char *channel, *path, *distroversion, *reponame;
	char sha256[65], bundle[65];
	int64_t sequence, created;
	size_t n_origins, n_ids;
};

struct dd_adv_fix {
	char *origin, *fixed, *id; /* fixed: NULL for "0" */
	size_t feed;
};

struct dd_adv_db {
	struct dd_adv_feed *feeds;
	size_t n_feeds;
	struct dd_adv_fix *fixes; /* by origin, then id (after dd_adv_db_index) */
	size_t n;
	struct dd_map by_origin; /* origin -> (void *)(first fix + 1) */
};

/* Every security database the mirror uses (store/secdb.h), read from
 * its blobs and indexed.  No database at all is not an error: n_feeds
 * is 0. */
int dd_adv_db_load(struct dd_store *s, struct dd_adv_db *db);
/* Add one secdb document described by feed (copied; its counts are set
 * here); call dd_adv_db_index() once every document is added. */
int dd_adv_db_add(struct dd_adv_db *db, const struct dd_adv_feed *feed, struct dd_blob json);
void dd_adv_db_index(struct dd_adv_db *db);
void dd_adv_db_release(struct dd_adv_db *db);

/* An installed package (the caller's strings); origin NULL: its name. */
struct dd_adv_pkg {
	const char *name, *version, *origin, *arch;
};

/* The packages of plan p (pointing into cat), in install order; the
 * array is the caller's to free. */
struct dd_adv_pkg *dd_adv_plan_pkgs(const struct dd_catalog *cat, const struct dd_plan *p);

enum dd_adv_state {
	DD_ADV_FIXED,
	DD_ADV_FIX_AVAILABLE,
	DD_ADV_FIX_NOT_HERE,
	DD_ADV_NOT_AFFECTED,
};
#define DD_ADV_N_STATES 4

struct dd_advisory {
	size_t pkg;           /* index into the packages analysed */
	const char *id;       /* owned by the db */
	const char *fixed_in; /* the first fixed version; NULL when not affected */
	enum dd_adv_state state;
	size_t feed;  /* the db's feed that says so */
	size_t avail; /* FIX_AVAILABLE: the catalog package with the fix */
};

struct dd_adv_report {
	struct dd_advisory *items; /* by package, then id */
	size_t n;
	size_t count[DD_ADV_N_STATES];
};

/*
 * The advisories of db that apply to pkgs[0, n).  cat (may be NULL: no
 * mirror to offer fixes) is searched for a newer version of the same
 * package and architecture; the highest one with the fix is named.
 * The report points into db and cat, which must outlive it.
 */
int dd_adv_analyze(const struct dd_adv_db *db, const struct dd_catalog *cat,
		   const struct dd_adv_pkg *pkgs, size_t n, struct dd_adv_report *r);
void dd_adv_report_release(struct dd_adv_report *r);

/* "fixed", "fix available", "fix not yet here", "not affected". */
const char *dd_adv_state_str(enum dd_adv_state s);
/* The same as JSON keys: "fixed", "fix_available", "fix_not_here", "not_affected". */
const char *dd_adv_state_key(enum dd_adv_state s);

/* {"fixed": N, "fix_available": N, ...}. */
json_t *dd_adv_counts_json(const struct dd_adv_report *r);
/* One object per advisory: id, package, version, origin, arch, state,
 * fixed_in, and for a fix available the version and bundle. */
json_t *dd_adv_items_json(const struct dd_adv_db *db, const struct dd_catalog *cat,
			  const struct dd_adv_pkg *pkgs, const struct dd_adv_report *r);
/* The feeds: channel, bundle, sequence, created, path, sha256, age in
 * days at now, and "stale" when older than max_age_days. */
json_t *dd_adv_feeds_json(const struct dd_adv_db *db, int64_t now, int max_age_days);

/*
 * What a rebuild fixed: the advisories of items list before (as
 * dd_adv_items_json() gives them, e.g. from an older run's result.json)
 * that were not fixed there and are fixed in after, matched by id and
 * package: [{id, package, from, to, fixed_in}].  Never NULL.
 */
json_t *dd_adv_fixed_between(json_t *before, json_t *after);

/* One line describing a feed: "security database secdb/main.json of
 * bundle 1a2b3c4d… (channel stable, sequence 3, 2026-11-30T00:00:00Z)". */
void dd_adv_feed_describe(const struct dd_adv_feed *f, struct dd_buf *out);
/* "CVE-… libssl3-3.1.4-r0 (origin openssl): fix available: …", appended. */
void dd_adv_item_describe(const struct dd_catalog *cat, const struct dd_adv_pkg *pkgs,
			  const struct dd_advisory *a, struct dd_buf *out);
/* "N advisories: N fixed, N fix available, …", appended. */
void dd_adv_counts_describe(const struct dd_adv_report *r, struct dd_buf *out);
/* How old a security database may be before reports warn (--max-age). */
#define DD_ADV_MAX_AGE_DAYS 7

/* true when feed f is older than max_age_days at now. */
bool dd_adv_feed_stale(const struct dd_adv_feed *f, int64_t now, int max_age_days);

#endif
