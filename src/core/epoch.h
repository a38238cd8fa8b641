/*
 * SOURCE_DATE_EPOCH (reproducible-builds.org): the one parser and the one
 * range every command uses for it.
 */
#ifndef DD_EPOCH_H
#define DD_EPOCH_H

#include <stdint.h>

/* 9999-12-31T23:59:59Z: the last second an RFC 3339 time can name. */
#define DD_EPOCH_MAX INT64_C(253402300799)

/*
 * Parse s as whole seconds since 1970-01-01T00:00:00Z, 0 to DD_EPOCH_MAX,
 * decimal digits only.  DD_E_USAGE otherwise, with the detail
 * "SOURCE_DATE_EPOCH is 'S': expected ...; fix or unset it".
 */
int dd_epoch_parse(const char *s, int64_t *out);

/*
 * The environment's SOURCE_DATE_EPOCH: 1 and *out when it is set, 0 when
 * it is unset or empty (then *out is untouched), DD_E_USAGE as above
 * when it is malformed or out of range.
 */
int dd_epoch_from_env(int64_t *out);

#endif
