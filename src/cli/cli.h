/*
 * Commands.  To add one:
 *  1. write src/cli/cmd_<name>.c with int cmd_<name>(int argc, char **argv);
 *  2. declare its options in one table and its usage in a struct
 *     dd_cmd_spec, and parse with dd_cli_parse() (src/cli/options.h):
 *     that gives it --help, usage errors that exit 2, and the mirror
 *     opened when the spec sets .store; never call getopt;
 *  3. a short flag means one thing in the whole program: use one from the
 *     list in src/cli/options.c, or add it there and to README; mark
 *     DD_OPT_CONFIG an option whose drydock.conf key (src/cli/config.c)
 *     means the same thing for it;
 *  4. declare cmd_<name> here and add a line to commands[] in src/main.c
 *     (a command with subcommands hands them to dd_cli_dispatch).
 * A command calls library code, prints, and returns an exit code below.
 * Library code never prints; commands print errors with dd_cli_error(),
 * or return dd_cli_fail(rc), which maps DD_E_USAGE to exit 2.
 */
#ifndef DD_CLI_H
#define DD_CLI_H

/* Exit codes, documented in README and `drydock help`. */
enum {
	DD_EXIT_OK = 0,      /* success */
	DD_EXIT_FAIL = 1,    /* the operation failed (a check failed, bad input) */
	DD_EXIT_USAGE = 2,   /* the command line is wrong */
	DD_EXIT_NOT_RUN = 3, /* could not run: no mirror where the command looked (main.c
			      * maps any failure whose last error is DD_E_NO_MIRROR to it);
			      * batch: the batch itself could not run */
	DD_EXIT_LOCKED = 4,  /* batch: another batch holds OUT's lock */
};

struct dd_subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Print "drydock: <detail>" for the last library error. */
void dd_cli_error(void);
/* The mirror to use (dd_store_default_root(option)), or NULL after
 * printing why there is no mirror there (dd_store_check_exists): for
 * commands that would write output before they open the mirror. */
const char *dd_cli_mirror(const char *option);
/* Print "drydock: msg" and return DD_EXIT_USAGE. */
int dd_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Colour for the human lines on standard output: an SGR sequence, or ""
 * when standard output is not a terminal, NO_COLOR is set (any value,
 * no-color.org) or TERM is dumb; so pipes, logs, --json and -q never get
 * one.  printf("%s%s%s", dd_cli_color(DD_RED), text, dd_cli_color(DD_PLAIN)).
 */
enum dd_color { DD_PLAIN, DD_GREEN, DD_RED, DD_YELLOW };
const char *dd_cli_color(enum dd_color c);
/* Run the subcommand argv[1] of group (argv[0]) from table. */
int dd_cli_dispatch(const char *group, const struct dd_subcommand *table, int argc, char **argv,
		    const char *usage);

/*
 * `drydock help COMMAND [SUBCOMMAND]` (argv[0] is "help"): man's
 * drydock-COMMAND(1) when man finds it, else the command's --help; exit 2
 * naming an unknown command.  commands is main's table.
 */
int dd_cli_help_topic(const struct dd_subcommand *commands, int argc, char **argv);

int cmd_pkg(int argc, char **argv);
int dd_cli_pkg_resolve(int argc, char **argv); /* drydock pkg resolve */
int cmd_trust(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_mirror(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_batch_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_rebuild(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_advisories(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
