#!/usr/bin/env bash
# json_contracts.sh - the JSON that programs read from phieu keeps its keys: `form layout
# --json` (docs/forms.md), `read --json` (docs/phieu.1), `tally --json` (docs/session.md)
# and a report's results.json (docs/results-schema.md). Every object of each document must
# have exactly one of the key lists below, in that order, and every list must be met, so a
# key added, dropped, renamed or moved fails here: change the docs and this list together.
# Text with quotes, backslashes and control bytes (a person's name, a file name) must come
# back exactly when the JSON is parsed (one escaper writes them all: phieu_buf_json_string).
set -euo pipefail
: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}"
command -v python3 >/dev/null || { echo "json_contracts: python3 is missing"; exit 77; }
phieu=$PHIEU_BIN
src=$PHIEU_SOURCE_DIR
work=$(mktemp -d /tmp/phieu-json-contracts-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

forms=()
for f in "$src"/forms/*.form; do
    forms+=(--form "$f")
    "$phieu" form layout "$f" --json >"layout-$(basename "$f" .form).json" ||
        fail "form layout --json $f"
done
# Every sample, a missing file (its line says unreadable-file) and a file whose name
# needs escaping.
odd=$'odd "name" \\ \there.png'
cp "$src/samples/ballots/p00001.png" "$odd"
rc=0
"$phieu" read --json "${forms[@]}" "$src"/samples/ballots/*.png "$src"/samples/ballots/*.tif \
    no-such.png "$odd" >read.jsonl 2>/dev/null || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || [ "$rc" -eq 7 ] || fail "read --json exit $rc"
# The district council's session: its two forms (the province form is another council's).
"$phieu" session new s.db --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" \
    --delegates 60 --form "$src/forms/district-rating.form" \
    --form "$src/forms/confidence-vote.form" >/dev/null
rc=0
"$phieu" import s.db "$src/samples/ballots" >import.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || { cat import.out; fail "import exit $rc"; }
"$phieu" tally s.db --json >tally.json
"$phieu" key new board.key >/dev/null
"$phieu" report s.db --out draft --key board.key --draft >/dev/null
cp draft/results.json results.json

# A form whose person's name and post hold quotes and backslashes (the form's own rules
# keep control bytes out; the file name above carries a tab).
sed -e '0,/^  name: .*/s//  name: Bùi "Long" \\ Đức/' \
    -e '0,/^  post: .*/s//  post: Ủy viên "C:\\\\x"/' "$src/forms/confidence-vote.form" >odd.form
"$phieu" form layout odd.form --json >layout-odd.json || fail "form layout --json odd.form"

cat >shapes.txt <<'SHAPES'
tally . rules base delegates provisional unknown_form_pending unknown_form_invalid forms
tally .forms[] form kind counts base base_estimated ballots valid_ballots invalid_ballots pending_ballots board_read_ballots persons
tally .forms[].persons[] number name post valid not_valid blank overvote invalid_ballot decided_invalid pending levels band band_vi band_en
tally .forms[].persons[].levels[] key label count percent_hundredths percent
results . format draft test council session date place delegates board rule_set thresholds exceptions ballots_exported unknown_form provisional forms audit_log_head
results .board head secretary members
results .rule_set name title percent_base
results .thresholds marked marginal ink
results .exceptions total decided open
results .unknown_form pending invalid
results .forms[] id kind title file fingerprint counts ballots percent_base percent_base_estimated persons
results .forms[].counts entered present issued collected spoiled
results .forms[].ballots read valid invalid pending
results .forms[].persons[] stt name post valid not_valid not_valid_detail pending levels band band_text
results .forms[].persons[].not_valid_detail blank overvote invalid_ballot decided_invalid
results .forms[].persons[].levels[] key label count percent_hundredths percent
layout . form fingerprint kind page choices fiducials rows seal code table header_left header_right title instruction test_band
layout .page width_mm height_mm
layout .choices[] key label
layout .fiducials[] x_mm y_mm w_mm h_mm corner
layout .fiducials[] x_mm y_mm w_mm h_mm corner hole
layout .fiducials[].hole x_mm y_mm w_mm h_mm
layout .rows[] row name post band boxes
layout .rows[].band x_mm y_mm w_mm h_mm
layout .rows[].boxes[] x_mm y_mm w_mm h_mm choice
layout .seal x_mm y_mm w_mm h_mm
layout .code start end cells text bits test_bits
layout .code.start x_mm y_mm w_mm h_mm
layout .code.end x_mm y_mm w_mm h_mm
layout .code.cells[] x_mm y_mm w_mm h_mm
layout .code.text x_mm y_mm w_mm h_mm
layout .table x_mm y_mm w_mm h_mm header_row_h_mm column_x_mm box_line_mm font_pt
layout .header_left x_mm y_mm w_mm h_mm
layout .header_right x_mm y_mm w_mm h_mm
layout .title x_mm y_mm w_mm h_mm
layout .instruction x_mm y_mm w_mm h_mm
layout .test_band x_mm y_mm w_mm h_mm
read . file page status form test_ballot upside_down reasons notes rows thresholds
read . file page status form reasons notes rows thresholds
read .rows[] row decision boxes
read .rows[].boxes[] choice score coverage darkness state
read .thresholds marked marginal ink
read .notes[] code row text
SHAPES

python3 - shapes.txt <<'PY'
import json, sys
want = {}
for line in open(sys.argv[1], encoding="utf-8"):
    doc, path, *keys = line.split()
    want.setdefault(doc, {}).setdefault(path, []).append(keys)

def walk(v, path, seen, problems, doc):
    if isinstance(v, dict):
        keys = list(v.keys())
        allowed = want[doc].get(path or ".")
        if allowed is None:
            problems.append(f"{doc}: an object at {path} that the contract does not have")
        elif keys not in allowed:
            problems.append(f"{doc} {path or '.'}: keys {keys}, the contract says one of {allowed}")
        else:
            seen.add((path or ".", tuple(keys)))
        for k, x in v.items():
            walk(x, path + "." + k, seen, problems, doc)
    elif isinstance(v, list):
        for x in v:
            walk(x, path + "[]", seen, problems, doc)

docs = {
    "tally": [json.load(open("tally.json", encoding="utf-8"))],
    "results": [json.load(open("results.json", encoding="utf-8"))],
    "layout": [json.load(open(f"layout-{f}.json", encoding="utf-8"))
               for f in ("confidence-vote", "district-rating", "province-rating", "odd")],
    "read": [json.loads(l) for l in open("read.jsonl", encoding="utf-8")],
}
problems = []
for doc, values in docs.items():
    seen = set()
    for v in values:
        walk(v, "", seen, problems, doc)
    for path, lists in want[doc].items():
        for keys in lists:
            if (path, tuple(keys)) not in seen:
                problems.append(f"{doc} {path}: no object with keys {keys}")

# Escaped text comes back as it went in.
row = docs["layout"][3]["rows"][0]
if row["name"] != 'Bùi "Long" \\ Đức' or row["post"] != 'Ủy viên "C:\\\\x"':
    problems.append(f"layout: row 1 read back as {row['name']!r}, {row['post']!r}")
files = [r["file"] for r in docs["read"]]
if 'odd "name" \\ \there.png' not in files:
    problems.append(f"read: the file name with a quote and a backslash is not in {files[-2:]}")
if not any(r["file"] == "no-such.png" and r["reasons"] == ["unreadable-file"]
           for r in docs["read"]):
    problems.append("read: no unreadable-file line for no-such.png")
if len(docs["read"]) < 20:
    problems.append(f"read: {len(docs['read'])} lines for the samples")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
echo "json_contracts: ok"
