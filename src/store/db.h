/*
 * Inside the store: the open mirror and the SQL helpers with which the
 * store's own files query the index.  Only src/store/ includes this header;
 * the rest of drydock sees struct dd_store as opaque (store.h) and calls
 * the store's typed functions, never SQL.
 */
#ifndef DD_STORE_DB_H
#define DD_STORE_DB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "store/store.h"

struct dd_store {
	char *root;
	int lock_fd;
	bool writable;
	sqlite3 *db;
	char *private_dir; /* a reader's copy of index.db and its -wal (store.c) */
	char id[33];       /* the mirror's identity (identity.h), "" until checked */
	int64_t commits;   /* the index's commit count */
	int changes_seen;  /* sqlite3_total_changes() when last counted */
};

/* SQL helpers: errors name the statement's purpose. */
int dd_db_exec(struct dd_store *s, const char *sql);
int dd_db_prepare(struct dd_store *s, const char *sql, sqlite3_stmt **st);
/*
 * Step st: 1 with a row, 0 when there are no more rows (or a write is
 * done), or a negative code when SQLite fails (a damaged page, an I/O
 * error, a lock held too long), the error naming the index, what (the
 * purpose: "read the file list of musl") and what to do.  Every query
 * steps through this: an error must never read as "no more rows".
 */
int dd_db_step(struct dd_store *s, sqlite3_stmt *st, const char *what);
/* A row that contradicts the index's own promises (a NULL where the
 * schema forbids one, fewer files than recorded): DD_E_FORMAT naming
 * the index, the detail, and what to do. */
int dd_db_damaged(struct dd_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Bind values to st's parameters 1, 2, ..., one per character of types:
 * 's' a string (NULL binds NULL), 'I' an int64_t, 'i' an int, 't' a time
 * (int64_t, stored as RFC 3339 text), '-' an int that is left NULL (a
 * field the row does not have).  The caller passes exactly those types.
 */
void dd_db_bind(sqlite3_stmt *st, const char *types, ...);
void dd_db_bindv(sqlite3_stmt *st, const char *types, va_list ap);
/* Run sql once with values bound as dd_db_bind: a write, or a query
 * whose rows do not matter.  0, or the error naming what. */
int dd_db_run(struct dd_store *s, const char *what, const char *sql, const char *types, ...);
/* Whether sql, with values bound as dd_db_bind, gives a row. */
int dd_db_exists(struct dd_store *s, const char *what, bool *found, const char *sql,
		 const char *types, ...);
/* The rowid the last INSERT on this connection gave. */
int64_t dd_db_last_rowid(struct dd_store *s);
int dd_db_error(struct dd_store *s, const char *what);

#endif
