#include "image/rootfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apk/read.h"
#include "core/error.h"
#include "core/hash.h"
#include "store/files.h"
#include "store/store.h"

#define DIR_MODE 0755u

static void free_node(void *v)
{
	struct dd_node *n = v;

	if (n)
		free(n->link);
	free(n);
}

void dd_tree_release(struct dd_tree *t)
{
	dd_map_release(&t->paths, free_node);
}

const struct dd_node *dd_tree_get(const struct dd_tree *t, const char *path)
{
	void **v = dd_map_get(&t->paths, path);

	return v ? *v : NULL;
}

static struct dd_node *tree_set(struct dd_tree *t, const char *path, char type, unsigned mode,
				uint32_t uid, uint32_t gid, int owner, const char *link)
{
	void **v = dd_map_put(&t->paths, path);
	struct dd_node *n = *v;

	if (!n)
		*v = n = dd_xcalloc(1, sizeof(*n));
	n->type = type;
	n->mode = mode;
	n->uid = uid;
	n->gid = gid;
	n->owner = owner;
	free(n->link);
	n->link = link ? dd_xstrdup(link) : NULL;
	return n;
}

static const char *pkg_label(const struct dd_pkgset *ps, int pos, struct dd_buf *b)
{
	const struct dd_apk_pkg *p = &ps->cat->pkgs[ps->plan->pkgs[pos].cat];

	dd_buf_reset(b);
	dd_buf_addf(b, "%s-%s", p->name, p->version);
	return b->ptr;
}

/* ---- writing entries ---------------------------------------------------- */

static int emit(struct dd_rootfs *r, const char *path, char type, unsigned mode, uint32_t uid,
		uint32_t gid, uint64_t size, const char *link)
{
	struct dd_tar_entry e;

	memset(&e, 0, sizeof(e));
	e.path = (char *)path;
	e.link = (char *)link;
	e.type = type;
	e.mode = mode & 07777;
	e.uid = uid;
	e.gid = gid;
	e.size = size;
	e.mtime = r->mtime;
	r->entries++;
	return dd_layer_write_header(r->lw, &e);
}

/*
 * Make sure every parent of path is a directory in the tree, writing
 * the missing ones.  A parent that is a file or a link is refused:
 * writing below a symlink would put the file somewhere else.
 */
static int ensure_parents(struct dd_rootfs *r, const char *path)
{
	char *p = dd_xstrdup(path);
	int rc = 0;

	for (char *s = strchr(p, '/'); s && !rc; s = strchr(s + 1, '/')) {
		const struct dd_node *n;

		*s = 0;
		n = dd_tree_get(r->tree, p);
		if (!n) {
			rc = emit(r, p, DD_TAR_DIR, DIR_MODE, 0, 0, 0, NULL);
			tree_set(r->tree, p, DD_TAR_DIR, DIR_MODE, 0, 0, -1, NULL);
		} else if (n->type != DD_TAR_DIR) {
			rc = dd_error(DD_E_FORMAT,
				      "/%s lies below /%s, which is %s%s%s in the "
				      "image, not a directory",
				      path, p, dd_tar_type_phrase(n->type), n->link ? " to " : "",
				      n->link ? n->link : "");
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static int copy_data(struct dd_rootfs *r, struct dd_tar_reader *t, uint64_t size)
{
	unsigned char buf[65536];
	uint64_t left = size;
	ssize_t n;

	while (left && (n = dd_tar_read(t, buf, sizeof(buf))) > 0) {
		int rc = dd_tar_write_data(&r->lw->tar, buf, (size_t)n);

		if (rc)
			return rc;
		left -= (uint64_t)n;
	}
	if (left)
		return dd_error(DD_E_TRUNCATED, "member ends early");
	return dd_tar_pad(&r->lw->tar, size);
}

static int visit(void *ctx, const struct dd_tar_entry *e, struct dd_tar_reader *t)
{
	struct dd_rootfs *r = ctx;
	const struct dd_node *n = dd_tree_get(r->tree, e->path);
	void **w;
	int rc = r->check ? r->check(r->check_ctx) : 0;

	if (rc)
		return rc;
	if (e->type == DD_TAR_DIR) {
		if (n && n->type == DD_TAR_DIR && n->owner == DD_OWNER_SKELETON &&
		    (n->mode != e->mode || n->uid != e->uid || n->gid != e->gid)) {
			/* a package wins over the skeleton of a lower layer */
			rc = emit(r, e->path, DD_TAR_DIR, e->mode, e->uid, e->gid, 0, NULL);
			tree_set(r->tree, e->path, DD_TAR_DIR, e->mode, e->uid, e->gid, r->pos,
				 NULL);
		} else if (n && n->type != DD_TAR_DIR)
			rc = dd_error(DD_E_FORMAT,
				      "file conflict: /%s is a directory here, but "
				      "%s in the image already",
				      e->path, dd_tar_type_phrase(n->type));
		else if (!n && !(rc = ensure_parents(r, e->path))) {
			rc = emit(r, e->path, DD_TAR_DIR, e->mode, e->uid, e->gid, 0, NULL);
			tree_set(r->tree, e->path, DD_TAR_DIR, e->mode, e->uid, e->gid, r->pos,
				 NULL);
		}
		return rc;
	}
	w = r->winners ? dd_map_get(r->winners, e->path) : NULL;
	if (w && (uintptr_t)*w != (uintptr_t)r->pos + 1)
		return 0; /* another package's copy wins */
	if (n && n->type == DD_TAR_DIR)
		rc = dd_error(DD_E_FORMAT,
			      "file conflict: /%s is %s here, but a directory in the "
			      "image already",
			      e->path, dd_tar_type_phrase(e->type));
	if (!rc)
		rc = ensure_parents(r, e->path);
	if (!rc)
		rc = emit(r, e->path, e->type, e->mode, e->uid, e->gid,
			  e->type == DD_TAR_FILE ? e->size : 0, e->link);
	if (!rc && e->type == DD_TAR_FILE)
		rc = copy_data(r, t, e->size);
	if (!rc)
		tree_set(r->tree, e->path, e->type, e->mode, e->uid, e->gid, r->pos,
			 e->type == DD_TAR_SYMLINK ? e->link : NULL)
			->size = e->size;
	return rc;
}

static const char *blob_of(const struct dd_pkgset *ps, int pos, struct dd_buf *b)
{
	return dd_store_blob_path(ps->store, ps->cat->info[ps->plan->pkgs[pos].cat].sha256, b);
}

int dd_rootfs_add_package(struct dd_rootfs *r, int pos)
{
	struct dd_buf path = DD_BUF_INIT, who = DD_BUF_INIT;
	struct dd_apk_file f;
	int rc;

	r->pos = pos;
	rc = dd_apk_stream(blob_of(r->ps, pos, &path),
			   r->ps->cat->info[r->ps->plan->pkgs[pos].cat].sha256, visit, r, &f);
	if (rc)
		dd_error_prefix(rc, "%s", pkg_label(r->ps, pos, &who));
	else
		dd_apk_file_release(&f);
	dd_buf_release(&path);
	dd_buf_release(&who);
	return rc;
}

static void note_parents(struct dd_tree *t, const char *path)
{
	char *p = dd_xstrdup(path);

	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (!dd_tree_get(t, p))
			tree_set(t, p, DD_TAR_DIR, DIR_MODE, 0, 0, -1, NULL);
		*s = '/';
	}
	free(p);
}

void dd_rootfs_note(struct dd_rootfs *r, const char *path, char type, unsigned mode, int owner,
		    const char *link)
{
	note_parents(r->tree, path);
	tree_set(r->tree, path, type, mode, 0, 0, owner, link);
}

void dd_rootfs_set_owner(struct dd_rootfs *r, const char *path, int owner)
{
	void **v = dd_map_get(&r->tree->paths, path);

	if (v && *v)
		((struct dd_node *)*v)->owner = owner;
}

void dd_rootfs_note_file(struct dd_rootfs *r, const char *path)
{
	note_parents(r->tree, path);
	tree_set(r->tree, path, DD_TAR_FILE, 0644, 0, 0, -1, NULL);
}

/* Catalog indexes of plan positions [from, to): what the store reads by. */
static size_t *plan_which(const struct dd_pkgset *ps, int from, int to)
{
	size_t *which = dd_xcalloc((size_t)(to - from), sizeof(*which));

	for (int i = from; i < to; i++)
		which[i - from] = ps->plan->pkgs[i].cat;
	return which;
}

struct preload {
	struct dd_rootfs *r;
	int from;
	const int *list; /* plan positions by row index; NULL: from + k */
	bool structure;  /* directories and symlinks only */
};

static int preload_row(void *ctx, size_t k, const struct dd_index_file *f)
{
	struct preload *pl = ctx;
	struct dd_rootfs *r = pl->r;
	int pos = pl->list ? pl->list[k] : pl->from + (int)k;
	void **w = r->winners ? dd_map_get(r->winners, f->path) : NULL;

	if (pl->structure && f->type != DD_TAR_DIR && f->type != DD_TAR_SYMLINK)
		return 0;

	note_parents(r->tree, f->path); /* as ensure_parents() made them */
	if (f->type == DD_TAR_DIR ? dd_tree_get(r->tree, f->path) != NULL
				  : (w && (uintptr_t)*w != (uintptr_t)pos + 1))
		return 0;
	tree_set(r->tree, f->path, f->type, f->mode, f->uid, f->gid, pos, f->link);
	return 0;
}

int dd_rootfs_preload_list(struct dd_rootfs *r, const int *pos, size_t n, bool structure)
{
	struct preload pl = { r, 0, pos, structure };
	size_t *which;
	int rc;

	if (!n)
		return 0;
	which = dd_xcalloc(n, sizeof(*which));
	for (size_t i = 0; i < n; i++)
		which[i] = r->ps->plan->pkgs[pos[i]].cat;
	rc = dd_index_files_of(r->ps->store, r->ps->cat, which, n, preload_row, &pl);
	free(which);
	return rc;
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dd_tree_digest(const struct dd_tree *t, char hex[65])
{
	const struct dd_map *m = &t->paths;
	char **keys = dd_xcalloc(m->cap + 1, sizeof(char *));
	struct dd_buf s = DD_BUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			keys[n++] = m->slots[i].key;
	qsort(keys, n, sizeof(*keys), node_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct dd_node *x = dd_tree_get(t, keys[i]);

		dd_buf_addf(&s, "%s %c %o %u %u %s\n", keys[i], x->type, x->mode, x->uid, x->gid,
			    x->link ? x->link : "");
	}
	dd_sha256_hex(s.ptr ? s.ptr : "", s.len, hex);
	dd_buf_release(&s);
	free(keys);
}

int dd_rootfs_preload(struct dd_rootfs *r, int from, int to)
{
	struct preload pl = { r, from, NULL, false };
	size_t *which;
	int rc;

	if (from >= to)
		return 0;
	which = plan_which(r->ps, from, to);
	rc = dd_index_files_of(r->ps->store, r->ps->cat, which, (size_t)(to - from), preload_row,
			       &pl);
	free(which);
	return rc;
}

int dd_rootfs_put_dir(struct dd_rootfs *r, const char *path, unsigned mode, uint32_t uid,
		      uint32_t gid)
{
	const struct dd_node *n = dd_tree_get(r->tree, path);
	int rc;

	if (n && n->type != DD_TAR_DIR)
		return dd_error(DD_E_FORMAT,
				"/%s should be a directory, but a package ships it "
				"as %s",
				path, dd_tar_type_phrase(n->type));
	if (n && n->mode == mode && n->uid == uid && n->gid == gid)
		return 0;
	rc = ensure_parents(r, path);
	if (!rc)
		rc = emit(r, path, DD_TAR_DIR, mode, uid, gid, 0, NULL);
	if (!rc)
		tree_set(r->tree, path, DD_TAR_DIR, mode, uid, gid, -1, NULL);
	return rc;
}

int dd_rootfs_put_file(struct dd_rootfs *r, const char *path, unsigned mode, uint32_t uid,
		       uint32_t gid, const void *data, size_t len)
{
	const struct dd_node *n = dd_tree_get(r->tree, path);
	int rc;

	if (n && n->type == DD_TAR_DIR)
		return dd_error(DD_E_FORMAT,
				"/%s should be a file, but a package ships it as a "
				"directory",
				path);
	rc = ensure_parents(r, path);
	if (!rc)
		rc = emit(r, path, DD_TAR_FILE, mode, uid, gid, len, NULL);
	if (!rc)
		rc = dd_tar_write_data(&r->lw->tar, data, len);
	if (!rc)
		rc = dd_tar_pad(&r->lw->tar, len);
	if (!rc)
		tree_set(r->tree, path, DD_TAR_FILE, mode, uid, gid, -1, NULL)->size = len;
	return rc;
}

int dd_rootfs_put_link(struct dd_rootfs *r, const char *path, char type, const char *target)
{
	const struct dd_node *n = dd_tree_get(r->tree, path);
	int rc;

	if (n && n->type == DD_TAR_DIR)
		return dd_error(DD_E_FORMAT,
				"/%s should be a link, but a package ships it as a "
				"directory",
				path);
	if (type == DD_TAR_HARDLINK) {
		const struct dd_node *t = dd_tree_get(r->tree, target);

		if (!t || t->type != DD_TAR_FILE)
			return dd_error(DD_E_NOTFOUND,
					"hard link /%s: its source /%s is not a "
					"file in the image",
					path, target);
	}
	rc = ensure_parents(r, path);
	if (!rc)
		rc = emit(r, path, type, type == DD_TAR_SYMLINK ? 0777 : 0644, 0, 0, 0, target);
	if (!rc)
		tree_set(r->tree, path, type, 0777, 0, 0, -1,
			 type == DD_TAR_SYMLINK ? target : NULL);
	return rc;
}

/* ---- reading a path back from its package -------------------------------- */

struct grab {
	const char *path;
	uint64_t max;
	struct dd_buf *out;
	bool found;
};

static int grab_visit(void *ctx, const struct dd_tar_entry *e, struct dd_tar_reader *t)
{
	struct grab *g = ctx;

	if (g->found || e->type != DD_TAR_FILE || strcmp(e->path, g->path))
		return 0;
	g->found = true;
	return dd_tar_read_all(t, g->out, g->max);
}

int dd_rootfs_read_path(const struct dd_rootfs *r, const char *path, uint64_t max,
			struct dd_buf *out)
{
	const struct dd_node *n = dd_tree_get(r->tree, path);
	struct grab g = { path, max, out, false };
	struct dd_buf blob = DD_BUF_INIT;
	struct dd_apk_file f;
	int rc;

	dd_buf_reset(out);
	if (!n || n->owner < 0 || n->type != DD_TAR_FILE)
		return DD_E_NOTFOUND;
	rc = dd_apk_stream(blob_of(r->ps, n->owner, &blob),
			   r->ps->cat->info[r->ps->plan->pkgs[n->owner].cat].sha256, grab_visit, &g,
			   &f);
	dd_buf_release(&blob);
	if (rc)
		return rc;
	dd_apk_file_release(&f);
	return g.found ? 0 : DD_E_NOTFOUND;
}

/* ---- the installed database ---------------------------------------------- */

struct dbfile {
	char *dir, *name;
	char type;
	unsigned mode;
	uint32_t uid, gid;
	char *sha1;
};

static void acl_line(struct dd_buf *o, char key, unsigned mode, uint32_t uid, uint32_t gid,
		     unsigned dflt)
{
	if ((mode & 07777) != dflt || uid || gid)
		dd_buf_addf(o, "%c:%u:%u:%o\n", key, uid, gid, mode & 07777);
}

/* F:/M: for each directory in order of first appearance (shipped, or
 * the parent of a shipped file), each followed by its files. */
static void write_dirs(struct dd_buf *o, struct dbfile *f, size_t n)
{
	struct dd_map seen = DD_MAP_INIT;

	for (size_t i = 0; i < n; i++) {
		const char *dir = f[i].type == DD_TAR_DIR ? f[i].name : f[i].dir;
		struct dbfile *d = NULL;

		if (dd_map_get(&seen, dir))
			continue;
		*dd_map_put(&seen, dir) = (void *)1;
		for (size_t j = 0; j < n && !d; j++)
			if (f[j].type == DD_TAR_DIR && !strcmp(f[j].name, dir))
				d = &f[j];
		dd_buf_addf(o, "F:%s\n", dir);
		if (d)
			acl_line(o, 'M', d->mode, d->uid, d->gid, DIR_MODE);
		for (size_t j = 0; j < n; j++) {
			if (f[j].type == DD_TAR_DIR || strcmp(f[j].dir, dir))
				continue;
			dd_buf_addf(o, "R:%s\n", f[j].name);
			acl_line(o, 'a', f[j].mode, f[j].uid, f[j].gid, 0644);
			if (f[j].sha1 && f[j].sha1[0]) {
				unsigned char raw[20];
				char q[64];

				for (int k = 0; k < 20; k++)
					sscanf(f[j].sha1 + 2 * k, "%2hhx", &raw[k]);
				dd_apk_checksum_str(raw, q);
				dd_buf_addf(o, "Z:%s\n", q);
			}
		}
	}
	dd_map_release(&seen, NULL);
}

struct dbfiles {
	const struct dd_map *winners;
	int pos;
	struct dbfile *f;
	size_t n;
};

static int dbfile_row(void *ctx, size_t k, const struct dd_index_file *e)
{
	struct dbfiles *d = ctx;
	void **w = d->winners ? dd_map_get(d->winners, e->path) : NULL;
	const char *slash = strrchr(e->path, '/');
	struct dbfile *f;

	(void)k;
	if (e->type != DD_TAR_DIR && w && (uintptr_t)*w != (uintptr_t)d->pos + 1)
		return 0;
	DD_GROW(d->f, d->n);
	f = &d->f[d->n++];
	f->type = e->type;
	if (e->type == DD_TAR_DIR) {
		f->dir = dd_xstrdup(e->path);
		f->name = dd_xstrdup(e->path);
	} else {
		f->dir = slash ? dd_blob_dup((struct dd_blob){ e->path, (size_t)(slash - e->path) })
			       : dd_xstrdup("");
		f->name = dd_xstrdup(slash ? slash + 1 : e->path);
	}
	f->mode = e->mode;
	f->uid = e->uid;
	f->gid = e->gid;
	f->sha1 = e->sha1 ? dd_xstrdup(e->sha1) : NULL;
	return 0;
}

static int package_files(const struct dd_pkgset *ps, const struct dd_map *winners, int pos,
			 struct dd_buf *o)
{
	struct dbfiles d = { winners, pos, NULL, 0 };
	size_t which = ps->plan->pkgs[pos].cat;
	int rc = dd_index_files_of(ps->store, ps->cat, &which, 1, dbfile_row, &d);

	if (!rc)
		write_dirs(o, d.f, d.n);
	for (size_t i = 0; i < d.n; i++) {
		free(d.f[i].dir);
		free(d.f[i].name);
		free(d.f[i].sha1);
	}
	free(d.f);
	return rc;
}

int dd_rootfs_installed_db(const struct dd_pkgset *ps, const struct dd_map *winners, int n,
			   struct dd_buf *out)
{
	for (int i = 0; i < n; i++) {
		int rc;

		dd_apkindex_write_pkg(&ps->cat->pkgs[ps->plan->pkgs[i].cat], out);
		out->ptr[--out->len] = 0; /* the blank line goes after the files */
		rc = package_files(ps, winners, i, out);
		if (rc)
			return rc;
		dd_buf_adds(out, "\n");
	}
	return 0;
}
