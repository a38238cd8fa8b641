#include "apk/read.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "apk/tar.h"
#include "core/error.h"
#include "core/gzip.h"
#include "core/hash.h"

/* Bounds on what a well-formed file can need (decompression bombs). */
#define MAX_SIG_SEGMENT (64u << 10)
#define MAX_SIG_SIZE    (16u << 10)
#define MAX_CONTROL     (8u << 20)
#define MAX_INDEX       (512u << 20)
#define DATA_SLACK      (1u << 20)
#define DATA_PER_ENTRY  2048u

struct reader {
	struct dd_gz *gz;
	struct dd_tar_reader tar;
	struct dd_apk_file *f;
	EVP_MD_CTX *md[3]; /* sha1, sha256, sha512 of the current member */
	EVP_MD_CTX *whole; /* sha256 of every member, when streaming */
	int flags;
	dd_apk_visit_fn visit;
	void *visit_ctx;
};

void dd_apk_checksum_str(const unsigned char sha1[20], char out[64])
{
	memcpy(out, "Q1", 2);
	EVP_EncodeBlock((unsigned char *)out + 2, sha1, 20);
}

#define MD_SHA1   1
#define MD_SHA256 2
#define MD_SHA512 4
#define MD_ALL    7

/* Start the next gzip member, hashing its compressed bytes with the
 * digests in mask (r->md[0..2] are SHA-1, SHA-256, SHA-512). */
static int begin_member(struct reader *r, int mask)
{
	static const char *names[3] = { "SHA1", "SHA256", "SHA512" };
	int rc = dd_gz_next(r->gz);

	if (rc <= 0)
		return rc;
	for (int i = 0; i < 3; i++) {
		if (!(mask & (1 << i)))
			continue;
		EVP_DigestInit_ex(r->md[i], EVP_get_digestbyname(names[i]), NULL);
		dd_gz_add_digest(r->gz, r->md[i]);
	}
	if (r->whole)
		dd_gz_add_digest(r->gz, r->whole);
	dd_tar_reader_init(&r->tar, dd_gz_read_cb, r->gz);
	return 1;
}

static void end_tar(struct reader *r)
{
	dd_tar_reader_release(&r->tar);
}

static int add_sig(struct dd_apk_file *f, const char *name, struct dd_tar_reader *t)
{
	static const struct {
		const char *prefix, *alg, *md;
	} algs[] = {
		{ ".SIGN.RSA512.", "RSA512", "SHA512" },
		{ ".SIGN.RSA256.", "RSA256", "SHA256" },
		{ ".SIGN.RSA.", "RSA", "SHA1" },
	};
	struct dd_apk_sig *s;

	for (size_t i = 0; i < 3; i++) {
		size_t plen = strlen(algs[i].prefix);
		int rc;

		if (strncmp(name, algs[i].prefix, plen) || !name[plen])
			continue;
		DD_GROW(f->sigs, f->n_sigs);
		s = &f->sigs[f->n_sigs++];
		memset(s, 0, sizeof(*s));
		s->keyname = dd_xstrdup(name + plen);
		s->alg = algs[i].alg;
		s->md = EVP_get_digestbyname(algs[i].md);
		rc = dd_tar_read_all(t, &s->data, MAX_SIG_SIZE);
		return rc;
	}
	return dd_error(DD_E_FORMAT, "signature member '%s' of an unknown kind", name);
}

/* The first member: signatures, or (unsigned) already the control. */
static int read_signatures(struct reader *r, bool *is_control)
{
	struct dd_tar_entry *e;
	int rc;

	dd_gz_set_limit(r->gz, MAX_SIG_SEGMENT);
	rc = dd_tar_next(&r->tar, &e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return dd_error(DD_E_FORMAT, "the first gzip member holds no tar "
					     "members: not an APK package or index");
	if (strncmp(e->path, ".SIGN.", 6)) {
		*is_control = true;
		return 0;
	}
	do {
		if (strncmp(e->path, ".SIGN.", 6))
			return dd_error(DD_E_FORMAT, "member '%s' in the signature segment",
					e->path);
		rc = add_sig(r->f, e->path, &r->tar);
		if (rc < 0)
			return rc;
	} while ((rc = dd_tar_next(&r->tar, &e)) > 0);
	if (rc < 0)
		return rc;
	return dd_gz_skip_member(r->gz);
}

static int control_entry(struct reader *r, struct dd_tar_entry *e)
{
	struct dd_apk_file *f = r->f;
	struct dd_buf text = DD_BUF_INIT;
	int rc = 0;

	if (!strcmp(e->path, ".PKGINFO")) {
		if (f->pkg.name)
			return dd_error(DD_E_FORMAT, "two .PKGINFO members");
		rc = dd_tar_read_all(&r->tar, &text, MAX_CONTROL);
		if (!rc)
			rc = dd_pkginfo_parse(dd_buf_blob(&text), &f->pkg);
	} else if (!strcmp(e->path, "APKINDEX") || !strcmp(e->path, "DESCRIPTION")) {
		struct dd_buf *dst = e->path[0] == 'A' ? &f->index_text : &f->description;

		f->kind = DD_APK_INDEX;
		dd_gz_set_limit(r->gz, MAX_INDEX);
		rc = dd_tar_read_all(&r->tar, dst, MAX_INDEX);
	} else if (e->path[0] == '.' && !strchr(e->path, '/')) {
		DD_GROW(f->scripts, f->n_scripts);
		DD_GROW(f->script_data, f->n_scripts);
		f->script_data[f->n_scripts] = (struct dd_buf)DD_BUF_INIT;
		f->scripts[f->n_scripts] = dd_xstrdup(e->path);
		rc = dd_tar_read_all(&r->tar, &f->script_data[f->n_scripts++], MAX_CONTROL);
	} else {
		rc = dd_error(DD_E_FORMAT, "unexpected member '%s' in the control segment",
			      e->path);
	}
	dd_buf_release(&text);
	return rc;
}

static int read_control(struct reader *r, bool already_open)
{
	struct dd_apk_file *f = r->f;
	struct dd_tar_entry *e;
	int rc;

	if (!already_open) {
		rc = begin_member(r, MD_ALL);
		if (rc <= 0)
			return rc ? rc
				  : dd_error(DD_E_TRUNCATED, "signature but no control segment");
		dd_gz_set_limit(r->gz, MAX_CONTROL);
		rc = dd_tar_next(&r->tar, &e);
		if (rc <= 0)
			return rc ? rc : dd_error(DD_E_FORMAT, "empty control segment");
	} else {
		e = &r->tar.e;
		dd_gz_set_limit(r->gz, MAX_CONTROL);
	}
	do {
		rc = control_entry(r, e);
		if (rc < 0)
			return rc;
	} while ((rc = dd_tar_next(&r->tar, &e)) > 0);
	if (rc < 0)
		return rc;
	rc = dd_gz_skip_member(r->gz);
	if (rc < 0)
		return rc;
	if (f->kind == DD_APK_PACKAGE && !f->pkg.name)
		return dd_error(DD_E_FORMAT, "no .PKGINFO: not an APK package or index");
	if (f->kind == DD_APK_INDEX && f->pkg.name)
		return dd_error(DD_E_FORMAT, "both .PKGINFO and APKINDEX");
	EVP_DigestFinal_ex(r->md[0], f->ctl_sha1, NULL);
	EVP_DigestFinal_ex(r->md[1], f->ctl_sha256, NULL);
	EVP_DigestFinal_ex(r->md[2], f->ctl_sha512, NULL);
	dd_apk_checksum_str(f->ctl_sha1, f->checksum);
	return 0;
}

static void add_problem(struct dd_apk_file *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_problem(struct dd_apk_file *f, const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	dd_buf_adds(&b, tmp);
	DD_GROW(f->problems, f->n_problems);
	f->problems[f->n_problems++] = dd_buf_detach(&b, NULL);
}

int dd_apk_check(const struct dd_apk_file *f, const char *path)
{
	if (!f->n_problems)
		return 0;
	return dd_error(DD_E_DIGEST, "%s: %s%s", path, f->problems[0],
			f->n_problems > 1 ? " (and more)" : "");
}

static int check_file_data(struct reader *r, struct dd_tar_entry *e)
{
	unsigned char buf[65536], d[20];
	char hex[41];
	EVP_MD_CTX *md;
	ssize_t n;

	if (r->flags & DD_APK_TRUST_FILE_SHA1) {
		while ((n = dd_tar_read(&r->tar, buf, sizeof(buf))) > 0)
			;
		return (int)n;
	}
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha1(), NULL);
	if (e->type == DD_TAR_SYMLINK)
		EVP_DigestUpdate(md, e->link, strlen(e->link));
	while ((n = dd_tar_read(&r->tar, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	if (n < 0)
		return (int)n;
	dd_hex(d, 20, hex);
	if (e->sha1[0] && e->type != DD_TAR_HARDLINK && strcmp(hex, e->sha1))
		add_problem(r->f,
			    "member '%s': content SHA1 %s does not match its "
			    "APK-TOOLS.checksum.SHA1 %s",
			    e->path, hex, e->sha1);
	return 0;
}

static void record_entry(struct dd_apk_file *f, const struct dd_tar_entry *e)
{
	struct dd_apk_entry *x;

	DD_GROW(f->files, f->n_files);
	x = &f->files[f->n_files++];
	x->path = dd_xstrdup(e->path);
	x->link = e->link ? dd_xstrdup(e->link) : NULL;
	x->type = e->type;
	x->mode = e->mode;
	x->uid = e->uid;
	x->gid = e->gid;
	x->uname = dd_xstrdup(e->uname);
	x->gname = dd_xstrdup(e->gname);
	x->size = e->size;
	x->mtime = e->mtime;
	memcpy(x->sha1, e->sha1, sizeof(x->sha1));
}

static int read_data(struct reader *r)
{
	struct dd_apk_file *f = r->f;
	uint64_t declared = f->pkg.installed_size, entries = 0;
	unsigned char d[32];
	struct dd_tar_entry *e;
	int rc = begin_member(r, MD_SHA256);

	if (rc <= 0)
		return rc ? rc : dd_error(DD_E_TRUNCATED, "no data segment (file truncated?)");
	dd_gz_set_limit(r->gz, declared + DATA_SLACK);
	while ((rc = dd_tar_next(&r->tar, &e)) > 0) {
		entries++;
		dd_gz_set_limit(r->gz, declared + DATA_SLACK + entries * DATA_PER_ENTRY);
		if (e->size > declared)
			return dd_error(DD_E_LIMIT,
					"member '%s' (%llu bytes) is larger than "
					"the package's declared size (%llu bytes)",
					e->path, (unsigned long long)e->size,
					(unsigned long long)declared);
		if (!e->path[0])
			continue; /* the root directory itself */
		if (r->visit) {
			rc = r->visit(r->visit_ctx, e, &r->tar);
			if (rc < 0)
				return rc;
			continue;
		}
		record_entry(f, e);
		rc = check_file_data(r, e);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	/* what follows the end blocks is padding; keep it bounded */
	dd_gz_set_limit(r->gz, dd_gz_out_bytes(r->gz) + DATA_SLACK);
	rc = dd_gz_skip_member(r->gz);
	if (rc < 0)
		return rc;
	EVP_DigestFinal_ex(r->md[1], d, NULL);
	dd_hex(d, 32, f->data_sha256);
	if (f->pkg.datahash[0] && strcmp(f->pkg.datahash, f->data_sha256))
		add_problem(f,
			    "data segment sha256 %s does not match the datahash %s in "
			    ".PKGINFO (the package was altered)",
			    f->data_sha256, f->pkg.datahash);
	return 0;
}

static int read_all(struct reader *r)
{
	bool ctl_open = false;
	int rc = begin_member(r, MD_ALL);

	if (rc <= 0)
		return rc ? rc : dd_error(DD_E_TRUNCATED, "empty file");
	rc = read_signatures(r, &ctl_open);
	if (rc < 0) {
		end_tar(r);
		return dd_error_prefix(rc, "signature segment");
	}
	if (!ctl_open)
		end_tar(r);
	rc = read_control(r, ctl_open);
	end_tar(r);
	if (rc < 0)
		return dd_error_prefix(rc, "control segment");
	if (r->flags & DD_APK_CONTROL_ONLY)
		return 0;
	if (r->f->kind == DD_APK_PACKAGE) {
		rc = read_data(r);
		end_tar(r);
		if (rc < 0)
			return dd_error_prefix(rc, "data segment");
	}
	rc = dd_gz_next(r->gz);
	if (rc > 0)
		return dd_error(DD_E_FORMAT, "unexpected gzip member %d after the %s segment",
				dd_gz_member(r->gz),
				r->f->kind == DD_APK_PACKAGE ? "data" : "index");
	return rc;
}

int dd_apk_read(const char *path, struct dd_apk_file *f)
{
	return dd_apk_read_flags(path, 0, f);
}

static int read_file(const char *path, struct reader *proto, struct dd_apk_file *f);

int dd_apk_read_flags(const char *path, int flags, struct dd_apk_file *f)
{
	struct reader r = { .flags = flags };

	return read_file(path, &r, f);
}

int dd_apk_stream(const char *path, const char *want_sha256, dd_apk_visit_fn visit, void *ctx,
		  struct dd_apk_file *f)
{
	struct reader r = { .flags = DD_APK_TRUST_FILE_SHA1, .visit = visit, .visit_ctx = ctx };
	unsigned char d[32];
	char hex[65];
	int rc;

	r.whole = EVP_MD_CTX_new();
	EVP_DigestInit_ex(r.whole, EVP_sha256(), NULL);
	rc = read_file(path, &r, f);
	EVP_DigestFinal_ex(r.whole, d, NULL);
	EVP_MD_CTX_free(r.whole);
	if (rc)
		return rc;
	dd_hex(d, 32, hex);
	if (want_sha256 && strcmp(hex, want_sha256))
		rc = dd_error(DD_E_DIGEST,
			      "%s: its sha256 is %s, not %s (the file was altered "
			      "after it was stored)",
			      path, hex, want_sha256);
	else
		rc = dd_apk_check(f, path);
	if (rc)
		dd_apk_file_release(f);
	return rc;
}

static int read_file(const char *path, struct reader *proto, struct dd_apk_file *f)
{
	struct reader r = *proto;
	struct stat st;
	int fd, rc;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dd_error_errno("%s", path);
	if (fstat(fd, &st) == 0)
		f->file_size = (uint64_t)st.st_size;
	r.f = f;
	for (int i = 0; i < 3; i++)
		r.md[i] = EVP_MD_CTX_new();
	r.gz = dd_gz_open(fd);
	rc = read_all(&r);
	dd_gz_close(r.gz);
	for (int i = 0; i < 3; i++)
		EVP_MD_CTX_free(r.md[i]);
	close(fd);
	if (rc < 0) {
		dd_apk_file_release(f);
		return dd_error_prefix(rc, "%s", path);
	}
	return 0;
}

void dd_apk_file_release(struct dd_apk_file *f)
{
	for (size_t i = 0; i < f->n_sigs; i++) {
		free(f->sigs[i].keyname);
		dd_buf_release(&f->sigs[i].data);
	}
	free(f->sigs);
	for (size_t i = 0; i < f->n_scripts; i++) {
		free(f->scripts[i]);
		dd_buf_release(&f->script_data[i]);
	}
	free(f->scripts);
	free(f->script_data);
	for (size_t i = 0; i < f->n_files; i++) {
		free(f->files[i].path);
		free(f->files[i].link);
		free(f->files[i].uname);
		free(f->files[i].gname);
	}
	free(f->files);
	dd_apk_pkg_release(&f->pkg);
	dd_buf_release(&f->index_text);
	dd_buf_release(&f->description);
	for (size_t i = 0; i < f->n_problems; i++)
		free(f->problems[i]);
	free(f->problems);
	memset(f, 0, sizeof(*f));
}

static const unsigned char *digest_for(const struct dd_apk_file *f, const struct dd_apk_sig *s,
				       size_t *len)
{
	*len = (size_t)EVP_MD_get_size(s->md);
	if (*len == 20)
		return f->ctl_sha1;
	return *len == 32 ? f->ctl_sha256 : f->ctl_sha512;
}

enum dd_sig_status dd_apk_verify(const struct dd_apk_file *f, const struct dd_keyring *kr,
				 const struct dd_apk_sig **good, const char **goodkey)
{
	bool bad = false;

	if (!f->n_sigs)
		return DD_SIG_UNSIGNED;
	for (size_t i = 0; i < f->n_sigs; i++) {
		const struct dd_apk_sig *s = &f->sigs[i];
		const struct dd_key *k = dd_keyring_find(kr, s->keyname);
		size_t dlen;
		const unsigned char *d = digest_for(f, s, &dlen);

		if (!k)
			continue;
		if (dd_rsa_verify(k->pkey, s->md, d, dlen, s->data.ptr, s->data.len) == 0) {
			*good = s;
			*goodkey = k->name;
			return DD_SIG_VALID;
		}
		bad = true;
	}
	for (size_t i = 0; i < f->n_sigs; i++) {
		const struct dd_apk_sig *s = &f->sigs[i];
		size_t dlen;
		const unsigned char *d = digest_for(f, s, &dlen);

		if (dd_keyring_find(kr, s->keyname))
			continue;
		for (size_t k = 0; k < kr->n; k++)
			if (dd_rsa_verify(kr->keys[k].pkey, s->md, d, dlen, s->data.ptr,
					  s->data.len) == 0) {
				*good = s;
				*goodkey = kr->keys[k].name;
				return DD_SIG_VALID;
			}
	}
	return bad ? DD_SIG_BAD : DD_SIG_UNKNOWN_KEY;
}

const char *dd_sig_status_str(enum dd_sig_status s)
{
	switch (s) {
	case DD_SIG_VALID:
		return "valid";
	case DD_SIG_UNKNOWN_KEY:
		return "signed by an unknown key";
	case DD_SIG_BAD:
		return "BAD signature";
	case DD_SIG_UNSIGNED:
		return "unsigned";
	}
	return "?";
}
