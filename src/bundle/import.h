/*
 * Checking a bundle, and importing it into a mirror.
 *
 * dd_bundle_check() reads the bundle once, as a stream: the manifest
 * and its signature first (nothing else is read unless a trusted bundle
 * key signed it), then every member, hashed while it is staged to disk
 * and refused on any mismatch; then each package's own signature,
 * datahash and files, the upstream index and the entitlement manifest.
 * With a store it also applies the mirror's rules (sequence, expiry,
 * entitlement version).  Nothing is written outside the staging
 * directory.
 *
 * dd_bundle_commit() then moves the staged blobs into the store and
 * records everything in one index transaction.
 */
#ifndef DD_BUNDLE_IMPORT_H
#define DD_BUNDLE_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "apk/read.h"
#include "bundle/manifest.h"
#include "store/store.h"
#include "trust/trust.h"

struct dd_import_opts {
	bool allow_expired;           /* import an expired bundle (audited) */
	bool allow_unsigned_packages; /* accept packages the bundle marks unsigned */
	bool progress;                /* show progress on stderr */
	const char *space_dir;        /* where the blobs would go, for the free-space
				       * check (NULL: the staging directory) */
	bool repair;                  /* re-checking an imported bundle to restore its
				       * blobs: an entitlement that has expired since
				       * is no reason to refuse */
};

enum dd_verdict {
	DD_VERDICT_OK,      /* checked (and, for an import, imported) */
	DD_VERDICT_ALREADY, /* this exact bundle is already in the mirror */
	DD_VERDICT_REFUSED,
};

struct dd_checked_member {
	struct dd_member *m;     /* in manifest */
	struct dd_staged staged; /* the verified file, in the staging dir */
	struct dd_apk_file apk;  /* for packages and indexes */
	const char *signer;      /* apk key name, or NULL for unsigned packages */
	bool new_package;        /* not yet in the mirror */
};

struct dd_bundle_src;

struct dd_checked {
	struct dd_bundle_src *src; /* open from dd_bundle_open to the end of the check */
	int open_rc;               /* what dd_bundle_open found, for the check to report */
	char *open_detail;
	char digest[65]; /* sha256 of manifest.json */
	char signer[41]; /* bundle key fingerprint */
	struct dd_buf manifest_text, manifest_sig;
	struct dd_manifest manifest;
	struct dd_checked_member *members; /* in manifest order */
	bool expired;                      /* and allowed */
	bool has_entitlement;
	struct dd_entitlement entitlement;
	char entitlement_signer[41];
	bool entitlement_is_new;
	uint64_t bytes;
	enum dd_verdict verdict;
};

/*
 * Open the bundle at path ("-": a tar on standard input) and read its
 * manifest and signature, nothing more: a bundle is read once, front to
 * back, so it may come from a pipe or a FIFO.  hint (may be NULL)
 * receives the manifest as read, unverified, for putting bundles in
 * order before any is checked (zeroed when it cannot be parsed).  A
 * failure is also kept in c: dd_bundle_check_open reports it.
 */
int dd_bundle_open(const char *path, struct dd_checked *c, struct dd_manifest *hint);

/* Check the bundle dd_bundle_open opened in c, as dd_bundle_check. */
int dd_bundle_check_open(const struct dd_trust *t, struct dd_store *s, const char *stage_dir,
			 const struct dd_import_opts *o, struct dd_checked *c);

/*
 * Check the bundle at path (dd_bundle_open, dd_bundle_check_open).  s may be NULL (no mirror:
 * `bundle verify`), stage_dir is where members are staged.  Returns 0 with c->verdict OK or
 * ALREADY, or an error whose detail says what was refused and why.
 */
int dd_bundle_check(const char *path, const struct dd_trust *t, struct dd_store *s,
		    const char *stage_dir, const struct dd_import_opts *o, struct dd_checked *c);

/*
 * Read only the manifest of the bundle at path, for looking, not
 * trusting: its signature is not checked.  digest receives the sha256
 * of manifest.json.
 */
int dd_bundle_peek(const char *path, struct dd_manifest *m, char digest[65]);

/* Move c's blobs into s and record the bundle; one transaction. */
int dd_bundle_commit(struct dd_store *s, struct dd_checked *c);

/* Free c and remove whatever is still staged. */
void dd_checked_release(struct dd_checked *c);

#endif
