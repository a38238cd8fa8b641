/*
 * drydock build: jobs become OCI images, each run in its own folder
 * (src/image/build.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/epoch.h"
#include "core/error.h"
#include "image/build.h"
#include "store/store.h"

static const char build_help[] =
	"usage: drydock build [--mirror DIR] -o OUT [--sign KEY [--gnupg-home DIR]]\n"
	"                     [--threads N] [--no-cache] [--json] JOB.yaml...\n\n"
	"Build each job from the mirror into OUT/<job>/<run-id>/: image/ (an OCI image\n"
	"layout), image.oci.tar (an oci-archive carrying the job's tag), build.log,\n"
	"sbom.spdx.json, sbom.cdx.json, provenance.intoto.json and result.json.\n"
	"OUT/<job>/latest points at the newest successful run; a failed run keeps its\n"
	"log and result.json in OUT/<job>/<run-id>-failed/.\n\n"
	"  -o, --out OUT      where run folders go (required)\n"
	"  -m, --mirror DIR   the mirror (default $DRYDOCK_MIRROR, else ./mirror)\n"
	"  -j, --threads N    compression threads (default: every core); the image\n"
	"                     is the same whatever N is\n"
	"      --no-cache     neither use nor fill the mirror's crust layer cache\n"
	"  -s, --sign KEY     sign the provenance: a PEM private key file (ECDSA P-256\n"
	"                     or Ed25519) or an OpenPGP key id (default\n"
	"                     $DRYDOCK_SIGN_KEY; without one the provenance is unsigned)\n"
	"      --gnupg-home DIR  the GnuPG home holding the OpenPGP key\n"
	"                     (default $GNUPGHOME, else ~/.gnupg)\n"
	"      --json         print each run's result.json\n\n"
	"Times in the image are SOURCE_DATE_EPOCH when set, else the newest package's\n"
	"build date. Exits 1 if any job failed.\n";

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 'j' },
		{ "no-cache", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "sign", required_argument, NULL, 's' },
		{ "gnupg-home", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_build_opts o = { .source_date_epoch = getenv("SOURCE_DATE_EPOCH") };
	const char *mirror = NULL;
	json_t *all = json_array();
	bool json = false;
	int c, ret = DD_EXIT_OK;

	while ((c = getopt_long(argc, argv, "m:o:j:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mirror = optarg; break;
		case 'o': o.out = optarg; break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 256) {
				json_decref(all);
				return dd_cli_usage_error("build: --threads '%s': expected a "
							  "number from 1 to 256", optarg);
			}
			o.threads = (int)v;
			break;
		}
		case 'C': o.no_cache = true; break;
		case 's': o.sign_key = optarg; break;
		case 'g': o.gnupg_home = optarg; break;
		case 'J': json = true; break;
		case 'h': fputs(build_help, stdout); json_decref(all); return DD_EXIT_OK;
		default: json_decref(all); return DD_EXIT_USAGE;
		}
	}
	if (!o.out) {
		json_decref(all);
		return dd_cli_usage_error("build: no output folder given (-o OUT)");
	}
	if (optind >= argc) {
		json_decref(all);
		return dd_cli_usage_error("build: no job file given");
	}
	if (dd_epoch_from_env(&(int64_t){0}) < 0) { /* dd_build parses it again, the same way */
		dd_cli_error();
		json_decref(all);
		return DD_EXIT_USAGE;
	}
	if (!(o.mirror = dd_cli_mirror(mirror))) { /* before any run folder is made */
		json_decref(all);
		return DD_EXIT_NOT_RUN;
	}
	if (!o.sign_key && getenv("DRYDOCK_SIGN_KEY") && *getenv("DRYDOCK_SIGN_KEY"))
		o.sign_key = getenv("DRYDOCK_SIGN_KEY");
	for (int i = optind; i < argc; i++) {
		json_t *result;
		char *dir;
		int rc = dd_build(&o, argv[i], &result, &dir);

		if (rc) {
			ret = DD_EXIT_FAIL;
			dd_cli_error();
			if (dir)
				fprintf(stderr, "drydock: the log is in %s/build.log\n", dir);
		} else if (!json) {
			printf("%s: built %s %s\n  in %s\n", argv[i],
			       json_string_value(json_object_get(result, "tag")),
			       json_string_value(json_object_get(result, "digest")), dir);
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
