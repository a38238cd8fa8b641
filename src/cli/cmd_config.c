/*
 * drydock config show: every setting drydock.conf may hold, its effective
 * value and where that came from (src/cli/config.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/buf.h"

static const struct dd_cmd_spec show_spec = {
	.name = "config show",
	.about = "Print each setting a site configuration file may hold (its key is the long\n"
		 "name of the options it sets), its value and where that came from: default,\n"
		 "/etc/drydock/drydock.conf:LINE, ~/.config/drydock/drydock.conf:LINE,\n"
		 "--config FILE:LINE, DRYDOCK_CONFIG FILE:LINE, env VARIABLE or command line,\n"
		 "each over the ones before it. Give an option here to see what a command\n"
		 "line would make of it.\n",
	.footer = "The files, their format and the keys: drydock-config(1). A file with an\n"
		  "unknown key, a malformed or repeated line, or a --config FILE that is not\n"
		  "there is refused, naming FILE:LINE, with exit 2.\n",
};

/* The value shown: the setting's, else the built-in default; NULL: unset. */
static const char *shown(const struct dd_conf_key *k, const struct dd_conf_setting *s)
{
	return s->value ? s->value : k->dflt;
}

static json_t *json_value(const struct dd_conf_key *k, const char *v)
{
	if (!v)
		return json_null();
	if (k->type == DD_CONF_INT)
		return json_integer(strtol(v, NULL, 10));
	if (k->type == DD_CONF_BOOL)
		return json_boolean(!strcmp(v, "true"));
	return json_string(v);
}

static const char *file_kind(enum dd_conf_source source)
{
	switch (source) {
	case DD_CONF_SYSTEM:
		return "system";
	case DD_CONF_USER:
		return "user";
	case DD_CONF_OPTION:
		return "--config";
	default:
		return "DRYDOCK_CONFIG";
	}
}

static void print_json(void)
{
	json_t *settings = json_array(), *files = json_array();
	const struct dd_conf_file *f;
	size_t n;

	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++) {
		const struct dd_conf_setting *s = dd_conf_get(k);
		struct dd_buf where = DD_BUF_INIT;
		json_t *o;

		dd_conf_describe(k, s, &where);
		o = json_pack("{s:s, s:o, s:s}", "key", k->name, "value",
			      json_value(k, shown(k, s)), "source", where.ptr);
		if (s->file)
			json_object_update_new(o, json_pack("{s:s, s:i}", "file", s->file, "line",
							    s->line));
		if (k->env)
			json_object_set_new(o, "env", json_string(k->env));
		json_array_append_new(settings, o);
		dd_buf_release(&where);
	}
	f = dd_conf_files(&n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(files, json_pack("{s:s, s:s, s:b}", "path", f[i].path, "kind",
						       file_kind(f[i].source), "read", f[i].read));
	dd_cli_print_json(json_pack("{s:o, s:o}", "settings", settings, "files", files));
}

static void print_text(void)
{
	const struct dd_conf_file *f;
	int width = 0;
	size_t n;

	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++) {
		const char *v = shown(k, dd_conf_get(k));
		int len = (int)strlen(v ? v : "(unset)");

		if (len > width && len <= 40)
			width = len;
	}
	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++) {
		const struct dd_conf_setting *s = dd_conf_get(k);
		struct dd_buf where = DD_BUF_INIT;
		const char *v = shown(k, s);

		dd_conf_describe(k, s, &where);
		printf("%-12s %-*s  %s\n", k->name, width, v ? v : "(unset)", where.ptr);
		dd_buf_release(&where);
	}
	f = dd_conf_files(&n);
	printf("\nfiles, each over the ones before:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %s%s%s: %s\n", f[i].path, f[i].source >= DD_CONF_OPTION ? " from " : "",
		       f[i].source >= DD_CONF_OPTION ? file_kind(f[i].source) : "",
		       f[i].read ? "read" : "none there");
}

/* A row of the table for key k, its value in one of the arrays. */
static struct dd_option key_row(const struct dd_conf_key *k, const char **str, int *num, bool *flag)
{
	struct dd_option o = { .long_name = k->name,
			       .argh = k->argh,
			       .env = k->env,
			       .help = k->about,
			       .min = k->min,
			       .max = k->max,
			       .flags = DD_OPT_CONFIG };

	o.kind = k->type == DD_CONF_INT    ? DD_OPTK_INT
		 : k->type == DD_CONF_BOOL ? DD_OPTK_BOOL
					   : DD_OPTK_STRING;
	o.value = k->type == DD_CONF_INT    ? (void *)num
		  : k->type == DD_CONF_BOOL ? (void *)flag
					    : (void *)str;
	return o;
}

static int config_show(int argc, char **argv)
{
	struct dd_option opts[DD_CONF_MAX_KEYS + 2];
	const char *strs[DD_CONF_MAX_KEYS];
	int nums[DD_CONF_MAX_KEYS];
	bool flags[DD_CONF_MAX_KEYS], json = false;
	struct dd_cli cli = DD_CLI_INIT;
	size_t n = 0;
	int ret;

	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++, n++)
		opts[n] = key_row(k, &strs[n], &nums[n], &flags[n]);
	opts[n++] = (struct dd_option)DD_OPT_JSON(&json);
	opts[n] = (struct dd_option)DD_OPT_END;
	if (!dd_cli_parse(&show_spec, opts, argc, argv, &cli)) {
		if (json)
			print_json();
		else
			print_text();
	}
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

static const struct dd_subcommand config_commands[] = {
	{ "show", config_show, "each setting, its value and where it came from" },
	{ NULL, NULL, NULL },
};

int cmd_config(int argc, char **argv)
{
	return dd_cli_dispatch(
		"config", config_commands, argc, argv,
		"usage: drydock config COMMAND [ARGS]\n\n"
		"The site configuration: /etc/drydock/drydock.conf,\n"
		"~/.config/drydock/drydock.conf and --config FILE (drydock-config(1)).\n");
}
