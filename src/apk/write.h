/*
 * Writing APK v2 packages and indexes that apk-tools accepts.
 *
 * Output is deterministic: entries sorted by path, owner root:root,
 * times clamped to a given epoch, gzip without names or times.  The
 * same tree, metadata, key and epoch give the same bytes.
 */
#ifndef DD_APK_WRITE_H
#define DD_APK_WRITE_H

#include <stdint.h>
#include <openssl/evp.h>

#include "apk/pkg.h"
#include "apk/read.h"

struct dd_apk_signer {
	EVP_PKEY *key;       /* RSA private key; NULL for an unsigned file */
	const char *keyname; /* name recorded in the signature, "x.rsa.pub" */
	const EVP_MD *md;    /* SHA1 (".SIGN.RSA."), SHA256 or SHA512 */
};

/*
 * Build a package from the tree at root with metadata *pkg (name and
 * version required; size, datahash and builddate are filled in here),
 * control scripts (paths of files named .pre-install etc., may be
 * NULL), and write it atomically to out.  Times are clamped to epoch.
 */
int dd_apk_build(const char *root, struct dd_apk_pkg *pkg, char *const *scripts, size_t n_scripts,
		 const struct dd_apk_signer *signer, int64_t epoch, const char *out);

/*
 * Write an index of the packages read into files[0..n) to out: plain
 * APKINDEX text when text is true, else APKINDEX.tar.gz (signed when
 * signer->key is set).  Entries are sorted by name and version.
 */
int dd_apk_index_write(const struct dd_apk_file *files, size_t n, const char *description,
		       const struct dd_apk_signer *signer, int64_t epoch, bool text,
		       const char *out);

#endif
