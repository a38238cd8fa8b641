#!/bin/sh
# drydock pkg resolve: apk-tools' choices against plain index files, and
# closures of real Alpine 3.16 packages checked from outside the solver.
. "$(dirname "$0")/../lib.sh"
ALPINE=$CORPUS/apk/alpine-316/APKINDEX.tar.gz
SOLVER=$CORPUS/apk-tools/solver
# The crust of docs/entitlements.md: busybox is what provides /bin/sh.
CRUST="alpine-baselayout busybox musl"

need_resolve() {
	drydock pkg resolve --help >/dev/null 2>&1 ||
		t_skip "'drydock pkg resolve' is not in the pkg command table yet"
}

need_alpine() {
	need_resolve
	[ -f "$ALPINE" ] || t_skip "corpus absent: $ALPINE"
}

need_solver_corpus() {
	need_resolve
	[ -d "$SOLVER" ] || t_skip "corpus absent: $SOLVER"
}

small_repo() {
	cat >repo.txt <<'EOF'
P:lib
V:1

P:lib
V:2

P:app
V:1
D:lib>=2 !old

P:old
V:1
EOF
}

# check_closure FILE.json: every dependency of every chosen package is
# met inside the set (by name or provides, honouring versions, which
# `drydock pkg version` compares), no conflict holds, one package per name.
check_closure() {
	cat >check.py <<'EOF'
import json, re, subprocess, sys

pkgs = json.load(open(sys.argv[1]))["packages"]
drydock = sys.argv[2]
cache = {}

def cmp(a, b):
    if (a, b) not in cache:
        out = subprocess.run([drydock, "pkg", "version", a, b], capture_output=True,
                             text=True, check=True).stdout.strip()
        cache[(a, b)] = out
    return cache[(a, b)]

DEP = re.compile(r"^(!?)([^<>=~]+)(?:([<>=~]+)(.+))?$")

def parse(d):
    m = DEP.match(d)
    assert m, d
    return m.group(1) == "!", m.group(2), m.group(3), m.group(4)

def version_ok(have, op, want):
    if op is None:
        return True
    if have is None:
        return False  # stricter than apk: an unversioned provide meets no version
    if "~" in op and (have == want or have.startswith(want)):
        return True
    c = cmp(have, want)
    return ((c == "<" and "<" in op) or (c == ">" and ">" in op)
            or (c == "=" and ("=" in op or "~" in op)))

def offers(p, name):
    """Versions under which p offers name (None: without a version)."""
    out = [p["version"]] if p["name"] == name else []
    for prov in p["provides"]:
        _, n, _, v = parse(prov)
        if n == name:
            out.append(v)
    return out

names = [p["name"] for p in pkgs]
assert len(names) == len(set(names)), "a name chosen twice"
bad = []
for p in pkgs:
    for d in p["depends"]:
        neg, name, op, want = parse(d)
        held = any(version_ok(v, op, want) for q in pkgs if not (neg and q is p)
                   for v in offers(q, name))
        if held == neg:
            bad.append("%s-%s: %s %s" % (p["name"], p["version"], d,
                                         "holds" if neg else "not met"))
print("%d packages, %d version comparisons" % (len(pkgs), len(cache)))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
	python3 check.py "$1" "$DRYDOCK"
}

install_order() {
	need_resolve
	small_repo
	drydock pkg resolve --repo repo.txt app >out.txt
	printf 'lib-2\napp-1\n' | diff - out.txt
	drydock pkg resolve --repo repo.txt 'lib<2' app old >out.txt 2>err.txt && t_fail "resolved"
	grep -q "^drydock: unable to select packages:" err.txt || t_fail "no report"
}

json_output() {
	need_resolve
	small_repo
	drydock pkg resolve --json --repo repo.txt app >out.json
	python3 - out.json <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["count"] == 2, j
assert [(p["name"], p["version"], p["reason"]) for p in j["packages"]] == \
    [("lib", "2", "app-1"), ("app", "1", "world[app]")], j
assert j["packages"][1]["depends"] == ["lib>=2", "!old"], j
EOF
}

usage_errors() {
	need_resolve
	small_repo
	expect_fail 2 "missing --repo FILE" drydock pkg resolve app
	expect_fail 2 "nothing to resolve" drydock pkg resolve --repo repo.txt
	expect_fail 2 "" drydock pkg resolve --no-such-option --repo repo.txt app
	expect_out "^usage: drydock pkg resolve" drydock pkg resolve --help
	expect_fail 1 "missing.txt" drydock pkg resolve --repo missing.txt app
}

# apk-tools' error9/10/8 cases: a world entry must be a valid dependency.
invalid_world_deps() {
	need_resolve
	small_repo
	fmt='format is name\(@tag\)\(\[<>~=\]version\)$'
	for d in 'foo=' 'foo==' 'foo=invalid'; do
		expect_fail 1 "^drydock: '$d' is not a valid world dependency, $fmt" \
			drydock pkg resolve --repo repo.txt "$d"
	done
}

no_such_package() {
	need_alpine
	expect_fail 1 "nonexistent \(no such package\):" \
		drydock pkg resolve --repo "$ALPINE" python3 nonexistent
	grep -q "required by: world\[nonexistent\]" "$T_TMP/.o" || t_fail "no 'required by'"
}

unmet_version() {
	need_alpine
	expect_fail 1 "^drydock: unable to select packages:" \
		drydock pkg resolve --repo "$ALPINE" 'python3<3'
	grep -Eq "^  python3-3\.10\.[0-9]+-r[0-9]+:$" "$T_TMP/.o" || t_fail "package not named"
	grep -q "breaks: world\[python3<3\]" "$T_TMP/.o" || t_fail "constraint not named"
}

# Without a crust nothing provides /bin/sh on its own: busybox offers it
# unversioned and without a provider_priority, which apk-tools will not
# pick unasked.
virtual_needs_choice() {
	need_alpine
	expect_fail 1 "/bin/sh \(virtual\):" drydock pkg resolve --repo "$ALPINE" nginx
	grep -q "provided by: busybox" "$T_TMP/.o" || t_fail "provider not named"
	grep -q "required by: nginx-1.22.1-r0\[/bin/sh\]" "$T_TMP/.o" || t_fail "requirer not named"
}

alpine_closures() {
	need_alpine
	for p in python3 nginx git build-base; do
		# shellcheck disable=SC2086
		drydock pkg resolve --json --repo "$ALPINE" $CRUST $p >"$p.json"
		check_closure "$p.json" || t_fail "$p: closure broken"
		# shellcheck disable=SC2086
		drydock pkg resolve --repo "$ALPINE" $CRUST $p >"$p.1"
		# shellcheck disable=SC2086
		drydock pkg resolve --repo "$ALPINE" $p $CRUST >"$p.2"
		cmp -s "$p.1" "$p.2" || t_fail "$p: the order of the arguments changed the result"
		grep -qx "$p-[0-9].*" "$p.1" || t_fail "$p: not in its own closure"
	done
	drydock pkg resolve --json --repo "$ALPINE" $CRUST python3 nginx git build-base >all.json
	check_closure all.json || t_fail "all four: closure broken"
}

# A few of apk-tools' own cases through the command line.
apk_tools_cases() {
	need_solver_corpus
	drydock pkg resolve --repo "$SOLVER/provides21.repo" postmarketos-base-systemd \
		pc:polkit-gobject-1 >out.txt
	printf 'polkit-999124\npolkit-dev-999124\npostmarketos-base-systemd-1\n' | diff - out.txt
	expect_fail 1 "arch: badarch" drydock pkg resolve --repo "$SOLVER/basic.repo" badarch
	drydock pkg resolve --repo "$SOLVER/complicated1.repo" a 'd>1.5' 2>err.txt && t_fail "resolved"
	cat >want.txt <<'EOF'
drydock: unable to select packages:
  d-2.0:
    breaks: b-1[d<2.0]
    satisfies: world[d>1.5] a-3[d>1.5] c-1[d>1.0]
EOF
	diff want.txt err.txt
	drydock pkg resolve --force-broken-world --repo "$SOLVER/basic.repo" a not-in-repo >out.txt
	printf 'b-2\na-2\n' | diff - out.txt
}

t_run install_order
t_run json_output
t_run usage_errors
t_run invalid_world_deps
t_run no_such_package
t_run unmet_version
t_run virtual_needs_choice
t_run alpine_closures
t_run apk_tools_cases
