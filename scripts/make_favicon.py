"""Write shared/static/favicon.ico: the shapes of favicon.svg at 16, 32 and 48 pixels.

The file is committed. Run this again only after changing favicon.svg, with
``.venv/bin/python scripts/make_favicon.py``. It needs nothing beyond the
standard library. Each size is stored as a PNG inside the ICO container, which
every current browser reads.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "shared" / "static" / "favicon.ico"
SIZES = (16, 32, 48)
SUBSAMPLES = 4  # per axis, for anti-aliased edges

ACCENT = (0xA8, 0x32, 0x5E)
PAPER = (0xFF, 0xFD, 0xFB)
# The shapes of favicon.svg, in its 32-unit view box: a rounded square, then discs from the outside in.
VIEW_BOX = 32.0
CORNER_RADIUS = 7.0
DISCS = ((11.0, PAPER), (7.0, ACCENT), (3.0, PAPER))


def _inside_rounded_square(x: float, y: float) -> bool:
    nearest_x = min(max(x, CORNER_RADIUS), VIEW_BOX - CORNER_RADIUS)
    nearest_y = min(max(y, CORNER_RADIUS), VIEW_BOX - CORNER_RADIUS)
    return (x - nearest_x) ** 2 + (y - nearest_y) ** 2 <= CORNER_RADIUS ** 2


def _colour_at(x: float, y: float) -> tuple[int, int, int] | None:
    """Return the colour of the view-box point (x, y), or None where it is transparent."""
    if not _inside_rounded_square(x, y):
        return None
    colour = ACCENT
    centre = VIEW_BOX / 2
    for radius, disc_colour in DISCS:
        if (x - centre) ** 2 + (y - centre) ** 2 <= radius ** 2:
            colour = disc_colour
    return colour


def _pixel(column: int, row: int, size: int) -> bytes:
    """Average SUBSAMPLES² samples of one pixel into straight (not premultiplied) RGBA."""
    scale = VIEW_BOX / size
    red = green = blue = covered = 0
    for sub_row in range(SUBSAMPLES):
        for sub_column in range(SUBSAMPLES):
            x = (column + (sub_column + 0.5) / SUBSAMPLES) * scale
            y = (row + (sub_row + 0.5) / SUBSAMPLES) * scale
            colour = _colour_at(x, y)
            if colour is not None:
                red, green, blue, covered = red + colour[0], green + colour[1], blue + colour[2], covered + 1
    if covered == 0:
        return bytes(4)
    alpha = round(255 * covered / SUBSAMPLES ** 2)
    return bytes((round(red / covered), round(green / covered), round(blue / covered), alpha))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def render_png(size: int) -> bytes:
    # Each PNG scanline starts with filter type 0 (none).
    scanlines = b"".join(
        b"\x00" + b"".join(_pixel(column, row, size) for column in range(size)) for row in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlacing
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(scanlines, 9))
        + _png_chunk(b"IEND", b"")
    )


def render_ico(sizes: tuple[int, ...] = SIZES) -> bytes:
    """Pack one PNG per size into an ICO file: a 6-byte header, a 16-byte entry per image, then the images."""
    images = [render_png(size) for size in sizes]
    offset = 6 + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images):
        # Width and height take one byte each, where 0 means 256. Each image has 1 plane and 32 bits per pixel.
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return struct.pack("<HHH", 0, 1, len(images)) + entries + b"".join(images)


if __name__ == "__main__":
    TARGET.write_bytes(render_ico())
    print(f"Wrote {TARGET} ({TARGET.stat().st_size} bytes)")
