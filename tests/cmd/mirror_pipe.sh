#!/bin/sh
# mirror import reads each bundle once, front to back: a tar or tar.zst
# bundle may come from a FIFO or from standard input ("-").
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b1.tar" 1
make_bundle "$S" "$T_TMP/in" "$T_TMP/b2.tar.zst" 2
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# import_fifo BUNDLE: the bundle written into a FIFO by another process;
# the import must finish (a second open of the FIFO would wait forever).
import_fifo() {
	trusted_mirror "$S" m
	mkfifo pipe
	cat "$1" >pipe &
	set +e
	timeout 30 "$DRYDOCK" mirror import --mirror m pipe >out 2>&1
	rc=$?
	kill $! 2>/dev/null
	set -e
	[ $rc -ne 124 ] || t_fail "the import from a FIFO hung"
	[ $rc -eq 0 ] || { cat out; t_fail "the import from a FIFO failed ($rc)"; }
	grep -q "^pipe: imported channel stable sequence $2: 3 packages" out || { cat out; t_fail "import"; }
	expect_out "clean$" drydock mirror fsck --deep --mirror m
}

fifo_tar() { import_fifo "$T_TMP/b1.tar" 1; }
fifo_zstd() { import_fifo "$T_TMP/b2.tar.zst" 2; }

stdin_tar() {
	trusted_mirror "$S" m
	expect_out "^-: imported channel stable sequence 1: 3 packages" \
		drydock mirror import --mirror m - <"$T_TMP/b1.tar"
	expect_out "^-: already imported" drydock mirror import --mirror m - <"$T_TMP/b1.tar"
	expect_out "clean$" drydock mirror fsck --deep --mirror m
}

stdin_zstd() {
	trusted_mirror "$S" m
	expect_out "^-: imported channel stable sequence 2: 3 packages" \
		drydock mirror import --mirror m - <"$T_TMP/b2.tar.zst"
}

# two FIFOs given newest first: both are opened, their manifests read,
# and imported in sequence order, each read once
fifos_in_sequence_order() {
	trusted_mirror "$S" m
	mkfifo p1 p2
	cat "$T_TMP/b1.tar" >p1 &
	cat "$T_TMP/b2.tar.zst" >p2 &
	timeout 30 "$DRYDOCK" mirror import --mirror m p2 p1 >out 2>&1 ||
		{ cat out; kill %1 %2 2>/dev/null; t_fail "import"; }
	[ "$(grep -E '^p[12]: ' out | cut -d: -f1 | tr '\n' ' ')" = "p1 p2 " ] ||
		{ cat out; t_fail "not imported in sequence order"; }
	expect_out "^stable +2 " drydock mirror bundles --mirror m
}

# standard input that is not a bundle: refused, named, and audited
stdin_not_a_bundle() {
	trusted_mirror "$S" m
	expect_fail 1 "^drydock: -: refused: standard input: not a tar or tar.zst bundle" \
		drydock mirror import --mirror m - </dev/null
	grep -q '"bundle":"-".*"verdict":"refused"' m/audit.log || t_fail "not audited"
}

t_run fifo_tar
t_run fifo_zstd
t_run stdin_tar
t_run stdin_zstd
t_run fifos_in_sequence_order
t_run stdin_not_a_bundle
