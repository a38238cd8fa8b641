/*
 * Signed provenance of a run: provenance.intoto.json, a DSSE envelope
 *   {"payloadType": "application/vnd.in-toto+json",
 *    "payload": base64(statement),
 *    "signatures": [{"keyid": fingerprint, "sig": base64(signature)}]}
 * whose payload is an in-toto Statement v1 with an SLSA Provenance v1
 * predicate.  The signature is over the DSSE pre-authentication
 * encoding (PAE) of the payload, not over the payload itself:
 *   "DSSEv1" SP len(type) SP type SP len(payload) SP payload
 * with lengths as decimal byte counts.  docs/verifying.md shows how to
 * check it with gpgv or openssl alone.
 */
#ifndef DD_EVIDENCE_PROVENANCE_H
#define DD_EVIDENCE_PROVENANCE_H

#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "trust/sign.h"

#define DD_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define DD_INTOTO_STATEMENT    "https://in-toto.io/Statement/v1"
#define DD_SLSA_PROVENANCE     "https://slsa.dev/provenance/v1"
#define DD_BUILD_TYPE          "https://drydock.invalid/buildtypes/apk-image/v1"
#define DD_PROVENANCE_FILE     "provenance.intoto.json"

/*
 * The run's record: a second envelope, signed by the same key when the
 * run is complete, whose statement has the subjects build.log,
 * result.json and provenance.intoto.json.  The provenance cannot cover
 * them itself: the log and result.json are finished after it is signed
 * (result.json names its signer).  Nothing refers back to the record, so
 * there is no circle.
 */
#define DD_RECORD_FILE "record.intoto.json"
#define DD_RECORD_TYPE "https://drydock.invalid/run-record/v1"

/* The DSSE pre-authentication encoding of body of the given type. */
void dd_dsse_pae(const char *type, const void *body, size_t len, struct dd_buf *out);

/*
 * Write dir/provenance.intoto.json around statement, signed by key
 * (NULL: an envelope without signatures, which verification refuses).
 */
int dd_provenance_write(const char *dir, json_t *statement, struct dd_sigkey *key);

/* The same, as dir/file (the record uses it). */
int dd_dsse_write(const char *dir, const char *file, json_t *statement, struct dd_sigkey *key);

/* An envelope read back. */
struct dd_dsse_sig {
	char *keyid;
	struct dd_buf sig;
};

struct dd_dsse {
	char *type;
	struct dd_buf payload;
	struct dd_dsse_sig *sigs;
	size_t n_sigs;
};

/* Read and decode the envelope in file (its JSON and base64 only). */
int dd_dsse_read(const char *file, struct dd_dsse *e);

/*
 * The bundles a provenance statement names (its resolvedDependencies of
 * kind "bundle-manifest"): a new object mapping each bundle's sha256 to
 * its "channel#sequence".
 */
json_t *dd_provenance_bundle_labels(json_t *statement);
void dd_dsse_release(struct dd_dsse *e);

#endif
