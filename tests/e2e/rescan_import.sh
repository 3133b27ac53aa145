#!/usr/bin/env bash
# The same paper sheet fed twice, end to end: a generated ballot is imported and counted;
# its rescan (samples/rescan.c: the same ink, turned, moved, scaled, new noise and
# exposure) is a new image, so it is not refused as the same file, but it goes to review
# as a possible duplicate naming the first sheet and is not counted; a ballot of the same
# form with the same choices in every row, marked by another hand, is counted.
set -euo pipefail

phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
build=${PHIEU_BUILD_DIR:?}
work=$(mktemp -d /tmp/phieu-rescan-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The district council's forms; generated pages of the province form (another council)
# are set apart by gen_samples --split and not used.
forms=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")

# Two ballots the reader reads alike (form and every row's decision) from two hands: one
# gen_samples run per seed, since within one run a page can share the random strokes of
# another page (docs/recognition.md, "Duplicates").
# The rescanned ballot needs enough ink to tell a rescan from chance: at least three marked
# rows (a vote of confidence with one mark is judged conservatively by design).
declare -A seen
first="" second="" rich=""
for seed in $(seq 7001 7080); do
  out="$work/gen$seed"
  "$build/gen_samples" --count 1 --seed "$seed" --out "$out" --forms "$src/forms" \
    --split province-rating="$out/province" >/dev/null 2>&1
  page=$(ls "$out"/p00001.* 2>/dev/null) || continue
  [[ "$page" == *.png ]] || continue
  # `phieu read` exits 7 for a page that needs a person: such a page is skipped.
  key=$({ "$phieu" read --json "${forms[@]}" "$page" || true; } |
    jq -r 'select(.status == "counted") | [.form, (.rows[] | .decision)] | join(",")')
  # A page must hold marks, not only blank rows.
  [[ "$key" =~ ,(high|low|trust|distrust) ]] || continue
  marks=$(grep -o -E ',(high|low|trust|distrust)' <<<"$key" | wc -l)
  if [[ -z "$rich" && "$marks" -ge 3 ]]; then rich=$page; continue; fi
  if [[ -z "$first" && -n "${seen[$key]:-}" ]]; then first=${seen[$key]} second=$page; fi
  seen[$key]=$page
  [[ -n "$first" && -n "$rich" ]] && break
done
[[ -n "$first" ]] || fail "no two generated ballots with the same choices in 80 seeds"
[[ -n "$rich" ]] || fail "no generated ballot with three marked rows in 80 seeds"
"$build/rescan" --seed 3 "$rich" "$work/rescan.png" >/dev/null

db="$work/s.db"
"$phieu" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 "${forms[@]}" >/dev/null

"$phieu" import "$db" "$rich" > "$work/1.out" 2>&1 || fail "first import: $(cat "$work/1.out")"
grep -q "counted" "$work/1.out" || fail "the first ballot was not counted: $(cat "$work/1.out")"
sheet=$(sqlite3 "$db" "SELECT id FROM sheets")
[[ -n "$sheet" ]] || fail "no sheet recorded"

# The rescan: a new image, not refused, but held for review naming the first sheet.
rc=0; "$phieu" import "$db" "$work/rescan.png" > "$work/2.out" 2>&1 || rc=$?
[ "$rc" -eq 7 ] || fail "rescan import exited $rc, expected 7: $(cat "$work/2.out")"
grep -q "already in the session as sheet" "$work/2.out" && fail "the rescan was taken for the same file"
grep -q "possible duplicate of sheet $sheet" "$work/2.out" || fail "import does not name sheet $sheet: $(cat "$work/2.out")"
grep -q "review" "$work/2.out" || fail "the rescan was not held for review: $(cat "$work/2.out")"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM sheets')" -eq 2 ] || fail "the rescan was not stored"
rc=0; "$phieu" exceptions "$db" > "$work/exc.out" || rc=$?
grep -q "possible-duplicate" "$work/exc.out" || fail "no possible-duplicate exception: $(cat "$work/exc.out")"
# It names where the first sheet's paper is (batch 1, position 1), not an internal id.
grep "possible-duplicate" "$work/exc.out" | grep -q "the sheet at batch 1, position 1" ||
  fail "the exception does not name the first sheet's batch and position: $(cat "$work/exc.out")"
counted=$(sqlite3 "$db" "SELECT count(*) FROM sheets WHERE status = 0")
[ "$counted" -eq 1 ] || fail "$counted sheets counted after the rescan, expected 1"

# Another hand, the same choices: counted, no new exception.
# (import still exits 7 while the rescan's exception is open.)
rc=0; "$phieu" import "$db" "$first" > "$work/3a.out" 2>&1 || rc=$?
grep -q "': counted, form" "$work/3a.out" || fail "first hand not counted: $(cat "$work/3a.out")"
rc=0; "$phieu" import "$db" "$second" > "$work/3.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || fail "second hand: import exited $rc: $(cat "$work/3.out")"
grep -q "': counted, form" "$work/3.out" || fail "second hand not counted: $(cat "$work/3.out")"
grep -q "possible duplicate" "$work/3.out" && fail "second hand taken for a rescan: $(cat "$work/3.out")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM sheets WHERE status = 0")" -eq 3 ] ||
  fail "the two hands' ballots are not both counted"
echo "ok: rescan of sheet $sheet held as a possible duplicate; the same choices by another hand counted"
