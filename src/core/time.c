#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

int dd_time_parse(const char *str, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(str, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(str, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return dd_error(DD_E_FORMAT,
				"'%s' is not a UTC time like 2026-12-31T00:00:00Z "
				"or a date like 2026-12-31",
				str);
	*out = (int64_t)timegm(&tm);
	return 0;
}

void dd_time_format(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t dd_time_now(void)
{
	const char *env = getenv("DRYDOCK_NOW");
	int64_t t;

	if (env && env[0] && dd_time_parse(env, &t) == 0)
		return t;
	return (int64_t)time(NULL);
}

int64_t dd_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dd_time_wall_ms(char out[40])
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%.24s.%03dZ", s, (int)(ts.tv_nsec / 1000000) % 1000);
}
