#!/bin/sh
# Options are declared once per command (src/cli/options.h): every
# command's table, as `drydock help --options-dump` prints it, must agree
# with its --help, with its parser, with README, and with every other
# command's use of a short flag.
. "$(dirname "$0")/../lib.sh"

# dump: the option rows (command, short, long, argument, kind, flags,
# environment, help), tab-separated.
dump() {
	drydock help --options-dump >"$T_TMP/dump.all"
	awk -F'\t' 'NF == 8' "$T_TMP/dump.all" >"$T_TMP/dump"
	[ -s "$T_TMP/dump" ] || t_fail "the option dump is empty"
	if awk -F'\t' 'NF != 8' "$T_TMP/dump.all" | grep -q .; then
		t_fail "a command printed something other than its table: $(awk -F'\t' 'NF != 8' "$T_TMP/dump.all" | head -n 3)"
	fi
}

commands() { cut -f1 "$T_TMP/dump" | sort -u; }

# Every command `drydock help` lists, and every subcommand its group's help
# lists, has a table in the dump: a new command cannot skip dd_cli_parse.
every_command_has_a_table() {
	dump
	drydock help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' |
		grep -vx help >"$T_TMP/top"
	[ "$(wc -l <"$T_TMP/top")" -ge 14 ] || t_fail "drydock help lists too few commands"
	while IFS= read -r c; do
		drydock "$c" --help >"$T_TMP/h" 2>&1 || t_fail "'$c --help' failed"
		if grep -q '^Commands:' "$T_TMP/h"; then
			awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' "$T_TMP/h" |
			while IFS= read -r s; do
				grep -q "^$c $s	" "$T_TMP/dump" ||
					t_fail "no option table for '$c $s'"
			done
		else
			grep -q "^$c	" "$T_TMP/dump" || t_fail "no option table for '$c'"
		fi
	done <"$T_TMP/top"
	[ "$(commands | wc -l)" -ge 32 ] || t_fail "only $(commands | wc -l) tables in the dump"
}

help_names_every_option() {
	dump
	commands | while IFS= read -r c; do
		# shellcheck disable=SC2086
		drydock $c --help >"$T_TMP/help" 2>&1 || t_fail "'$c --help' failed"
		head -n 1 "$T_TMP/help" | grep -q "^usage: drydock $c" ||
			t_fail "'$c --help' does not start with its usage line"
		grep -q "^Options:" "$T_TMP/help" || t_fail "'$c --help' lists no options"
		awk -F'\t' -v c="$c" '$1 == c { print $2 "\t" $3 }' "$T_TMP/dump" |
		while IFS='	' read -r s l; do
			if [ "$s" = "-" ]; then
				grep -Eq -- "^      $l( |$)" "$T_TMP/help" ||
					t_fail "'$c --help' does not describe $l"
			else
				grep -Eq -- "^  $s, $l( |$)" "$T_TMP/help" ||
					t_fail "'$c --help' does not describe $s, $l"
			fi
			# and the synopsis names it too (but for the implicit --help, --config, -q, -v)
			[ "$l" = --help ] || [ "$l" = --config ] || [ "$l" = --quiet ] || [ "$l" = --verbose ] || sed -n '1,/^$/p' "$T_TMP/help" | grep -q -- "$l" ||
				t_fail "'$c --help' synopsis lacks $l"
		done
	done
}

# -j is parallelism (--threads, --jobs) and -o where the result goes
# (--out, --output), as README says; every other short flag has one long name.
short_flags_mean_one_thing() {
	dump
	awk -F'\t' '$2 != "-" { print $2 "\t" $3 }' "$T_TMP/dump" | sort -u >"$T_TMP/shorts"
	cut -f1 "$T_TMP/shorts" | uniq -d | while IFS= read -r s; do
		longs=$(awk -F'\t' -v s="$s" '$1 == s { printf "%s ", $2 }' "$T_TMP/shorts")
		case "$s $longs" in
		"-j --jobs --threads " | "-o --out --output ") ;;
		*) t_fail "$s means more than one thing: $longs" ;;
		esac
	done
	! grep -q "^-j	--json" "$T_TMP/shorts" || t_fail "-j must not mean --json"
	! grep -q "	--json$" "$T_TMP/shorts" || t_fail "--json has a short flag"
}

# The program-wide list in src/cli/options.c holds every short flag a table
# uses, and README's table of short flags names each of them.
short_flags_are_registered_and_documented() {
	dump
	awk -F'\t' '$2 != "-" && $2 != "-h" { print $2 "\t" $3 }' "$T_TMP/dump" | sort -u |
	while IFS='	' read -r s l; do
		letter=${s#-}
		grep -Eq "\{ '$letter', \{[^}]*\"${l#--}\"" "$TOP/src/cli/options.c" ||
			t_fail "$s $l is not in the short-flag list of src/cli/options.c"
		grep -Eq -- "\`$s( [A-Z]+)?\`.*\`$l\`" "$TOP/README.md" ||
			t_fail "README's table of short flags lacks $s $l"
	done
}

# -j is never --json: every command that prints JSON and has no -j of its own
# refuses -j; plan -j used to print JSON and take '2' for a job file.
j_is_never_json() {
	dump
	awk -F'\t' '$3 == "--json" { print $1 }' "$T_TMP/dump" | sort -u >"$T_TMP/json_cmds"
	awk -F'\t' '$2 == "-j" { print $1 }' "$T_TMP/dump" | sort -u >"$T_TMP/j_cmds"
	[ -s "$T_TMP/json_cmds" ] || t_fail "no command takes --json"
	comm -23 "$T_TMP/json_cmds" "$T_TMP/j_cmds" | while IFS= read -r c; do
		# shellcheck disable=SC2086
		expect_fail 2 "$c: unknown option '-j'; see 'drydock $c --help'" drydock $c -j operand
	done
	expect_fail 2 "plan: unknown option '-j'" drydock plan -j 2 job.yaml
	expect_fail 2 "--threads 'job.yaml': expected a number" drydock build -o out -j job.yaml
}

unknown_options_exit_2() {
	dump
	commands | while IFS= read -r c; do
		# shellcheck disable=SC2086
		expect_fail 2 "$c: unrecognized option '--no-such-option'; see 'drydock $c --help'" \
			drydock $c --no-such-option operand
	done
}

# Usage errors exit 2, for every option of every table that takes an
# argument: left without one, or (numbers, choices) given a bad one.
arguments_are_checked() {
	dump
	awk -F'\t' '$4 != "" { print $1 "\t" $3 }' "$T_TMP/dump" |
	while IFS='	' read -r c l; do
		# shellcheck disable=SC2086
		expect_fail 2 "option '$l' needs an argument" drydock $c operand $l
	done
	awk -F'\t' '$5 == "int" { print $1 "\t" $3 }' "$T_TMP/dump" |
	while IFS='	' read -r c l; do
		# shellcheck disable=SC2086
		expect_fail 2 "$l 'many': expected a number from" drydock $c $l many operand
		# shellcheck disable=SC2086
		expect_fail 2 "$l '99999999': expected a number from" drydock $c $l=99999999 operand
	done
	awk -F'\t' '$5 == "choice" { print $1 "\t" $3 }' "$T_TMP/dump" |
	while IFS='	' read -r c l; do
		# shellcheck disable=SC2086
		expect_fail 2 "$l 'bogus': expected one of" drydock $c $l bogus operand
	done
	awk -F'\t' '$6 ~ /^required/ { print $1 }' "$T_TMP/dump" | sort -u |
	while IFS= read -r c; do
		# shellcheck disable=SC2086
		expect_fail 2 "$c: missing --" drydock $c operand
	done
	expect_fail 2 "--threads '0': expected a number from 1 to 256" \
		drydock build -o out --threads 0 job.yaml
	expect_fail 2 "option '--json' takes no argument" drydock plan --json=yes job.yaml
	expect_fail 2 "too many operands \('b'\)" drydock verify a b
	expect_fail 2 "--digest 'md5': expected one of sha256\|sha1\|sha512" \
		drydock pkg build --digest md5 -o x.apk tree
	expect_fail 2 "--set wants KEY=VALUE, not 'pkgname'" \
		drydock pkg build --set pkgname -o x.apk tree
	expect_fail 2 "--sequence 'x' is not a non-negative number" drydock bundle create \
		--channel c --sequence x --expires 2030-01-01 --sign K -o out dir
	expect_fail 2 "--shard '0/2': expected K/N" drydock batch -o out --shard 0/2 jobs
	expect_fail 2 "'4X' is not a size" drydock bundle create --channel c --sequence 1 \
		--expires 2030-01-01 --sign K --split 4X -o out dir
	expect_fail 2 "takes no operands \('x'\)" drydock mirror bundles -m nowhere x
	expect_fail 2 "no job file given" drydock plan -m nowhere
}

# GNU forms: --opt=value, a unique prefix, options after operands, "--",
# bundled short flags.
parser_forms() {
	expect_fail 3 "no mirror at [^ ]*/nowhere \(given by --mirror\)" drydock plan --mirror=nowhere job.yaml
	expect_fail 3 "no mirror at [^ ]*/nowhere \(given by --mirror\)" drydock plan --mirr nowhere job.yaml
	expect_fail 3 "no mirror at [^ ]*/nowhere \(given by --mirror\)" drydock plan job.yaml -mnowhere
	expect_fail 3 "no mirror at [^ ]*/nowhere \(given by --mirror\)" drydock plan -vmnowhere job.yaml
	expect_fail 2 "option '--allow' is ambiguous" drydock mirror import --allow b.tar
	expect_fail 2 "mirror fsck: unrecognized option '--allow-expired'" \
		drydock mirror fsck --allow-expired
	expect_fail 2 "mirror list: unrecognized option '--deep'" drydock mirror list --deep
	expect_fail 2 "takes no operands \('--json'\)" drydock trust list -m nowhere -- --json
	expect_fail 3 "no mirror at [^ ]*/nowhere \(given by --mirror\)" drydock plan -m nowhere -- --json
	expect_out "^usage: drydock plan " drydock plan job.yaml -h
	expect_out "^usage: drydock mirror gc " drydock mirror gc --hel
}

# Options after the operand are options, for every command (bundle inspect
# used to refuse its --json there).
options_after_operands() {
	expect_fail 1 "x.tar: " drydock bundle inspect x.tar --json
	expect_out "^<$" drydock pkg version 1.0 1.1
	expect_fail 1 "1.0bc: invalid version" drydock pkg version 1.0 1.0bc --check
}

t_run every_command_has_a_table
t_run help_names_every_option
t_run short_flags_mean_one_thing
t_run short_flags_are_registered_and_documented
t_run j_is_never_json
t_run unknown_options_exit_2
t_run arguments_are_checked
t_run parser_forms
t_run options_after_operands
