#include "trust/x509.h"

#include <stdbool.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/error.h"

/* OpenSSL's reason for the last failure, for a message. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "no PEM certificate";
}

static bool only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]))
			return false;
	return true;
}

int dd_x509_pem_check(const char *pem, size_t len, struct dd_buf *subject)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len), *out = NULL;
	X509 *cert = NULL, *more = NULL;
	const char *begin = len ? memmem(pem, len, "-----BEGIN", 10) : NULL;
	int rc = 0;

	ERR_clear_error();
	if (!bio)
		return dd_error(DD_E_NOMEM, "out of memory");
	if (!begin || !only_space(pem, (size_t)(begin - pem))) {
		rc = dd_error(DD_E_FORMAT, "not a PEM certificate (it must start with "
					   "-----BEGIN CERTIFICATE-----)");
		goto out;
	}
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!cert) {
		rc = dd_error(DD_E_FORMAT, "not a certificate OpenSSL can read: %s", ssl_reason());
		goto out;
	}
	ERR_clear_error();
	more = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (more) {
		rc = dd_error(DD_E_FORMAT, "more than one certificate; give each its own entry");
		goto out;
	}
	{
		/* whatever follows the certificate: blank space only */
		static const char end[] = "-----END CERTIFICATE-----";
		const char *e = memmem(begin, len - (size_t)(begin - pem), end, sizeof(end) - 1);
		size_t at = e ? (size_t)(e - pem) + sizeof(end) - 1 : len;

		if (!e || !only_space(pem + at, len - at)) {
			rc = dd_error(DD_E_FORMAT, "text after the certificate's END line; give "
						   "the PEM certificate alone");
			goto out;
		}
	}
	dd_buf_reset(subject);
	out = BIO_new(BIO_s_mem());
	if (out && X509_NAME_print_ex(out, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		char *p;
		long n = BIO_get_mem_data(out, &p);

		dd_buf_add(subject, p, (size_t)n);
	}
out:
	ERR_clear_error();
	BIO_free(out);
	X509_free(more);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}
