"""Upscale images as people have them: :func:`upscale` on arrays and files, and :func:`upscale_file` behind
``srlib upscale``.

* any size: one pass when the model's activations fit in memory, else overlapping LR tiles
  (:mod:`srlib.inference.tiling`: overlap = the receptive radius read from the graph, origins on the network's block
  grid), each written straight into the output array in the output's dtype. Tiled equals untiled;
* grey stays grey (upscaled as RGB, channels averaged); alpha is kept, upscaled separately by MATLAB bicubic;
* uint8 in, uint8 out; uint16 in, uint16 out; float in [0, 1] in, float32 out;
* the default model is the best shipped one for the scale (:func:`srlib.app.choose.for_image`), not bicubic, chosen per
  file: a JPEG file (``.jpg`` / ``.jpeg``) by the cards' JPEG row (BSD100, quality 50), any other file or an array by
  Set5 on clean bicubic LR (:mod:`srlib.app.choose` has the rule and its fallback), so a folder mixing JPEG and PNG
  files may upscale them with two models.
"""

import functools
import logging
import math
import time
from pathlib import Path

import numpy as np
import psutil
from tqdm.auto import tqdm

from srlib.app import choose
from srlib.inference import tiling
from srlib.inference.infer import load_upscaler
from srlib.io import META_SUFFIXES, ImageError, frames, quantize, read_image, write_image
from srlib.meta import read_meta
from srlib.resize import imresize

log = logging.getLogger(__name__)

DEFAULT_SCALE = 2
MAX_SCALE = 16
MEMORY_SHARE = 0.25  # of the available memory, for one tile's activations
MAX_TILE_BYTES = 512 << 20  # a tile's activations; the 8000 x 8000 benchmark then peaks near 2.3 GB RSS
SAY_HOW_LONG_S = 30  # runs expected to take longer say so first
TIME_OUTPUTS_OVER = 10_000_000  # output pixels above which a run is timed on a crop first
TILE_BATCH = 4  # tiles per network call at most (benchmarks/tiles.py: 4 at a time 1.2x to 1.5x faster than 1)


@functools.lru_cache(maxsize=4)
def upscaler(model, scale):
    """The upscaler of ``model`` ('bicubic', a zoo name, a ``.keras`` file or None: the default for clean input at
    ``scale``) at ``scale`` (None: the model's own; :data:`DEFAULT_SCALE` without a model). ValueError for a scale
    outside (1, :data:`MAX_SCALE`]."""
    if scale is not None and not 1 < scale <= MAX_SCALE:
        raise ValueError(f"scale {scale:g}: must be above 1 and at most {MAX_SCALE}")
    if model is None:
        scale = scale or DEFAULT_SCALE
        model = choose.for_image(scale)
    return load_upscaler(model, scale)


def _to_float(x):
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if x.dtype == np.uint16:
        return x.astype(np.float32) / 65535.0
    return np.clip(x.astype(np.float32), 0.0, 1.0)


def _from_float(x, dtype):
    if dtype == np.uint8:
        return quantize(x, uint8=True)
    if dtype == np.uint16:
        return np.round(np.clip(x, 0, 1) * 65535.0).astype(np.uint16)
    return np.clip(x, 0, 1).astype(np.float32)


def _budget():
    """Bytes of activations one network call may use."""
    return min(MAX_TILE_BYTES, MEMORY_SHARE * psutil.virtual_memory().available)


def tile_side(up, h, w):
    """LR tile side for an h x w image: the whole image when the model's activations
    (:class:`srlib.inference.tiling.Reach`) fit in :data:`MEMORY_SHARE` of the available memory (at most
    :data:`MAX_TILE_BYTES`), else the largest that do."""
    return tiling.auto_tile(h, w, up.reach.bytes_per_pixel, _budget())


def seconds_per_output_pixel(up):
    """This machine's time per output pixel for ``up``, timed on a 96 x 96 LR image after a warm-up."""
    x = np.random.default_rng(0).random((96, 96, 3), dtype=np.float32)
    up(x[:32, :32])
    t = time.perf_counter()
    out = up(x)
    return (time.perf_counter() - t) / (out.shape[0] * out.shape[1])


def upscale(image, model=None, scale=None, tile=None, progress=False, name=None, batch=TILE_BATCH):
    """Upscale an image array or file; returns an array of the input's dtype and channel layout.

    Args:
      image: a path, or an array (H, W) or (H, W, C) with C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA),
        uint8, uint16 or float in [0, 1].
      model: 'bicubic', a zoo name ('espcn-x3'), a ``.keras`` file, or None: the default for the scale (for a JPEG
        file, the default for JPEG input and its estimated quality: :func:`srlib.app.choose.image_input`).
      scale: the factor; None: the model's own, or :data:`DEFAULT_SCALE` when no model is named.
      tile: LR tile side (None: :func:`tile_side`, from the image and the free memory); rounded up to the network's
        stride. Tiles overlap by the model's receptive radius, so the result does not depend on it.
      progress: a progress bar over the tiles.
      name: what to call the image in notes (default: the path, or 'image').
      batch: tiles of one shape run together, at most this many at a time (:data:`TILE_BATCH`), and only as many
        as fit in the memory budget together (a tile side chosen from memory runs alone).

    Returns:
      (ceil(H * s), ceil(W * s)[, C]) array, same dtype as the input (float input: float32).
    """
    arr = read_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
    name = name or (str(image) if isinstance(image, (str, Path)) else "image")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 2, 3, 4)):
        raise ValueError(f"an image is (H, W) or (H, W, C) with C in 1..4, not {arr.shape}")
    if arr.dtype not in (np.uint8, np.uint16) and arr.dtype.kind != "f":
        raise ValueError(f"pixels must be uint8, uint16 or float in [0, 1], not {arr.dtype}")
    if tile is not None and tile < 1:
        raise ValueError(f"tile {tile}: must be a positive number of LR pixels")
    if model is None and isinstance(image, (str, Path)):  # a file's default: by its kind (JPEG or not, quality)
        scale = scale or DEFAULT_SCALE
        model = choose.for_image(scale, *choose.image_input(image))
    up = upscaler(model, scale)
    x = arr[..., None] if arr.ndim == 2 else arr
    colour, alpha = (x[..., :-1], x[..., -1:]) if x.shape[-1] in (2, 4) else (x, None)
    s, (h, w) = up.scale, x.shape[:2]
    shape = (math.ceil(h * s - 1e-9), math.ceil(w * s - 1e-9), x.shape[-1])
    dtype = np.dtype(np.float32 if arr.dtype.kind == "f" else arr.dtype)
    need, free = math.prod(shape) * dtype.itemsize, psutil.virtual_memory().available
    if need > free / 2:
        raise ValueError(f"{name}: the output ({shape[1]} x {shape[0]}) needs {need / 2**30:.1f} GiB, more than half "
                         f"the free memory ({free / 2**30:.1f} GiB)")
    out = np.empty(shape, dtype)
    if out.shape[0] * out.shape[1] > TIME_OUTPUTS_OVER:
        expected = seconds_per_output_pixel(up) * out.shape[0] * out.shape[1]
        if expected > SAY_HOW_LONG_S:
            log.info("%s: about %.0f s (%d x %d -> %d x %d with %s)", name, expected, w, h, out.shape[1],
                     out.shape[0], up.name)
    reach = up.reach
    tiles = tiling.plan(h, w, tile or tile_side(up, h, w), reach.radius + 1, tiling.alignment(reach.stride, s))
    bar = tqdm(total=len(tiles), desc="tiles", disable=not progress or len(tiles) < 2, leave=False)
    largest = max((t.src[1] - t.src[0]) * (t.src[3] - t.src[2]) for t in tiles)
    together = int(_budget() // (largest * reach.bytes_per_pixel))
    for group in tiling.batches(tiles, max(1, min(batch, together))):
        rgb = np.stack([_to_float(colour[t.src[0]:t.src[1], t.src[2]:t.src[3]]) for t in group])
        sr = up(np.repeat(rgb, 3, axis=-1) if rgb.shape[-1] == 1 else rgb)
        sr = sr.mean(axis=-1, keepdims=True) if colour.shape[-1] == 1 else sr
        if alpha is not None:
            a = np.stack([_to_float(alpha[t.src[0]:t.src[1], t.src[2]:t.src[3]]) for t in group])
            sr = np.concatenate([sr, np.asarray(imresize(a, scale=s))], axis=-1)
        for t, one in zip(group, sr, strict=True):
            dst, part = tiling.hr_window(t, s, out.shape)
            out[dst] = _from_float(one[part], out.dtype)
        bar.update(len(group))
    bar.close()
    return out[..., 0] if arr.ndim == 2 else out


def upscale_file(src, dst, model=None, scale=None, tile=None, force=False, progress=False):
    """Upscale the image file ``src`` into ``dst`` (format from its suffix), atomically, with what the photo carries:
    its ICC colour profile and EXIF (Orientation 1: the pixels are turned as viewers show them), in every format that
    holds them (:data:`srlib.io.META_SUFFIXES`; :func:`srlib.meta.read_meta`, :func:`srlib.io.write_image`).

    Refuses (ImageError, one line) to overwrite ``src``, or an existing ``dst`` unless ``force``. Returns a note
    for the summary: '' or what the output differs in ('3 frames: upscaled the first', '16 -> 8 bits: ...').
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.resolve() == src.resolve():
        raise ImageError(f"{src}: refusing to overwrite the input")
    if dst.exists() and not force:
        raise ImageError(f"{dst}: exists (use --force to replace it)")
    out = upscale(src, model, scale, tile, progress)
    meta = read_meta(src)
    bits = write_image(dst, out, meta)
    notes = [f"{n} frames: upscaled the first"] if (n := frames(src)) > 1 else []
    notes += ["16 -> 8 bits: this format keeps 8"] if out.dtype == np.uint16 and bits == 8 else []
    notes += ["colour profile and EXIF dropped: this format keeps neither"] if (
        (meta.icc or meta.exif) and dst.suffix.lower() not in META_SUFFIXES) else []
    return "; ".join(notes)
