#include "core/time.h"
#include "store/db.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "store/identity.h"
#include "store/schema.h"

/* How dd_store_default_root chose the mirror, for dd_store_check_exists. */
static struct {
	const char *root;
	enum { CHOSEN_BY_OPTION, CHOSEN_BY_ENV, CHOSEN_BY_CONFIG, CHOSEN_BY_DEFAULT } by;
} chosen;

/* The mirror a configuration file names (dd_store_set_configured_root). */
static struct {
	const char *root, *where;
} configured;

void dd_store_set_configured_root(const char *root, const char *where)
{
	configured.root = root;
	configured.where = where;
}

const char *dd_store_default_root(const char *option)
{
	const char *env = getenv("DRYDOCK_MIRROR");

	if (option && option[0]) {
		chosen.root = option;
		chosen.by = CHOSEN_BY_OPTION;
	} else if (env && env[0]) {
		chosen.root = env;
		chosen.by = CHOSEN_BY_ENV;
	} else if (configured.root && configured.root[0]) {
		chosen.root = configured.root;
		chosen.by = CHOSEN_BY_CONFIG;
	} else {
		chosen.root = "./mirror";
		chosen.by = CHOSEN_BY_DEFAULT;
	}
	return chosen.root;
}

/* " (how root was chosen)", or nothing when dd_store_default_root did not choose it. */
static void describe_choice(const char *root, struct dd_buf *out)
{
	if (!chosen.root || strcmp(chosen.root, root))
		return;
	switch (chosen.by) {
	case CHOSEN_BY_OPTION:
		dd_buf_adds(out, " (given by --mirror)");
		break;
	case CHOSEN_BY_ENV:
		dd_buf_addf(out, " (set by DRYDOCK_MIRROR=%s)", root);
		break;
	case CHOSEN_BY_CONFIG:
		dd_buf_addf(out, " (set in %s)", configured.where);
		break;
	case CHOSEN_BY_DEFAULT:
		dd_buf_adds(out, " (the default, ./mirror; choose another with --mirror DIR or "
				 "DRYDOCK_MIRROR)");
		break;
	}
}

/* What only a mirror holds: its index, its identity or its blobs. */
static bool holds_mirror(const char *root)
{
	static const char *const marks[] = { "index.db", "mirror-id", "blobs/sha256" };
	struct dd_buf path = DD_BUF_INIT;
	struct stat st;
	bool found = false;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]) && !found; i++) {
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", root, marks[i]);
		found = stat(path.ptr, &st) == 0;
	}
	dd_buf_release(&path);
	return found;
}

/* path as a shell word: quoted when it holds anything but plain characters. */
static void shell_word(const char *path, struct dd_buf *out)
{
	if (path[strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789/._-+,:@%=")] == 0) {
		dd_buf_adds(out, path);
		return;
	}
	dd_buf_adds(out, "\"");
	for (; *path; path++) {
		if (strchr("\"$`\\", *path))
			dd_buf_add(out, "\\", 1);
		dd_buf_add(out, path, 1);
	}
	dd_buf_adds(out, "\"");
}

int dd_store_check_exists(const char *root)
{
	struct dd_buf abs = DD_BUF_INIT, how = DD_BUF_INIT, word = DD_BUF_INIT;
	struct stat st;
	bool there;
	int rc;

	if (holds_mirror(root))
		return 0;
	dd_path_absolute(root, &abs);
	describe_choice(root, &how);
	shell_word(abs.ptr, &word);
	there = stat(root, &st) == 0;
	if (there && !S_ISDIR(st.st_mode))
		rc = dd_error(DD_E_NO_MIRROR,
			      "no mirror at %s%s: it is a file, not a directory; "
			      "give the mirror's directory",
			      abs.ptr, how.ptr ? how.ptr : "");
	else
		rc = dd_error(DD_E_NO_MIRROR,
			      "no mirror at %s%s%s: create one with 'drydock "
			      "mirror init %s'",
			      abs.ptr, how.ptr ? how.ptr : "",
			      there ? ", a directory that holds no index.db, mirror-id or blobs/"
				    : "",
			      word.ptr);
	dd_buf_release(&abs);
	dd_buf_release(&how);
	dd_buf_release(&word);
	return rc;
}

const char *dd_store_root(const struct dd_store *s)
{
	return s->root;
}

const char *dd_store_path(const struct dd_store *s, const char *rel, struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s/%s", s->root, rel);
	return out->ptr;
}

const char *dd_store_blob_path(const struct dd_store *s, const char *hex, struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s/blobs/sha256/%s", s->root, hex);
	return out->ptr;
}

/*
 * A POSIX record lock on ROOT/lock: the kernel drops it when the process
 * dies (kill -9 included) and F_GETLK names the holder, so the file
 * itself never changes.  A writer fails at once when another writer
 * holds it, and waits while readers (builds, batches) do: they may be
 * reading blobs and cached layers that gc or an import would replace.
 */
static int take_lock(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, rc = 0;

	fd = open(dd_store_path(s, "lock", &path), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = dd_error_errno("%s", path.ptr);
		goto out;
	}
	while (fcntl(fd, F_SETLK, &fl) < 0) {
		struct timespec pause = { 0, 100 * 1000 * 1000 };

		fcntl(fd, F_GETLK, &fl);
		if (fl.l_type == F_WRLCK) {
			close(fd);
			rc = dd_error(DD_E_IO,
				      "mirror %s is busy: another drydock (pid %ld) is "
				      "changing it; try again when it has finished",
				      s->root, (long)fl.l_pid);
			goto out;
		}
		nanosleep(&pause, NULL);
		fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	}
	s->lock_fd = fd;
out:
	dd_buf_release(&path);
	return rc;
}

/*
 * A reader's shared lock, held until dd_store_close: an open-file-
 * description lock (F_OFD_SETLKW), so that a process opening the mirror
 * twice keeps it until its last close, and children forked by a batch
 * share their supervisor's.  It waits while a writer holds the mirror.
 * A mirror whose lock file cannot be opened is read without one (a
 * read-only copy nobody can change).
 */
static void take_shared_lock(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int fd;

	dd_store_path(s, "lock", &path);
	fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	dd_buf_release(&path);
	if (fd < 0)
		return;
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0 && errno == EINTR)
		;
	s->lock_fd = fd;
}

/* Only a writer holding the lock may do this: nothing else stages. */
static void clear_tmp(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT, f = DD_BUF_INIT;
	DIR *d = opendir(dd_store_path(s, "tmp", &path));
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		dd_buf_reset(&f);
		dd_buf_addf(&f, "%s/%s", path.ptr, de->d_name);
		unlink(f.ptr);
	}
	if (d)
		closedir(d);
	dd_buf_release(&path);
	dd_buf_release(&f);
}

static int create_layout(struct dd_store *s)
{
	static const char *dirs[] = { "", "blobs/sha256", "tmp", "keys/apk" };
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !rc; i++)
		rc = dd_mkdirs(dd_store_path(s, dirs[i], &path), 0755);
	if (!rc)
		rc = dd_mkdirs(dd_store_path(s, "gnupg", &path), 0700);
	dd_buf_release(&path);
	return rc;
}

static int open_rw_db(struct dd_store *s, const char *path)
{
	int rc;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		return dd_db_error(s, "open the index");
	sqlite3_busy_timeout(s->db, 10000);
	rc = dd_db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			   "PRAGMA foreign_keys=ON;");
	if (!rc)
		rc = dd_schema_apply(s);
	return rc;
}

/* "file:" URI of path with immutable=1: '%', '?' and '#' escaped. */
static void immutable_uri(const char *path, struct dd_buf *out)
{
	dd_buf_adds(out, "file:");
	for (const char *p = path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			dd_buf_addf(out, "%%%02X", (unsigned char)*p);
		else
			dd_buf_add(out, p, 1);
	}
	dd_buf_adds(out, "?immutable=1");
}

/* Read the schema once, waiting (as every later statement does) while
 * another connection holds the index for a moment: a reader that closes
 * last folds the WAL into index.db, and a reader opening then must wait,
 * not fail. */
static int probe(sqlite3 *db)
{
	sqlite3_busy_timeout(db, 10000);
	return sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
}

/*
 * The index and its -wal copied into a private directory and opened
 * there, so that SQLite can rebuild the -shm it needs to read the WAL's
 * commits.  Removed by dd_store_close.
 */
static int open_private_copy(struct dd_store *s, const char *path, const char *wal)
{
	struct dd_buf dir = DD_BUF_INIT, copy = DD_BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	int rc;

	dd_buf_addf(&dir, "%s/drydock-index.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir.ptr)) {
		rc = dd_error_errno("mirror index %s: its commits in %s need a writable copy, "
				    "and %s cannot be created",
				    path, wal, dir.ptr);
		goto out;
	}
	s->private_dir = dd_xstrdup(dir.ptr);
	dd_buf_addf(&copy, "%s/index.db-wal", dir.ptr);
	rc = dd_copy_file(wal, copy.ptr);
	copy.ptr[copy.len - 4] = 0;
	if (!rc)
		rc = dd_copy_file(path, copy.ptr);
	if (rc) {
		rc = dd_error_prefix(rc, "mirror index %s: copying it with its WAL to read it",
				     path);
		goto out;
	}
	if (sqlite3_open_v2(copy.ptr, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    probe(s->db) != SQLITE_OK)
		rc = dd_db_error(s, "open a copy of the index");
out:
	dd_buf_release(&dir);
	dd_buf_release(&copy);
	return rc;
}

/* Whether this process may write index.db and create files beside it. */
static bool can_write(const struct dd_store *s, const char *path)
{
	return access(path, W_OK) == 0 && access(s->root, W_OK) == 0;
}

/*
 * A reader never changes the index: no schema, no journal mode, no
 * transaction.  On a mirror it may write, it opens the index as any
 * SQLite client does, so that the last connection to close folds the
 * WAL into index.db and removes -wal and -shm, as a writer does.
 * Otherwise it opens the index read-only, so it never writes it,
 * never checkpoints the WAL and never changes the schema: auditors and
 * batch shards read copies they cannot (or must not) write.  SQLite
 * reads a read-only WAL database when its -shm file exists or can be
 * created (sqlite.org/wal.html, "Read-Only Databases").  On a read-only
 * mount, or in a directory the reader cannot write, neither holds once
 * the last writer has closed cleanly, removing -wal and -shm: then
 * everything is in index.db and nothing can change it, which is what
 * immutable=1 tells SQLite (no -shm, no locks).  A writer killed after
 * a commit leaves a -wal: with its -shm the plain read-only open reads
 * it; without, a private copy of the two files is read instead.
 */
static int open_reader_db(struct dd_store *s, const char *path)
{
	struct dd_buf wal = DD_BUF_INIT, uri = DD_BUF_INIT;
	struct stat st;
	int rc = 0, code;

	if (sqlite3_open_v2(path, &s->db,
			    can_write(s, path) ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY,
			    NULL) == SQLITE_OK &&
	    probe(s->db) == SQLITE_OK)
		goto out;
	code = sqlite3_errcode(s->db) & 0xff;
	if (code != SQLITE_CANTOPEN && code != SQLITE_READONLY) {
		rc = dd_db_error(s, "open the index read-only");
		goto out;
	}
	sqlite3_close(s->db);
	s->db = NULL;
	dd_buf_addf(&wal, "%s-wal", path);
	if (stat(wal.ptr, &st) == 0 && st.st_size > 0) {
		rc = open_private_copy(s, path, wal.ptr);
		goto out;
	}
	immutable_uri(path, &uri);
	if (sqlite3_open_v2(uri.ptr, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) !=
		    SQLITE_OK ||
	    probe(s->db) != SQLITE_OK)
		rc = dd_db_error(s, "open the index read-only");
out:
	if (!rc) {
		sqlite3_busy_timeout(s->db, 10000);
		rc = dd_db_exec(s, "PRAGMA foreign_keys=ON;");
	}
	dd_buf_release(&wal);
	dd_buf_release(&uri);
	return rc;
}

static int open_db(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	int rc;

	dd_store_path(s, "index.db", &path);
	rc = s->writable ? open_rw_db(s, path.ptr) : open_reader_db(s, path.ptr);
	dd_buf_release(&path);
	return rc;
}

int dd_store_open(const char *root, int flags, struct dd_store **out)
{
	struct dd_store *s = dd_xcalloc(1, sizeof(*s));
	struct dd_buf path = DD_BUF_INIT;
	struct stat st;
	int rc = 0;

	s->root = dd_xstrdup(root);
	s->lock_fd = -1;
	s->writable = flags & (DD_STORE_WRITE | DD_STORE_CREATE);
	if (!(flags & DD_STORE_CREATE) && (rc = dd_store_check_exists(root))) {
		/* only 'drydock mirror init' makes a mirror */
	} else if (s->writable) {
		rc = create_layout(s);
		if (!rc)
			rc = take_lock(s);
		if (!rc)
			clear_tmp(s);
	} else if (!(flags & DD_STORE_ANY_INDEX) && (rc = dd_identity_precheck(s))) {
		/* an index lost from a mirror with an identity: say so */
	} else if (stat(dd_store_path(s, "index.db", &path), &st) < 0) {
		rc = dd_error(DD_E_NOTFOUND,
			      "mirror %s: its index %s is missing; rebuild it from "
			      "the blobs and the audit log with 'drydock mirror fsck "
			      "--rebuild-index --mirror %s'",
			      root, path.ptr, root);
	} else {
		take_shared_lock(s);
	}
	if (!rc && !(flags & DD_STORE_ANY_INDEX))
		rc = dd_identity_precheck(s);
	if (!rc)
		rc = open_db(s);
	if (!rc && !(flags & DD_STORE_ANY_INDEX))
		rc = dd_identity_check(s);
	if (!rc && s->db)
		s->changes_seen = sqlite3_total_changes(s->db);
	dd_buf_release(&path);
	if (rc) {
		dd_store_close(s);
		return rc;
	}
	if (dd_verbose) {
		describe_choice(root, &path);
		dd_note("mirror %s%s, opened to %s", root, path.ptr ? path.ptr : "",
			s->writable ? "write" : "read");
		dd_buf_release(&path);
	}
	*out = s;
	return 0;
}

int dd_store_init(const char *root, bool *made, struct dd_store **out)
{
	struct dd_buf abs = DD_BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	*made = false;
	if (holds_mirror(root))
		return dd_store_open(root, 0, out);
	dd_path_absolute(root, &abs);
	if (stat(root, &st) == 0 && !S_ISDIR(st.st_mode)) {
		rc = dd_error(DD_E_USAGE, "%s is a file: a mirror needs a new or empty directory",
			      abs.ptr);
	} else if ((d = opendir(root))) {
		/* hidden files and a README are a placeholder (a checkout's mirror/), not
		 * "other files" */
		while ((de = readdir(d)) &&
		       (de->d_name[0] == '.' || !strcmp(de->d_name, "README") ||
			!strncmp(de->d_name, "README.", 7)))
			;
		if (de)
			rc = dd_error(DD_E_USAGE,
				      "%s is not empty (it holds '%s', and no mirror): "
				      "refusing to make a mirror among other files; give a new or "
				      "empty directory",
				      abs.ptr, de->d_name);
		closedir(d);
	}
	dd_buf_release(&abs);
	if (rc)
		return rc;
	*made = true;
	return dd_store_open(root, DD_STORE_CREATE, out);
}

int dd_store_reset_index(struct dd_store *s, struct dd_buf *aside)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	struct dd_buf from = DD_BUF_INIT, to = DD_BUF_INIT, path = DD_BUF_INIT;
	char stamp[32], id[33] = "";
	int rc = 0;

	if (!s->writable)
		return dd_error(DD_E_INTERNAL, "resetting an index opened for reading");
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
	dd_time_format(dd_time_now(), stamp);
	dd_buf_reset(aside);
	dd_buf_addf(aside, "%s/index.db.lost-%s", s->root, stamp);
	for (size_t i = 0; i < 3 && !rc; i++) {
		dd_buf_reset(&from);
		dd_buf_addf(&from, "%s/index.db%s", s->root, ext[i]);
		dd_buf_reset(&to);
		dd_buf_addf(&to, "%s%s", aside->ptr, ext[i]);
		if (rename(from.ptr, to.ptr) < 0 && errno != ENOENT)
			rc = dd_error_errno("cannot move %s to %s", from.ptr, to.ptr);
	}
	dd_fsync_dir(s->root);
	if (!rc)
		rc = open_rw_db(s, dd_store_path(s, "index.db", &path));
	/* the rebuilt index keeps the mirror's identity, and counts on from
	 * the mirror's count so that it is not taken for an older index */
	if (!rc && !dd_read_file(dd_store_path(s, "mirror-id", &path), 64, &from) && from.len >= 32)
		memcpy(id, from.ptr, 32);
	if (!rc)
		rc = dd_identity_restore(s, id);
	dd_buf_release(&from);
	dd_buf_release(&to);
	dd_buf_release(&path);
	return rc;
}

void dd_store_close(struct dd_store *s)
{
	if (!s)
		return;
	if (s->db && s->writable && sqlite3_total_changes(s->db) != s->changes_seen &&
	    dd_db_begin(s) == 0)
		dd_db_commit(s); /* count what autocommitted statements changed */
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->private_dir)
		dd_remove_tree(s->private_dir);
	free(s->private_dir);
	free(s->root);
	free(s);
}

int dd_staged_begin(struct dd_store *s, struct dd_staged *f)
{
	struct dd_buf dir = DD_BUF_INIT;
	int rc = dd_staged_begin_in(dd_store_path(s, "tmp", &dir), f);

	dd_buf_release(&dir);
	return rc;
}

int dd_staged_begin_in(const char *dir, struct dd_staged *f)
{
	struct dd_buf path = DD_BUF_INIT;

	memset(f, 0, sizeof(*f));
	dd_buf_addf(&path, "%s/stage-XXXXXX", dir);
	f->fd = mkstemp(path.ptr);
	if (f->fd < 0) {
		int rc = dd_error_errno("cannot create a file in %s", dir);

		dd_buf_release(&path);
		return rc;
	}
	fchmod(f->fd, 0644);
	f->path = dd_buf_detach(&path, NULL);
	f->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(f->md, EVP_sha256(), NULL);
	return 0;
}

int dd_staged_write(struct dd_staged *f, const void *data, size_t len)
{
	EVP_DigestUpdate(f->md, data, len);
	f->size += len;
	return dd_write_all(f->fd, data, len) ? dd_error_errno("%s", f->path) : 0;
}

int dd_staged_finish(struct dd_staged *f)
{
	unsigned char d[32];
	int rc = 0;

	EVP_DigestFinal_ex(f->md, d, NULL);
	dd_hex(d, 32, f->sha256);
	if (fsync(f->fd) < 0)
		rc = dd_error_errno("%s: fsync", f->path);
	if (close(f->fd) < 0 && !rc)
		rc = dd_error_errno("%s: close", f->path);
	f->fd = -1;
	return rc;
}

void dd_staged_discard(struct dd_staged *f)
{
	if (f->fd > 0)
		close(f->fd);
	if (f->path)
		unlink(f->path);
	free(f->path);
	EVP_MD_CTX_free(f->md);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

int dd_store_commit_blob(struct dd_store *s, struct dd_staged *f)
{
	struct dd_buf dst = DD_BUF_INIT;
	char have[65];
	int rc = 0;

	dd_store_blob_path(s, f->sha256, &dst);
	if (access(dst.ptr, F_OK) == 0 && dd_file_sha256(dst.ptr, have, NULL) == 0 &&
	    !strcmp(have, f->sha256)) {
		dd_staged_discard(f); /* identical blob already there */
		goto out;
	}
	if (rename(f->path, dst.ptr) < 0) {
		rc = dd_error_errno("cannot move %s to %s", f->path, dst.ptr);
		dd_staged_discard(f);
		goto out;
	}
	free(f->path);
	f->path = NULL;
	dd_staged_discard(f);
out:
	dd_buf_release(&dst);
	return rc;
}

void dd_store_sync_blobs(struct dd_store *s)
{
	struct dd_buf dir = DD_BUF_INIT;

	dd_fsync_dir(dd_store_path(s, "blobs/sha256", &dir));
	dd_buf_release(&dir);
}

int dd_store_audit(struct dd_store *s, void *json_record)
{
	return dd_store_audit_at(s->root, json_record);
}

int dd_store_audit_at(const char *root, void *json_record)
{
	struct dd_buf path = DD_BUF_INIT;
	char *line = json_dumps(json_record, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int fd, rc = 0;

	dd_buf_addf(&path, "%s/audit.log", root);
	fd = open(path.ptr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = dd_error_errno("%s", path.ptr);
	} else {
		size_t len = strlen(line);

		/* one write(2) per line: O_APPEND keeps lines whole without the lock */
		line[len] = '\n'; /* replaces the NUL; written with its length */
		if (write(fd, line, len + 1) != (ssize_t)(len + 1) || fsync(fd) < 0)
			rc = dd_error_errno("%s", path.ptr);
		close(fd);
	}
	free(line);
	dd_buf_release(&path);
	return rc;
}

/* What to do about an SQLite failure, by its primary code. */
static const char *db_advice(int code)
{
	switch (code & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return "; the index is damaged: check it with 'drydock mirror fsck' and restore "
		       "index.db from a backup";
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		return "; check the disk and the mirror's permissions, then 'drydock mirror fsck'";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "; another drydock holds the index: try again when it has finished";
	default:
		return "";
	}
}

void dd_store_attempt_id(char out[33])
{
	unsigned char r[16];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf((char *)r, sizeof(r), "%08lx%07lx", (unsigned long)ts.tv_nsec,
			 (unsigned long)getpid());
	}
	dd_hex(r, sizeof(r), out);
}

int dd_db_error(struct dd_store *s, const char *what)
{
	int code = s->db ? sqlite3_extended_errcode(s->db) : SQLITE_NOMEM;

	return dd_error(DD_E_IO, "mirror index %s/index.db: cannot %s: %s%s", s->root, what,
			s->db ? sqlite3_errmsg(s->db) : "out of memory", db_advice(code));
}

int dd_db_damaged(struct dd_store *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dd_error(DD_E_FORMAT, "mirror index %s/index.db: %s%s", s->root, msg,
			db_advice(SQLITE_CORRUPT));
}

int dd_db_step(struct dd_store *s, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW)
		return 1;
	if (r == SQLITE_DONE)
		return 0;
	return dd_db_error(s, what);
}

void dd_db_bindv(sqlite3_stmt *st, const char *types, va_list ap)
{
	for (int i = 0; types[i]; i++) {
		const char *text;
		char when[32];

		switch (types[i]) {
		case 's':
			text = va_arg(ap, const char *);
			if (text)
				sqlite3_bind_text(st, i + 1, text, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
			break;
		case 'I':
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'i':
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
			break;
		case 't':
			dd_time_format(va_arg(ap, int64_t), when);
			sqlite3_bind_text(st, i + 1, when, -1, SQLITE_TRANSIENT);
			break;
		default:
			(void)va_arg(ap, int);
			sqlite3_bind_null(st, i + 1);
			break;
		}
	}
}

void dd_db_bind(sqlite3_stmt *st, const char *types, ...)
{
	va_list ap;

	va_start(ap, types);
	dd_db_bindv(st, types, ap);
	va_end(ap);
}

/* Prepare sql, bind ap, step once: 1 with a row, 0 done, or an error. */
static int run_once(struct dd_store *s, const char *what, const char *sql, const char *types,
		    va_list ap)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, sql, &st);

	if (rc)
		return rc;
	dd_db_bindv(st, types, ap);
	rc = dd_db_step(s, st, what);
	sqlite3_finalize(st);
	return rc;
}

int dd_db_run(struct dd_store *s, const char *what, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = run_once(s, what, sql, types, ap);
	va_end(ap);
	return rc < 0 ? rc : 0;
}

int dd_db_exists(struct dd_store *s, const char *what, bool *found, const char *sql,
		 const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = run_once(s, what, sql, types, ap);
	va_end(ap);
	*found = rc > 0;
	return rc < 0 ? rc : 0;
}

int dd_db_exec(struct dd_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = dd_error(DD_E_IO, "mirror index %s/index.db: %s%s", s->root,
				  msg ? msg : "error", db_advice(sqlite3_extended_errcode(s->db)));

		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int dd_db_prepare(struct dd_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return dd_db_error(s, "prepare a query");
	return 0;
}

int64_t dd_db_last_rowid(struct dd_store *s)
{
	return (int64_t)sqlite3_last_insert_rowid(s->db);
}

int dd_db_begin(struct dd_store *s)
{
	return dd_db_exec(s, "BEGIN IMMEDIATE");
}

int dd_db_commit(struct dd_store *s)
{
	int rc = dd_identity_count(s);

	if (rc) {
		dd_db_rollback(s);
		return rc;
	}
	rc = dd_db_exec(s, "COMMIT");
	if (!rc) {
		dd_identity_committed(s);
		s->changes_seen = sqlite3_total_changes(s->db);
	}
	return rc;
}

void dd_db_rollback(struct dd_store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
