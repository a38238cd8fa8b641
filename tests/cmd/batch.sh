#!/bin/sh
# drydock batch: a folder of jobs over two bases, unattended: failures stay
# with their job, unchanged jobs are skipped, OUT stores each blob once,
# locks keep batches, imports and gc apart, shards add up to the whole.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT

# two entitled images: "hello" on base-files, "alt" on base-files-alt; both
# already entitle hello-drydock 1.2.4-r0, which a later bundle brings
IN=$T_TMP/in
mkdir -p "$IN/packages"
for p in base-files base-files-alt hello-drydock hello-fips os-release-clash os-release-same; do
	build_fixture "$p" "$S/apk.rsa" "$IN/packages/$p.apk" >/dev/null
done
cat >"$IN/entitlements.json" <<'JSON'
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": 1,
 "issued": "2026-01-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z",
 "images": [
  {"name": "hello", "base": ["base-files"],
   "packages": [{"name": "base-files", "version": "1.0-r0"},
    {"name": "hello-drydock", "version": "1.2.3-r0"}, {"name": "hello-drydock", "version": "1.2.4-r0"},
    {"name": "hello-fips", "version": "1.0-r0"}, {"name": "os-release-clash", "version": "1.0-r0"}]},
  {"name": "alt", "base": ["base-files-alt"],
   "packages": [{"name": "base-files", "version": "1.0-r0"}, {"name": "base-files-alt", "version": "2.0_rc1-r1"},
    {"name": "hello-drydock", "version": "1.2.3-r0"}, {"name": "hello-drydock", "version": "1.2.4-r0"}]}]}
JSON
sign_entitlement "$S" "$IN/entitlements.json"
make_bundle "$S" "$IN" "$T_TMP/b1.tar" 1
# bundle 2: hello-drydock 1.2.4-r0, nothing else
IN2=$T_TMP/in2
mkdir -p "$IN2/packages" "$T_TMP/hd2"
cp -r "$TOP/fixtures/packages/hello-drydock/root" "$T_TMP/hd2/root"
echo "hello again" >>"$T_TMP/hd2/root/usr/share/doc/hello-drydock/README"
sed 's/1\.2\.3-r0/1.2.4-r0/g' "$TOP/fixtures/packages/hello-drydock/PKGINFO" >"$T_TMP/hd2/PKGINFO"
drydock pkg build --info "$T_TMP/hd2/PKGINFO" --sign "$S/apk.rsa" \
	-o "$IN2/packages/hello-drydock-1.2.4.apk" "$T_TMP/hd2/root" >/dev/null
make_bundle "$S" "$IN2" "$T_TMP/b2.tar" 2

# fresh_mirror DIR: a mirror holding bundle 1
fresh_mirror() {
	trusted_mirror "$S" "$1"
	drydock mirror import --mirror "$1" "$T_TMP/b1.tar" >/dev/null
}

# jobs DIR: 14 jobs, 9 good (5 use hello-drydock) and 5 bad: invalid YAML,
# a refused package, a file conflict, a timeout and a crash
jobs() {
	mkdir -p "$1"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\n' >"$1/h-hello.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\nenvironment:\n  FOO: bar\n' >"$1/h-env.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-fips]\n' >"$1/h-fips.yaml"
	printf 'base: hello\n' >"$1/h-plain.yaml"
	printf 'base: hello\nannotations:\n  org.example.note: plain\n' >"$1/h-note.yml"
	printf 'base: alt\ncontents:\n  packages: [hello-drydock]\n' >"$1/a-hello.yaml"
	printf 'base: alt\ncontents:\n  packages: [hello-drydock]\noutput:\n  layers: single\n' >"$1/a-single.yaml"
	printf 'base: alt\n' >"$1/a-plain.yaml"
	printf 'base: alt\nenvironment:\n  FOO: bar\n' >"$1/a-env.yaml"
	printf 'base: hello\ncontents:\n  packages: [hello-drydock\n' >"$1/x-broken.yaml"
	printf 'base: hello\ncontents:\n  packages: [os-release-same]\n' >"$1/x-refused.yaml"
	printf 'base: hello\ncontents:\n  packages: [os-release-clash]\n' >"$1/x-clash.yaml"
	printf 'base: hello\npolicy:\n  timeout: 1s\n' >"$1/x-slow.yaml"
	printf 'base: alt\n' >"$1/x-crash.yaml"
	echo "not a job" >"$1/README"
}
GOOD="a-env a-hello a-plain a-single h-env h-fips h-hello h-note h-plain"
USERS="a-hello a-single h-env h-fips h-hello"
export DRYDOCK_TEST_HOOK=x-slow:sleep,x-crash:abort

# field REPORT JOB KEY: a job's field in a batch report (read once per report)
field() {
	[ -f "$1.fields" ] || python3 -c 'import json,sys
for j in json.load(open(sys.argv[1]))["jobs"]:
    for k, v in j.items():
        if not isinstance(v, (dict, list)): print("%s\t%s\t%s" % (j["name"], k, str(v).replace("\n", " ")))' "$1" >"$1.fields"
	awk -F '\t' -v n="$2" -v k="$3" '$1 == n && $2 == k { print $3; f = 1 } END { if (!f) print "None" }' "$1.fields"
}
report() { ls -t "$1"/batch-*.json | head -n 1; } # the newest (two batches of one second sort by their random part)
# statuses REPORT: "name status" per job
statuses() {
	python3 -c 'import json,sys
for j in json.load(open(sys.argv[1]))["jobs"]: print(j["name"], j["status"])' "$1"
}
# good_runs OUT: every good run folder of the good jobs
good_runs() { for j in $GOOD; do ls -d "$1/$j"/2*[0-9a-f]; done | grep -v -- -failed; }
blobs() { ls "$1/.blobs/sha256" | sort; }

batch_reports_each_job() {
	fresh_mirror m
	jobs jobs
	expect_fail 1 "^9 built, 0 up to date, 5 failed \(1 timed out\)$" \
		drydock batch --mirror m -o out -j 2 jobs
	cp "$T_TMP/.o" first.txt
	r=$(report out)
	for j in $GOOD; do
		[ "$(field "$r" $j status)" = built ] || t_fail "$j: $(field "$r" $j status)"
		d=$(field "$r" $j digest)
		[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' out/$j/latest/result.json)" = "$d" ] || t_fail "$j latest"
		grep -Eq "^$j +built +$d +[0-9.]+ s$" first.txt || t_fail "$j: no aligned line"
		[ "$(field "$r" $j run)" = "$(readlink out/$j/latest)" ] || t_fail "$j: run"
	done
	[ "$(field "$r" x-broken status)" = failed ]
	field "$r" x-broken error | grep -q "x-broken.yaml:4:1: did not find expected"
	field "$r" x-refused error | grep -q "os-release-same-1.0-r0 is not listed by any entitled image"
	field "$r" x-clash error | grep -q "/etc/os-release is shipped by both base-files-1.0-r0 and os-release-clash-1.0-r0"
	[ "$(field "$r" x-slow status)" = "timed out" ]
	field "$r" x-slow error | grep -q "ran longer than its policy.timeout (1000 ms) and was killed"
	[ "$(field "$r" x-crash status)" = failed ]
	[ "$(field "$r" x-crash signal)" = 6 ]
	field "$r" x-crash error | grep -q "crashed: killed by signal 6 (Aborted)"
	# every failure keeps its log and result, and never a latest
	for j in x-broken x-refused x-clash x-slow x-crash; do
		run=$(ls -d out/$j/*-failed)
		[ -f "$run/build.log" ] && [ -f "$run/result.json" ] || t_fail "$j: no log or result"
		[ ! -e out/$j/latest ] || t_fail "$j has a latest"
		[ -z "$(ls -d out/$j/.tmp-* 2>/dev/null)" ] || t_fail "$j: half run left"
	done
	grep -q "error: .*x-slow.yaml ran longer" out/x-slow/*-failed/build.log
	python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); assert r["status"] == "failed" and r["timed_out"]' out/x-slow/*-failed/result.json
	# warnings: on stderr and in the report
	grep -q "warning: h-fips: x86_64: hello-fips-1.0-r0 is a FIPS package" first.txt
	grep -q "warning: a-plain: the provenance is not signed" first.txt
	python3 - "$r" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["format"] == "drydock-batch/1"
assert r["summary"] == {"jobs": 14, "built": 9, "up_to_date": 0, "failed": 5, "timed_out": 1}, r["summary"]
assert [j["file"] for j in r["jobs"]] == sorted(j["file"] for j in r["jobs"])
assert "h-note.yml" in [j["file"] for j in r["jobs"]]
assert any("FIPS" in w for w in r["warnings"])
assert all(j["changes"] == {"first_run": True} for j in r["jobs"] if j["status"] == "built")
PY
	# -j does not change the results
	expect_fail 1 "^9 built, 0 up to date, 5 failed" drydock batch --mirror m -o out2 -j 1 jobs
	expect_fail 1 "^9 built, 0 up to date, 5 failed" drydock batch --mirror m -o out2 -j 3 --force jobs
	for j in $GOOD; do
		[ "$(field "$(report out2)" $j digest)" = "$(field "$r" $j digest)" ] || t_fail "$j differs with -j"
	done
	statuses "$r" >a
	statuses "$(report out2)" >b
	cmp a b
}

same_batch_is_up_to_date() {
	fresh_mirror m
	jobs jobs
	set +e
	drydock batch --mirror m -o out -j 2 jobs >/dev/null 2>&1
	set -e
	first=$(report out)
	good_runs out >runs1
	blobs out >blobs1
	du -s --block-size=1 out/.blobs | cut -f1 >bytes1
	expect_fail 1 "^0 built, 9 up to date, 5 failed \(1 timed out\)$" \
		drydock batch --mirror m -o out -j 2 jobs
	r=$(report out)
	[ "$r" != "$first" ]
	for j in $GOOD; do
		[ "$(field "$r" $j status)" = "up to date" ] || t_fail "$j: $(field "$r" $j status)"
		[ "$(field "$r" $j digest)" = "$(field "$first" $j digest)" ] || t_fail "$j digest"
		[ "$(field "$r" $j run)" = "$(field "$first" $j run)" ] || t_fail "$j run"
	done
	good_runs out >runs2
	blobs out >blobs2
	cmp runs1 runs2 || t_fail "new run folders"
	cmp blobs1 blobs2 || t_fail "new blobs"
	[ "$(du -s --block-size=1 out/.blobs | cut -f1)" = "$(cat bytes1)" ]
	# forced: every good job again, the same digests, still no new blob
	expect_fail 1 "^9 built, 0 up to date, 5 failed" drydock batch --mirror m -o out --force jobs
	for j in $GOOD; do
		[ "$(field "$(report out)" $j digest)" = "$(field "$first" $j digest)" ] || t_fail "$j forced"
	done
	blobs out >blobs3
	cmp blobs1 blobs3 || t_fail "a forced rebuild stored new blobs"
	# runs share OUT's blobs: one inode for a layer in every run holding it
	crust=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["archs"][0]["layers"][0]["digest"][7:])' out/h-hello/latest/result.json)
	[ "$(stat -c %i out/h-hello/latest/image/blobs/sha256/$crust)" = "$(stat -c %i out/h-plain/latest/image/blobs/sha256/$crust)" ]
	[ "$(stat -c %i out/h-hello/latest/image.oci.tar)" = "$(stat -c %i out/.blobs/sha256/$(sha256sum out/h-hello/latest/image.oci.tar | cut -c1-64))" ]
	# a latest run whose image or evidence was deleted is not up to date
	rm out/h-hello/latest/image.oci.tar
	rm out/a-env/latest/sbom.cdx.json
	expect_fail 1 "^2 built, 7 up to date, 5 failed" drydock batch --mirror m -o out jobs
	for j in h-hello a-env; do
		[ "$(field "$(report out)" $j status)" = built ] || t_fail "$j was not built again"
		[ "$(field "$(report out)" $j digest)" = "$(field "$first" $j digest)" ] || t_fail "$j digest"
	done
	[ -f out/h-hello/latest/image.oci.tar ] && [ -f out/a-env/latest/sbom.cdx.json ]
}

upgrade_rebuilds_its_users() {
	fresh_mirror m
	jobs jobs
	set +e
	drydock batch --mirror m -o out -j 2 --only '[ah]-*' jobs >/dev/null 2>&1
	set -e
	first=$(report out)
	drydock mirror import --mirror m "$T_TMP/b2.tar" >/dev/null
	expect_out "^5 built, 4 up to date, 0 failed$" drydock batch --mirror m -o out -j 2 --only '[ah]-*' jobs
	cp "$T_TMP/.o" out.txt
	r=$(report out)
	for j in $GOOD; do
		case " $USERS " in
		*" $j "*) want=built ;;
		*) want="up to date" ;;
		esac
		[ "$(field "$r" $j status)" = "$want" ] || t_fail "$j: $(field "$r" $j status), not $want"
	done
	python3 - "$r" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for j in r["jobs"]:
    if j["status"] != "built":
        assert "changes" not in j
        continue
    c = j["changes"]
    assert c["packages"] == {"upgraded": [{"name": "hello-drydock", "from": "1.2.3-r0", "to": "1.2.4-r0"}]}, c
    assert c["digest"]["from"] != c["digest"]["to"]
    assert "entitlement" not in c
    assert j["previous_run"] and j["previous_run"] != j["run"]
PY
	grep -A1 "^h-hello  *built" out.txt | grep -q "upgraded hello-drydock 1.2.3-r0 -> 1.2.4-r0"
	old=out/h-hello/$(field "$first" h-hello run)
	expect_out "^upgraded hello-drydock 1.2.3-r0 -> 1.2.4-r0$" drydock diff "$old" out/h-hello/latest
	grep -q "^layer added sha256:" "$T_TMP/.o"
	grep -q "^image sha256:.* -> sha256:" "$T_TMP/.o"
	drydock diff --json "$old" out/h-hello/latest >d.json
	python3 -c 'import json,sys; d = json.load(open("d.json")); assert d["packages"]["upgraded"][0]["to"] == "1.2.4-r0"; assert len(d["layers"]["same"]) == 1'
	expect_out "^no changes" drydock diff out/h-plain/latest out/h-plain/latest
	# history: both runs of h-hello, the second with its change
	expect_out "upgraded hello-drydock 1.2.3-r0 -> 1.2.4-r0" drydock history -o out h-hello
	[ "$(grep -c ' h-hello ' "$T_TMP/.o")" = 2 ]
	drydock history -o out --json >h.json
	python3 -c 'import json; h = json.load(open("h.json")); assert len(h) == 18, len(h); assert [x["status"] for x in h if x["name"] == "h-plain"] == ["built", "up to date"]'
}

# wait_for PATH-GLOB: until something matches (at most 30 s)
wait_for() {
	n=0
	while ! ls -d $1 >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt 300 ] || t_fail "nothing matched $1"
		sleep 0.1
	done
}

two_batches_one_out() {
	fresh_mirror m
	jobs jobs
	# A holds OUT for as long as x-slow takes to time out (about 3 s)
	DRYDOCK_TEST_HOOK=x-slow:sleep "$DRYDOCK" batch --mirror m -o out --only 'x-slow' jobs >a.out 2>&1 &
	a=$!
	wait_for "out/x-slow/.tmp-*"
	expect_fail 4 "out/batch.lock is held by another batch \(pid $a\) after waiting 0 s" \
		drydock batch --mirror m -o out --only 'h-*' jobs
	[ -z "$(ls out/batch-*.json 2>/dev/null)" ] || t_fail "a refused batch wrote a report"
	[ ! -e out/h-hello ] || t_fail "a refused batch built"
	# B waits for A, then runs
	expect_out "^5 built, 0 up to date, 0 failed$" drydock batch --mirror m -o out --wait 60 --only 'h-*' jobs
	set +e
	wait $a
	rc=$?
	set -e
	[ $rc = 1 ] || t_fail "A exited $rc"
	grep -q "^0 built, 0 up to date, 1 failed (1 timed out)$" a.out
	[ "$(ls out/batch-*.json | wc -l)" = 2 ]
	[ -z "$(ls -d out/*/.tmp-* out/.tmp-* 2>/dev/null)" ] || t_fail "half runs left"
	drydock mirror fsck --mirror m >/dev/null
}

import_and_gc_wait_for_a_batch() {
	fresh_mirror m
	jobs jobs
	DRYDOCK_TEST_HOOK=x-slow:sleep "$DRYDOCK" batch --mirror m -o out --only 'x-slow' jobs >/dev/null 2>&1 &
	a=$!
	wait_for "out/x-slow/.tmp-*"
	drydock mirror gc --mirror m >/dev/null
	[ -n "$(ls out/batch-*.json 2>/dev/null)" ] || t_fail "gc did not wait for the batch"
	wait $a || true
	DRYDOCK_TEST_HOOK=x-slow:sleep "$DRYDOCK" batch --mirror m -o out --only 'x-slow' jobs >/dev/null 2>&1 &
	a=$!
	wait_for "out/x-slow/.tmp-*"
	drydock mirror import --mirror m "$T_TMP/b2.tar" >/dev/null
	[ "$(ls out/batch-*.json | wc -l)" = 2 ] || t_fail "import did not wait for the batch"
	wait $a || true
	# and a batch waits for a writer
	hold_lock m/lock 2
	expect_out "^1 built, 0 up to date, 0 failed$" drydock batch --mirror m -o out --only h-hello jobs
	kill -0 $holder 2>/dev/null && t_fail "the batch did not wait for the writer"
	drydock mirror fsck --mirror m >/dev/null
}

killed_supervisor() {
	fresh_mirror m
	jobs jobs
	DRYDOCK_TEST_HOOK=h-hello:sleep "$DRYDOCK" batch --mirror m -o out --only '[ah]-*' jobs >/dev/null 2>&1 &
	a=$!
	wait_for "out/h-hello/.tmp-*"
	kill -9 $a
	wait $a || true
	# the hung build died with its supervisor: its job lock is free
	n=0
	while ! python3 -c 'import fcntl; fcntl.lockf(open("out/h-hello/.lock", "a"), fcntl.LOCK_EX | fcntl.LOCK_NB)' 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 50 ] || t_fail "a build outlived its supervisor"
		sleep 0.1
	done
	[ ! -e out/h-hello/latest ] || t_fail "a half run is latest"
	for j in h-note h-plain; do [ ! -e out/$j ] || t_fail "$j ran after the kill"; done
	[ -z "$(ls out/batch-*.json 2>/dev/null)" ]
	expect_out "^3 built, 6 up to date, 0 failed$" drydock batch --mirror m -o out --only '[ah]-*' jobs
	r=$(report out)
	for j in h-hello h-note h-plain; do
		[ "$(field "$r" $j status)" = built ] || t_fail "$j: $(field "$r" $j status)"
	done
	[ -z "$(ls -d out/*/.tmp-* out/.tmp-* 2>/dev/null)" ] || t_fail "half runs left"
	drydock mirror fsck --mirror m >/dev/null
}

shards_add_up() {
	jobs jobs
	fresh_mirror m
	set +e
	drydock batch --mirror m -o whole --only '[ahx]-[a-r]*' jobs >/dev/null 2>&1
	for k in 1 2 3; do
		fresh_mirror m$k
		drydock batch --mirror m$k -o out$k --shard $k/3 --only '[ahx]-[a-r]*' jobs >/dev/null 2>&1
	done
	set -e
	python3 - whole out1 out2 out3 <<'PY'
import json, sys, glob
rep = lambda d: json.load(open(sorted(glob.glob(d + "/batch-*.json"))[-1]))
whole = {j["name"]: j for j in rep(sys.argv[1])["jobs"]}
seen = {}
for d in sys.argv[2:]:
    r = rep(d)
    assert r["options"]["shard"], r["options"]
    for j in r["jobs"]:
        assert j["name"] not in seen, j["name"] + " in two shards"
        seen[j["name"]] = j
assert sorted(seen) == sorted(whole), (sorted(seen), sorted(whole))
for n, j in whole.items():
    assert seen[n]["status"] == j["status"], n
    assert seen[n]["digest"] == j["digest"], n
assert sum(1 for r in sys.argv[2:] if rep(r)["jobs"]) >= 2
PY
	expect_fail 1 "^8 built, 0 up to date, 4 failed$" drydock batch-report -o merged.json out1 out2 out3
	python3 - whole/batch-*.json merged.json <<'PY'
import json, sys
w, m = (json.load(open(f)) for f in sys.argv[1:])
assert m["format"] == w["format"] and m["summary"] == w["summary"], (m["summary"], w["summary"])
assert [(j["name"], j["status"], j["digest"]) for j in m["jobs"]] == [(j["name"], j["status"], j["digest"]) for j in w["jobs"]]
assert len(m["shards"]) == 3 and set(m) >= set(w) - {"pruned"}
PY
	expect_fail 1 "job .* is in more than one report" drydock batch-report out1 out1
	# adding a job moves no other
	printf 'base: hello\n' >jobs/h-add.yaml
	for k in 1 2 3; do
		drydock batch --mirror m$k -o again$k --shard $k/3 --only '[ah]-[a-r]*' jobs --json >j$k.json 2>/dev/null || true
	done
	python3 - out1 out2 out3 <<'PY'
import json, sys, glob
for k, d in enumerate(sys.argv[1:], 1):
    old = {j["name"] for j in json.load(open(sorted(glob.glob(d + "/batch-*.json"))[-1]))["jobs"] if not j["name"].startswith("x-")}
    new = {j["name"] for j in json.load(open("j%d.json" % k))["jobs"]}
    assert old <= new and new - old <= {"h-add"}, (k, old, new)
PY
	[ "$(cat j1.json j2.json j3.json | grep -c '"name": "h-add"')" = 1 ]
}

batch_cannot_run() {
	jobs jobs
	expect_fail 3 "no mirror at $PWD/nowhere \(given by --mirror\): create one with 'drydock mirror init $PWD/nowhere'" \
		drydock batch --mirror nowhere -o out jobs
	[ ! -e out ] && [ ! -e nowhere ] || t_fail "a batch with no mirror made out/ or a mirror"
	fresh_mirror m
	expect_fail 3 "job folder missing: No such file or directory" drydock batch --mirror m -o out missing
	trusted_mirror "$S" bare
	expect_fail 3 "mirror bare holds no entitlement manifest: import a bundle that carries one" \
		drydock batch --mirror bare -o out jobs
	expect_fail 3 "no-such-key" drydock batch --mirror m -o out --sign no-such-key.pem jobs
	expect_fail 2 "--shard '4/3': expected K/N" drydock batch --mirror m -o out --shard 4/3 jobs
	expect_fail 2 "missing --out OUT" drydock batch --mirror m jobs
	expect_fail 2 "exactly one job folder" drydock batch --mirror m -o out
	expect_fail 2 "too many operands \('jobs'\): expected JOBDIR" drydock batch --mirror m -o out jobs jobs
	expect_fail 2 "--jobs '0'" drydock batch --mirror m -o out -j 0 jobs
	# an empty folder is a batch of nothing
	mkdir empty
	expect_out "^0 built, 0 up to date, 0 failed$" drydock batch --mirror m -o out empty
	# twins: a.yaml and a.yml would share OUT/a/
	mkdir twins
	printf 'base: hello\n' >twins/a.yaml
	printf 'base: hello\n' >twins/a.yml
	expect_fail 1 "a.yaml and a.yml are both job a" drydock batch --mirror m -o out twins
}

keep_prunes_runs_and_blobs() {
	fresh_mirror m
	jobs jobs
	drydock batch --mirror m -o out --only 'h-hello' jobs >/dev/null 2>&1
	first=$(readlink out/h-hello/latest)
	printf 'environment:\n  N: "1"\n' >>jobs/h-hello.yaml
	drydock batch --mirror m -o out --only 'h-hello' jobs >/dev/null 2>&1
	printf '  M: "2"\n' >>jobs/h-hello.yaml
	drydock batch --mirror m -o out --only 'h-hello' --keep 1 --json jobs >r.json 2>/dev/null
	latest=$(readlink out/h-hello/latest)
	[ "$(ls out/h-hello | grep -c '^2')" = 1 ] || t_fail "$(ls out/h-hello)"
	[ -d out/h-hello/$latest ] && [ ! -e out/h-hello/$first ]
	python3 - r.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["pruned"]
assert len(p["runs"]) == 2 and p["blobs"] >= 4 and p["bytes"] > 0, p
PY
	# no blob without a run; the kept run is whole, with its oci-archive
	for f in out/.blobs/sha256/*; do
		[ "$(stat -c %h "$f")" -gt 1 ] || t_fail "orphan blob $f"
	done
	run=out/h-hello/latest
	[ "$(sha256sum $run/image.oci.tar | cut -c1-64)" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["archive_sha256"])' $run/result.json)" ]
	for b in $run/image/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -c1-64)" = "$(basename "$b")" ] || t_fail "$b"
	done
}

# On a terminal a batch shows its progress on stderr (jobs done, the rate,
# the time left, and the total time at the end) and colours each job's
# status; under NO_COLOR no colour, and in a pipe, a log or cron's mail
# neither (mirror.sh checks the same of an import's progress).
terminal_only_progress_and_colour() {
	command -v script >/dev/null 2>&1 || t_skip "script(1) (util-linux) is not installed"
	fresh_mirror m
	mkdir j
	printf 'base: hello\n' >j/a.yaml
	printf 'base: alt\n' >j/b.yaml
	printf 'base: nowhere\n' >j/c.yaml
	script -qec "'$DRYDOCK' batch --mirror m -o out j" /dev/null </dev/null >tty.out || true
	grep -Eq 'batch: 3/3 jobs, [0-9.]+ jobs/s, [0-9hms]+ in all' tty.out ||
		t_fail "no batch progress on a terminal: $(cat -v tty.out)"
	grep -q '^2 built, 0 up to date, 1 failed' tty.out || t_fail "the summary is missing: $(cat -v tty.out)"
	esc=$(printf '\033')
	grep -q "^a  *${esc}\[32mbuilt" tty.out || t_fail "'built' is not green: $(cat -v tty.out)"
	grep -q "^c  *${esc}\[1;31mfailed" tty.out || t_fail "'failed' is not red: $(cat -v tty.out)"
	script -qec "NO_COLOR=1 '$DRYDOCK' batch --mirror m -o out2 j" /dev/null </dev/null >tty.out || true
	grep -q "^a  *built" tty.out || t_fail "no plain status under NO_COLOR: $(cat -v tty.out)"
	! grep -q "${esc}\[[0-9;]*m" tty.out || t_fail "colour under NO_COLOR: $(cat -v tty.out)"
	set +e
	drydock batch --mirror m -o out3 j >pipe.out 2>pipe.err
	set -e
	! grep -q 'jobs/s' pipe.out pipe.err || t_fail "progress printed to a pipe"
	! grep -q "$esc" pipe.out pipe.err || t_fail "escape sequences in a pipe"
}

# -v: a batch names each job as it starts and ends, a build writes its log
# to standard error as well; standard output is as without -v.
verbose_notes() {
	fresh_mirror m
	mkdir j
	printf 'base: hello\n' >j/a.yaml
	drydock batch -v --mirror m -o out j >out.txt 2>err.txt
	grep -Eq '^drydock: a: building \(pid [0-9]+\)$' err.txt || t_fail "no start note: $(cat err.txt)"
	grep -Eq '^drydock: a: built in [0-9.]+ s$' err.txt || t_fail "no end note: $(cat err.txt)"
	grep -q '^1 built, 0 up to date, 0 failed' out.txt || t_fail "the summary changed: $(cat out.txt)"
	drydock build -v --mirror m -o out2 j/a.yaml >out.txt 2>err.txt
	grep -q '^drydock: plan (x86_64): ' err.txt || t_fail "build -v: no log line: $(cat err.txt)"
	r=$(ls -d out2/a/2*)
	grep -q "$(sed -n 's/^drydock: \(plan (x86_64): .*\)/\1/p' err.txt | head -n 1)" "$r/build.log" ||
		t_fail "the note is not the log's line"
}

t_run batch_reports_each_job
t_run same_batch_is_up_to_date
t_run upgrade_rebuilds_its_users
t_run two_batches_one_out
t_run import_and_gc_wait_for_a_batch
t_run killed_supervisor
t_run shards_add_up
t_run batch_cannot_run
t_run keep_prunes_runs_and_blobs
t_run terminal_only_progress_and_colour
t_run verbose_notes
