#!/bin/sh
# The manual: one page per command, docs/man/drydock-COMMAND.1.scd, that
# agrees with the command's option tables (`drydock help --options-dump`)
# both ways, renders with scdoc, and is what `drydock help COMMAND` shows.
# Every list here comes from the binary, so a new command or option is
# covered without touching this file.
. "$(dirname "$0")/../lib.sh"
MAN=$TOP/docs/man

# dump: the option rows (command, short, long, argument, kind, flags,
# environment, help), tab-separated; tops: the commands `drydock help` lists.
dump() {
	drydock help --options-dump | awk -F'\t' 'NF == 8' >"$T_TMP/dump"
	[ -s "$T_TMP/dump" ] || t_fail "the option dump is empty"
	drydock help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' >"$T_TMP/tops"
	[ "$(wc -l <"$T_TMP/tops")" -ge 14 ] || t_fail "drydock help lists too few commands"
}

# page_options TOP: "SECTION<TAB>--long" for every long option an option
# term of drydock-TOP(1)'s OPTIONS names; SECTION is the "## mirror import"
# subsection it is in, or TOP before the first subsection.
page_options() {
	awk -v top="$1" '
		/^# / { on = ($0 == "# OPTIONS"); sect = top; next }
		!on { next }
		/^## / { sect = substr($0, 4); next }
		/^\*-/ {
			line = $0
			while (match(line, /--[a-z0-9][a-z0-9-]*/)) {
				print sect "\t" substr(line, RSTART, RLENGTH)
				line = substr(line, RSTART + RLENGTH)
			}
		}' "$MAN/drydock-$1.1.scd"
}

# section TOP NAME: the text of the section "# NAME" of drydock-TOP(1).
section() {
	awk -v h="# $2" '/^# / { on = ($0 == h); next } on' "$MAN/drydock-$1.1.scd"
}

every_command_has_a_page() {
	dump
	while IFS= read -r top; do
		p=$MAN/drydock-$top.1.scd
		[ -f "$p" ] || t_fail "'$top' has no man page $p"
		[ "$(head -n 1 "$p")" = "drydock-$top(1)" ] || t_fail "$p does not start with drydock-$top(1)"
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' 'SEE ALSO'; do
			grep -qx "# $s" "$p" || t_fail "$p has no $s section"
		done
		section "$top" NAME | grep -q "^drydock-$top - [a-z]" ||
			t_fail "$p: NAME is not 'drydock-$top - what it does'"
		# each (sub)command's usage line, and a mention in drydock(1)
		awk -F'\t' -v t="$top" '$1 == t || index($1, t " ") == 1 { print $1 }' "$T_TMP/dump" |
		sort -u | while IFS= read -r c; do
			section "$top" SYNOPSIS | grep -qF "*drydock $c*" ||
				t_fail "$p: SYNOPSIS has no usage line for 'drydock $c'"
		done
		grep -qF "*drydock-$top*(1)" "$MAN/drydock.1.scd" ||
			t_fail "drydock(1) does not refer to drydock-$top(1)"
	done <"$T_TMP/tops"
}

# Every option a table has is in its page's OPTIONS (under its subcommand,
# or before the first subsection for one every subcommand takes) and in
# the command's --help.
pages_name_every_option() {
	dump
	cut -f1 "$T_TMP/dump" | sort -u | while IFS= read -r c; do
		top=${c%% *}
		[ -f "$MAN/drydock-$top.1.scd" ] || t_fail "'$top' has no man page"
		page_options "$top" >"$T_TMP/page"
		# shellcheck disable=SC2086
		drydock $c --help >"$T_TMP/help" 2>&1 || t_fail "'$c --help' failed"
		awk -F'\t' -v c="$c" '$1 == c { print $3 }' "$T_TMP/dump" | while IFS= read -r l; do
			grep -qxF "$c	$l" "$T_TMP/page" || grep -qxF "$top	$l" "$T_TMP/page" ||
				t_fail "drydock-$top(1) does not describe $l of 'drydock $c'"
			grep -Eq -- "$l( |$)" "$T_TMP/help" || t_fail "'$c --help' does not describe $l"
		done
	done
}

# takes COMMAND --LONG: whether the dump has that row.
takes() {
	awk -F'\t' -v c="$1" -v l="$2" '$1 == c && $3 == l { f = 1 } END { exit !f }' "$T_TMP/dump"
}

# And the reverse: every option a page describes is one the parser accepts,
# for its subcommand, or for every subcommand when it comes before them.
pages_name_no_other_option() {
	dump
	while IFS= read -r top; do
		awk -F'\t' -v t="$top" '$1 == t || index($1, t " ") == 1 { print $1 }' "$T_TMP/dump" |
			sort -u >"$T_TMP/cmds"
		page_options "$top" | while IFS='	' read -r sect l; do
			if [ "$sect" = "$top" ]; then
				while IFS= read -r c; do
					takes "$c" "$l" ||
						t_fail "drydock-$top(1) describes $l, which 'drydock $c' does not take"
				done <"$T_TMP/cmds"
			else
				grep -qxF "$sect" "$T_TMP/cmds" ||
					t_fail "drydock-$top(1) has options for '$sect', which is not a command"
				takes "$sect" "$l" ||
					t_fail "drydock-$top(1) describes $l, which 'drydock $sect' does not take"
			fi
		done
	done <"$T_TMP/tops"
}

# An option whose default comes from the environment has its variable in
# the page's ENVIRONMENT.
pages_name_their_environment() {
	dump
	awk -F'\t' '$7 != "" { split($1, w, " "); print w[1] "\t" $7 }' "$T_TMP/dump" | sort -u |
	while IFS='	' read -r top v; do
		section "$top" ENVIRONMENT | grep -qF "*$v*" ||
			t_fail "drydock-$top(1) has no $v in ENVIRONMENT"
	done
}

pages_render() {
	command -v scdoc >/dev/null 2>&1 || t_skip "scdoc is not installed (scripts/install-deps)"
	for p in "$MAN"/*.scd; do
		# roff would read a line starting with . or ' as a request
		! grep -n "^[[:space:]]*[.']" "$p" || t_fail "$p: a line starts with . or '"
		scdoc <"$p" >page.roff 2>scdoc.err || t_fail "scdoc refuses $p: $(cat scdoc.err)"
		[ -s page.roff ] || t_fail "scdoc made nothing of $p"
	done
}

# `drydock help COMMAND [SUB]` exits 0 for every command and subcommand:
# man's page when man finds it, else the command's --help.
help_shows_the_page() {
	dump
	while IFS= read -r top; do
		PATH=/nonexistent "$DRYDOCK" help "$top" >out 2>&1 ||
			{ cat out; t_fail "'help $top' failed"; }
		[ "$top" = help ] || grep -q "^usage: drydock $top" out ||
			t_fail "without man, 'help $top' does not print '$top --help'"
	done <"$T_TMP/tops"
	cut -f1 "$T_TMP/dump" | grep ' ' | sort -u | while IFS= read -r c; do
		# shellcheck disable=SC2086
		PATH=/nonexistent "$DRYDOCK" help $c >out 2>&1 || { cat out; t_fail "'help $c' failed"; }
		grep -q "^usage: drydock $c " out || t_fail "without man, 'help $c' does not print its --help"
	done
	expect_fail 2 "help: 'no-such' is not a command; see 'drydock help'" drydock help no-such
	expect_fail 2 "help: 'mirror no-such' is not a command; see 'drydock mirror --help'" \
		drydock help mirror no-such
	expect_fail 2 "help: 'plan x' is not a command" drydock help plan x
	expect_fail 2 "help: too many operands \('c'\)" drydock help mirror import c
	command -v scdoc >/dev/null 2>&1 || t_skip "scdoc is not installed (scripts/install-deps)"
	command -v man >/dev/null 2>&1 || t_skip "man is not installed"
	mkdir -p manpath/man1
	scdoc <"$MAN/drydock-mirror.1.scd" >manpath/man1/drydock-mirror.1
	MANPATH=$PWD/manpath MANWIDTH=80 drydock help mirror import >out 2>&1 ||
		{ cat out; t_fail "'help mirror import' failed with its page installed"; }
	grep -q "drydock-mirror - " out || { cat out; t_fail "'help mirror import' does not show drydock-mirror(1)"; }
}

t_run every_command_has_a_page
t_run pages_name_every_option
t_run pages_name_no_other_option
t_run pages_name_their_environment
t_run pages_render
t_run help_shows_the_page
