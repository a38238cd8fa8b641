#include "store/catalog.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "core/error.h"

#include "core/time.h"
#include "store/schema.h"

/* %s: p.nfiles, or NULL in an index from before it was recorded. */
static const char packages_sql[] =
	"SELECT p.id, p.pkginfo, p.checksum, p.sha256, p.size, p.bundle, b.channel, "
	"b.sequence, p.signer, EXISTS (SELECT 1 FROM entitled_packages e WHERE "
	"e.name = p.name AND e.pkgversion = p.version AND e.version = (SELECT max(version) "
	"FROM entitlements)), %s FROM packages p JOIN bundles b ON b.digest = p.bundle "
	"ORDER BY p.name, p.id";

static int load_row(struct dd_store *s, sqlite3_stmt *st, struct dd_apk_pkg *p, struct dd_catalog_pkg *x)
{
	const char *pkginfo = (const char *)sqlite3_column_text(st, 1);
	const char *signer = (const char *)sqlite3_column_text(st, 8);
	int rc;

	memset(p, 0, sizeof(*p));
	memset(x, 0, sizeof(*x));
	for (int i = 1; i <= 7; i++)
		if (!sqlite3_column_text(st, i))
			return dd_db_damaged(s, "package %lld has no %s",
					     (long long)sqlite3_column_int64(st, 0),
					     sqlite3_column_name(st, i));
	rc = dd_pkginfo_parse(dd_blob_str(pkginfo), p);
	if (rc) {
		dd_apk_pkg_release(p);
		return dd_error_prefix(rc, "mirror package %lld",
				       (long long)sqlite3_column_int64(st, 0));
	}
	x->id = sqlite3_column_int64(st, 0);
	snprintf(p->checksum, sizeof(p->checksum), "%s", sqlite3_column_text(st, 2));
	snprintf(x->sha256, sizeof(x->sha256), "%s", sqlite3_column_text(st, 3));
	p->file_size = (uint64_t)sqlite3_column_int64(st, 4);
	snprintf(x->bundle, sizeof(x->bundle), "%s", sqlite3_column_text(st, 5));
	x->channel = dd_xstrdup((const char *)sqlite3_column_text(st, 6));
	x->sequence = sqlite3_column_int64(st, 7);
	x->signer = signer ? dd_xstrdup(signer) : NULL;
	x->guarded = sqlite3_column_int(st, 9) != 0;
	x->nfiles = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 10);
	return 0;
}

static int load_entitlement(struct dd_store *s, struct dd_catalog *c)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "SELECT version, organization, expires, sha256, bundle "
			       "FROM entitlements "
			       "ORDER BY version DESC LIMIT 1", &st);

	if (rc)
		return rc;
	rc = dd_db_step(s, st, "read the current entitlement");
	if (rc > 0) {
		c->has_entitlement = true;
		c->ent_version = sqlite3_column_int64(st, 0);
		c->organization = dd_xstrdup((const char *)sqlite3_column_text(st, 1));
		snprintf(c->ent_sha256, sizeof(c->ent_sha256), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		snprintf(c->ent_bundle, sizeof(c->ent_bundle), "%s",
			 (const char *)sqlite3_column_text(st, 4));
		rc = sqlite3_column_text(st, 2)
			     ? dd_time_parse((const char *)sqlite3_column_text(st, 2),
					     &c->ent_expires)
			     : dd_db_damaged(s, "the current entitlement has no expiry");
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_catalog_load(struct dd_store *s, struct dd_catalog *c)
{
	struct dd_buf sql = DD_BUF_INIT;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, version;

	memset(c, 0, sizeof(*c));
	rc = load_entitlement(s, c);
	if (!rc)
		rc = dd_schema_version(s, &version);
	if (!rc) {
		dd_buf_addf(&sql, packages_sql, version >= 2 ? "p.nfiles" : "NULL");
		rc = dd_db_prepare(s, sql.ptr, &st);
	}
	dd_buf_release(&sql);
	if (rc) {
		dd_catalog_release(c);
		return rc;
	}
	while (!rc && (rc = dd_db_step(s, st, "read the package list")) > 0) {
		if (c->n == cap) {
			cap = cap ? 2 * cap : 64;
			c->pkgs = dd_xrealloc(c->pkgs, cap * sizeof(*c->pkgs));
			c->info = dd_xrealloc(c->info, cap * sizeof(*c->info));
		}
		rc = load_row(s, st, &c->pkgs[c->n], &c->info[c->n]);
		if (!rc)
			c->n++;
	}
	sqlite3_finalize(st);
	if (rc)
		dd_catalog_release(c);
	return rc;
}

void dd_catalog_release(struct dd_catalog *c)
{
	for (size_t i = 0; i < c->n; i++) {
		dd_apk_pkg_release(&c->pkgs[i]);
		free(c->info[i].channel);
		free(c->info[i].signer);
	}
	free(c->pkgs);
	free(c->info);
	free(c->organization);
	memset(c, 0, sizeof(*c));
}

int dd_catalog_image_base(struct dd_store *s, const struct dd_catalog *c, const char *image,
			  char ***names, size_t *n)
{
	sqlite3_stmt *st;
	int found = 0, rc;

	*names = NULL;
	*n = 0;
	rc = dd_db_prepare(s, "SELECT name, base FROM entitled_packages WHERE version = ? AND "
			   "image = ? ORDER BY rowid", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->ent_version);
	sqlite3_bind_text(st, 2, image, -1, SQLITE_TRANSIENT);
	while ((rc = dd_db_step(s, st, "read the entitled images")) > 0) {
		found = 1;
		if (!sqlite3_column_int(st, 1))
			continue;
		if (!sqlite3_column_text(st, 0)) {
			rc = dd_db_damaged(s, "an entitled package of image '%s' has no name",
					   image);
			break;
		}
		*names = dd_xrealloc(*names, (*n + 1) * sizeof(char *));
		(*names)[(*n)++] = dd_xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		for (size_t i = 0; i < *n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*n = 0;
		return rc;
	}
	if (!found)
		return dd_error(DD_E_NOTFOUND, "no entitled image '%s' in entitlement manifest "
				"version %lld", image, (long long)c->ent_version);
	return 0;
}
