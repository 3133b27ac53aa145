#!/usr/bin/env bash
# Rescan detection over a generated deck: every page is fed again (samples/rescan.c, a new
# rotation, offset, scale, noise, blur and exposure), and score_duplicates scores each
# rescan against its own page (must reach the session's duplicate threshold) and every
# pair of different sheets of one form with the same row decisions (must stay below).
# Uses DECK (a gen_samples folder) when set, else makes DECK_N pages (default 200), each
# from its own seed: one gen_samples run steps every page's random stream from the same
# state (page i+1 draws page i's numbers shifted by one), so a run's deck holds pairs of
# pages with the very same strokes, which are rescans, not other hands. THRESHOLD overrides
# the session's default; STROKES=1 scores the strokes at full resolution instead of the
# 8x8 ink grids. Prints detection and false-alarm rates; fails only when a tool fails.
set -euo pipefail
: "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deck=${DECK:-}
if [[ -z "$deck" ]]; then
  deck="$work/deck"
  n=${DECK_N:-200}
  echo "generating $n pages, seeds 5001-$((5000 + n)) (DECK=folder uses another deck)"
  mkdir -p "$deck"
  for ((k = 1; k <= n; k++)); do
    "$PHIEU_BUILD_DIR/gen_samples" --count 1 --seed $((5000 + k)) --out "$work/one" \
      --forms "$PHIEU_SOURCE_DIR/forms" > /dev/null 2>&1
    for f in "$work"/one/p00001.*; do mv "$f" "$deck/$(printf 'p%05d' "$k").${f##*.}"; done
    rm -rf "$work/one"
  done
fi
mkdir -p "$work/rescans"
i=0
for f in "$deck"/*.png "$deck"/*.tif "$deck"/*.tiff; do
  [[ -f "$f" ]] || continue
  i=$((i + 1))
  stem=$(basename "${f%.*}")
  "$PHIEU_BUILD_DIR/rescan" --seed "$i" "$f" "$work/rescans/$stem.png" > /dev/null
done
echo "rescanned $i pages"
args=(--forms "$PHIEU_SOURCE_DIR/forms" --deck "$deck" --rescans "$work/rescans")
[[ -n "${STROKES:-}" ]] && args+=(--strokes)
[[ -n "${THRESHOLD:-}" ]] && args+=(--threshold "$THRESHOLD")
"$PHIEU_BUILD_DIR/score_duplicates" "${args[@]}"
