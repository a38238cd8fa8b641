/*
 * The runtime skeleton: the paths apko puts into every image besides
 * the packages' files (docs/building.md lists them with their modes).
 *
 *   directories  tmp (1777), proc (0555), dev, opt, etc/apk/keys,
 *                usr/lib/apk/db, usr/lib/apk/exec, var/cache/apk,
 *                var/cache/misc (0755, parents as needed)
 *   links        lib/apk -> ../usr/lib/apk
 *   files        usr/lib/apk/db/lock (0600, empty), etc/apk/repositories,
 *                etc/passwd and etc/group (empty)
 *   apk database usr/lib/apk/db/triggers and usr/lib/apk/db/scripts.tar
 *                (the packages' install scripts, named as apk-tools
 *                names them), written with the installed database;
 *                etc/apk/keys/<name>: the keys that signed the packages
 *
 * Packages win: a path a package ships keeps the package's type, mode
 * and owner, and a skeleton path below a package's symlink is left out.
 * Device nodes are not written (the runtime mounts /dev).  Every entry
 * is root-owned and dated with the layer's epoch.
 */
#ifndef DD_IMAGE_SKELETON_H
#define DD_IMAGE_SKELETON_H

#include "core/buf.h"
#include "image/rootfs.h"

/*
 * Write the skeleton paths the tree does not hold yet, after the
 * layer's packages.  repositories is etc/apk/repositories' content
 * (NULL or "": an empty file); a non-empty one replaces a package's.
 * With accounts_follow, etc/passwd and etc/group are left to the job's
 * accounts, written next into the same layer.
 */
int dd_skeleton_write(struct dd_rootfs *r, const char *repositories, bool accounts_follow);

/* Record the skeleton as a lower layer wrote it, without writing. */
void dd_skeleton_note(struct dd_rootfs *r);

/*
 * etc/apk/keys/<name> for each key (in the mirror's keys/apk) that
 * signed a package at plan positions [from, to), unless the tree holds
 * the path; the names written or already there are added to *names
 * (newline-separated, for the log).
 */
int dd_skeleton_keys(struct dd_rootfs *r, int from, int to, struct dd_buf *names);

/* Record the key files a lower layer wrote for positions [0, to). */
void dd_skeleton_note_keys(struct dd_rootfs *r, int to);

/*
 * usr/lib/apk/db/scripts.tar and usr/lib/apk/db/triggers for plan
 * positions [0, n), as apk-tools keeps them: each script as
 * "<name>-<version>.<Q1 checksum>.<script>" (mode 0755, dated mtime),
 * each package with triggers as "<Q1 checksum> <path>...".  Scripts are
 * read from the control segment of each package's blob, which must
 * match the checksum the mirror recorded (DD_E_DIGEST otherwise).
 */
int dd_skeleton_apk_scripts(const struct dd_pkgset *ps, int n, int64_t mtime,
			    struct dd_buf *scripts_tar, struct dd_buf *triggers);

#endif
