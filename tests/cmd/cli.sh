#!/bin/sh
# The command line itself: help, version, exit codes.
. "$(dirname "$0")/../lib.sh"

version() {
	expect_out "^drydock [0-9]+\.[0-9]+\.[0-9]+$" drydock --version
}

help_everywhere() {
	expect_out "Exit codes: 0 success, 1 the operation failed, 2 usage error" drydock --help
	expect_out "^  pkg " drydock help
	expect_out "^  inspect " drydock pkg --help
	for c in inspect verify build index version; do
		expect_out "usage: drydock pkg $c" drydock pkg "$c" --help
	done
}

usage_errors() {
	expect_fail 2 "usage: drydock" drydock
	expect_fail 2 "'frobnicate' is not a command" drydock frobnicate
	expect_fail 2 "'pkg frob' is not a command" drydock pkg frob
	expect_fail 2 "no file given" drydock pkg inspect
	expect_fail 2 "no file given" drydock pkg verify
	expect_fail 2 "unrecognized option" drydock pkg inspect --bogus x
	expect_fail 2 "missing --output OUT" drydock pkg index
	expect_fail 2 "need two versions" drydock pkg version 1
}

version_compare() {
	expect_out "^<$" drydock pkg version 1.0 1.0.1
	expect_out "^>$" drydock pkg version 1.0-r1 1.0_rc1-r9
	expect_out "^=$" drydock pkg version 2.0 2.0
	expect_fail 1 "1.0bc: invalid version" drydock pkg version --check 1.0 1.0bc
}

# --json: the comparison as one object; with --check, one record per
# operand, an invalid one still exiting 1.
version_compare_json() {
	drydock pkg version --json 1.0-r1 1.0_rc1-r9 >cmp.json
	python3 - cmp.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j == {"a": "1.0-r1", "b": "1.0_rc1-r9", "result": ">"}, j
PY
	rc=0
	drydock pkg version --check --json 1.0 1.0bc >check.json || rc=$?
	[ "$rc" = 1 ] || t_fail "--check --json with an invalid version exited $rc, not 1"
	python3 - check.json <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j == [{"version": "1.0", "valid": True}, {"version": "1.0bc", "valid": False}], j
PY
	expect_fail 2 "need two versions" drydock pkg version --json 1.0
}

# -q means one thing everywhere: standard output silent, unless --json was
# asked for; errors on standard error and the exit status as without it.
quiet_everywhere() {
	n=$(drydock help --options-dump | awk -F'\t' 'NF == 8 { c[$1] = 1 } $3 == "--quiet" && $2 == "-q" { q[$1] = 1 } END { for (k in c) if (!(k in q)) print k }' | wc -l)
	[ "$n" -eq 0 ] || t_fail "$n commands lack -q, --quiet"
	drydock mirror init m >init.out
	grep -q . init.out || t_fail "mirror init printed nothing without -q"
	rm -rf m
	drydock mirror init -q m >init.out
	[ ! -s init.out ] || t_fail "mirror init -q printed: $(cat init.out)"
	[ -f m/index.db ] || t_fail "mirror init -q did not make the mirror"
	drydock pkg version 1.0 2.0 >v.out && [ "$(cat v.out)" = "<" ]
	drydock pkg version --quiet 1.0 2.0 >v.out && [ ! -s v.out ]
	drydock pkg version -q --json 1.0 2.0 >v.json
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["result"] == "<"' v.json
	set +e
	drydock trust list -q --mirror nowhere >t.out 2>t.err
	rc=$?
	set -e
	[ $rc -eq 3 ] || t_fail "trust list -q of no mirror: exit $rc, not 3"
	[ ! -s t.out ] || t_fail "trust list -q printed on standard output"
	grep -q "no mirror at .*nowhere" t.err || t_fail "the error did not reach standard error: $(cat t.err)"
}

# -v means one thing everywhere: what is being done, on standard error.
verbose_everywhere() {
	n=$(drydock help --options-dump | awk -F'\t' 'NF == 8 { c[$1] = 1 } $3 == "--verbose" && $2 == "-v" { v[$1] = 1 } END { for (k in c) if (!(k in v)) print k }' | wc -l)
	[ "$n" -eq 0 ] || t_fail "$n commands lack -v, --verbose"
	drydock mirror init -q m
	drydock mirror list --mirror m >out 2>err
	! grep -q 'mirror m' err || t_fail "a note without -v: $(cat err)"
	drydock mirror list -v --mirror m >out 2>err
	grep -q '^drydock: mirror m (given by --mirror), opened to read$' err ||
		t_fail "no note of the mirror with -v: $(cat err)"
	DRYDOCK_MIRROR=m drydock trust list -qv >out 2>err
	[ ! -s out ] || t_fail "-qv printed on standard output"
	grep -q '^drydock: mirror m (set by DRYDOCK_MIRROR=m), opened to read$' err ||
		t_fail "-qv: no note on standard error: $(cat err)"
}

t_run version
t_run help_everywhere
t_run usage_errors
t_run version_compare
t_run version_compare_json
t_run quiet_everywhere
t_run verbose_everywhere
