#include "core/time.h"
#include "store/db.h"
#include "store/receipt.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "core/error.h"

static int add_channels(struct dd_store *s, json_t *arr)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, "SELECT channel, sequence, digest FROM channels ORDER BY channel",
			       &st);

	if (rc)
		return rc;
	while ((rc = dd_db_step(s, st, "list the channels")) > 0)
		json_array_append_new(arr,
				      json_pack("{s:s?, s:I, s:s?}", "channel",
						(const char *)sqlite3_column_text(st, 0),
						"sequence", (json_int_t)sqlite3_column_int64(st, 1),
						"bundle",
						(const char *)sqlite3_column_text(st, 2)));
	sqlite3_finalize(st);
	return rc;
}

static int add_packages(struct dd_store *s, json_t *arr)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "SELECT name, version, arch, sha256 FROM packages "
			       "ORDER BY name, version, arch",
			       &st);

	if (rc)
		return rc;
	while ((rc = dd_db_step(s, st, "list the packages")) > 0)
		json_array_append_new(arr,
				      json_pack("{s:s?, s:s?, s:s?, s:s?}", "name",
						(const char *)sqlite3_column_text(st, 0), "version",
						(const char *)sqlite3_column_text(st, 1), "arch",
						(const char *)sqlite3_column_text(st, 2), "sha256",
						(const char *)sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	return rc;
}

static int entitlement(struct dd_store *s, json_t **out)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s,
			       "SELECT version, sha256 FROM entitlements ORDER BY version "
			       "DESC LIMIT 1",
			       &st);

	*out = json_null();
	if (rc)
		return rc;
	rc = dd_db_step(s, st, "read the entitlement");
	if (rc > 0) {
		json_decref(*out);
		*out = json_pack("{s:I, s:s?}", "version", (json_int_t)sqlite3_column_int64(st, 0),
				 "sha256", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc < 0 ? rc : 0;
}

int dd_receipt_make(struct dd_store *s, struct dd_buf *out)
{
	json_t *channels = json_array(), *packages = json_array(), *ent = NULL, *j;
	char now[32], *text;
	int rc;

	dd_buf_reset(out);
	dd_time_format(dd_time_now(), now);
	rc = add_channels(s, channels);
	if (!rc)
		rc = entitlement(s, &ent);
	if (!rc)
		rc = add_packages(s, packages);
	if (rc) {
		json_decref(channels);
		json_decref(packages);
		json_decref(ent);
		return rc;
	}
	j = json_pack("{s:s, s:s, s:o, s:o, s:o}", "format", DD_RECEIPT_FORMAT, "created", now,
		      "channels", channels, "entitlement", ent, "packages", packages);
	text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	dd_buf_adds(out, text);
	dd_buf_adds(out, "\n");
	free(text);
	json_decref(j);
	return 0;
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static int cmp_blob(const void *a, const void *b)
{
	return strcmp(a, b);
}

int dd_receipt_parse(struct dd_blob text, const char *what, struct dd_receipt *r)
{
	json_error_t err;
	json_t *j = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &err), *pk, *ent, *e;
	const char *format = NULL, *sha = NULL;
	json_int_t version = 0;
	size_t i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!j)
		return dd_error(DD_E_FORMAT, "%s: not JSON (line %d: %s)", what, err.line,
				err.text);
	if (json_unpack(j, "{s:s, s:o, s:o}", "format", &format, "packages", &pk, "entitlement",
			&ent) ||
	    strcmp(format, DD_RECEIPT_FORMAT) || !json_is_array(pk)) {
		rc = dd_error(DD_E_FORMAT,
			      "%s is not a drydock receipt (%s); make one with "
			      "'drydock mirror receipt -o FILE' at the site",
			      what, DD_RECEIPT_FORMAT);
		goto out;
	}
	if (!json_is_null(ent)) {
		if (json_unpack(ent, "{s:I, s:s}", "version", &version, "sha256", &sha) ||
		    !hex64(sha) || version < 0) {
			rc = dd_error(DD_E_FORMAT,
				      "%s: \"entitlement\" needs a version and a sha256", what);
			goto out;
		}
		r->has_entitlement = true;
		r->entitlement_version = (uint64_t)version;
		memcpy(r->entitlement_sha256, sha, 65);
	}
	r->blobs = dd_xcalloc(json_array_size(pk) + 1, sizeof(*r->blobs));
	json_array_foreach(pk, i, e) {
		sha = json_string_value(json_object_get(e, "sha256"));
		if (!hex64(sha)) {
			rc = dd_error(DD_E_FORMAT,
				      "%s: package %zu has no sha256 of 64 lower-case "
				      "hex digits",
				      what, i + 1);
			goto out;
		}
		memcpy(r->blobs[r->n_blobs++], sha, 65);
	}
	qsort(r->blobs, r->n_blobs, sizeof(*r->blobs), cmp_blob);
out:
	json_decref(j);
	if (rc)
		dd_receipt_release(r);
	return rc;
}

bool dd_receipt_holds(const struct dd_receipt *r, const char *sha256)
{
	return r && r->n_blobs &&
	       bsearch(sha256, r->blobs, r->n_blobs, sizeof(*r->blobs), cmp_blob) != NULL;
}

void dd_receipt_release(struct dd_receipt *r)
{
	free(r->blobs);
	memset(r, 0, sizeof(*r));
}
