/* drydock diff: what changed between two runs (src/batch/batch.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/buf.h"

static const char diff_help[] =
	"usage: drydock diff [--json] RUN_A RUN_B\n\n"
	"What changed from run A to run B (run folders, e.g. OUT/<job>/<run-id> or\n"
	"OUT/<job>/latest): the image digest, the entitlement version, packages added,\n"
	"removed, upgraded and downgraded (old -> new version), packages of the same\n"
	"version from other blobs, layers and image configs. Exits 0 either way.\n";

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

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *a = NULL, *b = NULL, *c;
	bool json = false;
	int ch, ret = DD_EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'J': json = true; break;
		case 'h': fputs(diff_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return dd_cli_usage_error("diff: give two run folders (RUN_A RUN_B)");
	if (!(a = load_result(argv[optind])) || !(b = load_result(argv[optind + 1])))
		goto out;
	c = dd_batch_changes(a, b);
	if (json) {
		json_object_set_new(c, "from", json_pack("{s:s, s:O?}", "run", argv[optind], "run_id",
							 json_object_get(a, "run_id")));
		json_object_set_new(c, "to", json_pack("{s:s, s:O?}", "run", argv[optind + 1],
						       "run_id", json_object_get(b, "run_id")));
		dd_cli_print_json(c);
	} else {
		struct dd_buf text = DD_BUF_INIT;

		dd_batch_changes_text(c, "", &text);
		fputs(text.len ? text.ptr : "no changes: the same image from the same inputs\n",
		      stdout);
		dd_buf_release(&text);
		json_decref(c);
	}
	ret = DD_EXIT_OK;
out:
	json_decref(a);
	json_decref(b);
	return ret;
}
