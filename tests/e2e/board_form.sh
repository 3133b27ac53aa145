#!/usr/bin/env bash
# board_form.sh - "count as form X": a ballot whose form code is covered (printed with
# `phieu form print --format png`, its code strip whited out, three boxes marked) is
# imported and rejected (code-unreadable); two supervisors decide form:district-rating;
# the page is then counted with its marks (phieu tally), the log says the board set the
# form (and no mark), the draft report and `phieu verify` agree, and a record whose board
# form was changed is caught by verify.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
work=$(mktemp -d /tmp/phieu-e2e-board-form-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

form="$src/forms/district-rating.form"
"$phieu" form print "$form" -o blank.png --format png --dpi 200 >/dev/null
"$phieu" form layout "$form" --json >layout.json

# The code strip whited out (as if covered by a label); row 1 marked high, row 2 trust,
# row 3 low, every other row blank.
python3 "$src/tests/e2e/ballot_png.py" blank.png layout.json covered.png --cover-code \
    --marks 0:0,1:1,2:2

"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" --delegates 40 \
    --form "$form" >/dev/null
for u in lan minh; do
    echo "mat-khau-$u-123" | "$phieu" user add s.db "$u" --role supervisor --password-stdin >/dev/null
done
rc=0
"$phieu" import s.db covered.png >import.txt 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "import should leave the page to the board (exit 7), got $rc: $(cat import.txt)"
{ "$phieu" exceptions s.db || true; } >exc.txt
exc=$(awk '$1 ~ /^[0-9]+$/ && $5 == "page" && $6 == "code-unreadable" {print $1}' exc.txt)
[ -n "$exc" ] || fail "the covered code was not rejected as code-unreadable: $(cat exc.txt)"
[ "$(awk '$1 ~ /^[0-9]+$/ && $5 != ""' exc.txt | wc -l)" -eq 1 ] || fail "expected one exception: $(cat exc.txt)"

decide() { # user choice -> exit status
    echo "mat-khau-$1-123" | "$phieu" decide s.db "$exc" "$2" --user "$1" --password-stdin
}
rc=0
decide lan form:no-such-form >out.txt 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a form that is not in the session was taken"
grep -q "form:district-rating" out.txt || fail "the refusal does not name the session's form: $(cat out.txt)"
decide lan form:district-rating >out.txt 2>&1 || fail "lan's decision: $(cat out.txt)"
"$phieu" tally s.db --json >t1.json
jq -e '.unknown_form_pending == 1 and .forms[0].ballots == 0' t1.json >/dev/null ||
    fail "after one supervisor the page should still wait, of no known form: $(jq -c 'del(.forms)' t1.json)"
decide minh form:district-rating >out.txt 2>&1 || fail "minh's decision: $(cat out.txt)"

# Counted with its marks: person 1 high, 2 trust, 3 low, the others blank.
"$phieu" tally s.db --json >t2.json
levels() { jq -c "[.forms[0].persons[$1].levels[].count]" t2.json; }
[ "$(levels 0)" = "[1,0,0]" ] || fail "person 1: $(levels 0)"
[ "$(levels 1)" = "[0,1,0]" ] || fail "person 2: $(levels 1)"
[ "$(levels 2)" = "[0,0,1]" ] || fail "person 3: $(levels 2)"
[ "$(levels 3)" = "[0,0,0]" ] || fail "person 4: $(levels 3)"
jq -e '[.forms[0].persons[].pending] | all(. == 0)' t2.json >/dev/null ||
    fail "nothing should be pending: $(jq -c '[.forms[0].persons[].pending]' t2.json)"
"$phieu" exceptions s.db >/dev/null || fail "an exception is still open"

# The log says the board set the form, and holds no mark.
"$phieu" log s.db >log.txt
grep "form-set-by-board" log.txt | grep -q "district-rating" || fail "no form-set-by-board entry: $(tail -5 log.txt)"
grep -E "form-set-by-board|decision" log.txt | grep -qwE "high|trust|low" &&
    fail "the log holds a mark: $(grep -E 'form-set-by-board|decision' log.txt)"
"$phieu" log s.db --verify >/dev/null || fail "the log chain does not verify"

# The draft report records the board's form; verify re-reads the page as that form.
"$phieu" key new board.key >/dev/null
"$phieu" report s.db --out draft --key board.key --draft >/dev/null || fail "report --draft"
jq -e 'select(.board.decision == "form:district-rating" and .read_as.form == "district-rating"
              and .read.status == "rejected" and .state == "valid")' draft/ballots.jsonl >/dev/null ||
    fail "ballots.jsonl does not record the board's form: $(cat draft/ballots.jsonl)"
"$phieu" verify draft --pubkey board.key.pub >out.txt || fail "the draft does not verify: $(cat out.txt)"
grep -q "^OK: 1 ballot(s)" out.txt || fail "verify said: $(cat out.txt)"
jq -c '[.forms[] | .persons[] | [.valid, .pending, [.levels[].count]]]' draft/results.json >draft.txt
jq -c '[.forms[] | .persons[] | [.valid, .pending, [.levels[].count]]]' t2.json >live.txt
cmp -s live.txt draft.txt || fail "tally and draft differ: $(diff live.txt draft.txt | head)"

# A record whose board decision no longer names the form it was read as is caught.
cp -a draft tampered
jq -c '.board.decision = "accept"' draft/ballots.jsonl >tampered/ballots.jsonl
rc=0
"$phieu" verify tampered --pubkey board.key.pub >out.txt 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "verify passed a changed board form"
grep -q "read again as form 'district-rating', but the board's page decision is 'accept'" out.txt ||
    fail "verify did not name the changed board form: $(cat out.txt)"
echo "board_form: ok"
