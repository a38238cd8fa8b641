/*
 * drydock build, what one layer holds: its packages, the skeleton and the
 * signing keys, the apk database, and in the top layer the job's
 * accounts, paths, certificates and the SBOM.
 */
#include "image/build_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/crash.h"
#include "core/error.h"
#include "image/skeleton.h"

#define MAX_ACCOUNT_FILE (4u << 20)
#define MAX_REWRITE      (256u << 20)

/* ---- job settings ---------------------------------------------------------- */

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return path;
}

/* Replace or append "name:..." lines of an /etc/passwd-style file. */
static void set_line(struct dd_buf *file, const char *name, const char *line)
{
	struct dd_buf out = DD_BUF_INIT;
	struct dd_blob b = dd_buf_blob(file), l;
	size_t nl = strlen(name);
	bool done = false;

	while (b.len) {
		if (!dd_blob_split(&b, '\n', &l) && !l.len)
			break;
		if (l.len > nl && !memcmp(l.ptr, name, nl) && l.ptr[nl] == ':') {
			if (!done)
				dd_buf_addf(&out, "%s\n", line);
			done = true;
			continue;
		}
		dd_buf_add(&out, l.ptr, l.len);
		dd_buf_adds(&out, "\n");
	}
	if (!done)
		dd_buf_addf(&out, "%s\n", line);
	dd_buf_release(file);
	*file = out;
}

static int image_file(struct dd_rootfs *r, const char *path, struct dd_buf *out)
{
	int rc = dd_rootfs_read_path(r, path, MAX_ACCOUNT_FILE, out);

	return rc == DD_E_NOTFOUND ? 0 : rc;
}

static int apply_accounts(struct build *b, struct dd_rootfs *r)
{
	const struct dd_job *j = &b->job;
	struct dd_buf passwd = DD_BUF_INIT, group = DD_BUF_INIT, line = DD_BUF_INIT;
	int rc;

	if (!j->n_users && !j->n_groups)
		return 0;
	rc = image_file(r, "etc/passwd", &passwd);
	if (!rc)
		rc = image_file(r, "etc/group", &group);
	for (size_t i = 0; !rc && i < j->n_groups; i++) {
		const struct dd_job_group *g = &j->groups[i];

		dd_buf_reset(&line);
		dd_buf_addf(&line, "%s:x:%u:", g->name, g->gid);
		for (size_t m = 0; m < g->n_members; m++)
			dd_buf_addf(&line, "%s%s", m ? "," : "", g->members[m]);
		set_line(&group, g->name, line.ptr);
	}
	for (size_t i = 0; !rc && i < j->n_users; i++) {
		const struct dd_job_user *u = &j->users[i];
		uint32_t gid = u->has_gid ? u->gid : u->uid;
		struct dd_buf home = DD_BUF_INIT;

		if (u->home)
			dd_buf_adds(&home, u->home);
		else
			dd_buf_addf(&home, "/home/%s", u->name);
		dd_buf_reset(&line);
		dd_buf_addf(&line, "%s:x:%u:%u::%s:%s", u->name, u->uid, gid, home.ptr,
			    u->shell ? u->shell : "/bin/sh");
		set_line(&passwd, u->name, line.ptr);
		if (!dd_tree_get(r->tree, rel(home.ptr)))
			rc = dd_rootfs_put_dir(r, rel(home.ptr), 0755, u->uid, gid);
		dd_buf_release(&home);
	}
	if (!rc)
		rc = dd_rootfs_put_file(r, "etc/group", 0644, 0, 0, group.ptr, group.len);
	if (!rc)
		rc = dd_rootfs_put_file(r, "etc/passwd", 0644, 0, 0, passwd.ptr, passwd.len);
	if (!rc)
		build_log(b,
			  "accounts: %zu group(s), %zu user(s) written to /etc/group and "
			  "/etc/passwd",
			  j->n_groups, j->n_users);
	dd_buf_release(&passwd);
	dd_buf_release(&group);
	dd_buf_release(&line);
	return rc;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int set_permissions(struct dd_rootfs *r, const char *path, const struct dd_job_path *jp)
{
	const struct dd_node *n = dd_tree_get(r->tree, path);
	unsigned mode;
	int rc;

	if (!n)
		return dd_error(DD_E_NOTFOUND, "paths: /%s (type permissions) is not in the image",
				path);
	mode = jp->has_mode ? jp->mode : n->mode;
	if (n->type == DD_TAR_DIR)
		return dd_rootfs_put_dir(r, path, mode, jp->uid, jp->gid);
	if (n->type != DD_TAR_FILE)
		return 0; /* links carry no permissions of their own */
	{
		struct dd_buf data = DD_BUF_INIT;

		rc = dd_rootfs_read_path(r, path, MAX_REWRITE, &data);
		if (!rc)
			rc = dd_rootfs_put_file(r, path, mode, jp->uid, jp->gid, data.ptr,
						data.len);
		else if (rc == DD_E_NOTFOUND)
			rc = dd_error(DD_E_NOTFOUND,
				      "paths: /%s was made by drydock itself; its "
				      "permissions cannot be changed",
				      path);
		dd_buf_release(&data);
	}
	return rc;
}

static int apply_paths(struct build *b, struct dd_rootfs *r)
{
	for (size_t i = 0; i < b->job.n_paths; i++) {
		const struct dd_job_path *jp = &b->job.paths[i];
		const char *path = rel(jp->path);
		int rc = 0;

		switch (jp->type) {
		case DD_PATH_DIRECTORY:
			rc = dd_rootfs_put_dir(r, path, jp->has_mode ? jp->mode : 0755, jp->uid,
					       jp->gid);
			break;
		case DD_PATH_EMPTY_FILE:
			rc = dd_rootfs_put_file(r, path, jp->has_mode ? jp->mode : 0644, jp->uid,
						jp->gid, "", 0);
			break;
		case DD_PATH_SYMLINK:
			rc = dd_rootfs_put_link(r, path, DD_TAR_SYMLINK, jp->source);
			break;
		case DD_PATH_HARDLINK:
			rc = dd_rootfs_put_link(r, path, DD_TAR_HARDLINK, rel(jp->source));
			break;
		case DD_PATH_PERMISSIONS:
			rc = set_permissions(r, path, jp);
			if (!rc && jp->recursive) {
				struct dd_map *m = &r->tree->paths;
				size_t plen = strlen(path), n = 0;
				char **below = NULL;

				for (size_t s = 0; s < m->cap; s++) {
					const char *k = m->slots[s].key;

					if (k && !strncmp(k, path, plen) && k[plen] == '/') {
						DD_GROW(below, n);
						below[n++] = dd_xstrdup(k);
					}
				}
				qsort(below, n, sizeof(*below), path_cmp);
				for (size_t k = 0; k < n; k++) {
					if (!rc)
						rc = set_permissions(r, below[k], jp);
					free(below[k]);
				}
				free(below);
			}
			break;
		}
		if (rc)
			return dd_error_prefix(rc, "%s: paths[%zu]", b->job.file, i);
		build_log(b, "paths: /%s", path);
	}
	return 0;
}

/* ---- certificates ---------------------------------------------------------- */

#define CA_BUNDLE "etc/ssl/certs/ca-certificates.crt"
#define CA_DIR    "usr/local/share/ca-certificates"

/* A symlink's target as a path in the image (no leading '/', no '.' or
 * '..' components); NULL when it would leave the root. */
static char *link_target(const char *path, const char *target)
{
	struct dd_buf joined = DD_BUF_INIT, out = DD_BUF_INIT;
	const char *slash = strrchr(path, '/'), *s;

	if (target[0] != '/' && slash)
		dd_buf_add(&joined, path, (size_t)(slash - path) + 1);
	dd_buf_adds(&joined, target);
	for (s = joined.ptr; *s;) {
		size_t len;

		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (len == 2 && !strncmp(s, "..", 2)) {
			char *up = strrchr(out.ptr ? out.ptr : "", '/');

			if (!out.len) {
				dd_buf_release(&joined);
				dd_buf_release(&out);
				return NULL;
			}
			out.len = up ? (size_t)(up - out.ptr) : 0;
			out.ptr[out.len] = 0;
		} else if (len && !(len == 1 && s[0] == '.')) {
			if (out.len)
				dd_buf_adds(&out, "/");
			dd_buf_add(&out, s, len);
		}
		s += len;
	}
	dd_buf_release(&joined);
	return out.len ? dd_buf_detach(&out, NULL) : (dd_buf_release(&out), NULL);
}

/* The file the CA bundle path ends at, following the image's symlinks. */
static char *bundle_path(const struct dd_tree *t)
{
	char *path = dd_xstrdup(CA_BUNDLE);

	for (int hop = 0; hop < 8; hop++) {
		const struct dd_node *n = dd_tree_get(t, path);
		char *next;

		if (!n || n->type != DD_TAR_SYMLINK || !n->link)
			return path;
		next = link_target(path, n->link);
		free(path);
		if (!next)
			return NULL;
		path = next;
	}
	free(path);
	return NULL;
}

/*
 * certificates.additional: each PEM certificate appended to the image's
 * CA bundle (created when no package ships it) and written as
 * CA_DIR/<name>.crt.
 */
static int apply_certificates(struct build *b, struct dd_rootfs *r)
{
	struct dd_buf bundle = DD_BUF_INIT, file = DD_BUF_INIT;
	const struct dd_node *n;
	char *path;
	int rc = 0;

	if (!b->job.n_certs)
		return 0;
	if (!(path = bundle_path(r->tree)))
		return dd_error(DD_E_FORMAT,
				"certificates: /%s is a symlink that leaves the image "
				"or loops; the certificates have no bundle to go into",
				CA_BUNDLE);
	n = dd_tree_get(r->tree, path);
	rc = image_file(r, path, &bundle);
	for (size_t i = 0; !rc && i < b->job.n_certs; i++) {
		const struct dd_job_cert *ce = &b->job.certs[i];
		size_t len = strlen(ce->content);

		if (bundle.len && bundle.ptr[bundle.len - 1] != '\n')
			dd_buf_adds(&bundle, "\n");
		dd_buf_add(&bundle, ce->content, len);
		if (len && ce->content[len - 1] != '\n')
			dd_buf_adds(&bundle, "\n");
		dd_buf_reset(&file);
		dd_buf_addf(&file, "%s/%s.crt", CA_DIR, ce->name);
		rc = dd_rootfs_put_file(r, file.ptr, 0644, 0, 0, ce->content, len);
		if (!rc)
			build_log(b, "certificate %s: /%s, appended to /%s", ce->name, file.ptr,
				  path);
	}
	if (!rc)
		rc = dd_rootfs_put_file(r, path, n && n->type == DD_TAR_FILE ? n->mode : 0644,
					n ? n->uid : 0, n ? n->gid : 0,
					bundle.ptr ? bundle.ptr : "", bundle.len);
	if (rc)
		dd_error_prefix(rc, "%s: certificates", b->job.file);
	free(path);
	dd_buf_release(&bundle);
	dd_buf_release(&file);
	return rc;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* etc/apk/world: the base package names and the job's own dependencies. */
static void world_text(const struct build *b, const struct dd_plan *p, struct dd_buf *out)
{
	char **w = dd_xcalloc(p->n + b->job.n_packages + b->job.n_remove + 1, sizeof(char *));
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->pkgs[i].role == DD_PLAN_CRUST)
			w[n++] = dd_xstrdup(b->cat.pkgs[p->pkgs[i].cat].name);
	for (size_t i = 0; i < b->job.n_packages; i++) {
		struct dd_buf d = DD_BUF_INIT;

		dd_dep_format(&b->job.packages[i], &d);
		w[n++] = dd_buf_detach(&d, NULL);
	}
	for (size_t i = 0; i < b->job.n_remove; i++) {
		struct dd_buf d = DD_BUF_INIT;

		dd_buf_addf(&d, "!%s", b->job.remove[i]);
		w[n++] = dd_buf_detach(&d, NULL);
	}
	qsort(w, n, sizeof(*w), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(w[i], w[i - 1]))
			dd_buf_addf(out, "%s\n", w[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

static const char *const apk_db_files[] = {
	"etc/apk/world",
	"etc/apk/arch",
	"usr/lib/apk/db/installed",
	"usr/lib/apk/db/triggers",
	"usr/lib/apk/db/scripts.tar",
};

/* The apk database files closing a layer that holds packages [0, n). */
static int write_apk_db(struct build *b, struct dd_rootfs *r, const struct dd_plan *p, size_t n,
			bool whole)
{
	struct dd_buf text = DD_BUF_INIT;
	int rc = 0;

	if (whole) {
		world_text(b, p, &text);
	} else {
		for (size_t i = 0; i < n; i++)
			dd_buf_addf(&text, "%s\n", b->cat.pkgs[p->pkgs[i].cat].name);
	}
	rc = dd_rootfs_put_file(r, "etc/apk/world", 0644, 0, 0, text.ptr, text.len);
	dd_buf_reset(&text);
	dd_buf_addf(&text, "%s\n", p->arch);
	if (!rc)
		rc = dd_rootfs_put_file(r, "etc/apk/arch", 0644, 0, 0, text.ptr, text.len);
	dd_buf_reset(&text);
	if (!rc)
		rc = dd_rootfs_installed_db(r->ps, r->winners, (int)n, &text);
	if (!rc)
		rc = dd_rootfs_put_file(r, "usr/lib/apk/db/installed", 0644, 0, 0, text.ptr,
					text.len);
	dd_buf_reset(&text);
	if (!rc) {
		struct dd_buf triggers = DD_BUF_INIT;

		rc = dd_skeleton_apk_scripts(r->ps, (int)n, r->mtime, &text, &triggers);
		if (!rc)
			rc = dd_rootfs_put_file(r, "usr/lib/apk/db/triggers", 0644, 0, 0,
						triggers.ptr ? triggers.ptr : "", triggers.len);
		if (!rc)
			rc = dd_rootfs_put_file(r, "usr/lib/apk/db/scripts.tar", 0644, 0, 0,
						text.ptr, text.len);
		dd_buf_release(&triggers);
	}
	dd_buf_release(&text);
	return rc;
}

/* etc/apk/repositories from contents.runtime_repositories ("" without). */
static void repositories_text(const struct dd_job *j, struct dd_buf *out)
{
	for (size_t i = 0; i < j->n_runtime_repos; i++)
		dd_buf_addf(out, "%s\n", j->runtime_repos[i]);
}

/*
 * The skeleton (image/skeleton.h) and the signing keys: written into
 * the lowest layer after its packages, or, in an upper layer, recorded
 * as the lower one holds them, and only this layer's keys written.
 */
static int skeleton(struct build *b, struct dd_rootfs *r, size_t from, size_t to, bool top)
{
	struct dd_buf repos = DD_BUF_INIT, keys = DD_BUF_INIT;
	int rc = 0;

	if (top)
		repositories_text(&b->job, &repos);
	if (from == 0) {
		rc = dd_skeleton_write(r, repos.ptr, top && (b->job.n_users || b->job.n_groups));
	} else {
		dd_skeleton_note(r);
		dd_skeleton_note_keys(r, (int)from);
		if (repos.len)
			rc = dd_rootfs_put_file(r, "etc/apk/repositories", 0644, 0, 0, repos.ptr,
						repos.len);
	}
	if (!rc)
		rc = dd_skeleton_keys(r, (int)from, (int)to, &keys);
	if (!rc && from == 0)
		build_log(b, "skeleton written%s%s", repos.len ? " with runtime repositories" : "",
			  keys.len ? "; signing keys in /etc/apk/keys:" : "");
	for (char *k = keys.ptr, *nl; !rc && k && (nl = strchr(k, '\n')); k = nl + 1) {
		*nl = 0;
		build_log(b, "  /etc/apk/keys/%s", k);
	}
	dd_buf_release(&repos);
	dd_buf_release(&keys);
	return rc;
}

/* The SPDX SBOM inside the image, where scanners look for it. */
static int put_sbom(struct build *b, struct dd_rootfs *r, const struct dd_plan *p, size_t n_crust,
		    int64_t created)
{
	struct dd_buf text = DD_BUF_INIT, path = DD_BUF_INIT;
	int rc = dd_sbom_contents(&b->cat, p, n_crust, created, b->job.name, b->job.tag, &text);

	dd_buf_addf(&path, "%s/%s.spdx.json", DD_IMAGE_SBOM_DIR, b->job.name);
	if (!rc)
		rc = dd_rootfs_put_file(r, path.ptr, 0644, 0, 0, text.ptr, text.len);
	if (!rc)
		build_log(b, "SBOM inside the image (%s): /%s", p->arch, path.ptr);
	dd_buf_release(&text);
	dd_buf_release(&path);
	return rc;
}

/* ---- layers ---------------------------------------------------------------- */

/* Add the plan's package at pos to the layer r writes, and log it. */
int build_install(struct build *b, struct dd_rootfs *r, const struct dd_plan *p, size_t pos)
{
	const struct dd_apk_pkg *pkg = &b->cat.pkgs[p->pkgs[pos].cat];
	int rc = dd_rootfs_add_package(r, (int)pos);

	if (!rc)
		build_log(b, "installed %s-%s (%s, sha256:%s)", pkg->name, pkg->version,
			  dd_plan_role_str(p->pkgs[pos].role),
			  b->cat.info[p->pkgs[pos].cat].sha256);
	return rc;
}

int build_write_layer(struct build *b, const struct layer_job *lj, struct dd_blob_desc *out)
{
	struct dd_layer_writer lw;
	struct dd_rootfs r = {
		lj->tree, &lw, lj->ps, lj->winners, lj->mtime, 0, build_check_deadline, b, 0
	};
	const struct dd_plan *p = lj->ps->plan;
	int rc = dd_layer_begin(&lw, b->blobs, lj->codec, b->threads);

	if (rc)
		return rc;
	lw.check = build_check_deadline;
	lw.check_ctx = b;
	if (lj->list) {
		rc = dd_rootfs_preload_list(&r, lj->below, lj->n_below, false);
		for (size_t k = 0; k < lj->n_list && !rc; k++)
			rc = build_install(b, &r, p, (size_t)lj->list[k]);
		if (!rc)
			rc = skeleton(b, &r, 0, p->n, true);
		goto settings;
	}
	if (lj->top && lj->from > 0) {
		rc = dd_rootfs_preload(&r, 0, (int)lj->from);
		for (size_t i = 0; i < sizeof(apk_db_files) / sizeof(apk_db_files[0]); i++)
			dd_rootfs_note_file(&r, apk_db_files[i]);
	}
	for (size_t i = lj->from; i < lj->to && !rc; i++) {
		rc = build_install(b, &r, p, i);
		if (i == lj->from)
			dd_crash_point("mid-build");
	}
	if (!rc)
		rc = skeleton(b, &r, lj->from, lj->to, lj->top);
settings:
	if (!rc && lj->top)
		rc = apply_accounts(b, &r);
	if (!rc && lj->top)
		rc = apply_paths(b, &r);
	if (!rc && lj->top)
		rc = apply_certificates(b, &r);
	if (!rc && lj->top)
		rc = put_sbom(b, &r, p, lj->from, lj->mtime);
	if (!rc)
		rc = write_apk_db(b, &r, p, lj->top ? p->n : lj->to, lj->top);
	if (!rc)
		rc = dd_layer_finish(&lw, b->blobs, out);
	else
		dd_layer_abort(&lw);
	if (!rc)
		build_log(b, "layer %s: %llu entries, %llu bytes (%llu uncompressed), diff_id %s",
			  out->digest, (unsigned long long)r.entries, (unsigned long long)out->size,
			  (unsigned long long)out->usize, out->diff_id);
	return rc;
}
