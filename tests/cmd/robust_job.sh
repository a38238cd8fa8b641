#!/bin/sh
# Hostile jobs and environments: names that would leave OUT, paths that
# would leave the image root, tags no registry takes, deep and huge YAML,
# and SOURCE_DATE_EPOCH values no clock can hold, for every command that
# reads it.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
IN=$T_TMP/in
bundle_dir "$S" "$IN"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
K=$T_TMP/keys
mkdir -p "$K"
openssl genpkey -algorithm ed25519 -out "$K/ed.pem" 2>/dev/null
openssl pkey -in "$K/ed.pem" -pubout -out "$K/ed.pub" 2>/dev/null
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml

# A job file NAME holding the fixture job plus the lines given.
job() {
	f=$1
	shift
	cp "$HELLO" "$f"
	for l in "$@"; do printf '%s\n' "$l" >>"$f"; done
}

dotdot_job_stays_inside_out() {
	mkdir -p work/out work/.tmp-keep
	echo mine >work/latest
	cp "$HELLO" work/out/...yaml
	expect_fail 1 "out/\.\.\.yaml: the job name '\.\.' is not allowed .*rename the file" \
		drydock build --mirror "$M" -o work/out work/out/...yaml
	[ -f work/latest ] && [ ! -L work/latest ] && [ "$(cat work/latest)" = mine ] ||
		t_fail "a file beside OUT was replaced"
	[ -d work/.tmp-keep ] || t_fail ".tmp-* beside OUT was removed"
	[ "$(ls -A work/out)" = "...yaml" ] || { ls -la work/out; t_fail "something was written to OUT"; }
	[ "$(ls -A work | sort | tr '\n' ' ')" = ".tmp-keep latest out " ] || t_fail "OUT's parent changed"
}

bad_job_names_refused() {
	long=$(printf '%0129d' 0)
	for n in .hidden -rf .yaml "$long" "with space"; do
		cp "$HELLO" "./$n.yaml"
		expect_fail 1 "the job name '.*' is not allowed \(.*\): a name is 1 to 128 letters" \
			drydock plan --mirror "$M" "./$n.yaml"
		expect_fail 1 "rename the file" drydock build --mirror "$M" -o out "./$n.yaml"
	done
	[ ! -e out ] || t_fail "a refused job made OUT"
	ok=$(printf '%0128d' 0)
	cp "$HELLO" "$ok.yaml"
	expect_out "will build" drydock plan --mirror "$M" "$ok.yaml"
}

# ref_name RUN: the tag the run's OCI layout carries.
ref_name() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$1/image/index.json"
}

tags_follow_the_reference_grammar() {
	printf 'output:\n  tag: "%s"\n' '../../etc:passwd' >t1.txt
	job bad1.yaml "$(cat t1.txt)"
	expect_fail 1 "bad1\.yaml:[0-9]+:8: output\.tag '\.\./\.\./etc:passwd' is not an image reference" \
		drydock plan --mirror "$M" bad1.yaml
	for t in '""' '"web app:1"' '"web:1\nx"' '"Web:1"' '"web@sha256:00"' \
		"$(printf '%05000d' 0)"; do
		job bad.yaml "output:" "  tag: $t"
		expect_fail 1 "bad\.yaml:[0-9]+:8: output\.tag .* is not an image reference" \
			drydock plan --mirror "$M" bad.yaml
		expect_fail 1 "is not an image reference" drydock build --mirror "$M" -o out bad.yaml
	done
	[ ! -e out/bad/latest ] || t_fail "a refused tag made a run"
	# tags at the edges of the grammar are carried, and podman loads them
	P="podman --root $T_TMP/pr --runroot $T_TMP/prr --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"
	n=0
	for t in registry.local:5000/team/web-app_1:v1.0-rc_2 localhost/a__b.c--d:_X.y "Reg-1.example:5000/w:$(printf '%0128d' 7)"; do
		n=$((n + 1))
		job "good$n.yaml" "output:" "  tag: \"$t\""
		drydock build --mirror "$M" -o out "good$n.yaml" >/dev/null
		[ "$(ref_name "out/good$n/latest")" = "$t" ] || t_fail "tag $t not carried"
		command -v podman >/dev/null || continue
		$P load -i "out/good$n/latest/image.oci.tar" >load.out 2>&1 || { cat load.out; t_fail "podman load $t"; }
		$P image exists "$t" || { $P images; t_fail "podman has no image $t"; }
	done
}

default_tag_is_lower_case() {
	cp "$HELLO" Hello_World.yaml
	drydock build --mirror "$M" -o out Hello_World.yaml >/dev/null
	[ "$(ref_name out/Hello_World/latest)" = "drydock.local/hello_world:latest" ] ||
		t_fail "default tag: $(ref_name out/Hello_World/latest)"
	cp "$HELLO" a..b.yaml
	expect_fail 1 "a\.\.b\.yaml: the job name 'a\.\.b' gives the default tag 'drydock\.local/a\.\.b:latest', which is not an image reference .*set output\.tag" \
		drydock plan --mirror "$M" a..b.yaml
}

paths_stay_in_the_image() {
	job up.yaml "paths:" "  - path: /../../tmp/ddx" "    type: directory"
	expect_fail 1 "up\.yaml:[0-9]+:5: path '/\.\./\.\./tmp/ddx' has a '\.\.' component" \
		drydock build --mirror "$M" -o out up.yaml
	job root.yaml "paths:" "  - path: /" "    type: directory"
	expect_fail 1 "root\.yaml:[0-9]+:5: path '/' names the image root itself" \
		drydock plan --mirror "$M" root.yaml
	job hl.yaml "paths:" "  - path: /x" "    type: hardlink" "    source: /../etc/shadow"
	expect_fail 1 "source '/\.\./etc/shadow' has a '\.\.' component" \
		drydock plan --mirror "$M" hl.yaml
	job dot.yaml "paths:" "  - path: /./etc/./x" "    type: empty-file"
	drydock build --mirror "$M" -o out --sign "$K/ed.pem" dot.yaml >/dev/null
	python3 - out/dot/latest/image <<'PY'
import gzip, io, json, sys, tarfile
d = sys.argv[1]
b = lambda x: d + "/blobs/sha256/" + x.split(":")[1]
m = json.load(open(b(json.load(open(d + "/index.json"))["manifests"][0]["digest"])))
names = []
for l in m["layers"]:
    names += tarfile.open(fileobj=io.BytesIO(gzip.decompress(open(b(l["digest"]), "rb").read()))).getnames()
assert "etc/x" in names, names
bad = [n for n in names if not n or n.startswith("/") or ".." in n.split("/") or "." in n.split("/")]
assert not bad, bad
PY
	expect_out "^verified" drydock verify --key "$K/ed.pub" out/dot/latest
}

# A run whose last layer also holds a member "../../tmp/ddx", its digests,
# diff_id and provenance all made consistent again and signed: verify
# must refuse the layer itself.
verify_refuses_members_outside_the_root() {
	drydock build --mirror "$M" -o out --sign "$K/ed.pem" "$HELLO" >/dev/null
	cp -a "$(cd out/hello/latest && pwd -P)" run
	python3 - run <<'PY' >new
import gzip, hashlib, io, json, sys, tarfile
run = sys.argv[1]
b = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(run + "/image/blobs/sha256/" + h, "wb").write(data)
    return "sha256:" + h
idx = json.load(open(run + "/image/index.json"))
m = json.load(open(b(idx["manifests"][0]["digest"])))
layer = m["layers"][-1]
src = tarfile.open(fileobj=io.BytesIO(gzip.decompress(open(b(layer["digest"]), "rb").read())))
out = io.BytesIO()
t = tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT)
for mem in src.getmembers():
    t.addfile(mem, src.extractfile(mem) if mem.isfile() else None)
evil = tarfile.TarInfo("../../tmp/ddx")
evil.type = tarfile.DIRTYPE
t.addfile(evil)
t.close()
raw = out.getvalue()
data = gzip.compress(raw, mtime=0)
layer["digest"], layer["size"] = put(data), len(data)
cfg = json.load(open(b(m["config"]["digest"])))
cfg["rootfs"]["diff_ids"][-1] = "sha256:" + hashlib.sha256(raw).hexdigest()
cb = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
m["config"]["digest"], m["config"]["size"] = put(cb), len(cb)
mb = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = put(mb), len(mb)
json.dump(idx, open(run + "/image/index.json", "w"))
print(idx["manifests"][0]["digest"][7:])
PY
	python3 - run "$K/ed.pem" "$(cat new)" <<'PY'
import base64, hashlib, json, subprocess, sys
run, key, top = sys.argv[1:]
p = run + "/provenance.intoto.json"
env = json.load(open(p))
st = json.loads(base64.b64decode(env["payload"]))
st["subject"][0]["digest"]["sha256"] = top
for s in st["subject"][1:]:
    try:
        s["digest"]["sha256"] = hashlib.sha256(open(run + "/" + s["name"], "rb").read()).hexdigest()
    except (FileNotFoundError, IsADirectoryError):
        pass
body = json.dumps(st, sort_keys=True, separators=(",", ":")).encode()
t = env["payloadType"].encode()
open(run + "/pae", "wb").write(b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body))
subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", run + "/pae",
                "-out", run + "/sig"], check=True)
env["payload"] = base64.b64encode(body).decode()
env["signatures"] = [{"keyid": "x", "sig": base64.b64encode(open(run + "/sig", "rb").read()).decode()}]
json.dump(env, open(p, "w"))
PY
	rm -f run/pae run/sig
	expect_fail 1 "member '\.\./\.\./tmp/ddx/?' would be written outside the image root" \
		drydock verify --key "$K/ed.pub" run
	grep -q "^FAIL  diff_ids: " "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "not a diff_ids failure"; }
}

deep_and_repeated_yaml_refused() {
	python3 -c 'print("base: hello\nannotations: " + "[" * 100000 + "]" * 100000)' >deep.yaml
	expect_fail 1 "deep\.yaml:2:[0-9]+: nesting deeper than 64 levels" \
		drydock plan --mirror "$M" deep.yaml
	printf 'base: hello\nannotations:\n  a: 1\n  b: 2\n  a: 3\n' >dup.yaml
	expect_fail 1 "dup\.yaml:5:3: annotations: key 'a' given twice" drydock plan --mirror "$M" dup.yaml
	python3 -c '
print("base: hello\ncontents:\n  packages: [hello-drydock]\nannotations:")
for i in range(20000): print("  k%d: v%d" % (i, i))' >many.yaml
	expect_out "will build" drydock plan --mirror "$M" many.yaml
}

# epoch_refused CMD...: every malformed SOURCE_DATE_EPOCH makes CMD exit 2
# with the one message.
epoch_refused() {
	for v in 99999999999999999999 junk -1 253402300800 ' 1' 1e9 0x10 '1 '; do
		SOURCE_DATE_EPOCH=$v expect_fail 2 \
			"SOURCE_DATE_EPOCH is '.*': expected whole seconds since 1970-01-01T00:00:00Z, from 0 to 253402300799" \
			"$@"
	done
}

epoch_checked_by_build() {
	epoch_refused drydock build --mirror "$M" -o out "$HELLO"
	[ ! -e out ] || [ -z "$(ls out/hello 2>/dev/null | grep -v '^\.')" ] || t_fail "a run was made"
	SOURCE_DATE_EPOCH=253402300799 drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	python3 - out/hello/latest/image <<'PY'
import json, sys
d = sys.argv[1]
b = lambda x: d + "/blobs/sha256/" + x.split(":")[1]
m = json.load(open(b(json.load(open(d + "/index.json"))["manifests"][0]["digest"])))
c = json.load(open(b(m["config"]["digest"])))
assert c["created"] == "9999-12-31T23:59:59Z", c["created"]
PY
}

epoch_checked_by_pkg() {
	mkdir -p root/etc
	echo x >root/etc/x
	printf 'pkgname = e\npkgver = 1.0-r0\narch = x86_64\nlicense = MIT\n' >info
	epoch_refused drydock pkg build --info info -o e.apk root
	[ ! -e e.apk ] || t_fail "pkg build wrote a package"
	SOURCE_DATE_EPOCH=0 drydock pkg build --info info -o e.apk root >/dev/null
	epoch_refused drydock pkg index -o APKINDEX.tar.gz e.apk
	[ ! -e APKINDEX.tar.gz ] || t_fail "pkg index wrote an index"
	SOURCE_DATE_EPOCH=253402300799 drydock pkg index -o APKINDEX.tar.gz e.apk >/dev/null
}

epoch_checked_by_bundle_create() {
	epoch_refused drydock bundle create --channel stable --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" -o b.tar "$IN"
	[ ! -e b.tar ] || t_fail "bundle create wrote a bundle"
}

# Two APKINDEX entries whose C: spell one SHA-1 two ways (the bits the
# base64 padding leaves over; hex) are one package, as in apk-tools: the
# first is kept, and the duplicate is named.
duplicate_checksums_are_one_package() {
	printf 'P:a\nV:1\nC:Q1ITuEelU8mXt/GU2mvAuy4BSM9f0=\n\nP:a\nV:1\nC:Q1ITuEelU8mXt/GU2mvAuy4BSM9f3=\nD:missing\n\nP:b\nV:2\nC:X1213B847A553C997B7F194DA6BC0BB2E0148CF5FD\n\n' >APKINDEX
	drydock pkg resolve --repo APKINDEX a >out 2>err || { cat out err; t_fail "resolve failed"; }
	[ "$(cat out)" = a-1 ] || { cat out; t_fail "not the first entry"; }
	grep -q "^drydock: warning: a-1: its checksum Q1ITuEelU8mXt/GU2mvAuy4BSM9f0= is that of a-1 listed before it" err ||
		{ cat err; t_fail "no warning for the second a-1"; }
	grep -q "^drydock: warning: b-2: its checksum Q1ITuEelU8mXt/GU2mvAuy4BSM9f0= is that of a-1" err ||
		{ cat err; t_fail "no warning for b-2"; }
	expect_fail 1 "" drydock pkg resolve --repo APKINDEX b
}

t_run dotdot_job_stays_inside_out
t_run bad_job_names_refused
t_run tags_follow_the_reference_grammar
t_run default_tag_is_lower_case
t_run paths_stay_in_the_image
t_run verify_refuses_members_outside_the_root
t_run deep_and_repeated_yaml_refused
t_run epoch_checked_by_build
t_run epoch_checked_by_pkg
t_run epoch_checked_by_bundle_create
t_run duplicate_checksums_are_one_package
