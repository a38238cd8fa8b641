#include "image/skeleton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/read.h"
#include "core/error.h"
#include "core/file.h"
#include "store/store.h"

#define MAX_KEY_FILE (64u << 10)

struct skel_path {
	const char *path;
	char type;
	unsigned mode;
	const char *link; /* symlink target */
};

/* In order: every parent before what lies below it. */
static const struct skel_path skeleton[] = {
	{ "dev", DD_TAR_DIR, 0755, NULL },
	{ "etc", DD_TAR_DIR, 0755, NULL },
	{ "etc/apk", DD_TAR_DIR, 0755, NULL },
	{ "etc/apk/keys", DD_TAR_DIR, 0755, NULL },
	{ "lib", DD_TAR_DIR, 0755, NULL },
	{ "opt", DD_TAR_DIR, 0755, NULL },
	{ "proc", DD_TAR_DIR, 0555, NULL },
	{ "tmp", DD_TAR_DIR, 01777, NULL },
	{ "usr", DD_TAR_DIR, 0755, NULL },
	{ "usr/lib", DD_TAR_DIR, 0755, NULL },
	{ "usr/lib/apk", DD_TAR_DIR, 0755, NULL },
	{ "usr/lib/apk/db", DD_TAR_DIR, 0755, NULL },
	{ "usr/lib/apk/exec", DD_TAR_DIR, 0755, NULL },
	{ "var", DD_TAR_DIR, 0755, NULL },
	{ "var/cache", DD_TAR_DIR, 0755, NULL },
	{ "var/cache/apk", DD_TAR_DIR, 0755, NULL },
	{ "var/cache/misc", DD_TAR_DIR, 0755, NULL },
	{ "lib/apk", DD_TAR_SYMLINK, 0777, "../usr/lib/apk" },
	{ "usr/lib/apk/db/lock", DD_TAR_FILE, 0600, NULL },
	{ "etc/apk/repositories", DD_TAR_FILE, 0644, NULL },
	{ "etc/group", DD_TAR_FILE, 0644, NULL },
	{ "etc/passwd", DD_TAR_FILE, 0644, NULL },
};

#define N_SKELETON (sizeof(skeleton) / sizeof(skeleton[0]))

/* Does a parent of path exist as something other than a directory (a
 * package's symlink, like a merged /lib -> usr/lib)? */
static bool below_non_dir(const struct dd_tree *t, const char *path)
{
	char *p = dd_xstrdup(path);
	bool hit = false;

	for (char *s = strchr(p, '/'); s && !hit; s = strchr(s + 1, '/')) {
		const struct dd_node *n;

		*s = 0;
		n = dd_tree_get(t, p);
		hit = n && n->type != DD_TAR_DIR;
		*s = '/';
	}
	free(p);
	return hit;
}

static int put_one(struct dd_rootfs *r, const struct skel_path *sp, const char *repositories)
{
	const char *data = "";
	int rc;

	if (sp->type == DD_TAR_DIR)
		rc = dd_rootfs_put_dir(r, sp->path, sp->mode, 0, 0);
	else if (sp->type == DD_TAR_SYMLINK)
		rc = dd_rootfs_put_link(r, sp->path, DD_TAR_SYMLINK, sp->link);
	else {
		if (!strcmp(sp->path, "etc/apk/repositories") && repositories)
			data = repositories;
		rc = dd_rootfs_put_file(r, sp->path, sp->mode, 0, 0, data, strlen(data));
	}
	if (!rc)
		dd_rootfs_set_owner(r, sp->path, DD_OWNER_SKELETON);
	return rc;
}

static bool account_file(const char *path)
{
	return !strcmp(path, "etc/passwd") || !strcmp(path, "etc/group");
}

int dd_skeleton_write(struct dd_rootfs *r, const char *repositories, bool accounts_follow)
{
	bool own_repos = repositories && *repositories;

	for (size_t i = 0; i < N_SKELETON; i++) {
		const struct skel_path *sp = &skeleton[i];
		bool repos = own_repos && !strcmp(sp->path, "etc/apk/repositories");
		int rc;

		if ((dd_tree_get(r->tree, sp->path) && !repos) ||
		    below_non_dir(r->tree, sp->path) || (accounts_follow && account_file(sp->path)))
			continue;
		rc = put_one(r, sp, repositories);
		if (rc)
			return dd_error_prefix(rc, "the image's skeleton");
	}
	return 0;
}

void dd_skeleton_note(struct dd_rootfs *r)
{
	for (size_t i = 0; i < N_SKELETON; i++) {
		const struct skel_path *sp = &skeleton[i];

		if (dd_tree_get(r->tree, sp->path) || below_non_dir(r->tree, sp->path))
			continue;
		dd_rootfs_note(r, sp->path, sp->type, sp->mode, DD_OWNER_SKELETON, sp->link);
	}
}

/* ---- signing keys ----------------------------------------------------------- */

static const char *signer_of(const struct dd_pkgset *ps, int pos)
{
	const char *s = ps->cat->info[ps->plan->pkgs[pos].cat].signer;

	/* a key name is a file name in keys/apk; anything else names no key */
	return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") ? s : NULL;
}

static bool seen_before(const struct dd_pkgset *ps, int pos, const char *name, int from)
{
	for (int i = from; i < pos; i++) {
		const char *s = signer_of(ps, i);

		if (s && !strcmp(s, name))
			return true;
	}
	return false;
}

int dd_skeleton_keys(struct dd_rootfs *r, int from, int to, struct dd_buf *names)
{
	struct dd_buf path = DD_BUF_INIT, file = DD_BUF_INIT, key = DD_BUF_INIT;
	int rc = 0;

	for (int i = from; i < to && !rc; i++) {
		const char *name = signer_of(r->ps, i);

		if (!name || seen_before(r->ps, i, name, from))
			continue;
		dd_buf_reset(&path);
		dd_buf_addf(&path, "etc/apk/keys/%s", name);
		if (dd_tree_get(r->tree, path.ptr) || below_non_dir(r->tree, path.ptr)) {
			dd_buf_addf(names, "%s\n", name);
			continue;
		}
		dd_buf_reset(&file);
		dd_buf_addf(&file, "%s/keys/apk/%s", dd_store_root(r->ps->store), name);
		if (access(file.ptr, F_OK))
			continue; /* trust was taken back since: no key to ship */
		rc = dd_read_file(file.ptr, MAX_KEY_FILE, &key);
		if (!rc)
			rc = dd_rootfs_put_file(r, path.ptr, 0644, 0, 0, key.ptr, key.len);
		if (!rc)
			dd_buf_addf(names, "%s\n", name);
	}
	dd_buf_release(&path);
	dd_buf_release(&file);
	dd_buf_release(&key);
	return rc;
}

void dd_skeleton_note_keys(struct dd_rootfs *r, int to)
{
	struct dd_buf path = DD_BUF_INIT, file = DD_BUF_INIT;

	for (int i = 0; i < to; i++) {
		const char *name = signer_of(r->ps, i);

		if (!name || seen_before(r->ps, i, name, 0))
			continue;
		dd_buf_reset(&path);
		dd_buf_addf(&path, "etc/apk/keys/%s", name);
		dd_buf_reset(&file);
		dd_buf_addf(&file, "%s/keys/apk/%s", dd_store_root(r->ps->store), name);
		if (!dd_tree_get(r->tree, path.ptr) && !below_non_dir(r->tree, path.ptr) &&
		    !access(file.ptr, F_OK))
			dd_rootfs_note(r, path.ptr, DD_TAR_FILE, 0644, -1, NULL);
	}
	dd_buf_release(&path);
	dd_buf_release(&file);
}

/* ---- install scripts and triggers ----------------------------------------- */

static int add_script(struct dd_tar_writer *w, const struct dd_apk_pkg *pkg, const char *checksum,
		      const char *script, const struct dd_buf *data, int64_t mtime)
{
	struct dd_buf name = DD_BUF_INIT;
	struct dd_tar_entry e;
	int rc;

	dd_buf_addf(&name, "%s-%s.%s.%s", pkg->name, pkg->version, checksum, script + 1);
	memset(&e, 0, sizeof(e));
	e.path = name.ptr;
	e.type = DD_TAR_FILE;
	e.mode = 0755;
	e.size = data->len;
	e.mtime = mtime;
	rc = dd_tar_write_file(w, &e, data->ptr ? data->ptr : "");
	dd_buf_release(&name);
	return rc;
}

/* The control members apk-tools runs; others (.melange.yaml) it ignores. */
static bool is_script(const char *member)
{
	static const char *const names[] = { ".pre-install",  ".post-install",  ".pre-upgrade",
					     ".post-upgrade", ".pre-deinstall", ".post-deinstall",
					     ".trigger" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(member, names[i]))
			return true;
	return false;
}

static int to_buf(void *ctx, const void *data, size_t len)
{
	dd_buf_add(ctx, data, len);
	return 0;
}

static int package_scripts(const struct dd_pkgset *ps, int pos, int64_t mtime,
			   struct dd_tar_writer *w)
{
	const struct dd_apk_pkg *pkg = &ps->cat->pkgs[ps->plan->pkgs[pos].cat];
	struct dd_buf blob = DD_BUF_INIT;
	struct dd_apk_file f;
	int rc;

	dd_store_blob_path(ps->store, ps->cat->info[ps->plan->pkgs[pos].cat].sha256, &blob);
	rc = dd_apk_read_flags(blob.ptr, DD_APK_CONTROL_ONLY, &f);
	if (rc) {
		dd_error_prefix(rc, "%s-%s", pkg->name, pkg->version);
		goto out;
	}
	if (pkg->checksum[0] && strcmp(pkg->checksum, f.checksum)) {
		rc = dd_error(DD_E_DIGEST,
			      "%s-%s: the control segment of %s has the checksum "
			      "%s, not %s as the mirror recorded (run 'drydock mirror fsck')",
			      pkg->name, pkg->version, blob.ptr, f.checksum, pkg->checksum);
	}
	for (size_t i = 0; !rc && i < f.n_scripts; i++)
		if (is_script(f.scripts[i]))
			rc = add_script(w, pkg, f.checksum, f.scripts[i], &f.script_data[i], mtime);
	dd_apk_file_release(&f);
out:
	dd_buf_release(&blob);
	return rc;
}

int dd_skeleton_apk_scripts(const struct dd_pkgset *ps, int n, int64_t mtime,
			    struct dd_buf *scripts_tar, struct dd_buf *triggers)
{
	struct dd_tar_writer w;
	int rc = 0;

	dd_tar_writer_init(&w, to_buf, scripts_tar);
	for (int i = 0; i < n && !rc; i++) {
		const struct dd_apk_pkg *pkg = &ps->cat->pkgs[ps->plan->pkgs[i].cat];

		rc = package_scripts(ps, i, mtime, &w);
		if (rc || !pkg->n_triggers)
			continue;
		dd_buf_adds(triggers, pkg->checksum);
		for (size_t t = 0; t < pkg->n_triggers; t++)
			dd_buf_addf(triggers, " %s", pkg->triggers[t]);
		dd_buf_adds(triggers, "\n");
	}
	if (!rc)
		rc = dd_tar_write_end(&w);
	return rc;
}
