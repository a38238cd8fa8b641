/*
 * A strict streaming tar reader and writer for APK segments.
 *
 * Why not libarchive here: APK data segments carry a per-file pax
 * record "APK-TOOLS.checksum.SHA1" that apk-tools writes and checks.
 * libarchive's reader drops pax keywords it does not know and its
 * writer cannot emit them, so the format is handled here, as apk-tools
 * does itself.  Supports ustar, pax ('x' and 'g') and GNU long names
 * ('L', 'K') and base-256 numbers; nothing else.
 *
 * The reader validates every header (checksum, numbers, types) and
 * every path: absolute paths and '..' components are refused.
 */
#ifndef DD_APK_TAR_H
#define DD_APK_TAR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/file.h"

typedef ssize_t (*dd_read_fn)(void *ctx, void *buf, size_t len);

enum dd_tar_type {
	DD_TAR_FILE = '0',
	DD_TAR_HARDLINK = '1',
	DD_TAR_SYMLINK = '2',
	DD_TAR_CHAR = '3',
	DD_TAR_BLOCK = '4',
	DD_TAR_DIR = '5',
	DD_TAR_FIFO = '6',
};

struct dd_tar_entry {
	char *path;    /* normalised: no leading "./" or '/', no trailing '/' */
	char *link;    /* link target for hard and symbolic links, else NULL */
	char type;     /* enum dd_tar_type */
	unsigned mode; /* permission bits, 07777 */
	uint32_t uid, gid;
	char uname[33], gname[33];
	uint64_t size; /* data bytes (0 for everything but files) */
	int64_t mtime;
	uint32_t devmajor, devminor;
	char sha1[41]; /* APK-TOOLS.checksum.SHA1, hex; "" when absent */
};

struct dd_tar_reader {
	dd_read_fn read;
	void *ctx;
	uint64_t remaining; /* data bytes of the current entry not yet read */
	uint64_t pad;       /* padding after them */
	bool end;           /* end-of-archive blocks seen */
	uint64_t offset;    /* bytes consumed, for messages */
	struct dd_tar_entry e;
	struct dd_buf path, link; /* storage for e.path / e.link */
};

void dd_tar_reader_init(struct dd_tar_reader *r, dd_read_fn read, void *ctx);
void dd_tar_reader_release(struct dd_tar_reader *r);

/*
 * Advance to the next entry, skipping unread data of the current one.
 * Returns 1 and sets *e (valid until the next call), 0 at the end of
 * the archive (end blocks or a clean end of input at a header
 * boundary, as in APK's signature and control segments), or a negative
 * code with a detail naming the member.
 */
int dd_tar_next(struct dd_tar_reader *r, struct dd_tar_entry **e);

/* Read the current entry's data: returns the count, 0 when done. */
ssize_t dd_tar_read(struct dd_tar_reader *r, void *buf, size_t len);

/* Read all data of the current entry (at most max bytes) into out. */
int dd_tar_read_all(struct dd_tar_reader *r, struct dd_buf *out, uint64_t max);

/* The word the mirror's file index uses for a type ("file", "dir", ...),
 * and back (0 for an unknown word); and a phrase for messages
 * ("a directory"). */
const char *dd_tar_type_name(char type);
char dd_tar_type_parse(const char *name);
const char *dd_tar_type_phrase(char type);

/* Does path stay inside the archive root? (no '/' start, no '..') */
bool dd_tar_path_safe(const char *path);

struct dd_tar_writer {
	dd_write_fn write;
	void *ctx;
	uint64_t bytes;
};

void dd_tar_writer_init(struct dd_tar_writer *w, dd_write_fn write, void *ctx);
/* Header for e (pax records added when needed: long names, sha1). The
 * caller then writes exactly e->size bytes and calls dd_tar_pad(). */
int dd_tar_write_header(struct dd_tar_writer *w, const struct dd_tar_entry *e);
int dd_tar_write_data(struct dd_tar_writer *w, const void *data, size_t len);
int dd_tar_pad(struct dd_tar_writer *w, uint64_t size);
/* Convenience: header + data + padding for an in-memory file. */
int dd_tar_write_file(struct dd_tar_writer *w, const struct dd_tar_entry *e, const void *data);
/* The two zero blocks that end an archive. */
int dd_tar_write_end(struct dd_tar_writer *w);

#endif
