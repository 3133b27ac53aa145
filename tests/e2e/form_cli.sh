#!/usr/bin/env bash
# `phieu form check|layout|print` as a user runs them: exit codes, the file:line:column
# error, the layout JSON contract other tools rely on, and the printed PDF and raster.
set -euo pipefail
: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
forms="$PHIEU_SOURCE_DIR/forms"
fail() { echo "FAIL: $*" >&2; exit 1; }

# A good form checks; its summary names the form and the fingerprint.
out=$("$PHIEU_BIN" form check "$forms/district-rating.form")
grep -q "district-rating" <<<"$out" || fail "check summary lacks the form id: $out"

# A broken form: exit 3 and an error that names file:line:column.
sed 's/^kind: rating/kynd: rating/' "$forms/district-rating.form" > "$tmp/bad.form"
line=$(grep -n '^kynd:' "$tmp/bad.form" | cut -d: -f1)
set +e
err=$("$PHIEU_BIN" form check "$tmp/bad.form" 2>&1 >/dev/null)
rc=$?
set -e
[ "$rc" = 3 ] || fail "broken form exit code $rc, expected 3"
grep -q "bad.form:$line:1:" <<<"$err" || fail "error does not name bad.form:$line:1: $err"

# No form at all: /dev/null, a folder and an empty file are invalid input (exit 3), with
# the file named.
: > "$tmp/empty.form"
for nothing in /dev/null "$tmp" "$tmp/empty.form"; do
    set +e
    err=$("$PHIEU_BIN" form check "$nothing" 2>&1 >/dev/null)
    rc=$?
    set -e
    [ "$rc" = 3 ] || fail "form check $nothing: exit code $rc, expected 3 ($err)"
    grep -qF "$nothing" <<<"$err" || fail "form check $nothing: the error does not name it: $err"
done

# The layout JSON keeps the contract's keys and geometry.
"$PHIEU_BIN" form layout "$forms/district-rating.form" --json > "$tmp/layout.json"
python3 - "$tmp/layout.json" "$forms/district-rating.form" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("form", "fingerprint", "kind", "page", "choices", "fiducials", "rows"):
    assert k in j, k
assert j["form"] == "district-rating" and j["kind"] == "rating"
assert j["page"] == {"width_mm": 210, "height_mm": 297}, j["page"]
assert [c["key"] for c in j["choices"]] == ["high", "trust", "low"]
assert [c["label"] for c in j["choices"]] == ["Tín nhiệm cao", "Tín nhiệm", "Tín nhiệm thấp"]
assert len(j["fiducials"]) == 4
lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
first_row = next(i for i, l in enumerate(lines) if l.strip().startswith("row:"))
names = [l.split(":", 1)[1].strip() for l in lines[first_row:] if l.strip().startswith("name:")]
assert [r["name"] for r in j["rows"]] == names, "row names differ from the form file"
for r in j["rows"]:
    assert [b["choice"] for b in r["boxes"]] == ["high", "trust", "low"]
    for b in r["boxes"]:
        assert b["w_mm"] >= 6 and b["h_mm"] >= 6
        assert 0 < b["x_mm"] and b["x_mm"] + b["w_mm"] < 210
        assert 0 < b["y_mm"] and b["y_mm"] + b["h_mm"] < 297
assert len(j["fingerprint"]) == 64
PY

# Print: a PDF with one page per copy and the Vietnamese names as text.
"$PHIEU_BIN" form print "$forms/district-rating.form" -o "$tmp/b.pdf" --copies 3
pages=$(pdfinfo "$tmp/b.pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" = 3 ] || fail "--copies 3 gave $pages pages"
pdftotext -f 1 -l 1 "$tmp/b.pdf" "$tmp/b.txt"
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"][0]["name"])' "$tmp/layout.json")
grep -qF "$first" "$tmp/b.txt" || fail "pdftotext lacks '$first'"

# A raster at 200 dpi is A4 at 200 dpi.
"$PHIEU_BIN" form print "$forms/confidence-vote.form" --format png --dpi 200 -o "$tmp/c.png"
python3 - "$tmp/c.png" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", d[16:24])
assert abs(w - 1654) <= 1 and abs(h - 2339) <= 1, (w, h)
PY

# Out-of-range dpi is a usage error, not a crash.
set +e
"$PHIEU_BIN" form print "$forms/confidence-vote.form" --format png --dpi 5000 -o "$tmp/x.png" 2>/dev/null
rc=$?
set -e
[ "$rc" = 2 ] || fail "--dpi 5000 exit code $rc, expected 2"
echo "form_cli: all checks passed"
