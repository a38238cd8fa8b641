#!/bin/sh
# drydock report: one self-contained HTML page per run, checked in a real
# browser (headless chromium driven by playwright-core) where one is
# installed, and for what it must never contain everywhere.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
K=$T_TMP/keys
mkdir -p "$K"
openssl genpkey -algorithm ed25519 -out "$K/ed.pem" 2>/dev/null
openssl pkey -in "$K/ed.pem" -pubout -out "$K/ed.pub" 2>/dev/null
IN=$T_TMP/in
bundle_dir "$S" "$IN"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
R=$T_TMP/runs
drydock build --mirror "$M" -o "$R" --sign "$K/ed.pem" "$TOP/fixtures/jobs/hello.yaml" >/dev/null
RUN=$R/hello/latest
ART=$TOP/build/test-artefacts
mkdir -p "$ART"

# browser PAGE ROWS FAILED_CHECK NAME: the page in chromium, a screenshot kept as NAME.png
browser() {
	[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] ||
		t_skip "page checked without a browser: chromium is absent (scripts/install-deps installs it)"
	[ -d "$TOP/tests/node/node_modules/playwright-core" ] ||
		t_skip "page checked without a browser: tests/node has no playwright-core (scripts/install-deps runs npm ci)"
	node "$TOP/tests/node/report-browser.js" "$1" "$2" "$3" "$ART/$4.png" >b.out 2>&1 ||
		{ cat b.out; t_fail "the browser saw a problem in $1"; }
	echo "screenshot: $ART/$4.png"
}

# static PAGE: what a report must never hold, checked without a browser
static() {
	! grep -Eiq '<script|<link|<img|<iframe|<object|url\(' "$1" || t_fail "$1 loads or runs something"
	grep -q '<style>' "$1" || t_fail "no inline style"
}

report_of_a_good_run() {
	expect_out "^r.html: verified" drydock report --key "$K/ed.pub" -o r.html "$RUN"
	static r.html
	grep -q 'id="verdict">verified: every check that could run passed (11)' r.html || t_fail "verdict"
	grep -q '<td>hello-drydock</td><td>1.2.3-r0</td><td>MIT</td><td class="ok">guarded</td><td>topping</td><td>requested</td><td>stable#1 (' r.html ||
		t_fail "package row"
	grep -q '<td>base-files</td><td>1.0-r0</td>.*<td>crust</td>' r.html || t_fail "crust row"
	grep -q 'ed25519 key <code>SHA256:' r.html || t_fail "signer"
	grep -q 'entitlement manifest version 1' r.html || t_fail "entitlement"
	browser r.html 2 - report-good
}

report_of_a_tampered_run() {
	cp -a "$(cd "$RUN" && pwd -P)" bad
	# package metadata is untrusted: a name that is markup, in an edited result.json
	python3 - bad/result.json <<'PY'
import json, sys
p = sys.argv[1]
r = json.load(open(p))
r["archs"][0]["packages"][1]["name"] = "<img src=x onerror=alert(1)><b>bold</b>"
r["warnings"].append("</ul><script>alert(2)</script>")
json.dump(r, open(p, "w"))
PY
	expect_fail 1 "^r.html: NOT VERIFIED: 1 checks failed" drydock report --key "$K/ed.pub" -o r.html bad
	static r.html
	grep -q 'data-check="record"><td>record</td><td class="fail">FAIL</td><td>result.json: its content hashes to' r.html || t_fail "record row"
	grep -q '&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;bold&lt;/b&gt;' r.html || t_fail "name not escaped"
	browser r.html 2 record report-tampered
}

report_against_another_run() {
	drydock build --mirror "$M" -o o2 --sign "$K/ed.pem" "$TOP/fixtures/jobs/hello.yaml" >/dev/null
	printf 'base: hello\ncontents:\n  packages: [hello-drydock]\ncmd: other\n' >hello.yaml
	drydock build --mirror "$M" -o o3 --sign "$K/ed.pem" hello.yaml >/dev/null
	expect_out "verified" drydock report --key "$K/ed.pub" --against "$RUN" -o same.html o2/hello/latest
	grep -q '<p>image unchanged' same.html || t_fail "same image"
	grep -q 'no package changed' same.html || t_fail "no change"
	expect_out "verified" drydock report --key "$K/ed.pub" --against "$RUN" -o diff.html o3/hello/latest
	grep -q '<p>image changed' diff.html || t_fail "changed image"
	grep -q 'first difference in the image: the image' diff.html || t_fail "first difference"
	browser diff.html 2 - report-against
	expect_fail 1 "result.json: missing or not JSON: give a run folder" drydock report -o x.html "$T_TMP"
	expect_fail 2 "give one run folder" drydock report
}

# --json: the page written, the verdict and how many checks failed, with
# the exit status the lines give; no document when there is no page.
report_json() {
	drydock report --json --key "$K/ed.pub" -o good.html "$RUN" >good.json
	cp -a "$(cd "$RUN" && pwd -P)" bad
	python3 - bad/result.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["warnings"].append("edited after signing")
json.dump(r, open(sys.argv[1], "w"))
PY
	rc=0
	drydock report --json --key "$K/ed.pub" -o bad.html bad >bad.json || rc=$?
	[ "$rc" = 1 ] || t_fail "a failed check with --json exited $rc, not 1"
	python3 - good.json bad.json "$RUN" <<'PY'
import json, sys
good, bad = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert good == {"file": "good.html", "run": sys.argv[3], "verified": True, "checks_failed": 0}, good
assert bad == {"file": "bad.html", "run": "bad", "verified": False, "checks_failed": 1}, bad
PY
	[ -s good.html ] && [ -s bad.html ] || t_fail "--json wrote no page"
	rc=0
	drydock report --json -o none.html . >none.json 2>none.err || rc=$?
	[ "$rc" = 1 ] && [ ! -s none.json ] && [ -s none.err ] ||
		t_fail "report --json of a non-run: exit $rc, stdout '$(cat none.json)'"
}

t_run report_of_a_good_run
t_run report_of_a_tampered_run
t_run report_against_another_run
t_run report_json
