"""Degradations that turn an HR image into an LR one, and the one registry of them.

Every entry takes a float image in [0, 1], HWC or NHWC, and returns the same rank; all but the video codec are
graph-safe (dynamic sizes allowed), so they run inside ``tf.data.Dataset.map`` and on batches. The entries are built
on the ops of :mod:`srlib.imaging` (kernels, filtering, sampling, noise), :mod:`srlib.codec` (JPEG, H.264) and
MATLAB's bicubic ``imresize`` (:mod:`srlib.resize`).

:data:`REGISTRY` maps a name (a recipe's ``degradation``) to a :class:`Degradation`: its function of
(HR, scale, seed, params) and its benchmark form (a fixed seed and fixed parameters). Training draws a seed per
batch and the random parameters per image from their ranges; validation and test use :func:`benchmark_lr`, the
one benchmark LR: HR cropped to a multiple of the scale, the degradation in its benchmark form, rounded to uint8
levels (:func:`srlib.io.quantize`). Training form -> benchmark form (x3 wherever a size is in HR pixels):

* ``bicubic`` -- MATLAB ``imresize(x, 1 / scale, 'bicubic')``, rounded: the benchmark LR of SR papers.
* ``blur_decimate`` -- Gaussian blur, then FIR low-pass + subsample (``scipy.signal.decimate(ftype='fir')``).
* ``pixelate_noise`` -- block averaging plus Gaussian noise (sigma 0.02; benchmark seed (7, 7)).
* ``area`` / ``bilinear`` / ``nearest`` -- TF's resize (area; antialiased bilinear; nearest, which keeps pixel
  ``scale // 2`` of each block).
* ``blur_iso`` / ``blur_aniso`` -- a Gaussian kernel, then every ``scale``-th pixel from ``scale // 2`` (the
  classic blur + s-fold downsampler): isotropic sigma U(0.5, 2.5) -> 1.5; anisotropic sigma_1, sigma_2
  U(0.5, 3.0) at angle theta U(0, pi) -> (2.5, 1.0, pi / 4) (:func:`gaussian_kernel2d`).
* ``bicubic_noise`` -- bicubic, then sensor noise (:func:`sensor_noise`: shot noise of ``peak`` photo-electrons at
  white, log-uniform 200..5000 -> 1000, plus Gaussian read noise sigma U(0, 0.03) -> 0.01).
* ``bicubic_jpeg`` -- bicubic, rounded, then JPEG at quality U{30..95} -> 50 (:func:`jpeg`, PIL's to the bit).
* ``bicubic_h264`` -- bicubic, rounded, then H.264 (:func:`h264`: libx264, preset medium, yuv420p, one thread,
  each image one intra frame) at CRF U{18..38} -> 28; ``bicubic_h264_clip`` encodes (N, H, W, C) as one clip
  (the frames of one video, in order): MATLAB bicubic x3 then H.264 CRF 28 is its benchmark form.
* ``bicubic_h264_pan`` -- a still image panned into a short clip, bicubic, H.264 as one clip (CRF U{18..38} -> 28),
  the LR of the frame that is the image (a P or B frame): the inter-frame artefacts of video from still photos.
* ``bicubic_codec`` -- bicubic, rounded, then per image nothing (p 0.2), JPEG at quality U{30..95} (0.4) or H.264
  at CRF U{18..38} (0.4): downscaled-then-compressed input without blur or noise; each test image its own draw.
  ``bicubic_codec_pan`` -- the same, its H.264 the image's frame of a panned clip (``bicubic_h264_pan``).
* ``mixture`` -- blur, resize, noise and JPEG in a random order, each with random parameters
  (:func:`srlib.mixtures.mixture`, the Real-ESRGAN idea); benchmark seed (8, 8), each test image its own draws.
  ``mixture_h264`` -- the mixture, then H.264 at CRF U{18..38} -> 28.
* ``blur`` / ``noise`` / ``sensor_noise`` / ``jpeg`` / ``round`` -- size-keeping steps for :func:`chain`, which
  composes entries into a new one (``register(chain("real", [...]))``).

An entry with ``in_graph=False`` (a video codec run once through ffmpeg) is a numpy function of one image: the
benchmark LR runs it; ``tf.data`` cannot, so the patch pipeline makes its LR once per training image and bank
seed, caches it, and crops aligned pairs from the cached LR (:func:`srlib.data.make_dataset`).
"""

import dataclasses
import functools
import inspect
import math
from fractions import Fraction

import numpy as np
import tensorflow as tf

from srlib.codec import jpeg
from srlib.imaging import (
    add_noise,
    blur_decimate,
    blur_per_image,
    gaussian_blur,
    gaussian_kernel2d,
    pixelate_noise,
    resize,
    sensor_noise,
)
from srlib.io import quantize
from srlib.mixtures import (
    bicubic_codec,
    bicubic_h264,
    bicubic_h264_pan,
    blur_radius,
    from_unit,
    integer_scale,
    mixture,
    mixture_h264,
    param_range,
    uniform_draws,
)
from srlib.resize import as_batch, bicubic


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


def blur_iso(hr, scale, seed, sigma=(0.5, 2.5), name="blur_iso"):
    """Isotropic Gaussian blur (std ``sigma`` in HR pixels, one per image) then every ``scale``-th pixel from
    ``scale // 2`` (for an odd scale the LR pixel centres of MATLAB's bicubic). LR side = side / scale."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s = param_range(name, "sigma", sigma, 0.1, 8.0)
    scale = integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    sig = uniform_draws(seed, tf.shape(x)[0], s)
    y = blur_per_image(x, gaussian_kernel2d(sig, sig, 0.0, blur_radius(s[1])), scale, scale // 2)
    return y[0] if squeeze else y


def blur_aniso(hr, scale, seed, sigma_1=(0.5, 3.0), sigma_2=(0.5, 3.0), theta=(0.0, math.pi), name="blur_aniso"):
    """Anisotropic Gaussian blur (:func:`gaussian_kernel2d`: stds ``sigma_1`` along the angle ``theta`` (radians from
    the column axis towards the row axis) and ``sigma_2`` across it, in HR pixels, one kernel per image) then every
    ``scale``-th pixel from ``scale // 2``."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s1, s2 = (param_range(name, p, v, 0.1, 8.0) for p, v in (("sigma_1", sigma_1), ("sigma_2", sigma_2)))
    th = param_range(name, "theta", theta, 0.0, math.pi)
    scale = integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    n = tf.shape(x)[0]
    k = gaussian_kernel2d(uniform_draws(seed, n, s1), uniform_draws(seed + [0, 1], n, s2),
                          uniform_draws(seed + [0, 2], n, th), blur_radius(max(s1[1], s2[1])))
    y = blur_per_image(x, k, scale, scale // 2)
    return y[0] if squeeze else y


def bicubic_noise(hr, scale, seed, sigma=(0.0, 0.03), peak=(200.0, 5000.0), name="bicubic_noise"):
    """MATLAB bicubic, then :func:`sensor_noise` at the LR: read noise ``sigma`` uniform, ``peak`` log-uniform, one
    of each per image; not rounded."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s, p = param_range(name, "sigma", sigma, 0.0, 0.5), param_range(name, "peak", peak, 1.0, 1e6)
    lr, squeeze = as_batch(tf.clip_by_value(bicubic(hr, scale), 0.0, 1.0))
    n = tf.shape(lr)[0]
    y = sensor_noise(lr, uniform_draws(seed, n, s), uniform_draws(seed + [0, 1], n, p, log=True), seed + [0, 2])
    return y[0] if squeeze else y


def bicubic_jpeg(hr, scale, seed, quality=(30, 95), name="bicubic_jpeg"):
    """MATLAB bicubic, rounded, then :func:`jpeg` at an integer ``quality`` drawn uniformly per image."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    q = param_range(name, "quality", quality, 1, 100)
    lr, squeeze = as_batch(quantize(bicubic(hr, scale)))
    y = jpeg(lr, from_unit(tf.random.stateless_uniform(tf.shape(lr)[:1], seed), q, integer=True))
    return y[0] if squeeze else y


@dataclasses.dataclass(frozen=True)
class Degradation:
    """One registered HR -> LR degradation.

    Attributes:
      name: its key in :data:`REGISTRY`.
      fn: ``fn(hr, scale, seed, **params) -> lr``. In graph: TF ops on (H, W, C) or (N, H, W, C) floats in
        [0, 1] with sides multiples of :func:`crop_step` of ``scale``, ``seed`` a stateless (2,) int32 pair.
        Out of graph: numpy, an (H, W, C) float32 image (or several), ``seed`` a pair of ints. Its keyword
        defaults are the training form (a range is drawn per image).
      benchmark_seed: the fixed seed of its benchmark form (validation and test LR).
      in_graph: False for a degradation that cannot run inside ``tf.data`` (a codec through ffmpeg).
      benchmark_params: the fixed parameters of its benchmark form (e.g. {'quality': 50} where training draws
        the quality from a range).
    """

    name: str
    fn: object
    benchmark_seed: tuple = (0, 0)
    in_graph: bool = True
    benchmark_params: dict = dataclasses.field(default_factory=dict)

    @property
    def params(self):
        """The names of the keyword parameters ``fn`` takes after (hr, scale, seed)."""
        return [p for p in list(inspect.signature(self.fn).parameters)[3:] if p != "name"]

    def check(self, params):
        """A one-line ValueError naming the entry when ``params`` holds a name ``fn`` does not take."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ValueError(f"{self.name}: unknown parameter {', '.join(unknown)}; it takes "
                             f"{', '.join(self.params) or 'none'}")

    def __call__(self, hr, scale, seed=None, **params):
        """The LR of ``hr`` at ``scale``, unrounded where ``fn`` is: the benchmark form (benchmark seed and
        parameters, ``params`` over them) when ``seed`` is None, else the training form at ``seed``."""
        self.check(params)
        if seed is None:
            seed, params = self.benchmark_seed, {**self.benchmark_params, **params}
        return self.fn(hr, scale, tf.convert_to_tensor(seed, tf.int32) if self.in_graph else
                       tuple(int(s) for s in seed), **params)


def _op(fn):
    """``fn`` without AutoGraph conversion: the ops need none, and converting them would also transpile scipy's
    filter design (about 10 s when a pipeline with 'blur_decimate' is first built)."""
    return functools.update_wrapper(tf.autograph.experimental.do_not_convert(fn), fn)  # keeps fn's signature


def _entry(name, fn, benchmark_seed=(0, 0), in_graph=True, **benchmark_params):
    """The :class:`Degradation` ``name`` of one of this module's entry functions (its ``name=`` bound)."""
    fn = functools.partial(fn, name=name)
    return Degradation(name, _op(fn) if in_graph else fn, benchmark_seed, in_graph, benchmark_params)


REGISTRY = {e.name: e for e in [
    Degradation("bicubic", _op(lambda x, scale, seed: quantize(bicubic(x, scale)))),
    Degradation("blur_decimate", _op(lambda x, scale, seed, sigma=1.0: blur_decimate(x, scale, sigma))),
    Degradation("pixelate_noise", _op(lambda x, scale, seed, sigma=0.02: pixelate_noise(x, scale, sigma, seed)),
                benchmark_seed=(7, 7)),
    Degradation("area", _op(lambda x, scale, seed: resize(x, 1.0 / scale, "area"))),
    Degradation("bilinear", _op(lambda x, scale, seed: resize(x, 1.0 / scale, "bilinear", antialias=True))),
    Degradation("nearest", _op(lambda x, scale, seed: resize(x, 1.0 / scale, "nearest"))),
    _entry("blur_iso", blur_iso, sigma=1.5),
    _entry("blur_aniso", blur_aniso, sigma_1=2.5, sigma_2=1.0, theta=math.pi / 4),
    _entry("bicubic_noise", bicubic_noise, (9, 9), sigma=0.01, peak=1000.0),
    _entry("bicubic_jpeg", bicubic_jpeg, quality=50),
    _entry("bicubic_h264", bicubic_h264, in_graph=False, crf=28),
    _entry("bicubic_h264_clip", functools.partial(bicubic_h264, clip=True), in_graph=False, crf=28),
    _entry("bicubic_h264_pan", bicubic_h264_pan, in_graph=False, crf=28),
    _entry("bicubic_codec", bicubic_codec, in_graph=False),
    _entry("bicubic_codec_pan", functools.partial(bicubic_codec, pan=True), in_graph=False),
    _entry("mixture", mixture, (8, 8)),
    _entry("mixture_h264", mixture_h264, (8, 8), in_graph=False, crf=28),
    Degradation("blur", _op(lambda x, scale, seed, sigma=1.0: gaussian_blur(x, sigma))),
    Degradation("noise", _op(lambda x, scale, seed, sigma=0.01: add_noise(x, sigma, seed))),
    Degradation("sensor_noise",
                _op(lambda x, scale, seed, sigma=0.01, peak=1000.0: sensor_noise(x, sigma, peak, seed))),
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
    for entry, params in entries:
        entry.check(params)
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
