/* Times as drydock writes them: RFC 3339 UTC, whole seconds. */
#ifndef DD_CORE_TIME_H
#define DD_CORE_TIME_H

#include <stdint.h>

/* RFC 3339 UTC ("2026-11-26T12:00:00Z") or a date ("2026-11-26") <->
 * seconds since the epoch. */
int dd_time_parse(const char *s, int64_t *out);
void dd_time_format(int64_t t, char out[32]);
/* Now, or $DRYDOCK_NOW (RFC 3339) when set, for tests of expiry. */
int64_t dd_time_now(void);
/* Milliseconds on the monotonic clock, for durations. */
int64_t dd_time_mono_ms(void);
/* The wall clock now, RFC 3339 UTC with milliseconds, for logs. */
void dd_time_wall_ms(char out[40]);

#endif
