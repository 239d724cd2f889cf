#!/usr/bin/env python3
"""Draws Offgrid's app icons (a white ring with a dot on green) as PNGs with only the standard library.
Run from the repo root: python3 scripts/make-icons.py  (writes public/icons/*.png)."""
import struct
import zlib

GREEN = (20, 83, 45)
WHITE = (245, 250, 245)


def png(width, height, pixel):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def icon(size, safe_zone):
    # Maskable icons keep the art inside the central 80% circle; regular ones use 100%.
    c = (size - 1) / 2
    outer = size * 0.34 * safe_zone
    inner = size * 0.24 * safe_zone
    dot = size * 0.08 * safe_zone

    def pixel(x, y):
        r = ((x - c) ** 2 + (y - c) ** 2) ** 0.5
        return WHITE if (inner <= r <= outer or r <= dot) else GREEN

    return png(size, size, pixel)


for size in (192, 512):
    with open(f"public/icons/icon-{size}.png", "wb") as f:
        f.write(icon(size, 1.0))
    with open(f"public/icons/maskable-{size}.png", "wb") as f:
        f.write(icon(size, 0.8))
