#!/bin/sh
# drydock batch: a folder of jobs over two bases, unattended: failures stay
# with their job, unchanged jobs are skipped, OUT stores each blob once,
# locks keep batches, imports and gc apart, shards add up to the whole.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# two entitled images: "hello" on base-files, "alt" on base-files-alt; both
# already entitle hello-drydock 1.2.4-r0, which a later bundle brings
IN=$T_TMP/in
mkdir -p "$IN/packages"
for p in base-files base-files-alt hello-drydock hello-fips os-release-clash os-release-same; do
	build_fixture "$p" "$S/apk.rsa" "$IN/packages/$p.apk" >/dev/null
done
cat >"$IN/entitlements.json" <<'JSON'
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": 1,
 "issued": "2026-01-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z",
 "images": [
  {"name": "hello", "base": ["base-files"],
   "packages": [{"name": "base-files", "version": "1.0-r0"},
    {"name": "hello-drydock", "version": "1.2.3-r0"}, {"name": "hello-drydock", "version": "1.2.4-r0"},
    {"name": "hello-fips", "version": "1.0-r0"}, {"name": "os-release-clash", "version": "1.0-r0"}]},
  {"name": "alt", "base": ["base-files-alt"],
   "packages": [{"name": "base-files", "version": "1.0-r0"}, {"name": "base-files-alt", "version": "2.0_rc1-r1"},
    {"name": "hello-drydock", "version": "1.2.3-r0"}, {"name": "hello-drydock", "version": "1.2.4-r0"}]}]}
JSON
sign_entitlement "$S" "$IN/entitlements.json"
make_bundle "$S" "$IN" "$T_TMP/b1.tar" 1
# bundle 2: hello-drydock 1.2.4-r0, nothing else
IN2=$T_TMP/in2
mkdir -p "$IN2/packages" "$T_TMP/hd2"
cp -r "$TOP/fixtures/packages/hello-drydock/root" "$T_TMP/hd2/root"
echo "hello again" >>"$T_TMP/hd2/root/usr/share/doc/hello-drydock/README"
sed 's/1\.2\.3-r0/1.2.4-r0/g' "$TOP/fixtures/packages/hello-drydock/PKGINFO" >"$T_TMP/hd2/PKGINFO"
drydock pkg build --info "$T_TMP/hd2/PKGINFO" --sign "$S/apk.rsa" \
	-o "$IN2/packages/hello-drydock-1.2.4.apk" "$T_TMP/hd2/root" >/dev/null
make_bundle "$S" "$IN2" "$T_TMP/b2.tar" 2

# fresh_mirror DIR: a mirror holding bundle 1
fresh_mirror() {
	trusted_mirror "$S" "$1"
	drydock mirror import --mirror "$1" "$T_TMP/b1.tar" >/dev/null
}

# jobs DIR: 13 jobs, 9 good (5 use hello-drydock) and 4 bad
jobs() {
	mkdir -p "$1"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\n' >"$1/h-hello.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\nenvironment:\n  FOO: bar\n' >"$1/h-env.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-fips]\n' >"$1/h-fips.yaml"
	printf 'base: hello\n' >"$1/h-plain.yaml"
	printf 'base: hello\nannotations:\n  org.example.note: plain\n' >"$1/h-note.yml"
	printf 'base: alt\ncontents:\n  packages: [hello-drydock]\n' >"$1/a-hello.yaml"
	printf 'base: alt\ncontents:\n  packages: [hello-drydock]\noutput:\n  layers: single\n' >"$1/a-single.yaml"
	printf 'base: alt\n' >"$1/a-plain.yaml"
	printf 'base: alt\nenvironment:\n  FOO: bar\n' >"$1/a-env.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock\n' >"$1/x-broken.yaml"
	printf 'base: hello\ncontents:\n  packages: [os-release-same]\n' >"$1/x-refused.yaml"
	printf 'base: hello\ncontents:\n  packages: [os-release-clash]\n' >"$1/x-clash.yaml"
	printf 'base: hello\npolicy:\n  timeout: 1s\n' >"$1/x-slow.yaml"
	echo "not a job" >"$1/README"
}
GOOD="a-env a-hello a-plain a-single h-env h-fips h-hello h-note h-plain"
USERS="a-hello a-single h-env h-fips h-hello"
export DRYDOCK_TEST_HOOK=x-slow:sleep

# field REPORT JOB KEY: a job's field in a batch report
field() {
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
j = [j for j in r["jobs"] if j["name"] == sys.argv[2]][0]
print(j.get(sys.argv[3]))' "$@"
}
report() { ls "$1"/batch-*.json | tail -n 1; }


