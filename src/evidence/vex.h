/*
 * VEX documents of a built image: what the mirror's security databases
 * say of each installed package (advisory/advisory.h), as OpenVEX 0.2.0
 * (vex.openvex.json) and as a CycloneDX 1.6 VEX document (vex.cdx.json)
 * with the same statements.  Products are the image of each
 * architecture (pkg:oci/<name>@<manifest digest>?arch=…), components
 * the packages by the purl the SBOMs give them.  States map as:
 *
 *   fixed             OpenVEX fixed          CycloneDX resolved
 *   fix available     affected + action      exploitable, response update
 *   fix not yet here  affected + action      exploitable
 *   not affected      not_affected + impact  not_affected
 *
 * Documents are deterministic: times are the image's epoch, identifiers
 * derive from the image digest.
 */
#ifndef DD_EVIDENCE_VEX_H
#define DD_EVIDENCE_VEX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "advisory/advisory.h"

#define DD_VEX_OPENVEX_FILE "vex.openvex.json"
#define DD_VEX_CDX_FILE     "vex.cdx.json"

struct dd_vex {
	json_t *statements, *vulns, *components, *refs;
	int64_t created;
};

void dd_vex_init(struct dd_vex *v);
void dd_vex_release(struct dd_vex *v);

/* The statements of one architecture's image: manifest digest, APK
 * arch, the packages analysed (purls[i] is the SBOM's purl of pkgs[i])
 * and their report against db and cat. */
void dd_vex_add_image(struct dd_vex *v, const char *name, const char *manifest, const char *arch,
		      const struct dd_adv_db *db, const struct dd_catalog *cat,
		      const struct dd_adv_pkg *pkgs, char *const *purls,
		      const struct dd_adv_report *r);

/* How many statements were added. */
size_t dd_vex_count(const struct dd_vex *v);

/* Write dir/vex.openvex.json and dir/vex.cdx.json for the image whose top
 * digest is digest, at time created; at least one statement is needed. */
int dd_vex_write(struct dd_vex *v, const char *dir, const char *name, const char *tag,
		 const char *digest, int64_t created);

#endif
