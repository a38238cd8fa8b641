#include "bundle/create.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "advisory/secdb.h"
#include "apk/read.h"
#include "bundle/manifest.h"
#include "bundle/parts.h"
#include "bundle/source.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "trust/pgp.h"

/* A bundle must not carry a security database its receivers would refuse. */
static int check_secdb(const char *path)
{
	struct dd_buf text = DD_BUF_INIT;
	struct dd_secdb db;
	int rc = dd_read_file(path, DD_SECDB_MAX, &text);

	if (!rc)
		rc = dd_secdb_parse(dd_buf_blob(&text), path, &db);
	if (!rc)
		dd_secdb_release(&db);
	dd_buf_release(&text);
	return rc;
}

static int describe(const char *dir, const char *rel, const struct dd_create_opts *o,
		    struct dd_member *m)
{
	struct dd_buf path = DD_BUF_INIT;
	struct dd_apk_file f;
	int kind = dd_member_kind_of(rel), rc;

	memset(m, 0, sizeof(*m));
	if (kind < 0 || !strcmp(rel, DD_MANIFEST_NAME) || !strcmp(rel, DD_MANIFEST_SIG_NAME))
		return dd_error(DD_E_USAGE,
				"%s/%s: a bundle carries only .apk packages, "
				"APKINDEX.tar.gz, entitlements.json with its .sig and security "
				"databases (security.json, secdb/NAME.json)",
				dir, rel);
	m->path = dd_xstrdup(rel);
	m->kind = (enum dd_member_kind)kind;
	dd_buf_addf(&path, "%s/%s", dir, rel);
	rc = dd_file_sha256(path.ptr, m->sha256, &m->size);
	if (!rc && (kind == DD_MEMBER_APK || kind == DD_MEMBER_APKINDEX)) {
		rc = dd_apk_read(path.ptr, &f);
		if (rc)
			goto out;
		rc = dd_apk_check(&f, path.ptr);
		if (!rc && !f.n_sigs && !o->mark_unsigned)
			rc = dd_error(DD_E_UNSIGNED,
				      "%s is unsigned: sign it, or create the "
				      "bundle with --mark-unsigned so that receivers can choose "
				      "to accept it unguarded",
				      path.ptr);
		if (!rc && !f.n_sigs)
			m->unsigned_ok = true;
		dd_apk_file_release(&f);
	}
	if (!rc && kind == DD_MEMBER_SECDB)
		rc = check_secdb(path.ptr);
out:
	dd_buf_release(&path);
	return rc;
}

static int collect(const char *dir, const struct dd_create_opts *o, struct dd_manifest *m)
{
	struct dd_bundle_src src;
	const char *rel;
	char type;
	uint64_t size;
	int rc = dd_bundle_src_open(dir, &src);

	if (!rc && !src.is_dir)
		rc = dd_error(DD_E_USAGE, "%s is not a directory", dir);
	while (!rc && (rc = dd_bundle_src_next(&src, &rel, &type, &size)) > 0) {
		if (type != DD_SRC_FILE) {
			rc = dd_error(DD_E_USAGE, "%s/%s: only regular files go into a bundle", dir,
				      rel);
			break;
		}
		DD_GROW(m->members, m->n_members);
		rc = describe(dir, rel, o, &m->members[m->n_members]);
		m->n_members++;
	}
	dd_bundle_src_close(&src);
	if (!rc && !m->n_members)
		rc = dd_error(DD_E_USAGE, "%s holds nothing to bundle", dir);
	return rc;
}

/* A member the site holds, per its receipt: a package blob it has, or
 * the entitlement manifest (and so its signature) it has. */
static bool site_holds(const struct dd_manifest *m, const struct dd_member *x,
		       const struct dd_receipt *r)
{
	if (x->kind == DD_MEMBER_APK)
		return dd_receipt_holds(r, x->sha256);
	if (x->kind != DD_MEMBER_ENTITLEMENT && x->kind != DD_MEMBER_ENTITLEMENT_SIG)
		return false;
	for (size_t i = 0; i < m->n_members; i++)
		if (m->members[i].kind == DD_MEMBER_ENTITLEMENT)
			return r->has_entitlement &&
			       !strcmp(m->members[i].sha256, r->entitlement_sha256);
	return false;
}

/* Leave out what the site holds; the upstream index stays (it is small,
 * and the import checks only the packages a bundle carries against it). */
static int leave_out(const char *dir, struct dd_create_opts *o, struct dd_manifest *m)
{
	size_t kept = 0;
	bool *drop = dd_xcalloc(m->n_members + 1, sizeof(bool));

	for (size_t i = 0; i < m->n_members; i++)
		drop[i] = site_holds(m, &m->members[i], o->since);
	for (size_t i = 0; i < m->n_members; i++) {
		if (drop[i]) {
			free(m->members[i].path);
			o->n_left_out++;
		} else {
			m->members[kept++] = m->members[i];
		}
	}
	m->n_members = kept;
	free(drop);
	if (!kept)
		return dd_error(DD_E_USAGE,
				"%s holds nothing the site does not have already (all "
				"%zu files are in its receipt): no bundle is needed",
				dir, o->n_left_out);
	return 0;
}

/* libarchive's message for a failed write, with the system's reason
 * ("Write error" alone does not say the disk is full). */
static int tar_error(struct archive *a, const char *name)
{
	int e = archive_errno(a);

	return dd_error(DD_E_IO, "member '%s': %s%s%s", name, archive_error_string(a),
			e > 0 ? ": " : "", e > 0 ? strerror(e) : "");
}

static int add_entry(struct archive *a, const char *name, int64_t mtime, uint64_t size,
		     const char *src, const struct dd_buf *mem)
{
	struct archive_entry *e = archive_entry_new();
	char buf[1 << 16];
	int rc = 0, fd = -1;
	ssize_t n;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = tar_error(a, name);
		goto out;
	}
	if (mem) {
		if (archive_write_data(a, mem->ptr, mem->len) < 0)
			rc = tar_error(a, name);
		goto out;
	}
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = dd_error_errno("%s", src);
		goto out;
	}
	while (!rc && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) < 0)
			rc = tar_error(a, name);
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static la_ssize_t write_part(struct archive *a, void *arg, const void *buf, size_t len)
{
	ssize_t n = dd_parts_write(arg, buf, len);

	if (n < 0)
		archive_set_error(a, EIO, "%s", dd_error_detail());
	return n;
}

static int add_all(struct archive *a, const char *dir, const struct dd_manifest *m,
		   const struct dd_buf *text, const struct dd_buf *sig)
{
	struct dd_buf src = DD_BUF_INIT;
	int rc = add_entry(a, DD_MANIFEST_NAME, m->created, text->len, NULL, text);

	if (!rc)
		rc = add_entry(a, DD_MANIFEST_SIG_NAME, m->created, sig->len, NULL, sig);
	for (size_t i = 0; !rc && i < m->n_members; i++) {
		dd_buf_reset(&src);
		dd_buf_addf(&src, "%s/%s", dir, m->members[i].path);
		rc = add_entry(a, m->members[i].path, m->created, m->members[i].size, src.ptr,
			       NULL);
	}
	dd_buf_release(&src);
	return rc;
}

/* Room for the manifest, its signature and their tar headers in part 1. */
static int check_split(const struct dd_create_opts *o, const struct dd_buf *text,
		       const struct dd_buf *sig)
{
	uint64_t need = DD_PART_HEADER + 1 + text->len + sig->len + (16u << 10);

	if (o->split >= need)
		return 0;
	return dd_error(DD_E_USAGE,
			"--split %llu is too small: the first part must hold the "
			"signed manifest (%zu bytes with its signature); give at least %lluK",
			(unsigned long long)o->split, text->len + sig->len,
			(unsigned long long)((need + 1023) >> 10));
}

static int write_tar(const char *dir, struct dd_create_opts *o, const struct dd_manifest *m,
		     const struct dd_buf *text, const struct dd_buf *sig, const char *out)
{
	struct dd_atomic f = { .fd = -1 };
	struct dd_parts_writer *w = NULL;
	struct archive *a = archive_write_new();
	char id[65];
	int rc = 0;

	archive_write_set_format_pax_restricted(a);
	if (ends_with(out, ".zst") || ends_with(out, ".tzst"))
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (o->split) {
		dd_sha256_hex(text->ptr, text->len, id);
		rc = dd_parts_writer_open(out, o->split, id, &w);
		if (!rc)
			rc = check_split(o, text, sig);
		if (!rc && archive_write_open(a, w, NULL, write_part, NULL) != ARCHIVE_OK)
			rc = tar_error(a, DD_MANIFEST_NAME);
	} else {
		rc = dd_atomic_open(&f, out);
		if (!rc && archive_write_open_fd(a, f.fd) != ARCHIVE_OK)
			rc = tar_error(a, DD_MANIFEST_NAME);
	}
	if (!rc)
		rc = add_all(a, dir, m, text, sig);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = tar_error(a, "(the end of the archive)");
	if (rc)
		rc = dd_error_prefix(rc, "%s", out);
	archive_write_free(a);
	if (!rc)
		rc = w ? dd_parts_writer_finish(w, &o->n_parts) : dd_atomic_commit(&f);
	dd_parts_writer_free(w);
	dd_atomic_abort(&f);
	return rc;
}

static int copy_file(const char *from, const char *to, const struct dd_buf *mem)
{
	struct dd_buf data = DD_BUF_INIT, dirs = DD_BUF_INIT;
	struct dd_atomic f;
	int rc = 0;

	dd_buf_adds(&dirs, to);
	for (char *p = dirs.ptr + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(dirs.ptr, 0755) < 0 && errno != EEXIST)
				rc = dd_error_errno("%s", dirs.ptr);
			*p = '/';
		}
	if (!rc && !mem)
		rc = dd_read_file(from, UINT64_MAX, &data);
	if (!rc)
		rc = dd_atomic_open(&f, to);
	if (!rc) {
		rc = dd_write_fd(&f.fd, mem ? mem->ptr : data.ptr, mem ? mem->len : data.len);
		if (!rc)
			rc = dd_atomic_commit(&f);
		dd_atomic_abort(&f);
	}
	dd_buf_release(&data);
	dd_buf_release(&dirs);
	return rc;
}

/* The manifest goes in last, so a half-copied directory is no bundle. */
static int write_dir(const char *dir, const struct dd_manifest *m, const struct dd_buf *text,
		     const struct dd_buf *sig, const char *out)
{
	struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < m->n_members; i++) {
		dd_buf_reset(&a);
		dd_buf_reset(&b);
		dd_buf_addf(&a, "%s/%s", dir, m->members[i].path);
		dd_buf_addf(&b, "%s/%s", out, m->members[i].path);
		rc = copy_file(a.ptr, b.ptr, NULL);
	}
	dd_buf_reset(&b);
	dd_buf_addf(&b, "%s/%s", out, DD_MANIFEST_SIG_NAME);
	if (!rc)
		rc = copy_file(NULL, b.ptr, sig);
	dd_buf_reset(&b);
	dd_buf_addf(&b, "%s/%s", out, DD_MANIFEST_NAME);
	if (!rc)
		rc = copy_file(NULL, b.ptr, text);
	dd_buf_release(&a);
	dd_buf_release(&b);
	return rc;
}

int dd_bundle_create(const char *dir, struct dd_create_opts *o, const char *out)
{
	struct dd_manifest m;
	struct dd_buf text = DD_BUF_INIT, sig = DD_BUF_INIT;
	int rc;

	memset(&m, 0, sizeof(m));
	m.channel = dd_xstrdup(o->channel);
	m.sequence = o->sequence;
	m.created = o->created;
	m.expires = o->expires;
	rc = collect(dir, o, &m);
	if (!rc && o->since)
		rc = leave_out(dir, o, &m);
	if (!rc) {
		dd_manifest_write(&m, &text);
		rc = dd_pgp_sign(o->gnupg_home, o->sign_key, text.ptr, text.len, &sig);
	}
	if (!rc && o->split && ends_with(out, "/"))
		rc = dd_error(DD_E_USAGE, "--split makes files: give -o NAME.tar or NAME.tar.zst, "
					  "not a directory");
	if (!rc)
		rc = ends_with(out, "/") ? write_dir(dir, &m, &text, &sig, out)
					 : write_tar(dir, o, &m, &text, &sig, out);
	dd_manifest_release(&m);
	dd_buf_release(&text);
	dd_buf_release(&sig);
	return rc;
}
