/*
 * drydock build, layering by origin (layering: {strategy: origin,
 * budget: N}): a layer for each of the largest origins, the rest in the top.
 */
#include "image/build_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

/* ---- layering by origin ------------------------------------------------------ */

struct origin_group {
	const char *origin; /* the first origin of the group */
	size_t n_origins;
	uint64_t size; /* installed bytes */
	int *pos;      /* plan positions, in plan order */
	size_t n;
};

static const char *origin_of(const struct build *b, const struct dd_plan *p, size_t i)
{
	const struct dd_apk_pkg *pkg = &b->cat.pkgs[p->pkgs[i].cat];

	return pkg->origin && *pkg->origin ? pkg->origin : pkg->name;
}

static int group_cmp(const void *a, const void *b)
{
	const struct origin_group *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return strcmp(x->origin, y->origin);
}

static void group_add(struct origin_group *g, const struct build *b, const struct dd_plan *p,
		      size_t i)
{
	DD_GROW(g->pos, g->n);
	g->pos[g->n++] = (int)i;
	g->size += b->cat.pkgs[p->pkgs[i].cat].installed_size;
}

static int pos_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * The packages of p grouped by origin (a package without one is its own
 * origin), the groups by installed size, largest first (then by name):
 * the first budget - 1 groups get a layer each, the rest share the last
 * one, the top, with the job's settings.  Returns the number of layers;
 * (*out)[last] is the top's group (perhaps without packages).
 */
static size_t origin_groups(const struct build *b, const struct dd_plan *p, unsigned budget,
			    struct origin_group **out)
{
	struct origin_group *g = NULL, *top;
	struct dd_map by = DD_MAP_INIT;
	size_t n = 0, alone;

	for (size_t i = 0; i < p->n; i++) {
		void **slot = dd_map_put(&by, origin_of(b, p, i));

		if (!*slot) {
			DD_GROW(g, n);
			memset(&g[n], 0, sizeof(*g));
			g[n].origin = origin_of(b, p, i);
			g[n].n_origins = 1;
			*slot = (void *)(uintptr_t)(++n);
		}
		group_add(&g[(uintptr_t)*slot - 1], b, p, i);
	}
	dd_map_release(&by, NULL);
	qsort(g, n, sizeof(*g), group_cmp);
	alone = n < budget - 1 ? n : budget - 1;
	top = dd_xcalloc(1, sizeof(*top));
	for (size_t k = alone; k < n; k++) {
		if (!top->origin)
			top->origin = g[k].origin;
		top->n_origins++;
		top->size += g[k].size;
		top->pos = dd_xrealloc(top->pos, (top->n + g[k].n) * sizeof(*top->pos));
		memcpy(top->pos + top->n, g[k].pos, g[k].n * sizeof(*top->pos));
		top->n += g[k].n;
		free(g[k].pos);
	}
	if (top->n)
		qsort(top->pos, top->n, sizeof(*top->pos), pos_cmp);
	g = dd_xrealloc(g, (alone + 1) * sizeof(*g));
	g[alone] = *top;
	free(top);
	*out = g;
	return alone + 1;
}

static int64_t epoch_of_list(const struct build *b, const struct dd_plan *p, const int *pos,
			     size_t n)
{
	int64_t t = 0;

	if (b->env_epoch)
		return b->epoch;
	for (size_t i = 0; i < n; i++)
		if (b->cat.pkgs[p->pkgs[pos[i]].cat].build_time > t)
			t = b->cat.pkgs[p->pkgs[pos[i]].cat].build_time;
	return t;
}

/* The cache key of a layer of the packages pos[0..n), written over a
 * tree whose structure has the digest context. */
static void origin_key(const struct build *b, const struct dd_plan *p, const int *pos, size_t n,
		       int64_t mtime, enum dd_codec codec, const char *context, char key[65])
{
	struct dd_buf s = DD_BUF_INIT;

	dd_buf_addf(&s, "%s\norigin\n%s\n%s\n%lld\n%s\n", LAYER_FORMAT, dd_codec_describe(codec),
		    p->arch, (long long)mtime, context);
	for (size_t i = 0; i < n; i++)
		dd_buf_addf(&s, "%s\n", b->cat.info[p->pkgs[pos[i]].cat].sha256);
	dd_sha256_hex(s.ptr, s.len, key);
	dd_buf_release(&s);
}

/*
 * One origin layer: the packages of g alone, written over the
 * directories and symlinks of the packages below (so its bytes depend on
 * its own packages and that structure only, and a change elsewhere does
 * not touch it); taken from the layer cache when it is there.
 */
static int origin_layer(struct build *b, const struct dd_pkgset *ps, const struct origin_group *g,
			const int *below, size_t n_below, enum dd_codec codec,
			struct dd_blob_desc *out, bool *cached)
{
	const struct dd_plan *p = ps->plan;
	struct dd_tree tree = { DD_MAP_INIT };
	struct dd_layer_writer lw;
	int64_t mtime = epoch_of_list(b, p, g->pos, g->n);
	struct dd_rootfs r = { &tree, &lw, ps, &p->owners, mtime, 0, build_check_deadline, b, 0 };
	char context[65], key[65];
	int rc = dd_rootfs_preload_list(&r, below, n_below, true);

	*cached = false;
	if (rc)
		goto out;
	dd_tree_digest(&tree, context);
	origin_key(b, p, g->pos, g->n, mtime, codec, context, key);
	if (!b->o->no_cache && (*cached = build_cache_get(b, key, out))) {
		out->media_type = dd_layer_media_type(codec);
		build_log(b, "layer of origin %s (%zu packages) %s taken from the layer cache (%s)",
			  g->origin, g->n, out->digest, key);
		goto out;
	}
	if ((rc = dd_layer_begin(&lw, b->blobs, codec, b->threads)))
		goto out;
	lw.check = build_check_deadline;
	lw.check_ctx = b;
	for (size_t k = 0; k < g->n && !rc; k++)
		rc = build_install(b, &r, p, (size_t)g->pos[k]);
	if (!rc)
		rc = dd_layer_finish(&lw, b->blobs, out);
	else
		dd_layer_abort(&lw);
	if (rc)
		goto out;
	build_log(b,
		  "layer of origin %s (%zu packages) %s: %llu entries, %llu bytes (%llu "
		  "uncompressed), compressed now",
		  g->origin, g->n, out->digest, (unsigned long long)r.entries,
		  (unsigned long long)out->size, (unsigned long long)out->usize);
	if (!b->o->no_cache)
		build_cache_put(b, key, out, g->n);
out:
	dd_tree_release(&tree);
	return rc;
}

/* The top layer of an image layered by origin: taken from the cache when
 * the run's inputs (hence every byte of it) are those of a cached one. */
static int origin_top(struct build *b, const struct layer_job *lj, struct dd_blob_desc *out,
		      bool *cached)
{
	struct dd_buf s = DD_BUF_INIT;
	char key[65] = "";
	int rc;

	*cached = false;
	if (b->inputs[0]) {
		dd_buf_addf(&s, "%s\ntop\n%s\n%s\n%s\n", LAYER_FORMAT, b->inputs,
			    lj->ps->plan->arch, dd_codec_describe(lj->codec));
		dd_sha256_hex(s.ptr, s.len, key);
		dd_buf_release(&s);
	}
	if (*key && !b->o->no_cache && (*cached = build_cache_get(b, key, out))) {
		out->media_type = dd_layer_media_type(lj->codec);
		build_log(b, "top layer %s taken from the layer cache (%s)", out->digest, key);
		return 0;
	}
	rc = build_write_layer(b, lj, out);
	if (!rc && *key && !b->o->no_cache)
		build_cache_put(b, key, out, lj->n_list);
	return rc;
}

static void groups_free(struct origin_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].pos);
	free(g);
}

/*
 * layering: {strategy: origin, budget: N}: the layers of p into layers[],
 * their history lines into history[] (caller frees), their result.json
 * entries into jlayers; *n the number of layers.
 */
int build_origin_layers(struct build *b, const struct dd_pkgset *ps, enum dd_codec codec,
			struct dd_blob_desc **layers, char ***history, size_t *n, json_t *jlayers)
{
	const struct dd_plan *p = ps->plan;
	struct origin_group *g;
	size_t k = origin_groups(b, p, b->job.layer_budget, &g), n_below = 0;
	int *below = dd_xcalloc(p->n + 1, sizeof(int));
	struct dd_tree tree = { DD_MAP_INIT };
	int rc = 0;

	*layers = dd_xcalloc(k, sizeof(**layers));
	*history = dd_xcalloc(k, sizeof(char *));
	*n = 0;
	build_log(b, "layering by origin, budget %u: %zu layers", b->job.layer_budget, k);
	for (size_t i = 0; i + 1 < k && !rc; i++) {
		bool cached;
		char part[160];

		rc = origin_layer(b, ps, &g[i], below, n_below, codec, &(*layers)[i], &cached);
		if (rc)
			break;
		memcpy(below + n_below, g[i].pos, g[i].n * sizeof(int));
		n_below += g[i].n;
		snprintf(part, sizeof(part), "origin %s", g[i].origin);
		(*history)[i] = build_xasprintf("drydock build: packages of origin %s (%zu)",
						g[i].origin, g[i].n);
		json_array_append_new(jlayers,
				      build_layer_json(&(*layers)[i], part, g[i].n, cached));
		(*n)++;
	}
	if (!rc) {
		struct layer_job lj = { ps,
					&tree,
					&p->owners,
					0,
					p->n,
					true,
					epoch_of_list(b, p, g[k - 1].pos, g[k - 1].n),
					codec,
					g[k - 1].pos,
					below,
					g[k - 1].n,
					n_below };
		bool cached;

		/* the top's epoch: its own packages', or the image's when it has none */
		if (!g[k - 1].n)
			lj.mtime = build_epoch_of(b, p, p->n);
		rc = origin_top(b, &lj, &(*layers)[k - 1], &cached);
		if (!rc) {
			(*history)[k - 1] =
				build_xasprintf("drydock build: %zu origins (%zu packages) "
						"and the job's settings",
						g[k - 1].n_origins, g[k - 1].n);
			json_array_append_new(jlayers, build_layer_json(&(*layers)[k - 1], "top",
									g[k - 1].n, cached));
			(*n)++;
		}
	}
	dd_tree_release(&tree);
	free(below);
	groups_free(g, k);
	return rc;
}
