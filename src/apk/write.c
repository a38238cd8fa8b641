#include "apk/write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apk/tar.h"
#include "core/error.h"
#include "core/file.h"
#include "core/gzip.h"
#include "core/hash.h"

struct inode {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct builder {
	struct dd_tar_writer tar;
	struct dd_gzw *gz;
	int64_t epoch;
	uint64_t installed;
	struct inode *inodes; /* regular files seen, for hard links */
	size_t n_inodes;
	struct dd_buf abs;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of a directory's entries. */
static int list_dir(const char *path, char ***names, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;

	*names = NULL;
	*n = 0;
	if (!d)
		return dd_error_errno("%s", path);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		DD_GROW(*names, *n);
		(*names)[(*n)++] = dd_xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, *n, sizeof(char *), cmp_names);
	return 0;
}

static void entry_from_stat(struct dd_tar_entry *e, const struct stat *st, int64_t epoch)
{
	memset(e, 0, sizeof(*e));
	e->mode = st->st_mode & 07777;
	e->mtime = st->st_mtime < epoch ? st->st_mtime : epoch;
	strcpy(e->uname, "root");
	strcpy(e->gname, "root");
}

static void sha1_hex(const void *data, size_t len, char out[41])
{
	unsigned char d[20];

	EVP_Digest(data, len, d, NULL, EVP_sha1(), NULL);
	dd_hex(d, 20, out);
}

static int file_sha1(const char *path, char out[41])
{
	unsigned char buf[65536], d[20];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		EVP_MD_CTX_free(md);
		return dd_error_errno("%s", path);
	}
	EVP_DigestInit_ex(md, EVP_sha1(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	close(fd);
	if (n < 0)
		return dd_error_errno("%s", path);
	dd_hex(d, 20, out);
	return 0;
}

static int copy_file(struct builder *b, const char *path, uint64_t size)
{
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t left = size;
	int rc = 0;

	if (fd < 0)
		return dd_error_errno("%s", path);
	while (left && !rc) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));

		if (n <= 0) {
			rc = n < 0 ? dd_error_errno("%s", path)
				   : dd_error(DD_E_IO, "%s: changed while being read", path);
			break;
		}
		rc = dd_tar_write_data(&b->tar, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	close(fd);
	return rc ? rc : dd_tar_pad(&b->tar, size);
}

static const char *hardlink_target(struct builder *b, const struct stat *st, const char *rel)
{
	for (size_t i = 0; i < b->n_inodes; i++)
		if (b->inodes[i].dev == st->st_dev && b->inodes[i].ino == st->st_ino)
			return b->inodes[i].path;
	DD_GROW(b->inodes, b->n_inodes);
	b->inodes[b->n_inodes++] = (struct inode){ st->st_dev, st->st_ino, dd_xstrdup(rel) };
	return NULL;
}

static int add_tree(struct builder *b, const char *abs, const char *rel);

static int add_one(struct builder *b, const char *abs, const char *rel)
{
	struct dd_tar_entry e;
	struct stat st;
	char target[4096];
	int rc;

	if (lstat(abs, &st) < 0)
		return dd_error_errno("%s", abs);
	entry_from_stat(&e, &st, b->epoch);
	e.path = (char *)rel;
	if (S_ISDIR(st.st_mode)) {
		e.type = DD_TAR_DIR;
		rc = dd_tar_write_header(&b->tar, &e);
		return rc ? rc : add_tree(b, abs, rel);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(abs, target, sizeof(target) - 1);

		if (n < 0)
			return dd_error_errno("%s", abs);
		target[n] = 0;
		e.type = DD_TAR_SYMLINK;
		e.link = target;
		sha1_hex(target, (size_t)n, e.sha1);
		return dd_tar_write_header(&b->tar, &e);
	}
	if (!S_ISREG(st.st_mode))
		return dd_error(DD_E_UNSAFE_PATH,
				"%s: only files, directories and symbolic "
				"links can go into a package",
				abs);
	if (st.st_nlink > 1 && (e.link = (char *)hardlink_target(b, &st, rel))) {
		e.type = DD_TAR_HARDLINK;
		return dd_tar_write_header(&b->tar, &e);
	}
	e.type = DD_TAR_FILE;
	e.size = (uint64_t)st.st_size;
	rc = file_sha1(abs, e.sha1);
	if (!rc)
		rc = dd_tar_write_header(&b->tar, &e);
	if (!rc)
		rc = copy_file(b, abs, e.size);
	b->installed += e.size;
	return rc;
}

static int add_tree(struct builder *b, const char *abs, const char *rel)
{
	char **names;
	size_t n;
	int rc = list_dir(abs, &names, &n);

	for (size_t i = 0; i < n && !rc; i++) {
		struct dd_buf a = DD_BUF_INIT, r = DD_BUF_INIT;

		dd_buf_addf(&a, "%s/%s", abs, names[i]);
		dd_buf_addf(&r, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
		rc = add_one(b, a.ptr, r.ptr);
		dd_buf_release(&a);
		dd_buf_release(&r);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* One gzip member holding a tar of in-memory files, to out. */
static int write_segment(struct dd_buf *out, EVP_MD_CTX *md, const char *const *names,
			 const struct dd_buf *const *data, size_t n, int64_t epoch, bool end_blocks)
{
	struct dd_gzw *gz;
	struct dd_tar_writer tar;
	int rc = dd_gzw_begin(&gz, dd_write_buf, out, md);

	dd_tar_writer_init(&tar, dd_gzw_write_cb, gz);
	for (size_t i = 0; i < n && !rc; i++) {
		struct dd_tar_entry e = { 0 };

		e.path = (char *)names[i];
		e.type = DD_TAR_FILE;
		e.mode = 0644;
		e.size = data[i]->len;
		e.mtime = epoch;
		strcpy(e.uname, "root");
		strcpy(e.gname, "root");
		rc = dd_tar_write_file(&tar, &e, data[i]->ptr);
	}
	if (!rc && end_blocks)
		rc = dd_tar_write_end(&tar);
	if (!rc)
		rc = dd_gzw_end(gz);
	dd_gzw_free(gz);
	return rc;
}

/* The signature segment for a control segment whose digest is in md. */
static int sign_segment(const struct dd_apk_signer *s, EVP_MD_CTX *md, int64_t epoch,
			struct dd_buf *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dlen;
	struct dd_buf sig = DD_BUF_INIT, name = DD_BUF_INIT;
	const char *alg;
	const struct dd_buf *data[1] = { &sig };
	const char *names[1];
	int rc;

	EVP_DigestFinal_ex(md, d, &dlen);
	rc = dd_rsa_sign(s->key, s->md, d, dlen, &sig);
	if (rc)
		goto out;
	alg = dlen == 20 ? "RSA" : dlen == 32 ? "RSA256" : "RSA512";
	dd_buf_addf(&name, ".SIGN.%s.%s", alg, s->keyname);
	names[0] = name.ptr;
	rc = write_segment(out, NULL, names, data, 1, epoch, false);
out:
	dd_buf_release(&sig);
	dd_buf_release(&name);
	return rc;
}

static int write_parts(const char *out, const struct dd_buf *a, const struct dd_buf *b, int data_fd)
{
	struct dd_atomic f;
	int rc = dd_atomic_open(&f, out);

	if (rc)
		return rc;
	rc = dd_write_fd(&f.fd, a->ptr, a->len);
	if (!rc)
		rc = dd_write_fd(&f.fd, b->ptr, b->len);
	if (!rc && data_fd >= 0) {
		char buf[65536];
		ssize_t n;

		lseek(data_fd, 0, SEEK_SET);
		while (!rc && (n = read(data_fd, buf, sizeof(buf))) > 0)
			rc = dd_write_fd(&f.fd, buf, (size_t)n);
	}
	if (!rc)
		rc = dd_atomic_commit(&f);
	dd_atomic_abort(&f);
	return rc;
}

static int build_data(struct builder *b, const char *root, int fd, char datahash[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[32];
	int rc;

	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	rc = dd_gzw_begin(&b->gz, dd_write_fd, &fd, md);
	dd_tar_writer_init(&b->tar, dd_gzw_write_cb, b->gz);
	if (!rc)
		rc = add_tree(b, root, "");
	if (!rc)
		rc = dd_tar_write_end(&b->tar);
	if (!rc)
		rc = dd_gzw_end(b->gz);
	dd_gzw_free(b->gz);
	b->gz = NULL;
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	dd_hex(d, 32, datahash);
	return rc;
}

static int build_control(const struct dd_apk_pkg *pkg, char *const *scripts, size_t ns,
			 int64_t epoch, EVP_MD_CTX *md, struct dd_buf *out)
{
	const char **names = dd_xcalloc(ns + 1, sizeof(char *));
	struct dd_buf *bufs = dd_xcalloc(ns + 1, sizeof(struct dd_buf));
	const struct dd_buf **data = dd_xcalloc(ns + 1, sizeof(void *));
	int rc = 0;

	names[0] = ".PKGINFO";
	dd_pkginfo_write(pkg, &bufs[0]);
	for (size_t i = 0; i < ns && !rc; i++) {
		const char *base = strrchr(scripts[i], '/');

		names[i + 1] = base ? base + 1 : scripts[i];
		if (names[i + 1][0] != '.')
			rc = dd_error(DD_E_USAGE,
				      "%s: script names start with '.' "
				      "(.pre-install, .post-install, ...)",
				      scripts[i]);
		else
			rc = dd_read_file(scripts[i], 1 << 20, &bufs[i + 1]);
	}
	for (size_t i = 0; i <= ns; i++)
		data[i] = &bufs[i];
	if (!rc)
		rc = write_segment(out, md, names, data, ns + 1, epoch, false);
	for (size_t i = 0; i <= ns; i++)
		dd_buf_release(&bufs[i]);
	free(bufs);
	free(names);
	free(data);
	return rc;
}

static int data_tempfile(const char *out, struct dd_buf *name)
{
	int fd;

	dd_buf_addf(name, "%s.data.XXXXXX", out);
	fd = mkstemp(name->ptr);
	if (fd < 0)
		return dd_error_errno("cannot create a file beside %s", out);
	return fd;
}

int dd_apk_build(const char *root, struct dd_apk_pkg *pkg, char *const *scripts, size_t n_scripts,
		 const struct dd_apk_signer *signer, int64_t epoch, const char *out)
{
	struct builder b;
	struct dd_buf tmpname = DD_BUF_INIT, ctl = DD_BUF_INIT, sig = DD_BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd, rc;

	memset(&b, 0, sizeof(b));
	b.epoch = epoch;
	fd = data_tempfile(out, &tmpname);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	unlink(tmpname.ptr);
	rc = build_data(&b, root, fd, pkg->datahash);
	if (rc)
		goto out;
	pkg->installed_size = b.installed;
	pkg->build_time = epoch;
	EVP_DigestInit_ex(md, signer && signer->key ? signer->md : EVP_sha1(), NULL);
	rc = build_control(pkg, scripts, n_scripts, epoch, md, &ctl);
	if (!rc && signer && signer->key)
		rc = sign_segment(signer, md, epoch, &sig);
	if (!rc)
		rc = write_parts(out, &sig, &ctl, fd);
out:
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < b.n_inodes; i++)
		free(b.inodes[i].path);
	free(b.inodes);
	EVP_MD_CTX_free(md);
	dd_buf_release(&tmpname);
	dd_buf_release(&ctl);
	dd_buf_release(&sig);
	return rc ? dd_error_prefix(rc, "%s", out) : 0;
}

static int cmp_file_pkgs(const void *a, const void *b)
{
	const struct dd_apk_file *const *x = a, *const *y = b;
	int c = dd_apk_pkg_cmp(&(*x)->pkg, &(*y)->pkg);

	return c ? c
		 : strcmp((*x)->pkg.arch ? (*x)->pkg.arch : "",
			  (*y)->pkg.arch ? (*y)->pkg.arch : "");
}

int dd_apk_index_write(const struct dd_apk_file *files, size_t n, const char *description,
		       const struct dd_apk_signer *signer, int64_t epoch, bool text,
		       const char *out)
{
	const struct dd_apk_file **sorted = dd_xcalloc(n, sizeof(*sorted));
	struct dd_buf idx = DD_BUF_INIT, desc = DD_BUF_INIT, ctl = DD_BUF_INIT, sig = DD_BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		sorted[i] = &files[i];
	qsort(sorted, n, sizeof(*sorted), cmp_file_pkgs);
	for (size_t i = 0; i < n; i++) {
		struct dd_apk_pkg p = sorted[i]->pkg;

		memcpy(p.checksum, sorted[i]->checksum, sizeof(p.checksum));
		p.file_size = sorted[i]->file_size;
		dd_apkindex_write_pkg(&p, &idx);
	}
	if (text) {
		rc = write_parts(out, &idx, &ctl, -1);
		goto out;
	}
	dd_buf_adds(&desc, description ? description : "");
	{
		const char *names[2] = { "DESCRIPTION", "APKINDEX" };
		const struct dd_buf *data[2] = { &desc, &idx };

		EVP_DigestInit_ex(md, signer && signer->key ? signer->md : EVP_sha1(), NULL);
		rc = write_segment(&ctl, md, names, data, 2, epoch, true);
	}
	if (!rc && signer && signer->key)
		rc = sign_segment(signer, md, epoch, &sig);
	if (!rc)
		rc = write_parts(out, &sig, &ctl, -1);
out:
	free(sorted);
	EVP_MD_CTX_free(md);
	dd_buf_release(&idx);
	dd_buf_release(&desc);
	dd_buf_release(&ctl);
	dd_buf_release(&sig);
	return rc ? dd_error_prefix(rc, "%s", out) : 0;
}
