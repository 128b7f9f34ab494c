"""The codec and mixture combinations of the degradation registry (:data:`srlib.degrade.REGISTRY`), and the
parameter draws every entry shares.

* ``bicubic_h264`` (``bicubic_h264_clip``), ``bicubic_h264_pan``, ``bicubic_codec`` (``bicubic_codec_pan``),
  ``mixture_h264``: MATLAB bicubic or the mixture, then a codec through ffmpeg (out of graph, numpy in and out).
* ``mixture``: blur, resize, sensor noise and JPEG in a random order with random parameters (graph-safe).

Each image's draws come from the seed and a hash of its pixels, so one fixed benchmark seed still gives every test
image its own degradation. :func:`param_range` checks a parameter (one number or a (low, high) range) with a one-line
error naming the entry; :func:`uniform_draws` and :func:`from_unit` draw it per image.
"""

import math
import zlib

import numpy as np
import tensorflow as tf

from srlib.codec import h264, jpeg
from srlib.imaging import blur_per_image, gaussian_kernel2d, sensor_noise
from srlib.io import quantize
from srlib.resize import as_batch, bicubic, imresize

# -- parameters of the registry entries: fn(hr, scale, seed, <parameters>, name) ---------------------------------
# A parameter is one number (fixed) or a (low, high) range drawn per image; ``name`` names the entry in errors.


def param_range(name, param, value, low, high):
    """(lo, hi) floats of ``value``: one number (lo = hi) or a (lo, hi) pair within [low, high]; else a one-line
    ValueError naming the entry."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    numbers = len(pair) == 2 and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in pair)
    if not numbers or not low <= pair[0] <= pair[1] <= high:
        raise ValueError(f"{name}: {param}={value!r}; want a number or a (low, high) range within [{low}, {high}]")
    return float(pair[0]), float(pair[1])


def uniform_draws(seed, n, lo_hi, log=False):
    """(n,) float32 draws from U(lo, hi) (log-uniform with ``log``) under a stateless seed; lo = hi: that value."""
    lo, hi = lo_hi
    if lo == hi:
        return tf.fill([n], tf.constant(lo, tf.float32))
    if log:
        return tf.exp(tf.random.stateless_uniform([n], seed, math.log(lo), math.log(hi)))
    return tf.random.stateless_uniform([n], seed, lo, hi)


def from_unit(u, lo_hi, integer=False, log=False):
    """Draws of U(lo, hi) (integers lo..hi with ``integer``; log-uniform with ``log``) from uniforms ``u`` in [0, 1)."""
    lo, hi = lo_hi
    if integer:
        return tf.cast(tf.minimum(tf.floor(lo + u * (hi + 1 - lo)), hi), tf.int32)
    if log:
        return tf.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


def integer_scale(name, scale):
    if not float(scale).is_integer():
        raise ValueError(f"{name}: needs an integer scale, not {scale}")
    return int(scale)


def blur_radius(sigma_max):
    """Kernel radius of the blur entries: 4 sigma (the mass left out is below 1e-3)."""
    return max(1, math.ceil(4 * sigma_max))


def _crfs(name, crf, seed, n):
    """n integer CRFs drawn uniformly from ``crf`` (a number or a range within x264's 0..51) by a numpy seed pair."""
    lo, hi = param_range(name, "crf", crf, 0, 51)
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
    (q_lo, q_hi), (c_lo, c_hi) = param_range(name, "quality", quality, 1, 100), param_range(name, "crf", crf, 0, 51)
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
    (c_lo, c_hi), (s_lo, s_hi) = param_range(name, "crf", crf, 0, 51), param_range(name, "speed", speed, 0.0, 64.0)
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
    sb = param_range(name, "sigma_blur", sigma_blur, 0.1, 8.0)
    sn = param_range(name, "sigma_noise", sigma_noise, 0.0, 0.5)
    pk, q = param_range(name, "peak", peak, 1.0, 1e6), param_range(name, "quality", quality, 1, 100)
    scale = integer_scale(name, scale)
    x, squeeze = as_batch(hr)
    x = tf.cast(x, tf.float32)
    shape = tf.shape(x)
    lr_size = (shape[1] // scale, shape[2] // scale)
    u = _image_uniforms(seed, x, 14)
    order = tf.argsort(u[0, 10:14])  # slot -> step index of MIXTURE_STEPS
    after_resize = tf.argmax(tf.cast(tf.equal(order, 0), tf.int32)) > tf.argmax(tf.cast(tf.equal(order, 1), tf.int32))
    s1 = from_unit(u[:, 2], sb)
    s2 = tf.where(u[:, 1] < 0.5, s1, from_unit(u[:, 3], sb))

    def blur(x):
        f = tf.where(after_resize, 1.0 / scale, 1.0)
        y = blur_per_image(x, gaussian_kernel2d(s1 * f, s2 * f, math.pi * u[:, 4], blur_radius(sb[1])))
        return tf.where(u[:, 0, None, None, None] < 0.8, y, x)

    def resize_(x):
        kernels = [imresize(x, size=lr_size), tf.image.resize(x, lr_size, "bilinear", antialias=True),
                   tf.image.resize(x, lr_size, "area"), tf.image.resize(x, lr_size, "nearest")]
        which = tf.minimum(tf.cast(u[:, 5] * 4, tf.int32), 3)
        y = tf.gather(tf.stack([tf.cast(k, tf.float32) for k in kernels], axis=1), which, axis=1, batch_dims=1)
        return tf.clip_by_value(y, 0.0, 1.0)

    def noise(x):
        shot = tf.where(u[:, 7] < 0.5, from_unit(u[:, 8], pk, log=True), 0.0)
        return sensor_noise(x, from_unit(u[:, 6], sn), shot, seed + [0, 11])

    def compress(x):
        return jpeg(x, from_unit(u[:, 9], q, integer=True))

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
