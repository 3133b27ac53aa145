#!/bin/bash
# browser_board_reading.sh - the board's reading screen in a real browser: a session with
# two pages the machine cannot register (corner marks and code covered), made with
# `test_session --make-board-pages` and the phieu commands; `phieu review` on a free
# loopback port; tests/browser/board_reading.test.js (playwright-core driving Debian's
# chromium) has two supervisors read one page alike and another differently, which a head
# who had not read it settles. Then the session's tally counts both as the board read them.
# Screenshots: $PHIEU_BUILD_DIR/board-reading-screenshots/. Skips (exit 77) only when
# chromium is not installed.
set -euo pipefail

: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
browser_dir="$PHIEU_SOURCE_DIR/tests/browser"
# shellcheck source=../browser/review_server.sh
. "$browser_dir/review_server.sh"
browser_ready browser_board_reading

work=$(mktemp -d /tmp/phieu-browser-board-XXXXXX)
cleanup() {
  kill_review
  rm -rf "$work"
}
trap cleanup EXIT

# a-counted.png: counted by the machine; b-cut.png (high, low, trust, blank) and c-cut.png
# (low, low, high, trust): not registered.
"$PHIEU_BUILD_DIR/test_session" --make-board-pages "$work/pages"
db="$work/day.db"
"$PHIEU_BIN" session new "$db" --council "Hội đồng nhân dân xã Thử" --session-name "Kỳ họp thứ Nhất" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 --form "$work/pages/test-rating.form" >/dev/null
status=0
"$PHIEU_BIN" import "$db" "$work/pages/a-counted.png" "$work/pages/b-cut.png" "$work/pages/c-cut.png" \
  >/dev/null 2>&1 || status=$?
[ "$status" = 7 ] || { echo "import: expected exit 7 (pages to review), got $status" >&2; exit 1; }
for u in lan:supervisor minh:supervisor truong:head; do
  echo "mat-khau-${u%%:*}-1" | "$PHIEU_BIN" user add "$db" "${u%%:*}" --role "${u##*:}" >/dev/null
done
exc() { { "$PHIEU_BIN" exceptions "$db" || true; } | awk -v pos="1/$1" '$3 == pos && $5 == "page" {print $1}'; }
exc_b=$(exc 2); exc_c=$(exc 3)
[ -n "$exc_b" ] && [ -n "$exc_c" ] || { echo "no page exceptions for the cut pages" >&2; exit 1; }

start_review "$db" day

shots="$PHIEU_BUILD_DIR/board-reading-screenshots"
rm -rf "$shots"
REVIEW_URL="$review_url" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" EXC_B="$exc_b" EXC_C="$exc_c" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-1 \
  HEAD=truong HEAD_PASS=mat-khau-truong-1 \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/board_reading.test.js"

# The session counts both pages as the board read them: person 1 high (a, b) and low (c);
# person 4 low (a), blank (b), trust (c).
"$PHIEU_BIN" tally "$db" --json >"$work/tally.json"
got=$(jq -c '.forms[0] | [.ballots, .board_read_ballots, .pending_ballots, [.persons[0].levels[].count], .persons[3].blank, [.persons[3].levels[].count]]' "$work/tally.json")
[ "$got" = '[3,2,0,[2,0,1],1,[0,1,1]]' ] || { echo "tally after the board's readings: $got" >&2; exit 1; }
# The server's log names the readings, never a row's choice.
grep -q "board reading by 'lan'" "$work/day.log" || { echo "no board reading in the server log" >&2; exit 1; }
if grep -Eq 'high|trust|low|blank|Tín nhiệm' "$work/day.log"; then
  echo "the server log holds a selection:" >&2; cat "$work/day.log" >&2; exit 1
fi
stop_review
echo "browser_board_reading: passed; screenshots in $shots"
