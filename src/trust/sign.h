/*
 * Keys that sign and check drydock's own statements (provenance), of
 * two kinds:
 *   - an OpenPGP key, through gpgme: a secret key in a GnuPG home (or on
 *     a smartcard that home knows); signatures are detached, binary;
 *   - a PEM private key through OpenSSL: ECDSA on P-256 (signing the
 *     SHA-256 of the data, DER signature) or Ed25519 (signing the data
 *     itself).
 * A key's fingerprint is the OpenPGP fingerprint (40 hex digits), or
 * for a PEM key "SHA256:" and the hex SHA-256 of its DER
 * SubjectPublicKeyInfo (openssl pkey -pubin -outform DER | sha256sum).
 */
#ifndef DD_TRUST_SIGN_H
#define DD_TRUST_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

enum dd_sigkey_kind { DD_KEY_OPENPGP, DD_KEY_ECDSA_P256, DD_KEY_ED25519 };

struct dd_sigkey {
	enum dd_sigkey_kind kind;
	char fingerprint[72];
	struct dd_buf public_key; /* armored OpenPGP key or PEM */
	char *gnupg_home;         /* OpenPGP signing: the home; checking: a temporary one */
	bool temp_home;
	struct dd_pgp *pgp; /* OpenPGP checking */
	void *pkey;         /* EVP_PKEY of a PEM key */
};

/* "openpgp", "ecdsa-p256" or "ed25519". */
const char *dd_sigkey_kind_str(enum dd_sigkey_kind k);

/*
 * The signing key named by spec: the path of a PEM private key file
 * (ECDSA P-256 or Ed25519), else an OpenPGP key id, fingerprint or
 * e-mail address in the GnuPG home gnupg_home (NULL: GnuPG's default).
 */
int dd_sigkey_open_signer(const char *spec, const char *gnupg_home, struct dd_sigkey *k);

/*
 * The public key in file, for checking: PEM ("BEGIN PUBLIC KEY", ECDSA
 * P-256 or Ed25519) or an OpenPGP public key, armored or binary (held
 * in a temporary GnuPG home until dd_sigkey_close()).
 */
int dd_sigkey_open_public(const char *file, struct dd_sigkey *k);

int dd_sigkey_sign(struct dd_sigkey *k, const void *data, size_t len, struct dd_buf *sig);

/* 0 when sig is k's good signature over data; DD_E_SIG_BAD (detail
 * says why) otherwise. */
int dd_sigkey_verify(struct dd_sigkey *k, const void *data, size_t len, const void *sig,
		     size_t siglen);

void dd_sigkey_close(struct dd_sigkey *k);

#endif
