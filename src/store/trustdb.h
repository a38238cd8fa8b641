/*
 * The mirror's trusted keys: OpenPGP keys in ROOT/gnupg, APK RSA keys in
 * ROOT/keys/apk, PEM provenance keys in ROOT/keys/provenance, and which
 * role each is trusted for in the index.
 */
#ifndef DD_STORE_TRUSTDB_H
#define DD_STORE_TRUSTDB_H

#include "store/store.h"
#include "trust/sign.h"
#include "trust/trust.h"

/* Load every trusted key of the mirror; t->pgp is opened on ROOT/gnupg. */
int dd_trustdb_load(struct dd_store *s, struct dd_trust *t);
/* Release t and close its pgp home. */
void dd_trustdb_unload(struct dd_trust *t);

/*
 * Trust the key in keyfile for role.  id receives the key's identity:
 * the OpenPGP fingerprint, or the APK key's file name.  label receives
 * the user id (OpenPGP) or "" (APK).
 */
int dd_trustdb_add(struct dd_store *s, enum dd_role role, const char *keyfile, struct dd_buf *id,
		   struct dd_buf *label);

/*
 * The PEM key with fingerprint fpr ("SHA256:<hex>") when the mirror
 * trusts it for provenance; DD_E_SIG_UNKNOWN when it does not.
 */
int dd_trustdb_provenance_key(struct dd_store *s, const char *fpr, struct dd_sigkey *k);

/* Stop trusting id (fingerprint or APK key name) for role. */
int dd_trustdb_remove(struct dd_store *s, enum dd_role role, const char *id);

/*
 * Rebuilding the index (drydock mirror fsck --rebuild-index): trust id
 * for role again (its key material is already in the mirror), or stop
 * trusting it, as the audit log's trust records say.  No label.
 */
int dd_trustdb_restore(struct dd_store *s, enum dd_role role, const char *id, bool trusted);

#endif
