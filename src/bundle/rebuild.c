#include "bundle/rebuild.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/import.h"
#include "core/error.h"
#include "core/file.h"
#include "core/time.h"
#include "store/trustdb.h"

#define MAX_SIG (64u << 10)

/* The audit log's records, oldest first. */
static int read_audit(struct dd_store *s, json_t **out)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	struct dd_blob rest, line;
	int rc = dd_read_file(dd_store_path(s, "audit.log", &path), UINT64_MAX, &text);

	*out = json_array();
	if (rc)
		rc = dd_error_prefix(rc, "the audit log, which the rebuild needs");
	rest = dd_buf_blob(&text);
	while (!rc && rest.len) {
		json_t *j;

		dd_blob_split(&rest, '\n', &line);
		j = json_loadb(line.ptr, line.len, 0, NULL);
		if (json_is_object(j))
			json_array_append_new(*out, j);
		else
			json_decref(j);
	}
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Trust again what the trust records say, in their order. */
static int replay_trust(struct dd_store *s, json_t *audit, json_int_t *n)
{
	size_t i;
	json_t *r;

	*n = 0;
	json_array_foreach(audit, i, r) {
		const char *action = str(r, "action"), *role = str(r, "role"), *key = str(r, "key");
		enum dd_role ro;
		int rc;

		if (!action || !role || !key || strncmp(action, "trust-", 6) ||
		    dd_role_parse(role, &ro))
			continue;
		rc = dd_trustdb_restore(s, ro, key, !strcmp(action, "trust-add"));
		if (rc)
			return rc;
		*n += !strcmp(action, "trust-add") ? 1 : -1;
	}
	return 0;
}

static int link_blob(struct dd_store *s, const char *sha, const char *dst, const char *what)
{
	struct dd_buf blob = DD_BUF_INIT, dir = DD_BUF_INIT;
	int rc = 0;

	dd_buf_adds(&dir, dst);
	rc = dd_mkdirs(dirname(dir.ptr), 0755);
	if (!rc && link(dd_store_blob_path(s, sha, &blob), dst) < 0)
		rc = errno == ENOENT ? dd_error(DD_E_NOTFOUND, "%s (blob %s) is gone", what, sha)
				     : dd_error_errno("cannot link %s to %s", blob.ptr, dst);
	dd_buf_release(&blob);
	dd_buf_release(&dir);
	return rc;
}

/* Put the bundle together again in dir from its blobs, but its signature. */
static int assemble(struct dd_store *s, const char *digest, const char *dir, struct dd_manifest *m)
{
	struct dd_buf p = DD_BUF_INIT, text = DD_BUF_INIT;
	int rc;

	dd_buf_addf(&p, "%s/%s", dir, DD_MANIFEST_NAME);
	rc = link_blob(s, digest, p.ptr, "its manifest");
	if (!rc)
		rc = dd_read_file(p.ptr, DD_MANIFEST_MAX, &text);
	if (!rc)
		rc = dd_manifest_parse(dd_buf_blob(&text), m);
	for (size_t i = 0; !rc && i < m->n_members; i++) {
		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", dir, m->members[i].path);
		rc = link_blob(s, m->members[i].sha256, p.ptr, m->members[i].path);
	}
	dd_buf_release(&p);
	dd_buf_release(&text);
	return rc;
}

static int import_dir(struct dd_store *s, const struct dd_trust *t, const char *dir)
{
	struct dd_import_opts o = { .allow_expired = true, .allow_unsigned_packages = true };
	struct dd_buf stage = DD_BUF_INIT;
	struct dd_checked c;
	int rc = dd_bundle_check(dir, t, s, dd_store_path(s, "tmp", &stage), &o, &c);

	if (!rc && c.verdict == DD_VERDICT_OK)
		rc = dd_bundle_commit(s, &c);
	dd_checked_release(&c);
	dd_buf_release(&stage);
	return rc;
}

static bool is_member(const struct dd_manifest *m, const char *digest, const char *sha)
{
	if (!strcmp(sha, digest))
		return true;
	for (size_t i = 0; i < m->n_members; i++)
		if (!strcmp(m->members[i].sha256, sha))
			return true;
	return false;
}

/* A record from before signatures were named: each small blob that is
 * neither the manifest nor a member is tried as its signature. */
static int import_any_signature(struct dd_store *s, const struct dd_trust *t, const char *dir,
				const char *digest, const struct dd_manifest *m)
{
	struct dd_buf blobs = DD_BUF_INIT, sig = DD_BUF_INIT, p = DD_BUF_INIT;
	DIR *d = opendir(dd_store_path(s, "blobs/sha256", &blobs));
	struct dirent *de;
	int rc = dd_error(DD_E_NOTFOUND, "no blob is a signature of its manifest");

	dd_buf_addf(&sig, "%s/%s", dir, DD_MANIFEST_SIG_NAME);
	while (rc && d && (de = readdir(d))) {
		struct stat st;

		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", blobs.ptr, de->d_name);
		if (de->d_name[0] == '.' || is_member(m, digest, de->d_name) || stat(p.ptr, &st) ||
		    st.st_size > (off_t)MAX_SIG)
			continue;
		unlink(sig.ptr);
		if (link(p.ptr, sig.ptr) == 0 && import_dir(s, t, dir) == 0)
			rc = 0;
	}
	if (rc)
		rc = dd_error(DD_E_NOTFOUND, "no blob is a signature of its manifest");
	if (d)
		closedir(d);
	dd_buf_release(&blobs);
	dd_buf_release(&sig);
	dd_buf_release(&p);
	return rc;
}

static int restore_bundle(struct dd_store *s, const struct dd_trust *t, json_t *rec)
{
	const char *digest = str(rec, "digest"), *sig = str(rec, "signature");
	struct dd_buf dir = DD_BUF_INIT, p = DD_BUF_INIT;
	struct dd_manifest m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (!digest)
		return dd_error(DD_E_NOTFOUND, "its audit record names no digest");
	dd_buf_addf(&dir, "%s/tmp/rebuild-%.16s", dd_store_root(s), digest);
	dd_remove_tree(dir.ptr);
	rc = dd_mkdirs(dir.ptr, 0700);
	if (!rc)
		rc = assemble(s, digest, dir.ptr, &m);
	if (!rc && sig) {
		dd_buf_addf(&p, "%s/%s", dir.ptr, DD_MANIFEST_SIG_NAME);
		rc = link_blob(s, sig, p.ptr, "its signature");
		if (!rc)
			rc = import_dir(s, t, dir.ptr);
	} else if (!rc) {
		rc = import_any_signature(s, t, dir.ptr, digest, &m);
	}
	dd_manifest_release(&m);
	dd_remove_tree(dir.ptr);
	dd_buf_release(&dir);
	dd_buf_release(&p);
	return rc;
}

static int restore_bundles(struct dd_store *s, json_t *audit, json_t *report)
{
	json_t *restored = json_array(), *lost = json_array(), *r;
	struct dd_trust t;
	size_t i;
	int rc = dd_trustdb_load(s, &t);

	json_t *ended = json_object();

	json_array_foreach(audit, i, r)
		if (str(r, "attempt") && str(r, "verdict") && strcmp(str(r, "verdict"), "started"))
			json_object_set(ended, str(r, "attempt"), r);
	json_array_foreach(audit, i, r) {
		const char *v = str(r, "verdict"), *a = str(r, "action");
		/* an attempt killed after its commit has no outcome: tried too */
		bool dangling = v && !strcmp(v, "started") && str(r, "attempt") &&
				!json_object_get(ended, str(r, "attempt"));

		if (rc || !v || !a || strcmp(a, "import") || (strcmp(v, "imported") && !dangling))
			continue;
		if (restore_bundle(s, &t, r) == 0) {
			json_array_append_new(restored, json_string(str(r, "bundle")));
			continue;
		}
		if (dangling)
			continue; /* interrupted before its commit: nothing was lost */
		json_array_append_new(lost, json_pack("{s:s?, s:s?, s:s}", "bundle",
						      str(r, "bundle"), "digest", str(r, "digest"),
						      "reason", dd_error_detail()));
	}
	if (!rc)
		dd_trustdb_unload(&t);
	json_decref(ended);
	json_object_set_new(report, "restored", restored);
	json_object_set_new(report, "lost", lost);
	if (!rc && json_array_size(lost))
		rc = dd_error(DD_E_NOTFOUND, "%zu imported bundle(s) could not be restored",
			      json_array_size(lost));
	return rc;
}

int dd_bundle_rebuild_index(const char *root, json_t **report)
{
	struct dd_store *s = NULL;
	struct dd_buf aside = DD_BUF_INIT;
	json_t *audit = NULL, *rec;
	json_int_t keys = 0;
	char now[32];
	int rc;

	*report = json_object();
	rc = dd_store_open(root, DD_STORE_WRITE | DD_STORE_ANY_INDEX, &s);
	if (!rc)
		rc = read_audit(s, &audit);
	if (!rc)
		rc = dd_store_reset_index(s, &aside);
	if (!rc) {
		json_object_set_new(*report, "aside", json_string(aside.ptr));
		rc = replay_trust(s, audit, &keys);
	}
	if (!rc) {
		json_object_set_new(*report, "keys", json_integer(keys));
		rc = restore_bundles(s, audit, *report);
	}
	if (s && aside.len) {
		dd_time_format(dd_time_now(), now);
		rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "time", now, "action",
				"rebuild-index", "aside", aside.ptr, "restored",
				(json_int_t)json_array_size(json_object_get(*report, "restored")),
				"lost",
				(json_int_t)json_array_size(json_object_get(*report, "lost")),
				"verdict", rc ? "incomplete" : "rebuilt");
		dd_store_audit(s, rec);
		json_decref(rec);
	}
	dd_store_close(s);
	json_decref(audit);
	dd_buf_release(&aside);
	return rc;
}
