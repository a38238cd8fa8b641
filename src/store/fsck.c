#include "store/fsck.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/time.h"
#include "store/db.h"
#include "store/schema.h"

static void add(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(json_t *arr, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(arr, json_string(msg));
}

/* A query that fails is a problem of the index, not the end of the check. */
static void step_failed(struct dd_fsck *r, int rc)
{
	if (rc < 0)
		add(r->problems, "%s", dd_error_detail());
}

static void check_sql(struct dd_store *s, struct dd_fsck *r)
{
	sqlite3_stmt *st;
	int rc, version;

	if (dd_db_prepare(s, "PRAGMA integrity_check", &st) == 0) {
		while ((rc = dd_db_step(s, st, "check its integrity")) > 0) {
			const char *v = (const char *)sqlite3_column_text(st, 0);

			if (v && strcmp(v, "ok"))
				add(r->problems, "index: %s", v);
		}
		step_failed(r, rc);
		sqlite3_finalize(st);
	} else {
		step_failed(r, -1);
	}
	if (dd_db_prepare(s, "PRAGMA foreign_key_check", &st) == 0) {
		while ((rc = dd_db_step(s, st, "check its references")) > 0)
			add(r->problems, "index: a row of %s refers to a missing %s",
			    sqlite3_column_text(st, 0), sqlite3_column_text(st, 2));
		step_failed(r, rc);
		sqlite3_finalize(st);
	} else {
		step_failed(r, -1);
	}
	if (dd_schema_version(s, &version) || version < 2 ||
	    dd_db_prepare(s,
			  "SELECT p.name, p.version, p.nfiles, (SELECT count(*) FROM files f "
			  "WHERE f.pkg = p.id) FROM packages p WHERE p.nfiles IS NOT "
			  "(SELECT count(*) FROM files f WHERE f.pkg = p.id)",
			  &st))
		return;
	while ((rc = dd_db_step(s, st, "count the files of each package")) > 0)
		add(r->problems,
		    "index: package %s-%s had %lld files at import, the index now "
		    "lists %lld",
		    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
		    (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
	step_failed(r, rc);
	sqlite3_finalize(st);
}

/*
 * What a blob is to the mirror, for a problem report: the package (name,
 * version, arch) or bundle member it is, and the bundles that carry it,
 * any of which can restore it ('mirror import --repair BUNDLE').
 */
static void describe_blob(struct dd_store *s, const char *sha, struct dd_buf *out)
{
	sqlite3_stmt *st;
	const char *sep = "";

	dd_buf_reset(out);
	if (dd_db_prepare(s, "SELECT name, version, arch FROM packages WHERE sha256 = ?", &st) ==
	    0) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
		while (dd_db_step(s, st, "look up a blob's package") > 0) {
			const char *arch = (const char *)sqlite3_column_text(st, 2);

			dd_buf_addf(out, "%spackage %s-%s (%s)", sep, sqlite3_column_text(st, 0),
				    sqlite3_column_text(st, 1), arch && *arch ? arch : "noarch");
			sep = ", ";
		}
		sqlite3_finalize(st);
	}
	if (!out->len && dd_db_prepare(s,
				       "SELECT path FROM bundle_members WHERE sha256 = ? "
				       "LIMIT 1",
				       &st) == 0) {
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
		if (dd_db_step(s, st, "look up a blob's bundle member") > 0)
			dd_buf_addf(out, "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (dd_db_prepare(s,
			  "SELECT DISTINCT b.channel, b.sequence, b.digest FROM bundle_members m "
			  "JOIN bundles b ON b.digest = m.bundle WHERE m.sha256 = ? "
			  "ORDER BY b.channel, b.sequence",
			  &st) == 0) {
		sep = "; bundles that carry it, any of which 'drydock mirror import --repair "
		      "BUNDLE' restores it from: ";
		sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
		while (dd_db_step(s, st, "look up the bundles of a blob") > 0) {
			dd_buf_addf(out, "%schannel %s sequence %lld (%.16s…)", sep,
				    sqlite3_column_text(st, 0),
				    (long long)sqlite3_column_int64(st, 1),
				    sqlite3_column_text(st, 2));
			sep = ", ";
		}
		sqlite3_finalize(st);
	}
	if (!strchr(out->ptr ? out->ptr : "", ';'))
		dd_buf_adds(out, "; no imported bundle carries it");
	dd_error_clear(); /* a failed lookup only makes the description shorter */
}

static void check_blob(struct dd_store *s, struct dd_fsck *r, bool deep, const char *sha,
		       int64_t size, const char *kind, struct dd_buf *path)
{
	struct dd_buf what = DD_BUF_INIT;
	struct stat st;
	char have[65] = "";

	r->blobs++;
	if (stat(dd_store_blob_path(s, sha, path), &st) < 0) {
		describe_blob(s, sha, &what);
		add(r->problems, "%s blob %s is missing: %s", kind, sha, what.ptr);
		goto out;
	}
	r->bytes += st.st_size;
	if (st.st_size != size) {
		describe_blob(s, sha, &what);
		add(r->problems, "%s blob %s is %lld bytes, the index says %lld: %s", kind, sha,
		    (long long)st.st_size, (long long)size, what.ptr);
		goto out;
	}
	if (deep && (dd_file_sha256(path->ptr, have, NULL) || strcmp(have, sha))) {
		describe_blob(s, sha, &what);
		add(r->problems, "%s blob %s is damaged: its content hashes to %s: %s", kind, sha,
		    have[0] ? have : "(unreadable)", what.ptr);
	}
out:
	dd_buf_release(&what);
}

static bool is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Files in dir the index does not know: notes. */
static void check_dir(struct dd_store *s, struct dd_fsck *r, const char *rel, bool blobs)
{
	struct dd_buf path = DD_BUF_INIT;
	sqlite3_stmt *st = NULL;
	DIR *d = opendir(dd_store_path(s, rel, &path));
	struct dirent *de;
	int found;

	if (blobs && dd_db_prepare(s, "SELECT 1 FROM blobs WHERE sha256 = ?", &st))
		st = NULL;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!blobs) {
			add(r->notes,
			    "%s/%s: staging file of an interrupted import (the next import "
			    "or 'mirror gc' removes it)",
			    rel, de->d_name);
			continue;
		}
		if (!is_hex64(de->d_name)) {
			add(r->problems, "%s/%s: not a blob name", rel, de->d_name);
			continue;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, de->d_name, -1, SQLITE_TRANSIENT);
		found = st ? dd_db_step(s, st, "look up a blob") : 1;
		if (found < 0) {
			step_failed(r, found);
			break;
		}
		if (found)
			continue;
		if (r->interrupted)
			add(r->notes,
			    "blob %s is not referenced (left by an interrupted import; "
			    "'mirror gc' removes it)",
			    de->d_name);
		else
			add(r->problems,
			    "blob %s is named by no index row, and no interrupted "
			    "import explains it: the index may have lost rows; restore index.db "
			    "from a backup or run 'drydock mirror fsck --rebuild-index' ('mirror "
			    "gc' would delete it)",
			    de->d_name);
	}
	if (d)
		closedir(d);
	sqlite3_finalize(st);
	dd_buf_release(&path);
}

static bool bundle_in_index(struct dd_store *s, const char *digest)
{
	sqlite3_stmt *st;
	bool found = false;

	if (dd_db_prepare(s, "SELECT 1 FROM bundles WHERE digest = ?", &st))
		return false;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	found = dd_db_step(s, st, "look up a bundle") > 0;
	sqlite3_finalize(st);
	return found;
}

/* One import attempt of the audit log: its "started" record, its outcome. */
static void check_attempt(struct dd_store *s, struct dd_fsck *r, json_t *started, json_t *outcome)
{
	const char *digest = json_string_value(json_object_get(started, "digest"));
	const char *bundle = json_string_value(json_object_get(started, "bundle"));
	const char *when = json_string_value(json_object_get(started, "time"));
	const char *verdict = json_string_value(json_object_get(outcome, "verdict"));

	if (!outcome) {
		if (digest && bundle_in_index(s, digest))
			add(r->notes,
			    "audit: the import of %s started %s has no outcome: it was "
			    "interrupted after its commit; bundle %.16s… is in the index",
			    bundle, when, digest);
		else
			add(r->notes,
			    "audit: the import of %s started %s has no outcome: it was "
			    "interrupted before its commit; nothing of it is in the index (run it "
			    "again)",
			    bundle, when);
		r->interrupted++;
	} else if (verdict && !strcmp(verdict, "imported") && digest &&
		   !bundle_in_index(s, digest)) {
		add(r->problems,
		    "audit: bundle %s (%.16s…) was imported %s but is not in the "
		    "index: the index lost it; restore index.db from a backup or run 'drydock "
		    "mirror fsck --rebuild-index'",
		    bundle, digest, json_string_value(json_object_get(outcome, "time")));
	}
	if (verdict && strcmp(verdict, "imported") && strcmp(verdict, "already-imported"))
		r->interrupted++; /* a refusal after the blobs moved may leave some */
}

/*
 * The audit log against the index: every import attempt has a "started"
 * record and an outcome with the same attempt id (older logs have only
 * outcomes).  An attempt without an outcome was interrupted: a note.  A
 * bundle the log says was imported and the index does not have: the
 * index lost it.
 */
static void check_audit(struct dd_store *s, struct dd_fsck *r)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	struct dd_blob rest, line;
	json_t *open_ = json_object(), *j, *v;
	const char *k;
	void *tmp;

	if (access(dd_store_path(s, "audit.log", &path), F_OK) == 0 &&
	    dd_read_file(path.ptr, UINT64_MAX, &text))
		add(r->problems, "audit: %s", dd_error_detail());
	rest = dd_buf_blob(&text);
	while (rest.len) {
		const char *attempt, *verdict;

		dd_blob_split(&rest, '\n', &line);
		j = json_loadb(line.ptr, line.len, 0, NULL);
		attempt = json_string_value(json_object_get(j, "attempt"));
		verdict = json_string_value(json_object_get(j, "verdict"));
		if (!j || !verdict ||
		    strcmp(json_string_value(json_object_get(j, "action"))
				   ? json_string_value(json_object_get(j, "action"))
				   : "",
			   "import")) {
			json_decref(j);
			continue;
		}
		if (attempt && !strcmp(verdict, "started")) {
			json_object_set_new(open_, attempt, j);
			continue;
		}
		if (attempt && json_object_get(open_, attempt)) {
			check_attempt(s, r, json_object_get(open_, attempt), j);
			json_object_del(open_, attempt);
		} else {
			check_attempt(s, r, j, j);
		}
		json_decref(j);
	}
	json_object_foreach_safe(open_, tmp, k, v) check_attempt(s, r, v, NULL);
	json_decref(open_);
	dd_buf_release(&path);
	dd_buf_release(&text);
}

int dd_store_end_attempts(struct dd_store *s, int64_t *n)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	struct dd_blob rest, line;
	json_t *open_ = json_object(), *j, *v;
	const char *k;
	char now[32];
	void *tmp;
	int rc = 0;

	*n = 0;
	if (access(dd_store_path(s, "audit.log", &path), F_OK) == 0)
		rc = dd_read_file(path.ptr, UINT64_MAX, &text);
	rest = dd_buf_blob(&text);
	while (!rc && rest.len) {
		const char *attempt, *verdict;

		dd_blob_split(&rest, '\n', &line);
		j = json_loadb(line.ptr, line.len, 0, NULL);
		attempt = json_string_value(json_object_get(j, "attempt"));
		verdict = json_string_value(json_object_get(j, "verdict"));
		if (attempt && verdict && !strcmp(verdict, "started"))
			json_object_set(open_, attempt, j);
		else if (attempt)
			json_object_del(open_, attempt);
		json_decref(j);
	}
	dd_time_format(dd_time_now(), now);
	json_object_foreach_safe(open_, tmp, k, v)
	{
		json_t *rec = json_deep_copy(v);

		if (rc)
			break;
		json_object_set_new(rec, "time", json_string(now));
		json_object_set_new(rec, "verdict", json_string("interrupted"));
		json_object_set_new(rec, "reason",
				    json_string("the import was killed before "
						"it recorded its outcome"));
		rc = dd_store_audit(s, rec);
		json_decref(rec);
		(*n)++;
	}
	json_decref(open_);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

int dd_store_fsck(struct dd_store *s, bool deep, struct dd_fsck *r)
{
	struct dd_buf path = DD_BUF_INIT;
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof(*r));
	r->problems = json_array();
	r->notes = json_array();
	check_sql(s, r);
	rc = dd_db_prepare(s, "SELECT sha256, size, kind FROM blobs ORDER BY sha256", &st);
	if (rc) {
		dd_fsck_release(r);
		return rc;
	}
	while ((rc = dd_db_step(s, st, "list the blobs")) > 0) {
		const char *sha = (const char *)sqlite3_column_text(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 2);

		if (!sha || !kind)
			add(r->problems, "index: a blob row has no sha256 or kind");
		else
			check_blob(s, r, deep, sha, sqlite3_column_int64(st, 1), kind, &path);
	}
	step_failed(r, rc);
	sqlite3_finalize(st);
	check_audit(s, r);
	check_dir(s, r, "blobs/sha256", true);
	check_dir(s, r, "tmp", false);
	dd_buf_release(&path);
	return 0;
}

void dd_fsck_release(struct dd_fsck *r)
{
	json_decref(r->problems);
	json_decref(r->notes);
	r->problems = r->notes = NULL;
}

int dd_store_gc(struct dd_store *s, int64_t *files, int64_t *bytes)
{
	struct dd_buf dir = DD_BUF_INIT, path = DD_BUF_INIT;
	sqlite3_stmt *st;
	DIR *d;
	struct dirent *de;
	int rc = dd_db_prepare(s, "SELECT 1 FROM blobs WHERE sha256 = ?", &st);

	*files = *bytes = 0;
	if (rc)
		return rc;
	d = opendir(dd_store_path(s, "blobs/sha256", &dir));
	while (d && (de = readdir(d))) {
		struct stat sb;

		if (!is_hex64(de->d_name))
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, de->d_name, -1, SQLITE_TRANSIENT);
		rc = dd_db_step(s, st, "look up a blob before removing it");
		if (rc < 0)
			break; /* never remove a blob the index may still name */
		if (rc > 0) {
			rc = 0;
			continue;
		}
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", dir.ptr, de->d_name);
		if (stat(path.ptr, &sb) == 0 && unlink(path.ptr) == 0) {
			(*files)++;
			*bytes += sb.st_size;
		}
	}
	if (d)
		closedir(d);
	sqlite3_finalize(st);
	dd_buf_release(&dir);
	dd_buf_release(&path);
	return rc;
}

/* <64 hex>.json, <64 hex>.layer, or a temporary file beside one. */
static int cache_kind(const char *name, char key[65])
{
	if (strlen(name) < 64)
		return 0;
	memcpy(key, name, 64);
	key[64] = 0;
	if (!is_hex64(key))
		return 0;
	if (!strcmp(name + 64, ".json"))
		return 1;
	if (!strcmp(name + 64, ".layer"))
		return 2;
	return strstr(name + 64, ".tmp.") ? 3 : 0;
}

int dd_store_gc_layers(struct dd_store *s, int64_t max_age, int64_t *files, int64_t *bytes)
{
	struct dd_buf dir = DD_BUF_INIT, path = DD_BUF_INIT, json = DD_BUF_INIT;
	time_t now = time(NULL);
	DIR *d = opendir(dd_store_path(s, "cache/layers", &dir));
	struct dirent *de;

	*files = *bytes = 0;
	while (d && (de = readdir(d))) {
		struct stat sb, js;
		char key[65];
		int kind = cache_kind(de->d_name, key);
		bool drop;

		if (!kind)
			continue;
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", dir.ptr, de->d_name);
		dd_buf_reset(&json);
		dd_buf_addf(&json, "%s/%s.json", dir.ptr, key);
		if (stat(path.ptr, &sb))
			continue;
		/* an entry's age is its .json's: a build that uses it touches it */
		if (kind == 3)
			drop = true; /* left by a build killed while filling the cache */
		else if (stat(json.ptr, &js))
			drop = true; /* a layer whose description was never written */
		else
			drop = max_age <= 0 || now - js.st_mtime > max_age;
		if (drop && unlink(path.ptr) == 0) {
			(*files)++;
			*bytes += sb.st_size;
		}
	}
	if (d)
		closedir(d);
	dd_buf_release(&dir);
	dd_buf_release(&path);
	dd_buf_release(&json);
	return 0;
}
