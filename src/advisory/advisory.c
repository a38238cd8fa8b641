#include "advisory/advisory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advisory/secdb.h"
#include "apk/version.h"
#include "core/error.h"
#include "core/file.h"
#include "core/time.h"
#include "store/secdb.h"

/* ---- the database ---------------------------------------------------------- */

int dd_adv_db_add(struct dd_adv_db *db, const struct dd_adv_feed *feed, struct dd_blob json)
{
	struct dd_secdb sd;
	struct dd_adv_feed *f;
	int rc = dd_secdb_parse(json, feed->path, &sd);

	if (rc)
		return rc;
	DD_GROW(db->feeds, db->n_feeds);
	f = &db->feeds[db->n_feeds];
	*f = *feed;
	f->channel = dd_xstrdup(feed->channel);
	f->path = dd_xstrdup(feed->path);
	f->distroversion = sd.distroversion;
	f->reponame = sd.reponame;
	f->n_origins = sd.n_origins;
	f->n_ids = sd.n;
	sd.distroversion = sd.reponame = NULL;
	db->fixes = dd_xrealloc(db->fixes, (db->n + sd.n + 1) * sizeof(*db->fixes));
	for (size_t i = 0; i < sd.n; i++) {
		struct dd_adv_fix *x = &db->fixes[db->n++];

		x->origin = sd.fixes[i].origin;
		x->fixed = sd.fixes[i].fixed;
		x->id = sd.fixes[i].id;
		x->feed = db->n_feeds;
	}
	db->n_feeds++;
	free(sd.fixes); /* the strings moved into db */
	return 0;
}

/* By origin, then id, then "0" first, then the lowest fixed version: the
 * first entry of an (origin, id) group decides. */
static int fix_cmp(const void *pa, const void *pb)
{
	const struct dd_adv_fix *a = pa, *b = pb;
	int c = strcmp(a->origin, b->origin);

	if (!c)
		c = strcmp(a->id, b->id);
	if (c)
		return c;
	if (!a->fixed || !b->fixed)
		return (a->fixed != NULL) - (b->fixed != NULL);
	c = dd_version_compare(dd_blob_str(a->fixed), dd_blob_str(b->fixed));
	if (c != DD_VER_EQUAL)
		return c == DD_VER_LESS ? -1 : 1;
	return (a->feed > b->feed) - (a->feed < b->feed);
}

void dd_adv_db_index(struct dd_adv_db *db)
{
	if (db->n)
		qsort(db->fixes, db->n, sizeof(*db->fixes), fix_cmp);
	dd_map_release(&db->by_origin, NULL);
	for (size_t i = 0; i < db->n; i++) {
		void **v = dd_map_put(&db->by_origin, db->fixes[i].origin);

		if (!*v)
			*v = (void *)(i + 1);
	}
}

static int load_one(struct dd_store *s, struct dd_adv_db *db, const struct dd_store_secdb *d)
{
	struct dd_adv_feed f = { .channel = d->channel,
				 .path = d->path,
				 .sequence = d->sequence,
				 .created = d->created };
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	int rc;

	memcpy(f.sha256, d->sha256, sizeof(f.sha256));
	memcpy(f.bundle, d->bundle, sizeof(f.bundle));
	rc = dd_read_file(dd_store_blob_path(s, d->sha256, &path), DD_SECDB_MAX, &text);
	if (!rc)
		rc = dd_adv_db_add(db, &f, dd_buf_blob(&text));
	if (rc)
		rc = dd_error_prefix(rc,
				     "the mirror's security database %s of channel '%s' "
				     "(run 'drydock mirror fsck')",
				     d->path, d->channel);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return rc;
}

int dd_adv_db_load(struct dd_store *s, struct dd_adv_db *db)
{
	struct dd_store_secdb *list;
	size_t n;
	int rc;

	memset(db, 0, sizeof(*db));
	rc = dd_store_secdb_list(s, &list, &n);
	for (size_t i = 0; !rc && i < n; i++)
		rc = load_one(s, db, &list[i]);
	dd_store_secdb_free(list, n);
	if (rc)
		dd_adv_db_release(db);
	else
		dd_adv_db_index(db);
	return rc;
}

void dd_adv_db_release(struct dd_adv_db *db)
{
	for (size_t i = 0; i < db->n_feeds; i++) {
		free(db->feeds[i].channel);
		free(db->feeds[i].path);
		free(db->feeds[i].distroversion);
		free(db->feeds[i].reponame);
	}
	for (size_t i = 0; i < db->n; i++) {
		free(db->fixes[i].origin);
		free(db->fixes[i].fixed);
		free(db->fixes[i].id);
	}
	free(db->feeds);
	free(db->fixes);
	dd_map_release(&db->by_origin, NULL);
	memset(db, 0, sizeof(*db));
}

/* ---- the analysis ---------------------------------------------------------- */

struct dd_adv_pkg *dd_adv_plan_pkgs(const struct dd_catalog *cat, const struct dd_plan *p)
{
	struct dd_adv_pkg *v = dd_xcalloc(p->n + 1, sizeof(*v));

	for (size_t i = 0; i < p->n; i++) {
		const struct dd_apk_pkg *q = &cat->pkgs[p->pkgs[i].cat];

		v[i] = (struct dd_adv_pkg){ q->name, q->version, q->origin, q->arch };
	}
	return v;
}

static bool at_least(const char *v, const char *fixed)
{
	return dd_version_compare(dd_blob_str(v), dd_blob_str(fixed)) != DD_VER_LESS;
}

static bool same_arch(const char *a, const char *b)
{
	if (!a || !b || !*a || !*b || !strcmp(a, "noarch") || !strcmp(b, "noarch"))
		return true;
	return !strcmp(a, b);
}

/* The highest version of p's package in the catalog with the fix, or -1. */
static ssize_t find_fix(const struct dd_catalog *cat, const struct dd_adv_pkg *p, const char *fixed)
{
	size_t lo = 0, hi = cat ? cat->n : 0;
	ssize_t best = -1;

	while (lo < hi) { /* the catalog is sorted by name: the first of p->name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cat->pkgs[mid].name, p->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; cat && i < cat->n && !strcmp(cat->pkgs[i].name, p->name); i++) {
		const struct dd_apk_pkg *q = &cat->pkgs[i];

		if (!same_arch(q->arch, p->arch) || !at_least(q->version, fixed))
			continue;
		if (best < 0 || !at_least(cat->pkgs[best].version, q->version))
			best = (ssize_t)i;
	}
	return best;
}

static void add_item(struct dd_adv_report *r, size_t *cap, const struct dd_advisory *a)
{
	if (r->n == *cap) {
		*cap = *cap ? 2 * *cap : 32;
		r->items = dd_xrealloc(r->items, *cap * sizeof(*r->items));
	}
	r->items[r->n++] = *a;
	r->count[a->state]++;
}

static void judge(const struct dd_catalog *cat, const struct dd_adv_pkg *p,
		  const struct dd_adv_fix *first, struct dd_advisory *a)
{
	ssize_t avail;

	a->id = first->id;
	a->fixed_in = first->fixed;
	a->feed = first->feed;
	if (!first->fixed) {
		a->state = DD_ADV_NOT_AFFECTED;
	} else if (at_least(p->version, first->fixed)) {
		a->state = DD_ADV_FIXED;
	} else if ((avail = find_fix(cat, p, first->fixed)) >= 0) {
		a->state = DD_ADV_FIX_AVAILABLE;
		a->avail = (size_t)avail;
	} else {
		a->state = DD_ADV_FIX_NOT_HERE;
	}
}

int dd_adv_analyze(const struct dd_adv_db *db, const struct dd_catalog *cat,
		   const struct dd_adv_pkg *pkgs, size_t n, struct dd_adv_report *r)
{
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		const struct dd_adv_pkg *p = &pkgs[i];
		const char *origin = p->origin && *p->origin ? p->origin : p->name;
		void **slot;

		if (!p->name || !p->version) {
			dd_adv_report_release(r);
			return dd_error(DD_E_FORMAT, "an installed package without a name or "
						     "version");
		}
		slot = dd_map_get(&db->by_origin, origin);
		for (size_t k = slot ? (size_t)*slot - 1 : db->n;
		     k < db->n && !strcmp(db->fixes[k].origin, origin); k++) {
			struct dd_advisory a = { .pkg = i };

			if (k > 0 && !strcmp(db->fixes[k - 1].origin, origin) &&
			    !strcmp(db->fixes[k - 1].id, db->fixes[k].id))
				continue; /* the group's first entry decided */
			judge(cat, p, &db->fixes[k], &a);
			add_item(r, &cap, &a);
		}
	}
	return 0;
}

void dd_adv_report_release(struct dd_adv_report *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

const char *dd_adv_state_str(enum dd_adv_state s)
{
	static const char *const names[] = { "fixed", "fix available", "fix not yet here",
					     "not affected" };

	return names[s];
}

const char *dd_adv_state_key(enum dd_adv_state s)
{
	static const char *const names[] = { "fixed", "fix_available", "fix_not_here",
					     "not_affected" };

	return names[s];
}

/* ---- reports ---------------------------------------------------------------- */

json_t *dd_adv_counts_json(const struct dd_adv_report *r)
{
	json_t *o = json_object();

	for (int s = 0; s < DD_ADV_N_STATES; s++)
		json_object_set_new(o, dd_adv_state_key((enum dd_adv_state)s),
				    json_integer((json_int_t)r->count[s]));
	return o;
}

json_t *dd_adv_items_json(const struct dd_adv_db *db, const struct dd_catalog *cat,
			  const struct dd_adv_pkg *pkgs, const struct dd_adv_report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct dd_advisory *a = &r->items[i];
		const struct dd_adv_pkg *p = &pkgs[a->pkg];
		const struct dd_adv_feed *f = &db->feeds[a->feed];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s?, s:s, s:s}", "id",
				      a->id, "package", p->name, "version", p->version, "origin",
				      p->origin && *p->origin ? p->origin : p->name, "arch",
				      p->arch, "state", dd_adv_state_key(a->state), "fixed_in",
				      a->fixed_in, "secdb", f->path, "channel", f->channel);

		if (a->state == DD_ADV_FIX_AVAILABLE)
			json_object_set_new(o, "available",
					    json_pack("{s:s, s:s, s:s, s:I}", "version",
						      cat->pkgs[a->avail].version, "bundle",
						      cat->info[a->avail].bundle, "channel",
						      cat->info[a->avail].channel, "sequence",
						      (json_int_t)cat->info[a->avail].sequence));
		json_array_append_new(arr, o);
	}
	return arr;
}

bool dd_adv_feed_stale(const struct dd_adv_feed *f, int64_t now, int max_age_days)
{
	return now - f->created > (int64_t)max_age_days * 86400;
}

json_t *dd_adv_feeds_json(const struct dd_adv_db *db, int64_t now, int max_age_days)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < db->n_feeds; i++) {
		const struct dd_adv_feed *f = &db->feeds[i];
		char when[32];

		dd_time_format(f->created, when);
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:s?, s:I, s:I, s:f, s:b}",
				  "path", f->path, "sha256", f->sha256, "channel", f->channel,
				  "sequence", (json_int_t)f->sequence, "bundle", f->bundle,
				  "created", when, "distroversion", f->distroversion, "reponame",
				  f->reponame, "origins", (json_int_t)f->n_origins, "ids",
				  (json_int_t)f->n_ids, "age_days",
				  (double)(now - f->created) / 86400.0, "stale",
				  dd_adv_feed_stale(f, now, max_age_days)));
	}
	return arr;
}

void dd_adv_feed_describe(const struct dd_adv_feed *f, struct dd_buf *out)
{
	char when[32];

	dd_time_format(f->created, when);
	dd_buf_addf(out,
		    "security database %s of bundle %.16s… (channel %s, sequence %lld, "
		    "%s)",
		    f->path, f->bundle, f->channel, (long long)f->sequence, when);
}

void dd_adv_item_describe(const struct dd_catalog *cat, const struct dd_adv_pkg *pkgs,
			  const struct dd_advisory *a, struct dd_buf *out)
{
	const struct dd_adv_pkg *p = &pkgs[a->pkg];

	dd_buf_addf(out, "%s %s-%s", a->id, p->name, p->version);
	if (p->origin && *p->origin && strcmp(p->origin, p->name))
		dd_buf_addf(out, " (origin %s)", p->origin);
	dd_buf_addf(out, ": %s", dd_adv_state_str(a->state));
	switch (a->state) {
	case DD_ADV_FIXED:
		dd_buf_addf(out, " (since %s)", a->fixed_in);
		break;
	case DD_ADV_FIX_AVAILABLE:
		dd_buf_addf(out, ": %s-%s in bundle %.16s… (%s#%lld) fixes it (from %s)",
			    cat->pkgs[a->avail].name, cat->pkgs[a->avail].version,
			    cat->info[a->avail].bundle, cat->info[a->avail].channel,
			    (long long)cat->info[a->avail].sequence, a->fixed_in);
		break;
	case DD_ADV_FIX_NOT_HERE:
		dd_buf_addf(out, ": fixed in %s, which the mirror does not hold", a->fixed_in);
		break;
	case DD_ADV_NOT_AFFECTED:
		break;
	}
}

void dd_adv_counts_describe(const struct dd_adv_report *r, struct dd_buf *out)
{
	dd_buf_addf(out,
		    "%zu advisories: %zu fixed, %zu fix available, %zu fix not yet here, "
		    "%zu not affected",
		    r->n, r->count[DD_ADV_FIXED], r->count[DD_ADV_FIX_AVAILABLE],
		    r->count[DD_ADV_FIX_NOT_HERE], r->count[DD_ADV_NOT_AFFECTED]);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static json_t *find_item(json_t *items, const char *id, const char *pkg)
{
	json_t *x;
	size_t i;

	json_array_foreach(items, i, x)
		if (!strcmp(jstr(x, "id"), id) && !strcmp(jstr(x, "package"), pkg))
			return x;
	return NULL;
}

json_t *dd_adv_fixed_between(json_t *before, json_t *after)
{
	json_t *fixed = json_array(), *x;
	size_t i;

	json_array_foreach(before, i, x) {
		const char *id = json_string_value(json_object_get(x, "id"));
		const char *pkg = json_string_value(json_object_get(x, "package"));
		const char *was = json_string_value(json_object_get(x, "state"));
		json_t *now;

		if (!id || !pkg || !was || !strcmp(was, "fixed") || !strcmp(was, "not_affected"))
			continue;
		now = find_item(after, id, pkg);
		if (!now || strcmp(jstr(now, "state"), "fixed"))
			continue;
		json_array_append_new(fixed,
				      json_pack("{s:s, s:s, s:O?, s:O?, s:O?}", "id", id, "package",
						pkg, "from", json_object_get(x, "version"), "to",
						json_object_get(now, "version"), "fixed_in",
						json_object_get(now, "fixed_in")));
	}
	return fixed;
}
