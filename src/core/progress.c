#include "core/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/time.h"

#define REDRAW_MS 200

void dd_progress_begin(struct dd_progress *p, bool want, const char *unit, int decimals,
		       double total)
{
	p->decimals = decimals;
	p->scale = 1;
	const char *term = getenv("TERM");

	/* a dumb terminal cannot redraw a line */
	p->on = want && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
	p->t0 = dd_time_mono_ms();
	p->drawn = 0;
	p->unit = unit;
	p->total = total;
}

void dd_progress_begin_bytes(struct dd_progress *p, bool want, uint64_t total)
{
	bool small = total < 10000000;

	dd_progress_begin(p, want, small ? "kB" : "MB", 1, (double)total);
	p->scale = small ? 1e3 : 1e6;
	p->total = (double)total / p->scale;
}

void dd_duration_str(double s, char *out, size_t len)
{
	long long n = (long long)(s + 0.5);

	if (n < 60)
		snprintf(out, len, "%llds", n);
	else if (n < 3600)
		snprintf(out, len, "%lldm%02llds", n / 60, n % 60);
	else
		snprintf(out, len, "%lldh%02lldm", n / 3600, n % 3600 / 60);
}

static void draw(struct dd_progress *p, const char *label, double done, bool last)
{
	double secs = (double)(dd_time_mono_ms() - p->t0) / 1000.0;
	double rate;
	char left[32] = "";

	done /= p->scale;
	rate = secs > 0 ? done / secs : 0;
	if (last) {
		dd_duration_str(secs, left, sizeof(left));
	} else if (rate > 0 && p->total > done) {
		dd_duration_str((p->total - done) / rate, left, sizeof(left));
	}
	/* \033[K clears what a longer earlier line left */
	fprintf(stderr, "\r  %s: %.*f/%.*f %s, %.1f %s/s%s%s%s\033[K%s", label, p->decimals, done,
		p->decimals, p->total, p->unit, rate, p->unit, left[0] ? ", " : "", left,
		left[0] ? (last ? " in all" : " left") : "", last ? "\n" : "");
	fflush(stderr);
}

void dd_progress_show(struct dd_progress *p, const char *label, double done)
{
	int64_t now;

	if (!p->on)
		return;
	now = dd_time_mono_ms();
	if (p->drawn && now - p->drawn < REDRAW_MS)
		return;
	p->drawn = now;
	draw(p, label, done, false);
}

void dd_progress_end(struct dd_progress *p, const char *label, double done)
{
	if (p->on)
		draw(p, label, done, true);
}
