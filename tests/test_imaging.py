"""Tests for srlib.imaging: the image operations against scipy and hand-computed values."""

import math

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from srlib import imaging


@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.5])
def test_gaussian_blur_matches_scipy(rng, sigma):
    """gaussian_blur equals scipy.ndimage.gaussian_filter(mode='reflect', truncate=4) per channel."""
    x = rng.random((16, 19, 3))
    y = imaging.gaussian_blur(x, sigma).numpy()
    ref = np.stack(
        [scipy.ndimage.gaussian_filter(x[..., c], sigma, mode="reflect", truncate=4.0) for c in range(3)], -1
    )
    np.testing.assert_allclose(y, ref, atol=1e-10)


def test_gaussian_blur_small_image_matches_scipy(rng):
    """On a 5x5 image with sigma=2 (radius 8 > side 5) scipy still works; srlib should too."""
    x = rng.random((5, 5, 1))
    ref = scipy.ndimage.gaussian_filter(x[..., 0], 2.0, mode="reflect", truncate=4.0)
    np.testing.assert_allclose(imaging.gaussian_blur(x, 2.0).numpy()[..., 0], ref, atol=1e-10)


def test_gaussian_kernel1d_matches_scipy():
    """Taps equal scipy.ndimage's internal Gaussian kernel (filtering a unit impulse)."""
    k = imaging.gaussian_kernel1d(1.3)
    impulse = np.zeros(41)
    impulse[20] = 1.0
    ref = scipy.ndimage.gaussian_filter1d(impulse, 1.3, mode="constant", truncate=4.0)
    r = len(k) // 2
    assert r == int(4.0 * 1.3 + 0.5)
    np.testing.assert_allclose(k, ref[20 - r : 20 + r + 1], atol=1e-15)
    assert np.count_nonzero(ref) == len(k)


def test_decimate_fir_matches_scipy_taps():
    """decimate_fir(q) is the filter scipy.signal.decimate(ftype='fir') applies, read off its impulse responses.

    Decimating an impulse at index 10q - r gives y[k] = h[kq + r], so r = 0..q-1 recover every tap.
    """
    for q in (2, 3, 4):
        k = imaging.decimate_fir(q)
        assert len(k) == 20 * q + 1
        taps = np.zeros(len(k))
        for r in range(q):
            impulse = np.zeros(20 * q + 1)
            impulse[10 * q - r] = 1.0
            y = scipy.signal.decimate(impulse, q, ftype="fir")
            n = len(taps[r::q])
            taps[r::q] = y[:n]
        np.testing.assert_allclose(k, taps, atol=1e-12)


@pytest.mark.parametrize("q", [2, 3, 4])
def test_blur_decimate_row_matches_scipy(rng, q):
    """A 1-D signal as an image row: equals scipy.signal.decimate(x, q, ftype='fir') along W.

    Along H the single row is zero-padded too, so it is scaled by decimate([1], q)[0] (the centre tap);
    that factor is taken from scipy as well.
    """
    x = rng.random(37)
    y = imaging.blur_decimate(x[None, :, None], q, sigma=0).numpy()
    assert y.shape == (1, math.ceil(37 / q), 1)
    centre = scipy.signal.decimate(np.ones(1), q, ftype="fir")[0]
    np.testing.assert_allclose(y[0, :, 0], centre * scipy.signal.decimate(x, q, ftype="fir"), atol=1e-6)


@pytest.mark.parametrize("q", [2, 3, 4])
def test_blur_decimate_2d_matches_scipy(rng, q):
    """sigma=0: equals scipy.signal.decimate(ftype='fir') along axis 0 then axis 1, per channel."""
    x = rng.random((23, 30, 2))
    y = imaging.blur_decimate(x, q, sigma=0).numpy()
    ref = scipy.signal.decimate(scipy.signal.decimate(x, q, ftype="fir", axis=0), q, ftype="fir", axis=1)
    assert y.shape == ref.shape == (math.ceil(23 / q), math.ceil(30 / q), 2)
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_blur_decimate_with_blur_matches_scipy(rng):
    """sigma>0: Gaussian blur (scipy reflect) then FIR decimation; NHWC batch too."""
    x = rng.random((2, 18, 15, 3))
    y = imaging.blur_decimate(x, 3, sigma=1.2).numpy()
    for i in range(2):
        blurred = scipy.ndimage.gaussian_filter(x[i], (1.2, 1.2, 0), mode="reflect", truncate=4.0)
        ref = scipy.signal.decimate(scipy.signal.decimate(blurred, 3, ftype="fir", axis=0), 3, ftype="fir", axis=1)
        np.testing.assert_allclose(y[i], ref, atol=1e-6)


def _block_mean(x, s):
    h, w, c = x.shape[0] // s, x.shape[1] // s, x.shape[2]
    return x[: h * s, : w * s].reshape(h, s, w, s, c).mean(axis=(1, 3))


@pytest.mark.parametrize("s", [2, 3])
def test_pixelate_without_noise_is_block_mean(rng, s):
    """sigma=0: each output pixel is the numpy mean of an s x s block; partial blocks are dropped."""
    x = rng.random((2, 11, 8, 3))
    y = imaging.pixelate_noise(x, s, sigma=0).numpy()
    assert y.shape == (2, 11 // s, 8 // s, 3)
    for i in range(2):
        np.testing.assert_allclose(y[i], _block_mean(x[i], s), atol=1e-12)
    np.testing.assert_allclose(imaging.pixelate_noise(x[0], s, sigma=0).numpy(), _block_mean(x[0], s), atol=1e-12)


def test_pixelate_noise_seeded(rng):
    """Same seed -> identical output; a different seed -> a different one."""
    x = rng.random((12, 12, 3)).astype(np.float32)
    a = imaging.pixelate_noise(x, 2, sigma=0.05, seed=(3, 4)).numpy()
    b = imaging.pixelate_noise(x, 2, sigma=0.05, seed=(3, 4)).numpy()
    c = imaging.pixelate_noise(x, 2, sigma=0.05, seed=(3, 5)).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_pixelate_noise_std_on_mid_grey():
    """On mid grey (no clipping) the noise has mean 0 and std sigma (12288 samples: within 5 %)."""
    x = np.full((128, 128, 3), 0.5, np.float32)
    y = imaging.pixelate_noise(x, 2, sigma=0.05, seed=(7, 11)).numpy()
    noise = y.astype(np.float64) - 0.5
    assert abs(noise.std() - 0.05) < 0.05 * 0.05
    assert abs(noise.mean()) < 0.002


def test_resize_area_integer_factor_is_block_mean(rng):
    """TF 'area' resize by 1/2 equals numpy 2x2 block means; output side = round(side * scale)."""
    x = rng.random((2, 8, 12, 3)).astype(np.float32)
    y = imaging.resize(x, 0.5, method="area").numpy()
    assert y.shape == (2, 4, 6, 3)
    np.testing.assert_allclose(y[1], _block_mean(x[1], 2), atol=1e-6)
    assert imaging.resize(x[0], 1 / 3, method="bilinear").shape == (3, 4, 3)  # round(2.67), round(4)


def test_add_noise_seeded_and_clipped():
    """add_noise is reproducible for a seed and clips to [0, 1]."""
    x = np.array([[[0.0, 1.0, 0.5]]] * 4, np.float32)
    a = imaging.add_noise(x, 0.3, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, imaging.add_noise(x, 0.3, seed=(1, 2)).numpy())
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert not np.array_equal(a, x)


def test_gaussian_kernel2d_normalised_and_rotates_as_specified():
    """Taps sum to 1; theta = pi/2 is the transpose of theta = 0; the kernel's second moments are the covariance
    R diag(s1^2, s2^2) R^T: for (2.5, 1.0, pi/4) var_x = var_y = (6.25 + 1) / 2, cov_xy = (6.25 - 1) / 2 (x columns,
    y rows down), and for pi/6 the general formula."""
    k0, k90, k45, k30 = (imaging.gaussian_kernel2d(2.5, 1.0, t, 12).numpy()[0]
                         for t in (0, np.pi / 2, np.pi / 4, np.pi / 6))
    for k in (k0, k90, k45, k30):
        assert k.shape == (25, 25) and abs(k.sum() - 1) < 1e-12
    np.testing.assert_allclose(k90, k0.T, rtol=1e-5, atol=1e-15)  # cos(pi / 2) is 6e-17, not 0
    t = np.arange(-12, 13)
    dy, dx = np.meshgrid(t, t, indexing="ij")

    def moments(k):
        return (k * dx * dx).sum(), (k * dy * dy).sum(), (k * dx * dy).sum()

    np.testing.assert_allclose(moments(k45), (3.625, 3.625, 2.625), rtol=1e-3)
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    np.testing.assert_allclose(moments(k30), (6.25 * c * c + s * s, 6.25 * s * s + c * c, 5.25 * s * c), rtol=1e-3)
    iso = imaging.gaussian_kernel2d(1.5, 1.5, 0.7, 6).numpy()[0]
    k1 = imaging.gaussian_kernel1d(1.5, truncate=4.0)
    np.testing.assert_allclose(iso, np.outer(k1, k1), atol=1e-15)


def test_blur_per_image_matches_scipy_correlate(rng):
    """Each image of a batch is correlated with its own (non-symmetric) kernel, mirror border, as scipy.ndimage."""
    x = rng.random((2, 11, 9, 3))
    k = rng.random((2, 5, 5))
    y = imaging.blur_per_image(x, k).numpy()
    for i in range(2):
        ref = np.stack([scipy.ndimage.correlate(x[i, ..., c], k[i], mode="reflect") for c in range(3)], -1)
        np.testing.assert_allclose(y[i], ref, atol=1e-12)
    np.testing.assert_allclose(imaging.blur_per_image(x, k, 3, 1).numpy(), y[:, 1::3, 1::3], atol=1e-12)


def test_sensor_noise_is_signal_dependent():
    """On flat grey the noise has mean 0 and std sqrt(x / peak + sigma^2): shot noise (Poisson's variance) plus
    read noise (peak 1000, sigma 0.01: 0.0245 at x = 0.5, 0.0141 at x = 0.1; 30,000 samples: within 3 %)."""
    for level, std in ((0.5, np.sqrt(0.5 / 1000 + 1e-4)), (0.1, np.sqrt(0.1 / 1000 + 1e-4))):
        x = np.full((100, 100, 3), level, np.float32)
        y = imaging.sensor_noise(x, 0.01, 1000.0, seed=(3, 4)).numpy() - level
        assert abs(y.std() - std) < 0.03 * std and abs(y.mean()) < 0.001, (level, y.std(), std)
    np.testing.assert_array_equal(imaging.sensor_noise(x, 0.0, None, (1, 1)).numpy(), x)
