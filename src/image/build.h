/*
 * drydock build: one job becomes an OCI image, from the mirror alone.
 *
 * A run writes OUT/<job>/.tmp-<run-id>/ and renames it to
 * OUT/<job>/<run-id>/ only when everything is in it:
 *   image/           OCI image layout (oci-layout, index.json, blobs/)
 *   image.oci.tar    the same layout as one oci-archive, tagged
 *   build.log        every step, timestamped
 *   sbom.spdx.json, sbom.cdx.json   what is inside (evidence/sbom.h)
 *   provenance.intoto.json          signed provenance (evidence/provenance.h)
 *   result.json      status, digests, sizes, timings, warnings, signer
 *   record.intoto.json  build.log, result.json and the provenance, signed
 *                    by the same key once they are final
 * then points OUT/<job>/latest at it.  A failed run keeps only its log
 * and result.json, in OUT/<job>/<run-id>-failed/, and leaves latest
 * alone.  A run killed half-way leaves a .tmp- folder that the next run
 * of the job removes (runs of one job hold OUT/<job>/.lock).
 *
 * Layers: the crust (the base packages and what they need) in one, the
 * rest in another, or everything in one (output.layers: single).  The
 * crust layer depends only on the crust packages, the epoch and the
 * compressor, so every image of one base shares it byte for byte; the
 * mirror keeps it in cache/layers/ for the next build.
 */
#ifndef DD_IMAGE_BUILD_H
#define DD_IMAGE_BUILD_H

/* result.json's status for a job skipped by skip_unchanged */
#define DD_BUILD_UP_TO_DATE "up to date"

#include <jansson.h>
#include <stdbool.h>

struct dd_store;
struct dd_catalog;
#include "job/job.h"

struct dd_catalog_pin;

struct dd_build_opts {
	const char *mirror;            /* the mirror's root */
	const char *out;               /* OUT */
	int threads;                   /* compression threads; < 1: every core */
	bool no_cache;                 /* neither read nor fill the layer cache */
	const char *source_date_epoch; /* as $SOURCE_DATE_EPOCH: the image's times; NULL or
					  "": from the packages' build dates */
	const char *sign_key;          /* PEM private key file or OpenPGP key id; NULL: unsigned */
	const char *gnupg_home;        /* where the OpenPGP key is; NULL: GnuPG's default */
	const char *run_id;            /* the run's id; NULL: the time and random bytes */
	int max_age_days;              /* warn about security databases older than this
					  many days; 0: DD_ADV_MAX_AGE_DAYS */
	const struct dd_job_include *includes; /* the job's included files as a run
						  recorded them (job.h), read instead
						  of the disk; NULL: from the disk */
	size_t n_includes;
	bool strict;         /* the apko keys a job may carry ignored (with a warning)
				are refused instead (job.h: DD_JOB_STRICT) */
	bool skip_unchanged; /* build nothing when the inputs equal those of the last
				good run (OUT/<job>/latest): the result's status is
				"up to date" and no run folder is left */
};

/*
 * Build the job at path.  Returns 0 when the image was built (or, with
 * skip_unchanged, found up to date), else a negative code with the
 * detail set; *result (never NULL on return) is result.json's content,
 * *run_dir the run folder (NULL when none could be made, or when the
 * job was up to date).
 *
 * result.json's "inputs" is the sha256 of everything the image is made
 * from, decided from the plan before any layer is written: the job
 * file's bytes and those of the files it includes, every planned package blob (per architecture),
 * the entitlement manifest, SOURCE_DATE_EPOCH, the signing key as given and drydock's version.  Two
 * runs with equal inputs give the same image.
 *
 * Test hook: $DRYDOCK_TEST_HOOK = "JOB:sleep" makes the build of job
 * JOB hang after planning without looking at its deadline (for the
 * batch supervisor's timeout), "JOB:abort" makes it abort().
 */
int dd_build(const struct dd_build_opts *o, const char *path, json_t **result, char **run_dir);

/*
 * The up-to-date test of dd_build() with skip_unchanged, on a mirror
 * already open and loaded, making nothing: true when the job at path
 * plans to the inputs of OUT/<job>/latest, a good run; then *result is
 * what dd_build() would return for it (status "up to date").  False when
 * the job must be built, or when it cannot tell (the job does not load
 * or plan: dd_build() reports why).
 */
bool dd_build_up_to_date(const struct dd_build_opts *o, struct dd_store *store,
			 const struct dd_catalog *cat, const char *path, json_t **result);

/*
 * dd_build() from exactly the inputs pin records (store/catalog.h):
 * the job is planned against the mirror narrowed to those package blobs
 * and that entitlement manifest, so a mirror that moved on since gives
 * the same image (image/rebuild.h).
 */
int dd_build_pinned(const struct dd_build_opts *o, const struct dd_catalog_pin *pin,
		    const char *path, json_t **result, char **run_dir);

#endif
