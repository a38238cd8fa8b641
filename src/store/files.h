/*
 * The files the index records for each package (its .PKGINFO-independent
 * file list, read from the package's data at import).  Rows come in
 * import order through a callback; every package's number of rows is
 * checked against the count recorded at import, so that rows a damaged
 * index lost (or gained) fail the read instead of changing an image.
 */
#ifndef DD_STORE_FILES_H
#define DD_STORE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "store/catalog.h"

struct dd_index_file {
	const char *path; /* no leading '/' */
	char type;        /* DD_TAR_* */
	unsigned mode;
	uint32_t uid, gid;
	uint64_t size;
	const char *sha1; /* hex, or NULL */
	const char *link; /* symlink or hard link target, or NULL */
};

/*
 * Called per row with k, the row's package as an index into the which[]
 * array given; the strings live until fn returns.  A non-zero return
 * stops the walk and is returned.
 */
typedef int (*dd_index_file_fn)(void *ctx, size_t k, const struct dd_index_file *f);

/*
 * The files of the catalog packages which[0..n) (indexes into cat), in
 * the order they were imported.  DD_E_FORMAT when a package's row count
 * differs from the one recorded at import (a package imported before
 * counts were recorded is not checked).
 */
int dd_index_files_of(struct dd_store *s, const struct dd_catalog *cat, const size_t *which,
		      size_t n, dd_index_file_fn fn, void *ctx);

/*
 * Of the same packages, the rows of paths that more than one of them
 * ships, ordered by path: what deciding owners needs.
 */
int dd_index_shared_paths(struct dd_store *s, const struct dd_catalog *cat, const size_t *which,
			  size_t n, dd_index_file_fn fn, void *ctx);

#endif
