/*
 * Rebuilding a mirror's index from its blobs and its audit log
 * (drydock mirror fsck --rebuild-index), when the index was lost,
 * damaged or replaced.
 *
 * The old index is moved aside (index.db.lost-TIME).  The audit log's
 * trust records are replayed in order (the keys themselves are still in
 * gnupg/ and keys/).  Then every bundle the audit log records as
 * imported is imported again, in the same order, from its blobs: the
 * manifest, its signature and every member are blobs, so the bundle is
 * put together again in tmp/ (hard links) and goes through the same
 * checks and the same index transaction as an import.  That restores
 * bundles, channels, packages with their dependencies and files, the
 * entitlement manifests and the signatures.  It cannot restore: bundles
 * imported with no audit record (or whose record names no signature and
 * no signature blob verifies), bundles whose blobs are gone, the import
 * times (they become the rebuild's; the audit log keeps the real ones)
 * and the labels of trusted keys.
 */
#ifndef DD_BUNDLE_REBUILD_H
#define DD_BUNDLE_REBUILD_H

#include <jansson.h>

/*
 * Rebuild the index of the mirror at root.  report receives
 * {"aside": path, "keys": n, "restored": [bundle...], "lost": [{bundle,
 * digest, reason}...]}.  Returns 0 when every imported bundle was
 * restored, DD_E_NOTFOUND when some were lost (report says which), or
 * another error when the rebuild could not run.
 */
int dd_bundle_rebuild_index(const char *root, json_t **report);

#endif
