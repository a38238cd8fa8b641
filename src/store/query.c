#include "store/query.h"

#include <stdio.h>

#include "store/db.h"

/* ---- listings ---------------------------------------------------------- */

/* Run sql (binding args, NULL binds NULL) and turn each row into an
 * object keyed by column name. */
static int rows_json(struct dd_store *s, const char *sql, const char *const *args, size_t n,
		     json_t **out)
{
	sqlite3_stmt *st;
	json_t *arr;
	int rc = dd_db_prepare(s, sql, &st);

	*out = NULL;
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_TRANSIENT);
	while ((rc = dd_db_step(s, st, "list what the mirror holds")) > 0) {
		json_t *row = json_object();

		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *name = sqlite3_column_name(st, c);

			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				json_object_set_new(row, name,
						    json_integer(sqlite3_column_int64(st, c)));
				break;
			case SQLITE_NULL:
				json_object_set_new(row, name, json_null());
				break;
			default:
				json_object_set_new(row, name,
						    json_string(
							    (const char *)sqlite3_column_text(st,
											      c)));
			}
		}
		json_array_append_new(arr, row);
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* Whether the current entitlement manifest lists p's name and version. */
#define GUARDED \
	"EXISTS (SELECT 1 FROM entitled_packages e WHERE e.name = p.name AND " \
	"e.pkgversion = p.version AND e.version = (SELECT max(version) FROM entitlements))"

int dd_index_list_packages(struct dd_store *s, const char *glob, json_t **rows)
{
	return rows_json(s,
			 "SELECT p.name, p.version, p.arch, p.size, p.installed_size, "
			 "p.sha256, p.signer, " GUARDED " AS guarded, p.bundle FROM packages p "
			 "WHERE p.name GLOB ? ORDER BY p.name, p.version, p.arch",
			 &glob, 1, rows);
}

int dd_index_show_package(struct dd_store *s, const char *name, const char *version, json_t **rows)
{
	const char *args[2] = { name, version };
	json_t *row;
	size_t i;
	int rc = rows_json(s,
			   "SELECT p.id, p.name, p.version, p.arch, p.description, p.url, "
			   "p.license, p.origin, p.maintainer, p.checksum, p.sha256, p.size, "
			   "p.installed_size, p.signer, " GUARDED " AS guarded, p.bundle, "
			   "b.channel, b.sequence FROM packages p JOIN bundles b ON "
			   "b.digest = p.bundle WHERE p.name = ?1 AND (?2 IS NULL OR "
			   "p.version = ?2) ORDER BY p.version, p.arch",
			   args, 2, rows);

	json_array_foreach(rc ? NULL : *rows, i, row) {
		char id[32];
		const char *a[1] = { id };
		json_t *deps = NULL, *files = NULL;

		snprintf(id, sizeof(id), "%lld",
			 (long long)json_integer_value(json_object_get(row, "id")));
		rc = rows_json(s, "SELECT kind, text FROM deps WHERE pkg = ? ORDER BY rowid", a, 1,
			       &deps);
		if (!rc)
			rc = rows_json(s,
				       "SELECT path, type, mode, uid, gid, size, sha1, link "
				       "FROM files WHERE pkg = ? ORDER BY rowid",
				       a, 1, &files);
		json_object_set_new(row, "relations", deps ? deps : json_array());
		json_object_set_new(row, "files", files ? files : json_array());
		json_object_del(row, "id");
		if (rc)
			break;
	}
	if (rc) {
		json_decref(*rows);
		*rows = NULL;
	}
	return rc;
}

int dd_index_owners(struct dd_store *s, const char *path, json_t **rows)
{
	return rows_json(s,
			 "SELECT p.name, p.version, p.arch, f.path, f.type FROM files f "
			 "JOIN packages p ON p.id = f.pkg WHERE f.path = ? "
			 "ORDER BY p.name, p.version",
			 &path, 1, rows);
}

int dd_index_bundles(struct dd_store *s, json_t **rows)
{
	return rows_json(s,
			 "SELECT channel, sequence, digest, created, expires, signer, "
			 "imported, expired_allowed FROM bundles ORDER BY channel, sequence",
			 NULL, 0, rows);
}

int dd_index_entitlements(struct dd_store *s, json_t **rows)
{
	json_t *e;
	size_t i;
	int rc = rows_json(s,
			   "SELECT version, organization, issued, expires, sha256, signer, "
			   "bundle, imported FROM entitlements ORDER BY version DESC",
			   NULL, 0, rows);

	json_array_foreach(rc ? NULL : *rows, i, e) {
		char v[32];
		const char *a[1] = { v };
		json_t *pkgs = NULL;

		snprintf(v, sizeof(v), "%lld",
			 (long long)json_integer_value(json_object_get(e, "version")));
		rc = rows_json(s,
			       "SELECT version, image, name, pkgversion, base FROM "
			       "entitled_packages WHERE version = ? ORDER BY image, base DESC, "
			       "name",
			       a, 1, &pkgs);
		json_object_set_new(e, "packages", pkgs ? pkgs : json_array());
		if (rc)
			break;
	}
	if (rc) {
		json_decref(*rows);
		*rows = NULL;
	}
	return rc;
}

int dd_index_trusted_keys(struct dd_store *s, json_t **rows)
{
	return rows_json(s, "SELECT role, id, label, added FROM trusted_keys ORDER BY role, id",
			 NULL, 0, rows);
}

/* ---- lookups ----------------------------------------------------------- */

static const struct {
	const char *sql, *what;
} lookups[] = {
	[DD_LOOKUP_PACKAGE_BUNDLE] = { "SELECT bundle FROM packages WHERE sha256 = ?1",
				       "look up a package" },
	[DD_LOOKUP_MEMBER_PATH] = { "SELECT path FROM bundle_members WHERE bundle = ?1 AND "
				    "sha256 = ?2",
				    "look up a bundle member" },
	[DD_LOOKUP_BUNDLE_CHANNEL] = { "SELECT channel || ':' || sequence FROM bundles WHERE "
				       "digest = ?1",
				       "look up a bundle" },
	[DD_LOOKUP_ENTITLEMENT_BUNDLE] = { "SELECT bundle FROM entitlements WHERE sha256 = ?1",
					   "look up an entitlement manifest" },
	[DD_LOOKUP_MEMBER_OF_KIND] = { "SELECT sha256 FROM bundle_members WHERE bundle = ?1 "
				       "AND kind = ?2",
				       "look up a bundle member" },
	[DD_LOOKUP_BUNDLE_SIGNATURE] = { "SELECT value FROM meta WHERE key = 'signature:' || ?1",
					 "look up a bundle's signature" },
};

int dd_index_lookup(struct dd_store *s, enum dd_index_lookup what, const char *a, const char *b,
		    struct dd_buf *out)
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
