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

/* Copy src to dst atomically. */
int dd_copy_file(const char *src, const char *dst);

/* mkdir -p: every missing parent 0755, the last one mode. */
int dd_mkdirs(const char *path, mode_t mode);

/* fsync a directory, so that renames in it are durable (best effort). */
void dd_fsync_dir(const char *dir);

/* Remove a directory tree (best effort; errors are ignored). */
void dd_remove_tree(const char *path);

/* Read a whole file of at most max bytes into out (reset first); on
 * failure out is released, holding nothing to free. */
int dd_read_file(const char *path, uint64_t max, struct dd_buf *out);

#endif
