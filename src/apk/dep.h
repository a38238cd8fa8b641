/*
 * APK dependency strings: "name", "name<op>version", "!name[<op>ver]"
 * (a conflict), namespaced names ("so:libc.musl-x86_64.so.1",
 * "cmd:sh", "pc:zlib"), and the "name=version" form that provides
 * use.  A list is whitespace-separated.
 */
#ifndef DD_APK_DEP_H
#define DD_APK_DEP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct dd_dep {
	char *name;    /* owned; full name, namespace prefix included */
	char *version; /* owned; NULL when the dependency has no version */
	unsigned op;   /* DD_VER_* mask; DD_VER_ANY when version is NULL */
	bool conflict; /* written with a leading '!' */
};

/* Parse one dependency. DD_E_FORMAT with a detail naming the text. */
int dd_dep_parse(struct dd_blob s, struct dd_dep *out);

/* Parse a whitespace-separated list, appending to *deps (n entries,
 * realloc'ed). On error nothing is appended. */
int dd_deps_parse(struct dd_blob s, struct dd_dep **deps, size_t *n);

/* Append the canonical text of d (as apk-tools writes it) to out. */
void dd_dep_format(const struct dd_dep *d, struct dd_buf *out);

/* Append a space-separated list. */
void dd_deps_format(const struct dd_dep *deps, size_t n, struct dd_buf *out);

/* The namespace ("so", "cmd", "pc") of a name, or NULL for plain names. */
const char *dd_dep_namespace(const char *name, size_t *len);

/*
 * Does a package or provide called name, at version (NULL for a provide
 * without version), satisfy d?  Ignores d->conflict: the caller decides
 * what a match means.  A versioned dependency is never satisfied by an
 * unversioned provide.
 */
bool dd_dep_matches(const struct dd_dep *d, const char *name, const char *version);

void dd_dep_release(struct dd_dep *d);
void dd_deps_free(struct dd_dep *deps, size_t n);

#endif
