/*
 * drydock mirror: import bundles, and look at and look after the mirror.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/changes.h"
#include "bundle/import.h"
#include "bundle/rebuild.h"
#include "bundle/repair.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "cli/report.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/time.h"
#include "store/fsck.h"
#include "store/identity.h"
#include "store/query.h"
#include "store/receipt.h"
#include "trust/pgp.h"
#include "store/trustdb.h"

static const char mirror_usage[] = "usage: drydock mirror COMMAND [--mirror DIR] [--json] ...\n";

/* What a mirror command was asked; each declares only the options it takes. */
struct common {
	struct dd_cli cli;
	int keep_layers;
	bool json, deep, allow_expired, allow_unsigned, dry_run, repair, rebuild;
};
#define COMMON_INIT \
	{ \
		DD_CLI_INIT, 30, false, false, false, false, false, false, false \
	}

/* The rows every mirror command has. */
#define COMMON_OPTIONS(o) DD_OPT_MIRROR(&(o)->cli.mirror), DD_OPT_JSON(&(o)->json)

/* The exit code, after releasing what parse set up. */
static int finish(struct common *o, int ret)
{
	dd_cli_release(&o->cli);
	return ret;
}

/* ---- init ------------------------------------------------------------- */

static const struct dd_cmd_spec init_spec = {
	.name = "mirror init",
	.operands = "[DIR]",
	.max_operands = 1,
	.about = "Make a new, empty mirror in DIR (default: --mirror DIR, else $DRYDOCK_MIRROR,\n"
		 "else ./mirror): its folders, its index and its identity. DIR must be new or an\n"
		 "empty directory (hidden files and a README, such as a checkout's mirror/\n"
		 "holds, may be there); a mirror already there is left as it is (exit 0),\n"
		 "anything else is refused. No other command makes a mirror: each refuses a "
		 "missing one,\n"
		 "naming the path it looked at and how it chose it. Next, trust the vendor's\n"
		 "keys ('drydock trust add') and import a bundle ('drydock mirror import').\n",
};

/* The audit log's first line: when and where the mirror was made. */
static int audit_init(struct dd_store *s, const char *where)
{
	char now[32];
	json_t *j;
	int rc;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "action", "mirror-init", "mirror", where,
		      "id", dd_identity_id(s));
	rc = dd_store_audit(s, j);
	json_decref(j);
	return rc;
}

static int mirror_init(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	struct dd_buf abs = DD_BUF_INIT;
	struct dd_store *s = NULL;
	const char *root;
	bool made;
	int rc;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&init_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (o.cli.n_args && o.cli.mirror)
		return finish(&o, dd_cli_usage_error("mirror init: give one DIR, or --mirror DIR, "
						     "not both"));
	root = dd_store_default_root(o.cli.n_args ? o.cli.args[0] : o.cli.mirror);
	dd_path_absolute(root, &abs);
	rc = dd_store_init(root, &made, &s);
	if (!rc && made)
		rc = audit_init(s, abs.ptr);
	if (rc) {
		dd_cli_error();
	} else if (o.json) {
		dd_cli_print_json(json_pack("{s:s, s:s, s:b}", "mirror", abs.ptr, "id",
					    dd_identity_id(s), "created", made));
	} else if (!made) {
		printf("%s is already a mirror (id %s): nothing changed\n", abs.ptr,
		       dd_identity_id(s)[0] ? dd_identity_id(s) : "none yet");
	} else {
		printf("created mirror %s (id %s): index.db, mirror-id, index-commits, "
		       "audit.log, blobs/sha256/, tmp/, keys/apk/, gnupg/\n",
		       abs.ptr, dd_identity_id(s));
		printf("next: trust the vendor's keys, e.g. 'drydock trust add --mirror %s --role "
		       "bundle VENDOR.asc' (and --role entitlement, apk), then 'drydock mirror "
		       "import --mirror %s BUNDLE'\n",
		       abs.ptr, abs.ptr);
	}
	dd_store_close(s);
	dd_buf_release(&abs);
	return finish(&o, rc ? DD_EXIT_FAIL : DD_EXIT_OK);
}

/* ---- import ----------------------------------------------------------- */

static const struct dd_cmd_spec import_spec = {
	.name = "mirror import",
	.operands = "BUNDLE...",
	.min_operands = 1,
	.missing_operands = "no bundle given",
	.about = "Verify each bundle completely and add it to the mirror, all or nothing. The\n"
		 "manifest must be signed by a trusted bundle key, every member must match it,\n"
		 "every package must be signed by a trusted apk key (or marked unsigned by the\n"
		 "bundle and --allow-unsigned-packages given: then it is stored unguarded), and\n"
		 "per channel the sequence must grow. Bundles of one channel are imported in\n"
		 "sequence order, whatever order they are given in. Each bundle is read once,\n"
		 "so it may be a pipe; - reads one from standard input. Every attempt goes to\n"
		 "the audit log. The report says what changed: packages new, upgraded (old -> new) "
		 "or\n"
		 "already held, the entitlement version, images added or removed, package\n"
		 "versions that became guarded or unguarded, and when the bundle expires.\n",
	.footer = "--dry-run makes every check an import would make, against this mirror, and\n"
		  "reports what would change; it writes nothing but its line in the audit log.\n"
		  "--repair checks a bundle the mirror imported before, in full, and puts back\n"
		  "every blob of it the mirror lacks or holds damaged ('mirror fsck' names the\n"
		  "bundles that can); nothing else changes.\n",
};

static json_t *audit_record(const char *action, const char *attempt, const char *path,
			    const struct dd_checked *c, const char *verdict, const char *reason)
{
	char now[32];
	json_t *j;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s}", "time", now, "action", action, "bundle", path);
	if (attempt)
		json_object_set_new(j, "attempt", json_string(attempt));
	if (c && c->digest[0])
		json_object_set_new(j, "digest", json_string(c->digest));
	if (c && c->manifest.channel) {
		json_object_set_new(j, "channel", json_string(c->manifest.channel));
		json_object_set_new(j, "sequence", json_integer((json_int_t)c->manifest.sequence));
	}
	if (c && c->signer[0])
		json_object_set_new(j, "signer", json_string(c->signer));
	json_object_set_new(j, "verdict", json_string(verdict));
	if (reason)
		json_object_set_new(j, "reason", json_string(reason));
	if (c && c->manifest_sig.len &&
	    (!strcmp(verdict, "imported") || !strcmp(verdict, "started"))) {
		char sig[65];

		/* which blob is the signature: what an index rebuild needs */
		dd_sha256_hex(c->manifest_sig.ptr, c->manifest_sig.len, sig);
		json_object_set_new(j, "signature", json_string(sig));
	}
	if (c && c->expired)
		json_object_set_new(j, "allowed_expired", json_true());
	return j;
}

/* A private staging directory for a dry run: the mirror is not written. */
static int dry_stage(struct dd_buf *dir)
{
	dd_buf_reset(dir);
	dd_buf_addf(dir, "%s/drydock-dry-run.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir->ptr))
		return dd_error_errno("cannot create a temporary directory");
	return 0;
}

static void print_outcome(const char *path, const struct common *o, const struct dd_checked *c,
			  const struct dd_changes *ch)
{
	struct dd_buf counts = DD_BUF_INIT;

	if (c->verdict == DD_VERDICT_ALREADY) {
		printf("%s: already imported (channel %s, sequence %llu); nothing to do\n", path,
		       c->manifest.channel, (unsigned long long)c->manifest.sequence);
		return;
	}
	dd_cli_changes_counts(ch, &counts);
	printf("%s: %s channel %s sequence %llu: %s, %.1f MB, signed by %s%s%s\n", path,
	       o->dry_run ? "would import" : "imported", c->manifest.channel,
	       (unsigned long long)c->manifest.sequence, counts.ptr, (double)c->bytes / 1e6,
	       c->signer, c->expired ? " (EXPIRED, allowed by --allow-expired)" : "",
	       o->dry_run ? " (dry run: nothing written)" : "");
	dd_cli_changes_print(ch);
	dd_buf_release(&counts);
}

/* Check and import the bundle opened in c (dd_bundle_open); a dry run
 * stages in a private folder and commits nothing. */
static int import_one(struct dd_store *s, const struct dd_trust *t, const char *path,
		      struct dd_checked *c, const struct common *o, json_t *results)
{
	struct dd_import_opts io = { o->allow_expired, o->allow_unsigned, false, NULL, false };
	struct dd_buf stage = DD_BUF_INIT;
	struct dd_changes ch = { 0 };
	const char *action = o->dry_run ? "import-dry-run" : "import";
	const char *verdict;
	char attempt[33];
	json_t *rec;
	int rc = 0;

	io.progress = !o->json && !o->cli.quiet && isatty(2);
	io.space_dir = dd_store_root(s);
	dd_store_attempt_id(attempt);
	if (o->dry_run) {
		rc = dry_stage(&stage);
	} else {
		/* first the attempt, so that a kill at any later point leaves a trace */
		rec = audit_record(action, attempt, path, c, "started", NULL);
		rc = dd_store_audit(s, rec);
		json_decref(rec);
		if (rc)
			rc = dd_error_prefix(rc, "cannot record the attempt in the audit log");
		dd_store_path(s, "tmp", &stage);
	}
	if (!rc)
		rc = dd_bundle_check_open(t, s, stage.ptr, &io, c);
	if (!rc && c->verdict == DD_VERDICT_OK)
		rc = dd_changes_compute(s, c, &ch);
	if (!rc && c->verdict == DD_VERDICT_OK && !o->dry_run)
		rc = dd_bundle_commit(s, c);
	verdict = rc                                 ? "refused"
		  : c->verdict == DD_VERDICT_ALREADY ? "already-imported"
		  : o->dry_run                       ? "would-import"
						     : "imported";
	rec = audit_record(action, attempt, path, c, verdict, rc ? dd_error_detail() : NULL);
	if (rc)
		dd_error_prefix(rc, "%s: refused", path);
	if (dd_store_audit(s, rec) && !rc)
		rc = -1;
	if (rc && o->json) {
		json_array_append_new(results, json_incref(rec));
	} else if (rc) {
		dd_cli_error();
	} else if (o->json) {
		json_object_set_new(rec, "packages", json_integer((json_int_t)ch.n_pkgs));
		json_object_set_new(rec, "new_packages", json_integer((json_int_t)ch.n_new));
		json_object_set_new(rec, "bytes", json_integer((json_int_t)c->bytes));
		if (c->verdict == DD_VERDICT_OK)
			json_object_set_new(rec, "changes", dd_cli_changes_json(&ch));
		json_array_append_new(results, json_incref(rec));
	} else {
		print_outcome(path, o, c, &ch);
	}
	json_decref(rec);
	dd_changes_release(&ch);
	dd_checked_release(c);
	if (o->dry_run && stage.len)
		dd_remove_tree(stage.ptr);
	dd_buf_release(&stage);
	return rc;
}

/* Check the bundle opened in c in full and put back what the mirror lacks of it. */
static int repair_one(struct dd_store *s, const struct dd_trust *t, const char *path,
		      struct dd_checked *c, const struct common *o, json_t *results)
{
	struct dd_import_opts io = { true, true, false, dd_store_root(s), true };
	struct dd_buf stage = DD_BUF_INIT;
	struct dd_strs restored = { 0 };
	char attempt[33];
	json_t *rec, *list = json_array();
	int rc;

	io.progress = !o->json && !o->cli.quiet && isatty(2);
	dd_store_attempt_id(attempt);
	rc = dd_bundle_check_open(t, NULL, dd_store_path(s, "tmp", &stage), &io, c);
	if (!rc)
		rc = dd_bundle_repair(s, c, &restored);
	for (size_t i = 0; i < restored.n; i++)
		json_array_append_new(list, json_string(restored.v[i]));
	rec = audit_record("repair", attempt, path, c, rc ? "refused" : "repaired",
			   rc ? dd_error_detail() : NULL);
	json_object_set_new(rec, "restored", list);
	if (rc)
		dd_error_prefix(rc, "%s: refused", path);
	if (dd_store_audit(s, rec) && !rc)
		rc = -1;
	if (o->json)
		json_array_append_new(results, json_incref(rec));
	else if (rc)
		dd_cli_error();
	else if (!restored.n)
		printf("%s: checked; every blob of it is in the mirror and sound: nothing to "
		       "repair\n",
		       path);
	else
		for (size_t i = 0; i < restored.n; i++)
			printf("%s: restored %s\n", path, restored.v[i]);
	json_decref(rec);
	dd_strs_release(&restored);
	dd_checked_release(c);
	dd_buf_release(&stage);
	return rc;
}

struct queued {
	const char *path;
	struct dd_checked c; /* opened, its manifest read */
	bool known;          /* its manifest could be read */
	char *channel;
	uint64_t sequence;
	int pos; /* on the command line */
};

static int cmp_queued(const void *a, const void *b)
{
	const struct queued *x = a, *y = b;
	int c;

	if (x->known != y->known || !x->known)
		return x->known != y->known ? (x->known ? -1 : 1) : x->pos - y->pos;
	c = strcmp(x->channel, y->channel);
	if (c)
		return c;
	if (x->sequence != y->sequence)
		return x->sequence < y->sequence ? -1 : 1;
	return x->pos - y->pos;
}

/*
 * Bundles of one channel go in sequence order whatever order they were
 * given in (a shell glob puts bundle-10 before bundle-9).  Each is opened
 * once and only its manifest read before the ordering; the import goes
 * on from there, so a bundle is read once even from a pipe.  A bundle
 * whose manifest cannot be read keeps its turn after the others, to be
 * refused with the full checks.
 */
static struct queued *order_bundles(char **paths, int n)
{
	struct queued *q = dd_xcalloc((size_t)n + 1, sizeof(*q));

	for (int i = 0; i < n; i++) {
		struct dd_manifest m;

		q[i].path = paths[i];
		q[i].pos = i;
		if (dd_bundle_open(paths[i], &q[i].c, &m) == 0 && m.channel) {
			q[i].known = true;
			q[i].channel = dd_xstrdup(m.channel);
			q[i].sequence = m.sequence;
			dd_manifest_release(&m);
		}
	}
	qsort(q, (size_t)n, sizeof(*q), cmp_queued);
	dd_error_clear();
	return q;
}

/* Imports refused before the mirror could be opened (busy, say) are
 * recorded too, when the audit log can be written. */
static void audit_unopened(const char *root, char **paths, int n)
{
	char *why = dd_xstrdup(dd_error_detail());
	int code = dd_error_code();

	if (code == DD_E_NO_MIRROR) { /* no audit log to write, and none to start */
		free(why);
		return;
	}
	for (int i = 0; i < n; i++) {
		char attempt[33];
		json_t *rec;

		dd_store_attempt_id(attempt);
		rec = audit_record("import", attempt, paths[i], NULL, "started", NULL);
		dd_store_audit_at(root, rec);
		json_decref(rec);
		rec = audit_record("import", attempt, paths[i], NULL, "refused", why);
		dd_store_audit_at(root, rec);
		json_decref(rec);
	}
	dd_error(code, "%s", why);
	free(why);
}

/* Import (or repair) every bundle into the open mirror s; the exit code. */
static int import_all(struct dd_store *s, const struct dd_trust *t, char **paths, int n,
		      const struct common *o, json_t *results)
{
	struct queued *q = order_bundles(paths, n);
	int ret = DD_EXIT_OK;

	for (int i = 0; i < n; i++) {
		if ((o->repair ? repair_one : import_one)(s, t, q[i].path, &q[i].c, o, results))
			ret = DD_EXIT_FAIL;
		free(q[i].channel);
	}
	free(q);
	return ret;
}

static int mirror_import(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	struct dd_store *s = NULL;
	struct dd_trust t;
	json_t *results = NULL;
	const struct dd_option opts[] = {
		COMMON_OPTIONS(&o),
		DD_OPT_BOOL('x', "allow-expired", &o.allow_expired,
			    "accept a bundle past its expiry date (the audit log says so)"),
		DD_OPT_BOOL(0, "allow-unsigned-packages", &o.allow_unsigned,
			    "store packages the bundle marks unsigned, unguarded"),
		DD_OPT_BOOL(0, "dry-run", &o.dry_run,
			    "make every check and report what would change; write nothing"),
		DD_OPT_BOOL(0, "repair", &o.repair,
			    "put back the blobs of an imported bundle the mirror lacks"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&import_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (o.repair && o.dry_run)
		return finish(&o, dd_cli_usage_error("mirror import: --repair or --dry-run, "
						     "not both"));
	if (dd_store_open(dd_store_default_root(o.cli.mirror), o.dry_run ? 0 : DD_STORE_WRITE,
			  &s) ||
	    dd_trustdb_load(s, &t)) {
		audit_unopened(dd_store_default_root(o.cli.mirror), o.cli.args, o.cli.n_args);
		dd_cli_error();
		dd_store_close(s);
		return finish(&o, DD_EXIT_FAIL);
	}
	results = json_array();
	o.cli.exit = import_all(s, &t, o.cli.args, o.cli.n_args, &o, results);
	dd_trustdb_unload(&t);
	dd_store_close(s);
	if (o.json)
		dd_cli_print_json(results);
	else
		json_decref(results);
	return finish(&o, o.cli.exit);
}

/* ---- receipt ---------------------------------------------------------- */

static const struct dd_cmd_spec receipt_spec = {
	.name = "mirror receipt",
	.about = "Write what the mirror holds (channels and their sequences, the entitlement\n"
		 "version, every package's name, version, arch and sha256) to FILE, as JSON, for\n"
		 "the vendor: 'drydock bundle create --since FILE' leaves out what the site\n"
		 "already holds. With --sign, FILE.sig is a detached OpenPGP signature by the\n"
		 "site's key KEYID (from --gnupg-home, else the default GnuPG home).\n",
};

/* The receipt (and its signature with key) of the mirror at root, written to out. */
static int write_receipt(const char *root, const char *out, const char *key, const char *home,
			 struct dd_buf *sigpath)
{
	struct dd_buf text = DD_BUF_INIT, sig = DD_BUF_INIT;
	struct dd_store *s = NULL;
	int rc = dd_store_open(root, 0, &s);

	if (!rc)
		rc = dd_receipt_make(s, &text);
	dd_store_close(s);
	if (!rc && key)
		rc = dd_pgp_sign(home, key, text.ptr, text.len, &sig);
	if (!rc)
		rc = dd_write_file(out, text.ptr, text.len);
	dd_buf_addf(sigpath, "%s.sig", out);
	if (!rc && key)
		rc = dd_write_file(sigpath->ptr, sig.ptr, sig.len);
	dd_buf_release(&text);
	dd_buf_release(&sig);
	return rc;
}

static int mirror_receipt(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	const char *out = NULL, *key = NULL, *home = NULL;
	struct dd_buf sigpath = DD_BUF_INIT;
	const struct dd_option opts[] = {
		COMMON_OPTIONS(&o),
		DD_OPT_STRING_REQUIRED('o', "output", &out, "FILE", "where the receipt goes"),
		DD_OPT_STRING('s', "sign", &key, "KEYID",
			      "sign it (FILE.sig) with the site's OpenPGP key"),
		DD_OPT_STRING('g', "gnupg-home", &home, "DIR", "the GnuPG home holding KEYID"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&receipt_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (home && !key)
		return finish(&o,
			      dd_cli_usage_error("mirror receipt: --gnupg-home without --sign"));
	if (write_receipt(dd_store_default_root(o.cli.mirror), out, key, home, &sigpath)) {
		dd_cli_error();
		o.cli.exit = DD_EXIT_FAIL;
	} else if (o.json) {
		dd_cli_print_json(json_pack("{s:s, s:s, s:b, s:s?}", "file", out, "mirror",
					    dd_store_default_root(o.cli.mirror), "signed",
					    key != NULL, "signature", key ? sigpath.ptr : NULL));
	} else {
		printf("%s: receipt of %s%s%s\n", out, dd_store_default_root(o.cli.mirror),
		       key ? ", signed: " : "", key ? sigpath.ptr : "");
	}
	dd_buf_release(&sigpath);
	return finish(&o, o.cli.exit);
}

/* ---- queries ---------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* rows (from a dd_index_* listing that returned rc) as JSON or through print. */
static int print_rows(const struct common *o, int rc, json_t *rows, void (*print)(json_t *row))
{
	json_t *row;
	size_t i;

	if (rc) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (o->json) {
		dd_cli_print_json(rows);
		return DD_EXIT_OK;
	}
	json_array_foreach(rows, i, row)
		print(row);
	json_decref(rows);
	return DD_EXIT_OK;
}

static void print_pkg_row(json_t *r)
{
	printf("%s-%s %s %s%s\n", jstr(r, "name"), jstr(r, "version"), jstr(r, "arch"),
	       json_integer_value(json_object_get(r, "guarded")) ? "guarded" : "unguarded",
	       json_is_null(json_object_get(r, "signer")) ? " (unsigned)" : "");
}

static const struct dd_cmd_spec list_spec = {
	.name = "mirror list",
	.operands = "[GLOB]",
	.max_operands = 1,
	.store = DD_CMD_STORE_READ,
	.about = "Packages in the mirror whose name matches GLOB (default: all).\n",
};

static int mirror_list(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	json_t *rows;
	int rc;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&list_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	rc = dd_index_list_packages(o.cli.store, o.cli.n_args ? o.cli.args[0] : "*", &rows);
	return finish(&o, print_rows(&o, rc, rows, print_pkg_row));
}

static void print_show(json_t *r)
{
	static const char *keys[] = { "name",    "version", "arch",       "description", "url",
				      "license", "origin",  "maintainer", "checksum",    "sha256",
				      "signer",  "bundle",  "channel",    "sequence" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(r, keys[i]);

		if (json_is_string(v))
			printf("  %-14s %s\n", keys[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("  %-14s %lld\n", keys[i], (long long)json_integer_value(v));
	}
	printf("  %-14s %s\n", "guarded",
	       json_integer_value(json_object_get(r, "guarded")) ? "yes" : "no");
	printf("  %-14s %lld bytes (installed %lld)\n", "size",
	       (long long)json_integer_value(json_object_get(r, "size")),
	       (long long)json_integer_value(json_object_get(r, "installed_size")));
}

static const struct dd_cmd_spec show_spec = {
	.name = "mirror show",
	.operands = "PKG[=VERSION]",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "need one PKG[=VERSION]",
	.store = DD_CMD_STORE_READ,
	.about = "One package (every version, or the one given): metadata, relations, the\n"
		 "number of files, and the bundle that brought it.\n",
};

static void print_shown(json_t *rows)
{
	json_t *row, *deps;
	size_t i;

	json_array_foreach(rows, i, row) {
		deps = json_object_get(row, "relations");
		printf("%s-%s:\n", jstr(row, "name"), jstr(row, "version"));
		print_show(row);
		for (size_t k = 0; k < json_array_size(deps); k++)
			printf("  %-14s %s\n", jstr(json_array_get(deps, k), "kind"),
			       jstr(json_array_get(deps, k), "text"));
		printf("  %-14s %zu\n", "files", json_array_size(json_object_get(row, "files")));
	}
}

static int mirror_show(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	char *name, *version;
	json_t *rows;
	int rc;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&show_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	name = dd_xstrdup(o.cli.args[0]);
	version = strchr(name, '='); /* NULL: any version */
	if (version)
		*version++ = 0;
	rc = dd_index_show_package(o.cli.store, name, version, &rows);
	free(name);
	if (rc)
		return finish(&o, dd_cli_fail(rc));
	if (!json_array_size(rows)) {
		fprintf(stderr, "drydock: %s is not in the mirror (see 'drydock mirror list')\n",
			o.cli.args[0]);
		json_decref(rows);
		return finish(&o, DD_EXIT_FAIL);
	}
	if (o.json) {
		dd_cli_print_json(rows);
		return finish(&o, DD_EXIT_OK);
	}
	print_shown(rows);
	json_decref(rows);
	return finish(&o, DD_EXIT_OK);
}

static void print_owner(json_t *r)
{
	printf("%s-%s %s (%s)\n", jstr(r, "name"), jstr(r, "version"), jstr(r, "path"),
	       jstr(r, "type"));
}

static const struct dd_cmd_spec owner_spec = {
	.name = "mirror owner",
	.operands = "PATH",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "need one PATH",
	.store = DD_CMD_STORE_READ,
	.about = "Which packages in the mirror ship PATH.\n",
};

static int mirror_owner(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	const char *path;
	json_t *rows;
	int rc;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&owner_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	path = o.cli.args[0];
	while (*path == '/')
		path++;
	rc = dd_index_owners(o.cli.store, path, &rows);
	return finish(&o, print_rows(&o, rc, rows, print_owner));
}

static void print_bundle(json_t *r)
{
	printf("%-12s %6lld %s signed by %s, imported %s%s\n", jstr(r, "channel"),
	       (long long)json_integer_value(json_object_get(r, "sequence")), jstr(r, "digest"),
	       jstr(r, "signer"), jstr(r, "imported"),
	       json_integer_value(json_object_get(r, "expired_allowed")) ? " (was expired)" : "");
}

static const struct dd_cmd_spec bundles_spec = {
	.name = "mirror bundles",
	.store = DD_CMD_STORE_READ,
	.about = "The bundles the mirror imported, by channel and sequence: digest, signer and\n"
		 "when.\n",
};

static int mirror_bundles(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	json_t *rows;
	int rc;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&bundles_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	rc = dd_index_bundles(o.cli.store, &rows);
	return finish(&o, print_rows(&o, rc, rows, print_bundle));
}

static void print_entitled(json_t *r)
{
	printf("v%lld %-20s %-24s %s%s%s\n",
	       (long long)json_integer_value(json_object_get(r, "version")), jstr(r, "image"),
	       jstr(r, "name"),
	       json_integer_value(json_object_get(r, "base")) ? "base" : "guarded ",
	       json_is_string(json_object_get(r, "pkgversion")) ? " " : "", jstr(r, "pkgversion"));
}

static const struct dd_cmd_spec entitlements_spec = {
	.name = "mirror entitlements",
	.store = DD_CMD_STORE_READ,
	.about = "Every entitlement manifest the mirror imported, newest first, and the images\n"
		 "and packages the current one entitles.\n",
};

static void print_entitlements(json_t *ents)
{
	json_t *e;
	size_t i;

	json_array_foreach(ents, i, e) {
		long long v = (long long)json_integer_value(json_object_get(e, "version"));

		printf("version %lld%s: %s, issued %s, expires %s, signed by %s\n", v,
		       i == 0 ? " (current)" : "", jstr(e, "organization"), jstr(e, "issued"),
		       jstr(e, "expires"), jstr(e, "signer"));
		if (i == 0)
			for (size_t k = 0; k < json_array_size(json_object_get(e, "packages")); k++)
				print_entitled(json_array_get(json_object_get(e, "packages"), k));
	}
}

static int mirror_entitlements(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	json_t *ents;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&entitlements_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (dd_index_entitlements(o.cli.store, &ents))
		return finish(&o, dd_cli_fail(-1));
	if (o.json) {
		dd_cli_print_json(ents);
	} else {
		print_entitlements(ents);
		json_decref(ents);
	}
	return finish(&o, DD_EXIT_OK);
}

static const struct dd_cmd_spec audit_spec = {
	.name = "mirror audit",
	.store = DD_CMD_STORE_READ,
	.about = "Every import (refusals included) and trust change, oldest first.\n",
};

static void print_audit_line(json_t *j)
{
	printf("%s %-16s %s%s%s%s%s\n", jstr(j, "time"),
	       json_object_get(j, "verdict") ? jstr(j, "verdict") : jstr(j, "action"),
	       json_object_get(j, "bundle") ? jstr(j, "bundle")
	       : json_object_get(j, "key")  ? jstr(j, "key")
					    : jstr(j, "mirror"),
	       json_object_get(j, "channel") ? " channel " : "", jstr(j, "channel"),
	       json_object_get(j, "reason") ? ": " : "", jstr(j, "reason"));
}

static int mirror_audit(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	struct dd_blob rest, line;
	json_t *arr;
	const struct dd_option opts[] = { COMMON_OPTIONS(&o), DD_OPT_END };

	if (dd_cli_parse(&audit_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (access(dd_store_path(o.cli.store, "audit.log", &path), F_OK) == 0 &&
	    dd_read_file(path.ptr, UINT64_MAX, &text)) {
		dd_cli_error();
		o.cli.exit = DD_EXIT_FAIL;
	}
	arr = json_array();
	rest = dd_buf_blob(&text);
	while (rest.len) {
		json_t *j;

		dd_blob_split(&rest, '\n', &line);
		j = json_loadb(line.ptr, line.len, 0, NULL);
		if (!j)
			continue;
		if (o.json) {
			json_array_append_new(arr, j);
			continue;
		}
		print_audit_line(j);
		json_decref(j);
	}
	if (o.json)
		dd_cli_print_json(arr);
	else
		json_decref(arr);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return finish(&o, o.cli.exit);
}

/* ---- fsck and gc ------------------------------------------------------ */

static void print_list(const char *label, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		printf("%s: %s\n", label, json_string_value(v));
}

/* fsck --rebuild-index: what was restored, what was lost (rebuild.h). */
static int rebuild_index(const struct common *o)
{
	json_t *rep, *v;
	int rc = dd_bundle_rebuild_index(dd_store_default_root(o->cli.mirror), &rep);
	size_t i;

	if (rc && rc != DD_E_NOTFOUND) {
		dd_cli_error();
		json_decref(rep);
		return DD_EXIT_FAIL;
	}
	if (o->json) {
		dd_cli_print_json(rep);
		return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
	}
	printf("the old index is kept as %s\n", json_string_value(json_object_get(rep, "aside")));
	printf("restored from the audit log and the blobs: %lld trusted key(s), %zu bundle(s) "
	       "with their packages, files, dependencies and entitlements\n",
	       (long long)json_integer_value(json_object_get(rep, "keys")),
	       json_array_size(json_object_get(rep, "restored")));
	json_array_foreach(json_object_get(rep, "lost"), i, v)
		printf("LOST: %s (%s): %s\n", json_string_value(json_object_get(v, "bundle")),
		       json_string_value(json_object_get(v, "digest")),
		       json_string_value(json_object_get(v, "reason")));
	printf("not restored: import times (now the rebuild's; the audit log keeps them), "
	       "trusted keys' labels, bundles the audit log does not record\n");
	json_decref(rep);
	return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
}

/* fsck opens the mirror itself: --rebuild-index must not (the index may be lost). */
static const struct dd_cmd_spec fsck_spec = {
	.name = "mirror fsck",
	.about = "Check the index and that every blob it names is there with its size;\n"
		 "--deep re-hashes every blob. Exit 0 when clean, 1 when not.\n"
		 "--rebuild-index moves a lost or damaged index aside and rebuilds it from\n"
		 "the blobs and the audit log (trusted keys, bundles, packages, files).\n",
};

static void print_fsck(const struct common *o, const struct dd_fsck *r)
{
	if (o->json) {
		dd_cli_print_json(json_pack("{s:b, s:I, s:I, s:b, s:O, s:O}", "clean",
					    !json_array_size(r->problems), "blobs", r->blobs,
					    "bytes", r->bytes, "deep", o->deep, "problems",
					    r->problems, "notes", r->notes));
		return;
	}
	print_list("PROBLEM", r->problems);
	print_list("note", r->notes);
	printf("%s: %lld blobs, %.1f MB %s; %s\n", dd_store_default_root(o->cli.mirror),
	       (long long)r->blobs, (double)r->bytes / 1e6,
	       o->deep ? "re-hashed" : "checked by size",
	       json_array_size(r->problems) ? "NOT CLEAN" : "clean");
}

static int mirror_fsck(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	struct dd_store *s = NULL;
	struct dd_fsck r;
	int rc;
	const struct dd_option opts[] = {
		COMMON_OPTIONS(&o),
		DD_OPT_BOOL(0, "deep", &o.deep, "re-hash every blob"),
		DD_OPT_BOOL(0, "rebuild-index", &o.rebuild,
			    "move the index aside and rebuild it from the blobs and the audit "
			    "log"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&fsck_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (o.rebuild)
		return finish(&o, rebuild_index(&o));
	if (dd_store_open(dd_store_default_root(o.cli.mirror), 0, &s))
		return finish(&o, dd_cli_fail(-1));
	rc = dd_store_fsck(s, o.deep, &r);
	dd_store_close(s);
	if (rc)
		return finish(&o, dd_cli_fail(rc));
	print_fsck(&o, &r);
	rc = json_array_size(r.problems) ? DD_EXIT_FAIL : DD_EXIT_OK;
	dd_fsck_release(&r);
	return finish(&o, rc);
}

static const struct dd_cmd_spec gc_spec = {
	.name = "mirror gc",
	.store = DD_CMD_STORE_WRITE,
	.about = "Record killed imports as interrupted in the audit log, remove blobs the\n"
		 "index does not refer to (left by interrupted imports),\n"
		 "stale staging files, and crust layers in the layer cache that no build\n"
		 "has used for DAYS days (default 30; 0 empties the cache). It takes the\n"
		 "mirror's lock, so it never runs during an import or a build; an\n"
		 "interrupted import restarts from its bundle, and a pruned layer is made\n"
		 "again by the next build that needs it.\n",
};

static int mirror_gc(int argc, char **argv)
{
	struct common o = COMMON_INIT;
	int64_t files = 0, bytes = 0, lfiles = 0, lbytes = 0, ended = 0;
	const struct dd_option opts[] = {
		COMMON_OPTIONS(&o),
		DD_OPT_CONF_INT(0, "keep-layers", &o.keep_layers, "DAYS", 0, 36500,
				"prune cached crust layers no build used for DAYS days (default "
				"30)"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&gc_spec, opts, argc, argv, &o.cli))
		return finish(&o, o.cli.exit);
	if (dd_store_end_attempts(o.cli.store, &ended) ||
	    dd_store_gc(o.cli.store, &files, &bytes) ||
	    dd_store_gc_layers(o.cli.store, (int64_t)o.keep_layers * 86400, &lfiles, &lbytes))
		return finish(&o, dd_cli_fail(-1));
	if (o.json)
		dd_cli_print_json(json_pack("{s:I, s:I, s:I, s:I}", "removed_blobs", files,
					    "removed_bytes", bytes, "removed_cache_files", lfiles,
					    "removed_cache_bytes", lbytes));
	else
		printf("removed %lld unreferenced blobs (%.1f MB) and %lld layer cache files "
		       "(%.1f MB)\n",
		       (long long)files, (double)bytes / 1e6, (long long)lfiles,
		       (double)lbytes / 1e6);
	return finish(&o, DD_EXIT_OK);
}

static const struct dd_subcommand mirror_commands[] = {
	{ "init", mirror_init, "make a new, empty mirror (nothing else makes one)" },
	{ "import", mirror_import, "verify bundles and add them to the mirror" },
	{ "receipt", mirror_receipt, "what the mirror holds, for delta bundles" },
	{ "list", mirror_list, "packages in the mirror" },
	{ "show", mirror_show, "one package: metadata, relations, files, origin" },
	{ "owner", mirror_owner, "which packages ship a path" },
	{ "bundles", mirror_bundles, "imported bundles, by channel" },
	{ "entitlements", mirror_entitlements, "entitlement manifests and entitled images" },
	{ "audit", mirror_audit, "the audit log" },
	{ "fsck", mirror_fsck, "check the index and the blobs (--deep re-hashes)" },
	{ "gc", mirror_gc, "remove blobs nothing refers to, prune the layer cache" },
	{ NULL, NULL, NULL },
};

int cmd_mirror(int argc, char **argv)
{
	return dd_cli_dispatch("mirror", mirror_commands, argc, argv, mirror_usage);
}
