/*
 * drydock pkg resolve: the resolver on plain index files, without a
 * mirror, for debugging what a job would install.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/error.h"
#include "solve/solver.h"

/* Wired into `drydock pkg` as "resolve". */

static const struct dd_cmd_spec resolve_spec = {
	.name = "pkg resolve",
	.operands = "DEP...",
	.min_operands = 1,
	.missing_operands = "nothing to resolve",
	.about = "Resolve DEPs (name, name<op>version or !name) against APKINDEX files\n"
		 "(APKINDEX.tar.gz or plain text; earlier --repo files are preferred) the\n"
		 "way apk-tools does for a fresh install, and print the chosen packages as\n"
		 "name-version, one per line, in install order.\n",
	.footer = "On failure, apk-tools' explanation (exit 1).\n",
};

struct resolve_opts {
	struct dd_strlist repos;
	const char *arch;
	bool json, force_broken_world;
};

static int parse_world(char **args, int n_args, struct dd_dep **world, size_t *n)
{
	*world = dd_xcalloc((size_t)n_args, sizeof(**world));
	for (int i = 0; i < n_args; i++) {
		if (dd_solve_world_dep(args[i], &(*world)[*n]) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/* Why a package is in the solution, as the report words it. */
static json_t *reason_json(const struct dd_solution *sol, size_t i, const struct dd_dep *world)
{
	struct dd_buf b = DD_BUF_INIT;
	int r = sol->reason[i];
	json_t *s;

	if (r >= 0) {
		dd_buf_adds(&b, "world[");
		dd_dep_format(&world[r], &b);
		dd_buf_adds(&b, "]");
	} else if (r == -1 - (int)sol->n) {
		dd_buf_adds(&b, "install_if");
	} else {
		const struct dd_apk_pkg *p = sol->pkgs[-1 - r];

		dd_buf_addf(&b, "%s-%s", p->name, p->version);
	}
	s = json_string(b.ptr);
	dd_buf_release(&b);
	return s;
}

static void print_json(const struct dd_solution *sol, const struct dd_dep *world)
{
	json_t *pkgs = json_array();

	for (size_t i = 0; i < sol->n; i++) {
		const struct dd_apk_pkg *p = sol->pkgs[i];

		json_array_append_new(pkgs,
				      json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:o}", "name",
						p->name, "version", p->version, "arch", p->arch,
						"reason", reason_json(sol, i, world), "depends",
						dd_cli_json_deps(p->depends, p->n_depends),
						"provides",
						dd_cli_json_deps(p->provides, p->n_provides),
						"install_if",
						dd_cli_json_deps(p->install_if, p->n_install_if)));
	}
	dd_cli_print_json(json_pack("{s:i, s:o}", "count", (json_int_t)sol->n, "packages", pkgs));
}

static int resolve(const struct resolve_opts *o, const struct dd_dep *world, size_t n_world)
{
	struct dd_solve_index ix = { 0 };
	struct dd_solution sol;
	struct dd_buf why = DD_BUF_INIT;
	struct dd_repo repo;
	int ret = DD_EXIT_OK;

	for (size_t i = 0; i < o->repos.n; i++) {
		if (dd_solve_index_add_file(&ix, o->repos.v[i]) < 0) {
			dd_cli_error();
			dd_solve_index_release(&ix);
			return DD_EXIT_FAIL;
		}
	}
	dd_solve_index_repo(&ix, strcmp(o->arch, "any") ? o->arch : NULL, &repo);
	for (size_t i = 0; i < ix.n_warnings; i++)
		fprintf(stderr, "drydock: warning: %s\n", ix.warnings[i]);
	if (dd_solve_flags(&repo, world, n_world,
			   o->force_broken_world ? DD_SOLVE_FORCE_BROKEN_WORLD : 0, &sol,
			   &why) < 0) {
		fprintf(stderr, "drydock: %s", why.ptr ? why.ptr : dd_error_detail());
		if (o->json)
			dd_cli_print_json(json_pack("{s:s}", "error", why.ptr ? why.ptr : ""));
		ret = DD_EXIT_FAIL;
	} else if (o->json) {
		print_json(&sol, world);
	} else {
		for (size_t i = 0; i < sol.n; i++)
			printf("%s-%s\n", sol.pkgs[i]->name, sol.pkgs[i]->version);
	}
	dd_solution_release(&sol);
	dd_buf_release(&why);
	dd_solve_index_release(&ix);
	return ret;
}

int dd_cli_pkg_resolve(int argc, char **argv)
{
	struct dd_cli cli = DD_CLI_INIT;
	struct resolve_opts o = { .arch = "x86_64" };
	struct dd_dep *world = NULL;
	size_t n_world = 0;
	int ret;
	const struct dd_option opts[] = {
		{ .kind = DD_OPTK_LIST,
		  .long_name = "repo",
		  .value = &o.repos,
		  .argh = "FILE",
		  .flags = DD_OPT_REQUIRED,
		  .help = "an index: APKINDEX.tar.gz or plain APKINDEX text (repeatable; "
			  "earlier ones are preferred)" },
		DD_OPT_STRING(0, "arch", &o.arch, "ARCH",
			      "the architecture installed (default x86_64; \"noarch\" packages "
			      "always qualify; \"any\" turns the check off)"),
		DD_OPT_JSON(&o.json),
		DD_OPT_BOOL(0, "force-broken-world", &o.force_broken_world,
			    "install what can be installed when the world cannot be satisfied, "
			    "as apk's --force-broken-world"),
		DD_OPT_END,
	};

	if (dd_cli_parse(&resolve_spec, opts, argc, argv, &cli)) {
		ret = cli.exit;
	} else if (parse_world(cli.args, cli.n_args, &world, &n_world) < 0) {
		dd_cli_error();
		ret = DD_EXIT_FAIL;
	} else {
		ret = resolve(&o, world, n_world);
	}
	dd_deps_free(world, n_world);
	dd_cli_release(&cli);
	return ret;
}
