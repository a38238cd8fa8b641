/*
 * drydock: verified offline mirrors and reproducible container images.
 * This file only finds the command; each lives in src/cli/cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/error.h"
#include "version.h"

static int cmd_help(int argc, char **argv);

static const struct dd_subcommand commands[] = {
	{ "trust", cmd_trust, "manage the keys the mirror trusts, by role" },
	{ "bundle", cmd_bundle, "create, inspect and verify signed bundles" },
	{ "mirror", cmd_mirror, "import bundles; list, check and clean the mirror" },
	{ "plan", cmd_plan, "show what jobs will build from the mirror, or why not" },
	{ "build", cmd_build, "build jobs into OCI images, with a log and result per run" },
	{ "batch", cmd_batch, "build every job of a folder, unattended: skip, report, lock" },
	{ "batch-report", cmd_batch_report, "print or merge batch reports (shards into one)" },
	{ "diff", cmd_diff, "what changed between two runs: packages, layers, config" },
	{ "history", cmd_history, "every run of every job a batch made, with its changes" },
	{ "verify", cmd_verify, "check a run's signature, image, SBOMs and provenance offline" },
	{ "rebuild", cmd_rebuild,
	  "build a run's image again from the inputs its provenance records" },
	{ "report", cmd_report, "write an HTML page about a run for an auditor" },
	{ "advisories", cmd_advisories,
	  "which advisories apply to a package, run or image, and "
	  "their fixes" },
	{ "pkg", cmd_pkg, "inspect, verify, build and index APK packages" },
	{ "config", cmd_config,
	  "show the site configuration: each setting and where it came from" },
	{ "help", cmd_help, "show this help" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fputs("usage: drydock [--version] [--help] COMMAND [ARGS]\n\nCommands:\n", out);
	for (const struct dd_subcommand *c = commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fputs("\nExit codes: 0 success, 1 the operation failed, 2 usage error, 3 could not\n"
	      "run (no mirror where it looked; batch: see 'drydock batch --help'), 4 batch:\n"
	      "another batch holds OUT's lock.\n"
	      "Run 'drydock COMMAND --help' for a command's options, 'drydock help COMMAND'\n"
	      "for its manual page.\n",
	      out);
}

/*
 * `drydock help COMMAND` shows the command's manual page (src/cli/cmd_help.c).
 * `drydock help --options-dump` (not shown in any help) prints every
 * command's option table, one option a line, for tests/cmd/options.sh.
 */
static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--options-dump")) {
		dd_cli_dump_options = true;
		for (const struct dd_subcommand *c = commands; c->name; c++) {
			char *sub[] = { (char *)c->name, "--help", NULL };

			if (c->fn != cmd_help)
				c->fn(2, sub);
		}
		return DD_EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
		return dd_cli_help_topic(commands, argc, argv);
	usage(stdout);
	return DD_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return DD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("drydock %s\n", DD_VERSION);
		return DD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc - 1, argv + 1);
	for (const struct dd_subcommand *c = commands; c->name; c++) {
		int ret;

		if (strcmp(c->name, argv[1]))
			continue;
		ret = c->fn(argc - 1, argv + 1);
		/* a command that failed for want of a mirror could not run at all */
		return ret != DD_EXIT_OK && dd_error_code() == DD_E_NO_MIRROR ? DD_EXIT_NOT_RUN
									      : ret;
	}
	fprintf(stderr, "drydock: '%s' is not a command; see 'drydock --help'\n", argv[1]);
	return DD_EXIT_USAGE;
}
