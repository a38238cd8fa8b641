#!/bin/sh
# drydock plan: jobs against a mirror, and every rule of custom assembly.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
IN=$T_TMP/in
bundle_dir "$S" "$IN"
for p in os-release-clash os-release-same hello-fips; do
	build_fixture "$p" "$S/apk.rsa" "$IN/packages/$p.apk" >/dev/null
done
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

job() {
	printf 'base: hello\ncontents:\n  packages:\n' >"$1.yaml"
	shift_name=$1
	shift
	for p in "$@"; do
		printf '    - "%s"\n' "$p" >>"$shift_name.yaml"
	done
}

plan_fixture_job() {
	expect_out "hello.yaml: will build \(x86_64\), image 'hello'" \
		drydock plan --mirror "$M" "$TOP/fixtures/jobs/hello.yaml"
	drydock plan --mirror "$M" "$TOP/fixtures/jobs/hello.yaml" >out
	grep -q "crust      base-files-1.0-r0, guarded, from stable#1" out || t_fail "crust"
	grep -q "requested  hello-drydock-1.2.3-r0, guarded" out || t_fail "requested"
	drydock plan --json --mirror "$M" "$TOP/fixtures/jobs/hello.yaml" >p.json
	python3 - p.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))[0]
assert j["will_build"] and j["base"] == "hello" and len(j["sha256"]) == 64
a = j["archs"][0]
roles = {p["name"]: p["role"] for p in a["packages"]}
assert roles == {"base-files": "crust", "hello-drydock": "requested"}, roles
assert all(p["guarded"] and p["signed"] and len(p["bundle"]) == 64 for p in a["packages"])
assert a["errors"] == [] and a["size"] > 0
PY
}

pulled_in_by() {
	job j hello-fips
	printf 'policy:\n  allow-unguarded: true\n' >>j.yaml
	drydock plan --mirror "$M" j.yaml >out
	grep -q "requested  hello-fips-1.0-r0, UNGUARDED" out || t_fail "requested"
	grep -q "pulled     hello-drydock-1.2.3-r0 by hello-fips, guarded" out || { cat out; t_fail "pulled by"; }
	grep -q "warning: hello-fips-1.0-r0 is a FIPS package: FIPS mode is not guaranteed" out || t_fail "fips"
	grep -q "warning: hello-fips-1.0-r0 is unguarded" out || t_fail "unguarded warning"
}

crust_cannot_be_removed() {
	job j hello-drydock '!base-files'
	expect_fail 1 "'!base-files' would remove base-files, a base package of image 'hello'" \
		drydock plan --mirror "$M" j.yaml
	printf 'base: hello\ncontents:\n  remove: [base-files]\n' >r.yaml
	expect_fail 1 "contents.remove names base-files, a base package of image 'hello'" \
		drydock plan --mirror "$M" r.yaml
}

unguarded_needs_policy() {
	job j base-files-alt
	expect_fail 1 "base-files-alt-2.0_rc1-r1 is not listed by any entitled image; set policy.allow-unguarded: true" \
		drydock plan --mirror "$M" j.yaml
	printf 'policy:\n  allow-unguarded: true\n' >>j.yaml
	# base-files-alt replaces base-files' /etc/os-release: no conflict
	expect_out "will build" drydock plan --mirror "$M" j.yaml
}

missing_packages() {
	job j no-such-thing
	expect_fail 1 "package no-such-thing is unknown here: no imported bundle carried a package of that name" \
		drydock plan --mirror "$M" j.yaml
	job k 'hello-drydock>=2.0'
	expect_fail 1 "package hello-drydock: the mirror has version 1.2.3-r0, none satisfies 'hello-drydock>=2.0'; a newer bundle might carry it" \
		drydock plan --mirror "$M" k.yaml
}

file_conflict() {
	job j os-release-clash
	printf 'policy:\n  allow-unguarded: true\n' >>j.yaml
	expect_fail 1 "file conflict: /etc/os-release is shipped by both base-files-1.0-r0 and os-release-clash-1.0-r0 with different content" \
		drydock plan --mirror "$M" j.yaml
}

identical_content_is_no_conflict() {
	job j os-release-same
	printf 'policy:\n  allow-unguarded: true\n' >>j.yaml
	expect_out "will build" drydock plan --mirror "$M" j.yaml
}

expired_entitlement() {
	DRYDOCK_NOW=2031-01-01T00:00:00Z expect_fail 1 \
		"entitlement manifest \(version 1\) has been expired since 2030-01-01T00:00:00Z" \
		drydock plan --mirror "$M" "$TOP/fixtures/jobs/hello.yaml"
}

bad_jobs() {
	printf 'base: nope\n' >n.yaml
	expect_fail 1 "no entitled image 'nope' in entitlement manifest version 1" \
		drydock plan --mirror "$M" n.yaml
	printf 'base: hello\ncontents:\n  packages: [a]\n  repositories: x\n' >r.yaml
	expect_fail 1 "r.yaml:4:17: contents.repositories is a scalar, expected a list" drydock plan --mirror "$M" r.yaml
	# several jobs: each reported, exit 1 when any fails
	set +e
	drydock plan --mirror "$M" "$TOP/fixtures/jobs/hello.yaml" n.yaml >out 2>&1
	rc=$?
	set -e
	[ $rc -eq 1 ] || t_fail "exit $rc"
	grep -q "hello.yaml: will build" out && grep -q "n.yaml: will NOT build" out || t_fail "both"
	expect_fail 2 "no job file" drydock plan --mirror "$M"
}

# apko's package-source keys: one warning each with FILE:LINE:COLUMN, in
# plan, build and batch; refused by --strict.
ignored_apko_keys() {
	mkdir jobs
	cat "$TOP/fixtures/jobs/hello.yaml" >jobs/src.yaml
	cat >>jobs/src.yaml <<'Y'
vcs-url: https://git.example.invalid/team/hello@0123456789abcdef
format: oci
Y
	python3 - jobs/src.yaml <<'PY'
import sys
p = sys.argv[1]
t = open(p).read().replace("contents:\n", "contents:\n  repositories: [https://dl-cdn.alpinelinux.org/alpine/edge/main]\n"
    "  keyring: [https://alpinelinux.org/keys/a.rsa.pub]\n  build_repositories: [https://x.invalid]\n"
    "  runtime_keyring:\n    - {name: k.rsa.pub, content: PEM}\n", 1)
open(p, "w").write(t)
PY
	drydock plan --mirror "$M" jobs/src.yaml >plan.out
	grep -q "src.yaml: will build" plan.out || { cat plan.out; t_fail "will build"; }
	for k in repositories keyring build_repositories runtime_keyring; do
		[ "$(grep -c "warning: jobs/src.yaml:[0-9]*:[0-9]*: contents.$k ignored: the mirror is the only source" plan.out)" -eq 1 ] ||
			{ cat plan.out; t_fail "one warning for $k"; }
	done
	drydock plan --json --mirror "$M" jobs/src.yaml | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
assert len(d["warnings"]) == 4 and d["will_build"], d["warnings"]'
	expect_fail 1 "src.yaml:4:17: contents.repositories is refused under --strict" \
		drydock plan --strict --mirror "$M" jobs/src.yaml
	drydock build --mirror "$M" -o out jobs/src.yaml >/dev/null
	[ "$(grep -c 'warning: .*ignored: the mirror is the only source' out/src/latest/build.log)" -eq 4 ] || t_fail "build log"
	grep -Eq '"org.opencontainers.image.revision": ?"0123456789abcdef"' out/src/latest/image/blobs/sha256/* ||
		t_fail "vcs-url revision annotation"
	python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["warnings"]; assert sum("ignored" in x for x in w) == 4, w' \
		out/src/latest/result.json
	expect_fail 1 "refused under --strict" drydock build --strict --mirror "$M" -o out2 jobs/src.yaml
	set +e
	drydock batch --strict --mirror "$M" -o out3 jobs >b.out 2>&1
	set -e
	grep -q "refused under --strict" out3/src/*-failed/build.log || { cat b.out; t_fail "batch --strict"; }
}

no_base_image() {
	printf 'contents:\n  packages: [hello-drydock]\n' >nb.yaml
	drydock plan --mirror "$M" nb.yaml >out
	grep -q "will build (x86_64), image '(no base)'" out || { cat out; t_fail "verdict"; }
	grep -q "pulled     base-files-1.0-r0 by hello-drydock" out || t_fail "dependency"
}

# apko's test repository, both architectures: replayout replaces
# pretend-baselayout's /etc/os-release, so the plan has no conflict.
apko_repository_two_archs() {
	need_corpus
	apko_mirror "$S" am
	printf 'base: layout\ncontents:\n  packages: [replayout]\narchs: [x86_64, arm64]\n' >two.yaml
	drydock plan --mirror am two.yaml >out || { cat out; t_fail "plan failed"; }
	grep -q "two.yaml: will build (x86_64), image 'layout'" out || t_fail "x86_64"
	grep -q "two.yaml: will build (aarch64), image 'layout'" out || t_fail "aarch64"
	[ "$(grep -c 'requested  replayout-1.0.0-r0, guarded' out)" -eq 2 ] || t_fail "replayout twice"
	drydock plan --json --mirror am two.yaml | python3 -c '
import json, sys
j = json.load(sys.stdin)[0]
assert [a["arch"] for a in j["archs"]] == ["x86_64", "aarch64"]
for a in j["archs"]:
    assert {p["arch"] for p in a["packages"]} == {a["arch"]}, a'
}

t_run plan_fixture_job
t_run apko_repository_two_archs
t_run no_base_image
t_run pulled_in_by
t_run crust_cannot_be_removed
t_run unguarded_needs_policy
t_run missing_packages
t_run file_conflict
t_run identical_content_is_no_conflict
t_run expired_entitlement
t_run bad_jobs
t_run ignored_apko_keys
