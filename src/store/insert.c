#include "store/insert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apk/dep.h"
#include "apk/tar.h"
#include "apk/version.h"
#include "core/time.h"
#include "store/db.h"

/* ---- lookups ---------------------------------------------------------- */

/* The first row of sql (one text parameter, or two) into *num and text. */
static int lookup(struct dd_store *s, const char *sql, const char *a, const char *b, int64_t *num,
		  char *text, size_t textlen, const char *what)
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
	return lookup(s, "SELECT sequence FROM bundles WHERE digest = ?", digest, NULL, sequence,
		      NULL, 0, "look up the bundle");
}

int dd_index_channel_head(struct dd_store *s, const char *channel, int64_t *sequence,
			  char digest[65])
{
	return lookup(s, "SELECT sequence, digest FROM channels WHERE channel = ?", channel, NULL,
		      sequence, digest, 65, "look up the bundle's channel");
}

int dd_index_latest_entitlement(struct dd_store *s, int64_t *version, char sha256[65])
{
	return lookup(s,
		      "SELECT version, sha256 FROM entitlements ORDER BY version DESC "
		      "LIMIT 1",
		      NULL, NULL, version, sha256, 65, "look up the current entitlement");
}

int dd_index_package_blob(struct dd_store *s, const char *name, const char *version,
			  const char *arch, char sha256[65])
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "SELECT sha256 FROM packages WHERE name = ? AND version = ? "
			       "AND arch = ?",
			       &st);

	if (rc)
		return rc;
	dd_db_bind(st, "sss", name, version, arch);
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

/* The next row of a prepared INSERT: bind (as dd_db_bind) and step. */
static int insert_next(struct dd_store *s, sqlite3_stmt *st, const char *what, const char *types,
		       ...)
{
	va_list ap;

	va_start(ap, types);
	dd_db_bindv(st, types, ap);
	va_end(ap);
	return bind_exec(s, st, what);
}

int dd_index_insert_blob(struct dd_store *s, const char *sha256, uint64_t size, const char *kind)
{
	return dd_db_run(s, "record a blob",
			 "INSERT OR IGNORE INTO blobs(sha256, size, kind) "
			 "VALUES (?, ?, ?)",
			 "sIs", sha256, (int64_t)size, kind);
}

int dd_index_insert_bundle(struct dd_store *s, const struct dd_index_bundle *b)
{
	int rc = dd_db_run(s, "record the bundle",
			   "INSERT INTO bundles(digest, channel, "
			   "sequence, created, expires, signer, imported, expired_allowed) "
			   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			   "ssIttsti", b->digest, b->channel, (int64_t)b->sequence,
			   (int64_t)b->created, (int64_t)b->expires, b->signer,
			   (int64_t)dd_time_now(), (int)b->expired_allowed);

	if (rc)
		return rc;
	return dd_db_run(s, "record the channel",
			 "INSERT OR REPLACE INTO channels(channel, "
			 "sequence, digest) VALUES (?, ?, ?)",
			 "sIs", b->channel, (int64_t)b->sequence, b->digest);
}

int dd_index_insert_member(struct dd_store *s, const char *bundle, const char *path,
			   const char *sha256, uint64_t size, const char *kind)
{
	return dd_db_run(s, "record a bundle member",
			 "INSERT INTO bundle_members(bundle, path, "
			 "sha256, size, kind) VALUES (?, ?, ?, ?, ?)",
			 "sssIs", bundle, path, sha256, (int64_t)size, kind);
}

static int insert_deps(struct dd_store *s, sqlite3_int64 id, const char *kind,
		       const struct dd_dep *d, size_t n)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "INSERT INTO deps(pkg, kind, name, op, version, conflict, "
			       "text) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       &st);

	for (size_t i = 0; !rc && i < n; i++) {
		struct dd_buf text = DD_BUF_INIT;

		dd_dep_format(&d[i], &text);
		rc = insert_next(s, st, "record a dependency", "Issssis", (int64_t)id, kind,
				 d[i].name, d[i].version ? dd_version_op_str(d[i].op) : NULL,
				 d[i].version, (int)d[i].conflict, text.ptr);
		dd_buf_release(&text);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_files(struct dd_store *s, sqlite3_int64 id, const struct dd_apk_file *f)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "INSERT INTO files(pkg, path, type, mode, uid, gid, size, "
			       "sha1, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       &st);

	for (size_t i = 0; !rc && i < f->n_files; i++) {
		const struct dd_apk_entry *e = &f->files[i];

		rc = insert_next(s, st, "record a file", "IssiIIIss", (int64_t)id, e->path,
				 dd_tar_type_name(e->type), (int)e->mode, (int64_t)e->uid,
				 (int64_t)e->gid, (int64_t)e->size, e->sha1[0] ? e->sha1 : NULL,
				 e->link);
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_index_insert_package(struct dd_store *s, const struct dd_index_package *ip)
{
	const struct dd_apk_pkg *p = &ip->apk->pkg;
	struct dd_buf info = DD_BUF_INIT;
	sqlite3_int64 id;
	int rc;

	dd_pkginfo_write(p, &info);
	rc = dd_db_run(s, "record a package",
		       "INSERT INTO packages(name, version, arch, "
		       "checksum, sha256, size, installed_size, build_time, origin, license, "
		       "description, url, maintainer, provider_priority, signer, bundle, pkginfo, "
		       "nfiles) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p->has_provider_priority ? "sssssIIIsssssisssI" : "sssssIIIsssss-sssI",
		       p->name, p->version, p->arch ? p->arch : "", ip->apk->checksum, ip->sha256,
		       (int64_t)ip->size, (int64_t)p->installed_size, (int64_t)p->build_time,
		       p->origin, p->license, p->description, p->url, p->maintainer,
		       (int)p->provider_priority, ip->signer, ip->bundle, info.ptr,
		       (int64_t)ip->apk->n_files);
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
	return dd_db_run(
		s, "record the entitlement manifest",
		"INSERT INTO entitlements("
		"version, organization, issued, expires, sha256, signer, bundle, imported) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		"Isttssst", (int64_t)e->version, e->organization, (int64_t)e->issued,
		(int64_t)e->expires, e->sha256, e->signer, e->bundle, (int64_t)dd_time_now());
}

int dd_index_insert_entitled(struct dd_store *s, int64_t version, const char *image,
			     const char *name, const char *pkgversion, bool base)
{
	return dd_db_run(s, "record an entitled package",
			 "INSERT INTO entitled_packages("
			 "version, image, name, pkgversion, base) VALUES (?, ?, ?, ?, ?)",
			 "Isssi", (int64_t)version, image, name, pkgversion, (int)base);
}

int dd_index_record_signature(struct dd_store *s, const char *digest, const char *sig_sha256)
{
	struct dd_buf key = DD_BUF_INIT;
	int rc;

	dd_buf_addf(&key, "signature:%s", digest);
	rc = dd_db_run(s, "record a bundle's signature",
		       "INSERT OR REPLACE INTO meta(key, "
		       "value) VALUES (?, ?)",
		       "ss", key.ptr, sig_sha256);
	dd_buf_release(&key);
	return rc;
}
