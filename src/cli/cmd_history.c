/* drydock history: every run a batch made, from OUT/history.jsonl (src/batch/batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/buf.h"

static const struct dd_cmd_spec history_spec = {
	.name = "history",
	.operands = "[JOB]",
	.max_operands = 1,
	.about = "Every job of every batch on OUT (default $DRYDOCK_OUT, else ./out), oldest "
		 "first:\n"
		 "the batch, the status, the image digest, the time it took and, for a rebuilt\n"
		 "job, what changed. With JOB, only that job.\n",
};

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void print_history(json_t *all)
{
	size_t i;
	json_t *l;

	json_array_foreach(all, i, l) {
		struct dd_buf ch = DD_BUF_INIT;

		printf("%s  %-20s  %-10s  %-71s  %7.2f s\n", str(l, "batch"), str(l, "name"),
		       str(l, "status"), str(l, "digest") ? str(l, "digest") : "-",
		       json_real_value(json_object_get(l, "seconds")));
		dd_batch_changes_text(json_object_get(l, "changes"), "    ", &ch);
		if (ch.len)
			fputs(ch.ptr, stdout);
		if (str(l, "error"))
			printf("    error: %s\n", str(l, "error"));
		dd_buf_release(&ch);
	}
}

/* OUT/history.jsonl's lines of job (every job when NULL) into all; -1 when absent. */
static int load_history(const char *out, const char *job, json_t *all)
{
	struct dd_buf path = DD_BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	dd_buf_addf(&path, "%s/history.jsonl", out);
	if (!(f = fopen(path.ptr, "re"))) {
		fprintf(stderr, "drydock: %s: no history: no batch has run on %s (give -o OUT)\n",
			path.ptr, out);
		dd_buf_release(&path);
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *l = json_loads(line, 0, NULL);

		/* a line cut short by a crash is skipped, never fatal */
		if (!l || !str(l, "name") || (job && strcmp(str(l, "name"), job))) {
			json_decref(l);
			continue;
		}
		json_array_append_new(all, l);
	}
	free(line);
	fclose(f);
	dd_buf_release(&path);
	return 0;
}

int cmd_history(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	const char *out = NULL;
	json_t *all = NULL;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_OUT_DIR(&out, 0,
			       "the batch's output folder (default $DRYDOCK_OUT, else ./out)"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&history_spec, opts, argc, argv, &cli))
		goto out;
	if (!out || !*out)
		out = "out";
	all = json_array();
	if (load_history(out, cli.n_args ? cli.args[0] : NULL, all)) {
		cli.exit = DD_EXIT_FAIL;
		goto out;
	}
	if (json)
		dd_cli_print_json(json_incref(all));
	else
		print_history(all);
out:
	json_decref(all);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
