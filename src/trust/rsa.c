#include "trust/rsa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/error.h"
#include "core/hash.h"

static const char *ossl_reason(void)
{
	static _Thread_local char msg[256];
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (!e)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, msg, sizeof(msg));
	return msg;
}

int dd_keyring_add_file(struct dd_keyring *kr, const char *path)
{
	const char *base = strrchr(path, '/');
	EVP_PKEY *pkey;
	FILE *f = fopen(path, "r");

	if (!f)
		return dd_error_errno("%s", path);
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey)
		return dd_error(DD_E_CRYPTO, "%s: not a PEM public key (%s)", path, ossl_reason());
	if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		return dd_error(DD_E_CRYPTO, "%s: not an RSA key", path);
	}
	DD_GROW(kr->keys, kr->n);
	kr->keys[kr->n].name = dd_xstrdup(base ? base + 1 : path);
	kr->keys[kr->n].pkey = pkey;
	kr->n++;
	return 0;
}

const struct dd_key *dd_keyring_find(const struct dd_keyring *kr, const char *name)
{
	for (size_t i = 0; i < kr->n; i++)
		if (!strcmp(kr->keys[i].name, name))
			return &kr->keys[i];
	return NULL;
}

void dd_keyring_release(struct dd_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		free(kr->keys[i].name);
		EVP_PKEY_free(kr->keys[i].pkey);
	}
	free(kr->keys);
	kr->keys = NULL;
	kr->n = 0;
}

int dd_rsa_load_private(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return dd_error_errno("%s", path);
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*out)
		return dd_error(DD_E_CRYPTO, "%s: not a PEM private key (%s)", path, ossl_reason());
	if (EVP_PKEY_base_id(*out) != EVP_PKEY_RSA) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return dd_error(DD_E_CRYPTO, "%s: not an RSA key", path);
	}
	return 0;
}

static EVP_PKEY_CTX *pkey_ctx(EVP_PKEY *key, const EVP_MD *md, int sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

	if (!ctx)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int dd_rsa_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *digest, size_t dlen,
		  const void *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx = pkey_ctx(key, md, 0);
	int ok;

	if (!ctx)
		return dd_error(DD_E_CRYPTO, "cannot set up RSA verification: %s", ossl_reason());
	ok = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok == 1 ? 0 : DD_E_SIG_BAD;
}

int dd_rsa_sign(EVP_PKEY *key, const EVP_MD *md, const unsigned char *digest, size_t dlen,
		struct dd_buf *out)
{
	EVP_PKEY_CTX *ctx = pkey_ctx(key, md, 1);
	size_t len = 0;
	int rc = 0;

	if (!ctx)
		return dd_error(DD_E_CRYPTO, "cannot set up RSA signing: %s", ossl_reason());
	if (EVP_PKEY_sign(ctx, NULL, &len, digest, dlen) <= 0)
		goto fail;
	dd_buf_grow(out, len);
	if (EVP_PKEY_sign(ctx, (unsigned char *)out->ptr + out->len, &len, digest, dlen) <= 0)
		goto fail;
	out->len += len;
	out->ptr[out->len] = 0;
	goto done;
fail:
	rc = dd_error(DD_E_CRYPTO, "RSA signing failed: %s", ossl_reason());
done:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int dd_rsa_public_pem(EVP_PKEY *key, struct dd_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	if (!bio || !PEM_write_bio_PUBKEY(bio, key)) {
		BIO_free(bio);
		return dd_error(DD_E_CRYPTO, "cannot write public key: %s", ossl_reason());
	}
	n = BIO_get_mem_data(bio, &data);
	dd_buf_add(out, data, (size_t)n);
	BIO_free(bio);
	return 0;
}

int dd_rsa_fingerprint(EVP_PKEY *key, char out[72])
{
	unsigned char *der = NULL;
	char hex[65];
	int n = i2d_PUBKEY(key, &der);

	out[0] = 0;
	if (n <= 0)
		return dd_error(DD_E_CRYPTO, "cannot encode the public key: %s", ossl_reason());
	dd_sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	snprintf(out, 72, "SHA256:%s", hex);
	return 0;
}
