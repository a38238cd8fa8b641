/*
 * drydock batch: every job of a folder, unattended (src/batch/batch.h,
 * docs/operations.md); drydock batch-report: a report again, or the
 * reports of several shards as one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/file.h"

static const struct dd_cmd_spec batch_spec = {
	.name = "batch",
	.operands = "JOBDIR",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "give exactly one job folder (JOBDIR)",
	.about = "Plan and build every *.yaml and *.yml job in JOBDIR, in sorted order, each in a\n"
		 "process of its own under a supervisor that enforces the job's policy.timeout.\n"
		 "A job whose inputs (job file, packages, entitlement, settings, drydock version)\n"
		 "equal those of its last good run is up to date and not built again. Prints one\n"
		 "line per job and a summary; writes OUT/batch-<id>.json and OUT/history.jsonl.\n",
	.footer = "Exit status: 0 every job built or up to date; 1 some job failed or timed out;\n"
		  "2 usage; 3 the batch could not run (no mirror, no entitlement, unreadable\n"
		  "JOBDIR, OUT not writable, bad signing key); 4 another batch holds OUT's lock.\n",
};

static const struct dd_cmd_spec report_spec = {
	.name = "batch-report",
	.operands = "REPORT.json|OUT...",
	.min_operands = 1,
	.missing_operands = "give a report or an OUT folder",
	.about = "Print a batch report as drydock batch does: a report file, or the newest one\n"
		 "in each OUT. Several (the shards of one batch) are merged into one report of\n"
		 "the same shape, written to FILE with -o.\n",
	.footer = "Exits 1 when a job in it failed.\n",
};

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static enum dd_color status_color(const char *status)
{
	if (!strcmp(status, "built"))
		return DD_GREEN;
	if (!strcmp(status, "up to date"))
		return DD_PLAIN;
	return DD_RED; /* failed, timed out */
}

static void print_report(json_t *r)
{
	json_t *jobs = json_object_get(r, "jobs"), *j, *sum = json_object_get(r, "summary");
	int wname = 4, wstat = 10;
	size_t i;

	json_array_foreach(jobs, i, j) {
		if ((int)strlen(str(j, "name")) > wname)
			wname = (int)strlen(str(j, "name"));
	}
	json_array_foreach(jobs, i, j) {
		const char *digest = str(j, "digest");
		struct dd_buf ch = DD_BUF_INIT;

		printf("%-*s  %s%-*s%s  %-71s  %7.2f s\n", wname, str(j, "name"),
		       dd_cli_color(status_color(str(j, "status"))), wstat, str(j, "status"),
		       dd_cli_color(DD_PLAIN), digest ? digest : "-",
		       json_real_value(json_object_get(j, "seconds")));
		if (json_object_get(j, "changes")) {
			if (json_is_true(
				    json_object_get(json_object_get(j, "changes"), "first_run")))
				dd_buf_addf(&ch, "%*s  first run\n", wname, "");
			else
				dd_batch_changes_text(json_object_get(j, "changes"), "    ", &ch);
			if (ch.len)
				fputs(ch.ptr, stdout);
		}
		if (str(j, "error"))
			printf("    error: %s\n", str(j, "error"));
		dd_buf_release(&ch);
	}
	printf("%lld built, %lld up to date, %lld failed",
	       (long long)json_integer_value(json_object_get(sum, "built")),
	       (long long)json_integer_value(json_object_get(sum, "up_to_date")),
	       (long long)json_integer_value(json_object_get(sum, "failed")));
	if (json_integer_value(json_object_get(sum, "timed_out")))
		printf(" (%lld timed out)",
		       (long long)json_integer_value(json_object_get(sum, "timed_out")));
	putchar('\n');
}

static void print_warnings(json_t *r)
{
	json_t *w;
	size_t i;

	json_array_foreach(json_object_get(r, "warnings"), i, w)
		fprintf(stderr, "drydock: warning: %s\n", json_string_value(w));
}

static int exit_of(json_t *r)
{
	return json_integer_value(json_object_get(json_object_get(r, "summary"), "failed"))
		       ? DD_EXIT_FAIL
		       : DD_EXIT_OK;
}

/* --shard K/N into the struct dd_batch_opts that opt->value points to. */
static int parse_shard(const struct dd_option *opt, const char *s)
{
	struct dd_batch_opts *o = opt->value;
	const char *arg = s;
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (end == s || *end != '/')
		goto bad;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || !b || b > 100000 || !a || a > b)
		goto bad;
	o->shard_k = (unsigned)a;
	o->shard_n = (unsigned)b;
	return 0;
bad:
	return dd_error(DD_E_USAGE, "batch: --shard '%s': expected K/N with 1 <= K <= N", arg);
}

/* Print the batch's report (or JSON); the exit code. */
static int batch_print(const struct dd_batch_opts *o, json_t *report, bool json)
{
	print_warnings(report);
	if (json) {
		dd_cli_print_json(json_incref(report));
	} else {
		print_report(report);
		printf("report: %s/batch-%s.json\nimages and evidence: %s/<job>/latest/\n", o->out,
		       str(report, "id"), o->out);
	}
	return exit_of(report);
}

int cmd_batch(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_batch_opts o = { .jobs = 1, .source_date_epoch = getenv("SOURCE_DATE_EPOCH") };
	json_t *report = NULL;
	bool json = false;
	int rc;
	const struct dd_option opts[] = {
		DD_OPT_OUT_DIR(&o.out, DD_OPT_REQUIRED,
			       "where runs and reports go (default $DRYDOCK_OUT)"),
		DD_OPT_MIRROR(&cli.mirror),
		DD_OPT_CONF_INT('j', "jobs", &o.jobs, "N", 1, 256,
				"builds at once (default 1); the results do not depend on it"),
		DD_OPT_CONF_INT(0, "threads", &o.threads, "N", 1, 256,
				"compression threads per build (default: cores / jobs)"),
		DD_OPT_BOOL('f', "force", &o.force, "build every job, up to date or not"),
		DD_OPT_BOOL(0, "no-cache", &o.no_cache,
			    "neither use nor fill the mirror's layer cache"),
		DD_OPT_STRING(0, "only", &o.only, "GLOB",
			      "only jobs whose name or file name matches GLOB"),
		DD_OPT_CONF_INT('w', "wait", &o.wait_seconds, "SECONDS", 0, 7 * 86400,
				"wait this long for another batch on OUT (default 0)"),
		DD_OPT_SIGN_KEY(
			&o.sign_key,
			"sign the provenance (as drydock build; default $DRYDOCK_SIGN_KEY)"),
		DD_OPT_GNUPG_HOME(0, &o.gnupg_home, "the GnuPG home holding an OpenPGP key"),
		DD_OPT_CONF_INT(0, "keep", &o.keep, "N", 1, 1000000,
				"keep N good runs per job (and the latest), prune the rest and "
				"the blobs no run uses any more"),
		DD_OPT_CALLBACK(0, "shard", &o, "K/N", parse_shard,
				"only the jobs of share K of N (by job name)"),
		DD_OPT_MAX_AGE(&o.max_age_days),
		DD_OPT_STRICT(&o.strict),
		DD_OPT_BOOL(0, "json", &json, "print the report (OUT/batch-<id>.json) instead"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&batch_spec, opts, argc, argv, &cli))
		goto out;
	o.jobdir = cli.args[0];
	if (!(o.mirror = dd_cli_mirror(cli.mirror))) { /* before OUT is made */
		cli.exit = DD_EXIT_NOT_RUN;
		goto out;
	}
	o.progress = !json && !cli.quiet;
	rc = dd_batch_run(&o, &report);
	if (rc) {
		dd_cli_error();
		cli.exit = rc == DD_E_BUSY ? DD_EXIT_LOCKED : DD_EXIT_NOT_RUN;
		goto out;
	}
	cli.exit = batch_print(&o, report, json);
out:
	json_decref(report);
	rc = cli.exit;
	dd_cli_release(&cli);
	return rc;
}

/* ---- batch-report ------------------------------------------------------------ */

/* A report file, or the newest batch-*.json in a folder. */
static json_t *load_report(const char *arg)
{
	struct stat st;
	json_error_t e;
	json_t *r;

	if (!stat(arg, &st) && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(arg);
		struct dirent *de;
		char best[256] = "";

		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);

			if (!strncmp(de->d_name, "batch-", 6) && n > 11 && n < sizeof(best) &&
			    !strcmp(de->d_name + n - 5, ".json") && strcmp(de->d_name, best) > 0)
				snprintf(best, sizeof(best), "%s", de->d_name);
		}
		if (d)
			closedir(d);
		if (!*best) {
			fprintf(stderr,
				"drydock: %s holds no batch report (batch-*.json): run "
				"drydock batch -o %s first\n",
				arg, arg);
			return NULL;
		}
		{
			struct dd_buf p = DD_BUF_INIT;

			dd_buf_addf(&p, "%s/%s", arg, best);
			r = load_report(p.ptr);
			dd_buf_release(&p);
			return r;
		}
	}
	r = json_load_file(arg, 0, &e);
	if (!r) {
		fprintf(stderr, "drydock: %s: %s\n", arg, e.text);
		return NULL;
	}
	if (!str(r, "format") || strcmp(str(r, "format"), DD_BATCH_FORMAT)) {
		fprintf(stderr, "drydock: %s: not a batch report (format %s expected)\n", arg,
			DD_BATCH_FORMAT);
		json_decref(r);
		return NULL;
	}
	return r;
}

/* Write the merged report to path, indented as batch writes it. */
static int write_report(const char *path, json_t *merged)
{
	char *s = json_dumps(merged, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	size_t len = strlen(s);
	int rc;

	s = dd_xrealloc(s, len + 2);
	s[len++] = '\n';
	rc = dd_write_file(path, s, len);
	free(s);
	return rc;
}

int cmd_batch_report(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	const char *out = NULL;
	json_t **v = NULL, *merged = NULL;
	bool json = false;
	int n = 0, ret;
	const struct dd_option opts[] = {
		DD_OPT_JSON(&json),
		DD_OPT_STRING('o', "out", &out, "FILE", "write the merged report to FILE"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&report_spec, opts, argc, argv, &cli))
		goto out;
	cli.exit = DD_EXIT_FAIL;
	n = cli.n_args;
	v = dd_xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++)
		if (!(v[i] = load_report(cli.args[i])))
			goto out;
	if (dd_batch_merge(v, (size_t)n, &merged) || (out && write_report(out, merged))) {
		dd_cli_error();
		goto out;
	}
	print_warnings(merged);
	if (json)
		dd_cli_print_json(json_incref(merged));
	else
		print_report(merged);
	cli.exit = exit_of(merged);
out:
	for (int i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	json_decref(merged);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
