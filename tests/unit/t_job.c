#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "job/job.h"

/* Write text to a temporary job file; returns its path (static). */
static const char *job_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/drydock-t-job-%d-%s", (int)getpid(), name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static const char full[] =
	"base: python-base\n"
	"contents:\n"
	"  packages:\n"
	"    - python3\n"
	"    - py3-requests>=2.28\n"
	"    - so:libssl.so.3\n"
	"accounts:\n"
	"  groups:\n"
	"    - groupname: app\n"
	"      gid: 65532\n"
	"  users:\n"
	"    - username: app\n"
	"      uid: 65532\n"
	"      gid: 65532\n"
	"  run-as: app\n"
	"entrypoint:\n"
	"  command: /usr/bin/python3\n"
	"cmd: -m http.server\n"
	"environment:\n"
	"  PATH: /usr/bin:/bin\n"
	"  LANG: C.UTF-8\n"
	"work-dir: /app\n"
	"paths:\n"
	"  - path: /app\n"
	"    type: directory\n"
	"    uid: 65532\n"
	"    gid: 65532\n"
	"    permissions: 0o755\n"
	"  - path: /app/link\n"
	"    type: symlink\n"
	"    source: /usr/bin/python3\n"
	"annotations:\n"
	"  org.opencontainers.image.title: web\n"
	"archs: [amd64, aarch64]\n"
	"stop-signal: SIGTERM\n"
	"volumes: [/data]\n"
	"policy:\n"
	"  allow-unguarded: true\n"
	"  timeout: 1h30m\n"
	"output:\n"
	"  layers: single\n"
	"  compression: zstd\n"
	"  tag: registry.local/web:1\n";

static void t_job_full(void)
{
	struct dd_job j;
	const char *path = job_file("web.yaml", full);

	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(strstr(j.name, "web") && !strstr(j.name, ".yaml")); /* the file name, no suffix */
	CHECK(!strcmp(j.base, "python-base"));
	CHECK(j.n_packages == 3 && !strcmp(j.packages[1].name, "py3-requests"));
	CHECK(j.packages[1].version && !strcmp(j.packages[1].version, "2.28"));
	CHECK(j.n_groups == 1 && j.groups[0].gid == 65532);
	CHECK(j.n_users == 1 && j.users[0].uid == 65532 && j.users[0].has_gid);
	CHECK(!strcmp(j.run_as, "app"));
	CHECK(!strcmp(j.entrypoint, "/usr/bin/python3") && !strcmp(j.cmd, "-m http.server"));
	CHECK(j.n_environment == 2 && !strcmp(j.environment[1].key, "LANG"));
	CHECK(j.n_paths == 2 && j.paths[0].mode == 0755 && j.paths[0].has_mode);
	CHECK(j.paths[1].type == DD_PATH_SYMLINK && !strcmp(j.paths[1].source, "/usr/bin/python3"));
	CHECK(j.n_archs == 2 && !strcmp(j.archs[0], "x86_64") && !strcmp(j.archs[1], "aarch64"));
	CHECK(j.allow_unguarded && j.timeout_ms == 5400000);
	CHECK(j.layers == DD_LAYERS_SINGLE && j.compression == DD_COMPRESS_ZSTD);
	CHECK(!strcmp(j.tag, "registry.local/web:1"));
	CHECK(strlen(j.sha256) == 64);
	dd_job_release(&j);
	unlink(path);
}

static void t_job_defaults(void)
{
	struct dd_job j;
	const char *path = job_file("min.yml", "base: hello\n");

	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(!j.allow_unguarded && j.timeout_ms == 3600000);
	CHECK(j.layers == DD_LAYERS_SPLIT && j.compression == DD_COMPRESS_GZIP);
	CHECK(j.n_archs == 1 && !strcmp(j.archs[0], "x86_64"));
	CHECK(strstr(j.tag, "drydock.local/") && strstr(j.tag, "min.yml") == NULL);
	dd_job_release(&j);
	unlink(path);
}

/* bad(text, expected substring): loading fails with DD_E_FORMAT and a
 * message holding "file:line:col" and the expected text. */
static int bad(const char *text, const char *want)
{
	struct dd_job j;
	const char *path = job_file("bad.yaml", text);
	int rc = dd_job_load(path, &j), ok;

	ok = rc == DD_E_FORMAT && strstr(dd_error_detail(), want) &&
	     strstr(dd_error_detail(), path);
	if (!ok)
		fprintf(stderr, "  got: %s\n", rc ? dd_error_detail() : "(accepted)");
	unlink(path);
	return ok;
}

static void t_job_errors(void)
{
	CHECK(bad("base: a\nbogus: 1\n", ":2:1: unknown key 'bogus' in the job; expected one of: base,"));
	CHECK(bad("base: a\nbase: b\n", ":2:1: key 'base' given twice"));
	CHECK(bad("base: a\ncontents:\n  packages:\n    - 'foo>=1.0>2'\n", ":4:7: dependency"));
	CHECK(bad("base: a\ncontents:\n  repositories: [https://x]\n",
		  ":3:17: package sources cannot be set in a job: the mirror is the only source"));
	CHECK(bad("base: a\ncontents:\n  keyring: [k.pub]\n", "the mirror is the only source"));
	CHECK(bad("base: a\npolicy:\n  allow-unguarded: maybe\n", ":3:20: policy.allow-unguarded is 'maybe', expected true or false"));
	CHECK(bad("base: a\npolicy:\n  timeout: soon\n", "expected a duration like"));
	CHECK(bad("base: a\noutput:\n  compression: xz\n", "expected gzip or zstd"));
	CHECK(bad("base: a\narchs: [sparc]\n", "unknown architecture 'sparc'"));
	CHECK(bad("base: a\nenvironment: [a]\n", ":2:14: environment is a list, expected a mapping"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: fifo\n", "path type 'fifo'"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: symlink\n", "a symlink needs 'source'"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: directory\n    permissions: 0o1777777\n",
		  "expected a number up to 4095"));
	CHECK(bad("base: [a\n", "bad.yaml:"));
	CHECK(bad("", "empty job file"));
	CHECK(bad("base: a\naccounts:\n  users:\n    - uid: 1\n", "a user without username"));
}

/* apko's own example, less repositories and keyring, is a job. */
static void t_job_apko_config(void)
{
	struct dd_job j;
	const char *path = job_file("apko.yaml",
		"contents:\n"
		"  packages:\n"
		"    - alpine-baselayout-data\n"
		"    - ca-certificates-bundle\n"
		"entrypoint:\n"
		"  command: /bin/sh -l\n"
		"environment:\n"
		"  PATH: /usr/sbin:/sbin:/usr/bin:/bin\n"
		"archs:\n"
		"- x86_64\n"
		"- aarch64\n"
		"accounts:\n"
		"  groups:\n"
		"    - groupname: nonroot\n"
		"      gid: 65532\n"
		"  users:\n"
		"    - username: nonroot\n"
		"      uid: 65532\n"
		"      gid: 65532\n"
		"  run-as: 65532\n");

	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(!j.base && j.n_packages == 2 && j.n_archs == 2 && !strcmp(j.run_as, "65532"));
	dd_job_release(&j);
	unlink(path);
}

static void t_duration(void)
{
	int64_t s;

	CHECK(dd_duration_parse("90s", &s) == 0 && s == 90000);
	CHECK(dd_duration_parse("1h30m", &s) == 0 && s == 5400000);
	CHECK(dd_duration_parse("2m", &s) == 0 && s == 120000);
	CHECK(dd_duration_parse("250ms", &s) == 0 && s == 250);
	CHECK(dd_duration_parse("1m5s20ms", &s) == 0 && s == 65020);
	CHECK(dd_duration_parse("5sm", &s) != 0);
	CHECK(dd_duration_parse("1d", &s) != 0);
	CHECK(dd_duration_parse("h", &s) != 0);
	CHECK(dd_duration_parse("", &s) != 0);
}

void suite_job(void)
{
	RUN(t_job_full);
	RUN(t_job_defaults);
	RUN(t_job_apko_config);
	RUN(t_job_errors);
	RUN(t_duration);
}
