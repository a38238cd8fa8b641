#include "trust/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "trust/pgp.h"

#define MAX_KEY_FILE (1u << 20)

const char *dd_sigkey_kind_str(enum dd_sigkey_kind k)
{
	return k == DD_KEY_OPENPGP ? "openpgp" : k == DD_KEY_ECDSA_P256 ? "ecdsa-p256" : "ed25519";
}

static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown reason";
}

/* Refuse a passphrase prompt: drydock runs unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Kind, fingerprint and PEM public key of a loaded EVP_PKEY. */
static int describe_pkey(const char *file, EVP_PKEY *pkey, struct dd_sigkey *k)
{
	unsigned char *der = NULL;
	char hex[65], group[64] = "";
	size_t glen = 0;
	BIO *bio;
	BUF_MEM *mem;
	int n;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
		k->kind = DD_KEY_ED25519;
	} else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
		   EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) &&
		   (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))) {
		k->kind = DD_KEY_ECDSA_P256;
	} else {
		return dd_error(DD_E_CRYPTO,
				"%s: a %s key%s%s; drydock signs with ECDSA P-256 or "
				"Ed25519 keys (openssl genpkey -algorithm ed25519)",
				file, EVP_PKEY_get0_type_name(pkey), *group ? " on " : "", group);
	}
	n = i2d_PUBKEY(pkey, &der);
	if (n <= 0)
		return dd_error(DD_E_CRYPTO, "%s: encoding the public key: %s", file, ssl_reason());
	dd_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	snprintf(k->fingerprint, sizeof(k->fingerprint), "SHA256:%s", hex);
	bio = BIO_new(BIO_s_mem());
	if (!PEM_write_bio_PUBKEY(bio, pkey)) {
		BIO_free(bio);
		return dd_error(DD_E_CRYPTO, "%s: writing the public key: %s", file, ssl_reason());
	}
	BIO_get_mem_ptr(bio, &mem);
	dd_buf_reset(&k->public_key);
	dd_buf_add(&k->public_key, mem->data, mem->length);
	BIO_free(bio);
	k->pkey = pkey;
	return 0;
}

static int open_pem(const char *file, const struct dd_buf *text, bool private, struct dd_sigkey *k)
{
	BIO *bio = BIO_new_mem_buf(text->ptr, (int)text->len);
	EVP_PKEY *pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
				 : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	int rc;

	BIO_free(bio);
	if (!pkey)
		return dd_error(DD_E_CRYPTO, "%s: not a usable PEM %s key (%s)%s", file,
				private ? "private" : "public", ssl_reason(),
				private ? "; an encrypted key must be decrypted first" : "");
	rc = describe_pkey(file, pkey, k);
	if (rc)
		EVP_PKEY_free(pkey);
	return rc;
}

static void key_init(struct dd_sigkey *k)
{
	memset(k, 0, sizeof(*k));
	k->public_key = (struct dd_buf)DD_BUF_INIT;
}

int dd_sigkey_open_signer(const char *spec, const char *gnupg_home, struct dd_sigkey *k)
{
	struct dd_buf text = DD_BUF_INIT;
	char fpr[41];
	int rc;

	key_init(k);
	if (!access(spec, F_OK)) {
		rc = dd_read_file(spec, MAX_KEY_FILE, &text);
		if (!rc && !(memmem(text.ptr, text.len, "-----BEGIN", 10) &&
			     memmem(text.ptr, text.len, "PRIVATE KEY-----", 16)))
			rc = dd_error(DD_E_CRYPTO,
				      "%s: not a PEM private key; give a PEM key file "
				      "(ECDSA P-256 or Ed25519) or an OpenPGP key id",
				      spec);
		if (!rc)
			rc = open_pem(spec, &text, true, k);
		dd_buf_release(&text);
		return rc;
	}
	if (strchr(spec, '/') || (strlen(spec) > 4 && !strcmp(spec + strlen(spec) - 4, ".pem")))
		return dd_error(DD_E_NOTFOUND,
				"%s: no such key file; give a PEM private key file "
				"or an OpenPGP key id",
				spec);
	rc = dd_pgp_signing_key(gnupg_home, spec, fpr, &k->public_key);
	if (rc) {
		dd_buf_release(&k->public_key);
		return rc;
	}
	k->kind = DD_KEY_OPENPGP;
	snprintf(k->fingerprint, sizeof(k->fingerprint), "%s", fpr);
	k->gnupg_home = gnupg_home ? dd_xstrdup(gnupg_home) : NULL;
	return 0;
}

int dd_sigkey_open_public(const char *file, struct dd_sigkey *k)
{
	struct dd_buf text = DD_BUF_INIT;
	char fpr[41], tmpl[4096];
	const char *tmp = getenv("TMPDIR");
	int rc;

	key_init(k);
	rc = dd_read_file(file, MAX_KEY_FILE, &text);
	if (rc)
		return rc;
	if (memmem(text.ptr, text.len, "-----BEGIN PUBLIC KEY-----", 26)) {
		rc = open_pem(file, &text, false, k);
		dd_buf_release(&text);
		return rc;
	}
	if (memmem(text.ptr, text.len, "PRIVATE KEY-----", 16)) {
		dd_buf_release(&text);
		return dd_error(DD_E_CRYPTO,
				"%s is a private key; give the public key "
				"(openssl pkey -pubout)",
				file);
	}
	k->kind = DD_KEY_OPENPGP;
	k->public_key = text;
	text = (struct dd_buf)DD_BUF_INIT; /* now the uid */
	snprintf(tmpl, sizeof(tmpl), "%s/drydock-gpg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		rc = dd_error_errno("%s", tmpl);
		dd_sigkey_close(k);
		return rc;
	}
	k->gnupg_home = dd_xstrdup(tmpl);
	k->temp_home = true;
	rc = dd_pgp_open(k->gnupg_home, &k->pgp);
	if (!rc)
		rc = dd_pgp_import(k->pgp, file, fpr, &text);
	dd_buf_release(&text);
	if (rc) {
		dd_sigkey_close(k);
		return rc;
	}
	snprintf(k->fingerprint, sizeof(k->fingerprint), "%s", fpr);
	return 0;
}

int dd_sigkey_sign(struct dd_sigkey *k, const void *data, size_t len, struct dd_buf *sig)
{
	EVP_MD_CTX *md;
	size_t n = 0;
	int ok;

	if (k->kind == DD_KEY_OPENPGP)
		return dd_pgp_sign(k->gnupg_home, k->fingerprint, data, len, sig);
	md = EVP_MD_CTX_new();
	ok = EVP_DigestSignInit(md, NULL, k->kind == DD_KEY_ECDSA_P256 ? EVP_sha256() : NULL, NULL,
				k->pkey) == 1 &&
	     EVP_DigestSign(md, NULL, &n, data, len) == 1;
	if (ok) {
		dd_buf_reset(sig);
		dd_buf_grow(sig, n);
		ok = EVP_DigestSign(md, (unsigned char *)sig->ptr, &n, data, len) == 1;
		sig->len = ok ? n : 0;
	}
	EVP_MD_CTX_free(md);
	if (!ok)
		return dd_error(DD_E_CRYPTO, "signing with key %s failed: %s", k->fingerprint,
				ssl_reason());
	return 0;
}

int dd_sigkey_verify(struct dd_sigkey *k, const void *data, size_t len, const void *sig,
		     size_t siglen)
{
	EVP_MD_CTX *md;
	char fpr[41];
	int rc;

	if (k->kind == DD_KEY_OPENPGP) {
		rc = dd_pgp_verify(k->pgp, data, len, sig, siglen, fpr);
		if (rc == DD_E_SIG_UNKNOWN)
			return dd_error(DD_E_SIG_BAD, "signed by another key (%s), not by %s", fpr,
					k->fingerprint);
		if (rc)
			return rc == DD_E_SIG_BAD ? rc
						  : dd_error(DD_E_SIG_BAD, "%s", dd_error_detail());
		if (strcmp(fpr, k->fingerprint))
			return dd_error(DD_E_SIG_BAD, "signed by %s, not by %s", fpr,
					k->fingerprint);
		return 0;
	}
	md = EVP_MD_CTX_new();
	rc = EVP_DigestVerifyInit(md, NULL, k->kind == DD_KEY_ECDSA_P256 ? EVP_sha256() : NULL,
				  NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(md, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!rc)
		return dd_error(DD_E_SIG_BAD,
				"the signature does not verify with %s key %s "
				"(another key, or changed data)",
				dd_sigkey_kind_str(k->kind), k->fingerprint);
	return 0;
}

void dd_sigkey_close(struct dd_sigkey *k)
{
	dd_pgp_close(k->pgp);
	if (k->temp_home && k->gnupg_home)
		dd_remove_tree(k->gnupg_home);
	free(k->gnupg_home);
	EVP_PKEY_free(k->pkey);
	dd_buf_release(&k->public_key);
	memset(k, 0, sizeof(*k));
}
