/* What changed between two runs of a job, from their result.json (batch/batch.h). */
#include <string.h>

#include "advisory/advisory.h"
#include "apk/version.h"
#include "batch/batch.h"
#include "core/error.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *arch_of(json_t *result, const char *arch)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_object_get(result, "archs"), i, a)
		if (str(a, "arch") && !strcmp(str(a, "arch"), arch))
			return a;
	return NULL;
}

static json_t *find_pkg(json_t *pkgs, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(pkgs, i, p)
		if (str(p, "name") && !strcmp(str(p, "name"), name))
			return p;
	return NULL;
}

static void add(json_t *set, const char *list, json_t *entry, const char *arch)
{
	json_t *l = json_object_get(set, list);

	if (!l) {
		l = json_array();
		json_object_set_new(set, list, l);
	}
	if (arch)
		json_object_set_new(entry, "arch", json_string(arch));
	json_array_append_new(l, entry);
}

static void package_changes(json_t *pa, json_t *pb, const char *arch, json_t *set)
{
	size_t i;
	json_t *p;

	json_array_foreach(pb, i, p) {
		const char *name = str(p, "name"), *v = str(p, "version");
		json_t *old = name ? find_pkg(pa, name) : NULL;
		const char *ov = str(old, "version");

		if (!name || !v)
			continue;
		if (!old || !ov) {
			add(set, "added", json_pack("{s:s, s:s}", "name", name, "version", v),
			    arch);
		} else if (strcmp(ov, v)) {
			int c = dd_version_compare(dd_blob_str(v), dd_blob_str(ov));

			add(set, c == DD_VER_LESS ? "downgraded" : "upgraded",
			    json_pack("{s:s, s:s, s:s}", "name", name, "from", ov, "to", v), arch);
		} else if (str(old, "sha256") && str(p, "sha256") &&
			   strcmp(str(old, "sha256"), str(p, "sha256"))) {
			add(set, "replaced",
			    json_pack("{s:s, s:s, s:s, s:s}", "name", name, "version", v,
				      "from_sha256", str(old, "sha256"), "to_sha256",
				      str(p, "sha256")),
			    arch);
		}
	}
	json_array_foreach(pa, i, p) {
		const char *name = str(p, "name");

		if (name && str(p, "version") && !find_pkg(pb, name))
			add(set, "removed",
			    json_pack("{s:s, s:s}", "name", name, "version", str(p, "version")),
			    arch);
	}
}

static bool has_layer(json_t *layers, const char *digest)
{
	size_t i;
	json_t *l;

	json_array_foreach(layers, i, l)
		if (str(l, "digest") && !strcmp(str(l, "digest"), digest))
			return true;
	return false;
}

static void layer_changes(json_t *la, json_t *lb, const char *arch, json_t *set)
{
	size_t i;
	json_t *l;

	json_array_foreach(lb, i, l) {
		const char *d = str(l, "digest");

		if (d)
			add(set, has_layer(la, d) ? "same" : "added",
			    json_pack("{s:s, s:s*}", "digest", d, "holds", str(l, "holds")), arch);
	}
	json_array_foreach(la, i, l) {
		const char *d = str(l, "digest");

		if (d && !has_layer(lb, d))
			add(set, "removed",
			    json_pack("{s:s, s:s*}", "digest", d, "holds", str(l, "holds")), arch);
	}
}

/* The advisories the rebuild fixed on one architecture (advisory.h). */
static void advisory_changes(json_t *old, json_t *arch_b, const char *arch, json_t *c)
{
	json_t *fixed =
		dd_adv_fixed_between(json_object_get(json_object_get(old, "advisories"), "items"),
				     json_object_get(json_object_get(arch_b, "advisories"),
						     "items"));
	json_t *x, *l = json_object_get(c, "advisories_fixed");
	size_t i;

	json_array_foreach(fixed, i, x) {
		if (!l) {
			l = json_array();
			json_object_set_new(c, "advisories_fixed", l);
		}
		if (arch)
			json_object_set_new(x, "arch", json_string(arch));
		json_array_append(l, x);
	}
	json_decref(fixed);
}

static void from_to(json_t *c, const char *key, json_t *from, json_t *to)
{
	if (json_equal(from, to) || (!from && !to))
		return;
	json_object_set_new(c, key, json_pack("{s:O?, s:O?}", "from", from, "to", to));
}

json_t *dd_batch_changes(json_t *a, json_t *b)
{
	json_t *c = json_object(), *pk = json_object(), *ly = json_object(), *cfg = json_array();
	json_t *archs = json_object_get(b, "archs"), *x;
	bool multi = json_array_size(archs) > 1;
	size_t i;

	from_to(c, "digest", json_object_get(a, "digest"), json_object_get(b, "digest"));
	from_to(c, "entitlement", json_object_get(json_object_get(a, "entitlement"), "version"),
		json_object_get(json_object_get(b, "entitlement"), "version"));
	json_array_foreach(archs, i, x) {
		const char *arch = str(x, "arch");
		json_t *old = arch ? arch_of(a, arch) : NULL;

		if (!arch)
			continue;
		package_changes(json_object_get(old, "packages"), json_object_get(x, "packages"),
				multi ? arch : NULL, pk);
		layer_changes(json_object_get(old, "layers"), json_object_get(x, "layers"),
			      multi ? arch : NULL, ly);
		advisory_changes(old, x, multi ? arch : NULL, c);
		if (!json_equal(json_object_get(old, "config"), json_object_get(x, "config")))
			json_array_append_new(cfg, json_pack("{s:s, s:O?, s:O?}", "arch", arch,
							     "from", json_object_get(old, "config"),
							     "to", json_object_get(x, "config")));
	}
	json_array_foreach(json_object_get(a, "archs"), i, x)
		if (str(x, "arch") && !arch_of(b, str(x, "arch")))
			add(pk, "architectures_removed", json_string(str(x, "arch")), NULL);
	if (json_object_size(pk))
		json_object_set(c, "packages", pk);
	if (json_object_get(ly, "added") || json_object_get(ly, "removed"))
		json_object_set(c, "layers", ly);
	if (json_array_size(cfg))
		json_object_set(c, "config", cfg);
	json_decref(pk);
	json_decref(ly);
	json_decref(cfg);
	return c;
}

static void pkg_lines(json_t *pk, const char *list, const char *indent, struct dd_buf *out)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(pk, list), i, p) {
		const char *arch = str(p, "arch");

		if (json_is_string(p))
			dd_buf_addf(out, "%s%s architecture %s\n", indent, list,
				    json_string_value(p));
		else if (str(p, "from"))
			dd_buf_addf(out, "%s%s %s %s -> %s%s%s\n", indent, list, str(p, "name"),
				    str(p, "from"), str(p, "to"), arch ? " on " : "",
				    arch ? arch : "");
		else
			dd_buf_addf(out, "%s%s %s %s%s%s\n", indent, list, str(p, "name"),
				    str(p, "version"), arch ? " on " : "", arch ? arch : "");
	}
}

void dd_batch_changes_text(json_t *changes, const char *indent, struct dd_buf *out)
{
	static const char *const lists[] = { "added",      "removed",  "upgraded",
					     "downgraded", "replaced", "architectures_removed" };
	json_t *e = json_object_get(changes, "entitlement"),
	       *pk = json_object_get(changes, "packages");
	json_t *ly = json_object_get(changes, "layers"), *x;
	size_t i;

	if (e)
		dd_buf_addf(out, "%sentitlement version %lld -> %lld\n", indent,
			    (long long)json_integer_value(json_object_get(e, "from")),
			    (long long)json_integer_value(json_object_get(e, "to")));
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		pkg_lines(pk, lists[l], indent, out);
	json_array_foreach(json_object_get(ly, "removed"), i, x)
		dd_buf_addf(out, "%slayer removed %s (%s)\n", indent, str(x, "digest"),
			    str(x, "holds") ? str(x, "holds") : "-");
	json_array_foreach(json_object_get(ly, "added"), i, x)
		dd_buf_addf(out, "%slayer added %s (%s)\n", indent, str(x, "digest"),
			    str(x, "holds") ? str(x, "holds") : "-");
	json_array_foreach(json_object_get(changes, "advisories_fixed"), i, x)
		dd_buf_addf(out, "%sfixed %s in %s %s -> %s (fixed in %s)%s%s\n", indent,
			    str(x, "id"), str(x, "package"), str(x, "from") ? str(x, "from") : "-",
			    str(x, "to") ? str(x, "to") : "-",
			    str(x, "fixed_in") ? str(x, "fixed_in") : "-",
			    str(x, "arch") ? " on " : "", str(x, "arch") ? str(x, "arch") : "");
	json_array_foreach(json_object_get(changes, "config"), i, x)
		dd_buf_addf(out, "%sconfig %s: %s -> %s\n", indent, str(x, "arch"),
			    str(x, "from") ? str(x, "from") : "-",
			    str(x, "to") ? str(x, "to") : "-");
	if ((x = json_object_get(changes, "digest")))
		dd_buf_addf(out, "%simage %s -> %s\n", indent,
			    str(x, "from") ? str(x, "from") : "-",
			    str(x, "to") ? str(x, "to") : "-");
}

/* ---- merging shard reports ----------------------------------------------- */

static int file_cmp(const void *a, const void *b)
{
	const char *x = str(*(json_t *const *)a, "file"), *y = str(*(json_t *const *)b, "file");

	return strcmp(x ? x : "", y ? y : "");
}

int dd_batch_merge(json_t *const *reports, size_t n, json_t **merged)
{
	static const char *const counts[] = { "jobs", "built", "up_to_date", "failed",
					      "timed_out" };
	json_t *m, *jobs = json_array(), *warnings = json_array(), *shards = json_array();
	json_t **v;
	size_t nj, i;
	json_t *x;

	*merged = NULL;
	for (size_t r = 0; r < n; r++) {
		json_array_extend(jobs, json_object_get(reports[r], "jobs"));
		json_array_extend(warnings, json_object_get(reports[r], "warnings"));
		json_array_append_new(shards, json_pack("{s:O?, s:O?, s:O?}", "id",
							json_object_get(reports[r], "id"), "out",
							json_object_get(reports[r], "out"), "shard",
							json_object_get(json_object_get(reports[r],
											"options"),
									"shard")));
	}
	nj = json_array_size(jobs);
	v = dd_xcalloc(nj + 1, sizeof(*v));
	json_array_foreach(jobs, i, x)
		v[i] = x;
	qsort(v, nj, sizeof(*v), file_cmp);
	for (i = 1; i < nj; i++) {
		if (!file_cmp(&v[i - 1], &v[i])) {
			int rc = dd_error(DD_E_FORMAT,
					  "job %s is in more than one report: were the "
					  "shards given the same --shard?",
					  str(v[i], "file"));

			free(v);
			json_decref(jobs);
			json_decref(warnings);
			json_decref(shards);
			return rc;
		}
	}
	m = json_deep_copy(n ? reports[0] : json_object());
	json_object_set_new(m, "format", json_string(DD_BATCH_FORMAT));
	json_object_set_new(m, "shards", shards);
	{
		json_t *sorted = json_array(), *sum = json_object();

		for (i = 0; i < nj; i++)
			json_array_append(sorted, v[i]);
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			json_int_t t = 0;

			for (size_t r = 0; r < n; r++)
				t += json_integer_value(
					json_object_get(json_object_get(reports[r], "summary"),
							counts[c]));
			json_object_set_new(sum, counts[c], json_integer(t));
		}
		json_object_set_new(m, "jobs", sorted);
		json_object_set_new(m, "summary", sum);
	}
	json_object_set_new(m, "warnings", warnings);
	json_object_del(m, "pruned");
	if (json_is_object(json_object_get(m, "options")))
		json_object_set_new(json_object_get(m, "options"), "shard", json_null());
	free(v);
	json_decref(jobs);
	*merged = m;
	return 0;
}
