/* Checking and cleaning a mirror. */
#ifndef DD_STORE_FSCK_H
#define DD_STORE_FSCK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct dd_fsck {
	json_t *problems; /* strings: anything that makes the mirror unusable */
	json_t *notes;    /* strings: harmless leftovers, e.g. of an interrupted import */
	int64_t blobs, bytes;
	int64_t interrupted; /* import attempts that did not end in an import */
};

/*
 * Check the index (SQLite integrity and references) and that each blob
 * it names exists with the recorded size; with deep, re-hash each one.
 * Check the audit log against the index: an import attempt with no
 * outcome is a note (it was interrupted), a bundle the log says was
 * imported and the index lacks is a problem (the index lost it).
 * Staging files are notes; unreferenced blobs are notes when an
 * interrupted or refused import explains them, else problems.
 */
int dd_store_fsck(struct dd_store *s, bool deep, struct dd_fsck *r);
void dd_fsck_release(struct dd_fsck *r);

/*
 * Record the outcome "interrupted" for every import attempt of the audit
 * log that has none (the caller holds the write lock, so none is still
 * running); n receives how many.
 */
int dd_store_end_attempts(struct dd_store *s, int64_t *n);

/* Remove unreferenced blobs (the caller holds the write lock). */
int dd_store_gc(struct dd_store *s, int64_t *files, int64_t *bytes);

/*
 * Prune the crust layer cache (cache/layers/): entries not used by a
 * build for more than max_age seconds (0: every entry), and what a
 * killed build left half-written.  The caller holds the write lock, so
 * no build is filling the cache meanwhile.
 */
int dd_store_gc_layers(struct dd_store *s, int64_t max_age, int64_t *files, int64_t *bytes);

#endif
