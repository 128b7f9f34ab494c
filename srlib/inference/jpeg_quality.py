"""The quality a JPEG file was saved at, estimated from its quantisation tables.

Encoders built on the IJG library (libjpeg, libjpeg-turbo: Pillow, OpenCV, GIMP, ImageMagick, most software) make
their tables from the two example tables of the JPEG standard (ITU-T T.81 Annex K, :data:`ANNEX_K`) scaled by the
quality q in 1..100: ``scale = 5000 / q`` for q < 50, ``200 - 2 q`` otherwise (integer arithmetic), each entry
``(base * scale + 50) // 100`` clipped to 1..255. :func:`jpeg_quality` returns the q whose tables are closest to
the file's: exactly the quality such a file was saved at; for a camera's own tables, the nearest IJG quality.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from srlib.io import ImageError

ANNEX_K = np.array([  # luminance (table 0) and chrominance (table 1), 8 x 8 in natural (row) order
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
     14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
     47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32,
])
SOI = b"\xff\xd8\xff"  # how every JPEG file starts


def ijg_tables(quality):
    """The (2, 64) luminance and chrominance tables the IJG library makes for ``quality`` (1..100), natural order."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((ANNEX_K * scale + 50) // 100, 1, 255)


_IJG = np.stack([ijg_tables(q) for q in range(1, 101)])  # (100, 2, 64): quality q at index q - 1


def jpeg_quality(path):
    """The IJG quality (1.0 to 100.0) whose tables are closest to ``path``'s quantisation tables (least squares over
    the luminance table and, when present, the chrominance one), or None for a file that is not a JPEG (by its first
    bytes, whatever its suffix). Reads the header only. ImageError (one line naming the file) for a missing file or a
    JPEG whose header cannot be read or holds no tables."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(3) != SOI:
                return None
        with Image.open(path) as im:
            tables = im.quantization
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{path}: corrupt JPEG ({' '.join(str(e).split()) or type(e).__name__})") from None
    if not tables or 0 not in tables:
        raise ImageError(f"{path}: corrupt JPEG (no quantisation tables)")
    used = [k for k in (0, 1) if k in tables and len(tables[k]) == 64]
    got = np.array([list(tables[k]) for k in used], np.int64)  # (1 or 2, 64)
    error = ((_IJG[:, used] - got) ** 2).sum(axis=(1, 2))
    return float(np.argmin(error) + 1)
