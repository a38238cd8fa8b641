/*
 * Reading whole APK v2 files: packages (.apk) and signed indexes
 * (APKINDEX.tar.gz).
 *
 * Both are gzip members back to back: an optional signature segment
 * (tar entries ".SIGN.RSA{,256,512}.<keyname>"), the signed control
 * segment (.PKGINFO and scripts, or APKINDEX and DESCRIPTION), and for
 * packages the data segment, whose sha256 over the compressed bytes is
 * the .PKGINFO "datahash".  dd_apk_read() walks all of it once with
 * bounded memory and checks every structural rule: anything malformed,
 * truncated, unsafe or oversized is an error.  Content that is well
 * formed but does not match its own checksums (datahash, per-file SHA1)
 * is recorded in `problems`, so that a package can still be inspected;
 * dd_apk_check() turns them into an error for callers that must refuse
 * such a file.  Signature trust is a separate question for
 * dd_apk_verify().
 */
#ifndef DD_APK_READ_H
#define DD_APK_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "apk/pkg.h"
#include "core/buf.h"
#include "trust/rsa.h"

struct dd_apk_sig {
	char *keyname;   /* as named by the member: "melange.rsa.pub" */
	const char *alg; /* "RSA" (SHA-1), "RSA256" or "RSA512" */
	const EVP_MD *md;
	struct dd_buf data;
};

struct dd_apk_entry {
	char *path, *link;
	char type; /* enum dd_tar_type */
	unsigned mode;
	uint32_t uid, gid;
	char *uname, *gname;
	uint64_t size;
	int64_t mtime;
	char sha1[41]; /* from the APK-TOOLS.checksum.SHA1 record, "" if none */
};

enum dd_apk_kind { DD_APK_PACKAGE, DD_APK_INDEX };

struct dd_apk_file {
	enum dd_apk_kind kind;
	uint64_t file_size;
	struct dd_apk_sig *sigs;
	size_t n_sigs;
	/* digests of the control segment's compressed bytes */
	unsigned char ctl_sha1[20], ctl_sha256[32], ctl_sha512[64];
	char checksum[64];          /* "Q1" + base64(sha1(control)) */
	struct dd_apk_pkg pkg;      /* packages: the parsed .PKGINFO */
	char **scripts;             /* packages: other control members */
	struct dd_buf *script_data; /* packages: their bytes, parallel to scripts */
	size_t n_scripts;
	struct dd_apk_entry *files; /* packages: the data segment */
	size_t n_files;
	char data_sha256[65];      /* packages: computed datahash */
	struct dd_buf index_text;  /* indexes: APKINDEX */
	struct dd_buf description; /* indexes: DESCRIPTION */
	char **problems;           /* checksum mismatches, one message each */
	size_t n_problems;
};

/* Read and check path. On error the detail starts with the path and f
 * holds nothing to release. */
int dd_apk_read(const char *path, struct dd_apk_file *f);

/*
 * DD_APK_TRUST_FILE_SHA1: record each file's APK-TOOLS.checksum.SHA1 but
 * do not recompute it.  For packages whose signature and datahash are
 * checked anyway (mirror import): the signed datahash already covers
 * every byte of the data, and recomputing costs a SHA-1 of the whole
 * uncompressed content.
 */
#define DD_APK_TRUST_FILE_SHA1 1
/*
 * DD_APK_CONTROL_ONLY: read the signature and control segments (the
 * metadata and the install scripts) and stop before the data segment.
 * Nothing checks the data or the whole file: compare f->checksum (the
 * control segment's own digest) with what the caller trusts.
 */
#define DD_APK_CONTROL_ONLY 2
int dd_apk_read_flags(const char *path, int flags, struct dd_apk_file *f);
void dd_apk_file_release(struct dd_apk_file *f);

/*
 * Stream a package's data segment to visit, once per entry (the root
 * directory itself excluded), in archive order; visit may read the
 * entry's bytes with dd_tar_read(t, ...) and returns 0 or a negative
 * code that stops the walk.  f gets the metadata but no file list.
 * Every structural check of dd_apk_read() applies; afterwards the data
 * segment must match the datahash of .PKGINFO and, when want_sha256 is
 * given, the whole file that digest.  A mismatch is DD_E_DIGEST, found
 * only once the data has been visited: callers must be able to throw
 * away what they made of it.
 */
struct dd_tar_entry;
struct dd_tar_reader;
typedef int (*dd_apk_visit_fn)(void *ctx, const struct dd_tar_entry *e, struct dd_tar_reader *t);
int dd_apk_stream(const char *path, const char *want_sha256, dd_apk_visit_fn visit, void *ctx,
		  struct dd_apk_file *f);

/* DD_E_DIGEST naming the first of f's problems, or 0 when it has none. */
int dd_apk_check(const struct dd_apk_file *f, const char *path);

enum dd_sig_status {
	DD_SIG_VALID,
	DD_SIG_UNKNOWN_KEY,
	DD_SIG_BAD,
	DD_SIG_UNSIGNED,
};

/*
 * Check f's signatures against the trusted keys.  A signature is first
 * matched to the key of the same name; signatures naming no trusted key
 * are then tried against every key (a key file renamed on disk).
 * VALID when any signature verifies (*good names it); BAD when a
 * trusted key rejected one; otherwise UNKNOWN_KEY, or UNSIGNED.
 */
enum dd_sig_status dd_apk_verify(const struct dd_apk_file *f, const struct dd_keyring *kr,
				 const struct dd_apk_sig **good, const char **goodkey);

const char *dd_sig_status_str(enum dd_sig_status s);

/* "Q1" + base64 of a control segment's SHA-1 (dd_hex: core/hash.h). */
void dd_apk_checksum_str(const unsigned char sha1[20], char out[64]);

#endif
