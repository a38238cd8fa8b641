#!/bin/sh
# A damaged index.db never changes an answer silently: with random pages
# of the index overwritten, every command that reads the mirror either
# gives the answer it gave before (the same image digest) or fails with
# an error naming the index; never a different answer with exit 0, and
# fsck never calls a mirror clean that another command found damaged.
. "$(dirname "$0")/../lib.sh"
S=$T_TMP/signers
setup_signers "$S"
IN=$T_TMP/in
bundle_dir "$S" "$IN"
M=$T_TMP/mirror
mirror_of "$S" "$IN" "$M"
trap 'kill_agents "$S"; rm -rf "$T_TMP"' EXIT
HELLO=$TOP/fixtures/jobs/hello.yaml
K=$T_TMP/ed.pem
openssl genpkey -algorithm ed25519 -out "$K" 2>/dev/null
openssl pkey -in "$K" -pubout -out "$T_TMP/ed.pub" 2>/dev/null

# corrupt DB SEED: overwrite one page of DB (chosen by SEED) with bytes
# from the same seeded generator; prints the page number.
corrupt() {
	python3 - "$1" "$2" <<'PY'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
size = int.from_bytes(data[16:18], "big") or 65536
pages = len(data) // size
rng = random.Random(seed)
page = rng.randrange(pages)
data[page * size:(page + 1) * size] = bytes(rng.randrange(256) for _ in range(size))
open(path, "wb").write(data)
print(page + 1, "of", pages)
PY
}

# outcome NAME CMD...: run CMD; record its exit status in $T_TMP/NAME.rc
# and its output in $T_TMP/NAME.out.
outcome() {
	n=$1
	shift
	set +e
	"$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err"
	echo $? >"$T_TMP/$n.rc"
	set -e
}

# same_or_refused NAME: the command gave the pristine answer, or exited 1
# with an error that names the mirror's index.
same_or_refused() {
	rc=$(cat "$T_TMP/$1.rc")
	if [ "$rc" -eq 0 ]; then
		cmp -s "$T_TMP/$1.out" "$T_TMP/$1.want" ||
			{ diff "$T_TMP/$1.want" "$T_TMP/$1.out" >&2; t_fail "$1: a different answer with exit 0"; }
	else
		[ "$rc" -eq 1 ] || { cat "$T_TMP/$1.err" >&2; t_fail "$1: exit $rc"; }
		cat "$T_TMP/$1.err" "$T_TMP/$1.out" | grep -q "index" ||
			{ cat "$T_TMP/$1.err" >&2; t_fail "$1: refused without naming the index"; }
		damaged=yes
	fi
}

# run_all MIRROR: the commands, side by side (each only reads the mirror).
run_all() {
	m=$1
	rm -rf "$T_TMP/out"
	outcome list drydock mirror list --mirror "$m" &
	outcome plan drydock plan --mirror "$m" "$HELLO" &
	outcome build drydock build --mirror "$m" --sign "$K" -o "$T_TMP/out" "$HELLO" &
	outcome verify drydock verify --key "$T_TMP/ed.pub" --mirror "$m" "$T_TMP/good" &
	outcome fsck drydock mirror fsck --mirror "$m" &
	wait
	sed -n 's/.*built .* \(sha256:[0-9a-f]*\).*/\1/p' "$T_TMP/build.out" >"$T_TMP/digest.out"
	cp "$T_TMP/build.rc" "$T_TMP/digest.rc"
	cp "$T_TMP/build.err" "$T_TMP/digest.err"
}

every_command_right_or_refused() {
	rm -rf "$T_TMP/good"
	drydock build --mirror "$M" --sign "$K" -o "$T_TMP/goodout" "$HELLO" >/dev/null
	cp -a "$T_TMP/goodout/hello/$(readlink "$T_TMP/goodout/hello/latest")" "$T_TMP/good"
	[ ! -e "$M/index.db-wal" ] || [ ! -s "$M/index.db-wal" ] || t_fail "the index has a WAL left"
	run_all "$M"
	for n in list plan digest verify fsck; do
		[ "$(cat "$T_TMP/$n.rc")" -eq 0 ] || { cat "$T_TMP/$n.err" >&2; t_fail "$n on the intact mirror"; }
		cp "$T_TMP/$n.out" "$T_TMP/$n.want"
	done
	grep -q sha256: "$T_TMP/digest.want" || t_fail "no digest from the intact build"
	refused=0
	i=1
	while [ $i -le 20 ]; do
		rm -rf "$T_TMP/m"
		cp -a "$M" "$T_TMP/m"
		echo "iteration $i: page $(corrupt "$T_TMP/m/index.db" "$i")"
		damaged=no
		run_all "$T_TMP/m"
		for n in list plan digest verify; do
			same_or_refused $n
		done
		if [ "$damaged" = yes ] && [ "$(cat "$T_TMP/fsck.rc")" -eq 0 ]; then
			cat "$T_TMP/fsck.out" >&2
			t_fail "iteration $i: fsck calls the mirror clean, another command found it damaged"
		fi
		[ "$damaged" = no ] || refused=$((refused + 1))
		i=$((i + 1))
	done
	echo "$refused of 20 damaged copies were refused by a command other than fsck"
	[ "$refused" -gt 0 ] || t_fail "no command noticed any corruption"
}

# sql MIRROR STATEMENT...: run SQL on the mirror's index behind drydock's back.
sql() {
	python3 - "$@" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/index.db")
for q in sys.argv[2:]:
    db.execute(q)
db.commit()
PY
}

# Rows lost from a package's file list: the build refuses (it no longer
# writes an image whose apk database misses them) and fsck names it.
lost_file_rows_refused() {
	cp -a "$M" m
	sql m "DELETE FROM files WHERE rowid = (SELECT max(f.rowid) FROM files f JOIN packages p
	       ON p.id = f.pkg WHERE p.name = 'hello-drydock')"
	expect_fail 1 "index.db: package hello-drydock-1.2.3-r0 has [0-9]+ file rows, [0-9]+ were recorded at import.*mirror fsck" \
		drydock build --mirror m -o out "$HELLO"
	expect_fail 1 "package hello-drydock-1.2.3-r0 had [0-9]+ files at import, the index now lists" \
		drydock mirror fsck --mirror m
}

# An index from before file counts were recorded (schema 1): readers use
# it as it is, unchecked; the first writer adds the counts.
schema_1_index_still_works() {
	cp -a "$M" m
	sql m "ALTER TABLE packages DROP COLUMN nfiles" "UPDATE meta SET value = '1' WHERE key = 'schema'"
	want=$(drydock build --mirror "$M" -o out0 "$HELLO" | sed -n 's/.*\(sha256:[0-9a-f]*\).*/\1/p')
	expect_out "built .*$want" drydock build --mirror m -o out1 "$HELLO"
	expect_out "clean" drydock mirror fsck --mirror m
	drydock mirror gc --mirror m >/dev/null
	[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
		"SELECT value FROM meta WHERE key = \"schema\"").fetchone()[0])' m/index.db)" = 2 ] ||
		t_fail "the writer did not migrate the index"
	sql m "DELETE FROM files WHERE rowid = (SELECT max(rowid) FROM files)"
	expect_fail 1 "file rows, [0-9]+ were recorded at import" drydock build --mirror m -o out2 "$HELLO"
}

t_run lost_file_rows_refused
t_run schema_1_index_still_works
t_run every_command_right_or_refused
