"""What a photo file carries besides its pixels: its ICC colour profile and its EXIF (:class:`Meta`).

:func:`read_meta` reads them with the header of a file; the EXIF's Orientation is reset to 1 (:func:`upright_exif`),
since :func:`srlib.io.read_image` reads the pixels turned. :func:`srlib.io.write_image` writes a :class:`Meta` into
the formats of :data:`srlib.io.META_SUFFIXES`, its ICC profile where it fits the pixels (:func:`icc_fits`).
"""

import struct
from dataclasses import dataclass

from PIL import Image

ORIENTATION = 0x0112  # the EXIF tag (IFD0, a SHORT) that tells viewers how to turn the stored pixels


@dataclass(frozen=True)
class Meta:
    """What a photo file carries besides its pixels: ``icc``, its ICC colour profile, and ``exif``, its EXIF block
    (TIFF-structured bytes, as Pillow's ``info["exif"]``); None where the file has none."""

    icc: bytes | None = None
    exif: bytes | None = None


def upright_exif(exif):
    """``exif`` with IFD0's Orientation (:data:`ORIENTATION`) set to 1 (as stored), every other byte kept (date taken,
    camera, maker notes, thumbnail); unchanged without that tag; None when the block cannot be parsed, since its
    orientation would turn the already turned pixels again. With or without the ``Exif\\0\\0`` header."""
    at = 6 if exif.startswith(b"Exif\0\0") else 0
    order = {b"II": "<", b"MM": ">"}.get(exif[at:at + 2])
    try:
        ifd = at + struct.unpack_from(order + "I", exif, at + 4)[0]
        for k in range(struct.unpack_from(order + "H", exif, ifd)[0]):
            entry = ifd + 2 + 12 * k
            tag, kind = struct.unpack_from(order + "HH", exif, entry)
            if tag == ORIENTATION:  # a SHORT, left-justified in the entry's 4-byte value field
                return exif[:entry + 8] + struct.pack(order + "H", 1) + exif[entry + 10:] if kind == 3 else None
    except (struct.error, TypeError):  # cut short, or no byte-order mark (order None)
        return None
    return exif


def read_meta(path):
    """The :class:`Meta` of image file ``path`` that goes with :func:`read_image`'s pixels: its ICC profile and its
    EXIF with the Orientation reset to 1 (:func:`upright_exif`). Reads the header only: the EXIF of a TIFF (its own
    tags) and a PNG's eXIf chunk after the pixels are not read. An empty Meta for a file Pillow cannot open."""
    try:
        with Image.open(path) as im:
            icc, exif = im.info.get("icc_profile"), im.info.get("exif")
    except (OSError, SyntaxError, ValueError):
        return Meta()
    return Meta(icc or None, upright_exif(exif) if exif else None)


def icc_fits(icc, channels):
    """True when profile ``icc`` describes pixels of ``channels`` (its colour space, header bytes 16-20: 'GRAY' for
    grey (+ alpha), 'RGB ' for colour): a CMYK file's profile does not fit the RGB it is read as."""
    return icc[16:20] == (b"GRAY" if channels in (1, 2) else b"RGB ")
