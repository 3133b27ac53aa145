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

forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" --delegates 40 \
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

# `phieu status` and a final `phieu report` apply one readiness rule: they list the same
# things that block the final report, and status exits 0 exactly when the report is written.
agree() { # what the session is waiting for
    local rc_s=0 rc_r=0
    "$phieu" status s.db >agree-status.txt || rc_s=$?
    "$phieu" report s.db --out agree-report --key board.key >/dev/null 2>agree-report.txt ||
        rc_r=$?
    [ "$rc_s" -eq 7 ] || fail "$1: status should find work remaining (exit 7), got $rc_s"
    [ "$rc_r" -eq 4 ] || fail "$1: the final report should be refused (exit 4), got $rc_r"
    [ ! -e agree-report ] || fail "$1: a refused report left a folder"
    grep '^  - ' agree-status.txt >agree-s.txt || fail "$1: status lists nothing to do"
    grep '^  - ' agree-report.txt >agree-r.txt || fail "$1: the refusal lists nothing"
    cmp -s agree-s.txt agree-r.txt ||
        fail "$1: status and report disagree on what blocks: $(diff agree-s.txt agree-r.txt)"
}

# The draft: the session's figures and verify's recomputation agree.
"$phieu" key new board.key >/dev/null
agree "open exceptions, counts not entered"
"$phieu" report s.db --out draft --key board.key --draft >/dev/null
"$phieu" verify draft --pubkey board.key.pub >out.txt || fail "the draft does not verify: $(cat out.txt)"
grep -q "^OK: 16 ballot(s)" out.txt || fail "verify said: $(cat out.txt)"
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
# another council invalid as a whole, other pages of no known form discarded (not
# ballots). The session has several forms, so "invalid" on a page of no known form must
# name the form it was collected under (issue 13): plain "invalid" is refused with the
# choices; "invalid:<first form>" files it in that form's invalid ballots.
first_form=$("$phieu" tally s.db --json | jq -r '.forms[0].form')
foreign=0
while read -r exc form row reason; do
    if [ "$row" != page ]; then decide "$exc" "$(level "$form" low)"
    elif [ "$reason" = wrong-form ]; then
        rc=0
        echo "mat-khau-truong-ban" | "$phieu" decide s.db "$exc" invalid --user truong \
            --password-stdin >/dev/null 2>err.txt || rc=$?
        [ "$rc" -ne 0 ] || fail "plain 'invalid' on a page of no known form was accepted"
        grep -q "invalid:$first_form" err.txt || fail "the refusal names no form: $(cat err.txt)"
        decide "$exc" "invalid:$first_form"
        foreign=$((foreign + 1))
    elif [ "$form" = "?" ]; then decide "$exc" discard
    else decide "$exc" accept
    fi
done <exc.txt
[ "$foreign" -ge 1 ] || fail "no wrong-form page among the samples"
open_exceptions | grep -q . && fail "exceptions left open: $(open_exceptions)"
"$phieu" tally s.db --json >tally.json
[ "$(jq '.unknown_form_invalid' tally.json)" -eq 0 ] ||
    fail "a sheet decided invalid under a form still counts as of unknown form"
jq -e --arg f "$first_form" --argjson n "$foreign" \
    '.forms[] | select(.form == $f) | .invalid_ballots >= $n' tally.json >/dev/null ||
    fail "the foreign sheets are not among form $first_form's invalid ballots"
jq -r '.forms[] | "\(.form) \(.ballots)"' tally.json >read.txt
# The board's counts add up over all forms but not form by form: refused, naming the form.
read -r id1 n1 < <(sed -n 1p read.txt)
read -r id2 n2 < <(sed -n 2p read.txt)
"$phieu" session counts s.db --form "$id1" --present 40 --issued $((n1 - 1)) --collected $((n1 - 1)) >/dev/null
"$phieu" session counts s.db --form "$id2" --present 39 --issued $((n2 + 1)) --collected $((n2 + 1)) >/dev/null
while read -r id n; do
    [ "$id" = "$id1" ] || [ "$id" = "$id2" ] ||
        "$phieu" session counts s.db --form "$id" --present 40 --issued "$n" --collected "$n" >/dev/null
done <read.txt
rc=0
"$phieu" report s.db --out refused --key board.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 4 ] || fail "a final report with forms that do not reconcile was written (exit $rc)"
grep -q "form '$id1'.*$n1 sheet(s) read but the board counted $((n1 - 1)) collected" err.txt ||
    fail "the refusal does not name form $id1 and both numbers: $(cat err.txt)"
grep -q "find the 1 missing sheet(s)" err.txt ||
    fail "the refusal does not say what to do for form $id2: $(cat err.txt)"
[ ! -e refused ] || fail "a refused report left a folder"
agree "forms that do not reconcile"
"$phieu" session counts s.db --form "$id1" --present 40 --issued "$n1" --collected "$n1" >/dev/null
"$phieu" session counts s.db --form "$id2" --present 39 --issued "$n2" --collected "$n2" >/dev/null
rc=0
"$phieu" status s.db >status.txt || rc=$?
[ "$rc" -eq 0 ] || fail "status should find everything reconciled (exit 0), got $rc: $(cat status.txt)"
grep -q "missing\|too many" status.txt && fail "status disagrees with the counts: $(cat status.txt)"
[ "$(grep -c '  reconciled: ' status.txt)" -eq "$(wc -l <read.txt)" ] ||
    fail "status does not reconcile every form: $(cat status.txt)"
"$phieu" report s.db --out final --key board.key >/dev/null || fail "the final report was refused"
"$phieu" verify final --pubkey board.key.pub >out.txt || fail "final report: $(cat out.txt)"
grep -q "^OK: " out.txt || fail "verify said: $(cat out.txt)"
jq -e '.draft == false and .exceptions.open == 0 and ([.forms[].persons[].pending] | add) == 0' \
    final/results.json >/dev/null || fail "the final results still hold something pending"
echo "report_review_pages: ok"
