/*
 * A bundle split over several files (`bundle create --split SIZE`), for
 * media that cap the size of a file (FAT32: 4 GiB) or of a disc.
 *
 * NAME.part-001, NAME.part-002, ... each start with a 512-byte header:
 * a JSON object padded with spaces and a newline,
 *
 *   {"format": "drydock-bundle-part/1", "bundle": "<manifest digest>",
 *    "part": 2, "parts": 3, "offset": 4294966784, "size": 4294966784,
 *    "sha256": "<sha256 of this part's payload>"}
 *
 * followed by its payload: the bytes offset .. offset+size-1 of the
 * bundle stream (the tar or tar.zst a single-file bundle would be).  The
 * first part holds the start of the stream, so the signed manifest.
 *
 * The reader hands the payloads on as one stream, opening each part only
 * when the stream reaches it; a missing part, a part out of order, one
 * of another bundle or one whose payload does not match its header is
 * refused by its file name.  Nothing is remembered between runs: an
 * import that failed on a part is simply run again.
 */
#ifndef DD_BUNDLE_PARTS_H
#define DD_BUNDLE_PARTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

#define DD_PART_HEADER 512u
#define DD_PART_FORMAT "drydock-bundle-part/1"
#define DD_PART_SUFFIX ".part-001"

/* ---- writing ---- */

struct dd_parts_writer;

/*
 * Write parts base.part-001, ... each at most max_size - 1 bytes
 * (header included), for the bundle whose manifest digest is id.  The
 * parts are written under temporary names and renamed into place by
 * dd_parts_writer_finish().
 */
int dd_parts_writer_open(const char *base, uint64_t max_size, const char id[65],
			 struct dd_parts_writer **out);
/* Append stream bytes; returns len or a negative error. */
ssize_t dd_parts_write(struct dd_parts_writer *w, const void *buf, size_t len);
/* Complete every header, make the parts durable and rename them into place. */
int dd_parts_writer_finish(struct dd_parts_writer *w, unsigned *n_parts);
/* Remove whatever was written; frees w (NULL is fine). */
void dd_parts_writer_free(struct dd_parts_writer *w);

/* ---- reading ---- */

struct dd_parts_reader;

/*
 * Does path name a split bundle?  A file whose first 512 bytes are a
 * part header, or a directory holding exactly one NAME.part-001 (and no
 * manifest.json).  On 1, first receives the path of part 1.  Returns 0
 * when path is something else, or an error (a directory with the
 * parts of several bundles, a part other than the first).
 */
int dd_parts_detect(const char *path, struct dd_buf *first);

int dd_parts_reader_open(const char *first, struct dd_parts_reader **out);
/* Stream bytes: count, 0 at the end of the last part, or an error. */
ssize_t dd_parts_read(struct dd_parts_reader *r, void *buf, size_t len);
/*
 * After the stream was refused: read the rest of the part being read;
 * an error naming it when its contents do not match its header, else 0
 * (the part is as it was written: the refusal stands).
 */
int dd_parts_blame(struct dd_parts_reader *r);
/* The manifest digest the parts claim to carry. */
const char *dd_parts_bundle(const struct dd_parts_reader *r);
void dd_parts_reader_free(struct dd_parts_reader *r);

/* Parse a size such as 4G, 4480M, 650M, 100K or 1000000 (bytes); 0 on success. */
int dd_parts_parse_size(const char *s, uint64_t *out);

#endif
