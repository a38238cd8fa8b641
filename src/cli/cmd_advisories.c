/*
 * drydock advisories: which advisories of the mirror's security
 * databases apply to a package, a run or any APK-based OCI image, and
 * whether each is fixed, fixable from the mirror, not fixable yet, or
 * not affecting it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "advisory/advisory.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/time.h"
#include "image/installed.h"
#include "store/store.h"

static const struct dd_cmd_spec advisories_spec = {
	.name = "advisories",
	.operands = "PKG[=VERSION]|RUN|IMAGE.oci.tar|LAYOUT...",
	.min_operands = 1,
	.missing_operands = "nothing to check: give a package, a run folder or an image",
	.store = DD_CMD_STORE_READ,
	.about = "The advisories of the mirror's security databases (secdb members of the bundles\n"
		 "it imported) that apply to a package (every version the mirror holds, or the\n"
		 "one given), a run folder, or any APK-based OCI image (an oci-archive or a\n"
		 "layout), read from its usr/lib/apk/db/installed or lib/apk/db/installed.\n"
		 "Each advisory is fixed, fix available (the mirror holds a version with the\n"
		 "fix: a rebuild picks it up), fix not yet here (no version in the mirror has\n"
		 "it), or not affected (\"0\"). Every report names the databases used (bundle,\n"
		 "channel, sequence, date) and warns when one is older than --max-age days\n"
		 "(default 7).\n",
	.footer = "Exits 1 when the mirror has no security database or a target cannot be read.\n",
};

struct opts {
	bool json;
	int max_age;
};

/* An analysed set of packages: an image of a target, or a package's versions. */
struct subject {
	const char *what; /* "image" or "package" */
	const char *manifest, *platform, *db_path;
	struct dd_adv_pkg *pkgs;
	size_t n;
};

static json_t *subject_json(const struct dd_adv_db *db, const struct dd_catalog *cat,
			    const struct subject *s, const struct dd_adv_report *r)
{
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:o, s:o}", "kind", s->what, "manifest",
			      s->manifest, "platform", s->platform, "apk_db", s->db_path,
			      "packages", (json_int_t)s->n, "counts", dd_adv_counts_json(r),
			      "advisories", dd_adv_items_json(db, cat, s->pkgs, r));

	return o;
}

static void subject_print(const struct dd_catalog *cat, const char *target, const struct subject *s,
			  const struct dd_adv_report *r)
{
	struct dd_buf line = DD_BUF_INIT;

	printf("%s", target);
	if (s->manifest)
		printf(" (%s%s%s)", s->platform ? s->platform : "", s->platform ? ", " : "",
		       s->manifest);
	if (s->manifest && !s->db_path) {
		printf(": no apk database (usr/lib/apk/db/installed): not an APK-based "
		       "image, nothing to check\n");
		return;
	}
	dd_adv_counts_describe(r, &line);
	printf(": %zu package%s, %s\n", s->n, s->n == 1 ? "" : "s", line.ptr);
	for (size_t i = 0; i < r->n; i++) {
		dd_buf_reset(&line);
		dd_adv_item_describe(cat, s->pkgs, &r->items[i], &line);
		printf("  %s\n", line.ptr);
	}
	dd_buf_release(&line);
}

static int analyse(const struct dd_adv_db *db, const struct dd_catalog *cat, const struct opts *o,
		   const char *target, const struct subject *s, json_t *subjects)
{
	struct dd_adv_report r;
	int rc = dd_adv_analyze(db, cat, s->pkgs, s->n, &r);

	if (rc)
		return dd_error_prefix(rc, "%s", target);
	if (o->json)
		json_array_append_new(subjects, subject_json(db, cat, s, &r));
	else
		subject_print(cat, target, s, &r);
	dd_adv_report_release(&r);
	return 0;
}

static int check_image(const struct dd_adv_db *db, const struct dd_catalog *cat,
		       const struct opts *o, const char *path, json_t *subjects)
{
	struct dd_installed in;
	int rc = dd_installed_read(path, &in);

	for (size_t i = 0; !rc && i < in.n; i++) {
		struct dd_installed_image *img = &in.images[i];
		struct subject s = { "image",      img->manifest, img->platform,
				     img->db_path, NULL,          img->n };

		s.pkgs = dd_xcalloc(img->n + 1, sizeof(*s.pkgs));
		for (size_t k = 0; k < img->n; k++)
			s.pkgs[k] = (struct dd_adv_pkg){ img->pkgs[k].name, img->pkgs[k].version,
							 img->pkgs[k].origin, img->pkgs[k].arch };
		rc = analyse(db, cat, o, path, &s, subjects);
		free(s.pkgs);
	}
	dd_installed_release(&in);
	return rc;
}

/* NAME: every version of it in the mirror; NAME=VERSION: that one. */
static int check_package(const struct dd_adv_db *db, const struct dd_catalog *cat,
			 const struct opts *o, const char *arg, json_t *subjects)
{
	char *name = dd_xstrdup(arg), *ver = strchr(name, '=');
	struct subject s = { "package", NULL, NULL, NULL, NULL, 0 };
	int rc;

	if (ver)
		*ver++ = 0;
	s.pkgs = dd_xcalloc(cat->n + 1, sizeof(*s.pkgs));
	for (size_t i = 0; i < cat->n; i++) {
		const struct dd_apk_pkg *p = &cat->pkgs[i];

		if (!strcmp(p->name, name) && (!ver || !strcmp(p->version, ver)))
			s.pkgs[s.n++] =
				(struct dd_adv_pkg){ p->name, p->version, p->origin, p->arch };
	}
	if (!s.n && ver)
		s.pkgs[s.n++] = (struct dd_adv_pkg){ name, ver, NULL, NULL };
	if (s.n)
		rc = analyse(db, cat, o, arg, &s, subjects);
	else
		rc = dd_error(DD_E_NOTFOUND,
			      "'%s' is neither a file nor a package the mirror "
			      "holds; give NAME=VERSION to check a version it does not hold",
			      arg);
	free(s.pkgs);
	free(name);
	return rc;
}

static void feeds_print(const struct dd_adv_db *db, const struct opts *o, int64_t now)
{
	struct dd_buf line = DD_BUF_INIT;

	for (size_t i = 0; i < db->n_feeds; i++) {
		const struct dd_adv_feed *f = &db->feeds[i];

		dd_buf_reset(&line);
		dd_adv_feed_describe(f, &line);
		printf("%s: %zu origins, %zu ids\n", line.ptr, f->n_origins, f->n_ids);
		if (dd_adv_feed_stale(f, now, o->max_age))
			printf("warning: %s is %.1f days old (more than --max-age %d): advisories "
			       "published since are not known here; import a newer bundle\n",
			       f->path, (double)(now - f->created) / 86400.0, o->max_age);
	}
	dd_buf_release(&line);
}

/* Each target into targets (and printed unless JSON); the exit code. */
static int check_targets(const struct dd_adv_db *db, const struct dd_catalog *cat,
			 const struct opts *o, char **args, int n, json_t *targets)
{
	int ret = DD_EXIT_OK;

	for (int i = 0; i < n; i++) {
		struct stat st;
		json_t *subjects = json_array();
		int rc = stat(args[i], &st) == 0 ? check_image(db, cat, o, args[i], subjects)
						 : check_package(db, cat, o, args[i], subjects);

		if (rc) {
			dd_cli_error();
			ret = DD_EXIT_FAIL;
		}
		json_array_append_new(targets,
				      json_pack("{s:s, s:o, s:s?}", "target", args[i], "subjects",
						subjects, "error", rc ? dd_error_detail() : NULL));
	}
	return ret;
}

int cmd_advisories(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct opts o = { false, DD_ADV_MAX_AGE_DAYS };
	struct dd_catalog cat = { 0 };
	struct dd_adv_db db = { 0 };
	json_t *targets = json_array();
	int64_t now = dd_time_now();
	int ret;
	const struct dd_option opts[] = {
		DD_OPT_MIRROR(&cli.mirror),
		DD_OPT_JSON(&o.json),
		DD_OPT_MAX_AGE(&o.max_age),
		DD_OPT_END,
	};

	if (dd_cli_parse(&advisories_spec, opts, argc, argv, &cli))
		goto out;
	if (dd_catalog_load(cli.store, &cat) || dd_adv_db_load(cli.store, &db)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	if (!db.n_feeds) {
		fprintf(stderr,
			"drydock: the mirror %s holds no security database: import a "
			"bundle that carries one (security.json or secdb/NAME.json)\n",
			dd_store_root(cli.store));
		cli.exit = DD_EXIT_FAIL;
		goto out;
	}
	if (!o.json)
		feeds_print(&db, &o, now);
	cli.exit = check_targets(&db, &cat, &o, cli.args, cli.n_args, targets);
	if (o.json)
		dd_cli_print_json(json_pack("{s:o, s:i, s:O}", "secdbs",
					    dd_adv_feeds_json(&db, now, o.max_age), "max_age_days",
					    o.max_age, "targets", targets));
out:
	json_decref(targets);
	dd_adv_db_release(&db);
	dd_catalog_release(&cat);
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
