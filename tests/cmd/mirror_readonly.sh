#!/bin/sh
# A read-only mirror (another user's copy, a read-only mount) serves every
# command that only reads: the queries, fsck, plan, build (without keeping
# its crust layer) and verify --mirror; nothing in the mirror changes.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
M0=$T_TMP/mirror
mirror_of "$S" "$T_TMP/in" "$M0"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b2.tar" 2
openssl genpkey -algorithm ed25519 -out "$T_TMP/prov.pem" 2>/dev/null
openssl pkey -in "$T_TMP/prov.pem" -pubout -out "$T_TMP/prov.pub.pem"
chmod 644 "$T_TMP/prov.pem"
drydock trust add --mirror "$M0" --role provenance "$T_TMP/prov.pub.pem" >/dev/null
trap 'kill_agents "$S"; chmod -R u+w "$T_TMP" 2>/dev/null; rm -rf "$T_TMP"' EXIT
chmod 755 "$T_TMP"
HELLO=$TOP/fixtures/jobs/hello.yaml

# as_nobody CMD...: CMD with the uid and gid of nobody and no groups.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

need_nobody() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root to run commands as the user nobody"
	as_nobody true 2>/dev/null || t_skip "setpriv cannot switch to the user nobody here"
}

# need_ro_mount: a private mount namespace where a read-only bind mount works.
need_ro_mount() {
	mkdir -p probe
	unshare -m sh -c 'mount --bind probe probe && mount -o remount,ro,bind probe' \
		2>/dev/null || t_skip "cannot make a read-only bind mount (unshare -m, mount)"
}

# on_ro_mount DIR CMD...: CMD in a mount namespace where DIR is a read-only
# bind mount of itself.
on_ro_mount() {
	d=$1
	shift
	unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift &&
		exec "$@"' sh "$d" "$@"
}

# the copy of the mirror every reader gets: readable by all, writable by none
copy_mirror() {
	cp -a "$M0" "$1"
	chmod -R a+rX,a-w "$1"
}

# readers M OUT: every command that only reads, on the mirror M, through
# the drydock function (which the caller sets to run as nobody, or on a
# read-only mount); the build goes to OUT and says it skipped the cache.
readers() {
	expect_out "^hello-drydock-1.2.3-r0 x86_64 guarded" drydock mirror list --mirror "$1"
	expect_out "signer" drydock mirror show --mirror "$1" hello-drydock
	expect_out "hello-drydock-1.2.3-r0" drydock mirror owner --mirror "$1" /usr/bin/hello-drydock
	expect_out "^stable +1 " drydock mirror bundles --mirror "$1"
	expect_out "version 1 \(current\)" drydock mirror entitlements --mirror "$1"
	expect_out "imported +.*mirror_of.tar" drydock mirror audit --mirror "$1"
	expect_out "[0-9]+ blobs, .* re-hashed; clean$" drydock mirror fsck --deep --mirror "$1"
	expect_out "provenance" drydock trust list --mirror "$1"
	expect_out "hello-drydock-1.2.3-r0" drydock plan --mirror "$1" "$HELLO"
	expect_out "built drydock.local/hello:latest" \
		drydock build --mirror "$1" -o "$2" --sign "$T_TMP/prov.pem" "$HELLO"
	grep -q "note: the mirror .* is read-only for this build" "$2"/hello/latest/build.log ||
		t_fail "the build log does not say the layer cache was skipped"
	! grep -q "warning" "$2"/hello/latest/build.log || t_fail "the build warned"
	expect_out "^verified: .*all 12 checks passed" drydock verify --mirror "$1" "$2/hello/latest"
}

# unchanged M: nothing in M changed since "snapshot M >before; ls -A M >names".
unchanged() {
	snapshot "$1" >after
	cmp -s before after || { diff before after >&2; t_fail "files of the mirror changed"; }
	ls -A "$1" >names.after
	cmp -s names names.after || { diff names names.after >&2; t_fail "files appeared in the mirror"; }
}

# another user's copy: nobody may read it but not write it
unprivileged_user() {
	need_nobody
	copy_mirror m
	snapshot m >before && ls -A m >names
	as_nobody touch m/x 2>/dev/null && t_fail "nobody can write the mirror: the test proves nothing"
	mkdir out && chown nobody out
	drydock() { as_nobody "$DRYDOCK" "$@"; }
	readers m out
	unchanged m
	# writing is refused, naming the mirror
	expect_fail 1 "m/blobs/sha256|m/lock|m/tmp|Permission denied" \
		drydock mirror import --mirror m "$T_TMP/b2.tar"
}

# a read-only bind mount, read by root
read_only_mount() {
	need_ro_mount
	copy_mirror m
	chmod -R u+w m
	snapshot m >before && ls -A m >names
	on_ro_mount m touch m/x 2>/dev/null && t_fail "the mount is writable: the test proves nothing"
	drydock() { on_ro_mount "$PWD/m" "$DRYDOCK" "$@"; }
	readers m out
	unchanged m
	expect_fail 1 "Read-only file system" drydock mirror import --mirror m "$T_TMP/b2.tar"
}

# killed after its commit, an import leaves the commit in index.db-wal;
# a reader that cannot write still sees it, with and without index.db-shm
wal_left_by_a_killed_import() {
	need_nobody
	cp -a "$M0" m
	set +e
	DRYDOCK_CRASH_AT=after-commit "$DRYDOCK" mirror import --mirror m "$T_TMP/b2.tar" >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 137 ] || t_fail "expected death by SIGKILL, got $rc"
	[ -s m/index.db-wal ] && [ -e m/index.db-shm ] || t_fail "no WAL left by the killed import"
	chmod -R a+rX,a-w m
	snapshot m >before && ls -A m >names
	drydock() { as_nobody "$DRYDOCK" "$@"; }
	expect_out "^stable +2 " drydock mirror bundles --mirror m
	chmod u+w m && rm m/index.db-shm && chmod a-w m
	snapshot m >before && ls -A m >names
	expect_out "^stable +2 " drydock mirror bundles --mirror m
	expect_out "clean$" drydock mirror fsck --mirror m
	unchanged m
	need_ro_mount
	drydock() { on_ro_mount "$PWD/m" "$DRYDOCK" "$@"; }
	expect_out "^stable +2 " drydock mirror bundles --mirror m
	unchanged m
}

t_run unprivileged_user
t_run read_only_mount
t_run wal_left_by_a_killed_import
