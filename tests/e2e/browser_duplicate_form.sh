#!/bin/bash
# browser_duplicate_form.sh - "count as form X" on a second scan, in a real browser: a
# ballot is imported and counted, then the same paper with its form code covered, fed
# again (samples/rescan.c), is rejected as code-unreadable; `phieu review` on a free
# loopback port; tests/browser/duplicate_form.test.js has two supervisors each asked, and
# each confirm, that the two papers are two ballots. Then the tally counts both, and the
# log names both confirmations. Screenshots: $PHIEU_BUILD_DIR/duplicate-form-screenshots/.
# Skips (exit 77) only when chromium is not installed.
set -euo pipefail

: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
browser_dir="$PHIEU_SOURCE_DIR/tests/browser"
# shellcheck source=../browser/review_server.sh
. "$browser_dir/review_server.sh"
browser_ready browser_duplicate_form

work=$(mktemp -d /tmp/phieu-browser-dup-XXXXXX)
cleanup() {
  kill_review
  rm -rf "$work"
}
trap cleanup EXIT

form="$PHIEU_SOURCE_DIR/forms/district-rating.form"
"$PHIEU_BIN" form print "$form" -o "$work/blank.png" --format png --dpi 200 >/dev/null
"$PHIEU_BIN" form layout "$form" --json >"$work/layout.json"
mkdir "$work/first" "$work/again"
draw() { python3 "$PHIEU_SOURCE_DIR/tests/e2e/ballot_png.py" "$work/blank.png" "$work/layout.json" "$@"; }
draw "$work/first/paper.png" --marks 0:0,1:1,2:2,3:0
draw "$work/covered.png" --cover-code --marks 0:0,1:1,2:2,3:0
"$PHIEU_BUILD_DIR/rescan" --seed 5 "$work/covered.png" "$work/again/paper.png" >/dev/null

db="$work/day.db"
"$PHIEU_BIN" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
  --place "Hội trường UBND huyện" --delegates 30 --form "$form" >/dev/null
"$PHIEU_BIN" import "$db" "$work/first" >/dev/null
status=0
"$PHIEU_BIN" import "$db" "$work/again" >/dev/null || status=$?
[ "$status" = 7 ] || { echo "import of the rescan: expected exit 7, got $status" >&2; exit 1; }
for u in lan minh; do
  echo "mat-khau-$u-1" | "$PHIEU_BIN" user add "$db" "$u" --role supervisor >/dev/null
done
exc=$({ "$PHIEU_BIN" exceptions "$db" || true; } | awk '$3 == "2/1" && $6 == "code-unreadable" {print $1}')
[ -n "$exc" ] || { echo "the rescan was not rejected as code-unreadable" >&2; exit 1; }

start_review "$db" day
shots="$PHIEU_BUILD_DIR/duplicate-form-screenshots"
rm -rf "$shots"
REVIEW_URL="$review_url" SHOTS_DIR="$shots" CHROMIUM="$CHROMIUM" EXC="$exc" \
  USER1=lan PASS1=mat-khau-lan-1 USER2=minh PASS2=mat-khau-minh-1 \
  NODE_PATH="$browser_dir/node_modules" node "$browser_dir/duplicate_form.test.js"
stop_review

# Counted twice, as the board confirmed: person 1 high on both papers.
got=$("$PHIEU_BIN" tally "$db" --json | jq -c '[.forms[0].ballots, [.forms[0].persons[0].levels[].count]]')
[ "$got" = '[2,[2,0,0]]' ] || { echo "tally after the confirmations: $got" >&2; exit 1; }
"$PHIEU_BIN" log "$db" >"$work/log.txt"
n=$(grep -c "confirmed it is not a duplicate of that sheet" "$work/log.txt" || true)
[ "$n" = 2 ] || { echo "expected two confirmations in the log, got $n" >&2; exit 1; }
grep -q "(confirmed: not a second scan of an earlier sheet)" "$work/day.log" ||
  { echo "the server log does not say the decision was confirmed" >&2; exit 1; }
if grep -Eq 'high|trust|low|Tín nhiệm' "$work/day.log"; then
  echo "the server log holds a selection:" >&2; cat "$work/day.log" >&2; exit 1
fi
echo "browser_duplicate_form: passed; screenshots in $shots"
