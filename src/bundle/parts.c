#include "bundle/parts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "bundle/manifest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"

#define MAX_PARTS 999u

/* ---- the header ------------------------------------------------------ */

struct part_header {
	char bundle[65];
	unsigned part, parts;
	uint64_t offset, size;
	char sha256[65];
};

static void header_text(const struct part_header *h, char out[DD_PART_HEADER])
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "format", DD_PART_FORMAT,
			      "bundle", h->bundle, "part", (json_int_t)h->part, "parts",
			      (json_int_t)h->parts, "offset", (json_int_t)h->offset, "size",
			      (json_int_t)h->size, "sha256", h->sha256);
	char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
	size_t n = strlen(text); /* about 260 bytes: always fits */

	memset(out, ' ', DD_PART_HEADER);
	memcpy(out, text, n < DD_PART_HEADER - 1 ? n : DD_PART_HEADER - 1);
	out[DD_PART_HEADER - 1] = '\n';
	free(text);
	json_decref(j);
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* 1 and h filled when buf is a part header, 0 when it is not one. */
static int header_parse(const char *buf, size_t len, struct part_header *h)
{
	json_t *j = len == DD_PART_HEADER && buf[0] == '{' ? json_loadb(buf, len, 0, NULL) : NULL;
	const char *format = NULL, *bundle = NULL, *sha = NULL;
	json_int_t part = 0, parts = 0, offset = -1, size = -1;
	int ok;

	if (!j)
		return 0;
	ok = !json_unpack(j, "{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "format", &format, "bundle",
			  &bundle, "part", &part, "parts", &parts, "offset", &offset, "size", &size,
			  "sha256", &sha) &&
	     !strcmp(format, DD_PART_FORMAT) && is_hex64(bundle) && is_hex64(sha) && part >= 1 &&
	     part <= parts && parts <= MAX_PARTS && offset >= 0 && size >= 0;
	if (ok) {
		memcpy(h->bundle, bundle, 65);
		memcpy(h->sha256, sha, 65);
		h->part = (unsigned)part;
		h->parts = (unsigned)parts;
		h->offset = (uint64_t)offset;
		h->size = (uint64_t)size;
	}
	json_decref(j);
	return ok;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t len, const char *path)
{
	return dd_write_all(fd, buf, len) ? dd_error_errno("%s", path) : 0;
}

static void part_name(struct dd_buf *out, const char *prefix, unsigned k)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "%s.part-%03u", prefix, k);
}

static void md_hex(EVP_MD_CTX *md, char out[65])
{
	unsigned char d[32];
	unsigned n = 0;

	EVP_DigestFinal_ex(md, d, &n);
	dd_hex(d, 32, out);
}

/* ---- size ----------------------------------------------------------- */

int dd_parts_parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (!s || !isdigit((unsigned char)s[0]))
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	case 'T':
		mul = 1ull << 40;
		end++;
		break;
	default:
		goto bad;
	}
	if (*end || !v || v > UINT64_MAX / mul)
		goto bad;
	*out = v * mul;
	return 0;
bad:
	return dd_error(DD_E_USAGE,
			"'%s' is not a size: give bytes or a number with K, M, G "
			"or T (powers of 1024), such as 4G or 4480M",
			s ? s : "");
}

/* ---- writing -------------------------------------------------------- */

struct part_out {
	struct dd_atomic f;
	struct part_header h;
};

struct dd_parts_writer {
	char *base;
	uint64_t payload_max;
	char id[65];
	struct part_out *parts;
	unsigned n;
	EVP_MD_CTX *md; /* of the current part */
	uint64_t offset;
	struct dd_buf name;
};

int dd_parts_writer_open(const char *base, uint64_t max_size, const char id[65],
			 struct dd_parts_writer **out)
{
	struct dd_parts_writer *w;

	*out = NULL;
	if (max_size < (64u << 10))
		return dd_error(DD_E_USAGE,
				"--split %llu bytes is too small: a part must be "
				"at least 64K",
				(unsigned long long)max_size);
	w = dd_xcalloc(1, sizeof(*w));
	w->base = dd_xstrdup(base);
	w->payload_max = max_size - 1 - DD_PART_HEADER;
	memcpy(w->id, id, 65);
	w->md = EVP_MD_CTX_new();
	*out = w;
	return 0;
}

static int part_close(struct dd_parts_writer *w)
{
	struct part_out *p = &w->parts[w->n - 1];

	md_hex(w->md, p->h.sha256);
	return 0;
}

static int part_start(struct dd_parts_writer *w)
{
	struct part_out *p;
	char blank[DD_PART_HEADER];
	int rc;

	if (w->n == MAX_PARTS)
		return dd_error(DD_E_LIMIT, "%s: more than %u parts; give a larger --split size",
				w->base, MAX_PARTS);
	DD_GROW(w->parts, w->n);
	p = &w->parts[w->n];
	memset(p, 0, sizeof(*p));
	p->f.fd = -1;
	part_name(&w->name, w->base, w->n + 1);
	rc = dd_atomic_open(&p->f, w->name.ptr);
	if (rc)
		return rc;
	w->n++;
	memcpy(p->h.bundle, w->id, 65);
	p->h.part = w->n;
	p->h.offset = w->offset;
	memset(blank, ' ', sizeof(blank));
	EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
	return write_full(p->f.fd, blank, sizeof(blank), p->f.tmp);
}

ssize_t dd_parts_write(struct dd_parts_writer *w, const void *buf, size_t len)
{
	const char *b = buf;
	size_t left = len;
	int rc;

	while (left) {
		struct part_out *p = w->n ? &w->parts[w->n - 1] : NULL;
		size_t take;

		if (!p || p->h.size == w->payload_max) {
			if (p && (rc = part_close(w)))
				return rc;
			if ((rc = part_start(w)))
				return rc;
			p = &w->parts[w->n - 1];
		}
		take = left;
		if (take > w->payload_max - p->h.size)
			take = (size_t)(w->payload_max - p->h.size);
		rc = write_full(p->f.fd, b, take, p->f.tmp);
		if (rc)
			return rc;
		EVP_DigestUpdate(w->md, b, take);
		p->h.size += take;
		w->offset += take;
		b += take;
		left -= take;
	}
	return (ssize_t)len;
}

int dd_parts_writer_finish(struct dd_parts_writer *w, unsigned *n_parts)
{
	char hdr[DD_PART_HEADER];
	int rc = 0;

	if (!w->n)
		return dd_error(DD_E_INTERNAL, "%s: nothing was written", w->base);
	part_close(w);
	for (unsigned i = 0; !rc && i < w->n; i++) {
		struct part_out *p = &w->parts[i];

		p->h.parts = w->n;
		header_text(&p->h, hdr);
		if (pwrite(p->f.fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
			rc = dd_error_errno("%s", p->f.tmp);
	}
	for (unsigned i = 0; !rc && i < w->n; i++)
		rc = dd_atomic_commit(&w->parts[i].f);
	if (!rc && n_parts)
		*n_parts = w->n;
	return rc;
}

void dd_parts_writer_free(struct dd_parts_writer *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++)
		dd_atomic_abort(&w->parts[i].f);
	free(w->parts);
	EVP_MD_CTX_free(w->md);
	dd_buf_release(&w->name);
	free(w->base);
	free(w);
}

/* ---- reading -------------------------------------------------------- */

struct dd_parts_reader {
	char *prefix;            /* the path of part 1 without ".part-001" */
	char *first;             /* the path of part 1 */
	struct part_header want; /* bundle and parts, from part 1 */
	unsigned k;              /* the part open now, 1-based; 0 before the first */
	int fd;
	uint64_t left;   /* payload bytes of part k still to read */
	uint64_t offset; /* of the stream */
	struct part_header cur;
	EVP_MD_CTX *md;
	struct dd_buf path; /* of part k */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Read and check the header of the open part k. */
static int check_header(struct dd_parts_reader *r, uint64_t file_size)
{
	char buf[DD_PART_HEADER];
	struct part_header *h = &r->cur;
	const char *p = r->path.ptr;
	ssize_t n = read_full(r->fd, buf, sizeof(buf));

	if (n < 0)
		return dd_error_errno("%s", p);
	if (!header_parse(buf, (size_t)n, h))
		return dd_error(DD_E_FORMAT,
				"%s is not a part of a drydock bundle (no part "
				"header); it should be part %u of %u of bundle %.16s…",
				p, r->k, r->want.parts, r->want.bundle);
	if (strcmp(h->bundle, r->want.bundle))
		return dd_error(DD_E_FORMAT,
				"%s belongs to another bundle (%.16s…, not "
				"%.16s… as %s): a foreign part; copy the right part %u and "
				"import again",
				p, h->bundle, r->want.bundle, r->first, r->k);
	if (h->part != r->k)
		return dd_error(DD_E_FORMAT,
				"%s is part %u, not part %u: the parts were "
				"swapped or renamed; each must keep its name NAME.part-NNN",
				p, h->part, r->k);
	if (h->parts != r->want.parts || h->offset != r->offset)
		return dd_error(DD_E_FORMAT,
				"%s does not fit the parts before it (%u parts, "
				"offset %llu; expected %u parts, offset %llu): damaged",
				p, h->parts, (unsigned long long)h->offset, r->want.parts,
				(unsigned long long)r->offset);
	if (file_size != DD_PART_HEADER + h->size)
		return dd_error(file_size < DD_PART_HEADER + h->size ? DD_E_TRUNCATED : DD_E_FORMAT,
				"%s is %llu bytes, its header says %llu: the copy is %s; copy it "
				"again and import again",
				p, (unsigned long long)file_size,
				(unsigned long long)(DD_PART_HEADER + h->size),
				file_size < DD_PART_HEADER + h->size ? "incomplete" : "damaged");
	r->left = h->size;
	EVP_DigestInit_ex(r->md, EVP_sha256(), NULL);
	return 0;
}

static int open_part(struct dd_parts_reader *r)
{
	struct stat st;

	r->k++;
	part_name(&r->path, r->prefix, r->k);
	r->fd = open(r->path.ptr, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 && errno == ENOENT)
		return dd_error(DD_E_TRUNCATED,
				"%s is missing: the bundle has %u parts and "
				"this is part %u; put it next to %s and import again",
				r->path.ptr, r->want.parts, r->k, r->first);
	if (r->fd < 0 || fstat(r->fd, &st) < 0)
		return dd_error_errno("%s (part %u of %u)", r->path.ptr, r->k, r->want.parts);
	return check_header(r, (uint64_t)st.st_size);
}

static int close_part(struct dd_parts_reader *r)
{
	char sha[65];

	md_hex(r->md, sha);
	close(r->fd);
	r->fd = -1;
	if (strcmp(sha, r->cur.sha256))
		return dd_error(DD_E_DIGEST,
				"%s is damaged: its contents have sha256 %.16s…, "
				"its header says %.16s…; copy it again and import again",
				r->path.ptr, sha, r->cur.sha256);
	return 0;
}

int dd_parts_reader_open(const char *first, struct dd_parts_reader **out)
{
	struct dd_parts_reader *r;
	char buf[DD_PART_HEADER];
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if (!ends_with(first, DD_PART_SUFFIX))
		return dd_error(DD_E_USAGE,
				"%s: the first part of a split bundle must be named "
				"NAME%s",
				first, DD_PART_SUFFIX);
	r = dd_xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->first = dd_xstrdup(first);
	r->prefix = dd_xstrdup(first);
	r->prefix[strlen(first) - strlen(DD_PART_SUFFIX)] = 0;
	r->md = EVP_MD_CTX_new();
	fd = open(first, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = dd_error_errno("%s", first);
		goto fail;
	}
	n = read_full(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || !header_parse(buf, (size_t)n, &r->want) || r->want.part != 1) {
		rc = dd_error(DD_E_FORMAT, "%s is not the first part of a drydock bundle", first);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	dd_parts_reader_free(r);
	return rc;
}

ssize_t dd_parts_read(struct dd_parts_reader *r, void *buf, size_t len)
{
	ssize_t n;
	int rc;

	for (;;) {
		if (r->fd < 0) {
			if (r->k == r->want.parts)
				return 0;
			if ((rc = open_part(r)))
				return rc;
		}
		if (r->left)
			break;
		if ((rc = close_part(r)))
			return rc;
	}
	if (len > r->left)
		len = (size_t)r->left;
	n = read(r->fd, buf, len);
	if (n < 0 && errno == EINTR)
		n = 0;
	if (n < 0)
		return dd_error_errno("%s (part %u of %u): reading failed; if the medium was "
				      "removed, put it back and import again",
				      r->path.ptr, r->k, r->want.parts);
	if (n == 0 && len)
		return dd_error(DD_E_TRUNCATED,
				"%s ends early (part %u of %u); copy it again "
				"and import again",
				r->path.ptr, r->k, r->want.parts);
	EVP_DigestUpdate(r->md, buf, (size_t)n);
	r->left -= (uint64_t)n;
	r->offset += (uint64_t)n;
	return n;
}

int dd_parts_blame(struct dd_parts_reader *r)
{
	char buf[1 << 16];
	ssize_t n;

	while (r->fd >= 0) {
		if (!r->left)
			return close_part(r);
		n = dd_parts_read(r, buf, sizeof(buf));
		if (n < 0)
			return (int)n;
	}
	return 0;
}

const char *dd_parts_bundle(const struct dd_parts_reader *r)
{
	return r->want.bundle;
}

void dd_parts_reader_free(struct dd_parts_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	EVP_MD_CTX_free(r->md);
	dd_buf_release(&r->path);
	free(r->prefix);
	free(r->first);
	free(r);
}

/* ---- finding part 1 ------------------------------------------------- */

static int detect_dir(const char *path, struct dd_buf *first)
{
	struct dd_buf p = DD_BUF_INIT;
	struct dirent *de;
	struct stat st;
	unsigned found = 0;
	DIR *d;
	int rc = 0;

	dd_buf_addf(&p, "%s/%s", path, DD_MANIFEST_NAME);
	if (stat(p.ptr, &st) == 0)
		goto out; /* a bundle as a directory */
	d = opendir(path);
	if (!d) {
		rc = dd_error_errno("%s", path);
		goto out;
	}
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, DD_PART_SUFFIX))
			continue;
		if (found++) {
			rc = dd_error(DD_E_USAGE,
				      "%s holds the parts of more than one bundle (%s "
				      "and %s); name the first part to import",
				      path, strrchr(first->ptr, '/') + 1, de->d_name);
			break;
		}
		dd_buf_reset(first);
		dd_buf_addf(first, "%s/%s", path, de->d_name);
	}
	closedir(d);
	if (!rc && found)
		rc = 1;
out:
	dd_buf_release(&p);
	return rc;
}

int dd_parts_detect(const char *path, struct dd_buf *first)
{
	struct part_header h;
	char buf[DD_PART_HEADER];
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0)
		return 0; /* the caller reports it */
	if (S_ISDIR(st.st_mode))
		return detect_dir(path, first);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < DD_PART_HEADER)
		return 0; /* a pipe is read once, by the import */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read_full(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || !header_parse(buf, (size_t)n, &h))
		return 0;
	if (h.part != 1)
		return dd_error(DD_E_USAGE,
				"%s is part %u of %u of a split bundle; import the "
				"first part (NAME%s) and the others are read in order",
				path, h.part, h.parts, DD_PART_SUFFIX);
	dd_buf_reset(first);
	dd_buf_adds(first, path);
	return 1;
}
