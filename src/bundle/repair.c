#include "bundle/repair.h"

#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"

/* Is the blob sha256 in s missing or not what its name says? */
static bool blob_bad(struct dd_store *s, const char *sha256)
{
	struct dd_buf path = DD_BUF_INIT;
	char have[65] = "";
	bool bad = access(dd_store_blob_path(s, sha256, &path), F_OK) != 0 ||
		   dd_file_sha256(path.ptr, have, NULL) != 0 || strcmp(have, sha256) != 0;

	dd_error_clear();
	dd_buf_release(&path);
	return bad;
}

static int restore_bytes(struct dd_store *s, const struct dd_buf *b, const char *what,
			 struct dd_strs *restored)
{
	struct dd_staged f = { .fd = -1 };
	int rc = dd_staged_begin(s, &f);

	if (!rc)
		rc = dd_staged_write(&f, b->ptr, b->len);
	if (!rc)
		rc = dd_staged_finish(&f);
	if (!rc && blob_bad(s, f.sha256)) {
		rc = dd_store_commit_blob(s, &f);
		if (!rc)
			dd_strs_add(restored, what);
	}
	dd_staged_discard(&f);
	return rc;
}

int dd_bundle_repair(struct dd_store *s, struct dd_checked *c, struct dd_strs *restored)
{
	struct dd_buf name = DD_BUF_INIT;
	bool held = false;
	int rc = dd_held_bundle(s, c->digest, &held);

	if (!rc && !held)
		rc = dd_error(DD_E_NOTFOUND,
			      "this mirror never imported this bundle (%.16s…), so "
			      "it cannot repair from it; import it instead",
			      c->digest);
	for (size_t i = 0; !rc && i < c->manifest.n_members; i++) {
		struct dd_checked_member *cm = &c->members[i];

		if (!blob_bad(s, cm->m->sha256)) {
			dd_staged_discard(&cm->staged);
			continue;
		}
		dd_buf_reset(&name);
		if (cm->m->kind == DD_MEMBER_APK)
			dd_buf_addf(&name, "%s-%s", cm->apk.pkg.name, cm->apk.pkg.version);
		else
			dd_buf_adds(&name, cm->m->path);
		rc = dd_store_commit_blob(s, &cm->staged);
		if (!rc)
			dd_strs_add(restored, name.ptr);
	}
	if (!rc)
		rc = restore_bytes(s, &c->manifest_text, "manifest.json", restored);
	if (!rc)
		rc = restore_bytes(s, &c->manifest_sig, "manifest.json.sig", restored);
	if (restored->n)
		dd_store_sync_blobs(s);
	dd_buf_release(&name);
	return rc;
}
