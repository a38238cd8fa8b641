/* The change report of an import or a dry run, for people and as JSON. */
#ifndef DD_CLI_REPORT_H
#define DD_CLI_REPORT_H

#include <jansson.h>

#include "bundle/changes.h"

/* The lines below an import's summary line, indented. */
void dd_cli_changes_print(const struct dd_changes *ch);
/* "packages (N new, N upgraded, N already held)" counts, for the summary line. */
void dd_cli_changes_counts(const struct dd_changes *ch, struct dd_buf *out);
json_t *dd_cli_changes_json(const struct dd_changes *ch);

#endif
