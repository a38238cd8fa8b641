/*
 * A mirror's receipt: what it holds, for the vendor to leave out of the
 * next bundle (`drydock mirror receipt`, `bundle create --since`).
 *
 *   {"format": "drydock-receipt/1", "created": "2026-12-02T03:00:00Z",
 *    "channels": [{"channel": "stable", "sequence": 7, "bundle": "<digest>"}],
 *    "entitlement": {"version": 2, "sha256": "<of entitlements.json>"},
 *    "packages": [{"name": "hello", "version": "1.0-r0", "arch": "x86_64",
 *                  "sha256": "<of the .apk>"}]}
 *
 * "entitlement" is null when the mirror has none.  Packages are sorted
 * by name, version, arch, so the same mirror gives the same receipt
 * (but for "created").
 */
#ifndef DD_STORE_RECEIPT_H
#define DD_STORE_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

#define DD_RECEIPT_FORMAT "drydock-receipt/1"
#define DD_RECEIPT_MAX    (64u << 20)

/* The receipt of s as JSON text (with a final newline) in out. */
int dd_receipt_make(struct dd_store *s, struct dd_buf *out);

struct dd_receipt {
	char (*blobs)[65]; /* package sha256s, sorted */
	size_t n_blobs;
	bool has_entitlement;
	uint64_t entitlement_version;
	char entitlement_sha256[65];
};

/* Parse receipt text; what names the file in errors. */
int dd_receipt_parse(struct dd_blob text, const char *what, struct dd_receipt *r);
/* Does the site hold the package blob with this sha256? */
bool dd_receipt_holds(const struct dd_receipt *r, const char *sha256);
void dd_receipt_release(struct dd_receipt *r);

#endif
