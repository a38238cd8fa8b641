#include "cli/report.h"

#include <stdio.h>
#include <string.h>

#include "core/time.h"

static const char *arch_of(const struct dd_change_pkg *p)
{
	return p->arch[0] ? p->arch : "noarch";
}

void dd_cli_changes_counts(const struct dd_changes *ch, struct dd_buf *out)
{
	dd_buf_addf(out, "%zu package%s (%zu new", ch->n_pkgs, ch->n_pkgs == 1 ? "" : "s",
		    ch->n_new);
	if (ch->n_upgraded)
		dd_buf_addf(out, ", %zu upgraded", ch->n_upgraded);
	if (ch->n_held)
		dd_buf_addf(out, ", %zu already held", ch->n_held);
	dd_buf_adds(out, ")");
}

static void print_nv(const char *label, const struct dd_strs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');

		printf("  %-16s %.*s-%s\n", label, (int)(eq - l->v[i]), l->v[i], eq + 1);
	}
}

void dd_cli_changes_print(const struct dd_changes *ch)
{
	char when[32];

	for (size_t i = 0; i < ch->n_pkgs; i++) {
		const struct dd_change_pkg *p = &ch->pkgs[i];

		if (p->kind == DD_PKG_UPGRADED)
			printf("  %-16s %s %s → %s (%s)%s\n", "upgraded", p->name, p->old_version,
			       p->version, arch_of(p), p->guarded ? "" : ", unguarded");
		else
			printf("  %-16s %s-%s (%s)%s\n",
			       p->kind == DD_PKG_NEW ? "new" : "already held", p->name, p->version,
			       arch_of(p), p->guarded ? "" : ", unguarded");
	}
	if (ch->ent_before && ch->ent_after_version != ch->ent_before_version)
		printf("  %-16s version %llu → %llu\n", "entitlement",
		       (unsigned long long)ch->ent_before_version,
		       (unsigned long long)ch->ent_after_version);
	else if (!ch->ent_before && ch->ent_after)
		printf("  %-16s version %llu (the first)\n", "entitlement",
		       (unsigned long long)ch->ent_after_version);
	else if (ch->ent_after)
		printf("  %-16s version %llu (unchanged)\n", "entitlement",
		       (unsigned long long)ch->ent_after_version);
	for (size_t i = 0; i < ch->images_added.n; i++)
		printf("  %-16s %s\n", "image added", ch->images_added.v[i]);
	for (size_t i = 0; i < ch->images_removed.n; i++)
		printf("  %-16s %s\n", "image removed", ch->images_removed.v[i]);
	print_nv("now guarded", &ch->now_guarded);
	print_nv("now unguarded", &ch->now_unguarded);
	dd_time_format(ch->expires, when);
	printf("  %-16s %s\n", "bundle expires", when);
}

static json_t *nv_json(const struct dd_strs *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');

		json_array_append_new(a, json_pack("{s:s%, s:s}", "name", l->v[i],
						   (size_t)(eq - l->v[i]), "version", eq + 1));
	}
	return a;
}

static json_t *strs_json(const struct dd_strs *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

json_t *dd_cli_changes_json(const struct dd_changes *ch)
{
	static const char *kinds[] = { "new", "upgraded", "already-held" };
	json_t *pk = json_array(), *ent;
	char when[32];

	for (size_t i = 0; i < ch->n_pkgs; i++) {
		const struct dd_change_pkg *p = &ch->pkgs[i];
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", p->name, "version",
				      p->version, "arch", p->arch, "change", kinds[p->kind],
				      "guarded", p->guarded);

		if (p->old_version)
			json_object_set_new(e, "old_version", json_string(p->old_version));
		json_array_append_new(pk, e);
	}
	ent = json_object();
	json_object_set_new(ent, "before",
			    ch->ent_before ? json_integer((json_int_t)ch->ent_before_version)
					   : json_null());
	json_object_set_new(ent, "after",
			    ch->ent_after ? json_integer((json_int_t)ch->ent_after_version)
					  : json_null());
	dd_time_format(ch->expires, when);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "packages", pk, "entitlement", ent,
			 "images_added", strs_json(&ch->images_added), "images_removed",
			 strs_json(&ch->images_removed), "now_guarded", nv_json(&ch->now_guarded),
			 "now_unguarded", nv_json(&ch->now_unguarded), "expires", when);
}
