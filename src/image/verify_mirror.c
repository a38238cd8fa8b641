/*
 * drydock verify: the mirror check.  Every package, bundle manifest and
 * entitlement manifest the provenance records is in the mirror with that
 * hash, each package came from the bundle named, and every bundle and
 * entitlement signature verifies with a key the mirror trusts for that role.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "image/verify_private.h"
#include "store/query.h"
#include "store/store.h"
#include "store/trustdb.h"

/* The signature blob sig_sha over blob doc_sha verifies with a key trusted for role. */
static bool signed_by_trusted(struct dd_store *s, struct dd_trust *t, enum dd_role role,
			      const char *doc_sha, const char *sig_sha, struct dd_buf *why)
{
	struct dd_buf doc = DD_BUF_INIT, sig = DD_BUF_INIT, path = DD_BUF_INIT;
	char fpr[41] = "";
	bool ok = false;
	int rc = dd_read_regular(dd_store_blob_path(s, doc_sha, &path), MAX_DOC, &doc);

	if (!rc)
		rc = dd_read_regular(dd_store_blob_path(s, sig_sha, &path), MAX_DOC, &sig);
	if (!rc)
		rc = dd_pgp_verify(t->pgp, doc.ptr, doc.len, sig.ptr, sig.len, fpr);
	if (rc)
		dd_buf_addf(why, "%s", dd_error_detail());
	else if (!dd_trust_has(t, role, fpr))
		dd_buf_addf(why, "signed by %s, which the mirror does not trust for %s", fpr,
			    dd_role_str(role));
	else
		ok = true;
	dd_buf_release(&doc);
	dd_buf_release(&sig);
	dd_buf_release(&path);
	return ok;
}

/*
 * A bundle manifest's signature verifies with a key trusted for bundles:
 * the signature recorded at import or, in a mirror imported before that
 * was recorded, any manifest signature the mirror keeps.
 */
struct any_signature {
	struct dd_store *s;
	struct dd_trust *t;
	const char *sha;
};

static int try_signature(void *ctx, const char *sig_sha)
{
	struct any_signature *a = ctx;
	struct dd_buf ignored = DD_BUF_INIT;
	bool ok = signed_by_trusted(a->s, a->t, DD_ROLE_BUNDLE, a->sha, sig_sha, &ignored);

	dd_buf_release(&ignored);
	return ok;
}

static bool bundle_signed(struct dd_store *s, struct dd_trust *t, const char *sha,
			  struct dd_buf *why)
{
	struct any_signature any = { s, t, sha };
	struct dd_buf sig = DD_BUF_INIT;
	bool ok = false;
	int rc = dd_index_lookup(s, DD_LOOKUP_BUNDLE_SIGNATURE, sha, NULL, &sig);

	if (rc > 0) {
		ok = signed_by_trusted(s, t, DD_ROLE_BUNDLE, sha, sig.ptr, why);
	} else if (rc == 0) {
		rc = dd_index_blobs_of_kind(s, "manifest-signature", try_signature, &any);
		ok = rc > 0;
		if (rc == 0)
			dd_buf_addf(why,
				    "no signature in the mirror verifies bundle manifest "
				    "%.12s with a key trusted for bundles",
				    sha);
	}
	if (rc < 0)
		dd_buf_addf(why, "%s", dd_error_detail());
	dd_buf_release(&sig);
	return ok;
}

/* A lookup that found nothing adds what; one that failed, the error. */
static bool found(struct dd_store *s, enum dd_index_lookup q, const char *a, const char *b,
		  struct dd_buf *val, struct dd_buf *why, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static bool found(struct dd_store *s, enum dd_index_lookup q, const char *a, const char *b,
		  struct dd_buf *val, struct dd_buf *why, const char *fmt, ...)
{
	int rc = dd_index_lookup(s, q, a, b, val);
	va_list ap;
	char *msg;

	if (rc > 0)
		return true;
	if (rc < 0) {
		dd_buf_addf(why, "%s", dd_error_detail());
		return false;
	}
	va_start(ap, fmt);
	msg = dd_xvasprintf(fmt, ap);
	dd_buf_adds(why, msg);
	free(msg);
	va_end(ap);
	return false;
}

/* What the mirror check holds while it goes through resolvedDependencies. */
struct mirror_check {
	struct dd_store *s;
	struct dd_trust t;
	struct dd_buf why;  /* the first difference; the check stops there */
	struct dd_buf val;  /* what the last lookup found */
	struct dd_buf path; /* a blob's path in the mirror */
	size_t n[3];        /* packages, bundle manifests, entitlement manifests */
};

/* The blob sha of dependency i (name) is in the mirror, undamaged. */
static bool mirror_blob(struct mirror_check *m, size_t i, const char *name, const char *sha)
{
	char hex[65];

	if (!dd_sha256_hex_ok(sha)) {
		dd_buf_addf(&m->why, "resolvedDependencies[%zu] (%s) has no sha256", i, name);
		return false;
	}
	if (dd_sha256_regular(dd_store_blob_path(m->s, sha, &m->path), MAX_FILE, hex, NULL)) {
		dd_buf_addf(&m->why, "%s (sha256:%s) is not in the mirror", name, sha);
		return false;
	}
	if (strcmp(hex, sha)) {
		dd_buf_addf(&m->why,
			    "%s: the mirror's blob %s is damaged (run drydock mirror "
			    "fsck --deep)",
			    name, m->path.ptr);
		return false;
	}
	return true;
}

/* A package came from the bundle the provenance names, and is a member of it. */
static void mirror_package(struct mirror_check *m, const char *name, const char *sha, json_t *ann)
{
	const char *bundle = jstr(ann, "bundle");

	m->n[0]++;
	if (!found(m->s, DD_LOOKUP_PACKAGE_BUNDLE, sha, NULL, &m->val, &m->why,
		   "%s (sha256:%s) is not a package in the mirror's index", name, sha))
		return;
	if (strcmp(m->val.ptr, bundle))
		dd_buf_addf(&m->why, "%s came from bundle %.12s, the provenance says %.12s", name,
			    m->val.ptr, bundle);
	else
		found(m->s, DD_LOOKUP_MEMBER_PATH, bundle, sha, &m->val, &m->why,
		      "%s is not a member of bundle %.12s", name, bundle);
}

/* A bundle manifest is the channel and sequence recorded, signed for bundles. */
static void mirror_bundle(struct mirror_check *m, const char *sha, json_t *ann)
{
	char want[256];

	m->n[1]++;
	if (!found(m->s, DD_LOOKUP_BUNDLE_CHANNEL, sha, NULL, &m->val, &m->why,
		   "bundle %.12s is not in the mirror's index", sha))
		return;
	snprintf(want, sizeof(want), "%s:%lld", jstr(ann, "channel"),
		 (long long)json_integer_value(json_object_get(ann, "sequence")));
	if (strcmp(m->val.ptr, want))
		dd_buf_addf(&m->why, "bundle %.12s is %s in the mirror, %s in the provenance", sha,
			    m->val.ptr, want);
	else
		bundle_signed(m->s, &m->t, sha, &m->why);
}

/* An entitlement manifest is in the mirror, with its signature, signed for entitlements. */
static void mirror_entitlement(struct mirror_check *m, const char *sha, json_t *ann)
{
	m->n[2]++;
	if (found(m->s, DD_LOOKUP_ENTITLEMENT_BUNDLE, sha, NULL, &m->val, &m->why,
		  "entitlement manifest sha256:%s is not in the mirror's index", sha) &&
	    found(m->s, DD_LOOKUP_MEMBER_OF_KIND, jstr(ann, "bundle"), "entitlements-signature",
		  &m->val, &m->why, "the entitlement manifest's signature is not in the mirror"))
		signed_by_trusted(m->s, &m->t, DD_ROLE_ENTITLEMENT, sha, m->val.ptr, &m->why);
}

/* resolvedDependencies[i], x, against the mirror. */
static void mirror_dependency(struct mirror_check *m, size_t i, json_t *x)
{
	json_t *ann = json_object_get(x, "annotations");
	const char *kind = jstr(ann, "kind"), *name = jstr(x, "name");
	const char *sha = jstr(json_object_get(x, "digest"), "sha256");

	if (!mirror_blob(m, i, name, sha))
		return;
	if (!strcmp(kind, "package"))
		mirror_package(m, name, sha, ann);
	else if (!strcmp(kind, "bundle-manifest"))
		mirror_bundle(m, sha, ann);
	else if (!strcmp(kind, "entitlement-manifest"))
		mirror_entitlement(m, sha, ann);
}

void dd_verify_mirror(struct verify *v)
{
	struct mirror_check m = { .why = DD_BUF_INIT, .val = DD_BUF_INIT, .path = DD_BUF_INIT };
	json_t *bd, *x;
	size_t i;

	if (!v->st) {
		check(v, "mirror", false, "no statement: nothing to compare with the mirror");
		return;
	}
	if (dd_store_open(v->o->mirror, 0, &m.s) || dd_trustdb_load(m.s, &m.t)) {
		check(v, "mirror", false, "%s", dd_error_detail());
		dd_store_close(m.s);
		return;
	}
	bd = json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");
	json_array_foreach(json_object_get(bd, "resolvedDependencies"), i, x) {
		if (m.why.len)
			break;
		mirror_dependency(&m, i, x);
	}
	if (m.why.len)
		check(v, "mirror", false, "%s", m.why.ptr);
	else
		check(v, "mirror", true,
		      "%zu packages, %zu bundle manifest(s) and %zu entitlement "
		      "manifest(s) are in the mirror as recorded, signed by trusted keys",
		      m.n[0], m.n[1], m.n[2]);
	dd_trustdb_unload(&m.t);
	dd_store_close(m.s);
	dd_buf_release(&m.why);
	dd_buf_release(&m.val);
	dd_buf_release(&m.path);
}
