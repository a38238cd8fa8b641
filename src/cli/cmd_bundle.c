/*
 * drydock bundle: make bundles on the connected side; inspect and verify
 * them anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/create.h"
#include "bundle/import.h"
#include "bundle/parts.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "cli/report.h"
#include "core/epoch.h"
#include "core/error.h"
#include "core/file.h"
#include "core/time.h"
#include "store/receipt.h"
#include "store/trustdb.h"
#include "trust/pgp.h"

static const char bundle_usage[] = "usage: drydock bundle COMMAND [OPTIONS] BUNDLE\n";

static const struct dd_cmd_spec create_spec = {
	.name = "bundle create",
	.operands = "DIR",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "no directory given",
	.about = "Bundle every file of DIR (*.apk, APKINDEX.tar.gz, entitlements.json and its "
		 ".sig,\n"
		 "security databases in the secdb format: security.json, secdb/NAME.json):\n"
		 "a manifest lists each with size and sha256 and is signed with the OpenPGP key\n"
		 "KEYID. OUT is a tar file, tar+zstd when it ends in .zst, or a directory when it\n"
		 "ends in '/'. DATE is 2026-12-31 or 2026-12-31T00:00:00Z (UTC). The creation\n"
		 "time is SOURCE_DATE_EPOCH when set. Unsigned packages are refused unless\n"
		 "--mark-unsigned lists them as such.\n",
	.footer = "--split SIZE writes OUT.part-001, OUT.part-002, ... each below SIZE (4G for "
		  "FAT32,\n"
		  "4480M for a DVD; K, M, G, T are powers of 1024), the signed manifest in the "
		  "first;\n"
		  "'drydock mirror import OUT.part-001' (or the folder holding them) reads them in "
		  "order.\n"
		  "--since RECEIPT (from 'drydock mirror receipt' at the site) leaves out the "
		  "packages\n"
		  "the site holds, and the entitlement manifest when it has that one: a delta "
		  "bundle.\n"
		  "With --receipt-key, RECEIPT.sig must be a good signature by that site key.\n",
};

/* Check RECEIPT.sig against the site's public key in a throwaway GnuPG home. */
static int check_receipt_sig(const char *path, const char *keyfile, const struct dd_buf *text)
{
	struct dd_buf sigpath = DD_BUF_INIT, sig = DD_BUF_INIT, uid = DD_BUF_INIT,
		      home = DD_BUF_INIT;
	struct dd_pgp *p = NULL;
	char dir[4096], want[41], got[41] = "";
	int rc;

	snprintf(dir, sizeof(dir), "%s/drydock-receipt.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return dd_error_errno("cannot create a temporary directory");
	dd_buf_addf(&home, "%s/gnupg", dir);
	dd_buf_addf(&sigpath, "%s.sig", path);
	rc = dd_read_file(sigpath.ptr, 1u << 16, &sig);
	if (rc)
		dd_error_prefix(rc, "--receipt-key needs the receipt's signature");
	if (!rc)
		rc = dd_pgp_open(home.ptr, &p);
	if (!rc)
		rc = dd_pgp_import(p, keyfile, want, &uid);
	if (!rc)
		rc = dd_pgp_verify(p, text->ptr, text->len, sig.ptr, sig.len, got);
	if (rc == DD_E_SIG_UNKNOWN || (!rc && strcmp(want, got)))
		rc = dd_error(DD_E_SIG_UNKNOWN,
			      "receipt %s is signed by %s, not by the site key %s", path,
			      got[0] ? got : "another key", want);
	else if (rc)
		dd_error_prefix(rc, "receipt %s", path);
	dd_pgp_close(p);
	dd_remove_tree(dir);
	dd_buf_release(&sigpath);
	dd_buf_release(&sig);
	dd_buf_release(&uid);
	dd_buf_release(&home);
	return rc;
}

static int load_receipt(const char *path, const char *keyfile, struct dd_receipt *r)
{
	struct dd_buf text = DD_BUF_INIT;
	int rc = dd_read_file(path, DD_RECEIPT_MAX, &text);

	if (!rc && keyfile)
		rc = check_receipt_sig(path, keyfile, &text);
	if (!rc)
		rc = dd_receipt_parse(dd_buf_blob(&text), path, r);
	dd_buf_release(&text);
	return rc;
}

static int parse_sequence(const struct dd_option *opt, const char *arg)
{
	if (!dd_blob_to_u64(dd_blob_str(arg), opt->value))
		return dd_error(DD_E_USAGE, "--sequence '%s' is not a non-negative number", arg);
	return 0;
}

static int parse_expires(const struct dd_option *opt, const char *arg)
{
	return dd_time_parse(arg, opt->value) ? DD_E_USAGE : 0;
}

static int parse_split(const struct dd_option *opt, const char *arg)
{
	return dd_parts_parse_size(arg, opt->value) ? DD_E_USAGE : 0;
}

static void print_created(const struct dd_create_opts *o, const char *out, const char *since)
{
	if (o->split)
		printf("%s.part-001 … %s.part-%03u: bundle for channel %s, sequence %llu, in "
		       "%u part%s\n",
		       out, out, o->n_parts, o->channel, (unsigned long long)o->sequence,
		       o->n_parts, o->n_parts == 1 ? "" : "s");
	else
		printf("%s: bundle for channel %s, sequence %llu\n", out, o->channel,
		       (unsigned long long)o->sequence);
	if (since)
		printf("  delta since %s: %zu file%s the site holds left out\n", since,
		       o->n_left_out, o->n_left_out == 1 ? "" : "s");
}

/* bundle create --json: what print_created says, with every file written. */
static json_t *created_json(const struct dd_create_opts *o, const char *out, const char *since)
{
	char created[32], expires[32];
	json_t *files = json_array(), *j;

	dd_time_format(o->created, created);
	dd_time_format(o->expires, expires);
	for (unsigned i = 1; o->split && i <= o->n_parts; i++)
		json_array_append_new(files, json_sprintf("%s.part-%03u", out, i));
	if (!o->split)
		json_array_append_new(files, json_string(out));
	j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:b, s:I, s:o}", "bundle", out, "channel",
		      o->channel, "sequence", (json_int_t)o->sequence, "created", created,
		      "expires", expires, "split", o->split != 0, "parts",
		      (json_int_t)json_array_size(files), "files", files);
	if (since)
		json_object_update_new(j, json_pack("{s:s, s:I}", "since", since, "left_out",
						    (json_int_t)o->n_left_out));
	return j;
}

/* Everything after the options: the creation time, the receipt, the bundle. */
static int create(struct dd_create_opts *o, const char *dir, const char *out, const char *since,
		  const char *receipt_key, bool json)
{
	struct dd_receipt receipt;
	int rc;

	if (receipt_key && !since)
		return dd_cli_usage_error("bundle create: --receipt-key goes with --since RECEIPT");
	if ((rc = dd_epoch_from_env(&o->created)) < 0)
		return dd_cli_fail(DD_E_USAGE);
	if (!rc)
		o->created = dd_time_now();
	memset(&receipt, 0, sizeof(receipt));
	if (since && load_receipt(since, receipt_key, &receipt))
		return dd_cli_fail(-1);
	o->since = since ? &receipt : NULL;
	rc = dd_bundle_create(dir, o, out);
	dd_receipt_release(&receipt);
	if (rc)
		return dd_cli_fail(-1);
	if (json)
		dd_cli_print_json(created_json(o, out, since));
	else
		print_created(o, out, since);
	return DD_EXIT_OK;
}

static int bundle_create(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_create_opts o = { 0 };
	const char *since = NULL, *receipt_key = NULL, *out = NULL;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		{ .kind = DD_OPTK_STRING,
		  .short_name = 'c',
		  .long_name = "channel",
		  .value = &o.channel,
		  .argh = "C",
		  .flags = DD_OPT_REQUIRED,
		  .help = "the channel the bundle belongs to" },
		{ .kind = DD_OPTK_CALLBACK,
		  .long_name = "sequence",
		  .value = &o.sequence,
		  .argh = "N",
		  .cb = parse_sequence,
		  .flags = DD_OPT_REQUIRED,
		  .help = "its place in the channel: a mirror takes only a higher one" },
		{ .kind = DD_OPTK_CALLBACK,
		  .short_name = 'e',
		  .long_name = "expires",
		  .value = &o.expires,
		  .argh = "DATE",
		  .cb = parse_expires,
		  .flags = DD_OPT_REQUIRED,
		  .help = "2026-12-31 or 2026-12-31T00:00:00Z (UTC); a mirror refuses it after" },
		{ .kind = DD_OPTK_STRING,
		  .short_name = 's',
		  .long_name = "sign",
		  .value = &o.sign_key,
		  .argh = "KEYID",
		  .flags = DD_OPT_REQUIRED,
		  .help = "the OpenPGP key that signs the manifest" },
		DD_OPT_GNUPG_HOME('g', &o.gnupg_home,
				  "the GnuPG home holding the key (default "
				  "$GNUPGHOME, else ~/.gnupg)"),
		DD_OPT_BOOL(0, "mark-unsigned", &o.mark_unsigned,
			    "list unsigned packages as such (without it they are refused)"),
		DD_OPT_CALLBACK(0, "split", &o.split, "SIZE", parse_split,
				"write parts of OUT each below SIZE (see below)"),
		DD_OPT_STRING(0, "since", &since, "RECEIPT",
			      "a delta bundle: leave out what the site's receipt lists"),
		DD_OPT_STRING(0, "receipt-key", &receipt_key, "SITE-KEY",
			      "the site's OpenPGP public key that must have signed RECEIPT"),
		DD_OPT_STRING_REQUIRED('o', "output", &out, "OUT", "the bundle to write"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&create_spec, opts, argc, argv, &cli))
		goto out;
	cli.exit = create(&o, cli.args[0], out, since, receipt_key, json);
out:
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

static json_t *manifest_json(const struct dd_manifest *m, const char *digest)
{
	char created[32], expires[32];
	json_t *arr = json_array();

	dd_time_format(m->created, created);
	dd_time_format(m->expires, expires);
	for (size_t i = 0; i < m->n_members; i++) {
		json_t *e =
			json_pack("{s:s, s:s, s:I, s:s}", "path", m->members[i].path, "kind",
				  dd_member_kind_str(m->members[i].kind), "size",
				  (json_int_t)m->members[i].size, "sha256", m->members[i].sha256);

		if (m->members[i].unsigned_ok)
			json_object_set_new(e, "unsigned", json_true());
		json_array_append_new(arr, e);
	}
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "digest", digest, "channel", m->channel,
			 "sequence", (json_int_t)m->sequence, "created", created, "expires",
			 expires, "members", arr);
}

static void print_manifest(const char *path, const struct dd_manifest *m, const char *digest)
{
	char created[32], expires[32];

	dd_time_format(m->created, created);
	dd_time_format(m->expires, expires);
	printf("%s: bundle %s\n  channel   %s\n  sequence  %llu\n  created   %s\n  expires   %s\n"
	       "  members (%zu):\n",
	       path, digest, m->channel, (unsigned long long)m->sequence, created, expires,
	       m->n_members);
	for (size_t i = 0; i < m->n_members; i++)
		printf("    %-22s %10llu %.16s… %s%s\n", dd_member_kind_str(m->members[i].kind),
		       (unsigned long long)m->members[i].size, m->members[i].sha256,
		       m->members[i].path, m->members[i].unsigned_ok ? " (unsigned)" : "");
}

static const struct dd_cmd_spec inspect_spec = {
	.name = "bundle inspect",
	.operands = "BUNDLE",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "need one bundle",
	.about = "Show a bundle's manifest without checking its signature (see 'bundle verify').\n",
};

static int bundle_inspect(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_manifest m;
	char digest[65];
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&inspect_spec, opts, argc, argv, &cli))
		goto out;
	if (dd_bundle_peek(cli.args[0], &m, digest)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	if (json)
		dd_cli_print_json(manifest_json(&m, digest));
	else
		print_manifest(cli.args[0], &m, digest);
	dd_manifest_release(&m);
out:
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

struct verify_ctx {
	char home[4200], stage[4096];
	struct dd_trust trust;
	struct dd_store *store; /* the trust's mirror */
	struct dd_store *rules; /* --mirror: the mirror whose rules apply (maybe store) */
};

static int add_keys(struct verify_ctx *v, enum dd_role role, const struct dd_strlist *files)
{
	struct dd_buf uid = DD_BUF_INIT;
	char fpr[41];
	int rc = 0;

	for (size_t i = 0; i < files->n && !rc; i++) {
		rc = role == DD_ROLE_APK ? dd_keyring_add_file(&v->trust.apk, files->v[i])
					 : dd_pgp_import(v->trust.pgp, files->v[i], fpr, &uid);
		if (!rc && role != DD_ROLE_APK)
			dd_trust_add_fpr(&v->trust, role, fpr);
	}
	dd_buf_release(&uid);
	return rc;
}

static const struct dd_cmd_spec verify_spec = {
	.name = "bundle verify",
	.operands = "BUNDLE",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "need one bundle",
	.about = "Check a bundle without importing it: the manifest signature, every member's\n"
		 "size and sha256, each package's signature, datahash and files, the index and\n"
		 "the entitlement manifest. Keys come from the options, or (with none given)\n"
		 "from the mirror's trust. With --mirror, also every check an import into that\n"
		 "mirror would make (rollback, equivocation, the entitlement version, packages\n"
		 "held with other content, free space), with the import's verdict, and what the\n"
		 "import would change; nothing is written.\n",
};

/* The keys: from the options into a GnuPG home in v->stage, else the mirror's
 * trust; and the mirror whose rules apply.  The detail is set on failure. */
static int load_trust(struct verify_ctx *v, const struct dd_strlist keys[3], const char *mirror)
{
	int rc;

	if (keys[0].n + keys[1].n + keys[2].n) {
		snprintf(v->home, sizeof(v->home), "%s/gnupg", v->stage);
		rc = dd_pgp_open(v->home, &v->trust.pgp);
		for (int r = 0; r < 3 && !rc; r++)
			rc = add_keys(v, (enum dd_role)r, &keys[r]);
	} else {
		rc = dd_store_open(dd_store_default_root(mirror), 0, &v->store);
		if (rc)
			dd_error_prefix(rc, "no keys given (--key, --entitlement-key, --apk-key) "
					    "and no mirror to take them from");
		if (!rc)
			rc = dd_trustdb_load(v->store, &v->trust);
	}
	if (!rc && mirror && !v->store) {
		rc = dd_store_open(dd_store_default_root(mirror), 0, &v->rules);
		if (rc)
			dd_error_prefix(rc, "--mirror");
	} else if (mirror) {
		v->rules = v->store;
	}
	return rc;
}

static void print_valid(const struct verify_ctx *v, const char *path, struct dd_checked *chk,
			const struct dd_changes *ch, bool json)
{
	if (json) {
		json_t *j =
			json_pack("{s:s, s:s, s:s, s:o}", "bundle", path, "verdict",
				  chk->verdict == DD_VERDICT_ALREADY ? "already-imported" : "valid",
				  "signer", chk->signer, "manifest",
				  manifest_json(&chk->manifest, chk->digest));

		if (v->rules && chk->verdict == DD_VERDICT_OK)
			json_object_set_new(j, "changes", dd_cli_changes_json(ch));
		dd_cli_print_json(j);
	} else if (chk->verdict == DD_VERDICT_ALREADY) {
		printf("%s: valid, and already imported into %s (channel %s sequence %llu)\n", path,
		       dd_store_root(v->rules), chk->manifest.channel,
		       (unsigned long long)chk->manifest.sequence);
	} else {
		printf("%s: valid: channel %s sequence %llu, %zu members, signed by %s\n", path,
		       chk->manifest.channel, (unsigned long long)chk->manifest.sequence,
		       chk->manifest.n_members, chk->signer);
		if (v->rules) {
			printf("an import into %s would change:\n", dd_store_root(v->rules));
			dd_cli_changes_print(ch);
		}
	}
}

/* Check the bundle at path with v's trust; the exit code. */
static int check_bundle(struct verify_ctx *v, const char *path, struct dd_import_opts *io,
			bool json)
{
	struct dd_checked chk;
	struct dd_changes ch = { 0 };
	int rc;

	io->space_dir = v->rules ? dd_store_root(v->rules) : NULL;
	rc = dd_bundle_check(path, &v->trust, v->rules, v->stage, io, &chk);
	if (!rc && v->rules && chk.verdict == DD_VERDICT_OK)
		rc = dd_changes_compute(v->rules, &chk, &ch);
	if (rc) {
		dd_error_prefix(rc, "%s: refused", path);
		if (json)
			dd_cli_print_json(json_pack("{s:s, s:s, s:s}", "bundle", path, "verdict",
						    "refused", "reason", dd_error_detail()));
		else
			dd_cli_error();
	} else {
		print_valid(v, path, &chk, &ch, json);
	}
	dd_changes_release(&ch);
	dd_checked_release(&chk);
	return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
}

static void verify_ctx_release(struct verify_ctx *v)
{
	if (v->rules && v->rules != v->store)
		dd_store_close(v->rules);
	if (v->store) {
		dd_trustdb_unload(&v->trust);
		dd_store_close(v->store);
	} else {
		dd_trust_release(&v->trust);
		dd_pgp_close(v->trust.pgp);
	}
	if (v->stage[0])
		dd_remove_tree(v->stage);
}

static int bundle_verify(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_strlist keys[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	struct dd_import_opts io = { 0 };
	struct verify_ctx v;
	const char *mirror = NULL;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_LIST('k', "key", &keys[DD_ROLE_BUNDLE], "BUNDLE-KEY",
			    "an OpenPGP public key that may sign bundles"),
		DD_OPT_LIST('E', "entitlement-key", &keys[DD_ROLE_ENTITLEMENT], "KEY",
			    "an OpenPGP public key that may sign the entitlement manifest"),
		DD_OPT_LIST(0, "apk-key", &keys[DD_ROLE_APK], "KEY.rsa.pub",
			    "an APK RSA public key that may sign packages and the index"),
		DD_OPT_STRING('m', "mirror", &mirror, "DIR",
			      "also make every check an import into this mirror would make, and "
			      "show what it would change (the keys too come from it when none "
			      "is given; default $DRYDOCK_MIRROR, else ./mirror)"),
		DD_OPT_BOOL('x', "allow-expired", &io.allow_expired,
			    "accept a bundle past its expiry date"),
		DD_OPT_BOOL(0, "allow-unsigned-packages", &io.allow_unsigned_packages,
			    "accept packages the manifest marks unsigned"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	memset(&v, 0, sizeof(v));
	if (dd_cli_parse(&verify_spec, opts, argc, argv, &cli))
		goto out;
	snprintf(v.stage, sizeof(v.stage), "%s/drydock-verify.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(v.stage)) {
		v.stage[0] = '\0';
		cli.exit = dd_cli_fail(dd_error_errno("cannot create a temporary directory"));
		goto out;
	}
	if (load_trust(&v, keys, mirror)) {
		cli.exit = dd_cli_fail(DD_E_USAGE);
		goto out;
	}
	cli.exit = check_bundle(&v, cli.args[0], &io, json);
out:
	verify_ctx_release(&v);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

static const struct dd_subcommand bundle_commands[] = {
	{ "create", bundle_create, "sign and write a bundle of a directory" },
	{ "inspect", bundle_inspect, "show a bundle's manifest" },
	{ "verify", bundle_verify, "check a bundle's signatures and contents" },
	{ NULL, NULL, NULL },
};

int cmd_bundle(int argc, char **argv)
{
	return dd_cli_dispatch("bundle", bundle_commands, argc, argv, bundle_usage);
}
