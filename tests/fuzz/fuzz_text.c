/*
 * libFuzzer target: any bytes as a bundle manifest, an entitlement
 * manifest, a job file, a dependency list and a provenance envelope.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apk/dep.h"
#include "bundle/manifest.h"
#include "evidence/provenance.h"
#include "job/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_blob b = { (const char *)data, size };
	struct dd_manifest m;
	struct dd_entitlement e;
	struct dd_job j;
	struct dd_dsse env;
	struct dd_dep *deps = NULL;
	size_t n = 0;
	char path[64];
	FILE *f;

	if (dd_manifest_parse(b, &m) == 0)
		dd_manifest_release(&m);
	if (dd_entitlement_parse(b, &e) == 0)
		dd_entitlement_release(&e);
	if (dd_deps_parse(b, &deps, &n) == 0)
		dd_deps_free(deps, n);
	snprintf(path, sizeof(path), "/tmp/drydock-fuzz-%d.yaml", (int)getpid());
	f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
		if (dd_job_load(path, &j) == 0)
			dd_job_release(&j);
		if (dd_dsse_read(path, &env) == 0)
			dd_dsse_release(&env);
		unlink(path);
	}
	return 0;
}
