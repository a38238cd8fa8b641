#!/bin/sh
# The transfer officer's path: bundles split over several media, delta
# bundles against a mirror's receipt, checking before importing, the
# change report and repairing a mirror from its bundles.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# big DIR: the fixture packages plus "blob", 150 KB of random bytes, so
# that a 64K split makes 3 parts or more.
big() {
	bundle_dir "$S" "$1"
	mkdir -p blob/usr/share/blob
	head -c 150000 /dev/urandom >blob/usr/share/blob/data
	printf 'pkgname = blob\npkgver = 1.0-r0\narch = noarch\nlicense = MIT\n' >blob.PKGINFO
	drydock pkg build --info blob.PKGINFO --sign "$S/apk.rsa" -o "$1/packages/blob-1.0-r0.apk" \
		blob >/dev/null
}

# refuse_part PATTERN PART: importing PART is refused naming the problem,
# and the mirror stays as it was.
refuse_part() {
	before=$(snapshot m)
	expect_fail 1 "refused: .*$1" drydock mirror import --mirror m "$2"
	[ "$before" = "$(snapshot m)" ] || t_fail "refusal changed the mirror"
	[ -z "$(ls m/tmp)" ] || t_fail "staging files left"
}

split_bundle_imports() {
	big in
	mkdir stick
	expect_out "stick/b.tar.part-001 … stick/b.tar.part-003: .* in 3 parts" \
		drydock bundle create --channel stable --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --split 64K -o stick/b.tar in
	for p in stick/b.tar.part-00[123]; do
		[ "$(stat -c %s "$p")" -lt 65536 ] || t_fail "$p is not below 64K"
		head -c 512 "$p" | python3 -c '
import json, sys
h = json.loads(sys.stdin.read())
assert h["format"] == "drydock-bundle-part/1" and h["parts"] == 3, h'
	done
	[ ! -e stick/b.tar ] || t_fail "an unsplit bundle was written too"
	expect_out "^stick/b.tar.part-001: bundle [0-9a-f]{64}" drydock bundle inspect stick/b.tar.part-001
	trusted_mirror "$S" m
	expect_out "imported channel stable sequence 1: 4 packages \(4 new\)" \
		drydock mirror import --mirror m stick/b.tar.part-001
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	# the folder holding the parts is as good as its first part
	rm -rf m
	trusted_mirror "$S" m
	expect_out "imported channel stable sequence 1: 4 packages" \
		drydock mirror import --mirror m stick
	# and a compressed bundle splits too
	mkdir z
	make_bundle "$S" in z/b.tar.zst 2 bundle 2030-01-01 --split 64K
	expect_out "imported channel stable sequence 2" drydock mirror import --mirror m z/b.tar.zst.part-001
}

split_parts_refused_by_name() {
	big in
	mkdir stick other
	make_bundle "$S" in stick/b.tar 1 bundle 2030-01-01 --split 64K
	make_bundle "$S" in other/b.tar 2 bundle 2030-01-01 --split 64K
	trusted_mirror "$S" m
	# missing
	mv stick/b.tar.part-002 away
	refuse_part "stick/b.tar.part-002 is missing: the bundle has 3 parts" stick/b.tar.part-001
	# swapped
	mv stick/b.tar.part-003 stick/b.tar.part-002
	mv away stick/b.tar.part-003
	refuse_part "stick/b.tar.part-002 is part 3, not part 2: the parts were swapped" \
		stick/b.tar.part-001
	mv stick/b.tar.part-002 away
	mv stick/b.tar.part-003 stick/b.tar.part-002
	mv away stick/b.tar.part-003
	# foreign
	cp stick/b.tar.part-002 keep
	cp other/b.tar.part-002 stick/b.tar.part-002
	refuse_part "stick/b.tar.part-002 belongs to another bundle" stick/b.tar.part-001
	cp keep stick/b.tar.part-002
	# damaged, then truncated (a stick pulled while copying)
	cp stick/b.tar.part-003 keep
	printf 'X' | dd of=stick/b.tar.part-003 bs=1 seek=20000 conv=notrunc 2>/dev/null
	refuse_part "stick/b.tar.part-003 is damaged" stick/b.tar.part-001
	head -c 30000 keep >stick/b.tar.part-003
	refuse_part "stick/b.tar.part-003 is 30000 bytes, its header says [0-9]+: the copy is incomplete" \
		stick/b.tar.part-001
	# not the first part
	refuse_part "stick/b.tar.part-002 is part 2 of 3 of a split bundle; import the first" \
		stick/b.tar.part-002
	# the right part back: the same import now goes through
	cp keep stick/b.tar.part-003
	expect_out "imported channel stable sequence 1: 4 packages \(4 new\)" \
		drydock mirror import --mirror m stick/b.tar.part-001
	# two bundles' parts in one folder: which one is meant must be said
	for f in other/b.tar.part-*; do cp "$f" "stick/c${f#other/b}"; done
	expect_fail 1 "holds the parts of more than one bundle" drydock mirror import --mirror m stick
}

split_size_checked() {
	bundle_dir "$S" in
	expect_fail 2 "'4X' is not a size" drydock bundle create --channel stable --sequence 1 \
		--expires 2030-01-01 --sign bundle@example.invalid --gnupg-home "$S/gnupg" \
		--split 4X -o b.tar in
	expect_fail 1 "too small: a part must be at least 64K" drydock bundle create --channel \
		stable --sequence 1 --expires 2030-01-01 --sign bundle@example.invalid \
		--gnupg-home "$S/gnupg" --split 1000 -o b.tar in
	[ -z "$(ls | grep part)" ] || t_fail "parts left behind"
}

t_run split_bundle_imports
t_run split_parts_refused_by_name
t_run split_size_checked

delta_against_receipt() {
	bundle_dir "$S" in
	mirror_of "$S" in m
	expect_out "^r.json: receipt of m, signed: r.json.sig" \
		drydock mirror receipt --mirror m -o r.json --sign other@example.invalid \
		--gnupg-home "$S/gnupg"
	python3 - <<'PY'
import json
r = json.load(open("r.json"))
assert r["format"] == "drydock-receipt/1", r
assert [(c["channel"], c["sequence"]) for c in r["channels"]] == [("stable", 1)], r
assert r["entitlement"]["version"] == 1, r
assert sorted(p["name"] for p in r["packages"]) == ["base-files", "base-files-alt", "hello-drydock"], r
PY
	# the vendor's folder: everything the site has, and one new package
	mkdir -p in/packages
	printf 'pkgname = newcomer\npkgver = 1.0-r0\narch = noarch\nlicense = MIT\n' >new.PKGINFO
	mkdir -p new/etc && echo hi >new/etc/newcomer.conf
	drydock pkg build --info new.PKGINFO --sign "$S/apk.rsa" -o in/packages/newcomer-1.0-r0.apk \
		new >/dev/null
	expect_out "delta since r.json: 5 files the site holds left out" \
		drydock bundle create --channel stable --sequence 2 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --since r.json \
		--receipt-key "$S/other.asc" -o delta.tar in
	drydock bundle inspect --json delta.tar >inspect.json
	python3 -c '
import json
m = json.load(open("inspect.json"))
assert [x["path"] for x in m["members"]] == ["packages/newcomer-1.0-r0.apk"], m' ||
		t_fail "the delta carries more than the new package"
	expect_out "delta.tar: imported channel stable sequence 2: 1 package \(1 new\)" \
		drydock mirror import --mirror m delta.tar
	[ "$(drydock mirror list --mirror m | wc -l)" = 4 ] || t_fail "not 4 packages after the delta"
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	# a receipt signed by another key, or not signed, is refused with --receipt-key
	expect_fail 1 "receipt r.json is signed by [0-9A-F]{40}, not by the site key" \
		drydock bundle create --channel stable --sequence 3 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --since r.json \
		--receipt-key "$S/bundle.asc" -o d3.tar in
	rm r.json.sig
	expect_fail 1 "needs the receipt's signature: .*r.json.sig" \
		drydock bundle create --channel stable --sequence 3 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --since r.json \
		--receipt-key "$S/other.asc" -o d3.tar in
	# nothing new: no bundle
	drydock mirror receipt --mirror m -o r2.json >/dev/null
	expect_fail 1 "holds nothing the site does not have already" \
		drydock bundle create --channel stable --sequence 3 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --since r2.json -o d3.tar in
	[ ! -e d3.tar ] || t_fail "a bundle was written"
}

t_run delta_against_receipt

# --json: what bundle create and mirror receipt wrote, as one object each;
# a failure prints no document.
create_and_receipt_json() {
	big in
	drydock bundle create --json --channel stable --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --split 64K -o b.tar in >split.json
	python3 - split.json <<'PY'
import json, os, sys
j = json.load(open(sys.argv[1]))
n = j["parts"]
assert n >= 3 and j["files"] == ["b.tar.part-%03d" % i for i in range(1, n + 1)], j
assert all(os.path.isfile(f) for f in j["files"]), j
del j["parts"], j["files"]
assert j == {"bundle": "b.tar", "channel": "stable", "sequence": 1,
             "created": "2023-11-14T22:13:20Z", "expires": "2030-01-01T00:00:00Z",
             "split": True}, j
PY
	trusted_mirror "$S" m
	drydock mirror import --mirror m b.tar.part-001 >/dev/null
	drydock mirror receipt --json --mirror m -o r.json --sign other@example.invalid \
		--gnupg-home "$S/gnupg" >signed.json
	drydock mirror receipt --json --mirror m -o plain.json >plain.out
	python3 - <<'PY'
import json
j = json.load(open("signed.json"))
assert j == {"file": "r.json", "mirror": "m", "signed": True, "signature": "r.json.sig"}, j
j = json.load(open("plain.out"))
assert j == {"file": "plain.json", "mirror": "m", "signed": False, "signature": None}, j
assert json.load(open("r.json"))["format"] == "drydock-receipt/1"
PY
	[ -s r.json.sig ] && [ ! -e plain.json.sig ] || t_fail "receipt signatures"
	printf 'pkgname = newcomer\npkgver = 1.0-r0\narch = noarch\nlicense = MIT\n' >new.PKGINFO
	mkdir -p new/etc && echo hi >new/etc/newcomer.conf
	drydock pkg build --info new.PKGINFO --sign "$S/apk.rsa" -o in/packages/newcomer-1.0-r0.apk \
		new >/dev/null
	drydock bundle create --json --channel stable --sequence 2 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" --since r.json -o d.tar in >delta.json
	python3 - <<'PY'
import json
j = json.load(open("delta.json"))
assert j["split"] is False and j["parts"] == 1 and j["files"] == ["d.tar"], j
assert j["sequence"] == 2 and j["since"] == "r.json" and j["left_out"] == 6, j
PY
	for c in "bundle create --json --channel stable --sequence 3 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home $S/gnupg --since r.json \
		--receipt-key $S/bundle.asc -o d3.tar in" "mirror receipt --json --mirror nowhere -o x.json"; do
		rc=0
		# shellcheck disable=SC2086
		drydock $c >out 2>err || rc=$?
		[ "$rc" != 0 ] && [ ! -s out ] && [ -s err ] ||
			t_fail "a failed '$c': exit $rc, stdout '$(cat out)'"
	done
}

t_run create_and_receipt_json

wording_and_apk_fingerprints() {
	drydock mirror init m >/dev/null
	expect_out "trusted as an entitlement key: [0-9A-F]{40}" \
		drydock trust add --mirror m --role entitlement "$S/entitlement.asc"
	expect_out "trusted as a bundle key" drydock trust add --mirror m --role bundle "$S/bundle.asc"
	drydock trust add --mirror m --role apk "$S/apk.rsa.pub" >/dev/null
	fpr=SHA256:$(openssl pkey -pubin -in "$S/apk.rsa.pub" -outform DER | sha256sum | cut -d' ' -f1)
	expect_out "^apk +apk.rsa.pub $fpr$" drydock trust list --mirror m
	drydock trust list --mirror m --json | python3 -c "
import json, sys
k = [k for k in json.load(sys.stdin) if k['role'] == 'apk']
assert k[0]['fingerprint'] == '$fpr', k"
	mkdir -p one/packages
	build_fixture base-files "$S/apk.rsa" one/packages/base-files.apk >/dev/null
	make_bundle "$S" one one.tar 1
	expect_out "one.tar: imported channel stable sequence 1: 1 package \(1 new\)" \
		drydock mirror import --mirror m one.tar
}

t_run wording_and_apk_fingerprints

# The report of an upgrade: hello-drydock 1.2.3 -> 1.3.0, entitlement
# v1 -> v2 with a second image, base-files and the old hello no longer
# guarded; the dry run, bundle verify --mirror and the import agree.
change_report_of_an_upgrade() {
	bundle_dir "$S" in
	mirror_of "$S" in m
	mkdir -p up/packages
	build_fixture base-files "$S/apk.rsa" up/packages/base-files.apk >/dev/null
	f=$TOP/fixtures/packages/hello-drydock
	drydock pkg build --info "$f/PKGINFO" --set pkgver=1.3.0-r0 --sign "$S/apk.rsa" \
		-o up/packages/hello-drydock-1.3.0-r0.apk "$f/root" >/dev/null
	cat >up/entitlements.json <<'JSON'
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": 2,
 "issued": "2026-02-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z",
 "images": [{"name": "hello", "base": ["hello-drydock"],
             "packages": [{"name": "hello-drydock", "version": "1.3.0-r0"}]},
            {"name": "hello2", "base": ["hello-drydock"],
             "packages": [{"name": "hello-drydock", "version": "1.3.0-r0"}]}]}
JSON
	sign_entitlement "$S" up/entitlements.json
	make_bundle "$S" up up.tar 2 bundle 2030-06-01
	before=$(snapshot m)
	drydock mirror import --dry-run --mirror m up.tar >dry.out
	[ "$before" = "$(snapshot m)" ] || t_fail "the dry run changed the mirror"
	tail -n 1 m/audit.log | grep -q '"action":"import-dry-run".*"verdict":"would-import"' ||
		t_fail "dry run not audited"
	grep -q "^up.tar: would import channel stable sequence 2: 2 packages (0 new, 1 upgraded, 1 already held), .* (dry run: nothing written)$" dry.out ||
		{ cat dry.out; t_fail "summary"; }
	for line in "upgraded +hello-drydock 1.2.3-r0 → 1.3.0-r0 \(x86_64\)$" \
		"already held +base-files-1.0-r0 \(x86_64\), unguarded$" \
		"entitlement +version 1 → 2$" "image added +hello2$" \
		"now guarded +hello-drydock-1.3.0-r0$" "now unguarded +base-files-1.0-r0$" \
		"now unguarded +hello-drydock-1.2.3-r0$" "bundle expires +2030-06-01T00:00:00Z$"; do
		grep -Eq "^  $line" dry.out || { cat dry.out; t_fail "dry run lacks $line"; }
	done
	drydock bundle verify --mirror m up.tar >verify.out
	grep -q "^an import into m would change:" verify.out || t_fail "verify --mirror"
	drydock mirror import --dry-run --json --mirror m up.tar >dry.json
	python3 - <<'PY'
import json
r = json.load(open("dry.json"))[0]
assert r["verdict"] == "would-import", r
c = r["changes"]
up = [p for p in c["packages"] if p["change"] == "upgraded"]
assert up == [{"name": "hello-drydock", "version": "1.3.0-r0", "arch": "x86_64",
               "change": "upgraded", "guarded": True, "old_version": "1.2.3-r0"}], c
assert c["entitlement"] == {"before": 1, "after": 2}, c
assert c["images_added"] == ["hello2"] and c["images_removed"] == [], c
assert {"name": "base-files", "version": "1.0-r0"} in c["now_unguarded"], c
assert c["now_guarded"] == [{"name": "hello-drydock", "version": "1.3.0-r0"}], c
assert c["expires"] == "2030-06-01T00:00:00Z", c
PY
	drydock mirror import --mirror m up.tar >import.out
	grep -q "^up.tar: imported channel stable sequence 2: 2 packages (0 new, 1 upgraded, 1 already held)" \
		import.out || { cat import.out; t_fail "import summary"; }
	sed 1d dry.out >a
	sed 1d import.out >b
	cmp -s a b || { diff a b; t_fail "the import reports other changes than its dry run"; }
	sed 1,2d verify.out >c
	cmp -s a c || { diff a c; t_fail "bundle verify --mirror reports other changes"; }
	expect_out "^hello-drydock-1.2.3-r0 x86_64 unguarded$" drydock mirror list --mirror m
	# and the same bundle again: already imported, whichever way asked
	expect_out "already imported" drydock mirror import --dry-run --mirror m up.tar
	expect_out "valid, and already imported into m" drydock bundle verify --mirror m up.tar
}

t_run change_report_of_an_upgrade

# fsck names what a damaged or missing blob is and which bundle restores
# it; import --repair puts it back and changes nothing else.
repair_from_the_bundle() {
	bundle_dir "$S" in
	trusted_mirror "$S" m
	make_bundle "$S" in b1.tar 1
	drydock mirror import --mirror m b1.tar >/dev/null
	sha=$(drydock mirror show --mirror m --json hello-drydock | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
print(d["sha256"])')
	blob=m/blobs/sha256/$sha
	chmod u+w "$blob"
	printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	index_before=$(sha256sum m/index.db)
	expect_fail 1 "apk blob $sha is damaged: .*package hello-drydock-1.2.3-r0 \(x86_64\); bundles that carry it, any of which 'drydock mirror import --repair BUNDLE' restores it from: channel stable sequence 1" \
		drydock mirror fsck --deep --mirror m
	expect_out "already imported" drydock mirror import --mirror m b1.tar
	expect_out "^b1.tar: restored hello-drydock-1.2.3-r0$" drydock mirror import --repair --mirror m b1.tar
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	[ "$index_before" = "$(sha256sum m/index.db)" ] || t_fail "repair changed the index"
	tail -n 1 m/audit.log | grep -q '"action":"repair".*"verdict":"repaired","restored":\["hello-drydock-1.2.3-r0"\]' ||
		t_fail "repair not audited"
	# a missing blob too
	rm "$blob"
	expect_fail 1 "apk blob $sha is missing: package hello-drydock-1.2.3-r0" drydock mirror fsck --mirror m
	expect_out "^b1.tar: restored hello-drydock-1.2.3-r0$" drydock mirror import --repair --mirror m b1.tar
	expect_out "nothing to repair" drydock mirror import --repair --mirror m b1.tar
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	# a bundle the mirror never imported cannot repair it
	make_bundle "$S" in b2.tar 2
	expect_fail 1 "refused: this mirror never imported this bundle .*; import it instead" \
		drydock mirror import --repair --mirror m b2.tar
	# nor can a damaged bundle
	python3 "$TOP/tests/forge_bundle.py" flip-member b1.tar bad.tar
	expect_fail 1 "refused: member .* has sha256" drydock mirror import --repair --mirror m bad.tar
}

t_run repair_from_the_bundle
