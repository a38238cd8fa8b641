/*
 * drydock verify: check a run folder offline, as an auditor would
 * (src/image/verify.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "image/verify.h"

#include <jansson.h>

static const struct dd_cmd_spec verify_spec = {
	.name = "verify",
	.operands = "RUN|LAYOUT|ARCHIVE",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "give one run folder, image layout or oci-archive",
	.about = "Check a run folder (OUT/<job>/<run-id>, or OUT/<job>/latest), an OCI image\n"
		 "layout folder or an oci-archive (image.oci.tar) offline:\n"
		 "the provenance signature against PUBKEY, the statement's subject against\n"
		 "the image layout, every blob's digest and every layer's diff_id, and that\n"
		 "the SBOMs, the provenance and the apk database and SBOM inside the image\n"
		 "name the same packages and hashes, and that build.log and result.json are\n"
		 "the ones the signed record names. Prints one line per check and a verdict.\n"
		 "For a layout or an archive, the provenance and SBOMs are taken from beside\n"
		 "it unless given; checks that cannot run are listed as skipped, with why.\n",
	.footer = "Exits 0 when every check that could run passed, 1 when any failed.\n",
};

struct out {
	bool json;
	json_t *checks;
	int n, skipped;
};

static void report(void *ctx, const char *check, enum dd_verify_state state, const char *detail)
{
	static const char *const word[] = { "ok", "FAIL", "skip" };
	static const enum dd_color color[] = { DD_GREEN, DD_RED, DD_YELLOW };
	struct out *o = ctx;

	if (state == DD_VERIFY_SKIP)
		o->skipped++;
	else
		o->n++;
	if (o->json)
		json_array_append_new(o->checks,
				      json_pack("{s:s, s:b, s:b, s:s}", "check", check, "ok",
						state == DD_VERIFY_OK, "skipped",
						state == DD_VERIFY_SKIP, "detail", detail));
	else
		printf("%s%-4s%s  %s: %s\n", dd_cli_color(color[state]), word[state],
		       dd_cli_color(DD_PLAIN), check, detail);
	fflush(stdout);
}

static void print_verdict(const struct out *out, const char *run, int failed)
{
	if (out->json) {
		dd_cli_print_json(json_pack("{s:s, s:b, s:i, s:i, s:i, s:O}", "run", run,
					    "verified", !failed, "checks_passed", out->n - failed,
					    "checks_failed", failed, "checks_skipped", out->skipped,
					    "checks", out->checks));
	} else if (failed) {
		printf("%sNOT VERIFIED%s: %s: %d of %d checks failed\n", dd_cli_color(DD_RED),
		       dd_cli_color(DD_PLAIN), run, failed, out->n);
	} else if (out->skipped) {
		printf("%sverified%s: %s: all %d checks that could run passed; %d could not "
		       "run (skip lines above)\n",
		       dd_cli_color(DD_GREEN), dd_cli_color(DD_PLAIN), run, out->n, out->skipped);
	} else {
		printf("%sverified%s: %s: all %d checks passed\n", dd_cli_color(DD_GREEN),
		       dd_cli_color(DD_PLAIN), run, out->n);
	}
}

int cmd_verify(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_verify_opts o = { NULL, NULL, NULL, false, NULL, NULL, NULL };
	struct out out = { false, NULL, 0, 0 };
	int failed, ret;
	const struct dd_option opts[] = {
		DD_OPT_STRING('k', "key", &o.key, "PUBKEY",
			      "the signer's public key: PEM (ECDSA P-256, Ed25519) or OpenPGP "
			      "(armored or binary); take it from a source you trust, not from the "
			      "run folder"),
		DD_OPT_STRING('m', "mirror", &o.mirror, "DIR",
			      "also check every package, bundle and the entitlement manifest "
			      "against this mirror and the signatures that brought them"),
		DD_OPT_BOOL(0, "rebuild", &o.rebuild,
			    "rebuild the job from exactly the inputs the provenance records, taken "
			    "from the mirror (--mirror, else $DRYDOCK_MIRROR, else ./mirror), into "
			    "a temporary folder and compare the image digest"),
		DD_OPT_STRING('p', "provenance", &o.provenance, "FILE",
			      "the provenance envelope (default: beside RUN)"),
		DD_OPT_STRING(0, "spdx", &o.spdx, "FILE", "the SPDX SBOM (default: beside RUN)"),
		DD_OPT_STRING(0, "cdx", &o.cdx, "FILE", "the CycloneDX SBOM (default: beside RUN)"),
		DD_OPT_BOOL(0, "json", &out.json, "print the checks and the verdict as JSON"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&verify_spec, opts, argc, argv, &cli))
		goto out;
	o.run = cli.args[0];
	if ((o.mirror || o.rebuild) && !(o.mirror = dd_cli_mirror(o.mirror))) {
		cli.exit = DD_EXIT_NOT_RUN;
		goto out;
	}
	out.checks = json_array();
	failed = dd_verify(&o, report, &out);
	print_verdict(&out, o.run, failed);
	json_decref(out.checks);
	cli.exit = failed ? DD_EXIT_FAIL : DD_EXIT_OK;
out:
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
