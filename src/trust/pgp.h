/*
 * OpenPGP through gpgme, confined to one GnuPG home directory.
 *
 * The mirror keeps its bundle and entitlement keys in its own home
 * (never the user's ~/.gnupg).  Opening a home writes "no-autostart"
 * into its gpg.conf, so importing and verifying never start a
 * gpg-agent that would outlive the command.  Whether a key is trusted
 * for a role is decided by the caller from the fingerprint returned
 * here, never by GnuPG's web of trust.
 *
 * A signature that is plainly good (every signature in it good, nothing
 * else reported) is settled by one gpgv process against the home's
 * keybox; gpgme, whose set-up alone starts gpg twice, is started only
 * to change keys and to judge any other signature, so refusals read the
 * same either way.
 *
 * One struct dd_pgp per thread (it holds one gpgme context, made when
 * first needed).  The first
 * use sets SIGPIPE to ignored for the whole process (gpgme does), so a
 * write to a closed pipe returns EPIPE instead of killing drydock.
 */
#ifndef DD_TRUST_PGP_H
#define DD_TRUST_PGP_H

#include <stddef.h>

#include "core/buf.h"

struct dd_pgp;

/* Open (creating, mode 0700) the GnuPG home at dir. */
int dd_pgp_open(const char *dir, struct dd_pgp **out);
void dd_pgp_close(struct dd_pgp *p);

/*
 * Import the public key in keyfile (armored or binary).  The file must
 * hold exactly one public key (certificate); a secret key is refused.
 * Sets fpr to the primary key's 40-hex fingerprint (upper case) and
 * uid to its first user id.
 */
int dd_pgp_import(struct dd_pgp *p, const char *keyfile, char fpr[41], struct dd_buf *uid);

/* Remove the public key with this fingerprint; DD_E_NOTFOUND if absent. */
int dd_pgp_delete(struct dd_pgp *p, const char *fpr);

/*
 * Check a detached signature (armored or binary) over data.  Returns 0
 * and the signer's primary-key fingerprint in fpr when the signature is
 * good (also when made by a subkey); DD_E_SIG_UNKNOWN when the signing
 * key is not in the home (fpr then holds the key id given in the
 * signature); DD_E_SIG_BAD for a bad signature; DD_E_FORMAT when sig is
 * not an OpenPGP signature.  An expired or revoked key is
 * DD_E_SIG_BAD with a detail saying which.  On other failures fpr is
 * empty; for DD_E_SIG_UNKNOWN it may be a subkey's fingerprint.
 *
 * Several signatures in sig: accepted when one is good and none is
 * outright bad (gpg in batch mode stops at the first bad one, so "any
 * good one wins" could not be decided independently of their order).
 */
int dd_pgp_verify(struct dd_pgp *p, const void *data, size_t len, const void *sig, size_t siglen,
		  char fpr[41]);

/*
 * Make a detached binary signature over data with the secret key keyid
 * (at least 8 characters: a fingerprint, key id or e-mail address)
 * from the GnuPG home dir (NULL: the user's default home).  Used on the
 * connected side; this does start the home's gpg-agent, as signing needs.
 */
int dd_pgp_sign(const char *dir, const char *keyid, const void *data, size_t len,
		struct dd_buf *sig);

/*
 * Look up the secret key keyid in dir (NULL: the default home) and
 * check that it can sign: its primary fingerprint goes to fpr and its
 * public key, armored, to pub.
 */
int dd_pgp_signing_key(const char *dir, const char *keyid, char fpr[41], struct dd_buf *pub);

/* The gpgme and GnuPG versions in use, for provenance ("gpgme 1.18.0"). */
const char *dd_pgp_version(void);

#endif
