#!/usr/bin/env bash
# `phieu import` under I/O errors and a full disk, injected by the LD_PRELOAD shim
# tests/faults/iofail.c: a full disk for the archive and for the database, EIO on a write,
# an fsync and a rename, then every fsync and rename of a run in turn and a spread of write
# calls. Each time: the import stops with a message saying what failed, PRAGMA
# integrity_check passes, the pages committed before (an earlier import) are all still
# there, no temporary file is left, and running the same command again without the fault
# gives exactly the session of an undisturbed run.
set -euo pipefail
work=$(mktemp -d /tmp/phieu-faults-import-XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../faults/lib.sh
. "${PHIEU_SOURCE_DIR:?}/tests/faults/lib.sh"
build_shim
# Sweeps fail every call in turn under `make soak` (PHIEU_FAULT_STEP=1); `make check` every 5th.
step=${PHIEU_FAULT_STEP:-5}

# Part 1 is imported before any fault (it must survive); part 2 is imported under faults:
# ballots of two forms, a test ballot (an exception in an official session), a file that
# is not an image (kept as unreadable).
mkdir -p "$work/p1" "$work/p2"
render "$src/forms/district-rating.form" --format png --dpi 150 -o "$work/p1/a.png"
render "$src/forms/district-rating.form" --format png --dpi 160 -o "$work/p2/b.png"
render "$src/forms/confidence-vote.form" --format png --dpi 150 -o "$work/p2/c.png"
render "$src/forms/district-rating.form" --format png --dpi 170 --test -o "$work/p2/d.png"
echo "not a picture" > "$work/p2/e.png"

import() { "$phieu" import "$@" >/dev/null 2>&1; }
rc_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

new_session "$work/base.db"
finished "$(rc_of "$phieu" import "$work/base.db" "$work/p1")" || fail "importing part 1"
base_sheets=$(sqlite3 "$work/base.db" 'SELECT count(*) FROM sheets')
copy_session "$work/base.db" "$work/ref.db"
finished "$(rc_of "$phieu" import "$work/ref.db" "$work/p2")" || fail "importing part 2"
dump "$work/ref.db" > "$work/ref.dump"
ref_sheets=$(sqlite3 "$work/ref.db" 'SELECT count(*) FROM sheets')
[ "$ref_sheets" -eq $((base_sheets + 4)) ] || fail "reference: $ref_sheets sheets"
first_png=$(ls -S "$work/ref.db.images" | tail -n 1)
page_bytes=$(stat -c %s "$work/ref.db.images/$first_png")

# One fault: import part 2 under it, check, rerun without it, compare.
runs=0
absorbed=0
try_fault() {
  local name=$1 spec=$2 must_fire=${3:-1}
  local db="$work/t.db"
  copy_session "$work/base.db" "$db"
  faulty "$spec" "$phieu" import "$db" "$work/p2"
  runs=$((runs + 1))
  if ! fault_fired; then
    [ "$must_fire" = 1 ] && fail "$name: the fault never fired ($spec)"
    finished "$frc" || { cat "$work/fault.err" >&2; fail "$name: exited $frc without a fault"; }
    return 1
  fi
  if finished "$frc" && [ "$must_fire" = 0 ]; then
    # A fault after the last commit (SQLite's checkpoint when the session is closed) loses
    # nothing: the WAL still holds every transaction. Then the work must be all there.
    check_consistent "$db"
    dump "$db" > "$work/t.dump"
    cmp -s "$work/ref.dump" "$work/t.dump" ||
      fail "$name: exited $frc after a fault, yet the session is not the complete one"
    absorbed=$((absorbed + 1))
    return 0
  fi
  expect_clean_stop "$name"
  check_consistent "$db"
  local kept
  kept=$(sqlite3 "$db" 'SELECT count(*) FROM sheets')
  [ "$kept" -ge "$base_sheets" ] || fail "$name: committed sheets were lost ($kept < $base_sheets)"
  [ "$(sqlite3 "$db" "SELECT count(*) FROM sheets WHERE sha256 IN
        (SELECT sha256 FROM sheets)")" -eq "$kept" ] || fail "$name: sheets table unreadable"
  finished "$(rc_of "$phieu" import "$db" "$work/p2")" || fail "$name: the rerun failed"
  check_consistent "$db"
  dump "$db" > "$work/t.dump"
  if ! cmp -s "$work/ref.dump" "$work/t.dump"; then
    diff "$work/ref.dump" "$work/t.dump" | head -n 20 >&2
    fail "$name: after the rerun the session differs from an undisturbed run"
  fi
  [ -z "${VERBOSE:-}" ] || echo "$name: $(grep -m1 '^phieu' "$work/fault.err")"
  return 0
}

# The named cases, with the message each gave.
try_fault "full archive disk" "IOFAIL_MATCH=.db.images/ IOFAIL_AFTER_BYTES=$((page_bytes + page_bytes / 2))"
grep -qiE 'no space|full' "$work/fault.err" || fail "full archive disk: message does not say the disk is full"
grep -q 'run the same command again' "$work/fault.err" || fail "full archive disk: no advice to rerun"
echo "full archive disk: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "full database disk" "IOFAIL_MATCH=.db-wal IOFAIL_AFTER_BYTES=20000"
grep -qiE 'full' "$work/fault.err" || fail "full database disk: message does not say the disk is full"
echo "full database disk: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "EIO writing an image" "IOFAIL_MATCH=.db.images/ IOFAIL_WRITE_CALL=2 IOFAIL_ERRNO=EIO"
grep -qi 'input/output error' "$work/fault.err" || fail "EIO writing an image: the cause is not named"
echo "EIO writing an image: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "EIO syncing the database" "IOFAIL_MATCH=.db-wal IOFAIL_FSYNC_CALL=2 IOFAIL_ERRNO=EIO"
echo "EIO syncing the database: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "EIO renaming an image into place" "IOFAIL_RENAME_CALL=3 IOFAIL_ERRNO=EIO"
echo "EIO renaming an image: $(grep -m1 '^phieu' "$work/fault.err")"

# Sweeps: the n-th fsync, the n-th rename, until a run has no n-th. Only the session's own
# files and its archive folder (t.db*): SQLite also syncs the folder holding the database
# when it creates the WAL, and ignores a failure there by design (not every file system
# can sync a folder), so that call is not one whose failure must stop the import.
for kind in FSYNC RENAME; do
  n=1
  while try_fault "EIO at $kind call $n" "IOFAIL_MATCH=t.db IOFAIL_${kind}_CALL=$n IOFAIL_ERRNO=EIO" 0; do
    n=$((n + step))
    [ "$n" -le 200 ] || fail "$kind sweep did not end"
  done
  [ "$n" -gt 3 ] || fail "$kind sweep: the import made only $((n - 1)) calls"
  echo "$kind calls 1, 1+$step, 1+2x$step ... of an import failed in turn, up to $((n - 1))"
done
# Write calls are many (SQLite pages): a spread of them, ENOSPC and EIO alternating.
n=1
prev=1
while :; do
  errno=ENOSPC
  [ $((n % 2)) -eq 0 ] && errno=EIO
  try_fault "$errno at write call $n" "IOFAIL_MATCH=t.db IOFAIL_WRITE_CALL=$n IOFAIL_ERRNO=$errno" 0 || break
  next=$((n + prev))
  prev=$n
  n=$next
  [ "$n" -le 100000 ] || fail "write sweep did not end"
done
echo "write calls failed in turn up to call $n (the import makes fewer)"
echo "faults_import: OK ($runs faulty imports: $absorbed faults after the last commit left a complete session, every other one stopped cleanly and its rerun equals an undisturbed run)"
