#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/error.h"
#include "core/file.h"
#include "evidence/provenance.h"
#include "trust/sign.h"

static char dir[64];

static const char *tmp_path(const char *name)
{
	static char p[128];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/dd-unit-prov-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* A fresh key of type ("ED25519" or "EC"), private and public PEM files. */
static void make_key(const char *type, const char *priv, const char *pub)
{
	EVP_PKEY *k = !strcmp(type, "EC") ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
					  : EVP_PKEY_Q_keygen(NULL, NULL, type);
	FILE *f = fopen(priv, "w");

	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(pub, "w");
	PEM_write_PUBKEY(f, k);
	fclose(f);
	EVP_PKEY_free(k);
}

static void t_pae(void)
{
	struct dd_buf b = DD_BUF_INIT;

	/* the example in the DSSE protocol description */
	dd_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &b);
	CHECK(b.len == strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
	CHECK(!memcmp(b.ptr, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", b.len));
	/* lengths count bytes, and a body may hold anything */
	dd_dsse_pae("t", "\0\xff", 2, &b);
	CHECK(b.len == 15 && !memcmp(b.ptr, "DSSEv1 1 t 2 \0\xff", 15));
	dd_buf_release(&b);
}

static void sign_and_check(const char *type, enum dd_sigkey_kind want)
{
	struct dd_sigkey s, p, q;
	struct dd_dsse e;
	struct dd_buf pae = DD_BUF_INIT;
	json_t *st =
		json_pack("{s:s, s:[{s:s}]}", "_type", DD_INTOTO_STATEMENT, "subject", "name", "x");
	char priv[128], pub[128], other[128], other_pub[128];

	snprintf(priv, sizeof(priv), "%s", tmp_path("k.pem"));
	snprintf(pub, sizeof(pub), "%s", tmp_path("k.pub"));
	snprintf(other, sizeof(other), "%s", tmp_path("o.pem"));
	snprintf(other_pub, sizeof(other_pub), "%s", tmp_path("o.pub"));
	make_key(type, priv, pub);
	make_key(type, other, other_pub);
	CHECK(!dd_sigkey_open_signer(priv, NULL, &s));
	CHECK(s.kind == want && !strncmp(s.fingerprint, "SHA256:", 7));
	CHECK(!dd_provenance_write(dir, st, &s));
	CHECK(!dd_dsse_read(tmp_path(DD_PROVENANCE_FILE), &e));
	CHECK(!strcmp(e.type, DD_INTOTO_PAYLOAD_TYPE) && e.n_sigs == 1);
	CHECK(!strcmp(e.sigs[0].keyid, s.fingerprint));
	dd_dsse_pae(e.type, e.payload.ptr, e.payload.len, &pae);
	CHECK(!dd_sigkey_open_public(pub, &p));
	CHECK(!strcmp(p.fingerprint, s.fingerprint));
	CHECK(!dd_sigkey_verify(&p, pae.ptr, pae.len, e.sigs[0].sig.ptr, e.sigs[0].sig.len));
	/* one changed byte, or another key, and it fails */
	pae.ptr[pae.len - 2] ^= 1;
	CHECK(dd_sigkey_verify(&p, pae.ptr, pae.len, e.sigs[0].sig.ptr, e.sigs[0].sig.len) ==
	      DD_E_SIG_BAD);
	pae.ptr[pae.len - 2] ^= 1;
	CHECK(!dd_sigkey_open_public(other_pub, &q));
	CHECK(dd_sigkey_verify(&q, pae.ptr, pae.len, e.sigs[0].sig.ptr, e.sigs[0].sig.len) ==
	      DD_E_SIG_BAD);
	dd_sigkey_close(&q);
	dd_sigkey_close(&p);
	dd_sigkey_close(&s);
	dd_dsse_release(&e);
	dd_buf_release(&pae);
	json_decref(st);
}

static void t_sign_ed25519(void)
{
	sign_and_check("ED25519", DD_KEY_ED25519);
}

static void t_sign_ecdsa_p256(void)
{
	sign_and_check("EC", DD_KEY_ECDSA_P256);
}

static int read_text(const char *text)
{
	struct dd_dsse e;
	int rc;

	dd_write_file(tmp_path("e.json"), text, strlen(text));
	rc = dd_dsse_read(tmp_path("e.json"), &e);
	if (!rc)
		dd_dsse_release(&e);
	return rc;
}

static void t_bad_envelopes(void)
{
	struct dd_sigkey k;

	CHECK(read_text("{\"payloadType\": \"t\", \"payload\": \"aGk=\", \"signatures\": []}") ==
	      0);
	CHECK(read_text("not json") == DD_E_FORMAT);
	CHECK(read_text("{\"payloadType\": \"t\", \"signatures\": []}") == DD_E_FORMAT);
	CHECK(read_text("{\"payloadType\": \"t\", \"payload\": \"aGk\", \"signatures\": []}") ==
	      DD_E_FORMAT);
	CHECK(strstr(dd_error_detail(), "not base64"));
	CHECK(read_text("{\"payloadType\": \"t\", \"payload\": \"a!k=\", \"signatures\": []}") ==
	      DD_E_FORMAT);
	CHECK(read_text("{\"payloadType\": \"t\", \"payload\": \"aGk=\", \"signatures\": "
			"[{\"keyid\": \"k\"}]}") == DD_E_FORMAT);
	CHECK(read_text("{\"payloadType\": \"t\", \"payloadType\": \"u\", \"payload\": \"aGk=\", "
			"\"signatures\": []}") == DD_E_FORMAT);
	/* an RSA key is refused for signing, with what to use instead */
	{
		EVP_PKEY *r = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		FILE *f = fopen(tmp_path("rsa.pem"), "w");

		PEM_write_PrivateKey(f, r, NULL, NULL, 0, NULL, NULL);
		fclose(f);
		EVP_PKEY_free(r);
	}
	CHECK(dd_sigkey_open_signer(tmp_path("rsa.pem"), NULL, &k) == DD_E_CRYPTO);
	CHECK(strstr(dd_error_detail(), "ECDSA P-256 or Ed25519"));
}

void suite_provenance(void)
{
	RUN(t_pae);
	RUN(t_sign_ed25519);
	RUN(t_sign_ecdsa_p256);
	RUN(t_bad_envelopes);
	if (dir[0])
		dd_remove_tree(dir);
}
