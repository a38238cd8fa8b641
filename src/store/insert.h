/*
 * Recording an import in the index, and reading what an import must
 * respect (sequences, package identities, the current entitlement).
 * The writer calls these between dd_store_begin() and dd_store_commit():
 * an import is one transaction.
 */
#ifndef DD_STORE_INSERT_H
#define DD_STORE_INSERT_H

#include <stdbool.h>
#include <stdint.h>

#include "apk/read.h"
#include "store/store.h"

/* Lookups: 1 when found (outputs set), 0 when not, negative on error. */
int dd_index_bundle_sequence(struct dd_store *s, const char *digest, int64_t *sequence);
int dd_index_channel_head(struct dd_store *s, const char *channel, int64_t *sequence,
			  char digest[65]);
int dd_index_latest_entitlement(struct dd_store *s, int64_t *version, char sha256[65]);
/* The blob of the package name-version (arch) already in the mirror. */
int dd_index_package_blob(struct dd_store *s, const char *name, const char *version,
			  const char *arch, char sha256[65]);

struct dd_index_bundle {
	const char *digest, *channel, *signer;
	int64_t sequence, created, expires; /* seconds since the epoch */
	bool expired_allowed;
};

/* The bundle, and its channel's head moved to it. */
int dd_index_insert_bundle(struct dd_store *s, const struct dd_index_bundle *b);
/* A blob the index refers to (kept when already recorded). */
int dd_index_insert_blob(struct dd_store *s, const char *sha256, uint64_t size, const char *kind);
int dd_index_insert_member(struct dd_store *s, const char *bundle, const char *path,
			   const char *sha256, uint64_t size, const char *kind);

struct dd_index_package {
	const struct dd_apk_file *apk; /* its .PKGINFO, checksum and file list */
	const char *sha256;            /* the .apk blob */
	uint64_t size;
	const char *signer; /* APK key name; NULL when unsigned */
	const char *bundle;
};

/* The package, its relations and its files (with their count). */
int dd_index_insert_package(struct dd_store *s, const struct dd_index_package *p);

struct dd_index_entitlement {
	int64_t version, issued, expires;
	const char *organization, *sha256, *signer, *bundle;
};

int dd_index_insert_entitlement(struct dd_store *s, const struct dd_index_entitlement *e);
/* One package of an entitled image; pkgversion NULL for a base package. */
int dd_index_insert_entitled(struct dd_store *s, int64_t version, const char *image,
			     const char *name, const char *pkgversion, bool base);

/* Which blob holds the signature of bundle manifest digest. */
int dd_index_record_signature(struct dd_store *s, const char *digest, const char *sig_sha256);

#endif
