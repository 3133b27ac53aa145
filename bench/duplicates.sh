#!/usr/bin/env bash
# Rescan detection, form by form, on the pages where it is hardest: one or two marks.
# For each shipped form a deck of DECK_N pages (default 300) is generated with that form
# alone and --few-marks (odd pages one marked row, even pages two; each page from its own
# random stream), every page is fed again (samples/rescan.c: a new rotation, offset,
# scale, noise, blur and exposure), and score_duplicates applies the session's rule (8x8
# ink grids, then the strokes at full resolution for pages of little ink) to each rescan
# against its own page (must be held: the bar is >= 99 % per form) and to every pair of
# different sheets of the form with the same row decisions, other hands making the same
# choices (must not be: the bar is 0 false alarms). DECK=folder scores one deck of any
# forms instead; FORMS="a b" limits the forms; THRESHOLD overrides the session's grid
# threshold; WORK=folder keeps the decks and rescans there (to look at the pages missed);
# SEED sets the first form's seed (default 5001; each next form's is 1000 more).
# Prints the figures (docs/recognition.md records them); fails only when a tool fails.
set -euo pipefail
: "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
if [[ -n "${WORK:-}" ]]; then
  work=$WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
n=${DECK_N:-300}
jobs=$(nproc)

# score DECK FORMS_DIR: rescans every page of DECK and scores them.
score() {
  local deck=$1 forms=$2 i=0 f stem
  local rescans
  rescans=$work/rescans-$(basename "$deck")
  rm -rf "$rescans"
  mkdir -p "$rescans"
  for f in "$deck"/*.png "$deck"/*.tif "$deck"/*.tiff; do
    [[ -f "$f" ]] || continue
    i=$((i + 1))
    stem=$(basename "${f%.*}")
    "$PHIEU_BUILD_DIR/rescan" --seed "$i" "$f" "$rescans/$stem.png" > /dev/null
  done
  echo "rescanned $i pages"
  local args=(--forms "$forms" --deck "$deck" --rescans "$rescans" --strokes)
  [[ -n "${THRESHOLD:-}" ]] && args+=(--threshold "$THRESHOLD")
  "$PHIEU_BUILD_DIR/score_duplicates" "${args[@]}"
}

if [[ -n "${DECK:-}" ]]; then
  score "$DECK" "$PHIEU_SOURCE_DIR/forms"
  exit 0
fi
seed=${SEED:-5001}
for form in ${FORMS:-confidence-vote district-rating province-rating}; do
  echo
  echo "== $form: $n pages of one or two marks, seed $seed"
  mkdir -p "$work/forms-$form"
  cp "$PHIEU_SOURCE_DIR/forms/$form.form" "$work/forms-$form/"
  "$PHIEU_BUILD_DIR/gen_samples" --count "$n" --seed "$seed" --out "$work/deck-$form" \
    --forms "$work/forms-$form" --few-marks --jobs "$jobs" > /dev/null 2>&1
  score "$work/deck-$form" "$work/forms-$form"
  seed=$((seed + 1000))
done
