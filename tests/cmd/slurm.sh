#!/bin/sh
# scripts/slurm-batch on a real scheduler: a throwaway single-node Slurm
# cluster (its own munge key, slurm.conf, ports, state and spool folders,
# all in the test's temporary folder) runs a 3-task array of shards and
# the merge after it; the shards add up to the unsharded batch, a failed
# job stays in its shard. Without Slurm the script's own checks are tested.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
C=$T_TMP/cluster
SB=$TOP/scripts/slurm-batch

# alive PID NAME: PID is a running (not zombie) process called NAME
alive() {
	[ -r "/proc/$1/stat" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# stop_cluster: cancel what is left of the test's jobs, then stop its
# daemons by the pids in their pid files (at most 10 s each, then KILL)
stop_cluster() {
	[ -f "$C/slurm.conf" ] || return 0
	[ -f "$C/slurmctld.pid" ] && SLURM_CONF=$C/slurm.conf timeout 10 scancel --user=root 2>/dev/null
	for d in slurmd slurmctld munged; do
		[ -f "$C/$d.pid" ] || continue
		p=$(cat "$C/$d.pid")
		alive "$p" "$d" || continue
		kill "$p"
		n=0
		while alive "$p" "$d" && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		alive "$p" "$d" && kill -9 "$p"
	done
	return 0
}
trap 'stop_cluster; kill_agents "$S"; rm -rf "$T_TMP"' EXIT

setup_signers "$S"
IN=$T_TMP/in
mkdir -p "$IN/packages" "$T_TMP/bundles"
for p in base-files base-files-alt hello-drydock os-release-same; do
	build_fixture "$p" "$S/apk.rsa" "$IN/packages/$p.apk" >/dev/null
done
cat >"$IN/entitlements.json" <<'JSON'
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": 1,
 "issued": "2026-01-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z",
 "images": [
  {"name": "hello", "base": ["base-files"],
   "packages": [{"name": "base-files", "version": "1.0-r0"}, {"name": "hello-drydock", "version": "1.2.3-r0"}]},
  {"name": "alt", "base": ["base-files-alt"],
   "packages": [{"name": "base-files", "version": "1.0-r0"}, {"name": "base-files-alt", "version": "2.0_rc1-r1"},
    {"name": "hello-drydock", "version": "1.2.3-r0"}]}]}
JSON
sign_entitlement "$S" "$IN/entitlements.json"
make_bundle "$S" "$IN" "$T_TMP/bundles/b1.tar" 1

# jobs DIR: 7 jobs: the fixture image and 5 more on two bases, and one
# that asks for a package no image entitles. By name, shard 1 of 3 holds
# a-plain and h-env, shard 2 hello, h-plain and x-refused, shard 3
# a-hello and h-hello.
jobs() {
	mkdir -p "$1"
	cp "$TOP/fixtures/jobs/hello.yaml" "$1/hello.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\n' >"$1/h-hello.yaml"
	printf 'base: hello\nenvironment:\n  FOO: bar\n' >"$1/h-env.yaml"
	printf 'base: hello\n' >"$1/h-plain.yaml"
	printf 'base: alt\ncontents:\n  packages: [hello-drydock]\n' >"$1/a-hello.yaml"
	printf 'base: alt\n' >"$1/a-plain.yaml"
	printf 'base: hello\ncontents:\n  packages: [os-release-same]\n' >"$1/x-refused.yaml"
}
GOOD="a-hello a-plain h-env h-hello h-plain hello"

# node_mirror DIR: a mirror set up as on a node (its trusted keys, no bundle)
node_mirror() { trusted_mirror "$S" "$1"; }

# a_task K N ARRAY ARGS...: array task K-1 of N, as Slurm would start it
a_task() {
	k=$1 n=$2 id=$3
	shift 3
	env SLURM_ARRAY_TASK_ID=$((k - 1)) SLURM_ARRAY_TASK_COUNT="$n" SLURM_ARRAY_TASK_MIN=0 \
		SLURM_ARRAY_TASK_MAX=$((n - 1)) SLURM_ARRAY_JOB_ID="$id" SLURMD_NODENAME=node1 "$SB" "$@"
}

# the script's own checks, and its tasks and merge run by hand
script_checks() {
	jobs jobs
	node_mirror m
	expect_fail 2 "not in a Slurm array task: submit it with sbatch --array=0-<N-1>, or use --submit N" \
		env -u SLURM_ARRAY_TASK_ID "$SB" --mirror m -o root jobs
	expect_fail 2 "the array must be 0-2 with no step or gap \(it is 1-3 with 3 tasks\)" \
		env SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 \
		SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_JOB_ID=7 "$SB" --mirror m -o root jobs
	expect_fail 2 "--shard: this script sets it for each array task" a_task 1 3 7 --mirror m -o root --shard 1/3 jobs
	expect_fail 2 "no -o ROOT given" a_task 1 3 7 --mirror m jobs
	expect_fail 2 "no --mirror given" a_task 1 3 7 -o root jobs
	expect_fail 2 "-oroot: give the value as a separate argument" a_task 1 3 7 --mirror m -oroot jobs
	expect_fail 2 "--submit '0': expected a number of shards, 1 or more" "$SB" --submit 0 --mirror m -o root jobs
	expect_fail 2 "--merge takes only -o ROOT, not 'jobs'" "$SB" --merge 7 3 -o root jobs
	expect_fail 2 "SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_JOB_ID is not set" \
		env SLURM_ARRAY_TASK_ID=0 "$SB" --mirror m -o root jobs
	expect_fail 2 "--merge 'x': expected the array's job id" "$SB" --merge x 3 -o root
	expect_fail 2 "--bundles needs a value" a_task 1 3 7 --mirror m -o root --bundles
	expect_fail 3 "--bundles missing: no such folder on node node1" a_task 1 3 7 --mirror m -o root --bundles missing jobs
	mkdir nothing junk
	echo "not a bundle" >junk/j.tar
	expect_fail 3 "junk/j.tar: not a bundle drydock can read" a_task 1 3 7 --mirror m -o root --bundles junk jobs
	# a node whose mirror does not trust the bundle key imports nothing, builds nothing
	drydock mirror init untrusting >/dev/null
	drydock trust add --mirror untrusting --role apk "$S/apk.rsa.pub" >/dev/null
	expect_fail 3 "node node1: importing the bundles of .* into untrusting failed \(above\); no job built" \
		a_task 1 3 7 --mirror untrusting -o root --bundles "$T_TMP/bundles" jobs
	[ ! -e root/shard-1-of-3 ] || t_fail "a task whose import failed ran its batch"
	expect_fail 3 "no bundles \(\*.tar, \*.tar.zst\) in nothing" a_task 1 3 7 --mirror m -o root --bundles nothing jobs
	expect_fail 3 "no mirror at nowhere on node node1: set it up there once" \
		a_task 1 3 7 --mirror nowhere -o root --bundles "$T_TMP/bundles" jobs
	# a batch that cannot run leaves no report for the merge
	expect_fail 3 "shard 1/3 wrote no report \(drydock batch exited 3\)" a_task 1 3 7 --mirror nowhere -o root jobs
	[ ! -e root/reports/7/shard-1-of-3.json ] && [ ! -e root/reports/7/shard-1-of-3.json.tmp ]
	# shards 1 and 3 import the bundle (once) and build; the merge refuses
	# while shard 2 has no report of this array
	expect_out "^2 built, 0 up to date, 0 failed$" a_task 1 3 7 --mirror m -o root --bundles "$T_TMP/bundles" -j 2 jobs
	grep -q "imported channel stable sequence 1" "$T_TMP/.o" || t_fail "task 1 did not import"
	expect_out "^2 built, 0 up to date, 0 failed$" a_task 3 3 7 --mirror m -o root --bundles "$T_TMP/bundles" jobs
	! grep -q "imported" "$T_TMP/.o" || t_fail "task 3 imported the bundle again"
	expect_fail 3 "array 7 has no report in root/reports/7 from shard 2 \(array task 1\)" "$SB" --merge 7 3 -o root
	[ ! -e root/merged-7.json ] && [ ! -e root/merged.json ]
	# an older array's report of shard 2 does not count for array 7
	expect_fail 1 "^2 built, 0 up to date, 1 failed$" a_task 2 3 6 --mirror m -o root jobs
	expect_fail 3 "from shard 2 \(array task 1\)" "$SB" --merge 7 3 -o root
	expect_fail 1 "^0 built, 2 up to date, 1 failed$" a_task 2 3 7 --mirror m -o root jobs
	expect_fail 1 "^4 built, 2 up to date, 1 failed$" "$SB" --merge 7 3 -o root
	grep -q "merged report: root/merged-7.json" "$T_TMP/.o"
	[ "$(readlink root/merged.json)" = merged-7.json ]
	[ "$(drydock mirror audit --mirror m | grep -c imported)" = 1 ] || t_fail "the bundle was imported more than once"
}

# why FILE...: the last line of the first FILE that has one
why() { for f; do [ -s "$f" ] && { tail -n 1 "$f"; return; }; done; echo "no message"; }

# start_cluster: munged, slurmctld and slurmd of a one-node cluster in $C,
# SLURM_CONF exported; skips when Slurm or munge is missing or the node
# is not idle within 30 s
start_cluster() {
	for t in munged mungekey slurmctld slurmd sbatch scontrol scancel sinfo flock timeout; do
		command -v "$t" >/dev/null 2>&1 ||
			t_skip "$t not installed (scripts/install-deps installs slurm-wlm and munge)"
	done
	[ "$(id -u)" -eq 0 ] || t_skip "needs root: the test cluster's daemons run as root"
	mkdir -p "$C/state" "$C/spool" && chmod 700 "$C"
	mungekey -c -k "$C/munge.key" 2>"$C/mungekey.err" || t_skip "mungekey failed: $(why "$C/mungekey.err")"
	munged -f --socket="$C/munge.sock" --key-file="$C/munge.key" --pid-file="$C/munged.pid" \
		--log-file="$C/munged.log" --seed-file="$C/munge.seed" 2>"$C/munged.err" ||
		t_skip "munged did not start: $(why "$C/munged.err" "$C/munged.log")"
	h=$(hostname -s)
	# room for the 3 tasks at once, on fewer cores too (config_overrides)
	cpus=$(nproc)
	[ "$cpus" -ge 3 ] || cpus=3
	# two free ports: other clusters may run on this machine
	set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
	cat >"$C/slurm.conf" <<EOF
ClusterName=drydock-test
SlurmctldHost=$h(127.0.0.1)
SlurmctldPort=$1
SlurmdPort=$2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$C/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/slurmctld.log
SlurmdLogFile=$C/slurmd.log
SlurmdParameters=config_overrides
NodeName=$h NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$h Default=YES MaxTime=INFINITE State=UP
EOF
	SLURM_CONF=$C/slurm.conf
	export SLURM_CONF
	slurmctld -f "$SLURM_CONF" -i 2>"$C/slurmctld.err" || t_skip "slurmctld did not start: $(why "$C/slurmctld.err" "$C/slurmctld.log")"
	slurmd -f "$SLURM_CONF" -N "$h" 2>"$C/slurmd.err" || t_skip "slurmd did not start: $(why "$C/slurmd.err" "$C/slurmd.log")"
	n=0
	until st=$(timeout 5 sinfo -h -n "$h" -o %T 2>&1) && [ "$st" = idle ]; do
		n=$((n + 1))
		[ $n -lt 60 ] ||
			t_skip "the Slurm node was not idle within 30 s (sinfo said: ${st:-nothing})"
		sleep 0.5
	done
}

# job_field ID FIELD: FIELD of job ID, one line per array task
# ("TASK VALUE"), or "- VALUE" for a plain job; scontrol is asked again
# (5 times at most) when it does not answer, as on a busy machine
job_field() {
	i=0
	until out=$(timeout 20 scontrol show job -o "$1") && [ -n "$out" ]; do
		i=$((i + 1))
		[ $i -lt 5 ] || t_fail "scontrol show job $1 did not answer: $out"
		sleep 1
	done
	printf '%s\n' "$out" | tr ' ' '\n' |
		awk -F= -v f="$2" '$1 == "JobId" { t = "-" } $1 == "ArrayTaskId" { t = $2 } $1 == f { print t, substr($0, length(f) + 2) }'
}

# wait_done ID SECONDS: until job ID (every task of it) has ended
wait_done() {
	n=0
	while :; do
		st=$(job_field "$1" JobState)
		[ -n "$st" ] || t_fail "scontrol shows no state for job $1"
		printf '%s\n' "$st" | grep -Eqv ' (COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)$' ||
			return 0
		n=$((n + 1))
		if [ $n -ge $(($2 * 4)) ]; then
			timeout 10 scontrol show job "$1" >&2
			t_fail "job $1 had not ended after $2 s"
		fi
		job_field "$1" Reason | grep -q DependencyNeverSatisfied && t_fail "job $1 will never run: $(job_field "$1" Reason)"
		sleep 0.25
	done
}

array_matches_unsharded() {
	start_cluster
	jobs jobs
	# the same jobs, unsharded, from a mirror of the same bundle
	node_mirror ref
	drydock mirror import --mirror ref "$T_TMP/bundles/b1.tar" >/dev/null
	expect_fail 1 "^6 built, 0 up to date, 1 failed$" drydock batch --mirror ref -o whole -j 2 jobs
	# the node's mirror: the array's tasks import the bundle into it
	node_mirror node
	timeout 30 "$SB" --submit 3 --mirror "$PWD/node" -o "$PWD/root" --bundles "$T_TMP/bundles" -j 2 "$PWD/jobs" >submit.txt ||
		t_fail "submit: $(cat submit.txt)"
	array=$(sed -n 's/^array \([0-9]*\): 3 shards into .*shard-K-of-3$/\1/p' submit.txt)
	merge=$(sed -n 's/^merge \([0-9]*\): after every shard, into .*merged-[0-9]*.json$/\1/p' submit.txt)
	[ -n "$array" ] && [ -n "$merge" ] || t_fail "submit said: $(cat submit.txt)"
	job_field "$merge" Dependency | grep -q "^- afterany:${array}_\*" ||
		t_fail "the merge depends on $(job_field "$merge" Dependency), not on every task of $array"
	wait_done "$merge" 120
	wait_done "$array" 10
	# the shard holding x-refused failed (exit 1), the others did not
	python3 - root "$array" <<'PY' >failing
import json, sys
failed = [k for k in (1, 2, 3)
          if json.load(open("%s/reports/%s/shard-%d-of-3.json" % (sys.argv[1], sys.argv[2], k)))["summary"]["failed"]]
assert len(failed) == 1, failed
print(failed[0] - 1)
PY
	job_field "$array" ExitCode | sort >codes
	printf '%s\n' "0 0:0" "1 0:0" "2 0:0" | sed "s/^$(cat failing) 0:0$/$(cat failing) 1:0/" >want
	cmp -s codes want || t_fail "array exit codes: $(cat codes), not $(cat want)"
	# the merge ran, and exited 1 as batch-report does when a job failed
	[ "$(job_field "$merge" ExitCode)" = "- 1:0" ] || t_fail "merge exit $(job_field "$merge" ExitCode)"
	grep -q "^6 built, 0 up to date, 1 failed$" "slurm-$merge.out" || t_fail "merge log: $(cat "slurm-$merge.out")"
	[ "$(readlink root/merged.json)" = "merged-$array.json" ]
	# every job built once, in one shard; the merged report is the whole's
	for j in $GOOD x-refused; do
		[ "$(ls -d root/shard-*-of-3/$j | wc -l)" = 1 ] || t_fail "$j ran in $(ls -d root/shard-*-of-3/$j)"
		[ "$(ls -d root/shard-*-of-3/$j/2* | wc -l)" = 1 ] ||
			t_fail "$j has more than one run"
	done
	for j in $GOOD; do [ -e root/shard-*-of-3/$j/latest ] || t_fail "$j has no latest"; done
	[ "$(drydock mirror audit --mirror node | grep -c imported)" = 1 ] || t_fail "the node's mirror imported the bundle more than once"
	python3 - whole/batch-*.json "root/merged-$array.json" root "$array" <<'PY'
import json, sys
w, m = (json.load(open(f)) for f in sys.argv[1:3])
root, array = sys.argv[3:5]
assert m["format"] == w["format"] == "drydock-batch/1"
assert w["summary"] == {"jobs": 7, "built": 6, "up_to_date": 0, "failed": 1, "timed_out": 0}, w["summary"]
assert m["summary"] == w["summary"], m["summary"]
key = lambda r: [(j["name"], j["status"], j["digest"]) for j in r["jobs"]]
assert key(m) == key(w), (key(m), key(w))
assert all(j["digest"] for j in m["jobs"] if j["name"] != "x-refused")
x = [j for j in m["jobs"] if j["name"] == "x-refused"][0]
assert "os-release-same-1.0-r0 is not listed by any entitled image" in x["error"], x["error"]
assert m["options"]["shard"] is None and set(m) >= set(w) - {"pruned"}
assert sorted(s["shard"] for s in m["shards"]) == ["1/3", "2/3", "3/3"], m["shards"]
seen = {}
for k in (1, 2, 3):
    r = json.load(open("%s/reports/%s/shard-%d-of-3.json" % (root, array, k)))
    assert r["options"]["shard"] == "%d/3" % k
    assert r["out"].endswith("/shard-%d-of-3" % k), r["out"]
    assert r["jobs"], "shard %d has no job" % k
    for j in r["jobs"]:
        assert j["name"] not in seen, j["name"] + " in two shards"
        seen[j["name"]] = k
assert sorted(seen) == sorted(j["name"] for j in w["jobs"])
PY
}

t_run script_checks
t_run array_matches_unsharded
