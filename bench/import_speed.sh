#!/usr/bin/env bash
# import_speed.sh - what `phieu import` costs against `phieu read` on the same files: pages
# per second with one worker and with every core, CPU time, peak memory, and the whole job
# against OMRChecker's. Prints figures, never fails on speed (make bench). The deck is made
# once by gen_samples and kept in the build folder; IMPORT_PAGES sets its size (default 500;
# it takes a few minutes to make). IMPORT_REPEAT runs each command that many times (default
# 2) and keeps the fastest wall time (the machine may be shared: the load average is printed
# before and after, and CPU seconds are printed as well, since they depend less on it).
# OMRCHECKER, when set, is a command that reads a folder of images (it gets the folder as its
# last argument), e.g. "python3 /opt/OMRChecker/main.py -i"; without it the whole job is
# compared with `phieu read` on the same files.
set -euo pipefail
phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
build=${PHIEU_BUILD_DIR:?}
pages=${IMPORT_PAGES:-500}
repeat=${IMPORT_REPEAT:-2}
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
n=${#images[@]}

session() {
  rm -rf "$1" "$1.images" "$1-wal" "$1-shm"
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
    --place "H" --delegates 60 "${forms[@]}" >/dev/null
}
# once NAME CMD...: one run; "wall user sys peak-KB" appended to $work/NAME.
once() {
  local name=$1 rc=0
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name.one" "$@" >/dev/null 2>"$work/$name.err" || rc=$?
  # import exits 7 when pages await a supervisor: a normal end for a generated deck
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 7 ]; then
    cat "$work/$name.err" >&2
    echo "FAIL: $name exited $rc" >&2
    exit 1
  fi
  tail -n 1 "$work/$name.one" >>"$work/$name"
}
import_run() { # NAME JOBS: a fresh session each time
  session "$work/$1.db"
  once "$1" "$phieu" import "$work/$1.db" "$deck" --jobs "$2"
}
# best NAME: the run with the least wall time, "wall user sys peak-KB" (peak: the highest).
best() {
  sort -n "$work/$1" | head -n 1 | awk -v m="$(sort -k4 -n "$work/$1" | tail -n 1 | cut -d' ' -f4)" \
    '{print $1, $2, $3, m}'
}

echo "deck: $n files in $deck; $cores cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The machine's own ceiling: `phieu read` on each half of the deck, two processes at once
# (nothing shared but the machine), against one process on the whole deck.
printf '%s\n' "${images[@]:0:$(((n + 1) / 2))}" >"$work/half1"
printf '%s\n' "${images[@]:$(((n + 1) / 2))}" >"$work/half2"
cat >"$work/halves.sh" <<HALVES
mapfile -t a <"$work/half1"
mapfile -t b <"$work/half2"
"$phieu" read ${forms[*]} "\${a[@]}" >/dev/null & pid=\$!
"$phieu" read ${forms[*]} "\${b[@]}" >/dev/null
wait \$pid
HALVES
for ((i = 1; i <= repeat; i++)); do
  import_run import1 1
  import_run importn "$cores"
  once read "$phieu" read "${forms[@]}" "${images[@]}"
  once halves bash "$work/halves.sh"
done
omr=""
if [ -n "${OMRCHECKER:-}" ]; then
  mkdir -p "$work/omr"
  ln -s "${images[@]}" "$work/omr/"
  # shellcheck disable=SC2086
  once omrchecker $OMRCHECKER "$work/omr"
  omr=$(best omrchecker)
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); best of $repeat runs each:"
read -r w1 u1 s1 m1 < <(best import1)
read -r wn un sn mn < <(best importn)
read -r wr ur sr mr < <(best read)
read -r wh uh sh mh < <(best halves)
awk -v n="$n" -v c="$cores" -v w1="$w1" -v u1="$u1" -v s1="$s1" -v m1="$m1" \
    -v wn="$wn" -v un="$un" -v sn="$sn" -v mn="$mn" -v wr="$wr" -v ur="$ur" -v sr="$sr" \
    -v mr="$mr" -v wh="$wh" -v omr="$omr" '
BEGIN {
  printf "import --jobs 1:  %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", n / w1, u1 + s1, m1 / 1024
  printf "import --jobs %d:  %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", c, n / wn, un + sn, mn / 1024
  printf "read:             %6.1f pages/s wall, %6.1f s CPU, peak %d MB\n", n / wr, ur + sr, mr / 1024
  printf "two read processes on halves of the deck / one on all of it: %.2f (what the machine gives two at once)\n", wr / wh
  printf "import --jobs %d / --jobs 1 (pages per second): %.2f (bar >= 1.8 on 2 idle cores)\n", c, w1 / wn
  printf "import --jobs %d: %.0f %% of %d cores busy (CPU / wall / cores)\n", c, 100 * (un + sn) / wn / c, c
  printf "import --jobs 1 CPU / read CPU: %.2f (bar <= 1.3)\n", (u1 + s1) / (ur + sr)
  printf "peak memory: %d MB with 1 worker, %d MB with %d (bar: 64 MB + 45 MB per extra worker)\n", m1 / 1024, mn / 1024, c
  if (omr != "") {
    split(omr, o, " ")
    printf "whole job, import --jobs %d against OMRChecker (pages per second): %.1f (bar >= 10)\n", c, o[1] / wn
  } else {
    printf "OMRChecker not available (set OMRCHECKER): import --jobs %d against read --jobs 1 (pages per second): %.2f\n", c, wr / wn
  }
}'
# The two sessions must hold the same sheets (positions, readings, statuses): ids are random.
q="SELECT s.sha256, s.position, s.status, s.pattern, hex(r.blob) FROM sheets s
   LEFT JOIN readings r ON r.sheet_id = s.id ORDER BY s.position"
if command -v sqlite3 >/dev/null; then
  if [ "$(sqlite3 "$work/import1.db" "$q" | sha256sum)" = "$(sqlite3 "$work/importn.db" "$q" | sha256sum)" ]; then
    echo "sessions of --jobs 1 and --jobs $cores: the same sheets and readings"
  else
    echo "sessions of --jobs 1 and --jobs $cores DIFFER" >&2
    exit 1
  fi
fi
