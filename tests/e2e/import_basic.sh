#!/usr/bin/env bash
# `phieu session`, `import`, `status`, `tally`, `exceptions`, `log` end to end on rendered
# ballots: the same file twice is refused naming its sheet, a test ballot is rejected by
# an official session, a broken file becomes an exception, the pipe output holds no
# selections, the board's counts reconcile, and a changed log entry is named.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
work=$(mktemp -d /tmp/phieu-import-XXXXXX)
trap 'rm -rf "$work"' EXIT
# Test ballots come from `phieu form print`; fontconfig's process-lifetime caches under
# pango are not what this test is about, so leak checking is off for that step only.
render() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$phieu" form print "$@" >/dev/null; }
fail() { echo "FAIL: $*" >&2; exit 1; }

form="$src/forms/district-rating.form"
mkdir -p "$work/in"
render "$form" --format png --dpi 150 -o "$work/in/a.png"
render "$form" --format png --dpi 200 -o "$work/in/b.png"
render "$form" --format png --dpi 170 --test -o "$work/in/c-test.png"
echo "garbage" > "$work/in/d.png"

db="$work/s.db"
"$phieu" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 --form "$form" \
  --threshold marked=0.05 > "$work/new.out"
grep -q "official session" "$work/new.out" || fail "session new said: $(cat "$work/new.out")"
[ -d "$db.images" ] || fail "no archive folder"
rc=0; "$phieu" session new "$db" --council "HỘI ĐỒNG NHÂN DÂN HUYỆN AN THẠNH" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date x --place x \
  --delegates 3 --form "$form" 2>"$work/exists.err" || rc=$?
[ "$rc" -ne 0 ] || fail "session new overwrote an existing session"
grep -q "already exists" "$work/exists.err" || fail "session new said: $(cat "$work/exists.err")"

# A form of another council, or of another session of this council, is refused (issue
# 13): the message names both texts and what to do, and no session file is left. Case
# and spacing do not matter: the form prints upper case, the board types ordinary case.
refused() { # what, then session new's options
  local what=$1 rc=0
  shift
  "$phieu" session new "$work/x.db" --date 2026-11-28 --place "Hội trường" --delegates 30 \
    "$@" >/dev/null 2>"$work/x.err" || rc=$?
  [ "$rc" -ne 0 ] || fail "$what: a session was made"
  [ ! -e "$work/x.db" ] || fail "$what: a session file was left"
}
refused "province form" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --form "$form" \
  --form "$src/forms/province-rating.form"
grep -q "form 'province-rating' is printed for council 'HỘI ĐỒNG NHÂN DÂN TỈNH SƠN ĐÔNG', but this session is of 'Hội đồng nhân dân huyện An Thạnh'" "$work/x.err" ||
  fail "the refusal does not name both councils: $(cat "$work/x.err")"
grep -q "give the form file of this council's ballots, or correct the session's council" "$work/x.err" ||
  fail "the refusal does not say what to do: $(cat "$work/x.err")"
refused "other session" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Hai, khóa XII" --form "$form"
grep -q "printed for session 'Kỳ họp thứ Mười Một, khóa XII', but this session is 'Kỳ họp thứ Mười Hai, khóa XII'" "$work/x.err" ||
  fail "the refusal does not name both sessions: $(cat "$work/x.err")"
"$phieu" session new "$work/y.db" --council "  hội đồng nhân dân   HUYỆN an thạnh" \
  --session-name "KỲ HỌP THỨ MƯỜI MỘT, KHÓA XII" --date 2026-11-28 --place "Hội trường" \
  --delegates 30 --form "$form" >/dev/null || fail "case and spacing made the council another"

"$phieu" session board "$db" --head "Nguyễn Văn Trưởng" --secretary "Trần Thị Thư" \
  --member "Lê Văn Một" >/dev/null
"$phieu" session counts "$db" --present 28 --issued 30 --collected 3 --spoiled 1 >/dev/null

rc=0
"$phieu" import "$db" "$work/in" > "$work/import.out" 2> "$work/import.err" || rc=$?
[ "$rc" -eq 7 ] || fail "import exited $rc, expected 7 (exceptions to review)"
[ "$(wc -l < "$work/import.out")" -eq 4 ] || fail "expected one line per page: $(cat "$work/import.out")"
grep -q "a.png': counted, form district-rating" "$work/import.out" || fail "a.png not counted"
grep -q "c-test.png': rejected" "$work/import.out" || fail "test ballot not rejected"
grep -q "d.png': rejected, form unknown, 1 exception" "$work/import.out" || fail "broken file"
# A line says the outcome, never a selection.
if grep -qiE "high|trust|low|cao|thấp" "$work/import.out"; then fail "a selection leaked"; fi
grep -q "imported: 4 pages" "$work/import.err" || fail "no summary: $(cat "$work/import.err")"

# The same file again: refused, naming the sheet it duplicates; nothing new recorded.
sheet=$(sqlite3 "$db" "SELECT id FROM sheets WHERE sha256 = (SELECT sha256 FROM sheets
         WHERE status = 0 ORDER BY id LIMIT 1)")
rc=0; "$phieu" import "$db" "$work/in/a.png" "$work/in/b.png" > "$work/again.out" 2>&1 || rc=$?
grep -q "already in the session as sheet" "$work/again.out" || fail "duplicate not named"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM sheets')" -eq 4 ] || fail "a duplicate was stored"
grep -q "$sheet" "$work/again.out" || fail "duplicate message does not name sheet $sheet"

# Exceptions: the test ballot and the broken file.
rc=0; "$phieu" exceptions "$db" > "$work/exc.out" || rc=$?
[ "$rc" -eq 7 ] || fail "exceptions exited $rc"
grep -q "unreadable-file" "$work/exc.out" || fail "no unreadable-file exception"
grep -q "2 open" "$work/exc.out" || fail "expected 2 open exceptions: $(cat "$work/exc.out")"

# Status reconciles 3 read (the test ballot is pending) against 3 collected; tally shows
# pending.
rc=0; "$phieu" status "$db" > "$work/status.out" || rc=$?
grep -q "reconciled: 3 read = 3 collected" "$work/status.out" || fail "status: $(cat "$work/status.out")"
"$phieu" tally "$db" --json > "$work/tally.json"
grep -q '"collected":3' "$work/tally.json" || fail "tally json lacks the counts"
grep -q '"provisional":true' "$work/tally.json" || fail "tally not provisional with open exceptions"
"$phieu" tally "$db" --lang en | grep -q "Trần Văn Khải" || fail "tally text lacks the names"

# The log: created, threshold in the creation entry, board, counts, batches; then tamper.
"$phieu" log "$db" > "$work/log.out"
for action in session-created board counts batch-closed; do
  grep -q " $action " "$work/log.out" || fail "log lacks $action"
done
grep -q "marked=0.050" "$work/log.out" || fail "log lacks the thresholds in force"
"$phieu" log "$db" --verify | grep -q "audit log verified" || fail "log does not verify"
sqlite3 "$db" "UPDATE log SET detail = detail || ' (edited)' WHERE seq = 3"
rc=0; "$phieu" log "$db" --verify 2> "$work/verify.err" || rc=$?
[ "$rc" -eq 4 ] || fail "tampered log verified (exit $rc)"
grep -q "entry 3" "$work/verify.err" || fail "tampering not named: $(cat "$work/verify.err")"

# A session file from a newer phieu, and a file that is not a session.
sqlite3 "$db" "PRAGMA user_version = 42"
rc=0; "$phieu" status "$db" 2> "$work/newer.err" >/dev/null || rc=$?
grep -q "newer phieu" "$work/newer.err" || fail "newer file not refused clearly"
echo "not sqlite at all, just some text padding it out to look like a file" > "$work/junk.db"
rc=0; "$phieu" status "$work/junk.db" 2> "$work/junk.err" >/dev/null || rc=$?
grep -q "damaged or not a phieu session" "$work/junk.err" || fail "junk file: $(cat "$work/junk.err")"
echo "import_basic: OK"
