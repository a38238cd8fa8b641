/*
 * `drydock help COMMAND [SUBCOMMAND]`: the command's manual page,
 * drydock-COMMAND(1), shown by man(1) when man is there and finds the
 * page; else the command's own --help text.  Nothing here reads the
 * network: man reads the installed pages only.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

extern char **environ;

/* Run man with args; true when it exits 0.  quiet: its output goes nowhere. */
static bool run_man(char *const args[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	fflush(stdout);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawnp(&pid, "man", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return false;
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * Whether the option dump of c names the table "name" (a command, or a
 * command and one of its subcommands): the dump is the one list of every
 * (sub)command there is.
 */
static bool has_table(const struct dd_subcommand *c, const char *name)
{
	char *argv[] = { (char *)c->name, "--help", NULL }, line[512];
	size_t len = strlen(name);
	bool found = false;
	FILE *tmp = tmpfile();
	int saved;

	if (!tmp)
		return true; /* cannot look: let the command's own parser judge */
	fflush(stdout);
	saved = dup(1);
	dup2(fileno(tmp), 1);
	dd_cli_dump_options = true;
	c->fn(2, argv);
	dd_cli_dump_options = false;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	while (!found && fgets(line, sizeof(line), tmp))
		found = !strncmp(line, name, len) && line[len] == '\t';
	fclose(tmp);
	return found;
}

int dd_cli_help_topic(const struct dd_subcommand *commands, int argc, char **argv)
{
	const struct dd_subcommand *c = commands;
	char page[128], name[128];
	char *man_where[] = { "man", "-w", "1", page, NULL };
	char *man_show[] = { "man", "1", page, NULL };
	char *help[] = { argv[1], "--help", NULL, NULL };

	if (argc > 3)
		return dd_cli_usage_error("help: too many operands ('%s'); see 'drydock help'",
					  argv[3]);
	while (c->name && strcmp(c->name, argv[1]))
		c++;
	if (!c->name)
		return dd_cli_usage_error("help: '%s' is not a command; see 'drydock help'",
					  argv[1]);
	if (argc > 2) {
		snprintf(name, sizeof(name), "%s %s", argv[1], argv[2]);
		if (!has_table(c, name))
			return dd_cli_usage_error("help: '%s' is not a command; see 'drydock "
						  "%s --help'",
						  name, argv[1]);
		help[1] = argv[2];
		help[2] = "--help";
	}
	snprintf(page, sizeof(page), "drydock-%s", c->name);
	if (run_man(man_where, true) && run_man(man_show, false))
		return DD_EXIT_OK;
	return c->fn(argc > 2 ? 3 : 2, help); /* no page: the command's --help */
}
