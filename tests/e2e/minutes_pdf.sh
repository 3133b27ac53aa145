#!/usr/bin/env bash
# minutes_pdf.sh - a counting day run to signed minutes, read back as a person reads them:
# the three shipped forms, sheets of another council decided invalid "under" a form, a
# wrong collected count (final refused, the draft shows the difference on every page, then
# corrected). The minutes are rendered with pdftoppm and read with pdftotext: the header
# of an administrative document (Decree 30/2020/NĐ-CP), the date in words, the closing on
# the page of the signatures, no form id and no reading threshold in the body (they are in
# the appendix, the last page), and collected = valid + invalid on every form.
# Ballots: the first 19 committed sample scans (samples/ballots).
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
for tool in pdftoppm pdftotext jq; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
work=$(mktemp -d /tmp/phieu-e2e-minutes-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# The district council's session: its two forms (the province form is another council's).
forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "An Thạnh" \
    --delegates 40 "${forms[@]}" --two-person off >/dev/null
"$phieu" session board s.db --head "Nguyễn Văn Trưởng" --secretary "Trần Thị Thư" \
    --member "Lê Văn Một" --member "Phạm Thị Hai" >/dev/null
echo "mat-khau-truong-ban" | "$phieu" user add s.db truong --role head --password-stdin >/dev/null
"$phieu" import s.db "$src"/samples/ballots/p0000*.* "$src"/samples/ballots/p0001*.* \
    >/dev/null 2>import.txt || true
# The import summary counts an empty sheet as a blank (it also goes to the board).
blanks=$({ "$phieu" exceptions s.db || true; } | awk 'NF >= 6 && $6 == "blank-page"' | wc -l)
[ "$blanks" -ge 1 ] || fail "no blank page among the samples"
grep -q " $blanks blank)" import.txt || fail "the import summary miscounts $blanks blank page(s): $(tail -n 2 import.txt)"

# The same paper fed twice (samples/rescan.c: the same ink, turned, moved, new noise): the
# exception names where the first sheet's paper is, not an internal id.
"${PHIEU_BUILD_DIR:?}/rescan" --seed 3 "$src/samples/ballots/p00008.png" rescan.png >/dev/null
"$phieu" import s.db rescan.png >/dev/null 2>&1 || true
{ "$phieu" exceptions s.db || true; } >exc-list.txt
grep -q "possible-duplicate *possible duplicate of the sheet at batch 1, position 8:" exc-list.txt ||
    fail "the possible duplicate does not name batch 1, position 8: $(grep duplicate exc-list.txt)"
# Each exception's images for a board without a browser: the page, and a row's boxes.
{ "$phieu" exceptions s.db --png png || true; } >/dev/null
row_exc=$(awk '$1 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ {print $1 "-row-" $5; exit}' exc-list.txt)
[ -n "$row_exc" ] || fail "no row exception among the samples"
[ -s "png/$row_exc.png" ] || fail "no row crop png/$row_exc.png"
[ "$(ls png/*-page.png | wc -l)" -eq "$(awk 'NF >= 6 && $1 ~ /^[0-9]+$/ && $6 != "unreadable-file"' exc-list.txt | wc -l)" ] ||
    fail "not every exception has its page image: $(ls png)"

decide() { # exception choice
    echo "mat-khau-truong-ban" | "$phieu" decide s.db "$1" "$2" --user truong \
        --password-stdin >/dev/null || fail "decide $1 $2"
}
first_form=$("$phieu" tally s.db --json | jq -r '.forms[0].form')
foreign=0
# Pages first, then the rows still open: a row closes with its page set aside.
open_cases() {
    { "$phieu" exceptions s.db || true; } |
        awk '$1 ~ /^[0-9]+$/ && $2 == "open" {print $1, $4, $5, $6}'
}
open_cases >exc.txt
while read -r exc form row reason; do
    [ "$row" = page ] || continue
    if [ "$reason" = wrong-form ]; then decide "$exc" "invalid:$first_form"; foreign=$((foreign + 1))
    elif [ "$reason" = test-ballot ]; then decide "$exc" invalid
    elif [ "$reason" = possible-duplicate ]; then decide "$exc" discard
    elif [ "$form" = "?" ]; then decide "$exc" discard
    else decide "$exc" accept
    fi
done <exc.txt
open_cases >exc.txt
while read -r exc form row reason; do
    [ "$row" != page ] || continue
    case $form in confidence-vote) decide "$exc" distrust ;; *) decide "$exc" low ;; esac
done <exc.txt
[ "$foreign" -ge 1 ] || fail "no sheet of another council among the samples"

# The board's counts: every form as read, present differing per form, but the first form
# counted one sheet too many.
"$phieu" tally s.db --json >tally.json
present=38
while read -r id n; do
    extra=0
    [ "$id" = "$first_form" ] && extra=1
    "$phieu" session counts s.db --form "$id" --present "$present" --issued $((n + extra)) \
        --collected $((n + extra)) >/dev/null
    present=$((present - 1))
done < <(jq -r '.forms[] | "\(.form) \(.ballots)"' tally.json)
n1=$(jq --arg f "$first_form" '.forms[] | select(.form == $f) | .ballots' tally.json)

"$phieu" key new board.key >/dev/null
rc=0
"$phieu" report s.db --out final --key board.key >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 4 ] || fail "a final report with one sheet missing was written (exit $rc)"
grep -q "form '$first_form'.*: $n1 sheet(s) read but the board counted $((n1 + 1)) collected: find the 1 missing" err.txt ||
    fail "the refusal does not name the form, both numbers and what to do: $(cat err.txt)"

# The draft says the difference on every page.
"$phieu" report s.db --out draft --key board.key --draft >/dev/null
pages=$(pdfinfo draft/minutes.pdf 2>/dev/null | awk '/^Pages:/ {print $2}')
[ -n "$pages" ] || pages=$(pdftotext draft/minutes.pdf - | tr -cd '\f' | wc -c)
for ((p = 1; p <= pages; p++)); do
    pdftotext -f "$p" -l "$p" draft/minutes.pdf - | tr '\n' ' ' |
        grep -q "Chênh lệch: .*thu vào $((n1 + 1)), đã đọc $n1" ||
        fail "draft page $p does not show the difference"
done

# The times of the count: not entered, the draft keeps blanks for the board to fill by
# hand; a time that is not one is refused, saying how to write it; entered, the final
# minutes print them.
pdftotext draft/minutes.pdf - | tr -s ' \n' '  ' >draft-flow.txt
grep -qF "Hôm nay, vào hồi ...... giờ ...... phút, ngày 28 tháng 11 năm 2026" draft-flow.txt ||
    fail "the draft's opening has no blank for the time: $(grep -o 'Hôm nay.\{60\}' draft-flow.txt)"
grep -qF "Biên bản kết thúc vào hồi ........ giờ ........ phút cùng ngày." draft-flow.txt ||
    fail "the draft's closing has no blank for the time"
rc=0
"$phieu" session times s.db --opened 25:10 >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] || fail "an opening time of 25:10 was accepted (exit $rc)"
grep -q "'25:10' is not a time of day; write it as hours and minutes, e.g. 14:30" err.txt ||
    fail "the refusal of 25:10 said: $(cat err.txt)"
"$phieu" session times s.db --opened 14:30 --closed 16h05 >out.txt ||
    fail "session times: $(cat out.txt)"
grep -q "times recorded: opened 14:30, minutes closed 16:05" out.txt ||
    fail "session times said: $(cat out.txt)"
"$phieu" log s.db | grep -q "times.*opened 14:30; closed 16:05" ||
    fail "the times are not in the audit log"

# Corrected, the final report is written and verifies.
"$phieu" session counts s.db --form "$first_form" --present 38 --issued "$n1" --collected "$n1" >/dev/null
rc=0
"$phieu" report s.db --out final >/dev/null 2>err.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e final ] || fail "an unsigned final report was written"
grep -q "phieu key new" err.txt || fail "the refusal does not say how to make a key: $(cat err.txt)"
"$phieu" report s.db --out final --key board.key >/dev/null || fail "the corrected report was refused"
"$phieu" verify final --pubkey board.key.pub >out.txt || fail "verify: $(cat out.txt)"
grep -q "^OK: " out.txt || fail "verify with the key said: $(cat out.txt)"
# Without the board's key nobody vouches for the signer: no OK, a distinct exit status.
rc=0
"$phieu" verify final >out.txt || rc=$?
[ "$rc" -eq 8 ] || fail "verify without --pubkey should exit 8, got $rc"
grep -q "^OK" out.txt && fail "verify without --pubkey printed OK"
grep -q "^NOT VERIFIED: signer unknown — compare the key $(tail -n 1 board.key.pub)" out.txt ||
    fail "verify without --pubkey said: $(cat out.txt)"

# A province's own wording (a copy of forms/minutes/vi.minutes, one text changed) words
# the minutes without a change to the program; a broken copy is refused with its line.
sed 's/^complaints = .*/complaints = Ý kiến, khiếu nại của đại biểu: không có./' \
    "$src/forms/minutes/vi.minutes" >own.minutes
"$phieu" report s.db --out own --key board.key --draft --wording own.minutes >/dev/null ||
    fail "report --wording own.minutes was refused"
pdftotext own/minutes.pdf - | tr -s ' \n' '  ' >own.txt
grep -qF "Ý kiến, khiếu nại của đại biểu: không có." own.txt ||
    fail "the minutes do not use the wording file"
grep -qF "Khiếu nại, tố cáo" own.txt && fail "the built-in complaints line is still printed"
sed 's/^title = .*/title = {council}/' "$src/forms/minutes/vi.minutes" >bad.minutes
rc=0
"$phieu" report s.db --out bad --key board.key --draft --wording bad.minutes >/dev/null \
    2>err.txt || rc=$?
[ "$rc" -ne 0 ] && [ ! -e bad ] || fail "a broken wording file was used (exit $rc)"
grep -q "bad.minutes:[0-9]*: 'title' cannot use '{council}'" err.txt ||
    fail "the refusal of a broken wording file said: $(cat err.txt)"

# Rendered: one PNG per page.
pdftoppm -r 40 -png final/minutes.pdf page
pages=$(ls page-*.png | wc -l)
[ "$pages" -ge 3 ] || fail "the minutes render as $pages page(s)"
for ((p = 1; p <= pages; p++)); do
    pdftotext -layout -f "$p" -l "$p" final/minutes.pdf "p$p.txt"
done
# The header, as Decree 30 sets it out, and the date in words.
pdftotext -f 1 -l 1 final/minutes.pdf - | tr -s ' \n' '  ' >flow1.txt
for line in "HỘI ĐỒNG NHÂN DÂN HUYỆN AN THẠNH" "BAN KIỂM PHIẾU" \
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" "Độc lập - Tự do - Hạnh phúc" "Số: " \
    "An Thạnh, ngày 28 tháng 11 năm 2026" "BIÊN BẢN KIỂM PHIẾU" \
    "Kết quả lấy phiếu tín nhiệm và bỏ phiếu tín nhiệm đối với người giữ" \
    "Ban kiểm phiếu gồm các ông (bà) có tên sau:" "Ông (bà) Lê Văn Một – Ủy viên" \
    "Kỳ họp thứ Mười Một, khóa XII"; do
    grep -qF "$line" flow1.txt || fail "page 1 lacks '$line': $(head -20 p1.txt)"
done
grep -q "2026-11-28" p*.txt && fail "an ISO date in the minutes"
grep -qF "Hôm nay, vào hồi 14 giờ 30 phút, ngày 28 tháng 11 năm 2026" flow1.txt ||
    fail "the opening does not print the time entered: $(grep -o 'Hôm nay.\{60\}' flow1.txt)"
# The closing lines on the page of the signatures.
close_page=$(grep -l "Biên bản kết thúc vào hồi" p*.txt | head -n 1)
[ -n "$close_page" ] || fail "no closing line"
tr -s ' \n' '  ' <"$close_page" | grep -qF "Biên bản kết thúc vào hồi 16 giờ 05 phút cùng ngày." ||
    fail "the closing does not print the time entered"
for line in "Khiếu nại, tố cáo" "Biên bản được lập thành" "TM. BAN KIỂM PHIẾU" "TRƯỞNG BAN" \
    "THƯ KÝ" "(Ký, ghi rõ họ tên)" "Nguyễn Văn Trưởng" "Trần Thị Thư" "Phạm Thị Hai"; do
    grep -qF "$line" "$close_page" || fail "'$line' is not on the page of the closing ($close_page)"
done
# The appendix is the last page; the body holds no form id and no reading threshold.
grep -q "PHỤ LỤC: THÔNG TIN KIỂM TRA" "p$pages.txt" || fail "the last page is not the appendix"
marked=$(jq -r '.thresholds.marked' final/results.json | sed 's/\./,/')
for ((p = 1; p < pages; p++)); do
    for id in $(jq -r '.forms[].id' final/results.json); do
        grep -qF "$id" "p$p.txt" && fail "page $p names the form id '$id'"
    done
    grep -qE "Ngưỡng|≥|điểm ≥|$marked" "p$p.txt" && fail "page $p prints a reading threshold"
done
for id in $(jq -r '.forms[].id' final/results.json); do
    grep -qF "$id" "p$pages.txt" || fail "the appendix does not name form '$id'"
done
grep -qF "phieu verify" "p$pages.txt" || fail "the appendix does not say how to verify"
# Every form: collected = valid + invalid, as printed and as results.json says.
cat p*.txt | tr -s ' \n' '  ' >all.txt
grep -o "số phiếu thu vào: [0-9]*" all.txt | awk '{print $NF}' >collected.txt
grep -o "Số phiếu hợp lệ: [0-9]*; số phiếu không hợp lệ: [0-9]*" all.txt |
    awk '{gsub(";", ""); print $5 + $NF}' >sum.txt
[ "$(wc -l <collected.txt)" -eq "$(jq '.forms | length' final/results.json)" ] ||
    fail "not every form prints its counts: $(cat collected.txt)"
cmp -s collected.txt sum.txt || fail "collected != valid + invalid: $(paste collected.txt sum.txt)"
jq -r '.forms[] | .counts.collected' final/results.json >json-collected.txt
cmp -s collected.txt json-collected.txt || fail "the minutes and results.json disagree"
jq -e 'all(.forms[]; .counts.collected == .ballots.valid + .ballots.invalid)' \
    final/results.json >/dev/null || fail "results.json: collected != valid + invalid"
# The present count per form, not one for all.
grep -o "số đại biểu có mặt: [0-9]*" all.txt | awk '{print $NF}' | tr '\n' ' ' >present.txt
[ "$(cat present.txt)" = "38 37 " ] || fail "present per form: $(cat present.txt)"
# The archived images keep no scan order in their file times: all carry the session date.
want=$(date -u -d 2026-11-28 +%s)
[ "$(stat -c %Y s.db.images/*.png | sort -u)" = "$want" ] ||
    fail "archived images' times: $(stat -c %Y s.db.images/*.png | sort -u | head -3)"

# The two-person rule: a member deciding twice is told the second decision did not count
# as the second person's; another member's agreeing decision settles it.
"$phieu" session new tp.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "An Thạnh" \
    --delegates 40 --form "$src/forms/district-rating.form" >/dev/null
for u in lan minh; do
    echo "mat-khau-$u-du-dai" | "$phieu" user add tp.db "$u" --role supervisor --password-stdin >/dev/null
done
"$phieu" import tp.db "$src/samples/ballots/p00008.png" >/dev/null 2>&1 || true
exc=$({ "$phieu" exceptions tp.db || true; } | awk 'NF >= 6 && $5 ~ /^[0-9]+$/ {print $1; exit}')
[ -n "$exc" ] || fail "no row exception on p00008"
tp_decide() { echo "mat-khau-$1-du-dai" | "$phieu" decide tp.db "$exc" low --user "$1" --password-stdin; }
tp_decide lan >/dev/null
rc=0; tp_decide lan >out.txt 2>err.txt || rc=$?
[ "$rc" != 0 ] || fail "deciding twice as the same member was accepted: $(cat out.txt)"
grep -q "you decided it already; another member must decide it" err.txt ||
    fail "deciding twice does not say plainly that it did not count: $(cat err.txt)"
tp_decide minh >out.txt
grep -q "resolved as low" out.txt || fail "a second member's decision: $(cat out.txt)"
# A vote of confidence fed twice with one or two marks is held as a possible duplicate
# (compared on its strokes at full resolution); five sheets by other hands with the same
# two marks are all counted.
"$phieu" session new cv.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "An Thạnh" \
    --delegates 9 --form "$src/forms/confidence-vote.form" --two-person off >/dev/null
b="$src/samples/ballots"
"$phieu" import cv.db "$b/p00001.png" "$b/p00003.png" "$b/p00004.png" "$b/p00011.tif" \
    "$b/p00013.png" "$b/p00018.tif" >/dev/null 2>import.txt ||
    fail "six different sheets were not all counted: $(tail -n 2 import.txt)"
grep -q "6 counted" import.txt || fail "six different sheets: $(tail -n 2 import.txt)"
"${PHIEU_BUILD_DIR}/rescan" --seed 7 "$b/p00018.tif" rs-one.png >/dev/null   # one mark
"${PHIEU_BUILD_DIR}/rescan" --seed 8 "$b/p00001.png" rs-two.png >/dev/null   # two marks
"$phieu" import cv.db rs-one.png rs-two.png >/dev/null 2>import.txt || true
grep -q "0 counted, 2 to review.* 2 possible rescans" import.txt ||
    fail "rescans of one- and two-mark votes were not held: $(tail -n 2 import.txt)"
echo "minutes_pdf: ok ($pages pages)"
