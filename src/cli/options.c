/*
 * The option tables of src/cli/options.h: parsing, help, and the dump the
 * option test reads.
 */
#include "cli/options.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "core/error.h"
#include "store/store.h"

bool dd_cli_dump_options;

#define DD_CLI_MAX_OPTIONS 64

/* --config FILE, implicit in every table like --help (src/cli/config.h). */
static const char *config_arg;
static const struct dd_option config_row = {
	.kind = DD_OPTK_STRING,
	.long_name = "config",
	.value = &config_arg,
	.argh = "FILE",
	.env = "DRYDOCK_CONFIG",
	.help = "read settings from FILE too, over the system's and the user's "
		"drydock.conf (see 'drydock config show')",
};

/*
 * -q, --quiet, implicit in every table too: standard output carries only
 * what --json asks for (nothing else: no lines, no progress); errors and
 * warnings still go to standard error, and the exit status is the same.
 * For cron, scripts and the systemd unit, whose mail or journal should
 * hold only what went wrong.
 */
static bool quiet_arg;
static const struct dd_option quiet_row =
	DD_OPT_BOOL('q', "quiet", &quiet_arg,
		    "print nothing on standard output but what --json asks for (errors "
		    "still go to standard error)");

/*
 * -v, --verbose, implicit in every table too: what is being done, on
 * standard error (dd_note): the mirror and how it was chosen, a build's
 * log as it is written, a batch's jobs as they start and end.  A command
 * that has more to print with it reads dd_verbose (plan: each advisory).
 */
static bool verbose_arg;
static const struct dd_option verbose_row =
	DD_OPT_BOOL('v', "verbose", &verbose_arg,
		    "say on standard error what is being done (the mirror used, a build's "
		    "log, a batch's jobs; plan: each advisory too)");

/* Whether the table's boolean row named name was given. */
static bool table_says(const struct dd_option *opts, const char *name)
{
	for (const struct dd_option *o = opts; o->kind; o++)
		if (o->kind == DD_OPTK_BOOL && !strcmp(o->long_name, name) && o->value &&
		    *(bool *)o->value)
			return true;
	return false;
}

/*
 * The short flags of the whole program and the long names they stand for.
 * A letter with two long names here means the same thing under both (where
 * the result goes; how many at once).  Add a row before using a new letter.
 */
static const struct {
	char short_name;
	const char *long_names[3];
} short_flags[] = {
	{ 'c', { "channel" } },
	{ 'D', { "description" } },
	{ 'e', { "expires" } },
	{ 'E', { "entitlement-key" } },
	{ 'f', { "force" } },
	{ 'g', { "gnupg-home" } },
	{ 'i', { "info" } },
	{ 'j', { "threads", "jobs" } }, /* parallelism, never --json */
	{ 'k', { "key" } },             /* a public key to check with */
	{ 'm', { "mirror" } },
	{ 'o', { "out", "output" } }, /* where the result goes */
	{ 'q', { "quiet" } },         /* implicit in every table */
	{ 'p', { "provenance" } },    /* a provenance envelope to read */
	{ 's', { "sign" } },          /* a private key to sign with */
	{ 'S', { "script" } },
	{ 't', { "text" } },
	{ 'v', { "verbose" } },
	{ 'w', { "wait" } },
	{ 'x', { "allow-expired" } },
};

static bool short_flag_registered(const struct dd_option *o)
{
	for (size_t i = 0; i < sizeof(short_flags) / sizeof(short_flags[0]); i++) {
		if (short_flags[i].short_name != o->short_name)
			continue;
		for (int k = 0; k < 3 && short_flags[i].long_names[k]; k++)
			if (!strcmp(short_flags[i].long_names[k], o->long_name))
				return true;
		return false;
	}
	return false;
}

static int usage_error(const struct dd_cmd_spec *spec, struct dd_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int usage_error(const struct dd_cmd_spec *spec, struct dd_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "drydock: %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'drydock %s --help'\n", spec->name);
	cli->exit = DD_EXIT_USAGE;
	return -1;
}

static bool takes_arg(const struct dd_option *o)
{
	return o->kind == DD_OPTK_STRING || o->kind == DD_OPTK_INT || o->kind == DD_OPTK_CHOICE ||
	       o->kind == DD_OPTK_LIST || (o->kind == DD_OPTK_CALLBACK && o->argh);
}

/* The argument's name as help shows it: argh, or the choices joined by '|'. */
static void arg_name(const struct dd_option *o, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (o->kind != DD_OPTK_CHOICE || o->argh) {
		snprintf(buf, size, "%s", o->argh ? o->argh : "");
		return;
	}
	for (const char *const *c = o->choices; *c && len < size; c++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", c == o->choices ? "" : "|",
					*c);
}

static int apply_int(const struct dd_cmd_spec *spec, struct dd_cli *cli, const struct dd_option *o,
		     const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < o->min || v > o->max)
		return usage_error(spec, cli, "--%s '%s': expected a number from %ld to %ld",
				   o->long_name, arg, o->min, o->max);
	*(int *)o->value = (int)v;
	return 0;
}

static int apply_choice(const struct dd_cmd_spec *spec, struct dd_cli *cli,
			const struct dd_option *o, const char *arg)
{
	char names[256];

	for (const char *const *c = o->choices; *c; c++) {
		if (!strcmp(*c, arg)) {
			*(const char **)o->value = *c;
			return 0;
		}
	}
	arg_name(o, names, sizeof(names));
	return usage_error(spec, cli, "--%s '%s': expected one of %s", o->long_name, arg, names);
}

static int apply_callback(struct dd_cli *cli, const struct dd_option *o, const char *arg)
{
	int rc = o->cb(o, arg);

	if (rc) {
		cli->exit = dd_cli_fail(rc);
		return -1;
	}
	return 0;
}

static int apply(const struct dd_cmd_spec *spec, struct dd_cli *cli, const struct dd_option *o,
		 const char *arg)
{
	switch (o->kind) {
	case DD_OPTK_BOOL:
		*(bool *)o->value = true;
		return 0;
	case DD_OPTK_STRING:
		*(const char **)o->value = arg;
		return 0;
	case DD_OPTK_INT:
		return apply_int(spec, cli, o, arg);
	case DD_OPTK_CHOICE:
		return apply_choice(spec, cli, o, arg);
	case DD_OPTK_LIST: {
		struct dd_strlist *l = o->value;
		const char **v;

		if (!l->v && cli->n_lists == DD_CLI_MAX_LISTS) {
			fprintf(stderr,
				"drydock: internal error: %s: more than %d repeatable "
				"options\n",
				spec->name, DD_CLI_MAX_LISTS);
			cli->exit = DD_EXIT_USAGE;
			return -1;
		}
		if (!(v = realloc(l->v, (l->n + 1) * sizeof(*v)))) {
			fprintf(stderr, "drydock: out of memory\n");
			cli->exit = DD_EXIT_FAIL;
			return -1;
		}
		if (!l->v)
			cli->lists[cli->n_lists++] = l;
		v[l->n++] = arg;
		l->v = v;
		return 0;
	}
	case DD_OPTK_CALLBACK:
		return apply_callback(cli, o, arg);
	case DD_OPTK_END:
		break;
	}
	return 0;
}

/* apply() for an option the command line gives, recorded for config show. */
static int given(const struct dd_cmd_spec *spec, struct dd_cli *cli, const struct dd_option *o,
		 const char *arg)
{
	if (apply(spec, cli, o, arg))
		return -1;
	if (o->flags & DD_OPT_CONFIG)
		dd_conf_set_command_line(dd_conf_key(o->long_name), arg ? arg : "true");
	return 0;
}

/* Whether o is --name; else count it in *n_prefix when name is a prefix. */
static bool match_long(const struct dd_option *o, const char *name, size_t len,
		       const struct dd_option **found, int *n_prefix)
{
	if (strncmp(o->long_name, name, len))
		return false;
	if (!o->long_name[len])
		return true;
	*found = o;
	++*n_prefix;
	return false;
}

/* Find --name or an unambiguous prefix of one; NULL after a usage error. */
static const struct dd_option *find_long(const struct dd_cmd_spec *spec, struct dd_cli *cli,
					 const struct dd_option *opts, const char *name, size_t len)
{
	const struct dd_option *found = NULL;
	int n_prefix = 0;

	for (const struct dd_option *o = opts; o->kind; o++)
		if (match_long(o, name, len, &found, &n_prefix))
			return o;
	if (match_long(&config_row, name, len, &found, &n_prefix))
		return &config_row;
	if (match_long(&quiet_row, name, len, &found, &n_prefix))
		return &quiet_row;
	if (match_long(&verbose_row, name, len, &found, &n_prefix))
		return &verbose_row;
	if (n_prefix == 1)
		return found;
	if (n_prefix > 1)
		usage_error(spec, cli, "option '--%.*s' is ambiguous", (int)len, name);
	else
		usage_error(spec, cli, "unrecognized option '--%.*s'", (int)len, name);
	return NULL;
}

static bool is_help(const char *name, size_t len)
{
	return len >= 3 && len <= 4 && !strncmp("help", name, len);
}

/* One "--name[=value]" at argv[*i]; may consume argv[*i + 1]. */
static int parse_long(const struct dd_cmd_spec *spec, const struct dd_option *opts, int argc,
		      char **argv, int *i, struct dd_cli *cli, const struct dd_option **seen)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct dd_option *o;

	if (is_help(name, len)) {
		dd_cli_help(spec, opts, stdout);
		cli->exit = DD_EXIT_OK;
		return -1;
	}
	o = find_long(spec, cli, opts, name, len);
	if (!o)
		return -1;
	*seen = o;
	if (!takes_arg(o)) {
		if (eq)
			return usage_error(spec, cli, "option '--%s' takes no argument",
					   o->long_name);
		return given(spec, cli, o, NULL);
	}
	if (eq)
		return given(spec, cli, o, eq + 1);
	if (*i + 1 >= argc)
		return usage_error(spec, cli, "option '--%s' needs an argument", o->long_name);
	return given(spec, cli, o, argv[++*i]);
}

/* One "-abc" cluster at argv[*i]; may consume argv[*i + 1]. */
static int parse_short(const struct dd_cmd_spec *spec, const struct dd_option *opts, int argc,
		       char **argv, int *i, struct dd_cli *cli, bool *seen)
{
	for (const char *c = argv[*i] + 1; *c; c++) {
		const struct dd_option *o = NULL;

		if (*c == 'h') {
			dd_cli_help(spec, opts, stdout);
			cli->exit = DD_EXIT_OK;
			return -1;
		}
		for (const struct dd_option *p = opts; p->kind && !o; p++)
			if (p->short_name == *c)
				o = p;
		if (!o && *c == quiet_row.short_name)
			o = &quiet_row;
		if (!o && *c == verbose_row.short_name)
			o = &verbose_row;
		if (!o)
			return usage_error(spec, cli, "unknown option '-%c'", *c);
		if (o != &quiet_row && o != &verbose_row)
			seen[o - opts] = true;
		if (!takes_arg(o)) {
			if (given(spec, cli, o, NULL))
				return -1;
			continue;
		}
		if (c[1])
			return given(spec, cli, o, c + 1);
		if (*i + 1 >= argc)
			return usage_error(spec, cli, "option '-%c' needs an argument", *c);
		return given(spec, cli, o, argv[++*i]);
	}
	return 0;
}

/* Why the DD_OPT_CONFIG row o is not what its key says, or NULL. */
static const char *config_mismatch(const struct dd_option *o)
{
	static const enum dd_opt_kind kinds[] = {
		[DD_CONF_PATH] = DD_OPTK_STRING,
		[DD_CONF_KEY] = DD_OPTK_STRING,
		[DD_CONF_INT] = DD_OPTK_INT,
		[DD_CONF_BOOL] = DD_OPTK_BOOL,
	};
	const struct dd_conf_key *k = dd_conf_key(o->long_name);

	if (!k)
		return "no key of that name in src/cli/config.c";
	if (o->kind != kinds[k->type])
		return "its kind is not its key's";
	if (k->type == DD_CONF_INT && (o->min != k->min || o->max != k->max))
		return "its bounds are not its key's";
	if ((o->env || k->env) && (!o->env || !k->env || strcmp(o->env, k->env)))
		return "its environment variable is not its key's";
	return NULL;
}

static int check_table(const struct dd_cmd_spec *spec, const struct dd_option *opts,
		       struct dd_cli *cli)
{
	for (const struct dd_option *o = opts; o->kind; o++) {
		if (o - opts >= DD_CLI_MAX_OPTIONS) {
			fprintf(stderr, "drydock: internal error: %s: more than %d options\n",
				spec->name, DD_CLI_MAX_OPTIONS);
			cli->exit = DD_EXIT_USAGE;
			return -1;
		}
		if (o->short_name && !short_flag_registered(o)) {
			fprintf(stderr,
				"drydock: internal error: %s: -%c is not registered as "
				"--%s in src/cli/options.c\n",
				spec->name, o->short_name, o->long_name);
			cli->exit = DD_EXIT_USAGE;
			return -1;
		}
		if ((o->flags & DD_OPT_CONFIG) && config_mismatch(o)) {
			fprintf(stderr,
				"drydock: internal error: %s: --%s is marked DD_OPT_CONFIG "
				"but %s\n",
				spec->name, o->long_name, config_mismatch(o));
			cli->exit = DD_EXIT_USAGE;
			return -1;
		}
	}
	return 0;
}

static void dump_row(const struct dd_cmd_spec *spec, const struct dd_option *o)
{
	static const char *kinds[] = {
		"end", "bool", "string", "int", "choice", "list", "callback"
	};
	char arg[256];

	arg_name(o, arg, sizeof(arg));
	printf("%s\t%s%c\t--%s\t%s\t%s\t%s%s%s\t%s\t%s\n", spec->name, o->short_name ? "-" : "",
	       o->short_name ? o->short_name : '-', o->long_name, arg, kinds[o->kind],
	       o->flags & DD_OPT_REQUIRED ? "required" : "optional",
	       o->kind == DD_OPTK_LIST || (o->flags & DD_OPT_MANY) ? ",many" : "",
	       o->flags & DD_OPT_CONFIG ? ",config" : "", o->env ? o->env : "", o->help);
}

static void dump(const struct dd_cmd_spec *spec, const struct dd_option *opts)
{
	for (const struct dd_option *o = opts; o->kind; o++)
		dump_row(spec, o);
	dump_row(spec, &config_row);
	dump_row(spec, &quiet_row);
	dump_row(spec, &verbose_row);
	printf("%s\t-h\t--help\t\tbool\toptional\t\tshow this help and exit\n", spec->name);
}

/*
 * Read the configuration files (config.h) and give every DD_OPT_CONFIG
 * row the command line left its setting there.  The mirror is the
 * store's to resolve (dd_store_default_root), which takes $DRYDOCK_MIRROR
 * first and then the configured one.
 */
static int configure(const struct dd_cmd_spec *spec, const struct dd_option *opts,
		     struct dd_cli *cli, bool *seen)
{
	if (dd_conf_load(config_arg)) {
		dd_cli_error();
		cli->exit = DD_EXIT_USAGE;
		return -1;
	}
	for (const struct dd_option *o = opts; o->kind; o++) {
		const struct dd_conf_setting *s;

		if (!(o->flags & DD_OPT_CONFIG) || seen[o - opts] ||
		    !strcmp(o->long_name, "mirror"))
			continue;
		s = dd_conf_get(dd_conf_key(o->long_name));
		if (!s->value)
			continue;
		if (o->kind == DD_OPTK_BOOL)
			*(bool *)o->value = !strcmp(s->value, "true");
		else if (apply(spec, cli, o, s->value))
			return -1;
		seen[o - opts] = true;
	}
	return 0;
}

static int finish(const struct dd_cmd_spec *spec, const struct dd_option *opts, struct dd_cli *cli,
		  const bool *seen)
{
	for (const struct dd_option *o = opts; o->kind; o++) {
		char arg[256];

		if (!(o->flags & DD_OPT_REQUIRED) || seen[o - opts])
			continue;
		arg_name(o, arg, sizeof(arg));
		return usage_error(spec, cli, "missing --%s%s%s", o->long_name, *arg ? " " : "",
				   arg);
	}
	if (cli->n_args < spec->min_operands) {
		if (spec->missing_operands)
			return usage_error(spec, cli, "%s", spec->missing_operands);
		return usage_error(spec, cli, "expected %s", spec->operands);
	}
	if (!spec->operands && cli->n_args)
		return usage_error(spec, cli, "takes no operands ('%s')", cli->args[0]);
	if (spec->max_operands && cli->n_args > spec->max_operands)
		return usage_error(spec, cli, "too many operands ('%s'): expected %s",
				   cli->args[spec->max_operands], spec->operands);
	if (spec->store == DD_CMD_NO_STORE)
		return 0;
	if (dd_store_open(dd_store_default_root(cli->mirror),
			  spec->store == DD_CMD_STORE_WRITE ? DD_STORE_WRITE : 0, &cli->store)) {
		dd_cli_error();
		cli->exit = DD_EXIT_FAIL;
		return -1;
	}
	return 0;
}

/* -q: standard output goes to /dev/null, unless the table's --json was given. */
static void be_quiet(const struct dd_option *opts, struct dd_cli *cli)
{
	int fd;

	cli->quiet = true;
	if (table_says(opts, "json"))
		return;
	fflush(stdout);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

int dd_cli_parse(const struct dd_cmd_spec *spec, const struct dd_option *opts, int argc,
		 char **argv, struct dd_cli *cli)
{
	bool seen[DD_CLI_MAX_OPTIONS] = { false }, options_done = false;
	int n = 0;

	cli->args = argv + 1;
	if (check_table(spec, opts, cli))
		return -1;
	if (dd_cli_dump_options) {
		dump(spec, opts);
		cli->exit = DD_EXIT_OK;
		return -1;
	}
	config_arg = NULL;
	quiet_arg = verbose_arg = false;
	dd_conf_forget_command_line();
	for (int i = 1; i < argc; i++) {
		const struct dd_option *o = NULL;
		const char *a = argv[i];

		if (options_done || a[0] != '-' || !a[1]) {
			argv[1 + n++] = argv[i]; /* never ahead of i: compacting in place */
			continue;
		}
		if (!strcmp(a, "--")) {
			options_done = true;
			continue;
		}
		if (a[1] == '-' ? parse_long(spec, opts, argc, argv, &i, cli, &o)
				: parse_short(spec, opts, argc, argv, &i, cli, seen))
			return -1;
		if (o && o != &config_row && o != &quiet_row && o != &verbose_row)
			seen[o - opts] = true;
	}
	cli->n_args = n;
	if (configure(spec, opts, cli, seen))
		return -1;
	dd_verbose = verbose_arg;
	if (finish(spec, opts, cli, seen))
		return -1;
	if (quiet_arg)
		be_quiet(opts, cli);
	return 0;
}

void dd_cli_release(struct dd_cli *cli)
{
	for (int i = 0; i < cli->n_lists; i++) {
		free(cli->lists[i]->v);
		cli->lists[i]->v = NULL;
		cli->lists[i]->n = 0;
	}
	dd_store_close(cli->store);
	*cli = (struct dd_cli)DD_CLI_INIT;
}

/* ---- help ---------------------------------------------------------------- */

#define HELP_WIDTH  79
#define HELP_COLUMN 26

/* Print text from column col, wrapped at HELP_WIDTH, continuing at indent. */
static void wrap(FILE *out, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " \n");

		if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += (int)word;
		p += word;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	fputc('\n', out);
}

static void synopsis(FILE *out, const struct dd_cmd_spec *spec, const struct dd_option *opts)
{
	char word[320];
	int indent = (int)strlen("usage: drydock ") + (int)strlen(spec->name) + 1;
	int col = fprintf(out, "usage: drydock %s", spec->name);

	for (const struct dd_option *o = opts; o->kind; o++) {
		char arg[256];
		bool req = o->flags & DD_OPT_REQUIRED;

		arg_name(o, arg, sizeof(arg));
		snprintf(word, sizeof(word), "%s--%s%s%s%s%s", req ? "" : "[", o->long_name,
			 *arg ? " " : "", arg, req ? "" : "]",
			 o->kind == DD_OPTK_LIST || (o->flags & DD_OPT_MANY) ? "..." : "");
		if (col + 1 + (int)strlen(word) > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent - 1, "");
			col = indent - 1;
		}
		col += fprintf(out, " %s", word);
	}
	if (spec->operands && *spec->operands) {
		if (col + 1 + (int)strlen(spec->operands) > HELP_WIDTH)
			fprintf(out, "\n%*s", indent - 1, "");
		fprintf(out, " %s", spec->operands);
	}
	fputc('\n', out);
}

static void option_line(FILE *out, const struct dd_option *o)
{
	char arg[256], head[320];
	int col;

	arg_name(o, arg, sizeof(arg));
	if (o->short_name)
		snprintf(head, sizeof(head), "  -%c, --%s%s%s", o->short_name, o->long_name,
			 *arg ? " " : "", arg);
	else
		snprintf(head, sizeof(head), "      --%s%s%s", o->long_name, *arg ? " " : "", arg);
	col = fprintf(out, "%s", head);
	if (col + 2 > HELP_COLUMN) {
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", HELP_COLUMN - col, "");
	wrap(out, o->help ? o->help : "", HELP_COLUMN, HELP_COLUMN);
}

void dd_cli_help(const struct dd_cmd_spec *spec, const struct dd_option *opts, void *stream)
{
	static const struct dd_option help_row =
		DD_OPT_BOOL('h', "help", NULL, "show this help and exit");
	FILE *out = stream;

	synopsis(out, spec, opts);
	if (spec->about)
		fprintf(out, "\n%s", spec->about);
	fputs("\nOptions:\n", out);
	for (const struct dd_option *o = opts; o->kind; o++)
		option_line(out, o);
	option_line(out, &config_row);
	option_line(out, &quiet_row);
	option_line(out, &verbose_row);
	option_line(out, &help_row);
	if (spec->footer)
		fprintf(out, "\n%s", spec->footer);
}

int dd_cli_fail(int rc)
{
	dd_cli_error();
	return rc == DD_E_USAGE ? DD_EXIT_USAGE : DD_EXIT_FAIL;
}
