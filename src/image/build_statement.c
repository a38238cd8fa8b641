/*
 * drydock build, the provenance: the in-toto statement of a run and
 * provenance.intoto.json (evidence/provenance.h).
 */
#include "image/build_private.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/time.h"
#include "evidence/provenance.h"
#include "version.h"

/* ---- provenance ---------------------------------------------------------------- */

/* A package blob, and the bundle that brought it, as resolved dependencies. */
void build_add_dependency(struct build *b, const struct dd_apk_pkg *pkg,
			  const struct dd_catalog_pkg *info, const char *arch)
{
	struct dd_buf purl = DD_BUF_INIT, name = DD_BUF_INIT;

	if (json_object_get(b->deps, info->sha256))
		return; /* a noarch package in another architecture's image */
	dd_purl(&purl, info->channel, pkg, arch);
	dd_buf_addf(&name, "%s-%s.apk", pkg->name, pkg->version);
	json_object_set_new(b->deps, info->sha256,
			    json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "uri", purl.ptr, "name",
				      name.ptr, "digest", "sha256", info->sha256, "annotations",
				      "kind", "package", "bundle", info->bundle));
	if (!json_object_get(b->bundles, info->bundle)) {
		dd_buf_reset(&name);
		dd_buf_addf(&name, "urn:drydock:bundle:%s:%lld", info->channel,
			    (long long)info->sequence);
		json_object_set_new(b->bundles, info->bundle,
				    json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:I}}", "uri",
					      name.ptr, "name", "manifest.json", "digest", "sha256",
					      info->bundle, "annotations", "kind",
					      "bundle-manifest", "channel", info->channel,
					      "sequence", (json_int_t)info->sequence));
	}
	dd_buf_release(&purl);
	dd_buf_release(&name);
}

json_t *build_subject(const char *name, const char *digest)
{
	return json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256",
			 digest + (strncmp(digest, "sha256:", 7) ? 0 : 7));
}

int build_file_subjects(json_t *subjects, const char *dir, const char *const *files, size_t n)
{
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		char hex[65];

		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", dir, files[i]);
		if (!(rc = dd_file_sha256(path.ptr, hex, NULL)))
			json_array_append_new(subjects, build_subject(files[i], hex));
	}
	dd_buf_release(&path);
	return rc;
}

/* The statement's externalParameters: the job, as written, with the
 * files it includes, and SOURCE_DATE_EPOCH when it was set. */
static json_t *external_parameters(const struct build *b)
{
	const struct dd_job *j = &b->job;
	json_t *ext, *content;

	content = json_stringn(j->text.ptr ? j->text.ptr : "", j->text.len);
	ext = json_pack("{s:{s:s, s:s}}", "job", "path", j->file, "sha256", j->sha256);
	if (content) {
		json_object_set_new(json_object_get(ext, "job"), "content", content);
	}
	if (j->n_includes) {
		json_t *incs = json_array();

		for (size_t i = 0; i < j->n_includes; i++) {
			const struct dd_job_include *inc = &j->includes[i];
			json_t *o = json_pack("{s:s, s:s, s:s}", "include", inc->name, "path",
					      inc->path, "sha256", inc->sha256);

			json_object_set_new(o, "content",
					    json_stringn(inc->text.ptr ? inc->text.ptr : "",
							 inc->text.len));
			json_array_append_new(incs, o);
		}
		json_object_set_new(json_object_get(ext, "job"), "includes", incs);
	}
	if (b->env_epoch)
		json_object_set_new(ext, "SOURCE_DATE_EPOCH", json_integer(b->epoch));
	return ext;
}

/* The statement's internalParameters: the policy and the settings the
 * image was built with. */
static json_t *internal_parameters(const struct build *b)
{
	const struct dd_job *j = &b->job;
	json_t *in;

	in = json_pack("{s:{s:b, s:I}, s:{s:s, s:s, s:i, s:b, s:s}}", "policy", "allow_unguarded",
		       j->allow_unguarded, "timeout_ms", (json_int_t)j->timeout_ms, "settings",
		       "compressor",
		       dd_codec_describe(j->compression == DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD
									    : DD_CODEC_GZIP),
		       "layers",
		       j->layering == DD_LAYERING_ORIGIN ? "origin"
		       : j->layers == DD_LAYERS_SPLIT    ? "split"
							 : "single",
		       "threads", b->threads, "layer_cache", !b->o->no_cache, "mirror",
		       dd_store_root(b->store));
	if (j->layering == DD_LAYERING_ORIGIN)
		json_object_set_new(json_object_get(in, "settings"), "layer_budget",
				    json_integer(j->layer_budget));
	if (b->cat.has_entitlement)
		json_object_set_new(json_object_get(in, "policy"), "entitlement",
				    json_pack("{s:s, s:I, s:s}", "organization",
					      b->cat.organization, "version",
					      (json_int_t)b->cat.ent_version, "sha256",
					      b->cat.ent_sha256));
	return in;
}

/* The statement's resolvedDependencies: the package blobs, the bundles
 * that brought them and the entitlement manifest. */
static json_t *resolved_dependencies(const struct build *b)
{
	json_t *deps = json_array(), *v;
	const char *key;

	json_object_foreach(b->deps, key, v)
		json_array_append(deps, v);
	json_object_foreach(b->bundles, key, v)
		json_array_append(deps, v);
	if (b->cat.has_entitlement) {
		char uri[64];

		snprintf(uri, sizeof(uri), "urn:drydock:entitlement:%lld",
			 (long long)b->cat.ent_version);
		json_array_append_new(deps,
				      json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s}}", "uri",
						uri, "name", "entitlements.json", "digest",
						"sha256", b->cat.ent_sha256, "annotations", "kind",
						"entitlement-manifest", "organization",
						b->cat.organization, "bundle", b->cat.ent_bundle));
	}
	return deps;
}

/* The in-toto statement of this run, for subjects. */
static json_t *statement(struct build *b, json_t *subjects)
{
	char host[256] = "localhost", finished[40];
	struct dd_buf id = DD_BUF_INIT;
	json_t *st;

	dd_time_wall_ms(finished);
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	dd_buf_addf(&id, "urn:drydock:builder:%s", host);
	st = json_pack("{s:s, s:o, s:s, s:{s:{s:s, s:o, s:o, s:o}, s:{s:{s:s, s:{s:s}}, "
		       "s:{s:s, s:s, s:s}}}}",
		       "_type", DD_INTOTO_STATEMENT, "subject", subjects, "predicateType",
		       DD_SLSA_PROVENANCE, "predicate", "buildDefinition", "buildType",
		       DD_BUILD_TYPE, "externalParameters", external_parameters(b),
		       "internalParameters", internal_parameters(b), "resolvedDependencies",
		       resolved_dependencies(b), "runDetails", "builder", "id", id.ptr, "version",
		       "drydock", DD_VERSION, "metadata", "invocationId", b->run_id, "startedOn",
		       b->started, "finishedOn", finished);
	dd_buf_release(&id);
	return st;
}

/* provenance.intoto.json over the image, its archive, its SBOMs and its
 * VEX documents. */
int build_write_provenance(struct build *b, const struct dd_blob_desc *top,
			   const struct dd_blob_desc *manifests, const char *archive_sha)
{
	static const char *const files[] = { "sbom.spdx.json", "sbom.cdx.json", DD_VEX_OPENVEX_FILE,
					     DD_VEX_CDX_FILE };
	size_t n_files = dd_vex_count(&b->vex) ? 4 : 2;
	json_t *subjects = json_array(), *st, *signer;
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	json_array_append_new(subjects, build_subject(b->job.tag, top->digest));
	if (b->job.n_archs > 1) {
		for (size_t a = 0; a < b->job.n_archs; a++) {
			dd_buf_reset(&path);
			dd_buf_addf(&path, "%s %s", b->job.tag, b->job.archs[a]);
			json_array_append_new(subjects,
					      build_subject(path.ptr, manifests[a].digest));
		}
	}
	json_array_append_new(subjects, build_subject("image.oci.tar", archive_sha));
	dd_buf_release(&path);
	if ((rc = build_file_subjects(subjects, b->dir, files, n_files))) {
		json_decref(subjects);
		return rc;
	}
	st = statement(b, subjects);
	rc = dd_provenance_write(b->dir, st, b->signing ? &b->key : NULL);
	json_decref(st);
	if (rc)
		return rc;
	signer = json_pack("{s:s, s:b}", "file", DD_PROVENANCE_FILE, "signed", b->signing);
	if (b->signing) {
		json_object_set_new(signer, "key",
				    json_pack("{s:s, s:s, s:s%}", "kind",
					      dd_sigkey_kind_str(b->key.kind), "fingerprint",
					      b->key.fingerprint, "public_key",
					      b->key.public_key.ptr, b->key.public_key.len));
		build_log(b, "provenance: %s signed by %s key %s", DD_PROVENANCE_FILE,
			  dd_sigkey_kind_str(b->key.kind), b->key.fingerprint);
	} else {
		build_warn(b, "the provenance is not signed (no --sign key given); drydock verify "
			      "will refuse it");
	}
	json_object_set_new(b->result, "provenance", signer);
	return 0;
}
