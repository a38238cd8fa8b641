/*
 * drydock verify: what was given, the driver, and the rebuild check; the
 * other checks are in verify_*.c (image/verify_private.h).
 */
#include "image/verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "evidence/provenance.h"
#include "image/oci.h"
#include "image/rebuild.h"
#include "image/verify_private.h"

void dd_verify_outcome(struct verify *v, const char *name, enum dd_verify_state state,
		       const char *fmt, va_list ap)
{
	char *m = dd_xvasprintf(fmt, ap);

	if (state == DD_VERIFY_FAIL)
		v->failed++;
	v->report(v->ctx, name, state, m);
	free(m);
}

json_t *dd_verify_load_json(const char *path, struct dd_buf *why)
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

void dd_verify_add_key(json_t *set, const char *fmt, ...)
{
	char *k;
	va_list ap;

	va_start(ap, fmt);
	k = dd_xvasprintf(fmt, ap);
	va_end(ap);
	json_object_set_new(set, k, json_true());
	free(k);
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
	v->spdx =
		v->o->spdx ? dd_xstrdup(v->o->spdx) : beside(base, "sbom.spdx.json", v->run_folder);
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

/* ---- rebuild ---------------------------------------------------------------------------- */

static void check_rebuild(struct verify *v)
{
	json_t *job =
		json_object_get(json_object_get(json_object_get(json_object_get(v->st, "predicate"),
								"buildDefinition"),
						"externalParameters"),
				"job");
	const char *file = jstr(job, "path"), *tmp = getenv("TMPDIR");
	json_t *top = json_array_get(json_object_get(v->index, "manifests"), 0), *result = NULL;
	struct dd_buf dir = DD_BUF_INIT, why = DD_BUF_INIT, a = DD_BUF_INIT, b = DD_BUF_INIT;
	struct dd_rebuild_opts ro = { v->o->mirror, NULL, 0, NULL, NULL };
	char want[65], got[65], *run_dir = NULL;

	if (dd_digest_parse(json_string_value(json_object_get(top, "digest")), want)) {
		check(v, "rebuild", false,
		      "image/index.json: %s: nothing to compare a rebuild with", dd_error_detail());
		return;
	}
	dd_buf_addf(&dir, "%s/drydock-rebuild-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.ptr)) {
		check(v, "rebuild", false, "%s: %s", dir.ptr, strerror(errno));
		goto out;
	}
	ro.out = dir.ptr;
	if (dd_rebuild(&ro, v->st, &result, &run_dir)) {
		check(v, "rebuild", false, "rebuilding %s from the recorded inputs failed: %s",
		      file, dd_error_detail());
		goto out;
	}
	if (!dd_digest_parse(json_string_value(json_object_get(result, "digest")), got) &&
	    !strcmp(got, want)) {
		check(v, "rebuild", true,
		      "%s rebuilt from the recorded inputs in the mirror gives "
		      "the same sha256:%s",
		      file, got);
		goto out;
	}
	dd_buf_adds(&a, v->layout ? v->layout : "");
	dd_buf_addf(&b, "%s/image", run_dir);
	dd_layout_diff(a.ptr, b.ptr, "the run", "the rebuild", &why);
	check(v, "rebuild", false,
	      "%s rebuilt from the recorded inputs gives %s, this run holds "
	      "sha256:%s; first difference: %s",
	      file, jstr(result, "digest"), want, why.len ? why.ptr : "none found");
out:
	dd_remove_tree(dir.ptr);
	json_decref(result);
	free(run_dir);
	dd_buf_release(&dir);
	dd_buf_release(&why);
	dd_buf_release(&a);
	dd_buf_release(&b);
}

static void release(struct verify *v)
{
	json_decref(v->st);
	json_decref(v->index);
	for (size_t i = 0; i < v->n_imgs; i++) {
		free(v->imgs[i].manifest);
		free(v->imgs[i].arch);
		json_decref(v->imgs[i].db);
		json_decref(v->imgs[i].sbom);
	}
	free(v->imgs);
	if (v->unpacked)
		dd_remove_tree(v->unpacked);
	free(v->unpacked);
	free(v->unpack_why);
	free(v->layout);
	free(v->archive);
	free(v->prov);
	free(v->spdx);
	free(v->cdx);
	free(v->vex);
	free(v->vex_cdx);
	free(v->log);
	free(v->result);
	free(v->record);
}

int dd_verify(const struct dd_verify_opts *o, dd_verify_report report, void *ctx)
{
	struct verify v = { .o = o, .report = report, .ctx = ctx };

	locate(&v);
	dd_verify_envelope(&v);
	dd_verify_layout(&v);
	dd_verify_files(&v);
	dd_verify_record(&v);
	dd_verify_contents(&v);
	if (o->mirror)
		dd_verify_mirror(&v);
	if (o->rebuild && !v.st)
		check(&v, "rebuild", false, "no statement: nothing to rebuild from");
	else if (o->rebuild && !v.layout)
		check(&v, "rebuild", false, "no image layout to compare a rebuild with");
	else if (o->rebuild)
		check_rebuild(&v);
	release(&v);
	return v.failed;
}
