#include "image/rebuild.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/time.h"
#include "evidence/provenance.h"
#include "image/build.h"
#include "store/catalog.h"

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* What the statement recorded, as a pin; strings borrowed from st or
 * kept in labels. */
struct inputs {
	struct dd_pin_pkg *pkgs;
	struct dd_catalog_pin pin;
	json_t *labels; /* bundle sha256 -> "channel#sequence" */
	char *ent_label;
};

static int read_inputs(json_t *st, struct inputs *in)
{
	json_t *bd = json_object_get(json_object_get(st, "predicate"), "buildDefinition");
	json_t *deps = json_object_get(bd, "resolvedDependencies"), *x;
	const char *started = jstr(json_object_get(json_object_get(json_object_get(st, "predicate"),
								   "runDetails"),
						   "metadata"),
				   "startedOn");
	char when[32];
	size_t i;

	memset(in, 0, sizeof(*in));
	in->labels = dd_provenance_bundle_labels(st);
	in->pkgs = dd_xcalloc(json_array_size(deps) + 1, sizeof(*in->pkgs));
	in->pin.pkgs = in->pkgs;
	json_array_foreach(deps, i, x) {
		json_t *ann = json_object_get(x, "annotations");
		const char *kind = jstr(ann, "kind"),
			   *sha = jstr(json_object_get(x, "digest"), "sha256");

		if (strcmp(kind, "package") && strcmp(kind, "entitlement-manifest"))
			continue;
		if (!dd_sha256_hex_ok(sha))
			return dd_error(DD_E_FORMAT,
					"resolvedDependencies[%zu] (%s) has no sha256 "
					"of 64 lower-case hex digits",
					i, jstr(x, "name"));
		if (!strcmp(kind, "entitlement-manifest")) {
			struct dd_buf l = DD_BUF_INIT;

			dd_buf_addf(&l, "%s, of %s, from bundle %s", jstr(x, "uri"),
				    jstr(ann, "organization"), jstr(ann, "bundle"));
			free(in->ent_label);
			in->ent_label = dd_buf_detach(&l, NULL);
			in->pin.ent_sha256 = sha;
			in->pin.ent_label = in->ent_label;
			continue;
		}
		in->pkgs[in->pin.n].sha256 = sha;
		in->pkgs[in->pin.n].name = jstr(x, "name");
		in->pkgs[in->pin.n].bundle = *jstr(ann, "bundle") ? jstr(ann, "bundle") : NULL;
		in->pkgs[in->pin.n++].bundle_label =
			json_string_value(json_object_get(in->labels, jstr(ann, "bundle")));
	}
	if (!in->pin.n)
		return dd_error(DD_E_FORMAT, "the provenance records no package blobs "
					     "(resolvedDependencies)");
	/* startedOn is 2026-12-02T02:00:00.123Z: the seconds are enough */
	snprintf(when, sizeof(when), "%.19sZ", started);
	if (strlen(started) < 19 || dd_time_parse(when, &in->pin.at))
		in->pin.at = 0;
	return 0;
}

static void release_inputs(struct inputs *in)
{
	free(in->pkgs);
	free(in->ent_label);
	json_decref(in->labels);
}

/* The job's file name from the recorded path: a plain name, or NULL. */
static const char *job_base(const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

	return *base && strcmp(base, ".") && strcmp(base, "..") ? base : NULL;
}

/* The job's included files as the provenance holds them (in chain
 * order); their names and paths point into the statement. */
static int read_includes(json_t *list, struct dd_job_include **out, size_t *n)
{
	size_t i;
	json_t *x;

	*out = NULL;
	*n = 0;
	if (!list)
		return 0;
	if (!json_is_array(list))
		return dd_error(DD_E_FORMAT, "the provenance's job.includes is not a list");
	*out = dd_xcalloc(json_array_size(list) + 1, sizeof(**out));
	json_array_foreach(list, i, x) {
		struct dd_job_include *inc = &(*out)[i];
		json_t *c = json_object_get(x, "content");

		inc->name = (char *)json_string_value(json_object_get(x, "include"));
		inc->path = (char *)json_string_value(json_object_get(x, "path"));
		if (!inc->name || !inc->path || !json_is_string(c))
			return dd_error(DD_E_FORMAT,
					"the provenance's job.includes[%zu] lacks its "
					"include, path or content",
					i);
		dd_buf_add(&inc->text, json_string_value(c), json_string_length(c));
		(*n)++;
	}
	return 0;
}

int dd_rebuild(const struct dd_rebuild_opts *o, json_t *st, json_t **result, char **run_dir)
{
	json_t *bd = json_object_get(json_object_get(st, "predicate"), "buildDefinition");
	json_t *ext = json_object_get(bd, "externalParameters");
	json_t *job = json_object_get(ext, "job"), *sde = json_object_get(ext, "SOURCE_DATE_EPOCH");
	const char *content = json_string_value(json_object_get(job, "content"));
	const char *file = jstr(job, "path"), *base, *tmp = getenv("TMPDIR");
	struct dd_buf dir = DD_BUF_INIT, path = DD_BUF_INIT;
	char epoch[32] = "";
	/* no layer cache: the rebuild depends on the signed packages alone */
	struct dd_build_opts bo = { .mirror = o->mirror,
				    .out = o->out,
				    .threads = o->threads,
				    .no_cache = true,
				    .source_date_epoch = epoch,
				    .sign_key = o->sign_key,
				    .gnupg_home = o->gnupg_home };
	struct inputs in;
	struct dd_job_include *incs = NULL;
	size_t n_incs = 0;
	int rc;

	*result = NULL;
	*run_dir = NULL;
	if ((rc = read_inputs(st, &in)))
		goto out;
	if ((rc = read_includes(json_object_get(job, "includes"), &incs, &n_incs)))
		goto out;
	bo.includes = incs;
	bo.n_includes = n_incs;
	if (!content || !*file) {
		rc = dd_error(DD_E_FORMAT, "the provenance does not hold the job's content");
		goto out;
	}
	if (!(base = job_base(file))) {
		rc = dd_error(DD_E_FORMAT, "the provenance names the job '%s', not a file", file);
		goto out;
	}
	if (sde && (!json_is_integer(sde) || json_integer_value(sde) < 0)) {
		rc = dd_error(DD_E_FORMAT, "the provenance's SOURCE_DATE_EPOCH is not a number of "
					   "seconds");
		goto out;
	}
	if (sde)
		snprintf(epoch, sizeof(epoch), "%lld", (long long)json_integer_value(sde));
	dd_buf_addf(&dir, "%s/drydock-rebuild-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.ptr)) {
		rc = dd_error_errno("%s", dir.ptr);
		goto out;
	}
	dd_buf_addf(&path, "%s/%s", dir.ptr, base);
	if (!(rc = dd_write_file(path.ptr, content, strlen(content))))
		rc = dd_build_pinned(&bo, &in.pin, path.ptr, result, run_dir);
	dd_remove_tree(dir.ptr);
out:
	release_inputs(&in);
	for (size_t i = 0; i < n_incs; i++)
		dd_buf_release(&incs[i].text);
	free(incs);
	dd_buf_release(&dir);
	dd_buf_release(&path);
	return rc;
}
