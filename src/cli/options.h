/*
 * Options are data: each command declares its options once, in a table,
 * and that table drives parsing, `--help` and `drydock help
 * --options-dump` (from which tests, and later man pages, read them).
 *
 * A command writes:
 *
 *	static const struct dd_cmd_spec plan_spec = {
 *		.name = "plan",
 *		.operands = "JOB.yaml...",
 *		.about = "For each job: whether it will build, ...",
 *		.min_operands = 1,
 *		.missing_operands = "no job file given",
 *		.store = DD_CMD_STORE_READ,
 *	};
 *
 *	int cmd_plan(int argc, char **argv)
 *	{
 *		struct dd_cli cli = DD_CLI_INIT;
 *		bool json = false;
 *		const struct dd_option opts[] = {
 *			DD_OPT_MIRROR(&cli.mirror),
 *			DD_OPT_JSON(&json),
 *			DD_OPT_END,
 *		};
 *
 *		if (dd_cli_parse(&plan_spec, opts, argc, argv, &cli))
 *			return cli.exit;
 *		... cli.args[0 .. cli.n_args), cli.store ...
 *		dd_cli_release(&cli);
 *	}
 *
 * The parser takes GNU-style options anywhere among the operands:
 * `-m DIR`, `-mDIR`, bundled short flags (`-vm DIR`), `--mirror DIR`,
 * `--mirror=DIR`, an unambiguous prefix of a long name (`--mirr`), and `--`
 * to end the options.  `-h`/`--help` and `--config FILE` are implicit in
 * every table.
 *
 * A row marked DD_OPT_CONFIG takes its value, when the command line gives
 * none, from the environment variable of its key, else from the site
 * configuration files (src/cli/config.h: the key is the long name, and
 * --config names one more file); the row's kind, bounds and env must be
 * its key's.  Mark a row only where the key means the same thing.
 *
 * A short flag means one thing in the whole program: dd_cli_parse refuses
 * (as a usage error naming the table, which the option test catches) a
 * short flag that the program-wide list in options.c does not give to
 * that long name.
 */
#ifndef DD_CLI_OPTIONS_H
#define DD_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct dd_store;
struct dd_option;

enum dd_opt_kind {
	DD_OPTK_END = 0,
	DD_OPTK_BOOL,     /* bool *: set to true */
	DD_OPTK_STRING,   /* const char **: the argument (the last one given wins) */
	DD_OPTK_INT,      /* int *: a decimal number in [min, max] */
	DD_OPTK_CHOICE,   /* const char **: one of choices[] */
	DD_OPTK_LIST,     /* struct dd_strlist *: every argument, in order */
	DD_OPTK_CALLBACK, /* cb(opt, arg): arg is NULL when argh is NULL */
};

/* Operands to a repeatable option, in command-line order.  The strings
 * belong to argv; only the array is owned (dd_cli_release frees it for
 * lists named in the table). */
struct dd_strlist {
	const char **v;
	size_t n;
};

/*
 * A callback returns 0, or a negative DD_E_* code with dd_error() set: the
 * command then stops after printing the detail, with exit 2 for DD_E_USAGE
 * and 1 for any other code (see dd_cli_fail).
 */
typedef int (*dd_opt_cb)(const struct dd_option *opt, const char *arg);

struct dd_option {
	enum dd_opt_kind kind;
	char short_name; /* 0: long name only */
	const char *long_name;
	void *value;                /* see enum dd_opt_kind */
	const char *argh;           /* the argument's name in help ("DIR"); NULL: no argument */
	const char *help;           /* one sentence or two; wrapped when printed */
	long min, max;              /* DD_OPTK_INT bounds */
	const char *const *choices; /* DD_OPTK_CHOICE: NULL-terminated */
	dd_opt_cb cb;               /* DD_OPTK_CALLBACK */
	const char *env;            /* an environment variable that gives the default, for docs */
	unsigned flags;             /* DD_OPT_REQUIRED, DD_OPT_MANY, DD_OPT_CONFIG */
};

#define DD_OPT_REQUIRED 1u /* the command refuses to run without it (shown without []) */
#define DD_OPT_MANY     2u /* may be given more than once (shown with ...; LIST always is) */
#define DD_OPT_CONFIG   4u /* drydock.conf and the key's env may set it (see above) */

#define DD_OPT_BOOL(s, l, v, h) \
	{ \
		.kind = DD_OPTK_BOOL, .short_name = (s), .long_name = (l), .value = (v), \
		.help = (h) \
	}
#define DD_OPT_STRING(s, l, v, a, h) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .help = (h) \
	}
#define DD_OPT_INT(s, l, v, a, lo, hi, h) \
	{ \
		.kind = DD_OPTK_INT, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .help = (h), .min = (lo), .max = (hi) \
	}
#define DD_OPT_CHOICE(s, l, v, c, h) \
	{ \
		.kind = DD_OPTK_CHOICE, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = NULL, .choices = (c), .help = (h) \
	}
#define DD_OPT_LIST(s, l, v, a, h) \
	{ \
		.kind = DD_OPTK_LIST, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .help = (h) \
	}
#define DD_OPT_CALLBACK(s, l, v, a, f, h) \
	{ \
		.kind = DD_OPTK_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .cb = (f), .help = (h) \
	}
/* A callback the command line may repeat, each argument in turn. */
#define DD_OPT_CALLBACK_MANY(s, l, v, a, f, h) \
	{ \
		.kind = DD_OPTK_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .cb = (f), .help = (h), .flags = DD_OPT_MANY \
	}
/* A row the command refuses to run without. */
#define DD_OPT_STRING_REQUIRED(s, l, v, a, h) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .flags = DD_OPT_REQUIRED, .help = (h) \
	}
#define DD_OPT_END \
	{ \
		.kind = DD_OPTK_END \
	}

/* Rows every command that has the option spells the same way. */
#define DD_OPT_MIRROR(v) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = 'm', .long_name = "mirror", .value = (v), \
		.argh = "DIR", .env = "DRYDOCK_MIRROR", .flags = DD_OPT_CONFIG, \
		.help = "the mirror (default $DRYDOCK_MIRROR, else drydock.conf's mirror, else " \
			"./mirror)" \
	}
#define DD_OPT_JSON(v) DD_OPT_BOOL(0, "json", (v), "print the result as JSON on standard output")
#define DD_OPT_MAX_AGE(v) \
	{ \
		.kind = DD_OPTK_INT, .long_name = "max-age", .value = (v), .argh = "DAYS", \
		.min = 1, .max = 36500, .flags = DD_OPT_CONFIG, \
		.help = "warn when a security database is older than DAYS days (default 7)" \
	}
#define DD_OPT_STRICT(v) \
	{ \
		.kind = DD_OPTK_BOOL, .long_name = "strict", .value = (v), .flags = DD_OPT_CONFIG, \
		.help = "refuse the apko keys otherwise ignored with a warning " \
			"(contents.repositories, keyring, build_repositories, runtime_keyring)" \
	}

/* Rows a configuration file may set (DD_OPT_CONFIG), as their key says. */
#define DD_OPT_CONF_INT(s, l, v, a, lo, hi, h) \
	{ \
		.kind = DD_OPTK_INT, .short_name = (s), .long_name = (l), .value = (v), \
		.argh = (a), .help = (h), .min = (lo), .max = (hi), .flags = DD_OPT_CONFIG \
	}
/* -o OUT, the output folder of runs: $DRYDOCK_OUT, drydock.conf's out. */
#define DD_OPT_OUT_DIR(v, fl, h) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = 'o', .long_name = "out", .value = (v), \
		.argh = "OUT", .env = "DRYDOCK_OUT", .flags = (fl) | DD_OPT_CONFIG, .help = (h) \
	}
/* -s KEY, the provenance's signing key: $DRYDOCK_SIGN_KEY, drydock.conf's sign. */
#define DD_OPT_SIGN_KEY(v, h) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = 's', .long_name = "sign", .value = (v), \
		.argh = "KEY", .env = "DRYDOCK_SIGN_KEY", .flags = DD_OPT_CONFIG, .help = (h) \
	}
#define DD_OPT_GNUPG_HOME(s, v, h) \
	{ \
		.kind = DD_OPTK_STRING, .short_name = (s), .long_name = "gnupg-home", \
		.value = (v), .argh = "DIR", .env = "GNUPGHOME", .flags = DD_OPT_CONFIG, \
		.help = (h) \
	}

enum dd_cmd_store {
	DD_CMD_NO_STORE = 0,
	DD_CMD_STORE_READ,  /* open the mirror (--mirror, $DRYDOCK_MIRROR, ./mirror) to read */
	DD_CMD_STORE_WRITE, /* open it to change it */
};

/* What a command is, for its help and its parser; usually a static const. */
struct dd_cmd_spec {
	const char *name;               /* "plan", "mirror import" */
	const char *operands;           /* the synopsis after the options ("JOB.yaml...");
					   NULL: the command takes none */
	const char *about;              /* paragraphs after the usage line */
	const char *footer;             /* paragraphs after the options */
	int min_operands, max_operands; /* max_operands 0: no limit */
	const char *missing_operands;   /* the usage error when too few ("no job file given") */
	enum dd_cmd_store store;
};

/* The parsed command line, and what dd_cli_parse set up for the command. */
#define DD_CLI_MAX_LISTS 8

struct dd_cli {
	char **args; /* the operands, in order (points into argv) */
	int n_args;
	const char *mirror;     /* for DD_OPT_MIRROR(&cli.mirror); NULL: the default */
	struct dd_store *store; /* opened when the spec asks for it */
	int exit;               /* the exit code when dd_cli_parse returned non-zero */
	struct dd_strlist *lists[DD_CLI_MAX_LISTS]; /* the lists parsing filled, for
						      dd_cli_release (the table may be
						      gone by then; the lists may not) */
	int n_lists;
	bool quiet; /* -q: standard output is /dev/null unless --json */
};
#define DD_CLI_INIT \
	{ \
		NULL, 0, NULL, NULL, 0, { NULL }, 0, false \
	}

/*
 * Parse argv (argv[0] is the command's own name) against opts.  Returns 0
 * when the command should run: cli->args holds the operands and
 * cli->store the open mirror if spec->store asks for one.  Returns -1
 * when it should stop with cli->exit: 0 after printing help, 2 after a
 * usage error (printed), 1 when the mirror could not be opened (printed).
 * argv is reordered (operands first).  Release with dd_cli_release in
 * every case.
 */
int dd_cli_parse(const struct dd_cmd_spec *spec, const struct dd_option *opts, int argc,
		 char **argv, struct dd_cli *cli);

/* Close the store and free option lists; cli is left as DD_CLI_INIT. */
void dd_cli_release(struct dd_cli *cli);

/* Print the full help (usage, about, options, footer) to out. */
void dd_cli_help(const struct dd_cmd_spec *spec, const struct dd_option *opts, void *out);

/*
 * When set (by `drydock help --options-dump`), dd_cli_parse prints the
 * table as tab-separated lines instead of parsing (command, short, long,
 * argument, kind, flags (required|optional, then ",many", ",config"),
 * environment, help) and returns -1 with exit 0, and
 * dd_cli_dispatch walks every subcommand.
 */
extern bool dd_cli_dump_options;

/*
 * The one exit path for a failed library call: prints the error detail
 * and returns DD_EXIT_USAGE for DD_E_USAGE, DD_EXIT_FAIL otherwise.
 */
int dd_cli_fail(int rc);

#endif
