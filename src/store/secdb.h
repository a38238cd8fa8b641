/*
 * Which security databases (bundle members of kind secdb) the mirror
 * uses: per channel, those of the newest bundle of the channel that
 * carried any.  A newer bundle's secdb replaces the older one's; the
 * older blobs stay, as members of their bundles, for auditors.
 */
#ifndef DD_STORE_SECDB_H
#define DD_STORE_SECDB_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct dd_store_secdb {
	char *channel, *path; /* the member's path in its bundle */
	char sha256[65];      /* its blob */
	char bundle[65];      /* the bundle that brought it */
	int64_t sequence;     /* that bundle's sequence */
	int64_t created;      /* and creation time */
};

/*
 * Make the n members (path, sha256) of bundle the secdbs of channel,
 * dropping the channel's earlier ones.  Call inside the import's
 * transaction, after the bundle and its members are recorded.
 */
int dd_store_secdb_replace(struct dd_store *s, const char *channel, const char *bundle,
			   const char *const *paths, const char *const *sha256s, size_t n);

/* Every secdb in use, by channel then path; *out is the caller's, to be
 * freed with dd_store_secdb_free(). */
int dd_store_secdb_list(struct dd_store *s, struct dd_store_secdb **out, size_t *n);
void dd_store_secdb_free(struct dd_store_secdb *v, size_t n);

#endif
