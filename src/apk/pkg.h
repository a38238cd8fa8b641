/*
 * APK package metadata, as .PKGINFO and as APKINDEX text.
 *
 * One struct serves both: .PKGINFO lines ("key = value") and APKINDEX
 * blocks ("X:value") carry the same facts under different spellings.
 * Every key apk-tools knows is kept; unknown well-formed keys are kept
 * in `extra` (in order) so nothing is lost on a round trip.
 */
#ifndef DD_APK_PKG_H
#define DD_APK_PKG_H

#include <stdbool.h>
#include <stdint.h>

#include "apk/dep.h"
#include "core/buf.h"

struct dd_kv {
	char *key, *value;
};

struct dd_apk_pkg {
	char *name, *version, *arch, *description, *url, *license;
	char *origin, *maintainer, *commit, *packager;
	uint64_t installed_size; /* .PKGINFO size, APKINDEX I: */
	uint64_t file_size;      /* APKINDEX S: (size of the .apk); 0 if unknown */
	int64_t build_time;      /* builddate, APKINDEX t:; 0 if unknown */
	struct dd_dep *depends, *provides, *install_if, *replaces;
	size_t n_depends, n_provides, n_install_if, n_replaces;
	char **triggers;
	size_t n_triggers;
	int provider_priority; /* k:; meaningful when has_provider_priority */
	bool has_provider_priority;
	int replaces_priority; /* q: */
	char datahash[65];     /* sha256 hex of the data segment; "" if none */
	char checksum[64];     /* APKINDEX C: ("Q1" + base64 sha1 of control), as
				  dd_apk_checksum_set() keeps it */
	struct dd_kv *extra;
	size_t n_extra;
};

/* Parse .PKGINFO text into p (zeroed by the caller).  Comments and
 * blank lines are skipped; a line that is not "key = value" is an
 * error naming its line number.  pkgname and pkgver are required. */
int dd_pkginfo_parse(struct dd_blob text, struct dd_apk_pkg *p);

/* Write p as .PKGINFO text, in the order apk-tools' producers use. */
void dd_pkginfo_write(const struct dd_apk_pkg *p, struct dd_buf *out);

/*
 * Parse APKINDEX text (blocks separated by blank lines) into a new
 * array *pkgs of *n packages.  Errors name the line.
 */
int dd_apkindex_parse(struct dd_blob text, struct dd_apk_pkg **pkgs, size_t *n);

/* Append one APKINDEX block for p, ending with a blank line. */
void dd_apkindex_write_pkg(const struct dd_apk_pkg *p, struct dd_buf *out);

/* Compare by name, then version (apk order), for sorted output. */
int dd_apk_pkg_cmp(const struct dd_apk_pkg *a, const struct dd_apk_pkg *b);

/* Does p (by name or by one of its provides) satisfy d?  Ignores d->conflict. */
bool dd_apk_pkg_satisfies(const struct dd_apk_pkg *p, const struct dd_dep *d);

/* Does p declare that it replaces the package called name? */
bool dd_apk_pkg_replaces(const struct dd_apk_pkg *p, const char *name);

void dd_apk_pkg_release(struct dd_apk_pkg *p);
void dd_apk_pkgs_free(struct dd_apk_pkg *pkgs, size_t n);

/*
 * Keep an APKINDEX checksum (C:) in out (the field above) the way
 * apk-tools identifies a package: by the digest it decodes to, not the
 * text.  Q1/Q2 (base64 of a SHA-1/SHA-256, padded as apk-tools requires),
 * X1/X2 (hex, either case) and a bare 32-digit MD5 are decoded and written
 * again in apk-tools' own form ("Q1"/"Q2" + canonical base64, MD5 in lower
 * case hex), so two spellings of one digest compare equal; text that does
 * not decode is kept as given.  False when v is too short or too long.
 */
bool dd_apk_checksum_set(const char *v, size_t len, char out[64]);

/* The OCI platform of an APK architecture: GOARCH and variant ("aarch64"
 * -> arm64, v8; variant NULL when there is none). */
void dd_apk_arch_platform(const char *apk_arch, const char **arch, const char **variant);

#endif
