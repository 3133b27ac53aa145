#!/usr/bin/env bash
# `phieu scan` through the real libsane and phieu's scanner backend into a session: a whole
# batch, faults at several sheets (each followed by `phieu scan` again, as an operator
# without a terminal would), duplex with blank backs, a double feed, the sheet count
# reconciliation, a busy scanner and an empty feeder. After each scenario the session
# holds exactly the pages scanned whole: the same archived images, and the same tally, as
# `phieu import` of the same files. Private SANE_CONFIG_DIR, every scan under `timeout`.
set -euo pipefail
phieu=${PHIEU_BIN:?PHIEU_BIN not set}
lib=${PHIEU_SANE_LIB_DIR:?PHIEU_SANE_LIB_DIR not set}
src=${PHIEU_SOURCE_DIR:?PHIEU_SOURCE_DIR not set}
build=${PHIEU_BUILD_DIR:?PHIEU_BUILD_DIR not set}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
N=6

# The ballots: the first N committed samples of the district council, or N freshly
# generated ones (the province form's pages set apart: they are another council's).
mkdir -p "$work/ballots"
if ls "$src"/samples/ballots/*.png >/dev/null 2>&1; then
  ls "$src"/samples/ballots/*.{png,tif} 2>/dev/null | sort | head -n "$N" | xargs -I{} cp {} "$work/ballots/"
else
  "$build/gen_samples" --count "$((N * 2))" --out "$work/gen" --forms "$src/forms" \
    --split province-rating="$work/gen-province" >/dev/null
  ls "$work"/gen/p*.* | head -n "$N" | xargs -I{} cp {} "$work/ballots/"
fi
[ "$(ls "$work/ballots" | wc -l)" -eq "$N" ] || { echo "FAIL: no ballot images" >&2; exit 1; }

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo phieu > "$cfg/dll.conf"
export SANE_CONFIG_DIR="$cfg" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset PHIEU_SANE_FOLDER PHIEU_SANE_TRAY PHIEU_SANE_DUPLEX PHIEU_SANE_FAULTS LD_PRELOAD

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }
forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
new_session() {
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" \
    --date 2026-11-28 --place "Hội trường" --delegates 40 --two-person off "${forms[@]}" >/dev/null
}
# What a session holds: its archived front/back images and their statuses, and the tally.
holds() { sqlite3 "$1" "SELECT sha256, side, status FROM sheets ORDER BY sha256" | md5sum | cut -c1-32; }
statuses() { sqlite3 "$1" "SELECT side, status, count(*) FROM sheets GROUP BY side, status" | tr '\n' ' '; }
tally() {
  "$phieu" tally "$1" --json | jq -c '[.forms[] | [.ballots, .invalid_ballots, .pending_ballots,
    [.persons[] | [.number, .valid, .not_valid, .blank, .overvote, .pending, [.levels[].count]]]]]'
}
fronts() { sqlite3 "$1" "SELECT count(*) FROM sheets WHERE side = 0"; }
conf() { printf '%s\n' "$@" > "$cfg/phieu.conf"; }
# scan SESSION ARGS...: output in $out (stdout+stderr), status in $rc; stdin is not a tty.
scan() {
  rc=0
  out=$(timeout 300 "$phieu" scan "$@" --device phieu:0 </dev/null 2>&1) || rc=$?
  [ "$rc" -ne 124 ] || fail "scan $* timed out"
}

# The reference: an import of the same files.
new_session "$work/ref.db"
"$phieu" import "$work/ref.db" "$work/ballots" >/dev/null || [ $? -eq 7 ]
ref_statuses=$(statuses "$work/ref.db")
ref_tally=$(tally "$work/ref.db")
expect "reference fronts" "$(fronts "$work/ref.db")" "$N"

# A whole batch.
new_session "$work/full.db"
conf "folder $work/ballots"
scan "$work/full.db" --sheets "$N"
[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "full batch exit $rc: $out"
grep -q "batch 1 closed: $N sheets" <<<"$out" || fail "batch not closed: $out"
expect "full batch statuses" "$(statuses "$work/full.db")" "$ref_statuses"
ref_holds=$(holds "$work/full.db")
expect "full batch tally" "$(tally "$work/full.db")" "$ref_tally"

# Faults at several sheets, without a terminal: exit 5, the pages before the fault are
# recorded, the page in flight is not; `phieu scan` again (the operator put the sheet
# back) continues the same batch and ends with the same session as the import.
i=0
for spec in "jam 1 0" "jam 3 200000" "cover-open 2 5000000" "io-error $N 100" "short 4 1000"; do
  i=$((i + 1))
  set -- $spec
  db="$work/fault$i.db"
  new_session "$db"
  rm -rf "$work/hopper" "$work/tray"
  cp -r "$work/ballots" "$work/hopper"
  mkdir -p "$work/tray"
  conf "folder $work/hopper" "tray $work/tray" "$spec"
  scan "$db" --sheets "$N"
  expect "$spec: exit" "$rc" 5
  expect "$spec: recorded before the fault" "$(fronts "$db")" "$(($2 - 1))"
  grep -q "sheet $2 of the batch" <<<"$out" || fail "$spec: which sheet? $out"
  grep -q "tờ thứ $2" <<<"$out" || fail "$spec: no Vietnamese message: $out"
  grep -q "phieu scan $db' again to continue batch 1" <<<"$out" || fail "$spec: how to go on? $out"
  if [ "$1" = short ]; then
    # The scanner ejected the short page: the operator puts it back from the tray.
    mv "$work/tray/$(ls "$work/ballots" | sed -n "$2p")" "$work/hopper/"
  fi
  conf "folder $work/hopper" "tray $work/tray"
  scan "$db"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "$spec: second run exit $rc: $out"
  grep -q "continuing batch 1" <<<"$out" || fail "$spec: batch not continued: $out"
  grep -q "batch 1 closed: $N sheets" <<<"$out" || fail "$spec: batch count: $out"
  grep -q "placed" <<<"$out" && fail "$spec: reconciliation complained: $out"
  expect "$spec: holds" "$(holds "$db")" "$ref_holds"
  expect "$spec: tally" "$(tally "$db")" "$ref_tally"
done

# On a terminal (a pseudo-terminal from script(1)) the batch waits for the operator after
# a fault: Enter continues the same run to the end; q stops it with 5.
if command -v script >/dev/null; then
  db="$work/tty.db"
  new_session "$db"
  conf "folder $work/ballots" "jam 3 1000"
  rc=0
  out=$(printf '\n' | timeout 300 script -qec "'$phieu' scan '$db' --device phieu:0 --sheets $N" /dev/null) || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "terminal: exit $rc: $out"
  grep -q "Nhấn Enter khi sẵn sàng để tiếp tục" <<<"$out" || fail "terminal: no prompt: $out"
  grep -q "batch 1 closed: $N sheets" <<<"$out" || fail "terminal: batch not completed: $out"
  expect "terminal: holds" "$(holds "$db")" "$ref_holds"
  expect "terminal: tally" "$(tally "$db")" "$ref_tally"
  db="$work/tty-q.db"
  new_session "$db"
  rc=0
  out=$(printf 'q\n' | timeout 300 script -qec "'$phieu' scan '$db' --device phieu:0" /dev/null) || rc=$?
  expect "terminal q: exit" "$rc" 5
  expect "terminal q: recorded" "$(fronts "$db")" 2
fi

# Re-feeding every sheet after a fault (no output tray): the ones already recorded are
# caught as duplicates, never counted twice.
db="$work/refeed.db"
new_session "$db"
conf "folder $work/ballots" "jam 4 100"
scan "$db"
expect "refeed: first run" "$rc/$(fronts "$db")" "5/3"
conf "folder $work/ballots"
scan "$db"
[ "$(grep -c "already recorded, not counted again" <<<"$out")" = 3 ] || fail "refeed: duplicates not caught: $out"
expect "refeed: holds" "$(holds "$db")" "$ref_holds"
expect "refeed: tally" "$(tally "$db")" "$ref_tally"

# Duplex with one-sided ballots: each blank back is recorded with its front, not as a
# ballot; the tally is unchanged.
db="$work/duplex.db"
new_session "$db"
conf "folder $work/ballots"
scan "$db" --source duplex --sheets "$N"
[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "duplex exit $rc: $out"
expect "duplex backs" "$(sqlite3 "$db" "SELECT count(*) FROM sheets WHERE side = 1 AND back_of IS NOT NULL")" "$N"
expect "duplex fronts" "$(fronts "$db")" "$N"
expect "duplex tally" "$(tally "$db")" "$ref_tally"

# A jam on a back side: the front of that sheet is dropped too and scanned again.
db="$work/duplexjam.db"
new_session "$db"
conf "folder $work/ballots" "jam 4 100"
scan "$db" --source duplex
expect "duplex jam: first run" "$rc/$(fronts "$db")" "5/1"
conf "folder $work/ballots"
scan "$db" --source duplex
expect "duplex jam: backs" "$(sqlite3 "$db" "SELECT count(*) FROM sheets WHERE side = 1")" "$N"
expect "duplex jam: tally" "$(tally "$db")" "$ref_tally"

# A double feed (sheets 2 and 3 together): one long page, sent to review.
db="$work/double.db"
new_session "$db"
conf "folder $work/ballots" "double-feed 2"
scan "$db" --sheets "$N"
expect "double feed exit" "$rc" 7
grep -q "possible double feed" <<<"$out" || fail "double feed not flagged: $out"
exc=$("$phieu" exceptions "$db") || true # exit 7: exceptions are open
grep -q "possible double feed" <<<"$exc" || fail "no double-feed exception: $exc"
grep -q "$N placed, $((N - 1)) scanned: look in the feeder and the output tray" <<<"$out" ||
  fail "reconciliation: $out"

# Ctrl-C on a slow scanner (0.7 s a page): the sheet in flight is finished and recorded,
# the command stops with 6, and `phieu scan` again completes the batch.
db="$work/sigint.db"
new_session "$db"
conf "folder $work/ballots" "delay 700"
timeout 300 "$phieu" scan "$db" --device phieu:0 </dev/null >"$work/sigint.out" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "^sheet 1: " "$work/sigint.out" && break; sleep 0.1; done
# Signal phieu itself, as a terminal's Ctrl-C does, not `timeout`: timeout passes a SIGINT
# on to its child and then to its whole process group, so phieu would get two, and a
# second Ctrl-C ends phieu at once by design (exit 130 instead of 6).
scanner=$(pgrep -P "$pid" -x phieu || echo "$pid")
kill -INT "$scanner"
rc=0
wait "$pid" || rc=$?
expect "Ctrl-C exit" "$rc" 6
got=$(fronts "$db")
[ "$got" -ge 1 ] && [ "$got" -lt "$N" ] || fail "Ctrl-C: $got sheets recorded: $(cat "$work/sigint.out")"
grep -q "$got sheets recorded" "$work/sigint.out" || fail "Ctrl-C: recorded count: $(cat "$work/sigint.out")"
conf "folder $work/ballots"
scan "$db"
expect "after Ctrl-C: holds" "$(holds "$db")" "$ref_holds"
expect "after Ctrl-C: tally" "$(tally "$db")" "$ref_tally"

# Busy scanner and empty feeder: exit 5, nothing recorded, the batch stays open.
db="$work/busy.db"
new_session "$db"
conf "folder $work/ballots" "busy yes"
scan "$db"
expect "busy exit" "$rc" 5
grep -q "Máy quét đang bận" <<<"$out" || fail "busy message: $out"
conf "folder $work/ballots" "empty yes"
scan "$db"
expect "empty exit" "$rc" 5
grep -q "Khay nạp giấy trống" <<<"$out" || fail "empty message: $out"
expect "busy/empty recorded" "$(fronts "$db")" 0

echo "sane_scan: ok"
