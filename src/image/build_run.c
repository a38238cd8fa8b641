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
#include "image/oci.h"
#include "image/provenance.h"
#include "version.h"

/* ---- time and the log ---------------------------------------------------- */

void build_log(struct build *b, const char *fmt, ...)
{
	char now[40];
	va_list ap;

	if (!b->log)
		return;
	dd_time_wall_ms(now);
	fprintf(b->log, "%s ", now);
	va_start(ap, fmt);
	vfprintf(b->log, fmt, ap);
	va_end(ap);
	fputc('\n', b->log);
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
	return dd_error(DD_E_LIMIT, "the build ran longer than its policy.timeout (%lld ms); "
			"raise policy.timeout in %s", (long long)b->job.timeout_ms, b->job.file);
}

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
		rc = dd_error(DD_E_IO, "%s: another build of this job is running (pid %ld); "
			      "wait for it to finish", jobdir, (long)fl.l_pid);
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
	"image", "image.oci.tar", "sbom.spdx.json", "sbom.cdx.json", DD_VEX_OPENVEX_FILE,
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
		dd_error(rc, "%s; the run's log could not be kept (%s): what was written "
			 "of it is in %s until the next build of this job", err, why, logp->ptr);
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
 * once they are final (image/provenance.h). */
static int write_record(struct build *b, const char *dir)
{
	static const char *const files[] = { "build.log", "result.json", DD_PROVENANCE_FILE };
	json_t *subjects = json_array(), *st;
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < 3 && !rc; i++) {
		char hex[65];

		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", dir, files[i]);
		if (!(rc = dd_file_sha256(path.ptr, hex, NULL)))
			json_array_append_new(subjects, build_subject(files[i], hex));
	}
	dd_buf_release(&path);
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

int dd_build(const struct dd_build_opts *o, const char *path, json_t **result, char **run_dir)
{
	return dd_build_pinned(o, NULL, path, result, run_dir);
}

int dd_build_pinned(const struct dd_build_opts *o, const struct dd_catalog_pin *pin,
		    const char *path, json_t **result, char **run_dir)
{
	struct build b = { .o = o, .pin = pin };
	struct dd_buf jobdir = DD_BUF_INIT, tmp = DD_BUF_INIT, fin = DD_BUF_INIT,
		      logp = DD_BUF_INIT;
	char *name = NULL, id[40], started[40], finished[40];
	const char *sde = o->source_date_epoch;
	int64_t t0 = dd_time_mono_ms();
	int lock = -1, rc;

	*run_dir = NULL;
	b.result = json_object();
	b.warnings = json_array();
	b.archs = json_array();
	b.deps = json_object();
	b.bundles = json_object();
	dd_sbom_init(&b.sbom);
	dd_vex_init(&b.vex);
	b.threads = o->threads > 0 ? o->threads : dd_ncpus();
	/* the job name becomes OUT/<name>: checked before anything is made */
	if ((rc = dd_job_name(path, &name)))
		goto early;
	if (sde && *sde) {
		if ((rc = dd_epoch_parse(sde, &b.epoch)))
			goto early;
		b.env_epoch = true;
	}
	if (o->run_id)
		snprintf(id, sizeof(id), "%s", o->run_id);
	else
		dd_name_run_id(id);
	/* it names OUT/<job>/<run id>: a given one as much as a made one */
	if ((rc = dd_name_check("the run id", o->run_id ? o->run_id : id)))
		goto early;
	dd_time_wall_ms(started);
	snprintf(b.run_id, sizeof(b.run_id), "%s", id);
	snprintf(b.started, sizeof(b.started), "%s", started);
	if (o->sign_key) {
		if ((rc = dd_sigkey_open_signer(o->sign_key, o->gnupg_home, &b.key)))
			goto early;
		b.signing = true;
	}
	json_object_set_new(b.result, "format", json_string("drydock-result/1"));
	json_object_set_new(b.result, "run_id", json_string(id));
	dd_buf_addf(&jobdir, "%s/%s", o->out, name);
	if ((rc = dd_mkdirs(jobdir.ptr, 0755)) || (rc = lock_job(jobdir.ptr, &lock)))
		goto early;
	dd_buf_addf(&tmp, "%s/.tmp-%s", jobdir.ptr, id);
	b.dir = tmp.ptr;
	dd_buf_addf(&logp, "%s/image/blobs/sha256", tmp.ptr);
	if ((rc = dd_mkdirs(logp.ptr, 0755)))
		goto early;
	b.blobs = dd_xstrdup(logp.ptr);
	dd_buf_reset(&logp);
	dd_buf_addf(&logp, "%s/build.log", tmp.ptr);
	b.log = fopen(logp.ptr, "we");
	if (!b.log) {
		rc = dd_error_errno("%s", logp.ptr);
		goto early;
	}
	build_log(&b, "run %s of %s started", id, path);
	rc = build_image(&b, path);
	if (rc == BUILD_UNCHANGED) {
		/* nothing was written: the run folder goes, latest stays */
		json_object_set_new(b.result, "status", json_string(DD_BUILD_UP_TO_DATE));
		json_object_del(b.result, "run_id");
		json_object_set_new(b.result, "seconds",
				    json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
		fclose(b.log);
		b.log = NULL;
		dd_remove_tree(tmp.ptr);
		rc = 0;
		goto early;
	}
	dd_time_wall_ms(finished);
	json_object_set_new(b.result, "status", json_string(rc ? "failed" : "succeeded"));
	json_object_set_new(b.result, "drydock_version", json_string(DD_VERSION));
	json_object_set_new(b.result, "compression",
			    json_string(dd_codec_describe(b.job_loaded && b.job.compression ==
							  DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD
									   : DD_CODEC_GZIP)));
	json_object_set_new(b.result, "threads", json_integer(b.threads));
	json_object_set_new(b.result, "mirror", json_string(o->mirror));
	json_object_set_new(b.result, "started", json_string(started));
	json_object_set_new(b.result, "finished", json_string(finished));
	json_object_set_new(b.result, "seconds", json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
	json_object_set_new(b.result, "archs", json_incref(b.archs));
	json_object_set_new(b.result, "warnings", json_incref(b.warnings));
	json_object_set_new(b.result, "errors", rc ? json_pack("[s]", dd_error_detail())
						   : json_array());
	if (b.timed_out)
		json_object_set_new(b.result, "timed_out", json_true());
	if (rc) {
		struct dd_buf junk = DD_BUF_INIT;
		char *err = dd_xstrdup(dd_error_detail());

		build_log(&b, "error: %s", err);
		build_log(&b, "run %s FAILED after %.3f s", id, (double)(dd_time_mono_ms() - t0) / 1000.0);
		/* a failed run keeps its log and result.json, nothing else */
		for (size_t i = 0; i < sizeof(run_outputs) / sizeof(run_outputs[0]); i++) {
			dd_buf_reset(&junk);
			dd_buf_addf(&junk, "%s/%s", tmp.ptr, run_outputs[i]);
			dd_remove_tree(junk.ptr);
		}
		dd_buf_release(&junk);
		dd_buf_addf(&fin, "%s/%s-failed", jobdir.ptr, id);
		keep_failed(&b, tmp.ptr, &fin, &logp, err);
		dd_fsync_dir(jobdir.ptr);
		free(err);
	} else {
		build_log(&b, "run %s succeeded in %.3f s: %s %s", id,
		      (double)(dd_time_mono_ms() - t0) / 1000.0, b.job.tag,
		      json_string_value(json_object_get(b.result, "digest")));
		dd_buf_addf(&fin, "%s/%s", jobdir.ptr, id);
		if ((fclose(b.log) || b.log_errno) && !rc)
			rc = dd_error(DD_E_IO, "%s: %s", logp.ptr,
				      strerror(b.log_errno ? b.log_errno : errno));
		b.log = NULL;
		dd_crash_point("before-publish");
		if (!rc)
			rc = write_result(tmp.ptr, b.result);
		if (!rc)
			rc = write_record(&b, tmp.ptr);
		if (!rc && rename(tmp.ptr, fin.ptr))
			rc = dd_error_errno("cannot rename %s to %s", tmp.ptr, fin.ptr);
		if (rc) {
			/* the run stays under its temporary name: say where its log is */
			char *why = dd_xstrdup(dd_error_detail());

			dd_error(rc, "the run was not kept: %s; its files and log are in %s "
				 "until the next build of this job", why, tmp.ptr);
			free(why);
			dd_buf_reset(&fin);
		}
		if (!rc)
			rc = point_latest(jobdir.ptr, id);
	}
	*run_dir = fin.len ? dd_buf_detach(&fin, NULL) : NULL;
early:
	if (rc && !b.log)
		json_object_set_new(b.result, "status", json_string("failed"));
	if (rc && !json_object_get(b.result, "errors"))
		json_object_set_new(b.result, "errors", json_pack("[s]", dd_error_detail()));
	if (b.log)
		fclose(b.log);
	if (b.cat_loaded)
		dd_catalog_release(&b.cat);
	dd_store_close(b.store);
	if (b.job_loaded)
		dd_job_release(&b.job);
	if (lock >= 0)
		close(lock);
	json_decref(b.warnings);
	json_decref(b.archs);
	json_decref(b.deps);
	json_decref(b.bundles);
	if (b.signing)
		dd_sigkey_close(&b.key);
	dd_sbom_release(&b.sbom);
	dd_vex_release(&b.vex);
	dd_adv_db_release(&b.adv);
	free(b.blobs);
	free(name);
	dd_buf_release(&jobdir);
	dd_buf_release(&tmp);
	dd_buf_release(&logp);
	dd_buf_release(&fin);
	*result = b.result;
	return rc;
}
