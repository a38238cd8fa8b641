/*
 * drydock bundle: make bundles on the connected side; inspect and verify
 * them anywhere.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/create.h"
#include "bundle/import.h"
#include "bundle/parts.h"
#include "bundle/source.h"
#include "cli/cli.h"
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

static const char create_help[] =
	"usage: drydock bundle create --channel C --sequence N --expires DATE --sign KEYID\n"
	"                             [--gnupg-home DIR] [--mark-unsigned] [--split SIZE]\n"
	"                             [--since RECEIPT [--receipt-key SITE-KEY]] -o OUT DIR\n\n"
	"Bundle every file of DIR (*.apk, APKINDEX.tar.gz, entitlements.json and its .sig,\n"
	"security databases in the secdb format: security.json, secdb/NAME.json):\n"
	"a manifest lists each with size and sha256 and is signed with the OpenPGP key\n"
	"KEYID. OUT is a tar file, tar+zstd when it ends in .zst, or a directory when it\n"
	"ends in '/'. DATE is 2026-12-31 or 2026-12-31T00:00:00Z (UTC). The creation\n"
	"time is SOURCE_DATE_EPOCH when set. Unsigned packages are refused unless\n"
	"--mark-unsigned lists them as such.\n"
	"--split SIZE writes OUT.part-001, OUT.part-002, ... each below SIZE (4G for FAT32,\n"
	"4480M for a DVD; K, M, G, T are powers of 1024), the signed manifest in the first;\n"
	"'drydock mirror import OUT.part-001' (or the folder holding them) reads them in order.\n"
	"--since RECEIPT (from 'drydock mirror receipt' at the site) leaves out the packages\n"
	"the site holds, and the entitlement manifest when it has that one: a delta bundle.\n"
	"With --receipt-key, RECEIPT.sig must be a good signature by that site key.\n";

/* Check RECEIPT.sig against the site's public key in a throwaway GnuPG home. */
static int check_receipt_sig(const char *path, const char *keyfile, const struct dd_buf *text)
{
	struct dd_buf sigpath = DD_BUF_INIT, sig = DD_BUF_INIT, uid = DD_BUF_INIT, home = DD_BUF_INIT;
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
		rc = dd_error(DD_E_SIG_UNKNOWN, "receipt %s is signed by %s, not by the site key %s",
			      path, got[0] ? got : "another key", want);
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

static int bundle_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "sequence", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "sign", required_argument, NULL, 's' },
		{ "gnupg-home", required_argument, NULL, 'g' },
		{ "mark-unsigned", no_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "split", required_argument, NULL, 'S' },
		{ "since", required_argument, NULL, 'R' },
		{ "receipt-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_create_opts o = { 0 };
	struct dd_receipt receipt;
	const char *since = NULL, *receipt_key = NULL;
	const char *out = NULL, *expires = NULL, *seq = NULL;
	int ret;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:n:e:s:g:uo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (dd_parts_parse_size(optarg, &o.split)) {
				dd_cli_error();
				return DD_EXIT_USAGE;
			}
			break;
		case 'R': since = optarg; break;
		case 'K': receipt_key = optarg; break;
		case 'c': o.channel = optarg; break;
		case 'n': seq = optarg; break;
		case 'e': expires = optarg; break;
		case 's': o.sign_key = optarg; break;
		case 'g': o.gnupg_home = optarg; break;
		case 'u': o.mark_unsigned = true; break;
		case 'o': out = optarg; break;
		case 'h': fputs(create_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (!o.channel || !seq || !expires || !o.sign_key || !out || optind != argc - 1)
		return dd_cli_usage_error("bundle create: need --channel, --sequence, --expires, "
					  "--sign, -o OUT and one directory (see --help)");
	if (!dd_blob_to_u64(dd_blob_str(seq), &o.sequence))
		return dd_cli_usage_error("--sequence '%s' is not a non-negative number", seq);
	if (dd_time_parse(expires, &o.expires)) {
		dd_cli_error();
		return DD_EXIT_USAGE;
	}
	if (receipt_key && !since)
		return dd_cli_usage_error("bundle create: --receipt-key goes with --since RECEIPT");
	if ((rc = dd_epoch_from_env(&o.created)) < 0) {
		dd_cli_error();
		return DD_EXIT_USAGE;
	}
	if (!rc)
		o.created = dd_time_now();
	memset(&receipt, 0, sizeof(receipt));
	if (since && load_receipt(since, receipt_key, &receipt)) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	o.since = since ? &receipt : NULL;
	ret = dd_bundle_create(argv[optind], &o, out);
	dd_receipt_release(&receipt);
	if (ret) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (o.split)
		printf("%s.part-001 … %s.part-%03u: bundle for channel %s, sequence %llu, in "
		       "%u part%s\n", out, out, o.n_parts, o.channel,
		       (unsigned long long)o.sequence, o.n_parts, o.n_parts == 1 ? "" : "s");
	else
		printf("%s: bundle for channel %s, sequence %llu\n", out, o.channel,
		       (unsigned long long)o.sequence);
	if (since)
		printf("  delta since %s: %zu file%s the site holds left out\n", since, o.n_left_out,
		       o.n_left_out == 1 ? "" : "s");
	return DD_EXIT_OK;
}

static json_t *manifest_json(const struct dd_manifest *m, const char *digest)
{
	char created[32], expires[32];
	json_t *arr = json_array();

	dd_time_format(m->created, created);
	dd_time_format(m->expires, expires);
	for (size_t i = 0; i < m->n_members; i++) {
		json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "path", m->members[i].path, "kind",
				      dd_member_kind_str(m->members[i].kind), "size",
				      (json_int_t)m->members[i].size, "sha256", m->members[i].sha256);

		if (m->members[i].unsigned_ok)
			json_object_set_new(e, "unsigned", json_true());
		json_array_append_new(arr, e);
	}
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "digest", digest, "channel",
			 m->channel, "sequence", (json_int_t)m->sequence, "created", created,
			 "expires", expires, "members", arr);
}

static void print_manifest(const char *path, const struct dd_manifest *m, const char *digest)
{
	char created[32], expires[32];

	dd_time_format(m->created, created);
	dd_time_format(m->expires, expires);
	printf("%s: bundle %s\n  channel   %s\n  sequence  %llu\n  created   %s\n  expires   %s\n"
	       "  members (%zu):\n", path, digest, m->channel, (unsigned long long)m->sequence,
	       created, expires, m->n_members);
	for (size_t i = 0; i < m->n_members; i++)
		printf("    %-22s %10llu %.16s… %s%s\n", dd_member_kind_str(m->members[i].kind),
		       (unsigned long long)m->members[i].size, m->members[i].sha256,
		       m->members[i].path, m->members[i].unsigned_ok ? " (unsigned)" : "");
}

static int bundle_inspect(int argc, char **argv)
{
	struct dd_manifest m;
	char digest[65];
	int json = argc == 3 && !strcmp(argv[1], "--json");
	const char *path = argv[argc - 1];

	if (dd_cli_wants_help(argc, argv)) {
		printf("usage: drydock bundle inspect [--json] BUNDLE\n\nShow a bundle's manifest "
		       "without checking its signature (see 'bundle verify').\n");
		return DD_EXIT_OK;
	}
	if (argc != 2 + json)
		return dd_cli_usage_error("bundle inspect: need one bundle");
	if (dd_bundle_peek(path, &m, digest)) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (json)
		dd_cli_print_json(manifest_json(&m, digest));
	else
		print_manifest(path, &m, digest);
	dd_manifest_release(&m);
	return DD_EXIT_OK;
}

struct verify_ctx {
	char home[4200], stage[4096];
	struct dd_trust trust;
	struct dd_store *store; /* the trust's mirror */
	struct dd_store *rules; /* --mirror: the mirror whose rules apply (maybe store) */
};

static int add_keys(struct verify_ctx *v, enum dd_role role, char **files, size_t n)
{
	struct dd_buf uid = DD_BUF_INIT;
	char fpr[41];
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		rc = role == DD_ROLE_APK ? dd_keyring_add_file(&v->trust.apk, files[i])
					 : dd_pgp_import(v->trust.pgp, files[i], fpr, &uid);
		if (!rc && role != DD_ROLE_APK)
			dd_trust_add_fpr(&v->trust, role, fpr);
	}
	dd_buf_release(&uid);
	return rc;
}

static const char verify_help[] =
	"usage: drydock bundle verify [--key BUNDLE-KEY]... [--entitlement-key KEY]...\n"
	"                             [--apk-key KEY.rsa.pub]... [--mirror DIR]\n"
	"                             [--allow-expired] [--allow-unsigned-packages] [--json] BUNDLE\n\n"
	"Check a bundle without importing it: the manifest signature, every member's\n"
	"size and sha256, each package's signature, datahash and files, the index and\n"
	"the entitlement manifest. Keys come from the options, or (with none given)\n"
	"from the mirror's trust. With --mirror, also every check an import into that\n"
	"mirror would make (rollback, equivocation, the entitlement version, packages\n"
	"held with other content, free space), with the import's verdict, and what the\n"
	"import would change; nothing is written.\n";

static int bundle_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "entitlement-key", required_argument, NULL, 'E' },
		{ "apk-key", required_argument, NULL, 'a' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "allow-expired", no_argument, NULL, 'x' },
		{ "allow-unsigned-packages", no_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **keys[3] = { NULL, NULL, NULL };
	size_t nkeys[3] = { 0, 0, 0 };
	struct dd_import_opts io = { 0 };
	struct verify_ctx v;
	struct dd_checked chk;
	struct dd_changes ch = { 0 };
	const char *mirror = NULL;
	bool json = false;
	int c, rc, ret = DD_EXIT_FAIL;

	memset(&v, 0, sizeof(v));
	while ((c = getopt_long(argc, argv, "k:E:a:m:xujh", opts, NULL)) != -1) {
		int r = c == 'k' ? DD_ROLE_BUNDLE : c == 'E' ? DD_ROLE_ENTITLEMENT : DD_ROLE_APK;

		switch (c) {
		case 'k': case 'E': case 'a':
			keys[r] = dd_xrealloc(keys[r], (nkeys[r] + 1) * sizeof(char *));
			keys[r][nkeys[r]++] = optarg;
			break;
		case 'm': mirror = optarg; break;
		case 'x': io.allow_expired = true; break;
		case 'u': io.allow_unsigned_packages = true; break;
		case 'j': json = true; break;
		case 'h': fputs(verify_help, stdout); ret = DD_EXIT_OK; goto out;
		default: ret = DD_EXIT_USAGE; goto out;
		}
	}
	if (optind != argc - 1) {
		ret = dd_cli_usage_error("bundle verify: need one bundle");
		goto out;
	}
	snprintf(v.stage, sizeof(v.stage), "%s/drydock-verify.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(v.stage)) {
		dd_error_errno("cannot create a temporary directory");
		dd_cli_error();
		goto out;
	}
	if (nkeys[0] + nkeys[1] + nkeys[2]) {
		snprintf(v.home, sizeof(v.home), "%s/gnupg", v.stage);
		rc = dd_pgp_open(v.home, &v.trust.pgp);
		for (int r = 0; r < 3 && !rc; r++)
			rc = add_keys(&v, (enum dd_role)r, keys[r], nkeys[r]);
	} else {
		rc = dd_store_open(dd_store_default_root(mirror), 0, &v.store);
		if (rc)
			dd_error_prefix(rc, "no keys given (--key, --entitlement-key, --apk-key) "
					"and no mirror to take them from");
		if (!rc)
			rc = dd_trustdb_load(v.store, &v.trust);
	}
	if (!rc && mirror && !v.store) {
		rc = dd_store_open(dd_store_default_root(mirror), 0, &v.rules);
		if (rc)
			dd_error_prefix(rc, "--mirror");
	} else if (mirror) {
		v.rules = v.store;
	}
	if (rc) {
		dd_cli_error();
		ret = DD_EXIT_USAGE;
		goto out;
	}
	io.space_dir = v.rules ? v.rules->root : NULL;
	rc = dd_bundle_check(argv[optind], &v.trust, v.rules, v.stage, &io, &chk);
	if (!rc && v.rules && chk.verdict == DD_VERDICT_OK)
		rc = dd_changes_compute(v.rules, &chk, &ch);
	if (rc) {
		dd_error_prefix(rc, "%s: refused", argv[optind]);
		if (json)
			dd_cli_print_json(json_pack("{s:s, s:s, s:s}", "bundle", argv[optind],
						    "verdict", "refused", "reason",
						    dd_error_detail()));
		else
			dd_cli_error();
	} else {
		const char *verdict = chk.verdict == DD_VERDICT_ALREADY ? "already-imported"
									: "valid";

		if (json) {
			json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "bundle", argv[optind],
					      "verdict", verdict, "signer", chk.signer, "manifest",
					      manifest_json(&chk.manifest, chk.digest));

			if (v.rules && chk.verdict == DD_VERDICT_OK)
				json_object_set_new(j, "changes", dd_cli_changes_json(&ch));
			dd_cli_print_json(j);
		} else if (chk.verdict == DD_VERDICT_ALREADY) {
			printf("%s: valid, and already imported into %s (channel %s sequence %llu)\n",
			       argv[optind], v.rules->root, chk.manifest.channel,
			       (unsigned long long)chk.manifest.sequence);
		} else {
			printf("%s: valid: channel %s sequence %llu, %zu members, signed by %s\n",
			       argv[optind], chk.manifest.channel,
			       (unsigned long long)chk.manifest.sequence, chk.manifest.n_members,
			       chk.signer);
			if (v.rules) {
				printf("an import into %s would change:\n", v.rules->root);
				dd_cli_changes_print(&ch);
			}
		}
		ret = DD_EXIT_OK;
	}
	dd_changes_release(&ch);
	dd_checked_release(&chk);
out:
	if (v.rules && v.rules != v.store)
		dd_store_close(v.rules);
	if (v.store) {
		dd_trustdb_unload(&v.trust);
		dd_store_close(v.store);
	} else {
		dd_trust_release(&v.trust);
		dd_pgp_close(v.trust.pgp);
	}
	if (v.stage[0])
		dd_remove_tree(v.stage);
	for (int r = 0; r < 3; r++)
		free(keys[r]);
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
