/*
 * drydock batch: every job of a directory, unattended (docs/operations.md).
 *
 * The supervisor (this process) holds OUT/batch.lock for the whole batch
 * and a shared lock on the mirror, so that no other batch writes OUT and
 * no import or gc changes the mirror under the builds.  Each job is
 * planned and built by a child process (fork) running dd_build(): the
 * supervisor kills a child that outlives its job's policy.timeout and
 * records a child that dies by a signal, so one job can never stop the
 * others.  Children die with the supervisor (PR_SET_PDEATHSIG); a run
 * they leave half-written is a .tmp- folder, never a good run.
 *
 * Every run of a batch has the batch's id as its run id:
 *   OUT/<job>/<id>/ or OUT/<job>/<id>-failed/   the runs (image/build.h)
 *   OUT/batch-<id>.json                         the report (below)
 *   OUT/history.jsonl                           one line per job per batch
 *   OUT/.blobs/sha256/<hex>                     every blob and oci-archive
 *                                               of every kept run, once;
 *                                               runs hold hard links to them
 *   OUT/batch.lock                              POSIX record lock
 *
 * Up to date: a job whose inputs (image/build.h: "inputs") equal those of
 * its last good run is not built again; its report line points at that
 * run.  --force builds every job.
 */
#ifndef DD_BATCH_H
#define DD_BATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

#define DD_BATCH_FORMAT "drydock-batch/1"

struct dd_batch_opts {
	const char *mirror; /* the mirror's root */
	const char *out;    /* OUT */
	const char *jobdir; /* JOBDIR: every *.yaml and *.yml in it */
	int jobs;           /* builds at once (-j); < 1: one */
	int threads;        /* compression threads per build; < 1: every core / jobs */
	bool force;         /* build even jobs that are up to date */
	bool no_cache;      /* neither use nor fill the mirror's crust layer cache */
	bool strict;        /* as struct dd_build_opts */
	const char *only;   /* fnmatch(3) pattern on the job name or file name; NULL: all */
	int wait_seconds;   /* how long to wait for OUT's lock and the mirror's */
	const char *sign_key, *gnupg_home; /* as struct dd_build_opts */
	const char *source_date_epoch;
	int max_age_days;          /* as struct dd_build_opts */
	int keep;                  /* > 0: keep this many good runs per job, prune the rest */
	unsigned shard_k, shard_n; /* this share (1..n) of the jobs; shard_n == 0: all */
	bool progress;             /* jobs done and time left on stderr, when it is a terminal */
};

/*
 * Run the batch.  Returns 0 when the batch ran (whatever its jobs did:
 * *report says), DD_E_BUSY when another batch held OUT's lock for
 * longer than wait_seconds (the detail names its pid), or another
 * negative code when the batch could not run at all (no mirror, no
 * entitlement, no readable JOBDIR, OUT not writable).  *report (set on
 * 0, caller frees) is the content of OUT/batch-<id>.json:
 *
 *   format, id, started, finished, seconds, drydock_version, mirror,
 *   out, jobdir, options {jobs, force, only, shard, keep, signed},
 *   entitlement {version, sha256},
 *   summary {jobs, built, up_to_date, failed, timed_out},
 *   jobs: [{name, file, status ("built" | "up to date" | "failed" |
 *           "timed out"), run, run_dir, digest, seconds, inputs,
 *           previous_run, error, signal, warnings [], changes}]  (sorted by file)
 *   warnings: ["<job>: <warning>"...], pruned {runs [], blobs, bytes}
 */
int dd_batch_run(const struct dd_batch_opts *o, json_t **report);

/* The jobs in jobdir, sorted, after only and the shard: a JSON array of
 * file names.  Errors name jobdir. */
int dd_batch_list(const struct dd_batch_opts *o, json_t **files);

/* Is job `name` in share k of n?  (sha256 of the name, mod n: adding or
 * removing a job never moves another.) */
bool dd_batch_in_shard(const char *name, unsigned k, unsigned n);

/* ---- changes between runs (batch/changes.c) ---------------------------- */

/*
 * What changed from result A to result B (result.json documents):
 * {digest {from, to}, entitlement {from, to}, config {from, to},
 *  layers {same [], removed [], added []},
 *  packages {added [{name, version}], removed [...],
 *            upgraded [{name, from, to}], downgraded [...]},
 *  advisories_fixed [{id, package, from, to, fixed_in}]}
 * per architecture where the job has several; keys that did not change
 * are left out.  Never NULL.
 */
json_t *dd_batch_changes(json_t *a, json_t *b);

/* One line per change ("upgraded hello-drydock 1.2.3-r0 -> 1.2.4-r0"),
 * appended to out, each prefixed by indent. */
void dd_batch_changes_text(json_t *changes, const char *indent, struct dd_buf *out);

/*
 * Merge the reports of several shards into one of the same shape: jobs
 * sorted by file, counts added, "shards" listing the merged ids.  A job
 * found in more than one report is an error (DD_E_FORMAT).
 */
int dd_batch_merge(json_t *const *reports, size_t n, json_t **merged);

/* ---- OUT's shared blobs and retention (batch/store.c) ------------------ */

/* Replace the blobs and image.oci.tar of the run at run_dir with hard
 * links into OUT/.blobs/sha256/, adding those it does not hold yet. */
int dd_batch_share_blobs(const char *out, const char *run_dir, const char *archive_sha);

/*
 * Keep the newest `keep` good runs of each job in OUT (and the one latest
 * names) and as many failed ones; remove the others, then every blob of
 * OUT/.blobs no run links to any more.  *pruned: {runs [], blobs, bytes}.
 */
int dd_batch_prune(const char *out, int keep, json_t **pruned);

/* ---- locks (batch/lock.c) ---------------------------------------------- */

/*
 * Take a POSIX write lock on path (created if missing), waiting up to
 * wait_seconds while another process holds it; DD_E_BUSY naming the
 * holder's pid when it does not let go.  The kernel releases it when
 * the process dies, so a killed holder never leaves a stale lock.
 * *fd is the lock: close it to release.
 */
int dd_batch_lock(const char *path, int wait_seconds, int *fd);

#endif
