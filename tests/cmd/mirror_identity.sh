#!/bin/sh
# A mirror has an identity (MIRROR/mirror-id, and in the index) and counts
# its index's commits (MIRROR/index-commits): a lost, emptied, foreign or
# outdated index is refused by every command with the way out, and
# 'mirror fsck --rebuild-index' rebuilds it from the blobs and the audit log.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b1.tar" 1
make_bundle "$S" "$T_TMP/in" "$T_TMP/b2.tar" 2
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml
WAY='restore index.db .* or rebuild it from the blobs and the audit log with .drydock mirror fsck --rebuild-index'

two_imports() {
	trusted_mirror "$S" m
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	drydock mirror import --mirror m "$T_TMP/b2.tar" >/dev/null
}

# every command refuses the mirror m with PATTERN and the way out
all_refuse() {
	for cmd in "mirror list" "mirror bundles" "mirror fsck" "trust list" "mirror gc"; do
		# shellcheck disable=SC2086
		expect_fail 1 "$1.*$WAY" drydock $cmd --mirror m
	done
	expect_fail 1 "$1" drydock plan --mirror m "$HELLO"
	expect_fail 1 "$1" drydock mirror import --mirror m "$T_TMP/b1.tar"
	expect_fail 1 "$1" drydock build --mirror m -o out "$HELLO"
}

# after --rebuild-index, the mirror is what it was
rebuilt() {
	expect_out "restored from the audit log and the blobs: 3 trusted key\(s\), $1 bundle\(s\)" \
		drydock mirror fsck --rebuild-index --mirror m
	ls m/index.db.lost-* >/dev/null || t_fail "the old index was not kept aside"
	drydock mirror list --mirror m >list.after
	cmp list.before list.after || t_fail "packages differ after the rebuild"
	expect_out "^stable +$1 " drydock mirror bundles --mirror m
	expect_out "version 1 \(current\)" drydock mirror entitlements --mirror m
	[ "$(drydock trust list --mirror m | wc -l)" -eq 3 ] || t_fail "trusted keys"
	expect_out "clean$" drydock mirror fsck --deep --mirror m
	expect_out "built drydock.local/hello:latest" drydock build --mirror m -o out "$HELLO"
	expect_out "already imported" drydock mirror import --mirror m "$T_TMP/b$1.tar"
}

identity_recorded() {
	trusted_mirror "$S" m
	grep -Eqx '[0-9a-f]{32}' m/mirror-id || t_fail "no identity"
	id=$(cat m/mirror-id)
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	[ "$(cat m/mirror-id)" = "$id" ] || t_fail "the identity changed"
	[ "$(cat m/index-commits)" -ge 4 ] || t_fail "commits not counted: $(cat m/index-commits)"
}

# a mirror from before identities is used as it is and gets one on its
# next write
old_mirror_gets_identity() {
	two_imports
	rm m/mirror-id m/index-commits
	sqlite3 m/index.db "DELETE FROM meta WHERE key IN ('mirror-id', 'commits')"
	expect_out "hello-drydock" drydock mirror list --mirror m
	expect_out "clean$" drydock mirror fsck --mirror m
	[ ! -e m/mirror-id ] || t_fail "a reader wrote the identity"
	expect_out "already imported" drydock mirror import --mirror m "$T_TMP/b2.tar"
	grep -Eqx '[0-9a-f]{32}' m/mirror-id || t_fail "no identity after a write"
	expect_out "clean$" drydock mirror fsck --mirror m
}

# killed after its commit, then index.db-wal deleted: the commit is lost
wal_deleted() {
	two_imports
	drydock mirror list --mirror m >list.before
	rm -rf m && trusted_mirror "$S" m
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	set +e
	DRYDOCK_CRASH_AT=after-commit "$DRYDOCK" mirror import --mirror m "$T_TMP/b2.tar" >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 137 ] || t_fail "expected death by SIGKILL, got $rc"
	[ -s m/index.db-wal ] || t_fail "no WAL left"
	rm m/index.db-wal m/index.db-shm
	all_refuse "its index has lost commits"
	rebuilt 2
}

zero_length_index() {
	two_imports
	drydock mirror list --mirror m >list.before
	: >m/index.db
	all_refuse "its index m/index.db is empty"
	[ ! -s m/index.db ] || t_fail "a command wrote the emptied index"
	rebuilt 2
}

index_deleted() {
	two_imports
	drydock mirror list --mirror m >list.before
	rm m/index.db
	all_refuse "its index m/index.db is missing"
	rebuilt 2
}

another_mirrors_index() {
	two_imports
	trusted_mirror "$S" other
	cp other/index.db m/index.db
	all_refuse "its index belongs to another mirror"
}

# a blob no index row names and no interrupted import explains
unexplained_blob() {
	two_imports
	echo stray >x
	h=$(sha256sum x | cut -d' ' -f1)
	cp x "m/blobs/sha256/$h"
	expect_fail 1 "PROBLEM: blob $h is named by no index row, and no interrupted import explains it" \
		drydock mirror fsck --mirror m
}

# what the rebuild cannot restore, it names
rebuild_with_a_blob_gone() {
	two_imports
	: >m/index.db
	d2=$(grep '"verdict":"imported"' m/audit.log | tail -1 |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
	rm "m/blobs/sha256/$d2"
	expect_fail 1 "LOST: .*b2.tar \($d2\): its manifest \(blob $d2\) is gone" \
		drydock mirror fsck --rebuild-index --mirror m
	expect_out "^stable +1 " drydock mirror bundles --mirror m
}

t_run identity_recorded
t_run old_mirror_gets_identity
t_run wal_deleted
t_run zero_length_index
t_run index_deleted
t_run another_mirrors_index
t_run unexplained_blob
t_run rebuild_with_a_blob_gone
