/*
 * drydock batch: every job of a folder, unattended (src/batch/batch.h,
 * docs/operations.md); drydock batch-report: a report again, or the
 * reports of several shards as one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/file.h"
#include "image/oci.h"
#include "store/store.h"

static const char batch_help[] =
	"usage: drydock batch [--mirror DIR] -o OUT [-j N] [--force] [--only GLOB]\n"
	"                     [--wait SECONDS] [--sign KEY [--gnupg-home DIR]] [--keep N]\n"
	"                     [--shard K/N] [--threads N] [--no-cache] [--json] JOBDIR\n\n"
	"Plan and build every *.yaml and *.yml job in JOBDIR, in sorted order, each in a\n"
	"process of its own under a supervisor that enforces the job's policy.timeout.\n"
	"A job whose inputs (job file, packages, entitlement, settings, drydock version)\n"
	"equal those of its last good run is up to date and not built again. Prints one\n"
	"line per job and a summary; writes OUT/batch-<id>.json and OUT/history.jsonl.\n\n"
	"  -o, --out OUT       where runs and reports go (required)\n"
	"  -m, --mirror DIR    the mirror (default $DRYDOCK_MIRROR, else ./mirror)\n"
	"  -j, --jobs N        builds at once (default 1); the results do not depend on it\n"
	"      --threads N     compression threads per build (default: cores / jobs)\n"
	"  -f, --force         build every job, up to date or not\n"
	"      --no-cache      neither use nor fill the mirror's crust layer cache\n"
	"      --only GLOB     only jobs whose name or file name matches GLOB\n"
	"  -w, --wait SECONDS  wait this long for another batch on OUT (default 0)\n"
	"  -s, --sign KEY      sign the provenance (as drydock build; default\n"
	"                      $DRYDOCK_SIGN_KEY)\n"
	"      --gnupg-home DIR  the GnuPG home holding an OpenPGP key\n"
	"      --keep N        keep N good runs per job (and the latest), prune the rest\n"
	"                      and the blobs no run uses any more\n"
	"      --shard K/N     only the jobs of share K of N (by job name)\n"
	"      --json          print the report (OUT/batch-<id>.json) instead\n\n"
	"Exit status: 0 every job built or up to date; 1 some job failed or timed out;\n"
	"2 usage; 3 the batch could not run (no mirror, no entitlement, unreadable\n"
	"JOBDIR, OUT not writable, bad signing key); 4 another batch holds OUT's lock.\n";

static const char report_help[] =
	"usage: drydock batch-report [--json] [-o FILE] REPORT.json|OUT...\n\n"
	"Print a batch report as drydock batch does: a report file, or the newest one\n"
	"in each OUT. Several (the shards of one batch) are merged into one report of\n"
	"the same shape, written to FILE with -o. Exits 1 when a job in it failed.\n";

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
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

		printf("%-*s  %-*s  %-71s  %7.2f s\n", wname, str(j, "name"), wstat,
		       str(j, "status"), digest ? digest : "-",
		       json_real_value(json_object_get(j, "seconds")));
		if (json_object_get(j, "changes")) {
			if (json_is_true(json_object_get(json_object_get(j, "changes"), "first_run")))
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

static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (end == s || *end != '/')
		return -1;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || !b || b > 100000 || !a || a > b)
		return -1;
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

static int number(const char *opt, const char *arg, long lo, long hi, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < lo || v > hi)
		return dd_cli_usage_error("batch: %s '%s': expected a number from %ld to %ld", opt,
					  arg, lo, hi);
	*out = (int)v;
	return 0;
}

int cmd_batch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 'T' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-cache", no_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'O' },
		{ "wait", required_argument, NULL, 'w' },
		{ "sign", required_argument, NULL, 's' },
		{ "gnupg-home", required_argument, NULL, 'g' },
		{ "keep", required_argument, NULL, 'k' },
		{ "shard", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_batch_opts o = { .jobs = 1, .source_date_epoch = getenv("SOURCE_DATE_EPOCH") };
	const char *mirror = NULL;
	json_t *report = NULL;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "m:o:j:fw:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mirror = optarg; break;
		case 'o': o.out = optarg; break;
		case 'j':
			if (number("--jobs", optarg, 1, 256, &o.jobs))
				return DD_EXIT_USAGE;
			break;
		case 'T':
			if (number("--threads", optarg, 1, 256, &o.threads))
				return DD_EXIT_USAGE;
			break;
		case 'f': o.force = true; break;
		case 'C': o.no_cache = true; break;
		case 'O': o.only = optarg; break;
		case 'w':
			if (number("--wait", optarg, 0, 7 * 86400, &o.wait_seconds))
				return DD_EXIT_USAGE;
			break;
		case 's': o.sign_key = optarg; break;
		case 'g': o.gnupg_home = optarg; break;
		case 'k':
			if (number("--keep", optarg, 1, 1000000, &o.keep))
				return DD_EXIT_USAGE;
			break;
		case 'S':
			if (parse_shard(optarg, &o.shard_k, &o.shard_n))
				return dd_cli_usage_error("batch: --shard '%s': expected K/N with "
							  "1 <= K <= N", optarg);
			break;
		case 'J': json = true; break;
		case 'h': fputs(batch_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (!o.out)
		return dd_cli_usage_error("batch: no output folder given (-o OUT)");
	if (optind != argc - 1)
		return dd_cli_usage_error("batch: give exactly one job folder (JOBDIR)");
	o.jobdir = argv[optind];
	if (!(o.mirror = dd_cli_mirror(mirror))) /* before OUT is made */
		return DD_EXIT_NOT_RUN;
	if (!o.sign_key && getenv("DRYDOCK_SIGN_KEY") && *getenv("DRYDOCK_SIGN_KEY"))
		o.sign_key = getenv("DRYDOCK_SIGN_KEY");
	rc = dd_batch_run(&o, &report);
	if (rc) {
		dd_cli_error();
		return rc == DD_E_BUSY ? DD_EXIT_LOCKED : DD_EXIT_NOT_RUN;
	}
	print_warnings(report);
	if (json) {
		dd_cli_print_json(json_incref(report));
	} else {
		print_report(report);
		printf("report: %s/batch-%s.json\nimages and evidence: %s/<job>/latest/\n", o.out,
		       str(report, "id"), o.out);
	}
	rc = exit_of(report);
	json_decref(report);
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
			fprintf(stderr, "drydock: %s holds no batch report (batch-*.json): run "
				"drydock batch -o %s first\n", arg, arg);
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

int cmd_batch_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	json_t **v, *merged = NULL;
	bool json = false;
	int c, n, ret = DD_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'o': out = optarg; break;
		case 'h': fputs(report_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return dd_cli_usage_error("batch-report: give a report or an OUT folder");
	n = argc - optind;
	v = dd_xcalloc((size_t)n, sizeof(*v));
	for (int i = 0; i < n; i++)
		if (!(v[i] = load_report(argv[optind + i])))
			goto out;
	if (dd_batch_merge(v, (size_t)n, &merged)) {
		dd_cli_error();
		goto out;
	}
	if (out) {
		char *s = json_dumps(merged, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
						     JSON_REAL_PRECISION(6));
		size_t len = strlen(s);
		int rc;

		s = dd_xrealloc(s, len + 2);
		s[len++] = '\n';
		rc = dd_write_file(out, s, len);
		free(s);
		if (rc) {
			dd_cli_error();
			goto out;
		}
	}
	print_warnings(merged);
	if (json)
		dd_cli_print_json(json_incref(merged));
	else
		print_report(merged);
	ret = exit_of(merged);
out:
	for (int i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	json_decref(merged);
	return ret;
}
