"""Degradations that turn an HR image into an LR one, and the one registry of them.

Every op takes a float image in [0, 1], HWC or NHWC, and returns the same rank; all are graph-safe (dynamic
sizes allowed), so they run inside ``tf.data.Dataset.map`` and on batches. MATLAB's bicubic ``imresize`` is
:mod:`srlib.resize`.

:data:`REGISTRY` maps a name (a recipe's ``degradation``) to a :class:`Degradation`: its function of
(HR, scale, seed) and the fixed seed of its benchmark form. Training draws a seed per batch; validation and
test use :func:`benchmark_lr`, the one benchmark LR: HR cropped to a multiple of the scale, the degradation
with its benchmark seed, rounded to uint8 levels (:func:`srlib.io.quantize`).

* ``bicubic`` -- MATLAB ``imresize(x, 1 / scale, 'bicubic')``, rounded: the benchmark LR of SR papers.
* ``blur_decimate`` -- Gaussian blur, then FIR low-pass + subsample (``scipy.signal.decimate(ftype='fir')``).
* ``pixelate_noise`` -- block averaging plus Gaussian noise (sigma 0.02; benchmark seed (7, 7)).
* ``area`` / ``bilinear`` -- TF's resize (area; antialiased bilinear).
* ``blur`` / ``noise`` / ``jpeg`` / ``round`` -- size-keeping steps for :func:`chain`, which composes
  entries into a new one (``register(chain("real", [...]))``).

An entry with ``in_graph=False`` (a video codec run once through ffmpeg) is a numpy function of one image: the
benchmark LR runs it; ``tf.data`` training refuses it (its LR must be made once and cached).
"""

import dataclasses
from fractions import Fraction

import numpy as np
import scipy.signal
import tensorflow as tf

from srlib.io import quantize
from srlib.resize import as_batch, imresize


def crop_step(scale):
    """The multiple an HR side is cropped to for ``scale``: the scale, or p for a fraction p / q (x2.5: 5)."""
    return Fraction(scale).limit_denominator(16).numerator


def mod_crop(image, scale):
    """Crop H and W (HWC or NHWC) down to multiples of :func:`crop_step` of ``scale`` (bottom/right)."""
    step = crop_step(scale)
    shape = tf.shape(image)
    h = shape[-3] - shape[-3] % step
    w = shape[-2] - shape[-2] % step
    return image[..., :h, :w, :]


def bicubic(hr, scale):
    """MATLAB bicubic by 1 / ``scale`` of HR whose sides are multiples of :func:`crop_step`, not rounded.

    A non-integer scale p / q (x1.5, x2.5) resizes to exactly side * q / p.
    """
    if float(scale).is_integer():
        return imresize(hr, scale=1.0 / scale)
    frac = Fraction(scale).limit_denominator(16)
    shape = tf.shape(hr)
    return imresize(hr, size=(shape[-3] * frac.denominator // frac.numerator,
                              shape[-2] * frac.denominator // frac.numerator))


def gaussian_kernel1d(sigma, truncate=4.0):
    """Normalised 1-D Gaussian taps of radius ``int(truncate * sigma + 0.5)`` (as scipy.ndimage)."""
    radius = int(truncate * sigma + 0.5)
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def _mirror_pad(x, axis, pad):
    """Pad ``axis`` of ``x`` by ``pad`` on both sides with mirrored samples (d c b a | a b c d),
    repeating the reflection for any pad length (scipy.ndimage mode 'reflect')."""
    n = tf.shape(x)[axis]
    period = 2 * n
    i = tf.math.floormod(tf.range(-pad, n + pad), period)
    return tf.gather(x, tf.where(i < n, i, period - 1 - i), axis=axis)


def _separable(x, k_h, k_w, stride=1, pad_mode="reflect"):
    """Correlate NHWC ``x`` with 1-D taps along H then W, per channel.

    ``pad_mode`` 'reflect' mirrors the border (scipy.ndimage 'reflect'); 'zeros'
    pads with zeros. Output is 'same'-sized then subsampled by ``stride``
    starting at index 0.
    """
    c = tf.shape(x)[-1]
    n = tf.shape(x)[0]
    ph, pw = len(k_h) // 2, len(k_w) // 2
    if pad_mode == "reflect":
        x = _mirror_pad(_mirror_pad(x, 1, ph), 2, pw)
    else:
        x = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
    hp, wp = tf.shape(x)[1], tf.shape(x)[2]
    # Fold channels into the batch so one single-channel conv serves any C.
    x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, hp, wp, 1])
    kh = tf.constant(np.asarray(k_h)[:, None, None, None], x.dtype)
    kw = tf.constant(np.asarray(k_w)[None, :, None, None], x.dtype)
    x = tf.nn.conv2d(x, kh, strides=[1, stride, 1, 1], padding="VALID")
    x = tf.nn.conv2d(x, kw, strides=[1, 1, stride, 1], padding="VALID")
    s = tf.shape(x)
    return tf.transpose(tf.reshape(x, [n, c, s[1], s[2]]), [0, 2, 3, 1])


def gaussian_blur(image, sigma=1.0, truncate=4.0):
    """Gaussian blur (HWC or NHWC), mirror border, like ``skimage.filters.gaussian(mode='reflect')``."""
    x, squeeze = as_batch(image)
    k = gaussian_kernel1d(sigma, truncate)
    y = _separable(x, k, k)
    return y[0] if squeeze else y


def decimate_fir(q):
    """Taps of ``scipy.signal.decimate(..., ftype='fir')``: 20q+1 Hamming-windowed low-pass."""
    return scipy.signal.firwin(20 * q + 1, 1.0 / q, window="hamming")


def blur_decimate(image, scale, sigma=1.0):
    """Gaussian blur then decimation by ``scale`` along H and W (seed-001 degradation).

    Decimation is ``scipy.signal.decimate(x, scale, ftype='fir', axis)`` on each
    axis: zero-padded, zero-phase FIR low-pass, then every ``scale``-th sample from
    the first. (scipy's default IIR filter runs forward-backward with its own
    edge padding; the FIR form is the one that is exact as a graph op.)
    Output side = ceil(side / scale). ``sigma=0`` skips the blur.
    """
    x, squeeze = as_batch(image)
    if sigma > 0:
        x = gaussian_blur(x, sigma)
    k = decimate_fir(scale)
    y = _separable(x, k, k, stride=scale, pad_mode="zeros")
    return y[0] if squeeze else y


def resize(image, scale, method="area", antialias=False):
    """TF resize by ``scale`` (e.g. 1/3): method 'area', 'bilinear', 'nearest' or 'bicubic'.

    Output side = round(side * scale). Not the benchmark resize -- see :func:`imresize`.
    """
    x = tf.convert_to_tensor(image)
    hw = tf.cast(tf.shape(x)[-3:-1], tf.float64) * scale
    size = tf.cast(tf.round(hw), tf.int32)
    return tf.cast(tf.image.resize(x, size, method=method, antialias=antialias), x.dtype)


def add_noise(image, sigma, seed):
    """Add N(0, sigma^2) noise (sigma in [0,1] units) with a stateless ``seed`` pair; clip to [0,1]."""
    x = tf.convert_to_tensor(image)
    noise = tf.random.stateless_normal(tf.shape(x), seed=seed, stddev=sigma, dtype=x.dtype)
    return tf.clip_by_value(x + noise, 0.0, 1.0)


def pixelate_noise(image, scale, sigma=0.02, seed=(0, 0)):
    """Pixelation (mean of each ``scale`` x ``scale`` block) then Gaussian noise (seed-000 degradation).

    Output side = floor(side / scale); ``seed`` is a stateless pair of ints.
    """
    x, squeeze = as_batch(image)
    y = tf.nn.avg_pool2d(x, scale, scale, padding="VALID")
    if sigma > 0:
        y = add_noise(y, sigma, seed)
    return y[0] if squeeze else y


def jpeg(image, quality=75):
    """JPEG round trip at ``quality`` (HWC or NHWC, 1 or 3 channels)."""
    x, squeeze = as_batch(image)
    dtype = x.dtype
    y = tf.map_fn(
        lambda im: tf.image.adjust_jpeg_quality(tf.cast(im, tf.float32), quality),
        x,
        fn_output_signature=tf.float32,
    )
    y = tf.cast(y, dtype)
    return y[0] if squeeze else y


@dataclasses.dataclass(frozen=True)
class Degradation:
    """One registered HR -> LR degradation.

    Attributes:
      name: its key in :data:`REGISTRY`.
      fn: ``fn(hr, scale, seed, **params) -> lr``. In graph: TF ops on (H, W, C) or (N, H, W, C) floats in
        [0, 1] with sides multiples of :func:`crop_step` of ``scale``, ``seed`` a stateless (2,) int32 pair.
        Out of graph: numpy, one (H, W, C) float32 image, ``seed`` a pair of ints.
      benchmark_seed: the fixed seed of its benchmark form (validation and test LR).
      in_graph: False for a degradation that cannot run inside ``tf.data`` (a codec through ffmpeg).
    """

    name: str
    fn: object
    benchmark_seed: tuple = (0, 0)
    in_graph: bool = True

    def __call__(self, hr, scale, seed=None, **params):
        """The LR of ``hr`` at ``scale`` (``seed``: default the benchmark seed), unrounded where ``fn`` is."""
        seed = self.benchmark_seed if seed is None else seed
        return self.fn(hr, scale, tf.convert_to_tensor(seed, tf.int32) if self.in_graph else seed, **params)


def _op(fn):
    """``fn`` without AutoGraph conversion: the ops need none, and converting them would also transpile scipy's
    filter design (about 10 s when a pipeline with 'blur_decimate' is first built)."""
    return tf.autograph.experimental.do_not_convert(fn)


REGISTRY = {e.name: e for e in [
    Degradation("bicubic", _op(lambda x, scale, seed: quantize(bicubic(x, scale)))),
    Degradation("blur_decimate", _op(lambda x, scale, seed, sigma=1.0: blur_decimate(x, scale, sigma))),
    Degradation("pixelate_noise", _op(lambda x, scale, seed, sigma=0.02: pixelate_noise(x, scale, sigma, seed)),
                benchmark_seed=(7, 7)),
    Degradation("area", _op(lambda x, scale, seed: resize(x, 1.0 / scale, "area"))),
    Degradation("bilinear", _op(lambda x, scale, seed: resize(x, 1.0 / scale, "bilinear", antialias=True))),
    Degradation("blur", _op(lambda x, scale, seed, sigma=1.0: gaussian_blur(x, sigma))),
    Degradation("noise", _op(lambda x, scale, seed, sigma=0.01: add_noise(x, sigma, seed))),
    Degradation("jpeg", _op(lambda x, scale, seed, quality=75: jpeg(x, quality))),
    Degradation("round", _op(lambda x, scale, seed: quantize(x))),
]}  # name -> Degradation; add more with register()


def register(entry):
    """Add ``entry`` (a :class:`Degradation`) to :data:`REGISTRY` under its name; returns it."""
    REGISTRY[entry.name] = entry
    return entry


def get(degradation):
    """The :class:`Degradation` of a registry name (or ``degradation`` itself when it is one)."""
    if isinstance(degradation, Degradation):
        return degradation
    if degradation not in REGISTRY:
        raise ValueError(f"unknown degradation {degradation!r}; one of {', '.join(sorted(REGISTRY))}")
    return REGISTRY[degradation]


def chain(name, steps, benchmark_seed=(0, 0)):
    """A :class:`Degradation` that applies registry entries in order: ``steps`` = [(name, params), ...].

    Step i gets the seed + (0, 7919 * (i + 1)), so one seed fixes every step's noise.

    Example:
      real = register(chain("real", [("blur", {"sigma": 1.2}), ("bicubic", {}), ("noise", {"sigma": 0.01}),
                                     ("jpeg", {"quality": 80})]))
      lr = real(hr, 3, seed=(1, 2))
    """
    entries = [(get(step), dict(params)) for step, params in steps]
    if not all(e.in_graph for e, _ in entries):
        raise ValueError(f"{name}: chain() composes in-graph degradations only")

    def fn(x, scale, seed):
        for i, (entry, params) in enumerate(entries):
            x = entry.fn(x, scale, seed + tf.constant([0, 7919 * (i + 1)]), **params)
        return x

    return Degradation(name, fn, tuple(benchmark_seed))


def benchmark_lr(hr, scale, degradation="bicubic"):
    """The benchmark pair of HR (H, W, C) or (N, H, W, C), float in [0, 1]: (HR cropped to a multiple of
    :func:`crop_step` of ``scale``, its LR by ``degradation`` with the benchmark seed, rounded to uint8 levels),
    float32 arrays. Training validates and the benchmark tests on exactly this LR.
    """
    entry = get(degradation)
    hr = mod_crop(tf.constant(hr, tf.float32), scale).numpy()
    lr = entry(hr, scale)
    return hr, np.asarray(quantize(tf.cast(lr, tf.float32) if tf.is_tensor(lr) else lr))
