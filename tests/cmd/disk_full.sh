#!/bin/sh
# A full disk: every write error names the file it failed on, and a failed
# build only ever points at a folder that exists (else says the log could
# not be kept, and where what was written of it is). The full disk is a
# small tmpfs mounted in a private mount namespace.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
M=$T_TMP/mirror
mirror_of "$S" "$T_TMP/in" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml

need_tmpfs() {
	mkdir -p probe
	unshare -m sh -c 'mount -t tmpfs -o size=4k tmpfs probe' 2>/dev/null ||
		t_skip "cannot mount a small tmpfs here (unshare -m, mount -t tmpfs)"
}

# check_errors FILE DIR: the messages in FILE name a file for every
# "No space left on device", never a bare "write:", and every folder or
# log they point at exists under DIR (checked inside the namespace).
check_errors() {
	! grep -Eq "(^|: )(write|read): No space" "$1" || { cat "$1"; t_fail "an error names no file"; }
	grep -q "No space left on device" "$1" || return 0
	! grep "No space left on device" "$1" | grep -vq "/" || { cat "$1"; t_fail "no file named"; }
}

# builds with OUT on a tmpfs of each size from 4 KiB up to the size the
# build fits in: each either succeeds or fails naming the file, and the
# folder it names for its log exists
build_on_a_full_disk() {
	need_tmpfs
	cat >sweep.sh <<SH
set -e
mkdir -p full
for kb in 4 8 12 16 20 24 28 32 36 40 44 48 52 56 60 64 80 96 128; do
	mount -t tmpfs -o size=\${kb}k tmpfs full
	set +e
	"$DRYDOCK" build --mirror "$M" -o full "$HELLO" >out.\$kb 2>&1
	echo \$? >rc.\$kb
	set -e
	log=\$(sed -n 's/^drydock: the log is in \(.*\)$/\1/p' out.\$kb)
	if [ -n "\$log" ] && [ ! -f "\$log" ]; then echo "missing \$log" >>bad; fi
	for d in \$(sed -n 's/.* \(is\|are\) in \(full\/hello\/[^ ]*\).*/\2/p' out.\$kb); do
		[ -e "\$d" ] || echo "\$kb: points at \$d, which does not exist" >>bad
	done
	grep -o 'full/hello/[^ /]*-failed' out.\$kb | while read -r d; do
		[ -d "\$d" ] || echo "\$kb: names \$d, which does not exist" >>bad
	done
	ls -a full/hello >ls.\$kb
	umount full
done
SH
	unshare -m sh sweep.sh
	[ ! -s bad ] || { cat bad; t_fail "a message names what does not exist"; }
	fails=0
	for kb in 4 8 12 16 20 24 28 32 36 40 44 48 52 56 60 64 80 96 128; do
		check_errors out.$kb
		if [ "$(cat rc.$kb)" -ne 0 ]; then
			fails=$((fails + 1))
			grep -q "^drydock: the log is in\|could not be kept\|was not kept" out.$kb ||
				{ cat out.$kb; t_fail "$kb KiB: says nothing of the log"; }
		fi
	done
	[ $fails -ge 3 ] || t_fail "only $fails sizes made the build fail: the sweep proves little"
	[ "$(cat rc.128)" -eq 0 ] || { cat out.128; t_fail "128 KiB is enough for the build"; }
	# the smallest disk cannot even keep the failed run
	grep -q "the run's log could not be kept (.*No space left on device): what was written of it is in full/hello/.tmp-" out.4 ||
		{ cat out.4; t_fail "4 KiB: the lost log is not explained"; }
}

# bundle create writes a tar through a plain write(2): the error names it
bundle_on_a_full_disk() {
	need_tmpfs
	mkdir -p full
	set +e
	unshare -m sh -c 'mount -t tmpfs -o size=4k tmpfs full && exec "$@"' sh \
		"$DRYDOCK" bundle create --channel stable --sequence 1 --expires 2030-01-01 \
		--sign bundle@example.invalid --gnupg-home "$S/gnupg" -o full/b.tar "$T_TMP/in" >out 2>&1
	rc=$?
	set -e
	[ $rc -eq 1 ] || { cat out; t_fail "expected exit 1, got $rc"; }
	check_errors out
	grep -Eq "full/b.tar: member .*: No space left on device" out || { cat out; t_fail "the tar is not named"; }
}

t_run build_on_a_full_disk
t_run bundle_on_a_full_disk
