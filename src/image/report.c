#include "image/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "core/file.h"
#include "evidence/provenance.h"
#include "image/rebuild.h"
#include "image/verify.h"

#define MAX_DOC (64u << 20)

void dd_html_escape(struct dd_buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			dd_buf_adds(out, "&amp;");
			break;
		case '<':
			dd_buf_adds(out, "&lt;");
			break;
		case '>':
			dd_buf_adds(out, "&gt;");
			break;
		case '"':
			dd_buf_adds(out, "&quot;");
			break;
		case '\'':
			dd_buf_adds(out, "&#39;");
			break;
		default:
			dd_buf_add(out, s, 1);
		}
	}
}

/* Text with %s arguments escaped: fmt itself is trusted markup. */
static void put(struct dd_buf *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			dd_html_escape(out, va_arg(ap, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == 'd') {
			dd_buf_addf(out, "%lld", va_arg(ap, long long));
			p++;
		} else {
			dd_buf_add(out, p, 1);
		}
	}
	va_end(ap);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static json_t *load(const char *dir, const char *name)
{
	struct dd_buf path = DD_BUF_INIT, text = DD_BUF_INIT;
	json_t *j = NULL;

	dd_buf_addf(&path, "%s/%s", dir, name);
	if (!dd_read_regular(path.ptr, MAX_DOC, &text))
		j = json_loadb(text.ptr, text.len, 0, NULL);
	dd_buf_release(&path);
	dd_buf_release(&text);
	return j;
}

/* The provenance's statement (not checked here: verify does that). */
static json_t *statement(const char *dir)
{
	struct dd_buf path = DD_BUF_INIT;
	struct dd_dsse e;
	json_t *st = NULL;

	dd_buf_addf(&path, "%s/%s", dir, DD_PROVENANCE_FILE);
	if (!dd_dsse_read(path.ptr, &e)) {
		st = json_loadb(e.payload.ptr, e.payload.len, 0, NULL);
		dd_dsse_release(&e);
	}
	dd_buf_release(&path);
	return st;
}

static void collect(void *ctx, const char *check, enum dd_verify_state state, const char *detail)
{
	json_array_append_new(ctx, json_pack("{s:s, s:i, s:s}", "check", check, "state", (int)state,
					     "detail", detail));
}

static const char style[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:80em}"
	"h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .4em;"
	"border-bottom:1px solid #999}table{border-collapse:collapse;width:100%;margin:.3em 0}"
	"th,td{border:1px solid #bbb;padding:.2em .45em;text-align:left;vertical-align:top}"
	"th{background:#eee}code{font:12px ui-monospace,monospace;word-break:break-all}"
	".ok{color:#064}.fail{color:#a00;font-weight:bold}.skip{color:#666}"
	".verdict{font-size:1.2em;padding:.4em .6em;border:2px solid}"
	".verdict.ok{border-color:#064}.verdict.fail{border-color:#a00}"
	"tr.FAIL td{background:#fdd}.unguarded{color:#a00;font-weight:bold}"
	"@media print{body{margin:0;font-size:11px}tr{break-inside:avoid}h2{break-after:avoid}}";

static void checks_section(struct dd_buf *out, json_t *checks)
{
	static const char *const word[] = { "ok", "FAIL", "skipped" };
	static const char *const cls[] = { "ok", "fail", "skip" };
	json_t *c;
	size_t i;

	put(out, "<h2 id=\"checks\">Verification</h2>\n<table id=\"checks-table\"><thead><tr>"
		 "<th>check</th><th>result</th><th>detail</th></tr></thead><tbody>\n");
	json_array_foreach(checks, i, c) {
		int s = (int)json_integer_value(json_object_get(c, "state"));

		put(out,
		    "<tr class=\"%s\" data-check=\"%s\"><td>%s</td><td class=\"%s\">%s</td>"
		    "<td>%s</td></tr>\n",
		    word[s], jstr(c, "check"), jstr(c, "check"), cls[s], word[s],
		    jstr(c, "detail"));
	}
	put(out, "</tbody></table>\n");
}

static void image_section(struct dd_buf *out, json_t *r)
{
	json_t *a, *l;
	size_t i, k;

	put(out,
	    "<h2 id=\"image\">Image</h2>\n<table><tbody>"
	    "<tr><th>tag</th><td><code>%s</code></td></tr>"
	    "<tr><th>digest</th><td><code>%s</code></td></tr>"
	    "<tr><th>media type</th><td>%s</td></tr>"
	    "<tr><th>image.oci.tar</th><td><code>sha256:%s</code></td></tr>"
	    "<tr><th>compression</th><td>%s</td></tr>"
	    "<tr><th>built by</th><td>drydock %s, %s to %s</td></tr></tbody></table>\n",
	    jstr(r, "tag"), jstr(r, "digest"), jstr(r, "media_type"), jstr(r, "archive_sha256"),
	    jstr(r, "compression"), jstr(r, "drydock_version"), jstr(r, "started"),
	    jstr(r, "finished"));
	json_array_foreach(json_object_get(r, "archs"), i, a) {
		put(out,
		    "<h3>%s</h3><p>manifest <code>%s</code>, config <code>%s</code>, %d "
		    "packages</p>\n<table class=\"layers\"><thead><tr><th>layer</th><th>holds"
		    "</th><th>packages</th><th>size</th><th>digest</th><th>diff_id</th></tr>"
		    "</thead><tbody>\n",
		    jstr(a, "arch"), jstr(a, "manifest"), jstr(a, "config"),
		    (long long)json_integer_value(json_object_get(a, "package_count")));
		json_array_foreach(json_object_get(a, "layers"), k, l)
			put(out,
			    "<tr><td>%d</td><td>%s%s</td><td>%d</td><td>%d bytes</td>"
			    "<td><code>%s</code></td><td><code>%s</code></td></tr>\n",
			    (long long)(k + 1), jstr(l, "holds"),
			    json_is_true(json_object_get(l, "from_cache")) ? " (layer cache)" : "",
			    (long long)json_integer_value(json_object_get(l, "packages")),
			    (long long)json_integer_value(json_object_get(l, "size")),
			    jstr(l, "digest"), jstr(l, "diff_id"));
		put(out, "</tbody></table>\n");
	}
}

/* name@version -> licence, from the SPDX SBOM. */
static json_t *licences(const char *run)
{
	json_t *spdx = load(run, "sbom.spdx.json"), *map = json_object(), *p;
	size_t i;

	json_array_foreach(json_object_get(spdx, "packages"), i, p) {
		char key[512];
		const char *l = jstr(p, "licenseDeclared");

		snprintf(key, sizeof(key), "%s@%s", jstr(p, "name"), jstr(p, "versionInfo"));
		json_object_set_new(map, key, json_string(*l ? l : jstr(p, "licenseConcluded")));
	}
	json_decref(spdx);
	return map;
}

/* package blob sha256 -> "channel#sequence (bundle digest)", from the provenance. */
static json_t *bundles(json_t *st)
{
	json_t *deps = json_object_get(json_object_get(json_object_get(st, "predicate"),
						       "buildDefinition"),
				       "resolvedDependencies");
	json_t *labels = dd_provenance_bundle_labels(st), *map = json_object(), *d;
	size_t i;

	json_array_foreach(deps, i, d) {
		json_t *ann = json_object_get(d, "annotations");
		const char *b = jstr(ann, "bundle"), *l = jstr(labels, b);
		char text[512];

		if (strcmp(jstr(ann, "kind"), "package"))
			continue;
		snprintf(text, sizeof(text), "%s (%.12s)", *l ? l : "?", b);
		json_object_set_new(map, jstr(json_object_get(d, "digest"), "sha256"),
				    json_string(text));
	}
	json_decref(labels);
	return map;
}

static void packages_section(struct dd_buf *out, const char *run, json_t *r, json_t *st)
{
	json_t *lic = licences(run), *bun = bundles(st), *a, *p;
	size_t i, k;

	put(out, "<h2 id=\"packages\">Packages</h2>\n");
	json_array_foreach(json_object_get(r, "archs"), i, a) {
		put(out,
		    "<table class=\"packages\" data-arch=\"%s\"><caption>%s</caption><thead><tr>"
		    "<th>name</th><th>version</th><th>licence</th><th>guarded</th><th>layer</th>"
		    "<th>why</th><th>bundle</th><th>.apk sha256</th></tr></thead><tbody>\n",
		    jstr(a, "arch"), jstr(a, "arch"));
		json_array_foreach(json_object_get(a, "packages"), k, p) {
			char key[512];
			bool guarded = json_is_true(json_object_get(p, "guarded"));

			snprintf(key, sizeof(key), "%s@%s", jstr(p, "name"), jstr(p, "version"));
			put(out,
			    "<tr class=\"package\"><td>%s</td><td>%s</td><td>%s</td>"
			    "<td class=\"%s\">%s</td><td>%s</td><td>%s</td><td>%s</td>"
			    "<td><code>%s</code></td></tr>\n",
			    jstr(p, "name"), jstr(p, "version"), jstr(lic, key),
			    guarded ? "ok" : "unguarded", guarded ? "guarded" : "UNGUARDED",
			    json_is_true(json_object_get(p, "crust_layer")) ? "crust" : "topping",
			    jstr(p, "role"), jstr(bun, jstr(p, "sha256")), jstr(p, "sha256"));
		}
		put(out, "</tbody></table>\n");
	}
	json_decref(lic);
	json_decref(bun);
}

static void provenance_section(struct dd_buf *out, json_t *r, json_t *st)
{
	json_t *key = json_object_get(json_object_get(r, "provenance"), "key");
	json_t *ent = json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(st, "predicate"),
								"buildDefinition"),
						"internalParameters"),
				"policy"),
		"entitlement");
	json_t *w;
	size_t i;

	put(out, "<h2 id=\"signer\">Signer</h2>\n");
	if (key)
		put(out,
		    "<p>%s key <code>%s</code> (as result.json records it; the "
		    "<em>signature</em> check above says whether it verifies)</p>\n",
		    jstr(key, "kind"), jstr(key, "fingerprint"));
	else
		put(out, "<p class=\"fail\">The run was not signed.</p>\n");
	put(out, "<h2 id=\"entitlement\">Entitlement</h2>\n");
	if (ent)
		put(out, "<p>%s, entitlement manifest version %d, <code>sha256:%s</code></p>\n",
		    jstr(ent, "organization"),
		    (long long)json_integer_value(json_object_get(ent, "version")),
		    jstr(ent, "sha256"));
	else
		put(out, "<p>none recorded</p>\n");
	put(out, "<h2 id=\"warnings\">Warnings</h2>\n<ul id=\"warnings-list\">\n");
	json_array_foreach(json_object_get(r, "warnings"), i, w)
		put(out, "<li>%s</li>\n", json_string_value(w) ? json_string_value(w) : "");
	if (!json_array_size(json_object_get(r, "warnings")))
		put(out, "<li>none</li>\n");
	put(out, "</ul>\n");
}

/* name -> version of every package of every architecture. */
static json_t *versions(json_t *r)
{
	json_t *map = json_object(), *a, *p;
	size_t i, k;

	json_array_foreach(json_object_get(r, "archs"), i, a)
		json_array_foreach(json_object_get(a, "packages"), k, p) {
			char key[512];

			snprintf(key, sizeof(key), "%s (%s)", jstr(p, "name"), jstr(a, "arch"));
			json_object_set_new(map, key, json_string(jstr(p, "version")));
		}
	return map;
}

static void against_section(struct dd_buf *out, const char *run, json_t *r, const char *other)
{
	json_t *o = load(other, "result.json"), *va, *vb, *x;
	struct dd_buf why = DD_BUF_INIT, a = DD_BUF_INIT, b = DD_BUF_INIT;
	const char *k;
	int n = 0;

	put(out, "<h2 id=\"changes\">Changes against %s</h2>\n", other);
	if (!o) {
		put(out, "<p class=\"fail\">%s/result.json cannot be read</p>\n", other);
		return;
	}
	va = versions(o);
	vb = versions(r);
	put(out, "<p>image %s: <code>%s</code> then, <code>%s</code> now</p>\n",
	    strcmp(jstr(o, "digest"), jstr(r, "digest")) ? "changed" : "unchanged",
	    jstr(o, "digest"), jstr(r, "digest"));
	put(out, "<table id=\"changes-table\"><thead><tr><th>package</th><th>then</th><th>now</th>"
		 "</tr></thead><tbody>\n");
	json_object_foreach(vb, k, x) {
		const char *then = jstr(va, k);

		if (!strcmp(then, json_string_value(x)))
			continue;
		n++;
		put(out, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", k,
		    *then ? then : "(absent)", json_string_value(x));
	}
	json_object_foreach(va, k, x) {
		if (json_object_get(vb, k))
			continue;
		n++;
		put(out, "<tr><td>%s</td><td>%s</td><td>(removed)</td></tr>\n", k,
		    json_string_value(x));
	}
	if (!n)
		put(out, "<tr><td colspan=\"3\">no package changed</td></tr>\n");
	put(out, "</tbody></table>\n");
	dd_buf_addf(&a, "%s/image", other);
	dd_buf_addf(&b, "%s/image", run);
	if (dd_layout_diff(a.ptr, b.ptr, "the other run", "this run", &why))
		put(out, "<p>first difference in the image: %s</p>\n", why.ptr);
	json_decref(o);
	json_decref(va);
	json_decref(vb);
	dd_buf_release(&why);
	dd_buf_release(&a);
	dd_buf_release(&b);
}

int dd_report_html(const struct dd_report_opts *o, struct dd_buf *out, int *failed)
{
	struct dd_verify_opts vo = { o->run, o->key, o->mirror, false, NULL, NULL, NULL };
	json_t *checks = json_array(), *r = load(o->run, "result.json"), *st;
	int n_checks;

	if (!r) {
		json_decref(checks);
		return dd_error(DD_E_FORMAT,
				"%s/result.json: missing or not JSON: give a run "
				"folder",
				o->run);
	}
	st = statement(o->run);
	*failed = dd_verify(&vo, collect, checks);
	n_checks = (int)json_array_size(checks);
	put(out,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\"><title>drydock report: %s</title><style>",
	    jstr(r, "tag"));
	dd_buf_adds(out, style);
	put(out,
	    "</style></head><body>\n<h1>drydock run report: %s</h1>\n<p>job <code>%s"
	    "</code>, run <code>%s</code>, %s</p>\n",
	    jstr(r, "tag"), jstr(json_object_get(r, "job"), "file"), jstr(r, "run_id"), o->run);
	if (*failed)
		put(out,
		    "<p class=\"verdict fail\" id=\"verdict\">NOT VERIFIED: %d of %d checks "
		    "failed</p>\n",
		    (long long)*failed, (long long)n_checks);
	else
		put(out,
		    "<p class=\"verdict ok\" id=\"verdict\">verified: every check that could "
		    "run passed (%d)</p>\n",
		    (long long)n_checks);
	checks_section(out, checks);
	image_section(out, r);
	packages_section(out, o->run, r, st);
	provenance_section(out, r, st);
	if (o->against)
		against_section(out, o->run, r, o->against);
	put(out, "</body></html>\n");
	json_decref(checks);
	json_decref(r);
	json_decref(st);
	return 0;
}
