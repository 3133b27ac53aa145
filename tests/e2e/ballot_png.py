#!/usr/bin/env python3
"""ballot_png.py - a printed ballot marked by hand, for the end-to-end tests: reads the blank
page (`phieu form print --format png`) and its layout (`phieu form layout --json`), draws an X
in the boxes named, optionally whites out the form code strip (as if covered by a label),
and writes a gray PNG. Not a test by itself.

usage: ballot_png.py BLANK.png LAYOUT.json OUT.png [--cover-code] [--marks ROW:CHOICE,...]

Our PNG writer uses filter 0 on every row (src/image/png_write.c), so a few lines of zlib
read and write it.
"""
import argparse, json, struct, zlib

def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (0, 2), "8-bit gray or RGB expected"
    ch = 1 if ctype == 0 else 3
    raw = zlib.decompress(idat)
    stride = w * ch + 1
    gray = bytearray(w * h)
    for y in range(h):
        row = raw[y * stride:(y + 1) * stride]
        assert row[0] == 0, "filter 0 expected"
        if ch == 1:
            gray[y * w:(y + 1) * w] = row[1:]
        else:
            gray[y * w:(y + 1) * w] = bytes(
                (row[1 + 3 * x] * 299 + row[2 + 3 * x] * 587 + row[3 + 3 * x] * 114) // 1000
                for x in range(w))
    return w, h, gray

def write_png(path, w, h, gray):
    raw = b"".join(b"\x00" + bytes(gray[y * w:(y + 1) * w]) for y in range(h))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))

args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
args.add_argument("blank")
args.add_argument("layout")
args.add_argument("out")
args.add_argument("--cover-code", action="store_true", help="white out the form code strip")
args.add_argument("--marks", default="", help="ROW:CHOICE,... (0-based) boxes to mark with an X")
a = args.parse_args()
w, h, gray = read_png(a.blank)
lay = json.load(open(a.layout))
px = w / lay["page"]["width_mm"]

def fill(x0, y0, x1, y1, level):
    for y in range(max(0, int(y0 * px)), min(h, int(y1 * px))):
        for x in range(max(0, int(x0 * px)), min(w, int(x1 * px))):
            gray[y * w + x] = level

if a.cover_code:
    code = lay["code"]
    s, e = code["start"], code["end"]
    fill(s["x_mm"] - 1, s["y_mm"] - 1, e["x_mm"] + e["w_mm"] + 1, s["y_mm"] + s["h_mm"] + 1, 255)
marks = [tuple(int(v) for v in m.split(":")) for m in a.marks.split(",") if m]
for row, choice in marks:
    b = lay["rows"][row]["boxes"][choice]
    cx, cy = b["x_mm"] + b["w_mm"] / 2, b["y_mm"] + b["h_mm"] / 2
    k = -2.2
    while k <= 2.2:
        fill(cx + k - 0.3, cy + k - 0.3, cx + k + 0.3, cy + k + 0.3, 0)
        fill(cx + k - 0.3, cy - k - 0.3, cx + k + 0.3, cy - k + 0.3, 0)
        k += 0.05
write_png(a.out, w, h, gray)
