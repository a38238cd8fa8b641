#include "store/held.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

void dd_strs_add(struct dd_strs *l, const char *s)
{
	if (dd_strs_has(l, s))
		return;
	DD_GROW(l->v, l->n);
	l->v[l->n++] = dd_xstrdup(s);
}

bool dd_strs_has(const struct dd_strs *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

void dd_strs_release(struct dd_strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Run st to its end, adding column 0 of each row (or "c0=c1" when two) to out. */
static int collect(struct dd_store *s, sqlite3_stmt *st, bool pair, struct dd_strs *out,
		   const char *what)
{
	struct dd_buf b = DD_BUF_INIT;
	int r;

	while ((r = dd_db_step(s, st, what)) > 0) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *v = pair ? (const char *)sqlite3_column_text(st, 1) : NULL;

		if (!a || (pair && !v)) {
			r = dd_db_damaged(s, "a NULL where a name or version belongs (%s)", what);
			break;
		}
		dd_buf_reset(&b);
		dd_buf_adds(&b, a);
		if (pair)
			dd_buf_addf(&b, "=%s", v);
		dd_strs_add(out, b.ptr);
	}
	dd_buf_release(&b);
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int dd_held_versions(struct dd_store *s, const char *name, const char *arch, struct dd_strs *out)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "SELECT version FROM packages WHERE name = ? AND arch = ?", &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, arch ? arch : "", -1, SQLITE_TRANSIENT);
	return collect(s, st, false, out, "list a package's versions");
}

int dd_held_package(struct dd_store *s, const char *name, const char *version, bool *held)
{
	return dd_db_exists(s, "look up a package", held,
			    "SELECT 1 FROM packages WHERE name = ? "
			    "AND version = ? LIMIT 1",
			    "ss", name, version);
}

int dd_held_bundle(struct dd_store *s, const char *digest, bool *held)
{
	return dd_db_exists(s, "look up a bundle", held, "SELECT 1 FROM bundles WHERE digest = ?",
			    "s", digest);
}

int dd_held_entitlement(struct dd_store *s, struct dd_held_entitlement *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = dd_db_prepare(s, "SELECT version FROM entitlements ORDER BY version DESC LIMIT 1",
			   &st);
	if (rc)
		return rc;
	rc = dd_db_step(s, st, "read the entitlement");
	if (rc > 0) {
		e->present = true;
		e->version = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	if (!e->present)
		return 0;
	rc = dd_db_prepare(s, "SELECT DISTINCT image FROM entitled_packages WHERE version = ?",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->version);
	rc = collect(s, st, false, &e->images, "list the entitled images");
	if (rc)
		return rc;
	rc = dd_db_prepare(s,
			   "SELECT DISTINCT name, pkgversion FROM entitled_packages "
			   "WHERE version = ? AND pkgversion IS NOT NULL",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->version);
	return collect(s, st, true, &e->guarded, "list the guarded packages");
}

void dd_held_entitlement_release(struct dd_held_entitlement *e)
{
	dd_strs_release(&e->images);
	dd_strs_release(&e->guarded);
	memset(e, 0, sizeof(*e));
}
