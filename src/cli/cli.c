#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "store/store.h"

void dd_cli_error(void)
{
	fprintf(stderr, "drydock: %s\n", dd_error_detail());
}

const char *dd_cli_mirror(const char *option)
{
	const char *root = dd_store_default_root(option);

	if (dd_store_check_exists(root)) {
		dd_cli_error();
		return NULL;
	}
	return root;
}

int dd_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("drydock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return DD_EXIT_USAGE;
}

int dd_cli_dispatch(const char *group, const struct dd_subcommand *table, int argc, char **argv,
		    const char *usage)
{
	if (dd_cli_dump_options) {
		for (const struct dd_subcommand *c = table; c->name; c++) {
			char *sub[] = { (char *)c->name, "--help", NULL };

			c->fn(2, sub);
		}
		return DD_EXIT_OK;
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		FILE *out = argc < 2 ? stderr : stdout;

		fputs(usage, out);
		fprintf(out, "\nCommands:\n");
		for (const struct dd_subcommand *c = table; c->name; c++)
			fprintf(out, "  %-10s %s\n", c->name, c->summary);
		fprintf(out, "\nRun 'drydock %s COMMAND --help' for details.\n", group);
		return argc < 2 ? DD_EXIT_USAGE : DD_EXIT_OK;
	}
	for (const struct dd_subcommand *c = table; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	return dd_cli_usage_error("'%s %s' is not a command; see 'drydock %s --help'", group,
				  argv[1], group);
}

void dd_cli_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(j);
}

json_t *dd_cli_json_deps(const struct dd_dep *d, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		struct dd_buf b = DD_BUF_INIT;

		dd_dep_format(&d[i], &b);
		json_array_append_new(a, json_string(b.ptr));
		dd_buf_release(&b);
	}
	return a;
}

const char *dd_cli_color(enum dd_color c)
{
	static const char *const sgr[] = {
		[DD_PLAIN] = "\033[0m",
		[DD_GREEN] = "\033[32m",
		[DD_RED] = "\033[1;31m",
		[DD_YELLOW] = "\033[33m",
	};
	static int on = -1;

	if (on < 0) {
		const char *term = getenv("TERM");

		on = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
		     !(term && !strcmp(term, "dumb"));
	}
	return on ? sgr[c] : "";
}
