/*
 * drydock build: jobs become OCI images, each run in its own folder
 * (src/image/build.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/epoch.h"
#include "core/error.h"
#include "image/build.h"

static const struct dd_cmd_spec build_spec = {
	.name = "build",
	.operands = "JOB.yaml...",
	.min_operands = 1,
	.missing_operands = "no job file given",
	.about = "Build each job from the mirror into OUT/<job>/<run-id>/: image/ (an OCI image\n"
		 "layout), image.oci.tar (an oci-archive carrying the job's tag), build.log,\n"
		 "sbom.spdx.json, sbom.cdx.json, provenance.intoto.json and result.json.\n"
		 "OUT/<job>/latest points at the newest successful run; a failed run keeps its\n"
		 "log and result.json in OUT/<job>/<run-id>-failed/.\n",
	.footer = "Times in the image are SOURCE_DATE_EPOCH when set, else the newest package's\n"
		  "build date. Exits 1 if any job failed.\n",
};

static void print_result(const char *job, json_t *result, const char *dir)
{
	printf("%s: built %s %s\n  in %s\n", job, json_string_value(json_object_get(result, "tag")),
	       json_string_value(json_object_get(result, "digest")), dir);
}

/* Build each job in turn; the exit code. */
static int build_all(const struct dd_build_opts *o, char **jobs, int n, bool json)
{
	json_t *all = json_array();
	int ret = DD_EXIT_OK;

	for (int i = 0; i < n; i++) {
		json_t *result;
		char *dir;

		if (dd_build(o, jobs[i], &result, &dir)) {
			ret = DD_EXIT_FAIL;
			dd_cli_error();
			if (dir)
				fprintf(stderr, "drydock: the log is in %s/build.log\n", dir);
		} else if (!json) {
			print_result(jobs[i], result, dir);
		}
		json_array_append_new(all, result);
		free(dir);
	}
	if (json)
		dd_cli_print_json(json_array_size(all) == 1 ? json_incref(json_array_get(all, 0))
							    : json_incref(all));
	json_decref(all);
	return ret;
}

int cmd_build(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_build_opts o = { .source_date_epoch = getenv("SOURCE_DATE_EPOCH") };
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_OUT_DIR(&o.out, DD_OPT_REQUIRED,
			       "where run folders go (default $DRYDOCK_OUT)"),
		DD_OPT_MIRROR(&cli.mirror),
		DD_OPT_CONF_INT('j', "threads", &o.threads, "N", 1, 256,
				"compression threads (default: every core); the image is the "
				"same whatever N is"),
		DD_OPT_BOOL(0, "no-cache", &o.no_cache,
			    "neither use nor fill the mirror's layer cache"),
		DD_OPT_SIGN_KEY(
			&o.sign_key,
			"sign the provenance: a PEM private key file (ECDSA P-256 or Ed25519) "
			"or an OpenPGP key id (default $DRYDOCK_SIGN_KEY; without one the "
			"provenance is unsigned)"),
		DD_OPT_GNUPG_HOME(0, &o.gnupg_home,
				  "the GnuPG home holding the OpenPGP key "
				  "(default $GNUPGHOME, else ~/.gnupg)"),
		DD_OPT_MAX_AGE(&o.max_age_days),
		DD_OPT_STRICT(&o.strict),
		DD_OPT_BOOL(0, "json", &json, "print each run's result.json"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&build_spec, opts, argc, argv, &cli))
		goto out;
	if (dd_epoch_from_env(&(int64_t){ 0 }) < 0) { /* dd_build parses it again, the same way */
		cli.exit = dd_cli_fail(DD_E_USAGE);
		goto out;
	}
	if (!(o.mirror = dd_cli_mirror(cli.mirror))) { /* before any run folder is made */
		cli.exit = DD_EXIT_NOT_RUN;
		goto out;
	}
	cli.exit = build_all(&o, cli.args, cli.n_args, json);
out:
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
