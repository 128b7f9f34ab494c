"""Upscale images as people have them: :func:`upscale` on arrays and files, and :func:`upscale_file` behind
``srlib upscale``.

* any size: overlapping LR tiles, one at a time, each written straight into the output array in the output's
  dtype, so memory grows with the output image (uint8 or uint16), not with the model's activations. The overlap is
  the upscaler's measured reach (:func:`reach`) plus 2 pixels, so tiled equals untiled;
* grey stays grey (upscaled as RGB, channels averaged); alpha is kept, upscaled separately by MATLAB bicubic;
* uint8 in, uint8 out; uint16 in, uint16 out; float in [0, 1] in, float32 out;
* the default model is the best shipped one for the scale (:func:`best_model`), not bicubic.
"""

import functools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from srlib import zoo
from srlib.degrade import imresize
from srlib.infer import load_upscaler
from srlib.io import ImageError, read_image, write_image

DEFAULT_SCALE = 2
TILE = 512  # LR tile side when none is given


def best_model(scale):
    """The shipped model with the best Set5 PSNR at ``scale`` on bicubic LR (its card's benchmark rows); for a scale
    no card scores, an arbitrary-scale model; else 'bicubic'."""
    best, best_psnr, anyscale = "bicubic", -math.inf, None
    for name, card in zoo.cards().items():
        if card.task != "photo" or card.degradation != "bicubic":
            continue
        anyscale = anyscale or (name if card.arbitrary_scale else None)
        psnr = card.psnr("Set5", scale)
        if psnr is not None and psnr > best_psnr:
            best, best_psnr = name, psnr
    return best if best != "bicubic" or anyscale is None else anyscale


@functools.lru_cache(maxsize=4)
def _upscaler(model, scale):
    return load_upscaler(model, scale)


def reach(up):
    """LR pixels around a pixel that the upscaler ``up`` lets it change (its receptive radius), measured by
    changing one pixel of a 65 x 65 grey image; at most 32."""
    base = np.full((65, 65, 3), 0.5, np.float32)
    bumped = base.copy()
    bumped[32, 32] = 1.0
    diff = np.abs(np.asarray(up(bumped)) - np.asarray(up(base))).max(axis=-1)
    rows, cols = np.nonzero(diff > 1e-6)
    if not len(rows):
        return 0
    centre = 32.5 * up.scale
    extent = max(np.abs(rows + 0.5 - centre).max(), np.abs(cols + 0.5 - centre).max())
    return min(32, math.ceil(extent / up.scale))


def _to_float(x):
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if x.dtype == np.uint16:
        return x.astype(np.float32) / 65535.0
    return np.clip(x.astype(np.float32), 0.0, 1.0)


def _from_float(x, dtype):
    if dtype == np.uint8:
        return np.round(np.clip(x, 0, 1) * 255.0).astype(np.uint8)
    if dtype == np.uint16:
        return np.round(np.clip(x, 0, 1) * 65535.0).astype(np.uint16)
    return np.clip(x, 0, 1).astype(np.float32)


def upscale(image, model=None, scale=None, tile=None, progress=False):
    """Upscale an image array or file; returns an array of the input's dtype and channel layout.

    Args:
      image: a path, or an array (H, W) or (H, W, C) with C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA),
        uint8, uint16 or float in [0, 1].
      model: 'bicubic', a zoo name ('espcn-x3'), a ``.keras`` file, or None: :func:`best_model` for the scale.
      scale: the factor; None: the model's own, or :data:`DEFAULT_SCALE` when no model is named.
      tile: LR tile side (None: :data:`TILE`); tiles overlap by the model's reach, so the result does not depend on it.
      progress: a progress bar over the tiles.

    Returns:
      (ceil(H * s), ceil(W * s)[, C]) array, same dtype as the input (float input: float32).
    """
    arr = read_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (1, 2, 3, 4)):
        raise ValueError(f"an image is (H, W) or (H, W, C) with C in 1..4, not {arr.shape}")
    if arr.dtype not in (np.uint8, np.uint16) and arr.dtype.kind != "f":
        raise ValueError(f"pixels must be uint8, uint16 or float in [0, 1], not {arr.dtype}")
    if model is None:
        scale = scale or DEFAULT_SCALE
        model = best_model(scale)
    up = _upscaler(model, scale)
    x = arr[..., None] if arr.ndim == 2 else arr
    colour, alpha = (x[..., :-1], x[..., -1:]) if x.shape[-1] in (2, 4) else (x, None)
    s = up.scale
    h, w = x.shape[:2]
    out = np.empty((math.ceil(h * s - 1e-9), math.ceil(w * s - 1e-9), x.shape[-1]), np.float32 if
                   arr.dtype.kind == "f" else arr.dtype)
    step = Fraction(s).limit_denominator(16).denominator  # tiles start where LR and HR pixels align
    t = max(step, (tile or TILE) // step * step)
    overlap = math.ceil((reach(up) + 2) / step) * step
    starts = [(y0, x0) for y0 in range(0, h, t) for x0 in range(0, w, t)]
    for y0, x0 in tqdm(starts, desc="tiles", disable=not progress or len(starts) < 2, leave=False):
        y1, x1 = min(y0 + t, h), min(x0 + t, w)
        ya, xa, yb, xb = max(y0 - overlap, 0), max(x0 - overlap, 0), min(y1 + overlap, h), min(x1 + overlap, w)
        rgb = _to_float(colour[ya:yb, xa:xb])
        sr = up(np.repeat(rgb, 3, axis=-1) if rgb.shape[-1] == 1 else rgb)
        sr = sr.mean(axis=-1, keepdims=True) if colour.shape[-1] == 1 else sr
        if alpha is not None:
            a = np.asarray(imresize(_to_float(alpha[ya:yb, xa:xb]), size=sr.shape[:2]))
            sr = np.concatenate([sr, a], axis=-1)
        Y0, X0 = round(y0 * s), round(x0 * s)
        Y1, X1 = (round(y1 * s) if y1 < h else out.shape[0]), (round(x1 * s) if x1 < w else out.shape[1])
        oy, ox = round((y0 - ya) * s), round((x0 - xa) * s)
        out[Y0:Y1, X0:X1] = _from_float(sr[oy : oy + Y1 - Y0, ox : ox + X1 - X0], out.dtype)
    return out[..., 0] if arr.ndim == 2 else out


def upscale_file(src, dst, model=None, scale=None, tile=None, force=False, progress=False):
    """Upscale the image file ``src`` into ``dst`` (format from its suffix), atomically.

    Refuses (ImageError, one line) to overwrite ``src``, or an existing ``dst`` unless ``force``. Returns a note
    for the summary ('' or e.g. '16 -> 8 bits: JPEG').
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.resolve() == src.resolve():
        raise ImageError(f"{src}: refusing to overwrite the input")
    if dst.exists() and not force:
        raise ImageError(f"{dst}: exists (use --force to replace it)")
    out = upscale(src, model, scale, tile, progress)
    bits = write_image(dst, out)
    return "16 -> 8 bits: this format keeps 8" if out.dtype == np.uint16 and bits == 8 else ""
