#!/bin/sh
# A mirror is made only by 'drydock mirror init [DIR]'. Every other
# command refuses a missing mirror, naming the path it looked at and how
# it chose it (--mirror, DRYDOCK_MIRROR, the default ./mirror), exits 3
# and creates nothing.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml
unset DRYDOCK_MIRROR

# nothing_made: the test's folder holds only what the test put there.
nothing_made() {
	left=$(find . -mindepth 1 ! -name .out ! -name job.yaml ! -name b.tar ! -name run \
		! -name empty | sort)
	[ -z "$left" ] || t_fail "a refused command made: $left"
	[ -z "$(ls -A empty 2>/dev/null)" ] || t_fail "a refused command wrote into empty/"
}

default_source() {
	expect_fail 3 "^drydock: no mirror at $PWD/mirror \(the default, \./mirror; choose another with --mirror DIR or DRYDOCK_MIRROR\): create one with 'drydock mirror init $PWD/mirror'$" \
		drydock mirror list
	nothing_made
}

option_source() {
	expect_fail 3 "no mirror at $PWD/nowhere \(given by --mirror\): create one with 'drydock mirror init $PWD/nowhere'" \
		drydock mirror list --mirror nowhere
	expect_fail 3 "no mirror at /nonexistent/m \(given by --mirror\)" \
		drydock mirror list --mirror /nonexistent/m
	# the option wins over the environment, and the message says which was used
	DRYDOCK_MIRROR=elsewhere expect_fail 3 "no mirror at $PWD/nowhere \(given by --mirror\)" \
		drydock mirror list --mirror nowhere
	nothing_made
}

env_source() {
	DRYDOCK_MIRROR=elsewhere expect_fail 3 "no mirror at $PWD/elsewhere \(set by DRYDOCK_MIRROR=elsewhere\): create one with 'drydock mirror init $PWD/elsewhere'" \
		drydock mirror list
	mkdir empty
	DRYDOCK_MIRROR=$PWD/empty expect_fail 3 "no mirror at $PWD/empty \(set by DRYDOCK_MIRROR=$PWD/empty\), a directory that holds no index.db, mirror-id or blobs/" \
		drydock mirror bundles
	nothing_made
}

not_a_directory() {
	echo x >file
	expect_fail 3 "no mirror at $PWD/file \(given by --mirror\): it is a file, not a directory" \
		drydock mirror list --mirror file
	expect_fail 1 "$PWD/file is a file: a mirror needs a new or empty directory" \
		drydock mirror init file
	[ "$(cat file)" = x ] || t_fail "the file changed"
}

# Every command that reads or changes a mirror, on a missing one (and on
# an empty directory): exit 3, the path named, nothing made.
every_command_refuses() {
	mkdir empty run
	touch b.tar
	cp "$HELLO" job.yaml
	for m in nowhere empty; do
		for cmd in "mirror list" "mirror show base-files" "mirror owner /etc/motd" \
			"mirror bundles" "mirror entitlements" "mirror audit" "mirror fsck" \
			"mirror fsck --rebuild-index" "mirror gc" "mirror receipt -o r.json" \
			"mirror import b.tar" "mirror import --dry-run b.tar" \
			"mirror import --repair b.tar" "trust list" \
			"trust add --role bundle $S/bundle.asc" "trust remove --role apk apk.rsa.pub" \
			"plan job.yaml" "build -o out job.yaml" "batch -o out ." "verify run" \
			"verify --rebuild run" "report -o r.html run" "rebuild -o out run" \
			"advisories base-files" "bundle verify b.tar"; do
			# shellcheck disable=SC2086
			expect_fail 3 "no mirror at $PWD/$m \(given by --mirror\)" \
				drydock $cmd --mirror $m
		done
	done
	# verify and report read a mirror only when given one
	expect_fail 3 "no mirror at $PWD/nowhere" drydock verify --mirror nowhere run
	nothing_made
}

init_new() {
	expect_out "^created mirror $PWD/m \(id [0-9a-f]{32}\): index.db, mirror-id" \
		drydock mirror init m
	grep -q "^next: trust the vendor's keys, e.g. 'drydock trust add --mirror $PWD/m --role bundle" \
		"$T_TMP/.o" || t_fail "no next step"
	id=$(cat m/mirror-id)
	[ -f m/index.db ] && [ -d m/blobs/sha256 ] && [ -d m/tmp ] && [ -d m/keys/apk ] || t_fail "layout"
	[ "$(stat -c %a m/gnupg)" = 700 ] || t_fail "gnupg/ is not private"
	expect_out "clean" drydock mirror fsck --mirror m
	expect_out "mirror-init +$PWD/m" drydock mirror audit --mirror m
	drydock mirror audit --mirror m --json | python3 -c "
import json, sys
a = json.load(sys.stdin)
assert a[0]['action'] == 'mirror-init' and a[0]['id'] == '$id', a"
	[ -z "$(drydock mirror list --mirror m)" ] || t_fail "a new mirror lists packages"
	# the default, the environment, and missing parents
	expect_out "^created mirror $PWD/mirror " drydock mirror init
	DRYDOCK_MIRROR=from-env expect_out "^created mirror $PWD/from-env " drydock mirror init
	expect_out "^created mirror $PWD/a/b/c " drydock mirror init --mirror a/b/c
	mkdir empty
	expect_out "^created mirror $PWD/empty " drydock mirror init empty
	drydock mirror init --json new | python3 -c "
import json, sys
j = json.load(sys.stdin)
assert j['created'] is True and j['mirror'] == '$PWD/new' and len(j['id']) == 32, j"
	expect_fail 2 "give one DIR, or --mirror DIR, not both" drydock mirror init --mirror x y
	[ ! -e x ] && [ ! -e y ] || t_fail "a refused init made something"
}

init_existing() {
	mirror_of "$S" "$T_TMP/in" m
	id=$(cat m/mirror-id)
	snapshot m >before
	audit=$(cat m/audit.log)
	expect_out "^$PWD/m is already a mirror \(id $id\): nothing changed$" drydock mirror init m
	drydock mirror init m --json | python3 -c "
import json, sys
j = json.load(sys.stdin)
assert j['created'] is False and j['id'] == '$id', j"
	snapshot m >after
	cmp -s before after || t_fail "init changed an existing mirror"
	[ "$(cat m/audit.log)" = "$audit" ] || t_fail "init wrote to an existing mirror's audit log"
	expect_out "hello-drydock-1.2.3-r0" drydock mirror list --mirror m
	# a mirror whose index was lost is not made again: the way out is named
	mv m/index.db lost.db
	expect_fail 1 "its index .*index.db is missing: refusing to start an empty one.*--rebuild-index" \
		drydock mirror init m
	[ ! -e m/index.db ] || t_fail "init started an empty index"
}

init_not_empty() {
	mkdir notes
	echo keep >notes/todo.txt
	expect_fail 1 "$PWD/notes is not empty \(it holds 'todo.txt', and no mirror\): refusing to make a mirror among other files; give a new or empty directory" \
		drydock mirror init notes
	[ "$(ls -A notes)" = todo.txt ] || t_fail "init wrote into a non-empty folder"
	# a checkout's placeholder (README, .gitignore) is not "other files"
	mkdir placeholder
	echo "the default mirror" >placeholder/README
	echo '*' >placeholder/.gitignore
	expect_out "^created mirror $PWD/placeholder " drydock mirror init placeholder
	[ "$(cat placeholder/README)" = "the default mirror" ] || t_fail "init changed the README"
	drydock mirror list --mirror placeholder >/dev/null
}

# trust add does not make a mirror either: a mistyped --mirror must not
# start a second, empty one.
trust_add_needs_a_mirror() {
	expect_fail 3 "no mirror at $PWD/m \(given by --mirror\): create one with 'drydock mirror init $PWD/m'" \
		drydock trust add --mirror m --role bundle "$S/bundle.asc"
	[ ! -e m ] || t_fail "trust add made a mirror"
	drydock mirror init m >/dev/null
	expect_out "trusted as a bundle key" drydock trust add --mirror m --role bundle "$S/bundle.asc"
	expect_out "^bundle " drydock trust list --mirror m
}

# Running in the wrong folder: an import refused, no ./mirror made, and
# the bundle untouched; in the right one it works.
import_in_the_wrong_folder() {
	make_bundle "$S" "$T_TMP/in" b.tar 1
	mkdir elsewhere
	(cd elsewhere && expect_fail 3 "no mirror at $PWD/mirror \(the default" \
		drydock mirror import ../b.tar)
	[ -z "$(ls -A elsewhere)" ] || t_fail "the import made something: $(ls -A elsewhere)"
	trusted_mirror "$S" mirror
	expect_out "imported channel stable sequence 1" drydock mirror import b.tar
}

bundle_dir "$S" "$T_TMP/in"
t_run default_source
t_run option_source
t_run env_source
t_run not_a_directory
t_run every_command_refuses
t_run init_new
t_run init_existing
t_run init_not_empty
t_run trust_add_needs_a_mirror
t_run import_in_the_wrong_folder
