#!/usr/bin/env bash
# Accuracy over a large generated deck: misreads, ballots lost as not-registered, review
# rate and hard rows, by the rules of tests/e2e/read_samples.sh. Uses deck/ when
# `make deck N=10000` has made it; otherwise makes a deck of DECK_N pages (default 300) in a temporary folder, so that `make bench`
# always prints a figure. Prints the figures; fails on a misread or a lost ballot.
set -euo pipefail
: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
deck="$PHIEU_SOURCE_DIR/deck"
if [[ ! -f "$deck/truth.jsonl" ]]; then
  deck=$(mktemp -d)
  trap 'rm -rf "$deck"' EXIT
  n=${DECK_N:-300}
  echo "no deck/ (make deck N=10000 makes one): generating $n pages with seed 7"
  "$PHIEU_BUILD_DIR/gen_samples" --count "$n" --out "$deck" --seed 7 --jobs "$(nproc)" \
    --forms "$PHIEU_SOURCE_DIR/forms" 2>/dev/null
fi
echo "deck: $deck ($(wc -l < "$deck/truth.jsonl") pages)"
# `phieu read` runs under /usr/bin/time, so the same run gives speed and peak memory.
timing=$(mktemp)
wrap=$(mktemp)
trap 'rm -f "$timing" "$wrap"' EXIT
[[ "$deck" == "$PHIEU_SOURCE_DIR/deck" ]] || trap 'rm -rf "$deck" "$timing" "$wrap"' EXIT
printf '#!/bin/sh\nexec /usr/bin/time -a -o "%s" -f "%%e %%U %%S %%M" "%s" "$@"\n' \
  "$timing" "$PHIEU_BIN" > "$wrap"
chmod +x "$wrap"
rc=0
PHIEU_BIN="$wrap" SAMPLES_DIR="$deck" bash "$PHIEU_SOURCE_DIR/tests/e2e/read_samples.sh" || rc=$?
# The first timed run is the whole deck (the second is read_samples' missing-file check).
# time(1) puts "Command exited with non-zero status 7" (pages to review) before its line.
awk -v p="$(wc -l < "$deck/truth.jsonl")" '/^[0-9.]+ / && !done { done = 1
  printf "phieu read over the deck: %.1f pages/s wall, %.1f per CPU second; peak memory %.0f MB\n",
         p / $1, p / ($2 + $3), $4 / 1024 }' "$timing"
exit "$rc"
