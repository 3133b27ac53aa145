#!/usr/bin/env bash
# phieu's own scanner backend (libsane-phieu.so.1) through the real libsane and the source
# module (`phieu devices --scan-test`): simplex and duplex batches, blank backs, every fault
# (jam, cover open, I/O error, unplug, short page, double feed, busy, empty feeder) at
# several pages, resolution scaling and INEXACT read-back, modes, the output tray. Each
# scan is its own process under `timeout` with a private SANE_CONFIG_DIR.
# The sheets are flat gray pages whose level tells which file was fed: file k is 10*k.
set -euo pipefail
phieu=${PHIEU_BIN:?PHIEU_BIN not set}
lib=${PHIEU_SANE_LIB_DIR:?PHIEU_SANE_LIB_DIR not set}
[ -f "$lib/libsane-phieu.so.1" ] || { echo "FAIL: $lib/libsane-phieu.so.1 not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo phieu > "$cfg/dll.conf"
export SANE_CONFIG_DIR="$cfg" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset PHIEU_SANE_FOLDER PHIEU_SANE_TRAY PHIEU_SANE_DUPLEX PHIEU_SANE_FAULTS LD_PRELOAD

# pages DIR N: N flat 200 x 280 PGM files (at 100 dpi: 50.8 x 71.1 mm), file k at level 10k.
pages() {
  mkdir -p "$1"
  for k in $(seq 1 "$2"); do
    { printf 'P5\n200 280\n255\n'; head -c 56000 /dev/zero | tr '\0' "\\$(printf '%03o' $((10 * k)))"; } \
      > "$1/$(printf 'sheet-%03d.pgm' "$k")"
  done
}
pages "$work/five" 5
pages "$work/six" 6
mkdir -p "$work/none"
# `crop yes`: the frame is the sheet alone (automatic size detection), so that a page's
# bytes are its sheet's; the full-width frame is tested on its own below.
conf() { printf '%s\n' "dpi 100" "crop yes" "$@" > "$cfg/phieu.conf"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
# scan [ARGS]: one scan-test process at 100 dpi; output in $out, exit status in $rc.
scan() {
  rc=0
  out=$(timeout 60 "$phieu" devices --scan-test phieu:0 --resolution 100 "$@" 2>"$work/err") || rc=$?
  [ "$rc" -ne 124 ] || fail "scan $* timed out"
}
expect() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }
# levels: the mean gray of each page, in order ("10 20 30").
levels() { awk '/^page /{for(i=1;i<NF;i++) if($i=="mean"){printf "%s%d", n++?" ":"", $(i+1)}} END{print ""}' <<<"$out"; }
# sides: sheet+side of each page ("1f 1b 2f").
sides() { awk '/^page /{printf "%s%s%s", n++?" ":"", $6, substr($4,1,1)} END{print ""}' <<<"$out"; }
faults() { awk '/^fault /{printf "%s%s", n++?" ":"", $2} END{print ""}' <<<"$out"; }
field() { awk -v k="$1" '/^page /{for(i=1;i<NF;i++) if($i==k){print $(i+1); exit}}' <<<"$out"; }

# Discovery with the private config: our device only.
list=$(timeout 30 "$phieu" devices)
expect "devices" "$(cut -f1 <<<"$list")" "phieu:0"

# A whole simplex batch in name order; pixels unchanged at the files' resolution.
conf "folder $work/five"
scan --source adf
expect "simplex exit" "$rc" 0
expect "simplex levels" "$(levels)" "10 20 30 40 50"
expect "simplex size" "$(field size)" 200x280
expect "simplex sheets" "$(sides)" "1f 2f 3f 4f 5f"
expect "bytes" "$(field announced)/$(field received)" 56000/56000
grep -q "source ADF Front" <<<"$out" || fail "source not matched to 'ADF Front': $out"

# Duplex folder: consecutive files are front and back.
conf "folder $work/six" "duplex yes"
scan --source duplex
expect "duplex levels" "$(levels)" "10 20 30 40 50 60"
expect "duplex sides" "$(sides)" "1f 1b 2f 2b 3f 3b"
# The same folder on one side only: the fronts.
scan --source adf
expect "fronts only" "$(levels)" "10 30 50"
# One-sided sheets scanned in duplex: every back is blank (white).
conf "folder $work/five"
scan --source duplex
expect "blank backs" "$(levels)" "10 255 20 255 30 255 40 255 50 255"

# Resolution: scaled from the files' 100 dpi; a value between steps is rounded by the
# device (INEXACT) and read back.
scan --source adf --resolution 200 --pages 1
expect "200 dpi size" "$(field size)" 400x560
expect "200 dpi level" "$(levels)" 10
scan --source adf --resolution 75 --pages 1
expect "75 dpi size" "$(field size)" 150x210
scan --source adf --resolution 310 --pages 1
expect "inexact read back" "$(awk '/^device/{print $4}' <<<"$out")" 300
expect "inexact size" "$(field size)" 600x840
# Modes: colour (RGB frames), 16-bit, line art (level 10..50 is black).
scan --source adf --mode color --pages 1
expect "color" "$(field format)/$(levels)" "1/10"
scan --source adf --depth 16 --pages 1
expect "16-bit" "$(field depth)/$(field announced)/$(levels)" "16/112000/10"
scan --source adf --mode lineart --pages 2
expect "lineart" "$(field depth)/$(field announced)/$(levels)" "1/7000/0 0"

# Without `crop`, the frame is the scanner's whole width, 216 mm (850 pixels at 100 dpi),
# with the sheet centred in it and white beside it, as a sheet-fed scanner delivers it
# whatever page-width says (an A4 frame cut the samples' offset corner marks off, issue 12);
# a sheet wider than that comes whole. Level 10 over 200 of 850 columns, 255 elsewhere: 197.
printf '%s\n' "dpi 100" "folder $work/five" > "$cfg/phieu.conf"
scan --source adf --pages 1
expect "full width" "$(field size)/$(levels)" "850x280/197"
scan --source adf --pages 1 --resolution 200
expect "full width at 200 dpi" "$(field size)/$(levels)" "1701x560/197"
mkdir -p "$work/wide"
{ printf 'P5\n900 280\n255\n'; head -c 252000 /dev/zero | tr '\0' '\050'; } > "$work/wide/w.pgm"
printf '%s\n' "dpi 100" "folder $work/wide" > "$cfg/phieu.conf"
scan --source adf --pages 1
expect "wider sheet whole" "$(field size)/$(levels)" "900x280/40"

# Faults at several pages: the faulted page is never delivered; with --continue the sheet
# is fed again (the operator put it back on top) and the batch completes without loss.
for spec in "jam 1 0" "jam 3 1000" "jam 5 55999" "cover-open 2 0" "cover-open 4 30000" \
  "io-error 1 100" "io-error 5 56000"; do
  set -- $spec
  conf "folder $work/five" "$spec"
  scan --source adf
  expect "$spec: exit" "$rc" 5
  want=$(seq -s' ' 10 10 $((10 * ($2 - 1))))
  expect "$spec: pages before" "$(levels)" "$want"
  kind=$1; [ "$kind" = io-error ] && kind=io
  expect "$spec: fault" "$(faults)" "$kind"
  grep -q "sheet $2 of the batch" "$work/err" || fail "$spec: message without the sheet: $(cat "$work/err")"
  grep -q "tờ thứ $2" "$work/err" || fail "$spec: no Vietnamese message: $(cat "$work/err")"
  scan --source adf --continue
  expect "$spec: continued" "$(levels)" "10 20 30 40 50"
  expect "$spec: continued sheets" "$(sides)" "1f 2f 3f 4f 5f"
done

# A fault on a back side: the whole sheet (front too) is fed again.
conf "folder $work/six" "duplex yes" "jam 4 2000"
scan --source duplex --continue
expect "duplex jam sides" "$(sides)" "1f 1b 2f 2f 2b 3f 3b"
expect "duplex jam levels" "$(levels)" "10 20 30 30 40 50 60"
expect "duplex jam fault" "$(faults)" "jam"

# A short page (fewer bytes than announced, then EOF) is an error, never a page.
conf "folder $work/five" "short 2 1000"
scan --source adf
expect "short exit" "$rc" 5
expect "short pages" "$(levels)" "10"
expect "short fault" "$(faults)" "short-page"
grep -q "1000 of 56000 bytes" "$work/err" || fail "short page message: $(cat "$work/err")"

# Unplugged: every later call fails; the batch stops (no endless retry).
conf "folder $work/five" "unplug 2 100"
scan --source adf --continue
expect "unplug exit" "$rc" 5
expect "unplug pages" "$(levels)" "10"

# Double feed of sheet 2: one page twice as long (sheets 2 and 3 stacked), then sheet 4.
conf "folder $work/five" "double-feed 2"
scan --source adf
expect "double feed levels" "$(levels)" "10 25 40 50"
expect "double feed size" "$(awk '/^page 2 /{print $8}' <<<"$out")" 200x560
len=$(awk '/^page 2 /{for(i=1;i<NF;i++) if($i=="length") print $(i+1)}' <<<"$out")
expect "double feed length" "$len" 142.2

# Busy device and empty feeder: a clear refusal, exit 5.
conf "folder $work/five" "busy yes"
scan --source adf
expect "busy exit" "$rc" 5
grep -q "busy" "$work/err" && grep -q "Máy quét đang bận" "$work/err" || fail "busy message: $(cat "$work/err")"
conf "folder $work/none"
scan --source adf
expect "empty exit" "$rc" 5
expect "empty fault" "$(faults)" "empty"
grep -q "Khay nạp giấy trống" "$work/err" || fail "empty message: $(cat "$work/err")"
conf "folder $work/five" "empty yes"
scan --source adf
expect "empty (config) fault" "$(faults)" "empty"

# The output tray: sheets scanned whole leave the folder; a jammed sheet stays.
cp -r "$work/five" "$work/hopper"
mkdir -p "$work/tray"
conf "folder $work/hopper" "tray $work/tray" "jam 3 10"
scan --source adf
expect "tray exit" "$rc" 5
expect "tray holds" "$(ls "$work/tray" | tr '\n' ' ')" "sheet-001.pgm sheet-002.pgm "
expect "hopper holds" "$(ls "$work/hopper" | tr '\n' ' ')" "sheet-003.pgm sheet-004.pgm sheet-005.pgm "
# The next run (the jam cleared) feeds what is left.
conf "folder $work/hopper" "tray $work/tray"
scan --source adf
expect "rest of the batch" "$(levels)" "30 40 50"
expect "hopper empty" "$(ls "$work/hopper" | wc -l)" 0

# A multi-page TIFF (a batch file from another scanner) is one side per page, in order;
# it goes to the tray only after its last page. multi.tif: pages at 20, 30, 40 between
# two single files (10, 50); an uncompressed 8-bit gray TIFF written here byte by byte.
mkdir -p "$work/multi" "$work/multi-tray"
cp "$work/five/sheet-001.pgm" "$work/multi/a.pgm"
cp "$work/five/sheet-005.pgm" "$work/multi/c.pgm"
python3 - "$work/multi/b.tif" <<'PY'
import struct, sys
w, h, levels = 200, 280, (20, 30, 40)
out = bytearray(b"II*\0" + struct.pack("<I", 0))
link = 4  # where the offset of the next directory goes
for level in levels:
    strip = len(out)
    out += bytes([level]) * (w * h)
    if len(out) % 2:
        out += b"\0"
    entries = [(256, 3, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, strip), (277, 3, 1), (278, 3, h), (279, 4, w * h)]
    ifd = len(out)
    struct.pack_into("<I", out, link, ifd)
    out += struct.pack("<H", len(entries))
    for tag, typ, val in entries:
        out += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", val, 0) if typ == 3 else struct.pack("<I", val))
    link = len(out)
    out += struct.pack("<I", 0)
open(sys.argv[1], "wb").write(out)
PY
conf "folder $work/multi" "tray $work/multi-tray" "jam 3 10"
scan --source adf
expect "multi-page before the jam" "$(levels)" "10 20"
expect "multi-page file stays until its last page" "$(ls "$work/multi" | tr '\n' ' ')" "b.tif c.pgm "
conf "folder $work/multi" "tray $work/multi-tray"
scan --source adf
expect "multi-page after the jam" "$(levels)" "30 40 50"
expect "multi-page in the tray" "$(ls "$work/multi-tray" | tr '\n' ' ')" "a.pgm b.tif c.pgm "
mv "$work/multi-tray"/* "$work/multi/"
conf "folder $work/multi" "duplex yes"
scan --source duplex
expect "multi-page duplex" "$(sides)/$(levels)" "1f 1b 2f 2b 3f 3b/10 20 30 40 50 255"

echo "sane_phieu_backend: ok"
