#include "bundle/import.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "advisory/secdb.h"
#include "apk/tar.h"
#include "bundle/source.h"
#include "core/compress.h"
#include "core/crash.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/progress.h"
#include "core/time.h"
#include "store/insert.h"
#include "store/secdb.h"

#define MAX_SIG (64u << 10)

/* ---- reading the stream ------------------------------------------------ */

static int read_small(struct dd_bundle_src *src, const char *name, uint64_t max, struct dd_buf *out)
{
	char buf[65536];
	ssize_t n;

	dd_buf_reset(out);
	while ((n = dd_bundle_src_read(src, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)n > max)
			return dd_error(DD_E_LIMIT, "%s is larger than %llu bytes", name,
					(unsigned long long)max);
		dd_buf_add(out, buf, (size_t)n);
	}
	return (int)n;
}

static int expect_entry(struct dd_bundle_src *src, const char *want, uint64_t max,
			struct dd_buf *out)
{
	const char *path;
	char type;
	uint64_t size;
	int rc = dd_bundle_src_next(src, &path, &type, &size);

	if (rc < 0)
		return rc;
	if (rc == 0 || strcmp(path, want))
		return dd_error(DD_E_FORMAT,
				"the bundle does not start with %s and %s (%s "
				"comes first): not a drydock bundle, or damaged",
				DD_MANIFEST_NAME, DD_MANIFEST_SIG_NAME, rc ? path : "nothing");
	if (type != DD_SRC_FILE)
		return dd_error(DD_E_UNSAFE_PATH, "%s is not a regular file", want);
	return read_small(src, want, max, out);
}

int dd_bundle_peek(const char *path, struct dd_manifest *m, char digest[65])
{
	struct dd_bundle_src src;
	struct dd_buf text = DD_BUF_INIT;
	int rc = dd_bundle_src_open(path, &src);

	memset(m, 0, sizeof(*m));
	if (!rc)
		rc = expect_entry(&src, DD_MANIFEST_NAME, DD_MANIFEST_MAX, &text);
	dd_bundle_src_close(&src);
	if (!rc)
		rc = dd_manifest_parse(dd_buf_blob(&text), m);
	if (!rc)
		dd_sha256_hex(text.ptr, text.len, digest);
	dd_buf_release(&text);
	return rc ? dd_error_prefix(rc, "%s", path) : 0;
}

/* ---- trust ------------------------------------------------------------ */

static int check_pgp(const struct dd_trust *t, enum dd_role role, const char *what,
		     const struct dd_buf *data, const struct dd_buf *sig, char fpr[41])
{
	enum dd_role other = role == DD_ROLE_BUNDLE ? DD_ROLE_ENTITLEMENT : DD_ROLE_BUNDLE;
	int rc = dd_pgp_verify(t->pgp, data->ptr, data->len, sig->ptr, sig->len, fpr);

	if (rc == DD_E_SIG_UNKNOWN)
		return dd_error(DD_E_SIG_UNKNOWN,
				"%s is signed by key %s, which is not a "
				"trusted %s key; if you trust it, add it with 'drydock trust add "
				"--role %s KEYFILE'",
				what, fpr, dd_role_str(role), dd_role_str(role));
	if (rc)
		return dd_error_prefix(rc, "%s", what);
	if (dd_trust_has(t, role, fpr))
		return 0;
	if (dd_trust_has(t, other, fpr))
		return dd_error(DD_E_SIG_UNKNOWN,
				"%s is signed by key %s, which is trusted "
				"for %ss only, not for %ss",
				what, fpr, dd_role_str(other), dd_role_str(role));
	return dd_error(DD_E_SIG_UNKNOWN,
			"%s is signed by key %s, which is not trusted "
			"for %ss; add it with 'drydock trust add --role %s KEYFILE'",
			what, fpr, dd_role_str(role), dd_role_str(role));
}

/* ---- the mirror's rules ----------------------------------------------- */

static int check_sequence(struct dd_store *s, struct dd_checked *c)
{
	const struct dd_manifest *m = &c->manifest;
	char digest[65] = "";
	int64_t have;
	int rc;

	rc = dd_index_bundle_sequence(s, c->digest, &have);
	if (rc < 0)
		return rc;
	if (rc) {
		c->verdict = DD_VERDICT_ALREADY;
		return 0;
	}
	rc = dd_index_channel_head(s, m->channel, &have, digest);
	if (rc <= 0)
		return rc;
	if ((int64_t)m->sequence == have)
		return dd_error(DD_E_SIG_BAD,
				"equivocation: channel '%s' sequence %llu was "
				"already imported with a different manifest (%.16s…, this one "
				"%.16s…); the sender signed two different bundles with one "
				"sequence number: report it and do not use either",
				m->channel, (unsigned long long)m->sequence, digest, c->digest);
	if ((int64_t)m->sequence < have)
		return dd_error(DD_E_SIG_BAD,
				"rollback: channel '%s' is at sequence %lld and "
				"this bundle has %llu; an older bundle cannot be imported (ask "
				"for the current one)",
				m->channel, (long long)have, (unsigned long long)m->sequence);
	return 0;
}

static int check_expiry(const struct dd_manifest *m, const struct dd_import_opts *o,
			struct dd_checked *c)
{
	char when[32];

	if (m->expires > dd_time_now())
		return 0;
	dd_time_format(m->expires, when);
	if (!o->allow_expired)
		return dd_error(DD_E_SIG_BAD,
				"the bundle expired on %s; ask for a fresh "
				"one, or import it anyway with --allow-expired (recorded in the "
				"audit log)",
				when);
	c->expired = true;
	return 0;
}

static int check_space(const char *dir, const struct dd_manifest *m)
{
	struct statvfs sv;
	uint64_t need = 1u << 20, have;

	for (size_t i = 0; i < m->n_members; i++)
		need += m->members[i].size;
	if (statvfs(dir, &sv) < 0)
		return dd_error_errno("%s", dir);
	have = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (have < need)
		return dd_error(DD_E_IO,
				"not enough space in %s: the bundle needs %llu MB, "
				"%llu MB are free; free some space and import again",
				dir, (unsigned long long)(need >> 20),
				(unsigned long long)(have >> 20));
	return 0;
}

/* ---- members ---------------------------------------------------------- */

/* Members and bytes read. */
static void progress(struct dd_progress *p, const struct dd_checked *c, size_t done, bool last)
{
	char label[64];

	snprintf(label, sizeof(label), "%zu/%zu members", done, c->manifest.n_members);
	if (last)
		dd_progress_end(p, label, (double)c->bytes);
	else
		dd_progress_show(p, label, (double)c->bytes);
}

static int stage_member(struct dd_bundle_src *src, const char *dir, struct dd_checked_member *cm,
			uint64_t header_size, uint64_t *bytes)
{
	const struct dd_member *m = cm->m;
	char buf[1 << 16];
	ssize_t n;
	int rc;

	if (header_size != m->size)
		return dd_error(DD_E_DIGEST, "member '%s' is %llu bytes, the manifest says %llu",
				m->path, (unsigned long long)header_size,
				(unsigned long long)m->size);
	rc = dd_staged_begin_in(dir, &cm->staged);
	while (!rc && (n = dd_bundle_src_read(src, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return (int)n;
		*bytes += (uint64_t)n;
		if (cm->staged.size + (uint64_t)n > m->size)
			return dd_error(DD_E_DIGEST,
					"member '%s' is larger than the %llu bytes "
					"the manifest says",
					m->path, (unsigned long long)m->size);
		rc = dd_staged_write(&cm->staged, buf, (size_t)n);
	}
	if (!rc && cm->staged.size != m->size)
		return dd_error(DD_E_TRUNCATED,
				"member '%s' ends after %llu of %llu bytes "
				"(bundle truncated?)",
				m->path, (unsigned long long)cm->staged.size,
				(unsigned long long)m->size);
	if (!rc)
		rc = dd_staged_finish(&cm->staged);
	if (!rc && strcmp(cm->staged.sha256, m->sha256))
		return dd_error(DD_E_DIGEST,
				"member '%s' has sha256 %s, the manifest says %s "
				"(damaged or altered in transit)",
				m->path, cm->staged.sha256, m->sha256);
	return rc;
}

static int check_package(const struct dd_trust *t, const struct dd_import_opts *o,
			 struct dd_checked_member *cm)
{
	const struct dd_apk_sig *sig = NULL;
	const char *key = NULL;
	enum dd_sig_status st;
	int rc = dd_apk_read_flags(cm->staged.path, DD_APK_TRUST_FILE_SHA1, &cm->apk);

	if (!rc)
		rc = dd_apk_check(&cm->apk, cm->staged.path);
	if (rc)
		return dd_error_prefix(rc, "package '%s'", cm->m->path);
	if (cm->apk.kind != DD_APK_PACKAGE)
		return dd_error(DD_E_FORMAT, "'%s' is an index, not a package", cm->m->path);
	st = dd_apk_verify(&cm->apk, &t->apk, &sig, &key);
	if (st == DD_SIG_VALID) {
		cm->signer = key;
		return 0;
	}
	if (st == DD_SIG_BAD)
		return dd_error(DD_E_SIG_BAD,
				"package '%s': BAD signature; it was altered "
				"after signing",
				cm->m->path);
	if (cm->m->unsigned_ok && o->allow_unsigned_packages)
		return 0; /* stored unguarded: no trusted signature */
	return dd_error(st == DD_SIG_UNSIGNED ? DD_E_UNSIGNED : DD_E_SIG_UNKNOWN,
			"package '%s' is %s%s%s; trust its key with 'drydock trust add --role "
			"apk KEY.rsa.pub'%s",
			cm->m->path, dd_sig_status_str(st), cm->apk.n_sigs ? " " : "",
			cm->apk.n_sigs ? cm->apk.sigs[0].keyname : "",
			cm->m->unsigned_ok ? ", or import with --allow-unsigned-packages to "
					     "store it unguarded"
					   : "");
}

static int check_index(const struct dd_trust *t, struct dd_checked_member *cm)
{
	const struct dd_apk_sig *sig = NULL;
	const char *key = NULL;
	enum dd_sig_status st;
	int rc = dd_apk_read(cm->staged.path, &cm->apk);

	if (rc)
		return dd_error_prefix(rc, "index '%s'", cm->m->path);
	if (cm->apk.kind != DD_APK_INDEX)
		return dd_error(DD_E_FORMAT, "'%s' is not an index", cm->m->path);
	st = dd_apk_verify(&cm->apk, &t->apk, &sig, &key);
	if (st != DD_SIG_VALID)
		return dd_error(st == DD_SIG_BAD ? DD_E_SIG_BAD : DD_E_SIG_UNKNOWN,
				"index '%s' is %s%s%s; trust its key with 'drydock trust add "
				"--role apk KEY.rsa.pub'",
				cm->m->path, dd_sig_status_str(st), cm->apk.n_sigs ? " " : "",
				cm->apk.n_sigs ? cm->apk.sigs[0].keyname : "");
	cm->signer = key;
	return 0;
}

/* A secdb must parse: a damaged feed would silently hide advisories. */
static int check_secdb(struct dd_checked_member *cm)
{
	struct dd_buf text = DD_BUF_INIT;
	struct dd_secdb db;
	int rc = dd_read_file(cm->staged.path, DD_SECDB_MAX, &text);

	if (!rc)
		rc = dd_secdb_parse(dd_buf_blob(&text), cm->m->path, &db);
	if (!rc)
		dd_secdb_release(&db);
	dd_buf_release(&text);
	if (rc)
		return dd_error_prefix(rc, "security database");
	return 0;
}

/* Stage one streamed member after checking it is the one listed. */
static int take_member(struct dd_bundle_src *src, const char *dir, struct dd_checked *c,
		       const char *path, char type, uint64_t size)
{
	struct dd_member *m = dd_manifest_find(&c->manifest, path);
	struct dd_checked_member *cm;

	if (!dd_tar_path_safe(path))
		return dd_error(DD_E_UNSAFE_PATH, "member '%s': absolute path or '..'", path);
	if (!m)
		return dd_error(DD_E_FORMAT, "member '%s' is not listed in the manifest", path);
	cm = &c->members[m - c->manifest.members];
	if (cm->m)
		return dd_error(DD_E_FORMAT, "member '%s' appears twice", path);
	cm->m = m;
	if (type != DD_SRC_FILE)
		return dd_error(DD_E_UNSAFE_PATH, "member '%s' is a %s, not a regular file", path,
				type == DD_SRC_LINK ? "link" : "device or other special file");
	return stage_member(src, dir, cm, size, &c->bytes);
}

/*
 * Checking a package means inflating all of it, which costs more than
 * staging it: worker threads (one per core but the streaming one) do it
 * while the stream goes on, and once the stream ends the streaming thread
 * checks what is still queued too.  Work items carry their position in
 * the stream so that, whichever thread finds a problem first, the one
 * reported is the earliest in the bundle.
 */
struct verifier {
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *queue, head, tail; /* member indices; positions are queue slots */
	bool done;
	int rc;
	size_t failed_at; /* stream position of the first failure */
	char *detail;
	const struct dd_trust *t;
	const struct dd_import_opts *o;
	struct dd_checked *c;
};

static int verify_member(struct verifier *v, size_t i)
{
	struct dd_checked_member *cm = &v->c->members[i];

	if (cm->m->kind == DD_MEMBER_APK)
		return check_package(v->t, v->o, cm);
	if (cm->m->kind == DD_MEMBER_APKINDEX)
		return check_index(v->t, cm);
	if (cm->m->kind == DD_MEMBER_SECDB)
		return check_secdb(cm);
	return 0;
}

static void record_failure(struct verifier *v, int rc, size_t pos)
{
	if (v->rc && v->failed_at <= pos)
		return;
	v->rc = rc;
	v->failed_at = pos;
	free(v->detail);
	v->detail = dd_xstrdup(dd_error_detail());
}

/* Check queued members until the queue is empty and the stream done. */
static void work(struct verifier *v)
{
	pthread_mutex_lock(&v->mu);
	for (;;) {
		size_t pos, i;
		int rc;

		while (v->head == v->tail && !v->done)
			pthread_cond_wait(&v->cv, &v->mu);
		if (v->head == v->tail)
			break;
		pos = v->head++;
		i = v->queue[pos];
		if (v->rc)
			continue; /* already refused: drain */
		pthread_mutex_unlock(&v->mu);
		rc = verify_member(v, i);
		pthread_mutex_lock(&v->mu);
		if (rc)
			record_failure(v, rc, pos);
	}
	pthread_mutex_unlock(&v->mu);
}

static void *verify_thread(void *arg)
{
	work(arg);
	return NULL;
}

static int verifier_start(struct verifier *v, const struct dd_trust *t,
			  const struct dd_import_opts *o, struct dd_checked *c)
{
	int n = dd_ncpus() - 1;

	memset(v, 0, sizeof(*v));
	v->t = t;
	v->o = o;
	v->c = c;
	v->queue = dd_xcalloc(c->manifest.n_members + 1, sizeof(size_t));
	v->threads = dd_xcalloc((size_t)(n < 1 ? 1 : n), sizeof(*v->threads));
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	for (int k = 0; k < (n < 1 ? 1 : n); k++) {
		if (pthread_create(&v->threads[k], NULL, verify_thread, v))
			break;
		v->n_threads++;
	}
	if (!v->n_threads) {
		free(v->queue);
		free(v->threads);
		return dd_error(DD_E_INTERNAL, "cannot start a thread");
	}
	return 0;
}

static void verifier_push(struct verifier *v, size_t i)
{
	pthread_mutex_lock(&v->mu);
	v->queue[v->tail++] = i;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

static bool verifier_failed(struct verifier *v)
{
	bool failed;

	pthread_mutex_lock(&v->mu);
	failed = v->rc != 0;
	pthread_mutex_unlock(&v->mu);
	return failed;
}

/* Wait for the checks; combine with the stream's result rc, which arose
 * at stream position pos.  Returns the earliest failure. */
static int verifier_finish(struct verifier *v, int rc, size_t pos)
{
	pthread_mutex_lock(&v->mu);
	v->done = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	work(v); /* the stream is over: this thread helps with what is left */
	for (int k = 0; k < v->n_threads; k++)
		pthread_join(v->threads[k], NULL);
	if (v->rc && (!rc || v->failed_at < pos))
		rc = dd_error(v->rc, "%s", v->detail);
	free(v->detail);
	free(v->queue);
	free(v->threads);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
	return rc;
}

/* ---- after the stream ------------------------------------------------- */

static struct dd_checked_member *member_of_kind(struct dd_checked *c, enum dd_member_kind k)
{
	for (size_t i = 0; i < c->manifest.n_members; i++)
		if (c->members[i].m && c->members[i].m->kind == k)
			return &c->members[i];
	return NULL;
}

static int check_entitlement(const struct dd_trust *t, struct dd_store *s,
			     const struct dd_import_opts *o, struct dd_checked *c)
{
	struct dd_checked_member *doc = member_of_kind(c, DD_MEMBER_ENTITLEMENT);
	struct dd_checked_member *sig = member_of_kind(c, DD_MEMBER_ENTITLEMENT_SIG);
	struct dd_buf text = DD_BUF_INIT, sigb = DD_BUF_INIT;
	char when[32], have_sha[65] = "";
	int64_t have;
	int rc;

	if (!doc && !sig)
		return 0;
	if (!doc || !sig)
		return dd_error(DD_E_UNSIGNED, "the bundle has %s without %s",
				doc ? DD_ENTITLEMENT_NAME : DD_ENTITLEMENT_SIG_NAME,
				doc ? DD_ENTITLEMENT_SIG_NAME : DD_ENTITLEMENT_NAME);
	rc = dd_read_file(doc->staged.path, DD_MANIFEST_MAX, &text);
	if (!rc)
		rc = dd_read_file(sig->staged.path, MAX_SIG, &sigb);
	if (!rc)
		rc = check_pgp(t, DD_ROLE_ENTITLEMENT, "the entitlement manifest", &text, &sigb,
			       c->entitlement_signer);
	if (!rc)
		rc = dd_entitlement_parse(dd_buf_blob(&text), &c->entitlement);
	if (rc)
		goto out;
	c->has_entitlement = true;
	if (c->entitlement.expires <= dd_time_now() && !o->repair) {
		dd_time_format(c->entitlement.expires, when);
		rc = dd_error(DD_E_SIG_BAD,
			      "the entitlement manifest (version %llu) expired on "
			      "%s; ask the vendor for a current one",
			      (unsigned long long)c->entitlement.version, when);
		goto out;
	}
	c->entitlement_is_new = true;
	if (!s)
		goto out;
	rc = dd_index_latest_entitlement(s, &have, have_sha);
	if (rc <= 0)
		goto out;
	rc = 0;
	if ((int64_t)c->entitlement.version > have)
		goto out;
	if ((int64_t)c->entitlement.version == have && !strcmp(have_sha, doc->m->sha256)) {
		c->entitlement_is_new = false;
		goto out;
	}
	rc = dd_error(DD_E_SIG_BAD,
		      "the entitlement manifest has version %llu, but the "
		      "mirror already has version %lld%s; only a newer version can replace it",
		      (unsigned long long)c->entitlement.version, (long long)have,
		      (int64_t)c->entitlement.version == have ? " with different content" : "");
out:
	dd_buf_release(&text);
	dd_buf_release(&sigb);
	return rc;
}

static bool same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* A package the index lists (same name, version, arch) must be that one. */
static int check_one_index(struct dd_checked *c, const struct dd_checked_member *ix)
{
	struct dd_apk_pkg *pkgs = NULL;
	size_t n = 0;
	int rc = dd_apkindex_parse(dd_buf_blob(&ix->apk.index_text), &pkgs, &n);

	for (size_t i = 0; !rc && i < c->manifest.n_members; i++) {
		const struct dd_checked_member *cm = &c->members[i];
		const struct dd_apk_pkg *p = &cm->apk.pkg;

		if (cm->m->kind != DD_MEMBER_APK)
			continue;
		for (size_t j = 0; j < n && !rc; j++)
			if (same(pkgs[j].name, p->name) && same(pkgs[j].version, p->version) &&
			    same(pkgs[j].arch, p->arch) &&
			    strcmp(pkgs[j].checksum, cm->apk.checksum))
				rc = dd_error(DD_E_DIGEST,
					      "package '%s' (%s-%s) is not the one "
					      "index '%s' lists (checksum %s, index %s)",
					      cm->m->path, p->name, p->version, ix->m->path,
					      cm->apk.checksum, pkgs[j].checksum);
	}
	dd_apk_pkgs_free(pkgs, n);
	return rc;
}

/* Packages must match every upstream index the bundle carries. */
static int check_against_index(struct dd_checked *c)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < c->manifest.n_members; i++)
		if (c->members[i].m->kind == DD_MEMBER_APKINDEX)
			rc = check_one_index(c, &c->members[i]);
	return rc;
}

/* A name-version-arch already in the mirror must be the same blob. */
static int check_known_packages(struct dd_store *s, struct dd_checked *c)
{
	for (size_t i = 0; i < c->manifest.n_members; i++)
		for (size_t j = 0; j < i; j++) {
			const struct dd_checked_member *a = &c->members[i], *b = &c->members[j];

			if (a->m->kind == DD_MEMBER_APK && b->m->kind == DD_MEMBER_APK &&
			    same(a->apk.pkg.name, b->apk.pkg.name) &&
			    same(a->apk.pkg.version, b->apk.pkg.version) &&
			    same(a->apk.pkg.arch, b->apk.pkg.arch))
				return dd_error(DD_E_FORMAT, "'%s' and '%s' are both %s-%s (%s)",
						b->m->path, a->m->path, a->apk.pkg.name,
						a->apk.pkg.version, a->apk.pkg.arch);
		}

	for (size_t i = 0; i < c->manifest.n_members; i++) {
		struct dd_checked_member *cm = &c->members[i];
		const struct dd_apk_pkg *p = &cm->apk.pkg;
		char have[65];
		int rc;

		if (cm->m->kind != DD_MEMBER_APK)
			continue;
		rc = dd_index_package_blob(s, p->name, p->version, p->arch ? p->arch : "", have);
		if (rc < 0)
			return rc;
		cm->new_package = rc == 0;
		if (rc > 0 && strcmp(have, cm->m->sha256))
			return dd_error(DD_E_DIGEST,
					"package %s-%s (%s) is already in the mirror "
					"with different content; a package version cannot change",
					p->name, p->version, p->arch ? p->arch : "noarch");
	}
	return 0;
}

/* ---- the whole check -------------------------------------------------- */

/* The manifest and its signature, read and kept; nothing checked yet. */
static int read_head(struct dd_bundle_src *src, struct dd_checked *c)
{
	int rc = expect_entry(src, DD_MANIFEST_NAME, DD_MANIFEST_MAX, &c->manifest_text);

	if (!rc)
		rc = expect_entry(src, DD_MANIFEST_SIG_NAME, MAX_SIG, &c->manifest_sig);
	if (rc)
		return rc;
	dd_sha256_hex(c->manifest_text.ptr, c->manifest_text.len, c->digest);
	if (dd_bundle_src_part_id(src) && strcmp(dd_bundle_src_part_id(src), c->digest))
		return dd_error(DD_E_FORMAT,
				"the parts say they carry bundle %.16s…, but the "
				"manifest in the first part is %.16s…: parts of different bundles",
				dd_bundle_src_part_id(src), c->digest);
	return 0;
}

/* The signature before anything else, then the manifest. */
static int check_head(const struct dd_trust *t, struct dd_checked *c)
{
	int rc = check_pgp(t, DD_ROLE_BUNDLE, "the bundle manifest", &c->manifest_text,
			   &c->manifest_sig, c->signer);

	if (!rc)
		rc = dd_manifest_parse(dd_buf_blob(&c->manifest_text), &c->manifest);
	if (!rc)
		c->members = dd_xcalloc(c->manifest.n_members + 1, sizeof(*c->members));
	return rc;
}

static int read_members(struct dd_bundle_src *src, const struct dd_trust *t, const char *dir,
			const struct dd_import_opts *o, struct dd_checked *c)
{
	struct verifier v;
	struct dd_progress p;
	uint64_t total = 0;
	const char *path;
	char type;
	uint64_t size;
	size_t done = 0;
	int rc = verifier_start(&v, t, o, c);

	if (rc)
		return rc;
	for (size_t i = 0; i < c->manifest.n_members; i++)
		total += c->manifest.members[i].size;
	dd_progress_begin_bytes(&p, o->progress, total);
	while ((rc = dd_bundle_src_next(src, &path, &type, &size)) > 0) {
		rc = take_member(src, dir, c, path, type, size);
		if (rc)
			break;
		verifier_push(&v,
			      (size_t)(dd_manifest_find(&c->manifest, path) - c->manifest.members));
		progress(&p, c, ++done, false);
		if (done == 1)
			dd_crash_point("mid-stream");
		if (verifier_failed(&v))
			break;
	}
	rc = verifier_finish(&v, rc, done);
	progress(&p, c, done, true);
	for (size_t i = 0; !rc && i < c->manifest.n_members; i++)
		if (!c->members[i].m)
			rc = dd_error(DD_E_TRUNCATED,
				      "member '%s' is listed in the manifest but "
				      "missing from the bundle",
				      c->manifest.members[i].path);
	return rc;
}

static void close_src(struct dd_checked *c);

int dd_bundle_open(const char *path, struct dd_checked *c, struct dd_manifest *hint)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (hint)
		memset(hint, 0, sizeof(*hint));
	c->src = dd_xcalloc(1, sizeof(*c->src));
	rc = dd_bundle_src_open(path, c->src);
	if (!rc)
		rc = read_head(c->src, c);
	if (rc)
		rc = dd_bundle_src_blame(c->src, rc);
	if (!rc && hint && dd_manifest_parse(dd_buf_blob(&c->manifest_text), hint)) {
		dd_manifest_release(hint);
		memset(hint, 0, sizeof(*hint));
	}
	if (rc) {
		c->open_rc = rc;
		c->open_detail = dd_xstrdup(dd_error_detail());
	}
	return rc;
}

int dd_bundle_check_open(const struct dd_trust *t, struct dd_store *s, const char *stage_dir,
			 const struct dd_import_opts *o, struct dd_checked *c)
{
	int rc = c->open_rc ? dd_error(c->open_rc, "%s", c->open_detail) : 0;

	if (!rc)
		rc = check_head(t, c);
	if (!rc && s)
		rc = check_sequence(s, c);
	if (!rc && c->verdict == DD_VERDICT_ALREADY)
		goto out;
	if (!rc)
		rc = check_expiry(&c->manifest, o, c);
	if (!rc && s)
		rc = check_space(o->space_dir ? o->space_dir : stage_dir, &c->manifest);
	if (!rc)
		rc = read_members(c->src, t, stage_dir, o, c);
	if (!rc)
		rc = check_entitlement(t, s, o, c);
	if (!rc)
		rc = check_against_index(c);
	if (!rc && s)
		rc = check_known_packages(s, c);
out:
	if (rc && c->src)
		rc = dd_bundle_src_blame(c->src, rc);
	close_src(c);
	if (rc)
		c->verdict = DD_VERDICT_REFUSED;
	return rc;
}

int dd_bundle_check(const char *path, const struct dd_trust *t, struct dd_store *s,
		    const char *stage_dir, const struct dd_import_opts *o, struct dd_checked *c)
{
	dd_bundle_open(path, c, NULL);
	return dd_bundle_check_open(t, s, stage_dir, o, c);
}

static void close_src(struct dd_checked *c)
{
	if (c->src)
		dd_bundle_src_close(c->src);
	free(c->src);
	c->src = NULL;
}

void dd_checked_release(struct dd_checked *c)
{
	close_src(c);
	free(c->open_detail);
	for (size_t i = 0; c->members && i < c->manifest.n_members; i++) {
		dd_staged_discard(&c->members[i].staged);
		dd_apk_file_release(&c->members[i].apk);
	}
	free(c->members);
	dd_manifest_release(&c->manifest);
	dd_entitlement_release(&c->entitlement);
	dd_buf_release(&c->manifest_text);
	dd_buf_release(&c->manifest_sig);
	memset(c, 0, sizeof(*c));
}

/* ---- commit ----------------------------------------------------------- */

static int insert_bundle(struct dd_store *s, const struct dd_checked *c)
{
	const struct dd_manifest *m = &c->manifest;
	struct dd_index_bundle b = {
		.digest = c->digest,
		.channel = m->channel,
		.signer = c->signer,
		.sequence = (int64_t)m->sequence,
		.created = m->created,
		.expires = m->expires,
		.expired_allowed = c->expired,
	};

	return dd_index_insert_bundle(s, &b);
}

static int insert_members(struct dd_store *s, const struct dd_checked *c)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < c->manifest.n_members; i++) {
		const struct dd_member *m = &c->manifest.members[i];
		const char *kind = dd_member_kind_str(m->kind);

		rc = dd_index_insert_blob(s, m->sha256, m->size, kind);
		if (!rc)
			rc = dd_index_insert_member(s, c->digest, m->path, m->sha256, m->size,
						    kind);
	}
	return rc;
}

static int insert_package(struct dd_store *s, const struct dd_checked *c,
			  const struct dd_checked_member *cm)
{
	struct dd_index_package p = {
		.apk = &cm->apk,
		.sha256 = cm->m->sha256,
		.size = cm->m->size,
		.signer = cm->signer,
		.bundle = c->digest,
	};

	return dd_index_insert_package(s, &p);
}

static int insert_entitlement(struct dd_store *s, const struct dd_checked *c)
{
	const struct dd_entitlement *e = &c->entitlement;
	const struct dd_checked_member *doc = NULL;
	struct dd_index_entitlement ie;
	int rc;

	for (size_t i = 0; i < c->manifest.n_members; i++)
		if (c->members[i].m->kind == DD_MEMBER_ENTITLEMENT)
			doc = &c->members[i];
	ie = (struct dd_index_entitlement){
		.version = (int64_t)e->version,
		.issued = e->issued,
		.expires = e->expires,
		.organization = e->organization,
		.sha256 = doc->m->sha256,
		.signer = c->entitlement_signer,
		.bundle = c->digest,
	};
	rc = dd_index_insert_entitlement(s, &ie);
	for (size_t i = 0; !rc && i < e->n_images; i++) {
		const struct dd_entitled_image *img = &e->images[i];

		for (size_t j = 0; !rc && j < img->n_base + img->n_packages; j++) {
			bool base = j < img->n_base;

			rc = dd_index_insert_entitled(s, ie.version, img->name,
						      base ? img->base[j]
							   : img->packages[j - img->n_base].name,
						      base ? NULL
							   : img->packages[j - img->n_base].version,
						      base);
		}
	}
	return rc;
}

/* The bundle's secdb members become its channel's security databases. */
static int record_secdbs(struct dd_store *s, const struct dd_checked *c)
{
	const char **paths = dd_xcalloc(c->manifest.n_members + 1, sizeof(char *));
	const char **shas = dd_xcalloc(c->manifest.n_members + 1, sizeof(char *));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < c->manifest.n_members; i++)
		if (c->manifest.members[i].kind == DD_MEMBER_SECDB) {
			paths[n] = c->manifest.members[i].path;
			shas[n++] = c->manifest.members[i].sha256;
		}
	if (n)
		rc = dd_store_secdb_replace(s, c->manifest.channel, c->digest, paths, shas, n);
	free(paths);
	free(shas);
	return rc;
}

static int record(struct dd_store *s, struct dd_checked *c)
{
	int rc = insert_bundle(s, c);

	if (!rc)
		rc = insert_members(s, c);
	if (!rc)
		rc = dd_index_insert_blob(s, c->digest, c->manifest_text.len, "manifest");
	for (size_t i = 0; !rc && i < c->manifest.n_members; i++)
		if (c->members[i].m->kind == DD_MEMBER_APK && c->members[i].new_package)
			rc = insert_package(s, c, &c->members[i]);
	if (!rc && c->has_entitlement && c->entitlement_is_new)
		rc = insert_entitlement(s, c);
	if (!rc)
		rc = record_secdbs(s, c);
	return rc;
}

/* The manifest and its signature are kept as blobs too, for auditors. */
static int stage_bytes(struct dd_store *s, const struct dd_buf *b, struct dd_staged *f,
		       char sha[65])
{
	int rc = dd_staged_begin(s, f);

	if (!rc)
		rc = dd_staged_write(f, b->ptr, b->len);
	if (!rc)
		rc = dd_staged_finish(f);
	if (!rc && sha)
		memcpy(sha, f->sha256, 65);
	if (!rc)
		rc = dd_store_commit_blob(s, f);
	return rc;
}

int dd_bundle_commit(struct dd_store *s, struct dd_checked *c)
{
	struct dd_staged man = { .fd = -1 }, sig = { .fd = -1 };
	char sig_sha[65] = "";
	int rc = stage_bytes(s, &c->manifest_text, &man, NULL);

	if (!rc)
		rc = stage_bytes(s, &c->manifest_sig, &sig, sig_sha);
	for (size_t i = 0; !rc && i < c->manifest.n_members; i++) {
		rc = dd_store_commit_blob(s, &c->members[i].staged);
		if (i == 0)
			dd_crash_point("after-first-blob");
	}
	if (!rc)
		dd_store_sync_blobs(s); /* every blob durable before the index names it */
	dd_crash_point("before-commit");
	if (!rc)
		rc = dd_db_begin(s);
	if (!rc) {
		rc = record(s, c);
		if (!rc)
			rc = dd_index_insert_blob(s, sig_sha, c->manifest_sig.len,
						  "manifest-signature");
		if (!rc)
			rc = dd_index_record_signature(s, c->digest, sig_sha);
		if (rc)
			dd_db_rollback(s);
		else
			rc = dd_db_commit(s);
	}
	dd_crash_point("after-commit");
	dd_staged_discard(&man);
	dd_staged_discard(&sig);
	return rc;
}
