/*
 * What a mirror holds, asked the way an import's change report needs
 * it: the versions held of a package, and the current entitlement's
 * images and guarded package-versions.
 */
#ifndef DD_STORE_HELD_H
#define DD_STORE_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct dd_strs {
	char **v;
	size_t n;
};

void dd_strs_add(struct dd_strs *l, const char *s);
bool dd_strs_has(const struct dd_strs *l, const char *s);
void dd_strs_release(struct dd_strs *l);

/* The versions of name for arch in the mirror, in out (appended). */
int dd_held_versions(struct dd_store *s, const char *name, const char *arch, struct dd_strs *out);
/* Is some arch of name-version in the mirror? */
int dd_held_package(struct dd_store *s, const char *name, const char *version, bool *held);

/* Has the bundle with this manifest digest been imported? */
int dd_held_bundle(struct dd_store *s, const char *digest, bool *held);

struct dd_held_entitlement {
	bool present;
	uint64_t version;
	struct dd_strs images;  /* image names */
	struct dd_strs guarded; /* "name=version" */
};

/* The current (newest) entitlement manifest of the mirror. */
int dd_held_entitlement(struct dd_store *s, struct dd_held_entitlement *e);
void dd_held_entitlement_release(struct dd_held_entitlement *e);

#endif
