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
browser_dir="$PHIEU_SOURCE_DIR/tests/browser"
# shellcheck source=../browser/review_server.sh
. "$browser_dir/review_server.sh"
browser_ready browser_review

work=$(mktemp -d /tmp/phieu-browser-XXXXXX)
cleanup() {
  kill_review
  rm -rf "$work"
}
trap cleanup EXIT

# Eight ballots, three faint marks on the first two (the unit test's fixture draws them),
# a second scan of the third,
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/scans" 8 rescan
# and an unmarked ballot of another form: the machine rejects it, the board decides.
"$PHIEU_BIN" form print "$PHIEU_SOURCE_DIR/forms/confidence-vote.form" --format png --dpi 200 \
  -o "$work/scans/ballot-09.png" >/dev/null
district_session "$work/day.db" "$work/scans" 30
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/day.db" lan --role supervisor >/dev/null
echo "mat-khau-minh-2" | "$PHIEU_BIN" user add "$work/day.db" minh --role supervisor >/dev/null
echo "mat-khau-truong-3" | "$PHIEU_BIN" user add "$work/day.db" truong --role head >/dev/null

start_review "$work/day.db" day
echo "review screen at $review_url"

shots="$PHIEU_BUILD_DIR/review-screenshots"
rm -rf "$shots"
REVIEW_URL="$review_url" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-2 \
  HEAD=truong HEAD_PASS=mat-khau-truong-3 \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/review.test.js"

# The decisions are in the session: all five resolved.
"$PHIEU_BIN" exceptions "$work/day.db" --all >"$work/exc" || true
resolved=$(grep -c ' resolved ' "$work/exc" || true)
[ "$resolved" = 5 ] || { echo "expected 5 resolved exceptions:" >&2; cat "$work/exc" >&2; exit 1; }
# The server's log names logins and decisions but no selection.
grep -q "decision by 'lan'" "$work/day.log"
if grep -Eq 'high|trust|low|Tín nhiệm' "$work/day.log"; then
  echo "the server log holds a selection:" >&2; cat "$work/day.log" >&2; exit 1
fi
stop_review
# libmicrohttpd is given its options in the order it wants: no complaint at start.
if grep -q "is not the first option" "$work/day.log"; then
  echo "the server's start logged an option-order complaint:" >&2; cat "$work/day.log" >&2; exit 1
fi

# Under pressure (issue 14): a session of its own with an upside-down ballot and a page of
# another form; tests/browser/pressure.test.js at 1366x768 and 1280x720.
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/press-scans" 8 upside
cp "$work/scans/ballot-09.png" "$work/press-scans/"
district_session "$work/press.db" "$work/press-scans" 30
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/press.db" lan --role supervisor >/dev/null
echo "mat-khau-minh-2" | "$PHIEU_BIN" user add "$work/press.db" minh --role supervisor >/dev/null
echo "mat-khau-truong-3" | "$PHIEU_BIN" user add "$work/press.db" truong --role head >/dev/null
echo "mat-khau-khach-4" | "$PHIEU_BIN" user add "$work/press.db" khach --role supervisor >/dev/null
start_review "$work/press.db" press
REVIEW_URL="$review_url" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" SERVER_LOG="$work/press.log" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-2 \
  HEAD=truong HEAD_PASS=mat-khau-truong-3 SPARE=khach \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/pressure.test.js"
# The head's change is logged as an override, naming the decisions it replaced.
"$PHIEU_BIN" log "$work/press.db" >"$work/plog"
grep -q "override.*overrides decisions #" "$work/plog" || {
  echo "no override naming the earlier decisions in the audit log:" >&2; cat "$work/plog" >&2; exit 1; }
stop_review

# 100 faint marks worked through with the keyboard, carelessly (tests/browser/keyboard.test.js):
# ballots 1-3 hold three, each ballot after them one.
cases=100
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/k-scans" "$cases" faint
district_session "$work/k.db" "$work/k-scans" 120
echo "mat-khau-lan-1" | "$PHIEU_BIN" user add "$work/k.db" lan --role supervisor >/dev/null
start_review "$work/k.db" keyboard
REVIEW_URL="$review_url" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" USER1=lan PASS1=mat-khau-lan-1 \
  CASES="$cases" NODE_PATH="$browser_dir/node_modules" node "$browser_dir/keyboard.test.js"
stop_review
echo "browser_review: passed; screenshots in $shots"
