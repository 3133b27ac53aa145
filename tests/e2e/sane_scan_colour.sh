#!/usr/bin/env bash
# `phieu scan --mode color` through the real libsane and phieu's scanner backend (issue 12):
# ballots stamped with the council's red seal are scanned in colour, and the archive keeps
# the colour (each page an RGB PNG whose seal pixels are red), while the reader drops the
# seal out: the tally equals that of the same ballots scanned in gray, `phieu verify`
# re-reads the colour images and agrees, and `phieu read` of each archived image gives the
# reading recorded at scan time, score for score. Private SANE_CONFIG_DIR, every scan under
# `timeout`.
set -euo pipefail
phieu=${PHIEU_BIN:?PHIEU_BIN not set}
lib=${PHIEU_SANE_LIB_DIR:?PHIEU_SANE_LIB_DIR not set}
src=${PHIEU_SOURCE_DIR:?PHIEU_SOURCE_DIR not set}
build=${PHIEU_BUILD_DIR:?PHIEU_BUILD_DIR not set}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
N=6

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }

# The ballots as sane_scan.sh takes them (the first N committed samples, or N generated),
# and each of them stamped with a red seal ring at the top left, in RGB (tests/tools/imgtool.c).
mkdir -p "$work/gray" "$work/colour"
if ls "$src"/samples/ballots/*.png >/dev/null 2>&1; then
  ls "$src"/samples/ballots/*.{png,tif} 2>/dev/null | sort | head -n "$N" | xargs -I{} cp {} "$work/gray/"
else
  "$build/gen_samples" --count "$((N * 2))" --out "$work/gen" --forms "$src/forms" \
    --split province-rating="$work/gen-province" >/dev/null
  ls "$work"/gen/p*.* | head -n "$N" | xargs -I{} cp {} "$work/gray/"
fi
[ "$(ls "$work/gray" | wc -l)" -eq "$N" ] || fail "no ballot images"
for f in "$work"/gray/*; do
  b=$(basename "$f")
  "$build/imgtool" colour "$f" "$work/colour/${b%.*}.png" || fail "imgtool colour $b"
done

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo phieu > "$cfg/dll.conf"
export SANE_CONFIG_DIR="$cfg" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset PHIEU_SANE_FOLDER PHIEU_SANE_TRAY PHIEU_SANE_DUPLEX PHIEU_SANE_FAULTS LD_PRELOAD

forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
new_session() {
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" \
    --date 2026-11-28 --place "Hội trường" --delegates 40 --two-person off "${forms[@]}" >/dev/null
}
statuses() { sqlite3 "$1" "SELECT side, status, count(*) FROM sheets GROUP BY side, status" | tr '\n' ' '; }
tally() {
  "$phieu" tally "$1" --json | jq -c '[.forms[] | [.ballots, .invalid_ballots, .pending_ballots,
    [.persons[] | [.number, .valid, .not_valid, .blank, .overvote, .pending, [.levels[].count]]]]]'
}
# scan SESSION FOLDER ARGS...: the feeder holds FOLDER; exit 0 or 7 (pages to review).
scan() {
  local db=$1 folder=$2 rc=0
  shift 2
  printf 'folder %s\n' "$folder" > "$cfg/phieu.conf"
  out=$(timeout 300 "$phieu" scan "$db" --device phieu:0 --sheets "$N" "$@" </dev/null 2>&1) || rc=$?
  [ "$rc" -ne 124 ] || fail "scan $db $* timed out"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "scan $db $* exited $rc: $out"
  grep -q "batch 1 closed: $N sheets" <<<"$out" || fail "scan $db $*: batch not closed: $out"
}

new_session "$work/gray.db"
scan "$work/gray.db" "$work/gray"
new_session "$work/colour.db"
scan "$work/colour.db" "$work/colour" --mode color
grep -q "dpi, Color" <<<"$out" || fail "not scanned in colour: $out"

# The archive: every colour page is an 8-bit RGB PNG with the red seal in it (pixels red as
# seal ink is: bright red, at least 60 levels above green, not below blue; imgtool rgb),
# every gray page a gray PNG.
colour_files=("$work"/colour.db.images/*.png)
expect "colour archive files" "${#colour_files[@]}" "$N"
for f in "${colour_files[@]}"; do
  read -r kind w h red _ < <("$build/imgtool" rgb "$f")
  expect "colour archive" "$kind" rgb
  # The ring is 4 mm wide and 34 mm across: about 60,000 pixels at 300 dpi; a seal half
  # cut off by the frame still gives over 20,000.
  [ "$red" -ge 20000 ] || fail "$(basename "$f") ($w x $h) has $red red seal pixels"
done
for f in "$work"/gray.db.images/*.png; do
  expect "gray archive" "$("$build/imgtool" rgb "$f")" not-rgb
done

# The reader saw the seal dropped out: the same pages, the same counts.
expect "colour statuses" "$(statuses "$work/colour.db")" "$(statuses "$work/gray.db")"
expect "colour tally" "$(tally "$work/colour.db")" "$(tally "$work/gray.db")"

# The report exports the RGB images; verify re-reads them and agrees with the record.
"$phieu" key new "$work/board.key" >/dev/null
"$phieu" report "$work/colour.db" --out "$work/out" --key "$work/board.key" --draft >/dev/null
ballots=$(wc -l < "$work/out/ballots.jsonl")
[ "$ballots" -ge 1 ] || fail "no ballots exported"
"$phieu" verify "$work/out" --pubkey "$work/board.key.pub" >"$work/verify.txt" ||
  fail "verify: $(cat "$work/verify.txt")"
grep -q "^OK: $ballots ballot(s), $ballots image(s) re-read" "$work/verify.txt" ||
  fail "verify said: $(cat "$work/verify.txt")"

# `phieu read` of each archived image gives the reading recorded at scan time: the page's
# status and form, each row's decision and every box's score (ten-thousandths).
while read -r image; do
  cmp -s "$work/out/$image" "$work/colour.db.images/${image#images/}" ||
    fail "$image: the export is not the archive file"
  recorded=$(jq -c --arg i "$image" 'select(.image == $i) |
    [.read.status, .read.form, [.rows[] | [.read, .scores]]]' "$work/out/ballots.jsonl")
  reread=$("$phieu" read "${forms[@]}" --json "$work/out/$image" | jq -c '[.status, .form,
    [.rows[] | [.decision, [.boxes[].score * 10000 | round]]]]') || true
  expect "$image re-read" "$reread" "$recorded"
done < <(jq -r .image "$work/out/ballots.jsonl")

echo "sane_scan_colour: ok"
