/*
 * drydock build, the inputs key (image/build.h) and the up-to-date test of
 * skip_unchanged.
 */
#include "image/build_private.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/epoch.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/time.h"
#include "evidence/provenance.h"
#include "version.h"

/* ---- inputs: what decides the image ------------------------------------------ */

#define INPUTS_FORMAT "drydock-inputs/1"

/* The keys in etc/apk/keys (image/skeleton.h) are inputs too: "key NAME
 * SHA256" for each signer's key file in the mirror. */
static void signing_keys(struct dd_store *store, const struct dd_catalog *cat,
			 const struct dd_plan *p, struct dd_buf *s)
{
	struct dd_map seen = DD_MAP_INIT;
	struct dd_buf path = DD_BUF_INIT;

	for (size_t i = 0; i < p->n; i++) {
		const char *k = cat->info[p->pkgs[i].cat].signer;
		char hex[65];

		if (!k || !*k || strchr(k, '/') || dd_map_get(&seen, k))
			continue;
		*dd_map_put(&seen, k) = (void *)1;
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/keys/apk/%s", dd_store_root(store), k);
		if (dd_file_sha256(path.ptr, hex, NULL))
			snprintf(hex, sizeof(hex), "-");
		dd_buf_addf(s, "key %s %s\n", k, hex);
	}
	dd_error_clear();
	dd_map_release(&seen, NULL);
	dd_buf_release(&path);
}

/*
 * The inputs key (build.h), from a plan of every architecture.  A job
 * that will not plan gets no key: it is built (and fails) every time.
 */
static int inputs_of(const struct dd_build_opts *o, bool env_epoch, struct dd_store *store,
		     const struct dd_catalog *cat, const struct dd_job *job, char key[65])
{
	struct dd_buf s = DD_BUF_INIT;
	int rc = 0;

	*key = 0;
	dd_buf_addf(&s, "%s\n%s\njob %s\nentitlement %s\nepoch %s\nsigner %s\n", INPUTS_FORMAT,
		    DD_VERSION, job->sha256, cat->ent_sha256,
		    env_epoch ? o->source_date_epoch : "-", o->sign_key ? o->sign_key : "-");
	for (size_t i = 0; i < job->n_includes; i++)
		dd_buf_addf(&s, "include %s\n", job->includes[i].sha256);
	for (size_t a = 0; a < job->n_archs && !rc; a++) {
		struct dd_plan p;
		bool ok;

		if ((rc = dd_plan_make(store, cat, job, job->archs[a], &p)))
			break;
		ok = p.ok;
		dd_buf_addf(&s, "arch %s %zu\n", job->archs[a], p.n_crust);
		for (size_t i = 0; i < p.n; i++)
			dd_buf_addf(&s, "%s %s\n", dd_plan_role_str(p.pkgs[i].role),
				    cat->info[p.pkgs[i].cat].sha256);
		signing_keys(store, cat, &p, &s);
		dd_plan_release(&p);
		if (!ok)
			goto out;
	}
	if (!rc)
		dd_sha256_hex(s.ptr, s.len, key);
out:
	dd_buf_release(&s);
	return rc;
}

int build_inputs_key(struct build *b, char key[65])
{
	return inputs_of(b->o, b->env_epoch, b->store, &b->cat, &b->job, key);
}

/* Does the run folder dir still hold what a run delivers?  A run whose
 * image or evidence was deleted is not up to date, whatever its inputs. */
static bool run_complete(const char *dir)
{
	static const char *const need[] = { "image/index.json", "image.oci.tar", "sbom.spdx.json",
					    "sbom.cdx.json", DD_PROVENANCE_FILE };
	struct dd_buf p = DD_BUF_INIT;
	struct stat st;
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(need) / sizeof(need[0]); i++) {
		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", dir, need[i]);
		ok = !stat(p.ptr, &st) && S_ISREG(st.st_mode);
	}
	dd_buf_release(&p);
	return ok;
}

/* Is OUT/<job>/latest a good run with these inputs, its outputs all
 * there?  Then copy what identifies it into result. */
static bool unchanged_in(const char *out, const char *name, const char *key, json_t *result)
{
	struct dd_buf path = DD_BUF_INIT;
	json_t *last;
	const char *st, *in;
	bool same = false;

	dd_buf_addf(&path, "%s/%s/latest/result.json", out, name);
	last = json_load_file(path.ptr, 0, NULL);
	st = json_string_value(json_object_get(last, "status"));
	in = json_string_value(json_object_get(last, "inputs"));
	dd_buf_reset(&path);
	dd_buf_addf(&path, "%s/%s/latest", out, name);
	if (st && in && !strcmp(st, "succeeded") && !strcmp(in, key) && run_complete(path.ptr)) {
		static const char *const keep[] = { "digest", "media_type", "archive_sha256",
						    "archs",  "provenance", "warnings" };

		same = true;
		json_object_set(result, "run", json_object_get(last, "run_id"));
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (json_object_get(last, keep[i]))
				json_object_set(result, keep[i], json_object_get(last, keep[i]));
	}
	json_decref(last);
	dd_buf_release(&path);
	return same;
}

bool build_unchanged(struct build *b, const char *key)
{
	return unchanged_in(b->o->out, b->job.name, key, b->result);
}

/* The parts of result.json that say what the job is. */
void build_describe_job(json_t *result, const struct dd_job *job)
{
	json_object_set_new(result, "job",
			    json_pack("{s:s, s:s, s:s}", "file", job->file, "name", job->name,
				      "sha256", job->sha256));
	json_object_set_new(result, "tag", json_string(job->tag));
}

/* ... and which entitlement manifest it is built under. */
void build_describe_entitlement(json_t *result, const struct dd_catalog *cat)
{
	json_object_set_new(result, "entitlement",
			    json_pack("{s:I, s:s}", "version", (json_int_t)cat->ent_version,
				      "sha256", cat->ent_sha256));
}

bool dd_build_up_to_date(const struct dd_build_opts *o, struct dd_store *store,
			 const struct dd_catalog *cat, const char *path, json_t **result)
{
	const char *sde = o->source_date_epoch;
	int64_t t0 = dd_time_mono_ms(), epoch;
	struct dd_job job;
	char key[65];
	json_t *r;
	bool same = false;

	*result = NULL;
	if ((sde && *sde && dd_epoch_parse(sde, &epoch)) ||
	    dd_job_load_flags(path, o->strict ? DD_JOB_STRICT : 0, &job)) {
		dd_error_clear();
		return false;
	}
	r = json_pack("{s:s}", "format", "drydock-result/1");
	build_describe_job(r, &job);
	build_describe_entitlement(r, cat);
	if (!inputs_of(o, sde && *sde, store, cat, &job, key) && *key) {
		json_object_set_new(r, "inputs", json_string(key));
		same = unchanged_in(o->out, job.name, key, r);
	}
	dd_error_clear();
	dd_job_release(&job);
	if (!same) {
		json_decref(r);
		return false;
	}
	json_object_set_new(r, "status", json_string(DD_BUILD_UP_TO_DATE));
	json_object_set_new(r, "seconds", json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
	*result = r;
	return true;
}
