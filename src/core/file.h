/*
 * Files written safely: data goes to a temporary file beside the
 * target, is fsynced, and is renamed over the target only when complete,
 * so a reader (or a crash) never sees a half-written file.
 */
#ifndef DD_FILE_H
#define DD_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

struct dd_atomic {
	char *path; /* final name */
	char *tmp;  /* temporary name, in the same directory */
	int fd;
};

/*
 * The name of the file open on fd (from /proc/self/fd), in buf, for
 * errors that must name the file a write failed on; "file descriptor N"
 * when the name cannot be found.  Returns buf.
 */
const char *dd_fd_name(int fd, char *buf, size_t size);

/* Create a temporary file next to path (mode 0644 less umask). */
int dd_atomic_open(struct dd_atomic *a, const char *path);
/* fsync, rename into place, fsync the directory; closes the file. */
int dd_atomic_commit(struct dd_atomic *a);
/* Remove the temporary file; safe to call after commit or on a zeroed struct. */
void dd_atomic_abort(struct dd_atomic *a);

/* Write data as the whole of path, atomically (open, write, commit). */
int dd_write_file(const char *path, const void *data, size_t len);
/* write(2) all of data to fd, again after a short write or EINTR:
 * 0, or -1 with errno set (the caller names the file). */
int dd_write_all(int fd, const void *data, size_t len);

/* An output sink (tar and compression writers write through one):
 * returns 0 or a negative code. */
typedef int (*dd_write_fn)(void *ctx, const void *data, size_t len);
int dd_write_fd(void *fdp, const void *data, size_t len);  /* ctx: int * */
int dd_write_buf(void *buf, const void *data, size_t len); /* ctx: dd_buf */

/* Copy src to dst atomically. */
int dd_copy_file(const char *src, const char *dst);

/* mkdir -p: every missing parent 0755, the last one mode. */
int dd_mkdirs(const char *path, mode_t mode);

/* fsync a directory, so that renames in it are durable (best effort). */
void dd_fsync_dir(const char *dir);

/* path made absolute against the current directory, appended to out
 * (leading "./" dropped), without resolving links: it may not exist. */
void dd_path_absolute(const char *path, struct dd_buf *out);

/* Remove a directory tree (best effort; errors are ignored). */
void dd_remove_tree(const char *path);

/* Read a whole file of at most max bytes into out (reset first); on
 * failure out is released, holding nothing to free. */
int dd_read_file(const char *path, uint64_t max, struct dd_buf *out);

/*
 * Open path for reading content someone else wrote (a run folder, an
 * image layout, a mirror's blobs): only a regular file itself is taken,
 * never a symbolic link (O_NOFOLLOW), FIFO, device or directory, and it
 * is opened without blocking, so nothing can make a reader hang or read
 * outside the folder it was given.  A file larger than max is refused.
 * Returns the descriptor, its size in *size, or a negative code whose
 * detail names path and why.  Readers read at most *size bytes from it.
 */
int dd_open_regular(const char *path, uint64_t max, uint64_t *size);

/* dd_read_file() through dd_open_regular(): at most max bytes; on
 * failure out is released, holding nothing to free. */
int dd_read_regular(const char *path, uint64_t max, struct dd_buf *out);

/*
 * Read at most want bytes from fd into buf (of room for want); short
 * only at the end of the file.  Returns the count or a negative code.
 */
ssize_t dd_read_full(int fd, void *buf, size_t want);

/* dir/name: j (a jansson json_t) as JSON with json_dumps' flags and a
 * newline, written atomically (dd_write_file). */
struct json_t;
int dd_write_json(const char *dir, const char *name, struct json_t *j, size_t flags);

#endif
