#include "store/identity.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "store/db.h"
#include "store/store.h"

#define WAY_OUT \
	"restore index.db (with its index.db-wal, if any) from a backup of this " \
	"mirror, or rebuild it from the blobs and the audit log with 'drydock mirror " \
	"fsck --rebuild-index --mirror %s'"

/* The first line of ROOT/name in out: 1, 0 when the file does not exist. */
static int read_line(struct dd_store *s, const char *name, char *out, size_t size)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	int rc;

	dd_store_path(s, name, &path);
	if (access(path.ptr, F_OK) < 0 && errno == ENOENT)
		rc = 0;
	else if (!(rc = dd_read_file(path.ptr, 4096, &text))) {
		snprintf(out, size, "%.*s", (int)strcspn(text.ptr ? text.ptr : "", "\n"),
			 text.ptr ? text.ptr : "");
		rc = 1;
	}
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

static int write_line(struct dd_store *s, const char *name, const char *value)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	int rc;

	dd_buf_addf(&text, "%s\n", value);
	rc = dd_write_file(dd_store_path(s, name, &path), text.ptr, text.len);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

int dd_identity_precheck(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	char id[80];
	struct stat st;
	int rc = read_line(s, "mirror-id", id, sizeof(id));

	if (rc <= 0)
		return rc;
	rc = 0;
	/* errno only when stat failed: a stale ENOENT must not call an empty
	 * index missing */
	if (stat(dd_store_path(s, "index.db", &path), &st) < 0)
		rc = dd_error(
			DD_E_FORMAT,
			"mirror %s (id %s): its index %s is %s: refusing to "
			"start an empty one, which would lose what the mirror holds; " WAY_OUT,
			s->root, id, path.ptr, errno == ENOENT ? "missing" : strerror(errno),
			s->root);
	else if (st.st_size == 0)
		rc = dd_error(
			DD_E_FORMAT,
			"mirror %s (id %s): its index %s is empty: refusing to "
			"start an empty one, which would lose what the mirror holds; " WAY_OUT,
			s->root, id, path.ptr, s->root);
	dd_buf_release(&path);
	return rc;
}

/* meta 'mirror-id' and 'commits' of the index. */
static int index_identity(struct dd_store *s, char id[80], int64_t *commits)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "SELECT key, value FROM meta WHERE key IN ('mirror-id', "
			       "'commits')",
			       &st),
	    r;

	id[0] = 0;
	*commits = 0;
	while (!rc && (r = dd_db_step(s, st, "read the mirror's identity")) > 0) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (!k || !v)
			continue;
		if (!strcmp(k, "mirror-id"))
			snprintf(id, 80, "%s", v);
		else
			*commits = strtoll(v, NULL, 10);
	}
	if (!rc && r < 0)
		rc = r;
	sqlite3_finalize(st);
	return rc;
}

/* Files in blobs/sha256 and rows in the index's blobs table. */
static int64_t count_blob_files(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	DIR *d = opendir(dd_store_path(s, "blobs/sha256", &path));
	struct dirent *de;
	int64_t n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	dd_buf_release(&path);
	return n;
}

static int64_t count_blob_rows(struct dd_store *s)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (dd_db_prepare(s, "SELECT count(*) FROM blobs", &st))
		return -1;
	if (dd_db_step(s, st, "count the blobs") > 0)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A writer gives a mirror without an identity one (a new mirror, or one
 * from before identities), unless its index names none of its blobs. */
static int adopt(struct dd_store *s, int64_t commits, bool check_blobs)
{
	unsigned char r[16];
	char id[33], n[32];
	int64_t files = count_blob_files(s), rows = count_blob_rows(s);
	sqlite3_stmt *st;
	int rc;

	if (check_blobs && rows == 0 && files > 0)
		return dd_error(DD_E_FORMAT,
				"mirror %s: its index names none of the %" PRId64
				" blobs in blobs/sha256: the index was lost or replaced; " WAY_OUT,
				s->root, files, s->root);
	if (RAND_bytes(r, sizeof(r)) != 1)
		return dd_error(DD_E_CRYPTO, "no random bytes for the mirror's identity");
	dd_hex(r, sizeof(r), id);
	rc = dd_db_prepare(s, "INSERT OR REPLACE INTO meta(key, value) VALUES ('mirror-id', ?)",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (!rc)
		rc = dd_db_step(s, st, "record the mirror's identity");
	sqlite3_finalize(st);
	snprintf(n, sizeof(n), "%" PRId64, commits);
	if (!rc)
		rc = write_line(s, "index-commits", n);
	if (!rc)
		rc = write_line(s, "mirror-id", id);
	if (!rc)
		snprintf(s->id, sizeof(s->id), "%s", id);
	return rc;
}

int dd_identity_check(struct dd_store *s)
{
	char fid[80] = "", iid[80], fcount[32] = "";
	int64_t icommits, fcommits;
	int has_file = read_line(s, "mirror-id", fid, sizeof(fid)), rc;

	if (has_file < 0)
		return has_file;
	rc = index_identity(s, iid, &icommits);
	if (rc)
		return rc;
	s->commits = icommits;
	if (!has_file && !iid[0])
		return s->writable ? adopt(s, icommits, true) : 0;
	if (!iid[0])
		return dd_error(DD_E_FORMAT,
				"mirror %s (id %s): its index has no identity: it was "
				"lost and started again, or replaced; " WAY_OUT,
				s->root, fid, s->root);
	if (has_file && strcmp(fid, iid))
		return dd_error(DD_E_FORMAT,
				"mirror %s (id %s): its index belongs to another "
				"mirror (id %s); " WAY_OUT,
				s->root, fid, iid, s->root);
	snprintf(s->id, sizeof(s->id), "%s", iid);
	if (!has_file)
		return s->writable ? write_line(s, "mirror-id", iid) : 0;
	if (read_line(s, "index-commits", fcount, sizeof(fcount)) < 0)
		return -1;
	fcommits = strtoll(fcount, NULL, 10);
	if (fcommits > icommits)
		return dd_error(DD_E_FORMAT,
				"mirror %s: its index has lost commits: it holds "
				"%" PRId64 " of the mirror's %" PRId64
				" (index.db-wal deleted after "
				"a crash, or an older index.db put back); " WAY_OUT,
				s->root, icommits, fcommits, s->root);
	return 0;
}

int dd_identity_count(struct dd_store *s)
{
	sqlite3_stmt *st;
	int rc;

	if (!s->id[0])
		return 0; /* not checked yet (the schema), or being rebuilt */
	rc = dd_db_exec(s, "INSERT INTO meta(key, value) VALUES ('commits', '1') "
			   "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1");
	if (rc)
		return rc;
	rc = dd_db_prepare(s, "SELECT value FROM meta WHERE key = 'commits'", &st);
	if (rc)
		return rc;
	rc = dd_db_step(s, st, "count the commit");
	if (rc > 0)
		s->commits = sqlite3_column_int64(st, 0);
	rc = rc > 0 ? 0 : rc < 0 ? rc : dd_db_damaged(s, "the commit count is missing");
	sqlite3_finalize(st);
	return rc;
}

void dd_identity_committed(struct dd_store *s)
{
	char n[32];

	if (!s->id[0])
		return;
	snprintf(n, sizeof(n), "%" PRId64, s->commits);
	/* best effort: a count below the index's is taken as a crash here */
	if (write_line(s, "index-commits", n))
		dd_error_clear();
}

int dd_identity_restore(struct dd_store *s, const char *id)
{
	char fcount[32] = "";
	sqlite3_stmt *st;
	int rc;

	if (!id[0])
		return adopt(s, 0, false);
	if (read_line(s, "index-commits", fcount, sizeof(fcount)) < 0)
		return -1;
	rc = dd_db_prepare(s,
			   "INSERT OR REPLACE INTO meta(key, value) VALUES ('mirror-id', ?), "
			   "('commits', ?)",
			   &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, strtoll(fcount, NULL, 10));
	if (!rc)
		rc = dd_db_step(s, st, "record the mirror's identity");
	sqlite3_finalize(st);
	if (!rc) {
		snprintf(s->id, sizeof(s->id), "%s", id);
		s->commits = strtoll(fcount, NULL, 10);
		s->changes_seen = sqlite3_total_changes(s->db);
	}
	return rc;
}

const char *dd_identity_id(const struct dd_store *s)
{
	return s->id;
}
