"""Image files <-> float arrays: the only place pixels are uint8/uint16.

``load_image`` returns float32 (H, W, C) in [0, 1]:
* 8-bit and 16-bit files are scaled by 255 or 65535;
* grayscale becomes 3 identical channels (``channels=3``, the default) or stays
  1 channel (``channels=None`` keeps the file's own channel count, minus alpha);
* alpha is dropped, unless ``keep_alpha=True`` returns it as a 4th channel.

Failures raise :class:`ImageError`, whose message is one line: ``"<path>: <reason>"``.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


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


def _decode(path):
    """Decode a file into its native array (H, W[, C]) of uint8/uint16/float/bool."""
    try:
        with Image.open(path) as im:
            im.load()
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


def to_uint8(image):
    """Float [0,1] array -> uint8, rounded to nearest."""
    return np.round(np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


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


def save_image(path, image):
    """Write float [0,1] (H, W, C) or (H, W) as an 8-bit image, atomically."""
    arr = to_uint8(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp))
