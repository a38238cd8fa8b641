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
	int64_t id;      /* packages.id in the index */
	char sha256[65]; /* the .apk blob */
	char bundle[65]; /* the bundle that delivered it */
	char *channel;
	int64_t sequence;
	char *signer;   /* APK key name; NULL when stored unsigned */
	bool guarded;   /* listed by the current entitlement manifest */
	int64_t nfiles; /* files rows recorded at import; -1: not recorded */
};

struct dd_catalog {
	struct dd_apk_pkg *pkgs;     /* sorted by name, version */
	struct dd_catalog_pkg *info; /* parallel to pkgs */
	size_t n;
	bool has_entitlement;
	int64_t ent_version, ent_expires;
	char ent_sha256[65]; /* the entitlement manifest's blob */
	char ent_bundle[65]; /* the bundle that brought it */
	char *organization;
	int64_t judged_at; /* when the entitlement's expiry is judged; 0: now */
};

/*
 * What a run recorded it was built from (its provenance's
 * resolvedDependencies): exactly these package blobs, each with the
 * bundle that brought it, and this entitlement manifest.  Names and
 * labels only make the messages say which package and which bundle.
 */
struct dd_pin_pkg {
	const char *sha256;       /* the .apk blob */
	const char *name;         /* e.g. hello-drydock-1.2.3-r0.apk */
	const char *bundle;       /* the bundle manifest's sha256 */
	const char *bundle_label; /* e.g. stable#1; NULL: unknown */
};

struct dd_catalog_pin {
	const struct dd_pin_pkg *pkgs;
	size_t n;
	const char *ent_sha256; /* NULL: the run recorded no entitlement manifest */
	const char *ent_label;  /* e.g. version 1 of Example Org, from stable#1 */
	int64_t at;             /* when the run was built: expiry is judged then */
};

int dd_catalog_load(struct dd_store *s, struct dd_catalog *c);

/*
 * Narrow a loaded catalog to what pin recorded: only its package blobs
 * (the same blob from the recorded bundle when the mirror holds it from
 * several), the recorded entitlement manifest in place of the newest one
 * (guarded and the base packages follow it), and its expiry judged at
 * pin->at.  A package whose index row or blob is gone, or an entitlement
 * manifest the mirror lacks, is DD_E_NOTFOUND, naming the package, its
 * blob and the bundle that carried it.  The resolver then has nothing to
 * choose from but the recorded set.
 */
int dd_catalog_pin(struct dd_store *s, struct dd_catalog *c, const struct dd_catalog_pin *pin);
void dd_catalog_release(struct dd_catalog *c);

/* Base (crust) package names of image in the current entitlement;
 * DD_E_NOTFOUND when the manifest has no such image. */
int dd_catalog_image_base(struct dd_store *s, const struct dd_catalog *c, const char *image,
			  char ***names, size_t *n);

#endif
