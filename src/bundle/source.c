#include "bundle/source.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/manifest.h"
#include "bundle/parts.h"
#include "core/buf.h"
#include "core/error.h"

static void add_name(struct dd_bundle_src *s, const char *rel, char type)
{
	DD_GROW(s->names, s->n);
	DD_GROW(s->types, s->n);
	s->names[s->n] = dd_xstrdup(rel);
	s->types[s->n++] = type;
}

static int walk(struct dd_bundle_src *s, const char *rel)
{
	struct dd_buf dir = DD_BUF_INIT, sub = DD_BUF_INIT;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	dd_buf_addf(&dir, "%s%s%s", s->path, rel[0] ? "/" : "", rel);
	d = opendir(dir.ptr);
	if (!d) {
		rc = dd_error_errno("%s", dir.ptr);
		goto out;
	}
	while (!rc && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		dd_buf_reset(&sub);
		dd_buf_addf(&sub, "%s/%s", dir.ptr, de->d_name);
		if (lstat(sub.ptr, &st) < 0) {
			rc = dd_error_errno("%s", sub.ptr);
			break;
		}
		dd_buf_reset(&sub);
		dd_buf_addf(&sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (S_ISDIR(st.st_mode))
			rc = walk(s, sub.ptr);
		else
			add_name(s, sub.ptr,
				 S_ISREG(st.st_mode)   ? DD_SRC_FILE
				 : S_ISLNK(st.st_mode) ? DD_SRC_LINK
						       : DD_SRC_OTHER);
	}
	closedir(d);
out:
	dd_buf_release(&dir);
	dd_buf_release(&sub);
	return rc;
}

static int rank(const char *name)
{
	return !strcmp(name, DD_MANIFEST_NAME) ? 0 : !strcmp(name, DD_MANIFEST_SIG_NAME) ? 1 : 2;
}

static int cmp_entries(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int r = rank(x) - rank(y);

	return r ? r : strcmp(x, y);
}

static int open_dir(struct dd_bundle_src *s)
{
	int rc = walk(s, "");
	char **sorted;

	if (rc)
		return rc;
	/* sort names and their types together */
	sorted = dd_xcalloc(s->n, sizeof(char *));
	for (size_t i = 0; i < s->n; i++) {
		sorted[i] = dd_xmalloc(strlen(s->names[i]) + 2);
		strcpy(sorted[i], s->names[i]);
		sorted[i][strlen(sorted[i]) + 1] = s->types[i];
		free(s->names[i]);
	}
	qsort(sorted, s->n, sizeof(char *), cmp_entries);
	for (size_t i = 0; i < s->n; i++) {
		s->names[i] = sorted[i];
		s->types[i] = sorted[i][strlen(sorted[i]) + 1];
	}
	free(sorted);
	return 0;
}

#define PARTS_BUF (1u << 16)

/* libarchive pulls the parts' stream through here. */
static la_ssize_t read_parts(struct archive *a, void *arg, const void **out)
{
	struct dd_bundle_src *s = arg;
	ssize_t n = dd_parts_read(s->parts, s->parts_buf, PARTS_BUF);

	if (n < 0) {
		s->parts_rc = (int)n;
		free(s->parts_detail);
		s->parts_detail = dd_xstrdup(dd_error_detail());
		archive_set_error(a, EIO, "%s", s->parts_detail);
		return -1;
	}
	*out = s->parts_buf;
	return n;
}

/* A libarchive failure: the parts' own error when they caused it. */
static int archive_failed(struct dd_bundle_src *s, const char *member)
{
	const char *why = archive_error_string(s->a);

	if (s->parts_rc)
		return dd_error(s->parts_rc, "%s", s->parts_detail);
	if (member)
		return dd_error(strstr(why, "runcated") ? DD_E_TRUNCATED : DD_E_FORMAT,
				"%s: member '%s': %s", s->path, member, why);
	return dd_error(strstr(why, "runcated") ? DD_E_TRUNCATED : DD_E_FORMAT, "%s: %s", s->path,
			why);
}

static int open_tar(struct dd_bundle_src *s, const char *first_part)
{
	int r, rc;

	s->a = archive_read_new();
	archive_read_support_filter_zstd(s->a);
	archive_read_support_filter_none(s->a);
	archive_read_support_format_tar(s->a);
	if (first_part) {
		rc = dd_parts_reader_open(first_part, &s->parts);
		if (rc)
			return rc;
		s->parts_buf = dd_xmalloc(PARTS_BUF);
		r = archive_read_open(s->a, s, NULL, read_parts, NULL);
	} else if (s->is_stdin) {
		r = archive_read_open_fd(s->a, 0, 1 << 16);
	} else {
		r = archive_read_open_filename(s->a, s->path, 1 << 16);
	}
	if (r != ARCHIVE_OK)
		return s->parts_rc ? archive_failed(s, NULL)
				   : dd_error(DD_E_FORMAT, "%s: not a tar or tar.zst bundle: %s",
					      s->path, archive_error_string(s->a));
	return 0;
}

int dd_bundle_src_open(const char *path, struct dd_bundle_src *s)
{
	struct dd_buf first = DD_BUF_INIT;
	struct stat st;
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!strcmp(path, "-")) {
		s->is_stdin = true;
		s->path = dd_xstrdup("standard input");
		return open_tar(s, NULL);
	}
	s->path = dd_xstrdup(path);
	if (stat(path, &st) < 0)
		return dd_error_errno("%s", path);
	rc = dd_parts_detect(path, &first);
	if (rc == 1)
		rc = open_tar(s, first.ptr);
	else if (rc == 0 && S_ISDIR(st.st_mode))
		rc = (s->is_dir = true, open_dir(s));
	else if (rc == 0)
		rc = open_tar(s, NULL);
	dd_buf_release(&first);
	return rc;
}

int dd_bundle_src_blame(struct dd_bundle_src *s, int rc)
{
	int why;

	if (!s->parts || s->parts_rc)
		return rc;
	why = dd_parts_blame(s->parts);
	return why ? why : rc;
}

const char *dd_bundle_src_part_id(const struct dd_bundle_src *s)
{
	return s->parts ? dd_parts_bundle(s->parts) : NULL;
}

static int next_dir(struct dd_bundle_src *s, char *type, uint64_t *size)
{
	struct dd_buf p = DD_BUF_INIT;
	struct stat st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->next >= s->n)
		return 0;
	s->cur = s->names[s->next];
	*type = s->types[s->next++];
	*size = 0;
	if (*type != DD_SRC_FILE)
		return 1;
	dd_buf_addf(&p, "%s/%s", s->path, s->cur);
	s->fd = open(p.ptr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd < 0 || fstat(s->fd, &st) < 0) {
		int rc = dd_error_errno("%s", p.ptr);

		dd_buf_release(&p);
		return rc;
	}
	dd_buf_release(&p);
	*size = (uint64_t)st.st_size;
	return 1;
}

static int next_tar(struct dd_bundle_src *s, char *type, uint64_t *size)
{
	struct archive_entry *e;
	const char *name;
	int r;

	do {
		r = archive_read_next_header(s->a, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return archive_failed(s, NULL);
	} while (archive_entry_filetype(e) == AE_IFDIR);
	free(s->cur);
	name = archive_entry_pathname(e);
	while (name && name[0] == '.' && name[1] == '/')
		name += 2;
	s->cur = dd_xstrdup(name ? name : "");
	*size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
	if (archive_entry_hardlink(e) || archive_entry_filetype(e) == AE_IFLNK)
		*type = DD_SRC_LINK;
	else
		*type = archive_entry_filetype(e) == AE_IFREG ? DD_SRC_FILE : DD_SRC_OTHER;
	return 1;
}

int dd_bundle_src_next(struct dd_bundle_src *s, const char **path, char *type, uint64_t *size)
{
	int rc = s->is_dir ? next_dir(s, type, size) : next_tar(s, type, size);

	if (rc == 1)
		*path = s->cur;
	return rc;
}

ssize_t dd_bundle_src_read(struct dd_bundle_src *s, void *buf, size_t len)
{
	ssize_t n;

	if (s->is_dir) {
		do
			n = read(s->fd, buf, len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return dd_error_errno("%s/%s", s->path, s->cur);
	} else {
		n = archive_read_data(s->a, buf, len);
		if (n < 0)
			return archive_failed(s, s->cur);
	}
	s->bytes_read += (uint64_t)n;
	return n;
}

void dd_bundle_src_close(struct dd_bundle_src *s)
{
	if (s->a)
		archive_read_free(s->a);
	dd_parts_reader_free(s->parts);
	free(s->parts_detail);
	free(s->parts_buf);
	if (s->fd >= 0)
		close(s->fd);
	if (s->is_dir)
		s->cur = NULL; /* points into names */
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->types);
	free(s->cur);
	free(s->path);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
