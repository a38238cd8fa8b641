#include "job/plan.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apk/tar.h"
#include "apk/version.h"
#include "core/error.h"
#include "core/time.h"
#include "solve/solver.h"
#include "store/files.h"

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
	DD_GROW(*arr, *n);
	(*arr)[(*n)++] = dd_xstrdup(msg);
}

#define ERROR(p, ...) note(&(p)->errors, &(p)->n_errors, __VA_ARGS__)
#define WARN(p, ...)  note(&(p)->warnings, &(p)->n_warnings, __VA_ARGS__)

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
		ERROR(p,
		      "the mirror has no entitlement manifest: import a bundle that carries one");
		return;
	}
	if (cat->ent_expires <= (cat->judged_at ? cat->judged_at : dd_time_now())) {
		dd_time_format(cat->ent_expires, when);
		ERROR(p,
		      "the entitlement manifest (version %lld) %s expired since %s; "
		      "import a current one",
		      (long long)cat->ent_version,
		      cat->judged_at ? "had been, when the run was built," : "has been", when);
	}
}

/* World: the crust, then the job's packages; removals of crust are errors. */
static void build_world(const struct dd_job *job, char **crust, size_t n_crust, struct dd_plan *p,
			struct dd_dep **world, size_t *n)
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
			ERROR(p,
			      "'!%s' would remove %s, a base package of image '%s': base "
			      "packages cannot be removed",
			      d->name, d->name, job->base);
			continue;
		}
		(*world)[*n].name = dd_xstrdup(d->name);
		(*world)[*n].version = d->version ? dd_xstrdup(d->version) : NULL;
		(*world)[*n].op = d->op;
		(*world)[(*n)++].conflict = d->conflict;
	}
	for (size_t i = 0; i < job->n_remove; i++) {
		if (in_list(crust, n_crust, job->remove[i])) {
			ERROR(p,
			      "contents.remove names %s, a base package of image '%s': base "
			      "packages cannot be removed",
			      job->remove[i], job->base);
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
static void explain_missing(const struct dd_catalog *cat, const struct dd_dep *d, struct dd_plan *p)
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
		ERROR(p,
		      "package %s: the mirror has version %s, none satisfies '%s%s%s'; a "
		      "newer bundle might carry it",
		      d->name, versions.ptr, d->name, d->version ? dd_version_op_str(d->op) : "",
		      d->version ? d->version : "");
	else if (!provided(cat, d->name))
		ERROR(p,
		      "package %s is unknown here: no imported bundle carried a package of "
		      "that name or providing it",
		      d->name);
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

static void check_guarded(const struct dd_catalog *cat, const struct dd_job *job, struct dd_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *pkg = &cat->pkgs[p->pkgs[i].cat];
		const struct dd_catalog_pkg *info = &cat->info[p->pkgs[i].cat];

		if (strstr(pkg->name, "fips"))
			WARN(p,
			     "%s-%s is a FIPS package: FIPS mode is not guaranteed in this image",
			     pkg->name, pkg->version);
		if (info->guarded)
			continue;
		if (job->allow_unguarded)
			WARN(p,
			     "%s-%s is unguarded (no entitled image lists it%s); allowed by "
			     "policy.allow-unguarded",
			     pkg->name, pkg->version, info->signer ? "" : ", and it is unsigned");
		else
			ERROR(p,
			      "%s-%s is not listed by any entitled image; set "
			      "policy.allow-unguarded: true to use it (it is then flagged as "
			      "unguarded)",
			      pkg->name, pkg->version);
	}
}

/* The chosen package with index id, or NULL. */
/*
 * Reorder plan: the crust first (the base packages, everything they
 * depend on within the plan, and install_if packages their set alone
 * triggers), then the rest, each part in the plan's order, which stays
 * a valid install order because the crust is closed under dependencies.
 */
static void crust_first(const struct dd_catalog *cat, struct dd_plan *p)
{
	bool *in = dd_xcalloc(p->n + 1, sizeof(bool));
	struct dd_plan_pkg *sorted;
	bool grew = true;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < p->n; i++)
		in[i] = p->pkgs[i].role == DD_PLAN_CRUST;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < p->n; i++) {
			const struct dd_apk_pkg *a = &cat->pkgs[p->pkgs[i].cat];

			if (!in[i])
				continue;
			for (size_t d = 0; d < a->n_depends; d++) {
				if (a->depends[d].conflict)
					continue;
				for (size_t j = 0; j < p->n; j++)
					if (!in[j] &&
					    dd_apk_pkg_satisfies(&cat->pkgs[p->pkgs[j].cat],
								 &a->depends[d]))
						in[j] = grew = true;
			}
		}
		for (size_t j = 0; j < p->n; j++) {
			const struct dd_apk_pkg *c = &cat->pkgs[p->pkgs[j].cat];
			bool all = c->n_install_if > 0;

			if (in[j])
				continue;
			for (size_t d = 0; d < c->n_install_if && all; d++) {
				bool met = false;

				for (size_t i = 0; i < p->n && !met; i++)
					met = in[i] &&
					      dd_apk_pkg_satisfies(&cat->pkgs[p->pkgs[i].cat],
								   &c->install_if[d]);
				all = met;
			}
			if (all)
				in[j] = grew = true;
		}
	}
	sorted = dd_xcalloc(p->n + 1, sizeof(*sorted));
	for (size_t i = 0; i < p->n; i++)
		if (in[i])
			sorted[k++] = p->pkgs[i];
	n = k;
	for (size_t i = 0; i < p->n; i++)
		if (!in[i])
			sorted[k++] = p->pkgs[i];
	free(p->pkgs);
	p->pkgs = sorted;
	p->n_crust = n;
	free(in);
}

/* ---- who gets a path several packages ship ------------------------------- */

struct owner {
	size_t pos;
	char type;
	char *sig; /* sha1 and link target: equal means identical content */
};

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static const char *label(const struct dd_catalog *cat, const struct dd_plan *p, size_t pos,
			 char *buf, size_t n)
{
	const struct dd_apk_pkg *pkg = &cat->pkgs[p->pkgs[pos].cat];

	snprintf(buf, n, "%s-%s", pkg->name, pkg->version);
	return buf;
}

/* Walk one path's owners in install order; record the winner. */
static void decide(const struct dd_catalog *cat, struct dd_plan *p, const char *path,
		   struct owner *o, size_t n, struct dd_map *winners)
{
	char a[256], b[256];
	size_t cur = 0;

	qsort(o, n, sizeof(*o), owner_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct dd_apk_pkg *pc = &cat->pkgs[p->pkgs[o[cur].pos].cat];
		const struct dd_apk_pkg *pi = &cat->pkgs[p->pkgs[o[i].pos].cat];
		bool dir_c = o[cur].type == DD_TAR_DIR, dir_i = o[i].type == DD_TAR_DIR;

		if (dir_c && dir_i)
			continue;
		if (dir_c != dir_i)
			ERROR(p,
			      "file conflict: /%s is %s in %s but %s in %s; remove one of the two "
			      "packages from the job",
			      path, dd_tar_type_phrase(o[cur].type),
			      label(cat, p, o[cur].pos, a, sizeof(a)),
			      dd_tar_type_phrase(o[i].type), label(cat, p, o[i].pos, b, sizeof(b)));
		else if (o[cur].type == o[i].type && !strcmp(o[cur].sig, o[i].sig))
			continue;
		else if (dd_apk_pkg_replaces(pi, pc->name))
			cur = i;
		else if (!dd_apk_pkg_replaces(pc, pi->name))
			ERROR(p,
			      "file conflict: /%s is shipped by both %s and %s with different "
			      "content, and neither replaces the other; remove one of the two "
			      "packages from the job",
			      path, label(cat, p, o[cur].pos, a, sizeof(a)),
			      label(cat, p, o[i].pos, b, sizeof(b)));
	}
	if (winners && o[cur].type != DD_TAR_DIR)
		*dd_map_put(winners, path) = (void *)(uintptr_t)(o[cur].pos + 1);
}

struct owners {
	const struct dd_catalog *cat;
	struct dd_plan *p;
	struct dd_map *winners;
	struct dd_buf last; /* the path of o[0, n) */
	struct owner *o;
	size_t n;
};

static void decide_last(struct owners *w)
{
	if (!w->n)
		return;
	decide(w->cat, w->p, w->last.ptr, w->o, w->n, w->winners);
	for (size_t i = 0; i < w->n; i++)
		free(w->o[i].sig);
	w->n = 0;
}

/* Rows come ordered by path: decide each path when the next begins. */
static int owner_row(void *ctx, size_t k, const struct dd_index_file *f)
{
	struct owners *w = ctx;
	struct dd_buf sig = DD_BUF_INIT;
	struct owner *o;

	if (w->n && strcmp(f->path, w->last.ptr))
		decide_last(w);
	DD_GROW(w->o, w->n);
	o = &w->o[w->n++];
	o->pos = k;
	o->type = f->type;
	dd_buf_addf(&sig, "%s:%s", f->sha1 ? f->sha1 : "", f->link ? f->link : "");
	o->sig = dd_buf_detach(&sig, NULL);
	dd_buf_reset(&w->last);
	dd_buf_adds(&w->last, f->path);
	return 0;
}

int dd_plan_owners(struct dd_store *s, const struct dd_catalog *cat, struct dd_plan *p, size_t upto,
		   struct dd_map *winners)
{
	struct owners w = { cat, p, winners, DD_BUF_INIT, NULL, 0 };
	size_t *which;
	int rc;

	if (upto < 2)
		return 0;
	which = dd_xcalloc(upto, sizeof(*which));
	for (size_t i = 0; i < upto; i++)
		which[i] = p->pkgs[i].cat;
	rc = dd_index_shared_paths(s, cat, which, upto, owner_row, &w);
	if (!rc)
		decide_last(&w);
	for (size_t i = 0; i < w.n; i++)
		free(w.o[i].sig);
	free(w.o);
	free(which);
	dd_buf_release(&w.last);
	return rc;
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
		ERROR(p,
		      "%s; the job's 'base:' must name an entitled image (see 'drydock mirror "
		      "entitlements')",
		      dd_error_detail());
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
	crust_first(cat, p);
	check_guarded(cat, job, p);
	rc = dd_plan_owners(s, cat, p, p->n, &p->owners);
out:
	p->ok = !rc && !p->n_errors;
	dd_solution_release(&sol);
	dd_deps_free(world, n_world);
	for (size_t i = 0; i < n_crust; i++)
		free(crust[i]);
	free(crust);
	free(ptrs);
	dd_buf_release(&why);
	if (rc)
		dd_plan_release(p);
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
	dd_map_release(&p->owners, NULL);
	memset(p, 0, sizeof(*p));
}
