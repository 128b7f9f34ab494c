"""Image files <-> float arrays: the only place pixels are uint8/uint16.

``load_image`` returns float32 (H, W, C) in [0, 1] (EXIF orientation applied):
* 8-bit and 16-bit files are scaled by 255 or 65535;
* grayscale becomes 3 identical channels (``channels=3``, the default) or stays
  1 channel (``channels=None`` keeps the file's own channel count, minus alpha);
* alpha is dropped, unless ``keep_alpha=True`` returns it as a 4th channel.

``read_image`` / ``write_image`` keep a file's own pixels: uint8 or uint16, grey, grey + alpha, RGB or RGBA;
``write_image(..., meta)`` also writes what a photo carries besides them (:mod:`srlib.meta`): its ICC colour profile and
its EXIF (Orientation reset to 1, since the pixels are read turned). HEIC / HEIF files are read through ``pillow-heif``,
AVIF through Pillow's own codec.

Failures raise :class:`ImageError`, whose message is one line: ``"<path>: <reason>"``.
"""

import json
import os
import re
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from srlib.meta import Meta, icc_fits
from srlib.png16 import png16

register_heif_opener()  # Image.open reads HEIC / HEIF (phone photos)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".heic", ".heif", ".avif")  # read
WRITE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".avif")  # written (GIF loses colours)
META_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".avif")  # written with the ICC profile and EXIF
MAX_PIXELS = Image.MAX_IMAGE_PIXELS  # larger headers are refused before any pixel is decoded (89 million)
_SAVE = {".jpg": {"quality": 95}, ".jpeg": {"quality": 95}, ".avif": {"quality": 95},
         ".webp": {"lossless": True}}  # Pillow's defaults lose more


class ImageError(ValueError):
    """An image file that cannot be used; ``str(e)`` is ``"<path>: <reason>"``."""


def list_images(folder, recursive=True):
    """Sorted paths of the image files under ``folder`` (by suffix, case-insensitive).

    Raises ImageError if the folder does not exist or holds no image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    pattern = "**/*" if recursive else "*"
    files = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ImageError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    return files


def image_files(source):
    """Expand a folder, or a list of folders and files, into a list of file paths."""
    items = [source] if isinstance(source, (str, Path)) else list(source)
    files = []
    for item in items:
        files += [str(p) for p in list_images(item)] if Path(item).is_dir() else [str(item)]
    return files


def _to_float(arr, path):
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype in (np.uint16, np.int32, np.int16) or arr.dtype.kind in "ui":
        return arr.astype(np.float32) / 65535.0
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if arr.dtype.kind == "f":
        return np.clip(arr.astype(np.float32), 0.0, 1.0)
    raise ImageError(f"{path}: unsupported pixel type {arr.dtype}")


def _check_size(path, w, h):
    if w * h > MAX_PIXELS:
        raise ImageError(f"{path}: its header claims {w * h:,} pixels, more than srlib reads ({MAX_PIXELS:,}); "
                         "refused before decoding")


def frames(path):
    """How many frames (pages) an image file holds: 1, or more for a multi-page TIFF or an animated GIF / WebP
    (their first frame is what :func:`read_image` returns)."""
    try:
        with Image.open(path) as opened:
            return getattr(opened, "n_frames", 1)
    except (OSError, ValueError):
        return 1


def _decode(path):
    """Decode a file into its native array (H, W[, C]) of uint8/uint16/float/bool: the first frame of several."""
    try:
        with Image.open(path) as opened:
            _check_size(path, *opened.size)
            opened.load()
            im = ImageOps.exif_transpose(opened)  # EXIF orientation applied: pixels as viewers show them
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV", "1"):
                im = im.convert("RGB" if im.mode != "1" else "L")
            elif im.mode == "I;16B":
                im = im.convert("I;16")
            return np.asarray(im)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file") from None
    except Image.DecompressionBombError as e:  # Pillow refuses twice our limit on opening, before _check_size
        claimed = re.search(r"\((\d+) pixels\)", str(e))
        raise ImageError(f"{path}: its header claims {int(claimed.group(1)) if claimed else 'too many':,} pixels, "
                         f"more than srlib reads ({MAX_PIXELS:,}); refused before decoding") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        raise ImageError(f"{path}: unreadable image ({e})") from None


def load_image(path, channels=3, keep_alpha=False, dtype=np.float32):
    """Read an image file as (H, W, C) in [0, 1]. See the module docstring.

    ``dtype=np.uint8`` returns 8-bit levels instead (16-bit files rounded to
    8 bits): a quarter of the memory, for loaders that convert after cropping.
    """
    path = Path(path)
    arr = _decode(path)
    if dtype == np.uint8:
        x = arr if arr.dtype == np.uint8 else to_uint8(_to_float(arr, path))
    else:
        x = _to_float(arr, path)
    if x.ndim == 2:
        x = x[..., None]
    alpha = None
    if x.shape[-1] in (2, 4):
        x, alpha = x[..., :-1], x[..., -1:]
    if channels == 3 and x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    elif channels == 1 and x.shape[-1] == 3:
        raise ImageError(f"{path}: colour image where a 1-channel image was required")
    if keep_alpha and alpha is not None:
        x = np.concatenate([x, alpha], axis=-1)
    if min(x.shape[:2]) == 0:
        raise ImageError(f"{path}: empty image")
    return np.ascontiguousarray(x)


def quantize(image, uint8=False):
    """The one uint8 quantiser: [0, 1] pixels clipped and rounded (half to even) to the 256 levels of an 8-bit image.

    Benchmark LR, scored SR and written files all round here. ``image``: a numpy array (or anything
    ``np.asarray`` takes, as float32) or a TensorFlow tensor (graph-safe, its float dtype kept), any shape.
    Returns the levels k / 255 as floats, or with ``uint8=True`` the codes k as uint8.
    """
    tf = sys.modules.get("tensorflow")  # a tensor exists only once TensorFlow is imported; io never imports it
    if tf is not None and tf.is_tensor(image):
        k = tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0)
        return tf.cast(k, tf.uint8) if uint8 else k / 255.0
    k = np.round(np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0)
    return k.astype(np.uint8) if uint8 else k / np.float32(255.0)


def to_uint8(image):
    """Float [0,1] array -> uint8 array (:func:`quantize`'s codes), for files and video frames."""
    return quantize(image, uint8=True)


def atomic_write(path, write):
    """Call ``write(tmp_path)`` then rename onto ``path``; no partial file ever has the final name.

    The temporary file sits beside ``path`` and keeps its suffix, so writers that
    pick a format from the name still work. The parent folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the final file normal permissions
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path, obj):
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=2) + "\n"))


def save_image(path, image):
    """Write float [0,1] (H, W, C) or (H, W) as an 8-bit image, atomically."""
    arr = to_uint8(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp))


def _colour16(path):
    """A 16-bit colour (or grey + alpha) PNG as uint16 (H, W, C), or None for any other file.

    Pillow decodes those to 8 bits; OpenCV keeps 16 (it is needed only for them).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(26)
    except OSError:
        return None
    if not (head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 26 and head[24] == 16 and head[25] in (2, 4, 6)):
        return None
    _check_size(path, *struct.unpack(">II", head[16:24]))
    grey = head[25] == 4
    try:
        import cv2
    except ImportError:
        raise ImageError(f"{path}: a 16-bit colour PNG; reading it keeps 16 bits only with OpenCV "
                         "(pip install opencv-python-headless)") from None
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageError(f"{path}: unreadable image (OpenCV could not decode it)")
    if grey:  # grey + alpha: OpenCV returned BGRA with B = G = R
        return arr[..., [0, 3]]
    return arr[..., [2, 1, 0, 3][: arr.shape[-1]]]  # OpenCV orders colour as BGR(A)


def read_image(path):
    """A file's pixels as they are: (H, W, C) uint8 or uint16 (16-bit files), C = 1 (grey), 2 (grey + alpha),
    3 (RGB) or 4 (RGBA); palette images become RGB(A), CMYK becomes RGB, EXIF orientation is applied, float pixels
    (levels in [0, 1]; others are refused) become uint16, and a file of several frames gives its first."""
    path = Path(path)
    arr = _colour16(path)
    arr = _decode(path) if arr is None else arr
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ImageError(f"{path}: integer pixels outside 0..65535 ({arr.min()} to {arr.max()})")
        arr = arr.astype(np.uint16)
    elif arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1):
            raise ImageError(f"{path}: float pixels outside [0, 1] ({np.nanmin(arr):g} to {np.nanmax(arr):g}); "
                             "srlib takes levels in [0, 1]")
        arr = np.round(arr * 65535).astype(np.uint16)
    arr = arr[..., None] if arr.ndim == 2 else arr
    if min(arr.shape[:2]) == 0:
        raise ImageError(f"{path}: empty image")
    return np.ascontiguousarray(arr)


def write_image(path, arr, meta=None):
    """Write uint8 or uint16 (H, W, C) pixels, C = 1 to 4, atomically, in the format of ``path``'s suffix.

    16 bits are kept in PNG and (grey) TIFF; other formats get 8 bits. JPEG has no alpha: an image with
    alpha raises ImageError instead of losing it. ``meta`` (:class:`Meta`, e.g. :func:`read_meta` of the source) is
    written into the formats of :data:`META_SUFFIXES`: its EXIF as it is, its ICC profile where it fits the pixels
    (an RGB profile for colour, a grey one for grey). Returns the number of bits written.
    """
    path = Path(path)
    arr = np.asarray(arr)
    arr = arr[..., None] if arr.ndim == 2 else arr
    suffix = path.suffix.lower()
    meta = meta or Meta()
    icc = meta.icc if meta.icc and icc_fits(meta.icc, arr.shape[-1]) else None
    keep = {k: v for k, v in (("icc_profile", icc), ("exif", meta.exif)) if v} if suffix in META_SUFFIXES else {}
    if suffix not in WRITE_SUFFIXES:
        raise ImageError(f"{path}: srlib does not write this format (use one of {', '.join(WRITE_SUFFIXES)})")
    if suffix in (".jpg", ".jpeg") and arr.shape[-1] in (2, 4):
        raise ImageError(f"{path}: JPEG cannot keep the alpha channel; write .png or .tif")
    if arr.dtype == np.uint16 and suffix == ".png" and arr.shape[-1] > 1:
        data = png16(arr, keep.get("icc_profile"), keep.get("exif"))
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
        return 16
    if arr.dtype == np.uint16 and suffix in (".png", ".tif", ".tiff") and arr.shape[-1] == 1:
        atomic_write(path, lambda tmp: Image.fromarray(np.ascontiguousarray(arr[..., 0])).save(tmp, **keep))
        return 16
    if arr.dtype == np.uint16:
        arr = np.round(arr / 257.0).astype(np.uint8)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[arr.shape[-1]]
    image = Image.fromarray(np.ascontiguousarray(arr[..., 0] if mode == "L" else arr))
    atomic_write(path, lambda tmp: image.save(tmp, **_SAVE.get(suffix, {}), **keep))
    return 8
