/*
 * drydock verify: the image layout.  subject compares the layout's top
 * digest with the statement, blobs checks every blob the layout refers
 * to, diff_ids reads each layer once and keeps what the later checks
 * compare (struct image).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "apk/tar.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "evidence/sbom.h"
#include "image/oci.h"
#include "image/verify_private.h"

static void blob_path(const struct verify *v, const char *hex, struct dd_buf *path)
{
	dd_buf_reset(path);
	dd_buf_addf(path, "%s/blobs/sha256/%s", v->layout, hex);
}

/*
 * Check the blob of descriptor d (its sha256 into hex); load it as JSON
 * into *doc when asked.  The blob is read only when it is a regular file
 * no larger than its descriptor says.
 */
static bool check_blob(struct verify *v, json_t *d, char hex[65], json_t **doc, struct dd_buf *why)
{
	json_t *js = json_object_get(d, "size");
	json_int_t size = json_integer_value(js);
	struct dd_buf path = DD_BUF_INIT;
	char got_hex[65];
	uint64_t got;
	bool ok = false;
	int rc;

	if (dd_digest_parse(json_string_value(json_object_get(d, "digest")), hex)) {
		dd_buf_addf(why, "a descriptor of the layout: %s", dd_error_detail());
		return false;
	}
	if (!json_is_integer(js) || size < 0) {
		dd_buf_addf(why, "the descriptor of sha256:%s has no size", hex);
		return false;
	}
	blob_path(v, hex, &path);
	rc = dd_sha256_regular(path.ptr, (uint64_t)size, got_hex, &got);
	if (rc == DD_E_LIMIT)
		dd_buf_addf(why, "blob sha256:%s: larger than the %lld bytes its descriptor says",
			    hex, (long long)size);
	else if (rc)
		dd_buf_addf(why, "%s", dd_error_detail());
	else if (strcmp(got_hex, hex))
		dd_buf_addf(why, "blob sha256:%s: its content hashes to sha256:%s", hex, got_hex);
	else if ((json_int_t)got != size)
		dd_buf_addf(why, "blob sha256:%s: %llu bytes, its descriptor says %lld", hex,
			    (unsigned long long)got, (long long)size);
	else
		ok = true;
	if (ok && doc && !(*doc = dd_verify_load_json(path.ptr, why)))
		ok = false;
	dd_buf_release(&path);
	return ok;
}

/* "name@version" of each package in an apk installed database. */
static void parse_db(const char *text, size_t len, json_t *set)
{
	struct dd_blob b = { text, len }, l;
	char *name = NULL;

	while (b.len) {
		dd_blob_split(&b, '\n', &l);
		if (l.len > 2 && !memcmp(l.ptr, "P:", 2)) {
			free(name);
			name = strndup(l.ptr + 2, l.len - 2);
		} else if (l.len > 2 && !memcmp(l.ptr, "V:", 2) && name) {
			dd_verify_add_key(set, "%s@%.*s", name, (int)(l.len - 2), l.ptr + 2);
			free(name);
			name = NULL;
		}
	}
	free(name);
}

/* The uncompressed stream of a layer, hashed as the tar reader pulls it. */
struct layer_stream {
	struct archive *raw; /* decompresses the blob (format "raw") */
	EVP_MD_CTX *md;
	char buf[1 << 16];
	bool failed;
};

static la_ssize_t layer_read(struct archive *tar, void *ctx, const void **out)
{
	struct layer_stream *ls = ctx;
	la_ssize_t n = archive_read_data(ls->raw, ls->buf, sizeof(ls->buf));

	(void)tar;
	if (n < 0) {
		ls->failed = true;
		return -1;
	}
	EVP_DigestUpdate(ls->md, ls->buf, (size_t)n);
	*out = ls->buf;
	return n;
}

static bool wanted(const char *name, bool *db, bool *arch, bool *sbom)
{
	size_t nl = strlen(name);

	*db = !strcmp(name, "usr/lib/apk/db/installed");
	*arch = !strcmp(name, "etc/apk/arch");
	*sbom = !strncmp(name, DD_IMAGE_SBOM_DIR "/", sizeof(DD_IMAGE_SBOM_DIR)) && nl > 10 &&
		!strcmp(name + nl - 10, ".spdx.json");
	return *db || *arch || *sbom;
}

/* Keep what a layer says of the image (later layers override earlier ones). */
static void take_file(struct image *img, bool db, bool arch, const struct dd_buf *data)
{
	const char *text = data->ptr ? data->ptr : "";

	if (db) {
		json_object_clear(img->db);
		parse_db(text, data->len, img->db);
		img->has_db = true;
	} else if (arch) {
		free(img->arch);
		img->arch = strndup(text, strcspn(text, "\n"));
	} else {
		json_t *doc = json_loadb(text, data->len, 0, NULL);

		json_object_clear(img->sbom);
		if (doc)
			dd_verify_spdx_packages(doc, img->sbom, NULL);
		img->has_sbom = doc != NULL;
		json_decref(doc);
	}
}

/*
 * A member whose name (or hard link target) is empty, absolute or has a
 * '..' component would be written outside the image root: drydock never
 * writes one, so a layer holding one was not made by it.
 */
static bool member_safe(const char *layer, struct archive_entry *e, struct dd_buf *why)
{
	const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	bool named = name && *name;

	while (named && !strncmp(name, "./", 2))
		name += 2; /* "./" alone is the root itself */
	if (named && dd_tar_path_safe(name) && (!hl || (*hl && dd_tar_path_safe(hl))))
		return true;
	dd_buf_addf(why, "%s: member '%s'%s%s%s would be written outside the image root", layer,
		    name ? name : "", hl ? " (a hard link to '" : "", hl ? hl : "", hl ? "')" : "");
	return false;
}

/* "path: what the tar reader says" of a layer that is not a tar archive. */
static int bad_tar(const char *path, struct archive *tar, const struct layer_stream *ls,
		   struct dd_buf *why)
{
	dd_buf_addf(why, "%s: %s", path,
		    ls->failed ? archive_error_string(ls->raw) : archive_error_string(tar));
	if (!ls->failed)
		dd_buf_adds(why, " (not a tar archive)");
	return -1;
}

/* Keep member e when it is one of the files the checks compare. */
static int take_member(const char *path, struct archive *tar, struct archive_entry *e,
		       struct image *img, struct dd_buf *why)
{
	const char *name = archive_entry_pathname(e);
	struct dd_buf data = DD_BUF_INIT;
	char chunk[1 << 14];
	bool db, arch, sbom;
	la_ssize_t n;

	if (!member_safe(path, e, why))
		return -1;
	while (name && !strncmp(name, "./", 2))
		name += 2;
	if (!name || archive_entry_filetype(e) != AE_IFREG || !wanted(name, &db, &arch, &sbom))
		return 0;
	if (archive_entry_size(e) > (la_int64_t)MAX_DOC) {
		dd_buf_addf(why, "%s: %s is too large", path, name);
		return -1;
	}
	while ((n = archive_read_data(tar, chunk, sizeof(chunk))) > 0)
		dd_buf_add(&data, chunk, (size_t)n);
	take_file(img, db, arch, &data);
	dd_buf_release(&data);
	return 0;
}

/* Every member of the layer's tar, read through ls. */
static int read_members(const char *path, struct archive *tar, struct layer_stream *ls,
			struct image *img, struct dd_buf *why)
{
	struct archive_entry *e;
	int rc;

	if (archive_read_open(tar, ls, NULL, layer_read, NULL) != ARCHIVE_OK)
		return bad_tar(path, tar, ls, why);
	while ((rc = archive_read_next_header(tar, &e)) == ARCHIVE_OK) {
		if (take_member(path, tar, e, img, why))
			return -1;
	}
	if (rc != ARCHIVE_EOF)
		return bad_tar(path, tar, ls, why);
	return 0;
}

/* The diff_id: what follows the end of the archive counts for it too. */
static int finish_diff(const char *path, struct archive *tar, struct layer_stream *ls,
		       char diff[72], struct dd_buf *why)
{
	unsigned char d[32];
	const void *p;

	while (layer_read(tar, ls, &p) > 0)
		;
	if (ls->failed) {
		dd_buf_addf(why, "%s: %s", path, archive_error_string(ls->raw));
		return -1;
	}
	EVP_DigestFinal_ex(ls->md, d, NULL);
	memcpy(diff, "sha256:", 7);
	dd_hex(d, 32, diff + 7);
	return 0;
}

/*
 * Read a layer once: the tar reader pulls the decompressed stream through
 * a sha256 (the diff_id) and keeps the apk database, the architecture and
 * the SBOM it finds.
 */
static int scan_layer(const char *path, uint64_t size, char diff[72], struct image *img,
		      struct dd_buf *why)
{
	struct layer_stream ls = { .raw = archive_read_new(), .md = EVP_MD_CTX_new() };
	struct archive *tar = archive_read_new();
	struct archive_entry *e;
	uint64_t got;
	int rc = -1, fd = dd_open_regular(path, size, &got);

	EVP_DigestInit_ex(ls.md, EVP_sha256(), NULL);
	archive_read_support_filter_all(ls.raw);
	archive_read_support_format_raw(ls.raw);
	archive_read_support_format_tar(tar);
	if (fd < 0)
		dd_buf_adds(why, dd_error_detail());
	else if (archive_read_open_fd(ls.raw, fd, 1 << 16) != ARCHIVE_OK ||
		 archive_read_next_header(ls.raw, &e) != ARCHIVE_OK)
		dd_buf_addf(why, "%s: %s", path, archive_error_string(ls.raw));
	else if (!read_members(path, tar, &ls, img, why))
		rc = finish_diff(path, tar, &ls, diff, why);
	archive_read_free(tar);
	archive_read_free(ls.raw);
	EVP_MD_CTX_free(ls.md);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* One image manifest: its config and layers. */
static void check_manifest(struct verify *v, json_t *desc, int *n_blobs, int *n_layers,
			   struct dd_buf *blob_why, struct dd_buf *diff_why)
{
	json_t *m = NULL, *cfg = NULL, *l, *diffs;
	struct image *img;
	char hex[65];
	size_t i;

	(*n_blobs)++;
	if (!check_blob(v, desc, hex, &m, blob_why))
		return;
	v->imgs = dd_xrealloc(v->imgs, (v->n_imgs + 1) * sizeof(*v->imgs));
	img = &v->imgs[v->n_imgs++];
	memset(img, 0, sizeof(*img));
	img->manifest = dd_xstrdup(jstr(desc, "digest")); /* checked by check_blob */
	img->db = json_object();
	img->sbom = json_object();
	(*n_blobs)++;
	if (!check_blob(v, json_object_get(m, "config"), hex, &cfg, blob_why))
		goto out;
	diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (json_array_size(diffs) != json_array_size(json_object_get(m, "layers")) &&
	    !diff_why->len)
		dd_buf_addf(diff_why, "manifest %s has %zu layers, its config %zu diff_ids",
			    img->manifest, json_array_size(json_object_get(m, "layers")),
			    json_array_size(diffs));
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		struct dd_buf path = DD_BUF_INIT;
		const char *want = json_string_value(json_array_get(diffs, i));
		char got[72];

		(*n_blobs)++;
		if (!check_blob(v, l, hex, NULL, blob_why))
			continue;
		(*n_layers)++;
		blob_path(v, hex, &path);
		if (scan_layer(path.ptr, (uint64_t)json_integer_value(json_object_get(l, "size")),
			       got, img, diff_why)) {
			dd_buf_release(&path);
			continue;
		}
		if ((!want || strcmp(want, got)) && !diff_why->len)
			dd_buf_addf(diff_why,
				    "layer %s uncompresses to %s, the config's diff_id "
				    "is %s",
				    jstr(l, "digest"), got, want ? want : "missing");
		dd_buf_release(&path);
	}
out:
	json_decref(m);
	json_decref(cfg);
}

/* Some subject of the statement has this sha256. */
static bool is_subject(struct verify *v, const char *hex)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(v->st, "subject"), i, s)
		if (!strcmp(jstr(json_object_get(s, "digest"), "sha256"), hex))
			return true;
	return false;
}

/* The first subject is the layout's top (manifest or index); an index's
 * manifests are subjects too. */
static void check_subject(struct verify *v, json_t *top, bool index)
{
	const char *digest = jstr(top, "digest");
	char hex[65];

	if (dd_digest_parse(json_string_value(json_object_get(top, "digest")), hex)) {
		check(v, "subject", false, "image/index.json: %s", dd_error_detail());
		return;
	}
	if (!v->st) {
		check(v, "subject", false, "no statement to compare with the layout's %s", digest);
		return;
	}
	if (strcmp(dd_verify_subject_sha(v, NULL), hex)) {
		check(v, "subject", false,
		      "the statement is about sha256:%s, the image layout "
		      "holds %s",
		      dd_verify_subject_sha(v, NULL), digest);
		return;
	}
	for (size_t i = 0; index && i < v->n_imgs; i++) {
		if (!is_subject(v, v->imgs[i].manifest + 7)) {
			check(v, "subject", false,
			      "the index's manifest %s is not a subject of the "
			      "statement",
			      v->imgs[i].manifest);
			return;
		}
	}
	check(v, "subject", true, "the statement is about this image, %s", digest);
}

void dd_verify_layout(struct verify *v)
{
	struct dd_buf why = DD_BUF_INIT, blob_why = DD_BUF_INIT, diff_why = DD_BUF_INIT;
	struct dd_buf index = DD_BUF_INIT;
	json_t *top, *sub = NULL, *d;
	int n_blobs = 0, n_layers = 0;
	size_t i;

	if (!v->layout) {
		check(v, "subject", false, "%s", v->unpack_why ? v->unpack_why : "no image layout");
		check(v, "blobs", false, "no layout to check");
		check(v, "diff_ids", false, "no layout to check");
		return;
	}
	dd_buf_addf(&index, "%s/index.json", v->layout);
	v->index = dd_verify_load_json(index.ptr, &why);
	dd_buf_release(&index);
	top = json_array_get(json_object_get(v->index, "manifests"), 0);
	if (!top) {
		check(v, "subject", false, "image/index.json: %s",
		      why.len ? why.ptr : "no manifest in the layout");
		check(v, "blobs", false, "no layout to check");
		dd_buf_release(&why);
		return;
	}
	if (!strcmp(jstr(top, "mediaType"), DD_OCI_INDEX)) {
		n_blobs++;
		char hex[65];

		if (check_blob(v, top, hex, &sub, &blob_why))
			json_array_foreach(json_object_get(sub, "manifests"), i, d)
				check_manifest(v, d, &n_blobs, &n_layers, &blob_why, &diff_why);
	} else {
		check_manifest(v, top, &n_blobs, &n_layers, &blob_why, &diff_why);
	}
	check_subject(v, top, sub != NULL);
	if (blob_why.len)
		check(v, "blobs", false, "%s", blob_why.ptr);
	else
		check(v, "blobs", true, "%d blobs match their digests and sizes", n_blobs);
	if (diff_why.len || !n_layers)
		check(v, "diff_ids", false, "%s",
		      diff_why.len ? diff_why.ptr : "no layer could be read");
	else
		check(v, "diff_ids", true, "%d layers match their diff_ids", n_layers);
	json_decref(sub);
	dd_buf_release(&why);
	dd_buf_release(&blob_why);
	dd_buf_release(&diff_why);
}
