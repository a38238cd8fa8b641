/*
 * The image's file tree, written as layer tar entries.
 *
 * Packages are streamed from the mirror's blobs straight into a layer
 * (no scratch root), in install order, each package's entries in its
 * own archive order, as apk-tools installs them:
 *   - a directory shipped by several packages is written once, with the
 *     mode and owner of the first;
 *   - parent directories a package does not ship are created (0755,
 *     root) just before the first entry below them;
 *   - a path shipped by several packages goes to one winner, decided
 *     before anything is written (dd_plan_owners()): identical content
 *     keeps the first, `replaces` gives it to the replacing package,
 *     anything else is a conflict, and so is a directory in one package
 *     where another has a file or link;
 *   - times are the build's epoch; owners stay numeric (no user names).
 * Generated files (the installed database, accounts, job paths) follow
 * the packages.  The tree remembers every path written so far, across
 * layers, so an upper layer never repeats what a lower one holds.
 */
#ifndef DD_IMAGE_ROOTFS_H
#define DD_IMAGE_ROOTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/map.h"
#include "image/layer.h"
#include "job/plan.h"

struct dd_node {
	char type; /* enum dd_tar_type */
	unsigned mode;
	uint32_t uid, gid;
	int owner; /* plan position of the package, -1: made by drydock,
		      DD_OWNER_SKELETON: image/skeleton.h */
	uint64_t size;
	char *link; /* symlink target, for lookups */
};

/* A skeleton path: a package that ships it later wins over it. */
#define DD_OWNER_SKELETON (-2)

struct dd_tree {
	struct dd_map paths; /* path -> struct dd_node * */
};

void dd_tree_release(struct dd_tree *t);
const struct dd_node *dd_tree_get(const struct dd_tree *t, const char *path);

/* What a build knows of the packages it installs. */
struct dd_pkgset {
	struct dd_store *store;
	const struct dd_catalog *cat;
	const struct dd_plan *plan;
};

/* Writing entries into one layer. */
struct dd_rootfs {
	struct dd_tree *tree;
	struct dd_layer_writer *lw;
	const struct dd_pkgset *ps;
	const struct dd_map *winners; /* from dd_plan_owners() */
	int64_t mtime;
	int pos;           /* plan position being streamed */
	dd_check_fn check; /* deadline, called per entry */
	void *check_ctx;
	uint64_t entries;
};

/* Stream the package at plan position pos from its blob into the layer. */
int dd_rootfs_add_package(struct dd_rootfs *r, int pos);

/*
 * Record (without writing) the paths of the packages at plan positions
 * [from, to) as a lower layer built earlier holds them: for an upper
 * layer over a cached one.
 */
int dd_rootfs_preload(struct dd_rootfs *r, int from, int to);

/*
 * The same for the packages at plan positions pos[0..n); with structure,
 * only their directories and symlinks: what a layer built on its own
 * needs to know of the layers below it (image/build_origin.c, layering).
 */
int dd_rootfs_preload_list(struct dd_rootfs *r, const int *pos, size_t n, bool structure);

/* sha256 of every path of t with its type, mode, owner and link target. */
void dd_tree_digest(const struct dd_tree *t, char hex[65]);

/* Record a file drydock wrote into a lower layer, parents included. */
void dd_rootfs_note_file(struct dd_rootfs *r, const char *path);

/* Record path (parents included) as a lower layer holds it. */
void dd_rootfs_note(struct dd_rootfs *r, const char *path, char type, unsigned mode, int owner,
		    const char *link);

/* Set the owner of a path the tree holds. */
void dd_rootfs_set_owner(struct dd_rootfs *r, const char *path, int owner);

/* Generated entries (owner -1). A file replaces whatever is there;
 * parents are created as needed. */
int dd_rootfs_put_file(struct dd_rootfs *r, const char *path, unsigned mode, uint32_t uid,
		       uint32_t gid, const void *data, size_t len);
int dd_rootfs_put_dir(struct dd_rootfs *r, const char *path, unsigned mode, uint32_t uid,
		      uint32_t gid);
int dd_rootfs_put_link(struct dd_rootfs *r, const char *path, char type, const char *target);

/*
 * The content of `path` as written so far, read back from the package
 * that shipped it (at most max bytes); DD_E_NOTFOUND when no package
 * did.
 */
int dd_rootfs_read_path(const struct dd_rootfs *r, const char *path, uint64_t max,
			struct dd_buf *out);

/*
 * The apk installed database (lib/apk/db/installed format) for the
 * packages at plan positions [0, n): each package's index entry, then
 * its directories (F:, M:) and files (R:, a:, Z:), files lost to
 * another package left out.
 */
int dd_rootfs_installed_db(const struct dd_pkgset *ps, const struct dd_map *winners, int n,
			   struct dd_buf *out);

#endif
