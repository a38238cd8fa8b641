#!/bin/sh
# Forged and damaged inputs: each gets one clear line naming the file
# and the problem, exit status 1, bounded time and memory, no crash.
. "$(dirname "$0")/../lib.sh"
FORGE="python3 $TOP/tests/forge.py"

# refuse KIND PATTERN: forge KIND, expect inspect and verify to refuse it.
refuse() {
	$FORGE "$1" "$1.apk"
	make_key k
	expect_fail 1 "^drydock: $1.apk: .*$2" drydock pkg inspect "$1.apk"
	expect_fail 1 "$1.apk: .*$2" drydock pkg verify --key k.rsa.pub "$1.apk"
	[ "$(wc -l <"$T_TMP/.o")" -eq 1 ] || t_fail "more than one line of output"
}

dotdot_member() { refuse dotdot "data segment: member '../evil': absolute path or '..' component"; }
absolute_member() { refuse absolute "member '/etc/evil': absolute path or '..' component"; }
hardlink_escape() { refuse hardlink-escape "hard link to '../../etc/shadow' leaves the archive"; }
member_larger_than_declared() { refuse oversize "member 'big' \(5000 bytes\) is larger than the package's declared size \(10 bytes\)"; }
garbage_pkginfo() { refuse garbage-pkginfo "line 5 is not 'key = value': 'this line is garbage'"; }
extra_segment() { refuse extra-segment "unexpected gzip member 3 after the data segment"; }
member_checksum() { refuse bad-member-sha1 "member 'a': content SHA1 [0-9a-f]{40} does not match"; }

# 10 GiB of zeros behind a few MB: refused after at most a few MB of
# output, with memory well under what the expansion would need.
bomb() {
	$FORGE "$1" "$1.apk"
	/usr/bin/time -f "%M" -o rss "$DRYDOCK" pkg inspect "$1.apk" >out 2>&1 && t_fail "accepted a bomb"
	grep -Eq "$2" out || { cat out; t_fail "message"; }
	[ "$(cat rss | tail -1)" -lt 65536 ] || t_fail "peak RSS $(cat rss) KiB"
}
bomb_in_data() { bomb bomb-data "data segment: gzip member 2 expands beyond [0-9]+ bytes \(decompression bomb\?\)"; }
bomb_in_control() { bomb bomb-control "control segment: gzip member 1 expands beyond 8388608 bytes"; }
bomb_declared() { bomb bomb-declared "member '.PKGINFO' is 10737418240 bytes, more than 8388608 allowed"; }

truncated_everywhere() {
	make_key k
	build_fixture hello-drydock k.rsa good.apk
	size=$(stat -c %s good.apk)
	for cut in 5 100 600 $((size / 2)) $((size - 30)) $((size - 1)); do
		head -c "$cut" good.apk >cut.apk
		expect_fail 1 "^drydock: cut.apk: .*(ends early|truncated|ends inside)" drydock pkg inspect cut.apk
	done
}

corrupt_bytes() {
	make_key k
	build_fixture hello-drydock k.rsa good.apk
	size=$(stat -c %s good.apk)
	# flip one byte in each segment's compressed data and in a gzip trailer
	for at in 300 900 $((size - 200)) $((size - 6)); do
		cp good.apk bad.apk
		python3 -c 'import sys; f=open(sys.argv[1],"r+b"); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x55]))' bad.apk "$at"
		set +e
		drydock pkg verify --key k.rsa.pub bad.apk >out 2>&1
		rc=$?
		set -e
		[ $rc -eq 1 ] || { cat out; t_fail "flip at $at: exit $rc"; }
		grep -Eq "corrupt|incorrect|BAD signature|DOES NOT MATCH|checksum|ends|malformed|not gzip" out ||
			{ cat out; t_fail "flip at $at: unclear message"; }
	done
}

not_an_apk() {
	printf 'hello\n' >plain.txt
	expect_fail 1 "plain.txt: APKINDEX line 1: not an APKINDEX field" drydock pkg inspect plain.txt
	gzip -c plain.txt >plain.gz
	expect_fail 1 "plain.gz: signature segment: tar header at offset 0: archive ends inside a header" drydock pkg inspect plain.gz
	: >empty.apk
	expect_fail 1 "empty.apk: empty file" drydock pkg inspect empty.apk
	expect_fail 1 "missing.apk: No such file" drydock pkg inspect missing.apk
	printf '\037\213garbage' >badgz.apk
	expect_fail 1 "badgz.apk: .*(corrupt gzip|ends early)" drydock pkg inspect badgz.apk
}

bad_keys() {
	printf 'not a key\n' >bad.rsa.pub
	expect_fail 2 "bad.rsa.pub: not a PEM public key" drydock pkg verify --key bad.rsa.pub x.apk
	openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
	openssl pkey -in ed.pem -pubout -out ed.pub 2>/dev/null
	expect_fail 2 "ed.pub: not an RSA key" drydock pkg verify --key ed.pub x.apk
}

# Each file is reported and the rest are still checked.
many_files_keep_going() {
	make_key k
	build_fixture hello-drydock k.rsa good.apk
	$FORGE dotdot bad.apk
	set +e
	drydock pkg verify --key k.rsa.pub bad.apk good.apk >out 2>&1
	rc=$?
	set -e
	[ $rc -eq 1 ] || t_fail "exit $rc"
	grep -q "^good.apk: valid" out || t_fail "good file not reported"
	grep -q "bad.apk: data segment" out || t_fail "bad file not reported"
}

t_run dotdot_member
t_run absolute_member
t_run hardlink_escape
t_run member_larger_than_declared
t_run garbage_pkginfo
t_run extra_segment
t_run member_checksum
t_run bomb_in_data
t_run bomb_in_control
t_run bomb_declared
t_run truncated_everywhere
t_run corrupt_bytes
t_run not_an_apk
t_run bad_keys
t_run many_files_keep_going
