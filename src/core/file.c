#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "core/error.h"

const char *dd_fd_name(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n <= 0)
		snprintf(buf, size, "file descriptor %d", fd);
	else
		buf[n] = 0;
	return buf;
}

int dd_atomic_open(struct dd_atomic *a, const char *path)
{
	struct dd_buf tmp = DD_BUF_INIT;
	mode_t mask;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	dd_buf_addf(&tmp, "%s.tmp.XXXXXX", path);
	a->fd = mkstemp(tmp.ptr);
	if (a->fd < 0) {
		dd_buf_release(&tmp);
		return dd_error_errno("cannot create a file beside %s", path);
	}
	mask = umask(0);
	umask(mask);
	fchmod(a->fd, 0644 & ~mask);
	a->tmp = dd_buf_detach(&tmp, NULL);
	a->path = dd_xstrdup(path);
	return 0;
}

void dd_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void fsync_dir_of(const char *path)
{
	char *copy = dd_xstrdup(path);

	dd_fsync_dir(dirname(copy));
	free(copy);
}

int dd_atomic_commit(struct dd_atomic *a)
{
	int rc = 0;

	if (fsync(a->fd) < 0)
		rc = dd_error_errno("%s: fsync", a->path);
	if (close(a->fd) < 0 && !rc)
		rc = dd_error_errno("%s: close", a->path);
	a->fd = -1;
	if (!rc && rename(a->tmp, a->path) < 0)
		rc = dd_error_errno("%s: rename", a->path);
	if (!rc)
		fsync_dir_of(a->path);
	dd_atomic_abort(a);
	return rc;
}

void dd_atomic_abort(struct dd_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlink(a->tmp); /* after a commit, the name is gone: ENOENT */
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	a->fd = -1;
}

int dd_read_file(const char *path, uint64_t max, struct dd_buf *out)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return dd_error_errno("%s", path);
	dd_buf_reset(out);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = dd_error_errno("%s", path);
			break;
		}
		if (out->len + (size_t)n > max) {
			rc = dd_error(DD_E_LIMIT, "%s: larger than %llu bytes", path,
				      (unsigned long long)max);
			break;
		}
		dd_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	if (rc)
		dd_buf_release(out); /* a caller that returns at once leaks nothing */
	return rc;
}

int dd_open_regular(const char *path, uint64_t max, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return dd_error(DD_E_UNSAFE_PATH, "%s is a symbolic link, not a file; refused",
				path);
	if (fd < 0)
		return dd_error_errno("%s", path);
	if (fstat(fd, &st)) {
		close(fd);
		return dd_error_errno("%s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dd_error(DD_E_UNSAFE_PATH, "%s is %s, not a regular file; refused", path,
				S_ISDIR(st.st_mode)    ? "a directory"
				: S_ISFIFO(st.st_mode) ? "a FIFO"
				: S_ISSOCK(st.st_mode) ? "a socket"
						       : "a device");
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return dd_error(DD_E_LIMIT, "%s: %llu bytes, larger than the %llu allowed", path,
				(unsigned long long)st.st_size, (unsigned long long)max);
	}
	/* a regular file never blocks; reads need not handle EAGAIN */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*size = (uint64_t)st.st_size;
	return fd;
}

ssize_t dd_read_full(int fd, void *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = read(fd, (char *)buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dd_error_errno("read");
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int dd_read_regular(const char *path, uint64_t max, struct dd_buf *out)
{
	uint64_t size;
	int fd = dd_open_regular(path, max, &size);
	ssize_t n;

	if (fd < 0)
		return fd;
	dd_buf_reset(out);
	dd_buf_grow(out, (size_t)size + 1);
	n = dd_read_full(fd, out->ptr, (size_t)size);
	close(fd);
	if (n < 0) {
		dd_buf_release(out); /* as dd_read_file: nothing to free on failure */
		return dd_error_prefix((int)n, "%s", path);
	}
	out->len = (size_t)n;
	out->ptr[out->len] = 0;
	return 0;
}

int dd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int dd_write_file(const char *path, const void *data, size_t len)
{
	struct dd_atomic a;
	int rc = dd_atomic_open(&a, path);

	if (rc)
		return rc;
	if (dd_write_all(a.fd, data, len))
		rc = dd_error_errno("%s", path);
	else
		rc = dd_atomic_commit(&a);
	dd_atomic_abort(&a);
	return rc;
}

int dd_copy_file(const char *src, const char *dst)
{
	struct dd_atomic a;
	int in = open(src, O_RDONLY | O_CLOEXEC), rc;
	char buf[1 << 16];
	ssize_t n;

	if (in < 0)
		return dd_error_errno("%s", src);
	rc = dd_atomic_open(&a, dst);
	while (!rc && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			rc = dd_error_errno("%s", src);
		else if (dd_write_all(a.fd, buf, (size_t)n))
			rc = dd_error_errno("%s", dst);
	}
	close(in);
	if (!rc)
		rc = dd_atomic_commit(&a);
	dd_atomic_abort(&a);
	return rc;
}

int dd_mkdirs(const char *path, mode_t mode)
{
	char *p = dd_xstrdup(path);
	int rc = 0;

	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = dd_error_errno("cannot create %s", p);
		*c = '/';
		if (rc)
			break;
	}
	if (!rc && mkdir(p, mode) < 0 && errno != EEXIST)
		rc = dd_error_errno("cannot create %s", p);
	free(p);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void dd_path_absolute(const char *path, struct dd_buf *out)
{
	char cwd[PATH_MAX];

	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
		dd_buf_adds(out, path[0] ? path : ".");
		return;
	}
	if (!path[0] || !strcmp(path, "."))
		dd_buf_adds(out, cwd);
	else
		dd_buf_addf(out, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
}

void dd_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int dd_write_fd(void *fdp, const void *data, size_t len)
{
	int fd = *(int *)fdp;
	char name[4096];

	if (!dd_write_all(fd, data, len))
		return 0;
	return dd_error_errno("%s", dd_fd_name(fd, name, sizeof(name)));
}

int dd_write_buf(void *buf, const void *data, size_t len)
{
	dd_buf_add(buf, data, len);
	return 0;
}

int dd_write_json(const char *dir, const char *name, json_t *j, size_t flags)
{
	struct dd_buf path = DD_BUF_INIT;
	char *s = json_dumps(j, flags);
	size_t len = strlen(s);
	int rc;

	s = dd_xrealloc(s, len + 2);
	s[len++] = '\n';
	s[len] = 0;
	dd_buf_addf(&path, "%s/%s", dir, name);
	rc = dd_write_file(path.ptr, s, len);
	dd_buf_release(&path);
	free(s);
	return rc;
}
