/*
 * drydock build, the layer cache: layers kept in the mirror's cache/layers/
 * under a key of everything their bytes depend on.
 */
#include "image/build_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "image/oci.h"

/* ---- the crust layer cache ------------------------------------------------- */

void build_cache_key(const struct build *b, const struct dd_plan *p, size_t n, int64_t mtime,
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

static void cache_path(const struct build *b, const char *key, const char *ext, struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s/cache/layers/%s%s", dd_store_root(b->store), key, ext);
}

/* Take the cached layer for key into the run, checking its digest. */
bool build_cache_get(struct build *b, const char *key, struct dd_blob_desc *out)
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
	if (json_unpack(j, "{s:s, s:s, s:I, s:I}", "digest", &digest, "diff_id", &diff_id, "size",
			&size, "uncompressed_size", &usize) ||
	    strlen(digest) != 71 || strlen(diff_id) != 71) {
		build_warn(b, "layer cache entry %s is unreadable; rebuilding the layer", path.ptr);
		goto out;
	}
	cache_path(b, key, ".layer", &path);
	if (dd_blob_link_in(b->blobs, path.ptr, digest)) {
		build_warn(b, "layer cache: %s; rebuilding the layer", dd_error_detail());
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

void build_cache_put(struct build *b, const char *key, const struct dd_blob_desc *d, size_t n_pkgs)
{
	struct dd_buf dir = DD_BUF_INIT, src = DD_BUF_INIT, dst = DD_BUF_INIT;
	json_t *j;
	int rc;

	dd_buf_addf(&dir, "%s/cache/layers", dd_store_root(b->store));
	if (!mirror_writable(dd_store_root(b->store), dir.ptr)) {
		build_log(b,
			  "note: the mirror %s is read-only for this build (%s): the layer "
			  "is not kept in its layer cache",
			  dd_store_root(b->store), strerror(errno));
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
		build_warn(b,
			   "could not keep the layer %s in the mirror's cache (%s); the next "
			   "build will make it again",
			   d->digest, dd_error_detail());
	else
		build_log(b, "layer %s kept in the layer cache as %s", d->digest, key);
out:
	dd_buf_release(&dir);
	dd_buf_release(&src);
	dd_buf_release(&dst);
}
