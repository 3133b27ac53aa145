#!/usr/bin/env bash
# Crash safety of the board's work: `phieu decide` by two supervisors on every exception,
# then `phieu report`, killed with SIGKILL at a random instant; then the operator does
# what is still to do (decides what is still open, writes the report into a new folder).
# After every kill the session passes integrity_check and its log verifies; a half-written
# export is never one `phieu verify` accepts; and the rerun converges to the uninterrupted
# result: the same resolution for every exception, the same tally, and an export that
# verifies with the same totals. PHIEU_CRASH_POINTS kill points (default 3; make soak 200).
set -euo pipefail
work=$(mktemp -d /tmp/phieu-crash-review-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# shellcheck source=../faults/lib.sh
. "${PHIEU_SOURCE_DIR:?}/tests/faults/lib.sh"
build=${PHIEU_BUILD_DIR:?}
points=${PHIEU_CRASH_POINTS:-3}

# Pages with exceptions of both kinds: hand-marked ballots with faint marks (row
# exceptions) from test_review's generator, and a test ballot in an official session (a
# page exception).
mkdir -p "$work/scans"
# test_review finds the forms relative to the build folder (../forms).
(cd "$build" && ./test_review --make-ballots "$work/scans" 4 >/dev/null)
render "$src/forms/district-rating.form" --format png --dpi 150 --test -o "$work/scans/test-ballot.png"
db="$work/base.db"
new_session "$db"
rc=0
"$phieu" import "$db" "$work/scans" >/dev/null 2>&1 || rc=$?
finished "$rc" || fail "import exited $rc"
echo "mat-khau-lan-1" | "$phieu" user add "$db" lan --role supervisor >/dev/null
echo "mat-khau-minh-2" | "$phieu" user add "$db" minh --role supervisor >/dev/null
"$phieu" key new "$work/board.key" >/dev/null
n_exc=$(sqlite3 "$db" 'SELECT count(*) FROM exceptions')
[ "$n_exc" -ge 2 ] || fail "only $n_exc exceptions: nothing to decide"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM exceptions WHERE row = 0')" -ge 1 ] || fail "no page exception"

# The board's work, as an operator who picks up where things stand would do it: every
# exception still open gets each supervisor's decision (unless they gave one already);
# the report goes into a new folder. A row is decided as the box the machine hesitated
# on; the test ballot is discarded.
password() { case $1 in lan) echo mat-khau-lan-1 ;; minh) echo mat-khau-minh-2 ;; esac; }
board_work() {
  local s=$1 out=$2
  local open_exc
  mapfile -t open_exc < <(sqlite3 "$s" "SELECT id, row, text FROM exceptions WHERE state <> 3 ORDER BY id")
  local line id row text choice u
  for line in "${open_exc[@]}"; do
    IFS='|' read -r id row text <<<"$line"
    choice=discard
    if [ "$row" -gt 0 ]; then
      choice=$(sed -n "s/.*box '\([a-z]*\)'.*/\1/p" <<<"$text")
      [ -n "$choice" ] || choice=invalid
    fi
    for u in lan minh; do
      [ "$(sqlite3 "$s" "SELECT count(*) FROM decisions WHERE exception_id = $id AND user = '$u'")" -eq 0 ] || continue
      password "$u" | "$phieu" decide "$s" "$id" "$choice" --user "$u" >/dev/null 2>&1 || return 1
    done
  done
  "$phieu" report "$s" --out "$out" --key "$work/board.key" --draft >/dev/null 2>&1
}

# What must converge: every exception's state and resolution, the tally, the export's totals.
outcome() {
  sqlite3 "$1" "SELECT s.sha256, e.row, e.reason, e.state, e.resolution FROM exceptions e
                JOIN sheets s ON s.id = e.sheet_id ORDER BY s.sha256, e.row"
  "$phieu" tally "$1" --json
}
totals() { jq -S 'del(.audit_log_head)' "$1/results.json"; } # the log differs: times, repeated decisions

copy_session "$db" "$work/ref.db"
start=$(date +%s%N)
board_work "$work/ref.db" "$work/ref.out" || fail "the uninterrupted run failed"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
outcome "$work/ref.db" > "$work/ref.outcome"
[ "$(sqlite3 "$work/ref.db" 'SELECT count(*) FROM exceptions WHERE state <> 3')" -eq 0 ] ||
  fail "the uninterrupted run left exceptions open"
"$phieu" verify "$work/ref.out" --pubkey "$work/board.key.pub" >/dev/null || fail "reference export"
totals "$work/ref.out" > "$work/ref.totals"
echo "reference: $n_exc exceptions decided by two supervisors and a report in ${elapsed_ms} ms"

killed_mid=0
partial_refused=0
for k in $(seq 1 "$points"); do
  s="$work/c$k.db"
  copy_session "$db" "$s"
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (elapsed_ms + 1) ))
  # Job control gives the run its own process group: the kill reaches the phieu command
  # it is in, whichever that is.
  set -m
  (board_work "$s" "$work/c$k.out1") >/dev/null 2>&1 &
  pid=$!
  set +m
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 -- -"$pid" 2>/dev/null; then killed_mid=$((killed_mid + 1)); fi
  wait "$pid" 2>/dev/null || true
  # wait reaps only the subshell: let the killed phieu in it finish dying (and drop its lock).
  for _ in $(seq 100); do kill -0 -- -"$pid" 2>/dev/null || break; sleep 0.05; done
  check_consistent "$s"
  # An export cut short must never pass for one.
  if [ -d "$work/c$k.out1" ] && ! [ -f "$work/c$k.out1/manifest.sig" ]; then
    if "$phieu" verify "$work/c$k.out1" --pubkey "$work/board.key.pub" >/dev/null 2>&1; then
      fail "kill point $k: a half-written export verifies"
    fi
    partial_refused=$((partial_refused + 1))
  fi
  board_work "$s" "$work/c$k.out2" || fail "kill point $k (${delay_ms} ms): the rerun failed"
  check_consistent "$s"
  outcome "$s" > "$work/c$k.outcome"
  if ! cmp -s "$work/ref.outcome" "$work/c$k.outcome"; then
    diff "$work/ref.outcome" "$work/c$k.outcome" | head -n 20 >&2
    fail "kill point $k (${delay_ms} ms): the session differs from the uninterrupted run"
  fi
  "$phieu" verify "$work/c$k.out2" --pubkey "$work/board.key.pub" >/dev/null ||
    fail "kill point $k: the export of the rerun does not verify"
  totals "$work/c$k.out2" | cmp -s - "$work/ref.totals" || fail "kill point $k: the totals differ"
  echo "kill point $k at ${delay_ms} ms: converged"
done
[ "$points" -lt 3 ] || [ "$killed_mid" -ge 1 ] || fail "no kill landed while a command was running"
echo "crash_review_report: OK ($points kill points, $killed_mid inside a command, $partial_refused half-written exports refused by verify)"
