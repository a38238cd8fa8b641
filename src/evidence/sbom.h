/*
 * Software bills of materials of a built image: SPDX 2.3 and CycloneDX
 * 1.6 JSON, with the same facts.  Each image (one per architecture) is
 * a container package that CONTAINS every installed package; each
 * package has its name, version, supplier (the maintainer), declared
 * licence, the sha256 of the .apk it came from, a purl
 * (pkg:apk/<channel>/<name>@<version>?arch=<arch>), DEPENDS_ON edges to
 * the installed packages that satisfy its dependencies, and drydock's
 * own facts: guarded or not, crust or topping, the bundle that brought
 * it.  Documents are deterministic: times are the image's epoch and
 * identifiers derive from the image digest.
 */
#ifndef DD_EVIDENCE_SBOM_H
#define DD_EVIDENCE_SBOM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"
#include "job/plan.h"
#include "store/catalog.h"

/* Where the image holds its own SPDX document. */
#define DD_IMAGE_SBOM_DIR "var/lib/db/sbom"

struct dd_sbom {
	json_t *spdx_pkgs, *spdx_rels, *cdx_comps, *cdx_deps, *images;
	int64_t created;
};

void dd_sbom_init(struct dd_sbom *s);
void dd_sbom_release(struct dd_sbom *s);

/* Add the image of one architecture: its manifest digest (NULL when
 * not known yet) and the packages of plan (the first n_crust in the
 * crust layer). */
void dd_sbom_add_image(struct dd_sbom *s, const char *tag, const char *manifest_digest,
		       const struct dd_catalog *cat, const struct dd_plan *p, size_t n_crust,
		       int64_t created);

/*
 * The SPDX document placed inside the image of one architecture
 * (var/lib/db/sbom/<name>.spdx.json).  It cannot name the digest of
 * the image that holds it, so its namespace derives from the
 * architecture and the sha256 of every package instead.
 */
int dd_sbom_contents(const struct dd_catalog *cat, const struct dd_plan *p, size_t n_crust,
		     int64_t created, const char *name, const char *tag, struct dd_buf *out);

/* pkg:apk/<channel>/<name>@<version>?arch=<arch>, percent-encoded. */
void dd_purl(struct dd_buf *out, const char *channel, const struct dd_apk_pkg *p, const char *arch);

/* Write dir/sbom.spdx.json and dir/sbom.cdx.json for the image whose
 * top digest (manifest or index) is digest. */
int dd_sbom_write(struct dd_sbom *s, const char *dir, const char *name, const char *tag,
		  const char *digest);

#endif
