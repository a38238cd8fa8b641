/*
 * OUT's shared blobs and retention (batch/batch.h).  Each distinct blob
 * and oci-archive of OUT is stored once in OUT/.blobs/sha256/; runs hold
 * hard links to it, so a blob's link count says whether a run still
 * needs it and pruning is a walk, with no index to keep consistent.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/batch.h"
#include "core/error.h"
#include "core/file.h"

/* Make run_file a link to OUT's blob hex, giving OUT the blob when it
 * has none yet. */
static int share(const char *store, const char *hex, const char *run_file)
{
	struct dd_buf blob = DD_BUF_INIT, tmp = DD_BUF_INIT;
	struct stat a, b;
	int rc = 0;

	dd_buf_addf(&blob, "%s/%s", store, hex);
	if (!link(run_file, blob.ptr))
		goto out;
	if (errno != EEXIST) {
		rc = dd_error_errno("%s", blob.ptr);
		goto out;
	}
	if (stat(run_file, &a) || stat(blob.ptr, &b)) {
		rc = dd_error_errno("%s", run_file);
		goto out;
	}
	if (a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		goto out;
	if (a.st_size != b.st_size) {
		/* a damaged copy in OUT's store: the run's own file replaces it */
		dd_buf_addf(&tmp, "%s.tmp", blob.ptr);
		unlink(tmp.ptr);
		if (link(run_file, tmp.ptr) || rename(tmp.ptr, blob.ptr))
			rc = dd_error_errno("%s", blob.ptr);
		goto out;
	}
	dd_buf_addf(&tmp, "%s.share", run_file);
	unlink(tmp.ptr);
	if (link(blob.ptr, tmp.ptr) || rename(tmp.ptr, run_file))
		rc = dd_error_errno("%s", run_file);
out:
	dd_buf_release(&blob);
	dd_buf_release(&tmp);
	return rc;
}

int dd_batch_share_blobs(const char *out, const char *run_dir, const char *archive_sha)
{
	struct dd_buf store = DD_BUF_INIT, dir = DD_BUF_INIT, f = DD_BUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	int rc;

	dd_buf_addf(&store, "%s/.blobs/sha256", out);
	if ((rc = dd_mkdirs(store.ptr, 0755)))
		goto out;
	dd_buf_addf(&dir, "%s/image/blobs/sha256", run_dir);
	if (!(d = opendir(dir.ptr))) {
		rc = dd_error_errno("%s", dir.ptr);
		goto out;
	}
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		dd_buf_reset(&f);
		dd_buf_addf(&f, "%s/%s", dir.ptr, de->d_name);
		rc = share(store.ptr, de->d_name, f.ptr);
	}
	if (!rc && archive_sha && strlen(archive_sha) == 64) {
		dd_buf_reset(&f);
		dd_buf_addf(&f, "%s/image.oci.tar", run_dir);
		rc = share(store.ptr, archive_sha, f.ptr);
	}
out:
	if (d)
		closedir(d);
	dd_buf_release(&store);
	dd_buf_release(&dir);
	dd_buf_release(&f);
	return rc;
}

/* ---- retention ---------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run folders of a job, oldest first (run ids sort by time). */
static char **runs_of(const char *jobdir, bool failed, size_t *n)
{
	DIR *d = opendir(jobdir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		bool f = len > 7 && !strcmp(de->d_name + len - 7, "-failed");

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "latest") || f != failed)
			continue;
		DD_GROW(v, *n);
		v[(*n)++] = dd_xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

static void prune_job(const char *out, const char *job, int keep, json_t *runs)
{
	struct dd_buf dir = DD_BUF_INIT, p = DD_BUF_INIT;
	char latest[256] = "";
	ssize_t l;

	dd_buf_addf(&dir, "%s/%s", out, job);
	dd_buf_addf(&p, "%s/latest", dir.ptr);
	if ((l = readlink(p.ptr, latest, sizeof(latest) - 1)) > 0)
		latest[l] = 0;
	for (int failed = 0; failed < 2; failed++) {
		size_t n, kept = 0;
		char **v = runs_of(dir.ptr, failed, &n);

		/* latest counts as one of the kept runs whatever its place in
		 * the order (two runs of one second sort by their random part) */
		for (size_t i = 0; i < n; i++)
			kept += !strcmp(v[i], latest);
		for (size_t i = n; i-- > 0;) {
			bool is_latest = !strcmp(v[i], latest);

			if (is_latest) {
				continue;
			} else if (kept < (size_t)keep) {
				kept++;
			} else {
				dd_buf_reset(&p);
				dd_buf_addf(&p, "%s/%s", dir.ptr, v[i]);
				dd_remove_tree(p.ptr);
				json_array_append_new(runs, json_sprintf("%s/%s", job, v[i]));
			}
		}
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	dd_fsync_dir(dir.ptr);
	dd_buf_release(&dir);
	dd_buf_release(&p);
}

int dd_batch_prune(const char *out, int keep, json_t **pruned)
{
	struct dd_buf p = DD_BUF_INIT;
	json_t *runs = json_array();
	json_int_t blobs = 0, bytes = 0;
	struct dirent *de;
	DIR *d = opendir(out);

	if (!d) {
		json_decref(runs);
		return dd_error_errno("%s", out);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		dd_buf_reset(&p);
		dd_buf_addf(&p, "%s/%s", out, de->d_name);
		if (!lstat(p.ptr, &st) && S_ISDIR(st.st_mode))
			prune_job(out, de->d_name, keep, runs);
	}
	closedir(d);
	/* a blob only OUT/.blobs links to belongs to no run */
	dd_buf_reset(&p);
	dd_buf_addf(&p, "%s/.blobs/sha256", out);
	d = opendir(p.ptr);
	while (d && (de = readdir(d))) {
		struct dd_buf f = DD_BUF_INIT;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		dd_buf_addf(&f, "%s/%s", p.ptr, de->d_name);
		if (!stat(f.ptr, &st) && st.st_nlink == 1 && !unlink(f.ptr)) {
			blobs++;
			bytes += st.st_size;
		}
		dd_buf_release(&f);
	}
	if (d)
		closedir(d);
	dd_buf_release(&p);
	*pruned = json_pack("{s:o, s:I, s:I}", "runs", runs, "blobs", blobs, "bytes", bytes);
	return 0;
}
