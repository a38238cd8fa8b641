#include "evidence/provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "core/error.h"
#include "core/file.h"

#define MAX_ENVELOPE (64u << 20)

void dd_dsse_pae(const char *type, const void *body, size_t len, struct dd_buf *out)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	dd_buf_add(out, body, len);
}

static char *b64_encode(const void *p, size_t n)
{
	char *s = dd_xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* Standard base64 with padding; anything else is refused. */
static int b64_decode(const char *s, struct dd_buf *out, const char *what)
{
	size_t n = strlen(s), pad = 0;
	int got;

	if (n % 4)
		return dd_error(DD_E_FORMAT, "%s is not base64 (length %zu)", what, n);
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	dd_buf_reset(out);
	dd_buf_grow(out, n / 4 * 3 + 1);
	got = n ? EVP_DecodeBlock((unsigned char *)out->ptr, (const unsigned char *)s, (int)n) : 0;
	if (got < 0 || (size_t)got < pad)
		return dd_error(DD_E_FORMAT, "%s is not base64", what);
	out->len = (size_t)got - pad;
	out->ptr[out->len] = 0;
	return 0;
}

int dd_provenance_write(const char *dir, json_t *statement, struct dd_sigkey *key)
{
	return dd_dsse_write(dir, DD_PROVENANCE_FILE, statement, key);
}

int dd_dsse_write(const char *dir, const char *file, json_t *statement, struct dd_sigkey *key)
{
	struct dd_buf pae = DD_BUF_INIT, sig = DD_BUF_INIT;
	char *payload = json_dumps(statement, JSON_COMPACT | JSON_SORT_KEYS), *b64;
	json_t *env, *sigs = json_array();
	int rc = 0;

	dd_dsse_pae(DD_INTOTO_PAYLOAD_TYPE, payload, strlen(payload), &pae);
	if (key) {
		rc = dd_sigkey_sign(key, pae.ptr, pae.len, &sig);
		if (!rc) {
			b64 = b64_encode(sig.ptr, sig.len);
			json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid",
							      key->fingerprint, "sig", b64));
			free(b64);
		}
	}
	b64 = b64_encode(payload, strlen(payload));
	env = json_pack("{s:s, s:s, s:o}", "payloadType", DD_INTOTO_PAYLOAD_TYPE, "payload", b64,
			"signatures", sigs);
	if (!rc)
		rc = dd_write_json(dir, file, env, JSON_INDENT(2));
	json_decref(env);
	free(b64);
	free(payload);
	dd_buf_release(&pae);
	dd_buf_release(&sig);
	return rc;
}

int dd_dsse_read(const char *file, struct dd_dsse *e)
{
	struct dd_buf text = DD_BUF_INIT;
	json_error_t jerr;
	json_t *j = NULL, *sigs, *s;
	const char *type, *payload;
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e));
	e->payload = (struct dd_buf)DD_BUF_INIT;
	if ((rc = dd_read_regular(file, MAX_ENVELOPE, &text)))
		return rc;
	j = json_loadb(text.ptr, text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		rc = dd_error(DD_E_FORMAT, "line %d: not JSON: %s", jerr.line, jerr.text);
		goto out;
	}
	if (json_unpack(j, "{s:s, s:s, s:o}", "payloadType", &type, "payload", &payload,
			"signatures", &sigs) ||
	    !json_is_array(sigs)) {
		rc = dd_error(DD_E_FORMAT, "not a DSSE envelope (payloadType, payload and "
					   "signatures are required)");
		goto out;
	}
	e->type = dd_xstrdup(type);
	if ((rc = b64_decode(payload, &e->payload, "the envelope's payload")))
		goto out;
	e->sigs = dd_xcalloc(json_array_size(sigs) + 1, sizeof(*e->sigs));
	json_array_foreach(sigs, i, s) {
		const char *keyid = "", *sig;
		struct dd_dsse_sig *d = &e->sigs[e->n_sigs];

		if (json_unpack(s, "{s?s, s:s}", "keyid", &keyid, "sig", &sig)) {
			rc = dd_error(DD_E_FORMAT, "signatures[%zu] has no sig", i);
			goto out;
		}
		d->keyid = dd_xstrdup(keyid);
		d->sig = (struct dd_buf)DD_BUF_INIT;
		e->n_sigs++;
		if ((rc = b64_decode(sig, &d->sig, "a signature")))
			goto out;
	}
out:
	if (rc) {
		dd_error_prefix(rc, "%s", file);
		dd_dsse_release(e);
	}
	json_decref(j);
	dd_buf_release(&text);
	return rc;
}

void dd_dsse_release(struct dd_dsse *e)
{
	for (size_t i = 0; i < e->n_sigs; i++) {
		free(e->sigs[i].keyid);
		dd_buf_release(&e->sigs[i].sig);
	}
	free(e->sigs);
	free(e->type);
	dd_buf_release(&e->payload);
	memset(e, 0, sizeof(*e));
}

json_t *dd_provenance_bundle_labels(json_t *statement)
{
	json_t *deps = json_object_get(json_object_get(json_object_get(statement, "predicate"),
						       "buildDefinition"),
				       "resolvedDependencies");
	json_t *labels = json_object(), *x;
	size_t i;

	json_array_foreach(deps, i, x) {
		json_t *ann = json_object_get(x, "annotations");
		const char *kind = json_string_value(json_object_get(ann, "kind"));
		const char *ch = json_string_value(json_object_get(ann, "channel"));
		const char *sha =
			json_string_value(json_object_get(json_object_get(x, "digest"), "sha256"));

		if (!kind || strcmp(kind, "bundle-manifest") || !sha)
			continue;
		json_object_set_new(labels, sha,
				    json_sprintf("%s#%lld", ch ? ch : "",
						 (long long)json_integer_value(
							 json_object_get(ann, "sequence"))));
	}
	return labels;
}
