#!/bin/sh
# kill -9 during an import, at each point where it could hurt; the real
# apko test repository through a bundle.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b1.tar" 1
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# crash_at POINT: the import dies by SIGKILL at POINT; fsck is clean; the
# same import run again completes; fsck --deep is clean.
crash_at() {
	trusted_mirror "$S" m
	set +e
	DRYDOCK_CRASH_AT=$1 "$DRYDOCK" mirror import --mirror m "$T_TMP/b1.tar" >out 2>&1
	rc=$?
	set -e
	[ $rc -eq 137 ] || { cat out; t_fail "expected death by SIGKILL at $1, got $rc"; }
	drydock mirror fsck --mirror m >fsck.txt || { cat fsck.txt; t_fail "fsck not clean after $1"; }
	grep -q "clean$" fsck.txt || t_fail "fsck verdict"
	drydock mirror import --mirror m "$T_TMP/b1.tar" >again
	grep -Eq "imported channel stable sequence 1|already imported" again || t_fail "re-run"
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	[ "$(drydock mirror list --mirror m | wc -l)" -eq 3 ] || t_fail "packages after re-run"
	[ -z "$(ls m/tmp)" ] || t_fail "staging files left after the re-run"
}

killed_mid_stream() { crash_at mid-stream; }
killed_after_first_blob() { crash_at after-first-blob; }
killed_before_commit() { crash_at before-commit; }
killed_after_commit() { crash_at after-commit; }

# leftovers of a killed import are reported, then cleaned by gc
gc_after_crash() {
	trusted_mirror "$S" m
	set +e
	DRYDOCK_CRASH_AT=before-commit "$DRYDOCK" mirror import --mirror m "$T_TMP/b1.tar" >/dev/null 2>&1
	set -e
	expect_out "note: blob [0-9a-f]{64} is not referenced" drydock mirror fsck --mirror m
	expect_out "removed [1-9][0-9]* unreferenced blobs" drydock mirror gc --mirror m
	drydock mirror fsck --mirror m >f.txt
	! grep -q "note:" f.txt || t_fail "leftovers after gc"
	[ -z "$(ls m/blobs/sha256)" ] || t_fail "blobs left"
}

# a damaged blob is found by --deep and replaced by a re-import
fsck_finds_damage() {
	trusted_mirror "$S" m
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	b=$(ls m/blobs/sha256 | head -1)
	chmod u+w "m/blobs/sha256/$b"
	printf 'X' | dd of="m/blobs/sha256/$b" bs=1 seek=10 conv=notrunc 2>/dev/null
	expect_out "clean$" drydock mirror fsck --mirror m
	expect_fail 1 "blob $b is damaged" drydock mirror fsck --deep --mirror m
	rm "m/blobs/sha256/$b"
	expect_fail 1 "blob $b is missing" drydock mirror fsck --mirror m
}

apko_test_repository() {
	need_corpus
	R=$CORPUS/apk/apko-testrepo
	mkdir -p repo
	cp -r "$R/x86_64" "$R/aarch64" repo/
	make_bundle "$S" repo apko.tar 1
	trusted_mirror "$S" m
	expect_fail 1 "is signed by an unknown key melange.rsa.pub; trust its key" \
		drydock mirror import --mirror m apko.tar
	drydock trust add --mirror m --role apk "$R/melange.rsa.pub" >/dev/null
	expect_out "imported channel stable sequence 1: 8 packages \(8 new\)" \
		drydock mirror import --mirror m apko.tar
	drydock mirror list --mirror m >list
	for p in custom-ca-certs-1 custom-ca-certs-2 pretend-baselayout replayout; do
		[ "$(grep -c "^$p-1.0.0-r0 " list)" -eq 2 ] || t_fail "$p not there for both archs"
	done
	expect_out "replayout-1.0.0-r0 etc/os-release" drydock mirror owner --mirror m /etc/os-release
	expect_out "pretend-baselayout-1.0.0-r0 etc/os-release" drydock mirror owner --mirror m etc/os-release
	expect_out "replaces +pretend-baselayout" drydock mirror show --mirror m replayout
	expect_out "clean$" drydock mirror fsck --deep --mirror m
}

t_run killed_mid_stream
t_run killed_after_first_blob
t_run killed_before_commit
t_run killed_after_commit
t_run gc_after_crash
t_run fsck_finds_damage
t_run apko_test_repository
