"""Upscale images of any size with bicubic or a trained model.

An *upscaler* is any callable ``f(lr) -> sr`` on float32 (H, W, 3) arrays in
[0, 1] returning (H * s, W * s, 3). :func:`load_upscaler` makes one from a
name ('bicubic', a zoo name such as 'espcn-x3') or a ``.keras`` path.

Models with one input channel are luma models: they run on the Y of MATLAB
rgb2ycbcr while Cb and Cr are upscaled by MATLAB bicubic. Large images are
processed in overlapping tiles so memory stays bounded.
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import srlib.layers  # noqa: F401  (registers custom layers for load_model)
from srlib import color
from srlib.degrade import imresize

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "results" / "weights"


class Bicubic:
    """MATLAB-bicubic upscaler (the benchmark baseline)."""

    def __init__(self, scale):
        self.scale = scale
        self.name = "bicubic"

    def __call__(self, lr):
        return np.clip(imresize(lr, scale=self.scale).numpy(), 0.0, 1.0).astype(np.float32)


class ModelUpscaler:
    """Wraps a Keras SR model as an upscaler.

    Args:
      model: Keras model (N, h, w, C) -> (N, h*s, w*s, C), C = 1 (Y) or 3 (RGB).
      scale: its factor (read from the output/input size ratio when omitted).
      tile: LR tile side for large images (None: whole image at once).
      overlap: LR pixels of context added around each tile.
      space: for 3-channel models, the colour space they were trained in:
        'rgb', 'ycbcr' or 'yuv' (1-channel models always work on Y).
    """

    _TO = {"rgb": lambda x: x, "ycbcr": color.rgb_to_ycbcr, "yuv": color.rgb_to_yuv}
    _FROM = {"rgb": lambda x: x, "ycbcr": color.ycbcr_to_rgb, "yuv": color.yuv_to_rgb}

    def __init__(self, model, scale, tile=256, overlap=8, name=None, space="rgb"):
        self.model, self.scale, self.tile, self.overlap = model, scale, tile, overlap
        self.space = space
        self.channels = model.input_shape[-1]
        self.name = name or model.name
        self._run = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def _net(self, x):
        """(H, W, C) -> (H*s, W*s, C) through the model, tile by tile."""
        h, w, _ = x.shape
        s, t, o = self.scale, self.tile, self.overlap
        if t is None or (h <= t and w <= t):
            return self._run(x[None])[0].numpy()
        out = np.zeros((h * s, w * s, x.shape[-1]), np.float32)
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                ya, xa = max(y0 - o, 0), max(x0 - o, 0)
                yb, xb = min(y1 + o, h), min(x1 + o, w)
                sr = self._run(x[None, ya:yb, xa:xb])[0].numpy()
                out[y0 * s : y1 * s, x0 * s : x1 * s] = sr[(y0 - ya) * s : (y1 - ya) * s, (x0 - xa) * s : (x1 - xa) * s]
        return out

    def __call__(self, lr):
        lr = np.asarray(lr, np.float32)
        if self.channels == 3:
            x = np.asarray(self._TO[self.space](lr), np.float32)
            return np.clip(np.asarray(self._FROM[self.space](self._net(x))), 0.0, 1.0)
        ycc = color.rgb_to_ycbcr(lr).numpy()
        y = self._net(ycc[..., :1])
        cbcr = imresize(ycc[..., 1:], scale=self.scale).numpy()
        sr = color.ycbcr_to_rgb(np.concatenate([y, cbcr], axis=-1).astype(np.float32)).numpy()
        return np.clip(sr, 0.0, 1.0)


def zoo():
    """Shipped models: {name: path}, e.g. {'espcn-x3': results/weights/espcn_x3.keras}."""
    return {p.stem.replace("_", "-"): p for p in sorted(WEIGHTS_DIR.glob("*.keras"))}


def load_upscaler(name, scale=None):
    """Upscaler from 'bicubic', a zoo name ('espcn-x3') or a ``.keras`` path.

    Raises ValueError (one line) for an unknown name or a scale mismatch.
    """
    if name == "bicubic":
        if scale is None:
            raise ValueError("bicubic needs --scale")
        return Bicubic(scale)
    path = zoo().get(name, Path(name))
    if not path.is_file():
        known = ", ".join(["bicubic", *zoo()])
        raise ValueError(f"{name}: no such model (known: {known}; or give a .keras file)")
    model = keras.models.load_model(path, compile=False)
    probe = np.zeros((1, 8, 8, model.input_shape[-1]), np.float32)
    model_scale = model(probe).shape[1] // 8
    if scale is not None and scale != model_scale:
        raise ValueError(f"{name}: model upscales x{model_scale}, not x{scale}")
    return ModelUpscaler(model, model_scale, name=name)
