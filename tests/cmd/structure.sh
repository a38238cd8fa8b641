#!/bin/sh
# The shape of src/ that src/README.md describes, checked: modules include
# only modules below them, SQL lives only in store/, private headers stay
# in their module, and third-party headers stay out of public headers.
. "$(dirname "$0")/../lib.sh"

# Module order, lowest first; a module may include its own headers and
# those of any module on an earlier line.  Modules on one line are peers
# and include none of each other.
LAYERS='core
trust
apk
store solve
job
advisory
evidence
bundle image
batch
cli'

rank() { echo "$LAYERS" | awk -v m="$1" '{ for (i = 1; i <= NF; i++) if ($i == m) print NR }'; }

# "FILE INCLUDED-MODULE" for every #include "module/..." in src/
includes() {
	(cd "$TOP" && grep -o '^#include "[a-z_]*/[a-z_]*\.h"' src/*/*.[ch]) |
		sed 's|^\(src/[^:]*\):#include "\([a-z_]*\)/.*|\1 \2|'
}

no_include_from_a_lower_module() {
	includes >"$T_TMP/inc"
	[ -s "$T_TMP/inc" ] || t_fail "found no includes in $TOP/src"
	bad=
	while read -r file to; do
		from=${file#src/}
		from=${from%%/*}
		[ "$from" = "$to" ] && continue
		rf=$(rank "$from")
		rt=$(rank "$to")
		[ -n "$rf" ] || t_fail "$file: module '$from' is not in this test's LAYERS (add it where it belongs, and to src/README.md)"
		[ -n "$rt" ] || t_fail "$file includes module '$to', which is not in LAYERS"
		[ "$rt" -lt "$rf" ] || bad="$bad
  $file includes $to/ (layer $rt), not below $from/ (layer $rf)"
	done <"$T_TMP/inc"
	[ -z "$bad" ] || t_fail "upward or sideways includes:$bad"
}

every_module_is_described() {
	for d in "$TOP"/src/*/; do
		m=$(basename "$d")
		[ -n "$(rank "$m")" ] || t_fail "src/$m/ is not in LAYERS"
		grep -q "^|.*\`$m/\`" "$TOP/src/README.md" || t_fail "src/README.md does not describe $m/"
	done
}

sql_only_in_store() {
	(cd "$TOP" && grep -ln 'sqlite3\|SELECT \|INSERT \|UPDATE .* SET\|DELETE FROM' src/*/*.[ch] src/*.c) |
		grep -v '^src/store/' >"$T_TMP/sql" || true
	[ ! -s "$T_TMP/sql" ] || t_fail "SQL or sqlite3 outside src/store/: $(cat "$T_TMP/sql")"
}

# store/db.h (the sqlite3 handle) and any *_private.h are for their own
# module's files only.
private_headers_stay_home() {
	(cd "$TOP" && grep -o '^#include "[a-z_]*/\(db\|[a-z_]*_private\)\.h"' src/*/*.[ch]) |
		sed 's|^src/\([a-z_]*\)/[^:]*:#include "\([a-z_]*\)/.*|\1 \2 &|' |
		awk '$1 != $2 { print substr($0, index($0, $3)) }' >"$T_TMP/priv"
	[ ! -s "$T_TMP/priv" ] || t_fail "private headers included from another module: $(cat "$T_TMP/priv")"
}

# Public headers name only our own types, the C library's and OpenSSL's
# and jansson's (which the API passes around); the other libraries' types
# stay in the .c files and private headers.
no_third_party_types_in_public_headers() {
	(cd "$TOP" && grep -ln '^#include <\(sqlite3\|zlib\|zstd\|libdeflate\|archive\|archive_entry\|gpgme\|yaml\)\.h>\|^#include <isa-l' \
		src/*/*.h) | grep -v '/db\.h$\|_private\.h$' >"$T_TMP/pub" || true
	[ ! -s "$T_TMP/pub" ] || t_fail "third-party headers in public headers: $(cat "$T_TMP/pub")"
}

t_run no_include_from_a_lower_module
t_run every_module_is_described
t_run sql_only_in_store
t_run private_headers_stay_home
t_run no_third_party_types_in_public_headers
