#!/bin/sh
# Every C file is as .clang-format writes it.  The style is pinned to
# clang-format 14 (Debian 12's; another version formats some lines
# otherwise), so the check is skipped, saying so, without it.  To format
# a file: clang-format-14 -i FILE.
. "$(dirname "$0")/../lib.sh"

c_files_are_formatted() {
	command -v clang-format-14 >/dev/null 2>&1 ||
		t_skip "clang-format-14 is not installed (scripts/install-deps)"
	cd "$TOP"
	files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null) ||
		t_skip "not a git checkout: no list of the project's files"
	[ -n "$files" ] || t_fail "no C files found under $TOP"
	# shellcheck disable=SC2086
	clang-format-14 --dry-run --Werror $files >"$T_TMP/format.out" 2>&1 || {
		grep -o '^[^:]*:[0-9]*' "$T_TMP/format.out" | sort -u | head -n 20 >&2
		t_fail "these lines are not as .clang-format writes them: run clang-format-14 -i on the files"
	}
}

t_run c_files_are_formatted
