#!/usr/bin/env bash
# Import of the committed sample ballots gives the tally their ground truth gives:
# samples/ballots/truth.jsonl says what is marked in every row. For every person of every
# form, each level's count, blank and overvote rows may fall short of the truth only by
# rows still pending (sent to a supervisor), never exceed it, and equal it exactly where
# nothing is pending. Ballots per form are the truth's ballots of that form.
set -euo pipefail
: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/phieu-import-samples-XXXXXX)
trap 'rm -rf "$work"' EXIT
samples="$PHIEU_SOURCE_DIR/samples/ballots"
forms=()
for f in "$PHIEU_SOURCE_DIR"/forms/*.form; do forms+=(--form "$f"); done
"$PHIEU_BIN" session new "$work/s.db" --council "HĐND huyện An Thạnh" --session-name "Kỳ họp" \
  --date 2026-11-28 --place "Hội trường" --delegates 60 "${forms[@]}" >/dev/null
rc=0
"$PHIEU_BIN" import "$work/s.db" "$samples" >"$work/import.out" 2>&1 || rc=$?
# 7: finished, some pages or rows await a supervisor (the samples hold hard cases).
[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || { cat "$work/import.out"; echo "FAIL: import exit $rc"; exit 1; }
"$PHIEU_BIN" tally "$work/s.db" --json >"$work/tally.json"
python3 - "$samples/truth.jsonl" "$work/tally.json" <<'PY'
import json, sys
from collections import defaultdict
truth = defaultdict(lambda: defaultdict(int))   # (form, row) -> key -> count
ballots = defaultdict(int)
for line in open(sys.argv[1], encoding="utf-8"):
    p = json.loads(line)
    # Ballots of a session form that are not test ballots; rejected pages of another
    # form, blank backs and test ballots count for no person.
    if not p.get("form") or p.get("test") or p["expect_status"] not in ("counted", "review"):
        continue
    ballots[p["form"]] += 1
    for r in p["rows"]:
        truth[(p["form"], r["row"])][r["truth"]] += 1
tally = json.load(open(sys.argv[2], encoding="utf-8"))
problems, checked, exact = [], 0, 0
for f in tally["forms"]:
    form = f["form"]
    # Pages whose form was not read (unreadable code) are pending, not of this form yet;
    # pages of this form awaiting the board (a test ballot to set aside) are pending too.
    if (f["ballots"] + tally["unknown_form_pending"] < ballots[form]
            or f["ballots"] - f["pending_ballots"] > ballots[form]):
        problems.append(f"{form}: {f['ballots']} ballots read, truth has {ballots[form]}")
    for p in f["persons"]:
        t = truth[(form, p["number"])]
        got = {l["key"]: l["count"] for l in p["levels"]}
        got["blank"], got["overvote"] = p["blank"], p["overvote"]
        for key, n in got.items():
            checked += 1
            want = t.get(key, 0)
            if n > want or want - n > p["pending"] + tally["unknown_form_pending"]:
                problems.append(f"{form} row {p['number']} {key}: tally {n}, truth {want}, "
                                f"pending {p['pending']}")
            elif p["pending"] == 0 and tally["unknown_form_pending"] == 0 and n != want:
                problems.append(f"{form} row {p['number']} {key}: tally {n} != truth {want}")
            exact += n == want
for x in problems:
    print("FAIL:", x)
print(f"import_samples: {checked} figures checked against the truth, {exact} exactly equal, "
      f"{len(problems)} wrong")
sys.exit(1 if problems else 0)
PY
