/*
 * Site configuration: drydock.conf files of `key = value` lines, each key
 * the long name of an option (mirror, out, jobs, ...), that give the
 * option its value where the command line gives none.  Each source below
 * overrides the ones above it:
 *
 *   the built-in default
 *   $DRYDOCK_SYSCONFDIR/drydock/drydock.conf (DRYDOCK_SYSCONFDIR: /etc)
 *   $XDG_CONFIG_HOME/drydock/drydock.conf, else ~/.config/drydock/drydock.conf
 *   the file --config names, else the file $DRYDOCK_CONFIG names
 *   the key's environment variable (DRYDOCK_MIRROR, ...), when not empty
 *   the command line
 *
 * dd_cli_parse (options.c) applies them to every table row marked
 * DD_OPT_CONFIG; `drydock config show` prints them.  A missing system or
 * user file is no file; a missing --config or $DRYDOCK_CONFIG file, and
 * any line that is not a known key set once, is refused as DD_E_USAGE
 * naming FILE:LINE.  See docs/man/drydock-config.1.scd.
 */
#ifndef DD_CLI_CONFIG_H
#define DD_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct dd_buf;

enum dd_conf_type {
	DD_CONF_PATH, /* a path: a relative one is relative to the file's directory */
	DD_CONF_KEY,  /* a key file (a path: it has a '/' or ends in .pem) or a key id */
	DD_CONF_INT,  /* a decimal number in [min, max] */
	DD_CONF_BOOL, /* true or false */
};

struct dd_conf_key {
	const char *name; /* the key, and the long name of the options it sets */
	enum dd_conf_type type;
	const char *argh;  /* the value's name in help ("DIR") */
	const char *env;   /* the environment variable over the files, or NULL */
	long min, max;     /* DD_CONF_INT */
	const char *dflt;  /* the built-in default, as config show prints it; NULL: unset */
	const char *about; /* what it sets, and for which commands */
};

/* Every key, ended by a NULL name. */
extern const struct dd_conf_key dd_conf_keys[];

#define DD_CONF_MAX_KEYS 16

enum dd_conf_source {
	DD_CONF_DEFAULT = 0,
	DD_CONF_SYSTEM,   /* $DRYDOCK_SYSCONFDIR/drydock/drydock.conf */
	DD_CONF_USER,     /* ~/.config/drydock/drydock.conf */
	DD_CONF_OPTION,   /* --config FILE */
	DD_CONF_ENV_FILE, /* $DRYDOCK_CONFIG */
	DD_CONF_ENV,      /* the key's environment variable */
	DD_CONF_COMMAND_LINE,
};

/* One key's value and where it came from. */
struct dd_conf_setting {
	const char *value; /* NULL: unset, the built-in default applies */
	enum dd_conf_source source;
	const char *file; /* from a file: its name as given */
	int line;
};

/* A configuration file dd_conf_load looked for. */
struct dd_conf_file {
	const char *path;
	enum dd_conf_source source;
	bool read; /* false: there was none */
};

/* The key called name, or NULL. */
const struct dd_conf_key *dd_conf_key(const char *name);

/*
 * Read the configuration files and the environment, in the order above;
 * config_file is --config's argument (NULL: $DRYDOCK_CONFIG's, if any).
 * Forgets what an earlier call read (but not the command line) and tells
 * the store the configured mirror (dd_store_set_configured_root).
 * Returns 0, or DD_E_USAGE with a detail naming the file and line.
 */
int dd_conf_load(const char *config_file);

/* The setting of k: the command line's, else what dd_conf_load found. */
const struct dd_conf_setting *dd_conf_get(const struct dd_conf_key *k);

/* Record that the command line gave k value (which must outlive the
 * command); dd_conf_forget_command_line forgets every such value. */
void dd_conf_set_command_line(const struct dd_conf_key *k, const char *value);
void dd_conf_forget_command_line(void);

/* Where s came from: "default", "/etc/drydock/drydock.conf:3", "--config
 * FILE:3", "DRYDOCK_CONFIG FILE:3", "env DRYDOCK_MIRROR", "command line". */
void dd_conf_describe(const struct dd_conf_key *k, const struct dd_conf_setting *s,
		      struct dd_buf *out);

/* The files the last dd_conf_load looked for, in order; *n of them. */
const struct dd_conf_file *dd_conf_files(size_t *n);

#endif
