#!/bin/sh
# drydock pkg inspect / verify on real packages and indexes from other
# projects (../shared/corpus): apk-tools, Alpine, Wolfi, apko.
. "$(dirname "$0")/../lib.sh"
A=$CORPUS/apk

apko_repo_verifies() {
	need_corpus
	for f in "$A"/apko-testrepo/*/*.apk "$A"/apko-testrepo/*/APKINDEX.tar.gz; do
		expect_out "^$f: valid \(RSA256 signature by melange.rsa.pub\)" \
			drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$f"
	done
}

multi_signed_each_key() {
	need_corpus
	n=0
	for k in "$A"/multi-signed/keys/*.rsa.pub; do
		expect_out "valid \(RSA256 signature by $(basename "$k")\)" \
			drydock pkg verify --key "$k" "$A/multi-signed/APKINDEX.tar.gz"
		n=$((n + 1))
	done
	[ "$n" -eq 3 ] || t_fail "expected 3 keys, found $n"
}

rsa256_index() {
	need_corpus
	expect_out "valid \(RSA256 signature by test-rsa256.rsa.pub\)" \
		drydock pkg verify --key "$A/rsa256-signed/test-rsa256.rsa.pub" "$A/rsa256-signed/APKINDEX.tar.gz"
}

wolfi_unknown_key() {
	need_corpus
	for f in "$A"/wolfi/libcap-2.69-r0.apk "$A"/wolfi/ruby3.2-base64-0.2.0-r2.apk; do
		expect_fail 1 "^$f: signed by an unknown key \(wolfi-signing.rsa.pub\)" \
			drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$f"
	done
}

# neon's data segment in the corpus does not match its datahash: the
# key is unknown, and the altered content is reported, not hidden.
wolfi_altered_package() {
	need_corpus
	f=$A/wolfi/neon-4604-r0.apk
	expect_fail 1 "signed by an unknown key.*CONTENT DOES NOT MATCH: data segment sha256" \
		drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$f"
	expect_fail 1 "datahash .*DOES NOT MATCH .PKGINFO" drydock pkg inspect "$f"
}

alpine_sha1_signature_unknown_key() {
	need_corpus
	expect_fail 1 "signed by an unknown key \(alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub\)" \
		drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$A/alpine-316/alpine-baselayout-3.2.0-r23.apk"
	expect_out "signature +RSA by alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub" \
		drydock pkg inspect "$A/alpine-316/alpine-baselayout-3.2.0-r23.apk"
}

unsigned_packages() {
	need_corpus
	expect_fail 1 "hello-0.1.0-r0.apk: unsigned$" \
		drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$A/single/hello-0.1.0-r0.apk"
}

# hello-wolfi names melange.rsa.pub but was signed by another key of that name.
same_name_other_key_is_bad() {
	need_corpus
	expect_fail 1 "BAD signature \(melange.rsa.pub does not verify it\)" \
		drydock pkg verify --key "$A/apko-testrepo/melange.rsa.pub" "$A/single/hello-wolfi-2.12.1-r0.apk"
}

inspect_every_corpus_file() {
	need_corpus
	for f in $(find "$A" -name '*.apk' -o -name 'APKINDEX.tar.gz' | sort); do
		case $f in */neon-4604-r0.apk) continue ;; esac
		drydock pkg inspect "$f" >out.txt || t_fail "inspect failed: $f"
		drydock pkg inspect --json "$f" >out.json || t_fail "inspect --json failed: $f"
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' out.json ||
			t_fail "bad JSON for $f"
	done
}

inspect_package_details() {
	need_corpus
	f=$A/apko-testrepo/x86_64/replayout-1.0.0-r0.apk
	drydock pkg inspect "$f" >out.txt
	grep -q "^  replaces  *pretend-baselayout$" out.txt || t_fail "replaces missing"
	grep -q "^  depend  *pretend-baselayout$" out.txt || t_fail "depend missing"
	grep -q "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json" out.txt || t_fail "file list"
	grep -q "datahash .*(matches .PKGINFO)" out.txt || t_fail "datahash not checked"
	drydock pkg inspect --json "$f" >out.json
	python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))[0]
assert d["kind"] == "package"
assert d["pkginfo"]["name"] == "replayout"
assert d["pkginfo"]["replaces"] == ["pretend-baselayout"]
assert d["signatures"] == [{"algorithm": "RSA256", "key": "melange.rsa.pub"}]
f = {x["path"]: x for x in d["files"]}
assert f["etc/os-release"]["type"] == "file" and len(f["etc/os-release"]["sha1"]) == 40
assert f["etc"]["type"] == "dir" and f["etc"]["mode"] == 0o755
PY
}

wolfi_symlinks_and_owners() {
	need_corpus
	drydock pkg inspect --json "$A/wolfi/libcap-2.69-r0.apk" >out.json
	python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))[0]
f = {x["path"]: x for x in d["files"]}
l = f["usr/lib/libcap.so.2"]
assert l["type"] == "symlink" and l["link"] == "libcap.so.2.69", l
assert f["usr/lib/libcap.so.2.69"]["mode"] == 0o755
PY
}

# C: is computed from the control segment: it must equal the upstream index.
index_checksums_match_upstream() {
	need_corpus
	for f in "$A"/apko-testrepo/x86_64/*.apk; do
		sum=$(drydock pkg inspect "$f" | sed -n 's/^  checksum  *//p')
		[ -n "$sum" ] || t_fail "no checksum for $f"
		drydock pkg inspect "$A/apko-testrepo/x86_64/APKINDEX.tar.gz" | grep -q " $sum$" ||
			t_fail "checksum $sum of $f not in the upstream index"
	done
}

alpine_index() {
	need_corpus
	# 4929 P: blocks (grep -c "^P:" on the APKINDEX inside)
	expect_out "index of 4929 packages" drydock pkg inspect "$A/alpine-316/APKINDEX.tar.gz"
	expect_out "^  python3-3.10.8-r0 x86_64 Q1woE99lJVj82PxY4pplxu9omzcRc=$" \
		drydock pkg inspect "$A/alpine-316/APKINDEX.tar.gz"
}

t_run apko_repo_verifies
t_run multi_signed_each_key
t_run rsa256_index
t_run wolfi_unknown_key
t_run wolfi_altered_package
t_run alpine_sha1_signature_unknown_key
t_run unsigned_packages
t_run same_name_other_key_is_bad
t_run inspect_every_corpus_file
t_run inspect_package_details
t_run wolfi_symlinks_and_owners
t_run index_checksums_match_upstream
t_run alpine_index
