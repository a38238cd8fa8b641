/*
 * Restoring a mirror's blobs from a bundle it imported before
 * (`mirror import --repair BUNDLE`): the bundle is checked again in
 * full, then every blob of it that the mirror lacks or holds damaged is
 * put back.  Nothing else changes: the index already says what the blobs
 * are, and the bundle's signed manifest proves these are those bytes.
 */
#ifndef DD_BUNDLE_REPAIR_H
#define DD_BUNDLE_REPAIR_H

#include "bundle/import.h"
#include "store/held.h"

/*
 * c: the bundle, checked by dd_bundle_check() without the mirror's
 * rules, staged in s's tmp/.  restored receives what was put back
 * (package name-version, or member path).  Refused when s never
 * imported this bundle.
 */
int dd_bundle_repair(struct dd_store *s, struct dd_checked *c, struct dd_strs *restored);

#endif
