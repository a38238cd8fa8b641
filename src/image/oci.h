/*
 * OCI image documents and layouts (image-spec 1.1): descriptors,
 * platforms, canonical JSON, the layout's fixed files and the
 * oci-archive form (a tar of the layout).
 */
#ifndef DD_IMAGE_OCI_H
#define DD_IMAGE_OCI_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "image/layer.h"

#define DD_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DD_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define DD_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define DD_OCI_REF_NAME "org.opencontainers.image.ref.name"

/* {mediaType, digest, size} of d. */
json_t *dd_oci_descriptor(const struct dd_blob_desc *d);

/* Canonical bytes: compact, keys sorted (caller frees). Steals j. */
char *dd_oci_dumps(json_t *j, size_t *len);

/* Split a command line into words: blanks separate, '...' and "..."
 * quote, backslash escapes; no expansion of any kind. */
int dd_split_words(const char *s, json_t **array);

/* oci-layout and index.json (stealing index) in dir. */
int dd_oci_write_layout(const char *dir, json_t *index);

/*
 * The layout at dir as one tar at path: oci-layout, index.json, then
 * blobs/sha256/ sorted by name, owned by root, times set to mtime.
 */
int dd_oci_archive(const char *dir, const char *path, int64_t mtime, char sha256[65]);

/*
 * Unpack the oci-archive at path (a regular file: dd_open_regular) into
 * the empty folder dir.  Only the names a layout has are taken:
 * oci-layout, index.json, blobs/, blobs/sha256/ and blobs/sha256/<64
 * lower-case hex>, as regular files and folders; anything else (another
 * name, a link, a device, a second copy of a name) refuses the archive,
 * naming the member.  Nothing is written outside dir.
 */
int dd_oci_unpack(const char *path, const char *dir);

#endif
