#!/bin/sh
# Every import attempt is in the audit log: first "started", then its
# outcome under the same attempt id; killed imports and imports refused
# because the mirror is busy leave their record too, and fsck reports an
# attempt that has no outcome.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
bundle_dir "$S" "$T_TMP/in"
make_bundle "$S" "$T_TMP/in" "$T_TMP/b1.tar" 1
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# records VERDICT: the audit log's import records with that verdict, as
# "attempt bundle" lines.
records() {
	python3 - "$1" <<'PY'
import json, sys
for line in open("m/audit.log"):
    j = json.loads(line)
    if j.get("action") == "import" and j.get("verdict") == sys.argv[1]:
        print(j.get("attempt", "-"), j["bundle"])
PY
}

started_then_outcome() {
	trusted_mirror "$S" m
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	drydock mirror import --mirror m "$T_TMP/b1.tar" >/dev/null
	[ "$(records started | wc -l)" -eq 2 ] || t_fail "two attempts, two started records"
	[ "$(records started | cut -d' ' -f1 | sort)" = \
		"$( (records imported; records already-imported) | cut -d' ' -f1 | sort)" ] ||
		t_fail "outcomes are not linked to their attempts"
	expect_out "started +.*b1.tar" drydock mirror audit --mirror m
}

killed_at() {
	trusted_mirror "$S" m
	set +e
	DRYDOCK_CRASH_AT=$1 "$DRYDOCK" mirror import --mirror m "$T_TMP/b1.tar" >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc -eq 137 ] || t_fail "expected death by SIGKILL at $1, got $rc"
	[ "$(records started | wc -l)" -eq 1 ] || t_fail "the killed attempt left no record"
	[ -z "$(records imported)" ] || t_fail "an outcome was recorded for a killed import"
	expect_out "note: audit: the import of .*b1.tar started .* has no outcome: it was interrupted $2" \
		drydock mirror fsck --mirror m
}

killed_after_commit() { killed_at after-commit "after its commit; bundle [0-9a-f]{16}… is in the index"; }
killed_before_commit() { killed_at before-commit "before its commit; nothing of it is in the index"; }
killed_mid_stream() { killed_at mid-stream "before its commit"; }

# another drydock holds the mirror's lock: the refusal is recorded
busy_mirror() {
	trusted_mirror "$S" m
	hold_lock m/lock 60
	set +e
	"$DRYDOCK" mirror import --mirror m "$T_TMP/b1.tar" >out 2>&1
	rc=$?
	set -e
	kill "$holder"
	[ $rc -eq 1 ] || { cat out; t_fail "expected exit 1, got $rc"; }
	grep -q "is busy" out || { cat out; t_fail "busy not said"; }
	[ "$(records started | cut -d' ' -f1)" = "$(records refused | cut -d' ' -f1)" ] &&
		[ -n "$(records refused)" ] || t_fail "the busy refusal is not recorded as an attempt"
	grep -q '"verdict":"refused","reason":"mirror .* is busy' m/audit.log || t_fail "reason"
	expect_out "clean$" drydock mirror fsck --mirror m
}

t_run started_then_outcome
t_run killed_after_commit
t_run killed_before_commit
t_run killed_mid_stream
t_run busy_mirror
