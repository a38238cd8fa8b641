/*
 * The resolver, after apk-tools' "up- and down-propagating, forward
 * checking, deductive" solver (src/solver.c, src/commit.c there).  The
 * rules are apk-tools'; the code is ours.  Only what a fresh install
 * needs is modelled: no installed database, no repository pinning, no
 * upgrade flags.
 *
 * Vocabulary.  A *name* is anything a dependency can refer to: package
 * names and everything packages provide ("so:libc.musl-x86_64.so.1",
 * "cmd:sh", "/bin/sh").  Each name has *providers*: (package, version)
 * pairs, the version being NULL for an unversioned provide.  Solving
 * decides, for each name that is needed, one provider (or none), and a
 * package is installed when it was chosen for some name.
 *
 * The phases:
 *   0. prepare: index every package by its names and provides, then
 *      follow only what the world can reach (in a 5,000-package index,
 *      the part one job touches) to resolve dependency names and build
 *      reverse edges;
 *   1. discover: walk the graph from the world, numbering names so that
 *      those closer to the world are decided first;
 *   2. propagate: every constraint counts against the providers that
 *      fail it; a failed provider is disqualified, which makes the
 *      packages depending on it reconsider whether their own
 *      dependencies can still be met, and so on (the "dirty" queue);
 *      a name whose candidates all share a dependency passes it down;
 *   3. select: take the most urgent undecided name, pick its best
 *      candidate, lock its names and apply its dependencies; repeat
 *      from 2 until nothing is left;
 *   4. changeset: walk the world depth-first for the install order;
 *      packages whose install_if holds join after their triggers;
 *   5. on error, the report (see the end of this file).
 */
#include "solve/solver.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apk/version.h"
#include "core/error.h"

#define NONE         UINT32_MAX
#define OP_CHECKSUM  (DD_VER_LESS | DD_VER_GREATER)
#define REPORT_WIDTH 50 /* apk-tools wraps its report at 50 columns off a terminal */
#define WHY_IIF      INT32_MIN

/* ---- small containers ---------------------------------------------------- */

struct ids {
	uint32_t *v;
	uint32_t n, cap;
};

static void ids_add(struct ids *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = dd_xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = x;
}

/* Open-addressing hash from strings to ids; keys are not copied. */
struct slot {
	const char *key;
	uint32_t hash, id;
};

struct map {
	struct slot *s;
	uint32_t cap, n;
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void map_grow(struct map *m, uint32_t want)
{
	struct map old = *m;

	m->cap = old.cap ? old.cap * 2 : 1024;
	while (m->cap < 2 * want)
		m->cap *= 2;
	m->s = dd_xcalloc(m->cap, sizeof(*m->s));
	for (uint32_t i = 0; i < old.cap; i++) {
		uint32_t j = old.s[i].hash & (m->cap - 1);

		if (!old.s[i].key)
			continue;
		while (m->s[j].key)
			j = (j + 1) & (m->cap - 1);
		m->s[j] = old.s[i];
	}
	free(old.s);
}

/* The id stored for key, or NONE after storing id for it. */
static uint32_t map_get_or_put(struct map *m, const char *key, uint32_t id)
{
	uint32_t h = str_hash(key), j;

	if ((m->n + 1) * 2 > m->cap)
		map_grow(m, m->n + 1);
	for (j = h & (m->cap - 1); m->s[j].key; j = (j + 1) & (m->cap - 1))
		if (m->s[j].hash == h && !strcmp(m->s[j].key, key))
			return m->s[j].id;
	m->s[j] = (struct slot){ key, h, id };
	m->n++;
	return NONE;
}

/* ---- the graph ---------------------------------------------------------- */

struct prov {
	uint32_t pkg;
	const char *ver; /* NULL: provided without a version */
};

struct name {
	const char *str;
	struct prov *prov; /* into solver.provs */
	uint32_t n_prov;
	uint32_t first_pkg; /* packages of this name: pkg.next_same chain */
	bool reached;
	struct ids rdeps; /* names of packages that depend on this name */
	struct ids riif;  /* names of packages whose install_if mentions it */
};

struct pkg {
	const struct dd_apk_pkg *p;
	uint32_t name;
	uint32_t *dep, *prv, *iif; /* name of each depends/provides/install_if entry */
	uint32_t n_dep, n_prv;     /* p's counts, kept here where the solver looks */
	uint32_t n_iif;            /* 0 when apk-tools would drop a broken install_if */
	uint32_t next_same;        /* next package of the same name */
	int prio;                  /* provider_priority, as apk reads it (unsigned) */
	bool uninstallable, badarch, reached;
};

/* Per-name solving state; zeroed for each attempt. */
struct nstate {
	int requirers;
	uint32_t order, prev, next;
	struct prov chosen;
	uint16_t merge_deps, merge_provs;
	uint8_t list;
	bool seen, locked, dirty, re_deps, re_iif, has_options, has_iif, no_iif;
	bool iif_needed, autosel, rdeps_done, resolvenow, virt_provides, cs_done;
	unsigned rep, rep_count;
};

/* Per-package solving state; zeroed for each attempt. */
struct pstate {
	int conflicts;
	bool seen, selectable, iif_failed, iif_triggered, merged, used, error, in_cs, marked;
	unsigned rep;
	uint32_t genid;
	int why; /* world index, -1 - parent package, or WHY_IIF */
};

struct wdep {
	const struct dd_dep *d;
	uint32_t name;
	size_t orig;
	bool broken;
};

enum { L_NONE, L_NOW, L_SEL, L_UNRES, L_COUNT };

struct list {
	uint32_t head, tail;
};

struct solver {
	const struct dd_repo *repo;
	struct name *names;
	uint32_t n_names, cap_names;
	struct pkg *pkgs;
	uint32_t n_pkgs;
	struct prov *provs;
	uint32_t *pool, *pool_next;
	struct map namemap;
	uint32_t *stamp; /* scratch, one per name */
	struct wdep *world;
	uint32_t n_world;
	/* per attempt */
	struct nstate *ns;
	struct pstate *ps;
	struct ids dirty;
	uint32_t dirty_head;
	struct list lists[L_COUNT];
	uint32_t order_seq, genid;
	unsigned errors;
	bool missing;
	struct ids cs; /* changeset: packages in install order */
};

static uint32_t name_id(struct solver *S, const char *str)
{
	uint32_t id = map_get_or_put(&S->namemap, str, S->n_names);

	if (id != NONE)
		return id;
	if (S->n_names == S->cap_names) {
		S->cap_names = S->cap_names ? S->cap_names * 2 : 1024;
		S->names = dd_xrealloc(S->names, S->cap_names * sizeof(*S->names));
	}
	memset(&S->names[S->n_names], 0, sizeof(S->names[0]));
	S->names[S->n_names].str = str;
	S->names[S->n_names].first_pkg = NONE;
	return S->n_names++;
}

/* apk-tools calls a dependency "broken" when its version does not
 * parse (a checksum pin is not a version and is never broken). */
static bool dep_broken(const struct dd_dep *d)
{
	return d->version && d->op != OP_CHECKSUM && !dd_version_valid(dd_blob_str(d->version));
}

static bool any_broken(const struct dd_dep *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dep_broken(&d[i]))
			return true;
	return false;
}

/* A package without an arch fits anywhere, as in apk-tools. */
static bool arch_ok(const struct dd_repo *repo, const char *arch)
{
	return !arch || !arch[0] || !repo->arch || !strcmp(arch, repo->arch) ||
	       !strcmp(arch, "noarch");
}

/* Name ids for a list of dependencies, stored in the pool. */
static uint32_t *dep_names(struct solver *S, const struct dd_dep *d, size_t n)
{
	uint32_t *out = S->pool_next;

	for (size_t i = 0; i < n; i++)
		out[i] = name_id(S, d[i].name);
	S->pool_next += n;
	return out;
}

/* The same package listed twice (two indexes) is one package. */
static bool duplicate(const struct solver *S, uint32_t n, const struct dd_apk_pkg *p)
{
	if (!p->checksum[0])
		return false;
	for (uint32_t k = S->names[n].first_pkg; k != NONE; k = S->pkgs[k].next_same)
		if (!strcmp(S->pkgs[k].p->checksum, p->checksum))
			return true;
	return false;
}

/* What every package needs: its names.  The rest waits until the
 * package turns out to be reachable from the world (see reach()). */
static void add_package(struct solver *S, const struct dd_apk_pkg *p, bool broken)
{
	uint32_t n = name_id(S, p->name), k;
	struct pkg *pk;

	if (duplicate(S, n, p))
		return;
	k = S->n_pkgs++;
	pk = &S->pkgs[k];
	pk->p = p;
	pk->name = n;
	pk->next_same = S->names[n].first_pkg;
	S->names[n].first_pkg = k;
	pk->n_dep = (uint32_t)p->n_depends;
	pk->n_prv = (uint32_t)p->n_provides;
	pk->prv = dep_names(S, p->provides, p->n_provides);
	pk->iif = dep_names(S, p->install_if, p->n_install_if);
	/* apk-tools drops a whole install_if rule that does not parse */
	pk->n_iif = any_broken(p->install_if, p->n_install_if) ? 0 : (uint32_t)p->n_install_if;
	pk->prio = p->has_provider_priority && p->provider_priority > 0 ? p->provider_priority : 0;
	pk->uninstallable = broken;
	S->names[n].n_prov++;
	for (size_t j = 0; j < p->n_provides; j++)
		S->names[pk->prv[j]].n_prov++;
}

/* Providers in package order, in one array. */
static void fill_providers(struct solver *S)
{
	size_t total = 0;

	for (uint32_t i = 0; i < S->n_names; i++)
		total += S->names[i].n_prov;
	S->provs = dd_xmalloc((total ? total : 1) * sizeof(*S->provs));
	total = 0;
	for (uint32_t i = 0; i < S->n_names; i++) {
		S->names[i].prov = S->provs + total;
		total += S->names[i].n_prov;
		S->names[i].n_prov = 0;
	}
	for (uint32_t k = 0; k < S->n_pkgs; k++) {
		const struct pkg *pk = &S->pkgs[k];
		struct name *nm = &S->names[pk->name];

		nm->prov[nm->n_prov++] = (struct prov){ k, pk->p->version };
		for (size_t j = 0; j < pk->n_prv; j++) {
			nm = &S->names[pk->prv[j]];
			nm->prov[nm->n_prov++] = (struct prov){ k, pk->p->provides[j].version };
		}
	}
}

/*
 * Reverse edges, as apk-tools keeps them: a dependency on X records, on
 * X, the depending package's name and every name it provides.
 */
static void add_reverse(struct ids *l, const struct pkg *pk)
{
	ids_add(l, pk->name);
	for (uint32_t j = 0; j < pk->n_prv; j++)
		ids_add(l, pk->prv[j]);
}

/* Drop repeats from a reverse list, keeping first occurrences. */
static void dedup(struct solver *S, struct ids *l, uint32_t stamp)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		if (S->stamp[l->v[i]] == stamp)
			continue;
		S->stamp[l->v[i]] = stamp;
		l->v[out++] = l->v[i];
	}
	l->n = out;
}

static void dedup_all(struct solver *S, bool iif)
{
	S->stamp = dd_xrealloc(S->stamp, S->n_names * sizeof(*S->stamp));
	memset(S->stamp, 0xff, S->n_names * sizeof(*S->stamp));
	for (uint32_t n = 0; n < S->n_names; n++)
		dedup(S, iif ? &S->names[n].riif : &S->names[n].rdeps, n);
}

static void build_riif(struct solver *S)
{
	for (uint32_t k = 0; k < S->n_pkgs; k++)
		for (uint32_t j = 0; j < S->pkgs[k].n_iif; j++)
			add_reverse(&S->names[S->pkgs[k].iif[j]].riif, &S->pkgs[k]);
	dedup_all(S, true);
}

static void build_graph(struct solver *S)
{
	const struct dd_repo *repo = S->repo;
	size_t total = 0, named = repo->n;

	for (size_t i = 0; i < repo->n; i++) {
		total += repo->pkgs[i]->n_depends + repo->pkgs[i]->n_provides +
			 repo->pkgs[i]->n_install_if;
		named += repo->pkgs[i]->n_provides + repo->pkgs[i]->n_install_if;
	}
	S->pool = S->pool_next = dd_xmalloc((total ? total : 1) * sizeof(*S->pool));
	/* room for every name up front: growing these means copying them */
	S->cap_names = (uint32_t)(repo->n + total + 16);
	S->names = dd_xmalloc(S->cap_names * sizeof(*S->names));
	map_grow(&S->namemap, (uint32_t)named);
	S->pkgs = dd_xcalloc(repo->n ? repo->n : 1, sizeof(*S->pkgs));
	for (size_t i = 0; i < repo->n; i++)
		add_package(S, repo->pkgs[i], repo->broken && repo->broken[i]);
	fill_providers(S);
	build_riif(S);
}

static void reach_name(struct solver *S, struct ids *todo, uint32_t n)
{
	if (S->names[n].reached)
		return;
	S->names[n].reached = true;
	ids_add(todo, n);
}

static void reach_list(struct solver *S, struct ids *todo, uint32_t n)
{
	for (uint32_t i = 0; i < S->names[n].riif.n; i++)
		reach_name(S, todo, S->names[n].riif.v[i]);
}

static void reach_pkg(struct solver *S, struct ids *todo, uint32_t k)
{
	struct pkg *pk = &S->pkgs[k];

	if (pk->reached)
		return;
	pk->reached = true;
	pk->dep = dep_names(S, pk->p->depends, pk->n_dep);
	pk->badarch = !arch_ok(S->repo, pk->p->arch);
	pk->uninstallable |= pk->badarch || any_broken(pk->p->depends, pk->n_dep);
	reach_name(S, todo, pk->name);
	reach_list(S, todo, pk->name);
	for (size_t j = 0; j < pk->n_dep; j++)
		reach_name(S, todo, pk->dep[j]);
	for (size_t j = 0; j < pk->n_prv; j++)
		reach_name(S, todo, pk->prv[j]);
	for (uint32_t j = 0; j < pk->n_iif; j++)
		reach_name(S, todo, pk->iif[j]);
}

/*
 * Everything the world can lead to (a superset of what solving will
 * visit), so that only that part of a large index pays for dependency
 * names and reverse edges; the rest is never looked at.
 */
static void reach(struct solver *S)
{
	struct ids todo = { 0 };

	for (uint32_t i = 0; i < S->n_world; i++)
		reach_name(S, &todo, S->world[i].name);
	while (todo.n) {
		uint32_t n = todo.v[--todo.n];
		const struct prov *pv = S->names[n].prov;
		uint32_t np = S->names[n].n_prov;

		reach_list(S, &todo, n);
		for (uint32_t i = 0; i < np; i++)
			reach_pkg(S, &todo, pv[i].pkg);
	}
	free(todo.v);
	for (uint32_t k = 0; k < S->n_pkgs; k++)
		for (uint32_t j = 0; S->pkgs[k].reached && j < S->pkgs[k].n_dep; j++)
			add_reverse(&S->names[S->pkgs[k].dep[j]].rdeps, &S->pkgs[k]);
	dedup_all(S, false);
}

/* apk-tools orders names case-insensitively first, for display and for
 * the world. */
static int name_cmp_display(const char *a, const char *b)
{
	int r = strcasecmp(a, b);

	return r ? r : strcmp(a, b);
}

static int wdep_cmp(const void *a, const void *b)
{
	const struct wdep *x = a, *y = b;

	return name_cmp_display(x->d->name, y->d->name);
}

/* World entries by name: a later entry for the same name replaces an
 * earlier one (apk add), then sorted as apk-tools sorts them. */
static void build_world(struct solver *S, const struct dd_dep *world, size_t n_world)
{
	S->world = dd_xcalloc(n_world ? n_world : 1, sizeof(*S->world));
	for (size_t i = 0; i < n_world; i++) {
		uint32_t n = name_id(S, world[i].name), j;

		for (j = 0; j < S->n_world && S->world[j].name != n; j++)
			;
		if (j == S->n_world)
			S->n_world++;
		S->world[j] = (struct wdep){ &world[i], n, i, false };
	}
	qsort(S->world, S->n_world, sizeof(*S->world), wdep_cmp);
}

/* ---- matching ------------------------------------------------------------ */

static int ver_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b ? DD_VER_EQUAL : DD_VER_ANY;
	return dd_version_compare(dd_blob_str(a), dd_blob_str(b));
}

/*
 * "a op b", apk-tools' way: a missing version on either side compares
 * as all of less, equal and greater, so an unversioned provide meets
 * any version constraint.
 */
static bool ver_match(const char *a, unsigned op, const char *b)
{
	if ((op & DD_VER_ANY) == DD_VER_ANY)
		return true;
	if (!a || !b)
		return (ver_cmp(a, b) & (int)op) != 0;
	return dd_version_match(dd_blob_str(a), op, dd_blob_str(b));
}

/* Does provider pr satisfy d, a dependency of package deppkg (or NONE
 * for the world)?  A package never conflicts with itself. */
static bool provided(const struct solver *S, uint32_t deppkg, const struct dd_dep *d,
		     struct prov pr)
{
	if (pr.pkg == NONE)
		return d->conflict;
	if (d->conflict && deppkg == pr.pkg)
		return true;
	if (!d->conflict && d->op == OP_CHECKSUM && d->version)
		return !strcmp(d->version, S->pkgs[pr.pkg].p->checksum);
	return ver_match(pr.ver, d->op, d->version) != d->conflict;
}

/* Package k under its own name. */
static struct prov own(const struct solver *S, uint32_t k)
{
	return (struct prov){ k, S->pkgs[k].p->version };
}

/* ---- queues ---------------------------------------------------------------- */

static void list_del(struct solver *S, uint32_t n)
{
	struct nstate *st = &S->ns[n];
	struct list *l = &S->lists[st->list];

	if (st->prev != NONE)
		S->ns[st->prev].next = st->next;
	else
		l->head = st->next;
	if (st->next != NONE)
		S->ns[st->next].prev = st->prev;
	else
		l->tail = st->prev;
	st->list = L_NONE;
}

/* Insert n before `at` (NONE: at the end) of list l. */
static void list_insert(struct solver *S, int l, uint32_t n, uint32_t at)
{
	struct nstate *st = &S->ns[n];
	struct list *li = &S->lists[l];

	st->list = (uint8_t)l;
	st->next = at;
	st->prev = at == NONE ? li->tail : S->ns[at].prev;
	if (st->prev != NONE)
		S->ns[st->prev].next = n;
	else
		li->head = n;
	if (at != NONE)
		S->ns[at].prev = n;
	else
		li->tail = n;
}

/* Keep the list in falling discovery order: names nearer the world first. */
static void list_insert_ordered(struct solver *S, int l, uint32_t n)
{
	uint32_t at = S->lists[l].head;

	while (at != NONE && S->ns[n].order < S->ns[at].order)
		at = S->ns[at].next;
	list_insert(S, l, n, at);
}

static uint32_t list_pop(struct solver *S, int l)
{
	uint32_t n = S->lists[l].head;

	if (n != NONE)
		list_del(S, n);
	return n;
}

static void queue_dirty(struct solver *S, uint32_t n)
{
	struct nstate *st = &S->ns[n];

	if (st->dirty || st->locked || (st->requirers == 0 && !st->re_iif))
		return;
	st->dirty = true;
	ids_add(&S->dirty, n);
}

/* A name can be decided at once when everything depending on it is
 * decided and it has exactly one candidate left. */
static bool resolvable_now(const struct nstate *st)
{
	return st->rdeps_done && st->requirers && st->autosel && !st->has_options;
}

static void queue_unresolved(struct solver *S, uint32_t n, bool reevaluate)
{
	struct nstate *st = &S->ns[n];

	if (st->locked)
		return;
	if (st->list != L_NONE) {
		if (st->resolvenow)
			return;
		if (resolvable_now(st))
			st->resolvenow = true;
		else if (!reevaluate)
			return;
		list_del(S, n);
	} else {
		if (!st->requirers && !st->has_iif && !st->iif_needed)
			return;
		st->resolvenow = resolvable_now(st);
	}
	if (st->resolvenow)
		list_insert(S, L_NOW, n, NONE);
	else
		list_insert_ordered(S, st->autosel ? L_SEL : L_UNRES, n);
}

/* ---- propagation ------------------------------------------------------------ */

static void mark_error(struct solver *S, uint32_t k)
{
	if (k == NONE || S->ps[k].error)
		return;
	S->ps[k].error = true;
	S->errors++;
}

static void reeval_rdeps(struct solver *S, uint32_t n)
{
	const struct ids *r = &S->names[n].rdeps;

	for (uint32_t i = 0; i < r->n; i++) {
		if (!S->ns[r->v[i]].seen)
			continue;
		S->ns[r->v[i]].re_deps = true;
		queue_dirty(S, r->v[i]);
	}
}

static void reeval_riif(struct solver *S, uint32_t n)
{
	const struct ids *r = &S->names[n].riif;

	for (uint32_t i = 0; i < r->n; i++) {
		struct nstate *st = &S->ns[r->v[i]];

		if (!st->seen || st->no_iif)
			continue;
		st->re_iif = true;
		queue_dirty(S, r->v[i]);
	}
}

static void reeval_riif_pkg(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	reeval_riif(S, pk->name);
	for (size_t j = 0; j < pk->n_prv; j++)
		reeval_riif(S, pk->prv[j]);
}

static void disqualify(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	S->ps[k].selectable = false;
	reeval_rdeps(S, pk->name);
	for (size_t j = 0; j < pk->n_prv; j++)
		reeval_rdeps(S, pk->prv[j]);
	reeval_riif_pkg(S, k);
}

static void requirers_changed(struct solver *S, uint32_t n)
{
	queue_unresolved(S, n, false);
	reeval_riif(S, n);
	queue_dirty(S, n);
}

/* Dependency d (on name n) of package ppkg, or of the world when NONE. */
static void apply_constraint(struct solver *S, uint32_t ppkg, const struct dd_dep *d, uint32_t n)
{
	const struct name *nm = &S->names[n];

	if (!d->conflict && ++S->ns[n].requirers == 1)
		requirers_changed(S, n);
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		struct pstate *ps = &S->ps[nm->prov[i].pkg];

		if (!provided(S, ppkg, d, nm->prov[i]))
			ps->conflicts++;
		if (ps->selectable && ps->conflicts)
			disqualify(S, nm->prov[i].pkg);
	}
}

static bool dep_satisfiable(const struct solver *S, uint32_t k, const struct dd_dep *d, uint32_t n)
{
	const struct nstate *st = &S->ns[n];
	const struct name *nm = &S->names[n];

	if (st->locked)
		return provided(S, k, d, st->chosen);
	if (st->requirers == 0 && provided(S, k, d, (struct prov){ NONE, NULL }))
		return true;
	for (uint32_t i = 0; i < nm->n_prov; i++)
		if (S->ps[nm->prov[i].pkg].selectable && provided(S, k, d, nm->prov[i]))
			return true;
	return false;
}

static bool deps_satisfiable(const struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	for (size_t j = 0; j < pk->n_dep; j++)
		if (!dep_satisfiable(S, k, &pk->p->depends[j], pk->dep[j]))
			return false;
	return true;
}

/*
 * When every candidate for `must` provides name n too, whatever gets
 * chosen will hold n: anything else providing n is out (skipping
 * unversioned provides, which may coexist, when any candidate's is).
 */
static void exclude_non_providers(struct solver *S, uint32_t n, uint32_t must, bool skip_virtual)
{
	const struct name *nm = &S->names[n];

	if (n == must)
		return;
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		uint32_t k = nm->prov[i].pkg;
		const struct pkg *pk = &S->pkgs[k];
		bool keep = pk->name == must || !S->ps[k].selectable ||
			    (skip_virtual && !nm->prov[i].ver);

		for (size_t j = 0; !keep && j < pk->n_prv; j++)
			keep = pk->prv[j] == must || (skip_virtual && !pk->p->provides[j].version);
		if (!keep)
			disqualify(S, k);
	}
}

/* An unversioned provide is only picked automatically when it has a
 * provider_priority, or the providing package is wanted by name. */
static bool autoselectable(const struct solver *S, struct prov pr)
{
	return pr.ver || S->pkgs[pr.pkg].prio || S->ns[S->pkgs[pr.pkg].name].requirers;
}

static void eval_install_if(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];
	struct pstate *ps = &S->ps[k];

	ps->iif_triggered = true;
	ps->iif_failed = false;
	for (uint32_t j = 0; j < pk->n_iif; j++) {
		const struct dd_dep *d = &pk->p->install_if[j];
		struct nstate *st = &S->ns[pk->iif[j]];

		if (!st->locked) {
			/* "!name" can only hold once name is decided: get it decided */
			if (d->conflict) {
				st->iif_needed = true;
				queue_unresolved(S, pk->iif[j], false);
			}
			ps->iif_triggered = false;
			return;
		}
		if (!provided(S, k, d, st->chosen)) {
			ps->iif_triggered = false;
			ps->iif_failed = true;
			return;
		}
	}
}

/* Counting trick: the counter of a name reaches the number of options
 * seen so far only while every option so far had it. */
static bool merge_step(uint16_t *c, uint32_t n_opt)
{
	if (*c != n_opt)
		return false;
	*c = (uint16_t)(n_opt + 1);
	return true;
}

static bool merge_done(uint16_t *c, uint32_t n_opt)
{
	bool all = *c == n_opt;

	*c = 0;
	return all;
}

static void merge_option(struct solver *S, struct prov pr, uint32_t n_opt)
{
	const struct pkg *pk = &S->pkgs[pr.pkg];

	for (size_t j = 0; j < pk->n_dep; j++)
		if (!pk->p->depends[j].conflict)
			merge_step(&S->ns[pk->dep[j]].merge_deps, n_opt);
	if (merge_step(&S->ns[pk->name].merge_provs, n_opt))
		S->ns[pk->name].virt_provides |= !pr.ver;
	for (size_t j = 0; j < pk->n_prv; j++)
		if (merge_step(&S->ns[pk->prv[j]].merge_provs, n_opt))
			S->ns[pk->prv[j]].virt_provides |= !pk->p->provides[j].version;
}

/* What all n_opt candidates of name n have in common goes down. */
static void push_common(struct solver *S, uint32_t n, uint32_t first, uint32_t n_opt)
{
	const struct pkg *pk = &S->pkgs[first];

	for (size_t j = 0; j < pk->n_dep; j++) {
		uint32_t d = pk->dep[j];

		if (!merge_done(&S->ns[d].merge_deps, n_opt))
			continue;
		if (n_opt == 1) {
			apply_constraint(S, first, &pk->p->depends[j], d);
		} else if (S->ns[d].requirers == 0) {
			S->ns[d].requirers++;
			requirers_changed(S, d);
		}
	}
	if (merge_done(&S->ns[pk->name].merge_provs, n_opt))
		exclude_non_providers(S, pk->name, n, S->ns[pk->name].virt_provides);
	for (size_t j = 0; j < pk->n_prv; j++)
		if (merge_done(&S->ns[pk->prv[j]].merge_provs, n_opt))
			exclude_non_providers(S, pk->prv[j], n, S->ns[pk->prv[j]].virt_provides);
	S->ns[pk->name].virt_provides = false;
	for (size_t j = 0; j < pk->n_prv; j++)
		S->ns[pk->prv[j]].virt_provides = false;
}

static bool rdeps_done(const struct solver *S, uint32_t n)
{
	const struct ids *r = &S->names[n].rdeps;

	for (uint32_t i = 0; i < r->n; i++)
		if (S->ns[r->v[i]].seen && !S->ns[r->v[i]].locked)
			return false;
	return true;
}

/* Look at name n again after something it depends on changed. */
static void reconsider(struct solver *S, uint32_t n)
{
	struct nstate *st = &S->ns[n];
	const struct name *nm = &S->names[n];
	bool re_deps = st->re_deps, re_iif = st->re_iif, has_iif = false, no_iif = true;
	bool autosel = false, reevaluate = false;
	uint32_t first = NONE, n_opt = 0;

	st->re_deps = st->re_iif = false;
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		uint32_t k = nm->prov[i].pkg;
		struct pstate *ps = &S->ps[k];

		ps->merged = false;
		if (re_deps && ps->selectable && !deps_satisfiable(S, k))
			disqualify(S, k);
		if (!ps->selectable)
			continue;
		if (re_iif && !ps->iif_triggered && !ps->iif_failed)
			eval_install_if(S, k);
		has_iif |= ps->iif_triggered;
		no_iif &= ps->iif_failed;
		autosel |= ps->iif_triggered;
		if (st->requirers == 0)
			continue;
		ps->merged = true;
		if (first == NONE)
			first = k;
		merge_option(S, nm->prov[i], n_opt++);
		autosel |= autoselectable(S, nm->prov[i]);
	}
	st->has_options = n_opt > 1;
	st->has_iif = has_iif;
	st->no_iif = no_iif;
	if (autosel != st->autosel) {
		st->autosel = autosel;
		reevaluate = true;
	}
	if (first != NONE) {
		for (uint32_t i = 0; i < nm->n_prov; i++)
			S->ps[nm->prov[i].pkg].used = S->ps[nm->prov[i].pkg].merged;
		push_common(S, n, first, n_opt);
	}
	st->rdeps_done = rdeps_done(S, n);
	queue_unresolved(S, n, reevaluate);
}

/* ---- discovery ---------------------------------------------------------------- */

static void discover(struct solver *S, uint32_t n);

static void discover_pkg(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];
	struct pstate *ps = &S->ps[k];

	if (ps->seen)
		return;
	ps->seen = true;
	ps->selectable = !pk->uninstallable;
	ps->iif_failed = pk->n_iif == 0;
	for (size_t j = 0; j < pk->n_dep; j++)
		discover(S, pk->dep[j]);
}

static void discover_list(struct solver *S, const struct ids *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		discover(S, l->v[i]);
}

/*
 * Depth first from the world.  A name is numbered after what its
 * candidates depend on, so higher numbers sit nearer the world and are
 * decided first; names some package carries as its own name go before
 * names that are only ever provided.
 */
static void discover(struct solver *S, uint32_t n)
{
	const struct name *nm = &S->names[n];
	struct nstate *st = &S->ns[n];
	uint32_t n_virtual = 0;

	if (st->seen)
		return;
	st->seen = st->no_iif = true;
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		uint32_t k = nm->prov[i].pkg;

		discover_pkg(S, k);
		st->no_iif &= S->ps[k].iif_failed;
		n_virtual += S->pkgs[k].name != n;
	}
	discover_list(S, &nm->riif);
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		const struct pkg *pk = &S->pkgs[nm->prov[i].pkg];

		discover_list(S, &S->names[pk->name].riif);
		for (size_t j = 0; j < pk->n_prv; j++)
			discover(S, pk->prv[j]);
	}
	st->order = (uint32_t)(nm->n_prov != n_virtual) << 30 | ++S->order_seq;
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		const struct pkg *pk = &S->pkgs[nm->prov[i].pkg];

		for (uint32_t j = 0; j < pk->n_iif; j++)
			discover(S, pk->iif[j]);
	}
}

/* ---- selection ------------------------------------------------------------------ */

static int cmp_versions(const char *a, const char *b)
{
	return dd_version_sign(ver_cmp(a, b));
}

/* > 0 when provider a is the better choice. */
static int compare_providers(const struct solver *S, struct prov a, struct prov b)
{
	const struct pstate *pa, *pb;
	const struct pkg *ka, *kb;
	int r;

	if (a.pkg == NONE || b.pkg == NONE)
		return (a.pkg != NONE) - (b.pkg != NONE);
	pa = &S->ps[a.pkg], pb = &S->ps[b.pkg];
	ka = &S->pkgs[a.pkg], kb = &S->pkgs[b.pkg];
	if ((r = pa->selectable - pb->selectable) || (r = pa->used - pb->used) ||
	    (r = pb->conflicts - pa->conflicts))
		return r;
	/* the highest version of the name asked for, then of the package */
	if ((r = cmp_versions(a.ver, b.ver)))
		return r;
	if (ka->name == kb->name && (r = cmp_versions(ka->p->version, kb->p->version)))
		return r;
	if ((r = ka->prio - kb->prio))
		return r;
	/* the earlier repository */
	return a.pkg < b.pkg ? 1 : -1;
}

static void assign(struct solver *S, uint32_t n, struct prov pr)
{
	struct nstate *st = &S->ns[n];
	const struct name *nm = &S->names[n];

	if (st->locked) {
		/* several unversioned provides of one name may coexist */
		if (!pr.ver && !st->chosen.ver)
			return;
		mark_error(S, pr.pkg);
		mark_error(S, st->chosen.pkg);
		return;
	}
	st->locked = true;
	st->chosen = pr;
	st->dirty = false;
	if (st->list != L_NONE)
		list_del(S, n);
	if (pr.pkg != NONE && !st->requirers && S->ps[pr.pkg].iif_triggered) {
		const struct pkg *pk = &S->pkgs[pr.pkg];

		for (uint32_t j = 0; j < pk->n_iif; j++)
			if (!S->ns[pk->iif[j]].locked)
				apply_constraint(S, pr.pkg, &pk->p->install_if[j], pk->iif[j]);
	}
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		if (nm->prov[i].pkg == pr.pkg || (!pr.ver && !nm->prov[i].ver))
			continue;
		disqualify(S, nm->prov[i].pkg);
	}
	reeval_rdeps(S, n);
	if (pr.pkg != NONE)
		reeval_riif_pkg(S, pr.pkg);
	else
		reeval_riif(S, n);
}

static void install(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	if (!S->ps[k].selectable)
		mark_error(S, k);
	assign(S, pk->name, own(S, k));
	for (size_t j = 0; j < pk->n_prv; j++)
		assign(S, pk->prv[j], (struct prov){ k, pk->p->provides[j].version });
	for (size_t j = 0; j < pk->n_dep; j++)
		apply_constraint(S, k, &pk->p->depends[j], pk->dep[j]);
}

static void select_name(struct solver *S, uint32_t n)
{
	const struct nstate *st = &S->ns[n];
	const struct name *nm = &S->names[n];
	struct prov best = { NONE, NULL };

	for (uint32_t i = 0; (st->requirers || st->has_iif) && i < nm->n_prov; i++) {
		const struct pstate *ps = &S->ps[nm->prov[i].pkg];

		if (!st->requirers && (!ps->iif_triggered || !ps->selectable))
			continue;
		if (!autoselectable(S, nm->prov[i]))
			continue;
		if (compare_providers(S, nm->prov[i], best) > 0)
			best = nm->prov[i];
	}
	if (best.pkg != NONE) {
		install(S, best.pkg);
		return;
	}
	assign(S, n, best);
	if (st->requirers > 0) {
		S->errors++;
		S->missing |= nm->n_prov == 0;
	}
}

static uint32_t next_name(struct solver *S)
{
	for (int l = L_NOW; l < L_COUNT; l++) {
		uint32_t n = list_pop(S, l);

		if (n != NONE)
			return n;
	}
	return NONE;
}

static void run(struct solver *S)
{
	for (uint32_t i = 0; i < S->n_world; i++)
		if (!S->world[i].broken)
			discover(S, S->world[i].name);
	for (uint32_t i = 0; i < S->n_world; i++)
		if (!S->world[i].broken)
			apply_constraint(S, NONE, S->world[i].d, S->world[i].name);
	for (;;) {
		uint32_t n;

		while (S->dirty_head < S->dirty.n) {
			n = S->dirty.v[S->dirty_head++];
			if (!S->ns[n].dirty)
				continue;
			S->ns[n].dirty = false;
			reconsider(S, n);
		}
		S->dirty.n = S->dirty_head = 0;
		if ((n = next_name(S)) == NONE)
			break;
		select_name(S, n);
	}
}

/* ---- changeset ------------------------------------------------------------------- */

static void cs_name(struct solver *S, uint32_t n, int why);

/* What name n got: nothing until it is decided. */
static struct prov chosen(const struct solver *S, uint32_t n)
{
	return S->ns[n].locked ? S->ns[n].chosen : (struct prov){ NONE, NULL };
}

static void cs_dep(struct solver *S, uint32_t ppkg, const struct dd_dep *d, uint32_t n, int why)
{
	uint32_t k = chosen(S, n).pkg;

	if (!provided(S, ppkg, d, chosen(S, n)))
		mark_error(S, ppkg);
	cs_name(S, n, why);
	if (k != NONE && S->ps[k].error)
		mark_error(S, ppkg);
}

/* Install-if packages join once all their conditions are in. */
static void cs_install_if(struct solver *S, uint32_t n)
{
	uint32_t k = chosen(S, n).pkg;
	const struct pkg *pk;

	if (k == NONE || !S->ns[n].seen || S->ns[n].cs_done)
		return;
	pk = &S->pkgs[k];
	for (uint32_t j = 0; j < pk->n_iif; j++) {
		const struct dd_dep *d = &pk->p->install_if[j];
		const struct nstate *c = &S->ns[pk->iif[j]];

		if ((!d->conflict && !c->cs_done) || !provided(S, k, d, chosen(S, pk->iif[j])))
			return;
	}
	cs_name(S, n, WHY_IIF);
}

static void cs_riif(struct solver *S, const struct ids *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		cs_install_if(S, l->v[i]);
}

static void cs_name(struct solver *S, uint32_t n, int why)
{
	uint32_t k = chosen(S, n).pkg;
	const struct pkg *pk;

	if (S->ns[n].cs_done)
		return;
	S->ns[n].cs_done = true;
	if (k == NONE || S->ps[k].in_cs)
		return;
	pk = &S->pkgs[k];
	S->ps[k].in_cs = true;
	S->ns[pk->name].cs_done = true;
	for (size_t j = 0; j < pk->n_prv; j++)
		S->ns[pk->prv[j]].cs_done = true;
	for (size_t j = 0; j < pk->n_dep; j++)
		cs_dep(S, k, &pk->p->depends[j], pk->dep[j], -1 - (int)k);
	S->ps[k].why = why;
	ids_add(&S->cs, k);
	cs_riif(S, &S->names[pk->name].riif);
	for (size_t j = 0; j < pk->n_prv; j++)
		cs_riif(S, &S->names[pk->prv[j]].riif);
}

static void changeset(struct solver *S)
{
	for (uint32_t i = 0; i < S->n_world; i++)
		cs_dep(S, NONE, S->world[i].d, S->world[i].name, (int)S->world[i].orig);
}

/* ---- attempts -------------------------------------------------------------------- */

/* All zero: fresh from calloc the first time, so only later attempts
 * need to clear (and a large index's untouched part stays untouched). */
static void reset(struct solver *S, bool again)
{
	if (again) {
		memset(S->ns, 0, S->n_names * sizeof(*S->ns));
		memset(S->ps, 0, (S->n_pkgs ? S->n_pkgs : 1) * sizeof(*S->ps));
	}
	for (int l = 0; l < L_COUNT; l++)
		S->lists[l].head = S->lists[l].tail = NONE;
	S->dirty.n = S->dirty_head = S->order_seq = S->genid = 0;
	S->cs.n = 0;
	S->errors = 0;
	S->missing = false;
}

/* --force-broken-world: leave out what failed and try again; false when
 * nothing more can be left out. */
static bool drop_broken_world(struct solver *S)
{
	bool dropped = false;

	for (uint32_t i = 0; i < S->n_world; i++) {
		struct wdep *w = &S->world[i];
		uint32_t k = chosen(S, w->name).pkg;

		if (!w->broken && (k == NONE || S->ps[k].error)) {
			w->broken = true;
			dropped = true;
		}
	}
	return dropped;
}

static void fill_solution(const struct solver *S, struct dd_solution *sol)
{
	uint32_t *pos = dd_xcalloc(S->n_pkgs ? S->n_pkgs : 1, sizeof(*pos));

	sol->n = S->cs.n;
	sol->pkgs = dd_xcalloc(S->cs.n ? S->cs.n : 1, sizeof(*sol->pkgs));
	sol->reason = dd_xcalloc(S->cs.n ? S->cs.n : 1, sizeof(*sol->reason));
	for (uint32_t i = 0; i < S->cs.n; i++)
		pos[S->cs.v[i]] = i;
	for (uint32_t i = 0; i < S->cs.n; i++) {
		int why = S->ps[S->cs.v[i]].why;

		sol->pkgs[i] = S->pkgs[S->cs.v[i]].p;
		if (why == WHY_IIF)
			sol->reason[i] = -1 - (int)S->cs.n;
		else if (why < 0)
			sol->reason[i] = -1 - (int)pos[(uint32_t)(-1 - why)];
		else
			sol->reason[i] = why;
	}
	free(pos);
}

static void report(struct solver *S, struct dd_buf *out);

static void solver_release(struct solver *S)
{
	for (uint32_t i = 0; i < S->n_names; i++) {
		free(S->names[i].rdeps.v);
		free(S->names[i].riif.v);
	}
	free(S->names);
	free(S->pkgs);
	free(S->provs);
	free(S->pool);
	free(S->namemap.s);
	free(S->stamp);
	free(S->world);
	free(S->ns);
	free(S->ps);
	free(S->dirty.v);
	free(S->cs.v);
}

int dd_solve_flags(const struct dd_repo *repo, const struct dd_dep *world, size_t n_world,
		   unsigned flags, struct dd_solution *sol, struct dd_buf *why)
{
	struct solver S = { .repo = repo };
	int rc = 0;

	memset(sol, 0, sizeof(*sol));
	build_graph(&S);
	build_world(&S, world, n_world);
	reach(&S);
	S.ns = dd_xcalloc(S.n_names ? S.n_names : 1, sizeof(*S.ns));
	S.ps = dd_xcalloc(S.n_pkgs ? S.n_pkgs : 1, sizeof(*S.ps));
	for (bool again = false;; again = true) {
		reset(&S, again);
		run(&S);
		changeset(&S);
		if (!S.errors || !(flags & DD_SOLVE_FORCE_BROKEN_WORLD) || !drop_broken_world(&S))
			break;
	}
	if (S.errors) {
		rc = dd_error(S.missing ? DD_E_NOTFOUND : DD_E_FORMAT, "unable to select packages");
		if (why)
			report(&S, why);
	} else {
		fill_solution(&S, sol);
	}
	solver_release(&S);
	return rc;
}

int dd_solve(const struct dd_repo *repo, const struct dd_dep *world, size_t n_world,
	     struct dd_solution *sol, struct dd_buf *why)
{
	return dd_solve_flags(repo, world, n_world, 0, sol, why);
}

void dd_solution_release(struct dd_solution *sol)
{
	free(sol->pkgs);
	free(sol->reason);
	memset(sol, 0, sizeof(*sol));
}

/* ---- the report ----------------------------------------------------------------------
 *
 * apk-tools' explanation of a failed solve, line for line.  Everything
 * the failed attempt chose is "marked"; from the world, names are
 * classified as present (chosen for it), present only as an unversioned
 * provide nobody prefers, or brought in by install_if.  Then:
 *   - a required name that is not present is "missing": no such
 *     package, or a virtual name to choose a provider for by hand;
 *   - a chosen package is shown when something is wrong with it:
 *     uninstallable, another chosen package of its name or provides
 *     ("conflicts"), a chosen package's dependency it fails ("breaks");
 *     then the dependencies it does meet ("satisfies").
 */

enum { R_PRESENT = 1, R_MISSING = 2, R_VIRTUAL = 4, R_IIF = 8 };
enum { M_SATISFIES = 1, M_CONFLICTS = 2 };

struct report {
	struct solver *S;
	struct dd_buf *out;
	unsigned x, indent;
	const char *label;
	char labelbuf[512];
	int n_labels;
};

struct mdep {
	uint32_t pkg; /* NONE: the world */
	const struct dd_dep *d;
};

struct mdeps {
	struct mdep *v;
	size_t n, cap;
};

static void rep_label_start(struct report *R, const char *text)
{
	if (R->label) {
		dd_buf_addf(R->out, "  %s:\n", R->label);
		R->label = NULL;
		R->n_labels++;
	}
	if (!R->x) {
		dd_buf_addf(R->out, "    %s", text);
		R->x = 4 + (unsigned)strlen(text);
		R->indent = R->x + 1;
	}
}

static void rep_label_end(struct report *R)
{
	if (R->x) {
		dd_buf_adds(R->out, "\n");
		R->x = R->indent = 0;
	}
}

/* One item of a list, wrapped as apk-tools wraps it. */
static void rep_item(struct report *R, const char *s)
{
	unsigned len = (unsigned)strlen(s);

	if (R->x <= R->indent) {
		dd_buf_addf(R->out, "%*s%s", (int)(R->indent - R->x), "", s);
		R->x = R->indent + len;
	} else if (R->x + len + 1 >= REPORT_WIDTH) {
		dd_buf_addf(R->out, "\n%*s%s", (int)R->indent, "", s);
		R->x = R->indent + len;
	} else {
		dd_buf_addf(R->out, " %s", s);
		R->x += len + 1;
	}
}

static void rep_words(struct report *R, const char *text)
{
	char word[64];

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, " ");

		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		rep_item(R, word);
		p += n + (p[n] == ' ');
	}
}

/* "name-version", then "[dep]" when d is given. */
static void rep_pkg_item(struct report *R, uint32_t k, const struct dd_dep *d)
{
	struct dd_buf b = DD_BUF_INIT;

	if (k == NONE)
		dd_buf_adds(&b, "world");
	else
		dd_buf_addf(&b, "%s-%s", R->S->pkgs[k].p->name, R->S->pkgs[k].p->version);
	if (d) {
		dd_buf_adds(&b, "[");
		dd_dep_format(d, &b);
		dd_buf_adds(&b, "]");
	}
	rep_item(R, b.ptr);
	dd_buf_release(&b);
}

static void rep_dep_item(struct report *R, const struct dd_dep *d)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_dep_format(d, &b);
	rep_item(R, b.ptr);
	dd_buf_release(&b);
}

static bool concrete(const struct solver *S, uint32_t k, uint32_t n)
{
	const struct pkg *pk = &S->pkgs[k];

	if (pk->name == n)
		return true;
	for (size_t j = 0; j < pk->n_prv; j++)
		if (pk->prv[j] == n && pk->p->provides[j].version)
			return true;
	return false;
}

static void rdisc_name(struct solver *S, uint32_t n, unsigned state);

static void rdisc_deps(struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	for (size_t j = 0; j < pk->n_dep; j++)
		if (!pk->p->depends[j].conflict)
			rdisc_name(S, pk->dep[j], R_PRESENT);
}

static bool iif_holds_marked(const struct solver *S, uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	for (uint32_t j = 0; j < pk->n_iif; j++) {
		bool there = S->ns[pk->iif[j]].rep & (R_PRESENT | R_IIF);

		if (pk->p->install_if[j].conflict == there)
			return false;
	}
	return true;
}

static void rdisc_riif(struct solver *S, uint32_t n)
{
	const struct ids *r = &S->names[n].riif;

	for (uint32_t i = 0; i < r->n; i++) {
		const struct name *nm = &S->names[r->v[i]];

		for (uint32_t p = 0; p < nm->n_prov; p++) {
			uint32_t k = nm->prov[p].pkg;
			const struct pkg *pk = &S->pkgs[k];

			if (!S->ps[k].marked || !pk->n_iif || !iif_holds_marked(S, k))
				continue;
			rdisc_name(S, pk->name, R_IIF);
			for (size_t j = 0; j < pk->n_prv; j++)
				rdisc_name(S, pk->prv[j], R_IIF);
		}
	}
}

static void rdisc_pkg(struct solver *S, uint32_t k, unsigned state)
{
	const struct pkg *pk = &S->pkgs[k];

	S->ps[k].rep |= state;
	S->ns[pk->name].rep |= state;
	for (size_t j = 0; j < pk->n_prv; j++)
		S->ns[pk->prv[j]].rep |=
			state == R_IIF && !pk->p->provides[j].version ? R_VIRTUAL : state;
	rdisc_deps(S, k);
	if (state == R_PRESENT || state == R_IIF) {
		rdisc_riif(S, pk->name);
		for (size_t j = 0; j < pk->n_prv; j++)
			rdisc_riif(S, pk->prv[j]);
	}
}

static void rdisc_name(struct solver *S, uint32_t n, unsigned state)
{
	const struct name *nm = &S->names[n];

	for (uint32_t i = 0; i < nm->n_prov; i++) {
		uint32_t k = nm->prov[i].pkg;
		unsigned st = state;

		if (!S->ps[k].marked)
			continue;
		if ((st == R_PRESENT || st == R_IIF) && !S->pkgs[k].prio && !concrete(S, k, n))
			st = R_VIRTUAL;
		if (S->ps[k].rep & st)
			continue;
		rdisc_pkg(S, k, st);
	}
}

static void rep_missing(struct report *R, uint32_t n);

static void rep_deps(struct report *R, const struct dd_dep *deps, const uint32_t *names, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		struct nstate *st = &R->S->ns[names[j]];

		if (deps[j].conflict || (st->rep & (R_IIF | R_PRESENT | R_MISSING)))
			continue;
		st->rep |= R_MISSING;
		rep_missing(R, names[j]);
	}
}

static void rep_world_deps(struct report *R)
{
	const struct solver *S = R->S;

	for (uint32_t i = 0; i < S->n_world; i++)
		rep_deps(R, S->world[i].d, &S->world[i].name, 1);
}

static void rep_provided_by(struct report *R, uint32_t n)
{
	struct solver *S = R->S;
	const struct name *nm = &S->names[n];

	rep_label_start(R, "provided by:");
	for (uint32_t i = 0; i < nm->n_prov; i++)
		S->ns[S->pkgs[nm->prov[i].pkg].name].rep_count++;
	for (uint32_t i = 0; i < nm->n_prov; i++) {
		uint32_t m = S->pkgs[nm->prov[i].pkg].name;
		unsigned refs = S->ns[m].rep_count;

		/* every package of that name provides it: the name will do */
		if (refs == S->names[m].n_prov) {
			rep_item(R, S->names[m].str);
			S->ns[m].rep_count = 0;
		} else if (refs > 0) {
			rep_pkg_item(R, nm->prov[i].pkg, NULL);
			S->ns[m].rep_count--;
		}
	}
	rep_label_end(R);
}

/* The first marked package of each depending name that requires n. */
static void rep_required_by(struct report *R, uint32_t n)
{
	struct solver *S = R->S;
	const struct ids *r = &S->names[n].rdeps;
	uint32_t gen = ++S->genid;

	for (uint32_t i = 0; i < S->n_world; i++)
		if (S->world[i].name == n && !S->world[i].d->conflict)
			rep_pkg_item(R, NONE, S->world[i].d);
	for (uint32_t i = 0; i < r->n; i++) {
		const struct name *nm = &S->names[r->v[i]];
		bool found = false;

		for (uint32_t p = 0; p < nm->n_prov && !found; p++) {
			uint32_t k = nm->prov[p].pkg;
			const struct pkg *pk = &S->pkgs[k];

			if (!S->ps[k].marked || S->ps[k].genid == gen)
				continue;
			S->ps[k].genid = gen;
			for (size_t j = 0; j < pk->n_dep && !found; j++) {
				found = pk->dep[j] == n && !pk->p->depends[j].conflict;
				if (found)
					rep_pkg_item(R, k, &pk->p->depends[j]);
			}
		}
	}
}

static void rep_missing(struct report *R, uint32_t n)
{
	const char *str = R->S->names[n].str;

	if (R->S->names[n].n_prov) {
		snprintf(R->labelbuf, sizeof(R->labelbuf), "%s (virtual)", str);
		R->label = R->labelbuf;
		rep_label_start(R, "note:");
		rep_words(R, "please select one of the 'provided by' packages explicitly");
		rep_label_end(R);
		rep_provided_by(R, n);
	} else {
		snprintf(R->labelbuf, sizeof(R->labelbuf), "%s (no such package)", str);
		R->label = R->labelbuf;
	}
	rep_label_start(R, "required by:");
	rep_required_by(R, n);
	rep_label_end(R);
}

/* apk-tools' dependency-vs-package verdict: does d, on name dn, hold
 * for package k (M_SATISFIES), fail for it (M_CONFLICTS), or not concern
 * it (0)? */
static int analyze_dep(const struct solver *S, uint32_t deppkg, const struct dd_dep *d, uint32_t dn,
		       uint32_t k)
{
	const struct pkg *pk = &S->pkgs[k];

	if (dn == pk->name) {
		bool ok = !d->conflict && d->op == OP_CHECKSUM && d->version
				  ? !strcmp(d->version, pk->p->checksum)
				  : ver_match(pk->p->version, d->op, d->version) != d->conflict;

		return ok ? M_SATISFIES : M_CONFLICTS;
	}
	for (size_t j = 0; j < pk->n_prv; j++)
		if (pk->prv[j] == dn)
			return provided(S, deppkg, d,
					(struct prov){ k, pk->p->provides[j].version })
				       ? M_SATISFIES
				       : M_CONFLICTS;
	return 0;
}

static void mdeps_add(struct mdeps *m, uint32_t pkg, const struct dd_dep *d)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->v = dd_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = (struct mdep){ pkg, d };
}

/* apk-tools' numbering of operators, which orders equal packages. */
static int apk_op(const struct dd_dep *d)
{
	return ((d->op & DD_VER_EQUAL) ? 1 : 0) | ((d->op & DD_VER_LESS) ? 2 : 0) |
	       ((d->op & DD_VER_GREATER) ? 4 : 0) | ((d->op & DD_VER_FUZZY) ? 8 : 0) |
	       (d->conflict ? 16 : 0);
}

static int mdep_cmp(const struct solver *S, const struct mdep *a, const struct mdep *b)
{
	if (a->pkg != NONE && b->pkg != NONE) {
		const struct dd_apk_pkg *pa = S->pkgs[a->pkg].p, *pb = S->pkgs[b->pkg].p;
		int r = name_cmp_display(pa->name, pb->name);

		if (r || (r = cmp_versions(pa->version, pb->version)))
			return r;
	}
	return apk_op(a->d) - apk_op(b->d);
}

static void rep_mdeps(struct report *R, const char *label, struct mdeps *m)
{
	if (!m->n)
		return;
	rep_label_start(R, label);
	/* insertion sort: short lists, and stable */
	for (size_t i = 1; i < m->n; i++) {
		struct mdep t = m->v[i];
		size_t j = i;

		for (; j > 0 && mdep_cmp(R->S, &m->v[j - 1], &t) > 0; j--)
			m->v[j] = m->v[j - 1];
		m->v[j] = t;
	}
	for (size_t i = 0; i < m->n; i++)
		rep_pkg_item(R, m->v[i].pkg, m->v[i].d);
	m->n = 0;
}

static void collect_rdeps(struct solver *S, uint32_t n, uint32_t k, int match, uint32_t gen,
			  struct mdeps *m)
{
	const struct ids *r = &S->names[n].rdeps;

	for (uint32_t i = 0; i < r->n; i++) {
		const struct name *nm = &S->names[r->v[i]];

		for (uint32_t p = 0; p < nm->n_prov; p++) {
			uint32_t k0 = nm->prov[p].pkg;
			const struct pkg *pk = &S->pkgs[k0];

			if (!S->ps[k0].marked || S->ps[k0].genid >= gen)
				continue;
			S->ps[k0].genid = gen;
			for (size_t j = 0; j < pk->n_dep; j++)
				if (analyze_dep(S, k0, &pk->p->depends[j], pk->dep[j], k) & match)
					mdeps_add(m, k0, &pk->p->depends[j]);
		}
	}
}

/* "breaks:" or "satisfies:": the chosen dependencies k fails or meets. */
static void rep_match(struct report *R, uint32_t k, int match)
{
	struct solver *S = R->S;
	const struct pkg *pk = &S->pkgs[k];
	const char *label = match == M_SATISFIES ? "satisfies:" : "breaks:";
	struct mdeps m = { 0 };
	uint32_t gen;

	for (uint32_t i = 0; i < S->n_world; i++)
		if (analyze_dep(S, NONE, S->world[i].d, S->world[i].name, k) & match)
			mdeps_add(&m, NONE, S->world[i].d);
	rep_mdeps(R, label, &m);
	gen = ++S->genid;
	collect_rdeps(S, pk->name, k, match, gen, &m);
	for (size_t j = 0; j < pk->n_prv; j++)
		collect_rdeps(S, pk->prv[j], k, match, gen, &m);
	rep_mdeps(R, label, &m);
	rep_label_end(R);
	free(m.v);
}

/* Other chosen packages that take k's name or one of its provides. */
static void rep_conflicts(struct report *R, uint32_t k)
{
	struct solver *S = R->S;
	const struct pkg *pk = &S->pkgs[k];
	const struct name *own_name = &S->names[pk->name];

	for (uint32_t i = 0; i < own_name->n_prov; i++) {
		uint32_t k0 = own_name->prov[i].pkg;

		if (k0 == k || !S->ps[k0].marked)
			continue;
		rep_label_start(R, "conflicts:");
		rep_pkg_item(R, k0, NULL);
	}
	for (size_t j = 0; j < pk->n_prv; j++) {
		const struct dd_dep *d = &pk->p->provides[j];
		const struct name *nm = &S->names[pk->prv[j]];
		bool self_seen = false;

		for (uint32_t i = 0; i < nm->n_prov; i++) {
			const struct prov *pr = &nm->prov[i];

			if (!S->ps[pr->pkg].marked || (!d->version && !pr->ver))
				continue;
			/* the entry this very provide made */
			if (!self_seen && pr->pkg == k && pr->ver == d->version) {
				self_seen = true;
				continue;
			}
			rep_label_start(R, "conflicts:");
			rep_pkg_item(R, pr->pkg, d);
		}
	}
	rep_label_end(R);
}

static void rep_broken(struct report *R, const char *label, const struct dd_dep *d, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (!dep_broken(&d[j]))
			continue;
		rep_label_start(R, label);
		rep_dep_item(R, &d[j]);
	}
	rep_label_end(R);
}

static void rep_uninstallable(struct report *R, uint32_t k)
{
	const struct pkg *pk = &R->S->pkgs[k];

	rep_label_start(R, "error:");
	rep_item(R, "uninstallable");
	rep_label_end(R);
	if (pk->badarch) {
		rep_label_start(R, "arch:");
		rep_item(R, pk->p->arch);
		rep_label_end(R);
	}
	rep_broken(R, "depends:", pk->p->depends, pk->n_dep);
	rep_broken(R, "provides:", pk->p->provides, pk->n_prv);
	rep_broken(R, "install_if:", pk->p->install_if, pk->p->n_install_if);
}

static void rep_package(struct report *R, uint32_t k)
{
	const struct dd_apk_pkg *p = R->S->pkgs[k].p;

	snprintf(R->labelbuf, sizeof(R->labelbuf), "%s-%s", p->name, p->version);
	R->label = R->labelbuf;
	if (R->S->pkgs[k].uninstallable)
		rep_uninstallable(R, k);
	rep_conflicts(R, k);
	rep_match(R, k, M_CONFLICTS);
	/* only a package already shown for a problem lists what it meets */
	if (!R->label)
		rep_match(R, k, M_SATISFIES);
	R->label = NULL;
}

static void report(struct solver *S, struct dd_buf *out)
{
	struct report R = { .S = S, .out = out };

	for (uint32_t i = 0; i < S->cs.n; i++)
		S->ps[S->cs.v[i]].marked = true;
	for (uint32_t i = 0; i < S->n_world; i++)
		if (!S->world[i].d->conflict)
			rdisc_name(S, S->world[i].name, R_PRESENT);
	dd_buf_adds(out, "unable to select packages:\n");
	rep_world_deps(&R);
	for (uint32_t i = 0; i < S->cs.n; i++) {
		const struct pkg *pk = &S->pkgs[S->cs.v[i]];

		rep_package(&R, S->cs.v[i]);
		rep_deps(&R, pk->p->depends, pk->dep, pk->n_dep);
	}
	if (!R.n_labels)
		dd_buf_adds(out, "Huh? Error reporter did not find the broken constraints.\n");
}
