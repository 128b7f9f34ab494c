"""The video frame engine: a luma model on batches of uint8 frames, RGB or I420 planes.

:class:`FastLuma` runs three stages, each built once per frame shape (split, network, merge); the one I420 path is
:func:`split_i420` and :class:`I420Merge`. Still images go through :mod:`srlib.inference.infer` instead.
"""

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srlib import color
from srlib.inference.infer import luma_merge
from srlib.inference.lite import LiteFile, LiteNet
from srlib.io import quantize
from srlib.layers import ResizeUpscale
from srlib.precision import inference_precision, with_precision


def split_i420(planes, grey=False):
    """uint8 I420 frames (N, h * 3 // 2, w) -> (Y (N, h, w, 1), CbCr (N, h / 2, w / 2, 2)), float32 in [0, 1];
    ``grey``: Y as the decoder's uint8 grey levels (a view, for a model with grey-level edges).

    The decoder's planes as they are: no colour conversion (BT.601 studio range, as :mod:`srlib.color`).
    """
    n, h32, w = planes.shape
    h = h32 * 2 // 3
    c = planes[:, h:].reshape(n, 2, h // 2, w // 2).transpose(0, 2, 3, 1)
    y = planes[:, :h, :, None]
    return (y if grey else y * np.float32(1 / 255)), c * np.float32(1 / 255)


class I420Merge:
    """SR Y + chroma at any lower resolution -> uint8 I420 planes, for ``VideoWriter(pix_fmt='yuv420p')``.

    Y (N, H, W, 1), float in [0, 1] or uint8 grey levels, and CbCr (N, h, w, 2) -> (N, H' * 3 // 2, W'), H', W' = H, W
    rounded up to even (an odd side repeats its last row / column, as :class:`srlib.videoio.VideoWriter`
    pads RGB). CbCr is resized bilinearly straight onto the 4:2:0 grid (centre-sited chroma); no HR RGB
    image is formed. ``lite=True`` runs the resize on XNNPACK (:class:`srlib.inference.lite.LiteNet`), else on
    TensorFlow; the rest is NumPy.
    """

    def __init__(self, lite=True):
        self.lite, self._resizers = lite, {}

    def _resizer(self, shape, size):
        """CbCr (N, h, w, 2) in [0, 1] -> 255 * bilinear + 0.5, planar (N, 2, size): float32 array."""
        key = (tuple(shape), size)
        if key not in self._resizers:
            inp = keras.Input(shape[1:], batch_size=shape[0])
            x = keras.layers.Resizing(*size, interpolation="bilinear")(inp)
            x = keras.layers.Permute((3, 1, 2))(keras.layers.Rescaling(255.0, offset=0.5)(x))
            model = keras.Model(inp, x)
            run = tf.function(lambda c: model(c, training=False))
            self._resizers[key] = LiteNet(model, shape) if self.lite else lambda c: run(c).numpy()
        return self._resizers[key]

    def __call__(self, y, cbcr):
        n, hs, ws = y.shape[:3]
        he, we = hs + hs % 2, ws + ws % 2
        out = np.empty((n, he * 3 // 2, we), np.uint8)
        if y.dtype == np.uint8:
            out[:, :hs, :ws] = y[..., 0]
        else:
            y = np.asarray(y, np.float32)[..., 0] * np.float32(255)
            y += np.float32(0.5)
            out[:, :hs, :ws] = np.clip(y, 0, 255, out=y)  # float -> uint8 truncates: with the 0.5, rounding
        if (he, we) != (hs, ws):
            out[:, hs:he, :ws] = out[:, hs - 1 : hs, :ws]
            out[:, :he, ws:we] = out[:, :he, ws - 1 : ws]
        cbcr = np.asarray(cbcr, np.float32)
        out[:, he:] = self._resizer(cbcr.shape, (he // 2, we // 2))(cbcr).reshape(n, he // 2, we)  # in [0.5, 255.5]
        return out


class FastLuma:
    """Frame engine for luma models: batches of uint8 frames in, uint8 frames out, NumPy arrays at every stage.

    Three stages, each built once per frame shape: :meth:`split` (RGB or I420 frames ->
    Y, CbCr at LR), :meth:`net` (the model on Y) and :meth:`merge` (SR Y + CbCr -> RGB
    through :func:`luma_merge`, or I420 planes through :class:`I420Merge`). With runtime
    'tflite' the network and the chroma resize run on XNNPACK, so the I420 path runs no
    TensorFlow op per frame.

    Args:
      model: Keras luma model, (N, h, w, 1) -> (N, h * s, w * s, 1) in [0, 1]; or a TFLite one
        (:class:`srlib.inference.lite.LiteFile`, e.g. an int8 model of :mod:`srlib.quant`: runtime 'tflite', one
        interpreter per frame shape; with grey-level int8 edges, I420 frames stay uint8 from the decoder to the
        encoder).
      scale: its factor s.
      precision: 'float32', 'mixed_bfloat16' or 'bfloat16' (:func:`srlib.precision.with_precision`:
        the model is cloned with its weights; the policy it was saved with is ignored);
        'auto': 'mixed_bfloat16' where bfloat16 is native, else 'float32' (emulated bfloat16 is slower).
      jit_compile: compile the network with XLA (runtime 'tensorflow' only).
      name: label for tables.
      runtime: 'tensorflow', or 'tflite' (float32 only: the XNNPACK CPU kernels of
        :class:`srlib.inference.lite.LiteNet`, same output, about 1.4x faster on an AVX2 CPU);
        'auto': 'tflite' for float32 without XLA on a machine with no GPU, unless the model has a
        Conv2DTranspose (XNNPACK ran FSRCNN's 2.6x slower than TensorFlow on a 2-core Zen 4) or a bicubic
        ``ResizeUpscale`` (TFLite has no ResizeBicubic kernel); else 'tensorflow'.
    """

    def __init__(self, model, scale, precision="float32", jit_compile=False, name=None, runtime="auto"):
        lite = isinstance(model, LiteFile)
        if (model.channels if lite else model.input_shape[-1]) != 1:
            raise ValueError(f"{model.source if lite else model.name}: FastLuma needs a 1-channel (Y) model")
        precision = inference_precision(precision)
        if lite and runtime == "auto":
            runtime = "tflite"
        elif runtime == "auto":  # XNNPACK runs transposed convolutions ~2.6x slower than TensorFlow's CPU kernels
            cpu_only = not tf.config.list_physical_devices("GPU")
            deconv = any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in model.layers)
            bicubic = any(isinstance(layer, ResizeUpscale) and layer.method == "bicubic" for layer in model.layers)
            xnnpack = precision == "float32" and not jit_compile and cpu_only and not deconv and not bicubic
            runtime = "tflite" if xnnpack else "tensorflow"
        if runtime not in ("tensorflow", "tflite"):
            raise ValueError(f"runtime must be 'tensorflow', 'tflite' or 'auto', not {runtime!r}")
        if runtime == "tflite" and (precision != "float32" or jit_compile):
            raise ValueError("runtime 'tflite' runs float32 without XLA only")
        if lite and runtime != "tflite":
            raise ValueError(f"{model.source}: a TFLite model runs on runtime 'tflite' only")
        self.model = model if lite else with_precision(model, precision)
        self.scale, self.precision, self.jit_compile, self.runtime = scale, precision, jit_compile, runtime
        tag = " xla" if jit_compile else " tflite" if runtime == "tflite" else ""
        label = Path(model.source).stem if lite else model.name
        self.name = name or (f"{label} tflite{' int8' if model.int8 else ''}" if lite else f"{label} {precision}{tag}")
        # I420 luma goes through as uint8 (:meth:`srlib.inference.lite.LiteFile.grey_levels`)
        self.grey = lite and model.grey
        self._i420 = I420Merge(lite=runtime == "tflite")
        self._fns = {}

    def _functions(self, n, h, w):
        """(split_rgb, net, merge_rgb) for batches of n frames of h x w."""
        if (n, h, w) not in self._fns:
            s, model = self.scale, self.model

            @tf.function(input_signature=[tf.TensorSpec((n, h, w, 3), tf.uint8)])
            def split_rgb(rgb):
                ycc = color.rgb_to_ycbcr(tf.cast(rgb, tf.float32) / 255.0)
                return ycc[..., :1], ycc[..., 1:]

            @tf.function(input_signature=[tf.TensorSpec((n, h * s, w * s, 1), tf.float32), tf.TensorSpec((n, h, w, 2))])
            def merge_rgb(y, cbcr):
                return quantize(luma_merge(y, cbcr, s), uint8=True)

            if isinstance(model, LiteFile):
                net = LiteFile(model.blob, shape=(n, h, w, 1))
            elif self.runtime == "tflite":
                net = LiteNet(model, (n, h, w, 1))
            else:
                run = tf.function(lambda y: tf.cast(model(y, training=False), tf.float32),
                                  input_signature=[tf.TensorSpec((n, h, w, 1), tf.float32)],
                                  jit_compile=self.jit_compile)
                net = lambda y: run(y).numpy()  # noqa: E731
            self._fns[n, h, w] = (split_rgb, net, merge_rgb)
        return self._fns[n, h, w]

    def compile(self, n, h, w, quality=False, i420=False):
        """Build and run every stage once on zeros for (n, h, w) frames; returns the seconds it took.

        ``i420``: the frames will come as I420 planes (see :meth:`split`).
        """
        t = time.perf_counter()
        frames = np.zeros((n, h * 3 // 2, w) if i420 else (n, h, w, 3), np.uint8)
        y, cbcr = self.split(frames)
        self.merge(self.net(y), cbcr, quality)
        return time.perf_counter() - t

    def split(self, frames):
        """Frames -> (Y (N, h, w, 1), CbCr), float32 arrays in [0, 1].

        ``frames``: uint8 RGB (N, h, w, 3), CbCr then (N, h, w, 2); or uint8 I420
        planes (N, h * 3 // 2, w) (:func:`split_i420`), CbCr then (N, h / 2, w / 2, 2), and Y uint8 for a model
        with grey-level edges (:attr:`grey`).
        """
        if frames.ndim == 3:
            return split_i420(frames, grey=self.grey)
        y, cbcr = self._functions(*frames.shape[:3])[0](frames)
        return y.numpy(), cbcr.numpy()

    def net(self, y):
        """Y (N, h, w, 1) -> SR Y (N, h * s, w * s, 1): float32, not clipped; uint8 grey levels from uint8 Y (a model
        with grey-level edges, :attr:`grey`)."""
        engine = self._functions(*y.shape[:3])[1]
        if y.dtype == np.uint8:
            return engine.grey_levels(y)
        return np.asarray(engine(np.asarray(y, np.float32)))

    def merge(self, y, cbcr, quality=False):
        """SR Y (N, H, W, 1) (float, or uint8 from :meth:`net`) and LR CbCr from :meth:`split` -> uint8 output frames.

        ``quality=True`` (CbCr from RGB frames only): RGB (N, H, W, 3) by :func:`luma_merge`,
        the same image as :class:`ModelUpscaler`. ``quality=False``: I420 planes by :class:`I420Merge`.
        """
        if not quality:
            return self._i420(y, cbcr)
        n, hs, ws = y.shape[:3]
        return self._functions(n, hs // self.scale, ws // self.scale)[2](y, cbcr).numpy()
