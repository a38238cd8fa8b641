#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "apk/tar.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/file.h"
#include "core/hash.h"
#include "image/layer.h"

/* Input for the reader: a memory blob handed out at most chunk bytes a
 * call, so that short reads are exercised too. */
struct mem {
	const char *p;
	size_t len, off, chunk;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *m = ctx;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	if (n)
		memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static struct dd_tar_entry ent(const char *path, char type, unsigned mode)
{
	struct dd_tar_entry e;

	memset(&e, 0, sizeof(e));
	e.path = (char *)path;
	e.type = type;
	e.mode = mode;
	e.mtime = 1700000000;
	strcpy(e.uname, "root");
	strcpy(e.gname, "root");
	return e;
}

static void sha1_of(const void *data, size_t len, char out[41])
{
	unsigned char d[20];

	EVP_Digest(data, len, d, NULL, EVP_sha1(), NULL);
	dd_hex(d, 20, out);
}

/* Write one regular file with its APK sha1 record. */
static int put_file(struct dd_tar_writer *w, const char *path, unsigned mode, const void *data,
		    size_t len)
{
	struct dd_tar_entry e = ent(path, DD_TAR_FILE, mode);

	e.size = len;
	sha1_of(data, len, e.sha1);
	return dd_tar_write_file(w, &e, data);
}

static int put_link(struct dd_tar_writer *w, const char *path, char type, const char *target)
{
	struct dd_tar_entry e = ent(path, type, 0777);

	e.link = (char *)target;
	return dd_tar_write_header(w, &e);
}

/* A string of n characters: "dir/dir/.../" pieces then a tail. */
static char *long_path(size_t n, const char *tail)
{
	char *s = dd_xmalloc(n + 1);
	size_t t = strlen(tail);

	for (size_t i = 0; i < n - t; i++)
		s[i] = (i % 8 == 7) ? '/' : (char)('a' + i % 8);
	memcpy(s + n - t, tail, t + 1);
	return s;
}

/* Read every entry of archive a; return the first negative code, 0 at the end. */
static int read_to_end(const struct dd_buf *a, size_t chunk, size_t *count)
{
	struct mem m = { a->ptr, a->len, 0, chunk };
	struct dd_tar_reader r;
	struct dd_tar_entry *e;
	struct dd_buf data = DD_BUF_INIT;
	int rc;

	*count = 0;
	dd_error_clear();
	dd_tar_reader_init(&r, mem_read, &m);
	while ((rc = dd_tar_next(&r, &e)) > 0) {
		(*count)++;
		rc = dd_tar_read_all(&r, &data, 1 << 24);
		if (rc < 0)
			break;
	}
	dd_tar_reader_release(&r);
	dd_buf_release(&data);
	return rc;
}

static bool detail_has(const char *needle)
{
	return strstr(dd_error_detail(), needle) != NULL;
}

static void t_tar_round_trip(void)
{
	struct dd_buf a = DD_BUF_INIT, data = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_tar_reader r;
	struct dd_tar_entry e, *got;
	struct mem m;
	char *lp = long_path(180, "/deep-file.txt");
	char *lt = long_path(150, "/target");
	char big[1000], sha[41];
	static const char hello[] = "hello, world\n";

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	dd_tar_writer_init(&w, dd_write_buf, &a);
	e = ent("usr/bin", DD_TAR_DIR, 0755);
	CHECK(dd_tar_write_header(&w, &e) == 0);
	CHECK(put_file(&w, "usr/bin/tool", 04755, hello, sizeof(hello) - 1) == 0);
	e = ent("var/mail", DD_TAR_DIR, 02775);
	e.gid = 12;
	strcpy(e.gname, "mail");
	CHECK(dd_tar_write_header(&w, &e) == 0);
	CHECK(put_link(&w, "usr/bin/alias", DD_TAR_SYMLINK, "tool") == 0);
	CHECK(put_link(&w, "usr/bin/tool2", DD_TAR_HARDLINK, "usr/bin/tool") == 0);
	CHECK(put_file(&w, lp, 0644, big, sizeof(big)) == 0);
	CHECK(put_link(&w, "lib/far", DD_TAR_SYMLINK, lt) == 0);
	e = ent("home/user/.profile", DD_TAR_FILE, 0600);
	e.uid = 1000;
	e.gid = 3000000; /* more than 7 octal digits: base-256 */
	e.size = 3;
	CHECK(dd_tar_write_file(&w, &e, "abc") == 0);
	CHECK(dd_tar_write_end(&w) == 0);
	CHECK(a.len % 512 == 0);
	CHECK(w.bytes == a.len);

	m = (struct mem){ a.ptr, a.len, 0, 7 };
	dd_tar_reader_init(&r, mem_read, &m);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "usr/bin") == 0);
	CHECK(got->type == DD_TAR_DIR && got->mode == 0755 && got->size == 0);
	CHECK(got->link == NULL);
	CHECK(got->mtime == 1700000000);
	CHECK(strcmp(got->uname, "root") == 0);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "usr/bin/tool") == 0);
	CHECK(got->type == DD_TAR_FILE && got->mode == 04755);
	CHECK(got->size == sizeof(hello) - 1);
	sha1_of(hello, sizeof(hello) - 1, sha);
	CHECK(strcmp(got->sha1, sha) == 0);
	CHECK(dd_tar_read_all(&r, &data, 100) == 0);
	CHECK(data.len == sizeof(hello) - 1 && strcmp(data.ptr, hello) == 0);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "var/mail") == 0);
	CHECK(got->type == DD_TAR_DIR);
	CHECK_MSG(got->mode == 02775, "mode %o", got->mode);
	CHECK(got->uid == 0 && got->gid == 12);
	CHECK(strcmp(got->gname, "mail") == 0);
	CHECK(got->sha1[0] == 0); /* the previous entry's record does not leak */

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "usr/bin/alias") == 0);
	CHECK(got->type == DD_TAR_SYMLINK && got->link && strcmp(got->link, "tool") == 0);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "usr/bin/tool2") == 0);
	CHECK(got->type == DD_TAR_HARDLINK && got->link && strcmp(got->link, "usr/bin/tool") == 0);
	CHECK(got->size == 0);

	/* Long path via a pax record; data not read here, the next call
	 * must skip it and its padding. */
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK_MSG(strcmp(got->path, lp) == 0, "path '%s'", got->path);
	CHECK(got->size == sizeof(big));
	sha1_of(big, sizeof(big), sha);
	CHECK(strcmp(got->sha1, sha) == 0);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "lib/far") == 0);
	CHECK(got->type == DD_TAR_SYMLINK);
	CHECK(got->link && strcmp(got->link, lt) == 0);

	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "home/user/.profile") == 0);
	CHECK(got->mode == 0600);
	CHECK(got->uid == 1000);
	CHECK_MSG(got->gid == 3000000, "gid %u", got->gid);
	CHECK(dd_tar_read_all(&r, &data, 100) == 0 && strcmp(data.ptr, "abc") == 0);

	CHECK(dd_tar_next(&r, &got) == 0);
	CHECK(r.end);
	CHECK(dd_tar_next(&r, &got) == 0); /* stays at the end */

	dd_tar_reader_release(&r);
	dd_buf_release(&data);
	dd_buf_release(&a);
	free(lp);
	free(lt);
}

/* Reading the data of a long file in small pieces gives the same bytes. */
static void t_tar_read_pieces(void)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_tar_reader r;
	struct dd_tar_entry *got;
	struct mem m;
	char data[5000], back[5000];
	size_t have = 0;
	ssize_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 251);
	dd_tar_writer_init(&w, dd_write_buf, &a);
	CHECK(put_file(&w, "blob", 0644, data, sizeof(data)) == 0);
	CHECK(put_file(&w, "after", 0644, "x", 1) == 0);
	m = (struct mem){ a.ptr, a.len, 0, 0 };
	dd_tar_reader_init(&r, mem_read, &m);
	CHECK(dd_tar_next(&r, &got) == 1);
	while ((n = dd_tar_read(&r, back + have, 333)) > 0)
		have += (size_t)n;
	CHECK(n == 0);
	CHECK(have == sizeof(data) && memcmp(back, data, sizeof(data)) == 0);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "after") == 0);
	dd_tar_reader_release(&r);

	m = (struct mem){ a.ptr, a.len, 0, 0 };
	dd_tar_reader_init(&r, mem_read, &m);
	CHECK(dd_tar_next(&r, &got) == 1);
	/* a too-small limit is refused with the member named */
	{
		struct dd_buf out = DD_BUF_INIT;

		CHECK(dd_tar_read_all(&r, &out, 4999) == DD_E_LIMIT);
		CHECK(detail_has("blob"));
		dd_buf_release(&out);
	}
	dd_tar_reader_release(&r);
	dd_buf_release(&a);
}

/* Leading "./" and trailing '/' are removed from names and hard links. */
static void t_tar_normalise(void)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_tar_reader r;
	struct dd_tar_entry e, *got;
	struct mem m;

	dd_tar_writer_init(&w, dd_write_buf, &a);
	e = ent("./", DD_TAR_DIR, 0755);
	CHECK(dd_tar_write_header(&w, &e) == 0);
	e = ent("./etc/", DD_TAR_DIR, 0755);
	CHECK(dd_tar_write_header(&w, &e) == 0);
	CHECK(put_file(&w, "./etc/motd", 0644, "hi\n", 3) == 0);
	CHECK(put_link(&w, "etc/motd2", DD_TAR_HARDLINK, "./etc/motd") == 0);
	CHECK(put_link(&w, "etc/up", DD_TAR_SYMLINK, "../usr/share/up") == 0);

	m = (struct mem){ a.ptr, a.len, 0, 0 };
	dd_tar_reader_init(&r, mem_read, &m);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK_MSG(strcmp(got->path, "") == 0, "root is '%s'", got->path);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "etc") == 0);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "etc/motd") == 0);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, "etc/motd2") == 0);
	CHECK(got->link && strcmp(got->link, "etc/motd") == 0);
	/* Symbolic links may point upwards: they are resolved inside the
	 * image root, not by the reader. */
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(got->link && strcmp(got->link, "../usr/share/up") == 0);
	/* No end blocks: a clean end at a header boundary is the end. */
	CHECK(dd_tar_next(&r, &got) == 0);
	dd_tar_reader_release(&r);
	dd_buf_release(&a);
}

static void t_tar_clean_end(void)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	size_t n;

	/* Empty input is an empty archive. */
	CHECK(read_to_end(&a, 0, &n) == 0 && n == 0);
	dd_tar_writer_init(&w, dd_write_buf, &a);
	CHECK(put_file(&w, "a", 0644, "1", 1) == 0);
	CHECK(put_file(&w, "b", 0644, "22", 2) == 0);
	CHECK(read_to_end(&a, 0, &n) == 0);
	CHECK(n == 2);
	CHECK(read_to_end(&a, 1, &n) == 0);
	CHECK(n == 2);
	dd_buf_release(&a);
}

/* Archive with one member (path, type, link) before a harmless one. */
static int read_one_bad(const char *path, char type, const char *link, size_t *n)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_tar_entry e = ent(path, type, 0644);
	int rc;

	dd_tar_writer_init(&w, dd_write_buf, &a);
	put_file(&w, "fine", 0644, "ok", 2);
	e.link = (char *)link;
	if (type == DD_TAR_FILE) {
		e.size = 4;
		dd_tar_write_file(&w, &e, "evil");
	} else {
		dd_tar_write_header(&w, &e);
	}
	dd_tar_write_end(&w);
	rc = read_to_end(&a, 0, n);
	dd_buf_release(&a);
	return rc;
}

static void t_tar_refuse_paths(void)
{
	size_t n;
	int rc;

	rc = read_one_bad("/etc/passwd", DD_TAR_FILE, NULL, &n);
	CHECK(rc == DD_E_UNSAFE_PATH);
	CHECK(n == 1); /* the member before it was fine */
	CHECK_MSG(detail_has("/etc/passwd"), "detail: %s", dd_error_detail());

	rc = read_one_bad("a/../../x", DD_TAR_FILE, NULL, &n);
	CHECK(rc == DD_E_UNSAFE_PATH);
	CHECK_MSG(detail_has("a/../../x"), "detail: %s", dd_error_detail());

	rc = read_one_bad("..", DD_TAR_DIR, NULL, &n);
	CHECK(rc == DD_E_UNSAFE_PATH);

	rc = read_one_bad("./../etc", DD_TAR_DIR, NULL, &n);
	CHECK(rc == DD_E_UNSAFE_PATH);

	rc = read_one_bad("//etc/shadow", DD_TAR_FILE, NULL, &n);
	CHECK(rc == DD_E_UNSAFE_PATH);

	rc = read_one_bad("usr/lib/evil", DD_TAR_HARDLINK, "../../etc/shadow", &n);
	CHECK(rc == DD_E_UNSAFE_PATH);
	CHECK_MSG(detail_has("usr/lib/evil") && detail_has("../../etc/shadow"), "detail: %s",
		  dd_error_detail());

	rc = read_one_bad("usr/lib/evil", DD_TAR_HARDLINK, "/etc/shadow", &n);
	CHECK(rc == DD_E_UNSAFE_PATH);
	CHECK_MSG(detail_has("/etc/shadow"), "detail: %s", dd_error_detail());

	/* a link without a target is malformed */
	rc = read_one_bad("usr/lib/empty", DD_TAR_SYMLINK, "", &n);
	CHECK(rc == DD_E_FORMAT);
	CHECK(detail_has("usr/lib/empty"));
}

static void t_tar_refuse_types(void)
{
	static const char bad[] = { 'S', 'V', 'M', 'N', 'D', 'A' };
	size_t n;

	for (size_t i = 0; i < sizeof(bad); i++) {
		char name[32];
		int rc;

		snprintf(name, sizeof(name), "weird-%c", bad[i]);
		rc = read_one_bad(name, bad[i], NULL, &n);
		CHECK_MSG(rc == DD_E_UNSAFE_PATH, "type %c: rc %d", bad[i], rc);
		CHECK_MSG(detail_has(name), "type %c: detail %s", bad[i], dd_error_detail());
	}
	/* '7' (contiguous) reads as a regular file; devices and fifos are known */
	CHECK(read_one_bad("contig", '7', NULL, &n) == 0 && n == 2);
	CHECK(read_one_bad("dev/null", DD_TAR_CHAR, NULL, &n) == 0 && n == 2);
	CHECK(read_one_bad("fifo", DD_TAR_FIFO, NULL, &n) == 0 && n == 2);
}

/* Two-member archive: "first.txt" (with a sha1 pax header), "etc/motd"
 * (700 bytes, no pax header), end blocks. */
static void two_files(struct dd_buf *a)
{
	struct dd_tar_writer w;
	char data[700];

	memset(data, 'd', sizeof(data));
	dd_tar_writer_init(&w, dd_write_buf, a);
	CHECK(put_file(&w, "first.txt", 0644, "one\n", 4) == 0);
	/* no sha1 here, so the member has no pax header before it */
	{
		struct dd_tar_entry e = ent("etc/motd", DD_TAR_FILE, 0644);

		e.size = sizeof(data);
		CHECK(dd_tar_write_file(&w, &e, data) == 0);
	}
	CHECK(dd_tar_write_end(&w) == 0);
}

/* Offset of the ustar header whose name field starts with name. */
static size_t header_at(const struct dd_buf *a, const char *name)
{
	for (size_t off = 0; off + 512 <= a->len; off += 512)
		if (!memcmp(a->ptr + off, name, strlen(name) + 1) &&
		    !memcmp(a->ptr + off + 257, "ustar", 5))
			return off;
	return (size_t)-1;
}

static void t_tar_refuse_checksum(void)
{
	struct dd_buf a = DD_BUF_INIT;
	size_t n, off;
	int rc;

	two_files(&a);
	CHECK(read_to_end(&a, 0, &n) == 0 && n == 2);

	/* corrupt the first member's name */
	off = header_at(&a, "first.txt");
	CHECK(off != (size_t)-1);
	if (off == (size_t)-1)
		goto out;
	a.ptr[off + 1] ^= 0x20; /* "fIrst.txt" */
	rc = read_to_end(&a, 0, &n);
	CHECK(rc == DD_E_FORMAT);
	CHECK(n == 0);
	CHECK_MSG(detail_has("checksum"), "detail: %s", dd_error_detail());
	a.ptr[off + 1] ^= 0x20;

	/* corrupt the second: the message must not blame the first */
	off = header_at(&a, "etc/motd");
	CHECK(off != (size_t)-1);
	if (off == (size_t)-1)
		goto out;
	a.ptr[off + 4] ^= 0x20; /* "etc/Motd" */
	rc = read_to_end(&a, 0, &n);
	CHECK(rc == DD_E_FORMAT);
	CHECK(n == 1);
	CHECK_MSG(detail_has("checksum"), "detail: %s", dd_error_detail());
	CHECK_MSG(!detail_has("first.txt"),
		  "checksum error in 'etc/Motd' blames the previous member: %s", dd_error_detail());
	/* the corrupt header's name cannot be trusted, so it may be named
	 * by its position in the archive instead */
	{
		char at[64];

		snprintf(at, sizeof(at), "offset %zu", off);
		CHECK_MSG(detail_has("etc/Motd") || detail_has(at),
			  "detail identifies neither the member nor its offset: %s",
			  dd_error_detail());
	}
	a.ptr[off + 4] ^= 0x20;

	/* and a checksum field that is not a number */
	memcpy(a.ptr + off + 148, "zzzzzz", 6);
	CHECK(read_to_end(&a, 0, &n) == DD_E_FORMAT);
out:
	dd_buf_release(&a);
}

static void t_tar_refuse_truncated(void)
{
	struct dd_buf a = DD_BUF_INIT;
	size_t n, off, full;
	int rc;

	two_files(&a);
	full = a.len;
	off = header_at(&a, "etc/motd");
	CHECK(off != (size_t)-1);
	if (off == (size_t)-1)
		goto out;

	/* cut in the middle of etc/motd's 700 data bytes */
	a.len = off + 512 + 300;
	rc = read_to_end(&a, 0, &n);
	CHECK(rc == DD_E_TRUNCATED);
	CHECK(n == 2);
	CHECK_MSG(detail_has("etc/motd"), "detail: %s", dd_error_detail());

	/* cut in the padding after the data */
	a.len = off + 512 + 700 + 10;
	rc = read_to_end(&a, 0, &n);
	CHECK(rc == DD_E_TRUNCATED);

	/* cut inside etc/motd's header */
	a.len = off + 200;
	rc = read_to_end(&a, 0, &n);
	CHECK(rc == DD_E_TRUNCATED);
	CHECK(n == 1);
	CHECK_MSG(detail_has("header"), "detail: %s", dd_error_detail());

	/* the same, read a byte at a time */
	rc = read_to_end(&a, 1, &n);
	CHECK(rc == DD_E_TRUNCATED);

	/* cut inside the first (pax) header of the archive */
	a.len = 100;
	CHECK(read_to_end(&a, 0, &n) == DD_E_TRUNCATED);

	/* a pax header followed by nothing is truncated, not a clean end */
	a.len = 1024;
	rc = read_to_end(&a, 0, &n);
	CHECK_MSG(rc == DD_E_TRUNCATED, "rc %d", rc);
	a.len = full;
out:
	dd_buf_release(&a);
}

/* Archive: one 'x' header carrying pax, then a file "target.txt". */
static void with_pax(struct dd_buf *a, const char *pax, size_t len)
{
	struct dd_tar_writer w;
	struct dd_tar_entry e = ent("././@PaxHeader", 'x', 0644);

	dd_tar_writer_init(&w, dd_write_buf, a);
	e.size = len;
	dd_tar_write_file(&w, &e, pax);
	e = ent("target.txt", DD_TAR_FILE, 0644);
	e.size = 2;
	dd_tar_write_file(&w, &e, "hi");
	dd_tar_write_end(&w);
}

static int read_pax(const char *pax, struct dd_tar_entry *out)
{
	struct dd_buf a = DD_BUF_INIT;
	struct mem m;
	struct dd_tar_reader r;
	struct dd_tar_entry *e;
	int rc;

	with_pax(&a, pax, strlen(pax));
	m = (struct mem){ a.ptr, a.len, 0, 0 };
	dd_error_clear();
	dd_tar_reader_init(&r, mem_read, &m);
	rc = dd_tar_next(&r, &e);
	if (rc == 1 && out) {
		*out = *e;
		out->path = dd_xstrdup(e->path);
	}
	dd_tar_reader_release(&r);
	dd_buf_release(&a);
	return rc;
}

static void t_tar_pax_records(void)
{
	struct dd_tar_entry e;
	int rc;

	/* well formed: path overrides the header's name; unknown keys ignored */
	rc = read_pax("12 path=foo\n30 mtime=1700000000.123456789\n", &e);
	CHECK(rc == 1);
	if (rc == 1) {
		CHECK(strcmp(e.path, "foo") == 0);
		free(e.path);
	}
	rc = read_pax("68 APK-TOOLS.checksum.SHA1=0123456789abcdef0123456789abcdef01234567\n", &e);
	CHECK(rc == 1);
	if (rc == 1) {
		CHECK(strcmp(e.sha1, "0123456789abcdef0123456789abcdef01234567") == 0);
		CHECK(strcmp(e.path, "target.txt") == 0);
		free(e.path);
	}

	static const char *bad[] = {
		"13 path=foo\n",                    /* length runs past the data */
		"11 path=foo\n",                    /* length too short */
		"12 path=foo!",                     /* not newline-terminated */
		"12 pathxfoo\n",                    /* no '=' */
		"x2 path=foo\n",                    /* length not a number */
		"12path=foo\n\n",                   /* no space after the length */
		"3 \n",                             /* record with no key */
		"1 ",                               /* length shorter than itself */
		"14 size=12abc\n",                  /* size not a number */
		"31 APK-TOOLS.checksum.SHA1=abc\n", /* wrong sha1 length */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = read_pax(bad[i], NULL);
		CHECK_MSG(rc == DD_E_FORMAT, "pax %zu '%s': rc %d", i, bad[i], rc);
		CHECK_MSG(detail_has("pax") || detail_has("APK-TOOLS"), "pax %zu: detail %s", i,
			  dd_error_detail());
	}
}

static void t_tar_pax_too_large(void)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	char *huge = long_path((1u << 20) + 100, "/x");
	size_t n;
	int rc;

	dd_tar_writer_init(&w, dd_write_buf, &a);
	CHECK(put_file(&w, huge, 0644, "x", 1) == 0);
	CHECK(a.len > (1u << 20));
	rc = read_to_end(&a, 0, &n);
	CHECK_MSG(rc == DD_E_LIMIT, "rc %d", rc);
	CHECK(n == 0);
	CHECK_MSG(detail_has("too large"), "detail: %s", dd_error_detail());

	/* Just under the bound is fine. */
	dd_buf_reset(&a);
	free(huge);
	huge = long_path((1u << 20) - 100, "/x");
	CHECK(put_file(&w, huge, 0644, "x", 1) == 0);
	CHECK(read_to_end(&a, 0, &n) == 0 && n == 1);

	/* A GNU long name ('L') has the same bound. */
	dd_buf_reset(&a);
	{
		struct dd_tar_entry e = ent("././@LongLink", 'L', 0644);

		e.size = (2u << 20);
		CHECK(dd_tar_write_header(&w, &e) == 0);
	}
	CHECK(read_to_end(&a, 0, &n) == DD_E_LIMIT);
	free(huge);
	dd_buf_release(&a);
}

static void t_tar_gnu_longname(void)
{
	struct dd_buf a = DD_BUF_INIT;
	struct dd_tar_writer w;
	struct dd_tar_reader r;
	struct dd_tar_entry e, *got;
	struct mem m;
	char *lp = long_path(200, "/gnu-name");
	char *lt = long_path(130, "/gnu-target");

	dd_tar_writer_init(&w, dd_write_buf, &a);
	e = ent("././@LongLink", 'L', 0644);
	e.size = strlen(lp) + 1;
	CHECK(dd_tar_write_file(&w, &e, lp) == 0);
	e = ent("././@LongLink", 'K', 0644);
	e.size = strlen(lt) + 1;
	CHECK(dd_tar_write_file(&w, &e, lt) == 0);
	e = ent("truncated-name", DD_TAR_SYMLINK, 0777);
	e.link = "truncated-target";
	CHECK(dd_tar_write_header(&w, &e) == 0);
	m = (struct mem){ a.ptr, a.len, 0, 0 };
	dd_tar_reader_init(&r, mem_read, &m);
	CHECK(dd_tar_next(&r, &got) == 1);
	CHECK(strcmp(got->path, lp) == 0);
	CHECK(got->link && strcmp(got->link, lt) == 0);
	CHECK(dd_tar_next(&r, &got) == 0);
	dd_tar_reader_release(&r);
	dd_buf_release(&a);
	free(lp);
	free(lt);
}

static void t_tar_path_safe(void)
{
	static const char *safe[] = { "usr/bin/sh", "a",       "",     ".",   "...",   "a..b",
				      "..a",        "a/..b/c", "a//b", "./a", "a/./b", "x.." };
	static const char *unsafe[] = { "/",      "/etc/passwd",  "..",   "../x",   "a/..",
					"a/../b", "a/b/../../..", "./..", "a//../b" };

	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
		CHECK_MSG(dd_tar_path_safe(safe[i]), "'%s' refused", safe[i]);
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
		CHECK_MSG(!dd_tar_path_safe(unsafe[i]), "'%s' accepted", unsafe[i]);
}

/* Writer output is a function of the entries only. */
static void t_tar_writer_deterministic(void)
{
	struct dd_buf a = DD_BUF_INIT, b = DD_BUF_INIT;
	struct dd_tar_writer w;

	dd_tar_writer_init(&w, dd_write_buf, &a);
	put_file(&w, "x", 0644, "data", 4);
	dd_tar_writer_init(&w, dd_write_buf, &b);
	put_file(&w, "x", 0644, "data", 4);
	CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
	/* pax header (sha1) + ustar header + one data block */
	CHECK(a.len == 4 * 512);
	/* ustar magic and a valid checksum field in the file's header */
	CHECK(memcmp(a.ptr + 2 * 512 + 257, "ustar", 6) == 0);
	dd_buf_release(&a);
	dd_buf_release(&b);
}

/* The layer writer refuses members that would land outside the image
 * root, whatever its caller asks for, and still writes the good ones. */
static void t_layer_refuses_unsafe_members(void)
{
	static const char *const bad_names[] = { "",          "..",          "../x",
						 "a/../../x", "/etc/passwd", "a/.." };
	struct dd_layer_writer w;
	struct dd_blob_desc d;
	char dir[] = "/tmp/drydock-t-layer-XXXXXX";

	CHECK(mkdtemp(dir) != NULL);
	CHECK(dd_layer_begin(&w, dir, DD_CODEC_GZIP, 1) == 0);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct dd_tar_entry e = ent(bad_names[i], DD_TAR_DIR, 0755);

		CHECK_MSG(dd_layer_write_header(&w, &e) == DD_E_UNSAFE_PATH, "'%s' written",
			  bad_names[i]);
	}
	{
		struct dd_tar_entry e = ent("usr/x", DD_TAR_HARDLINK, 0644);

		e.link = "../../etc/shadow";
		CHECK(dd_layer_write_header(&w, &e) == DD_E_UNSAFE_PATH);
		CHECK(strstr(dd_error_detail(), "../../etc/shadow") != NULL);
		e = ent("usr", DD_TAR_DIR, 0755);
		CHECK(dd_layer_write_header(&w, &e) == 0);
	}
	CHECK(dd_layer_finish(&w, dir, &d) == 0 && d.usize == 3 * 512);
	dd_remove_tree(dir);
}

void suite_tar(void)
{
	RUN(t_tar_round_trip);
	RUN(t_tar_read_pieces);
	RUN(t_tar_normalise);
	RUN(t_tar_clean_end);
	RUN(t_tar_refuse_paths);
	RUN(t_tar_refuse_types);
	RUN(t_tar_refuse_checksum);
	RUN(t_tar_refuse_truncated);
	RUN(t_tar_pax_records);
	RUN(t_tar_pax_too_large);
	RUN(t_tar_gnu_longname);
	RUN(t_tar_path_safe);
	RUN(t_tar_writer_deterministic);
	RUN(t_layer_refuses_unsafe_members);
}
