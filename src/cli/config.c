/*
 * The site configuration files of src/cli/config.h: the keys, reading the
 * files strictly, and where each setting came from.
 */
#include "cli/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "store/store.h"

#ifndef DD_SYSCONFDIR
#define DD_SYSCONFDIR "/etc"
#endif

const struct dd_conf_key dd_conf_keys[] = {
	{ "mirror", DD_CONF_PATH, "DIR", "DRYDOCK_MIRROR", 0, 0, "./mirror",
	  "the mirror, for every command that uses one without --mirror" },
	{ "out", DD_CONF_PATH, "OUT", "DRYDOCK_OUT", 0, 0, NULL,
	  "the output folder of build, batch and history" },
	{ "sign", DD_CONF_KEY, "KEY", "DRYDOCK_SIGN_KEY", 0, 0, NULL,
	  "the key build and batch sign provenance with: a PEM private key file or an "
	  "OpenPGP key id (unset: unsigned)" },
	{ "gnupg-home", DD_CONF_PATH, "DIR", "GNUPGHOME", 0, 0, NULL,
	  "the GnuPG home of every command that signs with OpenPGP (unset: ~/.gnupg)" },
	{ "max-age", DD_CONF_INT, "DAYS", NULL, 1, 36500, "7",
	  "plan, build, batch, advisories: warn when a security database is older" },
	{ "strict", DD_CONF_BOOL, NULL, NULL, 0, 0, "false",
	  "plan, build, batch: refuse the apko keys otherwise ignored with a warning" },
	{ "jobs", DD_CONF_INT, "N", NULL, 1, 256, "1", "batch: builds at once" },
	{ "threads", DD_CONF_INT, "N", NULL, 1, 256, NULL,
	  "build, batch, rebuild: compression threads (unset: from the cores)" },
	{ "wait", DD_CONF_INT, "SECONDS", NULL, 0, 7 * 86400, "0",
	  "batch: how long to wait for another batch on OUT" },
	{ "keep", DD_CONF_INT, "N", NULL, 1, 1000000, NULL,
	  "batch: keep N good runs per job and prune the rest (unset: keep all)" },
	{ "keep-layers", DD_CONF_INT, "DAYS", NULL, 0, 36500, "30",
	  "mirror gc: prune cached layers no build used for DAYS days" },
	{ NULL, 0, NULL, NULL, 0, 0, NULL, NULL },
};

/* What dd_conf_load read: one setting per key, and the strings it owns. */
static struct {
	struct dd_conf_setting settings[DD_CONF_MAX_KEYS];
	struct dd_conf_setting given[DD_CONF_MAX_KEYS]; /* the command line's */
	struct dd_conf_file files[3];
	size_t n_files;
	char **owned;
	size_t n_owned;
	char *mirror_where; /* "FILE:LINE" for the store's messages */
} conf;

static size_t key_index(const struct dd_conf_key *k)
{
	return (size_t)(k - dd_conf_keys);
}

const struct dd_conf_key *dd_conf_key(const char *name)
{
	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/* Keep s until the next dd_conf_load; returns it. */
static char *own(char *s)
{
	conf.owned = dd_xrealloc(conf.owned, (conf.n_owned + 1) * sizeof(*conf.owned));
	conf.owned[conf.n_owned++] = s;
	return s;
}

static void forget_files(void)
{
	for (size_t i = 0; i < conf.n_owned; i++)
		free(conf.owned[i]);
	free(conf.owned);
	free(conf.mirror_where);
	conf.owned = NULL;
	conf.n_owned = 0;
	conf.mirror_where = NULL;
	conf.n_files = 0;
	memset(conf.settings, 0, sizeof(conf.settings));
	dd_store_set_configured_root(NULL, NULL);
}

static void key_list(struct dd_buf *out)
{
	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++)
		dd_buf_addf(out, "%s%s", k == dd_conf_keys ? "" : ", ", k->name);
}

/* A relative path in file is relative to file's directory. */
static char *resolve_path(const char *file, const char *value)
{
	struct dd_buf abs = DD_BUF_INIT;
	char *slash;

	if (value[0] == '/')
		return dd_xstrdup(value);
	dd_path_absolute(file, &abs);
	slash = strrchr(abs.ptr, '/');
	abs.len = (size_t)(slash - abs.ptr);
	abs.ptr[abs.len] = '\0';
	dd_buf_addf(&abs, "/%s", value);
	return dd_buf_detach(&abs, NULL);
}

static bool is_key_file(const char *value)
{
	size_t n = strlen(value);

	return strchr(value, '/') || (n > 4 && !strcmp(value + n - 4, ".pem"));
}

/* Check value for k and return the string the setting holds (owned). */
static int convert(const char *file, int line, const struct dd_conf_key *k, const char *value,
		   char **out)
{
	char *end;
	long v;

	*out = NULL;
	if (!*value)
		return 0; /* unset: back to the built-in default */
	switch (k->type) {
	case DD_CONF_PATH:
		*out = resolve_path(file, value);
		return 0;
	case DD_CONF_KEY:
		*out = is_key_file(value) ? resolve_path(file, value) : dd_xstrdup(value);
		return 0;
	case DD_CONF_INT:
		errno = 0;
		v = strtol(value, &end, 10);
		if (*end || errno || v < k->min || v > k->max)
			return dd_error(DD_E_USAGE,
					"%s:%d: %s = %s: expected a number from %ld to "
					"%ld",
					file, line, k->name, value, k->min, k->max);
		break;
	case DD_CONF_BOOL:
		if (strcmp(value, "true") && strcmp(value, "false"))
			return dd_error(DD_E_USAGE, "%s:%d: %s = %s: expected true or false", file,
					line, k->name, value);
		break;
	}
	*out = dd_xstrdup(value);
	return 0;
}

/* Cut surrounding blanks off s in place. */
static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int malformed(const char *file, int line, const char *text)
{
	if (text[0] == '[')
		return dd_error(DD_E_USAGE,
				"%s:%d: '%s': drydock.conf has no sections; each key "
				"applies to every command that has its option (see "
				"drydock-config(1))",
				file, line, text);
	return dd_error(DD_E_USAGE,
			"%s:%d: '%s' is not 'key = value', a '#' comment or a "
			"blank line",
			file, line, text);
}

/* Whether text up to eq is one word (the key), then maybe blanks. */
static bool one_word(const char *text, const char *eq)
{
	size_t word = strcspn(text, " \t=");

	return word > 0 && text + word + strspn(text + word, " \t") == eq;
}

static int unknown_key(const char *file, int line, const char *name)
{
	struct dd_buf keys = DD_BUF_INIT;
	int rc;

	key_list(&keys);
	rc = dd_error(DD_E_USAGE,
		      "%s:%d: unknown key '%s'; the keys are %s (see "
		      "drydock-config(1))",
		      file, line, name, keys.ptr);
	dd_buf_release(&keys);
	return rc;
}

/* One line of file: a setting of the layer whose first lines seen[] holds. */
static int parse_line(const char *file, int line, char *text, enum dd_conf_source source, int *seen)
{
	char *eq, *name, *value, *conv;
	const struct dd_conf_key *k;
	size_t i;
	int rc;

	text = trim(text);
	if (!*text || *text == '#')
		return 0;
	if (!(eq = strchr(text, '=')) || !one_word(text, eq))
		return malformed(file, line, text);
	*eq = '\0';
	name = trim(text);
	value = trim(eq + 1);
	if (!(k = dd_conf_key(name)))
		return unknown_key(file, line, name);
	i = key_index(k);
	if (seen[i])
		return dd_error(DD_E_USAGE,
				"%s:%d: '%s' is set again (first on line %d); keep "
				"one of the two",
				file, line, name, seen[i]);
	seen[i] = line;
	if ((rc = convert(file, line, k, value, &conv)))
		return rc;
	conf.settings[i] = (struct dd_conf_setting){ conv ? own(conv) : NULL, source,
						     conf.files[conf.n_files - 1].path, line };
	return 0;
}

/* Read file if it is there (a missing one is an error when required). */
static int read_file(const char *file, enum dd_conf_source source, bool required)
{
	int seen[DD_CONF_MAX_KEYS] = { 0 }, line = 0, rc = 0;
	char *text = NULL;
	size_t cap = 0;
	struct stat st;
	FILE *f;

	conf.files[conf.n_files++] = (struct dd_conf_file){ own(dd_xstrdup(file)), source, false };
	file = conf.files[conf.n_files - 1].path;
	if (!(f = fopen(file, "r"))) {
		/* an optional file that is not there, or that this user cannot
		 * even see (HOME another user's, as under sudo without -H), is
		 * no file; one that is there and cannot be read is refused */
		if (!required && (errno == ENOENT || errno == ENOTDIR ||
				  (errno == EACCES && stat(file, &st) < 0)))
			return 0;
		return dd_error(DD_E_USAGE, "cannot read %s%s: %s; %s", file,
				source == DD_CONF_OPTION     ? " (given by --config)"
				: source == DD_CONF_ENV_FILE ? " (named by DRYDOCK_CONFIG)"
							     : "",
				strerror(errno),
				errno == ENOENT ? "give a file that exists"
						: "make it readable or move it aside");
	}
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		fclose(f);
		return dd_error(DD_E_USAGE,
				"cannot read %s: it is a directory; name the file "
				"(.../drydock.conf)",
				file);
	}
	conf.files[conf.n_files - 1].read = true;
	while (!rc && getline(&text, &cap, f) >= 0)
		rc = parse_line(file, ++line, text, source, seen);
	if (!rc && ferror(f))
		rc = dd_error(DD_E_USAGE, "cannot read %s: %s", file, strerror(errno));
	free(text);
	fclose(f);
	return rc;
}

/* The user's file: $XDG_CONFIG_HOME/drydock/drydock.conf, else ~/.config/...; NULL: none. */
static char *user_file(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct dd_buf b = DD_BUF_INIT;

	if (xdg && xdg[0] == '/')
		dd_buf_addf(&b, "%s/drydock/drydock.conf", xdg);
	else if (home && home[0])
		dd_buf_addf(&b, "%s/.config/drydock/drydock.conf", home);
	else
		return NULL;
	return dd_buf_detach(&b, NULL);
}

static int read_files(const char *config_file)
{
	const char *sys = getenv("DRYDOCK_SYSCONFDIR"), *env = getenv("DRYDOCK_CONFIG");
	struct dd_buf b = DD_BUF_INIT;
	char *user = user_file();
	int rc;

	dd_buf_addf(&b, "%s/drydock/drydock.conf", sys && sys[0] ? sys : DD_SYSCONFDIR);
	rc = read_file(b.ptr, DD_CONF_SYSTEM, false);
	dd_buf_release(&b);
	if (!rc && user)
		rc = read_file(user, DD_CONF_USER, false);
	free(user);
	if (!rc && config_file)
		rc = read_file(config_file, DD_CONF_OPTION, true);
	else if (!rc && env && env[0])
		rc = read_file(env, DD_CONF_ENV_FILE, true);
	return rc;
}

int dd_conf_load(const char *config_file)
{
	struct dd_conf_setting *m = &conf.settings[key_index(dd_conf_key("mirror"))];
	int rc;

	forget_files();
	if ((rc = read_files(config_file)))
		return rc;
	if (m->value) { /* the store takes $DRYDOCK_MIRROR over it itself */
		struct dd_buf b = DD_BUF_INIT;

		dd_buf_addf(&b, "%s:%d", m->file, m->line);
		conf.mirror_where = dd_buf_detach(&b, NULL);
		dd_store_set_configured_root(m->value, conf.mirror_where);
	}
	for (const struct dd_conf_key *k = dd_conf_keys; k->name; k++) {
		const char *v = k->env ? getenv(k->env) : NULL;

		if (v && v[0])
			conf.settings[key_index(k)] =
				(struct dd_conf_setting){ v, DD_CONF_ENV, NULL, 0 };
	}
	return 0;
}

const struct dd_conf_setting *dd_conf_get(const struct dd_conf_key *k)
{
	size_t i = key_index(k);

	return conf.given[i].source ? &conf.given[i] : &conf.settings[i];
}

void dd_conf_set_command_line(const struct dd_conf_key *k, const char *value)
{
	conf.given[key_index(k)] = (struct dd_conf_setting){ value, DD_CONF_COMMAND_LINE, NULL, 0 };
}

void dd_conf_forget_command_line(void)
{
	memset(conf.given, 0, sizeof(conf.given));
}

void dd_conf_describe(const struct dd_conf_key *k, const struct dd_conf_setting *s,
		      struct dd_buf *out)
{
	switch (s->source) {
	case DD_CONF_DEFAULT:
		dd_buf_adds(out, "default");
		break;
	case DD_CONF_SYSTEM:
	case DD_CONF_USER:
		dd_buf_addf(out, "%s:%d", s->file, s->line);
		break;
	case DD_CONF_OPTION:
		dd_buf_addf(out, "--config %s:%d", s->file, s->line);
		break;
	case DD_CONF_ENV_FILE:
		dd_buf_addf(out, "DRYDOCK_CONFIG %s:%d", s->file, s->line);
		break;
	case DD_CONF_ENV:
		dd_buf_addf(out, "env %s", k->env);
		break;
	case DD_CONF_COMMAND_LINE:
		dd_buf_adds(out, "command line");
		break;
	}
}

const struct dd_conf_file *dd_conf_files(size_t *n)
{
	*n = conf.n_files;
	return conf.files;
}
