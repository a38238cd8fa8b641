/*
 * What the mirror holds, for commands and auditors: single-value
 * lookups and listings.  The SQL stays in the store; callers get typed
 * values and JSON rows.
 */
#ifndef DD_STORE_QUERY_H
#define DD_STORE_QUERY_H

#include <jansson.h>

#include "core/buf.h"
#include "store/store.h"

/*
 * Listings: *rows is a new JSON array (the caller owns it) of objects
 * keyed by column name; NULL with a negative code when the index
 * cannot be read.
 */
/* Packages whose name matches glob (fnmatch-style, "*" for all). */
int dd_index_list_packages(struct dd_store *s, const char *glob, json_t **rows);
/* Package name, of version exactly (NULL: every version), each with its
 * "relations" and "files". */
int dd_index_show_package(struct dd_store *s, const char *name, const char *version, json_t **rows);
/* Which packages ship path (no leading '/'). */
int dd_index_owners(struct dd_store *s, const char *path, json_t **rows);
int dd_index_bundles(struct dd_store *s, json_t **rows);
/* Entitlement manifests, newest first, each with its "packages". */
int dd_index_entitlements(struct dd_store *s, json_t **rows);
/* Trusted keys: role, id, label, added. */
int dd_index_trusted_keys(struct dd_store *s, json_t **rows);

enum dd_index_lookup {
	DD_LOOKUP_PACKAGE_BUNDLE,     /* a: package blob sha256 -> bundle that delivered it */
	DD_LOOKUP_MEMBER_PATH,        /* a: bundle, b: member sha256 -> member path */
	DD_LOOKUP_BUNDLE_CHANNEL,     /* a: bundle digest -> "channel:sequence" */
	DD_LOOKUP_ENTITLEMENT_BUNDLE, /* a: entitlement blob sha256 -> its bundle */
	DD_LOOKUP_MEMBER_OF_KIND,     /* a: bundle, b: member kind -> member sha256 */
	DD_LOOKUP_BUNDLE_SIGNATURE,   /* a: bundle digest -> signature blob recorded at import */
};

/*
 * One value into out (reset first): 1 when found, 0 when the index has
 * no such row, negative (naming the index) when it cannot be read.
 */
int dd_index_lookup(struct dd_store *s, enum dd_index_lookup what, const char *a, const char *b,
		    struct dd_buf *out);

/*
 * Each blob of kind ("manifest-signature", ...) through fn until fn
 * returns non-zero (returned); negative when the index cannot be read.
 */
int dd_index_blobs_of_kind(struct dd_store *s, const char *kind,
			   int (*fn)(void *ctx, const char *sha256), void *ctx);

#endif
