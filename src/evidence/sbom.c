#include "evidence/sbom.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "core/buf.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/time.h"
#include "version.h"

#define TOOL "drydock-" DD_VERSION

void dd_sbom_init(struct dd_sbom *s)
{
	s->spdx_pkgs = json_array();
	s->spdx_rels = json_array();
	s->cdx_comps = json_array();
	s->cdx_deps = json_array();
	s->images = json_array();
	s->created = 0;
}

void dd_sbom_release(struct dd_sbom *s)
{
	json_decref(s->spdx_pkgs);
	json_decref(s->spdx_rels);
	json_decref(s->cdx_comps);
	json_decref(s->cdx_deps);
	json_decref(s->images);
	memset(s, 0, sizeof(*s));
}

/* SPDX identifiers allow letters, digits, '.' and '-'. */
static void spdx_id(struct dd_buf *out, const char *prefix, const char *arch, const char *name,
		    const char *version)
{
	dd_buf_reset(out);
	dd_buf_addf(out, "SPDXRef-%s-%s-%s%s%s", prefix, arch, name, version ? "-" : "",
		    version ? version : "");
	for (size_t i = 8; i < out->len; i++)
		if (!isalnum((unsigned char)out->ptr[i]) && out->ptr[i] != '.' &&
		    out->ptr[i] != '-')
			out->ptr[i] = '-';
}

/* Percent-encode everything but purl's unreserved characters. */
static void purl_part(struct dd_buf *out, const char *s)
{
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr(".-_~", *s))
			dd_buf_add(out, s, 1);
		else
			dd_buf_addf(out, "%%%02X", (unsigned char)*s);
	}
}

void dd_purl(struct dd_buf *out, const char *channel, const struct dd_apk_pkg *p, const char *arch)
{
	dd_buf_reset(out);
	dd_buf_adds(out, "pkg:apk/");
	purl_part(out, channel);
	dd_buf_adds(out, "/");
	purl_part(out, p->name);
	dd_buf_adds(out, "@");
	purl_part(out, p->version);
	dd_buf_adds(out, "?arch=");
	purl_part(out, arch);
}

/*
 * The declared licence as an SPDX expression: identifiers, AND/OR/WITH
 * and parentheses pass; any other word becomes LicenseRef-<word>.
 * NOASSERTION when the package declares none.
 */
static char *license_expr(const char *lic)
{
	struct dd_buf out = DD_BUF_INIT;

	if (!lic || !*lic)
		return dd_xstrdup("NOASSERTION");
	for (const char *p = lic; *p;) {
		size_t n = strcspn(p, " ()");
		bool ok = n && isalnum((unsigned char)*p);

		if (!n) {
			dd_buf_add(&out, p++, 1);
			continue;
		}
		if ((n == 3 && !strncasecmp(p, "and", 3)) || (n == 2 && !strncasecmp(p, "or", 2)) ||
		    (n == 4 && !strncmp(p, "WITH", 4))) {
			for (size_t i = 0; i < n; i++)
				dd_buf_addf(&out, "%c", toupper((unsigned char)p[i]));
			p += n;
			continue;
		}
		for (size_t i = 0; i < n && ok; i++)
			ok = isalnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-' ||
			     (p[i] == '+' && i == n - 1);
		if (ok && !(n == 6 && !strncmp(p, "custom", 6))) {
			dd_buf_add(&out, p, n);
		} else {
			dd_buf_adds(&out, "LicenseRef-");
			for (size_t i = 0; i < n; i++)
				dd_buf_addf(&out, "%c",
					    isalnum((unsigned char)p[i]) || p[i] == '.' ? p[i]
											: '-');
		}
		p += n;
	}
	return dd_buf_detach(&out, NULL);
}

/* "Name <mail>" -> "Person: Name (mail)"; NOASSERTION when absent. */
static char *supplier(const char *maintainer)
{
	struct dd_buf out = DD_BUF_INIT;
	const char *lt;

	if (!maintainer || !*maintainer)
		return dd_xstrdup("NOASSERTION");
	lt = strchr(maintainer, '<');
	if (lt && strchr(lt, '>')) {
		size_t n = (size_t)(lt - maintainer);

		while (n && maintainer[n - 1] == ' ')
			n--;
		dd_buf_adds(&out, "Person: ");
		dd_buf_add(&out, maintainer, n);
		dd_buf_adds(&out, " (");
		dd_buf_add(&out, lt + 1, (size_t)(strchr(lt, '>') - lt - 1));
		dd_buf_adds(&out, ")");
	} else {
		dd_buf_addf(&out, "Person: %s", maintainer);
	}
	return dd_buf_detach(&out, NULL);
}

static json_t *rel(const char *a, const char *type, const char *b)
{
	return json_pack("{s:s, s:s, s:s}", "spdxElementId", a, "relationshipType", type,
			 "relatedSpdxElement", b);
}

/* One architecture's image while its packages are added to the documents. */
struct sbom_image {
	struct dd_sbom *s;
	const struct dd_catalog *cat;
	const struct dd_plan *p;
	size_t n_crust; /* the first n_crust packages of p are in the crust layer */
	const char *arch;
	const char *id; /* the image's SPDXID */
	char when[32];  /* the annotations' date: the image's epoch */
	json_t *deps;   /* the purls of its packages: the image's CycloneDX dependsOn */
};

/* The image's own SPDX package (a container) and its entry in s->images. */
static void add_container(struct dd_sbom *s, const char *id, const char *tag, const char *arch,
			  const char *manifest_digest)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "SPDXID", id, "name", tag,
			      "downloadLocation", "NOASSERTION", "filesAnalyzed", 0,
			      "primaryPackagePurpose", "CONTAINER", "supplier", "NOASSERTION",
			      "licenseConcluded", "NOASSERTION", "copyrightText", "NOASSERTION");

	if (manifest_digest) {
		json_object_set_new(o, "versionInfo", json_string(manifest_digest));
		json_object_set_new(o, "checksums",
				    json_pack("[{s:s, s:s}]", "algorithm", "SHA256",
					      "checksumValue", manifest_digest + 7));
	}
	json_array_append_new(s->spdx_pkgs, o);
	json_array_append_new(s->images, json_pack("{s:s, s:s, s:s?}", "spdx", id, "arch", arch,
						   "digest", manifest_digest));
}

/* The SPDX package of the plan's package i, whose SPDXID is id. */
static json_t *spdx_package(const struct sbom_image *im, size_t i, const char *id, const char *purl,
			    const char *lic)
{
	const struct dd_apk_pkg *pkg = &im->cat->pkgs[im->p->pkgs[i].cat];
	const struct dd_catalog_pkg *info = &im->cat->info[im->p->pkgs[i].cat];
	struct dd_buf note = DD_BUF_INIT;
	char *sup = supplier(pkg->maintainer);
	json_t *o;

	dd_buf_addf(&note,
		    "drydock: %s, %s layer, role %s, from bundle %s (channel %s, "
		    "sequence %lld)",
		    info->guarded ? "guarded" : "unguarded", i < im->n_crust ? "crust" : "topping",
		    dd_plan_role_str(im->p->pkgs[i].role), info->bundle, info->channel,
		    (long long)info->sequence);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:[{s:s, s:s}], "
		      "s:[{s:s, s:s, s:s}], s:[{s:s, s:s, s:s, s:s}]}",
		      "SPDXID", id, "name", pkg->name, "versionInfo", pkg->version, "supplier", sup,
		      "downloadLocation", "NOASSERTION", "filesAnalyzed", 0, "licenseConcluded",
		      "NOASSERTION", "licenseDeclared", lic, "copyrightText", "NOASSERTION",
		      "checksums", "algorithm", "SHA256", "checksumValue", info->sha256,
		      "externalRefs", "referenceCategory", "PACKAGE-MANAGER", "referenceType",
		      "purl", "referenceLocator", purl, "annotations", "annotationDate", im->when,
		      "annotationType", "OTHER", "annotator", "Tool: " TOOL, "comment", note.ptr);
	if (pkg->description)
		json_object_set_new(o, "summary", json_string(pkg->description));
	if (pkg->url && *pkg->url)
		json_object_set_new(o, "homepage", json_string(pkg->url));
	free(sup);
	dd_buf_release(&note);
	return o;
}

/*
 * The plan's packages that satisfy the dependencies of its package i
 * (SPDXID id): a DEPENDS_ON relationship to each, and their purls.
 */
static json_t *depends_on(const struct sbom_image *im, size_t i, const char *id)
{
	const struct dd_apk_pkg *pkg = &im->cat->pkgs[im->p->pkgs[i].cat];
	json_t *deps = json_array();

	for (size_t j = 0; j < im->p->n; j++) {
		const struct dd_apk_pkg *q = &im->cat->pkgs[im->p->pkgs[j].cat];
		struct dd_buf qid = DD_BUF_INIT, qpu = DD_BUF_INIT;
		bool needed = false;

		for (size_t d = 0; d < pkg->n_depends && !needed && j != i; d++)
			needed = !pkg->depends[d].conflict &&
				 dd_apk_pkg_satisfies(q, &pkg->depends[d]);
		if (needed) {
			spdx_id(&qid, "Package", im->arch, q->name, q->version);
			dd_purl(&qpu, im->cat->info[im->p->pkgs[j].cat].channel, q, im->arch);
			json_array_append_new(im->s->spdx_rels, rel(id, "DEPENDS_ON", qid.ptr));
			json_array_append_new(deps, json_string(qpu.ptr));
		}
		dd_buf_release(&qid);
		dd_buf_release(&qpu);
	}
	return deps;
}

/* The CycloneDX component of the plan's package i. */
static json_t *cdx_component(const struct sbom_image *im, size_t i, const char *purl,
			     const char *lic)
{
	const struct dd_apk_pkg *pkg = &im->cat->pkgs[im->p->pkgs[i].cat];
	const struct dd_catalog_pkg *info = &im->cat->info[im->p->pkgs[i].cat];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:[{s:s}], "
			      "s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
			      "type", "library", "bom-ref", purl, "name", pkg->name, "version",
			      pkg->version, "purl", purl, "hashes", "alg", "SHA-256", "content",
			      info->sha256, "licenses", "expression", lic, "properties", "name",
			      "drydock:guarded", "value", info->guarded ? "true" : "false", "name",
			      "drydock:layer", "value", i < im->n_crust ? "crust" : "topping",
			      "name", "drydock:bundle", "value", info->bundle, "name",
			      "drydock:arch", "value", im->arch);

	if (!strcmp(lic, "NOASSERTION"))
		json_object_del(o, "licenses");
	if (pkg->maintainer && *pkg->maintainer)
		json_object_set_new(o, "supplier", json_pack("{s:s}", "name", pkg->maintainer));
	return o;
}

/* The plan's package i: its SPDX package and relationships, its CycloneDX
 * component and dependencies. */
static void add_package(struct sbom_image *im, size_t i)
{
	const struct dd_apk_pkg *pkg = &im->cat->pkgs[im->p->pkgs[i].cat];
	struct dd_buf id = DD_BUF_INIT, pu = DD_BUF_INIT;
	char *lic = license_expr(pkg->license);
	json_t *deps;

	spdx_id(&id, "Package", im->arch, pkg->name, pkg->version);
	dd_purl(&pu, im->cat->info[im->p->pkgs[i].cat].channel, pkg, im->arch);
	json_array_append_new(im->s->spdx_pkgs, spdx_package(im, i, id.ptr, pu.ptr, lic));
	json_array_append_new(im->s->spdx_rels, rel(im->id, "CONTAINS", id.ptr));
	json_array_append_new(im->deps, json_string(pu.ptr));
	deps = depends_on(im, i, id.ptr);
	json_array_append_new(im->s->cdx_comps, cdx_component(im, i, pu.ptr, lic));
	json_array_append_new(im->s->cdx_deps,
			      json_pack("{s:s, s:o}", "ref", pu.ptr, "dependsOn", deps));
	free(lic);
	dd_buf_release(&id);
	dd_buf_release(&pu);
}

void dd_sbom_add_image(struct dd_sbom *s, const char *tag, const char *manifest_digest,
		       const struct dd_catalog *cat, const struct dd_plan *p, size_t n_crust,
		       int64_t created)
{
	struct sbom_image im = { .s = s,
				 .cat = cat,
				 .p = p,
				 .n_crust = n_crust,
				 .arch = p->arch,
				 .deps = json_array() };
	struct dd_buf img = DD_BUF_INIT;

	if (created > s->created)
		s->created = created;
	dd_time_format(created, im.when);
	spdx_id(&img, "Image", p->arch, "root", NULL);
	im.id = img.ptr;
	add_container(s, img.ptr, tag, p->arch, manifest_digest);
	for (size_t i = 0; i < p->n; i++)
		add_package(&im, i);
	if (manifest_digest)
		json_array_append_new(s->cdx_deps, json_pack("{s:s, s:o}", "ref", manifest_digest,
							     "dependsOn", im.deps));
	else
		json_decref(im.deps);
	dd_buf_release(&img);
}

static json_t *spdx_doc(const struct dd_sbom *s, const char *tag, const char *ns)
{
	json_t *describes = json_array(), *rels = json_array(), *img;
	char when[32];
	size_t i;

	dd_time_format(s->created, when);
	json_array_foreach(s->images, i, img) {
		const char *id = json_string_value(json_object_get(img, "spdx"));

		json_array_append_new(describes, json_string(id));
		json_array_append_new(rels, rel("SPDXRef-DOCUMENT", "DESCRIBES", id));
	}
	json_array_extend(rels, s->spdx_rels);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[s]}, s:o, s:O, s:o}", "spdxVersion",
			 "SPDX-2.3", "dataLicense", "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT", "name",
			 tag, "documentNamespace", ns, "creationInfo", "created", when, "creators",
			 "Tool: " TOOL, "documentDescribes", describes, "packages", s->spdx_pkgs,
			 "relationships", rels);
}

int dd_sbom_contents(const struct dd_catalog *cat, const struct dd_plan *p, size_t n_crust,
		     int64_t created, const char *name, const char *tag, struct dd_buf *out)
{
	struct dd_sbom s;
	struct dd_buf ns = DD_BUF_INIT, ids = DD_BUF_INIT;
	char hex[65];
	json_t *doc;
	char *text;
	size_t len;

	dd_buf_addf(&ids, "%s\n", p->arch);
	for (size_t i = 0; i < p->n; i++)
		dd_buf_addf(&ids, "%s\n", cat->info[p->pkgs[i].cat].sha256);
	dd_sha256_hex(ids.ptr, ids.len, hex);
	dd_buf_addf(&ns, "https://drydock.invalid/spdx/%s/contents/%s", name, hex);
	dd_sbom_init(&s);
	dd_sbom_add_image(&s, tag, NULL, cat, p, n_crust, created);
	doc = spdx_doc(&s, tag, ns.ptr);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	len = strlen(text);
	dd_buf_reset(out);
	dd_buf_add(out, text, len);
	dd_buf_adds(out, "\n");
	free(text);
	json_decref(doc);
	dd_sbom_release(&s);
	dd_buf_release(&ns);
	dd_buf_release(&ids);
	return 0;
}

int dd_sbom_write(struct dd_sbom *s, const char *dir, const char *name, const char *tag,
		  const char *digest)
{
	struct dd_buf ns = DD_BUF_INIT, uuid = DD_BUF_INIT;
	json_t *meta, *doc, *img;
	const char *h = digest + 7;
	char when[32];
	size_t i;
	int rc;

	dd_time_format(s->created, when);
	dd_buf_addf(&ns, "https://drydock.invalid/spdx/%s/%s", name, h);
	doc = spdx_doc(s, tag, ns.ptr);
	rc = dd_write_json(dir, "sbom.spdx.json", doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	/* a version-4-shaped UUID taken from the digest: stable per image */
	dd_buf_addf(&uuid, "urn:uuid:%.8s-%.4s-4%.3s-8%.3s-%.12s", h, h + 8, h + 13, h + 17,
		    h + 20);
	meta = json_pack("{s:s, s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}}",
			 "timestamp", when, "tools", "components", "type", "application", "name",
			 "drydock", "version", DD_VERSION, "component", "type", "container",
			 "bom-ref", digest, "name", tag, "version", digest, "hashes", "alg",
			 "SHA-256", "content", h);
	if (json_array_size(s->images) > 1) {
		json_t *top = json_pack("{s:s, s:[]}", "ref", digest, "dependsOn");

		json_array_foreach(s->images, i, img) {
			const char *d = json_string_value(json_object_get(img, "digest"));

			json_array_append_new(s->cdx_comps,
					      json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}",
							"type", "container", "bom-ref", d, "name",
							tag, "version", d, "hashes", "alg",
							"SHA-256", "content", d + 7));
			json_array_append_new(json_object_get(top, "dependsOn"), json_string(d));
		}
		json_array_append_new(s->cdx_deps, top);
	}
	doc = json_pack("{s:s, s:s, s:s, s:i, s:o, s:O, s:O}", "bomFormat", "CycloneDX",
			"specVersion", "1.6", "serialNumber", uuid.ptr, "version", 1, "metadata",
			meta, "components", s->cdx_comps, "dependencies", s->cdx_deps);
	if (!rc)
		rc = dd_write_json(dir, "sbom.cdx.json", doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	dd_buf_release(&ns);
	dd_buf_release(&uuid);
	return rc;
}
