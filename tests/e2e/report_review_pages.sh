#!/usr/bin/env bash
# report_review_pages.sh - a session whose ballots went to the board in every way (a marginal
# or faint mark in one row, a page-level exception: blank page, wrong form, test ballot,
# not registered; one exception already decided): the draft report and `phieu verify` must
# apply the same rule of what is pending (only the row of a row exception, the whole ballot
# of a page exception, the board's choice once decided) and agree figure by figure; after
# the board decides everything, the final report verifies too.
# Ballots: the first 19 committed sample scans (samples/ballots), imported as files.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
work=$(mktemp -d /tmp/phieu-e2e-review-pages-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

forms=()
for f in "$src"/forms/*.form; do forms+=(--form "$f"); done
"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ 7" --date 2026-11-28 --place "Hội trường" --delegates 40 \
    "${forms[@]}" --two-person off >/dev/null
"$phieu" session board s.db --head "Nguyễn Văn Trưởng" --secretary "Trần Thị Thư" >/dev/null
echo "mat-khau-truong-ban" | "$phieu" user add s.db truong --role head --password-stdin >/dev/null
rc=0
"$phieu" import s.db "$src"/samples/ballots/p0000*.* "$src"/samples/ballots/p0001*.* \
    >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "import should leave exceptions to the board (exit 7), got $rc"

decide() { # exception choice
    echo "mat-khau-truong-ban" | "$phieu" decide s.db "$1" "$2" --user truong \
        --password-stdin >/dev/null || fail "decide $1 $2"
}
# The level "high" or "low" as form $1 names it (a vote of confidence: trust, distrust).
level() {
    case $1 in
        confidence-vote) [ "$2" = high ] && echo trust || echo distrust ;;
        *) echo "$2" ;;
    esac
}
# number form row reason, of the open exceptions
open_exceptions() {
    { "$phieu" exceptions s.db || true; } | awk '$1 ~ /^[0-9]+$/ && $2 == "open" {print $1, $4, $5, $6}'
}
open_exceptions >exc.txt
grep -q ' page ' exc.txt || fail "no page-level exception in the samples: $(cat exc.txt)"
awk '$3 != "page"' exc.txt | grep -q . || fail "no row exception in the samples: $(cat exc.txt)"

# One of each decided now: the first row exception (high), the test ballot (invalid).
read -r row_exc row_form _ < <(awk '$3 != "page"' exc.txt | head -n 1)
decide "$row_exc" "$(level "$row_form" high)"
test_exc=$(awk '$4 == "test-ballot" {print $1; exit}' exc.txt)
[ -n "$test_exc" ] || fail "no test ballot among the samples: $(cat exc.txt)"
decide "$test_exc" invalid
open_exceptions >exc.txt
grep -q ' page ' exc.txt && awk '$3 != "page"' exc.txt | grep -q . ||
    fail "the draft needs open row and page exceptions left: $(cat exc.txt)"

# The draft: the session's figures and verify's recomputation agree.
"$phieu" key new board.key >/dev/null
"$phieu" report s.db --out draft --key board.key --draft >/dev/null
"$phieu" verify draft --pubkey board.key.pub >out.txt || fail "the draft does not verify: $(cat out.txt)"
grep -q "^OK: 19 ballot(s)" out.txt || fail "verify said: $(cat out.txt)"
# A row exception left only its row pending: its ballot is valid, that row pending.
rows_pending=$(jq -c 'select(.state == "valid" and any(.rows[]; has("review") and .value == "pending"))' \
    draft/ballots.jsonl | wc -l)
[ "$rows_pending" -gt 0 ] || fail "no valid ballot with one pending row in the draft"
pages_pending=$(jq -c 'select(.state == "pending" and has("review"))' draft/ballots.jsonl | wc -l)
[ "$pages_pending" -gt 0 ] ||
    fail "no ballot pending as a whole for an open page exception in the draft"
# The session's live tally is what the draft printed, person by person.
"$phieu" tally s.db --json | jq -c '[.forms[] | .persons[] | [.valid, .pending]]' >live.txt
jq -c '[.forms[] | .persons[] | [.valid, .pending]]' draft/results.json >draft.txt
cmp -s live.txt draft.txt || fail "tally and draft differ: $(diff live.txt draft.txt | head)"

# The board decides everything: rows "low", pages of a known form accepted, the ballot of
# another council invalid as a whole (collected, of no known form), other pages of no
# known form discarded (not ballots). The board counted that foreign ballot under the
# first form: status and report reconcile over all forms, and the final report verifies.
while read -r exc form row reason; do
    if [ "$row" != page ]; then decide "$exc" "$(level "$form" low)"
    elif [ "$reason" = wrong-form ]; then decide "$exc" invalid
    elif [ "$form" = "?" ]; then decide "$exc" discard
    else decide "$exc" accept
    fi
done <exc.txt
open_exceptions | grep -q . && fail "exceptions left open: $(open_exceptions)"
"$phieu" tally s.db --json >tally.json
foreign=$(jq '.unknown_form_invalid' tally.json)
[ "$foreign" -ge 1 ] || fail "the wrong-form ballot is not invalid of unknown form: $foreign"
jq -r '.forms[] | "\(.form) \(.ballots)"' tally.json >read.txt
first=1
while read -r id n; do
    [ "$first" = 1 ] && n=$((n + foreign))
    first=0
    "$phieu" session counts s.db --form "$id" --present 40 --issued "$n" --collected "$n" >/dev/null
done <read.txt
rc=0
"$phieu" status s.db >status.txt || rc=$?
[ "$rc" -eq 0 ] || fail "status should find everything reconciled (exit 0), got $rc: $(cat status.txt)"
grep -q "missing\|too many" status.txt && fail "status disagrees with the counts: $(cat status.txt)"
grep -q "^all forms: .* collected: reconciled" status.txt ||
    fail "status does not reconcile over all forms: $(cat status.txt)"
"$phieu" report s.db --out final --key board.key >/dev/null || fail "the final report was refused"
"$phieu" verify final --pubkey board.key.pub >out.txt || fail "final report: $(cat out.txt)"
grep -q "^OK: " out.txt || fail "verify said: $(cat out.txt)"
jq -e '.draft == false and .exceptions.open == 0 and ([.forms[].persons[].pending] | add) == 0' \
    final/results.json >/dev/null || fail "the final results still hold something pending"
echo "report_review_pages: ok"
