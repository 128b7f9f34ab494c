"""Tests for srlib.metrics against scikit-image and hand-computed values."""

import keras
import numpy as np
import pytest
import skimage.data
import skimage.filters
import tensorflow as tf
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srlib import metrics

SSIM_KW = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


def y_matlab(u8):
    """Y of MATLAB rgb2ycbcr on the 0..255 scale, from a uint8 RGB array (not rounded)."""
    rgb = u8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def crop(x, b):
    return x[b:-b, b:-b] if b else x


def sk_psnr(hr_u8, sr_u8, y_channel, border):
    if y_channel:
        return peak_signal_noise_ratio(crop(y_matlab(hr_u8), border), crop(y_matlab(sr_u8), border), data_range=255)
    a, b = crop(hr_u8.astype(np.float64), border), crop(sr_u8.astype(np.float64), border)
    return peak_signal_noise_ratio(a, b, data_range=255)


def sk_ssim(hr_u8, sr_u8, y_channel, border):
    if y_channel:
        a, b = crop(y_matlab(hr_u8), border), crop(y_matlab(sr_u8), border)
        return structural_similarity(a, b, data_range=255, **SSIM_KW)
    a, b = crop(hr_u8.astype(np.float64), border), crop(sr_u8.astype(np.float64), border)
    return structural_similarity(a, b, data_range=255, channel_axis=-1, **SSIM_KW)


@pytest.fixture(scope="module")
def image_pairs():
    """(hr, sr) uint8 pairs: an astronaut crop vs a noisy copy, vs a shifted copy, and random vs random."""
    gen = np.random.default_rng(7)
    hr = skimage.data.astronaut()[90:138, 190:242]  # 48 x 52 face/helmet region
    noisy = np.clip(np.round(hr + gen.normal(0, 8, hr.shape)), 0, 255).astype(np.uint8)
    shifted = np.roll(hr, 1, axis=1)
    r1 = gen.integers(0, 256, (48, 52, 3), dtype=np.uint8)
    r2 = np.clip(r1.astype(int) + gen.integers(-40, 41, r1.shape), 0, 255).astype(np.uint8)
    return [(hr, noisy), (hr, shifted), (r1, r2)]


@pytest.mark.parametrize("y_channel", [False, True])
@pytest.mark.parametrize("border", [0, 3])
def test_psnr_matches_skimage(image_pairs, y_channel, border):
    """psnr equals skimage peak_signal_noise_ratio(data_range=255) on RGB or on MATLAB Y, with border crop."""
    for hr, sr in image_pairs:
        got = metrics.psnr(sr / 255.0, hr / 255.0, y_channel=y_channel, crop_border=border)
        assert got.shape == ()
        np.testing.assert_allclose(float(got), sk_psnr(hr, sr, y_channel, border), atol=1e-4)


@pytest.mark.parametrize("y_channel", [False, True])
@pytest.mark.parametrize("border", [0, 4])
def test_ssim_matches_skimage(image_pairs, y_channel, border):
    """ssim equals skimage structural_similarity(gaussian, sigma 1.5, population cov, data_range=255)."""
    for hr, sr in image_pairs:
        got = metrics.ssim(sr / 255.0, hr / 255.0, y_channel=y_channel, crop_border=border)
        assert got.shape == ()
        np.testing.assert_allclose(float(got), sk_ssim(hr, sr, y_channel, border), atol=1e-4)


def test_nhwc_gives_one_value_per_image(image_pairs):
    """NHWC input gives shape (N,), each entry the skimage value of that image."""
    hr = np.stack([p[0] for p in image_pairs])
    sr = np.stack([p[1] for p in image_pairs])
    p = metrics.psnr(sr / 255.0, hr / 255.0, crop_border=2).numpy()
    s = metrics.ssim(sr / 255.0, hr / 255.0, crop_border=2).numpy()
    assert p.shape == s.shape == (3,)
    for i, (h, r) in enumerate(image_pairs):
        np.testing.assert_allclose(p[i], sk_psnr(h, r, True, 2), atol=1e-4)
        np.testing.assert_allclose(s[i], sk_ssim(h, r, True, 2), atol=1e-4)


def test_round_sr_rounds_to_uint8_levels(image_pairs, rng):
    """round_sr=True scores round(sr * 255), the saved uint8 image; round_sr=False scores the raw floats."""
    hr, _ = image_pairs[0]
    sr = np.clip(hr / 255.0 + rng.normal(0, 0.01, hr.shape), 0, 1)
    sr_u8 = np.round(sr * 255).astype(np.uint8)
    got = metrics.psnr(sr, hr / 255.0, y_channel=False)
    np.testing.assert_allclose(float(got), sk_psnr(hr, sr_u8, False, 0), atol=1e-4)
    raw = metrics.psnr(sr, hr / 255.0, y_channel=False, round_sr=False)
    np.testing.assert_allclose(float(raw), peak_signal_noise_ratio(hr / 255.0, sr, data_range=1.0), atol=1e-4)


def test_psnr_hand_computed():
    """A constant error of one grey level: PSNR = 10 log10(255^2 / 1) = 48.1308 dB (RGB);
    on Y the error is 219/255 of a level, so PSNR = 20 log10(255^2 / 219) = 49.4527 dB."""
    hr = np.full((8, 8, 3), 100 / 255.0)
    sr = np.full((8, 8, 3), 101 / 255.0)
    np.testing.assert_allclose(float(metrics.psnr(sr, hr, y_channel=False)), 48.1308036, atol=1e-6)
    np.testing.assert_allclose(float(metrics.psnr(sr, hr, y_channel=True)), 49.4527249, atol=1e-6)
    assert float(metrics.psnr(hr, hr)) == np.inf


def test_ssim_identical_is_one(image_pairs):
    """SSIM of an image with itself is exactly 1 (hand-computed: num == den)."""
    hr, _ = image_pairs[0]
    np.testing.assert_allclose(float(metrics.ssim(hr / 255.0, hr / 255.0)), 1.0, atol=1e-12)


def test_psnr_keras_metric_averages_over_images(image_pairs, rng):
    """PSNR metric = mean of the per-image skimage PSNRs (Y, crop 2, unrounded) over batches of size 2 and 1."""
    hr = np.stack([p[0] for p in image_pairs]).astype(np.float32) / 255.0
    sr = np.clip(np.stack([p[1] for p in image_pairs]) / 255.0 + rng.normal(0, 0.003, hr.shape), 0, 1)
    sr = sr.astype(np.float32)
    m = metrics.PSNR(crop_border=2)
    m.update_state(hr[:2], sr[:2])
    m.update_state(hr[2:], sr[2:])

    def ref(h, s):
        yh = 16 + h.astype(np.float64) @ np.array([65.481, 128.553, 24.966])
        ys = 16 + s.astype(np.float64) @ np.array([65.481, 128.553, 24.966])
        return peak_signal_noise_ratio(yh[2:-2, 2:-2], ys[2:-2, 2:-2], data_range=255)

    refs = [ref(hr[i], sr[i]) for i in range(3)]
    np.testing.assert_allclose(float(m.result()), np.mean(refs), atol=2e-3)
    assert abs(float(m.result()) - np.mean([np.mean(refs[:2]), refs[2]])) > 1e-2  # not a mean of batch means
    m.reset_state()
    m.update_state(hr[2:], sr[2:])
    np.testing.assert_allclose(float(m.result()), refs[2], atol=2e-3)


def test_psnr_metric_config_round_trip():
    """get_config / from_config keep y_channel and crop_border; the class deserializes by registered name."""
    m = metrics.PSNR(y_channel=False, crop_border=4, name="val_psnr")
    m2 = metrics.PSNR.from_config(m.get_config())
    assert (m2.y_channel, m2.crop_border, m2.name) == (False, 4, "val_psnr")
    m3 = keras.metrics.deserialize(keras.metrics.serialize(m))
    assert isinstance(m3, metrics.PSNR) and m3.crop_border == 4


def test_mse_loss_matches_numpy(rng):
    """mse_loss gives the per-image numpy mean squared error, shape (N,)."""
    a = rng.random((3, 6, 7, 3)).astype(np.float32)
    b = rng.random((3, 6, 7, 3)).astype(np.float32)
    got = metrics.mse_loss(a, b).numpy()
    assert got.shape == (3,)
    np.testing.assert_allclose(got, ((a - b) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_ssim_loss(image_pairs):
    """ssim_loss = 1 - skimage SSIM(data_range=1, all channels) per image; 0 for identical inputs."""
    hr = np.stack([p[0] for p in image_pairs]).astype(np.float32) / 255.0
    sr = np.stack([p[1] for p in image_pairs]).astype(np.float32) / 255.0
    same = metrics.ssim_loss(hr, hr).numpy()
    assert same.shape == (3,)
    np.testing.assert_allclose(same, 0.0, atol=1e-5)
    got = metrics.ssim_loss(hr, sr).numpy()
    assert (got > 0.01).all()
    for i in range(3):
        ref = 1 - structural_similarity(
            hr[i].astype(np.float64), sr[i].astype(np.float64), data_range=1.0, channel_axis=-1, **SSIM_KW
        )
        np.testing.assert_allclose(got[i], ref, atol=1e-4)


def test_mixed_loss_weights(image_pairs):
    """MixedLoss([(1, mse), (0.5, ssim_loss)]) = mse + 0.5 (1 - SSIM), with numpy/skimage references."""
    hr = np.stack([p[0] for p in image_pairs[:2]]).astype(np.float32) / 255.0
    sr = np.stack([p[1] for p in image_pairs[:2]]).astype(np.float32) / 255.0
    loss = metrics.MixedLoss([(1.0, metrics.mse_loss), (0.5, metrics.ssim_loss)])(hr, sr).numpy()
    mse = ((hr.astype(np.float64) - sr) ** 2).mean(axis=(1, 2, 3))
    ssim = np.array(
        [
            structural_similarity(
                hr[i].astype(np.float64), sr[i].astype(np.float64), data_range=1.0, channel_axis=-1, **SSIM_KW
            )
            for i in range(2)
        ]
    )
    assert loss.shape == (2,)
    np.testing.assert_allclose(loss, mse + 0.5 * (1 - ssim), atol=1e-4)
    double = metrics.MixedLoss([(2.0, metrics.mse_loss)])(hr, sr).numpy()
    np.testing.assert_allclose(double, 2 * mse, rtol=1e-5)


@pytest.fixture(scope="module")
def vgg_loss():
    keras.utils.set_random_seed(0)
    return metrics.VGGLoss(layer="block2_conv2", weights=None)


@pytest.mark.parametrize("channels", [3, 1])
def test_vgg_loss(vgg_loss, channels):
    """VGGLoss (random weights, offline) on a (2, 32, 32, C) batch: shape (2,), 0 iff inputs are identical;
    a gray batch gives the loss of its 3-channel tiling."""
    gen = np.random.default_rng(channels)
    a = gen.random((2, 32, 32, channels)).astype(np.float32)
    b = np.clip(a + gen.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    same = np.asarray(vgg_loss(a, a))
    diff = np.asarray(vgg_loss(a, b))
    assert same.shape == diff.shape == (2,)
    np.testing.assert_allclose(same, 0.0, atol=1e-6)
    assert (diff > 1e-6).all()
    tiled = np.asarray(vgg_loss(np.repeat(a, 3 // channels, -1), np.repeat(b, 3 // channels, -1)))
    np.testing.assert_allclose(diff, tiled, rtol=1e-4)


def test_tf_image_ssim_agrees_only_to_float32_precision(rng):
    """tf.image.ssim with the same window and constants is within 1e-5 of our float64 core (it computes in
    float32: 3e-6 apart on Set5 / Set14, which is why metrics.ssim keeps its own core, see its docstring)."""
    a = np.round(rng.random((1, 64, 64, 1)) * 255)
    b = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).round()
    ours = float(tf.reduce_mean(metrics.ssim_map(tf.constant(a), tf.constant(b))))
    theirs = float(tf.image.ssim(tf.constant(a), tf.constant(b), max_val=255.0, filter_size=11, filter_sigma=1.5)[0])
    assert abs(ours - theirs) < 1e-5


def test_sharpness_is_a_gradient_energy_ratio():
    """A vertical edge 0 -> 200 (uint8 levels) against the same edge at half height: (100 / 200)^2 = 0.25;
    an image against itself: 1; a blurred photo: well below 1."""
    hr = np.zeros((6, 8, 1))
    hr[:, 4:] = 200 / 255
    assert float(metrics.sharpness(hr, hr, y_channel=False)) == 1.0
    assert float(metrics.sharpness(hr / 2, hr, y_channel=False)) == pytest.approx(0.25)
    cam = skimage.data.camera()[..., None] / 255.0
    blurred = skimage.filters.gaussian(cam, 1.5, channel_axis=-1)
    assert float(metrics.sharpness(blurred, cam, y_channel=False, crop_border=2)) < 0.3


def test_sharpness_pooled_and_unrounded():
    """Pooled: one ratio of the batch's summed energies (not a mean of per-image ratios); round_sr=False scores the
    raw floats. Image 1 holds one vertical step of height 1 (4 differences), image 2 one of height 0.5 (4 x 0.25):
    SR = the step at 0.3 in both -> (4 x 0.09 x 2) / (4 + 1) = 0.144 pooled, [0.09, 0.36] per image."""
    hr = np.zeros((2, 4, 4, 1))
    hr[0, :, 2:], hr[1, :, 2:] = 1.0, 0.5
    sr = np.zeros((2, 4, 4, 1))
    sr[:, :, 2:] = 0.3
    pooled = metrics.sharpness(sr, hr, y_channel=False, round_sr=False, pooled=True)
    assert float(pooled) == pytest.approx(0.72 / 5)
    np.testing.assert_allclose(metrics.sharpness(sr, hr, y_channel=False, round_sr=False), [0.09, 0.36])
    rounded = metrics.sharpness(sr, hr, y_channel=False)  # 0.3 -> 76 / 255 and 0.5 -> 128 / 255 first
    np.testing.assert_allclose(rounded, [(76 / 255) ** 2, (76 / 128) ** 2])


def test_mixed_loss_survives_a_checkpoint(tmp_path):
    """A model compiled with MSE + (1 - SSIM) saves (as ModelCheckpoint does) and loads with the same loss."""
    from srlib.models.espcn import espcn

    model = espcn(2, filters=(4, 4))
    loss = metrics.MixedLoss([(1.0, metrics.mse_loss), (1.0, metrics.ssim_loss)])
    model.compile("adam", loss=loss)
    x = np.random.default_rng(0).random((2, 16, 16, 1)).astype(np.float32)
    y = np.random.default_rng(1).random((2, 32, 32, 1)).astype(np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.loss(y, model(x)), loss(y, model(x)), rtol=1e-6)
