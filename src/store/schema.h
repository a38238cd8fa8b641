/* The mirror index's tables; see schema.c. */
#ifndef DD_STORE_SCHEMA_H
#define DD_STORE_SCHEMA_H

struct dd_store;

/*
 * Create missing tables and bring an older index up to date (in one
 * transaction); refuse an index from a newer drydock.
 */
int dd_schema_apply(struct dd_store *s);

/* The index's schema version (0 when none is recorded). A reader that
 * cannot migrate (a read-only open) asks before using newer columns. */
int dd_schema_version(struct dd_store *s, int *version);

#endif
