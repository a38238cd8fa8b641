#include "store/trustdb.h"

#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "core/time.h"
#include "store/db.h"

int dd_trustdb_load(struct dd_store *s, struct dd_trust *t)
{
	struct dd_buf path = DD_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = dd_pgp_open(dd_store_path(s, "gnupg", &path), &t->pgp);
	if (!rc)
		rc = dd_db_prepare(s, "SELECT role, id FROM trusted_keys ORDER BY role, id", &st);
	while (!rc && (rc = dd_db_step(s, st, "read the trusted keys")) > 0) {
		const char *role = (const char *)sqlite3_column_text(st, 0);
		const char *id = (const char *)sqlite3_column_text(st, 1);
		enum dd_role r;

		rc = 0;
		if (!role || !id) {
			rc = dd_db_damaged(s, "a trusted key has no role or id");
			break;
		}
		if (dd_role_parse(role, &r) || !strncmp(id, "SHA256:", 7))
			continue; /* PEM provenance keys: dd_trustdb_provenance_key() */
		if (r != DD_ROLE_APK) {
			dd_trust_add_fpr(t, r, id);
			continue;
		}
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/keys/apk/%s", s->root, id);
		rc = dd_keyring_add_file(&t->apk, path.ptr);
	}
	sqlite3_finalize(st);
	dd_buf_release(&path);
	if (rc)
		dd_trustdb_unload(t);
	return rc;
}

void dd_trustdb_unload(struct dd_trust *t)
{
	dd_trust_release(t);
	dd_pgp_close(t->pgp);
	t->pgp = NULL;
}

static int insert_key(struct dd_store *s, enum dd_role role, const char *id, const char *label)
{
	char now[32];
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "INSERT OR REPLACE INTO trusted_keys(role, id, label, added) "
			       "VALUES (?, ?, ?, ?)",
			       &st);

	if (rc)
		return rc;
	dd_time_format(dd_time_now(), now);
	sqlite3_bind_text(st, 1, dd_role_str(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, "record the key");
	sqlite3_finalize(st);
	return rc;
}

static int add_apk_key(struct dd_store *s, const char *keyfile, struct dd_buf *id)
{
	struct dd_keyring kr = { NULL, 0 };
	struct dd_buf data = DD_BUF_INIT, dst = DD_BUF_INIT;
	struct dd_atomic f;
	int rc = dd_keyring_add_file(&kr, keyfile);

	if (rc)
		goto out;
	dd_buf_adds(id, kr.keys[0].name);
	dd_buf_addf(&dst, "%s/keys/apk/%s", s->root, id->ptr);
	rc = dd_read_file(keyfile, 1 << 20, &data);
	if (!rc)
		rc = dd_atomic_open(&f, dst.ptr);
	if (!rc) {
		rc = dd_write_fd(&f.fd, data.ptr, data.len);
		if (!rc)
			rc = dd_atomic_commit(&f);
		dd_atomic_abort(&f);
	}
out:
	dd_keyring_release(&kr);
	dd_buf_release(&data);
	dd_buf_release(&dst);
	return rc;
}

static void pem_path(struct dd_store *s, const char *fpr, struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s/keys/provenance/%s.pem", s->root, fpr + 7);
}

/* A PEM public key trusted for provenance, kept as keys/provenance/<hex>.pem. */
static int add_pem_key(struct dd_store *s, const char *keyfile, struct dd_buf *id)
{
	struct dd_sigkey k;
	struct dd_buf dst = DD_BUF_INIT, dir = DD_BUF_INIT;
	int rc = dd_sigkey_open_public(keyfile, &k);

	if (rc)
		return rc;
	dd_buf_adds(id, k.fingerprint);
	pem_path(s, k.fingerprint, &dst);
	dd_buf_addf(&dir, "%s/keys/provenance", s->root);
	rc = dd_mkdirs(dir.ptr, 0755);
	if (!rc)
		rc = dd_write_file(dst.ptr, k.public_key.ptr, k.public_key.len);
	dd_sigkey_close(&k);
	dd_buf_release(&dst);
	dd_buf_release(&dir);
	return rc;
}

static bool is_pem_public(const char *keyfile)
{
	struct dd_buf data = DD_BUF_INIT;
	bool pem = !dd_read_file(keyfile, 1 << 20, &data) &&
		   memmem(data.ptr, data.len, "-----BEGIN PUBLIC KEY-----", 26);

	dd_buf_release(&data);
	return pem;
}

int dd_trustdb_provenance_key(struct dd_store *s, const char *fpr, struct dd_sigkey *k)
{
	struct dd_buf path = DD_BUF_INIT;
	sqlite3_stmt *st;
	bool trusted = false;
	int rc = dd_db_prepare(s,
			       "SELECT 1 FROM trusted_keys WHERE role = 'provenance' AND "
			       "id = ?",
			       &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, fpr, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, "look up a provenance key");
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	trusted = rc > 0;
	if (!trusted || strncmp(fpr, "SHA256:", 7) || strlen(fpr) != 71 || strchr(fpr, '/'))
		return dd_error(DD_E_SIG_UNKNOWN,
				"key %s is not trusted for provenance by the "
				"mirror (drydock trust add --role provenance KEY)",
				fpr);
	pem_path(s, fpr, &path);
	rc = dd_sigkey_open_public(path.ptr, k);
	if (!rc && strcmp(k->fingerprint, fpr)) {
		dd_sigkey_close(k);
		rc = dd_error(DD_E_CRYPTO, "%s does not hold key %s (run drydock trust add again)",
			      path.ptr, fpr);
	}
	dd_buf_release(&path);
	return rc;
}

int dd_trustdb_add(struct dd_store *s, enum dd_role role, const char *keyfile, struct dd_buf *id,
		   struct dd_buf *label)
{
	struct dd_buf home = DD_BUF_INIT;
	struct dd_pgp *pgp = NULL;
	char fpr[41];
	int rc;

	dd_buf_reset(id);
	dd_buf_reset(label);
	if (role == DD_ROLE_APK) {
		rc = add_apk_key(s, keyfile, id);
	} else if (role == DD_ROLE_PROVENANCE && is_pem_public(keyfile)) {
		rc = add_pem_key(s, keyfile, id);
	} else {
		rc = dd_pgp_open(dd_store_path(s, "gnupg", &home), &pgp);
		if (!rc)
			rc = dd_pgp_import(pgp, keyfile, fpr, label);
		if (!rc)
			dd_buf_adds(id, fpr);
		dd_pgp_close(pgp);
	}
	if (!rc)
		rc = insert_key(s, role, id->ptr, label->ptr ? label->ptr : "");
	dd_buf_release(&home);
	return rc;
}

static int count_rows(struct dd_store *s, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, sql, &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = dd_db_step(s, st, "count the trusted keys");
	if (rc > 0)
		rc = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/* Delete the row of key id in role; what names the purpose for errors. */
static int delete_key(struct dd_store *s, enum dd_role role, const char *id, const char *what)
{
	return dd_db_run(s, what,
			 "DELETE FROM trusted_keys WHERE id = ? COLLATE NOCASE AND "
			 "role = ?",
			 "ss", id, dd_role_str(role));
}

int dd_trustdb_remove(struct dd_store *s, enum dd_role role, const char *id)
{
	struct dd_buf path = DD_BUF_INIT;
	struct dd_pgp *pgp = NULL;
	int rc;

	rc = count_rows(s,
			"SELECT count(*) FROM trusted_keys WHERE id = ? COLLATE NOCASE "
			"AND role = ?",
			id, dd_role_str(role));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return dd_error(DD_E_NOTFOUND,
				"no %s key '%s' is trusted (see 'drydock trust "
				"list')",
				dd_role_str(role), id);
	if ((rc = delete_key(s, role, id, "remove the key")))
		goto out;
	if (role == DD_ROLE_APK) {
		dd_buf_addf(&path, "%s/keys/apk/%s", s->root, id);
		unlink(path.ptr);
	} else if (!strncmp(id, "SHA256:", 7)) {
		if (!strchr(id, '/')) {
			pem_path(s, id, &path);
			unlink(path.ptr);
		}
	} else if (count_rows(s, "SELECT count(*) FROM trusted_keys WHERE id = ? COLLATE NOCASE",
			      id, NULL) == 0) {
		/* no role left: the key leaves the mirror's keyring too */
		rc = dd_pgp_open(dd_store_path(s, "gnupg", &path), &pgp);
		if (!rc)
			rc = dd_pgp_delete(pgp, id);
		dd_pgp_close(pgp);
	}
out:
	dd_buf_release(&path);
	return rc;
}

int dd_trustdb_restore(struct dd_store *s, enum dd_role role, const char *id, bool trusted)
{
	if (trusted)
		return insert_key(s, role, id, "");
	return delete_key(s, role, id, "forget the key");
}
