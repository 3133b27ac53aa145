#!/usr/bin/env bash
# board_form_rescan.sh - "count as form X" on a rescan, through the command line: a ballot
# is imported and counted; the same paper fed again with its form code covered (the marks
# drawn once, the code whited out, then samples/rescan.c's new pass of it) is rejected as
# code-unreadable. `phieu decide ... form:district-rating` is refused (exit 4) naming the
# earlier paper's batch and position and what to do; with --not-duplicate each supervisor's
# decision is recorded, the log says who confirmed it, and the page counts. A different
# ballot whose code is covered is given its form without a question.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
build=${PHIEU_BUILD_DIR:?}
work=$(mktemp -d /tmp/phieu-e2e-board-form-rescan-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

form="$src/forms/district-rating.form"
"$phieu" form print "$form" -o blank.png --format png --dpi 200 >/dev/null
"$phieu" form layout "$form" --json >layout.json
# Rows 1-4 marked high, trust, low, high: the first paper, then the same paper with its
# code covered and fed again; another ballot (rows 1-3 low, trust, trust), code covered.
marks=0:0,1:1,2:2,3:0
python3 "$src/tests/e2e/ballot_png.py" blank.png layout.json paper.png --marks "$marks"
python3 "$src/tests/e2e/ballot_png.py" blank.png layout.json paper-covered.png --cover-code \
    --marks "$marks"
"$build/rescan" --seed 5 paper-covered.png again.png >/dev/null
python3 "$src/tests/e2e/ballot_png.py" blank.png layout.json other.png --cover-code \
    --marks 0:2,1:1,2:1

"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" \
    --delegates 40 --form "$form" >/dev/null
for u in lan minh; do
    echo "mat-khau-$u-123" | "$phieu" user add s.db "$u" --role supervisor --password-stdin >/dev/null
done
"$phieu" import s.db paper.png >import1.txt 2>&1 || fail "the first paper: $(cat import1.txt)"
rc=0
"$phieu" import s.db again.png other.png >import2.txt 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "import should leave the covered pages to the board (exit 7), got $rc: $(cat import2.txt)"
{ "$phieu" exceptions s.db || true; } >exc.txt
# Batch 2 (the second import), positions 1 and 2: the rescan, then the other ballot.
exc_of() { awk -v at="$1" '$1 ~ /^[0-9]+$/ && $3 == at && $6 == "code-unreadable" {print $1}' exc.txt; }
again=$(exc_of 2/1)
other=$(exc_of 2/2)
[ -n "$again" ] && [ -n "$other" ] || fail "the covered pages were not rejected as code-unreadable: $(cat exc.txt)"

decide() { # user exception choice [options] -> decide's exit status
    local user=$1
    shift
    echo "mat-khau-$user-123" | "$phieu" decide s.db "$@" --user "$user" --password-stdin
}

# Refused: the same paper, named by where it is; nothing recorded.
rc=0
decide lan "$again" form:district-rating >out.txt 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "form: on a rescan should be refused with exit 4, got $rc: $(cat out.txt)"
grep -q "looks like the sheet of batch 1, position 1 fed again (similarity" out.txt ||
    fail "the refusal does not name the earlier paper: $(cat out.txt)"
grep -q "decide 'discard'" out.txt && grep -q -- "--not-duplicate" out.txt ||
    fail "the refusal does not say what to do: $(cat out.txt)"
sheet1=$(sqlite3 s.db "SELECT id FROM sheets WHERE batch = 1 AND position = 1")
grep -q "$sheet1" out.txt && fail "the refusal names an internal sheet id: $(cat out.txt)"
[ "$(sqlite3 s.db 'SELECT count(*) FROM decisions')" -eq 0 ] || fail "a refused decision was recorded"

# Confirmed by each supervisor alone: recorded, then counted.
decide lan "$again" form:district-rating --not-duplicate >out.txt 2>&1 ||
    fail "lan's confirmed decision: $(cat out.txt)"
grep -q "you confirmed it is not the sheet of batch 1, position 1 fed again" out.txt ||
    fail "the confirmation is not acknowledged: $(cat out.txt)"
grep -q "waiting for a second supervisor" out.txt || fail "lan's decision: $(cat out.txt)"
rc=0
decide minh "$again" form:district-rating --note "two papers" >out.txt 2>&1 || rc=$?
[ "$rc" -eq 4 ] || fail "the second supervisor must confirm too, got $rc: $(cat out.txt)"
decide minh "$again" form:district-rating --not-duplicate --note "two papers" >out.txt 2>&1 ||
    fail "minh's confirmed decision: $(cat out.txt)"
grep -q "resolved as form:district-rating" out.txt || fail "minh's decision: $(cat out.txt)"

# The other ballot: no question.
decide lan "$other" form:district-rating >out.txt 2>&1 || fail "the other ballot (lan): $(cat out.txt)"
grep -q "confirmed" out.txt && fail "the other ballot was taken for a rescan: $(cat out.txt)"
decide minh "$other" form:district-rating >out.txt 2>&1 || fail "the other ballot (minh): $(cat out.txt)"

# Person 1: high twice (the paper and its confirmed second scan), low once.
"$phieu" tally s.db --json >t.json
levels() { jq -c "[.forms[0].persons[$1].levels[].count]" t.json; }
[ "$(levels 0)" = "[2,0,1]" ] || fail "person 1: $(levels 0)"
[ "$(levels 1)" = "[0,3,0]" ] || fail "person 2: $(levels 1)"

# The log names who confirmed and which sheet, never a mark.
"$phieu" log s.db >log.txt
[ "$(grep -c "confirmed it is not a duplicate of that sheet" log.txt)" -eq 2 ] ||
    fail "the log does not hold both confirmations: $(grep decision log.txt)"
grep "confirmed it is not a duplicate" log.txt | grep -q "sheet $sheet1" ||
    fail "the log does not name the earlier sheet: $(grep confirmed log.txt)"
grep "decision" log.txt | grep -qwE "high|trust|low" && fail "the log holds a mark: $(grep decision log.txt)"
"$phieu" log s.db --verify >/dev/null || fail "the log chain does not verify"
echo "board_form_rescan: ok"
