/*
 * drydock build, the image: the job, the mirror, then for each architecture
 * plan -> layers -> config -> manifest; then the index, the archive, the
 * SBOMs, the advisories and VEX, and the provenance (image/build.h).
 */
#include "image/build_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/pkg.h"
#include "core/error.h"
#include "core/time.h"
#include "image/oci.h"
#include "version.h"

/* ---- the crust and the install order -------------------------------------- */

int64_t build_epoch_of(const struct build *b, const struct dd_plan *p, size_t n)
{
	int64_t t = 0;

	if (b->env_epoch)
		return b->epoch;
	for (size_t i = 0; i < n; i++)
		if (b->cat.pkgs[p->pkgs[i].cat].build_time > t)
			t = b->cat.pkgs[p->pkgs[i].cat].build_time;
	return t;
}

json_t *build_layer_json(const struct dd_blob_desc *d, const char *part, size_t n_pkgs, bool cached)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:b}", "digest", d->digest, "diff_id",
			 d->diff_id, "media_type", d->media_type, "size", (json_int_t)d->size,
			 "uncompressed_size", (json_int_t)d->usize, "holds", part, "packages",
			 (json_int_t)n_pkgs, "from_cache", cached);
}

/* ---- image documents ------------------------------------------------------- */

/* The config's Env: the job's environment, and PATH when it sets none. */
static json_t *config_env(const struct dd_job *j)
{
	json_t *env = json_array();
	bool has_path = false;

	for (size_t i = 0; i < j->n_environment; i++) {
		struct dd_buf kv = DD_BUF_INIT;

		has_path |= !strcmp(j->environment[i].key, "PATH");
		dd_buf_addf(&kv, "%s=%s", j->environment[i].key, j->environment[i].value);
		json_array_append_new(env, json_string(kv.ptr));
		dd_buf_release(&kv);
	}
	if (!has_path)
		json_array_append_new(env, json_string("PATH=/usr/local/sbin:/usr/local/bin:"
						       "/usr/sbin:/usr/bin:/sbin:/bin"));
	return env;
}

/* The image config's "config": what runs in the image, and how. */
static int config_of(const struct dd_job *j, json_t **out)
{
	json_t *cfg = json_object(), *words;
	int rc;

	if (j->entrypoint) {
		if ((rc = dd_split_words(j->entrypoint, &words))) {
			dd_error_prefix(rc, "%s: entrypoint.command", j->file);
			goto fail;
		}
		json_object_set_new(cfg, "Entrypoint", words);
	}
	if (j->cmd) {
		if ((rc = dd_split_words(j->cmd, &words))) {
			dd_error_prefix(rc, "%s: cmd", j->file);
			goto fail;
		}
		json_object_set_new(cfg, "Cmd", words);
	}
	json_object_set_new(cfg, "Env", config_env(j));
	if (j->run_as)
		json_object_set_new(cfg, "User", json_string(j->run_as));
	if (j->work_dir)
		json_object_set_new(cfg, "WorkingDir", json_string(j->work_dir));
	if (j->stop_signal)
		json_object_set_new(cfg, "StopSignal", json_string(j->stop_signal));
	if (j->n_annotations) {
		json_t *l = json_object();

		for (size_t i = 0; i < j->n_annotations; i++)
			json_object_set_new(l, j->annotations[i].key,
					    json_string(j->annotations[i].value));
		json_object_set_new(cfg, "Labels", l);
	}
	if (j->n_volumes) {
		json_t *v = json_object();

		for (size_t i = 0; i < j->n_volumes; i++)
			json_object_set_new(v, j->volumes[i], json_object());
		json_object_set_new(cfg, "Volumes", v);
	}
	*out = cfg;
	return 0;
fail:
	json_decref(cfg);
	return rc;
}

static int image_config(struct build *b, const char *arch, int64_t created,
			const struct dd_blob_desc *layers, size_t n_layers, const char **history,
			json_t **out)
{
	const char *goarch, *variant;
	json_t *cfg, *diff, *hist;
	char when[32];
	int rc = config_of(&b->job, &cfg);

	if (rc)
		return rc;
	dd_apk_arch_platform(arch, &goarch, &variant);
	dd_time_format(created, when);
	diff = json_array();
	hist = json_array();
	for (size_t i = 0; i < n_layers; i++) {
		json_array_append_new(diff, json_string(layers[i].diff_id));
		json_array_append_new(hist,
				      json_pack("{s:s, s:s, s:s}", "created", when, "created_by",
						history[i], "comment", "drydock " DD_VERSION));
	}
	*out = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:o}", "architecture", goarch, "os",
			 "linux", "created", when, "config", cfg, "rootfs", "type", "layers",
			 "diff_ids", diff, "history", hist);
	if (variant)
		json_object_set_new(*out, "variant", json_string(variant));
	return 0;
}

static int put_json(struct build *b, json_t *j, const char *media_type, struct dd_blob_desc *d)
{
	size_t len;
	char *s = dd_oci_dumps(j, &len);
	int rc = dd_blob_put(b->blobs, s, len, media_type, d);

	free(s);
	return rc;
}

static json_t *platform_json(const char *arch)
{
	const char *goarch, *variant;
	json_t *p;

	dd_apk_arch_platform(arch, &goarch, &variant);
	p = json_pack("{s:s, s:s}", "architecture", goarch, "os", "linux");
	if (variant)
		json_object_set_new(p, "variant", json_string(variant));
	return p;
}

/* ---- advisories ------------------------------------------------------------- */

/* The security databases the advisories come from, in the log. */
static int max_age(const struct build *b)
{
	return b->o->max_age_days > 0 ? b->o->max_age_days : DD_ADV_MAX_AGE_DAYS;
}

static int load_advisories(struct build *b)
{
	int64_t now = dd_time_now();
	struct dd_buf line = DD_BUF_INIT;
	int rc = dd_adv_db_load(b->store, &b->adv);

	if (rc)
		return rc;
	if (!b->adv.n_feeds)
		build_log(b, "advisories: the mirror holds no security database");
	for (size_t i = 0; i < b->adv.n_feeds; i++) {
		const struct dd_adv_feed *f = &b->adv.feeds[i];

		dd_buf_reset(&line);
		dd_adv_feed_describe(f, &line);
		build_log(b, "advisories from the %s sha256:%s", line.ptr, f->sha256);
		if (dd_adv_feed_stale(f, now, max_age(b)))
			build_warn(b,
				   "security database %s of channel %s is %.1f days old (more than "
				   "%d): advisories published since are not known here; import a "
				   "newer "
				   "bundle",
				   f->path, f->channel, (double)(now - f->created) / 86400.0,
				   max_age(b));
	}
	dd_buf_release(&line);
	return 0;
}

/* What the security databases say of the packages of plan p, built for
 * arch as manifest: into the log and the VEX statements; returns the
 * arch's {"counts", "items"} for result.json, or NULL without databases. */
static json_t *advisories(struct build *b, const char *arch, const char *manifest,
			  const struct dd_plan *p)
{
	struct dd_adv_pkg *pkgs;
	struct dd_adv_report r;
	struct dd_buf line = DD_BUF_INIT;
	json_t *out = NULL;
	char **purls;

	if (!b->adv.n_feeds)
		return NULL;
	pkgs = dd_adv_plan_pkgs(&b->cat, p);
	purls = dd_xcalloc(p->n + 1, sizeof(char *));
	for (size_t i = 0; i < p->n; i++) {
		struct dd_buf pu = DD_BUF_INIT;

		dd_purl(&pu, b->cat.info[p->pkgs[i].cat].channel, &b->cat.pkgs[p->pkgs[i].cat],
			arch);
		purls[i] = pu.ptr;
	}
	if (!dd_adv_analyze(&b->adv, &b->cat, pkgs, p->n, &r)) {
		json_t *items = dd_adv_items_json(&b->adv, &b->cat, pkgs, &r);

		dd_adv_counts_describe(&r, &line);
		build_log(b, "advisories (%s): %s", arch, line.ptr);
		for (size_t i = 0; i < r.n; i++) {
			dd_buf_reset(&line);
			dd_adv_item_describe(&b->cat, pkgs, &r.items[i], &line);
			build_log(b, "  %s", line.ptr);
		}
		for (int k = 0; k < DD_ADV_N_STATES; k++)
			b->adv_count[k] += r.count[k];
		out = json_pack("{s:o, s:o}", "counts", dd_adv_counts_json(&r), "items", items);
		dd_vex_add_image(&b->vex, b->job.name, manifest, arch, &b->adv, &b->cat, pkgs,
				 purls, &r);
		dd_adv_report_release(&r);
	}
	for (size_t i = 0; i < p->n; i++)
		free(purls[i]);
	free(purls);
	free(pkgs);
	dd_buf_release(&line);
	return out;
}

char *build_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = dd_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---- one architecture: plan -> layers -> config -> manifest ---------------- */

/* The layers of one architecture's image, bottom first. */
struct arch_layers {
	struct dd_blob_desc *d;
	char **history; /* the config's history line of each */
	size_t n;
	json_t *json; /* their result.json entries */
};

static void arch_layers_release(struct arch_layers *al)
{
	for (size_t i = 0; al->history && i < al->n; i++)
		free(al->history[i]);
	free(al->history);
	free(al->d);
	json_decref(al->json);
}

/* Plan the job for arch; a plan that fails is the build's error. */
static int plan_arch(struct build *b, const char *arch, struct dd_plan *p)
{
	struct dd_buf why = DD_BUF_INIT;
	int rc = dd_plan_make(b->store, &b->cat, &b->job, arch, p);

	if (rc)
		return rc;
	for (size_t i = 0; i < p->n_warnings; i++)
		build_warn(b, "%s: %s", arch, p->warnings[i]);
	if (p->ok)
		return 0;
	for (size_t i = 0; i < p->n_errors; i++) {
		build_log(b, "plan error (%s): %s", arch, p->errors[i]);
		dd_buf_addf(&why, "%s%s", i ? "; " : "", p->errors[i]);
	}
	while (why.len && why.ptr[why.len - 1] == '\n')
		why.ptr[--why.len] = 0;
	rc = dd_error(DD_E_FORMAT, "%s will not build for %s: %s", b->job.file, arch,
		      why.ptr ? why.ptr : "the plan failed");
	dd_buf_release(&why);
	return rc;
}

/* The plan in the log and as the provenance's dependencies; returns
 * result.json's "packages" of arch. */
static json_t *plan_packages(struct build *b, const char *arch, const struct dd_plan *p,
			     size_t n_crust, int64_t mtime)
{
	json_t *jpkgs = json_array();

	build_log(b, "plan (%s): %zu packages, %zu in the crust layer, epoch %lld", arch, p->n,
		  n_crust, (long long)mtime);
	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *pkg = &b->cat.pkgs[p->pkgs[i].cat];
		const struct dd_catalog_pkg *info = &b->cat.info[p->pkgs[i].cat];
		const char *role = dd_plan_role_str(p->pkgs[i].role);

		build_log(b, "  %s %s-%s sha256:%s from %s#%lld %s%s%s", role, pkg->name,
			  pkg->version, info->sha256, info->channel, (long long)info->sequence,
			  info->guarded ? "guarded" : "UNGUARDED", p->pkgs[i].by ? " by " : "",
			  p->pkgs[i].by ? p->pkgs[i].by : "");
		build_add_dependency(b, pkg, info, arch);
		json_array_append_new(jpkgs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name",
						       pkg->name, "version", pkg->version, "role",
						       role, "sha256", info->sha256, "guarded",
						       info->guarded, "crust_layer", i < n_crust));
	}
	return jpkgs;
}

static enum dd_codec job_codec(const struct build *b)
{
	return b->job.compression == DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD : DD_CODEC_GZIP;
}

/* The crust layer (build.h), from the layer cache when it is there. */
static int crust_layer(struct build *b, const struct dd_pkgset *ps, const struct dd_map *owners,
		       size_t n_crust, struct arch_layers *al)
{
	struct dd_tree tree = { DD_MAP_INIT };
	int64_t mtime = build_epoch_of(b, ps->plan, n_crust);
	struct layer_job lj = { ps,    &tree,        owners, 0,    n_crust, false,
				mtime, job_codec(b), NULL,   NULL, 0,       0 };
	struct dd_blob_desc *d = &al->d[al->n];
	char key[65];
	bool cached = false;
	int rc = 0;

	build_cache_key(b, ps->plan, n_crust, mtime, lj.codec, key);
	if (!b->o->no_cache && (cached = build_cache_get(b, key, d))) {
		d->media_type = dd_layer_media_type(lj.codec);
		build_log(b, "crust layer %s taken from the layer cache (%s)", d->digest, key);
	} else {
		rc = build_write_layer(b, &lj, d);
		if (!rc && !b->o->no_cache)
			build_cache_put(b, key, d, n_crust);
	}
	if (!rc) {
		al->history[al->n] = build_xasprintf("drydock build: crust (%zu packages of "
						     "image %s)",
						     n_crust, b->job.base ? b->job.base : "-");
		json_array_append_new(al->json, build_layer_json(d, "crust", n_crust, cached));
		al->n++;
	}
	dd_tree_release(&tree);
	return rc;
}

/* The layer above the crust (or the only one): the other packages and
 * the job's settings. */
static int top_layer(struct build *b, const struct dd_pkgset *ps, size_t n_crust, bool split,
		     struct arch_layers *al)
{
	const struct dd_plan *p = ps->plan;
	struct dd_tree tree = { DD_MAP_INIT };
	struct layer_job lj = {
		ps,           &tree, &p->owners, n_crust, p->n, true, build_epoch_of(b, p, p->n),
		job_codec(b), NULL,  NULL,       0,       0
	};
	int rc = build_write_layer(b, &lj, &al->d[al->n]);

	if (!rc) {
		al->history[al->n] =
			build_xasprintf("drydock build: %s (%zu packages) and the "
					"job's settings",
					split ? "toppings" : "all packages", p->n - n_crust);
		json_array_append_new(al->json,
				      build_layer_json(&al->d[al->n], split ? "toppings" : "all",
						       p->n - n_crust, false));
		al->n++;
	}
	dd_tree_release(&tree);
	return rc;
}

/* The layers of the plan: by origin, or the crust and the rest, or one. */
static int arch_layers(struct build *b, struct dd_plan *p, size_t n_crust, bool split,
		       struct arch_layers *al)
{
	struct dd_pkgset ps = { b->store, &b->cat, p };
	struct dd_map crust_win = DD_MAP_INIT;
	int rc;

	/* the crust layer is made as if the crust were all: its own owners
	 * (the plan held, so there are no conflicts among them) */
	if ((rc = dd_plan_owners(b->store, &b->cat, p, n_crust, &crust_win)))
		goto out;
	if (b->job.layering == DD_LAYERING_ORIGIN) {
		rc = build_origin_layers(b, &ps, job_codec(b), &al->d, &al->history, &al->n,
					 al->json);
		goto out;
	}
	al->d = dd_xcalloc(2, sizeof(*al->d));
	al->history = dd_xcalloc(2, sizeof(char *));
	if (split)
		rc = crust_layer(b, &ps, &crust_win, n_crust, al);
	if (!rc)
		rc = top_layer(b, &ps, n_crust, split, al);
out:
	dd_map_release(&crust_win, NULL);
	return rc;
}

/* The image config and manifest over the layers; the manifest's
 * descriptor into manifest, the config's into cfg. */
static int arch_manifest(struct build *b, const char *arch, int64_t mtime,
			 const struct arch_layers *al, struct dd_blob_desc *cfg,
			 struct dd_blob_desc *manifest)
{
	json_t *config, *m;
	int rc = image_config(b, arch, mtime, al->d, al->n, (const char **)al->history, &config);

	if (rc || (rc = put_json(b, config, DD_OCI_CONFIG, cfg)))
		return rc;
	m = json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType", DD_OCI_MANIFEST,
		      "config", dd_oci_descriptor(cfg), "layers");
	for (size_t i = 0; i < al->n; i++)
		json_array_append_new(json_object_get(m, "layers"), dd_oci_descriptor(&al->d[i]));
	if (b->job.n_annotations) {
		json_t *a = json_object();

		for (size_t i = 0; i < b->job.n_annotations; i++)
			json_object_set_new(a, b->job.annotations[i].key,
					    json_string(b->job.annotations[i].value));
		json_object_set_new(m, "annotations", a);
	}
	if ((rc = put_json(b, m, DD_OCI_MANIFEST, manifest)))
		return rc;
	build_log(b, "image (%s): manifest %s, config %s", arch, manifest->digest, cfg->digest);
	return 0;
}

/* The architecture built: into the SBOMs, the advisories and
 * result.json's "archs". */
static void arch_done(struct build *b, const char *arch, const struct dd_plan *p, size_t n_crust,
		      int64_t mtime, const struct dd_blob_desc *manifest,
		      const struct dd_blob_desc *cfg, json_t *jlayers, json_t *jpkgs)
{
	json_t *adv;

	dd_sbom_add_image(&b->sbom, b->job.tag, manifest->digest, &b->cat, p, n_crust, mtime);
	adv = advisories(b, arch, manifest->digest, p);
	json_array_append_new(b->archs,
			      json_pack("{s:s, s:o, s:s, s:I, s:s, s:I, s:I, s:I, s:O, s:O}",
					"arch", arch, "platform", platform_json(arch), "manifest",
					manifest->digest, "manifest_size",
					(json_int_t)manifest->size, "config", cfg->digest, "epoch",
					(json_int_t)mtime, "installed_size",
					(json_int_t)p->installed_size, "package_count",
					(json_int_t)p->n, "layers", jlayers, "packages", jpkgs));
	if (adv)
		json_object_set_new(json_array_get(b->archs, json_array_size(b->archs) - 1),
				    "advisories", adv);
}

/* Build one architecture: plan -> layers -> config -> manifest. */
static int build_arch(struct build *b, const char *arch, struct dd_blob_desc *manifest)
{
	struct dd_plan p;
	struct arch_layers al = { NULL, NULL, 0, json_array() };
	struct dd_blob_desc cfg;
	bool split = b->job.layers == DD_LAYERS_SPLIT && b->job.layering == DD_LAYERING_NONE;
	json_t *jpkgs = NULL;
	size_t n_crust;
	int64_t mtime;
	int rc = plan_arch(b, arch, &p);

	if (rc)
		goto out;
	n_crust = split ? p.n_crust : 0;
	mtime = build_epoch_of(b, &p, p.n);
	jpkgs = plan_packages(b, arch, &p, n_crust, mtime);
	if ((rc = arch_layers(b, &p, n_crust, split, &al)))
		goto out;
	if ((rc = arch_manifest(b, arch, mtime, &al, &cfg, manifest)))
		goto out;
	arch_done(b, arch, &p, n_crust, mtime, manifest, &cfg, al.json, jpkgs);
out:
	arch_layers_release(&al);
	json_decref(jpkgs);
	dd_plan_release(&p);
	return rc;
}

/* $DRYDOCK_TEST_HOOK (build.h): jobs that hang or crash, on demand. */
static void test_hook(const struct build *b)
{
	const char *h = getenv("DRYDOCK_TEST_HOOK");
	size_t n = strlen(b->job.name);

	while (h && *h) {
		size_t len = strcspn(h, ",");

		if (len > n && !strncmp(h, b->job.name, n) && h[n] == ':') {
			if (len - n - 1 == 5 && !strncmp(h + n + 1, "abort", 5))
				abort();
			if (len - n - 1 == 5 && !strncmp(h + n + 1, "sleep", 5))
				for (;;)
					sleep(60);
		}
		h += len + (h[len] == ',');
	}
}

/* ---- the image and its evidence ---------------------------------------------- */

/* The advisories in result.json, and the VEX documents beside the SBOMs. */
static int write_vex(struct build *b, const char *tag, const char *digest)
{
	struct dd_adv_report sum = { 0 };
	json_t *o;
	int rc;

	if (!b->adv.n_feeds)
		return 0;
	memcpy(sum.count, b->adv_count, sizeof(sum.count));
	o = json_pack("{s:o, s:o}", "secdbs", dd_adv_feeds_json(&b->adv, dd_time_now(), max_age(b)),
		      "counts", dd_adv_counts_json(&sum));
	json_object_set_new(b->result, "advisories", o);
	if (!dd_vex_count(&b->vex)) {
		build_log(b, "VEX: no advisory applies to the image's packages; no VEX documents");
		return 0;
	}
	rc = dd_vex_write(&b->vex, b->dir, b->job.name, tag, digest, b->sbom.created);
	if (rc)
		return rc;
	json_object_set_new(o, "vex", json_pack("[s, s]", DD_VEX_OPENVEX_FILE, DD_VEX_CDX_FILE));
	build_log(b, "VEX: %s (OpenVEX 0.2.0), %s (CycloneDX 1.6), %zu statements",
		  DD_VEX_OPENVEX_FILE, DD_VEX_CDX_FILE, dd_vex_count(&b->vex));
	return 0;
}

/* Load the job at path; its name, sha256 and includes into the log and
 * result.json. */
static int load_job(struct build *b, const char *path)
{
	json_t *job;
	int rc = dd_job_load_recorded(path, b->o->strict ? DD_JOB_STRICT : 0, b->o->includes,
				      b->o->n_includes, &b->job);

	if (rc)
		return rc;
	b->job_loaded = true;
	for (size_t i = 0; i < b->job.n_warnings; i++)
		build_warn(b, "%s", b->job.warnings[i]);
	b->deadline = dd_time_mono_ms() + b->job.timeout_ms;
	build_describe_job(b->result, &b->job);
	build_log(b, "job %s sha256:%s, tag %s", b->job.file, b->job.sha256, b->job.tag);
	job = json_object_get(b->result, "job");
	for (size_t i = 0; i < b->job.n_includes; i++) {
		const struct dd_job_include *inc = &b->job.includes[i];

		build_log(b, "  includes %s sha256:%s", inc->path, inc->sha256);
		if (!json_object_get(job, "includes"))
			json_object_set_new(job, "includes", json_array());
		json_array_append_new(json_object_get(job, "includes"),
				      json_pack("{s:s, s:s, s:s}", "include", inc->name, "path",
						inc->path, "sha256", inc->sha256));
	}
	return 0;
}

/* Open the mirror and load its catalog (narrowed to the pin, if any)
 * and its security databases. */
static int open_mirror(struct build *b)
{
	int rc;

	if ((rc = dd_store_open(b->o->mirror, 0, &b->store)))
		return rc;
	if ((rc = dd_catalog_load(b->store, &b->cat)))
		return rc;
	b->cat_loaded = true;
	if (b->pin) {
		if ((rc = dd_catalog_pin(b->store, &b->cat, b->pin)))
			return rc;
		build_log(b,
			  "pinned to the recorded inputs: %zu package blobs, entitlement "
			  "manifest sha256:%s",
			  b->cat.n, b->cat.has_entitlement ? b->cat.ent_sha256 : "(none)");
	}
	build_log(b, "mirror %s: %zu packages, entitlement manifest version %lld of %s",
		  dd_store_root(b->store), b->cat.n, (long long)b->cat.ent_version,
		  b->cat.organization ? b->cat.organization : "(none)");
	if ((rc = load_advisories(b)))
		return rc;
	build_log(b, "drydock %s, %s, %d thread(s)", DD_VERSION, dd_codec_describe(job_codec(b)),
		  b->threads);
	build_describe_entitlement(b->result, &b->cat);
	return 0;
}

/* The run's inputs key into result.json; BUILD_UNCHANGED when
 * skip_unchanged finds them equal to those of the last good run. */
static int decide_inputs(struct build *b)
{
	char key[65];
	int rc = build_inputs_key(b, key);

	if (rc)
		return rc;
	snprintf(b->inputs, sizeof(b->inputs), "%s", key);
	if (!*key)
		return 0;
	json_object_set_new(b->result, "inputs", json_string(key));
	build_log(b, "inputs sha256:%s", key);
	return b->o->skip_unchanged && build_unchanged(b, key) ? BUILD_UNCHANGED : 0;
}

/* What the image's index.json points at: the one manifest, or an image
 * index of every architecture's; its descriptor into *desc. */
static int image_top(struct build *b, const struct dd_blob_desc *manifests,
		     struct dd_blob_desc *top, json_t **desc)
{
	json_t *list;
	int rc;

	if (b->job.n_archs == 1) {
		*top = manifests[0];
		*desc = dd_oci_descriptor(top);
		json_object_set_new(*desc, "platform", platform_json(b->job.archs[0]));
		return 0;
	}
	list = json_array();
	for (size_t a = 0; a < b->job.n_archs; a++) {
		json_t *d = dd_oci_descriptor(&manifests[a]);

		json_object_set_new(d, "platform", platform_json(b->job.archs[a]));
		json_array_append_new(list, d);
	}
	rc = put_json(b,
		      json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", DD_OCI_INDEX,
				"manifests", list),
		      DD_OCI_INDEX, top);
	if (rc)
		return rc;
	*desc = dd_oci_descriptor(top);
	build_log(b, "image index %s for %zu architectures", top->digest, b->job.n_archs);
	return 0;
}

/* The SBOMs and the VEX documents of the image top. */
static int write_evidence(struct build *b, const struct dd_blob_desc *top)
{
	int rc = dd_sbom_write(&b->sbom, b->dir, b->job.name, b->job.tag, top->digest);

	if (rc)
		return rc;
	build_log(b, "SBOMs: sbom.spdx.json (SPDX 2.3), sbom.cdx.json (CycloneDX 1.6)");
	return write_vex(b, b->job.tag, top->digest);
}

/* image/ (the OCI layout, tagged) and image.oci.tar, whose sha256 goes
 * into sha; desc is taken. */
static int write_image(struct build *b, const struct dd_blob_desc *top, json_t *desc, char sha[65])
{
	struct dd_buf image = DD_BUF_INIT, archive = DD_BUF_INIT;
	json_t *idx;
	int rc;

	dd_buf_addf(&image, "%s/image", b->dir);
	dd_buf_addf(&archive, "%s/image.oci.tar", b->dir);
	json_object_set_new(desc, "annotations", json_pack("{s:s}", DD_OCI_REF_NAME, b->job.tag));
	idx = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", DD_OCI_INDEX,
			"manifests", desc);
	if (!(rc = dd_oci_write_layout(image.ptr, idx)) &&
	    !(rc = dd_oci_archive(image.ptr, archive.ptr, 0, sha)) &&
	    !(rc = build_check_deadline(b))) {
		build_log(b, "oci-archive image.oci.tar sha256:%s", sha);
		json_object_set_new(b->result, "digest", json_string(top->digest));
		json_object_set_new(b->result, "media_type", json_string(top->media_type));
		json_object_set_new(b->result, "archive_sha256", json_string(sha));
	}
	dd_buf_release(&image);
	dd_buf_release(&archive);
	return rc;
}

/* The job at path built into b->dir: the image, its SBOMs, VEX and
 * provenance (result.json and the log are the run's, build_run.c). */
int build_image(struct build *b, const char *path)
{
	struct dd_blob_desc *manifests, top;
	json_t *desc = NULL;
	char sha[65];
	int rc;

	if ((rc = load_job(b, path)) || (rc = open_mirror(b)) || (rc = decide_inputs(b)))
		return rc;
	test_hook(b);
	manifests = dd_xcalloc(b->job.n_archs, sizeof(*manifests));
	for (size_t a = 0; a < b->job.n_archs && !rc; a++)
		rc = build_arch(b, b->job.archs[a], &manifests[a]);
	if (!rc)
		rc = image_top(b, manifests, &top, &desc);
	if (!rc)
		rc = write_evidence(b, &top);
	if (!rc) {
		rc = write_image(b, &top, desc, sha);
		desc = NULL;
	}
	if (!rc)
		rc = build_write_provenance(b, &top, manifests, sha);
	json_decref(desc);
	free(manifests);
	return rc;
}
