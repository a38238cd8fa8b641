/*
 * The parts of drydock build (image/build.h) that its files share; not
 * for callers outside src/image/build*.c.
 *
 *   build_run.c        a run's life: OUT/<job>/.lock, the .tmp- folder and
 *                      its rename, latest, result.json, build.log, a failed
 *                      run's remains, record.intoto.json
 *   build.c            the image: the job, the mirror, then per architecture
 *                      plan -> layers -> config -> manifest; the index, the
 *                      archive, the SBOMs, advisories and VEX
 *   build_inputs.c     the inputs key and the up-to-date test
 *   build_rootfs.c     what one layer holds: packages, the skeleton, the apk
 *                      database, accounts, paths, certificates
 *   build_origin.c     layering by origin
 *   build_cache.c      the mirror's layer cache (cache/layers/)
 *   build_statement.c  the provenance statement of the run
 */
#ifndef DD_IMAGE_BUILD_PRIVATE_H
#define DD_IMAGE_BUILD_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "advisory/advisory.h"
#include "core/compress.h"
#include "image/build.h"
#include "image/layer.h"
#include "image/rootfs.h"
#include "evidence/sbom.h"
#include "evidence/vex.h"
#include "job/plan.h"
#include "store/catalog.h"
#include "trust/sign.h"

#define LAYER_FORMAT    "drydock-layer/2" /* 2: with the skeleton (image/skeleton.h) */
#define BUILD_UNCHANGED 1 /* build_image: the inputs equal those of the last good run */

struct build {
	const struct dd_build_opts *o;
	const struct dd_catalog_pin *pin; /* NULL: solve against the mirror as it is */
	struct dd_job job;
	bool job_loaded;
	struct dd_store *store;
	struct dd_catalog cat;
	bool cat_loaded;
	char *dir;   /* the run folder being written (.tmp-) */
	char *blobs; /* dir/image/blobs/sha256 */
	FILE *log;
	int log_errno; /* the first failed write to build.log, or 0 */
	int threads;
	int64_t deadline; /* monotonic ms */
	json_t *result, *warnings, *archs;
	struct dd_sbom sbom;
	struct dd_adv_db adv; /* the mirror's security databases (none: no advisories) */
	struct dd_vex vex;
	size_t adv_count[DD_ADV_N_STATES];
	bool env_epoch;
	int64_t epoch; /* SOURCE_DATE_EPOCH, when set */
	char run_id[40], started[40];
	struct dd_sigkey key;
	bool signing;
	json_t *deps;    /* package blob sha256 -> its resolved dependency, in order */
	json_t *bundles; /* bundle digest -> dependency, in order of first use */
	bool timed_out;  /* build_check_deadline failed the build */
	char inputs[65]; /* the inputs key ("" when the job will not plan) */
};

struct layer_job {
	const struct dd_pkgset *ps;
	struct dd_tree *tree;
	const struct dd_map *winners;
	size_t from, to; /* packages streamed into this layer */
	bool top;        /* the last layer: job settings, the whole apk db */
	int64_t mtime;
	enum dd_codec codec;
	/* layering by origin, top layer: the packages streamed into it and
	 * those the layers below hold (instead of from, to) */
	const int *list, *below;
	size_t n_list, n_below;
};

/* build_run.c: a line of build.log; a warning (the log and result.json);
 * the deadline check (a dd_rootfs / layer writer callback) */
void build_log(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void build_warn(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int build_check_deadline(void *ctx);

/* build.c */
int build_image(struct build *b, const char *path);
int64_t build_epoch_of(const struct build *b, const struct dd_plan *p, size_t n);
json_t *build_layer_json(const struct dd_blob_desc *d, const char *part, size_t n_pkgs,
			 bool cached);
char *build_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* build_inputs.c */
int build_inputs_key(struct build *b, char key[65]);
bool build_unchanged(struct build *b, const char *key);
void build_describe_job(json_t *result, const struct dd_job *job);
void build_describe_entitlement(json_t *result, const struct dd_catalog *cat);

/* build_rootfs.c */
int build_install(struct build *b, struct dd_rootfs *r, const struct dd_plan *p, size_t pos);
int build_write_layer(struct build *b, const struct layer_job *lj, struct dd_blob_desc *out);

/* build_origin.c */
int build_origin_layers(struct build *b, const struct dd_pkgset *ps, enum dd_codec codec,
			struct dd_blob_desc **layers, char ***history, size_t *n, json_t *jlayers);

/* build_cache.c */
void build_cache_key(const struct build *b, const struct dd_plan *p, size_t n, int64_t mtime,
		     enum dd_codec codec, char key[65]);
bool build_cache_get(struct build *b, const char *key, struct dd_blob_desc *out);
void build_cache_put(struct build *b, const char *key, const struct dd_blob_desc *d, size_t n_pkgs);

/* build_statement.c */
void build_add_dependency(struct build *b, const struct dd_apk_pkg *pkg,
			  const struct dd_catalog_pkg *info, const char *arch);
json_t *build_subject(const char *name, const char *digest);
/* A subject for each of files[0..n) in dir, by its sha256, appended. */
int build_file_subjects(json_t *subjects, const char *dir, const char *const *files, size_t n);
int build_write_provenance(struct build *b, const struct dd_blob_desc *top,
			   const struct dd_blob_desc *manifests, const char *archive_sha);

#endif
