#include "image/installed.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "core/map.h"

#define MAX_DOC (4u << 20)   /* index, manifest or config */
#define MAX_DB  (256u << 20) /* an apk installed database */

static const char *const db_names[] = { "usr/lib/apk/db/installed", "lib/apk/db/installed" };

/* ---- the installed database -------------------------------------------------- */

static char *dup_line(struct dd_blob l)
{
	return dd_blob_dup((struct dd_blob){ l.ptr + 2, l.len - 2 });
}

static int end_block(struct dd_installed_image *img, struct dd_installed_pkg *p, unsigned line)
{
	if (!p->name && !p->version)
		return 0;
	if (!p->name || !p->version) {
		const char *lacks = p->name ? "V: (version)" : "P: (name)";

		free(p->name);
		free(p->version);
		free(p->origin);
		free(p->arch);
		memset(p, 0, sizeof(*p));
		return dd_error(DD_E_FORMAT, "the entry ending at line %u has no %s", line, lacks);
	}
	DD_GROW(img->pkgs, img->n);
	img->pkgs[img->n++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

static void set_once(char **field, struct dd_blob l)
{
	if (!*field)
		*field = dup_line(l);
}

int dd_installed_parse(const char *text, size_t len, struct dd_installed_image *img)
{
	struct dd_blob b = { text, len }, l;
	struct dd_installed_pkg p = { 0 };
	unsigned line = 0;
	int rc = 0;

	while (!rc && b.len) {
		dd_blob_split(&b, '\n', &l);
		line++;
		if (!l.len) {
			rc = end_block(img, &p, line);
			continue;
		}
		if (l.len < 2 || l.ptr[1] != ':')
			continue; /* not a field: apk ignores it too */
		switch (l.ptr[0]) {
		case 'P':
			set_once(&p.name, l);
			break;
		case 'V':
			set_once(&p.version, l);
			break;
		case 'o':
			set_once(&p.origin, l);
			break;
		case 'A':
			set_once(&p.arch, l);
			break;
		default:
			break;
		}
	}
	if (!rc)
		rc = end_block(img, &p, line);
	return rc;
}

/* ---- the layout ---------------------------------------------------------------- */

struct layout {
	const char *dir;    /* a layout directory, or NULL */
	const char *tar;    /* an oci-archive, or NULL */
	struct dd_map docs; /* tar: "index.json" and JSON-looking blobs -> struct dd_buf * */
};

/* A layer to scan, and the database it holds. */
struct want {
	char hex[65];
	int db_rank; /* index into db_names of what was kept; -1: none */
	struct dd_buf db;
};

static void free_buf(void *p)
{
	dd_buf_release(p);
	free(p);
}

static const char *entry_name(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	while (name && !strncmp(name, "./", 2))
		name += 2;
	return name ? name : "";
}

static struct archive *open_tar(const char *path)
{
	struct archive *a = archive_read_new();

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		dd_error(DD_E_FORMAT, "%s: %s", path, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Keep index.json and every blob that looks like JSON and is small. */
static int read_docs(struct layout *l)
{
	struct archive *a = open_tar(l->tar);
	struct archive_entry *e;
	int r;

	if (!a)
		return DD_E_FORMAT;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = entry_name(e);
		struct dd_buf *b;
		char chunk[1 << 16];
		la_ssize_t n;

		if (archive_entry_filetype(e) != AE_IFREG ||
		    archive_entry_size(e) > (la_int64_t)MAX_DOC ||
		    (strcmp(name, "index.json") && strncmp(name, "blobs/sha256/", 13)))
			continue;
		b = dd_xcalloc(1, sizeof(*b));
		while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
			if (!b->len && chunk[0] != '{')
				break;
			dd_buf_add(b, chunk, (size_t)n);
		}
		if (n < 0 || !b->len || b->ptr[0] != '{') {
			free_buf(b);
			if (n < 0)
				break;
			continue;
		}
		*dd_map_put(&l->docs, name) = b;
	}
	if (r != ARCHIVE_EOF)
		r = dd_error(DD_E_FORMAT, "%s: %s", l->tar, archive_error_string(a));
	else
		r = 0;
	archive_read_free(a);
	return r;
}

static int get_doc(struct layout *l, const char *name, json_t **out)
{
	struct dd_buf file = DD_BUF_INIT, path = DD_BUF_INIT;
	const struct dd_buf *text = &file;
	json_error_t err;
	int rc = 0;

	*out = NULL;
	if (l->dir) {
		dd_buf_addf(&path, "%s/%s", l->dir, name);
		rc = dd_read_file(path.ptr, MAX_DOC, &file);
	} else {
		void **v = dd_map_get(&l->docs, name);

		if (v)
			text = *v;
		else
			rc = dd_error(DD_E_NOTFOUND, "%s holds no %s", l->tar, name);
	}
	if (!rc) {
		*out = json_loadb(text->ptr ? text->ptr : "", text->len, 0, &err);
		if (!*out || !json_is_object(*out))
			rc = dd_error(DD_E_FORMAT, "%s: %s is not a JSON object%s%s",
				      l->dir ? l->dir : l->tar, name, *out ? "" : ": ",
				      *out ? "" : err.text);
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	dd_buf_release(&file);
	dd_buf_release(&path);
	return rc;
}

/* sha256:HEX -> blobs/sha256/HEX; false when the digest is not one. */
static bool blob_name(const char *digest, struct dd_buf *out)
{
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		return false;
	dd_buf_reset(out);
	dd_buf_addf(out, "blobs/sha256/%s", digest + 7);
	return true;
}

/* ---- layers --------------------------------------------------------------------- */

struct pull {
	struct archive *outer;
	char buf[1 << 16];
};

static la_ssize_t pull_read(struct archive *inner, void *ctx, const void **out)
{
	struct pull *p = ctx;

	(void)inner;
	*out = p->buf;
	return archive_read_data(p->outer, p->buf, sizeof(p->buf));
}

static int take_db(struct archive *tar, struct want *w, int rank, const char *layer)
{
	char chunk[1 << 16];
	la_ssize_t n;

	dd_buf_reset(&w->db);
	while ((n = archive_read_data(tar, chunk, sizeof(chunk))) > 0) {
		if (w->db.len + (size_t)n > MAX_DB)
			return dd_error(DD_E_LIMIT, "layer %s: %s is larger than %u MiB", layer,
					db_names[rank], MAX_DB >> 20);
		dd_buf_add(&w->db, chunk, (size_t)n);
	}
	if (n < 0)
		return dd_error(DD_E_FORMAT, "layer %s: %s", layer, archive_error_string(tar));
	w->db_rank = rank;
	return 0;
}

/* Read the layer whose compressed bytes outer is positioned at. */
static int scan_layer(struct archive *outer, struct want *w)
{
	struct pull p = { .outer = outer };
	struct archive *tar = archive_read_new();
	struct archive_entry *e;
	int r, rc = 0;

	archive_read_support_filter_all(tar);
	archive_read_support_format_tar(tar);
	if (archive_read_open(tar, &p, NULL, pull_read, NULL) != ARCHIVE_OK) {
		rc = dd_error(DD_E_FORMAT, "layer %s: %s", w->hex, archive_error_string(tar));
		goto out;
	}
	while (!rc && (r = archive_read_next_header(tar, &e)) == ARCHIVE_OK) {
		const char *name = entry_name(e);

		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		for (int k = 0; k < 2 && !rc; k++)
			if (!strcmp(name, db_names[k]) && (w->db_rank < 0 || k <= w->db_rank))
				rc = take_db(tar, w, k, w->hex);
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = dd_error(DD_E_FORMAT, "layer %s is not a readable tar: %s", w->hex,
			      archive_error_string(tar));
out:
	archive_read_free(tar);
	return rc;
}

static struct want *find_want(struct want *w, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i].hex, hex))
			return &w[i];
	return NULL;
}

static int scan_dir(struct layout *l, struct want *w, size_t n)
{
	struct dd_buf path = DD_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i++) {
		struct archive *raw = archive_read_new();
		struct archive_entry *e;

		dd_buf_reset(&path);
		dd_buf_addf(&path, "%s/blobs/sha256/%s", l->dir, w[i].hex);
		archive_read_support_format_raw(raw);
		if (archive_read_open_filename(raw, path.ptr, 1 << 16) != ARCHIVE_OK ||
		    archive_read_next_header(raw, &e) != ARCHIVE_OK)
			rc = dd_error(DD_E_NOTFOUND, "%s: %s", path.ptr, archive_error_string(raw));
		else
			rc = scan_layer(raw, &w[i]);
		archive_read_free(raw);
	}
	dd_buf_release(&path);
	return rc;
}

static int scan_tar(struct layout *l, struct want *w, size_t n)
{
	struct archive *a = open_tar(l->tar);
	struct archive_entry *e;
	size_t seen = 0;
	int r, rc = 0;

	if (!a)
		return DD_E_FORMAT;
	while (!rc && seen < n && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = entry_name(e);
		struct want *x;

		if (strncmp(name, "blobs/sha256/", 13) || !(x = find_want(w, n, name + 13)))
			continue;
		rc = scan_layer(a, x);
		seen++;
	}
	if (!rc && seen < n)
		rc = dd_error(DD_E_TRUNCATED, "%s lacks %zu of the image's layers", l->tar,
			      n - seen);
	archive_read_free(a);
	return rc;
}

/* ---- images ---------------------------------------------------------------------- */

struct found {
	char *manifest, *platform;
	char **layers;
	size_t n_layers;
};

static char *platform_of(json_t *p)
{
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	const char *var = json_string_value(json_object_get(p, "variant"));
	struct dd_buf b = DD_BUF_INIT;

	if (!arch)
		return NULL;
	dd_buf_addf(&b, "%s/%s%s%s", os ? os : "linux", arch, var ? "/" : "", var ? var : "");
	return b.ptr;
}

static int add_manifest(struct layout *l, json_t *desc, struct found **f, size_t *n)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	struct dd_buf name = DD_BUF_INIT;
	json_t *m = NULL, *layers, *x;
	struct found *img;
	size_t i;
	int rc;

	if (!blob_name(digest, &name))
		return dd_error(DD_E_FORMAT, "%s: a descriptor without a sha256 digest",
				l->dir ? l->dir : l->tar);
	rc = get_doc(l, name.ptr, &m);
	if (rc)
		goto out;
	layers = json_object_get(m, "layers");
	if (json_is_array(json_object_get(m, "manifests"))) {
		/* an index inside the index: its manifests are the images */
		json_array_foreach(json_object_get(m, "manifests"), i, x)
			if (!rc)
				rc = add_manifest(l, x, f, n);
		goto out;
	}
	if (!json_is_array(layers)) {
		rc = dd_error(DD_E_FORMAT, "%s: manifest %s lists no layers",
			      l->dir ? l->dir : l->tar, digest);
		goto out;
	}
	DD_GROW(*f, *n);
	img = &(*f)[(*n)++];
	memset(img, 0, sizeof(*img));
	img->manifest = dd_xstrdup(digest);
	img->platform = platform_of(json_object_get(desc, "platform"));
	img->layers = dd_xcalloc(json_array_size(layers) + 1, sizeof(char *));
	json_array_foreach(layers, i, x) {
		const char *d = json_string_value(json_object_get(x, "digest"));

		if (!blob_name(d, &name)) {
			rc = dd_error(DD_E_FORMAT, "manifest %s: a layer without a sha256 digest",
				      digest);
			goto out;
		}
		img->layers[img->n_layers++] = dd_xstrdup(d + 7);
	}
	if (!img->platform &&
	    blob_name(json_string_value(json_object_get(json_object_get(m, "config"), "digest")),
		      &name)) {
		json_t *cfg = NULL;

		if (!get_doc(l, name.ptr, &cfg))
			img->platform = platform_of(cfg);
		json_decref(cfg);
		dd_error_clear();
	}
out:
	json_decref(m);
	dd_buf_release(&name);
	return rc;
}

static void found_free(struct found *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < f[i].n_layers; k++)
			free(f[i].layers[k]);
		free(f[i].layers);
		free(f[i].manifest);
		free(f[i].platform);
	}
	free(f);
}

/* The installed packages of image f, from its topmost database. */
static int fill_image(const struct found *f, struct want *w, size_t n_w,
		      struct dd_installed_image *img)
{
	img->manifest = dd_xstrdup(f->manifest);
	img->platform = f->platform ? dd_xstrdup(f->platform) : NULL;
	for (size_t k = f->n_layers; k-- > 0;) {
		struct want *x = find_want(w, n_w, f->layers[k]);

		if (!x || x->db_rank < 0)
			continue;
		img->db_path = dd_xstrdup(db_names[x->db_rank]);
		if (dd_installed_parse(x->db.ptr ? x->db.ptr : "", x->db.len, img))
			return dd_error_prefix(DD_E_FORMAT, "image %s: layer %s: %s", f->manifest,
					       x->hex, img->db_path);
		return 0;
	}
	return 0;
}

static int locate(const char *path, struct layout *l, struct dd_buf *dir)
{
	struct stat st;

	memset(l, 0, sizeof(*l));
	if (stat(path, &st) < 0)
		return dd_error_errno("%s", path);
	if (!S_ISDIR(st.st_mode)) {
		l->tar = path;
		return read_docs(l);
	}
	dd_buf_addf(dir, "%s/image/oci-layout", path);
	if (stat(dir->ptr, &st) == 0) { /* a run folder */
		dd_buf_reset(dir);
		dd_buf_addf(dir, "%s/image", path);
	} else {
		dd_buf_reset(dir);
		dd_buf_adds(dir, path);
	}
	l->dir = dir->ptr;
	return 0;
}

int dd_installed_read(const char *path, struct dd_installed *out)
{
	struct dd_buf dir = DD_BUF_INIT;
	struct layout l;
	struct found *f = NULL;
	struct want *w = NULL;
	size_t n_f = 0, n_w = 0;
	json_t *index = NULL, *x;
	size_t i;
	int rc = locate(path, &l, &dir);

	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = get_doc(&l, "index.json", &index);
	if (rc) {
		rc = dd_error_prefix(rc,
				     "%s is not an OCI image layout, oci-archive or run "
				     "folder",
				     path);
		goto out;
	}
	json_array_foreach(json_object_get(index, "manifests"), i, x)
		if (!rc)
			rc = add_manifest(&l, x, &f, &n_f);
	if (!rc && !n_f)
		rc = dd_error(DD_E_FORMAT, "%s: index.json lists no image", path);
	for (size_t a = 0; !rc && a < n_f; a++)
		for (size_t k = 0; k < f[a].n_layers; k++)
			if (!find_want(w, n_w, f[a].layers[k])) {
				DD_GROW(w, n_w);
				memset(&w[n_w], 0, sizeof(*w));
				memcpy(w[n_w].hex, f[a].layers[k], 65);
				w[n_w++].db_rank = -1;
			}
	if (!rc)
		rc = l.dir ? scan_dir(&l, w, n_w) : scan_tar(&l, w, n_w);
	if (!rc) {
		out->images = dd_xcalloc(n_f, sizeof(*out->images));
		for (size_t a = 0; !rc && a < n_f; a++, out->n++)
			rc = fill_image(&f[a], w, n_w, &out->images[a]);
	}
	if (rc)
		rc = dd_error_prefix(rc, "%s", path);
out:
	for (size_t k = 0; k < n_w; k++)
		dd_buf_release(&w[k].db);
	free(w);
	found_free(f, n_f);
	json_decref(index);
	dd_map_release(&l.docs, free_buf);
	dd_buf_release(&dir);
	if (rc)
		dd_installed_release(out);
	return rc;
}

void dd_installed_release(struct dd_installed *in)
{
	for (size_t i = 0; i < in->n; i++) {
		struct dd_installed_image *img = &in->images[i];

		for (size_t k = 0; k < img->n; k++) {
			free(img->pkgs[k].name);
			free(img->pkgs[k].version);
			free(img->pkgs[k].origin);
			free(img->pkgs[k].arch);
		}
		free(img->pkgs);
		free(img->manifest);
		free(img->platform);
		free(img->db_path);
	}
	free(in->images);
	memset(in, 0, sizeof(*in));
}
