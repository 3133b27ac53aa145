#!/usr/bin/env bash
# SANE's own `test` backend through the real libsane and phieu's source module
# (`phieu devices --scan-test`): gray/colour, depth 1/8/16, three-pass, padded lines
# (ppl-loss), hand-scanner (lines = -1), the 10-pages-then-empty feeder, FIXED options and
# SANE_INFO_INEXACT; and `phieu scan` of colour pages, archived as RGB. Each scan is its own
# process under `timeout` (the test backend keeps state per process and can hang in
# sane_cancel), with a private SANE_CONFIG_DIR: the host's /etc/sane.d never leaks in. Faults are injected with phieu's backend instead
# (sane_phieu_backend.sh, sane_scan.sh), because of that hang (docs/scanning.md).
set -euo pipefail
phieu=${PHIEU_BIN:?PHIEU_BIN not set}
src=${PHIEU_SOURCE_DIR:?PHIEU_SOURCE_DIR not set}
build=${PHIEU_BUILD_DIR:?PHIEU_BUILD_DIR not set}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f /etc/sane.d/test.conf ] || { echo "SKIPPED: /etc/sane.d/test.conf missing (libsane-common; scripts/install-deps test)"; exit 77; }

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo test > "$cfg/dll.conf"
cp /etc/sane.d/test.conf "$cfg/"
export SANE_CONFIG_DIR="$cfg"
unset LD_PRELOAD
# Under AddressSanitizer: the test backend's reader thread leaks its 64 KiB buffer
# (docs/scanning.md, "SANE facts"), and libsane dlcloses the backend at sane_exit, so the report shows
# only "<unknown module>" and no suppression can name it. Leak checking stays on for our
# own backend and `phieu scan` (sane_phieu_backend.sh, sane_scan.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

fail() { echo "FAIL: $*" >&2; exit 1; }
# scan ARGS...: one scan-test process; its output in $out. The test backend can hang in
# its own sane_cancel when its reader thread is cancelled inside malloc (docs/scanning.md:
# libsane's sanei_thread, not phieu; once in a CI run under load). A scan that times out
# is run once more; a second hang, or any other failure, fails the test.
scan() {
  local rc=0
  out=$(timeout 30 "$phieu" devices --scan-test test:0 "$@") || rc=$?
  if [ "$rc" -eq 124 ]; then
    echo "note: scan $* hung in the test backend; running it once more" >&2
    rc=0
    out=$(timeout 30 "$phieu" devices --scan-test test:0 "$@") || rc=$?
  fi
  [ "$rc" -eq 0 ] || fail "scan $* exited $rc"
}
# field NAME [LINE]: the word after NAME on the first "page" line (or LINE).
field() { local line=${2:-$(grep -m1 '^page ' <<<"$out")}; awk -v k="$1" '{for(i=1;i<NF;i++) if($i==k){print $(i+1); exit}}' <<<"$line"; }
expect() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; }

# Listing: both virtual devices, and only them (private config).
list=$(timeout 30 "$phieu" devices)
expect "devices" "$(cut -f1 <<<"$list" | tr '\n' ' ')" "test:0 test:1 "
opts=$(timeout 30 "$phieu" devices -v --device test:0)
grep -Eq '^ +resolution +fixed ' <<<"$opts" || fail "resolution is not listed as FIXED: $opts"

# Gray 8 at 100 dpi: 80 x 100 mm, the test backend's default, is 314 x 393 pixels; solid
# black.
# The FIXED resolution option got 100 dpi, not 100/65536 (the int written into a FIXED).
scan --resolution 100 --pages 1
expect "resolution read back" "$(awk '/^device/{print $4}' <<<"$out")" 100
expect "gray size" "$(field size)" 314x393
expect "gray bytes" "$(field announced)/$(field received)" 123402/123402
expect "solid black" "$(field mean)" 0.00
expect "gray format" "$(field format)/$(field depth)" 0/8

# Depth 1, 8 and 16 of the same grid read to the same picture (1 = black, 16-bit host order).
scan --resolution 100 --pages 1 --set test-picture=Grid
g8=$(field sha256); m8=$(field mean)
[ "$m8" != 0.00 ] && [ "$m8" != 255.00 ] || fail "grid is not a grid (mean $m8)"
scan --resolution 100 --pages 1 --set test-picture=Grid --depth 16
expect "16-bit bytes" "$(field announced)" 246804
expect "16-bit = 8-bit" "$(field sha256)" "$g8"
scan --resolution 100 --pages 1 --set test-picture=Grid --depth 1
expect "1-bit bytes" "$(field announced)" 15720 # ceil(314/8) * 393
expect "1-bit depth" "$(field depth)" 1
expect "1-bit = 8-bit" "$(field sha256)" "$g8"
# Line art on a backend without a Lineart mode: Gray at depth 1.
scan --resolution 100 --pages 1 --set test-picture=Grid --mode lineart
expect "lineart depth" "$(field depth)" 1
expect "lineart = 8-bit" "$(field sha256)" "$g8"

# Colour: one RGB frame, and three-pass RED/GREEN/BLUE frames give the same page.
scan --resolution 100 --pages 1 --mode color --set "test-picture=Color pattern"
expect "rgb format" "$(field format)" 1
expect "rgb bytes" "$(field announced)" 370206 # 3 * 314 * 393
rgb=$(field sha256)
m=$(field mean)
[ "$m" != 0.00 ] && [ "$m" != 255.00 ] || fail "colour pattern is flat (mean $m)"
scan --resolution 100 --pages 1 --mode color --set "test-picture=Color pattern" --set three-pass=yes
expect "three-pass frames" "$(field frames)/$(field format)" 3/2
expect "three-pass = one pass" "$(field sha256)" "$rgb"
scan --resolution 100 --pages 1 --mode color --set "test-picture=Color pattern" --set three-pass=yes \
  --set three-pass-order=GBR
expect "three-pass GBR = one pass" "$(field sha256)" "$rgb"
scan --resolution 100 --pages 1 --mode color --set "test-picture=Color pattern" --depth 16
expect "rgb16 bytes" "$(field announced)" 740412

# Padded lines: ppl-loss 7 announces 307 pixels in 314-byte lines. With bytes_per_line as
# the stride the page is the first 307 columns of the unpadded one.
scan --resolution 100 --pages 1 --set test-picture=Grid --region 307x393
full_left=$(awk '/^region/{print $6}' <<<"$out")
scan --resolution 100 --pages 1 --set test-picture=Grid --set ppl-loss=7
expect "padded size" "$(field size)" 307x393
expect "padded bytes" "$(field announced)" 123402
expect "padded = crop of unpadded" "$(field sha256)" "$full_left"
scan --resolution 100 --pages 1 --set test-picture=Grid --set ppl-loss=7 --depth 16
expect "padded 16-bit = crop" "$(field sha256)" "$full_left"

# Hand-scanner: lines = -1, read until EOF; the page is whole lines, nothing lost.
scan --resolution 100 --pages 1 --set test-picture=Grid --set hand-scanner=yes
expect "hand-scanner flag" "$(field hand)" 1
w=${out#*size }; w=${w%%x*}
h=$(field size); h=${h#*x}
[ "$h" -gt 0 ] || fail "hand-scanner page has no lines"
expect "hand-scanner bytes" "$(field received)" "$((w * h))"

# Parameters are taken after sane_start: fuzzy-parameters lies before it.
scan --resolution 100 --pages 1 --set fuzzy-parameters=yes
expect "fuzzy size" "$(field size)" 314x393

# The feeder: 10 pages, then NO_DOCS ends the batch normally (exit 0).
scan --resolution 50 --source adf
expect "adf source" "$(awk '/^device/{print $8, $9, $10}' <<<"$out")" "Automatic Document Feeder"
expect "adf pages" "$(grep -c '^page ' <<<"$out")" 10
expect "adf tally" "$(tail -n1 <<<"$out")" "pages 10"
expect "adf sheets" "$(field sheet "$(grep '^page 10 ' <<<"$out")")" 10
# No duplex on this backend: refused with the sources it has.
if err=$(timeout 30 "$phieu" devices --scan-test test:0 --source duplex 2>&1); then
  fail "duplex accepted on the test backend"
fi
grep -q "cannot scan both sides" <<<"$err" || fail "duplex refusal: $err"

# `phieu scan` keeps a colour page in colour (issue 12): the intake gets the RGB, its worker
# archives it as an RGB PNG. One pass and three-pass (any order) give the same archive file,
# at 8 and at 16 bits, and padded lines give the first columns of the unpadded page. The
# feeder's 10 pages are the same picture: one sheet, 9 duplicates (exit 7: a test picture is
# no ballot). A scan that hangs in the test backend is run once more (above).
new_session() {
  rm -f "$1" && rm -rf "$1.images"
  "$phieu" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" \
    --delegates 40 --two-person off --form "$src/forms/district-rating.form" >/dev/null
}
# scan_session NAME ARGS...: a colour scan into $work/NAME.db; its one sheet's archive file
# in $archived.
scan_session() {
  local db="$work/$1.db" rc=0 try
  shift
  for try in 1 2; do
    new_session "$db"
    rc=0
    timeout 60 "$phieu" scan "$db" --device test:0 --mode color --resolution 50 \
      --set "test-picture=Color pattern" "$@" </dev/null >"$work/scan.out" 2>&1 || rc=$?
    [ "$rc" -eq 124 ] || break
    echo "note: phieu scan $* hung in the test backend (try $try)" >&2
  done
  [ "$rc" -eq 7 ] || fail "phieu scan $* exited $rc: $(cat "$work/scan.out")"
  grep -q "1 sheets recorded, 9 already in the session" "$work/scan.out" ||
    fail "phieu scan $*: $(cat "$work/scan.out")"
  archived=$(ls "$db.images"/*.png)
}
scan_session one
one=$archived
expect "colour archive" "$("$build/imgtool" rgb "$one" | cut -d' ' -f1)" rgb
scan_session three --set three-pass=yes --set three-pass-order=GBR
expect "three-pass archive = one pass" "$(basename "$archived")" "$(basename "$one")"
scan_session one16 --set depth=16
one16=$archived
scan_session three16 --set depth=16 --set three-pass=yes
expect "16-bit three-pass archive = one pass" "$(basename "$archived")" "$(basename "$one16")"
scan_session padded --set ppl-loss=7
read -r _ cols _ < <("$build/imgtool" rgb "$archived")
[ "$cols" -lt "$("$build/imgtool" rgb "$one" | cut -d' ' -f2)" ] || fail "padded page is not narrower"
expect "padded archive = crop" "$("$build/imgtool" rgb "$archived" | cut -d' ' -f5)" \
  "$("$build/imgtool" rgb "$one" "$cols" | cut -d' ' -f5)"

# SANE_INFO_INEXACT: with a resolution step of 25 dpi, 110 is rounded and read back.
cfg2="$work/sane-quant.d"
mkdir -p "$cfg2/dll.d"
echo test > "$cfg2/dll.conf"
sed -e 's/^resolution_quant.*/resolution_quant 25.0/' -e 's/^resolution_min.*/resolution_min 25.0/' /etc/sane.d/test.conf > "$cfg2/test.conf"
out=$(SANE_CONFIG_DIR="$cfg2" timeout 60 "$phieu" devices --scan-test test:0 --resolution 110 --pages 1)
res=$(awk '/^device/{print $4}' <<<"$out")
[ "$res" = 100 ] || [ "$res" = 125 ] || fail "inexact resolution read back as $res"
expect "inexact page dpi" "$(field dpi)" "$res"

echo "sane_test_backend: ok"
