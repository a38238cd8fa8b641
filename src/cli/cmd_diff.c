/* drydock diff: what changed between two runs (src/batch/batch.h). */
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/buf.h"

static const struct dd_cmd_spec diff_spec = {
	.name = "diff",
	.operands = "RUN_A RUN_B",
	.min_operands = 2,
	.max_operands = 2,
	.missing_operands = "give two run folders (RUN_A RUN_B)",
	.about = "What changed from run A to run B (run folders, e.g. OUT/<job>/<run-id> or\n"
		 "OUT/<job>/latest): the image digest, the entitlement version, packages added,\n"
		 "removed, upgraded and downgraded (old -> new version), packages of the same\n"
		 "version from other blobs, layers and image configs.\n",
	.footer = "Exits 0 either way.\n",
};

static json_t *load_result(const char *run)
{
	struct dd_buf p = DD_BUF_INIT;
	json_error_t e;
	json_t *r;

	dd_buf_addf(&p, "%s/result.json", run);
	r = json_load_file(p.ptr, 0, &e);
	if (!r)
		fprintf(stderr, "drydock: %s: %s; give a run folder (OUT/<job>/<run-id>)\n", p.ptr,
			e.text);
	dd_buf_release(&p);
	return r;
}

static void print_changes(json_t *c, json_t *a, json_t *b, char **runs, bool json)
{
	struct dd_buf text = DD_BUF_INIT;

	if (json) {
		json_object_set_new(c, "from",
				    json_pack("{s:s, s:O?}", "run", runs[0], "run_id",
					      json_object_get(a, "run_id")));
		json_object_set_new(c, "to",
				    json_pack("{s:s, s:O?}", "run", runs[1], "run_id",
					      json_object_get(b, "run_id")));
		dd_cli_print_json(c);
		return;
	}
	dd_batch_changes_text(c, "", &text);
	fputs(text.len ? text.ptr : "no changes: the same image from the same inputs\n", stdout);
	dd_buf_release(&text);
	json_decref(c);
}

int cmd_diff(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	json_t *a = NULL, *b = NULL;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&diff_spec, opts, argc, argv, &cli))
		goto out;
	cli.exit = DD_EXIT_FAIL;
	if (!(a = load_result(cli.args[0])) || !(b = load_result(cli.args[1])))
		goto out;
	print_changes(dd_batch_changes(a, b), a, b, cli.args, json);
	cli.exit = DD_EXIT_OK;
out:
	json_decref(a);
	json_decref(b);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
