/*
 * RSA keys and PKCS#1 v1.5 signatures through OpenSSL, as APK uses them.
 *
 * A keyring is a list of public keys, each known by the file name it
 * was loaded from: APK signatures name their key that way
 * (".SIGN.RSA256.<keyname>"), so the name is part of the key's identity.
 */
#ifndef DD_TRUST_RSA_H
#define DD_TRUST_RSA_H

#include <stddef.h>
#include <openssl/evp.h>

#include "core/buf.h"

struct dd_key {
	char *name; /* file name without directory, e.g. "melange.rsa.pub" */
	EVP_PKEY *pkey;
};

struct dd_keyring {
	struct dd_key *keys;
	size_t n;
};

/* Load a PEM public key file and add it under its base name. */
int dd_keyring_add_file(struct dd_keyring *kr, const char *path);
/* The key called name, or NULL. */
const struct dd_key *dd_keyring_find(const struct dd_keyring *kr, const char *name);
void dd_keyring_release(struct dd_keyring *kr);

/* Load a PEM RSA private key. */
int dd_rsa_load_private(const char *path, EVP_PKEY **out);

/* Verify sig over a digest made with md; DD_E_SIG_BAD when it does not. */
int dd_rsa_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *digest, size_t dlen,
		  const void *sig, size_t siglen);

/* Sign a digest made with md; the signature is appended to out. */
int dd_rsa_sign(EVP_PKEY *key, const EVP_MD *md, const unsigned char *digest, size_t dlen,
		struct dd_buf *out);

/* Write the PEM public key of a private key to out. */
int dd_rsa_public_pem(EVP_PKEY *key, struct dd_buf *out);
/*
 * "SHA256:" and the hex sha256 of the key's DER SubjectPublicKeyInfo,
 * as for PEM provenance keys (openssl pkey -pubin -outform DER | sha256sum).
 */
int dd_rsa_fingerprint(EVP_PKEY *key, char out[72]);

#endif
