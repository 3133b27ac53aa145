#!/usr/bin/env bash
# report_cli.sh - the counting board's last steps through the program itself:
# `phieu key new`, `phieu report` refused while an exception is open (exit 4, the blocker
# listed), a draft, the decision, the final signed report, `phieu verify` OK, then verify
# failing (exit 4) with the file named after a figure in results.json is changed.
# Ballots: blank ballots rendered by `phieu form print` at several resolutions (distinct
# images), marked by the tests' imgtool at the boxes `phieu form layout --json` gives.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
form="$src/forms/confidence-vote.form"
work=$(mktemp -d /tmp/phieu-e2e-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
imgtool=${PHIEU_BUILD_DIR:?}/imgtool

# A pen X in box (row, choice) of image $1 rendered at $2 dpi.
mark() {
    local img=$1 dpi=$2 row=$3 choice=$4
    read -r x y w h < <("$phieu" form layout "$form" --json |
        jq -r ".rows[$row].boxes[$choice] | \"\(.x_mm) \(.y_mm) \(.w_mm) \(.h_mm)\"")
    # Two pen strokes 3 px wide from corner to corner, 1.2 mm inside the box.
    local line
    for line in $(awk -v x="$x" -v y="$y" -v w="$w" -v h="$h" -v d="$dpi" 'BEGIN {
        s = d / 25.4; i = 1.2;
        printf "%d,%d,%d,%d %d,%d,%d,%d",
            (x+i)*s, (y+i)*s, (x+w-i)*s, (y+h-i)*s, (x+w-i)*s, (y+i)*s, (x+i)*s, (y+h-i)*s }'); do
        "$imgtool" line "$img" ${line//,/ } 3
    done
}

# Six ballots: two say "distrust" for row 1 and "trust" for row 2, one overvotes row 1,
# three are left blank. The two look-alike ballots' X's are drawn alike by the machine,
# so the session asks whether the second is a rescan of the first (two marks are enough
# evidence for that; one is not): a page awaiting a decision, besides the overvote.
dpis=(150 160 170 180 190 200)
for d in "${dpis[@]}"; do
    "$phieu" form print "$form" --format png --dpi "$d" -o "b$d.png" >/dev/null
done
mark b150.png 150 0 1
mark b150.png 150 1 0
mark b160.png 160 0 1
mark b160.png 160 1 0
mark b170.png 170 0 0
mark b170.png 170 0 1

"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" \
    --delegates 8 --form "$form" --two-person off --confirm-overvotes >/dev/null
"$phieu" session counts s.db --present 7 --issued 6 --collected 6 >/dev/null
"$phieu" session board s.db --head "Nguyễn Văn Trưởng" --secretary "Trần Thị Thư" \
    --member "Lê Văn Một" >/dev/null
echo "mat-khau-truong-ban" | "$phieu" user add s.db truong --role head --password-stdin >/dev/null
rc=0
"$phieu" import s.db b*.png >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "import should leave the overvote to a person (exit 7), got $rc"

"$phieu" key new board.key >/dev/null
[ "$(stat -c %a board.key)" = 600 ] || fail "the secret key is not mode 0600"
[ -s board.key.pub ] || fail "no public key file"
rc=0
"$phieu" key new board.key 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "key new overwrote an existing key"

# Refused while the exception is open, with the blocker named; nothing written.
rc=0
"$phieu" report s.db --out final --key board.key 2>err.txt || rc=$?
[ "$rc" -eq 4 ] || fail "report with an open exception should exit 4, got $rc"
grep -q "exception(s) still open" err.txt || fail "the refusal does not list the open exception"
[ ! -e final/minutes.pdf ] || fail "a refused report wrote minutes"

# A draft is allowed, says so, and verifies.
"$phieu" report s.db --out draft --key board.key --draft >/dev/null
# (pdftotext writes a file first: with pipefail, grep -q leaving early would fail the pipe.)
pdftotext draft/minutes.pdf draft.txt
grep -q "BẢN NHÁP / DRAFT" draft.txt || fail "the draft does not say so"
"$phieu" verify draft --pubkey board.key.pub >out.txt || fail "the draft does not verify: $(cat out.txt)"

# The board decides: the look-alike page is accepted, the overvote counts as distrust.
# The final report is signed and verifies.
("$phieu" exceptions s.db || true) | awk 'NF >= 6 && $1 ~ /^[0-9]+$/ {print $1, $5}' >exc.txt
[ "$(wc -l <exc.txt)" -ge 2 ] || fail "expected a page and a row exception: $(cat exc.txt)"
while read -r exc row; do
    choice=accept
    [ "$row" = page ] || choice=distrust
    echo "mat-khau-truong-ban" | "$phieu" decide s.db "$exc" "$choice" --user truong \
        --note "Ban kiểm phiếu xem tờ phiếu" --password-stdin >/dev/null
done <exc.txt
"$phieu" report s.db --out final --key board.key >/dev/null
"$phieu" verify final --pubkey board.key.pub >out.txt || fail "final report: $(cat out.txt)"
grep -q "^OK: 6 ballot(s), 6 image(s) re-read" out.txt || fail "verify said: $(cat out.txt)"

# The figures: row 1 has 3 distrust of 6 collected: 50,00% and more than half is not
# reached (2L > T is 6 > 6: false).
jq -e '.forms[0].persons[0].levels[1].count == 3 and .forms[0].persons[0].levels[1].percent == "50,00%"' \
    final/results.json >/dev/null || fail "results.json row 1: $(jq -c '.forms[0].persons[0]' final/results.json)"
pdftotext final/minutes.pdf final.txt
grep -q "50,00%" final.txt || fail "the minutes do not print 50,00%"
grep -q "Bùi Đức Long" final.txt || fail "the minutes lose the Vietnamese name"
! pdffonts final/minutes.pdf | tail -n +3 | awk '{print $(NF-4)}' | grep -qv yes ||
    fail "a font of the minutes is not embedded"
grep -q '"time"\|"batch"\|"position"' final/ballots.jsonl && fail "a ballot record holds a time or a scan position"

# Tampering with a total: verify names the file and the figure, exit 4.
cp -a final tampered
jq '.forms[0].persons[0].levels[1].count = 2' final/results.json >tampered/results.json
rc=0
"$phieu" verify tampered --pubkey board.key.pub >out.txt || rc=$?
[ "$rc" -eq 4 ] || fail "verify of a changed total should exit 4, got $rc"
grep -q "results.json: SHA-256" out.txt || fail "the changed file is not named: $(cat out.txt)"
grep -q "levels\[distrust\].count: the file says 2, the ballots give 3" out.txt ||
    fail "the changed figure is not named: $(cat out.txt)"

# Another board's key is refused.
"$phieu" key new other.key >/dev/null
rc=0
"$phieu" verify final --pubkey other.key.pub >out.txt || rc=$?
[ "$rc" -eq 4 ] && grep -q "not the trusted key" out.txt || fail "verify accepted another key"
echo "report_cli: ok"
