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

#include "bundle/import.h"
#include "bundle/rebuild.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "store/fsck.h"
#include "store/trustdb.h"

static const char mirror_usage[] = "usage: drydock mirror COMMAND [--mirror DIR] [--json] ...\n";

/* Options every mirror command takes; returns the index of the first operand or -1. */
struct common {
	const char *mirror, *keep_layers;
	bool json, deep, allow_expired, allow_unsigned, rebuild;
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
		{ "rebuild-index", no_argument, NULL, 'R' },
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
		case 'R': c->rebuild = true; break;
		case 'h': fputs(help, stdout); return -2;
		default: return -1;
		}
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

/* ---- import ----------------------------------------------------------- */

static const char import_help[] =
	"usage: drydock mirror import [--mirror DIR] [--allow-expired]\n"
	"                             [--allow-unsigned-packages] [--json] BUNDLE...\n\n"
	"Verify each bundle completely and add it to the mirror, all or nothing. The\n"
	"manifest must be signed by a trusted bundle key, every member must match it,\n"
	"every package must be signed by a trusted apk key (or marked unsigned by the\n"
	"bundle and --allow-unsigned-packages given: then it is stored unguarded), and\n"
	"per channel the sequence must grow. Bundles of one channel are imported in\n"
	"sequence order, whatever order they are given in. Each bundle is read once,\n"
	"so it may be a pipe; - reads one from standard input. Every attempt goes to\n"
	"the audit log.\n";

static json_t *audit_record(const char *attempt, const char *path, const struct dd_checked *c,
			    const char *verdict, const char *reason)
{
	char now[32];
	json_t *j;

	dd_time_format(dd_time_now(), now);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", now, "action", "import", "attempt", attempt,
		      "bundle", path);
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

static size_t count_kind(const struct dd_checked *c, bool new_only)
{
	size_t n = 0;

	for (size_t i = 0; i < c->manifest.n_members; i++)
		if (c->members[i].m && c->members[i].m->kind == DD_MEMBER_APK &&
		    (!new_only || c->members[i].new_package))
			n++;
	return n;
}

/* Check and import the bundle opened in c (dd_bundle_open). */
static int import_one(struct dd_store *s, const struct dd_trust *t, const char *path,
		      struct dd_checked *c, const struct common *o, json_t *results)
{
	struct dd_import_opts io = { o->allow_expired, o->allow_unsigned, false };
	struct dd_buf stage = DD_BUF_INIT;
	const char *verdict;
	char attempt[33];
	json_t *rec;
	int rc;

	/* first the attempt, so that a kill at any later point leaves a trace */
	dd_store_attempt_id(attempt);
	rec = audit_record(attempt, path, c, "started", NULL);
	rc = dd_store_audit(s, rec);
	json_decref(rec);
	if (rc)
		rc = dd_error_prefix(rc, "cannot record the attempt in the audit log");
	io.progress = !o->json && isatty(2);
	if (!rc)
		rc = dd_bundle_check_open(t, s, dd_store_path(s, "tmp", &stage), &io, c);
	if (!rc && c->verdict == DD_VERDICT_OK)
		rc = dd_bundle_commit(s, c);
	verdict = rc ? "refused" : c->verdict == DD_VERDICT_ALREADY ? "already-imported" : "imported";
	rec = audit_record(attempt, path, c, verdict, rc ? dd_error_detail() : NULL);
	if (rc)
		dd_error_prefix(rc, "%s: refused", path);
	if (dd_store_audit(s, rec) && !rc)
		rc = -1;
	if (rc && o->json)
		json_array_append_new(results, json_incref(rec));
	else if (rc)
		dd_cli_error();
	else if (o->json) {
		json_object_set_new(rec, "packages", json_integer((json_int_t)count_kind(c, false)));
		json_object_set_new(rec, "new_packages", json_integer((json_int_t)count_kind(c, true)));
		json_object_set_new(rec, "bytes", json_integer((json_int_t)c->bytes));
		json_array_append_new(results, json_incref(rec));
	} else if (c->verdict == DD_VERDICT_ALREADY) {
		printf("%s: already imported (channel %s, sequence %llu); nothing to do\n", path,
		       c->manifest.channel, (unsigned long long)c->manifest.sequence);
	} else {
		printf("%s: imported channel %s sequence %llu: %zu packages (%zu new), %.1f MB, "
		       "signed by %s%s\n", path, c->manifest.channel,
		       (unsigned long long)c->manifest.sequence, count_kind(c, false),
		       count_kind(c, true), (double)c->bytes / 1e6, c->signer,
		       c->expired ? " (EXPIRED, allowed by --allow-expired)" : "");
	}
	json_decref(rec);
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

	for (int i = 0; i < n; i++) {
		char attempt[33];
		json_t *rec;

		dd_store_attempt_id(attempt);
		rec = audit_record(attempt, paths[i], NULL, "started", NULL);
		dd_store_audit_at(root, rec);
		json_decref(rec);
		rec = audit_record(attempt, paths[i], NULL, "refused", why);
		dd_store_audit_at(root, rec);
		json_decref(rec);
	}
	dd_error(DD_E_IO, "%s", why);
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
	if (first >= argc) {
		json_decref(results);
		return dd_cli_usage_error("mirror import: no bundle given");
	}
	if (dd_store_open(dd_store_default_root(o.mirror), DD_STORE_WRITE, &s) ||
	    dd_trustdb_load(s, &t)) {
		audit_unopened(dd_store_default_root(o.mirror), argv + first, argc - first);
		dd_cli_error();
		dd_store_close(s);
		json_decref(results);
		return DD_EXIT_FAIL;
	}
	q = order_bundles(argv + first, argc - first);
	for (int i = 0; i < argc - first; i++) {
		if (import_one(s, &t, q[i].path, &q[i].c, &o, results))
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

/* ---- queries ---------------------------------------------------------- */

static int open_ro(const struct common *o, struct dd_store **s)
{
	if (dd_store_open(dd_store_default_root(o->mirror), 0, s)) {
		dd_cli_error();
		return -1;
	}
	return 0;
}

/* Run sql (binding args) and turn each row into an object keyed by column name. */
static json_t *query(struct dd_store *s, const char *sql, const char *const *args, size_t n)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	int rc;

	if (dd_db_prepare(s, sql, &st)) {
		json_decref(arr);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_TRANSIENT);
	while ((rc = dd_db_step(s, st, "list what the mirror holds")) > 0) {
		json_t *row = json_object();

		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *name = sqlite3_column_name(st, c);

			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				json_object_set_new(row, name, json_integer(sqlite3_column_int64(st, c)));
				break;
			case SQLITE_NULL:
				json_object_set_new(row, name, json_null());
				break;
			default:
				json_object_set_new(row, name, json_string(
					(const char *)sqlite3_column_text(st, c)));
			}
		}
		json_array_append_new(arr, row);
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

#define GUARDED \
	"EXISTS (SELECT 1 FROM entitled_packages e WHERE e.name = p.name AND " \
	"e.pkgversion = p.version AND e.version = (SELECT max(version) FROM entitlements))"

static int print_rows(const struct common *o, struct dd_store *s, const char *sql,
		      const char *const *args, size_t n, void (*print)(json_t *row))
{
	json_t *rows = query(s, sql, args, n), *row;
	size_t i;

	if (!rows) {
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
	int ret;

	PARSE("usage: drydock mirror list [--mirror DIR] [--json] [GLOB]\n\n"
	      "Packages in the mirror whose name matches GLOB (default: all).\n");
	glob = first < argc ? argv[first] : "*";
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	ret = print_rows(&o, s, "SELECT p.name, p.version, p.arch, p.size, p.installed_size, "
			 "p.sha256, p.signer, " GUARDED " AS guarded, p.bundle FROM packages p "
			 "WHERE p.name GLOB ? ORDER BY p.name, p.version, p.arch",
			 &glob, 1, print_pkg_row);
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
	const char *args[2];
	char *name;
	json_t *rows, *row, *deps;
	size_t i;

	PARSE("usage: drydock mirror show [--mirror DIR] [--json] PKG[=VERSION]\n");
	if (first != argc - 1)
		return dd_cli_usage_error("mirror show: need one PKG[=VERSION]");
	name = dd_xstrdup(argv[first]);
	args[0] = name;
	args[1] = strchr(name, '=') ? strchr(name, '=') + 1 : NULL; /* NULL: any version */
	if (strchr(name, '='))
		*strchr(name, '=') = 0;
	if (open_ro(&o, &s)) {
		free(name);
		return DD_EXIT_FAIL;
	}
	rows = query(s, "SELECT p.id, p.name, p.version, p.arch, p.description, p.url, p.license, "
		     "p.origin, p.maintainer, p.checksum, p.sha256, p.size, p.installed_size, "
		     "p.signer, " GUARDED " AS guarded, p.bundle, b.channel, b.sequence "
		     "FROM packages p JOIN bundles b ON b.digest = p.bundle "
		     "WHERE p.name = ?1 AND (?2 IS NULL OR p.version = ?2) ORDER BY p.version, p.arch",
		     args, 2);
	if (!rows) {
		dd_cli_error();
		dd_store_close(s);
		free(name);
		return DD_EXIT_FAIL;
	}
	if (!json_array_size(rows)) {
		fprintf(stderr, "drydock: %s is not in the mirror (see 'drydock mirror list')\n",
			argv[first]);
		json_decref(rows);
		dd_store_close(s);
		free(name);
		return DD_EXIT_FAIL;
	}
	json_array_foreach(rows, i, row) {
		char id[32];
		const char *a[1] = { id };
		json_t *files;

		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(row, "id")));
		deps = query(s, "SELECT kind, text FROM deps WHERE pkg = ? ORDER BY rowid", a, 1);
		files = query(s, "SELECT path, type, mode, uid, gid, size, sha1, link FROM files "
			      "WHERE pkg = ? ORDER BY rowid", a, 1);
		if (!deps || !files) {
			dd_cli_error();
			json_decref(deps);
			json_decref(files);
			json_decref(rows);
			dd_store_close(s);
			free(name);
			return DD_EXIT_FAIL;
		}
		json_object_set_new(row, "relations", deps);
		json_object_set_new(row, "files", files);
		json_object_del(row, "id");
		if (o.json)
			continue;
		printf("%s-%s:\n", jstr(row, "name"), jstr(row, "version"));
		print_show(row);
		for (size_t k = 0; k < json_array_size(deps); k++)
			printf("  %-14s %s\n", jstr(json_array_get(deps, k), "kind"),
			       jstr(json_array_get(deps, k), "text"));
		printf("  %-14s %zu\n", "files", json_array_size(json_object_get(row, "files")));
	}
	if (o.json)
		dd_cli_print_json(rows);
	else
		json_decref(rows);
	dd_store_close(s);
	free(name);
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
	int ret;

	PARSE("usage: drydock mirror owner [--mirror DIR] [--json] PATH\n\n"
	      "Which packages in the mirror ship PATH.\n");
	if (first != argc - 1)
		return dd_cli_usage_error("mirror owner: need one PATH");
	path = argv[first];
	while (*path == '/')
		path++;
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	ret = print_rows(&o, s, "SELECT p.name, p.version, p.arch, f.path, f.type FROM files f "
			 "JOIN packages p ON p.id = f.pkg WHERE f.path = ? "
			 "ORDER BY p.name, p.version", &path, 1, print_owner);
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
	int ret;

	PARSE("usage: drydock mirror bundles [--mirror DIR] [--json]\n");
	(void)first;
	if (open_ro(&o, &s))
		return DD_EXIT_FAIL;
	ret = print_rows(&o, s, "SELECT channel, sequence, digest, created, expires, signer, "
			 "imported, expired_allowed FROM bundles ORDER BY channel, sequence",
			 NULL, 0, print_bundle);
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
	ents = query(s, "SELECT version, organization, issued, expires, sha256, signer, bundle, "
		     "imported FROM entitlements ORDER BY version DESC", NULL, 0);
	if (!ents) {
		dd_cli_error();
		dd_store_close(s);
		return DD_EXIT_FAIL;
	}
	json_array_foreach(ents, i, e) {
		char v[32];
		const char *a[1] = { v };

		snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(json_object_get(e, "version")));
		json_object_set_new(e, "packages", query(s, "SELECT version, image, name, "
							 "pkgversion, base FROM entitled_packages "
							 "WHERE version = ? ORDER BY image, base DESC, "
							 "name", a, 1));
		if (o.json)
			continue;
		printf("version %s%s: %s, issued %s, expires %s, signed by %s\n", v,
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
		       json_object_get(j, "bundle") ? jstr(j, "bundle") : jstr(j, "key"),
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
	{ "import", mirror_import, "verify bundles and add them to the mirror" },
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
