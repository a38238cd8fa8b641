#include "core/time.h"
#include "store/db.h"
#include "store/secdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int step_done(struct dd_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = dd_db_step(s, st, what);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc < 0 ? rc : 0;
}

int dd_store_secdb_replace(struct dd_store *s, const char *channel, const char *bundle,
			   const char *const *paths, const char *const *sha256s, size_t n)
{
	sqlite3_stmt *st;
	int rc = dd_db_run(s, "drop the channel's older security database",
			   "DELETE FROM secdbs WHERE channel = ?", "s", channel);

	if (rc)
		return rc;
	rc = dd_db_prepare(s,
			   "INSERT INTO secdbs(channel, path, sha256, bundle) "
			   "VALUES (?, ?, ?, ?)",
			   &st);
	for (size_t i = 0; !rc && i < n; i++) {
		dd_db_bind(st, "ssss", channel, paths[i], sha256s[i], bundle);
		rc = step_done(s, st, "record a security database");
	}
	sqlite3_finalize(st);
	return rc;
}

/* A mirror written before secdbs existed, opened read-only, lacks the
 * table (only writers create tables): it has no security database. */
static int has_table(struct dd_store *s)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
			       "name = 'secdbs'",
			       &st);

	if (rc)
		return rc;
	rc = dd_db_step(s, st, "look for the security databases' table");
	sqlite3_finalize(st);
	return rc;
}

int dd_store_secdb_list(struct dd_store *s, struct dd_store_secdb **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc = has_table(s);

	*out = NULL;
	*n = 0;
	if (rc <= 0)
		return rc;
	rc = dd_db_prepare(s,
			   "SELECT d.channel, d.path, d.sha256, d.bundle, b.sequence, "
			   "b.created FROM secdbs d JOIN bundles b ON b.digest = d.bundle "
			   "ORDER BY d.channel, d.path",
			   &st);

	if (rc)
		return rc;
	while ((rc = dd_db_step(s, st, "list the security databases")) > 0) {
		const char *txt[6];
		struct dd_store_secdb *d;

		for (int k = 0; k < 6; k++)
			txt[k] = (const char *)sqlite3_column_text(st, k);
		if (!txt[0] || !txt[1] || !txt[2] || !txt[3] || !txt[5]) {
			rc = dd_db_damaged(s, "a security database row lacks its channel, path, "
					      "blob or bundle");
			break;
		}
		DD_GROW(*out, *n);
		d = &(*out)[(*n)++];
		memset(d, 0, sizeof(*d));
		d->channel = dd_xstrdup(txt[0]);
		d->path = dd_xstrdup(txt[1]);
		snprintf(d->sha256, sizeof(d->sha256), "%s", txt[2]);
		snprintf(d->bundle, sizeof(d->bundle), "%s", txt[3]);
		d->sequence = sqlite3_column_int64(st, 4);
		if ((rc = dd_time_parse(txt[5], &d->created)))
			break;
	}
	sqlite3_finalize(st);
	if (rc) {
		dd_store_secdb_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void dd_store_secdb_free(struct dd_store_secdb *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].channel);
		free(v[i].path);
	}
	free(v);
}
