/*
 * The mirror's store: content-addressed blobs plus an SQLite index.
 *
 *   ROOT/index.db          SQLite (WAL): bundles, packages, files, trust
 *   ROOT/blobs/sha256/HEX  every imported file, named by its sha256
 *   ROOT/tmp/              staging for an import in progress
 *   ROOT/gnupg/            the mirror's own GnuPG home (bundle,
 *                          entitlement and provenance keys)
 *   ROOT/keys/apk/         trusted APK RSA public keys
 *   ROOT/keys/provenance/  trusted PEM provenance keys
 *   ROOT/cache/layers/     crust layers builds share (image/build.h)
 *   ROOT/mirror-id         the mirror's identity, also in the index (identity.h)
 *   ROOT/index-commits     how many commits the index should have (identity.h)
 *   ROOT/audit.log         append-only, one JSON object per line
 *   ROOT/lock              flock(2): one writer, or many readers
 *
 * A writer stages files in tmp/, and only after everything is verified
 * renames them into blobs/ and commits the index in one transaction.
 * A crash leaves at worst unreferenced blobs and stale files in tmp/,
 * which fsck reports and gc (or the next writer) removes.
 */
#ifndef DD_STORE_H
#define DD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* An open mirror; its fields are the store's own (store/db.h). */
struct dd_store;

enum {
	DD_STORE_WRITE = 1,     /* exclusive lock; a missing folder of the layout is made */
	DD_STORE_ANY_INDEX = 2, /* skip the identity check: the index is being rebuilt */
	DD_STORE_CREATE = 4,    /* dd_store_init only: a writer that may make the mirror */
};

/*
 * The mirror directory: --mirror DIR (option), else $DRYDOCK_MIRROR, else
 * the mirror a configuration file names (dd_store_set_configured_root),
 * else "./mirror".  Returns option, the environment's string, the
 * configured one or a static one, and remembers how it chose, so that a
 * refusal of a missing mirror at that path says so (dd_store_check_exists).
 */
const char *dd_store_default_root(const char *option);

/*
 * The mirror a site configuration file names, and where it says so
 * ("/etc/drydock/drydock.conf:3"), for dd_store_default_root and its
 * errors.  Both strings must live until the next call; a NULL root
 * forgets them.
 */
void dd_store_set_configured_root(const char *root, const char *where);

/*
 * 0 when root holds a mirror (its index.db, mirror-id or blobs/sha256),
 * else DD_E_NO_MIRROR with a message naming root made absolute, how it
 * was chosen (when dd_store_default_root chose it) and how to make one
 * ('drydock mirror init').  Creates nothing.
 */
int dd_store_check_exists(const char *root);

/*
 * Open the mirror at root; a missing mirror is refused with
 * dd_store_check_exists's error, and nothing is created.  With
 * DD_STORE_WRITE, take the exclusive lock (failing at once, naming the
 * holder, when another process has it), make any missing folder of the
 * layout and clear stale staging files; without it, no lock is taken
 * and nothing in the mirror is written: the index is opened read-only
 * when this process cannot write it (another user's copy, a read-only
 * mount), with SQLite's immutable mode when no WAL is left to read (see
 * store.c).
 */
int dd_store_open(const char *root, int flags, struct dd_store **out);

/*
 * Make a mirror at root (and any missing parent): the layout, an empty
 * index and the mirror's identity, opened for writing in *out, *made
 * set.  When root already holds a mirror it is opened for reading
 * (checked, nothing changed) and *made is false.  A file, or a
 * non-empty directory that holds no mirror, is refused (DD_E_USAGE).
 */
int dd_store_init(const char *root, bool *made, struct dd_store **out);
void dd_store_close(struct dd_store *s);

/*
 * Rebuilding the index: move index.db (and -wal, -shm) aside to aside
 * (ROOT/index.db.lost-TIME) and start an empty one that keeps the
 * mirror's identity.  The store must be open for writing.
 */
int dd_store_reset_index(struct dd_store *s, struct dd_buf *aside);

/* The mirror's root directory, as opened. */
const char *dd_store_root(const struct dd_store *s);
/* ROOT/rel in out (reset first); returns out->ptr. */
const char *dd_store_path(const struct dd_store *s, const char *rel, struct dd_buf *out);
/* ROOT/blobs/sha256/hex in out; returns out->ptr. */
const char *dd_store_blob_path(const struct dd_store *s, const char *hex, struct dd_buf *out);

/* A file being written into tmp/, hashed as it goes. */
struct dd_staged {
	int fd;
	char *path;
	struct evp_md_ctx_st *md; /* OpenSSL's EVP_MD_CTX */
	uint64_t size;
	char sha256[65]; /* set by dd_staged_finish */
};

int dd_staged_begin(struct dd_store *s, struct dd_staged *f);
/* The same in any directory (verification without a mirror). */
int dd_staged_begin_in(const char *dir, struct dd_staged *f);
int dd_staged_write(struct dd_staged *f, const void *data, size_t len);
/* fsync and close; sets f->sha256. The file stays in tmp/. */
int dd_staged_finish(struct dd_staged *f);
/* Remove the staged file (if any) and free; safe on a zeroed struct. */
void dd_staged_discard(struct dd_staged *f);

/*
 * Move a finished staged file into blobs/ under its sha256.  When the
 * blob already exists it is re-hashed, never trusted by its size: a
 * matching blob is kept and the staged copy removed, a damaged one is
 * replaced.  f is released either way.  The rename is durable only
 * after dd_store_sync_blobs, which must run before the index names the
 * blob (one directory sync for all the blobs of an import).
 */
int dd_store_commit_blob(struct dd_store *s, struct dd_staged *f);
/* fsync blobs/sha256: every dd_store_commit_blob before it is durable. */
void dd_store_sync_blobs(struct dd_store *s);

/* Append one JSON line (a jansson json_t *) to audit.log, fsynced. */
int dd_store_audit(struct dd_store *s, void *json_record);
/* The same for the mirror at root, not opened (or not openable: an
 * import refused because the mirror is busy is recorded too). */
int dd_store_audit_at(const char *root, void *json_record);
/* A new attempt id: what links an import's "started" audit record to
 * its outcome (32 hex digits). */
void dd_store_attempt_id(char out[33]);

/* One transaction on the index: what an import commits at once. */
int dd_db_begin(struct dd_store *s);
int dd_db_commit(struct dd_store *s);
void dd_db_rollback(struct dd_store *s);

#endif
