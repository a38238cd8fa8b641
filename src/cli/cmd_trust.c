/*
 * drydock trust: which keys the mirror trusts, and for what.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/time.h"
#include "store/query.h"
#include "store/trustdb.h"
#include "trust/rsa.h"

static const char trust_usage[] = "usage: drydock trust COMMAND [--mirror DIR] ...\n";

static int audit_trust(struct dd_store *s, const char *action, const char *role,
		       const char *id, const char *file)
{
	char now[32];
	json_t *j;
	int rc;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "action", action, "role", role,
		      "key", id);
	if (file)
		json_object_set_new(j, "file", json_string(file));
	rc = dd_store_audit(s, j);
	json_decref(j);
	return rc;
}

static const char add_help[] =
	"usage: drydock trust add --role bundle|entitlement|apk|provenance [--mirror DIR]\n"
	"                         KEYFILE...\n\n"
	"Trust each key for one role: OpenPGP public keys (armored or binary)\n"
	"sign bundles or entitlement manifests; APK RSA public keys (PEM, named\n"
	"as the packages name them, e.g. builder.rsa.pub) sign packages and indexes;\n"
	"OpenPGP or PEM (ECDSA P-256, Ed25519) public keys sign provenance, which\n"
	"'drydock verify --mirror' then accepts without --key.\n";

static const char remove_help[] =
	"usage: drydock trust remove --role ROLE [--mirror DIR] ID...\n\n"
	"Stop trusting keys: ID is the fingerprint (OpenPGP, or SHA256:... for a PEM\n"
	"provenance key) or the key file name (apk), as 'drydock trust list' shows them.\n";

/* trust add and trust remove: the same options, one key or id per operand. */
static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

static int trust_change(int argc, char **argv, bool add)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mirror = NULL, *role_s = NULL;
	struct dd_buf id = DD_BUF_INIT, label = DD_BUF_INIT;
	struct dd_store *s = NULL;
	enum dd_role role;
	int c, ret = DD_EXIT_OK;

	while ((c = getopt_long(argc, argv, "r:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': role_s = optarg; break;
		case 'm': mirror = optarg; break;
		case 'h': fputs(add ? add_help : remove_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (!role_s || optind >= argc)
		return dd_cli_usage_error("trust %s: need --role ROLE and a %s", argv[0],
					  add ? "key file" : "key id");
	if (dd_role_parse(role_s, &role)) {
		dd_cli_error();
		return DD_EXIT_USAGE;
	}
	if (dd_store_open(dd_store_default_root(mirror), DD_STORE_WRITE, &s)) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		int rc = add ? dd_trustdb_add(s, role, argv[i], &id, &label)
			     : dd_trustdb_remove(s, role, argv[i]);

		if (rc) {
			dd_cli_error();
			ret = DD_EXIT_FAIL;
			continue;
		}
		audit_trust(s, add ? "trust-add" : "trust-remove", role_s,
			    add ? id.ptr : argv[i], add ? argv[i] : NULL);
		if (add)
			printf("%s: trusted as %s %s key: %s%s%s\n", argv[i], article(role_s), role_s,
			       id.ptr, label.len ? " " : "", label.len ? label.ptr : "");
		else
			printf("%s: no longer trusted as %s %s key\n", argv[i], article(role_s), role_s);
	}
	dd_store_close(s);
	dd_buf_release(&id);
	dd_buf_release(&label);
	return ret;
}

static int trust_add(int argc, char **argv)
{
	return trust_change(argc, argv, true);
}

static int trust_remove(int argc, char **argv)
{
	return trust_change(argc, argv, false);
}

/* An APK key is known by its file name; its fingerprint tells two keys of one name apart. */
static void apk_fingerprint(struct dd_store *s, const char *name, char fpr[72])
{
	struct dd_buf path = DD_BUF_INIT, rel = DD_BUF_INIT;
	struct dd_keyring kr = { 0 };

	dd_buf_addf(&rel, "keys/apk/%s", name);
	if (dd_keyring_add_file(&kr, dd_store_path(s, rel.ptr, &path)) == 0 && kr.n)
		dd_rsa_fingerprint(kr.keys[0].pkey, fpr);
	else
		snprintf(fpr, 72, "(key file missing: %s)", path.ptr);
	dd_error_clear();
	dd_keyring_release(&kr);
	dd_buf_release(&path);
	dd_buf_release(&rel);
}

static int trust_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mirror = NULL;
	struct dd_store *s = NULL;
	json_t *arr = json_array(), *rows = NULL, *row;
	size_t i;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mirror = optarg; break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: drydock trust list [--mirror DIR] [--json]\n");
			json_decref(arr);
			return DD_EXIT_OK;
		default: json_decref(arr); return DD_EXIT_USAGE;
		}
	}
	if (dd_store_open(dd_store_default_root(mirror), 0, &s) ||
	    dd_index_trusted_keys(s, &rows)) {
		dd_cli_error();
		dd_store_close(s);
		json_decref(arr);
		return DD_EXIT_FAIL;
	}
	json_array_foreach(rows, i, row) {
		const char *v[4] = { json_string_value(json_object_get(row, "role")),
				     json_string_value(json_object_get(row, "id")),
				     json_string_value(json_object_get(row, "label")),
				     json_string_value(json_object_get(row, "added")) };
		char fpr[72] = "";

		if (!strcmp(v[0], "apk"))
			apk_fingerprint(s, v[1], fpr);
		if (json) {
			json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "role", v[0], "id", v[1],
					      "label", v[2] ? v[2] : "", "added", v[3]);

			if (fpr[0])
				json_object_set_new(e, "fingerprint", json_string(fpr));
			json_array_append_new(arr, e);
		} else {
			printf("%-12s %s%s%s%s%s\n", v[0], v[1], fpr[0] ? " " : "", fpr,
			       v[2] && v[2][0] ? " " : "", v[2] ? v[2] : "");
		}
	}
	dd_store_close(s);
	json_decref(rows);
	if (json)
		dd_cli_print_json(arr);
	else
		json_decref(arr);
	return DD_EXIT_OK;
}

static const struct dd_subcommand trust_commands[] = {
	{ "add", trust_add, "trust a key for a role (bundle, entitlement, apk, provenance)" },
	{ "list", trust_list, "show the trusted keys and their roles" },
	{ "remove", trust_remove, "stop trusting a key" },
	{ NULL, NULL, NULL },
};

int cmd_trust(int argc, char **argv)
{
	return dd_cli_dispatch("trust", trust_commands, argc, argv, trust_usage);
}
