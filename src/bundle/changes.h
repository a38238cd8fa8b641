/*
 * What importing a checked bundle changes in a mirror: packages new,
 * upgraded (from which version) or already held, the entitlement
 * version before and after, images added and removed, package-versions
 * that become guarded or unguarded, and the bundle's expiry.  Computed
 * before the commit, from the same checks, so a dry run and the import
 * report the same.
 */
#ifndef DD_BUNDLE_CHANGES_H
#define DD_BUNDLE_CHANGES_H

#include "bundle/import.h"
#include "store/held.h"

enum dd_pkg_change { DD_PKG_NEW, DD_PKG_UPGRADED, DD_PKG_HELD };

struct dd_change_pkg {
	const char *name, *version, *arch; /* owned by the dd_checked */
	char *old_version;                 /* UPGRADED: the newest held before */
	enum dd_pkg_change kind;
	bool guarded; /* after the import */
};

struct dd_changes {
	struct dd_change_pkg *pkgs;
	size_t n_pkgs, n_new, n_upgraded, n_held;
	bool ent_before, ent_after;
	uint64_t ent_before_version, ent_after_version;
	struct dd_strs images_added, images_removed;
	struct dd_strs now_guarded, now_unguarded; /* "name=version" held by the mirror */
	int64_t expires;
};

/* The changes c makes to s (s may be NULL: everything is new). */
int dd_changes_compute(struct dd_store *s, const struct dd_checked *c, struct dd_changes *ch);
void dd_changes_release(struct dd_changes *ch);

#endif
