#include "apk/pkg.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "apk/version.h"
#include "core/error.h"

/* The keys both formats share, and how each spells them. */
enum field {
	F_NAME,
	F_VERSION,
	F_ARCH,
	F_DESC,
	F_URL,
	F_LICENSE,
	F_ORIGIN,
	F_MAINTAINER,
	F_COMMIT,
	F_PACKAGER,
	F_ISIZE,
	F_FSIZE,
	F_BUILDTIME,
	F_DEPEND,
	F_PROVIDES,
	F_INSTALL_IF,
	F_REPLACES,
	F_TRIGGERS,
	F_PROVIDER_PRIO,
	F_REPLACES_PRIO,
	F_DATAHASH,
	F_CHECKSUM,
	F_UNKNOWN,
};

static const struct {
	const char *pkginfo;
	char index;
} fields[] = {
	[F_NAME] = { "pkgname", 'P' },
	[F_VERSION] = { "pkgver", 'V' },
	[F_ARCH] = { "arch", 'A' },
	[F_DESC] = { "pkgdesc", 'T' },
	[F_URL] = { "url", 'U' },
	[F_LICENSE] = { "license", 'L' },
	[F_ORIGIN] = { "origin", 'o' },
	[F_MAINTAINER] = { "maintainer", 'm' },
	[F_COMMIT] = { "commit", 'c' },
	[F_PACKAGER] = { "packager", 0 },
	[F_ISIZE] = { "size", 'I' },
	[F_FSIZE] = { NULL, 'S' },
	[F_BUILDTIME] = { "builddate", 't' },
	[F_DEPEND] = { "depend", 'D' },
	[F_PROVIDES] = { "provides", 'p' },
	[F_INSTALL_IF] = { "install_if", 'i' },
	[F_REPLACES] = { "replaces", 'r' },
	[F_TRIGGERS] = { "triggers", 0 },
	[F_PROVIDER_PRIO] = { "provider_priority", 'k' },
	[F_REPLACES_PRIO] = { "replaces_priority", 'q' },
	[F_DATAHASH] = { "datahash", 0 },
	[F_CHECKSUM] = { NULL, 'C' },
};

static enum field lookup_pkginfo(struct dd_blob key)
{
	for (size_t i = 0; i < F_UNKNOWN; i++)
		if (fields[i].pkginfo && dd_blob_eq(key, fields[i].pkginfo))
			return (enum field)i;
	return F_UNKNOWN;
}

static enum field lookup_index(char key)
{
	for (size_t i = 0; i < F_UNKNOWN; i++)
		if (fields[i].index == key)
			return (enum field)i;
	return F_UNKNOWN;
}

static int set_str(char **dst, struct dd_blob v)
{
	free(*dst);
	*dst = dd_blob_dup(v);
	return 0;
}

static int set_u64(uint64_t *dst, struct dd_blob v, const char *what)
{
	if (!dd_blob_to_u64(v, dst))
		return dd_error(DD_E_FORMAT, "%s '%.*s' is not a number", what, (int)v.len, v.ptr);
	return 0;
}

static int set_int(int *dst, struct dd_blob v, const char *what)
{
	uint64_t u;
	bool neg = v.len && v.ptr[0] == '-';

	if (neg) {
		v.ptr++;
		v.len--;
	}
	if (!dd_blob_to_u64(v, &u) || u > INT32_MAX)
		return dd_error(DD_E_FORMAT, "%s is not a small integer", what);
	*dst = neg ? -(int)u : (int)u;
	return 0;
}

static int add_triggers(struct dd_apk_pkg *p, struct dd_blob v)
{
	struct dd_blob t;

	while (v.len) {
		v = dd_blob_trim(v);
		if (!v.len)
			break;
		dd_blob_split(&v, ' ', &t);
		DD_GROW(p->triggers, p->n_triggers);
		p->triggers[p->n_triggers++] = dd_blob_dup(dd_blob_trim(t));
	}
	return 0;
}

static bool is_hex(struct dd_blob v, size_t len)
{
	if (v.len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", v.ptr[i]) || !v.ptr[i])
			return false;
	return true;
}

static int set_field(struct dd_apk_pkg *p, enum field f, struct dd_blob v)
{
	switch (f) {
	case F_NAME:
		return set_str(&p->name, v);
	case F_VERSION:
		/* Real indexes hold versions apk-tools 3 calls invalid
		 * ("0.99f7-r0"); apk keeps them, ordered as it defines. */
		if (!v.len)
			return dd_error(DD_E_FORMAT, "empty version");
		return set_str(&p->version, v);
	case F_ARCH:
		return set_str(&p->arch, v);
	case F_DESC:
		return set_str(&p->description, v);
	case F_URL:
		return set_str(&p->url, v);
	case F_LICENSE:
		return set_str(&p->license, v);
	case F_ORIGIN:
		return set_str(&p->origin, v);
	case F_MAINTAINER:
		return set_str(&p->maintainer, v);
	case F_COMMIT:
		return set_str(&p->commit, v);
	case F_PACKAGER:
		return set_str(&p->packager, v);
	case F_ISIZE:
		return set_u64(&p->installed_size, v, "size");
	case F_FSIZE:
		return set_u64(&p->file_size, v, "file size");
	case F_BUILDTIME: {
		uint64_t t = 0;
		int rc = set_u64(&t, v, "build date");

		if (!rc && t > INT64_MAX)
			rc = dd_error(DD_E_FORMAT, "build date is out of range");
		if (!rc)
			p->build_time = (int64_t)t;
		return rc;
	}
	case F_DEPEND:
		return dd_deps_parse(v, &p->depends, &p->n_depends);
	case F_PROVIDES:
		return dd_deps_parse(v, &p->provides, &p->n_provides);
	case F_INSTALL_IF:
		return dd_deps_parse(v, &p->install_if, &p->n_install_if);
	case F_REPLACES:
		return dd_deps_parse(v, &p->replaces, &p->n_replaces);
	case F_TRIGGERS:
		return add_triggers(p, v);
	case F_PROVIDER_PRIO:
		p->has_provider_priority = true;
		return set_int(&p->provider_priority, v, "provider_priority");
	case F_REPLACES_PRIO:
		return set_int(&p->replaces_priority, v, "replaces_priority");
	case F_DATAHASH:
		if (!is_hex(v, 64))
			return dd_error(DD_E_FORMAT, "datahash is not 64 hex digits");
		memcpy(p->datahash, v.ptr, 64);
		p->datahash[64] = 0;
		return 0;
	case F_CHECKSUM:
		if (!dd_apk_checksum_set(v.ptr, v.len, p->checksum))
			return dd_error(DD_E_FORMAT, "bad checksum '%.*s'", (int)v.len, v.ptr);
		return 0;
	case F_UNKNOWN:
		break;
	}
	return dd_error(DD_E_INTERNAL, "unhandled field");
}

static void add_extra(struct dd_apk_pkg *p, struct dd_blob k, struct dd_blob v)
{
	DD_GROW(p->extra, p->n_extra);
	p->extra[p->n_extra].key = dd_blob_dup(k);
	p->extra[p->n_extra].value = dd_blob_dup(v);
	p->n_extra++;
}

static bool key_ok(struct dd_blob k)
{
	if (!k.len)
		return false;
	for (size_t i = 0; i < k.len; i++) {
		char c = k.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int require(const struct dd_apk_pkg *p, const char *what)
{
	if (!p->name || !p->name[0])
		return dd_error(DD_E_FORMAT, "%s has no package name", what);
	if (!p->version)
		return dd_error(DD_E_FORMAT, "%s for '%s' has no version", what, p->name);
	return 0;
}

int dd_pkginfo_parse(struct dd_blob text, struct dd_apk_pkg *p)
{
	struct dd_blob line;
	unsigned lineno = 0;

	while (text.len) {
		struct dd_blob key, val;
		int rc;

		dd_blob_split(&text, '\n', &line);
		lineno++;
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (!dd_blob_trim(line).len || line.ptr[0] == '#')
			continue;
		val = line;
		if (!dd_blob_split(&val, '=', &key) || !key_ok(dd_blob_trim(key)))
			return dd_error(DD_E_FORMAT,
					".PKGINFO line %u is not 'key = value': '%.*s'", lineno,
					(int)(line.len > 60 ? 60 : line.len), line.ptr);
		key = dd_blob_trim(key);
		val = dd_blob_trim(val);
		enum field f = lookup_pkginfo(key);

		if (f == F_UNKNOWN) {
			add_extra(p, key, val);
			continue;
		}
		rc = set_field(p, f, val);
		if (rc < 0)
			return dd_error_prefix(rc, ".PKGINFO line %u (%.*s)", lineno, (int)key.len,
					       key.ptr);
	}
	return require(p, ".PKGINFO");
}

static int parse_index_line(struct dd_apk_pkg *p, struct dd_blob line)
{
	struct dd_blob val = line;
	enum field f;

	if (line.len < 2 || line.ptr[1] != ':')
		return dd_error(DD_E_FORMAT, "not an APKINDEX field: '%.*s'",
				(int)(line.len > 60 ? 60 : line.len), line.ptr);
	val.ptr += 2;
	val.len -= 2;
	f = lookup_index(line.ptr[0]);
	if (f == F_UNKNOWN) {
		add_extra(p, (struct dd_blob){ line.ptr, 1 }, val);
		return 0;
	}
	if (f == F_TRIGGERS)
		return add_triggers(p, val);
	return set_field(p, f, val);
}

int dd_apkindex_parse(struct dd_blob text, struct dd_apk_pkg **pkgs, size_t *n)
{
	struct dd_apk_pkg *arr = NULL, *cur = NULL;
	size_t cnt = 0;
	unsigned lineno = 0, start = 0;
	int rc = 0;

	while (text.len) {
		struct dd_blob line;

		dd_blob_split(&text, '\n', &line);
		lineno++;
		if (line.len && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (!line.len) {
			if (cur && (rc = require(cur, "APKINDEX entry")) < 0)
				goto fail_at_start;
			cur = NULL;
			continue;
		}
		if (!cur) {
			DD_GROW(arr, cnt);
			cur = &arr[cnt++];
			memset(cur, 0, sizeof(*cur));
			start = lineno;
		}
		rc = parse_index_line(cur, line);
		if (rc < 0) {
			dd_error_prefix(rc, "APKINDEX line %u", lineno);
			goto fail;
		}
	}
	if (cur && (rc = require(cur, "APKINDEX entry")) < 0)
		goto fail_at_start;
	*pkgs = arr;
	*n = cnt;
	return 0;
fail_at_start:
	dd_error_prefix(rc, "APKINDEX line %u", start);
fail:
	dd_apk_pkgs_free(arr, cnt);
	return rc;
}

/* ---- writing ------------------------------------------------------------- */

/* Both formats are written from one account of each field's value; each
 * lists its fields in the order apk-tools' producers write them. */
enum style { PKGINFO, INDEX };

static const enum field pkginfo_order[] = {
	F_NAME,       F_VERSION,       F_DESC,          F_URL,      F_BUILDTIME,
	F_PACKAGER,   F_ISIZE,         F_ARCH,          F_ORIGIN,   F_COMMIT,
	F_MAINTAINER, F_LICENSE,       F_DEPEND,        F_PROVIDES, F_REPLACES,
	F_INSTALL_IF, F_PROVIDER_PRIO, F_REPLACES_PRIO, F_TRIGGERS,
};

static const enum field index_order[] = {
	F_CHECKSUM,   F_NAME,       F_VERSION,  F_ARCH,          F_FSIZE,
	F_ISIZE,      F_DESC,       F_URL,      F_LICENSE,       F_ORIGIN,
	F_MAINTAINER, F_BUILDTIME,  F_COMMIT,   F_PROVIDER_PRIO, F_DEPEND,
	F_PROVIDES,   F_INSTALL_IF, F_REPLACES, F_REPLACES_PRIO,
};

static const char *text_of(const struct dd_apk_pkg *p, enum field f)
{
	switch (f) {
	case F_NAME:
		return p->name;
	case F_VERSION:
		return p->version;
	case F_ARCH:
		return p->arch;
	case F_DESC:
		return p->description;
	case F_URL:
		return p->url;
	case F_LICENSE:
		return p->license;
	case F_ORIGIN:
		return p->origin;
	case F_MAINTAINER:
		return p->maintainer;
	case F_COMMIT:
		return p->commit;
	case F_PACKAGER:
		return p->packager;
	case F_DATAHASH:
		return p->datahash[0] ? p->datahash : NULL;
	case F_CHECKSUM:
		return p->checksum[0] ? p->checksum : NULL;
	default:
		return NULL;
	}
}

static void key(struct dd_buf *o, enum field f, enum style s)
{
	if (s == INDEX)
		dd_buf_addf(o, "%c:", fields[f].index);
	else
		dd_buf_addf(o, "%s = ", fields[f].pkginfo);
}

/* An index gives a relation field on one line, as .PKGINFO does install_if;
 * .PKGINFO gives each other relation a line of its own. */
static void put_deps(struct dd_buf *o, enum field f, enum style s, const struct dd_dep *d, size_t n)
{
	if (s == INDEX || f == F_INSTALL_IF) {
		if (!n)
			return;
		key(o, f, s);
		dd_deps_format(d, n, o);
		dd_buf_adds(o, "\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		key(o, f, s);
		dd_dep_format(&d[i], o);
		dd_buf_adds(o, "\n");
	}
}

/* Field f of p, when p has it: the sizes always, numbers when not zero,
 * texts when set (and, in an index, not empty). */
static void put(struct dd_buf *o, const struct dd_apk_pkg *p, enum field f, enum style s)
{
	const char *v;

	switch (f) {
	case F_ISIZE:
	case F_FSIZE:
		key(o, f, s);
		dd_buf_addf(o, "%llu\n",
			    (unsigned long long)(f == F_ISIZE ? p->installed_size : p->file_size));
		return;
	case F_BUILDTIME:
		if (p->build_time) {
			key(o, f, s);
			dd_buf_addf(o, "%lld\n", (long long)p->build_time);
		}
		return;
	case F_PROVIDER_PRIO:
	case F_REPLACES_PRIO:
		if (f == F_PROVIDER_PRIO ? p->has_provider_priority : p->replaces_priority != 0) {
			key(o, f, s);
			dd_buf_addf(o, "%d\n",
				    f == F_PROVIDER_PRIO ? p->provider_priority
							 : p->replaces_priority);
		}
		return;
	case F_TRIGGERS:
		for (size_t i = 0; i < p->n_triggers; i++) {
			key(o, f, s);
			dd_buf_addf(o, "%s\n", p->triggers[i]);
		}
		return;
	case F_DEPEND:
		put_deps(o, f, s, p->depends, p->n_depends);
		return;
	case F_PROVIDES:
		put_deps(o, f, s, p->provides, p->n_provides);
		return;
	case F_INSTALL_IF:
		put_deps(o, f, s, p->install_if, p->n_install_if);
		return;
	case F_REPLACES:
		put_deps(o, f, s, p->replaces, p->n_replaces);
		return;
	default:
		v = text_of(p, f);
		if (v && (s == PKGINFO || v[0])) {
			key(o, f, s);
			dd_buf_addf(o, "%s\n", v);
		}
		return;
	}
}

void dd_pkginfo_write(const struct dd_apk_pkg *p, struct dd_buf *o)
{
	for (size_t i = 0; i < sizeof(pkginfo_order) / sizeof(*pkginfo_order); i++)
		put(o, p, pkginfo_order[i], PKGINFO);
	for (size_t i = 0; i < p->n_extra; i++)
		dd_buf_addf(o, "%s = %s\n", p->extra[i].key, p->extra[i].value);
	put(o, p, F_DATAHASH, PKGINFO);
}

void dd_apkindex_write_pkg(const struct dd_apk_pkg *p, struct dd_buf *o)
{
	for (size_t i = 0; i < sizeof(index_order) / sizeof(*index_order); i++)
		put(o, p, index_order[i], INDEX);
	/* unknown index fields are kept; unknown .PKGINFO keys have no letter */
	for (size_t i = 0; i < p->n_extra; i++)
		if (strlen(p->extra[i].key) == 1)
			dd_buf_addf(o, "%s:%s\n", p->extra[i].key, p->extra[i].value);
	dd_buf_adds(o, "\n");
}

int dd_apk_pkg_cmp(const struct dd_apk_pkg *a, const struct dd_apk_pkg *b)
{
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return dd_version_sign(
		dd_version_compare(dd_blob_str(a->version), dd_blob_str(b->version)));
}

bool dd_apk_pkg_satisfies(const struct dd_apk_pkg *p, const struct dd_dep *d)
{
	if (dd_dep_matches(d, p->name, p->version))
		return true;
	for (size_t i = 0; i < p->n_provides; i++)
		if (dd_dep_matches(d, p->provides[i].name, p->provides[i].version))
			return true;
	return false;
}

bool dd_apk_pkg_replaces(const struct dd_apk_pkg *p, const char *name)
{
	for (size_t i = 0; i < p->n_replaces; i++)
		if (!strcmp(p->replaces[i].name, name))
			return true;
	return false;
}

void dd_apk_pkg_release(struct dd_apk_pkg *p)
{
	char **strs[] = { &p->name,    &p->version, &p->arch,       &p->description, &p->url,
			  &p->license, &p->origin,  &p->maintainer, &p->commit,      &p->packager };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	dd_deps_free(p->depends, p->n_depends);
	dd_deps_free(p->provides, p->n_provides);
	dd_deps_free(p->install_if, p->n_install_if);
	dd_deps_free(p->replaces, p->n_replaces);
	for (size_t i = 0; i < p->n_triggers; i++)
		free(p->triggers[i]);
	free(p->triggers);
	for (size_t i = 0; i < p->n_extra; i++) {
		free(p->extra[i].key);
		free(p->extra[i].value);
	}
	free(p->extra);
	memset(p, 0, sizeof(*p));
}

void dd_apk_pkgs_free(struct dd_apk_pkg *pkgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dd_apk_pkg_release(&pkgs[i]);
	free(pkgs);
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool unhex(const char *s, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/*
 * apk-tools' base64 reading of n digest bytes: exactly the padded length,
 * the padding '=' where apk-tools wants it; the bits the padding leaves
 * over are ignored (as there), so they do not make another package.
 */
static bool unbase64(const char *s, size_t len, size_t n, unsigned char *out)
{
	unsigned char tmp[48];
	size_t want = (n + 2) / 3 * 4, pad = want / 4 * 3 - n;

	if (len != want || want > 64 || n > sizeof(tmp))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || c == '+' || c == '/';

		if (i >= len - pad ? c != '=' : !b64)
			return false;
	}
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len) < (int)n)
		return false;
	memcpy(out, tmp, n);
	return true;
}

bool dd_apk_checksum_set(const char *v, size_t len, char out[64])
{
	unsigned char d[32];
	size_t n = 0;

	if (len < 3 || len >= 64)
		return false;
	if (len == 32 && unhex(v, 16, d)) { /* apk-tools' old MD5 */
		for (size_t i = 0; i < 16; i++)
			snprintf(out + 2 * i, 3, "%02x", d[i]);
		return true;
	}
	if ((v[0] == 'Q' || v[0] == 'X') && (v[1] == '1' || v[1] == '2')) {
		n = v[1] == '1' ? 20 : 32;
		if (v[0] == 'X' ? len - 2 != 2 * n || !unhex(v + 2, n, d)
				: !unbase64(v + 2, len - 2, n, d))
			n = 0;
	}
	if (!n) { /* not a digest apk-tools reads: kept as it is */
		memcpy(out, v, len);
		out[len] = 0;
		return true;
	}
	out[0] = 'Q';
	out[1] = n == 20 ? '1' : '2';
	EVP_EncodeBlock((unsigned char *)out + 2, d, (int)n);
	return true;
}

void dd_apk_arch_platform(const char *apk_arch, const char **arch, const char **variant)
{
	static const char *map[][3] = {
		{ "x86_64", "amd64", NULL }, { "aarch64", "arm64", "v8" },
		{ "armv7", "arm", "v7" },    { "armhf", "arm", "v6" },
		{ "x86", "386", NULL },      { "ppc64le", "ppc64le", NULL },
		{ "s390x", "s390x", NULL },  { "riscv64", "riscv64", NULL },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(map[i][0], apk_arch)) {
			*arch = map[i][1];
			*variant = map[i][2];
			return;
		}
	}
	*arch = apk_arch;
	*variant = NULL;
}
