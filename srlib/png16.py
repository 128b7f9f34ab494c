"""A 16-bit PNG encoder for colour, grey + alpha and grey pixels, with the photo's ICC profile and EXIF as chunks.

Pillow writes 16-bit PNG for grey only; :func:`srlib.io.write_image` writes every other 16-bit PNG through
:func:`png16` (rows unfiltered, zlib level 6), so ``srlib upscale`` keeps 16 bits in and out.
"""

import struct
import zlib

import numpy as np

PNG_COLOUR = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey + alpha, RGB, RGBA)


def png16(arr, icc=None, exif=None):
    """PNG bytes of a uint16 (H, W, C) array (Pillow writes 16 bits for grey only), with an iCCP chunk for ICC profile
    ``icc`` and an eXIf chunk for ``exif`` when given."""
    h, w, c = arr.shape
    rows = arr.astype(">u2").reshape(h, w * c).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter type 0 per row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, PNG_COLOUR[c], 0, 0, 0)
    extra = chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc)) if icc else b""  # name, method 0: zlib
    extra += chunk(b"eXIf", exif.removeprefix(b"Exif\0\0")) if exif else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))
