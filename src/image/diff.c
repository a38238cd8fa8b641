/*
 * The first difference between two OCI image layouts (image/rebuild.h):
 * layers first, member by member, then the config without its diff_ids,
 * then the manifest, so that the message names the cause (a file, a
 * setting) rather than the digests that follow from it.
 */
#include "image/rebuild.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/hash.h"

#define MAX_DOC   (64u << 20)
#define MAX_SHOWN 120

struct side {
	const char *dir, *name;
};

static json_t *blob_json(const struct side *s, const char *digest)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	char hex[65];
	json_t *j = NULL;

	if (!dd_digest_parse(digest, hex)) {
		dd_buf_addf(&path, "%s/blobs/sha256/%s", s->dir, hex);
		if (!dd_read_regular(path.ptr, MAX_DOC, &text))
			j = json_loadb(text.ptr, text.len, 0, NULL);
	}
	dd_buf_release(&path);
	dd_buf_release(&text);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* A JSON value, short enough for a message. */
static void shown(json_t *v, struct dd_buf *out)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (!t)
		dd_buf_adds(out, "(absent)");
	else
		dd_buf_addf(out, "%.*s%s", MAX_SHOWN, t, strlen(t) > MAX_SHOWN ? "..." : "");
	free(t);
}

/* The first field (in key order) where a and b differ, as path. */
static bool json_diff(json_t *a, json_t *b, struct dd_buf *path, struct dd_buf *why,
		      const struct side *sa, const struct side *sb)
{
	size_t mark = path->len;

	if (json_equal(a, b))
		return false;
	if (json_is_object(a) && json_is_object(b)) {
		json_t *keys = json_array(), *v;
		const char *k;
		size_t i;

		json_object_foreach(a, k, v)
			json_array_append_new(keys, json_string(k));
		json_object_foreach(b, k, v)
			if (!json_object_get(a, k))
				json_array_append_new(keys, json_string(k));
		json_array_foreach(keys, i, v) {
			k = json_string_value(v);
			dd_buf_addf(path, ".%s", k);
			if (json_diff(json_object_get(a, k), json_object_get(b, k), path, why, sa,
				      sb)) {
				json_decref(keys);
				return true;
			}
			path->len = mark;
			path->ptr[mark] = 0;
		}
		json_decref(keys);
	} else if (json_is_array(a) && json_is_array(b)) {
		size_t n = json_array_size(a) > json_array_size(b) ? json_array_size(a)
								   : json_array_size(b);

		for (size_t i = 0; i < n; i++) {
			dd_buf_addf(path, "[%zu]", i);
			if (json_diff(json_array_get(a, i), json_array_get(b, i), path, why, sa,
				      sb))
				return true;
			path->len = mark;
			path->ptr[mark] = 0;
		}
	}
	dd_buf_addf(why, "%s: ", path->len ? path->ptr : "(the whole document)");
	shown(a, why);
	dd_buf_addf(why, " in %s, ", sa->name);
	shown(b, why);
	dd_buf_addf(why, " in %s", sb->name);
	return true;
}

/* One tar member, as much as a difference could be about. */
struct member {
	char *name, *link;
	int type;
	unsigned mode;
	long long uid, gid, mtime, size;
	char sha[65];
};

static bool next_member(struct archive *a, struct member *m)
{
	struct archive_entry *e;
	unsigned char buf[1 << 14];
	la_ssize_t n;
	struct dd_buf data = DD_BUF_INIT;

	free(m->name);
	free(m->link);
	memset(m, 0, sizeof(*m));
	if (archive_read_next_header(a, &e) != ARCHIVE_OK)
		return false;
	m->name = dd_xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
	m->link = archive_entry_symlink(e)    ? dd_xstrdup(archive_entry_symlink(e))
		  : archive_entry_hardlink(e) ? dd_xstrdup(archive_entry_hardlink(e))
					      : NULL;
	m->type = (int)archive_entry_filetype(e);
	m->mode = (unsigned)archive_entry_perm(e);
	m->uid = (long long)archive_entry_uid(e);
	m->gid = (long long)archive_entry_gid(e);
	m->mtime = (long long)archive_entry_mtime(e);
	m->size = (long long)archive_entry_size(e);
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		dd_buf_add(&data, buf, (size_t)n);
	dd_sha256_hex(data.ptr ? data.ptr : "", data.len, m->sha);
	dd_buf_release(&data);
	return true;
}

static void member_diff(const struct member *x, const struct member *y, const char *layer,
			const struct side *sa, const struct side *sb, struct dd_buf *why)
{
	dd_buf_addf(why, "%s: /%s: ", layer, x->name);
	if (x->type != y->type)
		dd_buf_addf(why, "type %o in %s, %o in %s", x->type, sa->name, y->type, sb->name);
	else if (x->mode != y->mode)
		dd_buf_addf(why, "mode %04o in %s, %04o in %s", x->mode, sa->name, y->mode,
			    sb->name);
	else if (x->uid != y->uid || x->gid != y->gid)
		dd_buf_addf(why, "owner %lld:%lld in %s, %lld:%lld in %s", x->uid, x->gid, sa->name,
			    y->uid, y->gid, sb->name);
	else if (x->mtime != y->mtime)
		dd_buf_addf(why, "time %lld in %s, %lld in %s", x->mtime, sa->name, y->mtime,
			    sb->name);
	else if (strcmp(x->link ? x->link : "", y->link ? y->link : ""))
		dd_buf_addf(why, "link to '%s' in %s, '%s' in %s", x->link ? x->link : "", sa->name,
			    y->link ? y->link : "", sb->name);
	else
		dd_buf_addf(why,
			    "content differs (%lld bytes, sha256 %.12s... in %s; %lld bytes, "
			    "sha256 %.12s... in %s)",
			    x->size, x->sha, sa->name, y->size, y->sha, sb->name);
}

/* A layer as a tar reader; *fd (closed by the caller) read through dd_open_regular(). */
static struct archive *open_layer(const struct side *s, const char *digest, int *fd)
{
	struct dd_buf path = DD_BUF_INIT;
	struct archive *a = archive_read_new();
	uint64_t size;
	char hex[65];

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	*fd = -1;
	if (!dd_digest_parse(digest, hex)) {
		dd_buf_addf(&path, "%s/blobs/sha256/%s", s->dir, hex);
		*fd = dd_open_regular(path.ptr, UINT64_MAX, &size);
	}
	if (*fd < 0 || archive_read_open_fd(a, *fd, 1 << 16) != ARCHIVE_OK) {
		archive_read_free(a);
		a = NULL;
	}
	dd_buf_release(&path);
	return a;
}

/* The first member where two layers differ. */
static void layer_diff(const struct side *sa, const struct side *sb, const char *da, const char *db,
		       const char *layer, struct dd_buf *why)
{
	int fa, fb;
	struct archive *a = open_layer(sa, da, &fa), *b = open_layer(sb, db, &fb);
	struct member x = { 0 }, y = { 0 };

	if (!a || !b) {
		dd_buf_addf(why, "%s: cannot be read in %s", layer, !a ? sa->name : sb->name);
		goto out;
	}
	for (;;) {
		bool ha = next_member(a, &x), hb = next_member(b, &y);

		if (!ha && !hb) {
			dd_buf_addf(why,
				    "%s: the same files, but other bytes after the archive's "
				    "end",
				    layer);
			break;
		}
		if (!ha || !hb) {
			dd_buf_addf(why, "%s: /%s is only in %s", layer, ha ? x.name : y.name,
				    ha ? sa->name : sb->name);
			break;
		}
		if (strcmp(x.name, y.name)) {
			dd_buf_addf(why, "%s: /%s in %s where %s has /%s", layer, x.name, sa->name,
				    sb->name, y.name);
			break;
		}
		if (x.type != y.type || x.mode != y.mode || x.uid != y.uid || x.gid != y.gid ||
		    x.mtime != y.mtime || strcmp(x.sha, y.sha) ||
		    strcmp(x.link ? x.link : "", y.link ? y.link : "")) {
			member_diff(&x, &y, layer, sa, sb, why);
			break;
		}
	}
out:
	free(x.name);
	free(x.link);
	free(y.name);
	free(y.link);
	if (a)
		archive_read_free(a);
	if (b)
		archive_read_free(b);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

static void manifest_diff(const struct side *sa, const struct side *sb, const char *da,
			  const char *db, const char *what, struct dd_buf *why)
{
	json_t *ma = blob_json(sa, da), *mb = blob_json(sb, db), *ca = NULL, *cb = NULL;
	json_t *la, *lb, *ida, *idb;
	struct dd_buf path = DD_BUF_INIT;
	size_t n;

	if (!ma || !mb) {
		dd_buf_addf(why, "%s: the manifest cannot be read in %s", what,
			    !ma ? sa->name : sb->name);
		goto out;
	}
	ca = blob_json(sa, jstr(json_object_get(ma, "config"), "digest"));
	cb = blob_json(sb, jstr(json_object_get(mb, "config"), "digest"));
	la = json_object_get(ma, "layers");
	lb = json_object_get(mb, "layers");
	ida = json_object_get(json_object_get(ca, "rootfs"), "diff_ids");
	idb = json_object_get(json_object_get(cb, "rootfs"), "diff_ids");
	if (json_array_size(la) != json_array_size(lb)) {
		dd_buf_addf(why, "%s: %zu layers in %s, %zu in %s", what, json_array_size(la),
			    sa->name, json_array_size(lb), sb->name);
		goto out;
	}
	n = json_array_size(la);
	for (size_t i = 0; i < n; i++) {
		const char *a = jstr(json_array_get(la, i), "digest");
		const char *b = jstr(json_array_get(lb, i), "digest");
		char layer[256];

		if (!strcmp(a, b))
			continue;
		snprintf(layer, sizeof(layer), "%s, layer %zu of %zu", what, i + 1, n);
		if (json_equal(json_array_get(ida, i), json_array_get(idb, i)) &&
		    json_array_get(ida, i))
			dd_buf_addf(why,
				    "%s: the same files (diff_id %s), compressed to other bytes "
				    "(another compressor version?)",
				    layer, json_string_value(json_array_get(ida, i)));
		else
			layer_diff(sa, sb, a, b, layer, why);
		goto out;
	}
	if (ca && cb) {
		json_t *xa = json_deep_copy(ca), *xb = json_deep_copy(cb);

		json_object_del(json_object_get(xa, "rootfs"), "diff_ids");
		json_object_del(json_object_get(xb, "rootfs"), "diff_ids");
		dd_buf_addf(&path, "%s: config", what);
		json_diff(xa, xb, &path, why, sa, sb);
		json_decref(xa);
		json_decref(xb);
		if (why->len)
			goto out;
	}
	dd_buf_reset(&path);
	dd_buf_addf(&path, "%s: manifest", what);
	json_diff(ma, mb, &path, why, sa, sb);
out:
	json_decref(ma);
	json_decref(mb);
	json_decref(ca);
	json_decref(cb);
	dd_buf_release(&path);
}

static json_t *top_of(const struct side *s)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	json_t *idx = NULL, *top;

	dd_buf_addf(&path, "%s/index.json", s->dir);
	if (!dd_read_regular(path.ptr, MAX_DOC, &text))
		idx = json_loadb(text.ptr, text.len, 0, NULL);
	top = json_incref(json_array_get(json_object_get(idx, "manifests"), 0));
	json_decref(idx);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return top;
}

bool dd_layout_diff(const char *a, const char *b, const char *a_name, const char *b_name,
		    struct dd_buf *why)
{
	struct side sa = { a, a_name }, sb = { b, b_name };
	json_t *ta = top_of(&sa), *tb = top_of(&sb), *ia = NULL, *ib = NULL;
	size_t before = why->len;

	if (!ta || !tb) {
		dd_buf_addf(why, "the image layout of %s cannot be read", !ta ? a_name : b_name);
		goto out;
	}
	if (!strcmp(jstr(ta, "digest"), jstr(tb, "digest")))
		goto out;
	if (strcmp(jstr(ta, "mediaType"), jstr(tb, "mediaType"))) {
		dd_buf_addf(why, "the layout's top is %s in %s, %s in %s", jstr(ta, "mediaType"),
			    a_name, jstr(tb, "mediaType"), b_name);
	} else if (!(ia = blob_json(&sa, jstr(ta, "digest"))) ||
		   !(ib = blob_json(&sb, jstr(tb, "digest")))) {
		dd_buf_addf(why, "the top of the layout cannot be read in %s",
			    !ia ? a_name : b_name);
	} else if (json_object_get(ia, "manifests")) {
		json_t *ma = json_object_get(ia, "manifests"),
		       *mb = json_object_get(ib, "manifests");

		for (size_t i = 0; i < json_array_size(ma) && !why->len; i++) {
			json_t *x = json_array_get(ma, i), *y = json_array_get(mb, i);
			char what[128];

			if (y && !strcmp(jstr(x, "digest"), jstr(y, "digest")))
				continue;
			snprintf(what, sizeof(what), "%s image",
				 jstr(json_object_get(x, "platform"), "architecture"));
			if (!y)
				dd_buf_addf(why, "the %s is only in %s", what, a_name);
			else
				manifest_diff(&sa, &sb, jstr(x, "digest"), jstr(y, "digest"), what,
					      why);
		}
		if (why->len == before) {
			struct dd_buf path = DD_BUF_INIT;

			dd_buf_adds(&path, "image index");
			json_diff(ia, ib, &path, why, &sa, &sb);
			dd_buf_release(&path);
		}
	} else {
		manifest_diff(&sa, &sb, jstr(ta, "digest"), jstr(tb, "digest"), "the image", why);
	}
	if (why->len == before)
		dd_buf_addf(why, "the top digests differ (%s in %s, %s in %s)", jstr(ta, "digest"),
			    a_name, jstr(tb, "digest"), b_name);
out:
	json_decref(ta);
	json_decref(tb);
	json_decref(ia);
	json_decref(ib);
	return why->len > before;
}
