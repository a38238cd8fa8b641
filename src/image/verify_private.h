/*
 * Inside drydock verify (image/verify.h): what one run of the checks
 * holds and how a check reports.  Only src/image/verify*.c include this
 * header.  The checks, in the order dd_verify() runs them:
 *
 *   verify.c            what was given (a run folder, a layout or an
 *                       archive), rebuild, and dd_verify() itself
 *   verify_envelope.c   signature, statement; record
 *   verify_layout.c     subject, blobs, diff_ids: the layout and each layer
 *   verify_contents.c   files; sboms, provenance-packages, installed-db,
 *                       image-sbom
 *   verify_mirror.c     mirror
 */
#ifndef DD_IMAGE_VERIFY_PRIVATE_H
#define DD_IMAGE_VERIFY_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "core/buf.h"
#include "image/verify.h"

#define MAX_DOC  (64u << 20)
#define MAX_FILE (1ull << 40) /* an archive or a mirror blob: any regular file */

/* What one image (one architecture) holds, read from its layers. */
struct image {
	char *manifest; /* sha256:... */
	char *arch;     /* etc/apk/arch */
	json_t *db;     /* "name@version" -> true, from the installed database */
	json_t *sbom;   /* "name@version sha256" -> true, from var/lib/db/sbom/ */
	bool has_db, has_sbom;
};

struct verify {
	const struct dd_verify_opts *o;
	dd_verify_report report;
	void *ctx;
	int failed;
	json_t *st;    /* the statement, when readable */
	json_t *index; /* the layout's index.json */
	struct image *imgs;
	size_t n_imgs;
	/* what was found (locate()); NULL: absent */
	bool run_folder; /* a run folder: all a run holds must be there */
	char *layout;    /* the OCI image layout's folder */
	char *archive;   /* the oci-archive */
	char *prov, *spdx, *cdx, *log, *result, *record;
	char *vex, *vex_cdx;     /* the VEX documents, when the run has them */
	char *unpacked;          /* a temporary folder the archive was unpacked into */
	char *unpack_why;        /* why it could not be unpacked */
	const char *layout_from; /* what the layout is, for messages */
};

/* Report check name's outcome with the detail fmt; a failure counts. */
void dd_verify_outcome(struct verify *v, const char *name, enum dd_verify_state state,
		       const char *fmt, va_list ap);

static inline void check(struct verify *v, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline void check(struct verify *v, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd_verify_outcome(v, name, ok ? DD_VERIFY_OK : DD_VERIFY_FAIL, fmt, ap);
	va_end(ap);
}

/* A check that could not run, and why. */
static inline void skip(struct verify *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void skip(struct verify *v, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd_verify_outcome(v, name, DD_VERIFY_SKIP, fmt, ap);
	va_end(ap);
}

/* The string member key of o, or "". */
static inline const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The JSON document at path (at most MAX_DOC bytes), or NULL with why. */
json_t *dd_verify_load_json(const char *path, struct dd_buf *why);

/* Add the key fmt... to the object set, as true. */
void dd_verify_add_key(json_t *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The sha256 of the statement's subject named name (NULL: the first), or "". */
const char *dd_verify_subject_sha(struct verify *v, const char *name);

/* The packages of an SPDX document: "name@version sha256" into all and,
 * when by_arch is not NULL, "name@version sha256 arch" into by_arch. */
void dd_verify_spdx_packages(json_t *doc, json_t *all, json_t *by_arch);

/* The checks; each reports the check names it runs (see above). */
void dd_verify_envelope(struct verify *v); /* signature, statement; sets v->st */
void dd_verify_layout(struct verify *v);   /* subject, blobs, diff_ids; sets v->imgs */
void dd_verify_files(struct verify *v);
void dd_verify_record(struct verify *v);
void dd_verify_contents(struct verify *v); /* sboms .. image-sbom */
void dd_verify_mirror(struct verify *v);

#endif
