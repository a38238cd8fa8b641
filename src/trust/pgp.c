#include "trust/pgp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gpgme.h>

#include "core/error.h"
#include "core/file.h"

/* A certificate with many third-party signatures can reach megabytes. */
#define KEYFILE_MAX (16u << 20)
#define CONF_MAX    (1u << 20)

/* At most this many good signatures in one signature file are mapped to their primary key. */
#define VALIDSIG_MAX 16

/* A good signature's key and primary key, from gpg's VALIDSIG status line. */
struct validsig {
	char fpr[41];
	char primary[41];
};

struct dd_pgp {
	char *home;                       /* absolute path */
	gpgme_ctx_t ctx;                  /* made at the first gpgme operation (ensure_ctx) */
	struct validsig vs[VALIDSIG_MAX]; /* of the verification in progress */
	size_t n_vs;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char version[128];

/*
 * gpgme_check_version() must run once before anything else; it also
 * sets SIGPIPE to SIG_IGN when it is at its default, so a gpg that
 * exits early cannot kill us while we write to it.
 *
 * Every process gpgme starts is paid by every command: by default the
 * first context asks gpgconf where each engine lives (gpgconf three
 * times) and asks every engine its version (gpg and gpgsm).  drydock
 * only speaks OpenPGP, so gpgconf is disabled and gpg is found by its
 * default name; what remains is one "gpg --version" for the process and
 * one per context (gpgme_ctx_set_engine_info checks the engine again).
 */
static void pgp_init(void)
{
	gpgme_set_global_flag("disable-gpgconf", "1");
	gpgme_check_version(NULL);
}

static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void pgp_version_init(void)
{
	const char *v = gpgme_check_version(NULL);
	const char *gv = "not found";
	gpgme_engine_info_t e = NULL;

	/* Cached by gpgme after its first context: no process of its own then. */
	if (gpgme_get_engine_info(&e) == 0)
		for (; e; e = e->next)
			if (e->protocol == GPGME_PROTOCOL_OpenPGP && e->version)
				gv = e->version;
	snprintf(version, sizeof(version), "gpgme %s, gnupg %s", v ? v : "?", gv);
}

const char *dd_pgp_version(void)
{
	pthread_once(&init_once, pgp_init);
	pthread_once(&version_once, pgp_version_init);
	return version;
}

/* A context bound to home (NULL: GnuPG's default home). */
static int new_ctx(const char *home, gpgme_ctx_t *out)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t err;

	*out = NULL;
	pthread_once(&init_once, pgp_init);
	err = gpgme_new(&ctx);
	/* After gpgme_new() the engine versions are known: no new process. */
	if (!err && (err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP))) {
		gpgme_release(ctx);
		return dd_error(DD_E_CRYPTO, "GnuPG (gpg) is not usable: %s; install gnupg",
				gpgme_strerror(err));
	}
	if (!err)
		err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!err && home)
		err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
	if (err) {
		if (ctx)
			gpgme_release(ctx);
		return dd_error(DD_E_CRYPTO, "cannot set up gpgme for %s: %s",
				home ? home : "the default GnuPG home", gpgme_strerror(err));
	}
	gpgme_set_offline(ctx, 1);
	*out = ctx;
	return 0;
}

static bool has_line(struct dd_blob text, const char *want)
{
	struct dd_blob line;

	while (text.len) {
		dd_blob_split(&text, '\n', &line);
		if (dd_blob_eq(dd_blob_trim(line), want))
			return true;
	}
	return false;
}

/* Make sure gpg.conf in home says no-autostart; leave other lines alone. */
static int conf_no_autostart(const char *home)
{
	struct dd_buf path = DD_BUF_INIT, conf = DD_BUF_INIT;
	struct dd_atomic a = { .fd = -1 };
	struct stat st;
	int ret = 0;

	dd_buf_addf(&path, "%s/gpg.conf", home);
	if (stat(path.ptr, &st) == 0)
		ret = dd_read_file(path.ptr, CONF_MAX, &conf);
	else if (errno != ENOENT)
		ret = dd_error_errno("%s", path.ptr);
	if (ret || has_line(dd_buf_blob(&conf), "no-autostart"))
		goto out;
	if (conf.len && conf.ptr[conf.len - 1] != '\n')
		dd_buf_adds(&conf, "\n");
	dd_buf_adds(&conf, "no-autostart\n");
	ret = dd_atomic_open(&a, path.ptr);
	if (ret)
		goto out;
	if (dd_write_all(a.fd, conf.ptr, conf.len) < 0)
		ret = dd_error_errno("%s", a.tmp);
	else
		ret = dd_atomic_commit(&a);
out:
	dd_atomic_abort(&a);
	dd_buf_release(&conf);
	dd_buf_release(&path);
	return ret;
}

/*
 * gpg's VALIDSIG status line names the signing (sub)key and, as its
 * tenth field, the primary key (GnuPG's doc/DETAILS); gpgme does not
 * keep the latter, and asking for the key afterwards costs a process
 * per signature.
 */
static gpgme_error_t on_status(void *arg, const char *keyword, const char *args)
{
	struct dd_pgp *p = arg;
	struct dd_blob rest = { args ? args : "", args ? strlen(args) : 0 }, field, first = { 0 };
	int i;

	if (strcmp(keyword, "VALIDSIG") || p->n_vs == VALIDSIG_MAX)
		return 0;
	for (i = 0; rest.len; i++) {
		dd_blob_split(&rest, ' ', &field);
		if (i == 0)
			first = field;
		else if (i == 9)
			break;
	}
	if (i != 9 || first.len != 40 || field.len != 40)
		return 0;
	memcpy(p->vs[p->n_vs].fpr, first.ptr, 40);
	p->vs[p->n_vs].fpr[40] = 0;
	memcpy(p->vs[p->n_vs].primary, field.ptr, 40);
	p->vs[p->n_vs].primary[40] = 0;
	p->n_vs++;
	return 0;
}

int dd_pgp_open(const char *dir, struct dd_pgp **out)
{
	struct dd_pgp *p = NULL;
	char *home = NULL;
	struct stat st;
	int ret;

	*out = NULL;
	if (mkdir(dir, 0700) == 0)
		chmod(dir, 0700); /* whatever the umask */
	else if (errno != EEXIST)
		return dd_error_errno("cannot create GnuPG home %s", dir);
	home = realpath(dir, NULL);
	if (!home)
		return dd_error_errno("GnuPG home %s", dir);
	if (stat(home, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = dd_error(DD_E_IO, "GnuPG home %s is not a directory", dir);
		goto fail;
	}
	ret = conf_no_autostart(home);
	if (ret)
		goto fail;
	p = dd_xcalloc(1, sizeof(*p));
	p->home = home;
	*out = p;
	return 0;
fail:
	free(home);
	free(p);
	return ret;
}

/*
 * The home's gpgme context, made when first needed: making one starts
 * "gpg --version" twice (gpgme asks the engine its version for the
 * process and again for a context bound to a home), which a good
 * signature checked by gpgv (verify_gpgv) never needs.
 */
static int ensure_ctx(struct dd_pgp *p)
{
	int ret;

	if (p->ctx)
		return 0;
	ret = new_ctx(p->home, &p->ctx);
	if (!ret && gpgme_set_ctx_flag(p->ctx, "full-status", "1") == 0)
		gpgme_set_status_cb(p->ctx, on_status, p);
	return ret;
}

void dd_pgp_close(struct dd_pgp *p)
{
	if (!p)
		return;
	if (p->ctx)
		gpgme_release(p->ctx);
	free(p->home);
	free(p);
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[i] == 0;
}

static bool is_fpr(const char *s)
{
	return is_hex(s, 40);
}

static void copy_upper(char dst[41], const char *src)
{
	size_t i;

	for (i = 0; i < 40 && src && src[i]; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = 0;
}

static int mem_data(gpgme_data_t *d, const void *ptr, size_t len)
{
	gpgme_error_t err = gpgme_data_new_from_mem(d, ptr ? ptr : "", len, 0);

	if (err)
		return dd_error(DD_E_CRYPTO, "gpgme: %s", gpgme_strerror(err));
	return 0;
}

/*
 * List the keys in raw without importing them (gpg --import-options
 * show-only) and insist on exactly one public certificate.
 */
static int list_one_key(struct dd_pgp *p, const char *keyfile, const struct dd_buf *raw,
			gpgme_key_t *out)
{
	gpgme_data_t d = NULL;
	gpgme_key_t k, first = NULL;
	gpgme_error_t err;
	int n = 0, ret;

	*out = NULL;
	ret = mem_data(&d, raw->ptr, raw->len);
	if (ret)
		return ret;
	err = gpgme_op_keylist_from_data_start(p->ctx, d, 0);
	while (!err && !(err = gpgme_op_keylist_next(p->ctx, &k))) {
		if (n++ == 0)
			first = k;
		else
			gpgme_key_unref(k);
	}
	gpgme_op_keylist_end(p->ctx);
	gpgme_data_release(d);
	if (gpgme_err_code(err) != GPG_ERR_EOF)
		ret = dd_error(DD_E_FORMAT, "%s: cannot read OpenPGP keys: %s", keyfile,
			       gpgme_strerror(err));
	else if (n == 0)
		ret = dd_error(DD_E_FORMAT,
			       "%s: no OpenPGP key found; give a public key as written by "
			       "gpg --export [--armor] FINGERPRINT",
			       keyfile);
	else if (n > 1)
		ret = dd_error(DD_E_FORMAT, "key file %s holds %d keys; give one key per file",
			       keyfile, n);
	else if (first->secret)
		ret = dd_error(DD_E_FORMAT,
			       "%s holds a secret key, which must not be copied here; export "
			       "the public key only (gpg --export --armor %s)",
			       keyfile, first->subkeys ? first->subkeys->fpr : "FINGERPRINT");
	else if (!first->subkeys || !first->subkeys->fpr || !is_fpr(first->subkeys->fpr))
		ret = dd_error(DD_E_FORMAT, "%s: not an OpenPGP v4 key (no 40-hex fingerprint)",
			       keyfile);
	else if (!first->uids || !first->uids->uid)
		ret = dd_error(DD_E_FORMAT, "%s: key %s has no user id", keyfile,
			       first->subkeys->fpr);
	if (ret)
		gpgme_key_unref(first);
	else
		*out = first;
	return ret;
}

static int import_key(struct dd_pgp *p, const char *keyfile, const struct dd_buf *raw,
		      const char *fpr)
{
	gpgme_data_t d = NULL;
	gpgme_import_result_t res;
	gpgme_import_status_t st;
	gpgme_error_t err;
	int ret;

	ret = mem_data(&d, raw->ptr, raw->len);
	if (ret)
		return ret;
	err = gpgme_op_import(p->ctx, d);
	gpgme_data_release(d);
	if (err)
		return dd_error(DD_E_CRYPTO, "%s: importing key %s into %s failed: %s", keyfile,
				fpr, p->home, gpgme_strerror(err));
	res = gpgme_op_import_result(p->ctx);
	if (!res)
		return dd_error(DD_E_CRYPTO, "%s: gpgme gave no import result", keyfile);
	if (res->secret_read)
		return dd_error(DD_E_FORMAT, "%s holds a secret key; export the public key only",
				keyfile);
	for (st = res->imports; st; st = st->next) {
		if (!st->fpr || strcasecmp(st->fpr, fpr))
			continue;
		if (st->result)
			return dd_error(DD_E_CRYPTO, "%s: GnuPG refused key %s: %s", keyfile, fpr,
					gpgme_strerror(st->result));
		return 0;
	}
	return dd_error(DD_E_CRYPTO,
			"%s: GnuPG did not import key %s (%d considered, %d without user id, "
			"%d not imported); check the key with gpg --show-keys",
			keyfile, fpr, res->considered, res->no_user_id, res->not_imported);
}

int dd_pgp_import(struct dd_pgp *p, const char *keyfile, char fpr[41], struct dd_buf *uid)
{
	struct dd_buf raw = DD_BUF_INIT;
	gpgme_key_t key = NULL;
	int ret;

	fpr[0] = 0;
	ret = ensure_ctx(p);
	if (!ret)
		ret = dd_read_file(keyfile, KEYFILE_MAX, &raw);
	if (!ret)
		ret = list_one_key(p, keyfile, &raw, &key);
	if (!ret)
		ret = import_key(p, keyfile, &raw, key->subkeys->fpr);
	if (!ret) {
		copy_upper(fpr, key->subkeys->fpr);
		if (uid) {
			dd_buf_reset(uid);
			dd_buf_adds(uid, key->uids->uid);
		}
	}
	gpgme_key_unref(key);
	dd_buf_release(&raw);
	return ret;
}

/*
 * The key in the home holding the (sub)key with this fingerprint or
 * 16-hex key id; NULL when there is none.  gpg treats what it is given
 * as a pattern, so the result is checked to really hold that subkey.
 */
static gpgme_key_t find_key(struct dd_pgp *p, const char *id, gpgme_subkey_t *subkey)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t s;
	bool long_id = id && is_hex(id, 16);

	if (!id || !(long_id || is_hex(id, 40)) || gpgme_get_key(p->ctx, id, &key, 0))
		return NULL;
	for (s = key->subkeys; s; s = s->next) {
		const char *have = long_id ? s->keyid : s->fpr;

		if (have && !strcasecmp(have, id)) {
			if (subkey)
				*subkey = s;
			return key;
		}
	}
	gpgme_key_unref(key);
	return NULL;
}

int dd_pgp_delete(struct dd_pgp *p, const char *fpr)
{
	gpgme_key_t key = NULL;
	gpgme_error_t err;
	int ret = 0;

	if (!is_fpr(fpr))
		return dd_error(DD_E_USAGE, "'%s' is not a 40-hex-digit key fingerprint", fpr);
	if ((ret = ensure_ctx(p)))
		return ret;
	err = gpgme_get_key(p->ctx, fpr, &key, 0);
	if (gpgme_err_code(err) == GPG_ERR_EOF)
		return dd_error(DD_E_NOTFOUND, "key %s is not in %s", fpr, p->home);
	if (err)
		return dd_error(DD_E_CRYPTO, "looking up key %s in %s: %s", fpr, p->home,
				gpgme_strerror(err));
	if (strcasecmp(key->subkeys->fpr, fpr)) {
		ret = dd_error(DD_E_NOTFOUND,
			       "%s is a subkey of %s; give the primary key's fingerprint", fpr,
			       key->subkeys->fpr);
		goto out;
	}
	/* No ALLOW_SECRET: gpg then runs --delete-key, which needs no agent. */
	err = gpgme_op_delete_ext(p->ctx, key, GPGME_DELETE_FORCE);
	if (gpgme_err_code(err) == GPG_ERR_CONFLICT)
		ret = dd_error(DD_E_CRYPTO,
			       "key %s has a secret part in %s; a trust home should hold "
			       "public keys only",
			       fpr, p->home);
	else if (err)
		ret = dd_error(DD_E_CRYPTO, "deleting key %s from %s: %s", fpr, p->home,
			       gpgme_strerror(err));
out:
	gpgme_key_unref(key);
	return ret;
}

static const char *utc_date(unsigned long t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, 32, "an unknown date");
	return buf;
}

/*
 * How bad a signature is: 0 good, 1 unknown key, 2 good maths but not
 * acceptable (expired, revoked, unusable), 3 bad.  gpg --batch (which
 * gpgme always uses) stops at the first bad signature, so signatures
 * after it are never reported; a file holding a bad one is therefore
 * refused whatever else it holds, which keeps the answer independent
 * of the order of the signatures.
 */
static int sig_rank(gpgme_signature_t s)
{
	switch (gpgme_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		return s->wrong_key_usage ? 2 : 0;
	case GPG_ERR_NO_PUBKEY:
		return 1;
	case GPG_ERR_UNSUPPORTED_ALGORITHM:
	case GPG_ERR_KEY_EXPIRED:
	case GPG_ERR_CERT_REVOKED:
	case GPG_ERR_SIG_EXPIRED:
		return 2;
	default:
		return 3;
	}
}

/* The error for a signature that is not good. */
static int sig_error(struct dd_pgp *p, gpgme_signature_t s, char fpr[41])
{
	const char *id = s->fpr ? s->fpr : "(no key id)";
	gpgme_err_code_t code = gpgme_err_code(s->status);
	gpgme_subkey_t sub = NULL;
	gpgme_key_t key = NULL;
	const char *who = id;
	char when[32];
	int ret;

	if (code != GPG_ERR_NO_PUBKEY) {
		key = find_key(p, s->fpr, &sub);
		if (key)
			who = key->subkeys->fpr;
	}
	if (code == GPG_ERR_NO_PUBKEY || (code == GPG_ERR_NO_ERROR && !key)) {
		copy_upper(fpr, s->fpr);
		ret = dd_error(DD_E_SIG_UNKNOWN,
			       "signed by key %s, which is not in %s; import the signer's "
			       "public key if it is to be trusted",
			       id, p->home);
	} else if (code == GPG_ERR_NO_ERROR) {
		ret = dd_error(DD_E_SIG_BAD, "key %s is not allowed to make signatures", who);
	} else if (code == GPG_ERR_BAD_SIGNATURE) {
		ret = dd_error(DD_E_SIG_BAD,
			       "bad signature by key %s: the data or the signature was changed",
			       who);
	} else if (code == GPG_ERR_KEY_EXPIRED) {
		ret = dd_error(DD_E_SIG_BAD,
			       "signature by key %s, which expired on %s; import a copy of the "
			       "key with a renewed expiry date",
			       who, utc_date(sub ? (unsigned long)sub->expires : 0, when));
	} else if (code == GPG_ERR_CERT_REVOKED) {
		ret = dd_error(DD_E_SIG_BAD,
			       "signature by key %s, which has been revoked; its signatures "
			       "are no longer accepted",
			       who);
	} else if (code == GPG_ERR_SIG_EXPIRED) {
		ret = dd_error(DD_E_SIG_BAD, "signature by key %s expired on %s", who,
			       utc_date(s->exp_timestamp, when));
	} else {
		ret = dd_error(DD_E_SIG_BAD, "signature by key %s cannot be checked: %s", who,
			       gpgme_strerror(s->status));
	}
	gpgme_key_unref(key);
	return ret;
}

/*
 * Only the status counts: summary and validity describe GnuPG's web of
 * trust, which drydock does not use (the caller decides from fpr).
 */
static int judge(struct dd_pgp *p, gpgme_signature_t sigs, char fpr[41])
{
	gpgme_signature_t s, good = NULL, worst = NULL;
	gpgme_key_t key;
	size_t i;
	int ret;

	for (s = sigs; s; s = s->next) {
		if (sig_rank(s) == 0 && !good)
			good = s;
		else if (!worst || sig_rank(s) > sig_rank(worst))
			worst = s;
	}
	if (good && (!worst || sig_rank(worst) < 3)) {
		/* good->fpr may name a subkey: report the primary key. */
		for (i = 0; good->fpr && i < p->n_vs; i++) {
			if (!strcasecmp(p->vs[i].fpr, good->fpr) && is_fpr(p->vs[i].primary)) {
				copy_upper(fpr, p->vs[i].primary);
				return 0;
			}
		}
		key = find_key(p, good->fpr, NULL);
		if (!key)
			return sig_error(p, good, fpr);
		copy_upper(fpr, key->subkeys->fpr);
		gpgme_key_unref(key);
		return 0;
	}
	ret = sig_error(p, worst, fpr);
	if (good)
		dd_error_prefix(ret, "signature file refused as a whole, although it also holds "
				     "a good signature");
	return ret;
}

/*
 * The quick check of a signature: gpgv (GnuPG's verify-only tool, one
 * process and no engine probes) against the home's keybox.  It settles
 * only the plain case: every signature in sig good (GOODSIG and
 * VALIDSIG), nothing else reported, exit 0; fpr is then the first
 * one's primary key.  Anything else (a bad, unknown, expired or revoked
 * signature, a status line not known here, gpgv missing) returns 1,
 * and gpgme judges the signature as before, so every refusal reads the
 * same whichever way it was found.
 */
#define GPGV_SIG_MAX    (64u << 10)
#define GPGV_STATUS_MAX (64u << 10)

static bool status_known(struct dd_blob kw)
{
	static const char *const ok[] = { "NEWSIG",        "KEY_CONSIDERED", "SIG_ID",
					  "GOODSIG",       "VALIDSIG",       "TRUST_UNDEFINED",
					  "NOTATION_NAME", "NOTATION_FLAGS", "NOTATION_DATA",
					  "POLICY_URL" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (dd_blob_eq(kw, ok[i]))
			return true;
	return false;
}

/* 0 with fpr set when status (gpgv's status lines) says every signature is good, else 1. */
static int judge_gpgv(struct dd_blob status, char fpr[41])
{
	struct dd_blob line, kw, field;
	size_t news = 0, goods = 0, valids = 0;
	char primary[41];

	fpr[0] = 0;
	while (status.len) {
		dd_blob_split(&status, '\n', &line);
		if (!dd_blob_starts(line, "[GNUPG:] "))
			return 1;
		line.ptr += 9;
		line.len -= 9;
		dd_blob_split(&line, ' ', &kw);
		if (!status_known(kw))
			return 1;
		news += dd_blob_eq(kw, "NEWSIG");
		goods += dd_blob_eq(kw, "GOODSIG");
		if (!dd_blob_eq(kw, "VALIDSIG"))
			continue;
		valids++;
		for (int i = 0; i < 10; i++) /* the 10th field is the primary key */
			dd_blob_split(&line, ' ', &field);
		if (field.len != 40)
			return 1;
		memcpy(primary, field.ptr, 40);
		primary[40] = 0;
		if (!is_fpr(primary))
			return 1;
		if (!fpr[0])
			copy_upper(fpr, primary);
	}
	if (!news || goods != news || valids != news) {
		fpr[0] = 0;
		return 1;
	}
	return 0;
}

/* Write all of buf to fd `to` (non-blocking; closed here) while reading
 * fd `from` into out, until both are done. */
static int pump(int to, const void *buf, size_t len, int from, struct dd_buf *out)
{
	const char *p = buf;
	int rc = 0;

	while (from >= 0 && !rc) {
		struct pollfd pf[2] = { { from, POLLIN, 0 }, { to, POLLOUT, 0 } };
		char chunk[4096];
		ssize_t n;

		if (poll(pf, to >= 0 ? 2 : 1, 30000) <= 0) {
			rc = -1;
			break;
		}
		if (to >= 0 && pf[1].revents) {
			n = write(to, p, len);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				rc = -1;
			if (n > 0) {
				p += n;
				len -= (size_t)n;
			}
			if (!len) {
				close(to);
				to = -1;
			}
		}
		if (pf[0].revents) {
			n = read(from, chunk, sizeof(chunk));
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    out->len > GPGV_STATUS_MAX)
				rc = -1;
			if (n == 0)
				from = -1;
			if (n > 0)
				dd_buf_add(out, chunk, (size_t)n);
		}
	}
	if (to >= 0) { /* gpgv stopped before it read all the data */
		close(to);
		rc = -1;
	}
	return rc;
}

static pthread_once_t gpgv_once = PTHREAD_ONCE_INIT;
static char gpgv_path[4096] = "gpgv";

/* gpgv beside the gpg gpgme runs (found without starting a process). */
static void find_gpgv(void)
{
	const char *gpg = gpgme_get_dirinfo("gpg-name");
	const char *slash = gpg ? strrchr(gpg, '/') : NULL;

	if (slash && (size_t)(slash - gpg) + 6 < sizeof(gpgv_path))
		snprintf(gpgv_path, sizeof(gpgv_path), "%.*s/gpgv", (int)(slash - gpg), gpg);
}

/* A pipe whose ends are at fd 10 or above (clear of 0-4 in the child), close-on-exec. */
static int high_pipe(int fds[2])
{
	int raw[2];

	if (pipe2(raw, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, 10);
		close(raw[i]);
	}
	if (fds[0] >= 0 && fds[1] >= 0)
		return 0;
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return -1;
}

static int verify_gpgv(struct dd_pgp *p, const void *data, size_t len, const void *sig,
		       size_t siglen, char fpr[41])
{
	int sigp[2] = { -1, -1 }, datap[2] = { -1, -1 }, statp[2] = { -1, -1 };
	struct dd_buf keybox = DD_BUF_INIT, status = DD_BUF_INIT;
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int wst, ret = 1;
	char *argv[] = { "gpgv", "--homedir",   p->home, "--keyring",
			 NULL,   "--status-fd", "1",     "--enable-special-filenames",
			 "--",   "-&3",         "-&4",   NULL };

	dd_buf_addf(&keybox, "%s/pubring.kbx", p->home);
	argv[4] = keybox.ptr;
	pthread_once(&init_once, pgp_init); /* SIGPIPE ignored: gpgv may stop reading */
	pthread_once(&gpgv_once, find_gpgv);
	if (siglen > GPGV_SIG_MAX || access(keybox.ptr, R_OK) < 0 || high_pipe(sigp) ||
	    high_pipe(datap) || high_pipe(statp))
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, statp[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sigp[0], 3);
	posix_spawn_file_actions_adddup2(&fa, datap[0], 4);
	if (posix_spawn(&pid, gpgv_path, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(sigp[0]);
	close(datap[0]);
	close(statp[1]);
	sigp[0] = datap[0] = statp[1] = -1;
	if (pid < 0)
		goto out;
	/* the signature is read first and is small: it fits the pipe */
	if (write(sigp[1], sig, siglen) == (ssize_t)siglen) {
		close(sigp[1]);
		sigp[1] = -1;
		fcntl(datap[1], F_SETFL, O_NONBLOCK);
		if (pump(datap[1], data, len, statp[0], &status) == 0)
			ret = 0;
		datap[1] = -1; /* closed by pump once written */
	}
	if (ret != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (!ret && (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0))
		ret = 1;
	if (!ret)
		ret = judge_gpgv(dd_buf_blob(&status), fpr);
out:
	for (int i = 0; i < 2; i++) {
		if (sigp[i] >= 0)
			close(sigp[i]);
		if (datap[i] >= 0)
			close(datap[i]);
		if (statp[i] >= 0)
			close(statp[i]);
	}
	dd_buf_release(&keybox);
	dd_buf_release(&status);
	return ret;
}

int dd_pgp_verify(struct dd_pgp *p, const void *data, size_t len, const void *sig, size_t siglen,
		  char fpr[41])
{
	gpgme_data_t dsig = NULL, dtext = NULL;
	gpgme_verify_result_t res;
	gpgme_error_t err;
	int ret;

	fpr[0] = 0;
	if (!siglen)
		return dd_error(DD_E_FORMAT, "the signature is empty");
	if (verify_gpgv(p, data, len, sig, siglen, fpr) == 0)
		return 0;
	fpr[0] = 0;
	ret = ensure_ctx(p);
	if (!ret)
		ret = mem_data(&dsig, sig, siglen);
	if (!ret)
		ret = mem_data(&dtext, data, len);
	if (ret)
		goto out;
	p->n_vs = 0;
	err = gpgme_op_verify(p->ctx, dsig, dtext, NULL);
	res = gpgme_op_verify_result(p->ctx);
	if (res && res->signatures)
		ret = judge(p, res->signatures, fpr);
	else if (err)
		ret = dd_error(DD_E_FORMAT, "not an OpenPGP detached signature: %s",
			       gpgme_strerror(err));
	else
		ret = dd_error(DD_E_FORMAT, "no OpenPGP signature found");
out:
	gpgme_data_release(dsig);
	gpgme_data_release(dtext);
	return ret;
}

static int take_data(gpgme_data_t d, struct dd_buf *out)
{
	char chunk[4096];
	ssize_t n;

	dd_buf_reset(out);
	if (gpgme_data_seek(d, 0, SEEK_SET) < 0)
		return dd_error_errno("gpgme: rewinding the signature");
	while ((n = gpgme_data_read(d, chunk, sizeof(chunk))) > 0)
		dd_buf_add(out, chunk, (size_t)n);
	if (n < 0)
		return dd_error_errno("gpgme: reading the signature");
	return 0;
}

/*
 * The one secret key keyid names in ctx's home.  The listing is read to
 * its end rather than through gpgme_get_key(), which gives up at a
 * second match: gpgme (1.18) then releases the keys still queued but
 * not their queue entries, a leak on every ambiguous name.
 */
static int get_secret_key(gpgme_ctx_t ctx, const char *where, const char *keyid, gpgme_key_t *key)
{
	gpgme_key_t k;
	gpgme_error_t err;
	int others = 0, ret = 0;

	*key = NULL;
	err = gpgme_op_keylist_start(ctx, keyid, 1);
	while (!err && !(err = gpgme_op_keylist_next(ctx, &k))) {
		if (!*key)
			*key = k;
		else if (!(*key)->subkeys || !k->subkeys || !(*key)->subkeys->fpr ||
			 !k->subkeys->fpr || strcmp((*key)->subkeys->fpr, k->subkeys->fpr))
			others++, gpgme_key_unref(k);
		else
			gpgme_key_unref(k); /* the same key twice (a damaged keyring) */
	}
	gpgme_op_keylist_end(ctx);
	if (gpgme_err_code(err) != GPG_ERR_EOF)
		ret = dd_error(DD_E_CRYPTO, "looking up secret key %s in %s: %s", keyid, where,
			       gpgme_strerror(err));
	else if (!*key)
		ret = dd_error(DD_E_NOTFOUND, "no secret key %s in %s", keyid, where);
	else if (others)
		ret = dd_error(DD_E_USAGE,
			       "%s names more than one secret key in %s; give a fingerprint", keyid,
			       where);
	else if (!(*key)->can_sign)
		ret = dd_error(DD_E_CRYPTO,
			       "key %s in %s cannot sign (expired, revoked or "
			       "without a signing subkey)",
			       keyid, where);
	if (ret) {
		gpgme_key_unref(*key);
		*key = NULL;
	}
	return ret;
}

/* A context on dir and the secret key keyid in it, able to sign. */
static int open_secret_key(const char *dir, const char *keyid, gpgme_ctx_t *ctx, gpgme_key_t *key)
{
	int ret;

	*ctx = NULL;
	*key = NULL;
	if (strlen(keyid) < 8) /* at least a short key id, as gpgme_get_key() wants */
		return dd_error(DD_E_USAGE, "'%s' is too short to name a key; give its fingerprint",
				keyid);
	ret = new_ctx(dir, ctx);
	if (!ret)
		ret = get_secret_key(*ctx, dir ? dir : "the default GnuPG home", keyid, key);
	return ret;
}

int dd_pgp_sign(const char *dir, const char *keyid, const void *data, size_t len,
		struct dd_buf *sig)
{
	const char *where = dir ? dir : "the default GnuPG home";
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_sign_result_t res;
	gpgme_error_t err;
	int ret;

	dd_buf_reset(sig);
	if ((ret = open_secret_key(dir, keyid, &ctx, &key)))
		goto out;
	gpgme_set_armor(ctx, 0);
	gpgme_set_textmode(ctx, 0);
	gpgme_signers_clear(ctx);
	err = gpgme_signers_add(ctx, key);
	if (!err)
		err = gpgme_data_new(&out);
	if (err) {
		ret = dd_error(DD_E_CRYPTO, "gpgme: %s", gpgme_strerror(err));
		goto out;
	}
	ret = mem_data(&in, data, len);
	if (ret)
		goto out;
	err = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH);
	res = gpgme_op_sign_result(ctx);
	if (!err && res && res->invalid_signers)
		err = res->invalid_signers->reason ? res->invalid_signers->reason
						   : gpgme_error(GPG_ERR_UNUSABLE_SECKEY);
	if (!err && (!res || !res->signatures))
		err = gpgme_error(GPG_ERR_NO_DATA);
	if (err)
		ret = dd_error(DD_E_CRYPTO, "signing with key %s from %s failed: %s", keyid, where,
			       gpgme_strerror(err));
	else
		ret = take_data(out, sig);
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_key_unref(key);
	if (ctx)
		gpgme_release(ctx);
	return ret;
}

int dd_pgp_signing_key(const char *dir, const char *keyid, char fpr[41], struct dd_buf *pub)
{
	const char *where = dir ? dir : "the default GnuPG home";
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t out = NULL;
	gpgme_error_t err;
	int ret;

	fpr[0] = 0;
	if ((ret = open_secret_key(dir, keyid, &ctx, &key)))
		goto out;
	copy_upper(fpr, key->subkeys->fpr);
	gpgme_set_armor(ctx, 1);
	err = gpgme_data_new(&out);
	if (!err)
		err = gpgme_op_export(ctx, key->subkeys->fpr, GPGME_EXPORT_MODE_MINIMAL, out);
	if (err)
		ret = dd_error(DD_E_CRYPTO, "exporting the public key %s from %s: %s", fpr, where,
			       gpgme_strerror(err));
	else
		ret = take_data(out, pub);
	if (!ret && !pub->len)
		ret = dd_error(DD_E_CRYPTO, "exporting the public key %s from %s gave nothing", fpr,
			       where);
out:
	gpgme_data_release(out);
	gpgme_key_unref(key);
	if (ctx)
		gpgme_release(ctx);
	return ret;
}
