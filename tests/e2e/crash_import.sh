#!/usr/bin/env bash
# Crash safety of `phieu import`: kill the importer with SIGKILL at random instants, run the
# same command again, and compare the final session (sheets, readings, exceptions, tally)
# with an uninterrupted run; the database passes integrity_check and no temporary file is
# left in the archive. Then a full disk (a small tmpfs): the import stops with a clear
# message, the session stays consistent, and a rerun after freeing space completes.
# PHIEU_CRASH_POINTS sets how many kill points (default 8; `make soak` uses 200).
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
points=${PHIEU_CRASH_POINTS:-8}
work=$(mktemp -d /tmp/phieu-crash-XXXXXX)
mnt=""
cleanup() {
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Test ballots come from `phieu form print`; fontconfig's process-lifetime caches under
# pango are not what this test is about, so leak checking is off for that step only.
render() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$phieu" form print "$@" >/dev/null; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Pages: blank ballots of every form at several resolutions (distinct images), test
# ballots (rejected by an official session: exceptions), a multi-page TIFF, a file that
# is not an image, and one page given twice; plus the committed samples when present.
mkdir -p "$work/pages"
for f in "$src"/forms/*.form; do
  id=$(basename "$f" .form)
  for dpi in 150 200; do
    render "$f" --format png --dpi "$dpi" -o "$work/pages/$id-$dpi.png"
  done
  render "$f" --format tiff --dpi 160 -o "$work/pages/$id-160.tif"
  render "$f" --format png --dpi 170 --test -o "$work/pages/$id-test.png"
done
"${PHIEU_BUILD_DIR:?}/imgtool" multipage "$work/pages/multi.tif" "$work"/pages/*-160.tif
echo "not a picture" > "$work/pages/broken.png"
cp "$work/pages/district-rating-150.png" "$work/pages/zz-again.png"
if [ -d "$src/samples/ballots" ]; then
  ls "$src"/samples/ballots/*.png 2>/dev/null | head -n 12 | while read -r p; do
    cp "$p" "$work/pages/sample-$(basename "$p")"
  done
fi
pages=$(ls "$work/pages" | wc -l)

new_session() {
  # The district council's forms: the province form's pages are another council's.
  local args=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" \
    --date 2026-11-28 --place "Hội trường" --delegates 30 "${args[@]}" >/dev/null
}

# What must be equal between two runs: every page by its hash, its status, form, row
# pattern and stored reading; every exception by page hash, row and reason; the tally.
dump() {
  sqlite3 "$1" "SELECT s.sha256, s.status, coalesce(s.form_idx,-1), s.pattern, s.unreadable,
                hex(r.blob) FROM sheets s LEFT JOIN readings r ON r.sheet_id = s.id
                ORDER BY s.sha256;
                SELECT s.sha256, e.row, e.reason, e.text FROM exceptions e
                JOIN sheets s ON s.id = e.sheet_id ORDER BY s.sha256, e.row;"
  "$phieu" tally "$1" --json
}

check_consistent() {
  local db=$1
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check of $db"
  [ -z "$(sqlite3 "$db" 'PRAGMA foreign_key_check')" ] || fail "foreign keys of $db"
  # Every sheet's image is in the archive: a PNG, a TIFF kept as received, or the bytes
  # of an unreadable file.
  sqlite3 "$db" "SELECT sha256 || CASE unreadable WHEN 1 THEN '.bin' ELSE '' END
                 FROM sheets" | while read -r name; do
    [ -f "$db.images/$name" ] || [ -f "$db.images/$name.png" ] || [ -f "$db.images/$name.tif" ] ||
      fail "sheet image $name missing from the archive"
  done
}

import_ok() {
  local rc=0
  "$phieu" import "$@" >/dev/null 2>&1 || rc=$?
  case $rc in 0|7) ;; *) fail "import $* exited $rc" ;; esac
}

# The reference: one uninterrupted run.
new_session "$work/ref.db"
start=$(date +%s%N)
import_ok "$work/ref.db" "$work/pages"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
dump "$work/ref.db" > "$work/ref.dump"
check_consistent "$work/ref.db"
ref_sheets=$(sqlite3 "$work/ref.db" 'SELECT count(*) FROM sheets')
[ "$ref_sheets" -ge 10 ] || fail "the reference run recorded only $ref_sheets sheets"
# The page given twice was refused: one sheet fewer than files (multi.tif repeats pages too).
grep -q '"rules":"nq96"' "$work/ref.dump" || fail "tally JSON missing from the dump"
echo "reference: $pages files, $ref_sheets sheets in ${elapsed_ms} ms"

# Kill points spread over the run, random within it.
killed_mid=0
for k in $(seq 1 "$points"); do
  db="$work/c$k.db"
  new_session "$db"
  delay_ms=$(( (RANDOM * 32768 + RANDOM) % (elapsed_ms + 1) ))
  "$phieu" import "$db" "$work/pages" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then killed_mid=$((killed_mid + 1)); fi
  wait "$pid" 2>/dev/null || true
  before=$(sqlite3 "$db" 'SELECT count(*) FROM sheets')
  check_consistent "$db"
  import_ok "$db" "$work/pages"
  check_consistent "$db"
  dump "$db" > "$work/c$k.dump"
  if ! cmp -s "$work/ref.dump" "$work/c$k.dump"; then
    diff "$work/ref.dump" "$work/c$k.dump" | head -n 20 >&2
    fail "kill point $k (${delay_ms} ms, $before sheets recorded): the session differs"
  fi
  if ls "$db.images" | grep -q '\.tmp\.'; then fail "temporary files left in $db.images"; fi
  # Every archived file belongs to a sheet: nothing half-stored is counted or left.
  files=$(ls "$db.images" | wc -l)
  [ "$files" -eq "$ref_sheets" ] || fail "kill point $k: $files archive files, $ref_sheets sheets"
  echo "kill point $k at ${delay_ms} ms: $before sheets before the rerun, final session equal"
done
[ "$killed_mid" -ge 1 ] || fail "no kill landed while the importer was running"

# A full disk: a tmpfs too small for the whole archive.
mnt="$work/small"
mkdir -p "$mnt"
arch_kb=$(du -sk "$work/ref.db.images" | cut -f1)
if mount -t tmpfs -o size=$(( arch_kb / 2 + 600 ))k tmpfs "$mnt" 2>/dev/null; then
  new_session "$mnt/full.db"
  rc=0
  "$phieu" import "$mnt/full.db" "$work/pages" > "$work/full.out" 2> "$work/full.err" || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 7 ] || fail "import on a full disk exited $rc"
  grep -qiE "full|no space" "$work/full.err" || { cat "$work/full.err" >&2; fail "no clear disk-full message"; }
  grep -q "run the same command again" "$work/full.err" || fail "no advice to rerun"
  partial=$(sqlite3 "$mnt/full.db" 'SELECT count(*) FROM sheets')
  [ "$partial" -lt "$ref_sheets" ] || fail "the small disk held everything; test is void"
  check_consistent "$mnt/full.db"
  mount -o remount,size=64m "$mnt"
  import_ok "$mnt/full.db" "$work/pages"
  check_consistent "$mnt/full.db"
  dump "$mnt/full.db" > "$work/full.dump"
  cmp -s "$work/ref.dump" "$work/full.dump" || fail "after the full disk, the rerun differs"
  echo "full disk: stopped after $partial sheets with: $(grep -iE 'full|no space' "$work/full.err" | head -n 1)"
  umount "$mnt"
  mnt=""
else
  echo "full disk: skipped (cannot mount a tmpfs here; run as root to include it)"
fi
echo "crash_import: OK ($points kill points)"
