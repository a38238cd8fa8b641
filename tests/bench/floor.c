/*
 * The floor for scripts/bench-build: the least work any build of an
 * image from these packages must do.  For each signed .apk given, in
 * order: inflate its data segment (the third gzip member) with the inflater
 * drydock uses, and write the bytes, as one stream, through a SHA-256
 * (the diff_id) into drydock's compressor on every core, whose output is
 * hashed (the digest) and written to OUT.  No tar parsing, no per-file
 * work, no image documents.
 *
 *   bench-floor [-z] OUT PKG.apk...
 *
 * With -i, the work every import does, for scripts/bench-import: read a
 * bundle (a plain tar) through libarchive, hash every byte with SHA-256
 * (the manifest's digests) and inflate every gzip member of every .apk in
 * it (an import reads each package's file list from its data segment),
 * with ISA-L's inflater as drydock does, one step after the other on one
 * thread; nothing is written.
 *
 *   bench-floor -i BUNDLE.tar
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>

#include "core/compress.h"
#include "core/error.h"
#include "core/gzip.h"

struct sink {
	int fd;
	EVP_MD_CTX *md;
};

static int out_write(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	EVP_DigestUpdate(s->md, data, len);
	return write(s->fd, data, len) == (ssize_t)len ? 0 : dd_error_errno("writing");
}

static int pkg(const char *path, struct dd_zw *zw, EVP_MD_CTX *diff)
{
	static unsigned char buf[1 << 17];
	struct dd_gz *gz;
	int fd = open(path, O_RDONLY), rc = 0;
	ssize_t n = 0;

	if (fd < 0)
		return dd_error_errno("%s", path);
	/* signature and control segments: a few kB, skipped; then the data */
	gz = dd_gz_open(fd);
	for (int i = 0; rc >= 0 && i < 2; i++)
		if ((rc = dd_gz_next(gz)) > 0)
			rc = dd_gz_skip_member(gz);
	if (rc >= 0 && (rc = dd_gz_next(gz)) > 0) {
		while ((n = dd_gz_read(gz, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(diff, buf, (size_t)n);
			if ((rc = dd_zw_write(zw, buf, (size_t)n)))
				break;
		}
		if (n < 0)
			rc = (int)n;
	} else if (rc == 0) {
		rc = dd_error(DD_E_FORMAT, "%s: not a signed package (three gzip members)", path);
	}
	if (rc >= 0 && dd_gz_next(gz) > 0)
		rc = dd_error(DD_E_FORMAT, "%s: more than three gzip members", path);
	dd_gz_close(gz);
	close(fd);
	return rc < 0 ? rc : 0;
}

/* Inflate len bytes of a stream of gzip members; 0, or -1 on bad data. */
static int inflate_some(struct inflate_state *st, const void *data, size_t len)
{
	static unsigned char out[1 << 17];

	st->next_in = (uint8_t *)data;
	st->avail_in = (uint32_t)len;
	while (st->avail_in) {
		st->next_out = out;
		st->avail_out = sizeof(out);
		if (isal_inflate(st) < 0)
			return -1;
		if (st->block_state == ISAL_BLOCK_FINISH) {
			uint8_t *next = st->next_in;
			uint32_t avail = st->avail_in;

			isal_inflate_reset(st);
			st->crc_flag = ISAL_GZIP;
			st->next_in = next;
			st->avail_in = avail;
		}
	}
	return 0;
}

static int import_floor(const char *bundle)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct inflate_state st;
	unsigned long long bytes = 0, inflated_pkgs = 0;
	unsigned char d[32];
	int rc = 0;

	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, bundle, 1 << 17) != ARCHIVE_OK) {
		fprintf(stderr, "bench-floor: %s: %s\n", bundle, archive_error_string(a));
		return 1;
	}
	while (!rc && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		size_t nl = strlen(name);
		int apk = nl > 4 && !strcmp(name + nl - 4, ".apk");
		const void *buf;
		size_t len;
		la_int64_t off;
		int r;

		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		isal_inflate_init(&st);
		st.crc_flag = ISAL_GZIP;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
			EVP_DigestUpdate(md, buf, len);
			bytes += len;
			if (apk && inflate_some(&st, buf, len)) {
				fprintf(stderr, "bench-floor: %s: bad gzip data\n", name);
				rc = 1;
				break;
			}
		}
		if (r != ARCHIVE_EOF && !rc) {
			fprintf(stderr, "bench-floor: %s: %s\n", name, archive_error_string(a));
			rc = 1;
		}
		EVP_DigestFinal_ex(md, d, NULL);
		inflated_pkgs += apk;
	}
	archive_read_free(a);
	EVP_MD_CTX_free(md);
	if (!rc)
		fprintf(stderr, "bench-floor: %llu bytes hashed, %llu packages inflated\n", bytes,
			inflated_pkgs);
	return rc;
}

int main(int argc, char **argv)
{
	enum dd_codec codec = DD_CODEC_GZIP;
	struct sink s;
	struct dd_zw *zw;
	EVP_MD_CTX *diff = EVP_MD_CTX_new();
	unsigned char d[32];
	int i = 1, rc = 0;

	if (argc == 3 && !strcmp(argv[1], "-i"))
		return import_floor(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "-z")) {
		codec = DD_CODEC_ZSTD;
		i++;
	}
	if (argc - i < 2) {
		fputs("usage: bench-floor [-z] OUT PKG.apk...\n       bench-floor -i BUNDLE.tar\n",
		      stderr);
		return 2;
	}
	s.fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	s.md = EVP_MD_CTX_new();
	if (s.fd < 0) {
		perror(argv[i]);
		return 1;
	}
	EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
	EVP_DigestInit_ex(diff, EVP_sha256(), NULL);
	if (dd_zw_open(&zw, codec, dd_ncpus(), out_write, &s))
		rc = 1;
	for (i++; !rc && i < argc; i++)
		rc = pkg(argv[i], zw, diff);
	if (!rc)
		rc = dd_zw_close(zw);
	if (!rc && fsync(s.fd))
		rc = dd_error_errno("fsync");
	close(s.fd);
	EVP_DigestFinal_ex(s.md, d, NULL);
	EVP_DigestFinal_ex(diff, d, NULL);
	EVP_MD_CTX_free(s.md);
	EVP_MD_CTX_free(diff);
	if (rc) {
		fprintf(stderr, "bench-floor: %s\n", dd_error_detail());
		return 1;
	}
	return 0;
}
