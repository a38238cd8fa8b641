#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/name.h"
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

static const char full[] = "base: python-base\n"
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
	CHECK(bad("base: a\nbogus: 1\n",
		  ":2:1: unknown key 'bogus' in the job; expected one of: base,"));
	CHECK(bad("base: a\nbase: b\n", ":2:1: key 'base' given twice"));
	CHECK(bad("base: a\ncontents:\n  packages:\n    - 'foo>=1.0>2'\n", ":4:7: dependency"));
	CHECK(bad("base: a\ncontents:\n  repositories: https://x\n",
		  ":3:17: contents.repositories is a scalar, expected a list"));
	CHECK(bad("base: a\ncontents:\n  runtime_keyring: [k.pub]\n",
		  ":3:21: an item of contents.runtime_keyring is a scalar, expected a mapping"));
	CHECK(bad("base: a\ncontents:\n  baseimage: {image: x}\n", "contents.baseimage"));
	CHECK(bad("base: a\nformat: docker\n", ":2:9: format is 'docker', expected oci"));
	CHECK(bad("base: a\nvcs-url: ''\n", ":2:10: vcs-url is empty"));
	CHECK(bad("base: a\nentrypoint:\n  shell-fragment: x\n",
		  "shell-fragment is not supported"));
	CHECK(bad("base: a\ncontents:\n  runtime_repositories: x\n",
		  "contents.runtime_repositories is a scalar, expected a list of strings"));
	CHECK(bad("base: a\npolicy:\n  allow-unguarded: maybe\n",
		  ":3:20: policy.allow-unguarded is 'maybe', expected true or false"));
	CHECK(bad("base: a\npolicy:\n  timeout: soon\n", "expected a duration like"));
	CHECK(bad("base: a\noutput:\n  compression: xz\n", "expected gzip or zstd"));
	CHECK(bad("base: a\narchs: [sparc]\n", "unknown architecture 'sparc'"));
	CHECK(bad("base: a\nenvironment: [a]\n",
		  ":2:14: environment is a list, expected a mapping"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: fifo\n", "path type 'fifo'"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: symlink\n",
		  "a symlink needs 'source'"));
	CHECK(bad(
		"base: a\npaths:\n  - path: /x\n    type: directory\n    permissions: 0o1777777\n",
		"expected a number up to 4095"));
	CHECK(bad("base: [a\n", "bad.yaml:"));
	CHECK(bad("", "empty job file"));
	CHECK(bad("base: a\naccounts:\n  users:\n    - uid: 1\n", "a user without username"));
}

/* The job name: the file name, which must make a folder name. */
static void t_job_names(void)
{
	static const char *const refused[] = {
		"...yaml", "..yaml", ".yaml", ".hidden.yaml", "-rf.yaml", "a b.yaml", "x\ny.yaml",
	};
	char *name = NULL, dir[64], path[256], longname[200];

	snprintf(dir, sizeof(dir), "/tmp/drydock-t-names-%d", (int)getpid());
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, refused[i]);
		CHECK_MSG(dd_job_name(path, &name) == DD_E_FORMAT && !name, "%.200s accepted",
			  path);
		CHECK_MSG(strstr(dd_error_detail(), path) &&
				  strstr(dd_error_detail(), DD_NAME_FORM) &&
				  strstr(dd_error_detail(), "rename the file"),
			  "%s", dd_error_detail());
	}
	CHECK(dd_job_name("a/.yaml", &name) == DD_E_FORMAT);
	CHECK(strstr(dd_error_detail(), "it is empty") || strstr(dd_error_detail(), "start"));
	memset(longname, 'x', 129);
	strcpy(longname + 129, ".yaml");
	CHECK(dd_job_name(longname, &name) == DD_E_FORMAT && strstr(dd_error_detail(), "too long"));
	longname[128] = 0;
	CHECK(dd_job_name(longname, &name) == 0 && strlen(name) == 128);
	free(name);
	CHECK(dd_job_name("jobs/My_Job-1.2.yml", &name) == 0 && !strcmp(name, "My_Job-1.2"));
	free(name);
	CHECK(dd_job_name("web.yaml", &name) == 0 && !strcmp(name, "web"));
	free(name);
	CHECK(dd_name_check("a run id", "a/b") == DD_E_FORMAT && strstr(dd_error_detail(), "'/'"));
	CHECK(dd_name_check("a run id", "") == DD_E_FORMAT && strstr(dd_error_detail(), "empty"));
	CHECK(dd_name_check("a run id", "20260101T000000Z-abcdef") == 0);
	/* loading refuses the file before reading it */
	CHECK(dd_job_load("/nonexistent/...yaml", &(struct dd_job){ 0 }) == DD_E_FORMAT);
}

/* output.tag: the OCI distribution reference grammar podman applies. */
static void t_job_tags(void)
{
	static const char *const good[] = {
		"drydock.local/web:latest",
		"registry.local:5000/team/web:1.0",
		"localhost/web",
		"web",
		"web:latest",
		"a__b/c-d--e.f_g:V1_x.y-z",
		"10.0.0.1:5000/web:1",
		"Registry.Example.com/web:_x",
		"quay.io/a/b/c/d:1",
	};
	static const char *const bad_refs[] = {
		"",
		"web app:1",
		"web:1\n",
		"../../etc:passwd",
		"Web:1",
		"web:",
		"web:-x",
		"web:.x",
		"web@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"web/",
		"a//b",
		"reg:abc/web",
		"-web",
		"web-",
		"a___b",
		"web:a/b",
		"/web",
		"[::1]:5000/web:1",
		"reg-.io/web",
		"reg:/web",
	};
	char tag[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_MSG(!dd_job_reference_check(good[i]), "%s refused: %s", good[i],
			  dd_job_reference_check(good[i]));
	for (size_t i = 0; i < sizeof(bad_refs) / sizeof(bad_refs[0]); i++)
		CHECK_MSG(dd_job_reference_check(bad_refs[i]), "'%s' accepted", bad_refs[i]);
	memset(tag, 0, sizeof(tag));
	memcpy(tag, "web:", 4);
	memset(tag + 4, 'v', 128);
	CHECK(!dd_job_reference_check(tag));
	tag[4 + 128] = 'v';
	CHECK(dd_job_reference_check(tag));
	CHECK(bad("base: a\noutput:\n  tag: \"../../etc:passwd\"\n",
		  ":3:8: output.tag '../../etc:passwd' is not an image reference"));
	CHECK(bad("base: a\noutput:\n  tag: \"\"\n", ":3:8: output.tag '' is not an image "
						     "reference (it is empty)"));
	CHECK(bad("base: a\noutput:\n  tag: \"x:a\\nb\"\n", "output.tag 'x:a?b'"));
	{
		char *text = malloc(6000);

		strcpy(text, "base: a\noutput:\n  tag: ");
		memset(text + strlen(text), 'a', 5000);
		strcpy(text + strlen("base: a\noutput:\n  tag: ") + 5000, "\n");
		CHECK(bad(text, "longer than 255"));
		free(text);
	}
}

/* paths: normalised, and nothing may leave the image root. */
static void t_job_paths(void)
{
	struct dd_job j;
	const char *path =
		job_file("p.yaml",
			 "base: a\npaths:\n  - path: /./etc/./x\n    type: empty-file\n"
			 "  - path: //a//b/\n    type: hardlink\n    source: /./etc//x\n");

	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(j.n_paths == 2 && !strcmp(j.paths[0].path, "/etc/x"));
	CHECK(!strcmp(j.paths[1].path, "/a/b") && !strcmp(j.paths[1].source, "/etc/x"));
	dd_job_release(&j);
	unlink(path);
	CHECK(bad("base: a\npaths:\n  - path: /../../tmp/ddx\n    type: directory\n",
		  ":3:5: path '/../../tmp/ddx' has a '..' component"));
	CHECK(bad("base: a\npaths:\n  - path: /a/..\n    type: directory\n", "'..' component"));
	CHECK(bad("base: a\npaths:\n  - path: /\n    type: directory\n",
		  ":3:5: path '/' names the image root itself"));
	CHECK(bad("base: a\npaths:\n  - path: /./.\n    type: directory\n", "image root itself"));
	CHECK(bad("base: a\npaths:\n  - path: /x\n    type: hardlink\n    source: /../etc/shadow\n",
		  "source '/../etc/shadow' has a '..' component"));
	CHECK(bad("base: a\npaths:\n  - path: x\n    type: directory\n", "is not absolute"));
}

/* Keys given twice are found in a hash; nesting has a limit. */
static void t_job_limits(void)
{
	struct dd_job j;
	char *text = malloc(1000);
	const char *path;
	int rc;

	CHECK(bad("base: a\nenvironment:\n  A: 1\n  B: 2\n  A: 3\n",
		  ":5:3: environment: key 'A' given twice"));
	CHECK(bad("base: a\nannotations:\n  x: 1\n  x: 1\n", "annotations: key 'x' given twice"));
	strcpy(text, "base: a\nannotations: ");
	for (int i = 0; i < 70; i++)
		strcat(text, "[");
	path = job_file("deep.yaml", text);
	rc = dd_job_load(path, &j);
	CHECK_MSG(rc == DD_E_LIMIT && strstr(dd_error_detail(), path) &&
			  strstr(dd_error_detail(), ":2:77: nesting deeper than 64 levels"),
		  "%s", dd_error_detail());
	unlink(path);
	free(text);
}

/* apko's own example, less repositories and keyring, is a job. */
static void t_job_apko_config(void)
{
	struct dd_job j;
	const char *path = job_file("apko.yaml", "contents:\n"
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

/* apko's package-source keys: one warning each, refused when strict. */
static void t_job_ignored_keys(void)
{
	struct dd_job j;
	const char *path =
		job_file("src.yaml",
			 "contents:\n"
			 "  repositories: [https://dl-cdn.alpinelinux.org/alpine/edge/main]\n"
			 "  keyring: [https://alpinelinux.org/keys/alpine-devel.rsa.pub]\n"
			 "  build_repositories: [https://x]\n"
			 "  runtime_keyring: [{name: k.rsa.pub, content: 'PEM'}]\n"
			 "  runtime_repositories: [https://pkgs.example/os]\n"
			 "  packages: [a]\n"
			 "format: oci\n"
			 "archs: [arm/v7]\n"
			 "vcs-url: https://git.example/team/app@0123abcd\n");
	static const char *const want[] = {
		":2:17: contents.repositories ignored: the mirror is the only source",
		":3:12: contents.keyring ignored: the mirror is the only source",
		":4:23: contents.build_repositories ignored: the mirror is the only source",
		":5:20: contents.runtime_keyring ignored: the mirror is the only source",
	};
	int rc;

	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(j.n_warnings == 4);
	for (size_t i = 0; i < 4 && i < j.n_warnings; i++)
		CHECK_MSG(strstr(j.warnings[i], path) && strstr(j.warnings[i], want[i]), "%s",
			  j.warnings[i]);
	CHECK(j.n_runtime_repos == 1 && !strcmp(j.runtime_repos[0], "https://pkgs.example/os"));
	CHECK(j.n_archs == 1 && !strcmp(j.archs[0], "armv7"));
	CHECK(j.n_annotations == 2 &&
	      !strcmp(j.annotations[0].key, "org.opencontainers.image.source") &&
	      !strcmp(j.annotations[0].value, "https://git.example/team/app") &&
	      !strcmp(j.annotations[1].key, "org.opencontainers.image.revision") &&
	      !strcmp(j.annotations[1].value, "0123abcd"));
	dd_job_release(&j);
	rc = dd_job_load_flags(path, DD_JOB_STRICT, &j);
	CHECK_MSG(rc == DD_E_FORMAT && strstr(dd_error_detail(), ":2:17: contents.repositories "
								 "is refused under --strict"),
		  "%s", dd_error_detail());
	unlink(path);
	/* the job's own annotation wins over vcs-url's; a URL alone has no revision */
	path = job_file("vcs.yaml", "vcs-url: https://git.example/app\nannotations:\n"
				    "  org.opencontainers.image.source: mine\n");
	CHECK_MSG(dd_job_load(path, &j) == 0, "%s", dd_error_detail());
	CHECK(j.n_annotations == 1 && !strcmp(j.annotations[0].value, "mine") && !j.n_warnings);
	dd_job_release(&j);
	unlink(path);
}

/* include: the job's keys override the included ones, mappings merge;
 * cycles, missing files and records that do not match are errors. */
static void t_job_include(void)
{
	char inc[128], job[256], cyc[256], *first;
	struct dd_job j;
	int rc;

	snprintf(inc, sizeof(inc), "drydock-t-job-%d-shared.yaml", (int)getpid());
	job_file("shared.yaml", "base: shared-base\n"
				"contents:\n"
				"  packages: [from-shared]\n"
				"  runtime_repositories: [https://shared.example/os]\n"
				"  repositories: [https://ignored.example]\n"
				"environment:\n  A: shared\n  B: shared\n"
				"policy:\n  timeout: 5m\n  allow-unguarded: true\n"
				"output:\n  compression: zstd\n"
				"archs: [x86_64, aarch64]\n");
	snprintf(job, sizeof(job),
		 "include: %s\ncontents:\n  packages: [mine]\n"
		 "environment:\n  B: mine\npolicy:\n  timeout: 1m\n",
		 inc);
	first = dd_xstrdup(job_file("main.yaml", job));
	rc = dd_job_load(first, &j);
	CHECK_MSG(rc == 0, "%s", dd_error_detail());
	if (!rc) {
		CHECK(!strcmp(j.base, "shared-base"));
		CHECK(j.n_packages == 1 && !strcmp(j.packages[0].name, "mine"));
		CHECK(j.n_runtime_repos == 1);
		CHECK(j.n_environment == 2 && !strcmp(j.environment[0].key, "B") &&
		      !strcmp(j.environment[0].value, "mine") &&
		      !strcmp(j.environment[1].key, "A") &&
		      !strcmp(j.environment[1].value, "shared"));
		CHECK(j.timeout_ms == 60000 && j.allow_unguarded);
		CHECK(j.compression == DD_COMPRESS_ZSTD && j.n_archs == 2);
		CHECK(j.n_includes == 1 && !strcmp(j.includes[0].name, inc) &&
		      strstr(j.includes[0].path, inc) && j.includes[0].sha256[0]);
		/* the included file's ignored key warns with its own file and place */
		CHECK(j.n_warnings == 1 && strstr(j.warnings[0], "shared.yaml:5:17: "
								 "contents.repositories ignored"));
		/* a rebuild reads the recorded include, not the disk */
		{
			struct dd_job_include rec = j.includes[0];
			struct dd_job k;

			rec.text = (struct dd_buf)DD_BUF_INIT;
			dd_buf_adds(&rec.text, "base: recorded\n");
			rc = dd_job_load_recorded(first, 0, &rec, 1, &k);
			CHECK_MSG(rc == 0, "%s", dd_error_detail());
			if (!rc) {
				CHECK(!strcmp(k.base, "recorded") && k.n_archs == 1);
				dd_job_release(&k);
			}
			rec.name = (char *)"other.yaml";
			rc = dd_job_load_recorded(first, 0, &rec, 1, &k);
			CHECK_MSG(rc == DD_E_FORMAT &&
					  strstr(dd_error_detail(), ":1:10: include") &&
					  strstr(dd_error_detail(),
						 "is not the file the run recorded"),
				  "%s", dd_error_detail());
			dd_buf_release(&rec.text);
		}
		dd_job_release(&j);
	}
	/* a cycle: main includes shared, which includes main */
	snprintf(cyc, sizeof(cyc), "base: x\ninclude: drydock-t-job-%d-main.yaml\n", (int)getpid());
	job_file("shared.yaml", cyc);
	rc = dd_job_load(first, &j);
	CHECK_MSG(rc == DD_E_FORMAT && strstr(dd_error_detail(), "shared.yaml:2:10: include") &&
			  strstr(dd_error_detail(), "makes a cycle"),
		  "%s", dd_error_detail());
	/* a file that includes itself */
	snprintf(cyc, sizeof(cyc), "include: drydock-t-job-%d-self.yaml\n", (int)getpid());
	rc = dd_job_load(job_file("self.yaml", cyc), &j);
	CHECK_MSG(rc == DD_E_FORMAT && strstr(dd_error_detail(), "self.yaml:1:10: include") &&
			  strstr(dd_error_detail(), "makes a cycle"),
		  "%s", dd_error_detail());
	unlink(job_file("self.yaml", ""));
	/* a missing file */
	rc = dd_job_load(job_file("miss.yaml", "base: a\ninclude: nowhere.yaml\n"), &j);
	CHECK_MSG(rc && strstr(dd_error_detail(), "miss.yaml:2:10: include 'nowhere.yaml'") &&
			  strstr(dd_error_detail(), "No such file"),
		  "%s", dd_error_detail());
	unlink(job_file("miss.yaml", ""));
	CHECK(bad("base: a\ninclude: ''\n", ":2:10: include is empty"));
	unlink(first);
	unlink(job_file("shared.yaml", ""));
	free(first);
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
	RUN(t_job_ignored_keys);
	RUN(t_job_include);
	RUN(t_job_errors);
	RUN(t_job_names);
	RUN(t_job_tags);
	RUN(t_job_paths);
	RUN(t_job_limits);
	RUN(t_duration);
}
