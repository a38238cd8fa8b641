#include "store/query.h"

#include "core/error.h"

static const struct {
	const char *sql, *what;
} lookups[] = {
	[DD_LOOKUP_PACKAGE_BUNDLE] = { "SELECT bundle FROM packages WHERE sha256 = ?1",
				       "look up a package" },
	[DD_LOOKUP_MEMBER_PATH] = { "SELECT path FROM bundle_members WHERE bundle = ?1 AND "
				    "sha256 = ?2", "look up a bundle member" },
	[DD_LOOKUP_BUNDLE_CHANNEL] = { "SELECT channel || ':' || sequence FROM bundles WHERE "
				       "digest = ?1", "look up a bundle" },
	[DD_LOOKUP_ENTITLEMENT_BUNDLE] = { "SELECT bundle FROM entitlements WHERE sha256 = ?1",
					   "look up an entitlement manifest" },
	[DD_LOOKUP_MEMBER_OF_KIND] = { "SELECT sha256 FROM bundle_members WHERE bundle = ?1 "
				       "AND kind = ?2", "look up a bundle member" },
	[DD_LOOKUP_BUNDLE_SIGNATURE] = { "SELECT value FROM meta WHERE key = 'signature:' || ?1",
					 "look up a bundle's signature" },
};

int dd_index_lookup(struct dd_store *s, enum dd_index_lookup what, const char *a,
		    const char *b, struct dd_buf *out)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, lookups[what].sql, &st);

	dd_buf_reset(out);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, lookups[what].what);
	if (rc > 0 && !sqlite3_column_text(st, 0))
		rc = dd_db_damaged(s, "a row found to %s holds no value", lookups[what].what);
	if (rc > 0)
		dd_buf_adds(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}

int dd_index_blobs_of_kind(struct dd_store *s, const char *kind,
			   int (*fn)(void *ctx, const char *sha256), void *ctx)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "SELECT sha256 FROM blobs WHERE kind = ? ORDER BY rowid", &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
	while ((rc = dd_db_step(s, st, "list the blobs")) > 0) {
		const char *sha = (const char *)sqlite3_column_text(st, 0);

		rc = sha ? fn(ctx, sha) : dd_db_damaged(s, "a %s blob has no sha256", kind);
		if (rc)
			break;
	}
	sqlite3_finalize(st);
	return rc;
}
