#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail[2048];
static _Thread_local int last_code;

const char *dd_strerror(int code)
{
	switch (code) {
	case DD_OK:
		return "success";
	case DD_E_IO:
		return "input/output error";
	case DD_E_NOMEM:
		return "out of memory";
	case DD_E_FORMAT:
		return "malformed input";
	case DD_E_TRUNCATED:
		return "truncated input";
	case DD_E_LIMIT:
		return "size limit exceeded";
	case DD_E_UNSAFE_PATH:
		return "unsafe archive member";
	case DD_E_DIGEST:
		return "checksum mismatch";
	case DD_E_SIG_BAD:
		return "bad signature";
	case DD_E_SIG_UNKNOWN:
		return "signed by an unknown key";
	case DD_E_UNSIGNED:
		return "unsigned";
	case DD_E_CRYPTO:
		return "cryptographic key error";
	case DD_E_USAGE:
		return "usage error";
	case DD_E_NOTFOUND:
		return "not found";
	case DD_E_BUSY:
		return "held by another process";
	case DD_E_NO_MIRROR:
		return "no mirror";
	default:
		return "internal error";
	}
}

int dd_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int dd_error_errno(const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	n = strlen(detail);
	snprintf(detail + n, sizeof(detail) - n, ": %s", strerror(saved));
	last_code = saved == ENOMEM ? DD_E_NOMEM : DD_E_IO;
	return last_code;
}

int dd_error_prefix(int code, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, detail, sizeof(old));
	if (!old[0])
		snprintf(old, sizeof(old), "%s", dd_strerror(code));
	snprintf(detail, sizeof(detail), "%.1000s: %.1000s", prefix, old);
	last_code = code;
	return code;
}

const char *dd_error_detail(void)
{
	return detail;
}

int dd_error_code(void)
{
	return last_code;
}

void dd_error_clear(void)
{
	detail[0] = 0;
	last_code = 0;
}

bool dd_verbose;

void dd_note(const char *fmt, ...)
{
	va_list ap;

	if (!dd_verbose)
		return;
	fputs("drydock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
