#!/usr/bin/env bash
# import_speed.sh - what `phieu import` costs against `phieu read` on the same files: pages
# per second with one worker and with every core, CPU time, peak memory. Prints figures, never
# fails on speed (make bench). The deck is made once by gen_samples and kept in the build
# folder; IMPORT_PAGES sets its size (default 500; it takes a few minutes to make).
set -euo pipefail
phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
build=${PHIEU_BUILD_DIR:?}
pages=${IMPORT_PAGES:-500}
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One session holds one council's forms: the deck is the district council's two forms
# (a session of every shipped form would be refused since issue 13). Its folder is named
# by the forms' text, so a changed form makes a new deck instead of one of stale codes.
mkdir -p "$work/forms"
cp "$src/forms/district-rating.form" "$src/forms/confidence-vote.form" "$work/forms/"
tag=$(cat "$work"/forms/*.form | sha256sum | cut -c1-8)
deck="$build/bench-deck-$pages-$tag"
if [ ! -s "$deck/truth.jsonl" ]; then
  echo "making a deck of $pages pages in $deck (once)..."
  rm -rf "$deck"
  nice "$build/gen_samples" --count "$pages" --out "$deck" --seed 2026 --jobs "$cores" \
    --forms "$work/forms" >/dev/null
fi
forms=()
for f in "$work"/forms/*.form; do forms+=(--form "$f"); done
mapfile -t images < <(find "$deck" -maxdepth 1 \( -name '*.png' -o -name '*.tif' -o -name '*.tiff' \) | sort)

# run NAME CMD...: wall, user, sys seconds and peak KB of one run into $work/NAME.
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name" "$@" >/dev/null 2>"$work/$name.err" || {
    local rc=$?
    # import exits 7 when pages await a supervisor: a normal end for a generated deck
    [ "$rc" -eq 7 ] || { cat "$work/$name.err" >&2; echo "FAIL: $name exited $rc" >&2; exit 1; }
  }
  tail -n 1 "$work/$name" > "$work/$name.t"
}
session() {
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
    --place "H" --delegates 60 "${forms[@]}" >/dev/null
}

session "$work/j1.db"
run import1 "$phieu" import "$work/j1.db" "$deck" --jobs 1
session "$work/jn.db"
run importn "$phieu" import "$work/jn.db" "$deck" --jobs "$cores"
run read "$phieu" read "${forms[@]}" "${images[@]}"

read -r w1 u1 s1 m1 < "$work/import1.t"
read -r wn un sn mn < "$work/importn.t"
read -r wr ur sr mr < "$work/read.t"
n=${#images[@]}
awk -v n="$n" -v c="$cores" -v w1="$w1" -v u1="$u1" -v s1="$s1" -v m1="$m1" \
    -v wn="$wn" -v un="$un" -v sn="$sn" -v mn="$mn" -v wr="$wr" -v ur="$ur" -v sr="$sr" -v mr="$mr" '
BEGIN {
  printf "deck: %d files\n", n
  printf "import --jobs 1:  %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", n / w1, u1 + s1, m1 / 1024
  printf "import --jobs %d:  %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", c, n / wn, un + sn, mn / 1024
  printf "read:             %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", n / wr, ur + sr, mr / 1024
  printf "import --jobs %d / --jobs 1 (pages per second): %.2f (bar >= 1.8 on 2 cores)\n", c, w1 / wn
  printf "import --jobs 1 CPU / read CPU: %.2f (bar <= 1.3)\n", (u1 + s1) / (ur + sr)
  printf "import --jobs %d against read (pages per second): %.2f\n", c, wr / wn
}'
# The two sessions must hold the same sheets (positions, readings, statuses): ids are random.
q="SELECT s.sha256, s.position, s.status, s.pattern, hex(r.blob) FROM sheets s
   LEFT JOIN readings r ON r.sheet_id = s.id ORDER BY s.position"
if command -v sqlite3 >/dev/null; then
  if [ "$(sqlite3 "$work/j1.db" "$q" | sha256sum)" = "$(sqlite3 "$work/jn.db" "$q" | sha256sum)" ]; then
    echo "sessions of --jobs 1 and --jobs $cores: the same sheets and readings"
  else
    echo "sessions of --jobs 1 and --jobs $cores DIFFER" >&2
    exit 1
  fi
fi
