/*
 * X.509 certificates in PEM, through OpenSSL: what a job's
 * certificates.additional entries must be before they go into an
 * image's CA bundle.
 */
#ifndef DD_TRUST_X509_H
#define DD_TRUST_X509_H

#include <stddef.h>

#include "core/buf.h"

/*
 * Is pem (len bytes) exactly one PEM certificate that OpenSSL parses
 * (nothing but blank space around it)?  0 and its subject (one line,
 * RFC 2253) in *subject; else DD_E_FORMAT with a detail saying what is
 * wrong (no certificate, not parseable, more than one).
 */
int dd_x509_pem_check(const char *pem, size_t len, struct dd_buf *subject);

#endif
