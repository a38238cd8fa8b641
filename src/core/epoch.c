#include "core/epoch.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int dd_epoch_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;

	/* digits only: no sign, no spaces, no hex; stop before overflowing */
	for (; *p >= '0' && *p <= '9' && v <= DD_EPOCH_MAX; p++)
		v = v * 10 + (*p - '0');
	if (p == s || *p || v > DD_EPOCH_MAX)
		return dd_error(
			DD_E_USAGE,
			"SOURCE_DATE_EPOCH is '%.40s%s': expected whole seconds "
			"since 1970-01-01T00:00:00Z, from 0 to %lld (9999-12-31T23:59:59Z); "
			"fix or unset it",
			s, strlen(s) > 40 ? "..." : "", (long long)DD_EPOCH_MAX);
	*out = v;
	return 0;
}

int dd_epoch_from_env(int64_t *out)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	int rc;

	if (!s || !*s)
		return 0;
	rc = dd_epoch_parse(s, out);
	return rc ? rc : 1;
}
