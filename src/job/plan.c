#include "job/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apk/version.h"
#include "core/error.h"
#include "solve/solver.h"

const char *dd_plan_role_str(enum dd_plan_role r)
{
	static const char *names[] = { "crust", "requested", "pulled", "install_if" };

	return names[r];
}

static void note(char ***arr, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(char ***arr, size_t *n, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*arr = dd_xrealloc(*arr, (*n + 1) * sizeof(char *));
	(*arr)[(*n)++] = dd_xstrdup(msg);
}

#define ERROR(p, ...) note(&(p)->errors, &(p)->n_errors, __VA_ARGS__)
#define WARN(p, ...) note(&(p)->warnings, &(p)->n_warnings, __VA_ARGS__)

static bool in_list(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static void check_entitlement(const struct dd_catalog *cat, struct dd_plan *p)
{
	char when[32];

	if (!cat->has_entitlement) {
		ERROR(p, "the mirror has no entitlement manifest: import a bundle that carries one");
		return;
	}
	if (cat->ent_expires <= dd_time_now()) {
		dd_time_format(cat->ent_expires, when);
		ERROR(p, "the entitlement manifest (version %lld) has been expired since %s; "
		      "import a current one", (long long)cat->ent_version, when);
	}
}

/* World: the crust, then the job's packages; removals of crust are errors. */
static void build_world(const struct dd_job *job, char **crust, size_t n_crust,
			struct dd_plan *p, struct dd_dep **world, size_t *n)
{
	*world = dd_xcalloc(n_crust + job->n_packages + job->n_remove + 1, sizeof(**world));
	*n = 0;
	for (size_t i = 0; i < n_crust; i++) {
		(*world)[*n].name = dd_xstrdup(crust[i]);
		(*world)[(*n)++].op = DD_VER_ANY;
	}
	for (size_t i = 0; i < job->n_packages; i++) {
		const struct dd_dep *d = &job->packages[i];

		if (d->conflict && in_list(crust, n_crust, d->name)) {
			ERROR(p, "'!%s' would remove %s, a base package of image '%s': base "
			      "packages cannot be removed", d->name, d->name, job->base);
			continue;
		}
		(*world)[*n].name = dd_xstrdup(d->name);
		(*world)[*n].version = d->version ? dd_xstrdup(d->version) : NULL;
		(*world)[*n].op = d->op;
		(*world)[(*n)++].conflict = d->conflict;
	}
	for (size_t i = 0; i < job->n_remove; i++) {
		if (in_list(crust, n_crust, job->remove[i])) {
			ERROR(p, "contents.remove names %s, a base package of image '%s': base "
			      "packages cannot be removed", job->remove[i], job->base);
			continue;
		}
		(*world)[*n].name = dd_xstrdup(job->remove[i]);
		(*world)[*n].op = DD_VER_ANY;
		(*world)[(*n)++].conflict = true;
	}
}

static bool provided(const struct dd_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->n; i++)
		for (size_t k = 0; k < cat->pkgs[i].n_provides; k++)
			if (!strcmp(cat->pkgs[i].provides[k].name, name))
				return true;
	return false;
}

/* Explain a name nobody in the mirror provides at an acceptable version. */
static void explain_missing(const struct dd_catalog *cat, const struct dd_dep *d,
			    struct dd_plan *p)
{
	struct dd_buf versions = DD_BUF_INIT;

	for (size_t i = 0; i < cat->n; i++) {
		const struct dd_apk_pkg *x = &cat->pkgs[i];

		if (dd_dep_matches(d, x->name, x->version))
			return; /* available: the solver says what went wrong */
		for (size_t k = 0; k < x->n_provides; k++)
			if (dd_dep_matches(d, x->provides[k].name, x->provides[k].version))
				return;
	}
	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->pkgs[i].name, d->name))
			dd_buf_addf(&versions, "%s%s", versions.len ? ", " : "",
				    cat->pkgs[i].version);
	if (versions.len)
		ERROR(p, "package %s: the mirror has version %s, none satisfies '%s%s%s'; a "
		      "newer bundle might carry it", d->name, versions.ptr, d->name,
		      d->version ? dd_version_op_str(d->op) : "", d->version ? d->version : "");
	else if (!provided(cat, d->name))
		ERROR(p, "package %s is unknown here: no imported bundle carried a package of "
		      "that name or providing it", d->name);
	dd_buf_release(&versions);
}

static int lookup(const struct dd_catalog *cat, const struct dd_apk_pkg *pkg)
{
	return (int)(pkg - cat->pkgs);
}

static void assign_roles(const struct dd_catalog *cat, const struct dd_solution *sol,
			 size_t n_crust, struct dd_plan *p)
{
	p->pkgs = dd_xcalloc(sol->n + 1, sizeof(*p->pkgs));
	p->n = sol->n;
	for (size_t i = 0; i < sol->n; i++) {
		struct dd_plan_pkg *x = &p->pkgs[i];
		int r = sol->reason ? sol->reason[i] : 0;

		x->cat = (size_t)lookup(cat, sol->pkgs[i]);
		if (r >= 0)
			x->role = (size_t)r < n_crust ? DD_PLAN_CRUST : DD_PLAN_REQUESTED;
		else if ((size_t)(-1 - r) < sol->n) {
			x->role = DD_PLAN_PULLED;
			x->by = sol->pkgs[-1 - r]->name;
		} else {
			x->role = DD_PLAN_INSTALL_IF;
		}
		p->size += sol->pkgs[i]->file_size;
		p->installed_size += sol->pkgs[i]->installed_size;
	}
}

static void check_guarded(const struct dd_catalog *cat, const struct dd_job *job,
			  struct dd_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *pkg = &cat->pkgs[p->pkgs[i].cat];
		const struct dd_catalog_pkg *info = &cat->info[p->pkgs[i].cat];

		if (strstr(pkg->name, "fips"))
			WARN(p, "%s-%s is a FIPS package: FIPS mode is not guaranteed in this image",
			     pkg->name, pkg->version);
		if (info->guarded)
			continue;
		if (job->allow_unguarded)
			WARN(p, "%s-%s is unguarded (no entitled image lists it%s); allowed by "
			     "policy.allow-unguarded", pkg->name, pkg->version,
			     info->signer ? "" : ", and it is unsigned");
		else
			ERROR(p, "%s-%s is not listed by any entitled image; set "
			      "policy.allow-unguarded: true to use it (it is then flagged as "
			      "unguarded)", pkg->name, pkg->version);
	}
}

static bool replaces(const struct dd_apk_pkg *a, const char *name)
{
	for (size_t i = 0; i < a->n_replaces; i++)
		if (!strcmp(a->replaces[i].name, name))
			return true;
	return false;
}

/* The chosen package with index id, or NULL. */
static const struct dd_apk_pkg *chosen(const struct dd_catalog *cat, const struct dd_plan *p,
				       int64_t id)
{
	for (size_t i = 0; i < p->n; i++)
		if (cat->info[p->pkgs[i].cat].id == id)
			return &cat->pkgs[p->pkgs[i].cat];
	return NULL;
}

/*
 * Two chosen packages shipping one path with different content, from
 * the mirror's file index: rows come sorted by path, so each path's
 * owners are adjacent.  Identical content, or a `replaces` either way,
 * is no conflict.
 */
static int check_conflicts(struct dd_store *s, const struct dd_catalog *cat, struct dd_plan *p)
{
	struct dd_buf sql = DD_BUF_INIT, last_path = DD_BUF_INIT, last_sig = DD_BUF_INIT;
	const struct dd_apk_pkg *prev = NULL;
	sqlite3_stmt *st;
	int rc;

	if (!p->n)
		return 0;
	dd_buf_adds(&sql, "SELECT f.path, f.pkg, f.type || ':' || ifnull(f.sha1, '') || ':' || "
		    "ifnull(f.link, '') FROM files f WHERE f.type != 'dir' AND f.pkg IN (");
	for (size_t i = 0; i < p->n; i++)
		dd_buf_addf(&sql, "%s%lld", i ? "," : "", (long long)cat->info[p->pkgs[i].cat].id);
	dd_buf_adds(&sql, ") ORDER BY f.path, f.pkg");
	rc = dd_db_prepare(s, sql.ptr, &st);
	dd_buf_release(&sql);
	if (rc)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		const char *sig = (const char *)sqlite3_column_text(st, 2);
		const struct dd_apk_pkg *pkg = chosen(cat, p, sqlite3_column_int64(st, 1));

		if (prev && prev != pkg && dd_blob_eq(dd_buf_blob(&last_path), path) &&
		    !dd_blob_eq(dd_buf_blob(&last_sig), sig) && !replaces(pkg, prev->name) &&
		    !replaces(prev, pkg->name))
			ERROR(p, "file conflict: /%s is shipped by both %s-%s and %s-%s with "
			      "different content", path, prev->name, prev->version, pkg->name,
			      pkg->version);
		dd_buf_reset(&last_path);
		dd_buf_adds(&last_path, path);
		dd_buf_reset(&last_sig);
		dd_buf_adds(&last_sig, sig);
		prev = pkg;
	}
	sqlite3_finalize(st);
	dd_buf_release(&last_path);
	dd_buf_release(&last_sig);
	return 0;
}

int dd_plan_make(struct dd_store *s, const struct dd_catalog *cat, const struct dd_job *job,
		 const char *arch, struct dd_plan *p)
{
	const struct dd_apk_pkg **ptrs = dd_xcalloc(cat->n + 1, sizeof(*ptrs));
	struct dd_repo repo = { ptrs, cat->n, arch, NULL };
	struct dd_solution sol = { NULL, 0, NULL };
	struct dd_buf why = DD_BUF_INIT;
	struct dd_dep *world = NULL;
	char **crust = NULL;
	size_t n_crust = 0, n_world = 0;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->arch = arch;
	check_entitlement(cat, p);
	if (cat->has_entitlement && job->base &&
	    dd_catalog_image_base(s, cat, job->base, &crust, &n_crust))
		ERROR(p, "%s; the job's 'base:' must name an entitled image (see 'drydock mirror "
		      "entitlements')", dd_error_detail());
	if (p->n_errors)
		goto out;
	for (size_t i = 0; i < cat->n; i++)
		ptrs[i] = &cat->pkgs[i];
	build_world(job, crust, n_crust, p, &world, &n_world);
	if (p->n_errors)
		goto out;
	if (dd_solve(&repo, world, n_world, &sol, &why)) {
		for (size_t i = 0; i < n_world; i++)
			if (!world[i].conflict)
				explain_missing(cat, &world[i], p);
		ERROR(p, "%s", why.len ? why.ptr : dd_error_detail());
		goto out;
	}
	assign_roles(cat, &sol, n_crust, p);
	check_guarded(cat, job, p);
	rc = check_conflicts(s, cat, p);
out:
	p->ok = !rc && !p->n_errors;
	dd_solution_release(&sol);
	dd_deps_free(world, n_world);
	for (size_t i = 0; i < n_crust; i++)
		free(crust[i]);
	free(crust);
	free(ptrs);
	dd_buf_release(&why);
	return rc;
}

void dd_plan_release(struct dd_plan *p)
{
	for (size_t i = 0; i < p->n_errors; i++)
		free(p->errors[i]);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->errors);
	free(p->warnings);
	free(p->pkgs);
	memset(p, 0, sizeof(*p));
}
