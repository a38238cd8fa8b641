#!/bin/sh
# Security advisories: secdb members in bundles (signed, checked, stored
# per channel), and drydock advisories on packages, runs and images,
# including images drydock did not build.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
ADV=$TOP/fixtures/advisories
IN=$T_TMP/in
bundle_dir "$S" "$IN"
# adv_pkg NAME VERSION: the fixture package NAME built at VERSION into IN
adv_pkg() {
	src=$TOP/fixtures/packages/$1
	drydock pkg build --info "$src/PKGINFO" --set "pkgver=$2" --sign "$S/apk.rsa" \
		-o "$IN/packages/$1-$2.apk" "$src/root" >/dev/null
}
# below, at and above the fixes of fixtures/advisories/security.json
for v in adv-libssl:3.1.4-r1 adv-libssl:3.1.4-r10 adv-libcrypto:3.1.4-r0 \
	adv-libcrypto:3.1.4-r1 adv-curl:8.5.0_rc1-r0 adv-curl:8.5.0_rc2-r0 \
	adv-curl:8.5.0_p1-r0 adv-xen-libs:4.18.0-r10 adv-zlib:1.3.1-r9 adv-zlib:1.3.1-r10 \
	adv-busybox:1.36.1-r4 adv-tzdata:2024a-r0; do
	adv_pkg "${v%%:*}" "${v#*:}"
done
cp "$ADV/security.json" "$IN/security.json"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
# the fixture bundle was made at SOURCE_DATE_EPOCH (2023-11-14)
export DRYDOCK_NOW=2023-11-16T00:00:00Z

# adv_states RUN-OR-IMAGE: "ID PACKAGE STATE [AVAILABLE]" lines, sorted
adv_states() {
	drydock advisories --mirror "$M" --json "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in d["targets"]:
    for s in t["subjects"]:
        for a in s["advisories"]:
            av = a.get("available", {}).get("version", "")
            print(a["id"], a["package"], a["state"], av)' | sort
}

secdb_is_a_signed_member() {
	make_bundle "$S" "$IN" b.tar 1
	drydock bundle inspect --json b.tar | python3 -c '
import json, sys, hashlib
m = json.load(sys.stdin)
sec = [x for x in m["members"] if x["path"] == "security.json"]
assert len(sec) == 1 and sec[0]["kind"] == "secdb", m["members"]
assert sec[0]["sha256"] == hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()' \
		"$IN/security.json"
	expect_out "security database security.json of bundle [0-9a-f]{16}… \(channel stable, sequence 1, 2023-11-14T22:13:20Z\): 6 origins, 14 ids" \
		drydock advisories --mirror "$M" adv-zlib
}

altered_secdb_is_refused() {
	make_bundle "$S" "$IN" b.tar 1
	python3 - b.tar bad.tar <<'PY'
import io, sys, tarfile
src, dst = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name == "security.json":
            # the same size: only the manifest's sha256 can tell
            data = data.replace(b"CVE-2024-5001", b"CVE-2024-5009")
            assert len(data) == m.size
        o.addfile(m, io.BytesIO(data) if data is not None else None)
PY
	trusted_mirror "$S" m
	before=$(snapshot m)
	expect_fail 1 "member 'security.json' has sha256 [0-9a-f]{64}, the manifest says" \
		drydock mirror import --mirror m bad.tar
	[ "$before" = "$(snapshot m)" ] || t_fail "a refused bundle changed the mirror"
}

malformed_secdb_is_refused() {
	mkdir -p bad/secdb
	cp -r "$IN/packages" bad/
	printf '{"packages": [{"pkg": {"name": "x", "secfixes": {"1.x!": ["CVE-1"]}}}]}' \
		>bad/secdb/main.json
	expect_fail 1 "secdb/main.json: package 'x': '1.x!' is not an APK version" \
		make_bundle "$S" bad b.tar 1
	# a sender without that check: the receiver refuses it all the same
	printf '{"packages": [{"pkg": {"name": "x", "secfixes": {"1.0": "CVE-1"}}}]}' \
		>bad/secdb/main.json
	mkdir -p ok/secdb && cp -r "$IN/packages" ok/ && cp "$IN/security.json" ok/secdb/main.json
	make_bundle "$S" ok good/ 1
	cp bad/secdb/main.json good/secdb/main.json
	python3 - good <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
for x in m["members"]:
    if x["path"] == "secdb/main.json":
        data = open(d + "/" + x["path"], "rb").read()
        x["size"], x["sha256"] = len(data), hashlib.sha256(data).hexdigest()
open(d + "/manifest.json", "w").write(json.dumps(m, indent=2) + "\n")
PY
	rm good/manifest.json.sig
	gpg --homedir "$S/gnupg" --batch --detach-sign -u bundle@example.invalid \
		-o good/manifest.json.sig good/manifest.json
	trusted_mirror "$S" m
	expect_fail 1 "security database: secdb/main.json: package 'x', version '1.0': not a list of ids" \
		drydock mirror import --mirror m good
	expect_fail 1 "holds no security database" drydock advisories --mirror m base-files
}

newer_bundle_replaces_secdb() {
	trusted_mirror "$S" m
	make_bundle "$S" "$IN" b1.tar 1
	drydock mirror import --mirror m b1.tar >/dev/null
	mkdir -p in2/secdb
	cp -r "$IN/packages" in2/
	python3 - "$IN/security.json" in2/secdb/main.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["packages"]:
    if p["pkg"]["name"] == "adv-busybox":
        p["pkg"]["secfixes"] = {"1.36.1-r4": ["CVE-2024-5001"]}
json.dump(d, open(sys.argv[2], "w"))
PY
	make_bundle "$S" in2 b2.tar 2
	drydock mirror import --mirror m b2.tar >/dev/null
	drydock advisories --mirror m --json adv-busybox >out.json
	python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [(f["path"], f["sequence"]) for f in d["secdbs"]] == [("secdb/main.json", 2)], d["secdbs"]
got = {a["id"]: a["state"] for a in d["targets"][0]["subjects"][0]["advisories"]}
assert got == {"CVE-2024-5001": "fixed"}, got
PY
	# a bundle without a secdb keeps the channel's
	mkdir -p in3 && cp -r "$IN/packages" in3/
	make_bundle "$S" in3 b3.tar 3
	drydock mirror import --mirror m b3.tar >/dev/null
	expect_out "secdb/main.json of bundle .*sequence 2" drydock advisories --mirror m adv-busybox
}

four_states_on_a_built_image() {
	drydock build --mirror "$M" -o out "$ADV/advised.yaml" >/dev/null
	adv_states out/advised/latest >got
	cat >want <<'W'
CVE-2019-6001 adv-tzdata not_affected 
CVE-2019-6002 adv-tzdata not_affected 
CVE-2020-0001 adv-libcrypto not_affected 
CVE-2020-0001 adv-libssl not_affected 
CVE-2021-5000 adv-busybox not_affected 
CVE-2023-46835 adv-xen-libs fixed 
CVE-2024-1001 adv-libcrypto fix_available 3.1.4-r1
CVE-2024-1001 adv-libssl fixed 
CVE-2024-1002 adv-libcrypto fix_available 3.1.4-r1
CVE-2024-1002 adv-libssl fixed 
CVE-2024-1003 adv-libcrypto fix_not_here 
CVE-2024-1003 adv-libssl fix_available 3.1.4-r10
CVE-2024-2001 adv-curl fixed 
CVE-2024-4001 adv-zlib fix_available 1.3.1-r10
CVE-2024-5001 adv-busybox fix_not_here 
GHSA-q3x2-2f9c-7mw6 adv-curl fix_available 8.5.0_p1-r0
XSA-446 adv-xen-libs fixed 
XSA-447 adv-xen-libs fixed 
W
	diff want got || t_fail "advisory states differ"
	# the same from the image archive, and in words
	adv_states out/advised/latest/image.oci.tar >got2
	diff want got2 || t_fail "the archive gives other states"
	expect_out "^out/advised/latest/image.oci.tar \(linux/amd64, sha256:[0-9a-f]{64}\): 8 packages, 18 advisories: 6 fixed, 5 fix available, 2 fix not yet here, 5 not affected$" \
		drydock advisories --mirror "$M" out/advised/latest/image.oci.tar
	grep -Eq "^  CVE-2024-4001 adv-zlib-1.3.1-r9: fix available: adv-zlib-1.3.1-r10 in bundle [0-9a-f]{16}… \(stable#1\) fixes it \(from 1.3.1-r10\)$" "$T_TMP/.o" ||
		{ cat "$T_TMP/.o"; t_fail "fix available line"; }
	grep -Eq "^  CVE-2024-1003 adv-libcrypto-3.1.4-r0 \(origin adv-ssl\): fix not yet here: fixed in 3.1.4-r10, which the mirror does not hold$" "$T_TMP/.o" ||
		t_fail "fix not yet here line"
}

origin_applies_to_subpackages() {
	drydock advisories --mirror "$M" --json adv-libssl adv-libcrypto >out.json
	python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = {}
for t in d["targets"]:
    for a in t["subjects"][0]["advisories"]:
        assert a["origin"] == "adv-ssl", a
        ids.setdefault(a["package"], set()).add(a["id"])
want = {"CVE-2024-1001", "CVE-2024-1002", "CVE-2024-1003", "CVE-2020-0001"}
assert ids == {"adv-libssl": want, "adv-libcrypto": want}, ids
PY
	# a version the mirror does not hold, given by the user
	expect_out "^  CVE-2024-4001 adv-zlib-1.3.0-r0: fix available: adv-zlib-1.3.1-r10" \
		drydock advisories --mirror "$M" adv-zlib=1.3.0-r0
	expect_fail 1 "'no-such-pkg' is neither a file nor a package the mirror holds" \
		drydock advisories --mirror "$M" no-such-pkg
}

old_feed_warns() {
	expect_out "warning: security.json is 1.1 days old \(more than --max-age 1\)" \
		drydock advisories --mirror "$M" --max-age 1 adv-zlib
	DRYDOCK_NOW=2023-11-30T00:00:00Z drydock advisories --mirror "$M" --json adv-zlib >o.json
	python3 -c '
import json, sys
d = json.load(open("o.json"))
f = d["secdbs"][0]
assert f["stale"] and d["max_age_days"] == 7 and f["channel"] == "stable" and f["sequence"] == 1, f
assert f["created"] == "2023-11-14T22:13:20Z" and len(f["bundle"]) == 64, f'
	drydock advisories --mirror "$M" adv-zlib >o.txt
	! grep -q warning o.txt || t_fail "a 2-day-old feed warned"
	expect_fail 2 "advisories: --max-age 'x': expected a number from 1 to 36500" drydock advisories --mirror "$M" --max-age x adv-zlib
	# plan, build and batch take the same threshold
	expect_out "warning: security.json is 1.1 days old \(more than --max-age 1\)" \
		drydock plan --mirror "$M" --max-age 1 "$ADV/advised.yaml"
	drydock plan --mirror "$M" "$ADV/advised.yaml" >o.txt
	! grep -q 'days old' o.txt || t_fail "plan warned of a 2-day-old feed"
	drydock plan --mirror "$M" --max-age 1 --json "$ADV/advised.yaml" | python3 -c '
import json, sys
f = json.load(sys.stdin)[0]["archs"][0]["advisories"]["secdbs"][0]
assert f["stale"] is True, f'
	mkdir jobs && cp "$ADV/advised.yaml" jobs/
	drydock build --mirror "$M" -o out --max-age 1 jobs/advised.yaml >/dev/null
	grep -q 'warning: security database security.json of channel stable is 1.1 days old (more than 1)' \
		out/advised/latest/build.log || t_fail "build did not warn of the old feed"
	drydock batch --mirror "$M" -o out2 jobs >b.txt 2>&1
	! grep -q 'days old' b.txt || t_fail "batch warned of a 2-day-old feed"
	drydock batch --mirror "$M" -o out3 --max-age 1 jobs >b.txt 2>&1
	grep -q 'advised: security database security.json of channel stable is 1.1 days old' b.txt ||
		t_fail "batch did not warn: $(cat b.txt)"
	for c in plan "build -o out4" "batch -o out4"; do
		expect_fail 2 "${c%% *}: --max-age '0': expected a number from 1 to 36500" \
			drydock $c --mirror "$M" --max-age 0 jobs/advised.yaml
	done
}

image_not_built_by_drydock() {
	# an image as other tools lay it out: "./" names, the database in
	# lib/apk/db, an upper layer that replaces it, one layer uncompressed
	python3 - img.oci.tar <<'PY'
import gzip, hashlib, io, json, sys, tarfile
blobs = {}
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return "sha256:" + d, len(data)
def layer(files, gz=True):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for name, data in files.items():
            i = tarfile.TarInfo("./" + name)
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
    raw = b.getvalue()
    return blob(gzip.compress(raw) if gz else raw)
db1 = b"P:adv-zlib\nV:1.3.1-r10\nA:x86_64\no:adv-zlib\n\n"
db2 = db1 + b"P:adv-libcrypto\nV:3.1.4-r0\nA:x86_64\no:adv-ssl\nF:usr\nR:x\nZ:Q1abc=\n\n"
l1 = layer({"lib/apk/db/installed": db1, "etc/os-release": b"ID=other\n"})
l2 = layer({"lib/apk/db/installed": db2}, gz=False)
cfg = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode())
man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg[0], "size": cfg[1]},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l1[0], "size": l1[1]},
               {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": l2[0], "size": l2[1]}]}).encode())
idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": man[0], "size": man[1]}]}).encode()
with tarfile.open(sys.argv[1], "w") as t:
    # layers before the documents that name them, as some writers order them
    items = [("./blobs/sha256/" + d, v) for d, v in sorted(blobs.items())]
    for name, data in items + [("./oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("./index.json", idx)]:
        i = tarfile.TarInfo(name)
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
PY
	adv_states img.oci.tar >got
	printf '%s\n' "CVE-2020-0001 adv-libcrypto not_affected " \
		"CVE-2024-1001 adv-libcrypto fix_available 3.1.4-r1" \
		"CVE-2024-1002 adv-libcrypto fix_available 3.1.4-r1" \
		"CVE-2024-1003 adv-libcrypto fix_not_here " "CVE-2024-4001 adv-zlib fixed " >want
	diff want got || t_fail "states of the foreign image"
	expect_out "\(linux/amd64, sha256:[0-9a-f]{64}\): 2 packages" \
		drydock advisories --mirror "$M" img.oci.tar
	printf 'not an image' >junk.tar
	expect_fail 1 "junk.tar is not an OCI image layout, oci-archive or run folder" \
		drydock advisories --mirror "$M" junk.tar
}

apko_repository_image() {
	need_corpus
	apko_mirror "$S" am
	mkdir -p sec
	cat >sec/security.json <<'J'
{"distroversion": "apko-test", "reponame": "main", "archs": ["x86_64", "aarch64"],
 "packages": [
  {"pkg": {"name": "replayout", "secfixes": {"1.0.0-r1": ["CVE-2025-0001"], "0": ["CVE-2025-0002"]}}},
  {"pkg": {"name": "pretend-baselayout", "secfixes": {"1.0.0-r0": ["CVE-2025-0003 GHSA-aaaa-bbbb-cccc"]}}}]}
J
	drydock bundle create --channel security --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" -o sec.tar sec >/dev/null
	drydock mirror import --mirror am sec.tar >/dev/null
	printf 'base: layout\ncontents:\n  packages: [replayout]\narchs: [x86_64, arm64]\n' >two.yaml
	drydock build --mirror am -o out two.yaml >/dev/null
	drydock advisories --mirror am --json out/two/latest/image.oci.tar >o.json
	python3 - o.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [f["channel"] for f in d["secdbs"]] == ["security"], d["secdbs"]
subs = d["targets"][0]["subjects"]
assert sorted(s["platform"] for s in subs) == ["linux/amd64", "linux/arm64/v8"], subs
for s in subs:
    assert s["apk_db"] == "usr/lib/apk/db/installed", s
    got = sorted((a["id"], a["package"], a["state"]) for a in s["advisories"])
    assert got == [("CVE-2025-0001", "replayout", "fix_not_here"),
                   ("CVE-2025-0002", "replayout", "not_affected"),
                   ("CVE-2025-0003", "pretend-baselayout", "fixed"),
                   ("GHSA-aaaa-bbbb-cccc", "pretend-baselayout", "fixed")], got
PY
}

damaged_secdb_blob_is_named() {
	cp -r "$M" m2
	sha=$(sha256sum "$ADV/security.json" | cut -d' ' -f1)
	[ -f "m2/blobs/sha256/$sha" ] || t_fail "the secdb is not a blob of the mirror"
	chmod u+w "m2/blobs/sha256/$sha"
	printf '{"packages": [' >"m2/blobs/sha256/$sha"
	expect_fail 1 "the mirror's security database security.json of channel 'stable' \(run 'drydock mirror fsck'\)" \
		drydock advisories --mirror m2 adv-zlib
	expect_fail 1 "security database security.json of channel 'stable'" \
		drydock plan --mirror m2 "$ADV/advised.yaml"
	expect_fail 1 "secdb blob $sha is" drydock mirror fsck --mirror m2
}

plan_counts_and_list() {
	expect_out "^  18 advisories: 6 fixed, 5 fix available, 2 fix not yet here, 5 not affected$" \
		drydock plan --mirror "$M" "$ADV/advised.yaml"
	grep -q "^advisories from the security database security.json of bundle" "$T_TMP/.o" ||
		t_fail "plan names no secdb"
	! grep -q "^    CVE-" "$T_TMP/.o" || t_fail "the list without -v"
	expect_out "^    CVE-2024-4001 adv-zlib-1.3.1-r9: fix available: adv-zlib-1.3.1-r10 in bundle" \
		drydock plan -v --mirror "$M" "$ADV/advised.yaml"
	[ "$(grep -c '^    [A-Z]*-' "$T_TMP/.o")" -eq 18 ] || t_fail "plan -v lists $(grep -c '^    [A-Z]*-' "$T_TMP/.o") advisories"
	drydock plan --json --mirror "$M" "$ADV/advised.yaml" | python3 -c '
import json, sys
a = json.load(sys.stdin)[0]["archs"][0]["advisories"]
assert a["counts"] == {"fixed": 6, "fix_available": 5, "fix_not_here": 2, "not_affected": 5}, a["counts"]
assert len(a["items"]) == 18 and a["secdbs"][0]["path"] == "security.json"'
	# no secdb in the mirror: the plan says nothing of advisories
	drydock plan --mirror "$M" "$TOP/fixtures/jobs/hello.yaml" >/dev/null
	mkdir plain-in
	cp -r "$IN/packages" "$IN/entitlements.json" "$IN/entitlements.json.sig" plain-in/
	mirror_of "$S" plain-in plain
	drydock plan --mirror plain "$TOP/fixtures/jobs/hello.yaml" >o.txt
	! grep -Eq "advisories from|[0-9]+ advisories" o.txt || t_fail "advisories without a secdb"
}

build_writes_vex() {
	openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
	openssl pkey -in ed.pem -pubout -out ed.pub 2>/dev/null
	drydock build --mirror "$M" -o out --sign ed.pem "$ADV/advised.yaml" >/dev/null
	run=out/advised/latest
	grep -Eq "advisories \(x86_64\): 18 advisories: 6 fixed, 5 fix available, 2 fix not yet here, 5 not affected$" \
		"$run/build.log" || t_fail "log lacks the counts"
	grep -Eq "  CVE-2024-1003 adv-libcrypto-3.1.4-r0 \(origin adv-ssl\): fix not yet here" "$run/build.log" ||
		t_fail "log lacks an advisory"
	grep -Eq "advisories from the security database security.json of bundle [0-9a-f]{16}… \(channel stable, sequence 1, 2023-11-14T22:13:20Z\)" \
		"$run/build.log" || t_fail "log lacks the secdb"
	grep -q "VEX: vex.openvex.json (OpenVEX 0.2.0), vex.cdx.json (CycloneDX 1.6), 18 statements" \
		"$run/build.log" || t_fail "log lacks the VEX documents"
	python3 - "$run" <<'PY'
import json, sys, hashlib, base64
run = sys.argv[1]
r = json.load(open(run + "/result.json"))
a = r["advisories"]
assert a["counts"] == {"fixed": 6, "fix_available": 5, "fix_not_here": 2, "not_affected": 5}, a
assert a["vex"] == ["vex.openvex.json", "vex.cdx.json"] and a["secdbs"][0]["sequence"] == 1, a
items = r["archs"][0]["advisories"]["items"]
assert {(i["id"], i["package"]): i["state"] for i in items}[("CVE-2024-4001", "adv-zlib")] == "fix_available"
env = json.load(open(run + "/provenance.intoto.json"))
st = json.loads(base64.b64decode(env["payload"]))
subj = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
for f in ["vex.openvex.json", "vex.cdx.json"]:
    assert subj[f] == hashlib.sha256(open(run + "/" + f, "rb").read()).hexdigest(), f
ov = json.load(open(run + "/vex.openvex.json"))
st = {(s["vulnerability"]["name"], s["products"][0]["subcomponents"][0]["@id"]): s
      for s in ov["statements"]}
s = st[("CVE-2024-1003", "pkg:apk/stable/adv-libcrypto@3.1.4-r0?arch=x86_64")]
assert s["status"] == "affected" and "import a bundle" in s["action_statement"], s
s = st[("CVE-2024-4001", "pkg:apk/stable/adv-zlib@1.3.1-r9?arch=x86_64")]
assert s["status"] == "affected" and "adv-zlib-1.3.1-r10" in s["action_statement"], s
assert st[("XSA-446", "pkg:apk/stable/adv-xen-libs@4.18.0-r10?arch=x86_64")]["status"] == "fixed"
assert st[("CVE-2019-6001", "pkg:apk/stable/adv-tzdata@2024a-r0?arch=x86_64")]["status"] == "not_affected"
# the packages are named as the SBOM names them
sbom = json.load(open(run + "/sbom.cdx.json"))
refs = {c["bom-ref"] for c in sbom["components"]}
cdx = json.load(open(run + "/vex.cdx.json"))
assert all(v["affects"][0]["ref"] in refs for v in cdx["vulnerabilities"])
assert cdx["metadata"]["component"]["bom-ref"] == r["digest"]
PY
	expect_out "^verified: " drydock verify --key ed.pub "$run"
	grep -q "vex.openvex.json and vex.cdx.json are the ones the statement names" "$T_TMP/.o" ||
		t_fail "verify did not check the VEX documents"
	# a VEX document changed after the build is caught like an SBOM
	sed -i 's/"fixed"/"not_affected"/' "$run/vex.openvex.json"
	expect_fail 1 "vex.openvex.json: its content hashes to sha256:[0-9a-f]{64}, the statement says" \
		drydock verify --key ed.pub "$run"
	rm "$run/vex.cdx.json"
	expect_fail 1 "vex.openvex.json|vex.cdx.json" drydock verify --key ed.pub "$run"
}

vex_documents_validate() {
	drydock build --mirror "$M" -o out "$ADV/advised.yaml" >/dev/null
	v=$TOP/tests/node/validate-vex.js
	command -v node >/dev/null || t_skip "node is not installed"
	[ -d "$TOP/tests/node/node_modules/ajv" ] ||
		t_skip "tests/node has no node_modules (scripts/install-deps runs npm ci)"
	schema=$CORPUS/../schemas/openvex-0.2.0.schema.json
	[ -f "$schema" ] || t_skip "the OpenVEX schema is absent: $schema"
	run=out/advised/latest
	expect_out '^valid$' node "$v" "$schema" "$run/vex.openvex.json" "$run/vex.cdx.json"
	# the checker can fail: a statement that breaks the schema, and a disagreement
	python3 - "$run/vex.openvex.json" bad.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["statements"]:
    if s["status"] == "affected":
        del s["action_statement"]
        break
json.dump(d, open(sys.argv[2], "w"))
PY
	expect_fail 1 '^INVALID$' node "$v" "$schema" bad.json "$run/vex.cdx.json"
	python3 - "$run/vex.cdx.json" bad.cdx.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["vulnerabilities"][0]["analysis"]["state"] = "false_positive"
json.dump(d, open(sys.argv[2], "w"))
PY
	expect_fail 1 "disagree" node "$v" "$schema" "$run/vex.openvex.json" bad.cdx.json
}

# a nightly batch: the night a bundle brings the fixed adv-zlib, the
# rebuilt job's report (and drydock diff) names the advisory it fixed
batch_reports_fixed_advisories() {
	mkdir -p in1/packages in2/packages jobs
	cp "$IN/packages/base-files.apk" "$IN/packages/hello-drydock.apk" \
		"$IN/packages/adv-zlib-1.3.1-r9.apk" in1/packages/
	cp "$IN/entitlements.json" "$IN/entitlements.json.sig" "$IN/security.json" in1/
	cp "$IN/packages/adv-zlib-1.3.1-r10.apk" in2/packages/
	cp "$IN/security.json" in2/
	mirror_of "$S" in1 m
	printf 'base: hello\ncontents:\n  packages: [adv-zlib]\npolicy:\n  allow-unguarded: true\n' \
		>jobs/zlib.yaml
	printf 'base: hello\n' >jobs/plain.yaml
	drydock batch --mirror m -o out jobs >night1.txt
	grep -q '^2 built, 0 up to date, 0 failed$' night1.txt || t_fail "night 1: $(cat night1.txt)"
	first=$(readlink out/zlib/latest)
	make_bundle "$S" in2 b2.tar 2
	drydock mirror import --mirror m b2.tar >/dev/null
	set +e
	drydock batch --mirror m -o out jobs >night2.txt
	rc=$?
	set -e
	[ $rc -eq 0 ] || t_fail "night 2 exited $rc: $(cat night2.txt)"
	grep -q '^1 built, 1 up to date, 0 failed$' night2.txt || t_fail "night 2: $(cat night2.txt)"
	grep -q '^    upgraded adv-zlib 1.3.1-r9 -> 1.3.1-r10$' night2.txt ||
		t_fail "no upgrade line: $(cat night2.txt)"
	grep -q '^    fixed CVE-2024-4001 in adv-zlib 1.3.1-r9 -> 1.3.1-r10 (fixed in 1.3.1-r10)$' \
		night2.txt || t_fail "no fixed advisory line: $(cat night2.txt)"
	# night 2's report, by the name it printed (two nights of one second
	# sort by their random part)
	report=$(sed -n 's/^report: //p' night2.txt)
	python3 - "$report" <<'PY2'
import json, sys
r = json.load(open(sys.argv[1]))
jobs = {j["name"]: j for j in r["jobs"]}
assert jobs["plain"]["status"] == "up to date", jobs["plain"]
fx = jobs["zlib"]["changes"]["advisories_fixed"]
assert fx == [{"id": "CVE-2024-4001", "package": "adv-zlib", "from": "1.3.1-r9",
               "to": "1.3.1-r10", "fixed_in": "1.3.1-r10"}], fx
PY2
	expect_out '^fixed CVE-2024-4001 in adv-zlib 1.3.1-r9 -> 1.3.1-r10' \
		drydock diff "out/zlib/$first" out/zlib/latest
	drydock diff --json "out/zlib/$first" out/zlib/latest | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert [a["id"] for a in c["advisories_fixed"]] == ["CVE-2024-4001"], c'
}

t_run secdb_is_a_signed_member
t_run altered_secdb_is_refused
t_run malformed_secdb_is_refused
t_run newer_bundle_replaces_secdb
t_run four_states_on_a_built_image
t_run origin_applies_to_subpackages
t_run old_feed_warns
t_run image_not_built_by_drydock
t_run apko_repository_image
t_run damaged_secdb_blob_is_named
t_run plan_counts_and_list
t_run build_writes_vex
t_run vex_documents_validate
t_run batch_reports_fixed_advisories
