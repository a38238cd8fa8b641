#include "image/build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "core/crash.h"
#include "core/epoch.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/name.h"
#include "core/time.h"
#include "image/oci.h"
#include "evidence/provenance.h"
#include "image/rootfs.h"
#include "evidence/sbom.h"
#include "image/skeleton.h"
#include "evidence/vex.h"
#include "job/plan.h"
#include "store/catalog.h"
#include "store/store.h"
#include "trust/pgp.h"
#include "trust/sign.h"
#include "version.h"

#define LAYER_FORMAT "drydock-layer/2" /* 2: with the skeleton (image/skeleton.h) */
#define MAX_ACCOUNT_FILE (4u << 20)
#define MAX_REWRITE (256u << 20)

struct build {
	const struct dd_build_opts *o;
	const struct dd_catalog_pin *pin; /* NULL: solve against the mirror as it is */
	struct dd_job job;
	bool job_loaded;
	struct dd_store *store;
	struct dd_catalog cat;
	bool cat_loaded;
	char *dir;          /* the run folder being written (.tmp-) */
	char *blobs;        /* dir/image/blobs/sha256 */
	FILE *log;
	int log_errno;        /* the first failed write to build.log, or 0 */
	int threads;
	int64_t deadline;   /* monotonic ms */
	json_t *result, *warnings, *archs;
	struct dd_sbom sbom;
	struct dd_adv_db adv;  /* the mirror's security databases (none: no advisories) */
	struct dd_vex vex;
	size_t adv_count[DD_ADV_N_STATES];
	bool env_epoch;
	int64_t epoch;      /* SOURCE_DATE_EPOCH, when set */
	char run_id[40], started[40];
	struct dd_sigkey key;
	bool signing;
	json_t *deps;       /* package blob sha256 -> its resolved dependency, in order */
	json_t *bundles;    /* bundle digest -> dependency, in order of first use */
	bool timed_out;     /* check_deadline failed the build */
	char inputs[65];    /* the inputs key ("" when the job will not plan) */
};

/* ---- time and the log ---------------------------------------------------- */

static void logf_(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct build *b, const char *fmt, ...)
{
	char now[40];
	va_list ap;

	if (!b->log)
		return;
	dd_time_wall_ms(now);
	fprintf(b->log, "%s ", now);
	va_start(ap, fmt);
	vfprintf(b->log, fmt, ap);
	va_end(ap);
	fputc('\n', b->log);
	if ((fflush(b->log) || ferror(b->log)) && !b->log_errno)
		b->log_errno = errno ? errno : EIO;
}

static void warn(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct build *b, const char *fmt, ...)
{
	char *m;
	va_list ap;

	va_start(ap, fmt);
	m = dd_xvasprintf(fmt, ap);
	va_end(ap);
	logf_(b, "warning: %s", m);
	json_array_append_new(b->warnings, json_string(m));
	free(m);
}

static int check_deadline(void *ctx)
{
	struct build *b = ctx;

	if (dd_time_mono_ms() <= b->deadline)
		return 0;
	b->timed_out = true;
	return dd_error(DD_E_LIMIT, "the build ran longer than its policy.timeout (%lld ms); "
			"raise policy.timeout in %s", (long long)b->job.timeout_ms, b->job.file);
}

/* ---- the crust and the install order -------------------------------------- */

static int64_t epoch_of(const struct build *b, const struct dd_plan *p, size_t n)
{
	int64_t t = 0;

	if (b->env_epoch)
		return b->epoch;
	for (size_t i = 0; i < n; i++)
		if (b->cat.pkgs[p->pkgs[i].cat].build_time > t)
			t = b->cat.pkgs[p->pkgs[i].cat].build_time;
	return t;
}

/* ---- the crust layer cache ------------------------------------------------- */

static void cache_key(const struct build *b, const struct dd_plan *p, size_t n, int64_t mtime,
		      enum dd_codec codec, char key[65])
{
	struct dd_buf s = DD_BUF_INIT;

	dd_buf_addf(&s, "%s\n%s\n%s\n%lld\n", LAYER_FORMAT, dd_codec_describe(codec), p->arch,
		    (long long)mtime);
	for (size_t i = 0; i < n; i++)
		dd_buf_addf(&s, "%s\n", b->cat.info[p->pkgs[i].cat].sha256);
	dd_sha256_hex(s.ptr, s.len, key);
	dd_buf_release(&s);
}

static void cache_path(const struct build *b, const char *key, const char *ext,
		       struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s/cache/layers/%s%s", dd_store_root(b->store), key, ext);
}

/* Take the cached layer for key into the run, checking its digest. */
static bool cache_get(struct build *b, const char *key, struct dd_blob_desc *out)
{
	struct dd_buf path = DD_BUF_INIT;
	json_t *j;
	const char *digest = NULL, *diff_id = NULL;
	json_int_t size = 0, usize = 0;
	bool ok = false;

	cache_path(b, key, ".json", &path);
	j = json_load_file(path.ptr, 0, NULL);
	if (!j)
		goto out;
	if (json_unpack(j, "{s:s, s:s, s:I, s:I}", "digest", &digest, "diff_id", &diff_id,
			"size", &size, "uncompressed_size", &usize) ||
	    strlen(digest) != 71 || strlen(diff_id) != 71) {
		warn(b, "layer cache entry %s is unreadable; rebuilding the layer", path.ptr);
		goto out;
	}
	cache_path(b, key, ".layer", &path);
	if (dd_blob_link_in(b->blobs, path.ptr, digest)) {
		warn(b, "layer cache: %s; rebuilding the layer", dd_error_detail());
		unlink(path.ptr);
		goto out;
	}
	cache_path(b, key, ".json", &path);
	utimensat(AT_FDCWD, path.ptr, NULL, 0); /* in use: mirror gc keeps it */
	memset(out, 0, sizeof(*out));
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	snprintf(out->diff_id, sizeof(out->diff_id), "%s", diff_id);
	out->size = (uint64_t)size;
	out->usize = (uint64_t)usize;
	ok = true;
out:
	json_decref(j);
	dd_buf_release(&path);
	return ok;
}

/* Can this process write the layer cache (or create it)?  errno says
 * why not: EROFS on a read-only mount, EACCES for another user's copy. */
static bool mirror_writable(const char *root, const char *cache)
{
	if (access(cache, W_OK) == 0)
		return true;
	if (errno == ENOENT)
		return access(root, W_OK) == 0;
	return false;
}

static void cache_put(struct build *b, const char *key, const struct dd_blob_desc *d,
		      size_t n_pkgs)
{
	struct dd_buf dir = DD_BUF_INIT, src = DD_BUF_INIT, dst = DD_BUF_INIT;
	json_t *j;
	int rc;

	dd_buf_addf(&dir, "%s/cache/layers", dd_store_root(b->store));
	if (!mirror_writable(dd_store_root(b->store), dir.ptr)) {
		logf_(b, "note: the mirror %s is read-only for this build (%s): the layer "
		      "is not kept in its layer cache", dd_store_root(b->store), strerror(errno));
		goto out;
	}
	rc = dd_mkdirs(dir.ptr, 0755);
	dd_buf_addf(&src, "%s/%s", b->blobs, d->digest + 7);
	cache_path(b, key, ".layer", &dst);
	if (!rc)
		rc = dd_copy_file(src.ptr, dst.ptr);
	if (!rc) {
		size_t len;
		char *text;

		j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I}", "digest", d->digest, "diff_id",
			      d->diff_id, "size", (json_int_t)d->size, "uncompressed_size",
			      (json_int_t)d->usize, "media_type", d->media_type, "packages",
			      (json_int_t)n_pkgs);
		text = dd_oci_dumps(j, &len);
		cache_path(b, key, ".json", &dst);
		rc = dd_write_file(dst.ptr, text, len);
		free(text);
	}
	if (rc)
		warn(b, "could not keep the layer %s in the mirror's cache (%s); the next "
		     "build will make it again", d->digest, dd_error_detail());
	else
		logf_(b, "layer %s kept in the layer cache as %s", d->digest, key);
out:
	dd_buf_release(&dir);
	dd_buf_release(&src);
	dd_buf_release(&dst);
}

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
		logf_(b, "accounts: %zu group(s), %zu user(s) written to /etc/group and "
		      "/etc/passwd", j->n_groups, j->n_users);
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
			rc = dd_rootfs_put_file(r, path, mode, jp->uid, jp->gid, data.ptr, data.len);
		else if (rc == DD_E_NOTFOUND)
			rc = dd_error(DD_E_NOTFOUND, "paths: /%s was made by drydock itself; its "
				      "permissions cannot be changed", path);
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
						below = dd_xrealloc(below, (n + 1) * sizeof(*below));
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
		logf_(b, "paths: /%s", path);
	}
	return 0;
}

/* ---- certificates ---------------------------------------------------------- */

#define CA_BUNDLE "etc/ssl/certs/ca-certificates.crt"
#define CA_DIR "usr/local/share/ca-certificates"

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
		return dd_error(DD_E_FORMAT, "certificates: /%s is a symlink that leaves the image "
				"or loops; the certificates have no bundle to go into", CA_BUNDLE);
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
			logf_(b, "certificate %s: /%s, appended to /%s", ce->name, file.ptr, path);
	}
	if (!rc)
		rc = dd_rootfs_put_file(r, path, n && n->type == DD_TAR_FILE ? n->mode : 0644,
					n ? n->uid : 0, n ? n->gid : 0, bundle.ptr ? bundle.ptr : "",
					bundle.len);
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
	"etc/apk/world", "etc/apk/arch", "usr/lib/apk/db/installed", "usr/lib/apk/db/triggers",
	"usr/lib/apk/db/scripts.tar",
};

/* The apk database files closing a layer that holds packages [0, n). */
static int write_apk_db(struct build *b, struct dd_rootfs *r, const struct dd_plan *p,
			size_t n, bool whole)
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
		rc = dd_skeleton_write(r, repos.ptr,
				       top && (b->job.n_users || b->job.n_groups));
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
		logf_(b, "skeleton written%s%s", repos.len ? " with runtime repositories" : "",
		      keys.len ? "; signing keys in /etc/apk/keys:" : "");
	for (char *k = keys.ptr, *nl; !rc && k && (nl = strchr(k, '\n')); k = nl + 1) {
		*nl = 0;
		logf_(b, "  /etc/apk/keys/%s", k);
	}
	dd_buf_release(&repos);
	dd_buf_release(&keys);
	return rc;
}

/* The SPDX SBOM inside the image, where scanners look for it. */
static int put_sbom(struct build *b, struct dd_rootfs *r, const struct dd_plan *p,
		    size_t n_crust, int64_t created)
{
	struct dd_buf text = DD_BUF_INIT, path = DD_BUF_INIT;
	int rc = dd_sbom_contents(&b->cat, p, n_crust, created, b->job.name, b->job.tag, &text);

	dd_buf_addf(&path, "%s/%s.spdx.json", DD_IMAGE_SBOM_DIR, b->job.name);
	if (!rc)
		rc = dd_rootfs_put_file(r, path.ptr, 0644, 0, 0, text.ptr, text.len);
	if (!rc)
		logf_(b, "SBOM inside the image (%s): /%s", p->arch, path.ptr);
	dd_buf_release(&text);
	dd_buf_release(&path);
	return rc;
}

/* ---- layers ---------------------------------------------------------------- */

struct layer_job {
	const struct dd_pkgset *ps;
	struct dd_tree *tree;
	const struct dd_map *winners;
	size_t from, to;    /* packages streamed into this layer */
	bool top;           /* the last layer: job settings, the whole apk db */
	int64_t mtime;
	enum dd_codec codec;
	/* layering by origin, top layer: the packages streamed into it and
	 * those the layers below hold (instead of from, to) */
	const int *list, *below;
	size_t n_list, n_below;
};

/* Add the plan's package at pos to the layer r writes, and log it. */
static int install(struct build *b, struct dd_rootfs *r, const struct dd_plan *p, size_t pos)
{
	const struct dd_apk_pkg *pkg = &b->cat.pkgs[p->pkgs[pos].cat];
	int rc = dd_rootfs_add_package(r, (int)pos);

	if (!rc)
		logf_(b, "installed %s-%s (%s, sha256:%s)", pkg->name, pkg->version,
		      dd_plan_role_str(p->pkgs[pos].role), b->cat.info[p->pkgs[pos].cat].sha256);
	return rc;
}

static int write_layer(struct build *b, const struct layer_job *lj, struct dd_blob_desc *out)
{
	struct dd_layer_writer lw;
	struct dd_rootfs r = { lj->tree, &lw, lj->ps, lj->winners, lj->mtime, 0,
			       check_deadline, b, 0 };
	const struct dd_plan *p = lj->ps->plan;
	int rc = dd_layer_begin(&lw, b->blobs, lj->codec, b->threads);

	if (rc)
		return rc;
	lw.check = check_deadline;
	lw.check_ctx = b;
	if (lj->list) {
		rc = dd_rootfs_preload_list(&r, lj->below, lj->n_below, false);
		for (size_t k = 0; k < lj->n_list && !rc; k++)
			rc = install(b, &r, p, (size_t)lj->list[k]);
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
		rc = install(b, &r, p, i);
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
		logf_(b, "layer %s: %llu entries, %llu bytes (%llu uncompressed), diff_id %s",
		      out->digest, (unsigned long long)r.entries, (unsigned long long)out->size,
		      (unsigned long long)out->usize, out->diff_id);
	return rc;
}

static json_t *layer_json(const struct dd_blob_desc *d, const char *part, size_t n_pkgs,
			  bool cached)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:b}", "digest", d->digest,
			 "diff_id", d->diff_id, "media_type", d->media_type, "size",
			 (json_int_t)d->size, "uncompressed_size", (json_int_t)d->usize, "holds",
			 part, "packages", (json_int_t)n_pkgs, "from_cache", cached);
}

/* ---- image documents ------------------------------------------------------- */

static int image_config(struct build *b, const char *arch, int64_t created,
			const struct dd_blob_desc *layers, size_t n_layers,
			const char **history, json_t **out)
{
	const struct dd_job *j = &b->job;
	const char *goarch, *variant;
	json_t *cfg = json_object(), *env = json_array(), *diff = json_array(),
	       *hist = json_array(), *words;
	char when[32];
	bool has_path = false;
	int rc;

	dd_oci_platform(arch, &goarch, &variant);
	dd_time_format(created, when);
	if (j->entrypoint) {
		if ((rc = dd_split_words(j->entrypoint, &words))) {
			dd_error_prefix(rc, "%s: entrypoint.command", j->file);
			goto fail;
		}
		json_object_set_new(cfg, "Entrypoint", words);
	}
	if (j->cmd) {
		if ((rc = dd_split_words(j->cmd, &words))) {
			dd_error_prefix(rc, "%s: cmd", j->file);
			goto fail;
		}
		json_object_set_new(cfg, "Cmd", words);
	}
	for (size_t i = 0; i < j->n_environment; i++) {
		struct dd_buf kv = DD_BUF_INIT;

		has_path |= !strcmp(j->environment[i].key, "PATH");
		dd_buf_addf(&kv, "%s=%s", j->environment[i].key, j->environment[i].value);
		json_array_append_new(env, json_string(kv.ptr));
		dd_buf_release(&kv);
	}
	if (!has_path)
		json_array_append_new(env, json_string("PATH=/usr/local/sbin:/usr/local/bin:"
							"/usr/sbin:/usr/bin:/sbin:/bin"));
	json_object_set_new(cfg, "Env", env);
	env = NULL;
	if (j->run_as)
		json_object_set_new(cfg, "User", json_string(j->run_as));
	if (j->work_dir)
		json_object_set_new(cfg, "WorkingDir", json_string(j->work_dir));
	if (j->stop_signal)
		json_object_set_new(cfg, "StopSignal", json_string(j->stop_signal));
	if (j->n_annotations) {
		json_t *l = json_object();

		for (size_t i = 0; i < j->n_annotations; i++)
			json_object_set_new(l, j->annotations[i].key,
					    json_string(j->annotations[i].value));
		json_object_set_new(cfg, "Labels", l);
	}
	if (j->n_volumes) {
		json_t *v = json_object();

		for (size_t i = 0; i < j->n_volumes; i++)
			json_object_set_new(v, j->volumes[i], json_object());
		json_object_set_new(cfg, "Volumes", v);
	}
	for (size_t i = 0; i < n_layers; i++) {
		json_array_append_new(diff, json_string(layers[i].diff_id));
		json_array_append_new(hist, json_pack("{s:s, s:s, s:s}", "created", when,
						      "created_by", history[i], "comment",
						      "drydock " DD_VERSION));
	}
	*out = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:o}", "architecture", goarch,
			 "os", "linux", "created", when, "config", cfg, "rootfs", "type",
			 "layers", "diff_ids", diff, "history", hist);
	if (variant)
		json_object_set_new(*out, "variant", json_string(variant));
	return 0;
fail:
	json_decref(cfg);
	json_decref(env);
	json_decref(diff);
	json_decref(hist);
	return rc;
}

static int put_json(struct build *b, json_t *j, const char *media_type, struct dd_blob_desc *d)
{
	size_t len;
	char *s = dd_oci_dumps(j, &len);
	int rc = dd_blob_put(b->blobs, s, len, media_type, d);

	free(s);
	return rc;
}

static json_t *platform_json(const char *arch)
{
	const char *goarch, *variant;
	json_t *p;

	dd_oci_platform(arch, &goarch, &variant);
	p = json_pack("{s:s, s:s}", "architecture", goarch, "os", "linux");
	if (variant)
		json_object_set_new(p, "variant", json_string(variant));
	return p;
}

/* ---- provenance ---------------------------------------------------------------- */

/* A package blob, and the bundle that brought it, as resolved dependencies. */
static void add_dependency(struct build *b, const struct dd_apk_pkg *pkg,
			   const struct dd_catalog_pkg *info, const char *arch)
{
	struct dd_buf purl = DD_BUF_INIT, name = DD_BUF_INIT;

	if (json_object_get(b->deps, info->sha256))
		return; /* a noarch package in another architecture's image */
	dd_purl(&purl, info->channel, pkg, arch);
	dd_buf_addf(&name, "%s-%s.apk", pkg->name, pkg->version);
	json_object_set_new(b->deps, info->sha256, json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "uri",
						 purl.ptr, "name", name.ptr, "digest", "sha256",
						 info->sha256, "annotations", "kind", "package",
						 "bundle", info->bundle));
	if (!json_object_get(b->bundles, info->bundle)) {
		dd_buf_reset(&name);
		dd_buf_addf(&name, "urn:drydock:bundle:%s:%lld", info->channel,
			    (long long)info->sequence);
		json_object_set_new(b->bundles, info->bundle, json_pack(
			"{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:I}}", "uri", name.ptr, "name",
			"manifest.json", "digest", "sha256", info->bundle, "annotations", "kind",
			"bundle-manifest", "channel", info->channel, "sequence",
			(json_int_t)info->sequence));
	}
	dd_buf_release(&purl);
	dd_buf_release(&name);
}

static json_t *subject(const char *name, const char *digest)
{
	return json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256",
			 digest + (strncmp(digest, "sha256:", 7) ? 0 : 7));
}

/* The in-toto statement of this run, for subjects. */
static json_t *statement(struct build *b, json_t *subjects)
{
	const struct dd_job *j = &b->job;
	json_t *ext, *in, *deps = json_array(), *content, *v;
	char host[256] = "localhost", finished[40];
	const char *key;

	dd_time_wall_ms(finished);
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	content = json_stringn(j->text.ptr ? j->text.ptr : "", j->text.len);
	ext = json_pack("{s:{s:s, s:s}}", "job", "path", j->file, "sha256", j->sha256);
	if (content) {
		json_object_set_new(json_object_get(ext, "job"), "content", content);
	}
	if (j->n_includes) {
		json_t *incs = json_array();

		for (size_t i = 0; i < j->n_includes; i++) {
			const struct dd_job_include *inc = &j->includes[i];
			json_t *o = json_pack("{s:s, s:s, s:s}", "include", inc->name, "path",
					      inc->path, "sha256", inc->sha256);

			json_object_set_new(o, "content",
					    json_stringn(inc->text.ptr ? inc->text.ptr : "",
							 inc->text.len));
			json_array_append_new(incs, o);
		}
		json_object_set_new(json_object_get(ext, "job"), "includes", incs);
	}
	if (b->env_epoch)
		json_object_set_new(ext, "SOURCE_DATE_EPOCH", json_integer(b->epoch));
	in = json_pack("{s:{s:b, s:I}, s:{s:s, s:s, s:i, s:b, s:s}}", "policy", "allow_unguarded",
		       j->allow_unguarded, "timeout_ms", (json_int_t)j->timeout_ms, "settings",
		       "compressor", dd_codec_describe(j->compression == DD_COMPRESS_ZSTD
							? DD_CODEC_ZSTD : DD_CODEC_GZIP),
		       "layers", j->layering == DD_LAYERING_ORIGIN ? "origin"
				 : j->layers == DD_LAYERS_SPLIT ? "split" : "single", "threads",
		       b->threads, "layer_cache", !b->o->no_cache, "mirror",
		       dd_store_root(b->store));
	if (j->layering == DD_LAYERING_ORIGIN)
		json_object_set_new(json_object_get(in, "settings"), "layer_budget",
				    json_integer(j->layer_budget));
	if (b->cat.has_entitlement)
		json_object_set_new(json_object_get(in, "policy"), "entitlement", json_pack(
			"{s:s, s:I, s:s}", "organization", b->cat.organization, "version",
			(json_int_t)b->cat.ent_version, "sha256", b->cat.ent_sha256));
	json_object_foreach(b->deps, key, v)
		json_array_append(deps, v);
	json_object_foreach(b->bundles, key, v)
		json_array_append(deps, v);
	if (b->cat.has_entitlement) {
		char uri[64];

		snprintf(uri, sizeof(uri), "urn:drydock:entitlement:%lld",
			 (long long)b->cat.ent_version);
		json_array_append_new(deps, json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s}}",
						      "uri", uri, "name", "entitlements.json",
						      "digest", "sha256", b->cat.ent_sha256,
						      "annotations", "kind", "entitlement-manifest",
						      "organization", b->cat.organization, "bundle",
						      b->cat.ent_bundle));
	}
	{
		struct dd_buf id = DD_BUF_INIT;
		json_t *st;

		dd_buf_addf(&id, "urn:drydock:builder:%s", host);
		st = json_pack("{s:s, s:o, s:s, s:{s:{s:s, s:o, s:o, s:o}, s:{s:{s:s, s:{s:s}}, "
			       "s:{s:s, s:s, s:s}}}}", "_type", DD_INTOTO_STATEMENT, "subject",
			       subjects, "predicateType", DD_SLSA_PROVENANCE, "predicate",
			       "buildDefinition", "buildType", DD_BUILD_TYPE, "externalParameters",
			       ext, "internalParameters", in, "resolvedDependencies", deps,
			       "runDetails", "builder", "id", id.ptr, "version", "drydock",
			       DD_VERSION, "metadata", "invocationId", b->run_id, "startedOn", b->started,
			       "finishedOn", finished);
		dd_buf_release(&id);
		return st;
	}
}

/* provenance.intoto.json over the image, its archive, its SBOMs and its
 * VEX documents. */
static int write_provenance(struct build *b, const struct dd_blob_desc *top,
			    const struct dd_blob_desc *manifests, const char *archive_sha)
{
	static const char *const files[] = { "sbom.spdx.json", "sbom.cdx.json",
					     DD_VEX_OPENVEX_FILE, DD_VEX_CDX_FILE };
	size_t n_files = dd_vex_count(&b->vex) ? 4 : 2;
	json_t *subjects = json_array(), *st, *signer;
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	json_array_append_new(subjects, subject(b->job.tag, top->digest));
	if (b->job.n_archs > 1) {
		for (size_t a = 0; a < b->job.n_archs; a++) {
			dd_buf_reset(&path);
			dd_buf_addf(&path, "%s %s", b->job.tag, b->job.archs[a]);
			json_array_append_new(subjects, subject(path.ptr, manifests[a].digest));
		}
	}
	json_array_append_new(subjects, subject("image.oci.tar", archive_sha));
	for (size_t i = 0; i < n_files && !rc; i++) {
		char hex[65];

		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", b->dir, files[i]);
		if (!(rc = dd_file_sha256(path.ptr, hex, NULL)))
			json_array_append_new(subjects, subject(files[i], hex));
	}
	dd_buf_release(&path);
	if (rc) {
		json_decref(subjects);
		return rc;
	}
	st = statement(b, subjects);
	rc = dd_provenance_write(b->dir, st, b->signing ? &b->key : NULL);
	json_decref(st);
	if (rc)
		return rc;
	signer = json_pack("{s:s, s:b}", "file", DD_PROVENANCE_FILE, "signed", b->signing);
	if (b->signing) {
		json_object_set_new(signer, "key", json_pack("{s:s, s:s, s:s%}", "kind",
							     dd_sigkey_kind_str(b->key.kind),
							     "fingerprint", b->key.fingerprint,
							     "public_key", b->key.public_key.ptr,
							     b->key.public_key.len));
		logf_(b, "provenance: %s signed by %s key %s", DD_PROVENANCE_FILE,
		      dd_sigkey_kind_str(b->key.kind), b->key.fingerprint);
	} else {
		warn(b, "the provenance is not signed (no --sign key given); drydock verify "
		     "will refuse it");
	}
	json_object_set_new(b->result, "provenance", signer);
	return 0;
}

/* ---- advisories ------------------------------------------------------------- */

/* The security databases the advisories come from, in the log. */
static int max_age(const struct build *b)
{
	return b->o->max_age_days > 0 ? b->o->max_age_days : DD_ADV_MAX_AGE_DAYS;
}

static int load_advisories(struct build *b)
{
	int64_t now = dd_time_now();
	struct dd_buf line = DD_BUF_INIT;
	int rc = dd_adv_db_load(b->store, &b->adv);

	if (rc)
		return rc;
	if (!b->adv.n_feeds)
		logf_(b, "advisories: the mirror holds no security database");
	for (size_t i = 0; i < b->adv.n_feeds; i++) {
		const struct dd_adv_feed *f = &b->adv.feeds[i];

		dd_buf_reset(&line);
		dd_adv_feed_describe(f, &line);
		logf_(b, "advisories from the %s sha256:%s", line.ptr, f->sha256);
		if (dd_adv_feed_stale(f, now, max_age(b)))
			warn(b, "security database %s of channel %s is %.1f days old (more than "
			     "%d): advisories published since are not known here; import a newer "
			     "bundle", f->path, f->channel, (double)(now - f->created) / 86400.0,
			     max_age(b));
	}
	dd_buf_release(&line);
	return 0;
}

/* What the security databases say of the packages of plan p, built for
 * arch as manifest: into the log and the VEX statements; returns the
 * arch's {"counts", "items"} for result.json, or NULL without databases. */
static json_t *advisories(struct build *b, const char *arch, const char *manifest,
			  const struct dd_plan *p)
{
	struct dd_adv_pkg *pkgs;
	struct dd_adv_report r;
	struct dd_buf line = DD_BUF_INIT;
	json_t *out = NULL;
	char **purls;

	if (!b->adv.n_feeds)
		return NULL;
	pkgs = dd_adv_plan_pkgs(&b->cat, p);
	purls = dd_xcalloc(p->n + 1, sizeof(char *));
	for (size_t i = 0; i < p->n; i++) {
		struct dd_buf pu = DD_BUF_INIT;

		dd_purl(&pu, b->cat.info[p->pkgs[i].cat].channel, &b->cat.pkgs[p->pkgs[i].cat],
			arch);
		purls[i] = pu.ptr;
	}
	if (!dd_adv_analyze(&b->adv, &b->cat, pkgs, p->n, &r)) {
		json_t *items = dd_adv_items_json(&b->adv, &b->cat, pkgs, &r);

		dd_adv_counts_describe(&r, &line);
		logf_(b, "advisories (%s): %s", arch, line.ptr);
		for (size_t i = 0; i < r.n; i++) {
			dd_buf_reset(&line);
			dd_adv_item_describe(&b->cat, pkgs, &r.items[i], &line);
			logf_(b, "  %s", line.ptr);
		}
		for (int k = 0; k < DD_ADV_N_STATES; k++)
			b->adv_count[k] += r.count[k];
		out = json_pack("{s:o, s:o}", "counts", dd_adv_counts_json(&r), "items", items);
		dd_vex_add_image(&b->vex, b->job.name, manifest, arch, &b->adv, &b->cat, pkgs,
				 purls, &r);
		dd_adv_report_release(&r);
	}
	for (size_t i = 0; i < p->n; i++)
		free(purls[i]);
	free(purls);
	free(pkgs);
	dd_buf_release(&line);
	return out;
}

/* ---- layering by origin ------------------------------------------------------ */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = dd_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

struct origin_group {
	const char *origin;  /* the first origin of the group */
	size_t n_origins;
	uint64_t size;       /* installed bytes */
	int *pos;            /* plan positions, in plan order */
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
	g->pos = dd_xrealloc(g->pos, (g->n + 1) * sizeof(*g->pos));
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
			g = dd_xrealloc(g, (n + 1) * sizeof(*g));
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

	dd_buf_addf(&s, "%s\norigin\n%s\n%s\n%lld\n%s\n", LAYER_FORMAT,
		    dd_codec_describe(codec), p->arch, (long long)mtime, context);
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
	struct dd_rootfs r = { &tree, &lw, ps, &p->owners, mtime, 0, check_deadline, b, 0 };
	char context[65], key[65];
	int rc = dd_rootfs_preload_list(&r, below, n_below, true);

	*cached = false;
	if (rc)
		goto out;
	dd_tree_digest(&tree, context);
	origin_key(b, p, g->pos, g->n, mtime, codec, context, key);
	if (!b->o->no_cache && (*cached = cache_get(b, key, out))) {
		out->media_type = dd_layer_media_type(codec);
		logf_(b, "layer of origin %s (%zu packages) %s taken from the layer cache (%s)",
		      g->origin, g->n, out->digest, key);
		goto out;
	}
	if ((rc = dd_layer_begin(&lw, b->blobs, codec, b->threads)))
		goto out;
	lw.check = check_deadline;
	lw.check_ctx = b;
	for (size_t k = 0; k < g->n && !rc; k++)
		rc = install(b, &r, p, (size_t)g->pos[k]);
	if (!rc)
		rc = dd_layer_finish(&lw, b->blobs, out);
	else
		dd_layer_abort(&lw);
	if (rc)
		goto out;
	logf_(b, "layer of origin %s (%zu packages) %s: %llu entries, %llu bytes (%llu "
	      "uncompressed), compressed now", g->origin, g->n, out->digest,
	      (unsigned long long)r.entries, (unsigned long long)out->size,
	      (unsigned long long)out->usize);
	if (!b->o->no_cache)
		cache_put(b, key, out, g->n);
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
	if (*key && !b->o->no_cache && (*cached = cache_get(b, key, out))) {
		out->media_type = dd_layer_media_type(lj->codec);
		logf_(b, "top layer %s taken from the layer cache (%s)", out->digest, key);
		return 0;
	}
	rc = write_layer(b, lj, out);
	if (!rc && *key && !b->o->no_cache)
		cache_put(b, key, out, lj->n_list);
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
static int origin_layers(struct build *b, const struct dd_pkgset *ps, enum dd_codec codec,
			 struct dd_blob_desc **layers, char ***history, size_t *n,
			 json_t *jlayers)
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
	logf_(b, "layering by origin, budget %u: %zu layers", b->job.layer_budget, k);
	for (size_t i = 0; i + 1 < k && !rc; i++) {
		bool cached;
		char part[160];

		rc = origin_layer(b, ps, &g[i], below, n_below, codec, &(*layers)[i], &cached);
		if (rc)
			break;
		memcpy(below + n_below, g[i].pos, g[i].n * sizeof(int));
		n_below += g[i].n;
		snprintf(part, sizeof(part), "origin %s", g[i].origin);
		(*history)[i] = xasprintf("drydock build: packages of origin %s (%zu)",
					     g[i].origin, g[i].n);
		json_array_append_new(jlayers, layer_json(&(*layers)[i], part, g[i].n, cached));
		(*n)++;
	}
	if (!rc) {
		struct layer_job lj = { ps, &tree, &p->owners, 0, p->n, true,
					epoch_of_list(b, p, g[k - 1].pos, g[k - 1].n), codec,
					g[k - 1].pos, below, g[k - 1].n, n_below };
		bool cached;

		/* the top's epoch: its own packages', or the image's when it has none */
		if (!g[k - 1].n)
			lj.mtime = epoch_of(b, p, p->n);
		rc = origin_top(b, &lj, &(*layers)[k - 1], &cached);
		if (!rc) {
			(*history)[k - 1] = xasprintf("drydock build: %zu origins (%zu packages) "
							 "and the job's settings",
							 g[k - 1].n_origins, g[k - 1].n);
			json_array_append_new(jlayers, layer_json(&(*layers)[k - 1], "top",
								  g[k - 1].n, cached));
			(*n)++;
		}
	}
	dd_tree_release(&tree);
	free(below);
	groups_free(g, k);
	return rc;
}

/* Build one architecture: layers, config, manifest. */
static int build_arch(struct build *b, const char *arch, struct dd_blob_desc *manifest)
{
	struct dd_plan p;
	struct dd_pkgset ps = { b->store, &b->cat, &p };
	struct dd_map crust_win = DD_MAP_INIT;
	struct dd_tree tree = { DD_MAP_INIT };
	struct dd_blob_desc *layers = dd_xcalloc(2, sizeof(*layers)), cfg;
	char **history = dd_xcalloc(2, sizeof(char *));
	json_t *jlayers = json_array(), *jpkgs = json_array(), *config = NULL, *m, *adv;
	enum dd_codec codec = b->job.compression == DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD
								       : DD_CODEC_GZIP;
	bool split = b->job.layers == DD_LAYERS_SPLIT;
	size_t n_crust, n_layers = 0;
	int64_t crust_mtime, mtime;
	int rc = dd_plan_make(b->store, &b->cat, &b->job, arch, &p);

	if (rc)
		goto out;
	for (size_t i = 0; i < p.n_warnings; i++)
		warn(b, "%s: %s", arch, p.warnings[i]);
	if (!p.ok) {
		struct dd_buf why = DD_BUF_INIT;

		for (size_t i = 0; i < p.n_errors; i++) {
			logf_(b, "plan error (%s): %s", arch, p.errors[i]);
			dd_buf_addf(&why, "%s%s", i ? "; " : "", p.errors[i]);
		}
		while (why.len && why.ptr[why.len - 1] == '\n')
			why.ptr[--why.len] = 0;
		rc = dd_error(DD_E_FORMAT, "%s will not build for %s: %s", b->job.file, arch,
			      why.ptr ? why.ptr : "the plan failed");
		dd_buf_release(&why);
		goto out;
	}
	split = split && b->job.layering == DD_LAYERING_NONE;
	n_crust = split ? p.n_crust : 0;
	crust_mtime = epoch_of(b, &p, n_crust);
	mtime = epoch_of(b, &p, p.n);
	logf_(b, "plan (%s): %zu packages, %zu in the crust layer, epoch %lld", arch, p.n,
	      n_crust, (long long)mtime);
	for (size_t i = 0; i < p.n; i++) {
		const struct dd_apk_pkg *pkg = &b->cat.pkgs[p.pkgs[i].cat];
		const struct dd_catalog_pkg *info = &b->cat.info[p.pkgs[i].cat];

		logf_(b, "  %s %s-%s sha256:%s from %s#%lld %s%s%s", dd_plan_role_str(p.pkgs[i].role),
		      pkg->name, pkg->version, info->sha256, info->channel, (long long)info->sequence,
		      info->guarded ? "guarded" : "UNGUARDED", p.pkgs[i].by ? " by " : "",
		      p.pkgs[i].by ? p.pkgs[i].by : "");
		add_dependency(b, pkg, info, arch);
		json_array_append_new(jpkgs, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name",
						       pkg->name, "version", pkg->version, "role",
						       dd_plan_role_str(p.pkgs[i].role), "sha256",
						       info->sha256, "guarded", info->guarded,
						       "crust_layer", i < n_crust));
	}
	/* the crust layer is made as if the crust were all: its own owners
	 * (the plan held, so there are no conflicts among them) */
	if ((rc = dd_plan_owners(b->store, &b->cat, &p, n_crust, &crust_win)))
		goto out;
	if (b->job.layering == DD_LAYERING_ORIGIN) {
		free(layers);
		free(history);
		layers = NULL;
		history = NULL;
		rc = origin_layers(b, &ps, codec, &layers, &history, &n_layers, jlayers);
		if (rc)
			goto out;
		goto config;
	}
	if (split) {
		struct layer_job lj = { &ps, &tree, &crust_win, 0, n_crust, false, crust_mtime,
					codec, NULL, NULL, 0, 0 };
		char key[65];
		bool cached = false;

		cache_key(b, &p, n_crust, crust_mtime, codec, key);
		if (!b->o->no_cache && (cached = cache_get(b, key, &layers[0]))) {
			layers[0].media_type = dd_layer_media_type(codec);
			logf_(b, "crust layer %s taken from the layer cache (%s)", layers[0].digest,
			      key);
		} else {
			rc = write_layer(b, &lj, &layers[0]);
			if (rc)
				goto out;
			if (!b->o->no_cache)
				cache_put(b, key, &layers[0], n_crust);
		}
		history[n_layers] = xasprintf("drydock build: crust (%zu packages of image %s)",
						 n_crust, b->job.base ? b->job.base : "-");
		json_array_append_new(jlayers, layer_json(&layers[0], "crust", n_crust, cached));
		n_layers++;
		dd_tree_release(&tree);
		tree = (struct dd_tree){ DD_MAP_INIT };
	}
	{
		struct layer_job lj = { &ps, &tree, &p.owners, n_crust, p.n, true, mtime, codec,
					NULL, NULL, 0, 0 };

		rc = write_layer(b, &lj, &layers[n_layers]);
		if (rc)
			goto out;
		history[n_layers] = xasprintf("drydock build: %s (%zu packages) and the job's "
						 "settings", split ? "toppings" : "all packages",
						 p.n - n_crust);
		json_array_append_new(jlayers, layer_json(&layers[n_layers],
							  split ? "toppings" : "all", p.n - n_crust,
							  false));
		n_layers++;
	}
config:
	rc = image_config(b, arch, mtime, layers, n_layers, (const char **)history, &config);
	if (rc)
		goto out;
	rc = put_json(b, config, DD_OCI_CONFIG, &cfg);
	config = NULL;
	if (rc)
		goto out;
	m = json_pack("{s:i, s:s, s:o, s:[]}", "schemaVersion", 2, "mediaType", DD_OCI_MANIFEST,
		      "config", dd_oci_descriptor(&cfg), "layers");
	for (size_t i = 0; i < n_layers; i++)
		json_array_append_new(json_object_get(m, "layers"), dd_oci_descriptor(&layers[i]));
	if (b->job.n_annotations) {
		json_t *a = json_object();

		for (size_t i = 0; i < b->job.n_annotations; i++)
			json_object_set_new(a, b->job.annotations[i].key,
					    json_string(b->job.annotations[i].value));
		json_object_set_new(m, "annotations", a);
	}
	rc = put_json(b, m, DD_OCI_MANIFEST, manifest);
	if (rc)
		goto out;
	logf_(b, "image (%s): manifest %s, config %s", arch, manifest->digest, cfg.digest);
	dd_sbom_add_image(&b->sbom, b->job.tag, manifest->digest, &b->cat, &p, n_crust, mtime);
	adv = advisories(b, arch, manifest->digest, &p);
	json_array_append_new(b->archs,
			      json_pack("{s:s, s:o, s:s, s:I, s:s, s:I, s:I, s:I, s:O, s:O}",
					"arch", arch, "platform", platform_json(arch),
					"manifest", manifest->digest, "manifest_size",
					(json_int_t)manifest->size, "config", cfg.digest,
					"epoch", (json_int_t)mtime, "installed_size",
					(json_int_t)p.installed_size, "package_count",
					(json_int_t)p.n, "layers", jlayers, "packages", jpkgs));
	if (adv)
		json_object_set_new(json_array_get(b->archs, json_array_size(b->archs) - 1),
				    "advisories", adv);
out:
	for (size_t i = 0; history && i < n_layers; i++)
		free(history[i]);
	free(history);
	free(layers);
	json_decref(jlayers);
	json_decref(jpkgs);
	json_decref(config);
	dd_tree_release(&tree);
	dd_map_release(&crust_win, NULL);
	dd_plan_release(&p);
	return rc;
}

/* ---- inputs: what decides the image ------------------------------------------ */

#define INPUTS_FORMAT "drydock-inputs/1"
#define UNCHANGED 1 /* do_build: the inputs equal those of the last good run */

/* The keys in etc/apk/keys (image/skeleton.h) are inputs too: "key NAME
 * SHA256" for each signer's key file in the mirror. */
static void signing_keys(struct dd_store *store, const struct dd_catalog *cat,
			 const struct dd_plan *p, struct dd_buf *s)
{
	struct dd_map seen = DD_MAP_INIT;
	struct dd_buf path = DD_BUF_INIT;

	for (size_t i = 0; i < p->n; i++) {
		const char *k = cat->info[p->pkgs[i].cat].signer;
		char hex[65];

		if (!k || !*k || strchr(k, '/') || dd_map_get(&seen, k))
			continue;
		*dd_map_put(&seen, k) = (void *)1;
		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/keys/apk/%s", dd_store_root(store), k);
		if (dd_file_sha256(path.ptr, hex, NULL))
			snprintf(hex, sizeof(hex), "-");
		dd_buf_addf(s, "key %s %s\n", k, hex);
	}
	dd_error_clear();
	dd_map_release(&seen, NULL);
	dd_buf_release(&path);
}

/*
 * The inputs key (build.h), from a plan of every architecture.  A job
 * that will not plan gets no key: it is built (and fails) every time.
 */
static int inputs_of(const struct dd_build_opts *o, bool env_epoch, struct dd_store *store,
		     const struct dd_catalog *cat, const struct dd_job *job, char key[65])
{
	struct dd_buf s = DD_BUF_INIT;
	int rc = 0;

	*key = 0;
	dd_buf_addf(&s, "%s\n%s\njob %s\nentitlement %s\nepoch %s\nsigner %s\n", INPUTS_FORMAT,
		    DD_VERSION, job->sha256, cat->ent_sha256,
		    env_epoch ? o->source_date_epoch : "-", o->sign_key ? o->sign_key : "-");
	for (size_t i = 0; i < job->n_includes; i++)
		dd_buf_addf(&s, "include %s\n", job->includes[i].sha256);
	for (size_t a = 0; a < job->n_archs && !rc; a++) {
		struct dd_plan p;
		bool ok;

		if ((rc = dd_plan_make(store, cat, job, job->archs[a], &p)))
			break;
		ok = p.ok;
		dd_buf_addf(&s, "arch %s %zu\n", job->archs[a], p.n_crust);
		for (size_t i = 0; i < p.n; i++)
			dd_buf_addf(&s, "%s %s\n", dd_plan_role_str(p.pkgs[i].role),
				    cat->info[p.pkgs[i].cat].sha256);
		signing_keys(store, cat, &p, &s);
		dd_plan_release(&p);
		if (!ok)
			goto out;
	}
	if (!rc)
		dd_sha256_hex(s.ptr, s.len, key);
out:
	dd_buf_release(&s);
	return rc;
}

static int inputs_key(struct build *b, char key[65])
{
	return inputs_of(b->o, b->env_epoch, b->store, &b->cat, &b->job, key);
}

/* Does the run folder dir still hold what a run delivers?  A run whose
 * image or evidence was deleted is not up to date, whatever its inputs. */
static bool run_complete(const char *dir)
{
	static const char *const need[] = { "image/index.json", "image.oci.tar",
					    "sbom.spdx.json", "sbom.cdx.json",
					    DD_PROVENANCE_FILE };
	struct dd_buf p = DD_BUF_INIT;
	struct stat st;
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(need) / sizeof(need[0]); i++) {
		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", dir, need[i]);
		ok = !stat(p.ptr, &st) && S_ISREG(st.st_mode);
	}
	dd_buf_release(&p);
	return ok;
}

/* Is OUT/<job>/latest a good run with these inputs, its outputs all
 * there?  Then copy what identifies it into result. */
static bool unchanged_in(const char *out, const char *name, const char *key, json_t *result)
{
	struct dd_buf path = DD_BUF_INIT;
	json_t *last;
	const char *st, *in;
	bool same = false;

	dd_buf_addf(&path, "%s/%s/latest/result.json", out, name);
	last = json_load_file(path.ptr, 0, NULL);
	st = json_string_value(json_object_get(last, "status"));
	in = json_string_value(json_object_get(last, "inputs"));
	dd_buf_reset(&path);
	dd_buf_addf(&path, "%s/%s/latest", out, name);
	if (st && in && !strcmp(st, "succeeded") && !strcmp(in, key) && run_complete(path.ptr)) {
		static const char *const keep[] = { "digest", "media_type", "archive_sha256",
						    "archs", "provenance", "warnings" };

		same = true;
		json_object_set(result, "run", json_object_get(last, "run_id"));
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (json_object_get(last, keep[i]))
				json_object_set(result, keep[i], json_object_get(last, keep[i]));
	}
	json_decref(last);
	dd_buf_release(&path);
	return same;
}

static bool unchanged(struct build *b, const char *key)
{
	return unchanged_in(b->o->out, b->job.name, key, b->result);
}

/* The parts of result.json that say what the job is. */
static void describe_job(json_t *result, const struct dd_job *job)
{
	json_object_set_new(result, "job", json_pack("{s:s, s:s, s:s}", "file", job->file, "name",
						     job->name, "sha256", job->sha256));
	json_object_set_new(result, "tag", json_string(job->tag));
}

/* ... and which entitlement manifest it is built under. */
static void describe_entitlement(json_t *result, const struct dd_catalog *cat)
{
	json_object_set_new(result, "entitlement",
			    json_pack("{s:I, s:s}", "version", (json_int_t)cat->ent_version,
				      "sha256", cat->ent_sha256));
}

bool dd_build_up_to_date(const struct dd_build_opts *o, struct dd_store *store,
			 const struct dd_catalog *cat, const char *path, json_t **result)
{
	const char *sde = o->source_date_epoch;
	int64_t t0 = dd_time_mono_ms(), epoch;
	struct dd_job job;
	char key[65];
	json_t *r;
	bool same = false;

	*result = NULL;
	if ((sde && *sde && dd_epoch_parse(sde, &epoch)) ||
	    dd_job_load_flags(path, o->strict ? DD_JOB_STRICT : 0, &job)) {
		dd_error_clear();
		return false;
	}
	r = json_pack("{s:s}", "format", "drydock-result/1");
	describe_job(r, &job);
	describe_entitlement(r, cat);
	if (!inputs_of(o, sde && *sde, store, cat, &job, key) && *key) {
		json_object_set_new(r, "inputs", json_string(key));
		same = unchanged_in(o->out, job.name, key, r);
	}
	dd_error_clear();
	dd_job_release(&job);
	if (!same) {
		json_decref(r);
		return false;
	}
	json_object_set_new(r, "status", json_string(DD_BUILD_UP_TO_DATE));
	json_object_set_new(r, "seconds", json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
	*result = r;
	return true;
}

/* $DRYDOCK_TEST_HOOK (build.h): jobs that hang or crash, on demand. */
static void test_hook(const struct build *b)
{
	const char *h = getenv("DRYDOCK_TEST_HOOK");
	size_t n = strlen(b->job.name);

	while (h && *h) {
		size_t len = strcspn(h, ",");

		if (len > n && !strncmp(h, b->job.name, n) && h[n] == ':') {
			if (len - n - 1 == 5 && !strncmp(h + n + 1, "abort", 5))
				abort();
			if (len - n - 1 == 5 && !strncmp(h + n + 1, "sleep", 5))
				for (;;)
					sleep(60);
		}
		h += len + (h[len] == ',');
	}
}

/* ---- the run ---------------------------------------------------------------- */

/* The advisories in result.json, and the VEX documents beside the SBOMs. */
static int write_vex(struct build *b, const char *tag, const char *digest)
{
	struct dd_adv_report sum = { 0 };
	json_t *o;
	int rc;

	if (!b->adv.n_feeds)
		return 0;
	memcpy(sum.count, b->adv_count, sizeof(sum.count));
	o = json_pack("{s:o, s:o}", "secdbs", dd_adv_feeds_json(&b->adv, dd_time_now(), max_age(b)),
		      "counts", dd_adv_counts_json(&sum));
	json_object_set_new(b->result, "advisories", o);
	if (!dd_vex_count(&b->vex)) {
		logf_(b, "VEX: no advisory applies to the image's packages; no VEX documents");
		return 0;
	}
	rc = dd_vex_write(&b->vex, b->dir, b->job.name, tag, digest, b->sbom.created);
	if (rc)
		return rc;
	json_object_set_new(o, "vex", json_pack("[s, s]", DD_VEX_OPENVEX_FILE, DD_VEX_CDX_FILE));
	logf_(b, "VEX: %s (OpenVEX 0.2.0), %s (CycloneDX 1.6), %zu statements",
	      DD_VEX_OPENVEX_FILE, DD_VEX_CDX_FILE, dd_vex_count(&b->vex));
	return 0;
}

static int do_build(struct build *b, const char *path)
{
	struct dd_blob_desc *manifests, top;
	struct dd_buf image = DD_BUF_INIT, archive = DD_BUF_INIT;
	const char *tag;
	char sha[65];
	json_t *idx, *desc = NULL;
	int rc;

	if ((rc = dd_job_load_recorded(path, b->o->strict ? DD_JOB_STRICT : 0, b->o->includes,
				       b->o->n_includes, &b->job)))
		return rc;
	b->job_loaded = true;
	for (size_t i = 0; i < b->job.n_warnings; i++)
		warn(b, "%s", b->job.warnings[i]);
	b->deadline = dd_time_mono_ms() + b->job.timeout_ms;
	tag = b->job.tag;
	describe_job(b->result, &b->job);
	logf_(b, "job %s sha256:%s, tag %s", b->job.file, b->job.sha256, tag);
	for (size_t i = 0; i < b->job.n_includes; i++) {
		const struct dd_job_include *inc = &b->job.includes[i];

		logf_(b, "  includes %s sha256:%s", inc->path, inc->sha256);
		if (!json_object_get(json_object_get(b->result, "job"), "includes"))
			json_object_set_new(json_object_get(b->result, "job"), "includes",
					    json_array());
		json_array_append_new(json_object_get(json_object_get(b->result, "job"),
						      "includes"),
				      json_pack("{s:s, s:s, s:s}", "include", inc->name, "path",
						inc->path, "sha256", inc->sha256));
	}
	if ((rc = dd_store_open(b->o->mirror, 0, &b->store)))
		return rc;
	if ((rc = dd_catalog_load(b->store, &b->cat)))
		return rc;
	b->cat_loaded = true;
	if (b->pin) {
		if ((rc = dd_catalog_pin(b->store, &b->cat, b->pin)))
			return rc;
		logf_(b, "pinned to the recorded inputs: %zu package blobs, entitlement manifest "
		      "sha256:%s", b->cat.n, b->cat.has_entitlement ? b->cat.ent_sha256 : "(none)");
	}
	logf_(b, "mirror %s: %zu packages, entitlement manifest version %lld of %s", dd_store_root(b->store),
	      b->cat.n, (long long)b->cat.ent_version,
	      b->cat.organization ? b->cat.organization : "(none)");
	if ((rc = load_advisories(b)))
		return rc;
	logf_(b, "drydock %s, %s, %d thread(s)", DD_VERSION,
	      dd_codec_describe(b->job.compression == DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD
									 : DD_CODEC_GZIP),
	      b->threads);
	describe_entitlement(b->result, &b->cat);
	{
		char key[65];

		if ((rc = inputs_key(b, key)))
			return rc;
		snprintf(b->inputs, sizeof(b->inputs), "%s", key);
		if (*key) {
			json_object_set_new(b->result, "inputs", json_string(key));
			logf_(b, "inputs sha256:%s", key);
			if (b->o->skip_unchanged && unchanged(b, key))
				return UNCHANGED;
		}
	}
	test_hook(b);
	dd_buf_addf(&image, "%s/image", b->dir);
	manifests = dd_xcalloc(b->job.n_archs, sizeof(*manifests));
	for (size_t a = 0; a < b->job.n_archs && !rc; a++)
		rc = build_arch(b, b->job.archs[a], &manifests[a]);
	if (rc)
		goto out;
	if (b->job.n_archs == 1) {
		top = manifests[0];
		desc = dd_oci_descriptor(&top);
		json_object_set_new(desc, "platform", platform_json(b->job.archs[0]));
	} else {
		json_t *list = json_array();

		for (size_t a = 0; a < b->job.n_archs; a++) {
			json_t *d = dd_oci_descriptor(&manifests[a]);

			json_object_set_new(d, "platform", platform_json(b->job.archs[a]));
			json_array_append_new(list, d);
		}
		rc = put_json(b, json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
					   DD_OCI_INDEX, "manifests", list),
			      DD_OCI_INDEX, &top);
		if (rc)
			goto out;
		desc = dd_oci_descriptor(&top);
		logf_(b, "image index %s for %zu architectures", top.digest, b->job.n_archs);
	}
	if ((rc = dd_sbom_write(&b->sbom, b->dir, b->job.name, tag, top.digest)))
		goto out;
	logf_(b, "SBOMs: sbom.spdx.json (SPDX 2.3), sbom.cdx.json (CycloneDX 1.6)");
	if ((rc = write_vex(b, tag, top.digest)))
		goto out;
	json_object_set_new(desc, "annotations", json_pack("{s:s}", DD_OCI_REF_NAME, tag));
	idx = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", DD_OCI_INDEX,
			"manifests", desc);
	desc = NULL;
	if ((rc = dd_oci_write_layout(image.ptr, idx)))
		goto out;
	dd_buf_addf(&archive, "%s/image.oci.tar", b->dir);
	if ((rc = dd_oci_archive(image.ptr, archive.ptr, 0, sha)) || (rc = check_deadline(b)))
		goto out;
	logf_(b, "oci-archive image.oci.tar sha256:%s", sha);
	json_object_set_new(b->result, "digest", json_string(top.digest));
	json_object_set_new(b->result, "media_type", json_string(top.media_type));
	json_object_set_new(b->result, "archive_sha256", json_string(sha));
	rc = write_provenance(b, &top, manifests, sha);
out:
	json_decref(desc);
	free(manifests);
	dd_buf_release(&image);
	dd_buf_release(&archive);
	return rc;
}

/* Hold OUT/<job>/.lock for this run; then no .tmp- folder is alive. */
static int lock_job(const char *jobdir, int *fd)
{
	struct dd_buf path = DD_BUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc = 0;

	dd_buf_addf(&path, "%s/.lock", jobdir);
	*fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		rc = dd_error_errno("%s", path.ptr);
	} else if (fcntl(*fd, F_SETLK, &fl)) {
		fcntl(*fd, F_GETLK, &fl);
		rc = dd_error(DD_E_IO, "%s: another build of this job is running (pid %ld); "
			      "wait for it to finish", jobdir, (long)fl.l_pid);
		close(*fd);
		*fd = -1;
	}
	dd_buf_release(&path);
	if (rc)
		return rc;
	{
		DIR *d = opendir(jobdir);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, ".tmp-", 5))
				continue;
			dd_buf_reset(&path);
			dd_buf_addf(&path, "%s/%s", jobdir, de->d_name);
			dd_remove_tree(path.ptr);
		}
		if (d)
			closedir(d);
		dd_buf_release(&path);
	}
	return 0;
}

static int point_latest(const char *jobdir, const char *run_id)
{
	struct dd_buf tmp = DD_BUF_INIT, dst = DD_BUF_INIT;
	int rc = 0;

	dd_buf_addf(&tmp, "%s/.latest.tmp", jobdir);
	dd_buf_addf(&dst, "%s/latest", jobdir);
	unlink(tmp.ptr);
	if (symlink(run_id, tmp.ptr) || rename(tmp.ptr, dst.ptr))
		rc = dd_error_errno("%s", dst.ptr);
	dd_fsync_dir(jobdir);
	dd_buf_release(&tmp);
	dd_buf_release(&dst);
	return rc;
}

/* What a successful run holds besides build.log and result.json. */
static const char *const run_outputs[] = {
	"image", "image.oci.tar", "sbom.spdx.json", "sbom.cdx.json", DD_VEX_OPENVEX_FILE,
	DD_VEX_CDX_FILE, DD_PROVENANCE_FILE,
};

static int write_result(const char *dir, json_t *result)
{
	return dd_write_json(dir, "result.json", result, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
}

/*
 * Keep a failed run's log and result.json under the name fin, and set
 * the detail to err.  When they cannot be kept (a full disk), fin is
 * emptied, so that nothing names a folder that does not exist, and the
 * detail says why and which log was attempted.
 */
static void keep_failed(struct build *b, const char *tmp, struct dd_buf *fin,
			const struct dd_buf *logp, const char *err)
{
	char *why = NULL;
	int rc = 0;

	if (b->log && fclose(b->log) && !b->log_errno)
		b->log_errno = errno ? errno : EIO;
	b->log = NULL;
	rc = write_result(tmp, b->result);
	if (!rc && rename(tmp, fin->ptr))
		rc = dd_error_errno("cannot rename %s to %s", tmp, fin->ptr);
	if (rc) {
		why = dd_xstrdup(dd_error_detail());
		dd_error(rc, "%s; the run's log could not be kept (%s): what was written "
			 "of it is in %s until the next build of this job", err, why, logp->ptr);
		dd_buf_reset(fin);
	} else if (b->log_errno) {
		dd_error(DD_E_IO, "%s; the log %s/build.log is incomplete: %s", err, fin->ptr,
			 strerror(b->log_errno));
	} else {
		dd_error(DD_E_IO, "%s", err);
	}
	free(why);
}

/* record.intoto.json: build.log, result.json and the provenance, signed
 * once they are final (image/provenance.h). */
static int write_record(struct build *b, const char *dir)
{
	static const char *const files[] = { "build.log", "result.json", DD_PROVENANCE_FILE };
	json_t *subjects = json_array(), *st;
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < 3 && !rc; i++) {
		char hex[65];

		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/%s", dir, files[i]);
		if (!(rc = dd_file_sha256(path.ptr, hex, NULL)))
			json_array_append_new(subjects, subject(files[i], hex));
	}
	dd_buf_release(&path);
	if (rc) {
		json_decref(subjects);
		return rc;
	}
	st = json_pack("{s:s, s:o, s:s, s:{s:s, s:s}}", "_type", DD_INTOTO_STATEMENT, "subject",
		       subjects, "predicateType", DD_RECORD_TYPE, "predicate", "runId", b->run_id,
		       "status", "succeeded");
	rc = dd_dsse_write(dir, DD_RECORD_FILE, st, b->signing ? &b->key : NULL);
	json_decref(st);
	return rc;
}

int dd_build(const struct dd_build_opts *o, const char *path, json_t **result, char **run_dir)
{
	return dd_build_pinned(o, NULL, path, result, run_dir);
}

int dd_build_pinned(const struct dd_build_opts *o, const struct dd_catalog_pin *pin,
		    const char *path, json_t **result, char **run_dir)
{
	struct build b = { .o = o, .pin = pin };
	struct dd_buf jobdir = DD_BUF_INIT, tmp = DD_BUF_INIT, fin = DD_BUF_INIT,
		      logp = DD_BUF_INIT;
	char *name = NULL, id[40], started[40], finished[40];
	const char *sde = o->source_date_epoch;
	int64_t t0 = dd_time_mono_ms();
	int lock = -1, rc;

	*run_dir = NULL;
	b.result = json_object();
	b.warnings = json_array();
	b.archs = json_array();
	b.deps = json_object();
	b.bundles = json_object();
	dd_sbom_init(&b.sbom);
	dd_vex_init(&b.vex);
	b.threads = o->threads > 0 ? o->threads : dd_ncpus();
	/* the job name becomes OUT/<name>: checked before anything is made */
	if ((rc = dd_job_name(path, &name)))
		goto early;
	if (sde && *sde) {
		if ((rc = dd_epoch_parse(sde, &b.epoch)))
			goto early;
		b.env_epoch = true;
	}
	if (o->run_id)
		snprintf(id, sizeof(id), "%s", o->run_id);
	else
		dd_name_run_id(id);
	/* it names OUT/<job>/<run id>: a given one as much as a made one */
	if ((rc = dd_name_check("the run id", o->run_id ? o->run_id : id)))
		goto early;
	dd_time_wall_ms(started);
	snprintf(b.run_id, sizeof(b.run_id), "%s", id);
	snprintf(b.started, sizeof(b.started), "%s", started);
	if (o->sign_key) {
		if ((rc = dd_sigkey_open_signer(o->sign_key, o->gnupg_home, &b.key)))
			goto early;
		b.signing = true;
	}
	json_object_set_new(b.result, "format", json_string("drydock-result/1"));
	json_object_set_new(b.result, "run_id", json_string(id));
	dd_buf_addf(&jobdir, "%s/%s", o->out, name);
	if ((rc = dd_mkdirs(jobdir.ptr, 0755)) || (rc = lock_job(jobdir.ptr, &lock)))
		goto early;
	dd_buf_addf(&tmp, "%s/.tmp-%s", jobdir.ptr, id);
	b.dir = tmp.ptr;
	dd_buf_addf(&logp, "%s/image/blobs/sha256", tmp.ptr);
	if ((rc = dd_mkdirs(logp.ptr, 0755)))
		goto early;
	b.blobs = dd_xstrdup(logp.ptr);
	dd_buf_reset(&logp);
	dd_buf_addf(&logp, "%s/build.log", tmp.ptr);
	b.log = fopen(logp.ptr, "we");
	if (!b.log) {
		rc = dd_error_errno("%s", logp.ptr);
		goto early;
	}
	logf_(&b, "run %s of %s started", id, path);
	rc = do_build(&b, path);
	if (rc == UNCHANGED) {
		/* nothing was written: the run folder goes, latest stays */
		json_object_set_new(b.result, "status", json_string(DD_BUILD_UP_TO_DATE));
		json_object_del(b.result, "run_id");
		json_object_set_new(b.result, "seconds",
				    json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
		fclose(b.log);
		b.log = NULL;
		dd_remove_tree(tmp.ptr);
		rc = 0;
		goto early;
	}
	dd_time_wall_ms(finished);
	json_object_set_new(b.result, "status", json_string(rc ? "failed" : "succeeded"));
	json_object_set_new(b.result, "drydock_version", json_string(DD_VERSION));
	json_object_set_new(b.result, "compression",
			    json_string(dd_codec_describe(b.job_loaded && b.job.compression ==
							  DD_COMPRESS_ZSTD ? DD_CODEC_ZSTD
									   : DD_CODEC_GZIP)));
	json_object_set_new(b.result, "threads", json_integer(b.threads));
	json_object_set_new(b.result, "mirror", json_string(o->mirror));
	json_object_set_new(b.result, "started", json_string(started));
	json_object_set_new(b.result, "finished", json_string(finished));
	json_object_set_new(b.result, "seconds", json_real((double)(dd_time_mono_ms() - t0) / 1000.0));
	json_object_set_new(b.result, "archs", json_incref(b.archs));
	json_object_set_new(b.result, "warnings", json_incref(b.warnings));
	json_object_set_new(b.result, "errors", rc ? json_pack("[s]", dd_error_detail())
						   : json_array());
	if (b.timed_out)
		json_object_set_new(b.result, "timed_out", json_true());
	if (rc) {
		struct dd_buf junk = DD_BUF_INIT;
		char *err = dd_xstrdup(dd_error_detail());

		logf_(&b, "error: %s", err);
		logf_(&b, "run %s FAILED after %.3f s", id, (double)(dd_time_mono_ms() - t0) / 1000.0);
		/* a failed run keeps its log and result.json, nothing else */
		for (size_t i = 0; i < sizeof(run_outputs) / sizeof(run_outputs[0]); i++) {
			dd_buf_reset(&junk);
			dd_buf_addf(&junk, "%s/%s", tmp.ptr, run_outputs[i]);
			dd_remove_tree(junk.ptr);
		}
		dd_buf_release(&junk);
		dd_buf_addf(&fin, "%s/%s-failed", jobdir.ptr, id);
		keep_failed(&b, tmp.ptr, &fin, &logp, err);
		dd_fsync_dir(jobdir.ptr);
		free(err);
	} else {
		logf_(&b, "run %s succeeded in %.3f s: %s %s", id,
		      (double)(dd_time_mono_ms() - t0) / 1000.0, b.job.tag,
		      json_string_value(json_object_get(b.result, "digest")));
		dd_buf_addf(&fin, "%s/%s", jobdir.ptr, id);
		if ((fclose(b.log) || b.log_errno) && !rc)
			rc = dd_error(DD_E_IO, "%s: %s", logp.ptr,
				      strerror(b.log_errno ? b.log_errno : errno));
		b.log = NULL;
		dd_crash_point("before-publish");
		if (!rc)
			rc = write_result(tmp.ptr, b.result);
		if (!rc)
			rc = write_record(&b, tmp.ptr);
		if (!rc && rename(tmp.ptr, fin.ptr))
			rc = dd_error_errno("cannot rename %s to %s", tmp.ptr, fin.ptr);
		if (rc) {
			/* the run stays under its temporary name: say where its log is */
			char *why = dd_xstrdup(dd_error_detail());

			dd_error(rc, "the run was not kept: %s; its files and log are in %s "
				 "until the next build of this job", why, tmp.ptr);
			free(why);
			dd_buf_reset(&fin);
		}
		if (!rc)
			rc = point_latest(jobdir.ptr, id);
	}
	*run_dir = fin.len ? dd_buf_detach(&fin, NULL) : NULL;
early:
	if (rc && !b.log)
		json_object_set_new(b.result, "status", json_string("failed"));
	if (rc && !json_object_get(b.result, "errors"))
		json_object_set_new(b.result, "errors", json_pack("[s]", dd_error_detail()));
	if (b.log)
		fclose(b.log);
	if (b.cat_loaded)
		dd_catalog_release(&b.cat);
	dd_store_close(b.store);
	if (b.job_loaded)
		dd_job_release(&b.job);
	if (lock >= 0)
		close(lock);
	json_decref(b.warnings);
	json_decref(b.archs);
	json_decref(b.deps);
	json_decref(b.bundles);
	if (b.signing)
		dd_sigkey_close(&b.key);
	dd_sbom_release(&b.sbom);
	dd_vex_release(&b.vex);
	dd_adv_db_release(&b.adv);
	free(b.blobs);
	free(name);
	dd_buf_release(&jobdir);
	dd_buf_release(&tmp);
	dd_buf_release(&logp);
	dd_buf_release(&fin);
	*result = b.result;
	return rc;
}
