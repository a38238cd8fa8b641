/* The mirror index's tables; see schema.c. */
#ifndef DD_STORE_SCHEMA_H
#define DD_STORE_SCHEMA_H

struct dd_store;

/* Create missing tables; refuse an index from a newer drydock. */
int dd_schema_apply(struct dd_store *s);

#endif
