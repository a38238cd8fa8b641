#include "store/catalog.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include <sys/stat.h>

#include "core/error.h"

#include "core/time.h"
#include "store/db.h"
#include "store/schema.h"

/* %s: p.nfiles, or NULL in an index from before it was recorded. */
static const char packages_sql[] =
	"SELECT p.id, p.pkginfo, p.checksum, p.sha256, p.size, p.bundle, b.channel, "
	"b.sequence, p.signer, EXISTS (SELECT 1 FROM entitled_packages e WHERE "
	"e.name = p.name AND e.pkgversion = p.version AND e.version = (SELECT max(version) "
	"FROM entitlements)), %s FROM packages p JOIN bundles b ON b.digest = p.bundle "
	"ORDER BY p.name, p.id";

static int load_row(struct dd_store *s, sqlite3_stmt *st, struct dd_apk_pkg *p,
		    struct dd_catalog_pkg *x)
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
	int rc = dd_db_prepare(s,
			       "SELECT version, organization, expires, sha256, bundle "
			       "FROM entitlements "
			       "ORDER BY version DESC LIMIT 1",
			       &st);

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
	rc = dd_db_prepare(s,
			   "SELECT name, base FROM entitled_packages WHERE version = ? AND "
			   "image = ? ORDER BY rowid",
			   &st);
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
		DD_GROW(*names, *n);
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
		return dd_error(DD_E_NOTFOUND,
				"no entitled image '%s' in entitlement manifest "
				"version %lld",
				image, (long long)c->ent_version);
	return 0;
}

/* The row of pinned package k in c, preferring the recorded bundle; -1: none. */
static long pinned_row(const struct dd_catalog *c, const struct dd_pin_pkg *k)
{
	long any = -1;

	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->info[i].sha256, k->sha256))
			continue;
		if (k->bundle && !strcmp(c->info[i].bundle, k->bundle))
			return (long)i;
		if (any < 0)
			any = (long)i;
	}
	return any;
}

static int pin_missing(const struct dd_pin_pkg *k, const char *what)
{
	return dd_error(DD_E_NOTFOUND,
			"package %s (blob sha256:%s) %s; it came in bundle %s%s%s%s: "
			"import that bundle again",
			k->name ? k->name : "?", k->sha256, what,
			k->bundle_label ? k->bundle_label : "", k->bundle_label ? " (" : "",
			k->bundle ? k->bundle : "(not recorded)", k->bundle_label ? ")" : "");
}

static int pin_entitlement(struct dd_store *s, struct dd_catalog *c,
			   const struct dd_catalog_pin *pin)
{
	sqlite3_stmt *st;
	int rc;

	free(c->organization);
	c->organization = NULL;
	c->has_entitlement = false;
	if (!pin->ent_sha256)
		return 0;
	rc = dd_db_prepare(s,
			   "SELECT version, organization, expires, bundle FROM entitlements "
			   "WHERE sha256 = ? ORDER BY version LIMIT 1",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, pin->ent_sha256, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, "read the recorded entitlement");
	if (rc > 0) {
		c->has_entitlement = true;
		c->ent_version = sqlite3_column_int64(st, 0);
		c->organization = dd_xstrdup((const char *)sqlite3_column_text(st, 1));
		snprintf(c->ent_sha256, sizeof(c->ent_sha256), "%s", pin->ent_sha256);
		snprintf(c->ent_bundle, sizeof(c->ent_bundle), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		rc = sqlite3_column_text(st, 2)
			     ? dd_time_parse((const char *)sqlite3_column_text(st, 2),
					     &c->ent_expires)
			     : dd_db_damaged(s, "the recorded entitlement has no expiry");
	} else if (!rc) {
		rc = dd_error(DD_E_NOTFOUND,
			      "the entitlement manifest (blob sha256:%s, %s) is not in "
			      "the mirror's index: import the bundle that carried it again",
			      pin->ent_sha256, pin->ent_label ? pin->ent_label : "as recorded");
	}
	sqlite3_finalize(st);
	return rc;
}

/* guarded: listed by the pinned entitlement manifest's version. */
static int pin_guarded(struct dd_store *s, struct dd_catalog *c)
{
	sqlite3_stmt *st = NULL;
	int rc = dd_db_prepare(s,
			       "SELECT 1 FROM entitled_packages WHERE version = ? AND name = ? "
			       "AND pkgversion = ?",
			       &st);

	for (size_t i = 0; !rc && i < c->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, c->ent_version);
		sqlite3_bind_text(st, 2, c->pkgs[i].name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, c->pkgs[i].version, -1, SQLITE_TRANSIENT);
		rc = c->has_entitlement ? dd_db_step(s, st,
						     "read the recorded entitlement's "
						     "packages")
					: 0;
		c->info[i].guarded = rc > 0;
		rc = rc < 0 ? rc : 0;
	}
	sqlite3_finalize(st); /* NULL when the prepare failed: a no-op */
	return rc;
}

int dd_catalog_pin(struct dd_store *s, struct dd_catalog *c, const struct dd_catalog_pin *pin)
{
	bool *keep = dd_xcalloc(c->n + 1, sizeof(bool));
	struct dd_buf path = DD_BUF_INIT;
	struct stat sb;
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < pin->n && !rc; i++) {
		long row = pinned_row(c, &pin->pkgs[i]);

		if (row < 0)
			rc = pin_missing(&pin->pkgs[i], "is not in the mirror's index");
		else if (lstat(dd_store_blob_path(s, pin->pkgs[i].sha256, &path), &sb) ||
			 !S_ISREG(sb.st_mode))
			rc = pin_missing(&pin->pkgs[i], "is missing from the mirror's blobs");
		else
			keep[row] = true;
	}
	for (size_t i = 0; i < c->n && !rc; i++) {
		if (!keep[i]) {
			dd_apk_pkg_release(&c->pkgs[i]);
			free(c->info[i].channel);
			free(c->info[i].signer);
			continue;
		}
		c->pkgs[k] = c->pkgs[i];
		c->info[k++] = c->info[i];
	}
	if (!rc) {
		c->n = k;
		c->judged_at = pin->at;
		rc = pin_entitlement(s, c, pin);
	}
	if (!rc)
		rc = pin_guarded(s, c);
	free(keep);
	dd_buf_release(&path);
	return rc;
}
