#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <zlib.h>

#include "apk/dep.h"
#include "apk/pkg.h"
#include "apk/read.h"
#include "apk/tar.h"
#include "apk/version.h"
#include "apk/write.h"
#include "core/buf.h"
#include "core/error.h"
#include "solve/solver.h"
#include "core/file.h"
#include "trust/rsa.h"

/* Three blocks in the shape apk-tools writes, every field used once. */
static const char index_text[] = "C:Q1ZX+on7zBgcokTctj4tLSmx7q5O4=\n"
				 "P:git-zsh-completion\n"
				 "V:5.8.1-r4\n"
				 "A:x86_64\n"
				 "S:97492\n"
				 "I:405504\n"
				 "T:Zsh completions for git\n"
				 "U:https://www.zsh.org/\n"
				 "L:custom\n"
				 "o:zsh\n"
				 "m:Natanael Copa <ncopa@alpinelinux.org>\n"
				 "t:1647977252\n"
				 "c:0c813d4276d2e36ead29ca22b6c01045d86db58b\n"
				 "k:10\n"
				 "D:zsh so:libc.musl-x86_64.so.1 !git-old\n"
				 "p:cmd:git-zsh=5.8.1-r4 git-completion\n"
				 "i:zsh=5.8.1-r4 git\n"
				 "r:git-completion<5\n"
				 "q:5\n"
				 "\n"
				 "C:Q1VUBxlP54+nXCR+xuJZq3y37aJ8A=\n"
				 "P:nagios-plugins-ide_smart\n"
				 "V:2.4.0-r0\n"
				 "A:aarch64\n"
				 "S:19973\n"
				 "I:65536\n"
				 "T:Nagios plugin check_ide_smart\n"
				 "\n"
				 "\n" /* two blank lines are still one separator */
				 "P:last-without-trailing-blank\n"
				 "V:0.1_git20220101-r2\n"
				 "k:-1\n"
				 "S:0\n"
				 "I:0\n";

/* First APKINDEX field in which a and b differ, or NULL. */
static const char *index_diff(const struct dd_apk_pkg *a, const struct dd_apk_pkg *b)
{
	if (strcmp(a->checksum, b->checksum))
		return "C";
	if (!t_str_is(a->name, b->name))
		return "P";
	if (!t_str_is(a->version, b->version))
		return "V";
	if (!t_str_is(a->arch, b->arch))
		return "A";
	if (a->file_size != b->file_size)
		return "S";
	if (a->installed_size != b->installed_size)
		return "I";
	if (!t_str_is(a->description, b->description))
		return "T";
	if (!t_str_is(a->url, b->url))
		return "U";
	if (!t_str_is(a->license, b->license))
		return "L";
	if (!t_str_is(a->origin, b->origin))
		return "o";
	if (!t_str_is(a->maintainer, b->maintainer))
		return "m";
	if (a->build_time != b->build_time)
		return "t";
	if (!t_str_is(a->commit, b->commit))
		return "c";
	if (a->has_provider_priority != b->has_provider_priority ||
	    a->provider_priority != b->provider_priority)
		return "k";
	if (!t_deps_same(a->depends, a->n_depends, b->depends, b->n_depends))
		return "D";
	if (!t_deps_same(a->provides, a->n_provides, b->provides, b->n_provides))
		return "p";
	if (!t_deps_same(a->install_if, a->n_install_if, b->install_if, b->n_install_if))
		return "i";
	if (!t_deps_same(a->replaces, a->n_replaces, b->replaces, b->n_replaces))
		return "r";
	if (a->replaces_priority != b->replaces_priority)
		return "q";
	return NULL;
}

static void t_index_fields(void)
{
	struct dd_apk_pkg *pkgs = NULL, *p;
	size_t n = 0;
	int rc = dd_apkindex_parse(DD_BLOB(index_text), &pkgs, &n);

	CHECK_MSG(rc == 0, "rc %d: %s", rc, dd_error_detail());
	CHECK(n == 3);
	if (rc || n != 3)
		return;
	p = &pkgs[0];
	CHECK(strcmp(p->checksum, "Q1ZX+on7zBgcokTctj4tLSmx7q5O4=") == 0);
	CHECK(t_str_is(p->name, "git-zsh-completion"));
	CHECK(t_str_is(p->version, "5.8.1-r4"));
	CHECK(t_str_is(p->arch, "x86_64"));
	CHECK(p->file_size == 97492);
	CHECK(p->installed_size == 405504);
	CHECK(t_str_is(p->description, "Zsh completions for git"));
	CHECK(t_str_is(p->url, "https://www.zsh.org/"));
	CHECK(t_str_is(p->license, "custom"));
	CHECK(t_str_is(p->origin, "zsh"));
	CHECK(t_str_is(p->maintainer, "Natanael Copa <ncopa@alpinelinux.org>"));
	CHECK(p->build_time == 1647977252);
	CHECK(t_str_is(p->commit, "0c813d4276d2e36ead29ca22b6c01045d86db58b"));
	CHECK(p->has_provider_priority && p->provider_priority == 10);
	CHECK(p->replaces_priority == 5);
	CHECK(p->n_depends == 3);
	if (p->n_depends == 3) {
		CHECK(t_dep_is(&p->depends[0], "zsh", NULL, DD_VER_ANY, false));
		CHECK(t_dep_is(&p->depends[1], "so:libc.musl-x86_64.so.1", NULL, DD_VER_ANY,
			       false));
		CHECK(t_dep_is(&p->depends[2], "git-old", NULL, DD_VER_ANY, true));
	}
	CHECK(p->n_provides == 2);
	if (p->n_provides == 2) {
		CHECK(t_dep_is(&p->provides[0], "cmd:git-zsh", "5.8.1-r4", DD_VER_EQUAL, false));
		CHECK(t_dep_is(&p->provides[1], "git-completion", NULL, DD_VER_ANY, false));
	}
	CHECK(p->n_install_if == 2);
	if (p->n_install_if == 2) {
		CHECK(t_dep_is(&p->install_if[0], "zsh", "5.8.1-r4", DD_VER_EQUAL, false));
		CHECK(t_dep_is(&p->install_if[1], "git", NULL, DD_VER_ANY, false));
	}
	CHECK(p->n_replaces == 1);
	if (p->n_replaces == 1)
		CHECK(t_dep_is(&p->replaces[0], "git-completion", "5", DD_VER_LESS, false));
	CHECK(p->n_extra == 0);

	p = &pkgs[1];
	CHECK(t_str_is(p->name, "nagios-plugins-ide_smart"));
	CHECK(t_str_is(p->arch, "aarch64"));
	CHECK(p->file_size == 19973 && p->installed_size == 65536);
	CHECK(p->url == NULL && p->build_time == 0 && p->n_depends == 0);
	CHECK(!p->has_provider_priority);

	p = &pkgs[2];
	CHECK(t_str_is(p->name, "last-without-trailing-blank"));
	CHECK(t_str_is(p->version, "0.1_git20220101-r2"));
	CHECK(p->checksum[0] == 0);
	CHECK(p->has_provider_priority && p->provider_priority == -1);
	dd_apk_pkgs_free(pkgs, n);
}

static void t_index_round_trip(void)
{
	struct dd_apk_pkg *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct dd_buf out = DD_BUF_INIT;
	int rc;

	CHECK(dd_apkindex_parse(DD_BLOB(index_text), &a, &na) == 0);
	for (size_t i = 0; i < na; i++)
		dd_apkindex_write_pkg(&a[i], &out);
	CHECK(out.len > 2 && strcmp(out.ptr + out.len - 2, "\n\n") == 0);
	rc = dd_apkindex_parse(dd_buf_blob(&out), &b, &nb);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	CHECK(nb == na);
	for (size_t i = 0; i < na && i < nb && rc == 0; i++) {
		const char *d = index_diff(&a[i], &b[i]);

		CHECK_MSG(d == NULL, "package %zu: field %s: changed on the round trip:\n%s", i, d,
			  out.ptr);
	}
	/* the block starts with C: and P: as apk-tools writes them */
	{
		static const char head[] = "C:Q1ZX+on7zBgcokTctj4tLSmx7q5O4=\n"
					   "P:git-zsh-completion\nV:5.8.1-r4\n";

		CHECK(strncmp(out.ptr, head, strlen(head)) == 0);
	}
	dd_apk_pkgs_free(a, na);
	dd_apk_pkgs_free(b, nb);
	dd_buf_release(&out);
}

/* Fields apk-tools does not know survive parse and write. */
static void t_index_unknown_field(void)
{
	static const char text[] = "P:a\nV:1\nS:1\nI:1\nZ:zzz\n\n";
	struct dd_apk_pkg *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct dd_buf out = DD_BUF_INIT;

	CHECK(dd_apkindex_parse(DD_BLOB(text), &a, &na) == 0 && na == 1);
	if (na != 1)
		return;
	CHECK(a[0].n_extra == 1);
	if (a[0].n_extra == 1)
		CHECK(t_str_is(a[0].extra[0].key, "Z") && t_str_is(a[0].extra[0].value, "zzz"));
	dd_apkindex_write_pkg(&a[0], &out);
	CHECK(dd_apkindex_parse(dd_buf_blob(&out), &b, &nb) == 0 && nb == 1);
	CHECK_MSG(nb == 1 && b[0].n_extra == 1, "unknown field 'Z:zzz' lost on write:\n%s",
		  out.ptr);
	dd_apk_pkgs_free(a, na);
	dd_apk_pkgs_free(b, nb);
	dd_buf_release(&out);
}

static int parse_fails(const char *text, const char *n1, const char *n2, int line)
{
	struct dd_apk_pkg *p = NULL;
	size_t n = 0;
	int rc;

	dd_error_clear();
	rc = dd_apkindex_parse(dd_blob_str(text), &p, &n);
	if (rc >= 0)
		t_fail(__FILE__, line, "accepted");
	if ((n1 && !strstr(dd_error_detail(), n1)) || (n2 && !strstr(dd_error_detail(), n2))) {
		char msg[400];

		snprintf(msg, sizeof(msg), "detail '%s' lacks '%s'/'%s'", dd_error_detail(),
			 n1 ? n1 : "", n2 ? n2 : "");
		t_fail(__FILE__, line, msg);
	}
	return rc;
}

static void t_index_errors(void)
{
	CHECK(parse_fails("P:a\nV:1\n\nP:b\nV:2\ngarbage line here\n", "line 6",
			  "garbage line here", __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nX\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\n: no key\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);
	/* a block without P: names where the block starts */
	CHECK(parse_fails("P:a\nV:1\n\nV:2\nA:x86_64\n\nP:c\nV:3\n", "line 4", "name", __LINE__) ==
	      DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\n\nV:2\nA:x86_64\n", "line 4", "name", __LINE__) ==
	      DD_E_FORMAT);
	CHECK(parse_fails("P:\nV:1\n", "line 1", NULL, __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nA:x86_64\n", "line 1", "version", __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nS:big\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nI:-1\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nk:high\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nD:foo>\n", "line 3", "foo>", __LINE__) == DD_E_FORMAT);
	CHECK(parse_fails("P:a\nV:1\nC:Q\n", "line 3", NULL, __LINE__) == DD_E_FORMAT);

	/* empty text is an empty index, not an error */
	{
		struct dd_apk_pkg *p = NULL;
		size_t n = 9;

		CHECK(dd_apkindex_parse(DD_BLOB(""), &p, &n) == 0 && n == 0);
		dd_apk_pkgs_free(p, n);
		CHECK(dd_apkindex_parse(DD_BLOB("\n\n"), &p, &n) == 0 && n == 0);
		dd_apk_pkgs_free(p, n);
	}
}

/* ---- real files ------------------------------------------------------ */

static const struct dd_apk_pkg *find_pkg(const struct dd_apk_pkg *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (t_str_is(p[i].name, name))
			return &p[i];
	return NULL;
}

static size_t count_p_lines(const struct dd_buf *text)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < text->len; i++)
		if ((i == 0 || text->ptr[i - 1] == '\n') && text->ptr[i] == 'P' &&
		    text->ptr[i + 1] == ':')
			n++;
	return n;
}

static void t_index_alpine_corpus(void)
{
	const char *path = t_corpus("apk/alpine-316/APKINDEX.tar.gz");
	char apk[4096];
	struct dd_apk_file f, g;
	struct dd_apk_pkg *pkgs = NULL;
	const struct dd_apk_pkg *p;
	size_t n = 0;
	int rc;

	if (!path) {
		t_skip("corpus absent: apk/alpine-316/APKINDEX.tar.gz");
		return;
	}
	rc = dd_apk_read(path, &f);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc) {
		dd_apk_file_release(&f);
		return;
	}
	CHECK(f.kind == DD_APK_INDEX);
	CHECK(f.n_sigs == 1);
	if (f.n_sigs == 1) {
		CHECK(strcmp(f.sigs[0].alg, "RSA") == 0);
		CHECK(strcmp(f.sigs[0].keyname,
			     "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub") == 0);
		CHECK(f.sigs[0].data.len == 512); /* RSA 4096 */
	}
	CHECK(strcmp(f.description.ptr, "v3.16.3-13-g4d933a1fa3") == 0);
	CHECK(f.n_problems == 0);
	rc = dd_apkindex_parse(dd_buf_blob(&f.index_text), &pkgs, &n);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	/* 4929 blocks, each with one P: line */
	CHECK_MSG(n == 4929, "%zu packages", n);
	CHECK(n == count_p_lines(&f.index_text));

	p = find_pkg(pkgs, n, "alpine-baselayout");
	CHECK(p != NULL);
	if (p) {
		CHECK(t_str_is(p->version, "3.2.0-r23"));
		CHECK(strcmp(p->checksum, "Q19UI7UxyiUywG6aew9c3lCBPshsE=") == 0);
		CHECK(p->file_size == 11136 && p->installed_size == 348160);
		CHECK(p->n_depends == 3 && p->n_provides == 1);
	}

	/* The package beside it is the aarch64 build (the index is x86_64's),
	 * so only its own consistency can be checked: SHA-1 signature,
	 * datahash, per-file SHA1 records. */
	snprintf(apk, sizeof(apk), "%s", path);
	*strrchr(apk, '/') = 0;
	strcat(apk, "/alpine-baselayout-3.2.0-r23.apk");
	if (access(apk, R_OK) == 0) {
		rc = dd_apk_read(apk, &g);
		CHECK_MSG(rc == 0, "%s", dd_error_detail());
		if (rc)
			dd_apk_file_release(&g);
		if (rc == 0) {
			CHECK(g.kind == DD_APK_PACKAGE);
			CHECK(t_str_is(g.pkg.name, "alpine-baselayout"));
			CHECK(t_str_is(g.pkg.arch, "aarch64"));
			CHECK(g.n_sigs == 1 && strcmp(g.sigs[0].alg, "RSA") == 0);
			CHECK(g.n_problems == 0);
			CHECK(strcmp(g.pkg.datahash, g.data_sha256) == 0);
			CHECK(g.file_size == 11012);
			{
				size_t reg = 0, with_sha1 = 0;

				for (size_t i = 0; i < g.n_files; i++)
					if (g.files[i].type == DD_TAR_FILE) {
						reg++;
						with_sha1 += strlen(g.files[i].sha1) == 40;
					}
				CHECK(reg > 0 && with_sha1 == reg);
			}
			dd_apk_file_release(&g);
		}
	}
	dd_apk_pkgs_free(pkgs, n);
	dd_apk_file_release(&f);
}

/* Every package of the apko test repository against its index. */
static void t_index_apko_checksums(void)
{
	const char *c = t_corpus("apk/apko-testrepo/x86_64/APKINDEX.tar.gz");
	char dir[4096], path[4200], key[4200];
	struct dd_apk_file idx, f;
	struct dd_apk_pkg *pkgs = NULL;
	struct dd_keyring kr = { 0 };
	const struct dd_apk_sig *good;
	const char *goodkey;
	size_t n = 0, seen = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	if (!c) {
		t_skip("corpus absent: apk/apko-testrepo/x86_64/APKINDEX.tar.gz");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", c);
	*strrchr(dir, '/') = 0;
	snprintf(key, sizeof(key), "%s/../melange.rsa.pub", dir);
	CHECK(dd_keyring_add_file(&kr, key) == 0);
	CHECK(kr.n == 1 && strcmp(kr.keys[0].name, "melange.rsa.pub") == 0);

	rc = dd_apk_read(c, &idx);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc)
		goto out;
	CHECK(dd_apk_verify(&idx, &kr, &good, &goodkey) == DD_SIG_VALID);
	CHECK(dd_apkindex_parse(dd_buf_blob(&idx.index_text), &pkgs, &n) == 0);
	CHECK(n == 4);

	d = opendir(dir);
	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		const struct dd_apk_pkg *p;
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".apk"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = dd_apk_read(path, &f);
		CHECK_MSG(rc == 0, "%s", dd_error_detail());
		if (rc) {
			dd_apk_file_release(&f);
			continue;
		}
		seen++;
		CHECK(f.kind == DD_APK_PACKAGE);
		p = find_pkg(pkgs, n, f.pkg.name);
		CHECK_MSG(p != NULL, "%s not in the index", f.pkg.name);
		if (p) {
			/* C: is sha1 over the control segment: computed, not copied */
			CHECK_MSG(strcmp(f.checksum, p->checksum) == 0, "%s: %s vs index %s",
				  de->d_name, f.checksum, p->checksum);
			CHECK(f.file_size == p->file_size);
			CHECK(f.pkg.installed_size == p->installed_size);
			CHECK(t_str_is(f.pkg.version, p->version));
		}
		CHECK(f.n_problems == 0);
		CHECK(strcmp(f.pkg.datahash, f.data_sha256) == 0);
		CHECK(dd_apk_verify(&f, &kr, &good, &goodkey) == DD_SIG_VALID);
		dd_apk_file_release(&f);
	}
	if (d)
		closedir(d);
	CHECK(seen == 4);
out:
	dd_apk_pkgs_free(pkgs, n);
	dd_apk_file_release(&idx);
	dd_keyring_release(&kr);
}

/* ---- build, read, verify --------------------------------------------- */

#define EPOCH 1700000000

static EVP_PKEY *test_key, *other_key;

static EVP_PKEY *new_key(void)
{
	return EVP_RSA_gen(2048);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir + "/" + rel, in a buffer the caller releases */
static char *join(const char *dir, const char *rel)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_addf(&b, "%s/%s", dir, rel);
	return dd_buf_detach(&b, NULL);
}

static int put(const char *dir, const char *rel, const char *data, mode_t mode)
{
	char *path = join(dir, rel);
	size_t len = strlen(data);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode), rc = -1;

	if (fd >= 0 && write(fd, data, len) == (ssize_t)len)
		rc = 0;
	if (fd >= 0 && close(fd))
		rc = -1;
	if (!rc)
		rc = chmod(path, mode);
	free(path);
	return rc;
}

static bool make_dir(const char *root, const char *rel, mode_t mode)
{
	char *path = join(root, rel);
	bool ok = mkdir(path, 0700) == 0 && chmod(path, mode) == 0;

	free(path);
	return ok;
}

static int write_pub(EVP_PKEY *key, const char *path)
{
	struct dd_buf pem = DD_BUF_INIT;
	FILE *fp;
	int rc = dd_rsa_public_pem(key, &pem);

	if (rc)
		return rc;
	fp = fopen(path, "w");
	if (!fp || fwrite(pem.ptr, 1, pem.len, fp) != pem.len)
		rc = -1;
	if (fp && fclose(fp))
		rc = -1;
	dd_buf_release(&pem);
	return rc;
}

/* The tree: etc/hello.conf, usr/bin/{hello,hello2 (hard link),hi -> hello},
 * var/lib/hello (setgid dir). */
static bool make_tree(const char *root)
{
	char *p, *q;
	bool ok = mkdir(root, 0755) == 0;

	ok &= make_dir(root, "etc", 0755);
	ok &= make_dir(root, "usr", 0755);
	ok &= make_dir(root, "usr/bin", 0755);
	ok &= make_dir(root, "var", 0755);
	ok &= make_dir(root, "var/lib", 0755);
	ok &= make_dir(root, "var/lib/hello", 02775);
	ok &= put(root, "etc/hello.conf", "greeting=hello\n", 0644) == 0;
	ok &= put(root, "usr/bin/hello", "#!/bin/sh\necho hello\n", 0755) == 0;
	p = join(root, "usr/bin/hello");
	q = join(root, "usr/bin/hello2");
	ok &= link(p, q) == 0;
	free(q);
	q = join(root, "usr/bin/hi");
	ok &= symlink("hello", q) == 0;
	free(p);
	free(q);
	return ok;
}

static void fill_pkg(struct dd_apk_pkg *pkg)
{
	memset(pkg, 0, sizeof(*pkg));
	pkg->name = dd_xstrdup("hello");
	pkg->version = dd_xstrdup("1.0-r0");
	pkg->arch = dd_xstrdup("x86_64");
	pkg->description = dd_xstrdup("says hello");
	pkg->license = dd_xstrdup("MIT");
	pkg->origin = dd_xstrdup("hello");
	dd_deps_parse(DD_BLOB("musl so:libc.musl-x86_64.so.1"), &pkg->depends, &pkg->n_depends);
	dd_deps_parse(DD_BLOB("cmd:hello=1.0-r0"), &pkg->provides, &pkg->n_provides);
}

/* Decompress one gzip member from in; *used gets its compressed length. */
static bool gunzip_member(const unsigned char *in, size_t len, struct dd_buf *out, size_t *used)
{
	unsigned char buf[65536];
	z_stream zs;
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return false;
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		zrc = inflate(&zs, Z_NO_FLUSH);
		dd_buf_add(out, buf, sizeof(buf) - zs.avail_out);
	} while (zrc == Z_OK);
	*used = zs.total_in;
	inflateEnd(&zs);
	return zrc == Z_STREAM_END;
}

static bool gzip_member(const struct dd_buf *in, struct dd_buf *out)
{
	unsigned char buf[65536];
	z_stream zs;
	int zrc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	zs.next_in = (unsigned char *)in->ptr;
	zs.avail_in = (uInt)in->len;
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		zrc = deflate(&zs, Z_FINISH);
		dd_buf_add(out, buf, sizeof(buf) - zs.avail_out);
	} while (zrc == Z_OK);
	deflateEnd(&zs);
	return zrc == Z_STREAM_END;
}

/*
 * Copy file to out with gzip member `member` (0-based) replaced: its tar
 * is decompressed, the byte at `at` bytes after the first occurrence of
 * `find` is XORed with 1, and it is recompressed.  Every other byte of
 * the file stays as it was, so the result is well formed and only the
 * content changes.
 */
static bool tamper_member(const char *file, const char *out, int member, const char *find,
			  size_t at)
{
	struct dd_buf in = DD_BUF_INIT, res = DD_BUF_INIT;
	size_t off = 0;
	bool ok = false;
	FILE *fp;

	if (dd_read_file(file, 1 << 24, &in))
		goto done;
	for (int m = 0; off < in.len; m++) {
		struct dd_buf tar = DD_BUF_INIT;
		size_t used = 0;
		char *hit;

		if (!gunzip_member((unsigned char *)in.ptr + off, in.len - off, &tar, &used)) {
			dd_buf_release(&tar);
			goto done;
		}
		if (m != member) {
			dd_buf_add(&res, in.ptr + off, used);
		} else {
			hit = memmem(tar.ptr, tar.len, find, strlen(find));
			if (!hit || (size_t)(hit - tar.ptr) + at >= tar.len) {
				dd_buf_release(&tar);
				goto done;
			}
			hit[at] ^= 0x01;
			if (!gzip_member(&tar, &res)) {
				dd_buf_release(&tar);
				goto done;
			}
		}
		dd_buf_release(&tar);
		off += used;
	}
	fp = fopen(out, "w");
	ok = fp && fwrite(res.ptr, 1, res.len, fp) == res.len;
	if (fp)
		ok &= fclose(fp) == 0;
done:
	dd_buf_release(&in);
	dd_buf_release(&res);
	return ok;
}

static bool same_bytes(const char *a, const char *b)
{
	struct dd_buf x = DD_BUF_INIT, y = DD_BUF_INIT;
	bool same = dd_read_file(a, 1 << 24, &x) == 0 && dd_read_file(b, 1 << 24, &y) == 0 &&
		    x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;

	dd_buf_release(&x);
	dd_buf_release(&y);
	return same;
}

static const struct dd_apk_entry *find_file(const struct dd_apk_file *f, const char *path)
{
	for (size_t i = 0; i < f->n_files; i++)
		if (!strcmp(f->files[i].path, path))
			return &f->files[i];
	return NULL;
}

static void check_built(const struct dd_apk_file *f)
{
	static const char *order[] = { "etc",           "etc/hello.conf", "usr",        "usr/bin",
				       "usr/bin/hello", "usr/bin/hello2", "usr/bin/hi", "var",
				       "var/lib",       "var/lib/hello" };
	const struct dd_apk_entry *e;

	CHECK(f->kind == DD_APK_PACKAGE);
	CHECK(t_str_is(f->pkg.name, "hello") && t_str_is(f->pkg.version, "1.0-r0"));
	CHECK(t_str_is(f->pkg.arch, "x86_64") && t_str_is(f->pkg.license, "MIT"));
	CHECK(t_str_is(f->pkg.description, "says hello"));
	CHECK(f->pkg.n_depends == 2 && f->pkg.n_provides == 1);
	CHECK(f->pkg.build_time == EPOCH);
	/* hello.conf (15) + hello (21); the hard link is not counted twice */
	CHECK_MSG(f->pkg.installed_size == 36, "size %llu",
		  (unsigned long long)f->pkg.installed_size);
	CHECK(f->pkg.datahash[0] && strcmp(f->pkg.datahash, f->data_sha256) == 0);
	CHECK(f->n_problems == 0);
	CHECK(f->checksum[0] == 'Q' && f->checksum[1] == '1' && strlen(f->checksum) == 30);

	CHECK(f->n_files == 10);
	for (size_t i = 0; i < f->n_files && i < 10; i++)
		CHECK_MSG(strcmp(f->files[i].path, order[i]) == 0, "entry %zu is '%s'", i,
			  f->files[i].path);
	e = find_file(f, "usr/bin/hello");
	CHECK(e && e->type == DD_TAR_FILE && e->mode == 0755 && e->size == 21);
	CHECK(e && e->uid == 0 && e->gid == 0 && t_str_is(e->uname, "root"));
	CHECK(e && e->mtime == EPOCH && strlen(e->sha1) == 40);
	e = find_file(f, "usr/bin/hello2");
	CHECK(e && e->type == DD_TAR_HARDLINK && t_str_is(e->link, "usr/bin/hello"));
	e = find_file(f, "usr/bin/hi");
	CHECK(e && e->type == DD_TAR_SYMLINK && t_str_is(e->link, "hello"));
	e = find_file(f, "var/lib/hello");
	CHECK(e && e->type == DD_TAR_DIR);
	CHECK_MSG(e && e->mode == 02775, "mode %o", e ? e->mode : 0);
	e = find_file(f, "etc/hello.conf");
	CHECK(e && e->mode == 0644 && e->size == 15);
}

/*
 * One signed package built once for the tests below: <dir>/hello.apk
 * from the tree in <dir>/root, signed with test_key as
 * "test-key.rsa.pub", whose public half is <dir>/test-key.rsa.pub.
 */
static struct {
	char *dir;
	char *apk, *pub;
	struct dd_apk_signer signer;
	struct dd_apk_file f; /* hello.apk, read back */
	bool tried, ready;
} fx;

/* Path of name inside the fixture directory; static storage, 8 slots. */
static const char *fx_path(const char *name)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", fx.dir, name);
	return b;
}

static bool fixture(void)
{
	static char tmpl[64];
	struct dd_apk_pkg pkg;
	int rc;

	if (fx.tried)
		return fx.ready;
	fx.tried = true;
	snprintf(tmpl, sizeof(tmpl), "%s", "/tmp/drydock-t-index.XXXXXX");
	fx.dir = mkdtemp(tmpl);
	if (!fx.dir)
		return false;
	test_key = new_key();
	other_key = new_key();
	if (!test_key || !other_key || !make_tree(fx_path("root")))
		return false;
	fx.apk = dd_xstrdup(fx_path("hello.apk"));
	fx.pub = dd_xstrdup(fx_path("test-key.rsa.pub"));
	if (write_pub(test_key, fx.pub))
		return false;
	fx.signer = (struct dd_apk_signer){ test_key, "test-key.rsa.pub", EVP_sha256() };
	fill_pkg(&pkg);
	rc = dd_apk_build(fx_path("root"), &pkg, NULL, 0, &fx.signer, EPOCH, fx.apk);
	/* build fills in size, datahash and builddate */
	CHECK(pkg.installed_size == 36 && pkg.build_time == EPOCH && pkg.datahash[0]);
	dd_apk_pkg_release(&pkg);
	CHECK_MSG(rc == 0, "build: %s", dd_error_detail());
	if (rc)
		return false;
	rc = dd_apk_read(fx.apk, &fx.f);
	CHECK_MSG(rc == 0, "read: %s", dd_error_detail());
	fx.ready = rc == 0;
	return fx.ready;
}

static void fixture_release(void)
{
	if (fx.dir) {
		rm_rf(fx.dir);
		if (access(fx.dir, F_OK) == 0)
			fprintf(stderr, "  could not remove %s\n", fx.dir);
	}
	dd_apk_file_release(&fx.f);
	free(fx.apk);
	free(fx.pub);
	EVP_PKEY_free(test_key);
	EVP_PKEY_free(other_key);
	test_key = other_key = NULL;
	memset(&fx, 0, sizeof(fx));
}

#define NEED_FIXTURE() \
	do { \
		if (!fixture()) { \
			CHECK_MSG(0, "package fixture: %s", dd_error_detail()); \
			return; \
		} \
	} while (0)

static void t_apk_build_read(void)
{
	const struct dd_apk_file *f = &fx.f;

	NEED_FIXTURE();
	check_built(f);
	CHECK(f->n_sigs == 1);
	if (f->n_sigs == 1) {
		CHECK(strcmp(f->sigs[0].keyname, "test-key.rsa.pub") == 0);
		CHECK(strcmp(f->sigs[0].alg, "RSA256") == 0);
		CHECK(f->sigs[0].data.len == 256);
	}
	CHECK(dd_apk_check(f, fx.apk) == 0);
}

static void t_apk_build_deterministic(void)
{
	struct dd_apk_pkg pkg;
	struct dd_apk_file g;
	int rc;

	NEED_FIXTURE();
	/* same tree, key and epoch: the same bytes */
	fill_pkg(&pkg);
	rc = dd_apk_build(fx_path("root"), &pkg, NULL, 0, &fx.signer, EPOCH, fx_path("again.apk"));
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	CHECK(same_bytes(fx.apk, fx_path("again.apk")));
	dd_apk_pkg_release(&pkg);

	/* unsigned: no signature segment, the same data segment */
	fill_pkg(&pkg);
	CHECK(dd_apk_build(fx_path("root"), &pkg, NULL, 0, NULL, EPOCH, fx_path("unsigned.apk")) ==
	      0);
	dd_apk_pkg_release(&pkg);
	rc = dd_apk_read(fx_path("unsigned.apk"), &g);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc == 0) {
		struct dd_keyring kr = { 0 };
		const struct dd_apk_sig *good;
		const char *goodkey;

		CHECK(g.n_sigs == 0);
		CHECK(dd_apk_verify(&g, &kr, &good, &goodkey) == DD_SIG_UNSIGNED);
		CHECK(strcmp(g.data_sha256, fx.f.data_sha256) == 0);
		CHECK(g.n_problems == 0);
	}
	dd_apk_file_release(&g);
}

static void t_apk_verify_keys(void)
{
	struct dd_keyring kr = { 0 }, empty = { 0 }, wrong = { 0 }, renamed = { 0 };
	const struct dd_apk_sig *good = NULL;
	const char *goodkey = NULL;
	const struct dd_apk_file *f = &fx.f;

	NEED_FIXTURE();
	/* trusted key, under the name the signature gives */
	CHECK(dd_keyring_add_file(&kr, fx.pub) == 0);
	CHECK(kr.n == 1 && strcmp(kr.keys[0].name, "test-key.rsa.pub") == 0);
	CHECK(dd_apk_verify(f, &kr, &good, &goodkey) == DD_SIG_VALID);
	CHECK(good == &f->sigs[0] && t_str_is(goodkey, "test-key.rsa.pub"));
	/* no keys at all */
	CHECK(dd_apk_verify(f, &empty, &good, &goodkey) == DD_SIG_UNKNOWN_KEY);
	/* a different key that claims the name */
	CHECK(mkdir(fx_path("other"), 0755) == 0);
	CHECK(write_pub(other_key, fx_path("other/test-key.rsa.pub")) == 0);
	CHECK(dd_keyring_add_file(&wrong, fx_path("other/test-key.rsa.pub")) == 0);
	CHECK(dd_apk_verify(f, &wrong, &good, &goodkey) == DD_SIG_BAD);
	/* the right key under another file name still verifies */
	CHECK(write_pub(test_key, fx_path("renamed.rsa.pub")) == 0);
	CHECK(dd_keyring_add_file(&renamed, fx_path("renamed.rsa.pub")) == 0);
	CHECK(dd_apk_verify(f, &renamed, &good, &goodkey) == DD_SIG_VALID);
	CHECK(t_str_is(goodkey, "renamed.rsa.pub"));
	dd_keyring_release(&kr);
	dd_keyring_release(&wrong);
	dd_keyring_release(&renamed);
}

static void t_apk_tampered_signature(void)
{
	struct dd_keyring kr = { 0 };
	const struct dd_apk_sig *good;
	const char *goodkey;
	const char *bad = fx_path("bad-sig.apk");
	struct dd_buf raw = DD_BUF_INIT;
	struct dd_apk_file g;
	FILE *fp;
	int rc;

	NEED_FIXTURE();
	CHECK(dd_keyring_add_file(&kr, fx.pub) == 0);
	/* one signature bit changed, the file otherwise well formed: it
	 * reads, and the signature is bad (the segment's data is at 512) */
	CHECK(tamper_member(fx.apk, bad, 0, ".SIGN.RSA256.", 512 + 100));
	rc = dd_apk_read(bad, &g);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc == 0) {
		CHECK(strcmp(g.checksum, fx.f.checksum) == 0);
		CHECK(dd_apk_verify(&g, &kr, &good, &goodkey) == DD_SIG_BAD);
	}
	dd_apk_file_release(&g);

	/* one raw byte of the file flipped inside the signature segment:
	 * the gzip/tar layer notices, or the signature does not verify */
	CHECK(dd_read_file(fx.apk, 1 << 24, &raw) == 0);
	if (raw.len > 200) {
		raw.ptr[200] ^= 0x40;
		fp = fopen(bad, "w");
		CHECK(fp && fwrite(raw.ptr, 1, raw.len, fp) == raw.len);
		if (fp)
			fclose(fp);
		rc = dd_apk_read(bad, &g);
		if (rc == 0)
			CHECK(dd_apk_verify(&g, &kr, &good, &goodkey) != DD_SIG_VALID);
		else
			CHECK_MSG(strstr(dd_error_detail(), bad) != NULL, "%s", dd_error_detail());
		dd_apk_file_release(&g);
	}
	dd_buf_release(&raw);
	dd_keyring_release(&kr);
}

static void t_apk_tampered_data(void)
{
	struct dd_keyring kr = { 0 };
	const struct dd_apk_sig *good;
	const char *goodkey;
	const char *bad = fx_path("bad-data.apk");
	struct dd_apk_file g;
	int rc;

	NEED_FIXTURE();
	CHECK(dd_keyring_add_file(&kr, fx.pub) == 0);
	/* a byte of the padding after a file: every file's SHA1 still
	 * matches, the datahash that the signature covers does not */
	CHECK(tamper_member(fx.apk, bad, 2, "#!/bin/sh\necho hello\n", 21 + 3));
	rc = dd_apk_read(bad, &g);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc == 0) {
		CHECK(dd_apk_verify(&g, &kr, &good, &goodkey) == DD_SIG_VALID);
		CHECK(strcmp(g.pkg.datahash, fx.f.pkg.datahash) == 0);
		CHECK(strcmp(g.data_sha256, g.pkg.datahash) != 0);
		CHECK_MSG(g.n_problems == 1, "%zu problems", g.n_problems);
		CHECK(g.n_problems && strstr(g.problems[0], "datahash"));
		CHECK(dd_apk_check(&g, bad) == DD_E_DIGEST);
		CHECK(strstr(dd_error_detail(), bad) && strstr(dd_error_detail(), "datahash"));
	}
	dd_apk_file_release(&g);

	/* a byte of a file's content: its SHA1 record and the datahash */
	CHECK(tamper_member(fx.apk, bad, 2, "echo hello", 5));
	rc = dd_apk_read(bad, &g);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc == 0) {
		bool named = false;

		CHECK_MSG(g.n_problems == 2, "%zu problems", g.n_problems);
		for (size_t i = 0; i < g.n_problems; i++)
			named |= strstr(g.problems[i], "usr/bin/hello") != NULL;
		CHECK(named);
		CHECK(dd_apk_check(&g, bad) == DD_E_DIGEST);
	}
	dd_apk_file_release(&g);
	dd_keyring_release(&kr);
}

/* An index of the package: its C: is the package's control checksum. */
static void t_apk_index_write(void)
{
	struct dd_keyring kr = { 0 };
	const struct dd_apk_sig *good;
	const char *goodkey;
	const char *idx = fx_path("APKINDEX.tar.gz");
	struct dd_apk_pkg *pkgs = NULL;
	struct dd_apk_file g;
	size_t n = 0;
	int rc;

	NEED_FIXTURE();
	CHECK(dd_keyring_add_file(&kr, fx.pub) == 0);
	rc = dd_apk_index_write(&fx.f, 1, "test repo", &fx.signer, EPOCH, false, idx);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	rc = dd_apk_read(idx, &g);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (rc == 0) {
		CHECK(g.kind == DD_APK_INDEX);
		CHECK(strcmp(g.description.ptr, "test repo") == 0);
		CHECK(dd_apk_verify(&g, &kr, &good, &goodkey) == DD_SIG_VALID);
		CHECK(dd_apkindex_parse(dd_buf_blob(&g.index_text), &pkgs, &n) == 0 && n == 1);
		if (n == 1) {
			CHECK(strcmp(pkgs[0].checksum, fx.f.checksum) == 0);
			CHECK(pkgs[0].file_size == fx.f.file_size);
			CHECK(pkgs[0].installed_size == 36);
			CHECK(t_str_is(pkgs[0].name, "hello"));
			CHECK(pkgs[0].n_depends == 2);
		}
		dd_apk_pkgs_free(pkgs, n);
	}
	dd_apk_file_release(&g);
	dd_keyring_release(&kr);
}

/* A package is its checksum decoded, as apk-tools reads C:. */
static void t_index_checksum_identity(void)
{
	static const char canon[] = "Q1ITuEelU8mXt/GU2mvAuy4BSM9f0=";
	static const char *const same[] = {
		"Q1ITuEelU8mXt/GU2mvAuy4BSM9f3=", /* the bits the padding leaves over */
		"X1213b847a553c997b7f194da6bc0bb2e0148cf5fd",
		"X1213B847A553C997B7F194DA6BC0BB2E0148CF5FD",
	};
	static const char text[] = "P:a\nV:1\nC:Q1ITuEelU8mXt/GU2mvAuy4BSM9f0=\n\n"
				   "P:a\nV:1\nC:Q1ITuEelU8mXt/GU2mvAuy4BSM9f3=\nD:missing\n\n"
				   "P:b\nV:1\nC:X1213b847a553c997b7f194da6bc0bb2e0148cf5fd\n\n"
				   "P:c\nV:1\nC:Q1ITuEelU8mXt/GU2mvAuy4BSM9f0\n\n";
	struct dd_solve_index ix = { 0 };
	struct dd_apk_pkg *p = NULL;
	struct dd_solution sol;
	struct dd_repo repo;
	struct dd_dep world;
	char out[64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		CHECK_MSG(dd_apk_checksum_set(same[i], strlen(same[i]), out) && !strcmp(out, canon),
			  "%s kept as %s", same[i], out);
	/* apk-tools wants the padding: without it the text is not its digest */
	CHECK(dd_apk_checksum_set(canon, strlen(canon) - 1, out) && strcmp(out, canon));
	CHECK(dd_apk_checksum_set("0123456789ABCDEF0123456789abcdef", 32, out) &&
	      !strcmp(out, "0123456789abcdef0123456789abcdef"));
	/* both readings of an index keep the decoded form */
	CHECK(dd_apkindex_parse(DD_BLOB(text), &p, &n) == 0 && n == 4);
	for (size_t i = 0; i < n && i < 3; i++)
		CHECK_MSG(!strcmp(p[i].checksum, canon), "entry %zu: %s", i, p[i].checksum);
	dd_apk_pkgs_free(p, n);
	CHECK(dd_solve_index_add_text(&ix, DD_BLOB(text)) == 0 && ix.n == 4);
	dd_solve_index_repo(&ix, NULL, &repo);
	/* one package: the first entry (a-1 without the missing dependency) */
	CHECK(repo.n == 2 && ix.n_warnings == 2);
	CHECK(ix.n_warnings >= 1 && strstr(ix.warnings[0], "a-1: its checksum") &&
	      strstr(ix.warnings[0], "is that of a-1 listed before it"));
	CHECK(ix.n_warnings == 2 && strstr(ix.warnings[1], "b-1: its checksum"));
	CHECK(dd_solve_world_dep("a", &world) == 0);
	CHECK_MSG(dd_solve(&repo, &world, 1, &sol, NULL) == 0 && sol.n == 1, "%s",
		  dd_error_detail());
	dd_solution_release(&sol);
	dd_dep_release(&world);
	dd_solve_index_release(&ix);
}

void suite_index(void)
{
	RUN(t_index_fields);
	RUN(t_index_round_trip);
	RUN(t_index_unknown_field);
	RUN(t_index_errors);
	RUN(t_index_checksum_identity);
	RUN(t_index_alpine_corpus);
	RUN(t_index_apko_checksums);
	RUN(t_apk_build_read);
	RUN(t_apk_build_deterministic);
	RUN(t_apk_verify_keys);
	RUN(t_apk_tampered_signature);
	RUN(t_apk_tampered_data);
	RUN(t_apk_index_write);
	fixture_release();
}
