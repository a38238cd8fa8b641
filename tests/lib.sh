# Shared helpers for command-level tests.  Source it from tests/cmd/*.sh.
# Each test is a shell function run by t_run NAME: it fails when any
# command in it fails (set -e in a subshell) or it calls t_fail; t_skip
# WHY marks it skipped.  Every outcome prints one PASS/FAIL/SKIP line
# that tests/run counts.

: "${DRYDOCK:?DRYDOCK must point at the drydock binary}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${DD_CORPUS:-$TOP/../shared/corpus}
SUITE=$(basename "$0" .sh)
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/drydock-test.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT
export SOURCE_DATE_EPOCH=1700000000
# no site configuration but the one a test writes (drydock-config(1))
export DRYDOCK_SYSCONFDIR="$T_TMP/no-sysconfdir"
unset DRYDOCK_CONFIG

drydock() { "$DRYDOCK" "$@"; }

t_fail() { echo "  $*" >&2; exit 1; }
t_skip() { echo "$*" >"$T_TMP/.skip"; exit 77; }

# t_run NAME: run the function NAME in a subshell, in a fresh directory.
# Under tests/run's sanitizer-report collection ($DD_SAN_DIR), the
# reports of the drydock processes NAME starts go to a folder of NAME's
# own, and any report fails NAME (a leak on an error path included).
t_run() {
	name=$1
	dir="$T_TMP/$name"
	mkdir -p "$dir"
	rm -f "$T_TMP/.skip"
	san=
	if [ -n "${DD_SAN_DIR:-}" ]; then
		san=$DD_SAN_DIR/$SUITE.$name
		rm -rf "$san"
		mkdir -p "$san"
	fi
	(
		if [ -n "$san" ]; then
			export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$san/asan"
			export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$san/ubsan"
		fi
		cd "$dir" && set -e && "$name"
	) >"$dir/.out" 2>&1
	rc=$?
	reports=
	[ -z "$san" ] || reports=$(cd "$san" && ls)
	if [ -n "$reports" ]; then
		echo "FAIL: $SUITE/$name (sanitizer report:" $reports")"
		for r in "$san"/*; do
			sed 's/^/    /' "$r" | head -n 60
		done
	elif [ $rc -eq 0 ]; then
		echo "PASS: $SUITE/$name"
	elif [ $rc -eq 77 ]; then
		echo "SKIP: $SUITE/$name: $(cat "$T_TMP/.skip")"
	else
		echo "FAIL: $SUITE/$name"
		sed 's/^/    /' "$dir/.out" | tail -n 30
	fi
}

need_corpus() { [ -d "$CORPUS/apk" ] || t_skip "corpus absent: $CORPUS"; }

# expect_fail CODE PATTERN CMD...: CMD exits with CODE and its stderr or
# stdout matches PATTERN (grep -E).
expect_fail() {
	code=$1 pat=$2
	shift 2
	set +e
	"$@" >"$T_TMP/.o" 2>&1
	got=$?
	set -e
	if [ "$got" -ne "$code" ]; then
		cat "$T_TMP/.o" >&2
		t_fail "expected exit $code, got $got: $*"
	fi
	grep -Eq -- "$pat" "$T_TMP/.o" || { cat "$T_TMP/.o" >&2; t_fail "output lacks /$pat/: $*"; }
}

# expect_out PATTERN CMD...: CMD succeeds and prints PATTERN.
expect_out() {
	pat=$1
	shift
	"$@" >"$T_TMP/.o" 2>&1 || { cat "$T_TMP/.o" >&2; t_fail "failed: $*"; }
	grep -Eq -- "$pat" "$T_TMP/.o" || { cat "$T_TMP/.o" >&2; t_fail "output lacks /$pat/: $*"; }
}

# make_key NAME: an RSA key pair NAME.rsa / NAME.rsa.pub in the cwd.
make_key() {
	openssl genrsa -out "$1.rsa" 2048 2>/dev/null
	openssl rsa -in "$1.rsa" -pubout -out "$1.rsa.pub" 2>/dev/null
}

# build_fixture NAME KEY OUT: build fixtures/packages/NAME into OUT.
build_fixture() {
	src=$TOP/fixtures/packages/$1
	set -- "$src" "$2" "$3"
	scripts=""
	for s in "$src"/scripts/.[a-z]*; do
		[ -f "$s" ] && scripts="$scripts --script $s"
	done
	# shellcheck disable=SC2086
	drydock pkg build --info "$src/PKGINFO" $scripts --sign "$2" -o "$3" "$src/root"
}

# ---- mirror fixtures ------------------------------------------------------
# setup_signers DIR: a GnuPG home DIR/gnupg holding three passphrase-less
# keys: "bundle" (signs bundles), "entitlement" (signs entitlement
# manifests) and "other" (trusted by nobody); their public keys exported
# to DIR/{bundle,entitlement,other}.asc; an APK RSA key DIR/apk.rsa(.pub).
setup_signers() {
	d=$1
	mkdir -p "$d" && mkdir -m 700 "$d/gnupg"
	for k in bundle entitlement other; do
		gpg --homedir "$d/gnupg" --batch --passphrase '' --quick-gen-key \
			"$k signer <$k@example.invalid>" ed25519 sign never 2>/dev/null
		gpg --homedir "$d/gnupg" --export --armor "$k@example.invalid" >"$d/$k.asc"
	done
	(cd "$d" && make_key apk)
}

# kill_agents DIR: stop the gpg-agent signing started for DIR/gnupg.
kill_agents() { gpgconf --homedir "$1/gnupg" --kill all 2>/dev/null || true; }

# entitlement_json VERSION EXPIRES [PACKAGES-JSON]
entitlement_json() {
	pk=${3:-}
	[ -n "$pk" ] || pk='[{"name": "base-files", "version": "1.0-r0"}, {"name": "hello-drydock", "version": "1.2.3-r0"}]'
	cat <<JSON
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": $1,
 "issued": "2026-01-01T00:00:00Z", "expires": "$2",
 "images": [{"name": "hello", "base": ["base-files"],
  "packages": $pk}]}
JSON
}

# bundle_dir SIGNERS DIR: packages built from fixtures/packages, signed with
# the APK key, and a signed entitlement manifest (version 1, until 2030).
bundle_dir() {
	mkdir -p "$2/packages"
	for p in base-files hello-drydock base-files-alt; do
		build_fixture "$p" "$1/apk.rsa" "$2/packages/$p.apk" >/dev/null
	done
	entitlement_json 1 2030-01-01T00:00:00Z >"$2/entitlements.json"
	sign_entitlement "$1" "$2/entitlements.json"
}

sign_entitlement() {
	rm -f "$2.sig"
	gpg --homedir "$1/gnupg" --batch --detach-sign -u "entitlement@example.invalid" \
		-o "$2.sig" "$2"
}

# make_bundle SIGNERS DIR OUT SEQ [KEY] [EXPIRES] [extra create options]
make_bundle() {
	s=$1 dir=$2 out=$3 seq=$4 key=${5:-bundle} exp=${6:-2030-01-01}
	shift 4
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	drydock bundle create --channel stable --sequence "$seq" --expires "$exp" \
		--sign "$key@example.invalid" --gnupg-home "$s/gnupg" "$@" -o "$out" "$dir" >/dev/null
}

# trusted_mirror SIGNERS MIRROR: a mirror (made when missing) trusting the
# bundle, entitlement and apk keys of SIGNERS for their roles.
trusted_mirror() {
	drydock mirror init "$2" >/dev/null
	drydock trust add --mirror "$2" --role bundle "$1/bundle.asc" >/dev/null
	drydock trust add --mirror "$2" --role entitlement "$1/entitlement.asc" >/dev/null
	drydock trust add --mirror "$2" --role apk "$1/apk.rsa.pub" >/dev/null
}

# mirror_of SIGNERS DIR MIRROR: bundle DIR (sequence 1) and import it into
# MIRROR, a new mirror trusting the keys of SIGNERS.
mirror_of() {
	make_bundle "$1" "$2" "$T_TMP/mirror_of.tar" 1
	trusted_mirror "$1" "$3"
	drydock mirror import --mirror "$3" "$T_TMP/mirror_of.tar" >/dev/null
	rm -f "$T_TMP/mirror_of.tar"
}

# hold_lock FILE SECONDS: in the background, hold a POSIX record lock on
# FILE as another drydock would; returns once it is held, with its pid
# in $holder.
hold_lock() {
	rm -f "$T_TMP/.held"
	python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(int(sys.argv[3]))' "$1" "$T_TMP/.held" "$2" &
	holder=$!
	while [ ! -e "$T_TMP/.held" ]; do sleep 0.1; done
}

# snapshot MIRROR: one line per file (all but the audit log) and its sha256.
snapshot() {
	(cd "$1" && find . -type f ! -name audit.log -print0 | sort -z | xargs -0 sha256sum)
}

# build_static_fixture KEY OUT [NAME]: the package NAME (default
# hello-static), its program NAME.c compiled now (statically: the image
# holds nothing else). Fails when the machine cannot link statically.
build_static_fixture() {
	n=${3:-hello-static}
	src=$TOP/fixtures/packages/$n
	r=$(mktemp -d "$T_TMP/static.XXXXXX")
	mkdir -p "$r/usr/bin"
	${CC:-cc} -static -Os -s -o "$r/usr/bin/$n" "$src/$n.c" || return 1
	drydock pkg build --info "$src/PKGINFO" --set "arch=$(uname -m)" --sign "$1" -o "$2" "$r"
}

# layout_manifest DIR: the manifest (JSON) of the single image in the
# OCI layout DIR.
layout_manifest() {
	python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = idx["manifests"][0]["digest"].split(":")[1]
print(open(d + "/blobs/sha256/" + m).read())
PY
}

# apko_mirror SIGNERS MIRROR: apko's test repository (both architectures)
# bundled with an entitlement manifest whose image "layout" has the base
# pretend-baselayout and also entitles replayout, imported into MIRROR,
# which trusts melange.rsa.pub. Needs the corpus.
apko_mirror() {
	r=$CORPUS/apk/apko-testrepo
	mkdir -p repo
	cp -r "$r/x86_64" "$r/aarch64" repo/
	pk='[{"name": "pretend-baselayout", "version": "1.0.0-r0"}, {"name": "replayout", "version": "1.0.0-r0"}]'
	cat >repo/entitlements.json <<JSON
{"format": "drydock-entitlements/1", "organization": "Example Site", "version": 1,
 "issued": "2026-01-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z",
 "images": [{"name": "layout", "base": ["pretend-baselayout"], "packages": $pk}]}
JSON
	sign_entitlement "$1" repo/entitlements.json
	make_bundle "$1" repo apko.tar 1
	trusted_mirror "$1" "$2"
	drydock trust add --mirror "$2" --role apk "$r/melange.rsa.pub" >/dev/null
	drydock mirror import --mirror "$2" apko.tar >/dev/null
}
