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
  (:func:`mixture`, the Real-ESRGAN idea); benchmark seed (8, 8), each test image its own draws.
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
import zlib
from fractions import Fraction

import numpy as np
import tensorflow as tf

from srlib.codec import h264, jpeg
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


# -- registry entries: fn(hr, scale, seed, <parameters>, name) -----------------------------------------------------
# A parameter is one number (fixed) or a (low, high) range drawn per image; ``name`` names the entry in errors.


def _range(name, param, value, low, high):
    """(lo, hi) floats of ``value``: one number (lo = hi) or a (lo, hi) pair within [low, high]; else a one-line
    ValueError naming the entry."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    numbers = len(pair) == 2 and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in pair)
    if not numbers or not low <= pair[0] <= pair[1] <= high:
        raise ValueError(f"{name}: {param}={value!r}; want a number or a (low, high) range within [{low}, {high}]")
    return float(pair[0]), float(pair[1])


def _uniform(seed, n, lo_hi, log=False):
    """(n,) float32 draws from U(lo, hi) (log-uniform with ``log``) under a stateless seed; lo = hi: that value."""
    lo, hi = lo_hi
    if lo == hi:
        return tf.fill([n], tf.constant(lo, tf.float32))
    if log:
        return tf.exp(tf.random.stateless_uniform([n], seed, math.log(lo), math.log(hi)))
    return tf.random.stateless_uniform([n], seed, lo, hi)


def _from_unit(u, lo_hi, integer=False, log=False):
    """Draws of U(lo, hi) (integers lo..hi with ``integer``; log-uniform with ``log``) from uniforms ``u`` in [0, 1)."""
    lo, hi = lo_hi
    if integer:
        return tf.cast(tf.minimum(tf.floor(lo + u * (hi + 1 - lo)), hi), tf.int32)
    if log:
        return tf.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


def _integer_scale(name, scale):
    if not float(scale).is_integer():
        raise ValueError(f"{name}: needs an integer scale, not {scale}")
    return int(scale)


def _radius(sigma_max):
    """Kernel radius of the blur entries: 4 sigma (the mass left out is below 1e-3)."""
    return max(1, math.ceil(4 * sigma_max))


def blur_iso(hr, scale, seed, sigma=(0.5, 2.5), name="blur_iso"):
    """Isotropic Gaussian blur (std ``sigma`` in HR pixels, one per image) then every ``scale``-th pixel from
    ``scale // 2`` (for an odd scale the LR pixel centres of MATLAB's bicubic). LR side = side / scale."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s = _range(name, "sigma", sigma, 0.1, 8.0)
    scale = _integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    sig = _uniform(seed, tf.shape(x)[0], s)
    y = blur_per_image(x, gaussian_kernel2d(sig, sig, 0.0, _radius(s[1])), scale, scale // 2)
    return y[0] if squeeze else y


def blur_aniso(hr, scale, seed, sigma_1=(0.5, 3.0), sigma_2=(0.5, 3.0), theta=(0.0, math.pi), name="blur_aniso"):
    """Anisotropic Gaussian blur (:func:`gaussian_kernel2d`: stds ``sigma_1`` along the angle ``theta`` (radians from
    the column axis towards the row axis) and ``sigma_2`` across it, in HR pixels, one kernel per image) then every
    ``scale``-th pixel from ``scale // 2``."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s1, s2 = (_range(name, p, v, 0.1, 8.0) for p, v in (("sigma_1", sigma_1), ("sigma_2", sigma_2)))
    th = _range(name, "theta", theta, 0.0, math.pi)
    scale = _integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    n = tf.shape(x)[0]
    k = gaussian_kernel2d(_uniform(seed, n, s1), _uniform(seed + [0, 1], n, s2), _uniform(seed + [0, 2], n, th),
                          _radius(max(s1[1], s2[1])))
    y = blur_per_image(x, k, scale, scale // 2)
    return y[0] if squeeze else y


def bicubic_noise(hr, scale, seed, sigma=(0.0, 0.03), peak=(200.0, 5000.0), name="bicubic_noise"):
    """MATLAB bicubic, then :func:`sensor_noise` at the LR: read noise ``sigma`` uniform, ``peak`` log-uniform, one
    of each per image; not rounded."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    s, p = _range(name, "sigma", sigma, 0.0, 0.5), _range(name, "peak", peak, 1.0, 1e6)
    lr, squeeze = as_batch(tf.clip_by_value(bicubic(hr, scale), 0.0, 1.0))
    n = tf.shape(lr)[0]
    y = sensor_noise(lr, _uniform(seed, n, s), _uniform(seed + [0, 1], n, p, log=True), seed + [0, 2])
    return y[0] if squeeze else y


def bicubic_jpeg(hr, scale, seed, quality=(30, 95), name="bicubic_jpeg"):
    """MATLAB bicubic, rounded, then :func:`jpeg` at an integer ``quality`` drawn uniformly per image."""
    seed = tf.convert_to_tensor(seed, tf.int32)
    q = _range(name, "quality", quality, 1, 100)
    lr, squeeze = as_batch(quantize(bicubic(hr, scale)))
    y = jpeg(lr, _from_unit(tf.random.stateless_uniform(tf.shape(lr)[:1], seed), q, integer=True))
    return y[0] if squeeze else y


def _crfs(name, crf, seed, n):
    """n integer CRFs drawn uniformly from ``crf`` (a number or a range within x264's 0..51) by a numpy seed pair."""
    lo, hi = _range(name, "crf", crf, 0, 51)
    return np.random.default_rng([int(s) for s in seed]).integers(int(lo), int(hi) + 1, n)


def bicubic_h264(hr, scale, seed, crf=(18, 38), clip=False, name="bicubic_h264"):
    """MATLAB bicubic, rounded, then :func:`h264` at an integer ``crf`` drawn uniformly per image (per clip with
    ``clip``); numpy in and out (out of graph)."""
    lr = np.asarray(quantize(bicubic(tf.convert_to_tensor(hr, tf.float32), scale)))
    return h264(lr, _crfs(name, crf, seed, 1 if clip or lr.ndim == 3 else len(lr)), clip)


def _image_rng(seed, x):
    """The numpy generator of image ``x`` (float in [0, 1]) under a seed pair: the seed and a CRC of its uint8 levels,
    so one seed (a fixed benchmark seed included) gives each distinct image its own draws."""
    return np.random.default_rng([*(int(v) for v in seed), zlib.crc32(np.round(x * 255).astype(np.uint8).tobytes())])


def bicubic_codec(hr, scale, seed, quality=(30, 95), crf=(18, 38), p=(0.2, 0.4, 0.4), pan=False,
                  name="bicubic_codec"):
    """MATLAB bicubic, rounded, then per image one of: nothing, :func:`jpeg` at an integer quality drawn from
    ``quality``, :func:`h264` (one intra frame; with ``pan`` the image's frame of a panned clip instead, a P or B
    frame: :func:`bicubic_h264_pan`) at an integer CRF drawn from ``crf``, with probabilities ``p``: the
    downscaled-then-compressed input of photos and video, without the blur and noise of :func:`mixture`. (H, W, C)
    or (N, H, W, C) floats in [0, 1] -> (H / scale, W / scale, C) or (N, ...) uint8 levels as float32; numpy in and
    out (out of graph)."""
    (q_lo, q_hi), (c_lo, c_hi) = _range(name, "quality", quality, 1, 100), _range(name, "crf", crf, 0, 51)
    p = np.asarray(p, float)
    if p.shape != (3,) or (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"{name}: p={tuple(p)}; want three non-negative probabilities (none, JPEG, H.264)")
    hr = np.asarray(hr, np.float32)
    lr = np.asarray(quantize(bicubic(tf.convert_to_tensor(hr), scale)))
    out, batch = [], lr.ndim == 4
    for image, x in zip(hr if batch else hr[None], lr if batch else lr[None], strict=True):
        rng = _image_rng(seed, x)
        kind = rng.choice(3, p=p / p.sum())
        q, c = rng.integers(int(q_lo), int(q_hi) + 1), rng.integers(int(c_lo), int(c_hi) + 1)
        out.append(x if kind == 0 else np.asarray(jpeg(x, int(q))) if kind == 1
                   else bicubic_h264_pan(image, scale, seed, int(c), name=name) if pan else h264(x, int(c)))
    return np.stack(out) if batch else out[0]


def bicubic_h264_pan(hr, scale, seed, crf=(18, 38), frames=8, speed=(0.0, 4.0), name="bicubic_h264_pan"):
    """A still image panned into a clip of ``frames`` frames, each MATLAB bicubic and rounded, the clip encoded as one
    H.264 stream (:func:`h264` with ``clip``) at an integer CRF drawn from ``crf``; the LR of the frame that is the
    image: (H / scale, W / scale, C) uint8 levels as float32 from (H, W, C) floats in [0, 1] (or (N, ...) from
    (N, ...), each image its own clip); numpy in and out (out of graph).

    Video LR is mostly P and B frames: motion-compensated prediction from other frames plus a quantised residual,
    artefacts that one intra frame (:func:`bicubic_h264`) does not have. Per image (draws from the seed and its
    levels): a velocity in HR pixels per frame (direction U(0, 2 pi), magnitude U(``speed``)) and the target frame
    k0 in 1..frames - 1 (never the first, intra, frame). Frame t is the image moved by round((t - k0) * velocity)
    HR pixels (reflect-padded, cropped to H x W; whole HR pixels are sub-pixel motion in the LR), so frame k0 is
    the image itself and its LR is aligned with the HR.
    """
    (c_lo, c_hi), (s_lo, s_hi) = _range(name, "crf", crf, 0, 51), _range(name, "speed", speed, 0.0, 64.0)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 2:
        raise ValueError(f"{name}: frames={frames!r}; want an integer of at least 2")
    hr = np.asarray(hr, np.float32)
    out = []
    for x in hr if hr.ndim == 4 else hr[None]:
        rng = _image_rng(seed, x)
        angle, v, k0 = rng.uniform(0, 2 * math.pi), rng.uniform(s_lo, s_hi), int(rng.integers(1, frames))
        q = int(rng.integers(int(c_lo), int(c_hi) + 1))
        shifts = np.round(np.outer(np.arange(frames) - k0, [v * math.sin(angle), v * math.cos(angle)])).astype(int)
        pad, (h, w) = int(np.abs(shifts).max()), x.shape[:2]
        padded = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        clip = np.stack([padded[pad - dy : pad - dy + h, pad - dx : pad - dx + w] for dy, dx in shifts])
        out.append(h264(np.asarray(quantize(bicubic(tf.convert_to_tensor(clip), scale))), q, clip=True)[k0])
    return np.stack(out) if hr.ndim == 4 else out[0]


def _image_uniforms(seed, x, k):
    """(N, k) uniforms in [0, 1): image i's from ``seed`` with its second half xor-ed with a hash of its uint8
    levels, so one seed gives each distinct image its own draws (a fixed benchmark seed included), whatever its
    place in the batch."""
    seed = tf.convert_to_tensor(seed, tf.int32)

    def draws(image):
        code = tf.io.serialize_tensor(quantize(image, uint8=True))
        salt = tf.cast(tf.strings.to_hash_bucket_fast(code, 2**31 - 1), tf.int32)
        return tf.random.stateless_uniform([k], tf.stack([seed[0], tf.bitwise.bitwise_xor(seed[1], salt)]))

    return tf.map_fn(draws, x, fn_output_signature=tf.float32)


MIXTURE_STEPS = ("blur", "resize", "noise", "jpeg")  # the mixture's steps; their order is drawn per call


def mixture(hr, scale, seed, sigma_blur=(0.2, 3.0), sigma_noise=(0.0, 0.03), peak=(200.0, 5000.0), quality=(30, 95),
            name="mixture"):
    """Blur, resize to the LR size, sensor noise and JPEG in a random order with random parameters: the randomised
    degradation of Real-ESRGAN (Wang et al. 2021) with the shuffled order of BSRGAN (Zhang et al. 2021); rounded.

    Per image: blur with probability 0.8 by a Gaussian kernel (isotropic or anisotropic, equally likely; stds
    U(``sigma_blur``) in HR pixels, divided by the scale when the blur comes after the resize; angle U(0, pi));
    resize by MATLAB bicubic, antialiased bilinear, area or nearest, equally likely, to exactly side / scale; read
    noise U(``sigma_noise``) plus, with probability 0.5, shot noise of log-uniform ``peak`` (:func:`sensor_noise`);
    JPEG at quality U{``quality``}. The order is one of the 24, drawn per call (a training batch) from the seed and the
    first image. Image i's draws come from ``seed`` and a hash of its pixels (:func:`_image_uniforms`), so the
    benchmark form gives every test image its own draws, the same every time.
    """
    seed = tf.convert_to_tensor(seed, tf.int32)
    sb, sn = _range(name, "sigma_blur", sigma_blur, 0.1, 8.0), _range(name, "sigma_noise", sigma_noise, 0.0, 0.5)
    pk, q = _range(name, "peak", peak, 1.0, 1e6), _range(name, "quality", quality, 1, 100)
    scale = _integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    x = tf.cast(x, tf.float32)
    shape = tf.shape(x)
    lr_size = (shape[1] // scale, shape[2] // scale)
    u = _image_uniforms(seed, x, 14)
    order = tf.argsort(u[0, 10:14])  # slot -> step index of MIXTURE_STEPS
    after_resize = tf.argmax(tf.cast(tf.equal(order, 0), tf.int32)) > tf.argmax(tf.cast(tf.equal(order, 1), tf.int32))
    s1 = _from_unit(u[:, 2], sb)
    s2 = tf.where(u[:, 1] < 0.5, s1, _from_unit(u[:, 3], sb))

    def blur(x):
        f = tf.where(after_resize, 1.0 / scale, 1.0)
        y = blur_per_image(x, gaussian_kernel2d(s1 * f, s2 * f, math.pi * u[:, 4], _radius(sb[1])))
        return tf.where(u[:, 0, None, None, None] < 0.8, y, x)

    def resize_(x):
        kernels = [imresize(x, size=lr_size), tf.image.resize(x, lr_size, "bilinear", antialias=True),
                   tf.image.resize(x, lr_size, "area"), tf.image.resize(x, lr_size, "nearest")]
        which = tf.minimum(tf.cast(u[:, 5] * 4, tf.int32), 3)
        y = tf.gather(tf.stack([tf.cast(k, tf.float32) for k in kernels], axis=1), which, axis=1, batch_dims=1)
        return tf.clip_by_value(y, 0.0, 1.0)

    def noise(x):
        shot = tf.where(u[:, 7] < 0.5, _from_unit(u[:, 8], pk, log=True), 0.0)
        return sensor_noise(x, _from_unit(u[:, 6], sn), shot, seed + [0, 11])

    def compress(x):
        return jpeg(x, _from_unit(u[:, 9], q, integer=True))

    steps = (blur, resize_, noise, compress)
    for t in range(len(steps)):
        x = tf.switch_case(order[t], [lambda f=f, x=x: f(x) for f in steps])
    y = quantize(x)
    return y[0] if squeeze else y


def mixture_h264(hr, scale, seed, crf=(18, 38), name="mixture_h264"):
    """:func:`mixture` at ``seed`` (its default ranges), then :func:`h264` at an integer ``crf`` drawn uniformly per
    image; numpy in and out (out of graph)."""
    crfs = _crfs(name, crf, seed, 1 if np.ndim(hr) == 3 else len(hr))
    lr = mixture(tf.convert_to_tensor(hr, tf.float32), scale, tf.constant(seed, tf.int32)).numpy()
    return h264(lr, crfs)


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
