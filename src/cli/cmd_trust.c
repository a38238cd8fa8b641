/*
 * drydock trust: which keys the mirror trusts, and for what.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/time.h"
#include "store/query.h"
#include "store/trustdb.h"
#include "trust/rsa.h"

static const char trust_usage[] = "usage: drydock trust COMMAND [--mirror DIR] ...\n";

static int audit_trust(struct dd_store *s, const char *action, const char *role, const char *id,
		       const char *file)
{
	char now[32];
	json_t *j;
	int rc;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "action", action, "role", role, "key",
		      id);
	if (file)
		json_object_set_new(j, "file", json_string(file));
	rc = dd_store_audit(s, j);
	json_decref(j);
	return rc;
}

static const char *const roles[] = { "bundle", "entitlement", "apk", "provenance", NULL };

static const struct dd_cmd_spec add_spec = {
	.name = "trust add",
	.operands = "KEYFILE...",
	.min_operands = 1,
	.missing_operands = "no key file given",
	.store = DD_CMD_STORE_WRITE,
	.about = "Trust each key for one role: OpenPGP public keys (armored or binary)\n"
		 "sign bundles or entitlement manifests; APK RSA public keys (PEM, named\n"
		 "as the packages name them, e.g. builder.rsa.pub) sign packages and indexes;\n"
		 "OpenPGP or PEM (ECDSA P-256, Ed25519) public keys sign provenance, which\n"
		 "'drydock verify --mirror' then accepts without --key.\n",
};

static const struct dd_cmd_spec remove_spec = {
	.name = "trust remove",
	.operands = "ID...",
	.min_operands = 1,
	.missing_operands = "no key id given",
	.store = DD_CMD_STORE_WRITE,
	.about =
		"Stop trusting keys: ID is the fingerprint (OpenPGP, or SHA256:... for a PEM\n"
		"provenance key) or the key file name (apk), as 'drydock trust list' shows them.\n",
};

/* trust add and trust remove: the same options, one key or id per operand. */
static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

/*
 * Trust (add) or stop trusting arg for role; print the outcome, or append
 * its record to results (--json): {"file", "role", "id", "label"} for add,
 * {"id", "role"} for remove, with "error" in place of the outcome when it
 * failed.  The exit code.
 */
static int trust_one(struct dd_store *s, bool add, enum dd_role role, const char *role_s,
		     const char *arg, json_t *results)
{
	struct dd_buf id = DD_BUF_INIT, label = DD_BUF_INIT;
	int rc = add ? dd_trustdb_add(s, role, arg, &id, &label) : dd_trustdb_remove(s, role, arg);
	const char *who = label.len ? label.ptr : "";
	json_t *rec = json_pack("{s:s, s:s}", add ? "file" : "id", arg, "role", role_s);

	if (rc) {
		dd_cli_error();
		json_object_set_new(rec, "error", json_string(dd_error_detail()));
	} else {
		audit_trust(s, add ? "trust-add" : "trust-remove", role_s, add ? id.ptr : arg,
			    add ? arg : NULL);
		if (add)
			json_object_update_new(rec,
					       json_pack("{s:s, s:s}", "id", id.ptr, "label", who));
	}
	if (results)
		json_array_append_new(results, json_incref(rec));
	else if (!rc && add)
		printf("%s: trusted as %s %s key: %s%s%s\n", arg, article(role_s), role_s, id.ptr,
		       who[0] ? " " : "", who);
	else if (!rc)
		printf("%s: no longer trusted as %s %s key\n", arg, article(role_s), role_s);
	json_decref(rec);
	dd_buf_release(&id);
	dd_buf_release(&label);
	return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
}

static int trust_change(int argc, char **argv, bool add)
{
	struct dd_cli cli = DD_CLI_INIT;
	const char *role_s = NULL;
	enum dd_role role;
	json_t *results = NULL;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		{ .kind = DD_OPTK_CHOICE,
		  .long_name = "role",
		  .value = &role_s,
		  .choices = roles,
		  .flags = DD_OPT_REQUIRED,
		  .help = add ? "what the keys are trusted to sign"
			      : "the role to stop trusting them for" },
		DD_OPT_MIRROR(&cli.mirror),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(add ? &add_spec : &remove_spec, opts, argc, argv, &cli))
		goto out;
	if (dd_role_parse(role_s, &role)) {
		cli.exit = dd_cli_fail(DD_E_USAGE);
		goto out;
	}
	if (json)
		results = json_array();
	for (int i = 0; i < cli.n_args; i++)
		if (trust_one(cli.store, add, role, role_s, cli.args[i], results))
			cli.exit = DD_EXIT_FAIL;
	if (json)
		dd_cli_print_json(json_incref(results));
out:
	json_decref(results);
	ret = cli.exit;
	dd_cli_release(&cli);
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

static const struct dd_cmd_spec list_spec = {
	.name = "trust list",
	.store = DD_CMD_STORE_READ,
	.about = "Show the keys the mirror trusts: role, id (fingerprint or key file name), for\n"
		 "an apk key its fingerprint, and label.\n",
};

static void list_row(struct dd_store *s, json_t *row, json_t *arr)
{
	const char *v[4] = { json_string_value(json_object_get(row, "role")),
			     json_string_value(json_object_get(row, "id")),
			     json_string_value(json_object_get(row, "label")),
			     json_string_value(json_object_get(row, "added")) };
	char fpr[72] = "";

	if (!strcmp(v[0], "apk"))
		apk_fingerprint(s, v[1], fpr);
	if (arr) {
		json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "role", v[0], "id", v[1], "label",
				      v[2] ? v[2] : "", "added", v[3]);

		if (fpr[0])
			json_object_set_new(e, "fingerprint", json_string(fpr));
		json_array_append_new(arr, e);
	} else {
		printf("%-12s %s%s%s%s%s\n", v[0], v[1], fpr[0] ? " " : "", fpr,
		       v[2] && v[2][0] ? " " : "", v[2] ? v[2] : "");
	}
}

static int trust_list(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	json_t *arr = NULL, *rows = NULL, *row;
	bool json = false;
	size_t i;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_MIRROR(&cli.mirror),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&list_spec, opts, argc, argv, &cli))
		goto out;
	if (dd_index_trusted_keys(cli.store, &rows)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	if (json)
		arr = json_array();
	json_array_foreach(rows, i, row)
		list_row(cli.store, row, arr);
	if (json)
		dd_cli_print_json(json_incref(arr));
out:
	json_decref(rows);
	json_decref(arr);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
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
