/*
 * drydock verify: the files a run holds and what they list.  files hashes
 * the archive, the SBOMs and the VEX documents against the statement's
 * subjects; sboms, provenance-packages, installed-db and image-sbom
 * compare the packages the SBOMs, the provenance and each image name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "evidence/sbom.h"
#include "image/verify_private.h"

#define MAX_SHOWN 4

void dd_verify_files(struct verify *v)
{
	/* the VEX documents (the last two) exist when advisories applied */
	const char *names[] = { "image.oci.tar", "sbom.spdx.json", "sbom.cdx.json",
				"vex.openvex.json", "vex.cdx.json" };
	const char *paths[] = { v->archive, v->spdx, v->cdx, v->vex, v->vex_cdx };
	struct dd_buf why = DD_BUF_INIT, seen = DD_BUF_INIT, absent = DD_BUF_INIT;

	for (size_t i = 0; i < 5 && !why.len; i++) {
		const char *want = v->st ? dd_verify_subject_sha(v, names[i]) : "";
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
			dd_buf_addf(&why,
				    "%s: its content hashes to sha256:%s, the statement says "
				    "sha256:%s (the file was changed after the build)",
				    names[i], hex, want);
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
		skip(v, "files",
		     "neither image.oci.tar nor the SBOMs are beside %s: give --spdx and --cdx, "
		     "or check the archive",
		     v->o->run);
	else
		check(v, "files", true, "%s %s the statement names%s%s%s", seen.ptr,
		      strstr(seen.ptr, " and ") ? "are the ones" : "is the one",
		      absent.len ? " (not present: " : "", absent.len ? absent.ptr : "",
		      absent.len ? ")" : "");
	dd_buf_release(&why);
	dd_buf_release(&seen);
	dd_buf_release(&absent);
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

void dd_verify_spdx_packages(json_t *doc, json_t *all, json_t *by_arch)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "packages"), i, p) {
		json_t *ref = json_array_get(json_object_get(p, "externalRefs"), 0);
		const char *a = strstr(jstr(ref, "referenceLocator"), "?arch="), *sha;

		if (strncmp(jstr(p, "SPDXID"), "SPDXRef-Package-", 16))
			continue;
		sha = jstr(json_array_get(json_object_get(p, "checksums"), 0), "checksumValue");
		dd_verify_add_key(all, "%s@%s %s", jstr(p, "name"), jstr(p, "versionInfo"), sha);
		if (by_arch)
			dd_verify_add_key(by_arch, "%s@%s %s %s", jstr(p, "name"),
					  jstr(p, "versionInfo"), sha, a ? a + 6 : "?");
	}
}

/* "name@version sha256 arch" of each library component of a CycloneDX document. */
static void cdx_packages(json_t *doc, json_t *by_arch)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(doc, "components"), i, x) {
		const char *arch = "?", *sha;
		json_t *p;
		size_t k;

		if (strcmp(jstr(x, "type"), "library"))
			continue;
		json_array_foreach(json_object_get(x, "properties"), k, p)
			if (!strcmp(jstr(p, "name"), "drydock:arch"))
				arch = jstr(p, "value");
		sha = jstr(json_array_get(json_object_get(x, "hashes"), 0), "content");
		dd_verify_add_key(by_arch, "%s@%s %s %s", jstr(x, "name"), jstr(x, "version"), sha,
				  arch);
	}
}

/* Without both SBOMs nothing can be compared. */
static void skip_contents(struct verify *v)
{
	skip(v, "sboms", "no %s beside %s: give --spdx FILE and --cdx FILE",
	     !v->spdx ? "sbom.spdx.json" : "sbom.cdx.json", v->o->run);
	skip(v, "provenance-packages", "no SBOM to compare the provenance with");
	for (size_t i = 0; i < v->n_imgs; i++) {
		skip(v, "installed-db", "%s: no SBOM to compare with", v->imgs[i].manifest);
		skip(v, "image-sbom", "%s: no SBOM to compare with", v->imgs[i].manifest);
	}
}

/*
 * sboms: SPDX and CycloneDX list the same packages and hashes.  The SPDX
 * packages go into s_all and s_arch (dd_verify_spdx_packages); false when
 * an SBOM cannot be read, which the check reports.
 */
static bool check_sboms(struct verify *v, json_t *s_all, json_t *s_arch)
{
	struct dd_buf why = DD_BUF_INIT;
	json_t *spdx = NULL, *cdx = NULL, *c_arch = json_object();
	bool read = false;

	if (!(spdx = dd_verify_load_json(v->spdx, &why)) ||
	    !(cdx = dd_verify_load_json(v->cdx, &why))) {
		check(v, "sboms", false, "%s", why.ptr);
		goto out;
	}
	read = true;
	dd_verify_spdx_packages(spdx, s_all, s_arch);
	cdx_packages(cdx, c_arch);
	dd_buf_reset(&why);
	compare(s_arch, "sbom.spdx.json", c_arch, "sbom.cdx.json", &why);
	if (why.len)
		check(v, "sboms", false, "%s", why.ptr);
	else
		check(v, "sboms", true, "SPDX and CycloneDX list the same %zu packages and hashes",
		      json_object_size(s_arch));
out:
	json_decref(spdx);
	json_decref(cdx);
	json_decref(c_arch);
	dd_buf_release(&why);
	return read;
}

/* provenance-packages: resolvedDependencies name the package blobs s_all lists. */
static void check_provenance_packages(struct verify *v, json_t *s_all)
{
	struct dd_buf why = DD_BUF_INIT, key = DD_BUF_INIT;
	json_t *bd, *deps, *x;
	size_t i;

	if (!v->st) {
		check(v, "provenance-packages", false, "no statement to compare with the SBOMs");
		return;
	}
	deps = json_object();
	bd = json_object_get(json_object_get(v->st, "predicate"), "buildDefinition");
	json_array_foreach(json_object_get(bd, "resolvedDependencies"), i, x) {
		const char *arch;

		if (strcmp(jstr(json_object_get(x, "annotations"), "kind"), "package"))
			continue;
		if (!purl_key(jstr(x, "uri"), &key, &arch))
			dd_buf_addf(&why,
				    "%sresolvedDependencies[%zu] has uri '%s', not an "
				    "apk purl",
				    why.len ? "; " : "", i, jstr(x, "uri"));
		else
			dd_verify_add_key(deps, "%s %s", key.ptr,
					  jstr(json_object_get(x, "digest"), "sha256"));
	}
	compare(deps, "the provenance", s_all, "sbom.spdx.json", &why);
	if (why.len)
		check(v, "provenance-packages", false, "%s", why.ptr);
	else
		check(v, "provenance-packages", true,
		      "resolvedDependencies name the same %zu "
		      "package blobs as the SBOMs",
		      json_object_size(deps));
	json_decref(deps);
	dd_buf_release(&why);
	dd_buf_release(&key);
}

/* "name@version sha256" of the packages s_arch lists for arch. */
static json_t *packages_of_arch(json_t *s_arch, const char *arch)
{
	json_t *want = json_object(), *x;
	const char *k;

	json_object_foreach(s_arch, k, x) {
		const char *a = strrchr(k, ' ');

		if (arch && !strcmp(a + 1, arch)) {
			char *n = strndup(k, (size_t)(a - k));

			json_object_set_new(want, n, json_true());
			free(n);
		}
	}
	return want;
}

/* installed-db and image-sbom: one image against the SBOM's packages of its architecture. */
static void check_image(struct verify *v, const struct image *img, json_t *s_arch)
{
	json_t *want = packages_of_arch(s_arch, img->arch), *names = names_of(want);
	struct dd_buf why = DD_BUF_INIT;

	if (!img->has_db)
		dd_buf_addf(&why, "image %s has no usr/lib/apk/db/installed", img->manifest);
	else
		compare(img->db, "the image's installed database", names, "sbom.spdx.json", &why);
	if (why.len)
		check(v, "installed-db", false, "%s (%s): %s", img->arch ? img->arch : "?",
		      img->manifest, why.ptr);
	else
		check(v, "installed-db", true,
		      "%s: the image's apk database holds the same "
		      "%zu packages",
		      img->arch, json_object_size(names));
	dd_buf_reset(&why);
	if (!img->has_sbom)
		dd_buf_addf(&why, "image %s has no readable SBOM under /%s/", img->manifest,
			    DD_IMAGE_SBOM_DIR);
	else
		compare(img->sbom, "the SBOM inside the image", want, "sbom.spdx.json", &why);
	if (why.len)
		check(v, "image-sbom", false, "%s (%s): %s", img->arch ? img->arch : "?",
		      img->manifest, why.ptr);
	else
		check(v, "image-sbom", true,
		      "%s: the SBOM inside the image lists the same "
		      "%zu packages and hashes",
		      img->arch, json_object_size(want));
	json_decref(want);
	json_decref(names);
	dd_buf_release(&why);
}

void dd_verify_contents(struct verify *v)
{
	json_t *s_all, *s_arch;

	if (!v->spdx || !v->cdx) {
		skip_contents(v);
		return;
	}
	s_all = json_object();
	s_arch = json_object();
	if (check_sboms(v, s_all, s_arch)) {
		check_provenance_packages(v, s_all);
		for (size_t i = 0; i < v->n_imgs; i++)
			check_image(v, &v->imgs[i], s_arch);
	}
	json_decref(s_all);
	json_decref(s_arch);
}
