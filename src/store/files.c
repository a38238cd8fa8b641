#include "store/files.h"

#include <stdlib.h>
#include <string.h>

#include "apk/tar.h"
#include "core/buf.h"
#include "store/db.h"

#define FILE_COLUMNS "pkg, path, type, mode, uid, gid, size, sha1, link"

static void id_list(const struct dd_catalog *cat, const size_t *which, size_t n, struct dd_buf *sql)
{
	for (size_t k = 0; k < n; k++)
		dd_buf_addf(sql, "%s%lld", k ? "," : "", (long long)cat->info[which[k]].id);
}

static size_t position_of(const struct dd_catalog *cat, const size_t *which, size_t n, int64_t id)
{
	for (size_t k = 0; k < n; k++)
		if (cat->info[which[k]].id == id)
			return k;
	return n;
}

/* Each row through fn; counts[k] += 1 for the row's package k. */
static int walk(struct dd_store *s, const char *sql, const struct dd_catalog *cat,
		const size_t *which, size_t n, int64_t *counts, dd_index_file_fn fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc = dd_db_prepare(s, sql, &st);

	if (rc)
		return rc;
	while ((rc = dd_db_step(s, st, "read the packages' file lists")) > 0) {
		size_t k = position_of(cat, which, n, sqlite3_column_int64(st, 0));
		struct dd_index_file f = {
			.path = (const char *)sqlite3_column_text(st, 1),
			.mode = (unsigned)sqlite3_column_int(st, 3),
			.uid = (uint32_t)sqlite3_column_int64(st, 4),
			.gid = (uint32_t)sqlite3_column_int64(st, 5),
			.size = (uint64_t)sqlite3_column_int64(st, 6),
			.sha1 = (const char *)sqlite3_column_text(st, 7),
			.link = (const char *)sqlite3_column_text(st, 8),
		};
		const char *type = (const char *)sqlite3_column_text(st, 2);

		if (k == n || !f.path || !type) {
			rc = dd_db_damaged(s, "a file row of package %lld has no %s",
					   (long long)sqlite3_column_int64(st, 0),
					   k == n   ? "package in this build"
					   : f.path ? "type"
						    : "path");
			break;
		}
		f.type = dd_tar_type_parse(type);
		counts[k]++;
		rc = fn(ctx, k, &f);
		if (rc)
			break;
	}
	sqlite3_finalize(st);
	return rc;
}

int dd_index_files_of(struct dd_store *s, const struct dd_catalog *cat, const size_t *which,
		      size_t n, dd_index_file_fn fn, void *ctx)
{
	struct dd_buf sql = DD_BUF_INIT;
	int64_t *counts;
	int rc;

	if (!n)
		return 0;
	counts = dd_xcalloc(n, sizeof(*counts));
	dd_buf_adds(&sql, "SELECT " FILE_COLUMNS " FROM files WHERE pkg IN (");
	id_list(cat, which, n, &sql);
	dd_buf_adds(&sql, ") ORDER BY rowid");
	rc = walk(s, sql.ptr, cat, which, n, counts, fn, ctx);
	for (size_t k = 0; !rc && k < n; k++) {
		const struct dd_apk_pkg *p = &cat->pkgs[which[k]];
		int64_t want = cat->info[which[k]].nfiles;

		if (want >= 0 && counts[k] != want)
			rc = dd_db_damaged(s,
					   "package %s-%s has %lld file rows, %lld were "
					   "recorded at import",
					   p->name, p->version, (long long)counts[k],
					   (long long)want);
	}
	free(counts);
	dd_buf_release(&sql);
	return rc;
}

int dd_index_shared_paths(struct dd_store *s, const struct dd_catalog *cat, const size_t *which,
			  size_t n, dd_index_file_fn fn, void *ctx)
{
	struct dd_buf sql = DD_BUF_INIT, ids = DD_BUF_INIT;
	int64_t *counts;
	int rc;

	if (!n)
		return 0;
	counts = dd_xcalloc(n, sizeof(*counts));
	id_list(cat, which, n, &ids);
	dd_buf_addf(&sql,
		    "SELECT " FILE_COLUMNS " FROM files WHERE pkg IN (%s) AND path IN "
		    "(SELECT path FROM files WHERE pkg IN (%s) GROUP BY path "
		    "HAVING count(*) > 1) ORDER BY path",
		    ids.ptr, ids.ptr);
	rc = walk(s, sql.ptr, cat, which, n, counts, fn, ctx);
	free(counts);
	dd_buf_release(&sql);
	dd_buf_release(&ids);
	return rc;
}
