#include "store/insert.h"

#include <stdio.h>
#include <string.h>

#include "apk/dep.h"
#include "apk/tar.h"
#include "apk/version.h"
#include "core/error.h"
#include "core/time.h"
#include "store/db.h"

/* ---- lookups ---------------------------------------------------------- */

/* The first row of sql (one text parameter, or two) into *num and text. */
static int lookup(struct dd_store *s, const char *sql, const char *a, const char *b,
		  int64_t *num, char *text, size_t textlen, const char *what)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, sql, &st);

	if (rc)
		return rc;
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, what);
	if (rc > 0 && num)
		*num = sqlite3_column_int64(st, 0);
	if (rc > 0 && text) {
		const char *t = (const char *)sqlite3_column_text(st, num ? 1 : 0);

		if (t)
			snprintf(text, textlen, "%s", t);
		else
			rc = dd_db_damaged(s, "a row found to %s is incomplete", what);
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_index_bundle_sequence(struct dd_store *s, const char *digest, int64_t *sequence)
{
	return lookup(s, "SELECT sequence FROM bundles WHERE digest = ?", digest, NULL,
		      sequence, NULL, 0, "look up the bundle");
}

int dd_index_channel_head(struct dd_store *s, const char *channel, int64_t *sequence,
			  char digest[65])
{
	return lookup(s, "SELECT sequence, digest FROM channels WHERE channel = ?", channel,
		      NULL, sequence, digest, 65, "look up the bundle's channel");
}

int dd_index_latest_entitlement(struct dd_store *s, int64_t *version, char sha256[65])
{
	return lookup(s, "SELECT version, sha256 FROM entitlements ORDER BY version DESC "
		      "LIMIT 1", NULL, NULL, version, sha256, 65,
		      "look up the current entitlement");
}

int dd_index_package_blob(struct dd_store *s, const char *name, const char *version,
			  const char *arch, char sha256[65])
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "SELECT sha256 FROM packages WHERE name = ? AND version = ? "
			       "AND arch = ?", &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, arch, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, "look up a package");
	if (rc > 0 && !sqlite3_column_text(st, 0))
		rc = dd_db_damaged(s, "package %s-%s has no blob", name, version);
	if (rc > 0)
		snprintf(sha256, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc;
}

/* ---- inserts ---------------------------------------------------------- */

/* Step a write, then make st ready for the next row. */
static int bind_exec(struct dd_store *s, sqlite3_stmt *st, const char *what)
{
	int r = dd_db_step(s, st, what);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r < 0 ? r : 0;
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	char text[32];

	dd_time_format(t, text);
	bind_str(st, i, text);
}

int dd_index_insert_blob(struct dd_store *s, const char *sha256, uint64_t size,
			 const char *kind)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT OR IGNORE INTO blobs(sha256, size, kind) "
			       "VALUES (?, ?, ?)", &st);

	if (rc)
		return rc;
	bind_str(st, 1, sha256);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	bind_str(st, 3, kind);
	rc = bind_exec(s, st, "record a blob");
	sqlite3_finalize(st);
	return rc;
}

int dd_index_insert_bundle(struct dd_store *s, const struct dd_index_bundle *b)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO bundles(digest, channel, sequence, created, "
			       "expires, signer, imported, expired_allowed) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st);

	if (rc)
		return rc;
	bind_str(st, 1, b->digest);
	bind_str(st, 2, b->channel);
	sqlite3_bind_int64(st, 3, b->sequence);
	bind_time(st, 4, b->created);
	bind_time(st, 5, b->expires);
	bind_str(st, 6, b->signer);
	bind_time(st, 7, dd_time_now());
	sqlite3_bind_int(st, 8, b->expired_allowed);
	rc = bind_exec(s, st, "record the bundle");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	rc = dd_db_prepare(s, "INSERT OR REPLACE INTO channels(channel, sequence, digest) "
			   "VALUES (?, ?, ?)", &st);
	if (rc)
		return rc;
	bind_str(st, 1, b->channel);
	sqlite3_bind_int64(st, 2, b->sequence);
	bind_str(st, 3, b->digest);
	rc = bind_exec(s, st, "record the channel");
	sqlite3_finalize(st);
	return rc;
}

int dd_index_insert_member(struct dd_store *s, const char *bundle, const char *path,
			   const char *sha256, uint64_t size, const char *kind)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO bundle_members(bundle, path, sha256, size, kind) "
			       "VALUES (?, ?, ?, ?, ?)", &st);

	if (rc)
		return rc;
	bind_str(st, 1, bundle);
	bind_str(st, 2, path);
	bind_str(st, 3, sha256);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
	bind_str(st, 5, kind);
	rc = bind_exec(s, st, "record a bundle member");
	sqlite3_finalize(st);
	return rc;
}

static int insert_deps(struct dd_store *s, sqlite3_int64 id, const char *kind,
		       const struct dd_dep *d, size_t n)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO deps(pkg, kind, name, op, version, conflict, "
			       "text) VALUES (?, ?, ?, ?, ?, ?, ?)", &st);

	for (size_t i = 0; !rc && i < n; i++) {
		struct dd_buf text = DD_BUF_INIT;

		dd_dep_format(&d[i], &text);
		sqlite3_bind_int64(st, 1, id);
		bind_str(st, 2, kind);
		bind_str(st, 3, d[i].name);
		bind_str(st, 4, d[i].version ? dd_version_op_str(d[i].op) : NULL);
		bind_str(st, 5, d[i].version);
		sqlite3_bind_int(st, 6, d[i].conflict);
		bind_str(st, 7, text.ptr);
		rc = bind_exec(s, st, "record a dependency");
		dd_buf_release(&text);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_files(struct dd_store *s, sqlite3_int64 id, const struct dd_apk_file *f)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO files(pkg, path, type, mode, uid, gid, size, "
			       "sha1, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);

	for (size_t i = 0; !rc && i < f->n_files; i++) {
		const struct dd_apk_entry *e = &f->files[i];

		sqlite3_bind_int64(st, 1, id);
		bind_str(st, 2, e->path);
		bind_str(st, 3, dd_tar_type_name(e->type));
		sqlite3_bind_int(st, 4, (int)e->mode);
		sqlite3_bind_int64(st, 5, e->uid);
		sqlite3_bind_int64(st, 6, e->gid);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)e->size);
		bind_str(st, 8, e->sha1[0] ? e->sha1 : NULL);
		bind_str(st, 9, e->link);
		rc = bind_exec(s, st, "record a file");
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_index_insert_package(struct dd_store *s, const struct dd_index_package *ip)
{
	const struct dd_apk_pkg *p = &ip->apk->pkg;
	struct dd_buf info = DD_BUF_INIT;
	sqlite3_stmt *st;
	sqlite3_int64 id;
	int rc;

	dd_pkginfo_write(p, &info);
	rc = dd_db_prepare(s, "INSERT INTO packages(name, version, arch, checksum, sha256, size, "
			   "installed_size, build_time, origin, license, description, url, "
			   "maintainer, provider_priority, signer, bundle, pkginfo, nfiles) VALUES "
			   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
	if (rc)
		goto out;
	bind_str(st, 1, p->name);
	bind_str(st, 2, p->version);
	bind_str(st, 3, p->arch ? p->arch : "");
	bind_str(st, 4, ip->apk->checksum);
	bind_str(st, 5, ip->sha256);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ip->size);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)p->installed_size);
	sqlite3_bind_int64(st, 8, p->build_time);
	bind_str(st, 9, p->origin);
	bind_str(st, 10, p->license);
	bind_str(st, 11, p->description);
	bind_str(st, 12, p->url);
	bind_str(st, 13, p->maintainer);
	if (p->has_provider_priority)
		sqlite3_bind_int(st, 14, p->provider_priority);
	bind_str(st, 15, ip->signer);
	bind_str(st, 16, ip->bundle);
	bind_str(st, 17, info.ptr);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)ip->apk->n_files);
	rc = bind_exec(s, st, "record a package");
	sqlite3_finalize(st);
	if (rc)
		goto out;
	id = dd_db_last_rowid(s);
	rc = insert_deps(s, id, "depend", p->depends, p->n_depends);
	if (!rc)
		rc = insert_deps(s, id, "provides", p->provides, p->n_provides);
	if (!rc)
		rc = insert_deps(s, id, "install_if", p->install_if, p->n_install_if);
	if (!rc)
		rc = insert_deps(s, id, "replaces", p->replaces, p->n_replaces);
	if (!rc)
		rc = insert_files(s, id, ip->apk);
out:
	dd_buf_release(&info);
	return rc;
}

int dd_index_insert_entitlement(struct dd_store *s, const struct dd_index_entitlement *e)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO entitlements(version, organization, issued, "
			       "expires, sha256, signer, bundle, imported) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, e->version);
	bind_str(st, 2, e->organization);
	bind_time(st, 3, e->issued);
	bind_time(st, 4, e->expires);
	bind_str(st, 5, e->sha256);
	bind_str(st, 6, e->signer);
	bind_str(st, 7, e->bundle);
	bind_time(st, 8, dd_time_now());
	rc = bind_exec(s, st, "record the entitlement manifest");
	sqlite3_finalize(st);
	return rc;
}

int dd_index_insert_entitled(struct dd_store *s, int64_t version, const char *image,
			     const char *name, const char *pkgversion, bool base)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT INTO entitled_packages(version, image, name, "
			       "pkgversion, base) VALUES (?, ?, ?, ?, ?)", &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, version);
	bind_str(st, 2, image);
	bind_str(st, 3, name);
	bind_str(st, 4, pkgversion);
	sqlite3_bind_int(st, 5, base);
	rc = bind_exec(s, st, "record an entitled package");
	sqlite3_finalize(st);
	return rc;
}

int dd_index_record_signature(struct dd_store *s, const char *digest, const char *sig_sha256)
{
	struct dd_buf key = DD_BUF_INIT;
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", &st);

	if (rc)
		return rc;
	dd_buf_addf(&key, "signature:%s", digest);
	bind_str(st, 1, key.ptr);
	bind_str(st, 2, sig_sha256);
	rc = bind_exec(s, st, "record a bundle's signature");
	sqlite3_finalize(st);
	dd_buf_release(&key);
	return rc;
}
