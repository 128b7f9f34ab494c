"""Image-quality metrics and losses with explicit conventions.

Benchmark convention (what SR papers report):
``psnr(sr, hr, y_channel=True, crop_border=scale, round_sr=True)`` and the same
for ``ssim``: images in [0, 1] are rounded to uint8 levels, converted to the Y
of MATLAB ``rgb2ycbcr``, ``crop_border`` pixels are shaved from every side, and
PSNR uses peak 255; SSIM uses an 11x11 Gaussian window (sigma 1.5, K1 0.01,
K2 0.03) over the valid region and returns the mean of the map.

Every function takes HWC or NHWC float tensors and returns one value per
image (shape () or (N,)). Computation runs in float64 unless ``dtype`` says
otherwise.
"""

import keras
import numpy as np
import tensorflow as tf

from srlib.color import rgb_to_y
from srlib.io import quantize


def _prepare(img, y_channel, crop_border, round_img, dtype):
    """(H,W,C)/(N,H,W,C) in [0,1] -> (N,h,w,c) in [0,255], the convention applied."""
    x = tf.convert_to_tensor(img)
    x = tf.cast(x, dtype)
    if x.shape.rank == 3:
        x = x[None]
    if round_img:
        x = quantize(x)
    if y_channel and x.shape[-1] == 3:
        x = rgb_to_y(x)
    if crop_border:
        x = x[:, crop_border:-crop_border, crop_border:-crop_border, :]
    return x * 255.0


def _out(values, img):
    return values[0] if tf.convert_to_tensor(img).shape.rank == 3 else values


def psnr(sr, hr, y_channel=True, crop_border=0, round_sr=True, data_range=255.0, dtype=tf.float64):
    """Peak signal-to-noise ratio in dB.

    Args:
      sr, hr: float images in [0, 1], (H, W, C) or (N, H, W, C), same shape.
      y_channel: compare the Y of MATLAB rgb2ycbcr (RGB inputs only).
      crop_border: pixels shaved from each border (the scale, for benchmarks).
      round_sr: round both images to uint8 levels first (benchmark convention).
      data_range: peak value on the 0-255 scale the images are brought to.

    Returns:
      PSNR per image: shape () for HWC input, (N,) for NHWC.
    """
    a = _prepare(sr, y_channel, crop_border, round_sr, dtype)
    b = _prepare(hr, y_channel, crop_border, round_sr, dtype)
    mse = tf.reduce_mean(tf.square(a - b), axis=[1, 2, 3])
    peak = tf.constant(data_range, dtype)
    return _out(10.0 * tf.math.log(peak * peak / mse) / tf.math.log(tf.constant(10.0, dtype)), sr)


def _gaussian_taps(size=11, sigma=1.5):
    """Normalised 1-D Gaussian; the 2-D SSIM window is its outer product."""
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def ssim_map(a, b, data_range=255.0, k1=0.01, k2=0.03, win_size=11, sigma=1.5):
    """SSIM map over the valid region of NHWC tensors a, b (same scale as ``data_range``).

    The Gaussian window is applied as two 1-D passes (it is separable).
    Returns (N, H - win_size + 1, W - win_size + 1, C).
    """
    g = _gaussian_taps(win_size, sigma)
    kh = tf.constant(g[:, None, None, None], a.dtype)
    kw = tf.constant(g[None, :, None, None], a.dtype)
    shape = tf.shape(a)

    def filt(x):  # channels folded into the batch: one single-channel conv serves any C
        x = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, shape[1], shape[2], 1])
        x = tf.nn.conv2d(tf.nn.conv2d(x, kh, 1, "VALID"), kw, 1, "VALID")
        s = tf.shape(x)
        return tf.transpose(tf.reshape(x, [shape[0], shape[3], s[1], s[2]]), [0, 2, 3, 1])

    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_a, mu_b = filt(a), filt(b)
    var_a = filt(a * a) - mu_a * mu_a
    var_b = filt(b * b) - mu_b * mu_b
    cov = filt(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return num / den


def ssim(sr, hr, y_channel=True, crop_border=0, round_sr=True, data_range=255.0, dtype=tf.float64):
    """Structural similarity (Wang et al. 2004), Gaussian window, population statistics.

    Same arguments as :func:`psnr`. Equals ``skimage.metrics.structural_similarity(
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)``
    on the prepared images (channels averaged). ``tf.image.ssim`` (same window and constants)
    agrees only to about 3e-6 on the benchmark images, since it computes in float32, so this
    float64 core stays (a test measures the gap).

    Returns:
      SSIM per image: shape () for HWC input, (N,) for NHWC.
    """
    a = _prepare(sr, y_channel, crop_border, round_sr, dtype)
    b = _prepare(hr, y_channel, crop_border, round_sr, dtype)
    return _out(tf.reduce_mean(ssim_map(a, b, data_range), axis=[1, 2, 3]), sr)


def sharpness(sr, hr, y_channel=True, crop_border=0, round_sr=True, pooled=False):
    """Gradient energy of SR over that of HR: sum of squared horizontal and vertical differences of the
    prepared images (convention as :func:`psnr`; ``round_sr``: both rounded to uint8 levels first), a ratio.
    1 = as much fine detail as HR; below 1 = blurrier (MSE-trained models sit below 1); above 1 = added high
    frequencies (noise, ringing or texture).

    Returns: shape () for HWC input, (N,) for NHWC; with ``pooled``, one ratio of the batch's summed energies, ().
    """
    def energy(x):
        x = _prepare(x, y_channel, crop_border, round_sr, tf.float64)
        dy, dx = x[:, 1:] - x[:, :-1], x[:, :, 1:] - x[:, :, :-1]
        return tf.reduce_sum(dy * dy, axis=[1, 2, 3]) + tf.reduce_sum(dx * dx, axis=[1, 2, 3])

    if pooled:
        return tf.reduce_sum(energy(sr)) / tf.reduce_sum(energy(hr))
    return _out(energy(sr) / energy(hr), sr)


@keras.saving.register_keras_serializable(package="srlib")
class PSNR(keras.metrics.Mean):
    """Mean PSNR (dB) over a training/validation run, on [0,1] NHWC batches.

    Not rounded (training outputs are continuous); Y channel for RGB tensors
    and ``crop_border`` as in :func:`psnr`.
    """

    def __init__(self, y_channel=True, crop_border=0, name="psnr", **kwargs):
        super().__init__(name=name, **kwargs)
        self.y_channel, self.crop_border = y_channel, crop_border

    def update_state(self, y_true, y_pred, sample_weight=None):
        value = psnr(y_pred, y_true, self.y_channel, self.crop_border, round_sr=False, dtype=tf.float32)
        return super().update_state(value, sample_weight)

    def get_config(self):
        return {**super().get_config(), "y_channel": self.y_channel, "crop_border": self.crop_border}


@keras.saving.register_keras_serializable(package="srlib")
def mse_loss(y_true, y_pred):
    """Mean squared error over all pixels; (N,) per-image loss."""
    return tf.reduce_mean(tf.square(tf.cast(y_true, y_pred.dtype) - y_pred), axis=[1, 2, 3])


@keras.saving.register_keras_serializable(package="srlib")
def ssim_loss(y_true, y_pred):
    """1 - SSIM per image, on [0,1] tensors (all channels, no rounding or cropping)."""
    a, b = tf.cast(y_true, tf.float32), tf.cast(y_pred, tf.float32)
    return 1.0 - tf.reduce_mean(ssim_map(a, b, data_range=1.0), axis=[1, 2, 3])


@keras.saving.register_keras_serializable(package="srlib")
class VGGLoss:
    """Perceptual loss: MSE between VGG19 features of HR and SR.

    Args:
      layer: VGG19 layer whose activations are compared (``block5_conv4`` in
        SRGAN's "VGG54"; ``block2_conv2`` keeps more low-level detail).
      weights: ``"imagenet"`` (downloaded once by Keras) or ``None`` (random;
        offline tests).
      scale: multiplier on the feature MSE (VGG activations are large).
    Inputs are [0,1] RGB NHWC (gray is tiled to 3 channels).
    """

    def __init__(self, layer="block5_conv4", weights="imagenet", scale=1.0 / 12.75**2):
        vgg = keras.applications.VGG19(include_top=False, weights=weights)
        vgg.trainable = False
        self.features = keras.Model(vgg.input, vgg.get_layer(layer).output)
        self.layer, self.weights, self.scale = layer, weights, scale

    def get_config(self):
        return {"layer": self.layer, "weights": self.weights, "scale": self.scale}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, y_true, y_pred):
        def feats(x):
            x = tf.cast(x, tf.float32)
            if x.shape[-1] == 1:
                x = tf.tile(x, [1, 1, 1, 3])
            return self.features(keras.applications.vgg19.preprocess_input(x * 255.0))

        return self.scale * tf.reduce_mean(tf.square(feats(y_true) - feats(y_pred)), axis=[1, 2, 3])


@keras.saving.register_keras_serializable(package="srlib")
class MixedLoss:
    """Weighted sum of losses: ``MixedLoss([(1.0, mse_loss), (0.1, ssim_loss)])``.

    Serializable (checkpoints of a model compiled with it save and load) when its terms are:
    srlib's losses are.
    """

    def __init__(self, terms):
        self.terms = [(float(w), f if callable(f) else keras.saving.deserialize_keras_object(f)) for w, f in terms]

    def get_config(self):
        return {"terms": [[w, keras.saving.serialize_keras_object(f)] for w, f in self.terms]}

    @classmethod
    def from_config(cls, config):
        return cls(config["terms"])

    def __call__(self, y_true, y_pred):
        return tf.add_n([w * tf.cast(f(y_true, y_pred), tf.float32) for w, f in self.terms])
