#include "evidence/vex.h"

#include <stdio.h>
#include <string.h>

#include "apk/pkg.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/time.h"
#include "version.h"

void dd_vex_init(struct dd_vex *v)
{
	v->statements = json_array();
	v->vulns = json_array();
	v->components = json_array();
	v->refs = json_object();
	v->created = 0;
}

void dd_vex_release(struct dd_vex *v)
{
	json_decref(v->statements);
	json_decref(v->vulns);
	json_decref(v->components);
	json_decref(v->refs);
	memset(v, 0, sizeof(*v));
}

size_t dd_vex_count(const struct dd_vex *v)
{
	return json_array_size(v->statements);
}

/* pkg:oci/<name>@sha256%3A<hex>?arch=<goarch> */
static void image_purl(struct dd_buf *out, const char *name, const char *manifest, const char *arch)
{
	const char *goarch, *variant;

	dd_apk_arch_platform(arch, &goarch, &variant);
	dd_buf_addf(out, "pkg:oci/%s@sha256%%3A%s?arch=%s", name, manifest + 7, goarch);
}

/* Where the statement comes from, and what it says, in words. */
static void notes(const struct dd_adv_db *db, const struct dd_catalog *cat,
		  const struct dd_adv_pkg *p, const struct dd_advisory *a, struct dd_buf *why,
		  struct dd_buf *action)
{
	const struct dd_adv_feed *f = &db->feeds[a->feed];

	dd_buf_addf(why,
		    "security database %s of bundle sha256:%s (channel %s, sequence %lld) "
		    "for origin %s: ",
		    f->path, f->bundle, f->channel, (long long)f->sequence,
		    p->origin && *p->origin ? p->origin : p->name);
	switch (a->state) {
	case DD_ADV_FIXED:
		dd_buf_addf(why, "fixed in %s; %s is installed", a->fixed_in, p->version);
		break;
	case DD_ADV_FIX_AVAILABLE:
		dd_buf_addf(why, "fixed in %s; %s is installed", a->fixed_in, p->version);
		dd_buf_addf(action,
			    "Rebuild the image: the mirror holds %s-%s (bundle sha256:%s, "
			    "channel %s sequence %lld), which has the fix",
			    cat->pkgs[a->avail].name, cat->pkgs[a->avail].version,
			    cat->info[a->avail].bundle, cat->info[a->avail].channel,
			    (long long)cat->info[a->avail].sequence);
		break;
	case DD_ADV_FIX_NOT_HERE:
		dd_buf_addf(why, "fixed in %s; %s is installed", a->fixed_in, p->version);
		dd_buf_addf(action,
			    "Fixed in %s, which the mirror does not hold yet: import a "
			    "bundle that brings it, then rebuild the image",
			    a->fixed_in);
		break;
	case DD_ADV_NOT_AFFECTED:
		dd_buf_adds(why, "listed as never affected (\"0\")");
		break;
	}
}

static json_t *openvex_statement(const struct dd_advisory *a, const char *product, const char *purl,
				 const char *why, const char *action)
{
	static const char *const status[] = { "fixed", "affected", "affected", "not_affected" };
	json_t *s = json_pack("{s:{s:s}, s:[{s:s, s:[{s:s}]}], s:s, s:s}", "vulnerability", "name",
			      a->id, "products", "@id", product, "subcomponents", "@id", purl,
			      "status", status[a->state], "status_notes", why);

	if (a->state == DD_ADV_FIX_AVAILABLE || a->state == DD_ADV_FIX_NOT_HERE)
		json_object_set_new(s, "action_statement", json_string(action));
	if (a->state == DD_ADV_NOT_AFFECTED)
		json_object_set_new(
			s, "impact_statement",
			json_string(
				"The vendor's security database lists this vulnerability as never "
				"affecting the package's origin"));
	return s;
}

static json_t *cdx_vuln(const struct dd_adv_db *db, const struct dd_advisory *a, const char *purl,
			const char *why, const char *action)
{
	static const char *const state[] = { "resolved", "exploitable", "exploitable",
					     "not_affected" };
	const struct dd_adv_feed *f = &db->feeds[a->feed];
	struct dd_buf detail = DD_BUF_INIT;
	json_t *analysis, *v;

	dd_buf_adds(&detail, why);
	if (action[0])
		dd_buf_addf(&detail, ". %s", action);
	analysis = json_pack("{s:s, s:s}", "state", state[a->state], "detail", detail.ptr);
	if (a->state == DD_ADV_FIX_AVAILABLE)
		json_object_set_new(analysis, "response", json_pack("[s]", "update"));
	v = json_pack("{s:s, s:{s:s}, s:o, s:[{s:s}]}", "id", a->id, "source", "name", f->path,
		      "analysis", analysis, "affects", "ref", purl);
	dd_buf_release(&detail);
	return v;
}

static void add_component(struct dd_vex *v, const struct dd_adv_pkg *p, const char *purl)
{
	if (json_object_get(v->refs, purl))
		return;
	json_object_set_new(v->refs, purl, json_true());
	json_array_append_new(v->components, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type",
						       "library", "bom-ref", purl, "name", p->name,
						       "version", p->version, "purl", purl));
}

void dd_vex_add_image(struct dd_vex *v, const char *name, const char *manifest, const char *arch,
		      const struct dd_adv_db *db, const struct dd_catalog *cat,
		      const struct dd_adv_pkg *pkgs, char *const *purls,
		      const struct dd_adv_report *r)
{
	struct dd_buf product = DD_BUF_INIT, why = DD_BUF_INIT, action = DD_BUF_INIT;

	image_purl(&product, name, manifest, arch);
	for (size_t i = 0; i < r->n; i++) {
		const struct dd_advisory *a = &r->items[i];
		const char *purl = purls[a->pkg];

		dd_buf_reset(&why);
		dd_buf_reset(&action);
		dd_buf_adds(&action, "");
		notes(db, cat, &pkgs[a->pkg], a, &why, &action);
		json_array_append_new(v->statements,
				      openvex_statement(a, product.ptr, purl, why.ptr, action.ptr));
		json_array_append_new(v->vulns, cdx_vuln(db, a, purl, why.ptr, action.ptr));
		add_component(v, &pkgs[a->pkg], purl);
	}
	dd_buf_release(&product);
	dd_buf_release(&why);
	dd_buf_release(&action);
}

int dd_vex_write(struct dd_vex *v, const char *dir, const char *name, const char *tag,
		 const char *digest, int64_t created)
{
	struct dd_buf id = DD_BUF_INIT, uuid = DD_BUF_INIT, seed = DD_BUF_INIT;
	char when[32], h[65];
	json_t *doc;
	int rc;

	if (!dd_vex_count(v))
		return dd_error(DD_E_INTERNAL, "a VEX document needs at least one statement");
	dd_time_format(created, when);
	dd_buf_addf(&id, "https://drydock.invalid/vex/%s/%s", name, digest + 7);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:O}", "@context",
			"https://openvex.dev/ns/v0.2.0", "@id", id.ptr, "author",
			"drydock, from the vendor's security databases in the mirror", "timestamp",
			when, "version", 1, "tooling", "drydock " DD_VERSION, "statements",
			v->statements);
	rc = dd_write_json(dir, DD_VEX_OPENVEX_FILE, doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	/* a version-4-shaped UUID of its own, stable per image, not the SBOM's */
	dd_buf_addf(&seed, "vex %s", digest);
	dd_sha256_hex(seed.ptr, seed.len, h);
	dd_buf_addf(&uuid, "urn:uuid:%.8s-%.4s-4%.3s-8%.3s-%.12s", h, h + 8, h + 13, h + 17,
		    h + 20);
	doc = json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:{s:[{s:s, s:s, s:s}]}, "
			"s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}}, s:O, s:O}",
			"bomFormat", "CycloneDX", "specVersion", "1.6", "serialNumber", uuid.ptr,
			"version", 1, "metadata", "timestamp", when, "tools", "components", "type",
			"application", "name", "drydock", "version", DD_VERSION, "component",
			"type", "container", "bom-ref", digest, "name", tag, "version", digest,
			"hashes", "alg", "SHA-256", "content", digest + 7, "components",
			v->components, "vulnerabilities", v->vulns);
	if (!rc)
		rc = dd_write_json(dir, DD_VEX_CDX_FILE, doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	dd_buf_release(&id);
	dd_buf_release(&uuid);
	dd_buf_release(&seed);
	return rc;
}
