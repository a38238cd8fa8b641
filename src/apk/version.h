/*
 * APK version strings, ordered exactly as apk-tools 3 orders them.
 *
 * A version is digits separated by dots, an optional single letter,
 * any number of _suffix[N] (alpha beta pre rc < none < cvs svn git hg p),
 * an optional ~commit-hash (hex) and an optional -rN revision.  Strings
 * that do not follow the grammar are invalid; as in apk-tools, they are
 * compared component by component up to the first invalid part, and
 * the invalid one sorts as older.
 */
#ifndef DD_APK_VERSION_H
#define DD_APK_VERSION_H

#include <stdbool.h>

#include "core/buf.h"

/* Result and operator bits, combinable: "<=" is LESS|EQUAL. */
#define DD_VER_LESS    0x01
#define DD_VER_EQUAL   0x02
#define DD_VER_GREATER 0x04
#define DD_VER_FUZZY   0x08 /* '~': a prefix match on whole components */
#define DD_VER_ANY     (DD_VER_LESS | DD_VER_EQUAL | DD_VER_GREATER)

/* true when v follows the version grammar. */
bool dd_version_valid(struct dd_blob v);

/* DD_VER_LESS, DD_VER_EQUAL or DD_VER_GREATER: a compared with b. */
int dd_version_compare(struct dd_blob a, struct dd_blob b);
/* A comparison's result as qsort wants it: -1 (LESS), 1 (GREATER), else 0. */
static inline int dd_version_sign(int cmp)
{
	return cmp == DD_VER_LESS ? -1 : cmp == DD_VER_GREATER ? 1 : 0;
}

/*
 * Does version a satisfy "op b"?  op is a mask of the bits above, as
 * produced by dd_version_op_parse(); with DD_VER_FUZZY, "a ~ b" holds
 * when b's components are a prefix of a's (3.6.9 ~ 3.6).
 */
bool dd_version_match(struct dd_blob a, unsigned op, struct dd_blob b);

/*
 * Parse an operator at the start of s ("=", "<", ">", "<=", ">=", "~",
 * "=~", "~=", "<~", ">~", "><"); returns its length and sets *op, or
 * returns 0 when s does not start with an operator.
 */
size_t dd_version_op_parse(struct dd_blob s, unsigned *op);

/* Canonical spelling of an operator mask ("<=", "~", ...). */
const char *dd_version_op_str(unsigned op);

#endif
