#!/usr/bin/env bash
# `phieu scan` (libsane and phieu's own backend, private SANE_CONFIG_DIR) under I/O errors
# and a full disk from the LD_PRELOAD shim tests/faults/iofail.c: the scan stops with a
# message that says what failed and which sheets to scan again, the session stays sound,
# nothing recorded before is lost, and scanning the whole stack again (the sheets already
# recorded are recognised) ends with the same session as an undisturbed import.
# Every fsync of the session in turn is failed too.
set -euo pipefail
work=$(mktemp -d /tmp/phieu-faults-scan-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# shellcheck source=../faults/lib.sh
. "${PHIEU_SOURCE_DIR:?}/tests/faults/lib.sh"
lib=${PHIEU_SANE_LIB_DIR:?}
build_shim
# Sweeps fail every call in turn under `make soak` (PHIEU_FAULT_STEP=1); `make check` every 5th.
step=${PHIEU_FAULT_STEP:-5}

mkdir -p "$work/ballots"
render "$src/forms/district-rating.form" --format png --dpi 150 -o "$work/ballots/a.png"
render "$src/forms/confidence-vote.form" --format png --dpi 150 -o "$work/ballots/b.png"
render "$src/forms/district-rating.form" --format png --dpi 170 --test -o "$work/ballots/c.png"

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo phieu > "$cfg/dll.conf"
echo "folder $work/ballots" > "$cfg/phieu.conf"
export SANE_CONFIG_DIR="$cfg" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset PHIEU_SANE_FOLDER PHIEU_SANE_TRAY PHIEU_SANE_DUPLEX PHIEU_SANE_FAULTS

scan_cmd() { timeout 300 "$phieu" scan "$1" --device phieu:0 --resolution 150 </dev/null; }
holds() { sqlite3 "$1" "SELECT sha256, side, status FROM sheets ORDER BY sha256"; }

# The reference: an undisturbed scan, and it must equal an import of the same files.
new_session "$work/ref.db"
rc=0
scan_cmd "$work/ref.db" >/dev/null 2>&1 || rc=$?
finished "$rc" || fail "undisturbed scan exited $rc"
holds "$work/ref.db" > "$work/ref.holds"
"$phieu" tally "$work/ref.db" --json > "$work/ref.tally"
[ "$(wc -l < "$work/ref.holds")" -eq 3 ] || fail "undisturbed scan recorded $(wc -l < "$work/ref.holds") sheets"

runs=0
absorbed=0
try_fault() {
  local name=$1 spec=$2 must_fire=${3:-1}
  local db="$work/t.db"
  rm -rf "$db" "$db.images" "$db-wal" "$db-shm"
  new_session "$db"
  faulty "$spec" scan_cmd "$db"
  runs=$((runs + 1))
  [ "$frc" -ne 124 ] || fail "$name: the scan hung"
  if ! fault_fired; then
    [ "$must_fire" = 1 ] && fail "$name: the fault never fired ($spec)"
    return 1
  fi
  check_consistent "$db"
  if finished "$frc" && [ "$must_fire" = 0 ]; then
    # The fault came after the last commit (closing checkpoint): all must be there.
    holds "$db" | cmp -s - "$work/ref.holds" || fail "$name: finished after a fault but incomplete"
    absorbed=$((absorbed + 1))
    return 0
  fi
  expect_clean_stop "$name"
  grep -qE "scan (them|it) again|run .* again|try again" "$work/fault.err" ||
    { cat "$work/fault.err" >&2; fail "$name: the message does not say how to go on"; }
  local before
  before=$(sqlite3 "$db" 'SELECT count(*) FROM sheets')
  # The operator fixes the disk and feeds the whole stack again.
  local rc=0
  scan_cmd "$db" > "$work/rerun.out" 2>&1 || rc=$?
  finished "$rc" || { cat "$work/rerun.out" >&2; fail "$name: the second scan exited $rc"; }
  check_consistent "$db"
  holds "$db" | cmp -s - "$work/ref.holds" || fail "$name: the session differs from an undisturbed scan"
  "$phieu" tally "$db" --json | cmp -s - "$work/ref.tally" || fail "$name: the tally differs"
  [ "$before" -eq 0 ] || grep -q "already recorded, not counted again" "$work/rerun.out" ||
    fail "$name: sheets recorded before the fault were not recognised on the second scan"
  [ -z "${VERBOSE:-}" ] || echo "$name: $(grep -m1 '^phieu' "$work/fault.err")"
  return 0
}

try_fault "full archive disk" "IOFAIL_MATCH=t.db.images/ IOFAIL_AFTER_BYTES=$(($(stat -c %s "$work/ballots/a.png") / 2))"
echo "full archive disk: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "EIO writing the second image" "IOFAIL_MATCH=t.db.images/ IOFAIL_WRITE_CALL=2 IOFAIL_ERRNO=EIO"
echo "EIO writing an image: $(grep -m1 '^phieu' "$work/fault.err")"
try_fault "full database disk" "IOFAIL_MATCH=t.db-wal IOFAIL_AFTER_BYTES=30000"
echo "full database disk: $(grep -m1 '^phieu' "$work/fault.err")"
n=1
while try_fault "EIO at fsync $n" "IOFAIL_MATCH=t.db IOFAIL_FSYNC_CALL=$n IOFAIL_ERRNO=EIO" 0; do
  n=$((n + step))
  [ "$n" -le 200 ] || fail "fsync sweep did not end"
done
[ "$n" -gt 3 ] || fail "fsync sweep: the scan made only $((n - 1)) syncs"
echo "fsync calls 1, 1+$step, 1+2x$step ... of a scan failed in turn, up to $((n - 1))"
echo "faults_scan: OK ($runs faulty scans; $absorbed faults after the last commit left a complete session)"
