#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "trust/pgp.h"

/*
 * Fixtures, made once by setup(): one signer home holding every
 * secret key, and public exports of each key beside it.
 *   A  ed25519 "Test <t@example.invalid>"   the everyday signer
 *   B  ed25519 "Other <b@example.invalid>"  for multi-signature cases
 *   C  ed25519 primary + ed25519 signing subkey
 *   X  made with a faked clock in 2020, expired a day later
 *   R  revoked after signing
 * Mirror homes are made per test and hold public keys only.
 */
static char base[64];
static char signer[128];
static char fpr_a[41], fpr_b[41], fpr_c[41], sub_c[41], fpr_x[41], fpr_r[41];
static bool ready;

static const char data[] = "drydock signed data\n\0with a NUL byte and \xff\n";
#define DATA_LEN (sizeof(data) - 1)

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	size_t n;
	va_list ap;
	int st;

	n = (size_t)snprintf(cmd, sizeof(cmd), "( ");
	va_start(ap, fmt);
	n += (size_t)vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	if (n + 20 > sizeof(cmd))
		return -1;
	snprintf(cmd + n, sizeof(cmd) - n, " ) >/dev/null 2>&1");
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *path(const char *name)
{
	static char bufs[8][330];
	static int i;
	char *p = bufs[i++ % 8];

	snprintf(p, sizeof(bufs[0]), "%s/%s", base, name);
	return p;
}

static bool write_file(const char *p, const void *ptr, size_t len)
{
	FILE *f = fopen(p, "wb");
	bool ok;

	if (!f)
		return false;
	ok = fwrite(ptr, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

static bool write_str(const char *p, const char *s)
{
	return write_file(p, s, strlen(s));
}

static bool read_into(const char *p, struct dd_buf *b)
{
	return dd_read_file(p, 1 << 20, b) == 0;
}

/* The n-th "fpr:" record gpg lists for who in home (0: the primary key). */
static bool list_fpr(const char *home, const char *who, int n, char out[41])
{
	char cmd[512], line[1024];
	FILE *f;
	bool ok = false;

	snprintf(cmd, sizeof(cmd),
		 "gpg --homedir %s --batch --with-colons --list-keys '%s' 2>/dev/null", home, who);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "fpr:::::::::", 12) && n-- == 0 && strlen(line) >= 52) {
			memcpy(out, line + 12, 40);
			out[40] = 0;
			ok = true;
		}
	return pclose(f) == 0 && ok;
}

static bool gen_key(const char *uid, const char *email, const char *extra, const char *expire,
		    char fpr[41])
{
	return run("gpg --homedir %s --batch --passphrase '' %s --quick-gen-key '%s <%s>' "
		   "ed25519 sign %s",
		   signer, extra, uid, email, expire) == 0 &&
	       list_fpr(signer, email, 0, fpr);
}

/* Detached signature by key over the file "data" into name (gpg's own signing). */
static bool cli_sign(const char *key, const char *extra, const char *name)
{
	return run("gpg --homedir %s --batch --yes %s -u '%s' --detach-sign -o %s %s", signer,
		   extra, key, path(name), path("data")) == 0;
}

static bool export_key(const char *fpr, const char *name)
{
	return run("gpg --homedir %s --batch --export %s > %s", signer, fpr, path(name)) == 0 &&
	       run("gpg --homedir %s --batch --export --armor %s > %s.asc", signer, fpr,
		   path(name)) == 0;
}

static bool make_keys(void)
{
	char rev[256];

	/* The clock is faked for X only: made and used in 2020, expired since. */
	if (!gen_key("Test", "t@example.invalid", "", "never", fpr_a) ||
	    !gen_key("Other", "b@example.invalid", "", "never", fpr_b) ||
	    !gen_key("Sub", "c@example.invalid", "", "never", fpr_c) ||
	    !gen_key("Old", "x@example.invalid", "--faked-system-time 20200101T000000", "1d",
		     fpr_x) ||
	    !gen_key("Revoked", "r@example.invalid", "", "never", fpr_r))
		return false;
	if (run("gpg --homedir %s --batch --passphrase '' --quick-add-key %s ed25519 sign "
		"never",
		signer, fpr_c) ||
	    !list_fpr(signer, fpr_c, 1, sub_c))
		return false;
	if (!cli_sign(fpr_x, "--faked-system-time 20200101T120000", "x.sig") ||
	    !cli_sign(fpr_r, "", "r.sig"))
		return false;
	/* GnuPG keeps a revocation certificate per key, guarded by a leading ':'. */
	snprintf(rev, sizeof(rev), "%s/openpgp-revocs.d/%s.rev", signer, fpr_r);
	if (run("sed 's/^:-----/-----/' %s > %s && gpg --homedir %s --batch --import %s", rev,
		path("r.rev"), signer, path("r.rev")))
		return false;
	return export_key(fpr_a, "a.gpg") && export_key(fpr_b, "b.gpg") &&
	       export_key(fpr_c, "c.gpg") && export_key(fpr_x, "x.gpg") &&
	       export_key(fpr_r, "r.gpg") &&
	       run("gpg --homedir %s --batch --export %s %s > %s", signer, fpr_a, fpr_b,
		   path("ab.gpg")) == 0 &&
	       run("gpg --homedir %s --batch --export --armor %s %s > %s", signer, fpr_a, fpr_b,
		   path("ab.asc")) == 0 &&
	       run("gpg --homedir %s --batch --export-secret-keys %s > %s", signer, fpr_a,
		   path("a.sec")) == 0 &&
	       run("gpg --homedir %s --batch --export-secret-keys --armor %s > %s", signer, fpr_a,
		   path("a.sec.asc")) == 0;
}

static bool setup(void)
{
	char tmpl[] = "/tmp/ddpgp.XXXXXX";

	if (!mkdtemp(tmpl))
		return false;
	snprintf(base, sizeof(base), "%s", tmpl);
	snprintf(signer, sizeof(signer), "%s/signer", base);
	if (mkdir(signer, 0700) < 0 || !write_file(path("data"), data, DATA_LEN))
		return false;
	return make_keys();
}

/* Stop every agent under base (only signer homes should have one), then remove it. */
static void cleanup(void)
{
	DIR *d;
	struct dirent *e;

	if (!base[0])
		return;
	d = opendir(base);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN))
			run("gpgconf --homedir %s --kill all", path(e->d_name));
	if (d)
		closedir(d);
	run("rm -rf %s", base);
	base[0] = 0;
}

/* Is a gpg-agent running with --homedir home?  Scans /proc/PID/cmdline. */
static bool agent_running(const char *home)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char p[300], argv[4096];
		const char *a, *end, *prog;
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, argv, sizeof(argv) - 1);
		close(fd);
		if (n <= 0)
			continue;
		argv[n] = 0;
		end = argv + n;
		prog = strrchr(argv, '/');
		if (strcmp(prog ? prog + 1 : argv, "gpg-agent"))
			continue;
		for (a = argv; a < end; a += strlen(a) + 1)
			if (!strcmp(a, "--homedir") && a + strlen(a) + 1 < end &&
			    !strcmp(a + strlen(a) + 1, home))
				found = true;
	}
	if (d)
		closedir(d);
	return found;
}

static bool agent_gone(const char *home)
{
	for (int i = 0; i < 100 && agent_running(home); i++)
		usleep(20000);
	return !agent_running(home);
}

/* A fresh mirror home under base, with the given public key files imported. */
static struct dd_pgp *mirror(const char *name, const char *key1, const char *key2)
{
	struct dd_pgp *p = NULL;
	char fpr[41];

	CHECK(dd_pgp_open(path(name), &p) == 0);
	if (p && key1)
		CHECK_MSG(dd_pgp_import(p, path(key1), fpr, NULL) == 0, "%s", dd_error_detail());
	if (p && key2)
		CHECK_MSG(dd_pgp_import(p, path(key2), fpr, NULL) == 0, "%s", dd_error_detail());
	return p;
}

static bool contains(const char *s, const char *part)
{
	return strstr(s, part) != NULL;
}

#define NEED_FIXTURES() \
	do { \
		if (!ready) { \
			t_skip("the gpg fixtures could not be made"); \
			return; \
		} \
	} while (0)

static void t_pgp_fixtures(void)
{
	CHECK_MSG(ready, "gpg key generation under %s failed", base);
	CHECK(strcmp(fpr_a, fpr_b) && strcmp(fpr_c, sub_c));
}

static void t_pgp_version(void)
{
	const char *v = dd_pgp_version();

	CHECK_MSG(!strncmp(v, "gpgme 1.", 8) && contains(v, ", gnupg 2."), "%s", v);
	CHECK(dd_pgp_version() == v);
}

static void t_pgp_open(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf conf = DD_BUF_INIT;
	struct stat st;

	NEED_FIXTURES();
	CHECK(dd_pgp_open(path("open"), &p) == 0);
	dd_pgp_close(p);
	CHECK(stat(path("open"), &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
	CHECK(read_into(path("open/gpg.conf"), &conf) && !strcmp(conf.ptr, "no-autostart\n"));
	/* Opening again changes nothing. */
	CHECK(dd_pgp_open(path("open"), &p) == 0);
	dd_pgp_close(p);
	CHECK(read_into(path("open/gpg.conf"), &conf) && !strcmp(conf.ptr, "no-autostart\n"));

	/* An existing gpg.conf keeps its lines; a commented-out option does not count. */
	CHECK(mkdir(path("open2"), 0700) == 0);
	CHECK(write_str(path("open2/gpg.conf"), "# no-autostart\nkeyid-format long"));
	CHECK(dd_pgp_open(path("open2"), &p) == 0);
	dd_pgp_close(p);
	CHECK(read_into(path("open2/gpg.conf"), &conf) &&
	      !strcmp(conf.ptr, "# no-autostart\nkeyid-format long\nno-autostart\n"));
	CHECK(write_str(path("open2/gpg.conf"), "  no-autostart  \n"));
	CHECK(dd_pgp_open(path("open2"), &p) == 0);
	dd_pgp_close(p);
	CHECK(read_into(path("open2/gpg.conf"), &conf) && !strcmp(conf.ptr, "  no-autostart  \n"));

	/* A missing parent or a file in the way is an I/O error, nothing is made. */
	p = (struct dd_pgp *)1;
	CHECK(dd_pgp_open(path("no/such/home"), &p) == DD_E_IO && p == NULL);
	CHECK(contains(dd_error_detail(), "no/such/home"));
	CHECK(dd_pgp_open(path("data"), &p) != 0 && p == NULL);
	dd_pgp_close(NULL);
	dd_buf_release(&conf);
}

static void t_pgp_import(void)
{
	struct dd_pgp *p = NULL, *q = NULL;
	struct dd_buf uid = DD_BUF_INIT;
	char fpr[41] = "", fpr2[41] = "";

	NEED_FIXTURES();
	CHECK(dd_pgp_open(path("imp-armored"), &p) == 0);
	CHECK(dd_pgp_open(path("imp-binary"), &q) == 0);
	if (!p || !q)
		goto out;
	CHECK_MSG(dd_pgp_import(p, path("a.gpg.asc"), fpr, &uid) == 0, "%s", dd_error_detail());
	CHECK_MSG(!strcmp(fpr, fpr_a), "%s vs %s", fpr, fpr_a);
	CHECK(uid.ptr && !strcmp(uid.ptr, "Test <t@example.invalid>"));
	dd_buf_reset(&uid);
	CHECK_MSG(dd_pgp_import(q, path("a.gpg"), fpr2, &uid) == 0, "%s", dd_error_detail());
	CHECK(!strcmp(fpr2, fpr_a));
	CHECK(uid.ptr && !strcmp(uid.ptr, "Test <t@example.invalid>"));
	/* Importing a key that is already there is fine; uid may be NULL. */
	CHECK(dd_pgp_import(q, path("a.gpg.asc"), fpr2, NULL) == 0 && !strcmp(fpr2, fpr_a));
	/* The key with a subkey reports its primary fingerprint. */
	CHECK(dd_pgp_import(q, path("c.gpg"), fpr2, &uid) == 0 && !strcmp(fpr2, fpr_c));
	CHECK(uid.ptr && !strcmp(uid.ptr, "Sub <c@example.invalid>"));
out:
	dd_pgp_close(p);
	dd_pgp_close(q);
	dd_buf_release(&uid);
}

static void t_pgp_import_refused(void)
{
	static const char *garbage[] = { "garbage", "empty", "text", "a.sig-as-key" };
	struct dd_pgp *p = NULL;
	char fpr[41];
	unsigned char junk[300];
	int rc;

	NEED_FIXTURES();
	CHECK(dd_pgp_open(path("refuse"), &p) == 0);
	if (!p)
		return;
	rc = dd_pgp_import(p, path("ab.gpg"), fpr, NULL);
	CHECK_MSG(rc == DD_E_FORMAT && contains(dd_error_detail(), "holds 2 keys") &&
			  contains(dd_error_detail(), "ab.gpg") && fpr[0] == 0,
		  "%d %s", rc, dd_error_detail());
	CHECK(dd_pgp_import(p, path("ab.asc"), fpr, NULL) == DD_E_FORMAT);
	rc = dd_pgp_import(p, path("a.sec"), fpr, NULL);
	CHECK_MSG(rc == DD_E_FORMAT && contains(dd_error_detail(), "secret key"), "%d %s", rc,
		  dd_error_detail());
	CHECK(dd_pgp_import(p, path("a.sec.asc"), fpr, NULL) == DD_E_FORMAT);
	/* Nothing of the refused files went in. */
	CHECK(dd_pgp_delete(p, fpr_a) == DD_E_NOTFOUND);
	CHECK(dd_pgp_delete(p, fpr_b) == DD_E_NOTFOUND);

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 13);
	CHECK(write_file(path("garbage"), junk, sizeof(junk)));
	CHECK(write_file(path("empty"), "", 0));
	CHECK(write_str(path("text"), "ssh-ed25519 AAAA not an OpenPGP key\n"));
	CHECK(run("gpg --homedir %s --batch -u %s --detach-sign -o %s %s", signer, fpr_a,
		  path("a.sig-as-key"), path("data")) == 0);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(*garbage); i++) {
		rc = dd_pgp_import(p, path(garbage[i]), fpr, NULL);
		CHECK_MSG(rc == DD_E_FORMAT && contains(dd_error_detail(), garbage[i]), "%s: %d %s",
			  garbage[i], rc, dd_error_detail());
	}
	CHECK(dd_pgp_import(p, path("missing.asc"), fpr, NULL) == DD_E_IO);
	dd_pgp_close(p);
}

static void t_pgp_sign_verify(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT, armored = DD_BUF_INIT;
	char fpr[41];
	int rc;

	NEED_FIXTURES();
	p = mirror("sv", "a.gpg", NULL);
	if (!p)
		goto out;
	rc = dd_pgp_sign(signer, fpr_a, data, DATA_LEN, &sig);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	/* Binary: an old-format signature packet (tag 2), not "-----BEGIN". */
	CHECK(sig.len > 60 && sig.len < 200 && ((unsigned char)sig.ptr[0] & 0xfc) == 0x88);
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_a), "%d %s %s", rc, fpr, dd_error_detail());

	/* An armored signature made by gpg itself is accepted as well. */
	CHECK(run("gpg --homedir %s --batch -u %s --armor --detach-sign -o %s %s", signer, fpr_a,
		  path("a.sig.asc"), path("data")) == 0);
	CHECK(read_into(path("a.sig.asc"), &armored) && !strncmp(armored.ptr, "-----BEGIN", 10));
	rc = dd_pgp_verify(p, data, DATA_LEN, armored.ptr, armored.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_a), "%d %s", rc, dd_error_detail());

	/* Empty data signs and verifies; it is not the same as the data. */
	CHECK(dd_pgp_sign(signer, fpr_a, NULL, 0, &sig) == 0 && sig.len > 0);
	CHECK(dd_pgp_verify(p, NULL, 0, sig.ptr, sig.len, fpr) == 0 && !strcmp(fpr, fpr_a));
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == DD_E_SIG_BAD);
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
	dd_buf_release(&armored);
}

static void t_pgp_sign_errors(void)
{
	struct dd_buf sig = DD_BUF_INIT;
	int rc;

	NEED_FIXTURES();
	rc = dd_pgp_sign(signer, "nobody@example.invalid", data, DATA_LEN, &sig);
	CHECK_MSG(rc == DD_E_NOTFOUND && contains(dd_error_detail(), "nobody@example.invalid"),
		  "%d %s", rc, dd_error_detail());
	rc = dd_pgp_sign(signer, "0123456789ABCDEF0123456789ABCDEF01234567", data, DATA_LEN, &sig);
	CHECK(rc == DD_E_NOTFOUND && sig.len == 0);
	/* gpgme wants at least 8 characters to look a key up. */
	CHECK(dd_pgp_sign(signer, "t@e.inv", data, DATA_LEN, &sig) == DD_E_USAGE);
	/* A pattern matching several keys is refused rather than guessed. */
	rc = dd_pgp_sign(signer, "example.invalid", data, DATA_LEN, &sig);
	CHECK_MSG(rc == DD_E_USAGE, "%d %s", rc, dd_error_detail());
	/* The revoked key is still in the home but can no longer sign. */
	rc = dd_pgp_sign(signer, fpr_r, data, DATA_LEN, &sig);
	CHECK_MSG(rc == DD_E_CRYPTO, "%d %s", rc, dd_error_detail());
	/* A public key only (a mirror home) has nothing to sign with. */
	dd_pgp_close(mirror("sign-pub", "a.gpg", NULL));
	CHECK(dd_pgp_sign(path("sign-pub"), fpr_a, data, DATA_LEN, &sig) == DD_E_NOTFOUND);
	CHECK(agent_gone(path("sign-pub")));
	dd_buf_release(&sig);
}

static void t_pgp_verify_unknown(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char fpr[41];
	size_t n;
	int rc;

	NEED_FIXTURES();
	p = mirror("unknown", "b.gpg", NULL);
	if (!p)
		goto out;
	CHECK(dd_pgp_sign(signer, fpr_a, data, DATA_LEN, &sig) == 0);
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	n = strlen(fpr);
	/* The signature names its key by id (16 hex) or fingerprint (40). */
	CHECK_MSG(rc == DD_E_SIG_UNKNOWN && (n == 16 || n == 40) && !strcmp(fpr_a + 40 - n, fpr),
		  "%d '%s' %s", rc, fpr, dd_error_detail());
	CHECK(contains(dd_error_detail(), fpr) && contains(dd_error_detail(), "import"));
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

/* Old-format signature packet: where its hashed part ends and the unhashed one does. */
static bool sig_layout(const struct dd_buf *sig, size_t *hashed_end, size_t *unhashed_end)
{
	const unsigned char *s = (const unsigned char *)sig->ptr;
	size_t h;

	if (sig->len < 12 || (s[0] & 0xfc) != 0x88 || (s[0] & 3) > 1)
		return false;
	h = (s[0] & 3) == 0 ? 2 : 3;
	*hashed_end = h + 6 + ((size_t)s[h + 4] << 8 | s[h + 5]);
	if (*hashed_end + 2 > sig->len)
		return false;
	*unhashed_end = *hashed_end + 2 + ((size_t)s[*hashed_end] << 8 | s[*hashed_end + 1]);
	return *unhashed_end < sig->len;
}

/* Every header byte, every other hashed byte, a sample of the rest and the last. */
static size_t sweep_step(size_t i, size_t hashed_end, size_t len)
{
	if (i < 8 || i + 2 >= len)
		return 1;
	if (i < hashed_end)
		return 2;
	return i + 7 < len ? 7 : len - 1 - i;
}

static void t_pgp_verify_tampered(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char copy[sizeof(data)], fpr[41];
	size_t hashed_end = 0, unhashed_end = 0;
	int rc, flips = 0;

	NEED_FIXTURES();
	p = mirror("tamper", "a.gpg", NULL);
	if (!p)
		goto out;
	CHECK(dd_pgp_sign(signer, fpr_a, data, DATA_LEN, &sig) == 0);
	memcpy(copy, data, sizeof(data));
	copy[5] ^= 1;
	rc = dd_pgp_verify(p, copy, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && fpr[0] == 0 &&
			  contains(dd_error_detail(), "bad signature") &&
			  contains(dd_error_detail(), fpr_a),
		  "%d %s", rc, dd_error_detail());
	CHECK(dd_pgp_verify(p, data, DATA_LEN - 1, sig.ptr, sig.len, fpr) == DD_E_SIG_BAD);
	CHECK(dd_pgp_verify(p, data, DATA_LEN + 1, sig.ptr, sig.len, fpr) == DD_E_SIG_BAD);

	/*
	 * Every byte the signature covers (header and hashed part) and of
	 * the signature values must matter.  Not flipped: the unhashed
	 * subpackets (the issuer key id) and the 2-byte hash prefix after
	 * them, which no OpenPGP signature covers; gpg 2.2 accepts a
	 * signature with either changed.
	 */
	CHECK(sig_layout(&sig, &hashed_end, &unhashed_end));
	for (size_t i = 0; i < sig.len; i += sweep_step(i, hashed_end, sig.len)) {
		if (i >= hashed_end && i < unhashed_end + 2)
			continue;
		sig.ptr[i] ^= 0x10;
		rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
		sig.ptr[i] ^= 0x10;
		flips++;
		CHECK_MSG(rc == DD_E_SIG_BAD || rc == DD_E_FORMAT || rc == DD_E_SIG_UNKNOWN,
			  "byte %zu flipped: %d %s", i, rc, dd_error_detail());
	}
	CHECK(flips > 20);
	/* Truncated signatures. */
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len - 1, fpr) < 0);
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len / 2, fpr) < 0);
	/* The untouched signature still verifies. */
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == 0);
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

static void t_pgp_verify_not_sig(void)
{
	static const char empty_armor[] =
		"-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n";
	struct dd_pgp *p = NULL;
	struct dd_buf key = DD_BUF_INIT;
	char fpr[41];
	int rc;

	NEED_FIXTURES();
	p = mirror("notsig", "a.gpg", NULL);
	if (!p)
		goto out;
	rc = dd_pgp_verify(p, data, DATA_LEN, "hello", 5, fpr);
	CHECK_MSG(rc == DD_E_FORMAT, "%d %s", rc, dd_error_detail());
	CHECK(dd_pgp_verify(p, data, DATA_LEN, "", 0, fpr) == DD_E_FORMAT);
	rc = dd_pgp_verify(p, data, DATA_LEN, empty_armor, sizeof(empty_armor) - 1, fpr);
	CHECK_MSG(rc == DD_E_FORMAT, "%d %s", rc, dd_error_detail());
	/* A public key is OpenPGP, but holds no signature over the data. */
	CHECK(read_into(path("a.gpg"), &key));
	rc = dd_pgp_verify(p, data, DATA_LEN, key.ptr, key.len, fpr);
	CHECK_MSG(rc == DD_E_FORMAT && fpr[0] == 0, "%d %s", rc, dd_error_detail());
out:
	dd_pgp_close(p);
	dd_buf_release(&key);
}

static void t_pgp_verify_subkey(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char fpr[41], want[42];
	int rc;

	NEED_FIXTURES();
	p = mirror("subkey", "c.gpg", NULL);
	if (!p)
		goto out;
	/* "FPR!" makes gpg use exactly that subkey. */
	snprintf(want, sizeof(want), "%s!", sub_c);
	CHECK(cli_sign(want, "", "c.sig"));
	CHECK(read_into(path("c.sig"), &sig));
	CHECK(run("gpg --homedir %s --list-packets %s | grep -q 'keyid %s'", signer, path("c.sig"),
		  sub_c + 24) == 0);
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_c), "%d %s %s", rc, fpr, dd_error_detail());

	/* dd_pgp_sign with the primary lets gpg pick the (newest) signing subkey. */
	CHECK(dd_pgp_sign(signer, fpr_c, data, DATA_LEN, &sig) == 0);
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_c), "%d %s %s", rc, fpr, dd_error_detail());

	/* Deleting by the subkey's fingerprint is refused; the key stays. */
	CHECK(dd_pgp_delete(p, sub_c) == DD_E_NOTFOUND && contains(dd_error_detail(), fpr_c));
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == 0);
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

static void t_pgp_verify_expired(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char fpr[41];
	int rc;

	NEED_FIXTURES();
	p = mirror("expired", "x.gpg", NULL);
	if (!p)
		goto out;
	CHECK(read_into(path("x.sig"), &sig));
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && contains(dd_error_detail(), "expired") &&
			  contains(dd_error_detail(), fpr_x) &&
			  contains(dd_error_detail(), "2020-01-02"),
		  "%d %s", rc, dd_error_detail());
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

static void t_pgp_verify_revoked(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char fpr[41];
	int rc;

	NEED_FIXTURES();
	p = mirror("revoked", "r.gpg", NULL);
	if (!p)
		goto out;
	CHECK(read_into(path("r.sig"), &sig));
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && contains(dd_error_detail(), "revoked") &&
			  contains(dd_error_detail(), fpr_r),
		  "%d %s", rc, dd_error_detail());
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

static void t_pgp_verify_multi(void)
{
	struct dd_pgp *only_a = NULL;
	struct dd_pgp *only_b = NULL;
	struct dd_pgp *both = NULL;
	struct dd_pgp *none = NULL;
	struct dd_buf sig = DD_BUF_INIT, other = DD_BUF_INIT, mixed = DD_BUF_INIT,
		      good = DD_BUF_INIT;
	char fpr[41];
	int rc;

	NEED_FIXTURES();
	only_a = mirror("multi-a", "a.gpg", NULL);
	only_b = mirror("multi-b", "b.gpg.asc", NULL);
	both = mirror("multi-ab", "a.gpg", "b.gpg");
	none = mirror("multi-none", NULL, NULL);
	if (!only_a || !only_b || !both || !none)
		goto out;
	/* One detached signature file with two signatures (A and B). */
	CHECK(run("gpg --homedir %s --batch -u %s -u %s --detach-sign -o %s %s", signer, fpr_a,
		  fpr_b, path("ab.sig"), path("data")) == 0);
	CHECK(read_into(path("ab.sig"), &sig));
	rc = dd_pgp_verify(only_a, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_a), "%d %s", rc, dd_error_detail());
	rc = dd_pgp_verify(only_b, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_b), "%d %s", rc, dd_error_detail());
	rc = dd_pgp_verify(both, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK(rc == 0 && (!strcmp(fpr, fpr_a) || !strcmp(fpr, fpr_b)));
	rc = dd_pgp_verify(none, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_UNKNOWN, "%d %s", rc, dd_error_detail());

	/*
	 * A bad signature next to a good one refuses the file, in either
	 * order (gpg stops at the first bad signature, so "any good one
	 * wins" would depend on the order).
	 */
	CHECK(dd_pgp_sign(signer, fpr_a, "other", 5, &other) == 0);
	CHECK(dd_pgp_sign(signer, fpr_b, data, DATA_LEN, &good) == 0);
	dd_buf_add(&mixed, other.ptr, other.len);
	dd_buf_add(&mixed, good.ptr, good.len);
	rc = dd_pgp_verify(both, data, DATA_LEN, mixed.ptr, mixed.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && fpr[0] == 0, "%d %s", rc, dd_error_detail());
	dd_buf_reset(&mixed);
	dd_buf_add(&mixed, good.ptr, good.len);
	dd_buf_add(&mixed, other.ptr, other.len);
	rc = dd_pgp_verify(both, data, DATA_LEN, mixed.ptr, mixed.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && fpr[0] == 0 &&
			  contains(dd_error_detail(), "also holds a good signature"),
		  "%d %s", rc, dd_error_detail());
	/* The bad signature counts even when it is by a key not in the home. */
	rc = dd_pgp_verify(only_b, data, DATA_LEN, mixed.ptr, mixed.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_b), "%d %s", rc, dd_error_detail());
	/* Without B, the bad signature (not the unknown key) is what is reported. */
	rc = dd_pgp_verify(only_a, data, DATA_LEN, mixed.ptr, mixed.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD, "%d %s", rc, dd_error_detail());

	/* A revoked key's signature next to a good one: the good one stands. */
	CHECK(read_into(path("r.sig"), &other));
	dd_buf_reset(&mixed);
	dd_buf_add(&mixed, other.ptr, other.len);
	dd_buf_add(&mixed, good.ptr, good.len);
	CHECK(dd_pgp_import(both, path("r.gpg"), fpr, NULL) == 0);
	rc = dd_pgp_verify(both, data, DATA_LEN, mixed.ptr, mixed.len, fpr);
	CHECK_MSG(rc == 0 && !strcmp(fpr, fpr_b), "%d %s", rc, dd_error_detail());
	rc = dd_pgp_verify(both, data, DATA_LEN, other.ptr, other.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_BAD && contains(dd_error_detail(), "revoked"), "%d %s", rc,
		  dd_error_detail());
out:
	dd_pgp_close(only_a);
	dd_pgp_close(only_b);
	dd_pgp_close(both);
	dd_pgp_close(none);
	dd_buf_release(&sig);
	dd_buf_release(&other);
	dd_buf_release(&mixed);
	dd_buf_release(&good);
}

static void t_pgp_delete(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char fpr[41], lower[41];
	int rc;

	NEED_FIXTURES();
	p = mirror("delete", "a.gpg", "b.gpg");
	if (!p)
		goto out;
	CHECK(dd_pgp_sign(signer, fpr_a, data, DATA_LEN, &sig) == 0);
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == 0);
	rc = dd_pgp_delete(p, fpr_a);
	CHECK_MSG(rc == 0, "%d %s", rc, dd_error_detail());
	rc = dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr);
	CHECK_MSG(rc == DD_E_SIG_UNKNOWN, "%d %s", rc, dd_error_detail());
	rc = dd_pgp_delete(p, fpr_a);
	CHECK(rc == DD_E_NOTFOUND && contains(dd_error_detail(), fpr_a));
	/* Only fingerprints are accepted: a name or key id could match another key. */
	CHECK(dd_pgp_delete(p, "b@example.invalid") == DD_E_USAGE);
	CHECK(dd_pgp_delete(p, fpr_b + 24) == DD_E_USAGE);
	for (int i = 0; i < 41; i++)
		lower[i] = (char)(fpr_b[i] >= 'A' && fpr_b[i] <= 'F' ? fpr_b[i] + 32 : fpr_b[i]);
	CHECK(dd_pgp_delete(p, lower) == 0);
	CHECK(dd_pgp_delete(p, fpr_b) == DD_E_NOTFOUND);
	/* And it can be imported again. */
	CHECK(dd_pgp_import(p, path("a.gpg"), fpr, NULL) == 0);
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == 0);
out:
	dd_pgp_close(p);
	dd_buf_release(&sig);
}

/*
 * Import, verify and delete in a fresh home leave no gpg-agent behind.
 * The check is shown to work first: signing does start the signer's
 * agent, which the scan must see, and gpgconf must stop.
 */
static void t_pgp_no_agent(void)
{
	struct dd_pgp *p = NULL;
	struct dd_buf sig = DD_BUF_INIT;
	char home[256], fpr[41];

	NEED_FIXTURES();
	CHECK(dd_pgp_sign(signer, fpr_a, data, DATA_LEN, &sig) == 0);
	CHECK_MSG(agent_running(signer), "no gpg-agent seen for %s after signing", signer);
	CHECK(run("gpgconf --homedir %s --kill gpg-agent", signer) == 0);
	CHECK(agent_gone(signer));

	snprintf(home, sizeof(home), "%s", path("noagent"));
	CHECK(dd_pgp_open(home, &p) == 0);
	if (!p)
		goto out;
	CHECK(dd_pgp_import(p, path("a.gpg.asc"), fpr, NULL) == 0);
	CHECK(dd_pgp_import(p, path("c.gpg"), fpr, NULL) == 0);
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == 0);
	CHECK(dd_pgp_verify(p, "x", 1, sig.ptr, sig.len, fpr) == DD_E_SIG_BAD);
	CHECK(dd_pgp_delete(p, fpr_a) == 0);
	CHECK(dd_pgp_verify(p, data, DATA_LEN, sig.ptr, sig.len, fpr) == DD_E_SIG_UNKNOWN);
	CHECK(dd_pgp_import(p, path("a.sec"), fpr, NULL) == DD_E_FORMAT);
	dd_pgp_close(p);
	usleep(100000); /* an agent would be up by now */
	CHECK_MSG(!agent_running(home), "a gpg-agent runs for %s", home);
out:
	dd_buf_release(&sig);
}

void suite_pgp(void)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ready = setup();
	RUN(t_pgp_fixtures);
	RUN(t_pgp_version);
	RUN(t_pgp_open);
	RUN(t_pgp_import);
	RUN(t_pgp_import_refused);
	RUN(t_pgp_sign_verify);
	RUN(t_pgp_sign_errors);
	RUN(t_pgp_verify_unknown);
	RUN(t_pgp_verify_tampered);
	RUN(t_pgp_verify_not_sig);
	RUN(t_pgp_verify_subkey);
	RUN(t_pgp_verify_expired);
	RUN(t_pgp_verify_revoked);
	RUN(t_pgp_verify_multi);
	RUN(t_pgp_delete);
	RUN(t_pgp_no_agent);
	cleanup();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (getenv("DD_TEST_TIMING"))
		fprintf(stderr, "pgp suite: %.2f s\n",
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
