#!/bin/sh
# Installing drydock as system software: make install / uninstall into a
# DESTDIR, the man pages and bash completion they carry, and the Debian
# package built by scripts/build-deb, installed into a clean root where the
# quick start runs against the installed binary.
. "$(dirname "$0")/../lib.sh"
trap 'rm -rf "$T_TMP"' EXIT
BUILD_DIR=${DRYDOCK%/drydock}
BUILD_DIR=${BUILD_DIR#"$TOP"/}

need_scdoc() { command -v scdoc >/dev/null 2>&1 || t_skip "scdoc is not installed (scripts/install-deps)"; }

install_and_uninstall() {
	need_scdoc
	d=$PWD/dest
	make -s -C "$TOP" install BUILD="$BUILD_DIR" DESTDIR="$d" PREFIX=/opt/dd >make.out 2>&1 ||
		{ cat make.out; t_fail "make install failed"; }
	for f in bin/drydock share/man/man1/drydock.1 share/man/man5/drydock-job.5 \
		share/man/man5/drydock-bundle.5 share/man/man5/drydock-entitlements.5 \
		share/bash-completion/completions/drydock lib/systemd/system/drydock-batch.service \
		lib/systemd/system/drydock-batch.timer share/doc/drydock/operations.md \
		share/doc/drydock/examples/drydock.conf.example share/man/man1/drydock-config.1; do
		[ -f "$d/opt/dd/$f" ] || t_fail "make install did not install $f"
	done
	# every page of docs/man, drydock-COMMAND(1) included, in its section
	for m in "$TOP"/docs/man/*.scd; do
		m=${m##*/} && m=${m%.scd}
		[ -f "$d/opt/dd/share/man/man${m##*.}/$m" ] || t_fail "make install did not install $m"
	done
	[ -x "$d/opt/dd/bin/drydock" ]
	"$d/opt/dd/bin/drydock" --version | grep -q '^drydock ' || t_fail "the installed binary does not run"
	grep -q '^ExecStart=/opt/dd/bin/drydock batch ' "$d/opt/dd/lib/systemd/system/drydock-batch.service" ||
		t_fail "the unit does not run the installed binary"
	grep -q '^Documentation=file:///opt/dd/share/doc/drydock/operations.md$' \
		"$d/opt/dd/lib/systemd/system/drydock-batch.service" || t_fail "the unit's Documentation= is wrong"
	make -s -C "$TOP" uninstall BUILD="$BUILD_DIR" DESTDIR="$d" PREFIX=/opt/dd >make.out 2>&1 ||
		{ cat make.out; t_fail "make uninstall failed"; }
	left=$(find "$d" -type f)
	[ -z "$left" ] || t_fail "make uninstall left: $left"
}

man_pages_name_every_command() {
	need_scdoc
	make -s -C "$TOP" man BUILD="$BUILD_DIR" >/dev/null
	man1=$TOP/$BUILD_DIR/man/drydock.1
	# every command drydock --help lists has its entry in drydock(1)
	drydock --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' >commands
	[ -s commands ]
	while read -r c; do
		grep -q "^\\\\fB$c\\\\fR" "$man1" || t_fail "drydock(1) has no entry for '$c'"
	done <commands
	# and every exit status and environment variable drydock reads
	for v in DRYDOCK_MIRROR DRYDOCK_OUT DRYDOCK_SIGN_KEY DRYDOCK_CONFIG DRYDOCK_SYSCONFDIR \
		SOURCE_DATE_EPOCH TMPDIR; do
		grep -q "$v" "$man1" || t_fail "drydock(1) does not document $v"
	done
	for s in 0 1 2 3 4; do
		grep -q "^\\\\fB$s\\\\fR" "$man1" || t_fail "drydock(1) does not document exit status $s"
	done
	if command -v man >/dev/null 2>&1; then
		for m in "$TOP/$BUILD_DIR"/man/*; do
			MANWIDTH=80 man -l "$m" >page.txt 2>man.err || { cat man.err; t_fail "man cannot read $m"; }
			grep -q '^NAME' page.txt || t_fail "$m renders without NAME"
		done
	fi
}

completion_completes() {
	command -v bash >/dev/null 2>&1 || t_skip "bash is not installed"
	ln -s "$DRYDOCK" drydock
	mkdir jobs && touch jobs/a.yaml jobs/b.yml jobs/notes.txt
	# complete WORDS...: the completions of the last word, one per line
	complete_words() {
		bash -c '
shopt -s extglob
. "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_drydock
printf "%s\n" "${COMPREPLY[@]}"' sh "$TOP/scripts/completion/drydock.bash" "$@"
	}
	complete_words ./drydock mi | grep -qx mirror || t_fail "no 'mirror' for 'mi'"
	complete_words ./drydock mirror im | grep -qx import || t_fail "no 'import' for 'mirror im'"
	complete_words ./drydock help mi | grep -qx mirror || t_fail "no 'mirror' for 'help mi'"
	complete_words ./drydock plan --mi | grep -qx -- --mirror || t_fail "no --mirror for plan"
	complete_words ./drydock batch --sh | grep -qx -- --shard || t_fail "no --shard for batch"
	complete_words ./drydock plan jobs/ >got
	grep -qx jobs/a.yaml got && grep -qx jobs/b.yml got || t_fail "plan does not complete job files: $(cat got)"
	! grep -q notes.txt got || t_fail "plan completes a text file"
}

deb_installs_into_a_clean_root() {
	need_scdoc
	for t in dpkg-buildpackage dh fakeroot; do
		command -v "$t" >/dev/null 2>&1 || t_skip "$t is not installed (scripts/install-deps)"
	done
	deb=$("$TOP/scripts/build-deb" -o "$PWD/deb") || t_fail "scripts/build-deb failed"
	[ -f "$deb" ]
	dpkg-deb -f "$deb" Depends | grep -q 'libgpgme11' || t_fail "Depends lacks the shared libraries"
	if command -v lintian >/dev/null 2>&1; then
		lintian "$deb" >lintian.out 2>&1 || true
		! grep -E '^[EW]: ' lintian.out || t_fail "lintian: $(cat lintian.out)"
	fi
	# a root with nothing but dpkg's database: the package has no
	# maintainer scripts, so it installs without a shell in there
	r=$PWD/root
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
	: >"$r/var/lib/dpkg/status"
	dpkg --root="$r" --force-depends --force-not-root --log=/dev/null -i "$deb" >dpkg.out 2>&1 ||
		{ cat dpkg.out; t_fail "dpkg --root -i failed"; }
	[ -x "$r/usr/bin/drydock" ] && [ -f "$r/usr/share/man/man1/drydock.1.gz" ] &&
		[ -f "$r/usr/share/man/man1/drydock-config.1.gz" ] &&
		[ -f "$r/usr/share/doc/drydock/examples/drydock.conf.example" ] &&
		[ -f "$r/lib/systemd/system/drydock-batch.timer" ] || t_fail "files missing from the root"
	for m in "$TOP"/docs/man/*.scd; do
		m=${m##*/} && m=${m%.scd}
		[ -f "$r/usr/share/man/man${m##*.}/$m.gz" ] || t_fail "the package lacks the man page $m"
	done
	# the installed example: every key, commented, so all defaults
	"$r/usr/bin/drydock" config show --config "$r/usr/share/doc/drydock/examples/drydock.conf.example" >show.out 2>&1 ||
		{ cat show.out; t_fail "the installed example is refused"; }
	# the quick start, against the installed binary only
	DRYDOCK="$r/usr/bin/drydock" QUICKSTART_OUT="$PWD/qs" "$TOP/scripts/quickstart" >qs.out 2>&1 ||
		{ tail -n 30 qs.out; t_fail "the quick start failed with the installed drydock"; }
	grep -q "^0 built, [0-9]* up to date, 0 failed$" qs.out || t_fail "the second night was not up to date"
	dpkg --root="$r" --force-not-root --log=/dev/null -r drydock >/dev/null 2>&1
	[ ! -e "$r/usr/bin/drydock" ] || t_fail "dpkg -r left the binary"
}

t_run install_and_uninstall
t_run man_pages_name_every_command
t_run completion_completes
t_run deb_installs_into_a_clean_root
