/*
 * drydock rebuild: a run's image built again from the inputs its
 * provenance recorded (src/image/rebuild.h), for whoever wants the image
 * back, months later, from the mirror alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "core/hash.h"
#include "evidence/provenance.h"
#include "image/rebuild.h"

static const struct dd_cmd_spec rebuild_spec = {
	.name = "rebuild",
	.operands = "[RUN]",
	.max_operands = 1,
	.about = "Build the image of RUN (a run folder) again from exactly the inputs its\n"
		 "provenance records: the package blobs of resolvedDependencies, the recorded\n"
		 "entitlement manifest, the job's content and SOURCE_DATE_EPOCH, all taken from\n"
		 "the mirror by digest, whatever was imported since. The new run goes to\n"
		 "OUT/<job>/<run-id>/ as drydock build would write it. Prints whether the image\n"
		 "is the one the provenance names and, when not, the first difference.\n"
		 "rebuild does not check the provenance's signature: run drydock verify first.\n",
	.footer = "Exits 0 when the rebuilt image has the recorded digest, 1 when it differs or\n"
		  "an input is missing (the message names the package, its blob and bundle).\n",
};

struct args {
	struct dd_rebuild_opts o;
	const char *run, *provenance;
	bool json;
};

/* Parse the command line into a; 0, or -1 with cli->exit set. */
static int parse(int argc, char **argv, struct dd_cli *cli, struct args *a)
{
	const struct dd_option opts[] = {
		DD_OPT_STRING_REQUIRED('o', "out", &a->o.out, "OUT", "where the rebuilt run goes"),
		DD_OPT_MIRROR(&cli->mirror),
		DD_OPT_STRING('s', "sign", &a->o.sign_key, "KEY",
			      "sign the rebuilt run's provenance (as drydock build)"),
		DD_OPT_GNUPG_HOME(0, &a->o.gnupg_home, "the GnuPG home holding the OpenPGP key"),
		DD_OPT_CONF_INT('j', "threads", &a->o.threads, "N", 1, 256,
				"compression threads (the image does not depend on N)"),
		DD_OPT_STRING('p', "provenance", &a->provenance, "FILE",
			      "the provenance to rebuild from (default "
			      "RUN/provenance.intoto.json); then RUN may be omitted"),
		DD_OPT_BOOL(0, "json", &a->json,
			    "print the rebuilt run's result.json, with \"same_image\""),
		DD_OPT_END,
	};

	if (dd_cli_parse(&rebuild_spec, opts, argc, argv, cli))
		return -1;
	if (cli->n_args == 1) {
		a->run = cli->args[0];
	} else if (!a->provenance) {
		cli->exit = dd_cli_usage_error("rebuild: give one run folder (see --help)");
		return -1;
	}
	if (!(a->o.mirror = dd_cli_mirror(cli->mirror))) {
		cli->exit = DD_EXIT_NOT_RUN;
		return -1;
	}
	return 0;
}

/* The statement of the envelope at path, or NULL (error printed). */
static json_t *statement_of(const char *path)
{
	struct dd_dsse e;
	json_error_t jerr;
	json_t *st;

	if (dd_dsse_read(path, &e)) {
		dd_cli_error();
		return NULL;
	}
	st = json_loadb(e.payload.ptr, e.payload.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!st)
		fprintf(stderr, "drydock: %s: the payload is not JSON: %s\n", path, jerr.text);
	dd_dsse_release(&e);
	return st;
}

int cmd_rebuild(int argc, char **argv)
{
	struct args a = { { NULL, NULL, 0, NULL, NULL }, NULL, NULL, false };
	struct dd_buf prov = DD_BUF_INIT, why = DD_BUF_INIT, mine = DD_BUF_INIT,
		      theirs = DD_BUF_INIT;
	json_t *st = NULL, *result = NULL, *sub;
	const char *want, *got;
	struct dd_cli cli = DD_CLI_INIT;
	char *dir = NULL;
	int ret;

	if (parse(argc, argv, &cli, &a)) {
		ret = cli.exit;
		goto out;
	}
	if (a.provenance)
		dd_buf_adds(&prov, a.provenance);
	else
		dd_buf_addf(&prov, "%s/%s", a.run, DD_PROVENANCE_FILE);
	ret = DD_EXIT_FAIL;
	if (!(st = statement_of(prov.ptr)))
		goto out;
	sub = json_array_get(json_object_get(st, "subject"), 0);
	want = json_string_value(json_object_get(json_object_get(sub, "digest"), "sha256"));
	if (dd_rebuild(&a.o, st, &result, &dir)) {
		dd_cli_error();
		if (dir)
			fprintf(stderr, "drydock: the log is in %s/build.log\n", dir);
		goto out;
	}
	got = json_string_value(json_object_get(result, "digest"));
	if (want && dd_sha256_hex_ok(want) && got && !strcmp(got + 7, want)) {
		ret = DD_EXIT_OK;
	} else if (a.run) {
		dd_buf_addf(&mine, "%s/image", a.run);
		dd_buf_addf(&theirs, "%s/image", dir);
		dd_layout_diff(mine.ptr, theirs.ptr, "the run", "the rebuild", &why);
	}
	json_object_set_new(result, "same_image", json_boolean(ret == DD_EXIT_OK));
	if (a.json) {
		dd_cli_print_json(json_incref(result));
	} else if (ret == DD_EXIT_OK) {
		printf("rebuilt %s %s\n  in %s\n  the same image as the provenance names\n",
		       json_string_value(json_object_get(result, "tag")), got, dir);
	} else {
		printf("rebuilt %s %s\n  in %s\n  NOT the image the provenance names "
		       "(sha256:%s)%s%s\n",
		       json_string_value(json_object_get(result, "tag")), got ? got : "?", dir,
		       want ? want : "?", why.len ? "; first difference: " : "",
		       why.len ? why.ptr : "");
	}
out:
	json_decref(st);
	json_decref(result);
	free(dir);
	dd_buf_release(&prov);
	dd_buf_release(&why);
	dd_buf_release(&mine);
	dd_buf_release(&theirs);
	dd_cli_release(&cli);
	return ret;
}
