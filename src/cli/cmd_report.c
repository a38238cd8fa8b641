/*
 * drydock report: one self-contained HTML page about a run for an
 * auditor (src/image/report.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/file.h"
#include "image/report.h"

static const struct dd_cmd_spec report_spec = {
	.name = "report",
	.operands = "RUN",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "give one run folder",
	.about = "Write one HTML page about the run folder RUN for an auditor: the result of\n"
		 "every drydock verify check (not the rebuild), the image and its layers, the\n"
		 "packages (name, version, licence, guarded or not, crust or topping, the\n"
		 "bundle that brought each), the signer, the entitlement, the warnings and,\n"
		 "with --against, what changed since OTHER_RUN. The page loads nothing and\n"
		 "runs no script; it prints.\n",
	.footer = "Exits 0 when the page is written and every check that could run passed,\n"
		  "1 when a check failed (the page is written and says which) or RUN is not\n"
		  "a run folder.\n",
};

/* The page written and its verdict: a line, or with json one object. */
static void print_verdict(const char *path, const char *run, int failed, bool json)
{
	if (json)
		dd_cli_print_json(json_pack("{s:s, s:s, s:b, s:i}", "file", path, "run", run,
					    "verified", !failed, "checks_failed", failed));
	else if (failed)
		printf("%s: NOT VERIFIED: %d checks failed (the page says which)\n", path, failed);
	else
		printf("%s: verified\n", path);
}

int cmd_report(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_report_opts o = { NULL, NULL, NULL, NULL };
	struct dd_buf html = DD_BUF_INIT;
	const char *path = "report.html";
	int failed = 0, ret;
	bool json = false;
	const struct dd_option opts[] = {
		DD_OPT_STRING('o', "out", &path, "FILE", "where to write it (default report.html)"),
		DD_OPT_STRING('k', "key", &o.key, "PUBKEY",
			      "the signer's public key, for the signature checks"),
		DD_OPT_STRING('m', "mirror", &o.mirror, "DIR",
			      "also check the run against this mirror"),
		DD_OPT_STRING(0, "against", &o.against, "OTHER_RUN",
			      "compare with another run of the job"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&report_spec, opts, argc, argv, &cli))
		goto out;
	o.run = cli.args[0];
	if (o.mirror && !(o.mirror = dd_cli_mirror(o.mirror))) {
		cli.exit = DD_EXIT_NOT_RUN;
		goto out;
	}
	cli.exit = DD_EXIT_FAIL;
	if (dd_report_html(&o, &html, &failed) || dd_write_file(path, html.ptr, html.len)) {
		dd_cli_error();
		goto out;
	}
	print_verdict(path, o.run, failed, json);
	if (!failed)
		cli.exit = DD_EXIT_OK;
out:
	ret = cli.exit;
	dd_buf_release(&html);
	dd_cli_release(&cli);
	return ret;
}
