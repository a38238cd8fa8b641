/*
 * drydock mirror: import bundles, and look at and look after the mirror.
 */
#include <dirent.h>
#include <getopt.h>
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

/* Options every mirror command takes; returns the index of the first operand or -1. */
struct common {
	const char *mirror, *keep_layers;
	bool json, deep, allow_expired, allow_unsigned, dry_run, repair, rebuild;
};

static int parse_common(int argc, char **argv, struct common *c, const char *help)
{
	static const struct option opts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "deep", no_argument, NULL, 'd' },
		{ "allow-expired", no_argument, NULL, 'x' },
		{ "allow-unsigned-packages", no_argument, NULL, 'u' },
		{ "keep-layers", required_argument, NULL, 'K' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "repair", no_argument, NULL, 'R' },
		{ "rebuild-index", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(c, 0, sizeof(*c));
	while ((ch = getopt_long(argc, argv, "m:jdxuh", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': c->mirror = optarg; break;
		case 'j': c->json = true; break;
		case 'd': c->deep = true; break;
		case 'x': c->allow_expired = true; break;
		case 'u': c->allow_unsigned = true; break;
		case 'K': c->keep_layers = optarg; break;
		case 'n': c->dry_run = true; break;
		case 'R': c->repair = true; break;
		case 'I': c->rebuild = true; break;
		case 'h': fputs(help, stdout); return -2;
		default: return -1;
		}
	}
	if ((c->dry_run || c->repair) && strncmp(help, "usage: drydock mirror import ", 29)) {
		dd_cli_usage_error("--%s is an option of 'mirror import' only",
				   c->dry_run ? "dry-run" : "repair");
		return -1;
	}
	return optind;
}

#define PARSE(help) \
	struct common o; \
	int first = parse_common(argc, argv, &o, help); \
	if (first == -2) \
		return DD_EXIT_OK; \
	if (first < 0) \
		return DD_EXIT_USAGE

/* ---- init ------------------------------------------------------------- */

static const char init_help[] =
	"usage: drydock mirror init [--json] [DIR]\n\n"
	"Make a new, empty mirror in DIR (default: --mirror DIR, else $DRYDOCK_MIRROR,\n"
	"else ./mirror): its folders, its index and its identity. DIR must be new or an\n"
	"empty directory; a mirror already there is left as it is (exit 0), anything\n"
	"else is refused. No other command makes a mirror: each refuses a missing one,\n"
	"naming the path it looked at and how it chose it. Next, trust the vendor's\n"
	"keys ('drydock trust add') and import a bundle ('drydock mirror import').\n";

/* The audit log's first line: when and where the mirror was made. */
static int audit_init(struct dd_store *s, const char *where)
{
	char now[32];
	json_t *j;
	int rc;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "action", "mirror-init", "mirror",
		      where, "id", dd_identity_id(s));
	rc = dd_store_audit(s, j);
	json_decref(j);
	return rc;
}

static int mirror_init(int argc, char **argv)
{
	struct dd_buf abs = DD_BUF_INIT;
	struct dd_store *s = NULL;
	const char *root;
	bool made;
	int rc;

	PARSE(init_help);
	if (first < argc - 1 || (first < argc && o.mirror))
		return dd_cli_usage_error("mirror init: give one DIR, or --mirror DIR, not both");
	root = dd_store_default_root(first < argc ? argv[first] : o.mirror);
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
		       "audit.log, blobs/sha256/, tmp/, keys/apk/, gnupg/\n", abs.ptr,
		       dd_identity_id(s));
		printf("next: trust the vendor's keys, e.g. 'drydock trust add --mirror %s --role "
		       "bundle VENDOR.asc' (and --role entitlement, apk), then 'drydock mirror "
		       "import --mirror %s BUNDLE'\n", abs.ptr, abs.ptr);
	}
	dd_store_close(s);
	dd_buf_release(&abs);
	return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
}

/* ---- import ----------------------------------------------------------- */

static const char import_help[] =
	"usage: drydock mirror import [--mirror DIR] [--allow-expired] [--dry-run | --repair]\n"
	"                             [--allow-unsigned-packages] [--json] BUNDLE...\n\n"
	"Verify each bundle completely and add it to the mirror, all or nothing. The\n"
	"manifest must be signed by a trusted bundle key, every member must match it,\n"
	"every package must be signed by a trusted apk key (or marked unsigned by the\n"
	"bundle and --allow-unsigned-packages given: then it is stored unguarded), and\n"
	"per channel the sequence must grow. Bundles of one channel are imported in\n"
	"sequence order, whatever order they are given in. Each bundle is read once,\n"
	"so it may be a pipe; - reads one from standard input. Every attempt goes to\n"
	"the audit log. The report says what changed: packages new, upgraded (old -> new) or\n"
	"already held, the entitlement version, images added or removed, package\n"
	"versions that became guarded or unguarded, and when the bundle expires.\n"
	"--dry-run makes every check an import would make, against this mirror, and\n"
	"reports what would change; it writes nothing but its line in the audit log.\n"
	"--repair checks a bundle the mirror imported before, in full, and puts back\n"
	"every blob of it the mirror lacks or holds damaged ('mirror fsck' names the\n"
	"bundles that can); nothing else changes.\n";

static json_t *audit_record(const char *action, const char *attempt, const char *path,
			    const struct dd_checked *c,
			    const char *verdict, const char *reason)
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
	if (c && c->manifest_sig.len && (!strcmp(verdict, "imported") ||
					 !strcmp(verdict, "started"))) {
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

	io.progress = !o->json && isatty(2);
	io.space_dir = s->root;
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
	verdict = rc ? "refused" : c->verdict == DD_VERDICT_ALREADY ? "already-imported" :
	      o->dry_run ? "would-import" : "imported";
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
	struct dd_import_opts io = { true, true, false, s->root, true };
	struct dd_buf stage = DD_BUF_INIT;
	struct dd_strs restored = { 0 };
	char attempt[33];
	json_t *rec, *list = json_array();
	int rc;

	io.progress = !o->json && isatty(2);
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
		       "repair\n", path);
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
	bool known;         /* its manifest could be read */
	char *channel;
	uint64_t sequence;
	int pos;            /* on the command line */
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

static int mirror_import(int argc, char **argv)
{
	struct dd_store *s = NULL;
	struct dd_trust t;
	struct queued *q;
	json_t *results = json_array();
	int ret = DD_EXIT_OK;

	PARSE(import_help);
	if (o.repair && o.dry_run) {
		json_decref(results);
		return dd_cli_usage_error("mirror import: --repair or --dry-run, not both");
	}
	if (first >= argc) {
		json_decref(results);
		return dd_cli_usage_error("mirror import: no bundle given");
	}
	if (dd_store_open(dd_store_default_root(o.mirror), o.dry_run ? 0 : DD_STORE_WRITE, &s) ||
	    dd_trustdb_load(s, &t)) {
		audit_unopened(dd_store_default_root(o.mirror), argv + first, argc - first);
		dd_cli_error();
		dd_store_close(s);
		json_decref(results);
		return DD_EXIT_FAIL;
	}
	q = order_bundles(argv + first, argc - first);
	for (int i = 0; i < argc - first; i++) {
		if ((o.repair ? repair_one : import_one)(s, &t, q[i].path, &q[i].c, &o, results))
			ret = DD_EXIT_FAIL;
		free(q[i].channel);
	}
	free(q);
	dd_trustdb_unload(&t);
	dd_store_close(s);
	if (o.json)
		dd_cli_print_json(results);
	else
		json_decref(results);
	return ret;
}

/* ---- receipt ---------------------------------------------------------- */

static const char receipt_help[] =
	"usage: drydock mirror receipt [--mirror DIR] -o FILE [--sign KEYID [--gnupg-home DIR]]\n\n"
	"Write what the mirror holds (channels and their sequences, the entitlement\n"
	"version, every package's name, version, arch and sha256) to FILE, as JSON, for\n"
	"the vendor: 'drydock bundle create --since FILE' leaves out what the site\n"
	"already holds. With --sign, FILE.sig is a detached OpenPGP signature by the\n"
	"site's key KEYID (from --gnupg-home, else the default GnuPG home).\n";

static int mirror_receipt(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mirror", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "sign", required_argument, NULL, 's' },
		{ "gnupg-home", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mirror = NULL, *out = NULL, *key = NULL, *home = NULL;
	struct dd_buf text = DD_BUF_INIT, sig = DD_BUF_INIT, sigpath = DD_BUF_INIT;
	struct dd_store *s = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "m:o:s:g:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': mirror = optarg; break;
		case 'o': out = optarg; break;
		case 's': key = optarg; break;
		case 'g': home = optarg; break;
		case 'h': fputs(receipt_help, stdout); return DD_EXIT_OK;
		default: return DD_EXIT_USAGE;
		}
	}
	if (!out || optind != argc)
		return dd_cli_usage_error("mirror receipt: need -o FILE and nothing else (see --help)");
	if (home && !key)
		return dd_cli_usage_error("mirror receipt: --gnupg-home without --sign");
	rc = dd_store_open(dd_store_default_root(mirror), 0, &s);
	if (!rc)
		rc = dd_receipt_make(s, &text);
	dd_store_close(s);
	if (!rc && key)
		rc = dd_pgp_sign(home, key, text.ptr, text.len, &sig);
	if (!rc)
		rc = dd_write_file(out, text.ptr, text.len);
	dd_buf_addf(&sigpath, "%s.sig", out);
	if (!rc && key)
		rc = dd_write_file(sigpath.ptr, sig.ptr, sig.len);
	if (rc)
		dd_cli_error();
	else
		printf("%s: receipt of %s%s%s\n", out, dd_store_default_root(mirror),
		       key ? ", signed: " : "", key ? sigpath.ptr : "");
	dd_buf_release(&text);
	dd_buf_release(&sig);
	dd_buf_release(&sigpath);
	return rc ? DD_EXIT_FAIL : DD_EXIT_OK;
}

/* ---- queries ---------------------------------------------------------- */

static int open_ro(const struct common *o, struct dd_store **s)
{
	if (dd_store_open(dd_store_default_root(o->mirror), 0, s)) {
		dd_cli_error();
		return -1;
	}
	return 0;
}

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

static int mirror_list(int argc, char **argv)
{
	struct dd_store *s;
	const char *glob;
	json_t *rows;
	int rc, ret;

	PARSE("usage: drydock mirror list [--mirror DIR] [--json] [GLOB]\n\n"
	      "Packages in the mirror whose name matches GLOB (default: all).\n");
	glob = first < argc ? argv[first] : "*";
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	rc = dd_index_list_packages(s, glob, &rows);
	ret = print_rows(&o, rc, rows, print_pkg_row);
	dd_store_close(s);
	return ret;
}

static void print_show(json_t *r)
{
	static const char *keys[] = { "name", "version", "arch", "description", "url", "license",
				      "origin", "maintainer", "checksum", "sha256", "signer",
				      "bundle", "channel", "sequence" };

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

static int mirror_show(int argc, char **argv)
{
	struct dd_store *s;
	char *name, *version;
	json_t *rows, *row, *deps;
	size_t i;
	int rc;

	PARSE("usage: drydock mirror show [--mirror DIR] [--json] PKG[=VERSION]\n");
	if (first != argc - 1)
		return dd_cli_usage_error("mirror show: need one PKG[=VERSION]");
	name = dd_xstrdup(argv[first]);
	version = strchr(name, '='); /* NULL: any version */
	if (version)
		*version++ = 0;
	if (open_ro(&o, &s)) {
		free(name);
		return DD_EXIT_FAIL;
	}
	rc = dd_index_show_package(s, name, version, &rows);
	dd_store_close(s);
	free(name);
	if (rc) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (!json_array_size(rows)) {
		fprintf(stderr, "drydock: %s is not in the mirror (see 'drydock mirror list')\n",
			argv[first]);
		json_decref(rows);
		return DD_EXIT_FAIL;
	}
	if (o.json) {
		dd_cli_print_json(rows);
		return DD_EXIT_OK;
	}
	json_array_foreach(rows, i, row) {
		deps = json_object_get(row, "relations");
		printf("%s-%s:\n", jstr(row, "name"), jstr(row, "version"));
		print_show(row);
		for (size_t k = 0; k < json_array_size(deps); k++)
			printf("  %-14s %s\n", jstr(json_array_get(deps, k), "kind"),
			       jstr(json_array_get(deps, k), "text"));
		printf("  %-14s %zu\n", "files", json_array_size(json_object_get(row, "files")));
	}
	json_decref(rows);
	return DD_EXIT_OK;
}

static void print_owner(json_t *r)
{
	printf("%s-%s %s (%s)\n", jstr(r, "name"), jstr(r, "version"), jstr(r, "path"),
	       jstr(r, "type"));
}

static int mirror_owner(int argc, char **argv)
{
	struct dd_store *s;
	const char *path;
	json_t *rows;
	int rc, ret;

	PARSE("usage: drydock mirror owner [--mirror DIR] [--json] PATH\n\n"
	      "Which packages in the mirror ship PATH.\n");
	if (first != argc - 1)
		return dd_cli_usage_error("mirror owner: need one PATH");
	path = argv[first];
	while (*path == '/')
		path++;
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	rc = dd_index_owners(s, path, &rows);
	ret = print_rows(&o, rc, rows, print_owner);
	dd_store_close(s);
	return ret;
}

static void print_bundle(json_t *r)
{
	printf("%-12s %6lld %s signed by %s, imported %s%s\n", jstr(r, "channel"),
	       (long long)json_integer_value(json_object_get(r, "sequence")), jstr(r, "digest"),
	       jstr(r, "signer"), jstr(r, "imported"),
	       json_integer_value(json_object_get(r, "expired_allowed")) ? " (was expired)" : "");
}

static int mirror_bundles(int argc, char **argv)
{
	struct dd_store *s;
	json_t *rows;
	int rc, ret;

	PARSE("usage: drydock mirror bundles [--mirror DIR] [--json]\n");
	(void)first;
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	rc = dd_index_bundles(s, &rows);
	ret = print_rows(&o, rc, rows, print_bundle);
	dd_store_close(s);
	return ret;
}

static void print_entitled(json_t *r)
{
	printf("v%lld %-20s %-24s %s%s%s\n", (long long)json_integer_value(json_object_get(r, "version")),
	       jstr(r, "image"), jstr(r, "name"),
	       json_integer_value(json_object_get(r, "base")) ? "base" : "guarded ",
	       json_is_string(json_object_get(r, "pkgversion")) ? " " : "",
	       jstr(r, "pkgversion"));
}

static int mirror_entitlements(int argc, char **argv)
{
	struct dd_store *s;
	json_t *ents, *e;
	size_t i;

	PARSE("usage: drydock mirror entitlements [--mirror DIR] [--json]\n");
	(void)first;
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	if (dd_index_entitlements(s, &ents)) {
		dd_cli_error();
		dd_store_close(s);
		return DD_EXIT_FAIL;
	}
	json_array_foreach(ents, i, e) {
		long long v = (long long)json_integer_value(json_object_get(e, "version"));

		if (o.json)
			continue;
		printf("version %lld%s: %s, issued %s, expires %s, signed by %s\n", v,
		       i == 0 ? " (current)" : "", jstr(e, "organization"), jstr(e, "issued"),
		       jstr(e, "expires"), jstr(e, "signer"));
		if (i == 0)
			for (size_t k = 0; k < json_array_size(json_object_get(e, "packages")); k++)
				print_entitled(json_array_get(json_object_get(e, "packages"), k));
	}
	if (o.json)
		dd_cli_print_json(ents);
	else
		json_decref(ents);
	dd_store_close(s);
	return DD_EXIT_OK;
}

static int mirror_audit(int argc, char **argv)
{
	struct dd_store *s;
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	struct dd_blob rest, line;
	json_t *arr = json_array();
	int ret = DD_EXIT_OK;

	PARSE("usage: drydock mirror audit [--mirror DIR] [--json]\n\n"
	      "Every import (refusals included) and trust change, oldest first.\n");
	(void)first;
	if (open_ro(&o, &s)) {
		json_decref(arr);
		return DD_EXIT_FAIL;
	}
	if (access(dd_store_path(s, "audit.log", &path), F_OK) == 0 &&
	    dd_read_file(path.ptr, UINT64_MAX, &text)) {
		dd_cli_error();
		ret = DD_EXIT_FAIL;
	}
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
		printf("%s %-16s %s%s%s%s%s\n", jstr(j, "time"),
		       json_object_get(j, "verdict") ? jstr(j, "verdict") : jstr(j, "action"),
		       json_object_get(j, "bundle") ? jstr(j, "bundle") :
		       json_object_get(j, "key") ? jstr(j, "key") : jstr(j, "mirror"),
		       json_object_get(j, "channel") ? " channel " : "", jstr(j, "channel"),
		       json_object_get(j, "reason") ? ": " : "", jstr(j, "reason"));
		json_decref(j);
	}
	if (o.json)
		dd_cli_print_json(arr);
	else
		json_decref(arr);
	dd_buf_release(&path);
	dd_buf_release(&text);
	dd_store_close(s);
	return ret;
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
	int rc = dd_bundle_rebuild_index(dd_store_default_root(o->mirror), &rep);
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

static int mirror_fsck(int argc, char **argv)
{
	struct dd_store *s;
	struct dd_fsck r;
	int rc;

	PARSE("usage: drydock mirror fsck [--mirror DIR] [--deep] [--json] [--rebuild-index]\n\n"
	      "Check the index and that every blob it names is there with its size;\n"
	      "--deep re-hashes every blob. Exit 0 when clean, 1 when not.\n"
	      "--rebuild-index moves a lost or damaged index aside and rebuilds it from\n"
	      "the blobs and the audit log (trusted keys, bundles, packages, files).\n");
	(void)first;
	if (o.rebuild)
		return rebuild_index(&o);
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	rc = dd_store_fsck(s, o.deep, &r);
	dd_store_close(s);
	if (rc) {
		dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (o.json) {
		dd_cli_print_json(json_pack("{s:b, s:I, s:I, s:b, s:O, s:O}", "clean",
					    !json_array_size(r.problems), "blobs", r.blobs,
					    "bytes", r.bytes, "deep", o.deep, "problems",
					    r.problems, "notes", r.notes));
	} else {
		print_list("PROBLEM", r.problems);
		print_list("note", r.notes);
		printf("%s: %lld blobs, %.1f MB %s; %s\n", dd_store_default_root(o.mirror),
		       (long long)r.blobs, (double)r.bytes / 1e6, o.deep ? "re-hashed" :
		       "checked by size", json_array_size(r.problems) ? "NOT CLEAN" : "clean");
	}
	rc = json_array_size(r.problems) ? DD_EXIT_FAIL : DD_EXIT_OK;
	dd_fsck_release(&r);
	return rc;
}

static int mirror_gc(int argc, char **argv)
{
	struct dd_store *s = NULL;
	int64_t files = 0, bytes = 0, lfiles = 0, lbytes = 0, ended = 0;
	long days = 30;

	PARSE("usage: drydock mirror gc [--mirror DIR] [--keep-layers DAYS] [--json]\n\n"
	      "Record killed imports as interrupted in the audit log, remove blobs the\n"
	      "index does not refer to (left by interrupted imports),\n"
	      "stale staging files, and crust layers in the layer cache that no build\n"
	      "has used for DAYS days (default 30; 0 empties the cache). It takes the\n"
	      "mirror's lock, so it never runs during an import or a build; an\n"
	      "interrupted import restarts from its bundle, and a pruned layer is made\n"
	      "again by the next build that needs it.\n");
	(void)first;
	if (o.keep_layers) {
		char *end;

		days = strtol(o.keep_layers, &end, 10);
		if (*end || end == o.keep_layers || days < 0 || days > 36500)
			return dd_cli_usage_error("mirror gc: --keep-layers '%s': expected a number "
						  "of days", o.keep_layers);
	}
	if (dd_store_open(dd_store_default_root(o.mirror), DD_STORE_WRITE, &s) ||
	    dd_store_end_attempts(s, &ended) || dd_store_gc(s, &files, &bytes) ||
	    dd_store_gc_layers(s, (int64_t)days * 86400, &lfiles, &lbytes)) {
		dd_cli_error();
		dd_store_close(s);
		return DD_EXIT_FAIL;
	}
	dd_store_close(s);
	if (o.json)
		dd_cli_print_json(json_pack("{s:I, s:I, s:I, s:I}", "removed_blobs", files,
					    "removed_bytes", bytes, "removed_cache_files", lfiles,
					    "removed_cache_bytes", lbytes));
	else
		printf("removed %lld unreferenced blobs (%.1f MB) and %lld layer cache files "
		       "(%.1f MB)\n", (long long)files, (double)bytes / 1e6, (long long)lfiles,
		       (double)lbytes / 1e6);
	return DD_EXIT_OK;
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
