/*
 * Bundle manifests and entitlement manifests (docs/bundle-format.md,
 * docs/entitlements.md): parsing with every field checked, and the
 * canonical JSON that `bundle create` writes and signs.
 */
#ifndef DD_BUNDLE_MANIFEST_H
#define DD_BUNDLE_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

#define DD_BUNDLE_FORMAT        "drydock-bundle/1"
#define DD_ENTITLEMENT_FORMAT   "drydock-entitlements/1"
#define DD_MANIFEST_NAME        "manifest.json"
#define DD_MANIFEST_SIG_NAME    "manifest.json.sig"
#define DD_ENTITLEMENT_NAME     "entitlements.json"
#define DD_ENTITLEMENT_SIG_NAME "entitlements.json.sig"
#define DD_SECDB_NAME           "security.json"
#define DD_SECDB_DIR            "secdb/"
#define DD_MANIFEST_MAX         (16u << 20)

enum dd_member_kind {
	DD_MEMBER_APK,             /* packages: *.apk */
	DD_MEMBER_APKINDEX,        /* the upstream APKINDEX.tar.gz */
	DD_MEMBER_ENTITLEMENT,     /* entitlements.json */
	DD_MEMBER_ENTITLEMENT_SIG, /* entitlements.json.sig */
	DD_MEMBER_SECDB,           /* security.json or secdb/NAME.json: advisories */
};

struct dd_member {
	char *path;
	uint64_t size;
	char sha256[65];
	enum dd_member_kind kind;
	bool unsigned_ok; /* "unsigned": true — the sender says it has no trusted signature */
};

struct dd_manifest {
	char *channel;
	uint64_t sequence;
	int64_t created, expires;
	struct dd_member *members;
	size_t n_members;
};

/* Parse and check a manifest; errors say which field and why. */
int dd_manifest_parse(struct dd_blob json, struct dd_manifest *m);
/* Canonical JSON (what is signed), appended to out. */
void dd_manifest_write(const struct dd_manifest *m, struct dd_buf *out);
/* The member called path, or NULL. */
struct dd_member *dd_manifest_find(const struct dd_manifest *m, const char *path);
/* Kind of a member from its path; -1 when drydock does not carry it. */
int dd_member_kind_of(const char *path);
const char *dd_member_kind_str(enum dd_member_kind k);
void dd_manifest_release(struct dd_manifest *m);

struct dd_entitled_pkg {
	char *name, *version;
};

struct dd_entitled_image {
	char *name;
	char **base; /* crust package names */
	size_t n_base;
	struct dd_entitled_pkg *packages; /* guarded package-versions */
	size_t n_packages;
};

struct dd_entitlement {
	char *organization;
	uint64_t version;
	int64_t issued, expires;
	struct dd_entitled_image *images;
	size_t n_images;
};

int dd_entitlement_parse(struct dd_blob json, struct dd_entitlement *e);
void dd_entitlement_release(struct dd_entitlement *e);

#endif
