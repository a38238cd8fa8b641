/* Option parsing shared by commands: --mirror, --json, --help. */
#ifndef DD_CLI_OPTS_H
#define DD_CLI_OPTS_H

#include <jansson.h>

/* Print j (indented, keys in insertion order) and a newline; frees j. */
void dd_cli_print_json(json_t *j);

#endif
