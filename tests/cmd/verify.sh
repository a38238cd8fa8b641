#!/bin/sh
# Signed provenance and drydock verify: three kinds of signer; an auditor's
# commands from docs/verifying.md run as written; every tampering with a
# run (or a changed mirror) is caught and named.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
gpg --homedir "$S/gnupg" --batch --passphrase '' --quick-gen-key \
	"provenance signer <provenance@example.invalid>" ed25519 sign never 2>/dev/null
gpg --homedir "$S/gnupg" --export --armor provenance@example.invalid >"$S/prov.asc"
gpg --homedir "$S/gnupg" --export provenance@example.invalid >"$S/prov.gpg"
K=$T_TMP/keys
mkdir -p "$K"
openssl genpkey -algorithm ed25519 -out "$K/ed.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$K/other.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/ec.pem" 2>/dev/null
openssl genrsa -out "$K/rsa.pem" 2048 2>/dev/null
for k in ed other ec; do openssl pkey -in "$K/$k.pem" -pubout -out "$K/$k.pub" 2>/dev/null; done
IN=$T_TMP/in
bundle_dir "$S" "$IN"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml

# One signed run of the fixture job per signer, shared by the tests below.
R=$T_TMP/runs
drydock build --mirror "$M" -o "$R/ed" --sign "$K/ed.pem" "$HELLO" >/dev/null
drydock build --mirror "$M" -o "$R/ec" --sign "$K/ec.pem" "$HELLO" >/dev/null
drydock build --mirror "$M" -o "$R/pgp" --sign provenance@example.invalid \
	--gnupg-home "$S/gnupg" "$HELLO" >/dev/null
ED=$R/ed/hello/latest

# json FILE EXPR: a value from a JSON file (python expression over d).
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# doc_block NAME: the shell block after "<!-- test:NAME -->" in docs/verifying.md.
doc_block() {
	awk -v m="<!-- test:$1 -->" '$0 == m { f = 1; next }
		f && /^```sh/ { g = 1; next } g && /^```/ { exit } g { print }' "$TOP/docs/verifying.md"
}

# auditor NAME RUN: run that block as written, with RUN and a scratch W.
auditor() {
	b=$(doc_block "$1")
	[ -n "$b" ] || t_fail "docs/verifying.md has no block test:$1"
	mkdir -p w
	RUN=$2 W=$PWD/w sh -e -c "$b"
}

# copy_run RUN DIR: a copy of a run folder to tamper with.
copy_run() { rm -rf "$2"; cp -a "$(cd "$1" && pwd -P)" "$2"; }

# resign RUN KEY.pem PYTHON: change the statement (PYTHON edits st), point
# the subjects at the files as they now are, and sign it again with KEY
# (what a builder with a bug, or with the key, could produce).
resign() {
	python3 - "$1" "$2" "$3" <<'PY'
import base64, hashlib, json, subprocess, sys
run, key, edit = sys.argv[1:]
p = run + "/provenance.intoto.json"
env = json.load(open(p))
st = json.loads(base64.b64decode(env["payload"]))
exec(edit)
for s in st["subject"]:
    try:
        s["digest"]["sha256"] = hashlib.sha256(open(run + "/" + s["name"], "rb").read()).hexdigest()
    except FileNotFoundError:
        pass
body = json.dumps(st, sort_keys=True, separators=(",", ":")).encode()
t = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
open(run + "/pae", "wb").write(pae)
subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", run + "/pae",
                "-out", run + "/sig"], check=True)
env["payload"] = base64.b64encode(body).decode()
env["signatures"] = [{"keyid": "x", "sig": base64.b64encode(open(run + "/sig", "rb").read()).decode()}]
json.dump(env, open(p, "w"))
PY
	rm -f "$1/pae" "$1/sig"
}

# flip FILE [OFFSET]: change one byte (default: the middle one).
flip() {
	python3 - "$1" "${2:-}" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = int(sys.argv[2]) if sys.argv[2] else len(b) // 2
b[i] ^= 0x01
open(p, "wb").write(bytes(b))
PY
}

signed_three_ways() {
	for k in ed ec; do
		expect_out "^verified: .*all 11 checks passed" drydock verify --key "$K/$k.pub" "$R/$k/hello/latest"
	done
	expect_out "^ok    signature: good ed25519 signature by SHA256:" drydock verify --key "$K/ed.pub" "$ED"
	expect_out "^ok    signature: good ecdsa-p256 signature" drydock verify --key "$K/ec.pub" "$R/ec/hello/latest"
	fpr=$(gpg --homedir "$S/gnupg" --with-colons --fingerprint provenance@example.invalid | awk -F: '/^fpr/ { print $10; exit }')
	expect_out "^ok    signature: good openpgp signature by $fpr" drydock verify --key "$S/prov.asc" "$R/pgp/hello/latest"
	expect_out "^verified: .*all 11 checks passed" drydock verify --key "$S/prov.gpg" "$R/pgp/hello/latest"
	# result.json names the signer: kind, fingerprint, public key
	[ "$(json "$R/pgp/hello/latest/result.json" 'd["provenance"]["key"]["fingerprint"]')" = "$fpr" ] || t_fail "pgp fingerprint"
	want=SHA256:$(openssl pkey -pubin -in "$K/ed.pub" -outform DER | sha256sum | cut -d' ' -f1)
	[ "$(json "$ED/result.json" 'd["provenance"]["key"]["fingerprint"]')" = "$want" ] || t_fail "ed fingerprint"
	[ "$(json "$ED/result.json" 'd["provenance"]["key"]["public_key"]')" = "$(cat "$K/ed.pub")" ] || t_fail "ed public key"
	[ "$(json "$ED/result.json" 'd["provenance"]["key"]["kind"]')" = ed25519 ] || t_fail "kind"
	grep -q "provenance: provenance.intoto.json signed by ed25519 key $want" "$ED/build.log" || t_fail "log"
	# a default key for cron jobs
	DRYDOCK_SIGN_KEY=$K/ec.pem drydock build --mirror "$M" -o env "$HELLO" >/dev/null
	expect_out "^verified: " drydock verify --key "$K/ec.pub" env/hello/latest
	# the verdict as JSON
	drydock verify --json --key "$K/ed.pub" "$ED" >v.json
	[ "$(json v.json 'd["verified"], d["checks_failed"], len(d["checks"])')" = "(True, 0, 11)" ] || t_fail "json verdict"
}

auditor_commands_from_the_docs() {
	cp "$K/ec.pub" signer.pub.pem
	auditor pae "$R/ec/hello/latest" && auditor ecdsa "$R/ec/hello/latest" >out 2>&1
	grep -qx "Verified OK" out || { cat out; t_fail "openssl dgst (ECDSA)"; }
	rm -rf w && cp "$K/ed.pub" signer.pub.pem
	auditor pae "$ED" && auditor ed25519 "$ED" >out 2>&1
	grep -qx "Signature Verified Successfully" out || { cat out; t_fail "openssl pkeyutl (Ed25519)"; }
	auditor subject "$ED" >out
	[ "$(grep -c ' OK$' out)" -eq 4 ] || { cat out; t_fail "subject checks"; }
	auditor blobs "$ED" >out
	[ "$(grep -c 'pkg:apk/stable/' out)" -eq 2 ] || { cat out; t_fail "blob checks"; }
	rm -rf w && cp "$S/prov.asc" signer.asc
	auditor pae "$R/pgp/hello/latest" && auditor openpgp "$R/pgp/hello/latest" >out 2>&1
	grep -q 'Good signature from "provenance signer' out || { cat out; t_fail "gpgv"; }
	# the same commands refuse a changed payload
	rm -rf w && copy_run "$ED" bad && resign bad "$K/other.pem" 'st["predicate"]["runDetails"]["builder"]["id"] = "x"'
	cp "$K/ed.pub" signer.pub.pem
	auditor pae "$PWD/bad"
	if auditor ed25519 "$PWD/bad" >out 2>&1; then t_fail "openssl accepted another key's signature"; fi
	grep -q "Signature Verification Failure" out || { cat out; t_fail "openssl output"; }
}

statement_says_what_was_built() {
	python3 - "$ED" "$HELLO" "$M" <<'PY'
import base64, hashlib, json, sys, sqlite3
run, job, mirror = sys.argv[1:]
env = json.load(open(run + "/provenance.intoto.json"))
assert env["payloadType"] == "application/vnd.in-toto+json" and len(env["signatures"]) == 1
st = json.loads(base64.b64decode(env["payload"]))
r = json.load(open(run + "/result.json"))
assert st["_type"] == "https://in-toto.io/Statement/v1"
assert st["predicateType"] == "https://slsa.dev/provenance/v1"
assert st["subject"][0] == {"name": "drydock.local/hello:latest", "digest": {"sha256": r["digest"][7:]}}
assert [s["name"] for s in st["subject"][1:]] == ["image.oci.tar", "sbom.spdx.json", "sbom.cdx.json"]
assert st["subject"][1]["digest"]["sha256"] == r["archive_sha256"]
bd = st["predicate"]["buildDefinition"]
j = bd["externalParameters"]["job"]
text = open(job, "rb").read()
assert j["content"].encode() == text and j["sha256"] == hashlib.sha256(text).hexdigest() == r["job"]["sha256"]
assert bd["externalParameters"]["SOURCE_DATE_EPOCH"] == 1700000000
assert bd["internalParameters"]["policy"]["allow_unguarded"] is False
db = sqlite3.connect(mirror + "/index.db")
ent = db.execute("SELECT version, sha256 FROM entitlements").fetchone()
assert bd["internalParameters"]["policy"]["entitlement"]["sha256"] == ent[1]
deps = bd["resolvedDependencies"]
pk = {d["digest"]["sha256"] for d in deps if d["annotations"]["kind"] == "package"}
assert pk == {p["sha256"] for p in r["archs"][0]["packages"]}, pk
bundles = [d for d in deps if d["annotations"]["kind"] == "bundle-manifest"]
assert [b["digest"]["sha256"] for b in bundles] == [x[0] for x in db.execute("SELECT digest FROM bundles")]
assert bundles[0]["uri"] == "urn:drydock:bundle:stable:1"
e = [d for d in deps if d["annotations"]["kind"] == "entitlement-manifest"]
assert len(e) == 1 and e[0]["digest"]["sha256"] == ent[1] and e[0]["uri"] == "urn:drydock:entitlement:1"
assert any(d["uri"] == "pkg:apk/stable/hello-drydock@1.2.3-r0?arch=x86_64" for d in deps)
rd = st["predicate"]["runDetails"]
assert rd["metadata"]["invocationId"] == r["run_id"] and rd["metadata"]["startedOn"] == r["started"]
assert rd["builder"]["id"].startswith("urn:drydock:builder:") and rd["builder"]["version"]["drydock"]
PY
}

mirror_and_rebuild_agree() {
	expect_out "^verified: .*all 13 checks passed" drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild "$ED"
	grep -q "^ok    mirror: 2 packages, 1 bundle manifest(s) and 1 entitlement manifest(s)" "$T_TMP/.o" || t_fail "mirror line"
	grep -q "^ok    rebuild: .*hello.yaml rebuilt from the recorded inputs in the mirror gives the same sha256:$(json "$ED/result.json" 'd["digest"][7:]')" "$T_TMP/.o" || t_fail "rebuild line"
	# the OpenPGP and ECDSA runs are the same image
	[ "$(json "$ED/result.json" 'd["digest"]')" = "$(json "$R/pgp/hello/latest/result.json" 'd["digest"]')" ] || t_fail "signer changed the image"
}

# tampered NAME PATTERN...: verify the copy "NAME" with the ed25519 key; it
# must fail, with each PATTERN in its output.
tampered() {
	run=$1
	shift
	expect_fail 1 "^NOT VERIFIED: " drydock verify --key "$K/ed.pub" "$run"
	for p in "$@"; do
		grep -Eq -- "$p" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "verify output lacks /$p/"; }
	done
}

tampered_bytes_are_caught() {
	layout_manifest "$ED/image" >m.json
	layer=$(json m.json 'd["layers"][-1]["digest"][7:]')
	config=$(json m.json 'd["config"]["digest"][7:]')
	copy_run "$ED" a && flip "a/image/blobs/sha256/$layer"
	tampered a "^FAIL  blobs: blob sha256:$layer: its content hashes to sha256:" "^ok    signature"
	copy_run "$ED" b && flip "b/image/blobs/sha256/$config" 5
	tampered b "^FAIL  blobs: blob sha256:$config: its content hashes to"
	copy_run "$ED" c && sed -i 's/"MIT"/"GPL"/' c/sbom.spdx.json
	tampered c "^FAIL  files: sbom.spdx.json: its content hashes to .* \(the file was changed after the build\)"
	copy_run "$ED" d && python3 - d/provenance.intoto.json <<'PY'
import base64, json, sys
p = sys.argv[1]
env = json.load(open(p))
body = bytearray(base64.b64decode(env["payload"]))
i = body.index(b"hello-drydock")
body[i] ^= 0x01
env["payload"] = base64.b64encode(bytes(body)).decode()
json.dump(env, open(p, "w"))
PY
	tampered d "^FAIL  signature: provenance.intoto.json: BAD signature: the signature by SHA256:[0-9a-f]{64} does not verify: the signed data changed after signing"
	copy_run "$ED" e && python3 - e/provenance.intoto.json <<'PY'
import base64, json, sys
p = sys.argv[1]
env = json.load(open(p))
s = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
s[10] ^= 0x01
env["signatures"][0]["sig"] = base64.b64encode(bytes(s)).decode()
json.dump(env, open(p, "w"))
PY
	tampered e "^FAIL  signature: .*BAD signature"
	copy_run "$ED" f && flip f/image.oci.tar
	tampered f "^FAIL  files: image.oci.tar: its content hashes to"
}

layer_against_its_diff_id() {
	# a layer whose bytes, digest and manifest agree, but whose content is not
	# what the config's diff_id says: the chain rewritten and signed again
	copy_run "$ED" l
	cat >relayer.py <<'PY'
import gzip, hashlib, json, os, sys
run = sys.argv[1]
b = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
put = lambda data: (open(run + "/image/blobs/sha256/" + hashlib.sha256(data).hexdigest(), "wb").write(data),
                    "sha256:" + hashlib.sha256(data).hexdigest())[1]
idx = json.load(open(run + "/image/index.json"))
m = json.load(open(b(idx["manifests"][0]["digest"])))
layer = m["layers"][-1]
data = gzip.compress(gzip.decompress(open(b(layer["digest"]), "rb").read()) + b"\0" * 1024, mtime=0)
layer["digest"], layer["size"] = put(data), len(data)
mb = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = put(mb), len(mb)
json.dump(idx, open(run + "/image/index.json", "w"))
print(idx["manifests"][0]["digest"][7:], layer["digest"])
PY
	new=$(python3 relayer.py l)
	resign l "$K/ed.pem" "st['subject'][0]['digest']['sha256'] = '${new% *}'"
	tampered l "^ok    signature" "^ok    subject" "^ok    blobs" \
		"^FAIL  diff_ids: layer ${new#* } uncompresses to sha256:[0-9a-f]{64}, the config's diff_id is sha256:"
}

another_key_is_refused() {
	# the right run, checked against another key
	# the right run, checked against another key: the signer's id, not "BAD signature"
	edid=$(json "$ED/result.json" 'd["provenance"]["key"]["fingerprint"]')
	expect_fail 1 "^FAIL  signature: provenance.intoto.json: signed by another key \($edid, as the envelope's keyid says\), not by the ed25519 key SHA256:[0-9a-f]{64} given" \
		drydock verify --key "$K/other.pub" "$ED"
	! grep -q "BAD signature" "$T_TMP/.o" || t_fail "another key called a BAD signature"
	expect_fail 1 "^FAIL  signature: .*signed by another key \($edid, .*not by the ecdsa-p256 key" drydock verify --key "$K/ec.pub" "$ED"
	# an OpenPGP key given for an Ed25519 signature, and for another OpenPGP key's
	expect_fail 1 "^FAIL  signature: .*signed by another key \($edid, .*not by the openpgp key [0-9A-F]{40}" \
		drydock verify --key "$S/prov.asc" "$ED"
	pgpid=$(json "$R/pgp/hello/latest/result.json" 'd["provenance"]["key"]["fingerprint"]')
	expect_fail 1 "^FAIL  signature: .*signed by another key \($pgpid\), not by [0-9A-F]{40} \(from the signature packet\)" \
		drydock verify --key "$S/other.asc" "$R/pgp/hello/latest"
	# a PEM key for an OpenPGP signature
	expect_fail 1 "^FAIL  signature: .*signed by another key \($pgpid, as the envelope's keyid says\)" \
		drydock verify --key "$K/ed.pub" "$R/pgp/hello/latest"
	# a flipped signature byte, with the right key: BAD signature, for each kind
	for k in ec pgp; do
		copy_run "$R/$k/hello/latest" f$k && python3 - f$k/provenance.intoto.json <<'PY'
import base64, json, sys
p = sys.argv[1]
env = json.load(open(p))
s = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
s[-8] ^= 0x01
env["signatures"][0]["sig"] = base64.b64encode(bytes(s)).decode()
json.dump(env, open(p, "w"))
PY
	done
	expect_fail 1 "^FAIL  signature: .*BAD signature: the signature by SHA256:[0-9a-f]{64} does not verify: the signed data changed" \
		drydock verify --key "$K/ec.pub" fec
	expect_fail 1 "^FAIL  signature: .*BAD signature" drydock verify --key "$S/prov.asc" fpgp
	# a run re-signed by another key (whose envelope names it "x")
	copy_run "$ED" g && resign g "$K/other.pem" ''
	tampered g "^FAIL  signature: .*signed by another key \(x, as the envelope's keyid says\)" "^ok    files"
	# no key, no signature, a private key instead of a public one
	expect_fail 1 "^FAIL  signature: no key to check it with: give --key" drydock verify "$ED"
	drydock build --mirror "$M" -o unsigned "$HELLO" >/dev/null
	grep -q "the provenance is not signed" unsigned/hello/latest/result.json || t_fail "warning"
	expect_fail 1 "^FAIL  signature: provenance.intoto.json carries no signature \(the run was built without --sign\)" \
		drydock verify --key "$K/ed.pub" unsigned/hello/latest
	expect_fail 1 "^FAIL  signature: .*ed.pem is a private key; give the public key" \
		drydock verify --key "$K/ed.pem" "$ED"
}

sbom_lies_are_caught() {
	# a package left out of both SBOMs, the statement re-signed with the right key
	copy_run "$ED" h
	python3 - h <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/sbom.spdx.json"))
s["packages"] = [p for p in s["packages"] if p["name"] != "hello-drydock"]
s["relationships"] = [r for r in s["relationships"] if "hello-drydock" not in json.dumps(r)]
json.dump(s, open(d + "/sbom.spdx.json", "w"))
c = json.load(open(d + "/sbom.cdx.json"))
c["components"] = [x for x in c["components"] if x["name"] != "hello-drydock"]
json.dump(c, open(d + "/sbom.cdx.json", "w"))
PY
	resign h "$K/ed.pem" ''
	tampered h "^ok    signature" "^ok    files" \
		"^FAIL  provenance-packages: the provenance lists hello-drydock@1.2.3-r0 [0-9a-f]{64}, sbom.spdx.json does not" \
		"^FAIL  installed-db: x86_64 .*the image's installed database lists hello-drydock@1.2.3-r0, sbom.spdx.json does not" \
		"^FAIL  image-sbom: x86_64 .*the SBOM inside the image lists hello-drydock@1.2.3-r0 [0-9a-f]{64}, sbom.spdx.json does not"
	# one package too many, in the SBOMs and the provenance alike
	copy_run "$ED" i
	python3 - i <<'PY'
import json, sys
d = sys.argv[1]
x = "0" * 64
s = json.load(open(d + "/sbom.spdx.json"))
p = dict(s["packages"][1], SPDXID="SPDXRef-Package-x86-64-extra-9.9-r0", name="extra", versionInfo="9.9-r0")
p["checksums"] = [{"algorithm": "SHA256", "checksumValue": x}]
p["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                      "referenceLocator": "pkg:apk/stable/extra@9.9-r0?arch=x86_64"}]
s["packages"].append(p)
json.dump(s, open(d + "/sbom.spdx.json", "w"))
c = json.load(open(d + "/sbom.cdx.json"))
q = dict(c["components"][0], name="extra", version="9.9-r0", hashes=[{"alg": "SHA-256", "content": x}])
q["bom-ref"] = q["purl"] = "pkg:apk/stable/extra@9.9-r0?arch=x86_64"
c["components"].append(q)
json.dump(c, open(d + "/sbom.cdx.json", "w"))
PY
	resign i "$K/ed.pem" 'st["predicate"]["buildDefinition"]["resolvedDependencies"].append({"uri": "pkg:apk/stable/extra@9.9-r0?arch=x86_64", "digest": {"sha256": "0" * 64}, "annotations": {"kind": "package"}})'
	tampered i "^ok    signature" "^ok    sboms" "^ok    provenance-packages" \
		"^FAIL  installed-db: .*sbom.spdx.json lists extra@9.9-r0, the image's installed database does not" \
		"^FAIL  image-sbom: .*sbom.spdx.json lists extra@9.9-r0 0{64}, the SBOM inside the image does not"
	# the two SBOMs disagree
	copy_run "$ED" j && sed -i 's/"1.2.3-r0"/"1.2.4-r0"/' j/sbom.cdx.json && resign j "$K/ed.pem" ''
	tampered j "^FAIL  sboms: sbom.spdx.json lists hello-drydock@1.2.3-r0 .*, sbom.cdx.json does not"
}

foreign_statements() {
	# signed with the right key, but not what drydock writes
	copy_run "$ED" s1 && resign s1 "$K/ed.pem" 'st["_type"] = "https://example.invalid/Statement"'
	tampered s1 "^ok    signature" "^FAIL  statement: not an in-toto Statement v1"
	copy_run "$ED" s2 && resign s2 "$K/ed.pem" 'st["predicate"]["buildDefinition"]["buildType"] = "https://example.invalid/other"'
	tampered s2 "^FAIL  statement: buildType is 'https://example.invalid/other', not drydock's"
	# a job path that names no file cannot be rebuilt (and writes nothing outside the scratch folder)
	copy_run "$ED" s3 && resign s3 "$K/ed.pem" 'st["predicate"]["buildDefinition"]["externalParameters"]["job"]["path"] = "jobs/.."'
	expect_fail 1 "^FAIL  rebuild: rebuilding jobs/.. from the recorded inputs failed: the provenance names the job 'jobs/..', not a file" \
		drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild s3
	copy_run "$ED" s4 && resign s4 "$K/ed.pem" 'del st["predicate"]["buildDefinition"]["externalParameters"]["job"]["content"]'
	expect_fail 1 "^FAIL  rebuild: .*failed: the provenance does not hold the job's content" \
		drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild s4
	# an envelope that is not JSON
	copy_run "$ED" s5 && echo '{"payloadType":' >s5/provenance.intoto.json
	tampered s5 "^FAIL  signature: .*provenance.intoto.json: line [0-9]+: not JSON" "^FAIL  statement: no statement to read"
}

subject_of_another_image() {
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\ncmd: other\n' >other.yaml
	drydock build --mirror "$M" -o o --sign "$K/ed.pem" other.yaml >/dev/null
	copy_run "$ED" k && cp o/other/latest/provenance.intoto.json k/
	top=$(json "$ED/result.json" 'd["digest"]')
	tampered k "^ok    signature" \
		"^FAIL  subject: the statement is about sha256:$(json o/other/latest/result.json 'd["digest"][7:]'), the image layout holds $top" \
		"^FAIL  files: image.oci.tar: its content hashes to"
}

changed_mirror_is_caught() {
	cp -a "$M" m2
	# a newer hello-drydock, entitled, in bundle 2: the job now resolves to it
	mkdir -p in2/packages
	drydock pkg build --info "$TOP/fixtures/packages/hello-drydock/PKGINFO" --set pkgver=1.2.4-r0 \
		--sign "$S/apk.rsa" -o in2/packages/hello-drydock-1.2.4.apk "$TOP/fixtures/packages/hello-drydock/root" >/dev/null
	entitlement_json 2 2030-01-01T00:00:00Z '[{"name": "base-files", "version": "1.0-r0"},
	 {"name": "hello-drydock", "version": "1.2.4-r0"}]' >in2/entitlements.json
	sign_entitlement "$S" in2/entitlements.json
	make_bundle "$S" in2 b2.tar 2
	drydock mirror import --mirror m2 b2.tar >/dev/null
	# the rebuild takes the recorded blobs and entitlement, not what the job resolves to today
	expect_out "^ok    rebuild: .*hello.yaml rebuilt from the recorded inputs in the mirror gives the same sha256:$(json "$ED/result.json" 'd["digest"][7:]')" \
		drydock verify --key "$K/ed.pub" --mirror m2 --rebuild "$ED"
	grep -q "^ok    mirror: " "$T_TMP/.o" || t_fail "the old packages are still in the mirror"
	grep -q "^verified: .*all 13 checks passed" "$T_TMP/.o" || t_fail "verdict"
	# while a build of the same job today takes the newer package
	drydock build --mirror m2 -o today "$HELLO" >/dev/null
	grep -q '"version": "1.2.4-r0"' today/hello/latest/result.json || t_fail "the new build did not take 1.2.4"
	# drydock rebuild gives the image back
	expect_out "the same image as the provenance names" drydock rebuild --mirror m2 -o back "$ED"
	[ "$(json back/hello/latest/result.json 'd["digest"]')" = "$(json "$ED/result.json" 'd["digest"]')" ] || t_fail "rebuild digest"
	grep -q "pinned to the recorded inputs: 2 package blobs" back/hello/latest/build.log || t_fail "log"
	cmp back/hello/latest/image.oci.tar "$ED/image.oci.tar" || t_fail "the archive differs"
	# one of its package blobs gone from the mirror: named, with its blob and bundle
	cp -a m2 m5
	sha=$(json "$ED/result.json" '[p["sha256"] for p in d["archs"][0]["packages"] if p["name"] == "hello-drydock"][0]')
	b1=$(sqlite3 m5/index.db "SELECT digest FROM bundles WHERE sequence = 1")
	rm "m5/blobs/sha256/$sha"
	expect_fail 1 "^FAIL  rebuild: rebuilding .*hello.yaml from the recorded inputs failed: package hello-drydock-1.2.3-r0.apk \(blob sha256:$sha\) is missing from the mirror's blobs; it came in bundle stable#1 \($b1\): import that bundle again" \
		drydock verify --key "$K/ed.pub" --mirror m5 --rebuild "$ED"
	expect_fail 1 "package hello-drydock-1.2.3-r0.apk \(blob sha256:$sha\) is missing from the mirror's blobs; it came in bundle stable#1" \
		drydock rebuild --mirror m5 -o gone "$ED"
	# its index row gone too (a mirror rebuilt without that bundle)
	sqlite3 m5/index.db "PRAGMA foreign_keys = OFF; DELETE FROM files WHERE pkg IN (SELECT id FROM packages WHERE sha256 = '$sha'); DELETE FROM packages WHERE sha256 = '$sha'"
	expect_fail 1 "package hello-drydock-1.2.3-r0.apk \(blob sha256:$sha\) is not in the mirror's index; it came in bundle stable#1" \
		drydock rebuild --mirror m5 -o gone "$ED"
	# a mirror imported before bundle signatures were recorded: found anyway
	sqlite3 m2/index.db "DELETE FROM meta WHERE key LIKE 'signature:%'"
	expect_out "^ok    mirror: 2 packages, 1 bundle manifest\(s\)" \
		drydock verify --key "$K/ed.pub" --mirror m2 "$R/ed/hello/latest"
	# a bundle signature that no longer verifies (its key not trusted any more)
	cp -a m2 m4
	drydock trust remove --mirror m4 --role bundle "$(gpg --homedir "$S/gnupg" --with-colons --fingerprint bundle@example.invalid | awk -F: '/^fpr/ { print $10; exit }')" >/dev/null
	expect_fail 1 "^FAIL  mirror: no signature in the mirror verifies bundle manifest [0-9a-f]{12} with a key trusted for bundles" \
		drydock verify --key "$K/ed.pub" --mirror m4 "$ED"
	# a package blob damaged in the mirror
	sha=$(json "$ED/result.json" '[p["sha256"] for p in d["archs"][0]["packages"] if p["name"] == "hello-drydock"][0]')
	flip "m2/blobs/sha256/$sha"
	expect_fail 1 "^FAIL  mirror: hello-drydock-1.2.3-r0.apk: the mirror's blob .*$sha is damaged" \
		drydock verify --key "$K/ed.pub" --mirror m2 "$ED"
	# a mirror that never saw these packages
	drydock mirror init m3 >/dev/null
	drydock trust add --mirror m3 --role bundle "$S/bundle.asc" >/dev/null
	expect_fail 1 "^FAIL  mirror: base-files-1.0-r0.apk \(sha256:[0-9a-f]{64}\) is not in the mirror" \
		drydock verify --key "$K/ed.pub" --mirror m3 "$ED"
}

poisoned_layer_cache_caught_by_rebuild() {
	cp -a "$M" mp && rm -rf mp/cache
	drydock build --mirror mp -o o1 "$HELLO" >/dev/null
	# someone with write access to the mirror swaps the cached crust layer
	python3 - mp/cache/layers <<'PY'
import gzip, hashlib, json, os, sys
d = sys.argv[1]
key = [f[:-5] for f in os.listdir(d) if f.endswith(".json")][0]
j = json.load(open(f"{d}/{key}.json"))
raw = gzip.decompress(open(f"{d}/{key}.layer", "rb").read()) + b"\0" * 1024
data = gzip.compress(raw, mtime=0)
open(f"{d}/{key}.layer", "wb").write(data)
j.update(digest="sha256:" + hashlib.sha256(data).hexdigest(), size=len(data),
         diff_id="sha256:" + hashlib.sha256(raw).hexdigest(), uncompressed_size=len(raw))
json.dump(j, open(f"{d}/{key}.json", "w"))
PY
	drydock build --mirror mp -o o2 --sign "$K/ed.pem" "$HELLO" >/dev/null
	grep -q '"from_cache": true' o2/hello/latest/result.json || t_fail "the cache was not used"
	expect_out "^verified: " drydock verify --key "$K/ed.pub" --mirror mp o2/hello/latest
	expect_fail 1 "^FAIL  rebuild: .*rebuilt from the recorded inputs gives $(json o1/hello/latest/result.json 'd["digest"]'), this run holds .*; first difference: the image, layer 1 of 2: the same files, but other bytes after the archive's end" \
		drydock verify --key "$K/ed.pub" --mirror mp --rebuild o2/hello/latest
}

mirror_trusts_provenance_keys() {
	cp -a "$M" mt
	# nothing trusted for provenance yet
	expect_fail 1 "^FAIL  signature: .*key SHA256:[0-9a-f]{64} is not trusted for provenance by the mirror" \
		drydock verify --mirror mt "$ED"
	expect_out "trusted as a provenance key: SHA256:" drydock trust add --mirror mt --role provenance "$K/ed.pub"
	expect_out "trusted as a provenance key: [0-9A-F]{40}" drydock trust add --mirror mt --role provenance "$S/prov.asc"
	expect_out "^ok    signature: good ed25519 signature by SHA256:.*, a key the mirror trusts for provenance" \
		drydock verify --mirror mt "$ED"
	expect_out "^verified: .*all 12 checks passed" drydock verify --mirror mt "$R/pgp/hello/latest"
	grep -Eq "^ok    signature: good openpgp signature by [0-9A-F]{40}, a key the mirror trusts" "$T_TMP/.o" ||
		t_fail "pgp line"
	# the bundle key is trusted, but not for provenance
	drydock build --mirror mt -o bk --sign bundle@example.invalid --gnupg-home "$S/gnupg" "$HELLO" >/dev/null
	expect_fail 1 "^FAIL  signature: .*signed by [0-9A-F]{40}, which the mirror does not trust for provenance" \
		drydock verify --mirror mt bk/hello/latest
	expect_fail 1 "^FAIL  signature: .*is not trusted for provenance" drydock verify --mirror mt "$R/ec/hello/latest"
	# an RSA key cannot be a provenance key
	openssl rsa -in "$K/rsa.pem" -pubout -out rsa.pub 2>/dev/null
	expect_fail 1 "rsa.pub: a RSA key; drydock signs with ECDSA P-256 or Ed25519" \
		drydock trust add --mirror mt --role provenance rsa.pub
	id=$(drydock trust list --mirror mt | awk '$1 == "provenance" && $2 ~ /^SHA256:/ { print $2 }')
	expect_out "no longer trusted" drydock trust remove --mirror mt --role provenance "$id"
	[ ! -e "mt/keys/provenance/${id#SHA256:}.pem" ] || t_fail "key file left"
	expect_fail 1 "is not trusted for provenance" drydock verify --mirror mt "$ED"
}

bad_signing_keys() {
	expect_fail 1 "rsa.pem: a RSA key; drydock signs with ECDSA P-256 or Ed25519" \
		drydock build --mirror "$M" -o x --sign "$K/rsa.pem" "$HELLO"
	expect_fail 1 "no secret key nobody@example.invalid" \
		drydock build --mirror "$M" -o x --sign nobody@example.invalid --gnupg-home "$S/gnupg" "$HELLO"
	expect_fail 1 "missing.pem: no such key file; give a PEM private key file or an OpenPGP key id" \
		drydock build --mirror "$M" -o x --sign missing.pem "$HELLO"
	echo "not a key" >junk.pem
	expect_fail 1 "junk.pem: not a PEM private key" drydock build --mirror "$M" -o x --sign junk.pem "$HELLO"
	[ ! -e x/hello/latest ] || t_fail "a run was published"
	expect_fail 2 "give one run folder" drydock verify
	expect_fail 1 "^FAIL  signature: .*nowhere/provenance.intoto.json" drydock verify --key "$K/ed.pub" nowhere
}

two_architectures_verify() {
	need_corpus
	apko_mirror "$S" am
	printf 'base: layout\ncontents:\n  packages: [replayout]\narchs: [x86_64, arm64]\n' >two.yaml
	drydock build --mirror am -o out --sign "$K/ed.pem" two.yaml >/dev/null
	expect_out "^verified: .*all 14 checks passed" drydock verify --key "$K/ed.pub" --mirror am out/two/latest
	grep -q "^ok    installed-db: x86_64: the image's apk database holds the same 2 packages" "$T_TMP/.o" || t_fail "x86_64 db"
	grep -q "^ok    installed-db: aarch64: " "$T_TMP/.o" || t_fail "aarch64 db"
	grep -q "^ok    diff_ids: 4 layers" "$T_TMP/.o" || t_fail "layers"
	n=$(python3 -c 'import base64,json,sys; print(len(json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))["subject"]))' out/two/latest/provenance.intoto.json)
	[ "$n" -eq 6 ] || t_fail "subjects: $n"
	# the statement leaves out one architecture's manifest
	copy_run out/two/latest t && resign t "$K/ed.pem" 'del st["subject"][2]'
	tampered t "^FAIL  subject: the index's manifest sha256:[0-9a-f]{64} is not a subject of the statement"
}

# set_top_digest RUN VALUE: index.json's first descriptor gets digest VALUE
# (a JSON value; "null" removes the key).
set_top_digest() {
	python3 - "$1/image/index.json" "$2" <<'PY'
import json, sys
p, v = sys.argv[1], json.loads(sys.argv[2])
idx = json.load(open(p))
d = idx["manifests"][0]
if v is None:
    del d["digest"]
else:
    d["digest"] = v
json.dump(idx, open(p, "w"))
PY
}

malformed_digests_are_refused() {
	# missing, empty, short, upper-case, with a slash, not a string: named, no out-of-bounds read
	for v in null '""' '"x"' '"sha256:"' '"sha256:ABC"' '"sha512:00"' '"sha256:../../../etc/passwd"' 5; do
		copy_run "$ED" dg && set_top_digest dg "$v"
		expect_fail 1 "^FAIL  subject: image/index.json: (the digest is missing|digest '.*' is not sha256: and 64 lower-case hex digits)" 			drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild dg
		grep -Eq "^FAIL  blobs: a descriptor of the layout: " "$T_TMP/.o" || t_fail "blobs line for $v"
		grep -Eq "^FAIL  rebuild: image/index.json: .*nothing to compare a rebuild with" "$T_TMP/.o" || t_fail "rebuild line for $v"
	done
	# a config descriptor with a digest of 200 characters is quoted cut short
	copy_run "$ED" dc
	layout_manifest "$ED/image" >m.json
	python3 - dc <<'PY'
import hashlib, json, sys
run = sys.argv[1]
idx = json.load(open(run + "/image/index.json"))
m = json.load(open(run + "/image/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
m["config"]["digest"] = "sha256:" + "a" * 200
b = json.dumps(m).encode()
open(run + "/image/blobs/sha256/" + hashlib.sha256(b).hexdigest(), "wb").write(b)
idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = "sha256:" + hashlib.sha256(b).hexdigest(), len(b)
json.dump(idx, open(run + "/image/index.json", "w"))
PY
	tampered dc "^FAIL  blobs: a descriptor of the layout: digest 'sha256:a{73}\.\.\.' is not sha256:"
}

# in_time CMD...: CMD must end within 20 seconds (a hang is a failure).
in_time() {
	rc=0
	timeout 20 "$DRYDOCK" "$@" >"$T_TMP/.o" 2>&1 || rc=$?
	[ $rc -ne 124 ] || { cat "$T_TMP/.o"; t_fail "hung: $*"; }
	return $rc
}

only_regular_files_are_read() {
	layout_manifest "$ED/image" >m.json
	layer=$(json m.json 'd["layers"][-1]["digest"][7:]')
	# a blob that is a link to /dev/zero, a FIFO, an archive linked to /dev/zero
	copy_run "$ED" z1 && ln -sf /dev/zero "z1/image/blobs/sha256/$layer"
	in_time verify --key "$K/ed.pub" z1 && t_fail "z1 verified"
	grep -q "^FAIL  blobs: .*$layer is a symbolic link, not a file; refused" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "z1"; }
	copy_run "$ED" z2 && rm "z2/image/blobs/sha256/$layer" && mkfifo "z2/image/blobs/sha256/$layer"
	in_time verify --key "$K/ed.pub" z2 && t_fail "z2 verified"
	grep -q "^FAIL  blobs: .*$layer is a FIFO, not a regular file; refused" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "z2"; }
	copy_run "$ED" z3 && ln -sf /dev/zero z3/image.oci.tar
	in_time verify --key "$K/ed.pub" z3 && t_fail "z3 verified"
	grep -q "^FAIL  files: .*image.oci.tar is a symbolic link, not a file; refused" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "z3"; }
	copy_run "$ED" z4 && rm z4/sbom.spdx.json && mkfifo z4/sbom.spdx.json
	in_time verify --key "$K/ed.pub" z4 && t_fail "z4 verified"
	grep -q "^FAIL  sboms: .*sbom.spdx.json is a FIFO" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "z4"; }
	copy_run "$ED" z5 && rm z5/provenance.intoto.json && ln -s /dev/zero z5/provenance.intoto.json
	in_time verify --key "$K/ed.pub" z5 && t_fail "z5 verified"
	grep -q "^FAIL  signature: .*provenance.intoto.json is a symbolic link" "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "z5"; }
	# a blob linked to a file outside the run: its hash is never printed
	echo "secret of the host" >secret && sh=$(sha256sum secret | cut -d' ' -f1)
	copy_run "$ED" z6 && ln -sf "$PWD/secret" "z6/image/blobs/sha256/$layer"
	in_time verify --key "$K/ed.pub" z6 && t_fail "z6 verified"
	! grep -q "$sh" "$T_TMP/.o" || t_fail "the hash of a file outside the run was printed"
	# a blob larger than its descriptor is not read at all
	copy_run "$ED" z7 && head -c 100000 /dev/urandom >>"z7/image/blobs/sha256/$layer"
	tampered z7 "^FAIL  blobs: blob sha256:$layer: larger than the [0-9]+ bytes its descriptor says"
}

rebuild_names_the_first_difference() {
	# the recorded epoch changed (and signed again): every file's time differs
	copy_run "$ED" e1 && resign e1 "$K/ed.pem" 'st["predicate"]["buildDefinition"]["externalParameters"]["SOURCE_DATE_EPOCH"] = 1600000000'
	expect_fail 1 "^FAIL  rebuild: .*first difference: the image, layer 1 of 2: /[^:]*: time 1700000000 in the run, 1600000000 in the rebuild" \
		drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild e1
	# the recorded job has another cmd: the config says so
	copy_run "$ED" e2 && resign e2 "$K/ed.pem" 'st["predicate"]["buildDefinition"]["externalParameters"]["job"]["content"] += "cmd: /bin/other\n"'
	expect_fail 1 "^FAIL  rebuild: .*first difference: the image: config\.config\.Cmd: \(absent\) in the run, \[\"/bin/other\"\] in the rebuild" \
		drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild e2
	# drydock rebuild says the same
	expect_fail 1 "NOT the image the provenance names .*first difference: the image, layer 1 of 2: /[^:]*: time 1700000000 in the run, 1600000000 in the rebuild" \
		drydock rebuild --mirror "$M" -o r1 e1
	expect_fail 2 "give one run folder" drydock rebuild --mirror "$M" -o r1
	expect_fail 2 "missing --out OUT" drydock rebuild --mirror "$M" e1
}

any_image_is_checkable() {
	# a lone image.oci.tar with its provenance: the checks that can run pass, the others are listed
	mkdir lone && cp "$ED/image.oci.tar" lone/img.tar
	expect_out "^verified: lone/img.tar: all [0-9]+ checks that could run passed; [0-9]+ could not run" \
		drydock verify --key "$K/ed.pub" --provenance "$ED/provenance.intoto.json" lone/img.tar
	for c in signature statement subject blobs diff_ids; do
		grep -q "^ok    $c: " "$T_TMP/.o" || { cat "$T_TMP/.o"; t_fail "lone archive: $c"; }
	done
	grep -q "^ok    files: image.oci.tar is the one the statement names (not present: sbom.spdx.json, sbom.cdx.json)" "$T_TMP/.o" || t_fail "files line"
	grep -q "^skip  record: a lone image has no build.log" "$T_TMP/.o" || t_fail "record skip"
	grep -q "^skip  sboms: no sbom.spdx.json beside lone/img.tar" "$T_TMP/.o" || t_fail "sboms skip"
	# with its SBOMs given, those run too
	expect_out "^ok    installed-db: x86_64" drydock verify --key "$K/ed.pub" --provenance "$ED/provenance.intoto.json" \
		--spdx "$ED/sbom.spdx.json" --cdx "$ED/sbom.cdx.json" lone/img.tar
	# the archive with its provenance and SBOMs beside it, and a changed archive
	mkdir side && cp "$ED/image.oci.tar" "$ED/provenance.intoto.json" "$ED/sbom.spdx.json" "$ED/sbom.cdx.json" side/
	expect_out "^ok    sboms: " drydock verify --key "$K/ed.pub" side/image.oci.tar
	flip side/image.oci.tar
	expect_fail 1 "^FAIL  files: image.oci.tar: its content hashes to" drydock verify --key "$K/ed.pub" side/image.oci.tar
	# an OCI image layout folder (the run's image/, copied elsewhere)
	mkdir lay && cp -a "$ED/image" lay/image && cp "$ED/provenance.intoto.json" lay/
	expect_out "^verified: lay/image: all [0-9]+ checks that could run passed" drydock verify --key "$K/ed.pub" lay/image
	grep -q "^ok    diff_ids: 2 layers" "$T_TMP/.o" || t_fail "layout layers"
	# a run folder without image/: the layout is read from image.oci.tar
	copy_run "$ED" noimg && rm -rf noimg/image
	expect_out "^verified: noimg: all 11 checks passed" drydock verify --key "$K/ed.pub" noimg
	grep -q "^ok    diff_ids: 2 layers" "$T_TMP/.o" || t_fail "run without image/"
	# ... and without either
	copy_run "$ED" none && rm -rf none/image none/image.oci.tar
	expect_fail 1 "^FAIL  subject: image/index.json: .*none/image/index.json: No such file" drydock verify --key "$K/ed.pub" none
	# an archive with a member no layout has is refused, naming it
	mkdir evil && (cd evil && cp "$ED/image/index.json" "$ED/image/oci-layout" . && mkdir -p etc && echo x >etc/passwd &&
		tar -cf ../evil.tar oci-layout index.json etc/passwd)
	expect_fail 1 "^FAIL  subject: .*evil.tar: member 'etc/passwd' is not part of an OCI image layout" \
		drydock verify --key "$K/ed.pub" --provenance "$ED/provenance.intoto.json" evil.tar
}

log_and_result_are_signed() {
	copy_run "$ED" l1 && echo "one more line" >>l1/build.log
	tampered l1 "^FAIL  record: build.log: its content hashes to sha256:[0-9a-f]{64}, the signed record says sha256:[0-9a-f]{64} \(the file was changed after the build\)" "^ok    signature"
	copy_run "$ED" l2 && sed -i 's/"succeeded"/"succeeded "/' l2/result.json
	tampered l2 "^FAIL  record: result.json: its content hashes to"
	# the record of another run, signed by another key
	copy_run "$ED" l3 && cp "$R/ec/hello/latest/record.intoto.json" l3/
	tampered l3 "^FAIL  record: record.intoto.json: signed by another key \($(json "$R/ec/hello/latest/result.json" 'd["provenance"]["key"]["fingerprint"]'), as the envelope's keyid says\)"
	copy_run "$ED" l4 && rm l4/record.intoto.json
	tampered l4 "^FAIL  record: .*l4/record.intoto.json: No such file"
	python3 - "$ED/record.intoto.json" <<'PY'
import base64, json, sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
assert st["predicateType"] == "https://drydock.invalid/run-record/v1", st
assert [s["name"] for s in st["subject"]] == ["build.log", "result.json", "provenance.intoto.json"], st
PY
}

# A job that includes a shared settings file: the provenance holds both
# files, and verify --rebuild builds from the recorded ones even after the
# shared file changed on disk.
included_settings_recorded_and_rebuilt() {
	mkdir -p jobs shared
	printf 'base: hello\naccounts:\n  run-as: hello\nenvironment:\n  FROM: shared\n' >shared/base.yaml
	printf 'include: ../shared/base.yaml\ncontents:\n  packages: [hello-drydock]\nenvironment:\n  FROM: job\n' >jobs/inc.yaml
	drydock build --mirror "$M" -o out --sign "$K/ed.pem" jobs/inc.yaml >/dev/null
	run=out/inc/latest
	grep -q "includes jobs/../shared/base.yaml sha256:$(sha256sum shared/base.yaml | cut -d' ' -f1)" "$run/build.log" || t_fail "log"
	python3 - "$run" <<'PY'
import base64, json, sys
run = sys.argv[1]
env = json.load(open(run + "/provenance.intoto.json"))
st = json.loads(base64.b64decode(env["payload"]))
job = st["predicate"]["buildDefinition"]["externalParameters"]["job"]
inc = job["includes"]
assert len(inc) == 1 and inc[0]["include"] == "../shared/base.yaml", inc
assert inc[0]["content"] == open("shared/base.yaml").read(), inc
r = json.load(open(run + "/result.json"))
assert r["job"]["includes"][0]["sha256"] == inc[0]["sha256"], r["job"]
PY
	layout_manifest "$run/image" >m.json
	python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
m = json.load(open("m.json"))
c = json.load(open(run + "/image/blobs/sha256/" + m["config"]["digest"][7:]))["config"]
assert "FROM=job" in c["Env"] and c["User"] == "hello", c
PY
	# the shared file changes: a new build differs, the recorded run still rebuilds
	printf 'base: hello\naccounts:\n  run-as: root\n' >shared/base.yaml
	expect_out "^ok    rebuild: .*inc.yaml rebuilt from the recorded inputs" \
		drydock verify --key "$K/ed.pub" --mirror "$M" --rebuild "$run"
}

# Records that cannot be read are refused by name, and their error paths
# release what they took: under `make check SANITIZE=1` a leak on any of
# them fails this test (tests/lib.sh).
unreadable_records_are_refused() {
	# an envelope over its 64 MiB limit (sparse: refused before a byte is read)
	copy_run "$ED" u1 && truncate -s 67108865 u1/provenance.intoto.json
	tampered u1 "^FAIL  signature: .*provenance.intoto.json: 67108865 bytes, larger than the 67108864 allowed" \
		"^FAIL  statement: no statement to read"
	expect_fail 1 "NOT VERIFIED" drydock report --key "$K/ed.pub" -o u1.html u1
	grep -q "provenance.intoto.json: 67108865 bytes, larger than the 67108864 allowed" u1.html ||
		t_fail "the report does not say why the envelope was refused"
	# a second signature that is not base64, after one that decoded
	copy_run "$ED" u2 && python3 - u2/provenance.intoto.json <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
env["signatures"].append({"keyid": "x", "sig": "not base64!"})
json.dump(env, open(sys.argv[1], "w"))
PY
	tampered u2 "^FAIL  signature: .*provenance.intoto.json: a signature is not base64"
	# result.json and the signed record that are not JSON
	copy_run "$ED" u3 && echo '{"status":' >u3/result.json && echo '[' >u3/record.intoto.json
	tampered u3 "^FAIL  record: .*record.intoto.json: line [0-9]+: not JSON"
	expect_fail 1 "result.json: missing or not JSON" drydock report -o u3.html u3
}

t_run signed_three_ways
t_run auditor_commands_from_the_docs
t_run statement_says_what_was_built
t_run mirror_and_rebuild_agree
t_run included_settings_recorded_and_rebuilt
t_run tampered_bytes_are_caught
t_run layer_against_its_diff_id
t_run another_key_is_refused
t_run sbom_lies_are_caught
t_run foreign_statements
t_run subject_of_another_image
t_run changed_mirror_is_caught
t_run poisoned_layer_cache_caught_by_rebuild
t_run mirror_trusts_provenance_keys
t_run bad_signing_keys
t_run two_architectures_verify
t_run rebuild_names_the_first_difference
t_run any_image_is_checkable
t_run log_and_result_are_signed
t_run malformed_digests_are_refused
t_run only_regular_files_are_read
t_run unreadable_records_are_refused
