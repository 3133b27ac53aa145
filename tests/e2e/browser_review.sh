#!/bin/bash
# browser_review.sh - the review screen in a real browser: makes a session with faint
# marks through the phieu commands (session new, import, user add), starts `phieu review`
# on a free loopback port, and runs tests/browser/review.test.js (playwright-core driving
# Debian's chromium); then the same under pressure (tests/browser/pressure.test.js, issue
# 14) and 100 cases by keyboard (tests/browser/keyboard.test.js), each on a session of its
# own. Screenshots: $PHIEU_BUILD_DIR/review-screenshots/.
# Skips (exit 77) only when chromium is not installed.
set -euo pipefail

: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "browser_review: SKIPPED: $CHROMIUM is not installed (scripts/install-deps installs it)"
  exit 77
fi
browser_dir="$PHIEU_SOURCE_DIR/tests/browser"
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
  echo "browser_review: playwright-core is missing: run scripts/install-deps" >&2
  exit 1
fi

work=$(mktemp -d /tmp/phieu-browser-XXXXXX)
server_pid=""
server2_pid=""
cleanup() {
  for pid in $server_pid $server2_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Eight ballots, three faint marks on the first two (the unit test's fixture draws them),
# a second scan of the third,
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/scans" 8 rescan
# and an unmarked ballot of another form: the machine rejects it, the board decides.
"$PHIEU_BIN" form print "$PHIEU_SOURCE_DIR/forms/confidence-vote.form" --format png --dpi 200 \
  -o "$work/scans/ballot-09.png" >/dev/null
"$PHIEU_BIN" session new "$work/day.db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
  --place "Hội trường UBND huyện" --delegates 30 \
  --form "$PHIEU_SOURCE_DIR/forms/district-rating.form" >/dev/null
status=0
"$PHIEU_BIN" import "$work/day.db" "$work/scans" >/dev/null || status=$?
[ "$status" = 7 ] || { echo "import: expected exit 7 (pages to review), got $status" >&2; exit 1; }
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/day.db" lan --role supervisor >/dev/null
echo "mat-khau-minh-2" | "$PHIEU_BIN" user add "$work/day.db" minh --role supervisor >/dev/null
echo "mat-khau-truong-3" | "$PHIEU_BIN" user add "$work/day.db" truong --role head >/dev/null

"$PHIEU_BIN" review "$work/day.db" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/out" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "phieu review did not start:" >&2; cat "$work/log" >&2; exit 1; }
echo "review screen at $url"

shots="$PHIEU_BUILD_DIR/review-screenshots"
rm -rf "$shots"
REVIEW_URL="${url%/}" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-2 \
  HEAD=truong HEAD_PASS=mat-khau-truong-3 \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/review.test.js"

# The decisions are in the session: all five resolved.
"$PHIEU_BIN" exceptions "$work/day.db" --all >"$work/exc" || true
resolved=$(grep -c ' resolved ' "$work/exc" || true)
[ "$resolved" = 5 ] || { echo "expected 5 resolved exceptions:" >&2; cat "$work/exc" >&2; exit 1; }
# The server's log names logins and decisions but no selection.
grep -q "decision by 'lan'" "$work/log"
if grep -Eq 'high|trust|low|Tín nhiệm' "$work/log"; then
  echo "the server log holds a selection:" >&2; cat "$work/log" >&2; exit 1
fi
kill -INT "$server_pid"
wait "$server_pid"
server_pid=""
# libmicrohttpd is given its options in the order it wants: no complaint at start.
if grep -q "is not the first option" "$work/log"; then
  echo "the server's start logged an option-order complaint:" >&2; cat "$work/log" >&2; exit 1
fi

# Under pressure (issue 14): a session of its own with an upside-down ballot and a page of
# another form; tests/browser/pressure.test.js at 1366x768 and 1280x720.
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/press-scans" 8 upside
cp "$work/scans/ballot-09.png" "$work/press-scans/"
"$PHIEU_BIN" session new "$work/press.db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
  --place "Hội trường UBND huyện" --delegates 30 \
  --form "$PHIEU_SOURCE_DIR/forms/district-rating.form" >/dev/null
status=0
"$PHIEU_BIN" import "$work/press.db" "$work/press-scans" >/dev/null || status=$?
[ "$status" = 7 ] || { echo "import (pressure): expected exit 7, got $status" >&2; exit 1; }
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/press.db" lan --role supervisor >/dev/null
echo "mat-khau-minh-2" | "$PHIEU_BIN" user add "$work/press.db" minh --role supervisor >/dev/null
echo "mat-khau-truong-3" | "$PHIEU_BIN" user add "$work/press.db" truong --role head >/dev/null
echo "mat-khau-khach-4" | "$PHIEU_BIN" user add "$work/press.db" khach --role supervisor >/dev/null
"$PHIEU_BIN" review "$work/press.db" --listen 127.0.0.1:0 >"$work/out2" 2>"$work/log2" &
server2_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/out2" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "phieu review (pressure) did not start:" >&2; cat "$work/log2" >&2; exit 1; }
REVIEW_URL="${url%/}" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" SERVER_LOG="$work/log2" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-2 \
  HEAD=truong HEAD_PASS=mat-khau-truong-3 SPARE=khach \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/pressure.test.js"
# The head's change is logged as an override, naming the decisions it replaced.
"$PHIEU_BIN" log "$work/press.db" >"$work/plog"
grep -q "override.*overrides decisions #" "$work/plog" || {
  echo "no override naming the earlier decisions in the audit log:" >&2; cat "$work/plog" >&2; exit 1; }
kill -INT "$server2_pid"
wait "$server2_pid"
server2_pid=""

# 100 faint marks worked through with the keyboard, carelessly (tests/browser/keyboard.test.js):
# ballots 1-3 hold three, each ballot after them one.
cases=100
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/k-scans" "$cases" faint
"$PHIEU_BIN" session new "$work/k.db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
  --place "Hội trường UBND huyện" --delegates 120 \
  --form "$PHIEU_SOURCE_DIR/forms/district-rating.form" >/dev/null
status=0
"$PHIEU_BIN" import "$work/k.db" "$work/k-scans" >/dev/null || status=$?
[ "$status" = 7 ] || { echo "import (keyboard): expected exit 7, got $status" >&2; exit 1; }
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/k.db" lan --role supervisor >/dev/null
"$PHIEU_BIN" review "$work/k.db" --listen 127.0.0.1:0 >"$work/out3" 2>"$work/log3" &
server2_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/out3" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "phieu review (keyboard) did not start:" >&2; cat "$work/log3" >&2; exit 1; }
REVIEW_URL="${url%/}" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" USER1=lan PASS1=mat-khau-lan-1 \
  CASES="$cases" NODE_PATH="$browser_dir/node_modules" node "$browser_dir/keyboard.test.js"
kill -INT "$server2_pid"
wait "$server2_pid"
server2_pid=""
echo "browser_review: passed; screenshots in $shots"
