#include "apk/tar.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define BLOCK          512
#define MAX_EXT_HEADER (1u << 20) /* pax or GNU long-name data */

struct header {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12];
	char chksum[8], typeflag, linkname[100], magic[6], version[2];
	char uname[32], gname[32], devmajor[8], devminor[8], prefix[155];
	char pad[12];
};

_Static_assert(sizeof(struct header) == BLOCK, "tar header is one block");

void dd_tar_reader_init(struct dd_tar_reader *r, dd_read_fn read, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->read = read;
	r->ctx = ctx;
}

void dd_tar_reader_release(struct dd_tar_reader *r)
{
	dd_buf_release(&r->path);
	dd_buf_release(&r->link);
}

/* Read exactly len bytes; *got tells how many came before a clean end. */
static int read_full(struct dd_tar_reader *r, void *buf, size_t len, size_t *got)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = r->read(r->ctx, (char *)buf + have, len - have);

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		have += (size_t)n;
		r->offset += (uint64_t)n;
	}
	if (got)
		*got = have;
	else if (have < len)
		return dd_error(DD_E_TRUNCATED, "archive ends inside a member");
	return 0;
}

static int skip(struct dd_tar_reader *r, uint64_t n)
{
	char buf[8192];

	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		int rc = read_full(r, buf, k, NULL);

		if (rc < 0)
			return rc;
		n -= k;
	}
	return 0;
}

/* Octal (NUL/space terminated) or GNU base-256 number. */
static bool parse_num(const char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if ((unsigned char)f[0] == 0x80) {
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return false;
			v = (v << 8) | (unsigned char)f[i];
		}
		*out = v;
		return true;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v * 8 + (unsigned)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return false;
	*out = v;
	return true;
}

static bool checksum_ok(const struct header *h)
{
	const unsigned char *p = (const unsigned char *)h;
	uint64_t want;
	unsigned long sum = 0;

	if (!parse_num(h->chksum, sizeof(h->chksum), &want))
		return false;
	for (size_t i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : p[i];
	return sum == want;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

bool dd_tar_path_safe(const char *path)
{
	const char *p = path;

	if (path[0] == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* Strip "./" prefixes and trailing slashes in place. */
static void normalise(struct dd_buf *b)
{
	size_t skipn = 0;

	while (b->len - skipn >= 2 && b->ptr[skipn] == '.' && b->ptr[skipn + 1] == '/')
		skipn += 2;
	while (skipn < b->len && b->ptr[skipn] == '/' && b->len - skipn > 1 &&
	       b->ptr[skipn + 1] == '/')
		skipn++;
	memmove(b->ptr, b->ptr + skipn, b->len - skipn + 1);
	b->len -= skipn;
	while (b->len > 1 && b->ptr[b->len - 1] == '/')
		b->ptr[--b->len] = 0;
	if (b->len == 1 && b->ptr[0] == '.')
		dd_buf_reset(b);
}

static void set_field(struct dd_buf *b, const char *f, size_t max)
{
	dd_buf_reset(b);
	dd_buf_add(b, f, strnlen(f, max));
}

/* Parse "len key=value\n" records; apply what matters to the entry. */
static int apply_pax(struct dd_tar_reader *r, struct dd_blob data, bool *has_path, bool *has_link,
		     uint64_t *size, bool *has_size)
{
	while (data.len) {
		struct dd_blob lenb, rec, key;
		uint64_t reclen;
		const char *start = data.ptr;

		if (!dd_blob_split(&data, ' ', &lenb) || !dd_blob_to_u64(lenb, &reclen) ||
		    reclen <= lenb.len + 1 || reclen > (uint64_t)(data.ptr - start) + data.len)
			return dd_error(DD_E_FORMAT, "malformed pax header record");
		rec.ptr = data.ptr;
		rec.len = (size_t)reclen - lenb.len - 1;
		if (rec.ptr[rec.len - 1] != '\n')
			return dd_error(DD_E_FORMAT, "pax header record not newline-terminated");
		data.ptr += rec.len;
		data.len -= rec.len;
		rec.len--;
		if (!dd_blob_split(&rec, '=', &key))
			return dd_error(DD_E_FORMAT, "pax header record without '='");
		if (dd_blob_eq(key, "path")) {
			dd_buf_reset(&r->path);
			dd_buf_add(&r->path, rec.ptr, rec.len);
			*has_path = true;
		} else if (dd_blob_eq(key, "linkpath")) {
			dd_buf_reset(&r->link);
			dd_buf_add(&r->link, rec.ptr, rec.len);
			*has_link = true;
		} else if (dd_blob_eq(key, "size")) {
			if (!dd_blob_to_u64(rec, size))
				return dd_error(DD_E_FORMAT, "bad pax size");
			*has_size = true;
		} else if (dd_blob_eq(key, "APK-TOOLS.checksum.SHA1")) {
			if (rec.len != 40)
				return dd_error(DD_E_FORMAT, "bad APK-TOOLS.checksum.SHA1");
			memcpy(r->e.sha1, rec.ptr, 40);
			r->e.sha1[40] = 0;
		}
		/* other keywords (mtime, atime, ctime, xattrs) carry nothing
		 * an image needs; they are accepted and ignored. */
	}
	return 0;
}

static int read_ext(struct dd_tar_reader *r, uint64_t size, struct dd_buf *out)
{
	int rc;

	if (size > MAX_EXT_HEADER)
		return dd_error(DD_E_LIMIT, "extended header of %llu bytes is too large",
				(unsigned long long)size);
	dd_buf_reset(out);
	dd_buf_grow(out, (size_t)size);
	rc = read_full(r, out->ptr, (size_t)size, NULL);
	if (rc < 0)
		return rc;
	out->len = (size_t)size;
	out->ptr[size] = 0;
	return skip(r, (BLOCK - size % BLOCK) % BLOCK);
}

static int fill_entry(struct dd_tar_reader *r, const struct header *h)
{
	struct dd_tar_entry *e = &r->e;
	uint64_t v;

	e->type = h->typeflag ? h->typeflag : DD_TAR_FILE;
	if (e->type == '7')
		e->type = DD_TAR_FILE; /* contiguous file: a regular file */
	if (!strchr("0123456", e->type))
		return dd_error(DD_E_UNSAFE_PATH, "unsupported tar member type '%c'", e->type);
	if (!parse_num(h->mode, sizeof(h->mode), &v))
		return dd_error(DD_E_FORMAT, "bad mode field");
	e->mode = (unsigned)(v & 07777);
	if (!parse_num(h->uid, sizeof(h->uid), &v) || v > UINT32_MAX)
		return dd_error(DD_E_FORMAT, "bad uid field");
	e->uid = (uint32_t)v;
	if (!parse_num(h->gid, sizeof(h->gid), &v) || v > UINT32_MAX)
		return dd_error(DD_E_FORMAT, "bad gid field");
	e->gid = (uint32_t)v;
	if (!parse_num(h->mtime, sizeof(h->mtime), &v))
		return dd_error(DD_E_FORMAT, "bad mtime field");
	e->mtime = (int64_t)v;
	if (!parse_num(h->devmajor, sizeof(h->devmajor), &v))
		v = 0;
	e->devmajor = (uint32_t)v;
	if (!parse_num(h->devminor, sizeof(h->devminor), &v))
		v = 0;
	e->devminor = (uint32_t)v;
	memcpy(e->uname, h->uname, 32);
	e->uname[32] = 0;
	memcpy(e->gname, h->gname, 32);
	e->gname[32] = 0;
	return 0;
}

static int check_entry(struct dd_tar_reader *r)
{
	struct dd_tar_entry *e = &r->e;

	normalise(&r->path);
	e->path = r->path.ptr ? r->path.ptr : "";
	if (memchr(r->path.ptr ? r->path.ptr : "", 0, r->path.len))
		return dd_error(DD_E_UNSAFE_PATH, "member name contains a NUL byte");
	if (!dd_tar_path_safe(e->path))
		return dd_error(DD_E_UNSAFE_PATH, "absolute path or '..' component");
	e->link = NULL;
	if (e->type == DD_TAR_SYMLINK || e->type == DD_TAR_HARDLINK) {
		if (!r->link.len)
			return dd_error(DD_E_FORMAT, "link without a target");
		e->link = r->link.ptr;
		if (e->type == DD_TAR_HARDLINK) {
			normalise(&r->link);
			e->link = r->link.ptr;
			if (!dd_tar_path_safe(e->link))
				return dd_error(DD_E_UNSAFE_PATH,
						"hard link to '%s' leaves the archive", e->link);
		}
	}
	if (e->type != DD_TAR_FILE && e->size)
		e->size = 0; /* links, dirs and devices carry no data */
	return 0;
}

/* What extended headers (pax 'x', GNU 'L' and 'K') said of the member
 * that follows them. */
struct ext {
	struct dd_buf buf;
	bool has_path, has_link, has_size;
	uint64_t size;
};

/*
 * The next header block, checked, and its size field: 1, or 0 at the end
 * of the archive (a clean end of input or the zero block), or an error.
 * pending: an extended header waits for its member, so no end is clean.
 */
static int read_header(struct dd_tar_reader *r, struct header *h, bool pending, uint64_t *size)
{
	size_t got = 0;
	int rc = read_full(r, h, BLOCK, &got);

	if (rc < 0)
		return rc;
	if (got == 0 && !pending)
		return 0; /* clean end at a header boundary */
	if (got < BLOCK)
		return dd_error(DD_E_TRUNCATED, "archive ends inside a header");
	if (all_zero(h, BLOCK)) {
		r->end = true;
		return pending ? dd_error(DD_E_FORMAT, "extended header without a member") : 0;
	}
	if (!checksum_ok(h))
		return dd_error(DD_E_FORMAT, "tar header checksum mismatch (corrupt archive)");
	if (!parse_num(h->size, sizeof(h->size), size))
		return dd_error(DD_E_FORMAT, "bad size field");
	return 1;
}

/* An extended header, read into x: 1; 0 when h is a member's own header. */
static int read_extension(struct dd_tar_reader *r, const struct header *h, uint64_t size,
			  struct ext *x)
{
	int rc;

	if (!strchr("xgLK", h->typeflag) || !h->typeflag)
		return 0;
	rc = read_ext(r, size, &x->buf);
	if (rc < 0)
		return rc;
	if (h->typeflag == 'x')
		rc = apply_pax(r, dd_buf_blob(&x->buf), &x->has_path, &x->has_link, &x->size,
			       &x->has_size);
	else if (h->typeflag == 'L' || h->typeflag == 'K')
		set_field(h->typeflag == 'L' ? &r->path : &r->link, x->buf.ptr, x->buf.len);
	if (h->typeflag == 'L')
		x->has_path = true;
	if (h->typeflag == 'K')
		x->has_link = true;
	return rc < 0 ? rc : 1;
}

/* The member of header h (and of the extended headers before it): r->e. */
static int take_member(struct dd_tar_reader *r, const struct header *h, uint64_t size,
		       const struct ext *x)
{
	int rc;

	if (!x->has_path) {
		dd_buf_reset(&r->path);
		if (h->prefix[0] && !memcmp(h->magic, "ustar\0", 6)) {
			dd_buf_add(&r->path, h->prefix, strnlen(h->prefix, sizeof(h->prefix)));
			dd_buf_add(&r->path, "/", 1);
		}
		dd_buf_add(&r->path, h->name, strnlen(h->name, sizeof(h->name)));
	}
	if (!x->has_link)
		set_field(&r->link, h->linkname, sizeof(h->linkname));
	rc = fill_entry(r, h);
	if (rc < 0)
		return rc;
	r->e.size = x->has_size ? x->size : size;
	rc = check_entry(r);
	if (rc < 0)
		return rc;
	r->remaining = r->e.size;
	/* hard links and others may still declare data; honour it */
	if (r->e.type != DD_TAR_FILE)
		r->remaining = x->has_size ? x->size : size;
	r->pad = (BLOCK - r->remaining % BLOCK) % BLOCK;
	return 0;
}

int dd_tar_next(struct dd_tar_reader *r, struct dd_tar_entry **out)
{
	struct header h;
	struct ext x = { .buf = DD_BUF_INIT };
	bool pending = false, named = false;
	uint64_t size, start;
	int rc;

	if (r->end)
		return 0;
	rc = skip(r, r->remaining + r->pad);
	if (rc < 0)
		return rc;
	r->remaining = r->pad = 0;
	r->e.sha1[0] = 0;
	start = r->offset;
	for (;;) {
		rc = read_header(r, &h, pending, &size);
		if (rc <= 0)
			break; /* the end, or an error */
		rc = read_extension(r, &h, size, &x);
		if (rc < 0)
			break;
		if (rc > 0) {
			pending = true;
			continue;
		}
		named = true;
		rc = take_member(r, &h, size, &x);
		if (!rc) {
			*out = &r->e;
			rc = 1;
		}
		break;
	}
	dd_buf_release(&x.buf);
	if (rc < 0 && named)
		dd_error_prefix(rc, "member '%s'", r->path.ptr ? r->path.ptr : "");
	else if (rc < 0)
		dd_error_prefix(rc, "tar header at offset %llu", (unsigned long long)start);
	return rc;
}

ssize_t dd_tar_read(struct dd_tar_reader *r, void *buf, size_t len)
{
	size_t got = 0;
	int rc;

	if (len > r->remaining)
		len = (size_t)r->remaining;
	if (!len)
		return 0;
	rc = read_full(r, buf, len, &got);
	if (rc < 0)
		return rc;
	if (got < len)
		return dd_error(DD_E_TRUNCATED,
				"member '%s': %llu bytes declared, archive ends after %llu",
				r->e.path, (unsigned long long)r->e.size,
				(unsigned long long)(r->e.size - r->remaining + got));
	r->remaining -= got;
	return (ssize_t)got;
}

int dd_tar_read_all(struct dd_tar_reader *r, struct dd_buf *out, uint64_t max)
{
	if (r->remaining > max)
		return dd_error(DD_E_LIMIT, "member '%s' is %llu bytes, more than %llu allowed",
				r->e.path, (unsigned long long)r->remaining,
				(unsigned long long)max);
	dd_buf_reset(out);
	dd_buf_grow(out, (size_t)r->remaining);
	while (r->remaining) {
		ssize_t n = dd_tar_read(r, out->ptr + out->len, (size_t)r->remaining);

		if (n < 0)
			return (int)n;
		out->len += (size_t)n;
	}
	out->ptr[out->len] = 0;
	return 0;
}

void dd_tar_writer_init(struct dd_tar_writer *w, dd_write_fn write, void *ctx)
{
	w->write = write;
	w->ctx = ctx;
	w->bytes = 0;
}

int dd_tar_write_data(struct dd_tar_writer *w, const void *data, size_t len)
{
	w->bytes += len;
	return len ? w->write(w->ctx, data, len) : 0;
}

int dd_tar_pad(struct dd_tar_writer *w, uint64_t size)
{
	static const char zero[BLOCK];
	size_t n = (BLOCK - size % BLOCK) % BLOCK;

	return dd_tar_write_data(w, zero, n);
}

/* Zero-padded octal in len-1 digits, or GNU base-256 when too large. */
static void put_octal(char *f, size_t len, uint64_t v)
{
	if (len - 1 < 22 && v >> (3 * (len - 1))) {
		memset(f, 0, len);
		f[0] = (char)0x80;
		for (size_t i = len - 1; i > 0 && v; i--, v >>= 8)
			f[i] = (char)(v & 0xff);
		return;
	}
	f[len - 1] = 0;
	for (size_t i = len - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (char)('0' + (v & 7));
}

static void put_str(char *f, size_t len, const char *s)
{
	memcpy(f, s, strnlen(s, len));
}

static void finish_header(struct header *h)
{
	const unsigned char *p = (const unsigned char *)h;
	unsigned long sum = 0;

	memset(h->chksum, ' ', sizeof(h->chksum));
	for (size_t i = 0; i < BLOCK; i++)
		sum += p[i];
	snprintf(h->chksum, sizeof(h->chksum), "%06lo", sum);
	h->chksum[7] = ' ';
}

static void base_header(struct header *h, const char *name, char type, unsigned mode, uint64_t size,
			int64_t mtime)
{
	memset(h, 0, sizeof(*h));
	put_str(h->name, sizeof(h->name), name);
	put_octal(h->mode, sizeof(h->mode), mode);
	put_octal(h->uid, sizeof(h->uid), 0);
	put_octal(h->gid, sizeof(h->gid), 0);
	put_octal(h->size, sizeof(h->size), size);
	put_octal(h->mtime, sizeof(h->mtime), mtime < 0 ? 0 : (uint64_t)mtime);
	h->typeflag = type;
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
	put_octal(h->devmajor, sizeof(h->devmajor), 0);
	put_octal(h->devminor, sizeof(h->devminor), 0);
}

static void pax_record(struct dd_buf *b, const char *key, const char *val)
{
	size_t base = strlen(key) + strlen(val) + 3; /* ' ' '=' '\n' */
	size_t len = base + 1;

	while (len != base + (size_t)snprintf(NULL, 0, "%zu", len))
		len = base + (size_t)snprintf(NULL, 0, "%zu", len);
	dd_buf_addf(b, "%zu %s=%s\n", len, key, val);
}

int dd_tar_write_header(struct dd_tar_writer *w, const struct dd_tar_entry *e)
{
	struct header h;
	struct dd_buf pax = DD_BUF_INIT;
	const char *link = e->link ? e->link : "";
	int rc = 0;

	if (strlen(e->path) > 100)
		pax_record(&pax, "path", e->path);
	if (strlen(link) > 100)
		pax_record(&pax, "linkpath", link);
	if (e->sha1[0])
		pax_record(&pax, "APK-TOOLS.checksum.SHA1", e->sha1);
	if (e->size >= 077777777777ULL) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)e->size);
		pax_record(&pax, "size", num);
	}
	if (pax.len) {
		base_header(&h, "././@PaxHeader", 'x', 0644, pax.len, e->mtime);
		finish_header(&h);
		rc = dd_tar_write_data(w, &h, BLOCK);
		if (!rc)
			rc = dd_tar_write_data(w, pax.ptr, pax.len);
		if (!rc)
			rc = dd_tar_pad(w, pax.len);
	}
	dd_buf_release(&pax);
	if (rc)
		return rc;
	base_header(&h, e->path, e->type, e->mode, e->size >= 077777777777ULL ? 0 : e->size,
		    e->mtime);
	put_str(h.linkname, sizeof(h.linkname), link);
	put_octal(h.uid, sizeof(h.uid), e->uid);
	put_octal(h.gid, sizeof(h.gid), e->gid);
	put_str(h.uname, sizeof(h.uname), e->uname);
	put_str(h.gname, sizeof(h.gname), e->gname);
	put_octal(h.devmajor, sizeof(h.devmajor), e->devmajor);
	put_octal(h.devminor, sizeof(h.devminor), e->devminor);
	finish_header(&h);
	return dd_tar_write_data(w, &h, BLOCK);
}

int dd_tar_write_file(struct dd_tar_writer *w, const struct dd_tar_entry *e, const void *data)
{
	int rc = dd_tar_write_header(w, e);

	if (!rc)
		rc = dd_tar_write_data(w, data, (size_t)e->size);
	if (!rc)
		rc = dd_tar_pad(w, e->size);
	return rc;
}

int dd_tar_write_end(struct dd_tar_writer *w)
{
	static const char zero[2 * BLOCK];

	return dd_tar_write_data(w, zero, sizeof(zero));
}

static const struct {
	char type;
	const char *name, *phrase;
} type_names[] = {
	{ DD_TAR_FILE, "file", "a file" },           { DD_TAR_HARDLINK, "hardlink", "a hard link" },
	{ DD_TAR_SYMLINK, "symlink", "a symlink" },  { DD_TAR_CHAR, "char", "a character device" },
	{ DD_TAR_BLOCK, "block", "a block device" }, { DD_TAR_DIR, "dir", "a directory" },
	{ DD_TAR_FIFO, "fifo", "a fifo" },
};

const char *dd_tar_type_name(char type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "file";
}

char dd_tar_type_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(type_names[i].name, name))
			return type_names[i].type;
	return 0;
}

const char *dd_tar_type_phrase(char type)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].phrase;
	return "an unknown type";
}
