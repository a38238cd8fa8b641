/* drydock history: every run a batch made, from OUT/history.jsonl (src/batch/batch.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/buf.h"

static const char history_help[] =
	"usage: drydock history [-o OUT] [--json] [JOB]\n\n"
	"Every job of every batch on OUT (default $DRYDOCK_OUT, else ./out), oldest first:\n"
	"the batch, the status, the image digest, the time it took and, for a rebuilt\n"
	"job, what changed. With JOB, only that job.\n";

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = getenv("DRYDOCK_OUT"), *job = NULL;
	struct dd_buf path = DD_BUF_INIT;
	json_t *all = json_array();
	char *line = NULL;
	size_t cap = 0;
	bool json = false;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'J': json = true; break;
		case 'h': fputs(history_help, stdout); json_decref(all); return DD_EXIT_OK;
		default: json_decref(all); return DD_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		json_decref(all);
		return dd_cli_usage_error("history: give at most one job name");
	}
	if (optind < argc)
		job = argv[optind];
	if (!out || !*out)
		out = "out";
	dd_buf_addf(&path, "%s/history.jsonl", out);
	if (!(f = fopen(path.ptr, "re"))) {
		fprintf(stderr, "drydock: %s: no history: no batch has run on %s (give -o OUT)\n",
			path.ptr, out);
		dd_buf_release(&path);
		json_decref(all);
		return DD_EXIT_FAIL;
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
	if (json) {
		dd_cli_print_json(all);
		return DD_EXIT_OK;
	}
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
	json_decref(all);
	return DD_EXIT_OK;
}
