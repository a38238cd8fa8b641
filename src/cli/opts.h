/* JSON output shared by commands. */
#ifndef DD_CLI_OPTS_H
#define DD_CLI_OPTS_H

#include <jansson.h>
#include <stddef.h>

#include "apk/dep.h"

/* Print j (indented, keys in insertion order) and a newline; frees j. */
void dd_cli_print_json(json_t *j);

/* A JSON array of dependency strings, as apk-tools writes them. */
json_t *dd_cli_json_deps(const struct dd_dep *d, size_t n);

#endif
