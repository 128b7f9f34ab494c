"""MATLAB-compatible bicubic resize (``imresize(x, scale, 'bicubic')``) as TensorFlow ops.

Cubic kernel a = -0.5, stretched by 1 / scale when shrinking (antialiasing), symmetric border; each axis is
a dense matrix product (small inputs) or a sum of a few gathered taps (large ones). Graph-safe with dynamic
sizes, so it runs inside ``tf.data`` and on batches. The degradations (:mod:`srlib.degrade`) build on it.
"""

import math
from fractions import Fraction

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


def as_batch(image):
    """(NHWC tensor, whether ``image`` was HWC): every op here works on batches."""
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
      (:func:`srlib.degrade.benchmark_lr` crops, resizes and rounds: the benchmark LR).

    Example:
      lr = imresize(hr, scale=1 / 3)   # (H, W, C) -> (ceil(H / 3), ceil(W / 3), C)
    """
    x, squeeze = as_batch(image)
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


def bicubic(hr, scale):
    """MATLAB bicubic by 1 / ``scale`` of HR whose sides are multiples of :func:`srlib.degrade.crop_step`, not rounded.

    A non-integer scale p / q (x1.5, x2.5) resizes to exactly side * q / p.
    """
    if float(scale).is_integer():
        return imresize(hr, scale=1.0 / scale)
    frac = Fraction(scale).limit_denominator(16)
    shape = tf.shape(hr)
    return imresize(hr, size=(shape[-3] * frac.denominator // frac.numerator,
                              shape[-2] * frac.denominator // frac.numerator))
