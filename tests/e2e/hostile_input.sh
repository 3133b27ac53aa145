#!/usr/bin/env bash
# Hostile and broken input through the phieu commands (the catalogue is in
# docs/reliability.md; the files come from tests/hostile/make.sh): each gives a clear
# error or a rejection with its reason from `phieu read` and `phieu import`, forms are
# refused by `phieu form check` and `phieu session new` with file:line, damaged or future
# session files are refused by `phieu status`, and nothing already counted changes (the
# counted figures of `phieu tally --json` before and after every import are equal).
# Re-encodings of a counted ballot (16-bit, 4-bit, printed at 90 %) never count it twice.
set -euo pipefail
work=$(mktemp -d /tmp/phieu-hostile-XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../faults/lib.sh
. "${PHIEU_SOURCE_DIR:?}/tests/faults/lib.sh"
build=${PHIEU_BUILD_DIR:?}

h="$work/h"
bash "$src/tests/hostile/make.sh" "$h" >/dev/null
forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")

# A session with three hand-marked ballots counted.
(cd "$build" && ./test_review --make-ballots "$work/marked" 3 >/dev/null)
db="$work/s.db"
"$phieu" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 "${forms[@]}" >/dev/null
rc=0
"$phieu" import "$db" "$work/marked" >/dev/null 2>&1 || rc=$?
finished "$rc" || fail "importing the marked ballots exited $rc"
# What is counted: every person's figures and each form's whole-ballot invalids. Pending
# ballots (a rejected page awaiting the board) may be added; nothing counted may move.
counted() {
  "$phieu" tally "$db" --json | jq -c '[.forms[] | [.form, .invalid_ballots,
    [.persons[] | [.number, .valid, .not_valid, .blank, .overvote, .invalid_ballot,
                   .decided_invalid, [.levels[].count]]]]]'
}
before=$(counted)
sheets_before=$(sqlite3 "$db" 'SELECT count(*) FROM sheets')

n=0
row() { printf '%-22s %-10s %s\n' "$1" "$2" "$3"; }
# read_case FILE KIND WHAT: KIND "unreadable" (exit 3, message naming the file and WHAT)
# or "rejected" (exit 7, reason code WHAT).
read_case() {
  local f=$1 kind=$2 what=$3 rc=0
  timeout 120 "$phieu" read "${forms[@]}" "$h/$f" > "$work/read.out" 2> "$work/read.err" || rc=$?
  [ "$rc" -ne 124 ] || fail "$f: phieu read hung"
  case $kind in
    unreadable)
      [ "$rc" -eq 3 ] || fail "$f: read exited $rc, expected 3"
      grep -q "cannot read '$h/$f'" "$work/read.err" || { cat "$work/read.err" >&2; fail "$f: the message does not name the file"; }
      grep -qi -- "$what" "$work/read.err" || { cat "$work/read.err" >&2; fail "$f: the message does not say '$what'"; }
      grep -q "rejected (unreadable-file)" "$work/read.out" || fail "$f: no rejected line"
      row "$f" "read" "$(sed 's/^phieu read: //' "$work/read.err" | head -n 1)" ;;
    rejected)
      [ "$rc" -eq 7 ] || fail "$f: read exited $rc, expected 7"
      grep -q "page 1: rejected" "$work/read.out" || { cat "$work/read.out" >&2; fail "$f: not rejected"; }
      grep -q "  $what: " "$work/read.out" || { cat "$work/read.out" >&2; fail "$f: reason is not $what"; }
      row "$f" "read" "rejected, $(grep -m1 "  $what: " "$work/read.out" | sed 's/^ *//')" ;;
  esac
}
# import_case FILE REASON: the page is recorded with an exception REASON (exit 7), counted
# figures unchanged; the same file again is recognised and not recorded twice.
import_case() {
  local f=$1 reason=$2 rc=0
  local with_reason="SELECT count(*) FROM exceptions WHERE reason = '$reason'"
  local had
  had=$(sqlite3 "$db" "$with_reason")
  timeout 120 "$phieu" import "$db" "$h/$f" > "$work/imp.out" 2> "$work/imp.err" || rc=$?
  [ "$rc" -eq 7 ] || { cat "$work/imp.err" >&2; fail "$f: import exited $rc, expected 7"; }
  [ "$(sqlite3 "$db" "$with_reason")" -eq $((had + 1)) ] ||
    { sqlite3 "$db" 'SELECT reason, text FROM exceptions' >&2; fail "$f: no new '$reason' exception"; }
  [ "$(counted)" = "$before" ] || fail "$f: the counted figures changed"
  rc=0
  "$phieu" import "$db" "$h/$f" > "$work/imp.out" 2>&1 || rc=$?
  grep -q "already in the session" "$work/imp.out" || { cat "$work/imp.out" >&2; fail "$f: imported twice"; }
  n=$((n + 1))
  row "$f" "import" "exception $reason"
}

echo "catalogue (file, command, outcome):"
for c in "empty.png:the file is empty" "truncated.png:damaged or truncated" \
         "corrupt.png:damaged or truncated" "zero-width.png:damaged or truncated" \
         "huge.png:more than the limit" "truncated.tif:damaged" "corrupt.tif:damaged" \
         "huge.tif:more than the limit" "zero-height.tif:damaged" \
         "odd-depth.tif:not supported" "pdf-renamed.tif:looks like a PDF"; do
  f=${c%%:*}
  read_case "$f" unreadable "${c#*:}"
  import_case "$f" unreadable-file
done
for c in "photo.png:not-registered" "depth2-noise.png:not-registered" \
         "half.png:not-registered" "other-form.png:wrong-form"; do
  f=${c%%:*}
  read_case "$f" rejected "${c#*:}"
  import_case "$f" "${c#*:}"
done
# A test ballot in an official session.
"$phieu" form print "$src/forms/district-rating.form" --format png --dpi 150 --test -o "$h/test-ballot.png" >/dev/null
import_case test-ballot.png test-ballot

# Re-encodings and a 90 % print of a counted ballot: read like the original (or sent to a
# person), and never counted a second time: the same pixels are the same sheet, others a
# possible rescan for the board.
orig="$work/marked/$(ls "$work/marked" | head -n 1)"
decisions() { "$phieu" read "${forms[@]}" --json "$1" 2>/dev/null | jq -c '[.rows[] | .decision]' || true; }
want=$(decisions "$orig")
imgtool=$build/imgtool
"$imgtool" depth "$orig" "$work/m16.png" 16
"$imgtool" depth "$orig" "$work/m16.tif" 16
"$imgtool" depth "$orig" "$work/m4.png" 4
"$imgtool" scale "$orig" "$work/m90.png" 90
for f in m16.png m16.tif m4.png m90.png; do
  got=$(decisions "$work/$f")
  status=$("$phieu" read "${forms[@]}" --json "$work/$f" 2>/dev/null | jq -r .status || true)
  # Row by row: the same decision, or one of the two sent to a person (a faint mark may
  # cross a threshold when its grays are quantised); never another choice.
  if [ "$status" != rejected ] &&
     [ "$(jq -n --argjson a "$want" --argjson b "$got" \
          '[range($a|length) | select($a[.] != $b[.] and $a[.] != "review" and $b[.] != "review")] | length')" != 0 ]; then
    fail "$f: read as $got ($status), the original as $want"
  fi
  rc=0
  "$phieu" import "$db" "$work/$f" > "$work/imp.out" 2>&1 || rc=$?
  grep -qE "already in the session|possible duplicate|rejected" "$work/imp.out" ||
    { cat "$work/imp.out" >&2; fail "$f: a second copy of a counted ballot was not caught"; }
  [ "$(counted)" = "$before" ] || fail "$f: the counted figures changed"
  row "$f" "import" "$(grep -oE "already in the session|possible duplicate of sheet [0-9a-f]+|rejected" "$work/imp.out" | head -n 1) (read: $status)"
done

# Forms.
for c in "bad-utf8.form:invalid UTF-8" "rows-10000.form:too many rows"; do
  f=${c%%:*}
  rc=0
  "$phieu" form check "$h/$f" > /dev/null 2> "$work/form.err" || rc=$?
  [ "$rc" -eq 3 ] || fail "$f: form check exited $rc, expected 3"
  grep -qE "$f:[0-9]+:[0-9]+: ${c#*:}" "$work/form.err" || { cat "$work/form.err" >&2; fail "$f: no file:line:column and reason"; }
  rc=0
  "$phieu" session new "$work/x.db" --council X --session-name Y --date 2026-11-28 \
    --place Z --delegates 3 --form "$h/$f" > /dev/null 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && [ ! -e "$work/x.db" ] || fail "$f: a session was made with it"
  row "$f" "form check" "$(head -n 1 "$work/form.err" | sed "s|$h/||")"
done

# Session files: from a newer phieu, damaged in the middle, cut short, not a session.
cp "$db" "$work/future.db"
sqlite3 "$work/future.db" 'PRAGMA user_version = 99'
cp "$db" "$work/damaged.db"
printf 'garbage%.0s' $(seq 600) | dd of="$work/damaged.db" bs=1 seek=4096 conv=notrunc status=none
head -c 6000 "$db" > "$work/cut.db"
sqlite3 "$work/foreign.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1)'
echo "not a database" > "$work/text.db"
for c in "future.db:newer phieu" "damaged.db:damaged|malformed" "cut.db:damaged|malformed" \
         "foreign.db:not a phieu session" "text.db:not a phieu session|damaged"; do
  f=${c%%:*}
  rc=0
  timeout 60 "$phieu" status "$work/$f" > /dev/null 2> "$work/st.err" || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ] || fail "$f: status exited $rc"
  grep -qE "${c#*:}" "$work/st.err" || { cat "$work/st.err" >&2; fail "$f: the message does not say '${c#*:}'"; }
  rc=0
  "$phieu" import "$work/$f" "$h/good.png" > /dev/null 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 7 ] && [ "$rc" -lt 128 ] || fail "$f: import into it exited $rc"
  row "$f" "status" "$(head -n 1 "$work/st.err" | sed "s|$work/||")"
done

check_consistent "$db"
[ "$(counted)" = "$before" ] || fail "the counted figures changed"
added=$(( $(sqlite3 "$db" 'SELECT count(*) FROM sheets') - sheets_before ))
echo "hostile_input: OK ($n hostile pages recorded with their reasons, $added sheets added, nothing counted changed)"
