/*
 * One error convention for all of drydock.
 *
 * Library functions return int: 0 (or a positive count) on success, a
 * negative DD_E* code on failure.  The function that detects a failure
 * records a human-readable detail with dd_error(), naming the member,
 * package or field involved; callers higher up may prefix context
 * (usually the file name) with dd_error_prefix().  Library code never
 * prints; commands print dd_error_detail() once.
 */
#ifndef DD_ERROR_H
#define DD_ERROR_H

#include <stdbool.h>

enum dd_errcode {
	DD_OK = 0,
	DD_E_IO = -1,          /* reading or writing a file failed */
	DD_E_NOMEM = -2,       /* out of memory */
	DD_E_FORMAT = -3,      /* input is malformed */
	DD_E_TRUNCATED = -4,   /* input ends too early */
	DD_E_LIMIT = -5,       /* input exceeds a size bound */
	DD_E_UNSAFE_PATH = -6, /* absolute or '..' path, or bad member type */
	DD_E_DIGEST = -7,      /* a checksum or digest does not match */
	DD_E_SIG_BAD = -8,     /* signature does not verify */
	DD_E_SIG_UNKNOWN = -9, /* signed by a key we do not trust */
	DD_E_UNSIGNED = -10,   /* no signature at all */
	DD_E_CRYPTO = -11,     /* key could not be loaded or used */
	DD_E_USAGE = -12,      /* bad arguments */
	DD_E_NOTFOUND = -13,   /* named thing does not exist */
	DD_E_INTERNAL = -14,
	DD_E_BUSY = -15,      /* a lock is held by another process */
	DD_E_NO_MIRROR = -16, /* no mirror where the command looked */
};

/* Short fixed description of a code ("bad signature"). */
const char *dd_strerror(int code);

/*
 * Record a detail message for the current thread and return code, so
 * that callers can write: return dd_error(DD_E_FORMAT, "...", ...);
 */
int dd_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like dd_error() with ": strerror(errno)" appended; code is DD_E_IO. */
int dd_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current detail with "prefix: "; returns code unchanged. */
int dd_error_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The code of the last recorded error (dd_error_prefix records its
 * code too); 0 when none, or after dd_error_clear(). */
int dd_error_code(void);

/* The detail of the last recorded error; never NULL. */
const char *dd_error_detail(void);

/* Forget the recorded detail. */
void dd_error_clear(void);

/*
 * -v: what is being done, on standard error ("drydock: NOTE"), for the
 * operator who asks; nothing unless dd_verbose is set (by the command
 * line's -v, --verbose).
 */
extern bool dd_verbose;
void dd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
