#!/bin/bash
# board_reading.sh - a page the machine cannot count, counted by the board's reading through
# the command line: two supervisors read one page alike (it counts), two read another
# differently (it waits for the head, who must not be one of them), then the report and
# `phieu verify` agree on both, the minutes say how many the board read, and a record whose
# board reading was changed is caught.
set -euo pipefail

: "${PHIEU_BIN:?}" "${PHIEU_BUILD_DIR:?}"
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
command -v pdftotext >/dev/null || { echo "SKIP: pdftotext (poppler-utils) not installed"; exit 77; }
work=$(mktemp -d /tmp/phieu-board-reading-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "board_reading: $*" >&2; exit 1; }
phieu=$PHIEU_BIN
cd "$work"

# One ballot the machine counts (high, trust, low, low) and two whose corner marks and form
# code are covered: b-cut.png is high, low, trust, blank; c-cut.png low, low, high, trust;
# and a file that cannot be decoded (its paper: trust in every row).
"$PHIEU_BUILD_DIR/test_session" --make-board-pages pages
printf 'not a picture: the scanner wrote half a file' >pages/d-broken.png
"$phieu" session new s.db --council "Hội đồng nhân dân xã Thử" --session-name "Kỳ họp thứ Nhất" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 --form pages/test-rating.form >/dev/null
"$phieu" session counts s.db --present 4 --issued 4 --collected 4 --spoiled 0 >/dev/null
rc=0
"$phieu" import s.db pages/a-counted.png pages/b-cut.png pages/c-cut.png pages/d-broken.png >import.txt || rc=$?
[ "$rc" = 7 ] || fail "import exited $rc, expected 7 (exceptions to decide)"
for u in lan:supervisor minh:supervisor truong:head ha:head; do
  echo "mat-khau-${u%%:*}-1" | "$phieu" user add s.db "${u%%:*}" --role "${u##*:}" >/dev/null
done
# exc FILE-POSITION: the page exception of the page imported at that position.
# ('phieu exceptions' exits 7 while some are open.)
exc() { { "$phieu" exceptions s.db || true; } | awk -v pos="1/$1" '$3 == pos && $5 == "page" {print $1}'; }
b=$(exc 2); c=$(exc 3); d=$(exc 4)
[ -n "$b" ] && [ -n "$c" ] && [ -n "$d" ] || fail "no page exceptions for the cut pages and the broken file"
{ "$phieu" exceptions s.db || true; } | grep -q "not-registered" || fail "the cut pages are not 'not-registered'"
decide() { # decide EXC CHOICE USER -> exit code; output in out.txt / err.txt
  local rc=0
  echo "mat-khau-$3-1" | "$phieu" decide s.db "$1" "$2" --user "$3" >out.txt 2>err.txt || rc=$?
  return $rc
}

# A reading must give every row, each a choice, blank or overvote.
rc=0; decide "$b" read:1=high,2=low,3=trust lan || rc=$?
[ "$rc" = 2 ] || [ "$rc" = 1 ] || fail "a reading missing a row was accepted (exit $rc)"
grep -q "row 4 is missing" err.txt || fail "the refusal does not name the missing row: $(cat err.txt)"
rc=0; decide "$b" read:1=high,2=low,3=maybe,4=blank lan || rc=$?
[ "$rc" != 0 ] || fail "a reading with an unknown choice was accepted"

# Page b: two supervisors read it alike (in another order): counted by the board's reading.
decide "$b" read:1=high,2=low,3=trust,4=blank lan || fail "lan's reading: $(cat err.txt)"
grep -q "waiting for a second supervisor" out.txt || fail "one reading counted alone: $(cat out.txt)"
rc=0; decide "$b" read:1=high,2=low,3=trust,4=blank lan || rc=$?
[ "$rc" != 0 ] || fail "the same member reading twice was accepted: $(cat out.txt)"
grep -q "you decided it already" err.txt || fail "a second reading by lan is not refused plainly: $(cat err.txt)"
decide "$b" read:4=blank,3=trust,2=low,1=high minh || fail "minh's reading: $(cat err.txt)"
grep -q "resolved as the board's reading" out.txt || fail "two equal readings did not resolve: $(cat out.txt)"

# Page c: the readings differ; only a head who has not read it decides.
decide "$c" read:1=low,2=low,3=high,4=trust truong || fail "truong's reading: $(cat err.txt)"
decide "$c" read:1=low,2=low,3=high,4=high minh || fail "minh's reading of c: $(cat err.txt)"
grep -q "waiting for the head" out.txt || fail "differing readings do not wait for the head: $(cat out.txt)"
rc=0; decide "$c" read:1=low,2=low,3=high,4=trust lan || rc=$?
[ "$rc" != 0 ] || fail "a third supervisor decided a disagreement"
rc=0; decide "$c" read:1=low,2=low,3=high,4=trust truong || rc=$?
[ "$rc" != 0 ] || fail "the head who read the page broke the tie himself"
grep -q "has not read it" err.txt || fail "the refusal does not say why: $(cat err.txt)"
decide "$c" read:1=low,2=low,3=high,4=trust ha || fail "ha's reading: $(cat err.txt)"
grep -q "resolved as the board's reading" out.txt || fail "the head's reading did not resolve it"

# Page d: a file that could not be decoded; the board reads its paper.
{ "$phieu" exceptions s.db || true; } | grep -q "unreadable-file" || fail "the broken file is not 'unreadable-file'"
decide "$d" read:1=trust,2=trust,3=trust,4=trust lan || fail "lan's reading of d: $(cat err.txt)"
decide "$d" read:1=trust,2=trust,3=trust,4=trust minh || fail "minh's reading of d: $(cat err.txt)"
grep -q "resolved as the board's reading" out.txt || fail "the broken file's reading did not resolve"
{ "$phieu" exceptions s.db --all || true; } >all.txt
grep -q "decided: the board's reading" all.txt || fail "'exceptions --all' does not say the board read it"
# A page the machine could not place shows the form the board read it as, not "?".
awk -v id="$d" '$1 == id {print $4}' all.txt | grep -qx "test-rating" ||
  fail "the board-read page does not name its form: $(grep "^$d " all.txt)"

# The tally: person 1 high twice (a, b), trust (d) and low (c); person 4 low (a), trust (c,
# d), blank (b).
"$phieu" tally s.db --json >tally.json
[ "$(jq -c '.forms[0] | [.ballots, .board_read_ballots, .pending_ballots]' tally.json)" = "[4,3,0]" ] ||
  fail "tally: $(jq -c '.forms[0] | [.ballots, .board_read_ballots, .pending_ballots]' tally.json)"
[ "$(jq -c '[.forms[0].persons[0].levels[].count]' tally.json)" = "[2,1,1]" ] || fail "person 1: $(jq -c '.forms[0].persons[0]' tally.json)"
[ "$(jq -c '.forms[0].persons[3] | [.valid, .blank, [.levels[].count]]' tally.json)" = "[3,1,[0,2,1]]" ] ||
  fail "person 4: $(jq -c '.forms[0].persons[3]' tally.json)"

# The report: the records say the board counted them, the minutes say how many, verify agrees.
"$phieu" session board s.db --head "Nguyễn Văn Trưởng" --secretary "Trần Thị Thư" --member "Lê Văn Một" >/dev/null
"$phieu" key new board.key >/dev/null
"$phieu" report s.db --out final --key board.key >report.txt || fail "report: $(cat report.txt)"
[ "$(jq -s '[.[] | select(.counted_by == "board")] | length' final/ballots.jsonl)" = 3 ] ||
  fail "ballots.jsonl does not mark three ballots counted by the board"
[ "$(jq -s -c '[.[] | select(.counted_by == "board") | [.rows[].value] | join(",")] | sort' final/ballots.jsonl)" = \
  '["high,low,trust,blank","low,low,high,trust","trust,trust,trust,trust"]' ] || fail "the board's readings are not the records' values"
[ "$(jq -s -r '.[] | select(.counted_by == "board" and .read.status == "unreadable") | .image' final/ballots.jsonl)" = \
  "images/$(sha256sum pages/d-broken.png | cut -c1-64).bin" ] || fail "the broken file's record does not keep its bytes"
[ "$(jq -s '[.[] | select(.counted_by == "board") | .board.decision] | unique | .[0]' final/ballots.jsonl)" = '"read"' ] ||
  fail "the records' page decision is not 'read'"
if grep -q "read:" final/ballots.jsonl; then fail "a session digest leaked into the export"; fi
pdftotext final/minutes.pdf minutes.txt
tr '\n' ' ' <minutes.txt | grep -q "có 3 phiếu máy không đọc được, do Ban kiểm phiếu đọc trực tiếp" ||
  fail "the minutes do not say the board read 3 ballots"
"$phieu" verify final --pubkey board.key.pub >verify.txt || fail "verify: $(cat verify.txt)"
[ "$(jq -c '[.forms[0].persons[0].levels[].count]' final/results.json)" = "[2,1,1]" ] || fail "results.json person 1"

# A board reading changed in the record (and its manifest line made to match) is caught by
# the rule, not only by the hashes: verify recomputes the value from 'board_read'.
cp -r final changed
jq -c 'if .counted_by == "board" and .rows[3].board_read == "blank"
       then .rows[3].board_read = "high" else . end' final/ballots.jsonl >changed/ballots.jsonl
rc=0; "$phieu" verify changed --pubkey board.key.pub >verify2.txt 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "verify accepted a changed board reading"
grep -q "row 4: value should be 'high'" verify2.txt || fail "verify does not name the changed row: $(cat verify2.txt)"
echo "board_reading: ok"
