/*
 * Which mirror an index belongs to, and whether it is as new as the
 * mirror.
 *
 * A mirror gets an identity when it is first written: 32 hex digits,
 * kept in ROOT/mirror-id and in the index (meta 'mirror-id').  Every
 * transaction that changes the index adds one to the index's commit
 * count (meta 'commits'), and once it is durable the count is written
 * to ROOT/index-commits.  So an index that was lost and re-created
 * (zero-length, deleted), taken from another mirror, or missing commits
 * (its -wal deleted after a crash, an old copy restored) no longer
 * matches the files beside it, and every command refuses it, naming the
 * way out: restore the index, or 'drydock mirror fsck --rebuild-index'.
 * A count in the file below the index's is normal (killed between the
 * commit and the file's update) and is repaired by the next writer.
 * Mirrors from before identities get one at their next write.
 */
#ifndef DD_STORE_IDENTITY_H
#define DD_STORE_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

struct dd_store;

/* Before SQLite opens the index: refuse a missing or empty index.db in
 * a mirror that has an identity (SQLite would make a new, empty one). */
int dd_identity_precheck(struct dd_store *s);

/* After the index is open (and, for a writer, its schema applied):
 * refuse an index that is not this mirror's or has lost commits; a
 * writer gives an identity to a mirror that has none. */
int dd_identity_check(struct dd_store *s);

/* Inside a write transaction: count it.  After it committed:
 * dd_identity_committed records the count beside the index. */
int dd_identity_count(struct dd_store *s);
void dd_identity_committed(struct dd_store *s);

/* A new, empty index (the old one moved aside): give it the mirror's
 * identity id and count ("": a new identity), without checking. */
int dd_identity_restore(struct dd_store *s, const char *id);

/* The mirror's identity, "" when it has none yet. */
const char *dd_identity_id(const struct dd_store *s);

#endif
