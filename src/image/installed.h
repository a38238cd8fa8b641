/*
 * What an APK-based image has installed, read from its apk database
 * (usr/lib/apk/db/installed, or lib/apk/db/installed as older Alpine
 * keeps it) in the image's layers, whoever built the image.  The image
 * is an OCI image layout (a directory), a drydock run folder (its
 * image/), or an oci-archive (a tar of a layout, read in two passes:
 * the small JSON documents, then the layers, each streamed once).
 */
#ifndef DD_IMAGE_INSTALLED_H
#define DD_IMAGE_INSTALLED_H

#include <stddef.h>

struct dd_installed_pkg {
	char *name, *version, *origin, *arch; /* origin, arch: NULL when absent */
};

struct dd_installed_image {
	char *manifest; /* sha256:… of the image manifest */
	char *platform; /* "linux/amd64", from the index or the config */
	char *db_path;  /* the database read; NULL when the image has none */
	struct dd_installed_pkg *pkgs;
	size_t n;
};

struct dd_installed {
	struct dd_installed_image *images; /* one per manifest the layout lists */
	size_t n;
};

/* Read every image of path.  An image without an apk database is kept
 * with db_path NULL; a path that is no image is an error naming it. */
int dd_installed_read(const char *path, struct dd_installed *out);
void dd_installed_release(struct dd_installed *in);

/* Parse apk installed-database text (P:, V:, o:, A: of each block). */
int dd_installed_parse(const char *text, size_t len, struct dd_installed_image *img);

#endif
