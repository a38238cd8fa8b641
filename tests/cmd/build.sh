#!/bin/sh
# drydock build: jobs become OCI images that real tools accept and run;
# the same inputs give the same digests; failures leave a failed run and
# never move latest.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
IN=$T_TMP/in
bundle_dir "$S" "$IN"
for p in os-release-clash hello-fips; do
	build_fixture "$p" "$S/apk.rsa" "$IN/packages/$p.apk" >/dev/null
done
# dir-x ships /opt/x as a directory, file-x as a file
mkdir -p "$T_TMP/dir-x/opt/x" "$T_TMP/file-x/opt"
echo inside >"$T_TMP/dir-x/opt/x/f"
echo file >"$T_TMP/file-x/opt/x"
for p in dir-x file-x; do
	printf 'pkgname = %s\npkgver = 1.0-r0\narch = x86_64\nlicense = MIT\ndepend = base-files\n' "$p" >"$T_TMP/$p.info"
	drydock pkg build --info "$T_TMP/$p.info" --sign "$S/apk.rsa" -o "$IN/packages/$p.apk" "$T_TMP/$p" >/dev/null
done
# tmp-owner ships /tmp as its own directory (0700), over the skeleton's
mkdir -p "$T_TMP/tmp-owner/tmp"
chmod 700 "$T_TMP/tmp-owner/tmp"
printf 'pkgname = tmp-owner\npkgver = 1.0-r0\narch = x86_64\nlicense = MIT\n' >"$T_TMP/tmp-owner.info"
drydock pkg build --info "$T_TMP/tmp-owner.info" --sign "$S/apk.rsa" -o "$IN/packages/tmp-owner.apk" "$T_TMP/tmp-owner" >/dev/null
# ca-bundle ships a CA bundle with another CA, and /etc/ssl/cert.pem as a link to it
mkdir -p "$T_TMP/ca-bundle/etc/ssl/certs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/other-ca.key" -subj "/CN=Other CA" \
	-days 3650 -out "$T_TMP/ca-bundle/etc/ssl/certs/ca-certificates.crt" 2>/dev/null
ln -s certs/ca-certificates.crt "$T_TMP/ca-bundle/etc/ssl/cert.pem"
printf 'pkgname = ca-bundle\npkgver = 1.0-r0\narch = x86_64\nlicense = MIT\n' >"$T_TMP/ca-bundle.info"
drydock pkg build --info "$T_TMP/ca-bundle.info" --sign "$S/apk.rsa" -o "$IN/packages/ca-bundle.apk" "$T_TMP/ca-bundle" >/dev/null
STATIC=yes
build_static_fixture "$S/apk.rsa" "$IN/packages/hello-static.apk" >/dev/null 2>&1 || STATIC=no
build_static_fixture "$S/apk.rsa" "$IN/packages/tmp-static.apk" tmp-static >/dev/null 2>&1 || STATIC=no
entitlement_json 1 2030-01-01T00:00:00Z '[{"name": "base-files", "version": "1.0-r0"},
 {"name": "hello-drydock", "version": "1.2.3-r0"}, {"name": "hello-static", "version": "1.0-r0"},
 {"name": "tmp-static", "version": "1.0-r0"}]' \
	>"$IN/entitlements.json"
sign_entitlement "$S" "$IN/entitlements.json"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml

# result FIELD [RUN]: a field of a run's result.json (default: latest).
result() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"${2:-out/hello/latest}/result.json" "$1"
}

fixture_job_builds() {
	expect_out "hello.yaml: built drydock.local/hello:latest sha256:[0-9a-f]{64}" \
		drydock build --mirror "$M" -o out "$HELLO"
	run=out/hello/$(readlink out/hello/latest)
	[ -d "$run" ] && [ -f "$run/image.oci.tar" ] && [ -f "$run/image/oci-layout" ] || t_fail "run folder"
	[ "$(result status)" = succeeded ] || t_fail "status"
	[ -z "$(ls -A out/hello | grep -v -e '^latest$' -e '^\.lock$' -e '^2')" ] || t_fail "stray files"
	for step in "job .*hello.yaml sha256:" "plan \(x86_64\): 2 packages, 1 in the crust layer" \
		"installed base-files-1.0-r0 \(crust, sha256:" "installed hello-drydock-1.2.3-r0" \
		"accounts: 1 group" "image \(x86_64\): manifest sha256:" "succeeded in"; do
		grep -Eq "^20[0-9-]{8}T[0-9:.]{12}Z .*$step" "$run/build.log" || t_fail "log lacks $step"
	done
	layout_manifest "$run/image" >manifest.json
	python3 - "$run" <<'PY'
import json, sys, tarfile, gzip, hashlib
run = sys.argv[1]
blob = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
m = json.load(open("manifest.json"))
cfg = json.load(open(blob(m["config"]["digest"])))
r = json.load(open(run + "/result.json"))
assert r["digest"] == json.load(open(run + "/image/index.json"))["manifests"][0]["digest"]
assert [l["digest"] for l in r["archs"][0]["layers"]] == [l["digest"] for l in m["layers"]]
c = cfg["config"]
assert c["Entrypoint"] == ["/usr/bin/hello-drydock"] and c["User"] == "hello", c
assert "LANG=C.UTF-8" in c["Env"] and c["WorkingDir"] == "/", c
assert c["Labels"] == {"org.opencontainers.image.title": "hello-drydock"}
assert cfg["created"] == "2023-11-14T22:13:20Z" and cfg["architecture"] == "amd64"
files = {}
for l, d in zip(m["layers"], cfg["rootfs"]["diff_ids"]):
    raw = gzip.open(blob(l["digest"])).read()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == d
    t = tarfile.open(blob(l["digest"]))
    for e in t:
        assert e.mtime == 1700000000 and e.uname == "" and e.gname == "", e.name
        files[e.name] = t.extractfile(e).read() if e.isfile() else e
inst = files["usr/lib/apk/db/installed"].decode()
assert "P:base-files\nV:1.0-r0" in inst and "P:hello-drydock\nV:1.2.3-r0" in inst, inst
assert "F:usr/bin\nR:hello-drydock\na:0:0:755\nZ:Q1" in inst, inst
assert files["etc/apk/world"] == b"base-files\nhello-drydock\n", files["etc/apk/world"]
assert b"hello:x:65532:65532::/home/hello:/bin/sh\n" in files["etc/passwd"]
assert files["etc/passwd"].startswith(b"root:"), files["etc/passwd"]
assert files["etc/group"] == b"hello:x:65532:\n", files["etc/group"]
assert files["home/hello"].uid == 65532
assert files["usr/bin/hi"].issym() and files["usr/bin/hi"].linkname == "hello-drydock"
# the SPDX SBOM inside the image: the same packages as the run's, named by content
inner = json.loads(files["var/lib/db/sbom/hello.spdx.json"])
outer = json.load(open(run + "/sbom.spdx.json"))
pk = lambda d: sorted(json.dumps(p, sort_keys=True) for p in d["packages"] if p["SPDXID"].startswith("SPDXRef-Package-"))
assert pk(inner) == pk(outer) and len(pk(inner)) == 2
assert "/contents/" in inner["documentNamespace"] and r["digest"][7:] not in json.dumps(inner)
assert files["var/lib/db/sbom/hello.spdx.json"].endswith(b"}\n")
PY
}

real_tools_accept() {
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	run=out/hello/latest
	n=0
	if command -v oci-image-tool >/dev/null; then
		expect_out "Validation succeeded" oci-image-tool validate --type image "$run/image"
		n=$((n + 1))
	fi
	if command -v umoci >/dev/null; then
		umoci unpack --rootless --image "$run/image:drydock.local/hello:latest" bundle \
			>umoci.out 2>&1 || { cat umoci.out; t_fail "umoci unpack"; }
		[ -x bundle/rootfs/usr/bin/hello-drydock ] || t_fail "umoci: no program"
		grep -q '^hello:x:65532' bundle/rootfs/etc/passwd || t_fail "umoci: no user"
		n=$((n + 1))
	fi
	if command -v skopeo >/dev/null; then
		skopeo copy "oci-archive:$run/image.oci.tar:drydock.local/hello:latest" oci:copy:x \
			>skopeo.out 2>&1 || { cat skopeo.out; t_fail "skopeo copy"; }
		d1=$(skopeo inspect --format '{{.Digest}}' "oci-archive:$run/image.oci.tar")
		d2=$(skopeo inspect --format '{{.Digest}}' oci:copy:x)
		[ "$d1" = "$(result digest)" ] && [ "$d1" = "$d2" ] || t_fail "skopeo digests $d1 $d2"
		n=$((n + 1))
	fi
	[ $n -gt 0 ] || t_skip "none of oci-image-tool, umoci, skopeo is installed (scripts/install-deps)"
}

podman_runs_the_image() {
	command -v podman >/dev/null || t_skip "podman is not installed (scripts/install-deps)"
	[ $STATIC = yes ] || t_skip "cannot link a static program here (${CC:-cc} -static)"
	printf 'base: hello\ncontents:\n  packages: [hello-static]\nentrypoint:\n  command: /usr/bin/hello-static\ncmd: "first \\"second arg\\""\n' >hs.yaml
	drydock build --mirror "$M" -o out hs.yaml >/dev/null
	P="podman --root $PWD/pr --runroot $PWD/prr --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"
	$P load -i out/hs/latest/image.oci.tar >load.out 2>&1 || { cat load.out; t_fail "podman load"; }
	grep -q "drydock.local/hs:latest" load.out || { cat load.out; t_fail "loaded name"; }
	$P --runtime runc run --rm --network none --ulimit nofile=1024:1024 \
		--ulimit nproc=1024:1024 drydock.local/hs:latest >run.out 2>&1 || { cat run.out; t_fail "podman run"; }
	printf 'hello from a drydock image\narg: first\narg: second arg\n' | diff - run.out
	$P rmi -a -f >/dev/null 2>&1 || true
}

podman_tmp_works() {
	command -v podman >/dev/null || t_skip "podman is not installed (scripts/install-deps)"
	[ $STATIC = yes ] || t_skip "cannot link a static program here (${CC:-cc} -static)"
	printf 'base: hello\ncontents:\n  packages: [tmp-static]\nentrypoint:\n  command: /usr/bin/tmp-static\n' >ts.yaml
	drydock build --mirror "$M" -o out ts.yaml >/dev/null
	P="podman --root $PWD/pr --runroot $PWD/prr --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"
	$P load -i out/ts/latest/image.oci.tar >load.out 2>&1 || { cat load.out; t_fail "podman load"; }
	$P --runtime runc run --rm --network none --ulimit nofile=1024:1024 \
		--ulimit nproc=1024:1024 drydock.local/ts:latest >run.out 2>&1 || { cat run.out; t_fail "podman run: the program could not write /tmp"; }
	printf 'written in /tmp\n' | diff - run.out
	$P rmi -a -f >/dev/null 2>&1 || true
}

# merged_tree RUN: for each architecture of RUN's image, one line per
# path of the merged layers (upper layers win): ARCH PATH TYPE MODE
# UID GID LAYER [TARGET], into tree.txt; file contents under files/ARCH/.
merged_tree() {
	python3 - "$1" <<'PY'
import json, os, sys, tarfile
run = sys.argv[1]
blob = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
top = json.load(open(run + "/image/index.json"))["manifests"][0]
doc = json.load(open(blob(top["digest"])))
subs = doc["manifests"] if "manifests" in doc else [dict(top, platform={"architecture": "amd64"})]
out = open("tree.txt", "w")
for m in subs:
    arch = m["platform"]["architecture"]
    tree = {}
    for i, l in enumerate(json.load(open(blob(m["digest"])))["layers"]):
        t = tarfile.open(blob(l["digest"]))
        for e in t:
            kind = "dir" if e.isdir() else "link" if e.issym() else "file" if e.isfile() else "dev" if (e.ischr() or e.isblk()) else "other"
            tree[e.name] = (kind, "%04o" % e.mode, e.uid, e.gid, i, e.linkname)
            if e.isfile():
                p = "files/%s/%s" % (arch, e.name)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                open(p, "wb").write(t.extractfile(e).read())
    for name in sorted(tree):
        k = tree[name]
        out.write("%s %s %s %s %d %d %d %s\n" % (arch, name, k[0], k[1], k[2], k[3], k[4], k[5]))
PY
}

# has ARCH PATH TYPE MODE [LAYER]: tree.txt holds PATH, root-owned.
has() {
	grep -q "^$1 $2 $3 $4 0 0 ${5:-[0-9]*} " tree.txt || { grep " $2 " tree.txt >&2; t_fail "$1: /$2 is not a $3 of mode $4${5:+ in layer $5}"; }
}

apko_skeleton() {
	need_corpus
	apko_mirror "$S" am
	cat >apko.yaml <<'Y'
base: layout
contents:
  packages: [replayout]
  runtime_repositories:
    - https://packages.example.invalid/os
    - https://packages.example.invalid/extras
entrypoint:
  command: /bin/sh -l
archs: [x86_64, arm64]
Y
	drydock build --mirror am -o out apko.yaml >/dev/null
	merged_tree out/apko/latest
	for a in amd64 arm64; do
		# the crust layer (0) holds the skeleton, shared by every job of the base
		has $a tmp dir 1777 0
		has $a proc dir 0555 0
		for d in dev opt etc/apk/keys var/cache/apk var/cache/misc usr/lib/apk/db usr/lib/apk/exec; do
			has $a $d dir 0755 0
		done
		has $a lib/apk link 0777 0
		grep -q "^$a lib/apk link .* \.\./usr/lib/apk$" tree.txt || t_fail "lib/apk target"
		has $a usr/lib/apk/db/lock file 0600 0
		has $a etc/passwd file 0644 0
		has $a etc/group file 0644 0
		for f in triggers scripts.tar installed; do has $a usr/lib/apk/db/$f file 0644 1; done
		has $a etc/apk/repositories file 0644 1
		has $a etc/apk/keys/melange.rsa.pub file 0644 0
		cmp files/$a/etc/apk/keys/melange.rsa.pub "$CORPUS/apk/apko-testrepo/melange.rsa.pub" || t_fail "key"
		printf 'https://packages.example.invalid/os\nhttps://packages.example.invalid/extras\n' |
			cmp - files/$a/etc/apk/repositories || t_fail "repositories"
		[ ! -s files/$a/etc/passwd ] && [ ! -s files/$a/usr/lib/apk/db/triggers ] || t_fail "not empty"
		# no install scripts in these packages: an empty archive
		[ "$(tar -tf files/$a/usr/lib/apk/db/scripts.tar | wc -l)" -eq 0 ] || t_fail "scripts.tar"
		! grep -q "^$a [^ ]* dev " tree.txt || t_fail "device nodes written"
	done
	# another job of the same base shares the crust layer, skeleton included
	printf 'base: layout\ncontents:\n  packages: [replayout]\narchs: [x86_64]\n' >other.yaml
	drydock build --mirror am -o out other.yaml >/dev/null
	python3 - out/apko/latest/result.json out/other/latest/result.json <<'PY'
import json, sys
a, b = (json.load(open(f))["archs"][0]["layers"][0] for f in sys.argv[1:])
assert a["digest"] == b["digest"] and b["from_cache"] is True, (a, b)
PY
	grep -q "skeleton written" out/apko/latest/build.log || t_fail "log"
	grep -q "/etc/apk/keys/melange.rsa.pub" out/apko/latest/build.log || t_fail "log: keys"
}

scripts_in_the_apk_database() {
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	merged_tree out/hello/latest
	has amd64 usr/lib/apk/db/scripts.tar file 0644
	tar -tvf files/amd64/usr/lib/apk/db/scripts.tar >list
	grep -Eq '^-rwxr-xr-x 0/0 .* hello-drydock-1\.2\.3-r0\.Q1[A-Za-z0-9+/]{27}=\.post-install$' list || { cat list; t_fail "script name"; }
	[ "$(wc -l <list)" -eq 1 ] || { cat list; t_fail "only the install script"; }
	# the name holds the base64 checksum, '/' included, as apk-tools names it
	tar -xOf files/amd64/usr/lib/apk/db/scripts.tar |
		cmp - "$TOP/fixtures/packages/hello-drydock/scripts/.post-install" || t_fail "script content"
	sum=$(sed -n 's/^C://p' files/amd64/usr/lib/apk/db/installed | sed -n 2p)
	grep -q "hello-drydock-1.2.3-r0.$sum.post-install" list || t_fail "not the installed checksum $sum"
}

package_wins_over_skeleton() {
	printf 'base: hello\ncontents:\n  packages: [tmp-owner]\npolicy:\n  allow-unguarded: true\n' >tw.yaml
	drydock build --mirror "$M" -o out tw.yaml >/dev/null
	merged_tree out/tw/latest
	has amd64 tmp dir 0700 1
	printf 'output:\n  layers: single\n' | cat tw.yaml - >tws.yaml
	drydock build --mirror "$M" -o out tws.yaml >/dev/null
	merged_tree out/tws/latest
	has amd64 tmp dir 0700 0
	[ "$(python3 -c 'import tarfile,sys,json
r=json.load(open("out/tws/latest/result.json"))
t=tarfile.open("out/tws/latest/image/blobs/sha256/"+r["archs"][0]["layers"][0]["digest"][7:])
print(sum(1 for e in t if e.name == "tmp"))')" -eq 1 ] || t_fail "/tmp written twice"
	# base-files ships /etc/passwd: it is kept, not emptied
	grep -q '^root:' files/amd64/etc/passwd || t_fail "package's passwd lost"
}

# cert_job NAME PEM-FILE [PACKAGES]: a job on the hello base adding the
# certificate in PEM-FILE as certificates.additional 'internal-ca'.
cert_job() {
	{
		printf 'base: hello\ncontents:\n  packages: [%s]\npolicy:\n  allow-unguarded: true\n' "${3:-hello-drydock}"
		printf 'certificates:\n  additional:\n    - name: internal-ca\n      content: |\n'
		sed 's/^/        /' "$2"
	} >"$1.yaml"
}

certificates_in_the_bundle() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=Internal CA" \
		-days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=svc.internal" 2>/dev/null
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -out leaf.pem 2>/dev/null
	# no package ships a bundle: it is created, holding the certificate alone
	cert_job ca ca.pem
	drydock build --mirror "$M" -o out ca.yaml >/dev/null
	merged_tree out/ca/latest
	has amd64 etc/ssl/certs/ca-certificates.crt file 0644 1
	has amd64 usr/local/share/ca-certificates/internal-ca.crt file 0644 1
	cmp ca.pem files/amd64/usr/local/share/ca-certificates/internal-ca.crt || t_fail "the .crt file"
	openssl verify -CAfile files/amd64/etc/ssl/certs/ca-certificates.crt leaf.pem >v.out 2>&1 || { cat v.out; t_fail "openssl verify"; }
	grep -q "leaf.pem: OK" v.out || t_fail "verify output"
	grep -q "certificate internal-ca: /usr/local/share/ca-certificates/internal-ca.crt, appended to /etc/ssl/certs/ca-certificates.crt" out/ca/latest/build.log || t_fail "log"
	# a package's bundle (reached through its /etc/ssl/cert.pem link too) keeps its CA first
	cert_job cab ca.pem "hello-drydock, ca-bundle"
	drydock build --mirror "$M" -o out cab.yaml >/dev/null
	rm -rf files && merged_tree out/cab/latest
	b=files/amd64/etc/ssl/certs/ca-certificates.crt
	head -c "$(wc -c <"$T_TMP/ca-bundle/etc/ssl/certs/ca-certificates.crt")" "$b" |
		cmp - "$T_TMP/ca-bundle/etc/ssl/certs/ca-certificates.crt" || t_fail "the package's CA first"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$b")" -eq 2 ] || t_fail "two certificates"
	openssl verify -CAfile "$b" leaf.pem | grep -q "leaf.pem: OK" || t_fail "verify with the package's bundle"
	grep -q "^amd64 etc/ssl/cert.pem link " tree.txt || t_fail "the link stays"
	# without the certificate the leaf does not verify against the package's bundle
	printf 'base: hello\ncontents:\n  packages: [ca-bundle]\npolicy:\n  allow-unguarded: true\n' >plain.yaml
	drydock build --mirror "$M" -o out plain.yaml >/dev/null
	rm -rf files && merged_tree out/plain/latest
	! openssl verify -CAfile files/amd64/etc/ssl/certs/ca-certificates.crt leaf.pem >/dev/null 2>&1 || t_fail "verifies without the CA"
}

malformed_certificates_refused() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout a.key -out a.pem -subj "/CN=A" -days 30 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -keyout b.key -out b.pem -subj "/CN=B" -days 30 2>/dev/null
	sed 's/^M/X/' a.pem >bad.pem
	cert_job bad bad.pem
	expect_fail 1 "bad.yaml:9:16: certificate 'internal-ca': not a certificate OpenSSL can read" \
		drydock plan --mirror "$M" bad.yaml
	cat a.pem b.pem >two.pem
	cert_job two two.pem
	expect_fail 1 "two.yaml:9:16: certificate 'internal-ca': more than one certificate" \
		drydock plan --mirror "$M" two.yaml
	printf 'just text\n' >text.pem
	cert_job text text.pem
	expect_fail 1 "text.yaml:9:16: certificate 'internal-ca': not a PEM certificate" \
		drydock plan --mirror "$M" text.yaml
	expect_fail 1 "text.yaml:9:16: certificate 'internal-ca'" drydock build --mirror "$M" -o out text.yaml
	printf 'base: hello\ncertificates:\n  additional:\n    - name: ../x\n      content: y\n' >name.yaml
	expect_fail 1 "name.yaml:4:7: certificate name '../x'" drydock plan --mirror "$M" name.yaml
	printf 'base: hello\ncertificates:\n  providers: [ca-certificates]\n' >prov.yaml
	expect_fail 1 "prov.yaml:3:14: certificates.providers is not supported" drydock plan --mirror "$M" prov.yaml
}

# origin_pkg NAME VERSION ORIGIN KB DIR: a package of origin ORIGIN holding KB
# KiB of random bytes, into DIR.
origin_pkg() {
	mkdir -p "tree-$1-$2/usr/share/$1"
	head -c "$(($4 * 1024))" /dev/urandom >"tree-$1-$2/usr/share/$1/data"
	printf 'pkgname = %s\npkgver = %s\narch = x86_64\nlicense = MIT\norigin = %s\nsize = %d\n' \
		"$1" "$2" "$3" "$(($4 * 1024))" >"$1-$2.info"
	drydock pkg build --info "$1-$2.info" --sign "$S/apk.rsa" -o "$5/$1-$2.apk" "tree-$1-$2" >/dev/null
}

# layers_of RUN: one line per layer of RUN's image: HOLDS PACKAGES FROM_CACHE DIGEST
layers_of() {
	python3 -c '
import json, sys
for l in json.load(open(sys.argv[1]))["archs"][0]["layers"]:
    print(l["holds"], l["packages"], l["from_cache"], l["digest"])' "$1/result.json"
}

layering_by_origin() {
	mkdir -p one/packages
	# six origins: alpha (two packages, the largest), beta, gamma, delta, eps, zeta
	origin_pkg alpha-1 1.0-r0 alpha 300 one/packages
	origin_pkg alpha-2 1.0-r0 alpha 300 one/packages
	origin_pkg beta 1.0-r0 beta 400 one/packages
	origin_pkg gamma 1.0-r0 gamma 200 one/packages
	origin_pkg delta 1.0-r0 delta 100 one/packages
	origin_pkg eps 1.0-r0 eps 50 one/packages
	origin_pkg zeta 1.0-r0 zeta 10 one/packages
	cp -r "$M" lm
	make_bundle "$S" one one.tar 2
	drydock mirror import --mirror lm one.tar >/dev/null
	cat >lay.yaml <<'Y'
contents:
  packages: [alpha-1, alpha-2, beta, gamma, delta, eps, zeta]
policy:
  allow-unguarded: true
layering:
  strategy: origin
  budget: 3
Y
	drydock build --mirror lm -o out lay.yaml >/dev/null
	layers_of out/lay/latest >l1
	cat l1
	[ "$(wc -l <l1)" -eq 3 ] || t_fail "3 layers"
	grep -q "^origin alpha 2 False " l1 && sed -n 1p l1 | grep -q "^origin alpha" || t_fail "alpha alone, first"
	sed -n 2p l1 | grep -q "^origin beta 1 False " || t_fail "beta alone, second"
	sed -n 3p l1 | grep -q "^top 4 False " || t_fail "the rest together on top"
	grep -q "layering by origin, budget 3: 3 layers" out/lay/latest/build.log || t_fail "log"
	# every path is in the image once the layers are merged, apk database included
	merged_tree out/lay/latest
	for f in alpha-1 alpha-2 beta gamma delta eps zeta; do
		grep -q "^amd64 usr/share/$f/data file " tree.txt || t_fail "$f's data"
	done
	has amd64 tmp dir 1777 2
	grep -c '^P:' files/amd64/usr/lib/apk/db/installed | grep -qx 7 || t_fail "installed db"
	if command -v umoci >/dev/null; then
		umoci unpack --rootless --image "out/lay/latest/image:drydock.local/lay:latest" bundle \
			>umoci.out 2>&1 || { cat umoci.out; t_fail "umoci unpack"; }
		cmp bundle/rootfs/usr/share/zeta/data tree-zeta-1.0-r0/usr/share/zeta/data || t_fail "umoci: zeta"
	fi
	# a second bundle upgrades the topping zeta: only the top layer is compressed again
	d1=$(result digest out/lay/latest)
	mkdir -p two/packages
	origin_pkg zeta 1.0-r1 zeta 10 two/packages
	make_bundle "$S" two two.tar 3
	drydock mirror import --mirror lm two.tar >/dev/null
	drydock build --mirror lm -o out lay.yaml >/dev/null
	layers_of out/lay/latest >l2
	cat l2
	log=out/lay/latest/build.log
	[ "$(grep -c 'layer of origin .* taken from the layer cache' "$log")" -eq 2 ] || t_fail "two layers from the cache"
	grep -q "installed zeta-1.0-r1" "$log" || t_fail "zeta upgraded"
	! grep -q "compressed now" "$log" || t_fail "an origin layer was compressed again"
	[ "$(sed -n 1p l1 | awk '{print $NF}')" = "$(sed -n 1p l2 | awk '{print $NF}')" ] &&
		[ "$(sed -n 2p l1 | awk '{print $NF}')" = "$(sed -n 2p l2 | awk '{print $NF}')" ] || t_fail "origin layers changed"
	sed -n 1,2p l2 | grep -q " True " || t_fail "from_cache"
	[ "$(sed -n 3p l1 | awk '{print $NF}')" != "$(sed -n 3p l2 | awk '{print $NF}')" ] || t_fail "top unchanged"
	[ "$(result digest out/lay/latest)" != "$d1" ] || t_fail "image digest unchanged"
	# the same inputs again: every layer from the cache, the same image
	d2=$(result digest out/lay/latest)
	drydock build --mirror lm -o out lay.yaml >/dev/null
	grep -q "top layer .* taken from the layer cache" out/lay/latest/build.log || t_fail "top from the cache"
	[ "$(result digest out/lay/latest)" = "$d2" ] || t_fail "cached image differs"
	# without the cache, the same bytes
	drydock build --mirror lm -o nc --no-cache lay.yaml >/dev/null
	[ "$(result digest nc/lay/latest)" = "$d2" ] || t_fail "the cache changed the image"
	expect_fail 1 "lay2.yaml:2:13: layering.strategy is 'size', expected origin" \
		sh -c 'printf "layering:\n  strategy: size\n" >lay2.yaml; "$DRYDOCK" plan --mirror lm lay2.yaml'
	expect_fail 1 "lay3.yaml:3:11: layering.budget is 0" \
		sh -c 'printf "layering:\n  strategy: origin\n  budget: 0\n" >lay3.yaml; "$DRYDOCK" plan --mirror lm lay3.yaml'
}

reproducible() {
	mkdir a b
	(cd a && drydock build --mirror "$M" -o out --threads 1 "$HELLO" >/dev/null)
	sleep 1
	(cd b && drydock build --mirror "$M" -o out --threads 3 --no-cache "$HELLO" >/dev/null)
	d1=$(result digest a/out/hello/latest)
	d2=$(result digest b/out/hello/latest)
	[ "$d1" = "$d2" ] || t_fail "digests differ: $d1 $d2"
	cmp a/out/hello/latest/image.oci.tar b/out/hello/latest/image.oci.tar || t_fail "archives differ"
	[ "$(result run_id a/out/hello/latest)" != "$(result run_id b/out/hello/latest)" ] || t_fail "same run id"
	printf 'output:\n  compression: zstd\n' | cat "$HELLO" - >z.yaml
	drydock build --mirror "$M" -o z1 --threads 1 z.yaml >/dev/null
	drydock build --mirror "$M" -o z2 --threads 2 --no-cache z.yaml >/dev/null
	[ "$(result digest z1/z/latest)" = "$(result digest z2/z/latest)" ] || t_fail "zstd digests differ"
	grep -q 'tar+zstd' z1/z/latest/result.json || t_fail "zstd media type"
	[ "$(result digest z1/z/latest)" != "$d1" ] || t_fail "zstd and gzip gave one digest"
}

crust_layer_shared_and_cached() {
	printf 'base: hello\ncontents:\n  packages: [hello-fips]\npolicy:\n  allow-unguarded: true\n' >other.yaml
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	drydock build --mirror "$M" -o out other.yaml >/dev/null
	python3 - out/hello/latest/result.json out/other/latest/result.json <<'PY'
import json, sys
a, b = (json.load(open(f))["archs"][0]["layers"] for f in sys.argv[1:])
assert a[0]["holds"] == "crust" and b[0]["holds"] == "crust"
assert a[0]["digest"] == b[0]["digest"] and a[0]["diff_id"] == b[0]["diff_id"]
assert b[0]["from_cache"] is True, b[0]
assert a[1]["digest"] != b[1]["digest"]
PY
	grep -q "warning: .*hello-fips-1.0-r0 is unguarded" out/other/latest/build.log || t_fail "unguarded warning"
	# a damaged cache entry is noticed and rebuilt, with the same digest
	d=$(result digest out/other/latest)
	for f in "$M"/cache/layers/*.layer; do printf 'x' >>"$f"; done
	drydock build --mirror "$M" -o out other.yaml >/dev/null
	grep -q "layer cache: .* its digest is" out/other/latest/build.log || t_fail "damage not seen"
	[ "$(result digest out/other/latest)" = "$d" ] || t_fail "rebuilt crust layer differs"
	printf 'output:\n  layers: single\n' | cat "$HELLO" - >single.yaml
	drydock build --mirror "$M" -o out single.yaml >/dev/null
	layout_manifest out/single/latest/image | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["layers"]) == 1'
}

# failed_run JOB: the job's only run failed: a -failed folder with the log
# and result.json, no image, no latest.
failed_run() {
	n=$(ls out/$1 | grep -c -- '-failed$')
	[ "$n" -eq 1 ] || t_fail "expected one failed run of $1, found $n"
	f=out/$1/$(ls out/$1 | grep -- '-failed$')
	[ -f "$f/build.log" ] && [ -f "$f/result.json" ] || t_fail "failed run lacks log or result"
	[ ! -e "$f/image" ] && [ ! -e "$f/image.oci.tar" ] || t_fail "failed run keeps an image"
	[ "$(result status "$f")" = failed ] || t_fail "status"
	grep -q "error: $2" "$f/build.log" || { cat "$f/build.log"; t_fail "log lacks the error"; }
}

layer_cache_pruned_by_gc() {
	cp -a "$M" mc && rm -rf mc/cache
	drydock build --mirror mc -o out "$HELLO" >/dev/null
	digest=$(result digest)
	c=mc/cache/layers
	[ "$(ls $c | grep -c '\.layer$')" -eq 1 ] || t_fail "no cached layer"
	key=$(ls $c | sed -n 's/\.json$//p')
	# used a day ago: kept; a build killed while filling the cache left a temporary file
	touch -d '1 day ago' "$c/$key.json"
	echo partial >"$c/$key.layer.tmp.AbCdEf"
	expect_out "and 1 layer cache files" drydock mirror gc --mirror mc
	[ -f "$c/$key.layer" ] && [ ! -e "$c/$key.layer.tmp.AbCdEf" ] || t_fail "gc kept the wrong files"
	# unused for 40 days: pruned
	touch -d '40 days ago' "$c/$key.json"
	expect_out "and 2 layer cache files" drydock mirror gc --mirror mc
	[ -z "$(ls $c)" ] || t_fail "cache not emptied: $(ls $c)"
	# the next build makes the layer again, the same; the one after uses it and marks it used
	drydock build --mirror mc -o out "$HELLO" >/dev/null
	[ "$(result digest)" = "$digest" ] || t_fail "digest changed"
	touch -d '40 days ago' "$c/$key.json"
	drydock build --mirror mc -o out "$HELLO" >/dev/null
	grep -q '"from_cache": true' out/hello/latest/result.json || t_fail "cache not used"
	expect_out "and 0 layer cache files" drydock mirror gc --mirror mc
	drydock mirror gc --mirror mc --keep-layers 0 --json >gc.json
	python3 -c 'import json,sys; d=json.load(open("gc.json")); assert d["removed_cache_files"] == 2, d'
	expect_fail 2 "--keep-layers 'soon': expected a number from 0 to 36500" drydock mirror gc --mirror mc --keep-layers soon
}

file_conflict_fails() {
	printf 'base: hello\ncontents:\n  packages: [os-release-clash]\npolicy:\n  allow-unguarded: true\n' >clash.yaml
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	cp -P out/hello/latest before
	cp clash.yaml out-clash.yaml
	expect_fail 1 "file conflict: /etc/os-release is shipped by both base-files-1.0-r0 and os-release-clash" \
		drydock build --mirror "$M" -o out clash.yaml
	failed_run clash "clash.yaml will not build for x86_64: file conflict"
	[ ! -e out/clash/latest ] || t_fail "latest for a failed job"
	[ "$(readlink out/hello/latest)" = "$(readlink before)" ] || t_fail "hello's latest moved"
}

timeout_fails() {
	printf 'policy:\n  timeout: 1ms\n' | cat "$HELLO" - >slow.yaml
	# opening the mirror, planning and fsyncing blobs alone take longer
	expect_fail 1 "ran longer than its policy.timeout \(1 ms\)" \
		drydock build --mirror "$M" -o out slow.yaml
	failed_run slow ".*the build ran longer than its policy.timeout"
}

killed_build_leaves_no_run() {
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	before=$(readlink out/hello/latest)
	for point in mid-build before-publish; do
		set +e
		DRYDOCK_CRASH_AT=$point drydock build --mirror "$M" -o out "$HELLO" >/dev/null 2>&1
		rc=$?
		set -e
		[ $rc -eq 137 ] || t_fail "$point: exit $rc, expected SIGKILL"
		[ "$(readlink out/hello/latest)" = "$before" ] || t_fail "$point: latest moved"
		[ "$(ls out/hello | grep -c '^2')" -eq 1 ] || t_fail "$point: a run folder appeared"
		ls -a out/hello | grep -q '^\.tmp-' || t_fail "$point: no partial folder"
	done
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	! ls -a out/hello | grep -q '^\.tmp-' || t_fail "stale partial folders stay"
	[ "$(readlink out/hello/latest)" != "$before" ] || t_fail "latest did not move"
}

damaged_blob_fails() {
	cp -r "$M" m2
	sha=$(drydock mirror show --mirror m2 --json hello-drydock | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["sha256"])')
	printf 'x' >>"m2/blobs/sha256/$sha"
	expect_fail 1 "hello-drydock-1.2.3-r0: .*$sha.*(its sha256 is|trailing|gzip)" \
		drydock build --mirror m2 -o out "$HELLO"
	failed_run hello "hello-drydock-1.2.3-r0"
}

apko_repository_two_archs() {
	need_corpus
	R=$CORPUS/apk/apko-testrepo
	apko_mirror "$S" am
	printf 'base: layout\ncontents:\n  packages: [replayout]\narchs: [x86_64, arm64]\n' >two.yaml
	drydock build --mirror am -o out two.yaml >/dev/null
	run=out/two/latest
	if command -v oci-image-tool >/dev/null; then
		expect_out "Validation succeeded" oci-image-tool validate --type image "$run/image"
	fi
	if [ -d "$TOP/tests/node/node_modules/ajv" ] && command -v node >/dev/null &&
		[ -f "$CORPUS/../schemas/spdx-2.3.schema.json" ]; then
		expect_out '^valid$' node "$TOP/tests/node/validate-sbom.js" \
			"$CORPUS/../schemas/spdx-2.3.schema.json" "$run/sbom.spdx.json" "$run/sbom.cdx.json"
	fi
	python3 - "$run" "$R/x86_64/replayout-1.0.0-r0.apk" <<'PY'
import json, sys, tarfile, gzip, io
run = sys.argv[1]
blob = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
idx = json.load(open(run + "/image/index.json"))
top = idx["manifests"][0]
assert top["mediaType"] == "application/vnd.oci.image.index.v1+json"
sub = json.load(open(blob(top["digest"])))["manifests"]
assert [(m["platform"]["architecture"], m["platform"].get("variant")) for m in sub] == [("amd64", None), ("arm64", "v8")]
# replayout's /etc/os-release wins over pretend-baselayout's
apk = tarfile.open(sys.argv[2])  # reads the first gzip member only; find the data member
raw = open(sys.argv[2], "rb").read()
want = None
d = gzip.GzipFile(fileobj=io.BytesIO(raw)).read()
for t in [tarfile.open(fileobj=io.BytesIO(d))]:
    for e in t:
        if e.name == "etc/os-release":
            want = t.extractfile(e).read()
assert want is not None
for m in sub:
    man = json.load(open(blob(m["digest"])))
    files = {}
    for l in man["layers"]:
        t = tarfile.open(blob(l["digest"]))
        for e in t:
            files[e.name] = t.extractfile(e).read() if e.isfile() else None
    inst = files["usr/lib/apk/db/installed"].decode()
    assert "P:pretend-baselayout\n" in inst and "P:replayout\n" in inst, inst
    assert "r:pretend-baselayout" in inst, inst
    assert files["etc/os-release"] == want, files["etc/os-release"]
    # the loser does not list the path it lost
    pre = inst.split("P:pretend-baselayout\n")[1].split("\n\n")[0]
    assert "R:os-release" not in pre, pre
PY
}

usage_errors() {
	expect_fail 2 "missing --out OUT" drydock build --mirror "$M" "$HELLO"
	expect_fail 2 "no job file given" drydock build --mirror "$M" -o out
	expect_fail 2 "--threads 'x'" drydock build --mirror "$M" -o out --threads x "$HELLO"
	expect_fail 1 "nope.yaml" drydock build --mirror "$M" -o out nope.yaml
	failed_run nope "nope.yaml"
	expect_fail 3 "no mirror at $PWD/no-mirror \(given by --mirror\)" \
		drydock build --mirror no-mirror -o out "$HELLO"
	[ ! -e out/hello ] && [ ! -e no-mirror ] || t_fail "a build with no mirror made a run or a mirror"
}

sboms_valid_and_complete() {
	drydock build --mirror "$M" -o out "$HELLO" >/dev/null
	run=out/hello/latest
	python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
r = json.load(open(run + "/result.json"))
s = json.load(open(run + "/sbom.spdx.json"))
c = json.load(open(run + "/sbom.cdx.json"))
want = {(p["name"], p["version"], p["sha256"]) for p in r["archs"][0]["packages"]}
pk = [p for p in s["packages"] if p["SPDXID"].startswith("SPDXRef-Package-")]
got = {(p["name"], p["versionInfo"], p["checksums"][0]["checksumValue"]) for p in pk}
assert got == want, (got, want)
assert s["documentNamespace"].endswith(r["digest"].split(":")[1])
assert s["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
img = [p for p in s["packages"] if p.get("primaryPackagePurpose") == "CONTAINER"][0]
assert img["versionInfo"] == r["digest"]
rels = {(x["spdxElementId"], x["relationshipType"], x["relatedSpdxElement"]) for x in s["relationships"]}
hd = "SPDXRef-Package-x86-64-hello-drydock-1.2.3-r0"
bf = "SPDXRef-Package-x86-64-base-files-1.0-r0"
assert (hd, "DEPENDS_ON", bf) in rels and (img["SPDXID"], "CONTAINS", hd) in rels, rels
h = [p for p in pk if p["name"] == "hello-drydock"][0]
assert h["licenseDeclared"] == "MIT" and h["supplier"] == "Person: drydock fixtures (fixtures@example.invalid)", h
assert h["externalRefs"][0]["referenceLocator"] == "pkg:apk/stable/hello-drydock@1.2.3-r0?arch=x86_64"
assert "guarded, topping layer" in h["annotations"][0]["comment"], h["annotations"]
comps = {(x["name"], x["version"], x["hashes"][0]["content"]) for x in c["components"]}
assert comps == want, comps
assert c["metadata"]["component"]["version"] == r["digest"] and c["specVersion"] == "1.6"
PY
	# two builds: the same SBOM bytes
	cp "$run/sbom.spdx.json" "$run/sbom.cdx.json" .
	drydock build --mirror "$M" -o out --threads 1 "$HELLO" >/dev/null
	cmp sbom.spdx.json "$run/sbom.spdx.json" && cmp sbom.cdx.json "$run/sbom.cdx.json"
	v=$TOP/tests/node/validate-sbom.js
	[ -d "$TOP/tests/node/node_modules/ajv" ] && command -v node >/dev/null ||
		t_skip "SBOMs checked, but not against the schemas: tests/node has no node_modules (scripts/install-deps runs npm ci)"
	schema=$CORPUS/../schemas/spdx-2.3.schema.json
	[ -f "$schema" ] || t_skip "SBOMs checked, but the SPDX schema is absent: $schema"
	expect_out '^valid$' node "$v" "$schema" "$run/sbom.spdx.json" "$run/sbom.cdx.json"
	layout_manifest "$run/image" >m.json
	top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1]["digest"][7:])' m.json)
	tar -xzf "$run/image/blobs/sha256/$top" var/lib/db/sbom/hello.spdx.json
	expect_out '^valid$' node "$v" "$schema" var/lib/db/sbom/hello.spdx.json
	# the checker is not a rubber stamp: a dangling relationship, a bad licence, a bad date
	python3 - "$run/sbom.spdx.json" bad.spdx.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["packages"] = [p for p in d["packages"] if p["name"] != "hello-drydock"]
d["packages"][1]["licenseDeclared"] = "Not A Licence"
d["creationInfo"]["created"] = "yesterday"
json.dump(d, open(sys.argv[2], "w"))
PY
	expect_fail 1 "relationship to unknown SPDXRef-Package-x86-64-hello-drydock" node "$v" "$schema" bad.spdx.json
	grep -q "is not an SPDX expression" "$T_TMP/.o" && grep -q "created is not RFC 3339" "$T_TMP/.o" || t_fail "checker missed a defect"
}

directory_versus_file() {
	printf 'base: hello\ncontents:\n  packages: [dir-x, file-x]\npolicy:\n  allow-unguarded: true\n' >dx.yaml
	expect_fail 1 "file conflict: /opt/x is a directory in dir-x-1.0-r0 but a file in file-x-1.0-r0" \
		drydock plan --mirror "$M" dx.yaml
	expect_fail 1 "file conflict: /opt/x is a directory in dir-x-1.0-r0 but a file in file-x-1.0-r0" \
		drydock build --mirror "$M" -o out dx.yaml
	failed_run dx ".*file conflict: /opt/x"
}

job_paths_and_settings() {
	cat >p.yaml <<'YAML'
base: hello
contents:
  packages: [hello-drydock]
accounts:
  groups:
    - groupname: app
      gid: 1000
      members: [app]
  users:
    - username: root
      uid: 0
      gid: 0
      shell: /sbin/nologin
      homedir: /root
    - username: app
      uid: 1000
  run-as: "1000"
entrypoint:
  command: /usr/bin/hello-drydock --greeting 'hello there'
cmd: a "b c" d\ e
stop-signal: SIGINT
volumes: [/data]
environment:
  PATH: /usr/bin
paths:
  - path: /srv/app
    type: directory
    uid: 1000
    gid: 1000
    permissions: 0o750
  - path: /srv/app/ready
    type: empty-file
  - path: /srv/app/hello
    type: symlink
    source: /usr/bin/hello-drydock
  - path: /srv/app/hello-copy
    type: hardlink
    source: /usr/bin/hello-drydock
  - path: /usr/share/doc
    type: permissions
    uid: 0
    gid: 1000
    permissions: 0o700
    recursive: true
YAML
	drydock build --mirror "$M" -o out --json p.yaml >out.json
	cmp out.json out/p/latest/result.json || { diff out.json out/p/latest/result.json; t_fail "--json is not result.json"; }
	python3 - out/p/latest <<'PY'
import json, sys, tarfile
run = sys.argv[1]
blob = lambda d: run + "/image/blobs/sha256/" + d.split(":")[1]
idx = json.load(open(run + "/image/index.json"))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
c = json.load(open(blob(m["config"]["digest"])))["config"]
assert c["Entrypoint"] == ["/usr/bin/hello-drydock", "--greeting", "hello there"], c
assert c["Cmd"] == ["a", "b c", "d e"], c
assert c["Env"] == ["PATH=/usr/bin"] and c["User"] == "1000", c
assert c["StopSignal"] == "SIGINT" and c["Volumes"] == {"/data": {}}, c
top = tarfile.open(blob(m["layers"][-1]["digest"]))
e = {x.name: x for x in top}
f = lambda n: top.extractfile(e[n]).read()
assert e["srv/app"].isdir() and e["srv/app"].mode == 0o750 and e["srv/app"].uid == 1000
assert e["srv/app/ready"].isfile() and e["srv/app/ready"].size == 0
assert e["srv/app/hello"].issym() and e["srv/app/hello"].linkname == "/usr/bin/hello-drydock"
assert e["srv/app/hello-copy"].islnk() and e["srv/app/hello-copy"].linkname == "usr/bin/hello-drydock"
for n in ["usr/share/doc", "usr/share/doc/hello-drydock", "usr/share/doc/hello-drydock/README"]:
    assert e[n].mode == 0o700 and e[n].gid == 1000, (n, oct(e[n].mode), e[n].gid)
# the README was re-emitted with its content
assert f("usr/share/doc/hello-drydock/README").startswith(b"hello-drydock"), f("usr/share/doc/hello-drydock/README")
pw = f("etc/passwd").decode().splitlines()
assert pw[0] == "root:x:0:0::/root:/sbin/nologin", pw   # replaced in place
assert "app:x:1000:1000::/home/app:/bin/sh" in pw and len([l for l in pw if l.startswith("root:")]) == 1
assert f("etc/group") == b"app:x:1000:app\n"
assert e["home/app"].uid == 1000
PY
}

bad_settings_fail() {
	printf 'base: hello\nentrypoint:\n  command: "/bin/x %sunclosed"\n' "'" >q.yaml
	expect_fail 1 "q.yaml: entrypoint.command: '/bin/x 'unclosed': unterminated ' quote; close it" drydock build --mirror "$M" -o out q.yaml
	failed_run q ".*unterminated"
	# path_job NAME TYPE PATH [SOURCE]
	path_job() {
		printf 'base: hello\npaths:\n  - path: %s\n    type: %s\n' "$3" "$2" >"$1.yaml"
		[ -z "${4:-}" ] || printf '    source: %s\n' "$4" >>"$1.yaml"
	}
	path_job p1 permissions /no/such/path
	expect_fail 1 "p1.yaml: paths\[0\]: paths: /no/such/path \(type permissions\) is not in the image" \
		drydock build --mirror "$M" -o out p1.yaml
	path_job p2 hardlink /srv/h /no/such/file
	expect_fail 1 "p2.yaml: paths\[0\]: hard link /srv/h: its source /no/such/file is not a file in the image" \
		drydock build --mirror "$M" -o out p2.yaml
	path_job p3 directory /etc/os-release
	expect_fail 1 "p3.yaml: paths\[0\]: /etc/os-release should be a directory, but a package ships it as a file" \
		drydock build --mirror "$M" -o out p3.yaml
	path_job p4 empty-file /etc/os-release/x
	expect_fail 1 "p4.yaml: paths\[0\]: /etc/os-release/x lies below /etc/os-release, which is a file" \
		drydock build --mirror "$M" -o out p4.yaml
	for j in p1 p2 p3 p4; do failed_run $j ".*paths\[0\]"; done
	SOURCE_DATE_EPOCH=yesterday expect_fail 2 "SOURCE_DATE_EPOCH is 'yesterday': expected whole seconds" \
		drydock build --mirror "$M" -o out "$HELLO"
}

one_build_of_a_job_at_a_time() {
	mkdir -p out/hello
	hold_lock out/hello/.lock 60
	expect_fail 1 "another build of this job is running \(pid $holder\); wait for it to finish" \
		drydock build --mirror "$M" -o out "$HELLO"
	kill $holder
	[ ! -e out/hello/latest ] || t_fail "a busy job still built"
}

t_run fixture_job_builds
t_run directory_versus_file
t_run job_paths_and_settings
t_run bad_settings_fail
t_run one_build_of_a_job_at_a_time
t_run sboms_valid_and_complete
t_run real_tools_accept
t_run podman_runs_the_image
t_run podman_tmp_works
t_run apko_skeleton
t_run scripts_in_the_apk_database
t_run package_wins_over_skeleton
t_run certificates_in_the_bundle
t_run malformed_certificates_refused
t_run layering_by_origin
t_run reproducible
t_run crust_layer_shared_and_cached
t_run layer_cache_pruned_by_gc
t_run file_conflict_fails
t_run timeout_fails
t_run killed_build_leaves_no_run
t_run damaged_blob_fails
t_run apko_repository_two_archs
t_run usage_errors
