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

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "store/schema.h"

const char *dd_store_default_root(const char *option)
{
	const char *env = getenv("DRYDOCK_MIRROR");

	if (option && option[0])
		return option;
	return env && env[0] ? env : "./mirror";
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
			rc = dd_error(DD_E_IO, "mirror %s is busy: another drydock (pid %ld) is "
				      "changing it; try again when it has finished", s->root,
				      (long)fl.l_pid);
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

static int open_db(struct dd_store *s)
{
	struct dd_buf path = DD_BUF_INIT;
	int flags = SQLITE_OPEN_READWRITE | (s->writable ? SQLITE_OPEN_CREATE : 0);
	int rc;

	rc = sqlite3_open_v2(dd_store_path(s, "index.db", &path), &s->db, flags, NULL);
	dd_buf_release(&path);
	if (rc != SQLITE_OK)
		return dd_db_error(s, "open the index");
	sqlite3_busy_timeout(s->db, 10000);
	rc = dd_db_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			   "PRAGMA foreign_keys=ON;");
	if (!rc && s->writable)
		rc = dd_schema_apply(s);
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
	s->writable = flags & DD_STORE_WRITE;
	if (s->writable) {
		rc = create_layout(s);
		if (!rc)
			rc = take_lock(s);
		if (!rc)
			clear_tmp(s);
	} else if (stat(dd_store_path(s, "index.db", &path), &st) < 0) {
		rc = dd_error(DD_E_NOTFOUND, "no mirror at %s: import a bundle or trust a key "
			      "first (drydock trust add ...), or give --mirror DIR", root);
	} else {
		take_shared_lock(s);
	}
	if (!rc)
		rc = open_db(s);
	dd_buf_release(&path);
	if (rc) {
		dd_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void dd_store_close(struct dd_store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
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
	const char *p = data;

	EVP_DigestUpdate(f->md, data, len);
	f->size += len;
	while (len) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dd_error_errno("%s", f->path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
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
	struct dd_buf dst = DD_BUF_INIT, dir = DD_BUF_INIT;
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
	dd_fsync_dir(dd_store_path(s, "blobs/sha256", &dir));
out:
	dd_buf_release(&dst);
	dd_buf_release(&dir);
	return rc;
}

int dd_store_audit(struct dd_store *s, void *json_record)
{
	struct dd_buf path = DD_BUF_INIT;
	char *line = json_dumps(json_record, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int fd, rc = 0;

	fd = open(dd_store_path(s, "audit.log", &path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		rc = dd_error_errno("%s", path.ptr);
	} else {
		size_t len = strlen(line);

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
	return dd_db_exec(s, "COMMIT");
}

void dd_db_rollback(struct dd_store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
