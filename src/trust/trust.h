/*
 * What a mirror trusts, by role.  An OpenPGP key is trusted for bundles,
 * for entitlements or for provenance (never for two by accident: each
 * role is its own list of fingerprints); APK RSA keys are trusted for
 * packages; a PEM key (ECDSA P-256, Ed25519) may be trusted for
 * provenance, kept in ROOT/keys/provenance/.  A signature counts only
 * when its key is in the list for the role at hand.
 */
#ifndef DD_TRUST_TRUST_H
#define DD_TRUST_TRUST_H

#include <stdbool.h>

#include "trust/pgp.h"
#include "trust/rsa.h"

enum dd_role { DD_ROLE_BUNDLE, DD_ROLE_ENTITLEMENT, DD_ROLE_APK, DD_ROLE_PROVENANCE };
#define DD_N_ROLES 4

struct dd_trust {
	struct dd_pgp *pgp;           /* the home holding the OpenPGP keys */
	char (*fprs[DD_N_ROLES])[41]; /* per OpenPGP role: fingerprints */
	size_t n_fprs[DD_N_ROLES];
	struct dd_keyring apk; /* APK RSA public keys */
};

const char *dd_role_str(enum dd_role r);
int dd_role_parse(const char *s, enum dd_role *r);

void dd_trust_add_fpr(struct dd_trust *t, enum dd_role r, const char *fpr);
bool dd_trust_has(const struct dd_trust *t, enum dd_role r, const char *fpr);
/* Release the lists and keyring (not the pgp home). */
void dd_trust_release(struct dd_trust *t);

#endif
