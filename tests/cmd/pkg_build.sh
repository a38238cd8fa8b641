#!/bin/sh
# drydock pkg build / index: packages and indexes written from the
# sources under fixtures/, checked by reading them back and with
# independent tools (tar, gzip, openssl).
. "$(dirname "$0")/../lib.sh"

build_sign_verify() {
	make_key test
	build_fixture hello-drydock test.rsa hello.apk
	expect_out "^hello.apk: valid \(RSA256 signature by test.rsa.pub\)$" \
		drydock pkg verify --key test.rsa.pub hello.apk
	make_key other
	expect_fail 1 "signed by an unknown key \(test.rsa.pub\)" \
		drydock pkg verify --key other.rsa.pub hello.apk
}

# A renamed key file still verifies: the signature is checked, not the name.
renamed_key_file() {
	make_key test
	build_fixture hello-drydock test.rsa hello.apk
	cp test.rsa.pub renamed.rsa.pub
	expect_out "valid \(RSA256 signature by renamed.rsa.pub, named test.rsa.pub in the file\)" \
		drydock pkg verify --key renamed.rsa.pub hello.apk
}

each_digest() {
	make_key test
	for d in sha1 sha256 sha512; do
		src=$TOP/fixtures/packages/base-files
		drydock pkg build --info "$src/PKGINFO" --sign test.rsa --digest "$d" -o "b-$d.apk" "$src/root"
		case $d in sha1) alg=RSA ;; sha256) alg=RSA256 ;; sha512) alg=RSA512 ;; esac
		expect_out "valid \($alg signature by test.rsa.pub\)" drydock pkg verify --key test.rsa.pub "b-$d.apk"
		# the signature member is named as apk-tools names it
		tar tzf "b-$d.apk" 2>/dev/null | head -1 | grep -qx ".SIGN.$alg.test.rsa.pub" ||
			t_fail "signature member name for $d"
	done
}

# The signature is RSA PKCS#1 v1.5 over the compressed control segment:
# check it with openssl alone, splitting the gzip members by hand.
openssl_checks_signature() {
	make_key test
	build_fixture hello-drydock test.rsa hello.apk
	python3 - hello.apk <<'PY'
import sys, zlib, tarfile, io
data = open(sys.argv[1], "rb").read()
off, segs = 0, []
while off < len(data):
    d = zlib.decompressobj(31)
    out = d.decompress(data[off:])
    used = len(data) - off - len(d.unused_data)
    segs.append((data[off:off + used], out))
    off += used
assert len(segs) == 3, len(segs)
t = tarfile.open(fileobj=io.BytesIO(segs[0][1] + b"\0" * 1024))
open("sig", "wb").write(t.extractfile(t.getmembers()[0]).read())
open("control.gz", "wb").write(segs[1][0])
open("data.gz", "wb").write(segs[2][0])
PY
	openssl dgst -sha256 -verify test.rsa.pub -signature sig control.gz >/dev/null ||
		t_fail "openssl does not accept the signature"
	hash=$(openssl dgst -sha256 -r data.gz | cut -d' ' -f1)
	tar xzf control.gz -O .PKGINFO 2>/dev/null | grep -qx "datahash = $hash" ||
		t_fail "datahash is not the sha256 of the data segment"
}

contents_and_metadata() {
	make_key test
	build_fixture hello-drydock test.rsa hello.apk
	drydock pkg inspect --json hello.apk >out.json
	python3 - out.json "$TOP/fixtures/packages/hello-drydock/root" <<'PY'
import json, sys, hashlib, os
d = json.load(open(sys.argv[1]))[0]
root = sys.argv[2]
p = d["pkginfo"]
assert p["name"] == "hello-drydock" and p["version"] == "1.2.3-r0", p
assert p["depends"] == ["base-files"], p["depends"]
assert p["provides"] == ["cmd:hello-drydock=1.2.3-r0"]
assert p["builddate"] == 1700000000
assert d["scripts"] == [".post-install"]
f = {x["path"]: x for x in d["files"]}
exe = f["usr/bin/hello-drydock"]
assert exe["mode"] == 0o755 and exe["uid"] == 0 and exe["uname"] == "root"
assert exe["sha1"] == hashlib.sha1(open(os.path.join(root, "usr/bin/hello-drydock"), "rb").read()).hexdigest()
assert exe["mtime"] <= 1700000000
assert f["usr/bin/hi"]["type"] == "symlink" and f["usr/bin/hi"]["link"] == "hello-drydock"
size = sum(os.path.getsize(os.path.join(dp, n)) for dp, _, ns in os.walk(root) for n in ns
           if not os.path.islink(os.path.join(dp, n)))
assert p["installed_size"] == size, (p["installed_size"], size)
PY
	# GNU tar reads the data like any tar (it only warns about the APK records)
	tar tzf hello.apk 2>/dev/null | grep -qx usr/bin/hello-drydock || t_fail "tar cannot list it"
}

long_names_and_hard_links() {
	make_key test
	cp -a "$TOP/fixtures/packages/base-files/root" tree
	ln tree/etc/os-release tree/etc/os-release.link
	drydock pkg build --info "$TOP/fixtures/packages/base-files/PKGINFO" --sign test.rsa -o b.apk tree
	drydock pkg inspect --json b.apk >out.json
	python3 - out.json <<'PY'
import json, sys
f = {x["path"]: x for x in json.load(open(sys.argv[1]))[0]["files"]}
long = [p for p in f if p.endswith("file-with-a-long-name.txt")]
assert long and len(long[0]) > 100, long
h = f["etc/os-release.link"]
assert h["type"] == "hardlink" and h["link"] == "etc/os-release", h
PY
	mkdir x && tar xzf b.apk -C x 2>/dev/null
	cmp x/etc/os-release.link tree/etc/os-release || t_fail "hard link content"
}

reproducible() {
	make_key test
	build_fixture hello-drydock test.rsa a.apk
	sleep 1
	touch "$T_TMP/unrelated"
	build_fixture hello-drydock test.rsa b.apk
	cmp a.apk b.apk || t_fail "two builds differ"
	SOURCE_DATE_EPOCH=1600000000 build_fixture hello-drydock test.rsa c.apk
	! cmp -s a.apk c.apk || t_fail "SOURCE_DATE_EPOCH has no effect"
}

index_signed_and_text() {
	make_key test
	for p in hello-drydock base-files base-files-alt; do
		build_fixture "$p" test.rsa "$p.apk"
	done
	drydock pkg index --sign test.rsa --description "drydock fixtures" -o APKINDEX.tar.gz ./*.apk
	expect_out "valid \(RSA256 signature by test.rsa.pub\)" drydock pkg verify --key test.rsa.pub APKINDEX.tar.gz
	expect_out "index of 3 packages" drydock pkg inspect APKINDEX.tar.gz
	drydock pkg index -o APKINDEX ./*.apk
	expect_out "index of 3 packages \(plain text\)" drydock pkg inspect APKINDEX
	# the text inside the signed index is the plain one, sorted by name
	tar xzf APKINDEX.tar.gz -O APKINDEX 2>/dev/null >inner
	cmp inner APKINDEX || t_fail "signed and plain index differ"
	[ "$(sed -n 's/^P://p' APKINDEX | tr '\n' ' ')" = "base-files base-files-alt hello-drydock " ] ||
		t_fail "index not sorted"
	# C: equals the checksum computed from each package's control segment
	for p in hello-drydock base-files base-files-alt; do
		sum=$(drydock pkg inspect "$p.apk" | sed -n 's/^  checksum  *//p')
		grep -qx "C:$sum" APKINDEX || t_fail "C: for $p"
		size=$(stat -c %s "$p.apk")
		grep -A4 "^P:$p$" APKINDEX | grep -qx "S:$size" || t_fail "S: for $p"
	done
	grep -qx "k:10" APKINDEX || t_fail "provider_priority"
	grep -qx "r:base-files" APKINDEX || t_fail "replaces"
	grep -qx "D:base-files>=1.0" APKINDEX || t_fail "versioned depend"
	drydock pkg index -o unsigned.tar.gz ./*.apk
	expect_fail 1 "unsigned.tar.gz: unsigned$" drydock pkg verify --key test.rsa.pub unsigned.tar.gz
}

unsigned_package() {
	src=$TOP/fixtures/packages/base-files
	drydock pkg build --info "$src/PKGINFO" -o b.apk "$src/root"
	make_key test
	expect_fail 1 "b.apk: unsigned$" drydock pkg verify --key test.rsa.pub b.apk
	expect_out "signature +none" drydock pkg inspect b.apk
}

build_refusals() {
	make_key test
	mkdir tree
	expect_fail 1 "has no package name" drydock pkg build --set pkgver=1 -o x.apk tree
	expect_fail 1 "line 1 is not 'key = value'" drydock pkg build --info /dev/null --set "bad key=1" -o x.apk tree
	expect_fail 2 "missing --output OUT.apk" drydock pkg build tree
	expect_fail 2 "not a directory" drydock pkg build --set pkgname=a --set pkgver=1 -o x.apk missing
	expect_fail 1 "not a PEM private key" drydock pkg build --set pkgname=a --set pkgver=1 --sign test.rsa.pub -o x.apk tree
	mkfifo tree/fifo
	expect_fail 1 "only files, directories and symbolic links" \
		drydock pkg build --set pkgname=a --set pkgver=1 -o x.apk tree
	[ ! -e x.apk ] || t_fail "a failed build left x.apk"
	[ -z "$(ls | grep 'x.apk.')" ] || t_fail "a failed build left temporary files"
}

# --json: what was written, as one object; a failure prints no document.
build_and_index_json() {
	make_key test
	b=$TOP/fixtures/packages/base-files h=$TOP/fixtures/packages/hello-drydock
	drydock pkg build --json --info "$b/PKGINFO" --sign test.rsa -o b.apk "$b/root" >b.json
	drydock pkg build --json --info "$h/PKGINFO" -o h.apk "$h/root" >h.json
	drydock pkg index --json --sign test.rsa -o APKINDEX.tar.gz b.apk >signed.json
	drydock pkg index --json -o APKINDEX h.apk b.apk >text.json
	python3 - <<'PY'
import json
def load(f): return json.load(open(f))
j = load("b.json")
assert j == {"file": "b.apk", "name": "base-files", "version": "1.0-r0", "signed": True,
             "key": "test.rsa.pub"}, j
j = load("h.json")
assert j == {"file": "h.apk", "name": "hello-drydock", "version": "1.2.3-r0", "signed": False,
             "key": None}, j
j = load("signed.json")
assert j == {"file": "APKINDEX.tar.gz", "format": "tar.gz", "signed": True, "key": "test.rsa.pub",
             "packages": [{"file": "b.apk", "name": "base-files", "version": "1.0-r0"}]}, j
j = load("text.json")
assert j["format"] == "text" and j["signed"] is False and j["key"] is None, j
assert [(p["file"], p["name"]) for p in j["packages"]] == [("h.apk", "hello-drydock"),
                                                          ("b.apk", "base-files")], j
PY
	expect_out "valid" drydock pkg verify --key test.rsa.pub b.apk APKINDEX.tar.gz
	mkdir tree
	rc=0
	drydock pkg build --json --set pkgver=1 -o x.apk tree >out 2>err || rc=$?
	[ "$rc" = 1 ] && [ ! -s out ] && grep -q "has no package name" err ||
		t_fail "a failed build --json: exit $rc, stdout '$(cat out)'"
	rc=0
	drydock pkg index --json -o APKINDEX2 b.apk APKINDEX.tar.gz >out 2>err || rc=$?
	[ "$rc" = 1 ] && [ ! -s out ] && grep -q "APKINDEX.tar.gz: an index, not a package" err ||
		t_fail "a failed index --json: exit $rc, stdout '$(cat out)'"
}

t_run build_sign_verify
t_run renamed_key_file
t_run each_digest
t_run openssl_checks_signature
t_run contents_and_metadata
t_run long_names_and_hard_links
t_run reproducible
t_run index_signed_and_text
t_run unsigned_package
t_run build_refusals
t_run build_and_index_json

# Same layout as packages melange writes (apko's test repository): three
# gzip members, signature and control tars without end blocks, the data
# tar with them, pax checksum records on files.
same_layout_as_melange() {
	need_corpus
	make_key test
	build_fixture hello-drydock test.rsa hello.apk
	python3 - hello.apk "$CORPUS/apk/apko-testrepo/x86_64/replayout-1.0.0-r0.apk" <<'PY'
import sys, zlib
def layout(path):
    data = open(path, "rb").read()
    off, out = 0, []
    while off < len(data):
        d = zlib.decompressobj(31)
        raw = d.decompress(data[off:])
        off = len(data) - len(d.unused_data)
        blocks = [raw[i:i + 512] for i in range(0, len(raw), 512)]
        ends = raw.endswith(b"\0" * 1024) and any(b != b"\0" * 512 for b in blocks)
        names, i = [], 0
        while i < len(blocks) and blocks[i] != b"\0" * 512:
            h = blocks[i]
            size = int(h[124:136].strip(b"\0 ") or b"0", 8)
            names.append((h[156:157], h[:100].rstrip(b"\0").decode()))
            i += 1 + (size + 511) // 512
        out.append((ends, names))
    return out
ours, theirs = layout(sys.argv[1]), layout(sys.argv[2])
assert len(ours) == len(theirs) == 3
assert [e for e, _ in ours] == [e for e, _ in theirs] == [False, False, True], (ours, theirs)
assert ours[0][1][0][1].startswith(".SIGN.RSA256.") and theirs[0][1][0][1].startswith(".SIGN.RSA256.")
assert ours[1][1][0][1] == theirs[1][1][0][1] == ".PKGINFO"
assert (b"x", "././@PaxHeader") in ours[2][1] or any(t == b"x" for t, _ in ours[2][1])
assert any(t == b"x" for t, _ in theirs[2][1])
PY
}
t_run same_layout_as_melange
