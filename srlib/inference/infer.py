"""Upscalers for still images: bicubic, any Keras model, TFLite (int8) models, arbitrary-scale models.

An *upscaler* is a callable ``f(lr) -> sr`` on float32 (H, W, 3) arrays in [0, 1] (or a batch (N, H, W, 3)) returning
(H * s, W * s, 3), with a ``scale`` and a ``reach`` (:class:`srlib.inference.tiling.Reach`: what tiling must know).
:func:`load_upscaler` makes one from a name ('bicubic', a zoo name such as 'espcn-x3') or a ``.keras`` / ``.tflite``
path.
An upscaler runs its input in one pass; images too large for memory are tiled by :func:`srlib.upscale`
(:mod:`srlib.inference.tiling`), the one place that tiles.

Models with one input channel are luma models: they run on the Y of MATLAB rgb2ycbcr while Cb and Cr are upscaled
by MATLAB bicubic (:func:`luma_merge`, the one place where Y and chroma are put back together).
"""

import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from srlib import color
from srlib.inference import tiling, zoo
from srlib.inference.lite import LiteFile
from srlib.resize import imresize


def luma_merge(y, cbcr, scale):
    """SR luma + LR chroma -> RGB: Cb and Cr upscaled by MATLAB bicubic, then MATLAB ycbcr2rgb, clipped to [0, 1].

    ``y``: (..., H, W, 1) at HR; ``cbcr``: (..., H / scale, W / scale, 2); returns a float32 tensor (..., H, W, 3).
    """
    cbcr = tf.cast(imresize(tf.cast(cbcr, tf.float32), scale=scale), tf.float32)
    rgb = color.ycbcr_to_rgb(tf.concat([tf.cast(y, tf.float32), cbcr], axis=-1))
    return tf.clip_by_value(rgb, 0.0, 1.0)


class Bicubic:
    """MATLAB-bicubic upscaler (the benchmark baseline)."""

    def __init__(self, scale):
        self.scale = scale
        self.name = "bicubic"
        self.reach = tiling.Reach(tiling.CHROMA_RADIUS)

    def __call__(self, lr):
        return np.clip(imresize(lr, scale=self.scale).numpy(), 0.0, 1.0).astype(np.float32)


def _with_chroma(reach, channels):
    """A luma model's reach widened to the bicubic chroma's."""
    radius = max(reach.radius, tiling.CHROMA_RADIUS) if channels == 1 else reach.radius
    return tiling.Reach(radius, reach.stride, reach.bytes_per_pixel)


class ModelUpscaler:
    """Wraps a Keras SR model as an upscaler: the whole input in one pass (tiling is :mod:`srlib.inference.tiling`'s).

    Args:
      model: Keras model (N, h, w, C) -> (N, h*s, w*s, C), C = 1 (Y) or 3 (RGB).
      scale: its factor.
      name: label for tables (default: the model's name).
      space: for 3-channel models, the colour space they were trained in:
        'rgb', 'ycbcr' or 'yuv' (1-channel models always work on Y).
    """

    _TO = {"rgb": lambda x: x, "ycbcr": color.rgb_to_ycbcr, "yuv": color.rgb_to_yuv}
    _FROM = {"rgb": lambda x: x, "ycbcr": color.ycbcr_to_rgb, "yuv": color.yuv_to_rgb}

    def __init__(self, model, scale, name=None, space="rgb"):
        self.model, self.scale, self.space = model, scale, space
        self.channels = model.input_shape[-1]
        self.name = name or model.name
        self.reach = _with_chroma(tiling.reach(model), self.channels)
        self._run = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def _net(self, x):
        """(N, H, W, C) -> (N, H*s, W*s, C) through the model."""
        return self._run(np.asarray(x, np.float32)).numpy()

    def __call__(self, lr):
        """(H, W, 3) or (N, H, W, 3) float32 in [0, 1] -> the same rank at H * s, W * s."""
        lr = np.asarray(lr, np.float32)
        x = lr if lr.ndim == 4 else lr[None]
        if self.channels == 3:
            sr = np.clip(np.asarray(self._FROM[self.space](self._net(self._TO[self.space](x)))), 0.0, 1.0)
        else:
            ycc = color.rgb_to_ycbcr(x).numpy()
            sr = luma_merge(self._net(ycc[..., :1]), ycc[..., 1:], self.scale).numpy()
        return sr if lr.ndim == 4 else sr[0]


class LiteUpscaler(ModelUpscaler):
    """Wraps a TFLite SR model (:class:`srlib.inference.lite.LiteFile`; the int8 models of :mod:`srlib.quant`) as an
    upscaler, run by XNNPACK at each input's own size: the number a benchmark table shows is the number the video engine
    gets.

    Args:
      net: :class:`srlib.inference.lite.LiteFile`, (N, h, w, C) -> (N, h*s, w*s, C), C = 1 (Y) or 3.
      scale: its factor (checked against the graph's).
      name: label for tables.
      space: the colour space of a 3-channel model (as :class:`ModelUpscaler`).
    """

    def __init__(self, net, scale, name=None, space="rgb"):
        if net.scale != scale:
            raise ValueError(f"{net.source}: upscales x{net.scale}, not x{scale}")
        self.model, self.scale, self.space, self.channels = net, scale, space, net.channels
        self.name = name or Path(net.source).stem
        self.reach = _with_chroma(net.reach(), self.channels)

    def _net(self, x):
        return self.model(np.asarray(x, np.float32))


class ImplicitUpscaler:
    """Wraps an arbitrary-scale luma model (inputs ``lr``, ``coord``, ``cell``: :mod:`srlib.models.cppn_gan`'s local
    form) as an upscaler at any ``scale`` > 0, integer or not: output side ceil(side * scale), as MATLAB imresize.

    Y is rendered by :func:`srlib.models.cppn_gan.render` in tiles of ``tile`` queries (bounded memory); Cb and Cr
    are upscaled by MATLAB bicubic (:func:`luma_merge`).
    """

    def __init__(self, model, scale, name=None, tile=65536):
        self.model, self.scale, self.tile = model, scale, tile
        self.name = name or model.name
        self.reach = _with_chroma(tiling.reach(model), 1)

    def __call__(self, lr):
        """(H, W, 3) or (N, H, W, 3) float32 in [0, 1] -> the same rank at ceil(H * s), ceil(W * s)."""
        from srlib.models.cppn_gan import render

        lr = np.asarray(lr, np.float32)
        x = lr if lr.ndim == 4 else lr[None]
        ycc = color.rgb_to_ycbcr(x).numpy()
        size = [math.ceil(n * self.scale - 1e-9) for n in x.shape[1:3]]
        y = render(self.model, ycc[..., :1], size, self.tile, scale=self.scale)
        sr = luma_merge(y, ycc[..., 1:], self.scale).numpy()
        return sr if lr.ndim == 4 else sr[0]


def load_upscaler(name, scale=None):
    """Upscaler from 'bicubic', a zoo name ('espcn-x3', see :mod:`srlib.inference.zoo`), a ``.keras`` or a ``.tflite``
    path (:class:`LiteUpscaler`).

    Arbitrary-scale models (inputs ``lr``, ``coord``, ``cell``) take any ``scale`` and need one. Raises ValueError
    (one line) for an unknown name, a scale mismatch, or a model that does not upscale photos (the digit CPPN).
    """
    if name == "bicubic":
        if scale is None:
            raise ValueError("bicubic needs --scale")
        return Bicubic(scale)
    model = load_net(name)
    if isinstance(model, LiteFile):
        if scale is not None and scale != model.scale:
            raise ValueError(f"{name}: model upscales x{model.scale}, not x{scale}")
        return LiteUpscaler(model, model.scale, name=name)
    inputs = model.input if isinstance(model.input, dict) else {}
    if "coord" in inputs:
        if "cell" not in inputs:
            raise ValueError(f"{name}: renders digits from fixed-size inputs, not photos "
                             "(see srlib.models.cppn_gan.render)")
        if scale is None:
            raise ValueError(f"{name}: an arbitrary-scale model; give --scale (any factor, e.g. 2.5)")
        return ImplicitUpscaler(model, scale, name=name)
    model_scale = zoo.model_scale(model)
    if scale is not None and scale != model_scale:
        raise ValueError(f"{name}: model upscales x{model_scale}, not x{scale}")
    return ModelUpscaler(model, model_scale, name=name)




def load_net(name):
    """The network of a zoo name or a model file: a Keras model, or a :class:`srlib.inference.lite.LiteFile` for a
    ``.tflite`` or a zoo model whose card names one (an int8 model: :func:`srlib.inference.zoo.engine_file`). ValueError
    (one line) for an unknown name."""
    if name in zoo.names():
        file = zoo.engine_file(name) or zoo.path(name)
    elif Path(name).is_file():
        file = Path(name)
    else:
        known = ", ".join(["bicubic", *zoo.names()])
        raise ValueError(f"{name}: no such model (known: {known}; or give a .keras or .tflite file)")
    return LiteFile(file) if file.suffix == ".tflite" else zoo.load_file(file)
