"""Degradations that turn an HR image into an LR one, as TensorFlow ops.

Every function takes a float image in [0, 1], HWC or NHWC, and returns the
same rank. All are graph-safe (dynamic sizes allowed), so they run inside
``tf.data.Dataset.map`` and on batches.

* :func:`imresize` -- MATLAB ``imresize(x, scale, 'bicubic')``: the benchmark
  LR generator (cubic kernel a = -0.5, kernel stretched by 1/scale when
  shrinking, symmetric border).
* :func:`blur_decimate` -- Gaussian blur, then FIR low-pass + subsample along
  each axis, as ``scipy.signal.decimate(x, q, ftype='fir')``.
* :func:`pixelate_noise` -- block averaging plus Gaussian noise.
* :func:`resize` -- TF's area / bilinear / nearest resize by a scale.
* :func:`jpeg` -- JPEG re-compression.
* :class:`Pipeline` -- a seeded, composable chain of the above.
"""

import math
from fractions import Fraction

import numpy as np
import scipy.signal
import tensorflow as tf


def _cubic(x, a=-0.5):
    """Keys cubic convolution kernel (MATLAB's ``cubic``), elementwise on a tensor."""
    ax = tf.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (a + 2.0) * ax3 - (a + 3.0) * ax2 + 1.0
    far = a * ax3 - 5.0 * a * ax2 + 8.0 * a * ax - 4.0 * a
    return tf.where(ax <= 1.0, near, tf.where(ax < 2.0, far, tf.zeros_like(ax)))


def resize_taps(in_size, out_size, scale, dtype=tf.float64):
    """MATLAB ``imresize`` contributions along one axis: (indices, weights), each (out_size, taps).

    Output pixel u (1-based) sits at x = u / scale + (1 - 1 / scale) / 2 in input
    coordinates; when shrinking (scale < 1, antialiasing on) the kernel is
    h(x) = scale * cubic(scale x) with width 4 / scale. Out-of-range taps mirror
    symmetrically (0-based indices returned); each row of weights sums to 1.
    """
    in_size = tf.cast(in_size, tf.int32)
    scale = tf.cast(scale, dtype)
    kscale = tf.minimum(scale, tf.constant(1.0, dtype))  # antialias only when shrinking
    width = 4.0 / kscale
    u = tf.cast(tf.range(1, out_size + 1), dtype)
    x = u / scale + 0.5 * (1.0 - 1.0 / scale)
    left = tf.floor(x - width / 2.0)
    taps = tf.cast(tf.math.ceil(width), tf.int32) + 2
    idx = left[:, None] + tf.cast(tf.range(taps), dtype)[None, :]  # (out, taps), 1-based
    w = kscale * _cubic(kscale * (x[:, None] - idx))
    w = w / tf.reduce_sum(w, axis=1, keepdims=True)
    # Symmetric padding: index sequence 1..n, n..1 repeated.
    period = 2 * in_size
    i0 = tf.math.floormod(tf.cast(idx, tf.int32) - 1, period)
    return tf.where(i0 < in_size, i0, period - 1 - i0), w


def _resize_axis(x, axis, out_size, scale, dtype):
    """Resize NHWC ``x`` along ``axis`` (1 = H, 2 = W) with MATLAB bicubic weights.

    Small inputs (training patches) use one dense matmul, which is fastest there;
    large ones add up the few taps per output pixel one by one, which is O(out x taps)
    time and O(out) memory instead of O(out x in). Both give the same numbers.
    """
    shape = tf.shape(x)
    n, h, w, c = shape[0], shape[1], shape[2], shape[3]
    in_size = shape[axis]
    idx, wt = resize_taps(in_size, out_size, scale, dtype)

    def dense():
        m = tf.reduce_sum(tf.one_hot(idx, in_size, dtype=dtype) * wt[..., None], axis=1)  # (out, in)
        if axis == 1:
            return tf.reshape(tf.matmul(m, tf.reshape(x, [n, h, w * c])), [n, out_size, w, c])
        return tf.reshape(tf.matmul(m, tf.reshape(x, [n * h, w, c])), [n, h, out_size, c])

    def gathered():  # one tap at a time: memory stays at twice the output, whatever the number of taps
        shape = [1, -1, 1, 1] if axis == 1 else [1, 1, -1, 1]
        tap = lambda t: tf.gather(x, idx[:, t], axis=axis) * tf.reshape(wt[:, t], shape)  # noqa: E731
        return tf.while_loop(lambda t, _: t < tf.shape(idx)[1], lambda t, acc: (t + 1, acc + tap(t)),
                             (tf.constant(1), tap(0)))[1]

    return tf.cond(in_size <= 128, dense, gathered)


def _static(v):
    """Python int of a size tensor when it is known while tracing, else None."""
    v = tf.get_static_value(v)
    return None if v is None else int(v)


def _as_batch(image):
    """Return (NHWC tensor, was_3d)."""
    image = tf.convert_to_tensor(image)
    if image.shape.rank == 3:
        return image[None], True
    return image, False


def imresize(image, scale=None, size=None, dtype=tf.float64):
    """MATLAB-compatible bicubic resize.

    Args:
      image: float tensor (H, W, C) or (N, H, W, C), values in [0, 1].
      scale: resize factor (0.5 halves each side). Output side = ceil(side * scale).
      size: alternatively an explicit (out_h, out_w); the per-axis scales are then
        out / in, as in MATLAB.
      dtype: computation precision (float64 matches MATLAB's double arithmetic).

    Returns:
      Resized image with the input's rank and dtype, not clipped or rounded
      (round with ``to_uint8`` for the benchmark LR).

    Example:
      lr = imresize(hr, scale=1 / 3)   # benchmark LR for x3 (crop hr to a multiple of 3 first)
    """
    x, squeeze = _as_batch(image)
    out_dtype = x.dtype
    x = tf.cast(x, dtype)
    shape = tf.shape(x)
    h, w = shape[1], shape[2]
    if size is not None:
        out_h, out_w = tf.cast(size[0], tf.int32), tf.cast(size[1], tf.int32)
        sh = tf.cast(out_h, dtype) / tf.cast(h, dtype)
        sw = tf.cast(out_w, dtype) / tf.cast(w, dtype)
    elif scale is not None:
        sh = sw = tf.constant(scale, dtype)
        # ceil(n * s), with a guard so float error in 1/s can never add a pixel;
        # in Python when the size is known while tracing, so shapes stay static.
        def out(n, static):
            if static is not None:
                return int(math.ceil(static * scale - 1e-9))
            return tf.cast(tf.math.ceil(tf.cast(n, dtype) * sh - 1e-9), tf.int32)

        out_h, out_w = out(h, x.shape[1]), out(w, x.shape[2])
    else:
        raise ValueError("imresize needs scale or size")
    # MATLAB resizes the axis with the smaller scale first; the two orders differ
    # only by floating-point rounding, so H then W is used unless W shrinks more.
    def h_first():
        return _resize_axis(_resize_axis(x, 1, out_h, sh, dtype), 2, out_w, sw, dtype)

    def w_first():
        return _resize_axis(_resize_axis(x, 2, out_w, sw, dtype), 1, out_h, sh, dtype)

    y = tf.cond(sw < sh, w_first, h_first)
    y.set_shape([x.shape[0], _static(out_h), _static(out_w), x.shape[3]])
    y = tf.cast(y, out_dtype)
    return y[0] if squeeze else y


def to_uint8_range(image):
    """Round a [0,1] float image to the 256 uint8 levels, keeping float dtype."""
    return tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0) / 255.0


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


def bicubic_lr(hr, scale):
    """Benchmark LR: mod-crop, MATLAB bicubic by 1/scale, rounded to uint8 levels.

    A non-integer scale p / q (x1.5, x2.5) crops to a multiple of p and resizes to exactly side * q / p.
    """
    hr = mod_crop(hr, scale)
    if float(scale).is_integer():
        return to_uint8_range(imresize(hr, scale=1.0 / scale))
    frac = Fraction(scale).limit_denominator(16)
    shape = tf.shape(hr)
    size = (shape[-3] * frac.denominator // frac.numerator, shape[-2] * frac.denominator // frac.numerator)
    return to_uint8_range(imresize(hr, size=size))


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
    x, squeeze = _as_batch(image)
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
    x, squeeze = _as_batch(image)
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
    x, squeeze = _as_batch(image)
    y = tf.nn.avg_pool2d(x, scale, scale, padding="VALID")
    if sigma > 0:
        y = add_noise(y, sigma, seed)
    return y[0] if squeeze else y


def jpeg(image, quality=75):
    """JPEG round trip at ``quality`` (HWC or NHWC, 1 or 3 channels)."""
    x, squeeze = _as_batch(image)
    dtype = x.dtype
    y = tf.map_fn(
        lambda im: tf.image.adjust_jpeg_quality(tf.cast(im, tf.float32), quality),
        x,
        fn_output_signature=tf.float32,
    )
    y = tf.cast(y, dtype)
    return y[0] if squeeze else y


class Pipeline:
    """A chain of degradation steps with reproducible noise.

    Each step is ``(name, kwargs)`` with name one of 'imresize', 'blur',
    'blur_decimate', 'pixelate_noise', 'resize', 'noise', 'jpeg', 'round'.
    Steps that need randomness get a stateless seed derived from the call's
    ``seed`` and the step index, so the same seed always gives the same LR.

    Example:
      deg = Pipeline([("blur", {"sigma": 1.2}), ("imresize", {"scale": 1 / 3}),
                      ("noise", {"sigma": 0.01}), ("jpeg", {"quality": 80})])
      lr = deg(hr, seed=(1, 2))
    """

    _STEPS = {
        "imresize": lambda x, s, **k: imresize(x, **k),
        "blur": lambda x, s, **k: gaussian_blur(x, **k),
        "blur_decimate": lambda x, s, **k: blur_decimate(x, **k),
        "pixelate_noise": lambda x, s, **k: pixelate_noise(x, seed=s, **k),
        "resize": lambda x, s, **k: resize(x, **k),
        "noise": lambda x, s, **k: add_noise(x, seed=s, **k),
        "jpeg": lambda x, s, **k: jpeg(x, **k),
        "round": lambda x, s: to_uint8_range(x),
    }

    def __init__(self, steps):
        for name, _ in steps:
            if name not in self._STEPS:
                raise ValueError(f"unknown degradation step {name!r}; one of {sorted(self._STEPS)}")
        self.steps = [(name, dict(kwargs)) for name, kwargs in steps]

    def __call__(self, image, seed=(0, 0)):
        """Apply every step in order to ``image`` (HWC or NHWC)."""
        seed = tf.convert_to_tensor(seed, tf.int32)
        x = image
        for i, (name, kwargs) in enumerate(self.steps):
            x = self._STEPS[name](x, seed + tf.constant([0, 7919 * (i + 1)]), **kwargs)
        return x

    def __repr__(self):
        return f"Pipeline({self.steps!r})"

