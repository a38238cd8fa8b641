/*
 * drydock report: one self-contained HTML page about a run for an
 * auditor (src/image/report.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/file.h"
#include "image/report.h"

static const char report_help[] =
	"usage: drydock report [--key PUBKEY] [--mirror DIR] [--against OTHER_RUN]\n"
	"                      [-o report.html] RUN\n\n"
	"Write one HTML page about the run folder RUN for an auditor: the result of\n"
	"every drydock verify check (not the rebuild), the image and its layers, the\n"
	"packages (name, version, licence, guarded or not, crust or topping, the\n"
	"bundle that brought each), the signer, the entitlement, the warnings and,\n"
	"with --against, what changed since OTHER_RUN. The page loads nothing and\n"
	"runs no script; it prints.\n\n"
	"  -o, --out FILE     where to write it (default report.html)\n"
	"  -k, --key PUBKEY   the signer's public key, for the signature checks\n"
	"  -m, --mirror DIR   also check the run against this mirror\n"
	"  -a, --against RUN  compare with another run of the job\n\n"
	"Exits 0 when the page is written and every check that could run passed,\n"
	"1 when a check failed (the page is written and says which) or RUN is not\n"
	"a run folder.\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "against", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_report_opts o = { NULL, NULL, NULL, NULL };
	struct dd_buf html = DD_BUF_INIT;
	const char *path = "report.html";
	int c, failed = 0, ret = DD_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "o:k:m:a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': path = optarg; break;
		case 'k': o.key = optarg; break;
		case 'm': o.mirror = optarg; break;
		case 'a': o.against = optarg; break;
		case 'h': fputs(report_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return dd_cli_usage_error("report: give one run folder (see --help)");
	o.run = argv[optind];
	if (o.mirror && !(o.mirror = dd_cli_mirror(o.mirror)))
		return DD_EXIT_NOT_RUN;
	if (dd_report_html(&o, &html, &failed) || dd_write_file(path, html.ptr, html.len)) {
		dd_cli_error();
		goto out;
	}
	if (failed) {
		printf("%s: NOT VERIFIED: %d checks failed (the page says which)\n", path, failed);
	} else {
		printf("%s: verified\n", path);
		ret = DD_EXIT_OK;
	}
out:
	dd_buf_release(&html);
	return ret;
}
