#include "bundle/manifest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apk/tar.h"
#include "core/error.h"
#include "core/time.h"

static int field_err(const char *what, const char *field, const char *why)
{
	return dd_error(DD_E_FORMAT, "%s: field '%s' %s", what, field, why);
}

static int get_str(json_t *o, const char *what, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || !json_string_length(v))
		return field_err(what, key, "is missing or not a non-empty string");
	*out = dd_xstrdup(json_string_value(v));
	return 0;
}

static int get_u64(json_t *o, const char *what, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return field_err(what, key, "is missing or not a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_time(json_t *o, const char *what, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return field_err(what, key, "is missing or not a string");
	if (dd_time_parse(json_string_value(v), out))
		return dd_error_prefix(DD_E_FORMAT, "%s: field '%s'", what, key);
	return 0;
}

static int check_format(json_t *o, const char *what, const char *want)
{
	json_t *v = json_object_get(o, "format");

	if (!json_is_string(v))
		return field_err(what, "format", "is missing");
	if (strcmp(json_string_value(v), want))
		return dd_error(DD_E_FORMAT,
				"%s: format '%s' is not '%s' (made by a newer "
				"drydock?)",
				what, json_string_value(v), want);
	return 0;
}

static int load_json(struct dd_blob text, const char *what, json_t **out)
{
	json_error_t err;

	*out = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &err);
	if (!*out)
		return dd_error(DD_E_FORMAT, "%s: line %d column %d: %s", what, err.line,
				err.column, err.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		return dd_error(DD_E_FORMAT, "%s: not a JSON object", what);
	}
	return 0;
}

int dd_member_kind_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);

	base = base ? base + 1 : path;
	if (!strcmp(path, DD_ENTITLEMENT_NAME))
		return DD_MEMBER_ENTITLEMENT;
	if (!strcmp(path, DD_ENTITLEMENT_SIG_NAME))
		return DD_MEMBER_ENTITLEMENT_SIG;
	if (!strcmp(path, DD_SECDB_NAME) ||
	    (!strncmp(path, DD_SECDB_DIR, strlen(DD_SECDB_DIR)) && base - path == 6 && n > 11 &&
	     !strcmp(path + n - 5, ".json")))
		return DD_MEMBER_SECDB;
	if (!strcmp(base, "APKINDEX.tar.gz"))
		return DD_MEMBER_APKINDEX;
	if (n > 4 && !strcmp(path + n - 4, ".apk"))
		return DD_MEMBER_APK;
	return -1;
}

const char *dd_member_kind_str(enum dd_member_kind k)
{
	static const char *names[] = { "apk", "apkindex", "entitlements", "entitlements-signature",
				       "secdb" };

	return names[k];
}

static bool is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static int parse_member(json_t *o, size_t i, struct dd_member *m)
{
	char what[64];
	json_t *u = json_object_get(o, "unsigned"), *sha;
	int kind, rc;

	snprintf(what, sizeof(what), "manifest member %zu", i + 1);
	if (!json_is_object(o))
		return dd_error(DD_E_FORMAT, "%s: not an object", what);
	rc = get_str(o, what, "path", &m->path);
	if (!rc)
		rc = get_u64(o, what, "size", &m->size);
	if (rc)
		return rc;
	sha = json_object_get(o, "sha256");
	if (!json_is_string(sha) || !is_sha256_hex(json_string_value(sha)))
		return dd_error(DD_E_FORMAT,
				"manifest member '%s': sha256 is not 64 lower-case "
				"hex digits",
				m->path);
	memcpy(m->sha256, json_string_value(sha), 65);
	if (!dd_tar_path_safe(m->path) || strstr(m->path, "//") || m->path[0] == '.' ||
	    !strcmp(m->path, DD_MANIFEST_NAME) || !strcmp(m->path, DD_MANIFEST_SIG_NAME))
		return dd_error(DD_E_UNSAFE_PATH, "manifest member '%s': path not allowed",
				m->path);
	kind = dd_member_kind_of(m->path);
	if (kind < 0)
		return dd_error(DD_E_FORMAT,
				"manifest member '%s': not a kind of file a "
				"bundle carries (.apk, APKINDEX.tar.gz, entitlements.json[.sig], "
				"security.json, secdb/NAME.json)",
				m->path);
	m->kind = (enum dd_member_kind)kind;
	if (json_object_get(o, "kind") &&
	    (!json_is_string(json_object_get(o, "kind")) ||
	     strcmp(json_string_value(json_object_get(o, "kind")), dd_member_kind_str(m->kind))))
		return dd_error(DD_E_FORMAT,
				"manifest member '%s': kind is not '%s', which its "
				"name says",
				m->path, dd_member_kind_str(m->kind));
	if (u && !json_is_boolean(u))
		return dd_error(DD_E_FORMAT, "manifest member '%s': 'unsigned' is not a boolean",
				m->path);
	m->unsigned_ok = json_is_true(u);
	return 0;
}

static int parse_members(json_t *arr, struct dd_manifest *m)
{
	if (!json_is_array(arr))
		return field_err("manifest", "members", "is missing or not an array");
	m->n_members = json_array_size(arr);
	m->members = dd_xcalloc(m->n_members, sizeof(*m->members));
	for (size_t i = 0; i < m->n_members; i++) {
		int rc = parse_member(json_array_get(arr, i), i, &m->members[i]);

		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->members[j].path, m->members[i].path))
				return dd_error(DD_E_FORMAT, "manifest lists '%s' twice",
						m->members[i].path);
	}
	return 0;
}

int dd_manifest_parse(struct dd_blob text, struct dd_manifest *m)
{
	json_t *o;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = load_json(text, "manifest", &o);
	if (rc)
		return rc;
	rc = check_format(o, "manifest", DD_BUNDLE_FORMAT);
	if (!rc)
		rc = get_str(o, "manifest", "channel", &m->channel);
	if (!rc)
		rc = get_u64(o, "manifest", "sequence", &m->sequence);
	if (!rc)
		rc = get_time(o, "manifest", "created", &m->created);
	if (!rc)
		rc = get_time(o, "manifest", "expires", &m->expires);
	if (!rc)
		rc = parse_members(json_object_get(o, "members"), m);
	json_decref(o);
	if (rc)
		dd_manifest_release(m);
	return rc;
}

void dd_manifest_write(const struct dd_manifest *m, struct dd_buf *out)
{
	json_t *o = json_object(), *arr = json_array();
	char created[32], expires[32];
	char *text;

	dd_time_format(m->created, created);
	dd_time_format(m->expires, expires);
	json_object_set_new(o, "format", json_string(DD_BUNDLE_FORMAT));
	json_object_set_new(o, "channel", json_string(m->channel));
	json_object_set_new(o, "sequence", json_integer((json_int_t)m->sequence));
	json_object_set_new(o, "created", json_string(created));
	json_object_set_new(o, "expires", json_string(expires));
	for (size_t i = 0; i < m->n_members; i++) {
		const struct dd_member *x = &m->members[i];
		json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "path", x->path, "kind",
				      dd_member_kind_str(x->kind), "size", (json_int_t)x->size,
				      "sha256", x->sha256);

		if (x->unsigned_ok)
			json_object_set_new(e, "unsigned", json_true());
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "members", arr);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	dd_buf_adds(out, text);
	dd_buf_adds(out, "\n");
	free(text);
	json_decref(o);
}

struct dd_member *dd_manifest_find(const struct dd_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n_members; i++)
		if (!strcmp(m->members[i].path, path))
			return &m->members[i];
	return NULL;
}

void dd_manifest_release(struct dd_manifest *m)
{
	for (size_t i = 0; i < m->n_members; i++)
		free(m->members[i].path);
	free(m->members);
	free(m->channel);
	memset(m, 0, sizeof(*m));
}

static int parse_names(json_t *arr, const char *what, char ***out, size_t *n)
{
	if (!json_is_array(arr))
		return field_err(what, "base", "is missing or not an array of names");
	*n = json_array_size(arr);
	*out = dd_xcalloc(*n, sizeof(char *));
	for (size_t i = 0; i < *n; i++) {
		json_t *v = json_array_get(arr, i);

		if (!json_is_string(v) || !json_string_length(v))
			return field_err(what, "base", "holds something that is not a name");
		(*out)[i] = dd_xstrdup(json_string_value(v));
	}
	return 0;
}

static int parse_guarded(json_t *arr, const char *what, struct dd_entitled_image *img)
{
	if (!json_is_array(arr))
		return field_err(what, "packages", "is missing or not an array");
	img->n_packages = json_array_size(arr);
	img->packages = dd_xcalloc(img->n_packages, sizeof(*img->packages));
	for (size_t i = 0; i < img->n_packages; i++) {
		json_t *p = json_array_get(arr, i);
		int rc = json_is_object(p) ? 0 : field_err(what, "packages", "holds a non-object");

		if (!rc)
			rc = get_str(p, what, "name", &img->packages[i].name);
		if (!rc)
			rc = get_str(p, what, "version", &img->packages[i].version);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_image(json_t *o, size_t i, struct dd_entitled_image *img)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "entitlements image %zu", i + 1);
	if (!json_is_object(o))
		return dd_error(DD_E_FORMAT, "%s: not an object", what);
	rc = get_str(o, what, "name", &img->name);
	if (!rc) {
		snprintf(what, sizeof(what), "entitlements image '%s'", img->name);
		rc = parse_names(json_object_get(o, "base"), what, &img->base, &img->n_base);
	}
	if (!rc)
		rc = parse_guarded(json_object_get(o, "packages"), what, img);
	return rc;
}

int dd_entitlement_parse(struct dd_blob text, struct dd_entitlement *e)
{
	json_t *o, *imgs;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = load_json(text, "entitlements", &o);
	if (rc)
		return rc;
	rc = check_format(o, "entitlements", DD_ENTITLEMENT_FORMAT);
	if (!rc)
		rc = get_str(o, "entitlements", "organization", &e->organization);
	if (!rc)
		rc = get_u64(o, "entitlements", "version", &e->version);
	if (!rc)
		rc = get_time(o, "entitlements", "issued", &e->issued);
	if (!rc)
		rc = get_time(o, "entitlements", "expires", &e->expires);
	imgs = json_object_get(o, "images");
	if (!rc && !json_is_array(imgs))
		rc = field_err("entitlements", "images", "is missing or not an array");
	if (!rc) {
		e->n_images = json_array_size(imgs);
		e->images = dd_xcalloc(e->n_images, sizeof(*e->images));
		for (size_t i = 0; i < e->n_images && !rc; i++)
			rc = parse_image(json_array_get(imgs, i), i, &e->images[i]);
	}
	json_decref(o);
	if (rc)
		dd_entitlement_release(e);
	return rc;
}

void dd_entitlement_release(struct dd_entitlement *e)
{
	for (size_t i = 0; i < e->n_images; i++) {
		struct dd_entitled_image *img = &e->images[i];

		for (size_t j = 0; j < img->n_base; j++)
			free(img->base[j]);
		free(img->base);
		for (size_t j = 0; j < img->n_packages; j++) {
			free(img->packages[j].name);
			free(img->packages[j].version);
		}
		free(img->packages);
		free(img->name);
	}
	free(e->images);
	free(e->organization);
	memset(e, 0, sizeof(*e));
}
