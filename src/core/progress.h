/*
 * Progress of long work (an import, a batch) on a terminal: one line on
 * standard error, redrawn in place at most five times a second, with the
 * rate and the time left.  Only when standard error is a terminal (not
 * TERM=dumb) and the caller wants it (not under --json): logs, pipes and
 * cron's mail never see it.
 *
 *	struct dd_progress p;
 *
 *	dd_progress_begin(&p, !json, "MB", 1, total_mb);
 *	... dd_progress_show(&p, "3/188 members", done_mb); ...
 *	dd_progress_end(&p, "188/188 members", total_mb);
 *
 * draws "  3/188 members: 540.2/1074.5 MB, 89.5 MB/s, 6s left" (amounts
 * with one decimal, as asked; a rate always has one).
 */
#ifndef DD_CORE_PROGRESS_H
#define DD_CORE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dd_progress {
	bool on;
	int64_t t0, drawn; /* monotonic ms: the start, the last redraw */
	const char *unit;
	int decimals;
	double scale; /* done and total are divided by it before drawing */
	double total;
};

void dd_progress_begin(struct dd_progress *p, bool want, const char *unit, int decimals,
		       double total);
/* The same for bytes: drawn in kB below 10 MB, else in MB; done in bytes. */
void dd_progress_begin_bytes(struct dd_progress *p, bool want, uint64_t total);
void dd_progress_show(struct dd_progress *p, const char *label, double done);
/* Draw the last state and end the line. */
void dd_progress_end(struct dd_progress *p, const char *label, double done);

/* "45s", "3m05s", "2h10m": a duration as a progress line gives it. */
void dd_duration_str(double seconds, char *out, size_t len);

#endif
