/*
 * drydock verify: an auditor's offline check of one run folder.
 *
 * Checks, each reported as it completes:
 *   signature     the provenance envelope is signed by the given key
 *                 (or a key the mirror trusts for provenance)
 *   statement     its payload is an in-toto Statement v1 with an SLSA
 *                 Provenance v1 predicate of drydock's build type
 *   subject       the statement's first subject is the image layout's
 *                 top digest (manifest or index), and per-architecture
 *                 subjects are the index's manifests
 *   files         image.oci.tar and the SBOMs (those present, for a lone
 *                 image) hash to their subjects
 *   blobs         every blob the layout refers to has its digest and size
 *   diff_ids      every layer, uncompressed, hashes to its diff_id
 *   sboms         SPDX and CycloneDX list the same packages and hashes
 *   provenance-packages  resolvedDependencies name exactly those packages
 *   installed-db  each image's apk database holds exactly those packages
 *   image-sbom    the SBOM inside each image lists exactly those packages
 *   record        build.log, result.json and the provenance are the ones
 *                 record.intoto.json names, signed by the same key
 *   mirror        (with a mirror) every package, bundle manifest and the
 *                 entitlement manifest is in the mirror with that hash,
 *                 each package came from the bundle named, and every
 *                 bundle and entitlement signature verifies with a key
 *                 the mirror trusts for that role
 *   rebuild       (--rebuild) the job, rebuilt from exactly the inputs the
 *                 provenance records (image/rebuild.h; without the layer
 *                 cache) into a temporary folder, gives the same image
 *                 digest; else the first difference is named
 * Nothing is read from the network and the run folder is not changed.
 */
#ifndef DD_IMAGE_VERIFY_H
#define DD_IMAGE_VERIFY_H

#include <stdbool.h>

struct dd_verify_opts {
	const char *run;        /* a run folder, an OCI image layout folder, or an
				   oci-archive (image.oci.tar) */
	const char *key;        /* the signer's public key file; NULL: the mirror's */
	const char *mirror;     /* NULL: no mirror checks */
	bool rebuild;           /* needs mirror */
	const char *provenance; /* NULL: provenance.intoto.json beside the image */
	const char *spdx, *cdx; /* NULL: sbom.spdx.json, sbom.cdx.json beside it */
};

enum dd_verify_state { DD_VERIFY_OK, DD_VERIFY_FAIL, DD_VERIFY_SKIP };

/* One check's outcome; DD_VERIFY_SKIP: it could not run, detail says why. */
typedef void (*dd_verify_report)(void *ctx, const char *check, enum dd_verify_state state,
				 const char *detail);

/*
 * Run every check that can run, reporting each, and each that cannot as
 * skipped (a lone image has no build.log to check); returns how many
 * failed.  A run folder must hold everything a run holds: there a
 * missing file fails its check.
 */
int dd_verify(const struct dd_verify_opts *o, dd_verify_report report, void *ctx);

#endif
