/*
 * drydock pkg: APK packages and indexes on their own, without a mirror.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apk/read.h"
#include "apk/version.h"
#include "apk/write.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/epoch.h"
#include "core/error.h"
#include "core/file.h"

static const char pkg_usage[] = "usage: drydock pkg COMMAND [OPTIONS] ARGS\n";

/* ---- inspect ---------------------------------------------------------- */

static void mode_str(char type, unsigned mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = type == '5'   ? 'd'
		 : type == '2' ? 'l'
		 : type == '1' ? 'h'
		 : type == '3' ? 'c'
		 : type == '4' ? 'b'
		 : type == '6' ? 'p'
			       : '-';
	for (int i = 0; i < 9; i++)
		out[i + 1] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		out[6] = (mode & 010) ? 's' : 'S';
	if (mode & 01000)
		out[9] = (mode & 01) ? 't' : 'T';
	out[10] = 0;
}

static void print_deps(const char *key, const struct dd_dep *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct dd_buf b = DD_BUF_INIT;

		dd_dep_format(&d[i], &b);
		printf("  %-18s %s\n", key, b.ptr);
		dd_buf_release(&b);
	}
}

static void print_meta(const struct dd_apk_pkg *p)
{
	struct {
		const char *k, *v;
	} s[] = {
		{ "name", p->name },         { "version", p->version },
		{ "arch", p->arch },         { "description", p->description },
		{ "url", p->url },           { "license", p->license },
		{ "origin", p->origin },     { "maintainer", p->maintainer },
		{ "packager", p->packager }, { "commit", p->commit },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i].v && s[i].v[0])
			printf("  %-18s %s\n", s[i].k, s[i].v);
	printf("  %-18s %llu\n", "installed-size", (unsigned long long)p->installed_size);
	if (p->build_time)
		printf("  %-18s %lld\n", "builddate", (long long)p->build_time);
	print_deps("depend", p->depends, p->n_depends);
	print_deps("provides", p->provides, p->n_provides);
	print_deps("install_if", p->install_if, p->n_install_if);
	print_deps("replaces", p->replaces, p->n_replaces);
	if (p->has_provider_priority)
		printf("  %-18s %d\n", "provider_priority", p->provider_priority);
	if (p->replaces_priority)
		printf("  %-18s %d\n", "replaces_priority", p->replaces_priority);
	for (size_t i = 0; i < p->n_triggers; i++)
		printf("  %-18s %s\n", "trigger", p->triggers[i]);
	for (size_t i = 0; i < p->n_extra; i++)
		printf("  %-18s %s\n", p->extra[i].key, p->extra[i].value);
}

static void print_sigs(const struct dd_apk_file *f)
{
	if (!f->n_sigs)
		printf("  %-18s none\n", "signature");
	for (size_t i = 0; i < f->n_sigs; i++)
		printf("  %-18s %s by %s (not checked; see 'drydock pkg verify')\n", "signature",
		       f->sigs[i].alg, f->sigs[i].keyname);
}

static void print_package(const char *path, const struct dd_apk_file *f)
{
	printf("%s: package %s-%s\n", path, f->pkg.name, f->pkg.version);
	print_meta(&f->pkg);
	print_sigs(f);
	printf("  %-18s %s\n", "checksum", f->checksum);
	printf("  %-18s %s (%s)\n", "datahash", f->data_sha256,
	       !f->pkg.datahash[0]                       ? "no datahash in .PKGINFO"
	       : strcmp(f->pkg.datahash, f->data_sha256) ? "DOES NOT MATCH .PKGINFO"
							 : "matches .PKGINFO");
	for (size_t i = 0; i < f->n_problems; i++)
		printf("  %-18s %s\n", "PROBLEM", f->problems[i]);
	for (size_t i = 0; i < f->n_scripts; i++)
		printf("  %-18s %s\n", "script", f->scripts[i]);
	printf("  files (%zu):\n", f->n_files);
	for (size_t i = 0; i < f->n_files; i++) {
		const struct dd_apk_entry *e = &f->files[i];
		char m[11];

		mode_str(e->type, e->mode, m);
		printf("    %s %u:%u %10llu %s", m, e->uid, e->gid, (unsigned long long)e->size,
		       e->path);
		if (e->link)
			printf(" -> %s", e->link);
		putchar('\n');
	}
}

static int print_index(const char *path, const struct dd_apk_file *f, const struct dd_apk_pkg *pkgs,
		       size_t n)
{
	if (f) {
		printf("%s: index of %zu packages\n", path, n);
		print_sigs(f);
		if (f->description.len)
			printf("  %-18s %s\n", "description", f->description.ptr);
	} else {
		printf("%s: index of %zu packages (plain text)\n", path, n);
	}
	for (size_t i = 0; i < n; i++)
		printf("  %s-%s %s %s\n", pkgs[i].name, pkgs[i].version,
		       pkgs[i].arch ? pkgs[i].arch : "noarch", pkgs[i].checksum);
	return 0;
}

static void json_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *json_meta(const struct dd_apk_pkg *p)
{
	json_t *o = json_object(), *extra = json_object(), *trig = json_array();

	json_str(o, "name", p->name);
	json_str(o, "version", p->version);
	json_str(o, "arch", p->arch);
	json_str(o, "description", p->description);
	json_str(o, "url", p->url);
	json_str(o, "license", p->license);
	json_str(o, "origin", p->origin);
	json_str(o, "maintainer", p->maintainer);
	json_str(o, "packager", p->packager);
	json_str(o, "commit", p->commit);
	json_object_set_new(o, "installed_size", json_integer((json_int_t)p->installed_size));
	if (p->file_size)
		json_object_set_new(o, "file_size", json_integer((json_int_t)p->file_size));
	if (p->build_time)
		json_object_set_new(o, "builddate", json_integer(p->build_time));
	if (p->checksum[0])
		json_str(o, "checksum", p->checksum);
	if (p->datahash[0])
		json_str(o, "datahash", p->datahash);
	json_object_set_new(o, "depends", dd_cli_json_deps(p->depends, p->n_depends));
	json_object_set_new(o, "provides", dd_cli_json_deps(p->provides, p->n_provides));
	json_object_set_new(o, "install_if", dd_cli_json_deps(p->install_if, p->n_install_if));
	json_object_set_new(o, "replaces", dd_cli_json_deps(p->replaces, p->n_replaces));
	if (p->has_provider_priority)
		json_object_set_new(o, "provider_priority", json_integer(p->provider_priority));
	if (p->replaces_priority)
		json_object_set_new(o, "replaces_priority", json_integer(p->replaces_priority));
	for (size_t i = 0; i < p->n_triggers; i++)
		json_array_append_new(trig, json_string(p->triggers[i]));
	json_object_set_new(o, "triggers", trig);
	for (size_t i = 0; i < p->n_extra; i++)
		json_object_set_new(extra, p->extra[i].key, json_string(p->extra[i].value));
	json_object_set_new(o, "other", extra);
	return o;
}

static json_t *json_sigs(const struct dd_apk_file *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i < f->n_sigs; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "algorithm", f->sigs[i].alg, "key",
						   f->sigs[i].keyname));
	return a;
}

static json_t *json_files(const struct dd_apk_file *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i < f->n_files; i++) {
		const struct dd_apk_entry *e = &f->files[i];
		static const char *types[] = { "file",  "hardlink", "symlink", "char",
					       "block", "dir",      "fifo" };
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:I}", "path",
				      e->path, "type", types[e->type - '0'], "mode",
				      (json_int_t)e->mode, "uid", (json_int_t)e->uid, "gid",
				      (json_int_t)e->gid, "uname", e->uname, "gname", e->gname,
				      "size", (json_int_t)e->size, "mtime", (json_int_t)e->mtime);

		if (e->link)
			json_object_set_new(o, "link", json_string(e->link));
		if (e->sha1[0])
			json_object_set_new(o, "sha1", json_string(e->sha1));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_package(const char *path, const struct dd_apk_file *f)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "file", path, "kind", "package",
			      "file_size", (json_int_t)f->file_size, "checksum", f->checksum,
			      "data_sha256", f->data_sha256);
	json_t *scripts = json_array();

	json_object_set_new(o, "signatures", json_sigs(f));
	json_object_set_new(o, "pkginfo", json_meta(&f->pkg));
	for (size_t i = 0; i < f->n_scripts; i++)
		json_array_append_new(scripts, json_string(f->scripts[i]));
	json_object_set_new(o, "scripts", scripts);
	json_object_set_new(o, "files", json_files(f));
	json_object_set_new(o, "problems", json_array());
	for (size_t i = 0; i < f->n_problems; i++)
		json_array_append_new(json_object_get(o, "problems"), json_string(f->problems[i]));
	return o;
}

static json_t *json_index(const char *path, const struct dd_apk_file *f,
			  const struct dd_apk_pkg *pkgs, size_t n)
{
	json_t *o = json_pack("{s:s, s:s}", "file", path, "kind", f ? "index" : "index-text");
	json_t *a = json_array();

	if (f) {
		json_object_set_new(o, "signatures", json_sigs(f));
		json_object_set_new(o, "description",
				    json_string(f->description.ptr ? f->description.ptr : ""));
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_meta(&pkgs[i]));
	json_object_set_new(o, "packages", a);
	return o;
}

/* Is path a plain-text APKINDEX rather than a gzip file? */
static bool is_plain_index(const char *path)
{
	unsigned char magic[2] = { 0, 0 };
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	size_t n = fread(magic, 1, 2, f);

	fclose(f);
	return n == 2 && !(magic[0] == 0x1f && magic[1] == 0x8b);
}

struct loaded {
	struct dd_apk_file file;
	bool plain;
	struct dd_apk_pkg *pkgs;
	size_t n_pkgs;
	struct dd_buf text;
};

static void unload(struct loaded *l)
{
	dd_apk_file_release(&l->file);
	dd_apk_pkgs_free(l->pkgs, l->n_pkgs);
	dd_buf_release(&l->text);
}

static int load(const char *path, struct loaded *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->plain = is_plain_index(path);
	if (l->plain) {
		rc = dd_read_file(path, 512u << 20, &l->text);
		if (!rc)
			rc = dd_apkindex_parse(dd_buf_blob(&l->text), &l->pkgs, &l->n_pkgs);
	} else {
		rc = dd_apk_read(path, &l->file);
		if (rc)
			return rc;
		if (l->file.kind == DD_APK_INDEX)
			rc = dd_apkindex_parse(dd_buf_blob(&l->file.index_text), &l->pkgs,
					       &l->n_pkgs);
	}
	if (rc) {
		unload(l);
		return dd_error_prefix(rc, "%s", path);
	}
	return 0;
}

static const struct dd_cmd_spec inspect_spec = {
	.name = "pkg inspect",
	.operands = "FILE.apk|APKINDEX...",
	.min_operands = 1,
	.missing_operands = "no file given",
	.about = "Show a package's metadata, signatures and files, or an index's\n"
		 "packages. Checks structure, datahash and file checksums, not trust.\n",
};

/* Inspect one file into all (JSON) or to standard output; the exit code. */
static int inspect_one(const char *path, bool json, json_t *all)
{
	struct loaded l;
	int ret = DD_EXIT_OK;

	if (load(path, &l)) {
		dd_cli_error();
		ret = DD_EXIT_FAIL;
	} else if (json) {
		json_array_append_new(all, l.plain || l.file.kind == DD_APK_INDEX
						   ? json_index(path, l.plain ? NULL : &l.file,
								l.pkgs, l.n_pkgs)
						   : json_package(path, &l.file));
	} else if (l.plain || l.file.kind == DD_APK_INDEX) {
		print_index(path, l.plain ? NULL : &l.file, l.pkgs, l.n_pkgs);
	} else {
		print_package(path, &l.file);
	}
	if (!l.plain && dd_apk_check(&l.file, path)) {
		dd_cli_error();
		ret = DD_EXIT_FAIL;
	}
	unload(&l);
	return ret;
}

static int pkg_inspect(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	bool json = false;
	json_t *all = NULL;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&inspect_spec, opts, argc, argv, &cli))
		goto out;
	all = json_array();
	for (int i = 0; i < cli.n_args; i++)
		if (inspect_one(cli.args[i], json, all) != DD_EXIT_OK)
			cli.exit = DD_EXIT_FAIL;
	if (json) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
out:
	json_decref(all);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

/* ---- verify ----------------------------------------------------------- */

/* What a verdict means, in words: for the line and the JSON's message. */
static void verdict_text(const struct dd_apk_file *f, const struct dd_keyring *kr,
			 enum dd_sig_status st, const struct dd_apk_sig *sig, const char *key,
			 struct dd_buf *msg)
{
	switch (st) {
	case DD_SIG_VALID:
		dd_buf_addf(msg, "valid (%s signature by %s", sig->alg, key);
		if (strcmp(key, sig->keyname))
			dd_buf_addf(msg, ", named %s in the file", sig->keyname);
		dd_buf_adds(msg, ")");
		break;
	case DD_SIG_UNKNOWN_KEY:
		dd_buf_addf(msg, "signed by an unknown key (");
		for (size_t i = 0; i < f->n_sigs; i++)
			dd_buf_addf(msg, "%s%s", i ? ", " : "", f->sigs[i].keyname);
		dd_buf_adds(msg, "); give its public key with --key to trust it");
		break;
	case DD_SIG_BAD:
		dd_buf_adds(msg, "BAD signature (");
		for (size_t i = 0; i < f->n_sigs; i++)
			if (dd_keyring_find(kr, f->sigs[i].keyname))
				dd_buf_addf(msg, "%s%s", i ? ", " : "", f->sigs[i].keyname);
		dd_buf_adds(msg, " does not verify it): the file was changed after signing, "
				 "or signed by another key of the same name; do not use it");
		break;
	case DD_SIG_UNSIGNED:
		dd_buf_adds(msg, "unsigned");
		break;
	}
	for (size_t i = 0; i < f->n_problems; i++)
		dd_buf_addf(msg, "; CONTENT DOES NOT MATCH: %s", f->problems[i]);
}

static json_t *verdict_json(const char *path, const struct dd_apk_file *f, enum dd_sig_status st,
			    const char *key, const char *msg)
{
	static const char *names[] = {
		[DD_SIG_VALID] = "valid",
		[DD_SIG_BAD] = "bad",
		[DD_SIG_UNSIGNED] = "unsigned",
		[DD_SIG_UNKNOWN_KEY] = "unknown-key",
	};
	json_t *o = json_pack("{s:s, s:b, s:s, s:s}", "file", path, "ok",
			      st == DD_SIG_VALID && !f->n_problems, "signature", names[st],
			      "message", msg);
	json_t *probs = json_array();

	for (size_t i = 0; i < f->n_problems; i++)
		json_array_append_new(probs, json_string(f->problems[i]));
	json_object_set_new(o, "problems", probs);
	if (key)
		json_object_set_new(o, "key", json_string(key));
	return o;
}

static int verify_one(const char *path, const struct dd_keyring *kr, json_t *json)
{
	struct loaded l;
	const struct dd_apk_sig *sig = NULL;
	const char *key = NULL;
	enum dd_sig_status st;
	struct dd_buf msg = DD_BUF_INIT;

	if (load(path, &l)) {
		if (json)
			json_array_append_new(json,
					      json_pack("{s:s, s:s, s:s}", "file", path, "status",
							"error", "error", dd_error_detail()));
		else
			dd_cli_error();
		return DD_EXIT_FAIL;
	}
	if (l.plain) {
		unload(&l);
		if (json)
			json_array_append_new(json, json_pack("{s:s, s:s}", "file", path, "status",
							      "unsigned"));
		else
			printf("%s: unsigned (plain APKINDEX text has no signature)\n", path);
		return DD_EXIT_FAIL;
	}
	st = dd_apk_verify(&l.file, kr, &sig, &key);
	verdict_text(&l.file, kr, st, sig, key, &msg);
	if (json)
		json_array_append_new(json, verdict_json(path, &l.file, st, key, msg.ptr));
	else
		printf("%s: %s\n", path, msg.ptr);
	dd_buf_release(&msg);
	st = l.file.n_problems ? DD_SIG_BAD : st;
	unload(&l);
	return st == DD_SIG_VALID ? DD_EXIT_OK : DD_EXIT_FAIL;
}

static const struct dd_cmd_spec verify_spec = {
	.name = "pkg verify",
	.operands = "FILE...",
	.min_operands = 1,
	.missing_operands = "no file given",
	.about = "Check each package's or index's signature against the given RSA\n"
		 "public keys, plus its structure, datahash and file checksums.\n"
		 "Prints valid, signed by an unknown key, BAD signature or unsigned;\n"
		 "exits 0 only when every file is valid.\n",
};

/* --key: a public key that cannot be read is a usage error (exit 2). */
static int add_key(const struct dd_option *opt, const char *arg)
{
	return dd_keyring_add_file(opt->value, arg) ? DD_E_USAGE : 0;
}

static int pkg_verify(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_keyring kr = { NULL, 0 };
	json_t *json = NULL;
	bool want_json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_CALLBACK_MANY('k', "key", &kr, "KEY.rsa.pub", add_key,
				     "an RSA public key to check signatures with"),
		DD_OPT_JSON(&want_json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&verify_spec, opts, argc, argv, &cli))
		goto out;
	if (want_json)
		json = json_array();
	for (int i = 0; i < cli.n_args; i++)
		if (verify_one(cli.args[i], &kr, json) != DD_EXIT_OK)
			cli.exit = DD_EXIT_FAIL;
	if (json) {
		json_dumpf(json, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
out:
	json_decref(json);
	dd_keyring_release(&kr);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

/* ---- build and index -------------------------------------------------- */

/* SOURCE_DATE_EPOCH when set, else now; DD_E_USAGE when it is malformed. */
static int build_epoch(int64_t *out)
{
	int rc = dd_epoch_from_env(out);

	if (!rc)
		*out = (int64_t)time(NULL);
	return rc < 0 ? rc : 0;
}

struct sign_opts {
	const char *key_path, *key_name, *digest;
	EVP_PKEY *key;
	struct dd_buf name;
	struct dd_apk_signer signer;
};

static int setup_signer(struct sign_opts *s)
{
	const char *base;

	memset(&s->signer, 0, sizeof(s->signer));
	if (!s->key_path)
		return 0;
	if (dd_rsa_load_private(s->key_path, &s->key))
		return -1;
	base = strrchr(s->key_path, '/');
	base = base ? base + 1 : s->key_path;
	if (s->key_name)
		dd_buf_adds(&s->name, s->key_name);
	else
		dd_buf_addf(&s->name, "%s.pub", base);
	s->signer.key = s->key;
	s->signer.keyname = s->name.ptr;
	s->signer.md = !s->digest || !strcmp(s->digest, "sha256") ? EVP_sha256()
		       : !strcmp(s->digest, "sha1")               ? EVP_sha1()
		       : !strcmp(s->digest, "sha512")             ? EVP_sha512()
								  : NULL;
	if (!s->signer.md)
		return dd_error(DD_E_USAGE, "--digest must be sha1, sha256 or sha512");
	if (strchr(s->name.ptr, '/'))
		return dd_error(DD_E_USAGE, "--key-name must be a file name, not a path");
	return 0;
}

static void release_signer(struct sign_opts *s)
{
	EVP_PKEY_free(s->key);
	dd_buf_release(&s->name);
}

static const char *const digests[] = { "sha256", "sha1", "sha512", NULL };

/* The signing rows pkg build and pkg index share. */
#define SIGN_OPTIONS(so) \
	DD_OPT_STRING('s', "sign", &(so)->key_path, "KEY.rsa", "sign with this RSA private key"), \
		DD_OPT_STRING( \
			0, "key-name", &(so)->key_name, "NAME", \
			"the key's name in the signature (default: KEY.rsa's file name plus " \
			".pub)"), \
		DD_OPT_CHOICE(0, "digest", &(so)->digest, digests, \
			      "the signature's digest (default sha256)")

static const struct dd_cmd_spec build_spec = {
	.name = "pkg build",
	.operands = "DIR",
	.min_operands = 1,
	.max_operands = 1,
	.missing_operands = "no directory given",
	.about = "Write an APK v2 package of the tree DIR. Metadata comes from --info (.PKGINFO\n"
		 "syntax: 'key = value' lines) and --set; pkgname and pkgver are required; size,\n"
		 "datahash and builddate are computed. Files are owned by root; times are\n"
		 "clamped to SOURCE_DATE_EPOCH (default: now). --sign signs with an RSA private\n"
		 "key, recorded as NAME (default: the key's file name plus .pub) with digest\n"
		 "sha256 (default), sha1 or sha512.\n",
};

/* --info FILE: its lines join the metadata, in command-line order with --set. */
static int add_info_file(const struct dd_option *opt, const char *arg)
{
	struct dd_buf file = DD_BUF_INIT;
	int rc = dd_read_file(arg, 1 << 20, &file);

	if (!rc)
		dd_buf_addf(opt->value, "%s\n", file.ptr);
	dd_buf_release(&file);
	return rc;
}

/* --set KEY=VALUE: one metadata line. */
static int add_info_line(const struct dd_option *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq)
		return dd_error(DD_E_USAGE, "--set wants KEY=VALUE, not '%s'", arg);
	dd_buf_addf(opt->value, "%.*s = %s\n", (int)(eq - arg), arg, eq + 1);
	return 0;
}

/* The package written: a line, or with json one object. */
static void print_built(const char *out, const struct dd_apk_pkg *pkg, const struct sign_opts *so,
			bool json)
{
	if (json)
		dd_cli_print_json(json_pack("{s:s, s:s, s:s, s:b, s:s?}", "file", out, "name",
					    pkg->name, "version", pkg->version, "signed",
					    so->key != NULL, "key", so->name.ptr));
	else
		printf("%s: %s-%s\n", out, pkg->name, pkg->version);
}

static int pkg_build(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_buf info = DD_BUF_INIT;
	struct sign_opts so = { 0 };
	struct dd_apk_pkg pkg = { 0 };
	struct dd_strlist scripts = { NULL, 0 };
	const char *out = NULL;
	struct stat st;
	int64_t epoch;
	bool json = false;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_CALLBACK_MANY('i', "info", &info, "FILE", add_info_file,
				     "metadata in .PKGINFO syntax ('key = value' lines)"),
		DD_OPT_CALLBACK_MANY(0, "set", &info, "KEY=VALUE", add_info_line,
				     "one metadata line"),
		DD_OPT_LIST('S', "script", &scripts, "FILE",
			    "an install script (.pre-install, .post-install, ...), named by its "
			    "file name"),
		SIGN_OPTIONS(&so),
		DD_OPT_STRING_REQUIRED('o', "output", &out, "OUT.apk", "the package to write"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&build_spec, opts, argc, argv, &cli))
		goto out;
	if (stat(cli.args[0], &st) || !S_ISDIR(st.st_mode)) {
		cli.exit = dd_cli_usage_error("pkg build: %s is not a directory", cli.args[0]);
		goto out;
	}
	if (build_epoch(&epoch)) {
		cli.exit = dd_cli_fail(DD_E_USAGE);
		goto out;
	}
	if (dd_pkginfo_parse(dd_buf_blob(&info), &pkg) || setup_signer(&so) ||
	    dd_apk_build(cli.args[0], &pkg, (char *const *)scripts.v, scripts.n, &so.signer, epoch,
			 out)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	print_built(out, &pkg, &so, json);
out:
	release_signer(&so);
	dd_apk_pkg_release(&pkg);
	dd_buf_release(&info);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static const struct dd_cmd_spec index_spec = {
	.name = "pkg index",
	.operands = "FILE.apk...",
	.min_operands = 1,
	.missing_operands = "no package given",
	.about = "Write an index of the given packages: APKINDEX.tar.gz (signed with --sign), or\n"
		 "plain APKINDEX text with --text or when OUT does not end in .tar.gz. Each\n"
		 "package is read and checked first; checksums (C:) are computed.\n",
};

/* Read and check each package; n counts those to release, even on failure. */
static int read_packages(char **paths, int n_paths, struct dd_apk_file *files, size_t *n)
{
	for (int i = 0; i < n_paths; i++) {
		int rc = dd_apk_read(paths[i], &files[*n]);

		(*n)++;
		if (rc || dd_apk_check(&files[*n - 1], paths[i]))
			return dd_cli_fail(-1);
		if (files[*n - 1].kind != DD_APK_PACKAGE) {
			fprintf(stderr, "drydock: %s: an index, not a package\n", paths[i]);
			return DD_EXIT_FAIL;
		}
	}
	return DD_EXIT_OK;
}

/* The index written: a line, or with json one object that names, for each
 * operand, the package it added. */
static void print_indexed(const char *out, bool text, const struct sign_opts *so, char **paths,
			  const struct dd_apk_file *files, size_t n, bool json)
{
	json_t *pkgs;

	if (!json) {
		printf("%s: %zu packages\n", out, n);
		return;
	}
	pkgs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(pkgs, json_pack("{s:s, s:s, s:s}", "file", paths[i], "name",
						      files[i].pkg.name, "version",
						      files[i].pkg.version));
	dd_cli_print_json(json_pack("{s:s, s:s, s:b, s:s?, s:o}", "file", out, "format",
				    text ? "text" : "tar.gz", "signed", so->key != NULL, "key",
				    so->name.ptr, "packages", pkgs));
}

static int pkg_index(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct sign_opts so = { 0 };
	struct dd_apk_file *files = NULL;
	size_t n = 0;
	const char *out = NULL, *desc = NULL;
	bool text = false, json = false;
	int64_t epoch;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_STRING_REQUIRED('o', "output", &out, "OUT", "the index to write"),
		DD_OPT_BOOL('t', "text", &text, "write plain APKINDEX text, unsigned"),
		DD_OPT_STRING('D', "description", &desc, "TEXT",
			      "the index's description (its D: line)"),
		SIGN_OPTIONS(&so),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&index_spec, opts, argc, argv, &cli))
		goto out;
	text = text || !ends_with(out, ".tar.gz");
	if (text && so.key_path) {
		cli.exit = dd_cli_usage_error("pkg index: plain APKINDEX text cannot be signed");
		goto out;
	}
	files = dd_xcalloc((size_t)cli.n_args, sizeof(*files));
	if ((cli.exit = read_packages(cli.args, cli.n_args, files, &n)))
		goto out;
	if (build_epoch(&epoch)) {
		cli.exit = dd_cli_fail(DD_E_USAGE);
		goto out;
	}
	if (setup_signer(&so) || dd_apk_index_write(files, n, desc, &so.signer, epoch, text, out)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	print_indexed(out, text, &so, cli.args, files, n, json);
out:
	for (size_t i = 0; i < n; i++)
		dd_apk_file_release(&files[i]);
	free(files);
	release_signer(&so);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

/* ---- version ---------------------------------------------------------- */

static const struct dd_cmd_spec version_spec = {
	.name = "pkg version",
	.operands = "A B | --check V...",
	.about = "Compare two versions: prints <, = or >. With --check, exit 1 if any V is\n"
		 "invalid.\n",
};

/* --check: each operand's verdict, or with json its record {"version", "valid"}. */
static int check_versions(char **v, int n, json_t *json)
{
	int ret = DD_EXIT_OK;

	for (int i = 0; i < n; i++) {
		bool valid = dd_version_valid(dd_blob_str(v[i]));

		if (json)
			json_array_append_new(json, json_pack("{s:s, s:b}", "version", v[i],
							      "valid", valid));
		else if (!valid)
			printf("%s: invalid version\n", v[i]);
		if (!valid)
			ret = DD_EXIT_FAIL;
	}
	return ret;
}

static int pkg_version(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	bool check = false, json = false;
	const char *result;
	json_t *checked = NULL;
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_BOOL(0, "check", &check, "check that each operand is a valid version"),
		DD_OPT_JSON(&json),
		DD_OPT_END,
	};

	if (dd_cli_parse(&version_spec, opts, argc, argv, &cli))
		goto out;
	if (check) {
		checked = json ? json_array() : NULL;
		cli.exit = check_versions(cli.args, cli.n_args, checked);
		if (json)
			dd_cli_print_json(json_incref(checked));
		goto out;
	}
	if (cli.n_args != 2) {
		cli.exit = dd_cli_usage_error("pkg version: need two versions (see --help)");
		goto out;
	}
	switch (dd_version_compare(dd_blob_str(cli.args[0]), dd_blob_str(cli.args[1]))) {
	case DD_VER_LESS:
		result = "<";
		break;
	case DD_VER_GREATER:
		result = ">";
		break;
	default:
		result = "=";
		break;
	}
	if (json)
		dd_cli_print_json(json_pack("{s:s, s:s, s:s}", "a", cli.args[0], "b", cli.args[1],
					    "result", result));
	else
		puts(result);
out:
	json_decref(checked);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}

static const struct dd_subcommand pkg_commands[] = {
	{ "inspect", pkg_inspect, "show metadata and files of packages and indexes" },
	{ "verify", pkg_verify, "check signatures against RSA public keys" },
	{ "build", pkg_build, "write a signed .apk from a directory tree" },
	{ "index", pkg_index, "write APKINDEX.tar.gz or APKINDEX text" },
	{ "version", pkg_version, "compare APK versions" },
	{ "resolve", dd_cli_pkg_resolve, "resolve dependencies against index files" },
	{ NULL, NULL, NULL },
};

int cmd_pkg(int argc, char **argv)
{
	return dd_cli_dispatch("pkg", pkg_commands, argc, argv, pkg_usage);
}
