/*
 * The files of a bundle, one after the other, from a tar file (plain
 * or zstd-compressed, read once as a stream through libarchive) or from
 * a directory tree on mounted media.  In a directory the manifest and
 * its signature come first, then every other entry sorted by path.  A
 * split bundle (bundle/parts.h: NAME.part-001, or a directory holding
 * the parts) is read as the one tar stream its parts carry.  A tar is
 * opened once and read front to back, so it may be a pipe or a FIFO;
 * the path "-" reads one from standard input.
 */
#ifndef DD_BUNDLE_SOURCE_H
#define DD_BUNDLE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum dd_src_type {
	DD_SRC_FILE = 'f',
	DD_SRC_LINK = 'l',  /* symbolic or hard link */
	DD_SRC_OTHER = 'o', /* device, fifo, socket */
};

struct dd_bundle_src {
	char *path;
	bool is_dir;
	bool is_stdin;     /* path "-": a tar stream on standard input */
	struct archive *a; /* tar mode */
	char **names;      /* directory mode: relative paths */
	char *types;
	size_t n, next;
	int fd;
	char *cur;                     /* current entry's path (normalised) */
	uint64_t bytes_read;           /* of the whole bundle, for progress */
	struct dd_parts_reader *parts; /* split bundle: the parts, in order */
	int parts_rc;                  /* the parts' error behind a libarchive failure */
	char *parts_detail;
	char *parts_buf; /* what libarchive is handed */
};

int dd_bundle_src_open(const char *path, struct dd_bundle_src *s);
/* Next entry: 1 with path/type/size set, 0 at the end, or an error. */
int dd_bundle_src_next(struct dd_bundle_src *s, const char **path, char *type, uint64_t *size);
/* Read the current entry's data: count, 0 at its end, or an error. */
ssize_t dd_bundle_src_read(struct dd_bundle_src *s, void *buf, size_t len);
void dd_bundle_src_close(struct dd_bundle_src *s);
/*
 * After a refusal rc while reading a split bundle: the part being read
 * checked to its end, and its damage reported instead of rc if its
 * contents do not match its header.  Otherwise rc.
 */
int dd_bundle_src_blame(struct dd_bundle_src *s, int rc);
/* For a split bundle, the manifest digest its parts claim; else NULL. */
const char *dd_bundle_src_part_id(const struct dd_bundle_src *s);

#endif
