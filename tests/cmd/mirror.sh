#!/bin/sh
# Trust, bundles, entitlements and import into a mirror: the happy path,
# and every refusal, each of which must leave the mirror as it was.
. "$(dirname "$0")/../lib.sh"
FORGE="python3 $TOP/tests/forge_bundle.py"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b1.tar" 1
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# m: a fresh mirror trusting the fixture keys
fresh() { trusted_mirror "$S" m; }

import_and_list() {
	fresh
	expect_out "b1.tar: imported channel stable sequence 1: 3 packages \(3 new\)" \
		drydock mirror import --mirror m "$T_TMP/b1.tar"
	drydock mirror list --mirror m >list
	grep -qx "hello-drydock-1.2.3-r0 x86_64 guarded" list || t_fail "hello not guarded"
	grep -qx "base-files-alt-2.0_rc1-r1 x86_64 unguarded" list || t_fail "alt should be unguarded"
	expect_out "^hello-drydock-1.2.3-r0 usr/bin/hello-drydock \(file\)$" \
		drydock mirror owner --mirror m /usr/bin/hello-drydock
	expect_out "^  signer +apk.rsa.pub$" drydock mirror show --mirror m hello-drydock=1.2.3-r0
	expect_out "^stable +1 " drydock mirror bundles --mirror m
	expect_out "version 1 \(current\): Example Site" drydock mirror entitlements --mirror m
	expect_out "imported +.*b1.tar channel stable" drydock mirror audit --mirror m
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	drydock mirror list --json --mirror m | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert [r["name"] for r in rows] == ["base-files", "base-files-alt", "hello-drydock"], rows
assert all(len(r["sha256"]) == 64 for r in rows)'
	# blobs are named by their sha256
	for b in m/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || t_fail "blob $b"
	done
	# importing again is a no-op
	before=$(snapshot m)
	expect_out "already imported \(channel stable, sequence 1\); nothing to do" \
		drydock mirror import --mirror m "$T_TMP/b1.tar"
	[ "$before" = "$(snapshot m)" ] || t_fail "re-import changed the mirror"
}

directory_and_zstd_bundles() {
	fresh
	make_bundle "$S" "$T_TMP/in" b.tar.zst 1
	zstd -t -q b.tar.zst || t_fail "not zstd"
	make_bundle "$S" "$T_TMP/in" dir/ 2
	[ -f dir/manifest.json ] && [ -f dir/packages/hello-drydock.apk ] || t_fail "dir layout"
	expect_out "imported channel stable sequence 1" drydock mirror import --mirror m b.tar.zst
	expect_out "imported channel stable sequence 2: 3 packages \(0 new, 3 already held\)" \
		drydock mirror import --mirror m dir
	expect_out "^  signer +apk.rsa.pub$" drydock mirror show --mirror m base-files
}

# NAME=VERSION names one version exactly: no wildcards, no folding of case.
show_matches_exactly() {
	fresh
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	expect_out "^base-files-alt-2.0_rc1-r1:$" drydock mirror show --mirror m base-files-alt=2.0_rc1-r1
	for v in base-files-alt=2.0Xrc1-r1 base-files-alt=2.0_rc1% hello-drydock=1.2.3-R0 \
		hello-drydock=%; do
		expect_fail 1 "$v is not in the mirror" drydock mirror show --mirror m "$v"
	done
	expect_fail 1 "HELLO-drydock is not in the mirror" drydock mirror show --mirror m HELLO-drydock
}

bundle_verify_anywhere() {
	expect_out "b1.tar: valid: channel stable sequence 1, 5 members, signed by" \
		drydock bundle verify --key "$S/bundle.asc" --entitlement-key "$S/entitlement.asc" \
		--apk-key "$S/apk.rsa.pub" "$T_TMP/b1.tar"
	expect_fail 1 "not a trusted bundle key" \
		drydock bundle verify --key "$S/other.asc" --apk-key "$S/apk.rsa.pub" "$T_TMP/b1.tar"
	expect_out "sequence  1" drydock bundle inspect "$T_TMP/b1.tar"
	expect_fail 3 "no keys given .* and no mirror to take them from: no mirror at $PWD/nowhere" \
		drydock bundle verify --mirror nowhere "$T_TMP/b1.tar"
	[ ! -e nowhere ] || t_fail "bundle verify made a mirror"
	pgrep -f "drydock-verify" >/dev/null && t_fail "gpg-agent left running"
	true
}

trust_list_remove() {
	fresh
	drydock trust list --mirror m --json >keys.json
	python3 - keys.json <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
assert sorted(x["role"] for x in k) == ["apk", "bundle", "entitlement"], k
PY
	fpr=$(drydock trust list --mirror m | awk '$1 == "bundle" {print $2}')
	expect_out "no longer trusted" drydock trust remove --mirror m --role bundle "$fpr"
	expect_fail 1 "no bundle key" drydock trust remove --mirror m --role bundle "$fpr"
	expect_fail 1 "not a trusted bundle key" drydock mirror import --mirror m "$T_TMP/b1.tar"
	expect_fail 2 "--role 'admin': expected one of bundle\|entitlement\|apk\|provenance" drydock trust add --mirror m --role admin "$S/bundle.asc"
	expect_fail 1 "bundle.asc.*not a PEM public key" \
		drydock trust add --mirror m --role apk "$S/bundle.asc"
	# no agent runs for the mirror's own GnuPG home
	! pgrep -f "homedir $PWD/m/gnupg" >/dev/null || t_fail "gpg-agent left running"
}

# --json: one record per operand, in order; a failed one names its key file
# or id and carries the error, which still goes to standard error too.
trust_add_remove_json() {
	drydock mirror init m >/dev/null
	echo "not a key" >x.asc
	fpr=$(gpg --homedir "$S/gnupg" --with-colons --fingerprint bundle@example.invalid |
		awk -F: '/^fpr/ { print $10; exit }')
	rc=0
	drydock trust add --json --mirror m --role bundle "$S/bundle.asc" x.asc >add.json 2>add.err ||
		rc=$?
	[ "$rc" = 1 ] || t_fail "trust add --json with a bad key exited $rc, not 1"
	grep -q "x.asc" add.err || t_fail "the failure is not on standard error: $(cat add.err)"
	drydock trust add --json --mirror m --role apk "$S/apk.rsa.pub" >apk.json
	rc=0
	drydock trust remove --json --mirror m --role bundle "$fpr" "$fpr" >rm.json 2>rm.err || rc=$?
	[ "$rc" = 1 ] || t_fail "trust remove --json of a key no longer trusted exited $rc, not 1"
	python3 - "$S/bundle.asc" "$S/apk.rsa.pub" "$fpr" <<'PY'
import json, sys
asc, pub, fpr = sys.argv[1:]
ok, bad = json.load(open("add.json"))
assert ok == {"file": asc, "role": "bundle", "id": fpr,
              "label": "bundle signer <bundle@example.invalid>"}, ok
assert sorted(bad) == ["error", "file", "role"] and bad["file"] == "x.asc", bad
assert "x.asc" in bad["error"], bad
j = json.load(open("apk.json"))
assert j == [{"file": pub, "role": "apk", "id": "apk.rsa.pub", "label": ""}], j
gone, again = json.load(open("rm.json"))
assert gone == {"id": fpr, "role": "bundle"}, gone
assert sorted(again) == ["error", "id", "role"] and again["id"] == fpr, again
assert "no bundle key" in again["error"], again
PY
	[ "$(drydock trust list --mirror m | awk '{ print $1 }')" = apk ] ||
		t_fail "trust list after --json add and remove: $(drydock trust list --mirror m)"
}

# refuse PATTERN BUNDLE [OPTIONS]: the import fails naming the problem,
# leaves the mirror as it was, and the audit log records the refusal.
# refuse PATTERN BUNDLE [OPTIONS]: the import refuses BUNDLE saying PATTERN,
# leaving the mirror as it was; a dry run and 'bundle verify --mirror'
# refuse it first with the very same words, writing nothing but the dry
# run's audit line.
refuse() {
	want=$1 b=$2
	shift 2
	before=$(snapshot m)
	lines=$(wc -l <m/audit.log 2>/dev/null || echo 0)
	expect_fail 1 "refused: .*$want" drydock mirror import --mirror m --dry-run "$@" "$b"
	cp "$T_TMP/.o" dry.out
	tail -n 1 m/audit.log | grep -q '"action":"import-dry-run".*"verdict":"refused"' ||
		t_fail "dry run not audited"
	[ "$(wc -l <m/audit.log)" = $((lines + 1)) ] || t_fail "dry run wrote more than one line"
	expect_fail 1 "refused: .*$want" drydock bundle verify --mirror m "$@" "$b"
	cp "$T_TMP/.o" verify.out
	[ "$before" = "$(snapshot m)" ] || t_fail "a dry run or bundle verify changed the mirror"
	expect_fail 1 "refused: .*$want" drydock mirror import --mirror m "$@" "$b"
	cmp -s dry.out "$T_TMP/.o" || { cat dry.out "$T_TMP/.o"; t_fail "dry run and import differ"; }
	cmp -s verify.out "$T_TMP/.o" || { cat verify.out "$T_TMP/.o"; t_fail "verify and import differ"; }
	[ "$before" = "$(snapshot m)" ] || t_fail "refusal changed the mirror"
	tail -n 1 m/audit.log | grep -q '"verdict":"refused"' || t_fail "refusal not audited"
	[ -z "$(ls m/tmp)" ] || t_fail "staging files left"
}

refuse_untrusted_key() {
	fresh
	make_bundle "$S" "$T_TMP/in" b.tar 1 other
	refuse "signed by key [0-9A-F]{40}, which is not a trusted bundle key" b.tar
}

refuse_wrong_role() {
	fresh
	make_bundle "$S" "$T_TMP/in" b.tar 1 entitlement
	refuse "trusted for entitlements only, not for bundles" b.tar
}

refuse_damage() {
	fresh
	$FORGE flip-member "$T_TMP/b1.tar" a.tar
	refuse "member 'entitlements.json' has sha256|member '.*' has sha256 .* the manifest says" a.tar
	$FORGE flip-manifest "$T_TMP/b1.tar" b.tar
	refuse "the bundle manifest: .*(bad|BAD) signature" b.tar
	$FORGE flip-sig "$T_TMP/b1.tar" c.tar
	refuse "the bundle manifest" c.tar
	$FORGE extra "$T_TMP/b1.tar" d.tar
	refuse "member 'packages/extra.apk' is not listed in the manifest" d.tar
	$FORGE missing "$T_TMP/b1.tar" e.tar
	refuse "is listed in the manifest but missing from the bundle" e.tar
	$FORGE dotdot "$T_TMP/b1.tar" f.tar
	refuse "member '../evil.apk': absolute path or '..'" f.tar
	$FORGE symlink "$T_TMP/b1.tar" g.tar
	refuse "member 'packages/link.apk' is not listed|is a link" g.tar
	$FORGE oversize "$T_TMP/b1.tar" h.tar
	refuse "bytes, the manifest says" h.tar
	$FORGE reorder "$T_TMP/b1.tar" i.tar
	refuse "does not start with manifest.json" i.tar
	size=$(stat -c %s "$T_TMP/b1.tar")
	for cut in 600 2000 $((size / 2)) $((size - 2000)); do
		head -c "$cut" "$T_TMP/b1.tar" >t.tar
		refuse "truncated|ends after|missing from the bundle|Truncated|does not start" t.tar
	done
}

sequence_order_whatever_the_argument_order() {
	fresh
	make_bundle "$S" "$T_TMP/in" bundle-9.tar 9
	make_bundle "$S" "$T_TMP/in" bundle-10.tar 10
	drydock mirror import --mirror m bundle-*.tar >out
	grep "^bundle-" out | sed -n 1p | grep -q "^bundle-9.tar: imported channel stable sequence 9" || { cat out; t_fail "order"; }
	grep "^bundle-" out | sed -n 2p | grep -q "^bundle-10.tar: imported channel stable sequence 10" || t_fail "second"
}

refuse_rollback_and_equivocation() {
	fresh
	make_bundle "$S" "$T_TMP/in" b2.tar 2
	make_bundle "$S" "$T_TMP/in" b2x.tar 2 bundle 2031-01-01
	drydock mirror import --mirror m b2.tar >/dev/null
	refuse "rollback: channel 'stable' is at sequence 2 and this bundle has 1" "$T_TMP/b1.tar"
	refuse "equivocation: channel 'stable' sequence 2 was already imported with a different manifest" b2x.tar
}

refuse_expired() {
	fresh
	make_bundle "$S" "$T_TMP/in" b.tar 1 bundle 2027-01-01
	DRYDOCK_NOW=2028-01-01T00:00:00Z
	export DRYDOCK_NOW
	refuse "the bundle expired on 2027-01-01T00:00:00Z; .*--allow-expired" b.tar
	expect_out "EXPIRED, allowed by --allow-expired" \
		drydock mirror import --mirror m --allow-expired b.tar
	tail -n 1 m/audit.log | grep -q '"allowed_expired":true' || t_fail "not audited"
}

refuse_entitlements() {
	fresh
	mkdir in2 && cp -r "$T_TMP/in/packages" in2/
	entitlement_json 2 2030-01-01T00:00:00Z >in2/entitlements.json
	sign_entitlement "$S" in2/entitlements.json
	make_bundle "$S" in2 v2.tar 5
	drydock mirror import --mirror m v2.tar >/dev/null
	# an older version, in a newer bundle
	make_bundle "$S" "$T_TMP/in" v1.tar 6
	refuse "entitlement manifest has version 1, but the mirror already has version 2" v1.tar
	# the same version with other content
	entitlement_json 2 2031-01-01T00:00:00Z >in2/entitlements.json
	sign_entitlement "$S" in2/entitlements.json
	make_bundle "$S" in2 v2x.tar 7
	refuse "version 2, but the mirror already has version 2 with different content" v2x.tar
	# expired
	entitlement_json 3 2027-01-01T00:00:00Z >in2/entitlements.json
	sign_entitlement "$S" in2/entitlements.json
	make_bundle "$S" in2 v3.tar 8
	DRYDOCK_NOW=2027-06-01T00:00:00Z refuse "entitlement manifest \(version 3\) expired on 2027-01-01" v3.tar
	# signed by the bundle key instead of the entitlement key
	entitlement_json 4 2030-01-01T00:00:00Z >in2/entitlements.json
	rm -f in2/entitlements.json.sig
	gpg --homedir "$S/gnupg" --batch --detach-sign -u bundle@example.invalid \
		-o in2/entitlements.json.sig in2/entitlements.json
	make_bundle "$S" in2 v4.tar 9
	refuse "entitlement manifest is signed by key .* trusted for bundles only" v4.tar
}

unsigned_packages() {
	fresh
	mkdir in3 && cp "$T_TMP/in/packages/base-files.apk" in3/
	src=$TOP/fixtures/packages/hello-drydock
	drydock pkg build --info "$src/PKGINFO" -o in3/hello-drydock.apk "$src/root" >/dev/null
	expect_fail 1 "in3/hello-drydock.apk is unsigned: .*--mark-unsigned" \
		drydock bundle create --channel c --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" -o x.tar in3
	make_bundle "$S" in3 u.tar 1 bundle 2030-01-01 --mark-unsigned
	refuse "package 'hello-drydock.apk' is unsigned; .*--allow-unsigned-packages" u.tar
	expect_out "imported" drydock mirror import --mirror m --allow-unsigned-packages u.tar
	expect_out "^hello-drydock-1.2.3-r0 x86_64 unguarded \(unsigned\)$" drydock mirror list --mirror m
	# a signed package from an unknown key is refused even so
	make_key stranger
	drydock pkg build --info "$src/PKGINFO" --set pkgver=9-r0 --sign stranger.rsa \
		-o in3/hello-drydock.apk "$src/root" >/dev/null
	make_bundle "$S" in3 s.tar 2
	refuse "signed by an unknown key stranger.rsa.pub" s.tar --allow-unsigned-packages
}

progress_and_json() {
	fresh
	# on a terminal: progress on stderr; not on one: none
	script -qec "$DRYDOCK mirror import --mirror m $T_TMP/b1.tar" /dev/null >tty.out
	# members and kB read (MB from 10 MB on), the rate, the time in all
	grep -Eq "5/5 members: [0-9.]+/[0-9.]+ kB, [0-9.]+ kB/s, [0-9hms]+ in all" tty.out ||
		{ cat -v tty.out; t_fail "no progress"; }
	drydock mirror import --mirror m "$T_TMP/b1.tar" >plain.out 2>&1
	! grep -q "members:" plain.out || t_fail "progress when not on a terminal"
	rm -rf m && fresh
	drydock mirror import --json --mirror m "$T_TMP/b1.tar" >r.json
	python3 - r.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["verdict"] == "imported" and r["channel"] == "stable" and r["sequence"] == 1, r
assert r["packages"] == 3 and r["new_packages"] == 3 and len(r["digest"]) == 64, r
assert len(r["signer"]) == 40
PY
	set +e
	drydock mirror import --json --mirror m "$T_TMP/nope.tar" >bad.json 2>/dev/null
	set -e
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; assert r["verdict"]=="refused" and "nope.tar" in r["reason"], r' bad.json
}

# The free-space check, on a small tmpfs (needs mount permission).
not_enough_space() {
	mkdir small
	mount -t tmpfs -o size=3m tmpfs small 2>/dev/null || t_skip "cannot mount a tmpfs here"
	trap 'umount "$PWD/small" 2>/dev/null || true' EXIT
	trusted_mirror "$S" small/m
	mkdir -p big/packages big/root
	head -c 4000000 /dev/urandom >big/root/blob
	drydock pkg build --set pkgname=big --set pkgver=1-r0 --set arch=x86_64 \
		--sign "$S/apk.rsa" -o big/packages/big.apk big/root >/dev/null
	rm -r big/root
	make_bundle "$S" big big.tar 1
	before=$(snapshot small/m)
	for dry in --dry-run ""; do
		# shellcheck disable=SC2086
		expect_fail 1 "refused: not enough space in small/m: the bundle needs [0-9]+ MB, [0-9]+ MB are free; free some space" \
			drydock mirror import --mirror small/m $dry big.tar
	done
	[ "$before" = "$(snapshot small/m)" ] || t_fail "mirror changed"
	umount small
}

busy_mirror() {
	fresh
	hold_lock m/lock 30 # as another writer would
	expect_fail 1 "mirror m is busy: another drydock \(pid $holder\)" \
		drydock mirror import --mirror m "$T_TMP/b1.tar"
	kill $holder
}

# A good bundle's signatures (manifest and entitlement manifest) are
# checked by gpgv alone: no gpg, no gpgconf, no engine probes.
import_starts_gpgv_only() {
	command -v strace >/dev/null || t_skip "strace is not installed"
	fresh
	# LeakSanitizer cannot run under ptrace: off for this one process
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=execve -e signal=none -o trace \
		"$DRYDOCK" mirror import --mirror m "$T_TMP/b1.tar" >out 2>&1 || { cat out; t_fail "import"; }
	grep -q "imported channel stable sequence 1" out || t_fail "not imported"
	started=$(grep 'execve(' trace | grep -v ' = -1 ' | sed 1d | sed 's/.*execve("\([^"]*\)".*/\1/' |
		sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }')
	case $started in
	"/usr/bin/gpgv x"[12] | *"/gpgv x"[12]) ;;
	*) t_fail "the import started: $started" ;;
	esac
}

t_run import_and_list
t_run import_starts_gpgv_only
t_run directory_and_zstd_bundles
t_run show_matches_exactly
t_run bundle_verify_anywhere
t_run trust_list_remove
t_run trust_add_remove_json
t_run refuse_untrusted_key
t_run refuse_wrong_role
t_run refuse_damage
t_run sequence_order_whatever_the_argument_order
t_run refuse_rollback_and_equivocation
t_run refuse_expired
t_run refuse_entitlements
t_run unsigned_packages
t_run progress_and_json
t_run not_enough_space
t_run busy_mirror
