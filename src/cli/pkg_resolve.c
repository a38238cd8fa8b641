/*
 * drydock pkg resolve: the resolver on plain index files, without a
 * mirror, for debugging what a job would install.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "solve/solver.h"

/* Wired into `drydock pkg` as "resolve". */

static const char resolve_usage[] =
	"usage: drydock pkg resolve --repo FILE [--repo FILE]... [--arch ARCH] [--json]\n"
	"                           [--force-broken-world] DEP...\n"
	"\n"
	"Resolve DEPs (name, name<op>version or !name) against APKINDEX files\n"
	"(APKINDEX.tar.gz or plain text; earlier --repo files are preferred) the\n"
	"way apk-tools does for a fresh install, and print the chosen packages as\n"
	"name-version, one per line, in install order.  --arch: the architecture\n"
	"installed (default x86_64; \"noarch\" packages always qualify; \"any\"\n"
	"turns the check off).  On failure, apk-tools' explanation (exit 1).\n";

struct resolve_opts {
	const char **repos;
	size_t n_repos;
	const char *arch;
	bool json;
	unsigned flags;
};

static int parse_opts(int argc, char **argv, struct resolve_opts *o)
{
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "arch", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "force-broken-world", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:a:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->repos = dd_xrealloc(o->repos, (o->n_repos + 1) * sizeof(*o->repos));
			o->repos[o->n_repos++] = optarg;
			break;
		case 'a':
			o->arch = strcmp(optarg, "any") ? optarg : NULL;
			break;
		case 'j':
			o->json = true;
			break;
		case 'F':
			o->flags |= DD_SOLVE_FORCE_BROKEN_WORLD;
			break;
		case 'h':
			fputs(resolve_usage, stdout);
			return -1;
		default:
			return DD_EXIT_USAGE;
		}
	}
	if (!o->n_repos)
		return dd_cli_usage_error("pkg resolve: no --repo given (see --help)");
	if (optind >= argc)
		return dd_cli_usage_error("pkg resolve: nothing to resolve (see --help)");
	return 0;
}

static int parse_world(int argc, char **argv, struct dd_dep **world, size_t *n)
{
	*world = dd_xcalloc((size_t)(argc - optind), sizeof(**world));
	for (int i = optind; i < argc; i++) {
		if (dd_solve_world_dep(argv[i], &(*world)[*n]) < 0)
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

		json_array_append_new(
			pkgs, json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:o}", "name", p->name,
					"version", p->version, "arch", p->arch, "reason",
					reason_json(sol, i, world), "depends",
					dd_cli_json_deps(p->depends, p->n_depends), "provides",
					dd_cli_json_deps(p->provides, p->n_provides), "install_if",
					dd_cli_json_deps(p->install_if, p->n_install_if)));
	}
	dd_cli_print_json(
	    json_pack("{s:i, s:o}", "count", (json_int_t)sol->n, "packages", pkgs));
}

static int resolve(const struct resolve_opts *o, const struct dd_dep *world, size_t n_world)
{
	struct dd_solve_index ix = { 0 };
	struct dd_solution sol;
	struct dd_buf why = DD_BUF_INIT;
	struct dd_repo repo;
	int ret = DD_EXIT_OK;

	for (size_t i = 0; i < o->n_repos; i++) {
		if (dd_solve_index_add_file(&ix, o->repos[i]) < 0) {
			dd_cli_error();
			dd_solve_index_release(&ix);
			return DD_EXIT_FAIL;
		}
	}
	dd_solve_index_repo(&ix, o->arch, &repo);
	for (size_t i = 0; i < ix.n_warnings; i++)
		fprintf(stderr, "drydock: warning: %s\n", ix.warnings[i]);
	if (dd_solve_flags(&repo, world, n_world, o->flags, &sol, &why) < 0) {
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
	struct resolve_opts o = { .arch = "x86_64" };
	struct dd_dep *world = NULL;
	size_t n_world = 0;
	int ret = parse_opts(argc, argv, &o);

	if (ret) {
		free(o.repos);
		return ret < 0 ? DD_EXIT_OK : ret;
	}
	if (parse_world(argc, argv, &world, &n_world) < 0) {
		dd_cli_error();
		ret = DD_EXIT_FAIL;
	} else {
		ret = resolve(&o, world, n_world);
	}
	dd_deps_free(world, n_world);
	free(o.repos);
	return ret;
}
