/*
 * What the mirror offers a build: every package (as APK metadata, for
 * the resolver) with where it came from and whether the current
 * entitlement guards it, and the current entitlement manifest.
 */
#ifndef DD_STORE_CATALOG_H
#define DD_STORE_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "apk/pkg.h"
#include "store/store.h"

struct dd_catalog_pkg {
	int64_t id;           /* packages.id in the index */
	char sha256[65];      /* the .apk blob */
	char bundle[65];      /* the bundle that delivered it */
	char *channel;
	int64_t sequence;
	char *signer;         /* APK key name; NULL when stored unsigned */
	bool guarded;         /* listed by the current entitlement manifest */
	int64_t nfiles;       /* files rows recorded at import; -1: not recorded */
};

struct dd_catalog {
	struct dd_apk_pkg *pkgs;       /* sorted by name, version */
	struct dd_catalog_pkg *info;   /* parallel to pkgs */
	size_t n;
	bool has_entitlement;
	int64_t ent_version, ent_expires;
	char ent_sha256[65];           /* the entitlement manifest's blob */
	char ent_bundle[65];           /* the bundle that brought it */
	char *organization;
};

int dd_catalog_load(struct dd_store *s, struct dd_catalog *c);
void dd_catalog_release(struct dd_catalog *c);

/* Base (crust) package names of image in the current entitlement;
 * DD_E_NOTFOUND when the manifest has no such image. */
int dd_catalog_image_base(struct dd_store *s, const struct dd_catalog *c, const char *image,
			  char ***names, size_t *n);

#endif
