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

drydock() { "$DRYDOCK" "$@"; }

t_fail() { echo "  $*" >&2; exit 1; }
t_skip() { echo "$*" >"$T_TMP/.skip"; exit 77; }

# t_run NAME: run the function NAME in a subshell, in a fresh directory.
t_run() {
	name=$1
	dir="$T_TMP/$name"
	mkdir -p "$dir"
	rm -f "$T_TMP/.skip"
	( cd "$dir" && set -e && "$name" ) >"$dir/.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
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
