/* The batch supervisor (batch/batch.h). */
#include "batch/batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/compress.h"
#include "core/error.h"
#include "core/time.h"
#include "core/file.h"
#include "core/leak.h"
#include "core/name.h"
#include "core/progress.h"
#include "image/build.h"
#include "job/job.h"
#include "store/catalog.h"
#include "store/store.h"
#include "trust/sign.h"
#include "version.h"

#define GRACE_MS           2000 /* after policy.timeout, before the supervisor kills */
#define DEFAULT_TIMEOUT_MS (3600 * 1000)

struct job {
	char *file; /* the name in JOBDIR */
	char *path; /* JOBDIR/file */
	char *name; /* file without .yaml/.yml: OUT/<name>/ */
	int64_t timeout_ms;
	pid_t pid;
	int64_t started, finished; /* monotonic ms */
	bool timed_out;            /* the supervisor killed it */
	int wstatus;
	json_t *prev;  /* result.json of the last good run before this batch */
	json_t *entry; /* its line in the report */
};

struct batch {
	const struct dd_batch_opts *o;
	char id[40], started[40];
	char *tmp; /* OUT/.tmp-batch-<id>: what children hand back */
	struct job *jobs;
	size_t n;
	int threads;
	json_t *warnings;
};

/* ---- which jobs ---------------------------------------------------------- */

bool dd_batch_in_shard(const char *name, unsigned k, unsigned n)
{
	unsigned char d[32];
	uint64_t h = 0;
	EVP_MD_CTX *md;

	if (!n)
		return true;
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, name, strlen(name));
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 8; i++)
		h = h << 8 | d[i];
	return h % n == k - 1;
}

static char *name_of(const char *file)
{
	char *name = dd_xstrdup(file);
	size_t n = strlen(name);

	name[n - (n > 5 && !strcmp(name + n - 5, ".yaml") ? 5 : 4)] = 0;
	return name;
}

static bool is_job_file(const char *f)
{
	size_t n = strlen(f);

	return f[0] != '.' &&
	       ((n > 5 && !strcmp(f + n - 5, ".yaml")) || (n > 4 && !strcmp(f + n - 4, ".yml")));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dd_batch_list(const struct dd_batch_opts *o, json_t **files)
{
	DIR *d = opendir(o->jobdir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*files = NULL;
	if (!d)
		return dd_error_errno("job folder %s", o->jobdir);
	while ((de = readdir(d))) {
		char *name;
		bool take;

		if (!is_job_file(de->d_name))
			continue;
		name = name_of(de->d_name);
		take = (!o->only || !fnmatch(o->only, name, 0) ||
			!fnmatch(o->only, de->d_name, 0)) &&
		       dd_batch_in_shard(name, o->shard_k, o->shard_n);
		free(name);
		if (!take)
			continue;
		DD_GROW(v, n);
		v[n++] = dd_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), str_cmp);
	*files = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(*files, json_string(v[i]));
		free(v[i]);
	}
	free(v);
	return 0;
}

/* ---- before the builds ----------------------------------------------------- */

static json_t *load_json(const char *fmt, const char *a, const char *b)
{
	struct dd_buf p = DD_BUF_INIT;
	json_t *j;

	dd_buf_addf(&p, fmt, a, b);
	j = json_load_file(p.ptr, 0, NULL);
	dd_buf_release(&p);
	return j;
}

static void prepare_job(struct batch *B, struct job *j, const char *file)
{
	struct dd_job parsed;
	json_t *prev;

	j->file = dd_xstrdup(file);
	j->name = name_of(file);
	j->path = dd_xstrdup(file);
	{
		struct dd_buf p = DD_BUF_INIT;

		dd_buf_addf(&p, "%s/%s", B->o->jobdir, file);
		free(j->path);
		j->path = dd_buf_detach(&p, NULL);
	}
	j->timeout_ms = DEFAULT_TIMEOUT_MS;
	j->pid = -1;
	/* the child reports a job that does not load; here only its limit counts */
	if (!dd_job_load(j->path, &parsed)) {
		j->timeout_ms = parsed.timeout_ms;
		dd_job_release(&parsed);
	}
	dd_error_clear();
	prev = load_json("%s/%s/latest/result.json", B->o->out, j->name);
	if (prev && json_is_string(json_object_get(prev, "status")) &&
	    !strcmp(json_string_value(json_object_get(prev, "status")), "succeeded"))
		j->prev = prev;
	else
		json_decref(prev);
}

/*
 * Check what every job needs before starting any: the mirror, its
 * entitlement manifest, the signing key.  *store stays open for the
 * batch: its shared lock keeps mirror import and gc out until the end;
 * *cat (loaded when this returns 0) is what it holds, for every job's
 * up-to-date test.
 */
static int check_prerequisites(const struct dd_batch_opts *o, json_t **ent, struct dd_store **store,
			       struct dd_catalog *cat)
{
	struct dd_store *s = NULL;
	int rc;

	if ((rc = dd_store_open(o->mirror, 0, &s)))
		return rc;
	*store = s;
	if ((rc = dd_catalog_load(s, cat)))
		return rc;
	if (!cat->ent_sha256[0])
		rc = dd_error(DD_E_NOTFOUND,
			      "mirror %s holds no entitlement manifest: import a "
			      "bundle that carries one",
			      o->mirror);
	else
		*ent = json_pack("{s:I, s:s}", "version", (json_int_t)cat->ent_version, "sha256",
				 cat->ent_sha256);
	if (rc)
		dd_catalog_release(cat);
	if (!rc && o->sign_key) {
		struct dd_sigkey k;

		if (!(rc = dd_sigkey_open_signer(o->sign_key, o->gnupg_home, &k)))
			dd_sigkey_close(&k);
		else
			dd_catalog_release(cat);
	}
	return rc;
}

/* How every job of the batch is built. */
static struct dd_build_opts build_opts(const struct batch *B)
{
	const struct dd_batch_opts *o = B->o;

	return (struct dd_build_opts){ .mirror = o->mirror,
				       .out = o->out,
				       .threads = B->threads,
				       .no_cache = o->no_cache,
				       .strict = o->strict,
				       .source_date_epoch = o->source_date_epoch,
				       .sign_key = o->sign_key,
				       .gnupg_home = o->gnupg_home,
				       .run_id = B->id,
				       .max_age_days = o->max_age_days,
				       .skip_unchanged = !o->force };
}

/* ---- a child: one job ------------------------------------------------------- */

static void child_main(struct batch *B, size_t i, pid_t parent, const sigset_t *mask)
{
	const struct dd_batch_opts *o = B->o;
	struct dd_build_opts bo = build_opts(B);
	struct dd_buf name = DD_BUF_INIT;
	json_t *result = NULL, *msg;
	char *dir = NULL;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	sigprocmask(SIG_SETMASK, mask, NULL);
	signal(SIGCHLD, SIG_DFL);
	rc = dd_build(&bo, B->jobs[i].path, &result, &dir);
	msg = json_pack("{s:i, s:s?}", "rc", rc, "run_dir", dir);
	if (rc)
		json_object_set_new(msg, "error", json_string(dd_error_detail()));
	if (!rc && dir &&
	    dd_batch_share_blobs(o->out, dir,
				 json_string_value(json_object_get(result, "archive_sha256"))))
		json_object_set_new(msg, "share_error", json_string(dd_error_detail()));
	json_object_set_new(msg, "result", result);
	dd_buf_addf(&name, "%zu.json", i);
	rc = dd_write_json(B->tmp, name.ptr, msg, JSON_COMPACT);
	json_decref(msg);
	free(dir);
	dd_buf_release(&name);
	dd_leak_check();
	_exit(rc ? 2 : 0);
}

/* ---- after a child ----------------------------------------------------------- */

/* A child that was killed or crashed leaves OUT/<job>/.tmp-<id>: it
 * becomes a failed run with its log and a result saying what happened. */
static void finish_dead_run(struct batch *B, struct job *j, const char *why, json_t *entry)
{
	struct dd_buf tmp = DD_BUF_INIT, fin = DD_BUF_INIT, p = DD_BUF_INIT;
	static const char *const junk[] = { "image", "image.oci.tar", "sbom.spdx.json",
					    "sbom.cdx.json", "provenance.intoto.json" };
	struct stat st;
	char now[40];
	FILE *log;
	json_t *r;

	dd_buf_addf(&tmp, "%s/%s/.tmp-%s", B->o->out, j->name, B->id);
	dd_buf_addf(&fin, "%s/%s/%s-failed", B->o->out, j->name, B->id);
	if (stat(tmp.ptr, &st) || !S_ISDIR(st.st_mode))
		goto out;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", tmp.ptr, junk[i]);
		dd_remove_tree(p.ptr);
	}
	dd_time_wall_ms(now);
	dd_buf_reset(&p);
	dd_buf_addf(&p, "%s/build.log", tmp.ptr);
	if ((log = fopen(p.ptr, "ae"))) {
		fprintf(log, "%s error: %s\n", now, why);
		fclose(log);
	}
	r = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:b, s:s, s:s, s:f, s:[s], s:[]}", "format",
		      "drydock-result/1", "run_id", B->id, "job", "file", j->path, "name", j->name,
		      "status", "failed", "timed_out", j->timed_out, "drydock_version", DD_VERSION,
		      "finished", now, "seconds", (double)(j->finished - j->started) / 1000.0,
		      "errors", why, "warnings");
	if (WIFSIGNALED(j->wstatus))
		json_object_set_new(r, "signal", json_integer(WTERMSIG(j->wstatus)));
	if (!dd_write_json(tmp.ptr, "result.json", r, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) &&
	    !rename(tmp.ptr, fin.ptr)) {
		dd_fsync_dir(fin.ptr);
		json_object_set_new(entry, "run_dir", json_string(fin.ptr));
	}
	json_decref(r);
out:
	dd_buf_release(&tmp);
	dd_buf_release(&fin);
	dd_buf_release(&p);
}

static const char *status_of(const struct job *j, json_t *result, int rc)
{
	const char *st = json_string_value(json_object_get(result, "status"));

	if (j->timed_out || json_is_true(json_object_get(result, "timed_out")))
		return "timed out";
	if (!rc && st && !strcmp(st, DD_BUILD_UP_TO_DATE))
		return "up to date";
	if (!rc && st && !strcmp(st, "succeeded"))
		return "built";
	return "failed";
}

static void add_warnings(struct batch *B, struct job *j, json_t *result, json_t *entry)
{
	json_t *w = json_array(), *x;
	size_t i;

	json_array_foreach(json_object_get(result, "warnings"), i, x) {
		if (!json_is_string(x))
			continue;
		json_array_append(w, x);
		json_array_append_new(B->warnings,
				      json_sprintf("%s: %s", j->name, json_string_value(x)));
	}
	json_object_set_new(entry, "warnings", w);
}

/* The report's line for job j with its build's result and run folder. */
static json_t *entry_of(const struct job *j, const char *status, json_t *result, json_t *run_dir)
{
	return json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?, s:f, s:O?, s:O?}", "name", j->name,
			 "file", j->file, "status", status, "run",
			 json_object_get(result, !strcmp(status, "up to date") ? "run" : "run_id"),
			 "run_dir", run_dir, "digest", json_object_get(result, "digest"), "seconds",
			 (double)(j->finished - j->started) / 1000.0, "inputs",
			 json_object_get(result, "inputs"), "previous_run",
			 json_object_get(j->prev, "run_id"));
}

/* The report's line for a finished child. */
static json_t *collect(struct batch *B, size_t i)
{
	struct job *j = &B->jobs[i];
	struct dd_buf p = DD_BUF_INIT;
	json_t *msg, *result, *e;
	const char *status, *err;
	int rc = -1;

	dd_buf_addf(&p, "%s/%zu.json", B->tmp, i);
	msg = json_load_file(p.ptr, 0, NULL);
	dd_buf_release(&p);
	result = json_object_get(msg, "result");
	if (msg)
		rc = (int)json_integer_value(json_object_get(msg, "rc"));
	status = status_of(j, result, rc);
	e = entry_of(j, status, result, json_object_get(msg, "run_dir"));
	if (!msg) {
		/* the child died before it could say anything */
		char why[256];

		if (j->timed_out)
			snprintf(why, sizeof(why),
				 "%s ran longer than its policy.timeout (%lld ms) "
				 "and was killed; raise policy.timeout or find what hangs in its "
				 "build.log",
				 j->path, (long long)j->timeout_ms);
		else if (WIFSIGNALED(j->wstatus))
			snprintf(why, sizeof(why),
				 "the build of %s crashed: killed by signal %d (%s); "
				 "its build.log shows how far it got",
				 j->path, WTERMSIG(j->wstatus), strsignal(WTERMSIG(j->wstatus)));
		else
			snprintf(why, sizeof(why),
				 "the build of %s exited with status %d without "
				 "a result",
				 j->path, WEXITSTATUS(j->wstatus));
		json_object_set_new(e, "error", json_string(why));
		if (WIFSIGNALED(j->wstatus))
			json_object_set_new(e, "signal", json_integer(WTERMSIG(j->wstatus)));
		json_object_set_new(e, "warnings", json_array());
		finish_dead_run(B, j, why, e);
		json_decref(msg);
		return e;
	}
	if ((err = json_string_value(json_object_get(msg, "error"))))
		json_object_set_new(e, "error", json_string(err));
	add_warnings(B, j, result, e);
	if ((err = json_string_value(json_object_get(msg, "share_error")))) {
		json_array_append_new(json_object_get(e, "warnings"),
				      json_sprintf("the run keeps its own copy of its blobs: %s",
						   err));
		json_array_append_new(
			B->warnings, json_sprintf("%s: the run keeps its own copy of its blobs: %s",
						  j->name, err));
	}
	if (!strcmp(status, "built"))
		json_object_set_new(e, "changes",
				    j->prev ? dd_batch_changes(j->prev, result)
					    : json_pack("{s:b}", "first_run", 1));
	json_decref(msg);
	return e;
}

/*
 * Without --force, a job whose inputs equal those of its last good run
 * is up to date: decided here, from the catalog loaded once, so an
 * unchanged night starts no build process.  A job this cannot decide
 * (it does not load or plan) is left to its build, which says why.
 */
static void find_up_to_date(struct batch *B, struct dd_store *store, const struct dd_catalog *cat)
{
	struct dd_build_opts bo = build_opts(B);

	if (B->o->force)
		return;
	for (size_t i = 0; i < B->n; i++) {
		struct job *j = &B->jobs[i];
		json_t *result;

		if (j->entry)
			continue;
		j->started = dd_time_mono_ms();
		if (!dd_build_up_to_date(&bo, store, cat, j->path, &result))
			continue;
		j->finished = dd_time_mono_ms();
		j->entry = entry_of(j, "up to date", result, NULL);
		add_warnings(B, j, result, j->entry);
		json_decref(result);
	}
}

/* ---- the loop ------------------------------------------------------------------ */

static void on_sigchld(int sig)
{
	(void)sig;
}

static int start(struct batch *B, size_t i, const sigset_t *old)
{
	struct job *j = &B->jobs[i];
	pid_t parent = getpid();

	fflush(NULL);
	j->started = dd_time_mono_ms();
	j->pid = fork();
	if (j->pid < 0)
		return dd_error_errno("fork for %s", j->file);
	if (!j->pid) {
		dd_verbose = false; /* -v: the supervisor speaks for its builds */
		child_main(B, i, parent, old);
	}
	dd_note("%s: building (pid %d)", j->name, (int)j->pid);
	return 0;
}

/* Reap what has ended; kill what outlived its limit. */
static size_t reap(struct batch *B, size_t *running)
{
	int64_t now = dd_time_mono_ms();
	size_t done = 0;

	for (size_t i = 0; i < B->n; i++) {
		struct job *j = &B->jobs[i];
		int st;

		if (j->pid <= 0)
			continue;
		if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
			j->wstatus = st;
			j->pid = 0;
			j->finished = dd_time_mono_ms();
			j->entry = collect(B, i);
			dd_note("%s: %s in %.1f s", j->name,
				json_string_value(json_object_get(j->entry, "status")),
				(double)(j->finished - j->started) / 1000.0);
			(*running)--;
			done++;
		} else if (!j->timed_out && now > j->started + j->timeout_ms + GRACE_MS) {
			j->timed_out = true;
			kill(j->pid, SIGKILL);
		}
	}
	return done;
}

static int64_t next_deadline(const struct batch *B)
{
	int64_t d = INT64_MAX;

	for (size_t i = 0; i < B->n; i++)
		if (B->jobs[i].pid > 0 && !B->jobs[i].timed_out &&
		    B->jobs[i].started + B->jobs[i].timeout_ms + GRACE_MS < d)
			d = B->jobs[i].started + B->jobs[i].timeout_ms + GRACE_MS;
	return d;
}

static int run_all(struct batch *B)
{
	int width = B->o->jobs > 0 ? B->o->jobs : 1;
	struct sigaction sa = { .sa_handler = on_sigchld }, old_sa;
	sigset_t chld, old;
	size_t next = 0, running = 0, finished = 0;
	struct dd_progress p;
	int rc = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaction(SIGCHLD, &sa, &old_sa);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (size_t i = 0; i < B->n; i++)
		if (B->jobs[i].entry)
			finished++; /* refused or up to date before it started */
	dd_progress_begin(&p, B->o->progress, "jobs", 0, (double)B->n);
	while (finished < B->n) {
		while (!rc && running < (size_t)width) {
			while (next < B->n && B->jobs[next].entry)
				next++;
			if (next >= B->n || (rc = start(B, next, &old)))
				break;
			next++;
			running++;
		}
		if (rc && !running)
			break;
		finished += reap(B, &running);
		dd_progress_show(&p, "batch", (double)finished);
		if (finished < B->n && running) {
			int64_t wait = next_deadline(B) - dd_time_mono_ms();
			struct timespec ts;

			if (wait > 1000)
				wait = 1000;
			if (wait < 1)
				wait = 1;
			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			sigtimedwait(&chld, NULL, &ts);
		}
	}
	dd_progress_end(&p, "batch", (double)finished);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGCHLD, &old_sa, NULL);
	return rc;
}

/* ---- the report ------------------------------------------------------------------ */

static json_t *summary(const struct batch *B)
{
	json_int_t built = 0, same = 0, failed = 0, timed = 0;

	for (size_t i = 0; i < B->n; i++) {
		const char *st = json_string_value(json_object_get(B->jobs[i].entry, "status"));

		if (!strcmp(st, "built"))
			built++;
		else if (!strcmp(st, "up to date"))
			same++;
		else if (!strcmp(st, "timed out"))
			timed++, failed++;
		else
			failed++;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "jobs", (json_int_t)B->n, "built", built,
			 "up_to_date", same, "failed", failed, "timed_out", timed);
}

/* OUT/history.jsonl: one line per job of this batch, appended and fsynced. */
static int append_history(const struct batch *B)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	int fd, rc = 0;

	for (size_t i = 0; i < B->n; i++) {
		json_t *l = json_deep_copy(B->jobs[i].entry);
		char *s;

		json_object_set_new(l, "batch", json_string(B->id));
		json_object_set_new(l, "started", json_string(B->started));
		s = json_dumps(l, JSON_COMPACT | JSON_PRESERVE_ORDER);
		dd_buf_addf(&text, "%s\n", s);
		free(s);
		json_decref(l);
	}
	dd_buf_addf(&path, "%s/history.jsonl", B->o->out);
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || dd_write_all(fd, text.ptr, text.len) || fsync(fd))
		rc = dd_error_errno("%s", path.ptr);
	if (fd >= 0)
		close(fd);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

static json_t *options_json(const struct dd_batch_opts *o)
{
	json_t *j = json_pack("{s:i, s:b, s:s?, s:n, s:i, s:b}", "jobs", o->jobs > 0 ? o->jobs : 1,
			      "force", o->force, "only", o->only, "shard", "keep", o->keep,
			      "signed", o->sign_key != NULL);

	if (o->shard_n)
		json_object_set_new(j, "shard", json_sprintf("%u/%u", o->shard_k, o->shard_n));
	return j;
}

/* Remove what batches killed half-way left (we hold OUT's lock). */
static void clear_stale(const char *out)
{
	DIR *d = opendir(out);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct dd_buf p = DD_BUF_INIT;

		if (strncmp(de->d_name, ".tmp-batch-", 11))
			continue;
		dd_buf_addf(&p, "%s/%s", out, de->d_name);
		dd_remove_tree(p.ptr);
		dd_buf_release(&p);
	}
	if (d)
		closedir(d);
}

static void release_jobs(struct batch *B)
{
	for (size_t i = 0; i < B->n; i++) {
		free(B->jobs[i].file);
		free(B->jobs[i].path);
		free(B->jobs[i].name);
		json_decref(B->jobs[i].prev);
		json_decref(B->jobs[i].entry);
	}
	free(B->jobs);
}

/* Two files may not make one OUT/<job>/ (a.yaml and a.yml). */
static void refuse_twins(struct batch *B)
{
	for (size_t i = 1; i < B->n; i++) {
		struct job *j = &B->jobs[i];

		for (size_t k = 0; k < i; k++) {
			if (strcmp(B->jobs[k].name, j->name))
				continue;
			j->entry = json_pack("{s:s, s:s, s:s, s:n, s:n, s:n, s:f, s:n, s:n, s:[]}",
					     "name", j->name, "file", j->file, "status", "failed",
					     "run", "run_dir", "digest", "seconds", 0.0, "inputs",
					     "previous_run", "warnings");
			json_object_set_new(
				j->entry, "error",
				json_sprintf("%s and %s are both job %s (OUT/%s/): rename one",
					     B->jobs[k].file, j->file, j->name, j->name));
			break;
		}
	}
}

static json_t *report_of(struct batch *B, json_t *ent, json_t *pruned, int64_t t0)
{
	char finished[40];
	json_t *jobs = json_array();

	dd_time_wall_ms(finished);
	for (size_t i = 0; i < B->n; i++)
		json_array_append(jobs, B->jobs[i].entry);
	return json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:s, s:o, s:O, s:o, s:o, s:O, "
			 "s:o}",
			 "format", DD_BATCH_FORMAT, "id", B->id, "started", B->started, "finished",
			 finished, "seconds", (double)(dd_time_mono_ms() - t0) / 1000.0,
			 "drydock_version", DD_VERSION, "mirror", B->o->mirror, "out", B->o->out,
			 "jobdir", B->o->jobdir, "options", options_json(B->o), "entitlement", ent,
			 "summary", summary(B), "jobs", jobs, "warnings", B->warnings, "pruned",
			 pruned ? pruned : json_null());
}

int dd_batch_run(const struct dd_batch_opts *o, json_t **report)
{
	struct batch B = { .o = o, .warnings = json_array() };
	struct dd_buf p = DD_BUF_INIT;
	json_t *files = NULL, *ent = NULL, *pruned = NULL, *f;
	struct dd_store *store = NULL;
	struct dd_catalog cat;
	bool cat_loaded = false;
	int64_t t0 = dd_time_mono_ms();
	int lock = -1, rc;
	size_t i;

	*report = NULL;
	if ((rc = dd_batch_list(o, &files)))
		goto out;
	if ((rc = dd_mkdirs(o->out, 0755)))
		goto out;
	dd_buf_addf(&p, "%s/batch.lock", o->out);
	if ((rc = dd_batch_lock(p.ptr, o->wait_seconds, &lock)))
		goto out;
	if ((rc = check_prerequisites(o, &ent, &store, &cat)))
		goto out;
	cat_loaded = true;
	clear_stale(o->out);
	dd_name_run_id(B.id); /* a run id: the batch's runs carry it */
	dd_time_wall_ms(B.started);
	dd_buf_reset(&p);
	dd_buf_addf(&p, "%s/.tmp-batch-%s", o->out, B.id);
	if ((rc = dd_mkdirs(p.ptr, 0755)))
		goto out;
	B.tmp = dd_xstrdup(p.ptr);
	B.threads = o->threads > 0 ? o->threads : dd_ncpus() / (o->jobs > 0 ? o->jobs : 1);
	if (B.threads < 1)
		B.threads = 1;
	B.n = json_array_size(files);
	B.jobs = dd_xcalloc(B.n + 1, sizeof(*B.jobs));
	json_array_foreach(files, i, f)
		prepare_job(&B, &B.jobs[i], json_string_value(f));
	refuse_twins(&B);
	find_up_to_date(&B, store, &cat);
	if ((rc = run_all(&B)))
		goto out;
	if (o->keep > 0 && (rc = dd_batch_prune(o->out, o->keep, &pruned)))
		goto out;
	*report = report_of(&B, ent, pruned, t0);
	pruned = NULL;
	dd_buf_reset(&p);
	dd_buf_addf(&p, "batch-%s.json", B.id);
	if ((rc = append_history(&B)) ||
	    (rc = dd_write_json(o->out, p.ptr, *report,
				JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)))) {
		json_decref(*report);
		*report = NULL;
	}
out:
	if (B.tmp)
		dd_remove_tree(B.tmp);
	free(B.tmp);
	if (cat_loaded)
		dd_catalog_release(&cat);
	dd_store_close(store);
	if (lock >= 0)
		close(lock);
	release_jobs(&B);
	json_decref(files);
	json_decref(ent);
	json_decref(pruned);
	json_decref(B.warnings);
	dd_buf_release(&p);
	return rc;
}
