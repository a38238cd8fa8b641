#include "image/verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "apk/tar.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "evidence/provenance.h"
#include "evidence/sbom.h"
#include "image/build.h"
#include "image/oci.h"
#include "image/rebuild.h"
#include "store/query.h"
#include "store/store.h"
#include "store/trustdb.h"
#include "trust/sign.h"

#define MAX_DOC (64u << 20)
#define MAX_FILE (1ull << 40) /* an archive or a mirror blob: any regular file */
#define MAX_SHOWN 4

/* What one image (one architecture) holds, read from its layers. */
struct image {
	char *manifest;       /* sha256:... */
	char *arch;           /* etc/apk/arch */
	json_t *db;           /* "name@version" -> true, from the installed database */
	json_t *sbom;         /* "name@version sha256" -> true, from var/lib/db/sbom/ */
	bool has_db, has_sbom;
};

struct verify {
	const struct dd_verify_opts *o;
	dd_verify_report report;
	void *ctx;
	int failed;
	json_t *st;           /* the statement, when readable */
	json_t *index;        /* the layout's index.json */
	struct image *imgs;
	size_t n_imgs;
	/* what was found (locate()); NULL: absent */
	bool run_folder;      /* a run folder: all a run holds must be there */
	char *layout;         /* the OCI image layout's folder */
	char *archive;        /* the oci-archive */
	char *prov, *spdx, *cdx, *log, *result, *record;
	char *vex, *vex_cdx;  /* the VEX documents, when the run has them */
	char *unpacked;       /* a temporary folder the archive was unpacked into */
	char *unpack_why;     /* why it could not be unpacked */
	const char *layout_from; /* what the layout is, for messages */
};

static void outcome(struct verify *v, const char *name, enum dd_verify_state state,
		   const char *fmt, va_list ap)
{
	char *m = dd_xvasprintf(fmt, ap);

	if (state == DD_VERIFY_FAIL)
		v->failed++;
	v->report(v->ctx, name, state, m);
	free(m);
}

static void check(struct verify *v, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check(struct verify *v, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outcome(v, name, ok ? DD_VERIFY_OK : DD_VERIFY_FAIL, fmt, ap);
	va_end(ap);
}

/* A check that could not run, and why. */
static void skip(struct verify *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void skip(struct verify *v, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outcome(v, name, DD_VERIFY_SKIP, fmt, ap);
	va_end(ap);
}

static json_t *load_json(const char *path, struct dd_buf *why)
{
	struct dd_buf text = DD_BUF_INIT;
	json_error_t err;
	json_t *j = NULL;

	dd_buf_reset(why);
	if (dd_read_regular(path, MAX_DOC, &text)) {
		dd_buf_adds(why, dd_error_detail());
	} else if (!(j = json_loadb(text.ptr, text.len, 0, &err))) {
		dd_buf_addf(why, "%s:%d: not JSON: %s", path, err.line, err.text);
	}
	dd_buf_release(&text);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* ---- what was given ------------------------------------------------------------ */

static char *join(const char *dir, const char *name)
{
	struct dd_buf p = DD_BUF_INIT;

	dd_buf_addf(&p, "%s/%s", dir, name);
	return dd_buf_detach(&p, NULL);
}

/* dir/name when it exists (or always, when required), else NULL. */
static char *beside(const char *dir, const char *name, bool required)
{
	char *p = join(dir, name);
	struct stat sb;

	if (!required && lstat(p, &sb)) {
		free(p);
		return NULL;
	}
	return p;
}

static bool is_layout(const char *dir)
{
	char *a = join(dir, "oci-layout"), *b = join(dir, "index.json");
	bool yes = !access(a, F_OK) && !access(b, F_OK);

	free(a);
	free(b);
	return yes;
}

/* Unpack the archive into a temporary folder and take the layout from it. */
static int unpack(struct verify *v)
{
	const char *tmp = getenv("TMPDIR");
	struct dd_buf dir = DD_BUF_INIT;
	int rc;

	dd_buf_addf(&dir, "%s/drydock-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.ptr)) {
		rc = dd_error_errno("%s", dir.ptr);
		dd_buf_release(&dir);
		return rc;
	}
	v->unpacked = dd_buf_detach(&dir, NULL);
	rc = dd_oci_unpack(v->archive, v->unpacked);
	if (!rc)
		v->layout = dd_xstrdup(v->unpacked);
	else
		v->unpack_why = dd_xstrdup(dd_error_detail());
	v->layout_from = "the image in the oci-archive";
	return rc;
}

/*
 * What o->run is: an oci-archive (a file), an OCI image layout (a folder
 * with oci-layout and index.json), or a run folder (with image/, or only
 * image.oci.tar).  The provenance and SBOMs are given or found beside it.
 */
static void locate(struct verify *v)
{
	const char *run = v->o->run;
	char *base = NULL, *slash;
	struct stat sb;

	v->layout_from = "the image layout";
	if (!stat(run, &sb) && S_ISREG(sb.st_mode)) {
		v->archive = dd_xstrdup(run);
	} else if (!stat(run, &sb) && S_ISDIR(sb.st_mode) && is_layout(run)) {
		v->layout = dd_xstrdup(run);
	} else {
		v->run_folder = true;
		base = dd_xstrdup(run);
		v->archive = beside(base, "image.oci.tar", false);
		v->layout = join(base, "image");
		if (stat(v->layout, &sb) && v->archive) {
			free(v->layout);
			v->layout = NULL;
		}
	}
	if (!base) {
		base = dd_xstrdup(run);
		while ((slash = strrchr(base, '/')) && !slash[1] && slash > base)
			*slash = 0;
		slash = strrchr(base, '/');
		if (slash)
			slash[slash == base] = 0;
		else
			strcpy(base, ".");
	}
	if (!v->layout && v->archive && unpack(v)) {
		/* the layout check says why */
	}
	v->prov = v->o->provenance ? dd_xstrdup(v->o->provenance)
				   : beside(base, DD_PROVENANCE_FILE, v->run_folder);
	v->spdx = v->o->spdx ? dd_xstrdup(v->o->spdx) : beside(base, "sbom.spdx.json",
								v->run_folder);
	v->cdx = v->o->cdx ? dd_xstrdup(v->o->cdx) : beside(base, "sbom.cdx.json", v->run_folder);
	v->vex = beside(base, "vex.openvex.json", false);
	v->vex_cdx = beside(base, "vex.cdx.json", false);
	if (v->run_folder) {
		v->log = join(base, "build.log");
		v->result = join(base, "result.json");
		v->record = join(base, DD_RECORD_FILE);
	}
	free(base);
}

/* ---- signatures ---------------------------------------------------------------- */

/* The envelope's signatures against the keys the mirror trusts for provenance. */
static bool mirror_signature(struct verify *v, const struct dd_dsse *e, const struct dd_buf *pae,
			     struct dd_buf *msg)
{
	struct dd_store *s = NULL;
	struct dd_trust t;
	char fpr[41];
	bool ok = false;

	if (dd_store_open(v->o->mirror, 0, &s) || dd_trustdb_load(s, &t)) {
		dd_buf_adds(msg, dd_error_detail());
		dd_store_close(s);
		return false;
	}
	for (size_t i = 0; i < e->n_sigs && !ok; i++) {
		const struct dd_dsse_sig *g = &e->sigs[i];
		struct dd_sigkey k;
		int rc;

		dd_buf_reset(msg);
		if (!strncmp(g->keyid, "SHA256:", 7)) {
			enum dd_sigkey_kind kind = DD_KEY_ED25519;

			rc = dd_trustdb_provenance_key(s, g->keyid, &k);
			if (!rc) {
				kind = k.kind;
				rc = dd_sigkey_verify(&k, pae->ptr, pae->len, g->sig.ptr, g->sig.len);
				dd_sigkey_close(&k);
			}
			if (!rc) {
				dd_buf_addf(msg, "good %s signature by %s, a key the mirror trusts for "
					    "provenance", dd_sigkey_kind_str(kind), g->keyid);
				ok = true;
				break;
			}
		} else {
			rc = dd_pgp_verify(t.pgp, pae->ptr, pae->len, g->sig.ptr, g->sig.len, fpr);
			if (!rc && dd_trust_has(&t, DD_ROLE_PROVENANCE, fpr)) {
				dd_buf_addf(msg, "good openpgp signature by %s, a key the mirror "
					    "trusts for provenance", fpr);
				ok = true;
				break;
			}
			if (!rc)
				rc = dd_error(DD_E_SIG_UNKNOWN, "signed by %s, which the mirror does "
					      "not trust for provenance", fpr);
		}
		dd_buf_adds(msg, dd_error_detail());
	}
	dd_trustdb_unload(&t);
	dd_store_close(s);
	return ok;
}

static bool same_id(const char *a, const char *b)
{
	return *a && !strcasecmp(a, b);
}

/*
 * The envelope's signatures against the given key.  Key ids are compared
 * when no signature verifies, so that "signed by another key" (the
 * envelope's keyid, or for OpenPGP the issuer in the signature packet,
 * differs from the key given) and "BAD signature" (the key is the one
 * that signed: the data changed) are different answers.
 */
static bool key_signature(struct dd_sigkey *key, const struct dd_dsse *e,
			  const struct dd_buf *pae, struct dd_buf *msg)
{
	const char *other = NULL;

	for (size_t i = 0; i < e->n_sigs; i++) {
		int rc = dd_sigkey_verify(key, pae->ptr, pae->len, e->sigs[i].sig.ptr,
					  e->sigs[i].sig.len);

		if (!rc) {
			dd_buf_reset(msg);
			dd_buf_addf(msg, "good %s signature by %s", dd_sigkey_kind_str(key->kind),
				    key->fingerprint);
			return true;
		}
		if (same_id(e->sigs[i].keyid, key->fingerprint)) {
			dd_buf_reset(msg);
			dd_buf_addf(msg, "BAD signature: the signature by %s does not verify: the "
				    "signed data changed after signing (%s)", key->fingerprint,
				    dd_error_detail());
			return false;
		}
		if (!other)
			other = e->sigs[i].keyid;
		if (key->kind == DD_KEY_OPENPGP && strstr(dd_error_detail(), "signed by another key")) {
			dd_buf_reset(msg);
			dd_buf_addf(msg, "%s (from the signature packet): get that key's public key "
				    "from a source you trust", dd_error_detail());
			return false;
		}
	}
	dd_buf_reset(msg);
	if (other && *other)
		dd_buf_addf(msg, "signed by another key (%s, as the envelope's keyid says), not by "
			    "the %s key %s given: get the signer's public key from a source you "
			    "trust", other, dd_sigkey_kind_str(key->kind), key->fingerprint);
	else
		dd_buf_addf(msg, "BAD signature: no signature verifies with %s key %s and none "
			    "names its signer (%s)", dd_sigkey_kind_str(key->kind), key->fingerprint,
			    dd_error_detail());
	return false;
}

/* The signatures of envelope e (read from file) with --key or the mirror. */
static bool envelope_signed(struct verify *v, const char *file, const struct dd_dsse *e,
			    struct dd_buf *msg)
{
	struct dd_buf pae = DD_BUF_INIT;
	struct dd_sigkey key;
	bool ok = false, name_file = false;

	dd_dsse_pae(e->type, e->payload.ptr, e->payload.len, &pae);
	if (strcmp(e->type, DD_INTOTO_PAYLOAD_TYPE)) {
		dd_buf_addf(msg, "%s: payloadType is '%s', not %s", file, e->type,
			    DD_INTOTO_PAYLOAD_TYPE);
	} else if (!e->n_sigs) {
		dd_buf_addf(msg, "%s carries no signature (the run was built without --sign)",
			    file);
	} else if (!v->o->key && !v->o->mirror) {
		dd_buf_adds(msg, "no key to check it with: give --key with the signer's public "
			    "key, from a source you trust, or --mirror with a mirror that trusts "
			    "it for provenance");
	} else if (!v->o->key) {
		ok = mirror_signature(v, e, &pae, msg);
		name_file = !ok;
	} else if (dd_sigkey_open_public(v->o->key, &key)) {
		dd_buf_adds(msg, dd_error_detail());
	} else {
		ok = key_signature(&key, e, &pae, msg);
		name_file = !ok;
		dd_sigkey_close(&key);
	}
	if (name_file) {
		char *m = dd_buf_detach(msg, NULL);

		dd_buf_addf(msg, "%s: %s", file, m ? m : "");
		free(m);
	}
	dd_buf_release(&pae);
	return ok;
}

static void check_envelope(struct verify *v)
{
	struct dd_dsse e;
	struct dd_buf msg = DD_BUF_INIT;
	json_error_t jerr;
	bool ok;

	if (!v->prov) {
		check(v, "signature", false, "no %s beside %s: give --provenance FILE",
		      DD_PROVENANCE_FILE, v->o->run);
		check(v, "statement", false, "no statement to read");
		return;
	}
	if (dd_dsse_read(v->prov, &e)) {
		check(v, "signature", false, "%s", dd_error_detail());
		check(v, "statement", false, "no statement to read");
		return;
	}
	ok = envelope_signed(v, DD_PROVENANCE_FILE, &e, &msg);
	check(v, "signature", ok, "%s", msg.ptr ? msg.ptr : "");
	v->st = json_loadb(e.payload.ptr, e.payload.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v->st) {
		check(v, "statement", false, "the payload is not JSON: %s", jerr.text);
	} else if (strcmp(jstr(v->st, "_type"), DD_INTOTO_STATEMENT) ||
		   strcmp(jstr(v->st, "predicateType"), DD_SLSA_PROVENANCE) ||
		   !json_is_array(json_object_get(v->st, "subject")) ||
		   !json_array_size(json_object_get(v->st, "subject"))) {
		check(v, "statement", false, "not an in-toto Statement v1 with subjects and an "
		      "SLSA Provenance v1 predicate");
		json_decref(v->st);
		v->st = NULL;
	} else {
		json_t *bd = json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");
		json_t *job = json_object_get(json_object_get(bd, "externalParameters"), "job");

		if (strcmp(jstr(bd, "buildType"), DD_BUILD_TYPE))
			check(v, "statement", false, "buildType is '%s', not drydock's %s",
			      jstr(bd, "buildType"), DD_BUILD_TYPE);
		else
			check(v, "statement", true, "SLSA v1 provenance of job %s (sha256 %.12s...)",
			      jstr(job, "path"), jstr(job, "sha256"));
	}
	dd_buf_release(&msg);
	dd_dsse_release(&e);
}

/* The subject named name (NULL: the first), its sha256 or "". */
static const char *subject_sha(struct verify *v, const char *name)
{
	json_t *subs = json_object_get(v->st, "subject"), *s;
	size_t i;

	json_array_foreach(subs, i, s) {
		if (!name || !strcmp(jstr(s, "name"), name))
			return jstr(json_object_get(s, "digest"), "sha256");
	}
	return "";
}

/* ---- the layout ---------------------------------------------------------------- */

static void blob_path(const struct verify *v, const char *hex, struct dd_buf *path)
{
	dd_buf_reset(path);
	dd_buf_addf(path, "%s/blobs/sha256/%s", v->layout, hex);
}

/*
 * Check the blob of descriptor d (its sha256 into hex); load it as JSON
 * into *doc when asked.  The blob is read only when it is a regular file
 * no larger than its descriptor says.
 */
static bool check_blob(struct verify *v, json_t *d, char hex[65], json_t **doc,
		       struct dd_buf *why)
{
	json_t *js = json_object_get(d, "size");
	json_int_t size = json_integer_value(js);
	struct dd_buf path = DD_BUF_INIT;
	char got_hex[65];
	uint64_t got;
	bool ok = false;
	int rc;

	if (dd_digest_parse(json_string_value(json_object_get(d, "digest")), hex)) {
		dd_buf_addf(why, "a descriptor of the layout: %s", dd_error_detail());
		return false;
	}
	if (!json_is_integer(js) || size < 0) {
		dd_buf_addf(why, "the descriptor of sha256:%s has no size", hex);
		return false;
	}
	blob_path(v, hex, &path);
	rc = dd_sha256_regular(path.ptr, (uint64_t)size, got_hex, &got);
	if (rc == DD_E_LIMIT)
		dd_buf_addf(why, "blob sha256:%s: larger than the %lld bytes its descriptor says",
			    hex, (long long)size);
	else if (rc)
		dd_buf_addf(why, "%s", dd_error_detail());
	else if (strcmp(got_hex, hex))
		dd_buf_addf(why, "blob sha256:%s: its content hashes to sha256:%s", hex, got_hex);
	else if ((json_int_t)got != size)
		dd_buf_addf(why, "blob sha256:%s: %llu bytes, its descriptor says %lld", hex,
			    (unsigned long long)got, (long long)size);
	else
		ok = true;
	if (ok && doc && !(*doc = load_json(path.ptr, why)))
		ok = false;
	dd_buf_release(&path);
	return ok;
}

static void add_key(json_t *set, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_key(json_t *set, const char *fmt, ...)
{
	char *k;
	va_list ap;

	va_start(ap, fmt);
	k = dd_xvasprintf(fmt, ap);
	va_end(ap);
	json_object_set_new(set, k, json_true());
	free(k);
}

/* "name@version" of each package in an apk installed database. */
static void parse_db(const char *text, size_t len, json_t *set)
{
	struct dd_blob b = { text, len }, l;
	char *name = NULL;

	while (b.len) {
		dd_blob_split(&b, '\n', &l);
		if (l.len > 2 && !memcmp(l.ptr, "P:", 2)) {
			free(name);
			name = strndup(l.ptr + 2, l.len - 2);
		} else if (l.len > 2 && !memcmp(l.ptr, "V:", 2) && name) {
			add_key(set, "%s@%.*s", name, (int)(l.len - 2), l.ptr + 2);
			free(name);
			name = NULL;
		}
	}
	free(name);
}

/* The packages of an SPDX document: "name@version sha256" into all and,
 * when by_arch is not NULL, "name@version sha256 arch" into by_arch. */
static void spdx_packages(json_t *doc, json_t *all, json_t *by_arch)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "packages"), i, p) {
		json_t *ref = json_array_get(json_object_get(p, "externalRefs"), 0);
		const char *a = strstr(jstr(ref, "referenceLocator"), "?arch="), *sha;

		if (strncmp(jstr(p, "SPDXID"), "SPDXRef-Package-", 16))
			continue;
		sha = jstr(json_array_get(json_object_get(p, "checksums"), 0), "checksumValue");
		add_key(all, "%s@%s %s", jstr(p, "name"), jstr(p, "versionInfo"), sha);
		if (by_arch)
			add_key(by_arch, "%s@%s %s %s", jstr(p, "name"), jstr(p, "versionInfo"), sha,
				a ? a + 6 : "?");
	}
}

/* The uncompressed stream of a layer, hashed as the tar reader pulls it. */
struct layer_stream {
	struct archive *raw;   /* decompresses the blob (format "raw") */
	EVP_MD_CTX *md;
	char buf[1 << 16];
	bool failed;
};

static la_ssize_t layer_read(struct archive *tar, void *ctx, const void **out)
{
	struct layer_stream *ls = ctx;
	la_ssize_t n = archive_read_data(ls->raw, ls->buf, sizeof(ls->buf));

	(void)tar;
	if (n < 0) {
		ls->failed = true;
		return -1;
	}
	EVP_DigestUpdate(ls->md, ls->buf, (size_t)n);
	*out = ls->buf;
	return n;
}

static bool wanted(const char *name, bool *db, bool *arch, bool *sbom)
{
	size_t nl = strlen(name);

	*db = !strcmp(name, "usr/lib/apk/db/installed");
	*arch = !strcmp(name, "etc/apk/arch");
	*sbom = !strncmp(name, DD_IMAGE_SBOM_DIR "/", sizeof(DD_IMAGE_SBOM_DIR)) && nl > 10 &&
		!strcmp(name + nl - 10, ".spdx.json");
	return *db || *arch || *sbom;
}

/* Keep what a layer says of the image (later layers override earlier ones). */
static void take_file(struct image *img, bool db, bool arch, const struct dd_buf *data)
{
	const char *text = data->ptr ? data->ptr : "";

	if (db) {
		json_object_clear(img->db);
		parse_db(text, data->len, img->db);
		img->has_db = true;
	} else if (arch) {
		free(img->arch);
		img->arch = strndup(text, strcspn(text, "\n"));
	} else {
		json_t *doc = json_loadb(text, data->len, 0, NULL);

		json_object_clear(img->sbom);
		if (doc)
			spdx_packages(doc, img->sbom, NULL);
		img->has_sbom = doc != NULL;
		json_decref(doc);
	}
}

/*
 * A member whose name (or hard link target) is empty, absolute or has a
 * '..' component would be written outside the image root: drydock never
 * writes one, so a layer holding one was not made by it.
 */
static bool member_safe(const char *layer, struct archive_entry *e, struct dd_buf *why)
{
	const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	bool named = name && *name;

	while (named && !strncmp(name, "./", 2))
		name += 2; /* "./" alone is the root itself */
	if (named && dd_tar_path_safe(name) && (!hl || (*hl && dd_tar_path_safe(hl))))
		return true;
	dd_buf_addf(why, "%s: member '%s'%s%s%s would be written outside the image root", layer,
		    name ? name : "", hl ? " (a hard link to '" : "", hl ? hl : "",
		    hl ? "')" : "");
	return false;
}

/*
 * Read a layer once: the tar reader pulls the decompressed stream through
 * a sha256 (the diff_id) and keeps the apk database, the architecture and
 * the SBOM it finds.
 */
static int scan_layer(const char *path, uint64_t size, char diff[72], struct image *img,
		      struct dd_buf *why)
{
	struct layer_stream ls = { .raw = archive_read_new(), .md = EVP_MD_CTX_new() };
	struct archive *tar = archive_read_new();
	struct archive_entry *e;
	unsigned char d[32];
	uint64_t got;
	la_ssize_t n;
	int rc = -1, fd = dd_open_regular(path, size, &got);

	EVP_DigestInit_ex(ls.md, EVP_sha256(), NULL);
	archive_read_support_filter_all(ls.raw);
	archive_read_support_format_raw(ls.raw);
	archive_read_support_format_tar(tar);
	if (fd < 0) {
		dd_buf_adds(why, dd_error_detail());
		goto out;
	}
	if (archive_read_open_fd(ls.raw, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(ls.raw, &e) != ARCHIVE_OK) {
		dd_buf_addf(why, "%s: %s", path, archive_error_string(ls.raw));
		goto out;
	}
	if (archive_read_open(tar, &ls, NULL, layer_read, NULL) != ARCHIVE_OK)
		goto bad_tar;
	while ((rc = archive_read_next_header(tar, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		struct dd_buf data = DD_BUF_INIT;
		char chunk[1 << 14];
		bool db, arch, sbom;

		if (!member_safe(path, e, why)) {
			rc = -1;
			goto out;
		}
		while (name && !strncmp(name, "./", 2))
			name += 2;
		if (!name || archive_entry_filetype(e) != AE_IFREG || !wanted(name, &db, &arch, &sbom))
			continue;
		if (archive_entry_size(e) > (la_int64_t)MAX_DOC) {
			dd_buf_addf(why, "%s: %s is too large", path, name);
			rc = -1;
			goto out;
		}
		while ((n = archive_read_data(tar, chunk, sizeof(chunk))) > 0)
			dd_buf_add(&data, chunk, (size_t)n);
		take_file(img, db, arch, &data);
		dd_buf_release(&data);
	}
	if (rc != ARCHIVE_EOF)
		goto bad_tar;
	/* what follows the end of the archive counts for the diff_id too */
	{
		const void *p;

		while ((n = layer_read(tar, &ls, &p)) > 0)
			;
	}
	if (ls.failed) {
		dd_buf_addf(why, "%s: %s", path, archive_error_string(ls.raw));
		rc = -1;
		goto out;
	}
	EVP_DigestFinal_ex(ls.md, d, NULL);
	memcpy(diff, "sha256:", 7);
	dd_hex(d, 32, diff + 7);
	rc = 0;
	goto out;
bad_tar:
	dd_buf_addf(why, "%s: %s", path, ls.failed ? archive_error_string(ls.raw)
						     : archive_error_string(tar));
	if (!ls.failed)
		dd_buf_adds(why, " (not a tar archive)");
	rc = -1;
out:
	archive_read_free(tar);
	archive_read_free(ls.raw);
	EVP_MD_CTX_free(ls.md);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* One image manifest: its config and layers. */
static void check_manifest(struct verify *v, json_t *desc, int *n_blobs, int *n_layers,
			   struct dd_buf *blob_why, struct dd_buf *diff_why)
{
	json_t *m = NULL, *cfg = NULL, *l, *diffs;
	struct image *img;
	char hex[65];
	size_t i;

	(*n_blobs)++;
	if (!check_blob(v, desc, hex, &m, blob_why))
		return;
	v->imgs = dd_xrealloc(v->imgs, (v->n_imgs + 1) * sizeof(*v->imgs));
	img = &v->imgs[v->n_imgs++];
	memset(img, 0, sizeof(*img));
	img->manifest = dd_xstrdup(jstr(desc, "digest")); /* checked by check_blob */
	img->db = json_object();
	img->sbom = json_object();
	(*n_blobs)++;
	if (!check_blob(v, json_object_get(m, "config"), hex, &cfg, blob_why))
		goto out;
	diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (json_array_size(diffs) != json_array_size(json_object_get(m, "layers")) &&
	    !diff_why->len)
		dd_buf_addf(diff_why, "manifest %s has %zu layers, its config %zu diff_ids",
			    img->manifest, json_array_size(json_object_get(m, "layers")),
			    json_array_size(diffs));
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		struct dd_buf path = DD_BUF_INIT;
		const char *want = json_string_value(json_array_get(diffs, i));
		char got[72];

		(*n_blobs)++;
		if (!check_blob(v, l, hex, NULL, blob_why))
			continue;
		(*n_layers)++;
		blob_path(v, hex, &path);
		if (scan_layer(path.ptr, (uint64_t)json_integer_value(json_object_get(l, "size")),
			       got, img, diff_why)) {
			dd_buf_release(&path);
			continue;
		}
		if ((!want || strcmp(want, got)) && !diff_why->len)
			dd_buf_addf(diff_why, "layer %s uncompresses to %s, the config's diff_id "
				    "is %s", jstr(l, "digest"), got, want ? want : "missing");
		dd_buf_release(&path);
	}
out:
	json_decref(m);
	json_decref(cfg);
}

/* Some subject of the statement has this sha256. */
static bool is_subject(struct verify *v, const char *hex)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(v->st, "subject"), i, s)
		if (!strcmp(jstr(json_object_get(s, "digest"), "sha256"), hex))
			return true;
	return false;
}

/* The first subject is the layout's top (manifest or index); an index's
 * manifests are subjects too. */
static void check_subject(struct verify *v, json_t *top, bool index)
{
	const char *digest = jstr(top, "digest");
	char hex[65];

	if (dd_digest_parse(json_string_value(json_object_get(top, "digest")), hex)) {
		check(v, "subject", false, "image/index.json: %s", dd_error_detail());
		return;
	}
	if (!v->st) {
		check(v, "subject", false, "no statement to compare with the layout's %s", digest);
		return;
	}
	if (strcmp(subject_sha(v, NULL), hex)) {
		check(v, "subject", false, "the statement is about sha256:%s, the image layout "
		      "holds %s", subject_sha(v, NULL), digest);
		return;
	}
	for (size_t i = 0; index && i < v->n_imgs; i++) {
		if (!is_subject(v, v->imgs[i].manifest + 7)) {
			check(v, "subject", false, "the index's manifest %s is not a subject of the "
			      "statement", v->imgs[i].manifest);
			return;
		}
	}
	check(v, "subject", true, "the statement is about this image, %s", digest);
}

static void check_layout(struct verify *v)
{
	struct dd_buf why = DD_BUF_INIT, blob_why = DD_BUF_INIT, diff_why = DD_BUF_INIT;
	json_t *top, *sub = NULL, *d;
	int n_blobs = 0, n_layers = 0;
	size_t i;

	if (!v->layout) {
		check(v, "subject", false, "%s", v->unpack_why ? v->unpack_why : "no image layout");
		check(v, "blobs", false, "no layout to check");
		check(v, "diff_ids", false, "no layout to check");
		return;
	}
	{
		char *path = join(v->layout, "index.json");

		v->index = load_json(path, &why);
		free(path);
	}
	top = json_array_get(json_object_get(v->index, "manifests"), 0);
	if (!top) {
		check(v, "subject", false, "image/index.json: %s", why.len ? why.ptr
							: "no manifest in the layout");
		check(v, "blobs", false, "no layout to check");
		dd_buf_release(&why);
		return;
	}
	if (!strcmp(jstr(top, "mediaType"), DD_OCI_INDEX)) {
		n_blobs++;
		char hex[65];

		if (check_blob(v, top, hex, &sub, &blob_why))
			json_array_foreach(json_object_get(sub, "manifests"), i, d)
				check_manifest(v, d, &n_blobs, &n_layers, &blob_why, &diff_why);
	} else {
		check_manifest(v, top, &n_blobs, &n_layers, &blob_why, &diff_why);
	}
	check_subject(v, top, sub != NULL);
	if (blob_why.len)
		check(v, "blobs", false, "%s", blob_why.ptr);
	else
		check(v, "blobs", true, "%d blobs match their digests and sizes", n_blobs);
	if (diff_why.len || !n_layers)
		check(v, "diff_ids", false, "%s", diff_why.len ? diff_why.ptr
							  : "no layer could be read");
	else
		check(v, "diff_ids", true, "%d layers match their diff_ids", n_layers);
	json_decref(sub);
	dd_buf_release(&why);
	dd_buf_release(&blob_why);
	dd_buf_release(&diff_why);
}

/* ---- the files and what they list ------------------------------------------------ */

static void check_files(struct verify *v)
{
	/* the VEX documents (the last two) exist when advisories applied */
	const char *names[] = { "image.oci.tar", "sbom.spdx.json", "sbom.cdx.json",
				"vex.openvex.json", "vex.cdx.json" };
	const char *paths[] = { v->archive, v->spdx, v->cdx, v->vex, v->vex_cdx };
	struct dd_buf why = DD_BUF_INIT, seen = DD_BUF_INIT, absent = DD_BUF_INIT;

	for (size_t i = 0; i < 5 && !why.len; i++) {
		const char *want = v->st ? subject_sha(v, names[i]) : "";
		char hex[65];

		if (i >= 3 && !paths[i] && !*want)
			continue;
		if (!paths[i] && !v->run_folder) {
			dd_buf_addf(&absent, "%s%s", absent.len ? ", " : "", names[i]);
			continue;
		}
		if (!paths[i])
			dd_buf_addf(&why, "%s is missing from the run folder", names[i]);
		else if (!*want)
			dd_buf_addf(&why, "%s is not a subject of the statement", names[i]);
		else if (dd_sha256_regular(paths[i], MAX_FILE, hex, NULL))
			dd_buf_adds(&why, dd_error_detail());
		else if (strcmp(hex, want))
			dd_buf_addf(&why, "%s: its content hashes to sha256:%s, the statement says "
				    "sha256:%s (the file was changed after the build)", names[i], hex,
				    want);
		else
			dd_buf_addf(&seen, "%s%s", seen.len ? ", " : "", names[i]);
	}
	if (strchr(seen.ptr ? seen.ptr : "", ',')) {
		/* "a, b and c" */
		char *last = strrchr(seen.ptr, ',');
		struct dd_buf t = DD_BUF_INIT;

		dd_buf_addf(&t, "%.*s and %s", (int)(last - seen.ptr), seen.ptr, last + 2);
		dd_buf_release(&seen);
		seen = t;
	}
	if (why.len)
		check(v, "files", false, "%s", why.ptr);
	else if (!seen.len)
		skip(v, "files", "neither image.oci.tar nor the SBOMs are beside %s: give --spdx and --cdx, "
		     "or check the archive", v->o->run);
	else
		check(v, "files", true, "%s %s the statement names%s%s%s", seen.ptr,
		      strstr(seen.ptr, " and ") ? "are the ones" : "is the one",
		      absent.len ? " (not present: " : "",
		      absent.len ? absent.ptr : "", absent.len ? ")" : "");
	dd_buf_release(&why);
	dd_buf_release(&seen);
	dd_buf_release(&absent);
}

/* record.intoto.json: build.log, result.json and the provenance, signed. */
static void check_record(struct verify *v)
{
	const char *names[] = { "build.log", "result.json", DD_PROVENANCE_FILE };
	const char *paths[] = { v->log, v->result, v->prov };
	struct dd_buf why = DD_BUF_INIT;
	struct dd_dsse e;
	json_t *st = NULL, *s;
	size_t i;

	if (!v->record) {
		skip(v, "record", "a lone image has no build.log, result.json and %s to check",
		     DD_RECORD_FILE);
		return;
	}
	if (dd_dsse_read(v->record, &e)) {
		check(v, "record", false, "%s (a run built before drydock signed its log and "
		      "result has none)", dd_error_detail());
		return;
	}
	if (!envelope_signed(v, DD_RECORD_FILE, &e, &why)) {
		check(v, "record", false, "%s", why.ptr);
		goto out;
	}
	dd_buf_reset(&why);
	st = json_loadb(e.payload.ptr, e.payload.len, JSON_REJECT_DUPLICATES, NULL);
	if (!st || strcmp(jstr(st, "predicateType"), DD_RECORD_TYPE)) {
		check(v, "record", false, "%s: the signed payload is not a drydock run record (%s)",
		      DD_RECORD_FILE, DD_RECORD_TYPE);
		goto out;
	}
	for (size_t k = 0; k < 3 && !why.len; k++) {
		const char *want = NULL;
		char hex[65];

		json_array_foreach(json_object_get(st, "subject"), i, s)
			if (!strcmp(jstr(s, "name"), names[k]))
				want = jstr(json_object_get(s, "digest"), "sha256");
		if (!want)
			dd_buf_addf(&why, "%s is not a subject of the signed record", names[k]);
		else if (dd_sha256_regular(paths[k], MAX_FILE, hex, NULL))
			dd_buf_adds(&why, dd_error_detail());
		else if (strcmp(hex, want))
			dd_buf_addf(&why, "%s: its content hashes to sha256:%s, the signed record "
				    "says sha256:%s (the file was changed after the build)", names[k],
				    hex, want);
	}
	if (why.len)
		check(v, "record", false, "%s", why.ptr);
	else
		check(v, "record", true, "build.log, result.json and %s are the ones the signed "
		      "record names", DD_PROVENANCE_FILE);
out:
	json_decref(st);
	dd_dsse_release(&e);
	dd_buf_release(&why);
}

static void pct_decode(const char *s, size_t n, struct dd_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c;

		if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &c) == 1) {
			char ch = (char)c;

			dd_buf_add(out, &ch, 1);
			i += 2;
		} else {
			dd_buf_add(out, s + i, 1);
		}
	}
}

/* "name@version" of a purl pkg:apk/<channel>/<name>@<version>?arch=<arch>. */
static bool purl_key(const char *purl, struct dd_buf *out, const char **arch)
{
	const char *slash, *at, *q;

	dd_buf_reset(out);
	if (strncmp(purl, "pkg:apk/", 8) || !(slash = strchr(purl + 8, '/')) ||
	    !(at = strchr(slash, '@')) || !(q = strchr(at, '?')) || strncmp(q, "?arch=", 6))
		return false;
	pct_decode(slash + 1, (size_t)(at - slash - 1), out);
	dd_buf_adds(out, "@");
	pct_decode(at + 1, (size_t)(q - at - 1), out);
	*arch = q + 6;
	return true;
}

/* Name what is in a and not in b, and the other way round. */
static void compare(json_t *a, const char *a_name, json_t *b, const char *b_name,
		    struct dd_buf *why)
{
	const char *k;
	json_t *x;
	int shown = 0;

	json_object_foreach(a, k, x) {
		if (!json_object_get(b, k) && shown++ < MAX_SHOWN)
			dd_buf_addf(why, "%s%s lists %s, %s does not", why->len ? "; " : "", a_name,
				    k, b_name);
	}
	json_object_foreach(b, k, x) {
		if (!json_object_get(a, k) && shown++ < MAX_SHOWN)
			dd_buf_addf(why, "%s%s lists %s, %s does not", why->len ? "; " : "", b_name,
				    k, a_name);
	}
	if (shown > MAX_SHOWN)
		dd_buf_addf(why, " (and %d more differences)", shown - MAX_SHOWN);
}

/* The keys of set, cut at the first space ("name@version sha" -> "name@version"). */
static json_t *names_of(json_t *set)
{
	json_t *out = json_object(), *x;
	const char *k;

	json_object_foreach(set, k, x) {
		char *n = strndup(k, strcspn(k, " "));

		json_object_set_new(out, n, json_true());
		free(n);
	}
	return out;
}

static void check_contents(struct verify *v)
{
	struct dd_buf why = DD_BUF_INIT, key = DD_BUF_INIT;
	const char *sp = v->spdx, *cp = v->cdx;
	json_t *spdx = NULL, *cdx, *s_all = json_object(), *s_arch = json_object(),
	       *c_arch = json_object(), *deps = json_object(), *x;
	size_t i;

	if (!sp || !cp) {
		skip(v, "sboms", "no %s beside %s: give --spdx FILE and --cdx FILE", !sp ? "sbom.spdx.json"
		     : "sbom.cdx.json", v->o->run);
		skip(v, "provenance-packages", "no SBOM to compare the provenance with");
		for (i = 0; i < v->n_imgs; i++) {
			skip(v, "installed-db", "%s: no SBOM to compare with", v->imgs[i].manifest);
			skip(v, "image-sbom", "%s: no SBOM to compare with", v->imgs[i].manifest);
		}
		goto out;
	}
	spdx = load_json(sp, &why);
	if (!spdx) {
		check(v, "sboms", false, "%s", why.ptr);
		goto out;
	}
	cdx = load_json(cp, &why);
	if (!cdx) {
		check(v, "sboms", false, "%s", why.ptr);
		goto out;
	}
	spdx_packages(spdx, s_all, s_arch);
	json_array_foreach(json_object_get(cdx, "components"), i, x) {
		const char *arch = "?", *sha;
		json_t *p;
		size_t k;

		if (strcmp(jstr(x, "type"), "library"))
			continue;
		json_array_foreach(json_object_get(x, "properties"), k, p)
			if (!strcmp(jstr(p, "name"), "drydock:arch"))
				arch = jstr(p, "value");
		sha = jstr(json_array_get(json_object_get(x, "hashes"), 0), "content");
		add_key(c_arch, "%s@%s %s %s", jstr(x, "name"), jstr(x, "version"), sha, arch);
	}
	json_decref(cdx);
	dd_buf_reset(&why);
	compare(s_arch, "sbom.spdx.json", c_arch, "sbom.cdx.json", &why);
	if (why.len)
		check(v, "sboms", false, "%s", why.ptr);
	else
		check(v, "sboms", true, "SPDX and CycloneDX list the same %zu packages and hashes",
		      json_object_size(s_arch));
	/* provenance */
	dd_buf_reset(&why);
	if (v->st) {
		json_t *bd = json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");

		json_array_foreach(json_object_get(bd, "resolvedDependencies"), i, x) {
			const char *arch;

			if (strcmp(jstr(json_object_get(x, "annotations"), "kind"), "package"))
				continue;
			if (!purl_key(jstr(x, "uri"), &key, &arch))
				dd_buf_addf(&why, "%sresolvedDependencies[%zu] has uri '%s', not an apk "
					    "purl", why.len ? "; " : "", i, jstr(x, "uri"));
			else
				add_key(deps, "%s %s", key.ptr,
					jstr(json_object_get(x, "digest"), "sha256"));
		}
		compare(deps, "the provenance", s_all, "sbom.spdx.json", &why);
		if (why.len)
			check(v, "provenance-packages", false, "%s", why.ptr);
		else
			check(v, "provenance-packages", true, "resolvedDependencies name the same %zu "
			      "package blobs as the SBOMs", json_object_size(deps));
	} else {
		check(v, "provenance-packages", false, "no statement to compare with the SBOMs");
	}
	/* each image's own database and SBOM */
	for (i = 0; i < v->n_imgs; i++) {
		struct image *img = &v->imgs[i];
		json_t *want = json_object(), *names;
		const char *k;

		json_object_foreach(s_arch, k, x) {
			const char *a = strrchr(k, ' ');

			if (img->arch && !strcmp(a + 1, img->arch)) {
				char *n = strndup(k, (size_t)(a - k));

				json_object_set_new(want, n, json_true());
				free(n);
			}
		}
		names = names_of(want);
		dd_buf_reset(&why);
		if (!img->has_db)
			dd_buf_addf(&why, "image %s has no usr/lib/apk/db/installed", img->manifest);
		else
			compare(img->db, "the image's installed database", names, "sbom.spdx.json",
				&why);
		if (why.len)
			check(v, "installed-db", false, "%s (%s): %s", img->arch ? img->arch : "?",
			      img->manifest, why.ptr);
		else
			check(v, "installed-db", true, "%s: the image's apk database holds the same "
			      "%zu packages", img->arch, json_object_size(names));
		dd_buf_reset(&why);
		if (!img->has_sbom)
			dd_buf_addf(&why, "image %s has no readable SBOM under /%s/",
				    img->manifest, DD_IMAGE_SBOM_DIR);
		else
			compare(img->sbom, "the SBOM inside the image", want, "sbom.spdx.json", &why);
		if (why.len)
			check(v, "image-sbom", false, "%s (%s): %s", img->arch ? img->arch : "?",
			      img->manifest, why.ptr);
		else
			check(v, "image-sbom", true, "%s: the SBOM inside the image lists the same "
			      "%zu packages and hashes", img->arch, json_object_size(want));
		json_decref(want);
		json_decref(names);
	}
out:
	json_decref(spdx);
	json_decref(s_all);
	json_decref(s_arch);
	json_decref(c_arch);
	json_decref(deps);
	dd_buf_release(&why);
	dd_buf_release(&key);
}

/* ---- the mirror ------------------------------------------------------------------------ */

/* The signature blob sig_sha over blob doc_sha verifies with a key trusted for role. */
static bool signed_by_trusted(struct dd_store *s, struct dd_trust *t, enum dd_role role,
			      const char *doc_sha, const char *sig_sha, struct dd_buf *why)
{
	struct dd_buf doc = DD_BUF_INIT, sig = DD_BUF_INIT, path = DD_BUF_INIT;
	char fpr[41] = "";
	bool ok = false;
	int rc = dd_read_regular(dd_store_blob_path(s, doc_sha, &path), MAX_DOC, &doc);

	if (!rc)
		rc = dd_read_regular(dd_store_blob_path(s, sig_sha, &path), MAX_DOC, &sig);
	if (!rc)
		rc = dd_pgp_verify(t->pgp, doc.ptr, doc.len, sig.ptr, sig.len, fpr);
	if (rc)
		dd_buf_addf(why, "%s", dd_error_detail());
	else if (!dd_trust_has(t, role, fpr))
		dd_buf_addf(why, "signed by %s, which the mirror does not trust for %s", fpr,
			    dd_role_str(role));
	else
		ok = true;
	dd_buf_release(&doc);
	dd_buf_release(&sig);
	dd_buf_release(&path);
	return ok;
}

/*
 * A bundle manifest's signature verifies with a key trusted for bundles:
 * the signature recorded at import or, in a mirror imported before that
 * was recorded, any manifest signature the mirror keeps.
 */
struct any_signature {
	struct dd_store *s;
	struct dd_trust *t;
	const char *sha;
};

static int try_signature(void *ctx, const char *sig_sha)
{
	struct any_signature *a = ctx;
	struct dd_buf ignored = DD_BUF_INIT;
	bool ok = signed_by_trusted(a->s, a->t, DD_ROLE_BUNDLE, a->sha, sig_sha, &ignored);

	dd_buf_release(&ignored);
	return ok;
}

static bool bundle_signed(struct dd_store *s, struct dd_trust *t, const char *sha,
			  struct dd_buf *why)
{
	struct any_signature any = { s, t, sha };
	struct dd_buf sig = DD_BUF_INIT;
	bool ok = false;
	int rc = dd_index_lookup(s, DD_LOOKUP_BUNDLE_SIGNATURE, sha, NULL, &sig);

	if (rc > 0) {
		ok = signed_by_trusted(s, t, DD_ROLE_BUNDLE, sha, sig.ptr, why);
	} else if (rc == 0) {
		rc = dd_index_blobs_of_kind(s, "manifest-signature", try_signature, &any);
		ok = rc > 0;
		if (rc == 0)
			dd_buf_addf(why, "no signature in the mirror verifies bundle manifest "
				    "%.12s with a key trusted for bundles", sha);
	}
	if (rc < 0)
		dd_buf_addf(why, "%s", dd_error_detail());
	dd_buf_release(&sig);
	return ok;
}

/* A lookup that found nothing adds what; one that failed, the error. */
static bool found(struct dd_store *s, enum dd_index_lookup q, const char *a, const char *b,
		  struct dd_buf *val, struct dd_buf *why, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static bool found(struct dd_store *s, enum dd_index_lookup q, const char *a, const char *b,
		  struct dd_buf *val, struct dd_buf *why, const char *fmt, ...)
{
	int rc = dd_index_lookup(s, q, a, b, val);
	va_list ap;
	char *msg;

	if (rc > 0)
		return true;
	if (rc < 0) {
		dd_buf_addf(why, "%s", dd_error_detail());
		return false;
	}
	va_start(ap, fmt);
	msg = dd_xvasprintf(fmt, ap);
	dd_buf_adds(why, msg);
	free(msg);
	va_end(ap);
	return false;
}

static void check_mirror(struct verify *v)
{
	struct dd_store *s = NULL;
	struct dd_trust t;
	struct dd_buf why = DD_BUF_INIT, val = DD_BUF_INIT, path = DD_BUF_INIT;
	json_t *bd, *x;
	size_t i, n[3] = { 0, 0, 0 };
	bool trust = false;

	if (!v->st) {
		check(v, "mirror", false, "no statement: nothing to compare with the mirror");
		return;
	}
	if (dd_store_open(v->o->mirror, 0, &s) || dd_trustdb_load(s, &t)) {
		check(v, "mirror", false, "%s", dd_error_detail());
		dd_store_close(s);
		return;
	}
	trust = true;
	bd = json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");
	json_array_foreach(json_object_get(bd, "resolvedDependencies"), i, x) {
		json_t *ann = json_object_get(x, "annotations");
		const char *kind = jstr(ann, "kind"), *name = jstr(x, "name");
		const char *sha = jstr(json_object_get(x, "digest"), "sha256");
		char hex[65];

		if (why.len)
			break;
		if (!dd_sha256_hex_ok(sha)) {
			dd_buf_addf(&why, "resolvedDependencies[%zu] (%s) has no sha256", i, name);
			break;
		}
		if (dd_sha256_regular(dd_store_blob_path(s, sha, &path), MAX_FILE, hex, NULL)) {
			dd_buf_addf(&why, "%s (sha256:%s) is not in the mirror", name, sha);
			break;
		}
		if (strcmp(hex, sha)) {
			dd_buf_addf(&why, "%s: the mirror's blob %s is damaged (run drydock mirror "
				    "fsck --deep)", name, path.ptr);
			break;
		}
		if (!strcmp(kind, "package")) {
			n[0]++;
			if (!found(s, DD_LOOKUP_PACKAGE_BUNDLE, sha, NULL, &val, &why,
				   "%s (sha256:%s) is not a package in the mirror's index", name,
				   sha))
				;
			else if (strcmp(val.ptr, jstr(ann, "bundle")))
				dd_buf_addf(&why, "%s came from bundle %.12s, the provenance says "
					    "%.12s", name, val.ptr, jstr(ann, "bundle"));
			else
				found(s, DD_LOOKUP_MEMBER_PATH, jstr(ann, "bundle"), sha, &val, &why,
				      "%s is not a member of bundle %.12s", name,
				      jstr(ann, "bundle"));
		} else if (!strcmp(kind, "bundle-manifest")) {
			n[1]++;
			if (found(s, DD_LOOKUP_BUNDLE_CHANNEL, sha, NULL, &val, &why,
				  "bundle %.12s is not in the mirror's index", sha)) {
				char want[256];

				snprintf(want, sizeof(want), "%s:%lld", jstr(ann, "channel"),
					 (long long)json_integer_value(json_object_get(ann,
										"sequence")));
				if (strcmp(val.ptr, want))
					dd_buf_addf(&why, "bundle %.12s is %s in the mirror, %s in the "
						    "provenance", sha, val.ptr, want);
				else
					bundle_signed(s, &t, sha, &why);
			}
		} else if (!strcmp(kind, "entitlement-manifest")) {
			n[2]++;
			if (found(s, DD_LOOKUP_ENTITLEMENT_BUNDLE, sha, NULL, &val, &why,
				  "entitlement manifest sha256:%s is not in the mirror's index",
				  sha) &&
			    found(s, DD_LOOKUP_MEMBER_OF_KIND, jstr(ann, "bundle"),
				  "entitlements-signature", &val, &why,
				  "the entitlement manifest's signature is not in the mirror"))
				signed_by_trusted(s, &t, DD_ROLE_ENTITLEMENT, sha, val.ptr, &why);
		}
	}
	if (why.len)
		check(v, "mirror", false, "%s", why.ptr);
	else
		check(v, "mirror", true, "%zu packages, %zu bundle manifest(s) and %zu entitlement "
		      "manifest(s) are in the mirror as recorded, signed by trusted keys", n[0], n[1],
		      n[2]);
	if (trust)
		dd_trustdb_unload(&t);
	dd_store_close(s);
	dd_buf_release(&why);
	dd_buf_release(&val);
	dd_buf_release(&path);
}

/* ---- rebuild ---------------------------------------------------------------------------- */

static void check_rebuild(struct verify *v)
{
	json_t *job = json_object_get(json_object_get(json_object_get(json_object_get(v->st,
			"predicate"), "buildDefinition"), "externalParameters"), "job");
	const char *file = jstr(job, "path"), *tmp = getenv("TMPDIR");
	json_t *top = json_array_get(json_object_get(v->index, "manifests"), 0), *result = NULL;
	struct dd_buf dir = DD_BUF_INIT, why = DD_BUF_INIT, a = DD_BUF_INIT, b = DD_BUF_INIT;
	struct dd_rebuild_opts ro = { v->o->mirror, NULL, 0, NULL, NULL };
	char want[65], got[65], *run_dir = NULL;

	if (dd_digest_parse(json_string_value(json_object_get(top, "digest")), want)) {
		check(v, "rebuild", false, "image/index.json: %s: nothing to compare a rebuild with",
		      dd_error_detail());
		return;
	}
	dd_buf_addf(&dir, "%s/drydock-rebuild-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.ptr)) {
		check(v, "rebuild", false, "%s: %s", dir.ptr, strerror(errno));
		goto out;
	}
	ro.out = dir.ptr;
	if (dd_rebuild(&ro, v->st, &result, &run_dir)) {
		check(v, "rebuild", false, "rebuilding %s from the recorded inputs failed: %s", file,
		      dd_error_detail());
		goto out;
	}
	if (!dd_digest_parse(json_string_value(json_object_get(result, "digest")), got) &&
	    !strcmp(got, want)) {
		check(v, "rebuild", true, "%s rebuilt from the recorded inputs in the mirror gives "
		      "the same sha256:%s", file, got);
		goto out;
	}
	dd_buf_adds(&a, v->layout ? v->layout : "");
	dd_buf_addf(&b, "%s/image", run_dir);
	dd_layout_diff(a.ptr, b.ptr, "the run", "the rebuild", &why);
	check(v, "rebuild", false, "%s rebuilt from the recorded inputs gives %s, this run holds "
	      "sha256:%s; first difference: %s", file, jstr(result, "digest"), want,
	      why.len ? why.ptr : "none found");
out:
	dd_remove_tree(dir.ptr);
	json_decref(result);
	free(run_dir);
	dd_buf_release(&dir);
	dd_buf_release(&why);
	dd_buf_release(&a);
	dd_buf_release(&b);
}

int dd_verify(const struct dd_verify_opts *o, dd_verify_report report, void *ctx)
{
	struct verify v = { .o = o, .report = report, .ctx = ctx };

	locate(&v);
	check_envelope(&v);
	check_layout(&v);
	check_files(&v);
	check_record(&v);
	check_contents(&v);
	if (o->mirror)
		check_mirror(&v);
	if (o->rebuild && !v.st)
		check(&v, "rebuild", false, "no statement: nothing to rebuild from");
	else if (o->rebuild && !v.layout)
		check(&v, "rebuild", false, "no image layout to compare a rebuild with");
	else if (o->rebuild)
		check_rebuild(&v);
	json_decref(v.st);
	json_decref(v.index);
	for (size_t i = 0; i < v.n_imgs; i++) {
		free(v.imgs[i].manifest);
		free(v.imgs[i].arch);
		json_decref(v.imgs[i].db);
		json_decref(v.imgs[i].sbom);
	}
	free(v.imgs);
	if (v.unpacked)
		dd_remove_tree(v.unpacked);
	free(v.unpacked);
	free(v.unpack_why);
	free(v.layout);
	free(v.archive);
	free(v.prov);
	free(v.spdx);
	free(v.cdx);
	free(v.vex);
	free(v.vex_cdx);
	free(v.log);
	free(v.result);
	free(v.record);
	return v.failed;
}
