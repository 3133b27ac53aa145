#!/usr/bin/env bash
# import_as_received.sh - a single-page PNG or TIFF is archived as it was received (its
# bytes are the evidence, its SHA-256 names it; a colour scan keeps its colour), a TIFF
# that carries a scan time is re-encoded (secrecy), and everything that reads archived
# images works on an archived TIFF: `phieu exceptions --png` (in colour), `phieu report` (the image is
# exported as images/<sha256>.tif and named so in ballots.jsonl) and `phieu verify`.
# The same folder imported with 1 and with 2 workers gives the same archive.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
imgtool=${PHIEU_BUILD_DIR:?}/imgtool
work=$(mktemp -d /tmp/phieu-e2e-received-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
# fontconfig's process-lifetime caches under pango are not what this test is about.
render() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$phieu" form print "$@" >/dev/null; }

form="$src/forms/district-rating.form"
mkdir pages
render "$form" --format png --dpi 150 -o gray150.png
render "$form" --format png --dpi 160 -o gray160.png
render "$form" --format png --dpi 170 -o gray170.png
render "$form" --format png --dpi 180 --test -o test180.png
render "$form" --format tiff --dpi 190 -o pages/e-gray.tif
"$imgtool" colour gray150.png pages/a-colour.tif
"$imgtool" colour gray160.png pages/b-colour.png
"$imgtool" colour gray170.png pages/c-dated.tif dated
"$imgtool" colour test180.png pages/d-test.tif
hash() { sha256sum "$1" | cut -c1-64; }

new_session() {
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" \
    --date 2026-11-28 --place "Hội trường" --delegates 10 --form "$form" >/dev/null
}
import_ok() {
  local rc=0
  "$phieu" import "$@" >/dev/null 2>&1 || rc=$?
  case $rc in 0|7) ;; *) fail "import $* exited $rc" ;; esac
}
new_session s.db
import_ok s.db pages --jobs 2
[ "$(sqlite3 s.db 'SELECT count(*) FROM sheets')" = 5 ] || fail "expected 5 sheets"

# Kept as received, byte for byte, under the hash of the file.
for f in a-colour.tif d-test.tif e-gray.tif; do
  cmp -s "pages/$f" "s.db.images/$(hash "pages/$f").tif" || fail "$f not archived as received"
done
cmp -s pages/b-colour.png "s.db.images/$(hash pages/b-colour.png).png" ||
  fail "b-colour.png not archived as received"
# A scan time is not kept: the dated TIFF is re-encoded as PNG.
[ ! -e "s.db.images/$(hash pages/c-dated.tif).tif" ] || fail "a TIFF with a DateTime tag was kept"
[ "$(ls s.db.images | grep -c '\.png$')" = 2 ] || fail "archive: $(ls s.db.images)"
ls s.db.images | grep -q '\.tmp\.' && fail "a temporary copy was left in the archive"

# Every sheet names a file of the archive, and the colour TIFF reads as a gray blank
# ballot does (the red seal drops out).
sqlite3 s.db "SELECT sha256 FROM sheets" | while read -r sha; do
  [ -f "s.db.images/$sha.png" ] || [ -f "s.db.images/$sha.tif" ] || fail "sheet $sha: no image"
done
st() { sqlite3 s.db "SELECT coalesce(form_idx, -1), status, pattern FROM sheets WHERE sha256 = '$1'"; }
[ "$(st "$(hash pages/a-colour.tif)")" = "$(st "$(hash pages/e-gray.tif)")" ] ||
  fail "the colour TIFF reads '$(st "$(hash pages/a-colour.tif)")', its gray twin '$(st "$(hash pages/e-gray.tif)")'"
st "$(hash pages/a-colour.tif)" | grep -q '^0|' || fail "the colour TIFF's form was not found"

# exceptions --png decodes an archived TIFF (the test ballot is rejected with an exception).
mkdir png
{ "$phieu" exceptions s.db --png png || true; } >/dev/null
ls png/*-page.png >/dev/null 2>&1 || fail "exceptions --png wrote no page image"
# ... in colour, as it was scanned (a colour TIFF): PNG colour type 2 (RGB) in its header.
for f in png/*-page.png; do
  [ "$(od -An -tu1 -j25 -N1 "$f" | tr -d ' ')" = 2 ] || fail "$f is not in colour"
done

# The report exports the TIFF under its own name; verify re-reads it.
"$phieu" key new board.key >/dev/null
"$phieu" report s.db --out out --key board.key --draft >/dev/null
cmp -s pages/a-colour.tif "out/images/$(hash pages/a-colour.tif).tif" || fail "report: TIFF not exported"
grep -q "\"image\":\"images/$(hash pages/a-colour.tif).tif\"" out/ballots.jsonl ||
  fail "ballots.jsonl does not name the .tif image"
"$phieu" verify out --pubkey board.key.pub >verify.txt || fail "verify: $(cat verify.txt)"
grep -q "^OK: 5 ballot(s)" verify.txt || fail "verify said: $(cat verify.txt)"

# One worker: the same archive and the same sheets.
new_session one.db
import_ok one.db pages --jobs 1
[ "$(ls s.db.images | sort)" = "$(ls one.db.images | sort)" ] || fail "archives differ with 1 and 2 workers"
q="SELECT sha256, position, status, pattern FROM sheets ORDER BY position"
[ "$(sqlite3 s.db "$q")" = "$(sqlite3 one.db "$q")" ] || fail "sheets differ with 1 and 2 workers"
echo "import_as_received: ok"
