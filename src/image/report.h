/*
 * drydock report: one self-contained HTML page about a run, for an
 * auditor: the verdict of every verify check, the image and its layers,
 * the packages (name, version, licence, guarded or not, crust or
 * topping, the bundle that brought each), the signer, the entitlement,
 * the warnings and, against another run, what changed.
 *
 * The page needs nothing else: its style is inline, it loads nothing
 * and runs no script, and it prints.  Everything taken from the run
 * (package metadata, log lines, file names) is untrusted and is
 * escaped for HTML.
 */
#ifndef DD_IMAGE_REPORT_H
#define DD_IMAGE_REPORT_H

#include "core/buf.h"

struct dd_report_opts {
	const char *run;     /* the run folder */
	const char *key;     /* for the signature checks; NULL: the mirror's, if any */
	const char *mirror;  /* NULL: no mirror checks */
	const char *against; /* another run folder to compare with; NULL: none */
};

/*
 * The page into out, after running drydock verify on the run (not the
 * rebuild); *failed gets the number of checks that failed.  Returns 0,
 * or a negative code when the run's result.json cannot be read.
 */
int dd_report_html(const struct dd_report_opts *o, struct dd_buf *out, int *failed);

/* s escaped for HTML text and attribute values (& < > " '). */
void dd_html_escape(struct dd_buf *out, const char *s);

#endif
