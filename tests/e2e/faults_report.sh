#!/usr/bin/env bash
# `phieu report` under a full disk and I/O errors (LD_PRELOAD shim tests/faults/iofail.c):
# the report stops with a message saying what failed, leaves no half-written export that
# could be taken for one (nor one that blocks the rerun), does not log "report-issued",
# the session is untouched and sound, and the same command run again writes an export
# that `phieu verify` accepts. Every write, fsync and rename into the export in turn.
set -euo pipefail
work=$(mktemp -d /tmp/phieu-faults-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../faults/lib.sh
. "${PHIEU_SOURCE_DIR:?}/tests/faults/lib.sh"
build_shim
# Sweeps fail every call in turn under `make soak` (PHIEU_FAULT_STEP=1); `make check` every 5th.
step=${PHIEU_FAULT_STEP:-5}

mkdir -p "$work/pages"
render "$src/forms/district-rating.form" --format png --dpi 150 -o "$work/pages/a.png"
render "$src/forms/confidence-vote.form" --format png --dpi 150 -o "$work/pages/b.png"
render "$src/forms/district-rating.form" --format png --dpi 160 --test -o "$work/pages/c.png"
db="$work/s.db"
new_session "$db"
rc=0
"$phieu" import "$db" "$work/pages" >/dev/null 2>&1 || rc=$?
finished "$rc" || fail "import exited $rc"
"$phieu" key new "$work/board.key" >/dev/null
dump "$db" > "$work/before.dump"
log_entries() { sqlite3 "$db" "SELECT count(*) FROM log WHERE action = 'report-issued'"; }
issued=0

report() { "$phieu" report "$db" --out "$work/out" --key "$work/board.key" --draft; }
runs=0
try_fault() {
  local name=$1 spec=$2 must_fire=${3:-1}
  rm -rf "$work/out"
  faulty "$spec" report
  runs=$((runs + 1))
  if ! fault_fired; then
    [ "$must_fire" = 1 ] && fail "$name: the fault never fired ($spec)"
    [ "$frc" -eq 0 ] || fail "$name: exited $frc without a fault"
    issued=$((issued + 1)) # the undisturbed run at the end of a sweep
    return 1
  fi
  expect_clean_stop "$name"
  grep -q "run the command again" "$work/fault.err" || { cat "$work/fault.err" >&2; fail "$name: no advice"; }
  [ ! -e "$work/out" ] || fail "$name: a half-written export was left in $work/out"
  [ "$(log_entries)" -eq "$issued" ] || fail "$name: the session logged a report that was not written"
  check_consistent "$db"
  dump "$db" | cmp -s - "$work/before.dump" || fail "$name: the session changed"
  local rc=0
  report >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "$name: the rerun exited $rc"
  issued=$((issued + 1))
  "$phieu" verify "$work/out" --pubkey "$work/board.key.pub" >/dev/null 2>&1 ||
    fail "$name: the export written after the fault does not verify"
  [ -z "${VERBOSE:-}" ] || echo "$name: $(grep -m1 '^phieu' "$work/fault.err")"
  return 0
}

try_fault "full disk" "IOFAIL_MATCH=/out/ IOFAIL_AFTER_BYTES=60000"
echo "full disk: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "full disk in the minutes" "IOFAIL_MATCH=minutes.pdf IOFAIL_AFTER_BYTES=2000"
echo "full disk in the minutes: $(grep -m1 '^phieu' "$work/fault.err")"
for kind in FSYNC RENAME; do
  n=1
  while try_fault "EIO at $kind call $n" "IOFAIL_MATCH=/out IOFAIL_${kind}_CALL=$n IOFAIL_ERRNO=EIO" 0; do
    n=$((n + step))
    [ "$n" -le 200 ] || fail "$kind sweep did not end"
  done
  [ "$n" -gt 3 ] || fail "$kind sweep: the report made only $((n - 1)) calls"
  echo "$kind calls 1, 1+$step, 1+2x$step ... of a report failed in turn, up to $((n - 1))"
done
n=1
while try_fault "EIO at write call $n" "IOFAIL_MATCH=/out/ IOFAIL_WRITE_CALL=$n IOFAIL_ERRNO=EIO" 0; do
  n=$((n * 4))
done
echo "write calls failed in turn up to call $n (the report makes fewer)"
echo "faults_report: OK ($runs faulty reports)"
