"""The image operations an LR is made by: Gaussian kernels (1-D; 2-D isotropic or anisotropic, one per image),
separable and per-image filtering with a mirrored border, FIR decimation, TF resize, pixelation, Gaussian and sensor
noise.

Every op takes a float image in [0, 1], HWC or NHWC, returns the same rank and is graph-safe (dynamic sizes allowed),
so it runs inside ``tf.data.Dataset.map`` and on batches. The registry entries built on them are
:mod:`srlib.degrade`; MATLAB's bicubic ``imresize`` is :mod:`srlib.resize`.
"""

import numpy as np
import scipy.signal
import tensorflow as tf

from srlib.resize import as_batch


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

    Output side = round(side * scale). Not the benchmark resize -- see :func:`srlib.resize.imresize`.
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


def gaussian_kernel2d(sigma_1, sigma_2, theta, radius):
    """Normalised Gaussian taps (N, 2 radius + 1, 2 radius + 1), one kernel per entry of the (N,) parameters.

    Tap [i, j] sits at (dy, dx) = (i - radius, j - radius): rows down, columns right. The first principal axis
    (std ``sigma_1``) points along (dx, dy) = (cos theta, sin theta), the second (std ``sigma_2``) across it: the
    covariance is R diag(sigma_1^2, sigma_2^2) R^T with R the rotation by theta. sigma_1 = sigma_2 is isotropic.
    Numbers or tensors (float64 taps).
    """
    s1, s2, th = (tf.reshape(tf.cast(v, tf.float64), [-1, 1, 1]) for v in (sigma_1, sigma_2, theta))
    t = tf.range(-radius, radius + 1, dtype=tf.float64)
    dy, dx = t[None, :, None], t[None, None, :]
    u = dx * tf.cos(th) + dy * tf.sin(th)
    v = -dx * tf.sin(th) + dy * tf.cos(th)
    k = tf.exp(-0.5 * ((u / s1) ** 2 + (v / s2) ** 2))
    return k / tf.reduce_sum(k, axis=[1, 2], keepdims=True)


def blur_per_image(image, kernels, stride=1, phase=0):
    """Correlate image n of NHWC (or HWC) ``image`` with ``kernels[n]`` ((N, k, k), odd k), mirror border (scipy.ndimage
    mode 'reflect'), and keep every ``stride``-th pixel from ``phase``: (N, ceil((H - phase) / stride),
    ceil((W - phase) / stride), C)."""
    x, squeeze = as_batch(image)
    kernels = tf.convert_to_tensor(kernels)
    size = kernels.shape[-1]
    x = _mirror_pad(_mirror_pad(x, 1, size // 2), 2, size // 2)[:, phase:, phase:, :]
    shape = tf.shape(x)
    n, c = shape[0], shape[3]
    # The batch folded into channels: one depthwise convolution runs every image's own kernel.
    x = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, shape[1], shape[2], n * c])
    f = tf.repeat(tf.transpose(tf.cast(kernels, x.dtype), [1, 2, 0])[..., None], c, axis=3)  # (k, k, N, C)
    y = tf.nn.depthwise_conv2d(x, tf.reshape(f, [size, size, n * c, 1]), [1, stride, stride, 1], "VALID")
    out = tf.shape(y)
    y = tf.transpose(tf.reshape(y, [out[1], out[2], n, c]), [2, 0, 1, 3])
    return y[0] if squeeze else y


def sensor_noise(image, sigma, peak, seed):
    """Sensor noise, clipped to [0, 1]: shot noise of ``peak`` photo-electrons at white (Poisson's variance
    x / peak, drawn as its Gaussian approximation: exact in mean and variance, and about 3x faster than TF's Poisson
    sampler) plus Gaussian read noise of std ``sigma`` ([0, 1] units): x + sqrt(x / peak + sigma^2) N(0, 1).

    ``peak`` 0 or None leaves the shot noise out. ``sigma`` and ``peak``: numbers or one per image (N,).
    ``seed``: a stateless pair. HWC or NHWC.
    """
    x, squeeze = as_batch(image)
    n = tf.shape(x)[0]

    def per_image(v):
        return tf.reshape(tf.broadcast_to(tf.cast(v, x.dtype), [n]), [-1, 1, 1, 1])

    var = tf.square(per_image(sigma))
    if peak is not None:
        p = per_image(peak)
        var += tf.where(p > 0, tf.maximum(x, 0.0) / tf.where(p > 0, p, tf.ones_like(p)), tf.zeros_like(x))
    noise = tf.random.stateless_normal(tf.shape(x), tf.convert_to_tensor(seed, tf.int32), dtype=x.dtype)
    y = tf.clip_by_value(x + tf.sqrt(var) * noise, 0.0, 1.0)
    return y[0] if squeeze else y
