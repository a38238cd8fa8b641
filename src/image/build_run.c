/*
 * drydock build, a run's life (image/build.h): OUT/<job>/.lock, the .tmp-
 * folder renamed when complete, latest, result.json, build.log, what a
 * failed run keeps, record.intoto.json.
 */
#include "image/build_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crash.h"
#include "core/epoch.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/name.h"
#include "core/time.h"
#include "evidence/provenance.h"
#include "version.h"

/* ---- time and the log ---------------------------------------------------- */

void build_log(struct build *b, const char *fmt, ...)
{
	char now[40], *line;
	va_list ap;

	if (!b->log)
		return;
	va_start(ap, fmt);
	line = dd_xvasprintf(fmt, ap);
	va_end(ap);
	dd_time_wall_ms(now);
	fprintf(b->log, "%s %s\n", now, line);
	dd_note("%s", line); /* -v: the log as it is written */
	free(line);
	if ((fflush(b->log) || ferror(b->log)) && !b->log_errno)
		b->log_errno = errno ? errno : EIO;
}

void build_warn(struct build *b, const char *fmt, ...)
{
	char *m;
	va_list ap;

	va_start(ap, fmt);
	m = dd_xvasprintf(fmt, ap);
	va_end(ap);
	build_log(b, "warning: %s", m);
	json_array_append_new(b->warnings, json_string(m));
	free(m);
}

int build_check_deadline(void *ctx)
{
	struct build *b = ctx;

	if (dd_time_mono_ms() <= b->deadline)
		return 0;
	b->timed_out = true;
	return dd_error(DD_E_LIMIT,
			"the build ran longer than its policy.timeout (%lld ms); "
			"raise policy.timeout in %s",
			(long long)b->job.timeout_ms, b->job.file);
}

/* ---- the run folder, latest, and what a run keeps ---------------------------- */

/* Hold OUT/<job>/.lock for this run; then no .tmp- folder is alive. */
static int lock_job(const char *jobdir, int *fd)
{
	struct dd_buf path = DD_BUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc = 0;

	dd_buf_addf(&path, "%s/.lock", jobdir);
	*fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		rc = dd_error_errno("%s", path.ptr);
	} else if (fcntl(*fd, F_SETLK, &fl)) {
		fcntl(*fd, F_GETLK, &fl);
		rc = dd_error(DD_E_IO,
			      "%s: another build of this job is running (pid %ld); "
			      "wait for it to finish",
			      jobdir, (long)fl.l_pid);
		close(*fd);
		*fd = -1;
	}
	dd_buf_release(&path);
	if (rc)
		return rc;
	{
		DIR *d = opendir(jobdir);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, ".tmp-", 5))
				continue;
			dd_buf_reset(&path);
			dd_buf_addf(&path, "%s/%s", jobdir, de->d_name);
			dd_remove_tree(path.ptr);
		}
		if (d)
			closedir(d);
		dd_buf_release(&path);
	}
	return 0;
}

static int point_latest(const char *jobdir, const char *run_id)
{
	struct dd_buf tmp = DD_BUF_INIT, dst = DD_BUF_INIT;
	int rc = 0;

	dd_buf_addf(&tmp, "%s/.latest.tmp", jobdir);
	dd_buf_addf(&dst, "%s/latest", jobdir);
	unlink(tmp.ptr);
	if (symlink(run_id, tmp.ptr) || rename(tmp.ptr, dst.ptr))
		rc = dd_error_errno("%s", dst.ptr);
	dd_fsync_dir(jobdir);
	dd_buf_release(&tmp);
	dd_buf_release(&dst);
	return rc;
}

/* What a successful run holds besides build.log and result.json. */
static const char *const run_outputs[] = {
	"image",         "image.oci.tar",    "sbom.spdx.json", "sbom.cdx.json", DD_VEX_OPENVEX_FILE,
	DD_VEX_CDX_FILE, DD_PROVENANCE_FILE,
};

static int write_result(const char *dir, json_t *result)
{
	return dd_write_json(dir, "result.json", result, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
}

/*
 * Keep a failed run's log and result.json under the name fin, and set
 * the detail to err.  When they cannot be kept (a full disk), fin is
 * emptied, so that nothing names a folder that does not exist, and the
 * detail says why and which log was attempted.
 */
static void keep_failed(struct build *b, const char *tmp, struct dd_buf *fin,
			const struct dd_buf *logp, const char *err)
{
	char *why = NULL;
	int rc = 0;

	if (b->log && fclose(b->log) && !b->log_errno)
		b->log_errno = errno ? errno : EIO;
	b->log = NULL;
	rc = write_result(tmp, b->result);
	if (!rc && rename(tmp, fin->ptr))
		rc = dd_error_errno("cannot rename %s to %s", tmp, fin->ptr);
	if (rc) {
		why = dd_xstrdup(dd_error_detail());
		dd_error(rc,
			 "%s; the run's log could not be kept (%s): what was written "
			 "of it is in %s until the next build of this job",
			 err, why, logp->ptr);
		dd_buf_reset(fin);
	} else if (b->log_errno) {
		dd_error(DD_E_IO, "%s; the log %s/build.log is incomplete: %s", err, fin->ptr,
			 strerror(b->log_errno));
	} else {
		dd_error(DD_E_IO, "%s", err);
	}
	free(why);
}

/* record.intoto.json: build.log, result.json and the provenance, signed
 * once they are final (evidence/provenance.h). */
static int write_record(struct build *b, const char *dir)
{
	static const char *const files[] = { "build.log", "result.json", DD_PROVENANCE_FILE };
	json_t *subjects = json_array(), *st;
	int rc = build_file_subjects(subjects, dir, files, 3);

	if (rc) {
		json_decref(subjects);
		return rc;
	}
	st = json_pack("{s:s, s:o, s:s, s:{s:s, s:s}}", "_type", DD_INTOTO_STATEMENT, "subject",
		       subjects, "predicateType", DD_RECORD_TYPE, "predicate", "runId", b->run_id,
		       "status", "succeeded");
	rc = dd_dsse_write(dir, DD_RECORD_FILE, st, b->signing ? &b->key : NULL);
	json_decref(st);
	return rc;
}

/* ---- one run ------------------------------------------------------------------ */

/* The folders and files of one run. */
struct run {
	const char *path;     /* the job file */
	char *name;           /* the job's name: OUT/<name> */
	struct dd_buf jobdir; /* OUT/<job> */
	struct dd_buf tmp;    /* OUT/<job>/.tmp-<run id>, the run folder while it is written */
	struct dd_buf fin;    /* the name it was kept under; empty: none */
	struct dd_buf logp;   /* its build.log */
	int lock;             /* OUT/<job>/.lock, held; -1: not */
	int64_t t0;           /* when it started, monotonic ms */
};

static double seconds_since(int64_t t0)
{
	return (double)(dd_time_mono_ms() - t0) / 1000.0;
}

static void run_init(struct build *b)
{
	b->result = json_object();
	b->warnings = json_array();
	b->archs = json_array();
	b->deps = json_object();
	b->bundles = json_object();
	dd_sbom_init(&b->sbom);
	dd_vex_init(&b->vex);
	b->threads = b->o->threads > 0 ? b->o->threads : dd_ncpus();
}

/* What names and signs the run, checked before anything is made: the
 * job's name (it becomes OUT/<name>), SOURCE_DATE_EPOCH, the run id and
 * the signing key. */
static int run_identity(struct build *b, struct run *r)
{
	const struct dd_build_opts *o = b->o;
	const char *sde = o->source_date_epoch;
	int rc;

	if ((rc = dd_job_name(r->path, &r->name)))
		return rc;
	if (sde && *sde) {
		if ((rc = dd_epoch_parse(sde, &b->epoch)))
			return rc;
		b->env_epoch = true;
	}
	if (o->run_id)
		snprintf(b->run_id, sizeof(b->run_id), "%s", o->run_id);
	else
		dd_name_run_id(b->run_id);
	/* it names OUT/<job>/<run id>: a given one as much as a made one */
	if ((rc = dd_name_check("the run id", o->run_id ? o->run_id : b->run_id)))
		return rc;
	dd_time_wall_ms(b->started);
	if (o->sign_key) {
		if ((rc = dd_sigkey_open_signer(o->sign_key, o->gnupg_home, &b->key)))
			return rc;
		b->signing = true;
	}
	json_object_set_new(b->result, "format", json_string("drydock-result/1"));
	json_object_set_new(b->result, "run_id", json_string(b->run_id));
	return 0;
}

/* The run folder OUT/<job>/.tmp-<run id>/ with image/blobs/sha256 and
 * build.log open, OUT/<job>/.lock held. */
static int run_open(struct build *b, struct run *r)
{
	int rc;

	dd_buf_addf(&r->jobdir, "%s/%s", b->o->out, r->name);
	if ((rc = dd_mkdirs(r->jobdir.ptr, 0755)) || (rc = lock_job(r->jobdir.ptr, &r->lock)))
		return rc;
	dd_buf_addf(&r->tmp, "%s/.tmp-%s", r->jobdir.ptr, b->run_id);
	b->dir = r->tmp.ptr;
	dd_buf_addf(&r->logp, "%s/image/blobs/sha256", r->tmp.ptr);
	if ((rc = dd_mkdirs(r->logp.ptr, 0755)))
		return rc;
	b->blobs = dd_xstrdup(r->logp.ptr);
	dd_buf_reset(&r->logp);
	dd_buf_addf(&r->logp, "%s/build.log", r->tmp.ptr);
	b->log = fopen(r->logp.ptr, "we");
	if (!b->log)
		return dd_error_errno("%s", r->logp.ptr);
	return 0;
}

/* Up to date: nothing was written, so the run folder goes and latest
 * stays. */
static void run_unchanged(struct build *b, const struct run *r)
{
	json_object_set_new(b->result, "status", json_string(DD_BUILD_UP_TO_DATE));
	json_object_del(b->result, "run_id");
	json_object_set_new(b->result, "seconds", json_real(seconds_since(r->t0)));
	fclose(b->log);
	b->log = NULL;
	dd_remove_tree(r->tmp.ptr);
}

/* result.json's account of a run that ended with rc. */
static void run_result(struct build *b, const struct run *r, int rc)
{
	json_t *res = b->result;
	char finished[40];

	dd_time_wall_ms(finished);
	json_object_set_new(res, "status", json_string(rc ? "failed" : "succeeded"));
	json_object_set_new(res, "drydock_version", json_string(DD_VERSION));
	json_object_set_new(res, "compression",
			    json_string(dd_codec_describe(b->job_loaded && b->job.compression ==
										   DD_COMPRESS_ZSTD
								  ? DD_CODEC_ZSTD
								  : DD_CODEC_GZIP)));
	json_object_set_new(res, "threads", json_integer(b->threads));
	json_object_set_new(res, "mirror", json_string(b->o->mirror));
	json_object_set_new(res, "started", json_string(b->started));
	json_object_set_new(res, "finished", json_string(finished));
	json_object_set_new(res, "seconds", json_real(seconds_since(r->t0)));
	json_object_set_new(res, "archs", json_incref(b->archs));
	json_object_set_new(res, "warnings", json_incref(b->warnings));
	json_object_set_new(res, "errors", rc ? json_pack("[s]", dd_error_detail()) : json_array());
	if (b->timed_out)
		json_object_set_new(res, "timed_out", json_true());
}

/* A failed run keeps its log and result.json, nothing else, in
 * OUT/<job>/<run id>-failed/. */
static void run_failed(struct build *b, struct run *r)
{
	struct dd_buf junk = DD_BUF_INIT;
	char *err = dd_xstrdup(dd_error_detail());

	build_log(b, "error: %s", err);
	build_log(b, "run %s FAILED after %.3f s", b->run_id, seconds_since(r->t0));
	for (size_t i = 0; i < sizeof(run_outputs) / sizeof(run_outputs[0]); i++) {
		dd_buf_reset(&junk);
		dd_buf_addf(&junk, "%s/%s", r->tmp.ptr, run_outputs[i]);
		dd_remove_tree(junk.ptr);
	}
	dd_buf_release(&junk);
	dd_buf_addf(&r->fin, "%s/%s-failed", r->jobdir.ptr, b->run_id);
	keep_failed(b, r->tmp.ptr, &r->fin, &r->logp, err);
	dd_fsync_dir(r->jobdir.ptr);
	free(err);
}

/* A good run: its log closed, result.json and the record written, the
 * folder renamed to OUT/<job>/<run id> and latest pointed at it. */
static int run_publish(struct build *b, struct run *r)
{
	int rc = 0;

	build_log(b, "run %s succeeded in %.3f s: %s %s", b->run_id, seconds_since(r->t0),
		  b->job.tag, json_string_value(json_object_get(b->result, "digest")));
	dd_buf_addf(&r->fin, "%s/%s", r->jobdir.ptr, b->run_id);
	if (fclose(b->log) || b->log_errno)
		rc = dd_error(DD_E_IO, "%s: %s", r->logp.ptr,
			      strerror(b->log_errno ? b->log_errno : errno));
	b->log = NULL;
	dd_crash_point("before-publish");
	if (!rc)
		rc = write_result(r->tmp.ptr, b->result);
	if (!rc)
		rc = write_record(b, r->tmp.ptr);
	if (!rc && rename(r->tmp.ptr, r->fin.ptr))
		rc = dd_error_errno("cannot rename %s to %s", r->tmp.ptr, r->fin.ptr);
	if (rc) {
		/* the run stays under its temporary name: say where its log is */
		char *why = dd_xstrdup(dd_error_detail());

		dd_error(rc,
			 "the run was not kept: %s; its files and log are in %s "
			 "until the next build of this job",
			 why, r->tmp.ptr);
		free(why);
		dd_buf_reset(&r->fin);
		return rc;
	}
	return point_latest(r->jobdir.ptr, b->run_id);
}

/* Release what the run and b hold but b->result, which says "failed"
 * when rc does. */
static void run_close(struct build *b, struct run *r, int rc)
{
	if (rc && !b->log)
		json_object_set_new(b->result, "status", json_string("failed"));
	if (rc && !json_object_get(b->result, "errors"))
		json_object_set_new(b->result, "errors", json_pack("[s]", dd_error_detail()));
	if (b->log)
		fclose(b->log);
	if (b->cat_loaded)
		dd_catalog_release(&b->cat);
	dd_store_close(b->store);
	if (b->job_loaded)
		dd_job_release(&b->job);
	if (r->lock >= 0)
		close(r->lock);
	json_decref(b->warnings);
	json_decref(b->archs);
	json_decref(b->deps);
	json_decref(b->bundles);
	if (b->signing)
		dd_sigkey_close(&b->key);
	dd_sbom_release(&b->sbom);
	dd_vex_release(&b->vex);
	dd_adv_db_release(&b->adv);
	free(b->blobs);
	free(r->name);
	dd_buf_release(&r->jobdir);
	dd_buf_release(&r->tmp);
	dd_buf_release(&r->logp);
	dd_buf_release(&r->fin);
}

int dd_build(const struct dd_build_opts *o, const char *path, json_t **result, char **run_dir)
{
	return dd_build_pinned(o, NULL, path, result, run_dir);
}

int dd_build_pinned(const struct dd_build_opts *o, const struct dd_catalog_pin *pin,
		    const char *path, json_t **result, char **run_dir)
{
	struct build b = { .o = o, .pin = pin };
	struct run r = { .path = path,
			 .jobdir = DD_BUF_INIT,
			 .tmp = DD_BUF_INIT,
			 .fin = DD_BUF_INIT,
			 .logp = DD_BUF_INIT,
			 .lock = -1,
			 .t0 = dd_time_mono_ms() };
	int rc;

	*run_dir = NULL;
	run_init(&b);
	if ((rc = run_identity(&b, &r)) || (rc = run_open(&b, &r)))
		goto out;
	build_log(&b, "run %s of %s started", b.run_id, path);
	rc = build_image(&b, path);
	if (rc == BUILD_UNCHANGED) {
		run_unchanged(&b, &r);
		rc = 0;
		goto out;
	}
	run_result(&b, &r, rc);
	if (rc)
		run_failed(&b, &r);
	else
		rc = run_publish(&b, &r);
	*run_dir = r.fin.len ? dd_buf_detach(&r.fin, NULL) : NULL;
out:
	run_close(&b, &r, rc);
	*result = b.result;
	return rc;
}
