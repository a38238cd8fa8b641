#include "image/oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "apk/tar.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"

json_t *dd_oci_descriptor(const struct dd_blob_desc *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
			 (json_int_t)d->size);
}

char *dd_oci_dumps(json_t *j, size_t *len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);

	json_decref(j);
	if (!s)
		abort();
	if (len)
		*len = strlen(s);
	return s;
}

int dd_split_words(const char *s, json_t **array)
{
	struct dd_buf w = DD_BUF_INIT;
	json_t *a = json_array();
	bool in_word = false;
	char quote = 0;

	for (const char *p = s;; p++) {
		if (!*p) {
			if (quote) {
				dd_buf_release(&w);
				json_decref(a);
				return dd_error(DD_E_FORMAT,
						"'%s': unterminated %c quote; close it, or "
						"escape the quote with a backslash",
						s, quote);
			}
			break;
		}
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (*p == '\\' && quote == '"' && p[1])
				dd_buf_add(&w, ++p, 1);
			else
				dd_buf_add(&w, p, 1);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			in_word = true;
		} else if (*p == '\\' && p[1]) {
			dd_buf_add(&w, ++p, 1);
			in_word = true;
		} else if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word)
				json_array_append_new(a, json_string(w.ptr ? w.ptr : ""));
			dd_buf_reset(&w);
			in_word = false;
		} else {
			dd_buf_add(&w, p, 1);
			in_word = true;
		}
	}
	if (in_word)
		json_array_append_new(a, json_string(w.ptr ? w.ptr : ""));
	dd_buf_release(&w);
	*array = a;
	return 0;
}

static int put(const char *dir, const char *name, const char *data, size_t len)
{
	struct dd_buf path = DD_BUF_INIT;
	int rc;

	dd_buf_addf(&path, "%s/%s", dir, name);
	rc = dd_write_file(path.ptr, data, len);
	dd_buf_release(&path);
	return rc;
}

int dd_oci_write_layout(const char *dir, json_t *index)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	size_t len;
	char *s = dd_oci_dumps(index, &len);
	int rc = put(dir, "oci-layout", layout, sizeof(layout) - 1);

	if (!rc)
		rc = put(dir, "index.json", s, len);
	free(s);
	return rc;
}

struct archive_out {
	int fd;
	EVP_MD_CTX *md;
};

static int archive_write(void *ctx, const void *data, size_t len)
{
	struct archive_out *o = ctx;

	EVP_DigestUpdate(o->md, data, len);
	return dd_write_fd(&o->fd, data, len);
}

static int add_file(struct dd_tar_writer *w, const char *dir, const char *name, int64_t mtime)
{
	struct dd_buf path = DD_BUF_INIT;
	struct dd_tar_entry e;
	unsigned char buf[1 << 16];
	struct stat st;
	uint64_t left;
	int fd, rc;

	dd_buf_addf(&path, "%s/%s", dir, name);
	fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = dd_error_errno("%s", path.ptr);
		if (fd >= 0)
			close(fd);
		dd_buf_release(&path);
		return rc;
	}
	memset(&e, 0, sizeof(e));
	e.path = (char *)name;
	e.type = DD_TAR_FILE;
	e.mode = 0644;
	e.size = (uint64_t)st.st_size;
	e.mtime = mtime;
	rc = dd_tar_write_header(w, &e);
	for (left = e.size; !rc && left;) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0) {
			rc = n ? dd_error_errno("%s", path.ptr)
			       : dd_error(DD_E_TRUNCATED, "%s changed while being archived",
					  path.ptr);
			break;
		}
		rc = dd_tar_write_data(w, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	if (!rc)
		rc = dd_tar_pad(w, e.size);
	close(fd);
	dd_buf_release(&path);
	return rc;
}

static int add_dir(struct dd_tar_writer *w, const char *name, int64_t mtime)
{
	struct dd_tar_entry e;

	memset(&e, 0, sizeof(e));
	e.path = (char *)name;
	e.type = DD_TAR_DIR;
	e.mode = 0755;
	e.mtime = mtime;
	return dd_tar_write_header(w, &e);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dd_oci_archive(const char *dir, const char *path, int64_t mtime, char sha256[65])
{
	struct archive_out o = { -1, EVP_MD_CTX_new() };
	struct dd_buf blobs = DD_BUF_INIT, name = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_atomic a;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	unsigned char d[32];
	DIR *dh;
	int rc;

	dd_buf_addf(&blobs, "%s/blobs/sha256", dir);
	dh = opendir(blobs.ptr);
	if (!dh) {
		rc = dd_error_errno("%s", blobs.ptr);
		dd_buf_release(&blobs);
		EVP_MD_CTX_free(o.md);
		return rc;
	}
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		DD_GROW(names, n);
		names[n++] = dd_xstrdup(de->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof(*names), name_cmp);
	EVP_DigestInit_ex(o.md, EVP_sha256(), NULL);
	rc = dd_atomic_open(&a, path);
	o.fd = a.fd;
	dd_tar_writer_init(&w, archive_write, &o);
	if (!rc)
		rc = add_file(&w, dir, "oci-layout", mtime);
	if (!rc)
		rc = add_file(&w, dir, "index.json", mtime);
	if (!rc)
		rc = add_dir(&w, "blobs", mtime);
	if (!rc)
		rc = add_dir(&w, "blobs/sha256", mtime);
	for (size_t i = 0; i < n && !rc; i++) {
		dd_buf_reset(&name);
		dd_buf_addf(&name, "blobs/sha256/%s", names[i]);
		rc = add_file(&w, dir, name.ptr, mtime);
	}
	if (!rc)
		rc = dd_tar_write_end(&w);
	if (!rc)
		rc = dd_atomic_commit(&a);
	else
		dd_atomic_abort(&a);
	EVP_DigestFinal_ex(o.md, d, NULL);
	dd_hex(d, 32, sha256);
	EVP_MD_CTX_free(o.md);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	dd_buf_release(&blobs);
	dd_buf_release(&name);
	return rc;
}

/* A member name an oci-archive may hold: 0 folder, 1 file, -1 neither. */
static int layout_member(const char *name)
{
	while (!strncmp(name, "./", 2))
		name += 2;
	if (!strcmp(name, "blobs") || !strcmp(name, "blobs/") || !strcmp(name, "blobs/sha256") ||
	    !strcmp(name, "blobs/sha256/") || !strcmp(name, "") || !strcmp(name, "."))
		return 0;
	if (!strcmp(name, "oci-layout") || !strcmp(name, "index.json"))
		return 1;
	return !strncmp(name, "blobs/sha256/", 13) && dd_sha256_hex_ok(name + 13) ? 1 : -1;
}

static int unpack_member(struct archive *a, struct archive_entry *e, const char *dir)
{
	const char *name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
	int kind = layout_member(name), fd, rc = 0;
	struct dd_buf path = DD_BUF_INIT;
	char buf[1 << 16];
	la_ssize_t n;

	if (kind < 0 || (kind == 1 && archive_entry_filetype(e) != AE_IFREG) ||
	    (kind == 0 && archive_entry_filetype(e) != AE_IFDIR))
		return dd_error(DD_E_UNSAFE_PATH,
				"member '%.200s' is not part of an OCI image "
				"layout (oci-layout, index.json, blobs/sha256/<sha256> as files)",
				name);
	while (!strncmp(name, "./", 2))
		name += 2;
	dd_buf_addf(&path, "%s/%s", dir, name);
	if (kind == 0) {
		rc = dd_mkdirs(path.ptr, 0755);
		dd_buf_release(&path);
		return rc;
	}
	if (!strncmp(name, "blobs/", 6)) {
		struct dd_buf d = DD_BUF_INIT;

		dd_buf_addf(&d, "%s/blobs/sha256", dir);
		rc = dd_mkdirs(d.ptr, 0755);
		dd_buf_release(&d);
	}
	fd = rc ? -1 : open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (!rc && fd < 0)
		rc = errno == EEXIST
			     ? dd_error(DD_E_FORMAT, "member '%s' is in the archive twice", name)
			     : dd_error_errno("%s", path.ptr);
	while (!rc && (n = archive_read_data(a, buf, sizeof(buf))) != 0) {
		if (n < 0)
			rc = dd_error(DD_E_FORMAT, "member '%s': %s", name,
				      archive_error_string(a));
		else if (dd_write_all(fd, buf, (size_t)n))
			rc = dd_error_errno("%s", path.ptr);
	}
	if (fd >= 0)
		close(fd);
	dd_buf_release(&path);
	return rc;
}

int dd_oci_unpack(const char *path, const char *dir)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t size;
	int fd = dd_open_regular(path, UINT64_MAX, &size), rc = 0, r;

	archive_read_support_format_tar(a);
	if (fd < 0) {
		rc = fd;
	} else if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		rc = dd_error(DD_E_FORMAT, "%s: %s", path, archive_error_string(a));
	} else {
		while (!rc && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
			rc = unpack_member(a, e, dir);
		if (!rc && r != ARCHIVE_EOF)
			rc = dd_error(DD_E_FORMAT, "not a tar archive: %s",
				      archive_error_string(a));
		if (rc)
			dd_error_prefix(rc, "%s", path);
	}
	archive_read_free(a);
	if (fd >= 0)
		close(fd);
	return rc;
}
