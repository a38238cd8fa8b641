#!/bin/sh
# The site configuration (drydock-config(1)): /etc/drydock/drydock.conf
# (here $DRYDOCK_SYSCONFDIR), the user's file, --config FILE or
# $DRYDOCK_CONFIG, the environment and the command line, each over the
# ones before; `drydock config show` names where each setting came from,
# real commands obey the same order, and every bad file is refused naming
# FILE:LINE.
. "$(dirname "$0")/../lib.sh"

# sysconf, home: a system and a user file of the test's own, no DRYDOCK_* left
layers() {
	export DRYDOCK_SYSCONFDIR=$PWD/etc HOME=$PWD/home
	unset XDG_CONFIG_HOME DRYDOCK_MIRROR DRYDOCK_OUT DRYDOCK_SIGN_KEY GNUPGHOME
	mkdir -p etc/drydock home/.config/drydock
}

# show_line KEY VALUE SOURCE: config show (with the rest of the arguments)
# prints KEY's VALUE and SOURCE.
show_has() {
	key=$1 value=$2 source=$3
	grep -Eq "^$key +$value +$source$" show.out ||
		{ cat show.out >&2; t_fail "config show: no '$key $value $source'"; }
}

no_files_means_defaults() {
	layers
	drydock config show >show.out
	show_has mirror '\./mirror' default
	show_has jobs 1 default
	show_has sign '\(unset\)' default
	grep -q "^  $PWD/etc/drydock/drydock.conf: none there$" show.out ||
		t_fail "config show does not say the system file is absent"
	grep -q "^  $PWD/home/.config/drydock/drydock.conf: none there$" show.out ||
		t_fail "config show does not say the user file is absent"
}

# One setting from each source, and config show says which.
show_names_each_source() {
	layers
	printf '# the site\nmirror = /srv/m\n\nkeep = 9\nstrict = true\n' >etc/drydock/drydock.conf
	printf 'jobs = 3\n' >home/.config/drydock/drydock.conf
	printf '  wait   =  60  \n' >site.conf
	printf 'max-age = 2\n' >env.conf
	DRYDOCK_CONFIG=$PWD/env.conf DRYDOCK_OUT=/env/out \
		drydock config show --config site.conf --threads 4 >show.out
	show_has mirror /srv/m "$PWD/etc/drydock/drydock.conf:2"
	show_has keep 9 "$PWD/etc/drydock/drydock.conf:4"
	show_has strict true "$PWD/etc/drydock/drydock.conf:5"
	show_has jobs 3 "$PWD/home/.config/drydock/drydock.conf:1"
	show_has wait 60 "--config site.conf:1"
	show_has out /env/out "env DRYDOCK_OUT"
	show_has threads 4 "command line"
	show_has keep-layers 30 default
	# --config FILE is read instead of $DRYDOCK_CONFIG
	show_has max-age 7 default
	DRYDOCK_CONFIG=$PWD/env.conf drydock config show >show.out
	show_has max-age 2 "DRYDOCK_CONFIG $PWD/env.conf:1"
	# $XDG_CONFIG_HOME holds the user's file when set
	mkdir -p xdg/drydock && printf 'jobs = 5\n' >xdg/drydock/drydock.conf
	XDG_CONFIG_HOME=$PWD/xdg drydock config show >show.out
	show_has jobs 5 "$PWD/xdg/drydock/drydock.conf:1"
	DRYDOCK_OUT=/env/out drydock config show --json --config site.conf --jobs 7 >show.json
	jq -e '.settings[] | select(.key == "mirror") | .value == "/srv/m" and
		.source == "'"$PWD"'/etc/drydock/drydock.conf:2" and .line == 2' show.json >/dev/null ||
		t_fail "config show --json: mirror: $(cat show.json)"
	jq -e '(.settings[] | select(.key == "jobs") | .value == 7 and .source == "command line")
		and (.settings[] | select(.key == "strict") | .value == true)
		and (.settings[] | select(.key == "out") | .source == "env DRYDOCK_OUT")
		and (.settings[] | select(.key == "sign") | .value == null)
		and ([.files[] | .kind] == ["system", "user", "--config"])' show.json >/dev/null ||
		t_fail "config show --json: $(cat show.json)"
}

# Each source over the ones before it, as a real command sees the mirror.
precedence_in_a_real_command() {
	layers
	printf 'mirror = from-etc\n' >etc/drydock/drydock.conf
	printf 'mirror = from-user\n' >home/.config/drydock/drydock.conf
	printf '# one more\nmirror = from-config\n' >site.conf
	DRYDOCK_MIRROR=from-env expect_fail 3 "no mirror at $PWD/from-cli \(given by --mirror\)" \
		drydock mirror list --config site.conf --mirror from-cli
	DRYDOCK_MIRROR=from-env expect_fail 3 "no mirror at $PWD/from-env \(set by DRYDOCK_MIRROR=from-env\)" \
		drydock mirror list --config site.conf
	expect_fail 3 "no mirror at $PWD/from-config \(set in site.conf:2\)" \
		drydock mirror list --config site.conf
	expect_fail 3 "no mirror at $PWD/home/.config/drydock/from-user \(set in $PWD/home/.config/drydock/drydock.conf:1\)" \
		drydock mirror list
	rm home/.config/drydock/drydock.conf
	expect_fail 3 "no mirror at $PWD/etc/drydock/from-etc \(set in $PWD/etc/drydock/drydock.conf:1\): create one with 'drydock mirror init $PWD/etc/drydock/from-etc'" \
		drydock mirror list
	# mirror init makes the configured one, and commands then use it
	expect_out "^created mirror $PWD/etc/drydock/from-etc " drydock mirror init
	drydock mirror list >/dev/null || t_fail "mirror list does not use the configured mirror"
	rm etc/drydock/drydock.conf
	expect_fail 3 "no mirror at $PWD/mirror \(the default, \./mirror" drydock mirror list
}

# The output folder too: history reads OUT/history.jsonl of the winning source,
# and a configured out is the --out batch requires.
out_follows_the_same_order() {
	layers
	printf 'out = o-etc\n' >etc/drydock/drydock.conf
	expect_fail 1 "$PWD/etc/drydock/o-etc/history.jsonl: no history" drydock history
	DRYDOCK_OUT=o-env expect_fail 1 "o-env/history.jsonl: no history" drydock history
	DRYDOCK_OUT=o-env expect_fail 1 "o-cli/history.jsonl: no history" drydock history -o o-cli
	mkdir jobs
	expect_fail 3 "no mirror at $PWD/nowhere" drydock batch -m nowhere jobs
	rm etc/drydock/drydock.conf
	expect_fail 2 "batch: missing --out OUT" drydock batch -m nowhere jobs
	# DRYDOCK_OUT is build's and batch's --out too
	DRYDOCK_OUT=o-env expect_fail 3 "no mirror at $PWD/nowhere" drydock batch -m nowhere jobs
	DRYDOCK_OUT=o-env expect_fail 3 "no mirror at $PWD/nowhere" drydock build -m nowhere j.yaml
}

# The signing key and --strict reach the commands that take them, in the
# same order: build opens the key it was given before any job, plan refuses
# an apko repository under strict.
settings_reach_commands() {
	layers
	drydock mirror init -m m >/dev/null
	printf 'sign = keys/site.pem\nstrict = true\n' >etc/drydock/drydock.conf
	expect_fail 1 "$PWD/etc/drydock/keys/site.pem: no such key file" drydock build -o out -m m j.yaml
	DRYDOCK_SIGN_KEY=env.pem expect_fail 1 "env.pem: no such key file" drydock build -o out -m m j.yaml
	DRYDOCK_SIGN_KEY=env.pem expect_fail 1 "cli.pem: no such key file" \
		drydock build -o out -m m --sign cli.pem j.yaml
	printf 'contents:\n  repositories: [https://example.org]\n  packages: [busybox]\n' >j.yaml
	expect_fail 1 "contents.repositories is refused under --strict" drydock plan -m m j.yaml
	printf 'strict = false\n' >home/.config/drydock/drydock.conf
	expect_fail 1 "contents.repositories ignored: the mirror is the only source" \
		drydock plan -m m j.yaml
	expect_fail 1 "contents.repositories is refused under --strict" drydock plan -m m --strict j.yaml
}

# Relative paths are relative to the file's directory; a key id stays as it is,
# and an empty value puts the built-in default back.
values() {
	layers
	mkdir -p conf
	printf 'gnupg-home = gpg\nsign = ABCDEF0123456789\nout = /abs/out\nthreads = 2\n' >conf/a.conf
	drydock config show --config conf/a.conf >show.out
	show_has gnupg-home "$PWD/conf/gpg" "--config conf/a.conf:1"
	show_has sign ABCDEF0123456789 "--config conf/a.conf:2"
	show_has out /abs/out "--config conf/a.conf:3"
	printf 'sign = keys/site.pem\n' >etc/drydock/drydock.conf
	printf 'sign =\n' >home/.config/drydock/drydock.conf
	drydock config show >show.out
	show_has sign '\(unset\)' "$PWD/home/.config/drydock/drydock.conf:1"
	rm home/.config/drydock/drydock.conf
	drydock config show >show.out
	show_has sign "$PWD/etc/drydock/keys/site.pem" "$PWD/etc/drydock/drydock.conf:1"
	# an empty environment variable is no setting (as before)
	DRYDOCK_SIGN_KEY= drydock config show >show.out
	show_has sign "$PWD/etc/drydock/keys/site.pem" "$PWD/etc/drydock/drydock.conf:1"
}

# Every refusal names FILE:LINE (or the file), exits 2, and says what to do.
refusals() {
	layers
	printf 'jobs = 2\n# fine\nmirrror = x\n' >bad.conf
	expect_fail 2 "^drydock: bad.conf:3: unknown key 'mirrror'; the keys are mirror, out, " \
		drydock config show --config bad.conf
	printf 'jobs = 2\n\njobs = 3\n' >bad.conf
	expect_fail 2 "bad.conf:3: 'jobs' is set again \(first on line 1\); keep one" \
		drydock plan --config bad.conf job.yaml
	printf 'mirror /srv/m\n' >bad.conf
	expect_fail 2 "bad.conf:1: 'mirror /srv/m' is not 'key = value', a '#' comment or a blank line" \
		drydock mirror list --config bad.conf
	printf 'the mirror = /srv/m\n' >bad.conf
	expect_fail 2 "bad.conf:1: 'the mirror = /srv/m' is not 'key = value'" \
		drydock mirror list --config bad.conf
	printf ' = x\n' >bad.conf
	expect_fail 2 "bad.conf:1: '= x' is not 'key = value'" drydock mirror list --config bad.conf
	printf '[batch]\njobs = 2\n' >bad.conf
	expect_fail 2 "bad.conf:1: '\[batch\]': drydock.conf has no sections" \
		drydock batch --config bad.conf -o out jobs
	printf 'jobs = many\n' >bad.conf
	expect_fail 2 "bad.conf:1: jobs = many: expected a number from 1 to 256" \
		drydock batch --config bad.conf -o out jobs
	printf 'jobs = 0\n' >bad.conf
	expect_fail 2 "bad.conf:1: jobs = 0: expected a number from 1 to 256" \
		drydock config show --config bad.conf
	printf 'strict = yes\n' >bad.conf
	expect_fail 2 "bad.conf:1: strict = yes: expected true or false" \
		drydock config show --config bad.conf
	expect_fail 2 "cannot read nothere.conf \(given by --config\): No such file or directory; give a file that exists" \
		drydock mirror list --config nothere.conf
	DRYDOCK_CONFIG=$PWD/nothere.conf expect_fail 2 "cannot read $PWD/nothere.conf \(named by DRYDOCK_CONFIG\): No such file" \
		drydock mirror list
	expect_fail 2 "cannot read etc: it is a directory; name the file" \
		drydock config show --config etc
	expect_fail 2 "option '--config' needs an argument" drydock config show --config
	# the system and user files are checked as strictly, by every command
	printf 'mirror = a\nmirror = b\n' >etc/drydock/drydock.conf
	expect_fail 2 "$PWD/etc/drydock/drydock.conf:2: 'mirror' is set again" drydock pkg version 1.0
	rm etc/drydock/drydock.conf
	printf 'keep-layer = 3\n' >home/.config/drydock/drydock.conf
	expect_fail 2 "$PWD/home/.config/drydock/drydock.conf:1: unknown key 'keep-layer'" \
		drydock mirror gc -m nowhere
	rm home/.config/drydock/drydock.conf
	if [ "$(id -u)" != 0 ]; then
		printf 'jobs = 2\n' >locked.conf && chmod 000 locked.conf
		expect_fail 2 "cannot read locked.conf \(given by --config\): Permission denied; make it readable" \
			drydock config show --config locked.conf
		cp locked.conf etc/drydock/drydock.conf 2>/dev/null || : >etc/drydock/drydock.conf
		chmod 000 etc/drydock/drydock.conf
		expect_fail 2 "cannot read $PWD/etc/drydock/drydock.conf: Permission denied" drydock config show
	fi
}

# Every key is an option of some command (marked ",config" in the option
# dump), documented in drydock-config(1) and in the example file, whose
# settings, uncommented, are all valid.
keys_are_options_and_documented() {
	layers
	drydock config show --json | jq -r '.settings[].key' >keys
	[ "$(wc -l <keys)" -ge 10 ] || t_fail "too few keys: $(cat keys)"
	drydock help --options-dump >dump
	awk -F'\t' '$6 ~ /,config/ && $1 != "config show" { print substr($3, 3) }' dump | sort -u >marked
	sort keys | diff - marked >diff.out || t_fail "keys and the options marked ,config differ: $(cat diff.out)"
	while read -r k; do
		grep -q "^\*$k\* = " "$TOP/docs/man/drydock-config.1.scd" ||
			t_fail "drydock-config(1) does not describe $k"
		grep -Eq "^#? ?$k = " "$TOP/scripts/drydock.conf.example" ||
			t_fail "scripts/drydock.conf.example lacks $k"
	done <keys
	drydock config show --config "$TOP/scripts/drydock.conf.example" >show.out ||
		t_fail "the example file is refused"
	sed -E 's/^# ?([a-z-]+ = )/\1/' "$TOP/scripts/drydock.conf.example" >all.conf
	drydock config show --config all.conf >show.out || t_fail "the example's settings are refused"
	n=$(grep -c -- '--config all.conf:' show.out)
	[ "$n" -eq "$(wc -l <keys)" ] || t_fail "the example sets $n of the keys: $(cat show.out)"
}

# A user file the user cannot even see (HOME is another user's, as under
# sudo without -H) is no file; a file that is there and cannot be read is
# refused, naming it.
unreadable_files() {
	[ "$(id -u)" -eq 0 ] || t_skip "needs root to run commands as the user nobody"
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- true 2>/dev/null ||
		t_skip "setpriv cannot switch to the user nobody here"
	layers
	chmod 755 "$T_TMP" . etc etc/drydock
	mkdir -p private/.config/drydock
	echo 'jobs = 3' >private/.config/drydock/drydock.conf
	chmod 700 private
	HOME=$PWD/private setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$DRYDOCK" config show >show.out 2>show.err || { cat show.err; t_fail "a user file out of sight was refused"; }
	show_has jobs 1 default
	echo 'jobs = 2' >etc/drydock/drydock.conf
	chmod 600 etc/drydock/drydock.conf
	set +e
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$DRYDOCK" config show >show.out 2>show.err
	rc=$?
	set -e
	[ $rc -eq 2 ] || t_fail "an unreadable system file: exit $rc, not 2"
	grep -q "cannot read $PWD/etc/drydock/drydock.conf: Permission denied; make it readable or move it aside" show.err ||
		t_fail "the refusal does not name the file: $(cat show.err)"
}

t_run no_files_means_defaults
t_run show_names_each_source
t_run precedence_in_a_real_command
t_run out_follows_the_same_order
t_run settings_reach_commands
t_run values
t_run refusals
t_run keys_are_options_and_documented
t_run unreadable_files
