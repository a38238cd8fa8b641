#include "advisory/secdb.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apk/version.h"
#include "core/error.h"

static void add_fix(struct dd_secdb *db, const char *origin, const char *fixed, const char *id,
		    size_t idlen, size_t *cap)
{
	struct dd_secfix *f;

	if (db->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		db->fixes = dd_xrealloc(db->fixes, *cap * sizeof(*db->fixes));
	}
	f = &db->fixes[db->n++];
	f->origin = dd_xstrdup(origin);
	f->fixed = fixed ? dd_xstrdup(fixed) : NULL;
	f->id = strndup(id, idlen);
	if (!f->id)
		abort();
}

/* "CVE-1 CVE-2": one fix per id; an empty string is an error. */
static int add_ids(struct dd_secdb *db, const char *what, const char *origin, const char *fixed,
		   const char *text, size_t *cap)
{
	size_t before = db->n;

	for (const char *p = text; *p;) {
		size_t n;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (n)
			add_fix(db, origin, fixed, p, n, cap);
		p += n;
	}
	if (db->n == before)
		return dd_error(DD_E_FORMAT, "%s: package '%s', version '%s': an empty id", what,
				origin, fixed ? fixed : "0");
	return 0;
}

static int parse_secfixes(struct dd_secdb *db, const char *what, const char *origin,
			  json_t *secfixes, size_t *cap)
{
	const char *ver;
	json_t *ids;

	if (!json_is_object(secfixes))
		return dd_error(DD_E_FORMAT,
				"%s: package '%s': 'secfixes' is missing or not "
				"an object",
				what, origin);
	json_object_foreach(secfixes, ver, ids) {
		bool never = !strcmp(ver, "0");
		json_t *v;
		size_t i;

		if (!never && !dd_version_valid(dd_blob_str(ver)))
			return dd_error(DD_E_FORMAT,
					"%s: package '%s': '%s' is not an APK "
					"version",
					what, origin, ver);
		if (!json_is_array(ids))
			return dd_error(DD_E_FORMAT,
					"%s: package '%s', version '%s': not a "
					"list of ids",
					what, origin, ver);
		json_array_foreach(ids, i, v) {
			int rc;

			if (!json_is_string(v))
				return dd_error(DD_E_FORMAT,
						"%s: package '%s', version '%s': "
						"an id that is not a string",
						what, origin, ver);
			rc = add_ids(db, what, origin, never ? NULL : ver, json_string_value(v),
				     cap);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int parse_packages(struct dd_secdb *db, const char *what, json_t *pkgs)
{
	size_t cap = 0, i;
	json_t *e;

	if (!json_is_array(pkgs))
		return dd_error(DD_E_FORMAT,
				"%s: 'packages' is missing or not an array (not "
				"a secdb document?)",
				what);
	json_array_foreach(pkgs, i, e) {
		json_t *pkg = json_object_get(e, "pkg"), *name = json_object_get(pkg, "name");
		int rc;

		if (!json_is_string(name) || !json_string_length(name))
			return dd_error(DD_E_FORMAT, "%s: packages[%zu]: no pkg.name", what, i);
		rc = parse_secfixes(db, what, json_string_value(name),
				    json_object_get(pkg, "secfixes"), &cap);
		if (rc)
			return rc;
		db->n_origins++;
	}
	return 0;
}

static char *opt_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? dd_xstrdup(json_string_value(v)) : NULL;
}

int dd_secdb_parse(struct dd_blob text, const char *what, struct dd_secdb *db)
{
	json_error_t err;
	json_t *o;
	int rc;

	memset(db, 0, sizeof(*db));
	if (text.len > DD_SECDB_MAX)
		return dd_error(DD_E_LIMIT, "%s: a secdb larger than %u MiB", what,
				DD_SECDB_MAX >> 20);
	o = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		return dd_error(DD_E_FORMAT, "%s: line %d column %d: %s", what, err.line,
				err.column, err.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return dd_error(DD_E_FORMAT, "%s: not a JSON object (not a secdb document)", what);
	}
	db->distroversion = opt_str(o, "distroversion");
	db->reponame = opt_str(o, "reponame");
	rc = parse_packages(db, what, json_object_get(o, "packages"));
	json_decref(o);
	if (rc)
		dd_secdb_release(db);
	return rc;
}

void dd_secdb_release(struct dd_secdb *db)
{
	for (size_t i = 0; i < db->n; i++) {
		free(db->fixes[i].origin);
		free(db->fixes[i].fixed);
		free(db->fixes[i].id);
	}
	free(db->fixes);
	free(db->distroversion);
	free(db->reponame);
	memset(db, 0, sizeof(*db));
}
