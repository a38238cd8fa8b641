#include "bundle/changes.h"

#include <stdlib.h>
#include <string.h>

#include "apk/version.h"

static void key(struct dd_buf *b, const char *name, const char *version)
{
	dd_buf_reset(b);
	dd_buf_addf(b, "%s=%s", name, version);
}

/* The newest of versions, or NULL. */
static const char *newest(const struct dd_strs *versions)
{
	const char *best = NULL;

	for (size_t i = 0; i < versions->n; i++)
		if (!best || dd_version_compare(dd_blob_str(versions->v[i]), dd_blob_str(best)) > 0)
			best = versions->v[i];
	return best;
}

static int classify(struct dd_store *s, const struct dd_checked_member *cm, struct dd_change_pkg *p)
{
	struct dd_strs held = { 0 };
	const char *top;
	int rc;

	p->name = cm->apk.pkg.name;
	p->version = cm->apk.pkg.version;
	p->arch = cm->apk.pkg.arch ? cm->apk.pkg.arch : "";
	p->kind = DD_PKG_NEW;
	if (!s)
		return 0;
	rc = dd_held_versions(s, p->name, p->arch, &held);
	if (!rc && dd_strs_has(&held, p->version))
		p->kind = DD_PKG_HELD;
	else if (!rc && (top = newest(&held)) &&
		 dd_version_compare(dd_blob_str(p->version), dd_blob_str(top)) > 0) {
		p->kind = DD_PKG_UPGRADED;
		p->old_version = dd_xstrdup(top);
	}
	dd_strs_release(&held);
	return rc;
}

/* The guarded "name=version"s and image names of the entitlement in force after the import. */
static void entitlement_after(const struct dd_checked *c, const struct dd_held_entitlement *now,
			      struct dd_strs *images, struct dd_strs *guarded)
{
	struct dd_buf b = DD_BUF_INIT;

	if (!c->has_entitlement || !c->entitlement_is_new) {
		for (size_t i = 0; i < now->images.n; i++)
			dd_strs_add(images, now->images.v[i]);
		for (size_t i = 0; i < now->guarded.n; i++)
			dd_strs_add(guarded, now->guarded.v[i]);
		return;
	}
	for (size_t i = 0; i < c->entitlement.n_images; i++) {
		const struct dd_entitled_image *img = &c->entitlement.images[i];

		dd_strs_add(images, img->name);
		for (size_t j = 0; j < img->n_packages; j++) {
			key(&b, img->packages[j].name, img->packages[j].version);
			dd_strs_add(guarded, b.ptr);
		}
	}
	dd_buf_release(&b);
}

/* Is name=version held after the import (by the mirror or the bundle)? */
static int held_after(struct dd_store *s, const struct dd_changes *ch, const char *nv, bool *held)
{
	const char *eq = strchr(nv, '=');
	char *name;
	int rc = 0;

	*held = false;
	for (size_t i = 0; i < ch->n_pkgs && !*held; i++)
		*held = !strncmp(nv, ch->pkgs[i].name, (size_t)(eq - nv)) &&
			!ch->pkgs[i].name[eq - nv] && !strcmp(eq + 1, ch->pkgs[i].version);
	if (*held || !s)
		return 0;
	name = dd_xstrdup(nv);
	name[eq - nv] = 0;
	rc = dd_held_package(s, name, eq + 1, held);
	free(name);
	return rc;
}

static int guard_changes(struct dd_store *s, const struct dd_held_entitlement *now,
			 const struct dd_strs *after, struct dd_changes *ch)
{
	int rc = 0;
	bool held;

	for (size_t i = 0; !rc && i < after->n; i++)
		if (!dd_strs_has(&now->guarded, after->v[i]) &&
		    !(rc = held_after(s, ch, after->v[i], &held)) && held)
			dd_strs_add(&ch->now_guarded, after->v[i]);
	for (size_t i = 0; !rc && i < now->guarded.n; i++)
		if (!dd_strs_has(after, now->guarded.v[i]) &&
		    !(rc = held_after(s, ch, now->guarded.v[i], &held)) && held)
			dd_strs_add(&ch->now_unguarded, now->guarded.v[i]);
	return rc;
}

int dd_changes_compute(struct dd_store *s, const struct dd_checked *c, struct dd_changes *ch)
{
	struct dd_held_entitlement now = { 0 };
	struct dd_strs images = { 0 }, guarded = { 0 };
	struct dd_buf b = DD_BUF_INIT;
	int rc = 0;

	memset(ch, 0, sizeof(*ch));
	ch->expires = c->manifest.expires;
	ch->pkgs = dd_xcalloc(c->manifest.n_members + 1, sizeof(*ch->pkgs));
	for (size_t i = 0; !rc && i < c->manifest.n_members; i++) {
		const struct dd_checked_member *cm = &c->members[i];
		struct dd_change_pkg *p = &ch->pkgs[ch->n_pkgs];

		if (!cm->m || cm->m->kind != DD_MEMBER_APK)
			continue;
		rc = classify(s, cm, p);
		ch->n_pkgs++;
		ch->n_new += p->kind == DD_PKG_NEW;
		ch->n_upgraded += p->kind == DD_PKG_UPGRADED;
		ch->n_held += p->kind == DD_PKG_HELD;
	}
	if (!rc && s)
		rc = dd_held_entitlement(s, &now);
	if (rc)
		goto out;
	ch->ent_before = now.present;
	ch->ent_before_version = now.version;
	ch->ent_after = now.present || c->has_entitlement;
	ch->ent_after_version =
		c->has_entitlement && c->entitlement_is_new ? c->entitlement.version : now.version;
	entitlement_after(c, &now, &images, &guarded);
	for (size_t i = 0; i < images.n; i++)
		if (!dd_strs_has(&now.images, images.v[i]))
			dd_strs_add(&ch->images_added, images.v[i]);
	for (size_t i = 0; i < now.images.n; i++)
		if (!dd_strs_has(&images, now.images.v[i]))
			dd_strs_add(&ch->images_removed, now.images.v[i]);
	for (size_t i = 0; i < ch->n_pkgs; i++) {
		key(&b, ch->pkgs[i].name, ch->pkgs[i].version);
		ch->pkgs[i].guarded = dd_strs_has(&guarded, b.ptr);
	}
	rc = guard_changes(s, &now, &guarded, ch);
out:
	dd_held_entitlement_release(&now);
	dd_strs_release(&images);
	dd_strs_release(&guarded);
	dd_buf_release(&b);
	return rc;
}

void dd_changes_release(struct dd_changes *ch)
{
	for (size_t i = 0; i < ch->n_pkgs; i++)
		free(ch->pkgs[i].old_version);
	free(ch->pkgs);
	dd_strs_release(&ch->images_added);
	dd_strs_release(&ch->images_removed);
	dd_strs_release(&ch->now_guarded);
	dd_strs_release(&ch->now_unguarded);
	memset(ch, 0, sizeof(*ch));
}
