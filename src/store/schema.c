/*
 * The mirror index.  Blobs are the truth; the index says what they are,
 * where they came from and whether they may be used.
 */
#include "store/schema.h"

#include "core/error.h"
#include "store/db.h"
#include "store/store.h"

#define SCHEMA_VERSION 2

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	/* role: bundle | entitlement (id: OpenPGP fingerprint) or apk (id: key file name) */
	"CREATE TABLE IF NOT EXISTS trusted_keys("
	"  role TEXT NOT NULL, id TEXT NOT NULL, label TEXT, added TEXT NOT NULL,"
	"  PRIMARY KEY(role, id));"
	"CREATE TABLE IF NOT EXISTS bundles("
	"  digest TEXT PRIMARY KEY, channel TEXT NOT NULL, sequence INTEGER NOT NULL,"
	"  created TEXT NOT NULL, expires TEXT NOT NULL, signer TEXT NOT NULL,"
	"  imported TEXT NOT NULL, expired_allowed INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS channels("
	"  channel TEXT PRIMARY KEY, sequence INTEGER NOT NULL, digest TEXT NOT NULL);"
	/* every blob the index refers to: packages, manifests, signatures, indexes */
	"CREATE TABLE IF NOT EXISTS blobs("
	"  sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, kind TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS bundle_members("
	"  bundle TEXT NOT NULL REFERENCES bundles(digest), path TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL REFERENCES blobs(sha256), size INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, PRIMARY KEY(bundle, path));"
	"CREATE TABLE IF NOT EXISTS packages("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,"
	"  arch TEXT NOT NULL, checksum TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL REFERENCES blobs(sha256), size INTEGER NOT NULL,"
	"  installed_size INTEGER NOT NULL, build_time INTEGER, origin TEXT, license TEXT,"
	"  description TEXT, url TEXT, maintainer TEXT, provider_priority INTEGER,"
	"  signer TEXT, bundle TEXT NOT NULL REFERENCES bundles(digest), pkginfo TEXT NOT NULL,"
	"  nfiles INTEGER,"
	"  UNIQUE(name, version, arch));"
	/* kind: depend | provides | install_if | replaces */
	"CREATE TABLE IF NOT EXISTS deps("
	"  pkg INTEGER NOT NULL REFERENCES packages(id), kind TEXT NOT NULL,"
	"  name TEXT NOT NULL, op TEXT, version TEXT, conflict INTEGER NOT NULL,"
	"  text TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS deps_by_name ON deps(kind, name);"
	"CREATE INDEX IF NOT EXISTS deps_by_pkg ON deps(pkg);"
	"CREATE TABLE IF NOT EXISTS files("
	"  pkg INTEGER NOT NULL REFERENCES packages(id), path TEXT NOT NULL,"
	"  type TEXT NOT NULL, mode INTEGER NOT NULL, uid INTEGER NOT NULL,"
	"  gid INTEGER NOT NULL, size INTEGER NOT NULL, sha1 TEXT, link TEXT);"
	"CREATE INDEX IF NOT EXISTS files_by_path ON files(path);"
	"CREATE INDEX IF NOT EXISTS files_by_pkg ON files(pkg);"
	"CREATE TABLE IF NOT EXISTS entitlements("
	"  version INTEGER PRIMARY KEY, organization TEXT NOT NULL, issued TEXT NOT NULL,"
	"  expires TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
	"  signer TEXT NOT NULL, bundle TEXT NOT NULL, imported TEXT NOT NULL);"
	/* base = 1: a crust package of the image (any version of it) */
	"CREATE TABLE IF NOT EXISTS entitled_packages("
	"  version INTEGER NOT NULL REFERENCES entitlements(version), image TEXT NOT NULL,"
	"  name TEXT NOT NULL, pkgversion TEXT, base INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS entitled_by_name ON entitled_packages(name);"
	/* the security databases in use: per channel, the newest bundle's (store/secdb.h) */
	"CREATE TABLE IF NOT EXISTS secdbs("
	"  channel TEXT NOT NULL, path TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
	"  bundle TEXT NOT NULL REFERENCES bundles(digest), PRIMARY KEY(channel, path));";

/*
 * Schema 2 records each package's number of files rows (packages.nfiles),
 * so that a reader notices rows a damaged index lost.  A schema 1 index
 * gains the column, filled from the rows it has.
 */
static const char migrate_1_2[] =
	"ALTER TABLE packages ADD COLUMN nfiles INTEGER;"
	"UPDATE packages SET nfiles = (SELECT count(*) FROM files WHERE pkg = packages.id);";

int dd_schema_version(struct dd_store *s, int *version)
{
	sqlite3_stmt *st;
	int rc;

	*version = 0;
	rc = dd_db_prepare(s, "SELECT value FROM meta WHERE key = 'schema'", &st);
	if (rc)
		return rc;
	rc = dd_db_step(s, st, "read the index's schema version");
	if (rc > 0)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int dd_schema_apply(struct dd_store *s)
{
	int have = 0, rc;

	rc = dd_db_begin(s);
	if (rc)
		return rc;
	rc = dd_db_exec(s, schema); /* creates what a new index lacks */
	if (!rc)
		rc = dd_schema_version(s, &have);
	if (!rc && have > SCHEMA_VERSION)
		rc = dd_error(DD_E_FORMAT,
			      "mirror %s was written by a newer drydock "
			      "(index schema %d, this one knows %d)",
			      s->root, have, SCHEMA_VERSION);
	if (!rc && have == 1)
		rc = dd_db_exec(s, migrate_1_2);
	if (!rc && have < SCHEMA_VERSION)
		rc = dd_db_exec(s,
				"INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', '2')");
	if (rc) {
		dd_db_rollback(s);
		return rc;
	}
	return dd_db_commit(s);
}
