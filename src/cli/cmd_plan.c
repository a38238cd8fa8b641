/*
 * drydock plan: before any build, whether each job will build, what it
 * will contain and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advisory/advisory.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/time.h"
#include "job/plan.h"

static const struct dd_cmd_spec plan_spec = {
	.name = "plan",
	.operands = "JOB.yaml...",
	.min_operands = 1,
	.missing_operands = "no job file given",
	.store = DD_CMD_STORE_READ,
	.about = "For each job: whether it will build, and for each architecture its packages\n"
		 "(crust, requested, or pulled in by whom; guarded or not; the bundle that\n"
		 "delivered each), sizes, warnings and errors; when the mirror holds security\n"
		 "databases, how many advisories are fixed, fix available, fix not yet here and\n"
		 "not affected (with -v, each one), with a warning when a database is older\n"
		 "than --max-age days (default 7).\n",
	.footer = "Exits 1 if any job would fail.\n",
};

/* What plan prints besides the plan: the advisories, and how. */
struct plan_ctx {
	const struct dd_adv_db *adv;
	int max_age; /* days */
	bool json, verbose, strict;
};

/* The advisories of plan p: counts (and with items, every one) into o,
 * and into text when not NULL. */
static void plan_advisories(const struct plan_ctx *x, const struct dd_catalog *cat,
			    const struct dd_plan *p, json_t *o)
{
	struct dd_adv_pkg *pkgs;
	struct dd_adv_report r;
	struct dd_buf line = DD_BUF_INIT;

	if (!x->adv->n_feeds || !p->n)
		return;
	pkgs = dd_adv_plan_pkgs(cat, p);
	if (dd_adv_analyze(x->adv, cat, pkgs, p->n, &r)) {
		free(pkgs);
		return;
	}
	if (o) {
		json_object_set_new(o, "advisories",
				    json_pack("{s:o, s:o, s:o}", "secdbs",
					      dd_adv_feeds_json(x->adv, dd_time_now(), x->max_age),
					      "counts", dd_adv_counts_json(&r), "items",
					      dd_adv_items_json(x->adv, cat, pkgs, &r)));
	} else {
		dd_adv_counts_describe(&r, &line);
		printf("  %s\n", line.ptr);
		for (size_t i = 0; x->verbose && i < r.n; i++) {
			dd_buf_reset(&line);
			dd_adv_item_describe(cat, pkgs, &r.items[i], &line);
			printf("    %s\n", line.ptr);
		}
	}
	dd_buf_release(&line);
	dd_adv_report_release(&r);
	free(pkgs);
}

/* The databases the advisories come from, once per plan. */
static void plan_feeds(const struct dd_adv_db *db, int max_age)
{
	int64_t now = dd_time_now();
	struct dd_buf line = DD_BUF_INIT;

	for (size_t i = 0; i < db->n_feeds; i++) {
		dd_buf_reset(&line);
		dd_adv_feed_describe(&db->feeds[i], &line);
		printf("advisories from the %s\n", line.ptr);
		if (dd_adv_feed_stale(&db->feeds[i], now, max_age))
			printf("warning: %s is %.1f days old (more than --max-age %d): advisories "
			       "published since are not known here; import a newer bundle\n",
			       db->feeds[i].path, (double)(now - db->feeds[i].created) / 86400.0,
			       max_age);
	}
	dd_buf_release(&line);
}

static json_t *plan_json(const struct plan_ctx *x, const struct dd_catalog *cat,
			 const struct dd_plan *p)
{
	json_t *pkgs = json_array(), *errs = json_array(), *warns = json_array();

	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *pkg = &cat->pkgs[p->pkgs[i].cat];
		const struct dd_catalog_pkg *info = &cat->info[p->pkgs[i].cat];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:I, s:I, s:I}",
				      "name", pkg->name, "version", pkg->version, "arch",
				      pkg->arch ? pkg->arch : "", "role",
				      dd_plan_role_str(p->pkgs[i].role), "guarded", info->guarded,
				      "signed", info->signer != NULL, "sha256", info->sha256,
				      "bundle", info->bundle, "size", (json_int_t)pkg->file_size,
				      "installed_size", (json_int_t)pkg->installed_size, "sequence",
				      (json_int_t)info->sequence);

		json_object_set_new(o, "channel", json_string(info->channel));
		if (p->pkgs[i].by)
			json_object_set_new(o, "required_by", json_string(p->pkgs[i].by));
		json_array_append_new(pkgs, o);
	}
	for (size_t i = 0; i < p->n_errors; i++)
		json_array_append_new(errs, json_string(p->errors[i]));
	for (size_t i = 0; i < p->n_warnings; i++)
		json_array_append_new(warns, json_string(p->warnings[i]));
	json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:o, s:o, s:o}", "arch", p->arch, "will_build",
			      p->ok, "size", (json_int_t)p->size, "installed_size",
			      (json_int_t)p->installed_size, "packages", pkgs, "warnings", warns,
			      "errors", errs);

	plan_advisories(x, cat, p, o);
	return o;
}

static void plan_print(const struct plan_ctx *x, const struct dd_job *job,
		       const struct dd_catalog *cat, const struct dd_plan *p)
{
	printf("%s: %s%s%s (%s), image '%s'\n", job->file, dd_cli_color(p->ok ? DD_GREEN : DD_RED),
	       p->ok ? "will build" : "will NOT build", dd_cli_color(DD_PLAIN), p->arch,
	       job->base ? job->base : "(no base)");
	for (size_t i = 0; i < p->n_errors; i++) {
		/* the resolver's explanation spans lines: keep them under the error */
		printf("  error: ");
		for (const char *c = p->errors[i]; *c; c++)
			printf(*c == '\n' && c[1] ? "\n    " : "%c", *c);
		if (!strchr(p->errors[i], '\n') || p->errors[i][strlen(p->errors[i]) - 1] != '\n')
			putchar('\n');
	}
	for (size_t i = 0; i < p->n_warnings; i++)
		printf("  warning: %s\n", p->warnings[i]);
	if (!p->n)
		return;
	printf("  packages (%zu, %.1f kB to read, %.1f kB installed):\n", p->n,
	       (double)p->size / 1e3, (double)p->installed_size / 1e3);
	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *pkg = &cat->pkgs[p->pkgs[i].cat];
		const struct dd_catalog_pkg *info = &cat->info[p->pkgs[i].cat];
		char who[256] = "";

		if (p->pkgs[i].by)
			snprintf(who, sizeof(who), " by %s", p->pkgs[i].by);
		printf("    %-10s %s-%s%s, %s, from %s#%lld\n", dd_plan_role_str(p->pkgs[i].role),
		       pkg->name, pkg->version, who, info->guarded ? "guarded" : "UNGUARDED",
		       info->channel, (long long)info->sequence);
	}
	plan_advisories(x, cat, p, NULL);
}

static int plan_one(struct dd_store *s, const struct dd_catalog *cat, const char *file,
		    const struct plan_ctx *x, json_t *all)
{
	bool json = x->json;
	struct dd_job job;
	json_t *archs = json_array();
	bool ok = true;

	if (dd_job_load_flags(file, x->strict ? DD_JOB_STRICT : 0, &job)) {
		if (json)
			json_array_append_new(all, json_pack("{s:s, s:b, s:[s]}", "job", file,
							     "will_build", 0, "errors",
							     dd_error_detail()));
		else
			printf("%s: %swill NOT build%s\n  error: %s\n", file, dd_cli_color(DD_RED),
			       dd_cli_color(DD_PLAIN), dd_error_detail());
		json_decref(archs);
		return DD_EXIT_FAIL;
	}
	if (!json)
		for (size_t i = 0; i < job.n_warnings; i++)
			printf("%s: warning: %s\n", file, job.warnings[i]);
	for (size_t a = 0; a < job.n_archs; a++) {
		struct dd_plan p;

		if (dd_plan_make(s, cat, &job, job.archs[a], &p)) {
			dd_cli_error();
			ok = false;
			continue;
		}
		ok = ok && p.ok;
		if (json)
			json_array_append_new(archs, plan_json(x, cat, &p));
		else
			plan_print(x, &job, cat, &p);
		dd_plan_release(&p);
	}
	if (json) {
		json_t *w = json_array();

		for (size_t i = 0; i < job.n_warnings; i++)
			json_array_append_new(w, json_string(job.warnings[i]));
		json_array_append_new(all,
				      json_pack("{s:s, s:s, s:s?, s:b, s:o, s:o}", "job", file,
						"sha256", job.sha256, "base", job.base,
						"will_build", ok, "warnings", w, "archs", archs));
	} else
		json_decref(archs);
	dd_job_release(&job);
	return ok ? DD_EXIT_OK : DD_EXIT_FAIL;
}

int cmd_plan(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct dd_catalog cat;
	struct dd_adv_db adv = { 0 };
	struct plan_ctx x = { &adv, DD_ADV_MAX_AGE_DAYS, false, false, false };
	json_t *all;
	int ret = DD_EXIT_OK;
	const struct dd_option opts[] = {
		DD_OPT_MIRROR(&cli.mirror), DD_OPT_JSON(&x.json), DD_OPT_MAX_AGE(&x.max_age),
		DD_OPT_STRICT(&x.strict),   DD_OPT_END,
	};

	if (dd_cli_parse(&plan_spec, opts, argc, argv, &cli))
		goto out;
	x.verbose = dd_verbose; /* -v: each advisory too */
	if (dd_catalog_load(cli.store, &cat)) {
		cli.exit = dd_cli_fail(-1);
		goto out;
	}
	if (dd_adv_db_load(cli.store, &adv)) {
		cli.exit = dd_cli_fail(-1);
		dd_catalog_release(&cat);
		goto out;
	}
	if (!x.json)
		plan_feeds(&adv, x.max_age);
	all = json_array();
	for (int i = 0; i < cli.n_args; i++)
		if (plan_one(cli.store, &cat, cli.args[i], &x, all) != DD_EXIT_OK)
			ret = DD_EXIT_FAIL;
	if (x.json)
		dd_cli_print_json(all);
	else
		json_decref(all);
	dd_adv_db_release(&adv);
	dd_catalog_release(&cat);
	cli.exit = ret;
out:
	ret = cli.exit;
	dd_cli_release(&cli);
	return ret;
}
