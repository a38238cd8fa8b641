#include "core/name.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>

#include "core/error.h"

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Why name breaks the rule, or NULL when it does not. */
static const char *why_not(const char *name)
{
	size_t n = strlen(name);

	if (!n)
		return "it is empty";
	if (n > DD_NAME_MAX)
		return "it is too long";
	if (!alnum(name[0]))
		return "it does not start with a letter or digit";
	for (size_t i = 0; i < n; i++)
		if (!alnum(name[i]) && !strchr("._-", name[i]))
			return name[i] == '/' ? "it holds a '/'"
					      : "it holds a character other "
						"than letters, digits, '.', '_' and '-'";
	return NULL;
}

int dd_name_check(const char *what, const char *name)
{
	const char *why = why_not(name);

	if (!why)
		return 0;
	return dd_error(DD_E_FORMAT, "%s '%.*s%s' is not allowed (%s): a name is " DD_NAME_FORM,
			what, 64, name, strlen(name) > 64 ? "..." : "", why);
}

void dd_name_run_id(char out[40])
{
	unsigned char r[3] = { 0 };
	time_t now = time(NULL);
	struct tm tm;
	char ts[24];

	RAND_bytes(r, sizeof(r));
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, 40, "%s-%02x%02x%02x", ts, r[0], r[1], r[2]);
}
