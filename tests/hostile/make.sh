#!/usr/bin/env bash
# tests/hostile/make.sh OUT_DIR - writes the hostile and broken inputs that
# tests/e2e/hostile_input.sh feeds to phieu (catalogued in docs/reliability.md). They are
# generated, not committed, so each is small to describe and exactly what its name says.
# Needs PHIEU_BIN, PHIEU_SOURCE_DIR, PHIEU_BUILD_DIR (the tests' imgtool) and python3
# (standard library only).
set -euo pipefail
phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
imgtool=${PHIEU_BUILD_DIR:?}/imgtool
out=${1:?usage: make.sh OUT_DIR}
mkdir -p "$out"
quiet() { "$@" >/dev/null 2>&1; }

# A real ballot to damage: a blank district-rating ballot at 150 dpi, PNG and TIFF.
quiet "$phieu" form print "$src/forms/district-rating.form" --format png --dpi 150 -o "$out/good.png"
quiet "$phieu" form print "$src/forms/district-rating.form" --format tiff --dpi 150 -o "$out/good.tif"
size=$(stat -c %s "$out/good.png")
head -c $((size / 2)) "$out/good.png" > "$out/truncated.png"
head -c 300 "$out/good.tif" > "$out/truncated.tif"
: > "$out/empty.png"

python3 - "$out" <<'PY'
import struct, sys, zlib, os
out = sys.argv[1]
good = open(os.path.join(out, "good.png"), "rb").read()

# corrupt.png: the signature and IHDR intact, bytes inside the image data flipped (the
# chunk CRC no longer matches).
b = bytearray(good)
idat = b.find(b"IDAT")
for i in range(idat + 40, idat + 4000, 7):
    b[i] ^= 0x5A
open(os.path.join(out, "corrupt.png"), "wb").write(b)

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

def png(w, h, depth, color, rows):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

# zero-width.png: a well-formed file whose header says 0 x 100 pixels.
open(os.path.join(out, "zero-width.png"), "wb").write(png(0, 100, 8, 0, b""))
# huge.png: a header claiming 100000 x 100000 gray pixels (10 GB), with one row of data.
open(os.path.join(out, "huge.png"), "wb").write(png(100000, 100000, 8, 0, b"\0" + b"\xff" * 100000))

def tiff(w, h, bps, data, spp=1, extra=()):
    # Little-endian baseline TIFF, one strip, gray (min-is-black = 1).
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, bps), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, spp), (278, 4, 1, h),
               (279, 4, 1, len(data))] + list(extra)
    entries.sort()
    ifd_off = 8
    data_off = ifd_off + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, typ, cnt, val in entries:
        if tag == 273:
            val = data_off
        if typ == 3:
            ifd += struct.pack("<HHIHH", tag, typ, cnt, val, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, cnt, val)
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", ifd_off) + ifd + data

# huge.tif: claims 100000 x 100000 pixels with 100 bytes of data.
open(os.path.join(out, "huge.tif"), "wb").write(tiff(100000, 100000, 8, b"\x80" * 100))
# zero-height.tif: 100 x 0 pixels.
open(os.path.join(out, "zero-height.tif"), "wb").write(tiff(100, 0, 8, b""))
# odd-depth.tif: 5 bits per sample, which no scanner writes.
open(os.path.join(out, "odd-depth.tif"), "wb").write(tiff(64, 64, 5, b"\x55" * (64 * 64 * 5 // 8)))
# depth2-noise.png: a valid 2-bit gray PNG of noise, 200 x 280 (a depth no scanner
# writes, and no ballot).
import random
rnd = random.Random(3)
rows = b"".join(b"\0" + bytes(rnd.randrange(256) for _ in range(50)) for _ in range(280))
open(os.path.join(out, "depth2-noise.png"), "wb").write(png(200, 280, 2, 0, rows))
# corrupt.tif: a valid header whose first directory points past the end of the file.
open(os.path.join(out, "corrupt.tif"), "wb").write(b"II*\0" + struct.pack("<I", 1 << 30) + b"\0" * 64)
PY

# Valid but unusual encodings of the good ballot: 16-bit gray, 4-bit gray, 2-bit gray.
"$imgtool" depth "$out/good.png" "$out/depth16.png" 16
"$imgtool" depth "$out/good.png" "$out/depth4.png" 4
"$imgtool" depth "$out/good.png" "$out/depth16.tif" 16

# A PDF given a TIFF's name.
quiet "$phieu" form print "$src/forms/district-rating.form" -o "$out/ballot.pdf"
mv "$out/ballot.pdf" "$out/pdf-renamed.tif"

# A photograph that is no ballot: broad shading with grain, A4 at 150 dpi.
"$imgtool" noise "$out/photo.png" 1240 1754 7

# A ballot of a form the session does not know (province-rating).
quiet "$phieu" form print "$src/forms/province-rating.form" --format png --dpi 150 -o "$out/other-form.png"
# The good ballot cut in half (its lower half lost), and printed at 90 % on A4.
read -r w h < <("$imgtool" size "$out/good.png")
"$imgtool" crop "$out/good.png" "$out/half.png" 0 0 "$w" $((h / 2))
"$imgtool" scale "$out/good.png" "$out/scaled90.png" 90

# Forms: invalid UTF-8, and 10,000 rows.
python3 - "$out" "$src/forms/district-rating.form" <<'PY'
import sys, os
out, form = sys.argv[1], sys.argv[2]
text = open(form, "rb").read()
i = text.find(b"name:")
bad = text[:i + 6] + b"\xc3\x28\xff" + text[i + 6:]
open(os.path.join(out, "bad-utf8.form"), "wb").write(bad)
head = text[:text.find(b"row:")]
rows = b"".join(b"row:\n  name: Ng\xc6\xb0\xe1\xbb\x9di s\xe1\xbb\x91 %d\n  post: \xe1\xbb\xa6y vi\xc3\xaan\n" % k
                for k in range(10000))
open(os.path.join(out, "rows-10000.form"), "wb").write(head + rows)
PY
echo "hostile inputs written to $out"
