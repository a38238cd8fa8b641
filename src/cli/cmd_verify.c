/*
 * drydock verify: check a run folder offline, as an auditor would
 * (src/image/verify.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "image/verify.h"
#include "store/store.h"

#include <jansson.h>

static const char verify_help[] =
	"usage: drydock verify [--key PUBKEY] [--mirror DIR] [--rebuild] [--json]\n"
	"                      [--provenance FILE] [--spdx FILE] [--cdx FILE] RUN|LAYOUT|ARCHIVE\n\n"
	"Check a run folder (OUT/<job>/<run-id>, or OUT/<job>/latest), an OCI image\n"
	"layout folder or an oci-archive (image.oci.tar) offline:\n"
	"the provenance signature against PUBKEY, the statement's subject against\n"
	"the image layout, every blob's digest and every layer's diff_id, and that\n"
	"the SBOMs, the provenance and the apk database and SBOM inside the image\n"
	"name the same packages and hashes, and that build.log and result.json are\n"
	"the ones the signed record names. Prints one line per check and a verdict.\n"
	"For a layout or an archive, the provenance and SBOMs are taken from beside\n"
	"it unless given; checks that cannot run are listed as skipped, with why.\n\n"
	"  -k, --key PUBKEY   the signer's public key: PEM (ECDSA P-256, Ed25519) or\n"
	"                     OpenPGP (armored or binary); take it from a source you\n"
	"                     trust, not from the run folder\n"
	"  -m, --mirror DIR   also check every package, bundle and the entitlement\n"
	"                     manifest against this mirror and the signatures that\n"
	"                     brought them\n"
	"      --rebuild      rebuild the job from exactly the inputs the provenance\n"
	"                     records, taken from the mirror (--mirror, else\n"
	"                     $DRYDOCK_MIRROR, else ./mirror), into a temporary\n"
	"                     folder and compare the image digest\n"
	"  -p, --provenance FILE  the provenance envelope (default: beside RUN)\n"
	"      --spdx FILE, --cdx FILE  the SBOMs (default: beside RUN)\n"
	"      --json         print the checks and the verdict as JSON\n\n"
	"Exits 0 when every check that could run passed, 1 when any failed.\n";

struct out {
	bool json;
	json_t *checks;
	int n, skipped;
};

static void report(void *ctx, const char *check, enum dd_verify_state state, const char *detail)
{
	static const char *const word[] = { "ok", "FAIL", "skip" };
	struct out *o = ctx;

	if (state == DD_VERIFY_SKIP)
		o->skipped++;
	else
		o->n++;
	if (o->json)
		json_array_append_new(o->checks, json_pack("{s:s, s:b, s:b, s:s}", "check", check,
							   "ok", state == DD_VERIFY_OK, "skipped",
							   state == DD_VERIFY_SKIP, "detail", detail));
	else
		printf("%-4s  %s: %s\n", word[state], check, detail);
	fflush(stdout);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "rebuild", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },
		{ "provenance", required_argument, NULL, 'p' },
		{ "spdx", required_argument, NULL, 'S' },
		{ "cdx", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_verify_opts o = { NULL, NULL, NULL, false, NULL, NULL, NULL };
	struct out out = { false, NULL, 0, 0 };
	int c, failed;

	while ((c = getopt_long(argc, argv, "k:m:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': o.key = optarg; break;
		case 'm': o.mirror = optarg; break;
		case 'r': o.rebuild = true; break;
		case 'J': out.json = true; break;
		case 'p': o.provenance = optarg; break;
		case 'S': o.spdx = optarg; break;
		case 'C': o.cdx = optarg; break;
		case 'h': fputs(verify_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return dd_cli_usage_error("verify: give one run folder, image layout or "
					  "oci-archive (see --help)");
	o.run = argv[optind];
	if ((o.mirror || o.rebuild) && !(o.mirror = dd_cli_mirror(o.mirror)))
		return DD_EXIT_NOT_RUN;
	out.checks = json_array();
	failed = dd_verify(&o, report, &out);
	if (out.json) {
		dd_cli_print_json(json_pack("{s:s, s:b, s:i, s:i, s:i, s:o}", "run", o.run,
					    "verified", !failed, "checks_passed", out.n - failed,
					    "checks_failed", failed, "checks_skipped", out.skipped,
					    "checks", out.checks));
	} else {
		json_decref(out.checks);
		if (failed)
			printf("NOT VERIFIED: %s: %d of %d checks failed\n", o.run, failed, out.n);
		else if (out.skipped)
			printf("verified: %s: all %d checks that could run passed; %d could not "
			       "run (skip lines above)\n", o.run, out.n, out.skipped);
		else
			printf("verified: %s: all %d checks passed\n", o.run, out.n);
	}
	return failed ? DD_EXIT_FAIL : DD_EXIT_OK;
}
