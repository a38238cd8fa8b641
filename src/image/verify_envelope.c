/*
 * drydock verify: the signed envelopes.  signature and statement check
 * provenance.intoto.json, record checks record.intoto.json and the files
 * it names; both are signed by --key or a key the mirror trusts for
 * provenance.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/hash.h"
#include "evidence/provenance.h"
#include "image/verify_private.h"
#include "store/store.h"
#include "store/trustdb.h"
#include "trust/sign.h"

/* The envelope's signatures against the keys the mirror trusts for provenance. */
static bool mirror_signature(struct verify *v, const struct dd_dsse *e, const struct dd_buf *pae,
			     struct dd_buf *msg)
{
	struct dd_store *s = NULL;
	struct dd_trust t;
	char fpr[41];
	bool ok = false;

	if (dd_store_open(v->o->mirror, 0, &s) || dd_trustdb_load(s, &t)) {
		dd_buf_adds(msg, dd_error_detail());
		dd_store_close(s);
		return false;
	}
	for (size_t i = 0; i < e->n_sigs && !ok; i++) {
		const struct dd_dsse_sig *g = &e->sigs[i];
		struct dd_sigkey k;
		int rc;

		dd_buf_reset(msg);
		if (!strncmp(g->keyid, "SHA256:", 7)) {
			enum dd_sigkey_kind kind = DD_KEY_ED25519;

			rc = dd_trustdb_provenance_key(s, g->keyid, &k);
			if (!rc) {
				kind = k.kind;
				rc = dd_sigkey_verify(&k, pae->ptr, pae->len, g->sig.ptr,
						      g->sig.len);
				dd_sigkey_close(&k);
			}
			if (!rc) {
				dd_buf_addf(msg,
					    "good %s signature by %s, a key the mirror trusts for "
					    "provenance",
					    dd_sigkey_kind_str(kind), g->keyid);
				ok = true;
				break;
			}
		} else {
			rc = dd_pgp_verify(t.pgp, pae->ptr, pae->len, g->sig.ptr, g->sig.len, fpr);
			if (!rc && dd_trust_has(&t, DD_ROLE_PROVENANCE, fpr)) {
				dd_buf_addf(msg,
					    "good openpgp signature by %s, a key the mirror "
					    "trusts for provenance",
					    fpr);
				ok = true;
				break;
			}
			if (!rc)
				rc = dd_error(DD_E_SIG_UNKNOWN,
					      "signed by %s, which the mirror does "
					      "not trust for provenance",
					      fpr);
		}
		dd_buf_adds(msg, dd_error_detail());
	}
	dd_trustdb_unload(&t);
	dd_store_close(s);
	return ok;
}

static bool same_id(const char *a, const char *b)
{
	return *a && !strcasecmp(a, b);
}

/*
 * The envelope's signatures against the given key.  Key ids are compared
 * when no signature verifies, so that "signed by another key" (the
 * envelope's keyid, or for OpenPGP the issuer in the signature packet,
 * differs from the key given) and "BAD signature" (the key is the one
 * that signed: the data changed) are different answers.
 */
static bool key_signature(struct dd_sigkey *key, const struct dd_dsse *e, const struct dd_buf *pae,
			  struct dd_buf *msg)
{
	const char *other = NULL;

	for (size_t i = 0; i < e->n_sigs; i++) {
		int rc = dd_sigkey_verify(key, pae->ptr, pae->len, e->sigs[i].sig.ptr,
					  e->sigs[i].sig.len);

		if (!rc) {
			dd_buf_reset(msg);
			dd_buf_addf(msg, "good %s signature by %s", dd_sigkey_kind_str(key->kind),
				    key->fingerprint);
			return true;
		}
		if (same_id(e->sigs[i].keyid, key->fingerprint)) {
			dd_buf_reset(msg);
			dd_buf_addf(msg,
				    "BAD signature: the signature by %s does not verify: the "
				    "signed data changed after signing (%s)",
				    key->fingerprint, dd_error_detail());
			return false;
		}
		if (!other)
			other = e->sigs[i].keyid;
		if (key->kind == DD_KEY_OPENPGP &&
		    strstr(dd_error_detail(), "signed by another key")) {
			dd_buf_reset(msg);
			dd_buf_addf(msg,
				    "%s (from the signature packet): get that key's public key "
				    "from a source you trust",
				    dd_error_detail());
			return false;
		}
	}
	dd_buf_reset(msg);
	if (other && *other)
		dd_buf_addf(msg,
			    "signed by another key (%s, as the envelope's keyid says), not by "
			    "the %s key %s given: get the signer's public key from a source you "
			    "trust",
			    other, dd_sigkey_kind_str(key->kind), key->fingerprint);
	else
		dd_buf_addf(msg,
			    "BAD signature: no signature verifies with %s key %s and none "
			    "names its signer (%s)",
			    dd_sigkey_kind_str(key->kind), key->fingerprint, dd_error_detail());
	return false;
}

/* The signatures of envelope e (read from file) with --key or the mirror. */
static bool envelope_signed(struct verify *v, const char *file, const struct dd_dsse *e,
			    struct dd_buf *msg)
{
	struct dd_buf pae = DD_BUF_INIT;
	struct dd_sigkey key;
	bool ok = false, name_file = false;

	dd_dsse_pae(e->type, e->payload.ptr, e->payload.len, &pae);
	if (strcmp(e->type, DD_INTOTO_PAYLOAD_TYPE)) {
		dd_buf_addf(msg, "%s: payloadType is '%s', not %s", file, e->type,
			    DD_INTOTO_PAYLOAD_TYPE);
	} else if (!e->n_sigs) {
		dd_buf_addf(msg, "%s carries no signature (the run was built without --sign)",
			    file);
	} else if (!v->o->key && !v->o->mirror) {
		dd_buf_adds(msg,
			    "no key to check it with: give --key with the signer's public "
			    "key, from a source you trust, or --mirror with a mirror that trusts "
			    "it for provenance");
	} else if (!v->o->key) {
		ok = mirror_signature(v, e, &pae, msg);
		name_file = !ok;
	} else if (dd_sigkey_open_public(v->o->key, &key)) {
		dd_buf_adds(msg, dd_error_detail());
	} else {
		ok = key_signature(&key, e, &pae, msg);
		name_file = !ok;
		dd_sigkey_close(&key);
	}
	if (name_file) {
		char *m = dd_buf_detach(msg, NULL);

		dd_buf_addf(msg, "%s: %s", file, m ? m : "");
		free(m);
	}
	dd_buf_release(&pae);
	return ok;
}

void dd_verify_envelope(struct verify *v)
{
	struct dd_dsse e;
	struct dd_buf msg = DD_BUF_INIT;
	json_error_t jerr;
	bool ok;

	if (!v->prov) {
		check(v, "signature", false, "no %s beside %s: give --provenance FILE",
		      DD_PROVENANCE_FILE, v->o->run);
		check(v, "statement", false, "no statement to read");
		return;
	}
	if (dd_dsse_read(v->prov, &e)) {
		check(v, "signature", false, "%s", dd_error_detail());
		check(v, "statement", false, "no statement to read");
		return;
	}
	ok = envelope_signed(v, DD_PROVENANCE_FILE, &e, &msg);
	check(v, "signature", ok, "%s", msg.ptr ? msg.ptr : "");
	v->st = json_loadb(e.payload.ptr, e.payload.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v->st) {
		check(v, "statement", false, "the payload is not JSON: %s", jerr.text);
	} else if (strcmp(jstr(v->st, "_type"), DD_INTOTO_STATEMENT) ||
		   strcmp(jstr(v->st, "predicateType"), DD_SLSA_PROVENANCE) ||
		   !json_is_array(json_object_get(v->st, "subject")) ||
		   !json_array_size(json_object_get(v->st, "subject"))) {
		check(v, "statement", false,
		      "not an in-toto Statement v1 with subjects and an "
		      "SLSA Provenance v1 predicate");
		json_decref(v->st);
		v->st = NULL;
	} else {
		json_t *bd =
			json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");
		json_t *job = json_object_get(json_object_get(bd, "externalParameters"), "job");

		if (strcmp(jstr(bd, "buildType"), DD_BUILD_TYPE))
			check(v, "statement", false, "buildType is '%s', not drydock's %s",
			      jstr(bd, "buildType"), DD_BUILD_TYPE);
		else
			check(v, "statement", true,
			      "SLSA v1 provenance of job %s (sha256 %.12s...)", jstr(job, "path"),
			      jstr(job, "sha256"));
	}
	dd_buf_release(&msg);
	dd_dsse_release(&e);
}

const char *dd_verify_subject_sha(struct verify *v, const char *name)
{
	json_t *subs = json_object_get(v->st, "subject"), *s;
	size_t i;

	json_array_foreach(subs, i, s) {
		if (!name || !strcmp(jstr(s, "name"), name))
			return jstr(json_object_get(s, "digest"), "sha256");
	}
	return "";
}

/* record.intoto.json: build.log, result.json and the provenance, signed. */
void dd_verify_record(struct verify *v)
{
	const char *names[] = { "build.log", "result.json", DD_PROVENANCE_FILE };
	const char *paths[] = { v->log, v->result, v->prov };
	struct dd_buf why = DD_BUF_INIT;
	struct dd_dsse e;
	json_t *st = NULL, *s;
	size_t i;

	if (!v->record) {
		skip(v, "record", "a lone image has no build.log, result.json and %s to check",
		     DD_RECORD_FILE);
		return;
	}
	if (dd_dsse_read(v->record, &e)) {
		check(v, "record", false,
		      "%s (a run built before drydock signed its log and "
		      "result has none)",
		      dd_error_detail());
		return;
	}
	if (!envelope_signed(v, DD_RECORD_FILE, &e, &why)) {
		check(v, "record", false, "%s", why.ptr);
		goto out;
	}
	dd_buf_reset(&why);
	st = json_loadb(e.payload.ptr, e.payload.len, JSON_REJECT_DUPLICATES, NULL);
	if (!st || strcmp(jstr(st, "predicateType"), DD_RECORD_TYPE)) {
		check(v, "record", false, "%s: the signed payload is not a drydock run record (%s)",
		      DD_RECORD_FILE, DD_RECORD_TYPE);
		goto out;
	}
	for (size_t k = 0; k < 3 && !why.len; k++) {
		const char *want = NULL;
		char hex[65];

		json_array_foreach(json_object_get(st, "subject"), i, s)
			if (!strcmp(jstr(s, "name"), names[k]))
				want = jstr(json_object_get(s, "digest"), "sha256");
		if (!want)
			dd_buf_addf(&why, "%s is not a subject of the signed record", names[k]);
		else if (dd_sha256_regular(paths[k], MAX_FILE, hex, NULL))
			dd_buf_adds(&why, dd_error_detail());
		else if (strcmp(hex, want))
			dd_buf_addf(&why,
				    "%s: its content hashes to sha256:%s, the signed record "
				    "says sha256:%s (the file was changed after the build)",
				    names[k], hex, want);
	}
	if (why.len)
		check(v, "record", false, "%s", why.ptr);
	else
		check(v, "record", true,
		      "build.log, result.json and %s are the ones the signed "
		      "record names",
		      DD_PROVENANCE_FILE);
out:
	json_decref(st);
	dd_dsse_release(&e);
	dd_buf_release(&why);
}
