/*
 * Security databases in the Alpine/Wolfi "secdb" format, the one Alpine
 * publishes per release and repository (main.json, community.json) and
 * Wolfi as security.json:
 *
 *   {"distroversion": "v3.20", "reponame": "main", "urlprefix": "…",
 *    "apkurl": "…", "archs": ["x86_64"],
 *    "packages": [{"pkg": {"name": "openssl",
 *                          "secfixes": {"3.1.4-r1": ["CVE-2023-5678"],
 *                                       "0": ["CVE-2022-0001 CVE-2022-0002"]}}}]}
 *
 * Read as the scanners that use it read it: pkg.name is a package's
 * *origin* (the APK "o:" field), so openssl's fixes apply to libcrypto3
 * and libssl3; an id listed under version F is fixed in every version
 * >= F (APK version order); an id under "0" never affected the origin;
 * one string may hold several ids separated by spaces; ids that are not
 * CVEs (XSA-…, GHSA-…) are ids like any other.
 */
#ifndef DD_ADVISORY_SECDB_H
#define DD_ADVISORY_SECDB_H

#include <stddef.h>

#include "core/buf.h"

/* A secdb is read whole; bundles carrying more are refused. */
#define DD_SECDB_MAX (64u << 20)

struct dd_secfix {
	char *origin;
	char *fixed; /* the first fixed version; NULL: "0", never affected */
	char *id;    /* CVE-…, GHSA-…, XSA-…: one id */
};

struct dd_secdb {
	char *distroversion, *reponame; /* NULL when absent */
	struct dd_secfix *fixes;        /* in the document's order */
	size_t n;
	size_t n_origins; /* packages[] entries */
};

/*
 * Parse and check a secdb document; what names it in errors (a member
 * path or file name).  Every fixed version must be a valid APK version
 * or "0", every id list an array of strings.  On success db owns
 * everything; release it with dd_secdb_release().
 */
int dd_secdb_parse(struct dd_blob json, const char *what, struct dd_secdb *db);
void dd_secdb_release(struct dd_secdb *db);

#endif
