"""Tests for srlib.degrade against MATLAB imresize's formula, scipy and hand-computed values."""

import math

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import tensorflow as tf

from srlib import degrade

# ---------------------------------------------------------------------------
# Independent MATLAB imresize reference (plain loops, float64)
# ---------------------------------------------------------------------------


def _matlab_cubic(x):
    """MATLAB's cubic(x) from imresize.m (Keys, a = -0.5), for one scalar."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def _matlab_contributions(in_length, out_length, scale):
    """imresize.m's contributions(): per output pixel, the 1-based input indices and their weights."""
    if scale < 1:  # antialiasing: h(x) = scale * cubic(scale * x), kernel_width = 4 / scale
        kernel_width = 4.0 / scale

        def h(x):
            return scale * _matlab_cubic(scale * x)
    else:
        kernel_width = 4.0
        h = _matlab_cubic
    aux = list(range(1, in_length + 1)) + list(range(in_length, 0, -1))  # symmetric padding
    p = math.ceil(kernel_width) + 2
    rows = []
    for u in range(1, out_length + 1):
        x = u / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(x - kernel_width / 2)
        taps = [(left + k, h(x - (left + k))) for k in range(p)]
        total = sum(w for _, w in taps)
        rows.append([(aux[(j - 1) % len(aux)], w / total) for j, w in taps])
    return rows


def _matlab_resize_axis(a, axis, out_length, scale):
    """Resize numpy array ``a`` along ``axis`` with the contributions above, one output pixel at a time."""
    a = np.moveaxis(np.asarray(a, np.float64), axis, 0)
    out = np.zeros((out_length,) + a.shape[1:])
    for u, row in enumerate(_matlab_contributions(a.shape[0], out_length, scale)):
        for j, w in row:
            out[u] += w * a[j - 1]
    return np.moveaxis(out, 0, axis)


def matlab_imresize(img, scale=None, size=None):
    """MATLAB imresize(img, scale | [h w], 'bicubic') of an HWC float64 image."""
    h, w = img.shape[:2]
    if size is None:
        size = (math.ceil(h * scale), math.ceil(w * scale))
        sh = sw = scale
    else:
        sh, sw = size[0] / h, size[1] / w
    # MATLAB resizes the dimension with the smaller scale first.
    if sw < sh:
        return _matlab_resize_axis(_matlab_resize_axis(img, 1, size[1], sw), 0, size[0], sh)
    return _matlab_resize_axis(_matlab_resize_axis(img, 0, size[0], sh), 1, size[1], sw)


# ---------------------------------------------------------------------------
# imresize
# ---------------------------------------------------------------------------


def test_reference_contributions_hand_values():
    """Sanity check of the test's own reference: x2 upscaling weights worked out by hand.

    Output pixel 1 of a length-2 signal sits at x = 0.75; taps at distances 1.75, 0.75, -0.25, -1.25
    have cubic weights -0.0234375, 0.2265625, 0.8671875, -0.0703125 (sum 1).
    """
    row = _matlab_contributions(2, 4, 2.0)[0]
    weights = [w for _, w in row]
    np.testing.assert_allclose(weights, [0, -0.0234375, 0.2265625, 0.8671875, -0.0703125, 0], atol=1e-15)
    assert [j for j, _ in row] == [2, 2, 1, 1, 2, 2]  # indices -2..3 mirrored into 1..2


def test_imresize_upscale_step_hand_computed():
    """MATLAB imresize([0 1], 2) = [-0.09375 0.203125 0.796875 1.09375] (computed by hand from cubic())."""
    x = np.array([[[0.0], [1.0]]])  # (1, 2, 1)
    y = degrade.imresize(x, scale=2).numpy()
    assert y.shape == (2, 4, 1)
    expected = np.array([-0.09375, 0.203125, 0.796875, 1.09375])
    np.testing.assert_allclose(y[..., 0], np.stack([expected, expected]), atol=1e-12)


def test_imresize_downscale_step_hand_computed():
    """MATLAB imresize([0 0 0 0 1 1 1 1], 0.5) with antialiasing (h(x) = 0.5 cubic(0.5 x), width 8).

    Output u sits at x = 2u - 0.5; taps at half-distances 1.75, 1.25, 0.75, 0.25 weigh
    0.5 * (-0.0234375, -0.0703125, 0.2265625, 0.8671875), giving [-0.01171875, 0.06640625, 0.93359375, 1.01171875].
    """
    row = np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float64)
    x = np.broadcast_to(row[None, :, None], (4, 8, 1))
    y = degrade.imresize(x, scale=0.5).numpy()
    assert y.shape == (2, 4, 1)
    expected = np.array([-0.01171875, 0.06640625, 0.93359375, 1.01171875])
    np.testing.assert_allclose(y[..., 0], np.stack([expected, expected]), atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 0.5, 1 / 3, 0.25])
def test_imresize_constant_stays_constant(scale):
    """Rows of the resize matrix sum to 1, so a constant image stays exactly constant."""
    x = np.full((6, 9, 3), 0.3712)
    y = degrade.imresize(x, scale=scale).numpy()
    assert y.shape == (math.ceil(6 * scale), math.ceil(9 * scale), 3)
    np.testing.assert_allclose(y, 0.3712, atol=1e-12)


@pytest.mark.parametrize("scale", [0.5, 1 / 3, 0.25, 2, 3, 0.7])
def test_imresize_matches_matlab_loop_reference(rng, scale):
    """imresize equals the loop implementation of MATLAB's contributions() on a random image."""
    x = rng.random((9, 13, 2))
    y = degrade.imresize(x, scale=scale).numpy()
    ref = matlab_imresize(x, scale=scale)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, atol=1e-10)


@pytest.mark.parametrize(("in_hw", "out_hw"), [((7, 11), (3, 4)), ((13, 5), (5, 2)), ((255, 7), (85, 3))])
def test_imresize_output_size_third(in_hw, out_hw):
    """Scale 1/3 gives ceil(side / 3) on odd sizes, and exactly side / 3 on odd multiples of 3 (255 -> 85)."""
    x = np.zeros(in_hw + (1,), np.float32)
    assert tuple(degrade.imresize(x, scale=1 / 3).shape) == out_hw + (1,)


def test_imresize_size_argument(rng):
    """size=(h, w) uses per-axis scales out/in, as MATLAB imresize(img, [h w])."""
    x = rng.random((9, 12, 3))
    y = degrade.imresize(x, size=(5, 7)).numpy()
    assert y.shape == (5, 7, 3)
    np.testing.assert_allclose(y, matlab_imresize(x, size=(5, 7)), atol=1e-10)
    y2 = degrade.imresize(x, size=(14, 6)).numpy()  # one axis up, one down
    np.testing.assert_allclose(y2, matlab_imresize(x, size=(14, 6)), atol=1e-10)


def test_imresize_float32_computation(rng):
    """dtype=tf.float32 computes in single precision and stays within 1e-5 of the float64 MATLAB reference."""
    x = rng.random((10, 12, 3)).astype(np.float32)
    y = degrade.imresize(x, scale=1 / 3, dtype=tf.float32)
    assert y.dtype == tf.float32 and y.shape == (4, 4, 3)
    np.testing.assert_allclose(y.numpy(), matlab_imresize(x.astype(np.float64), 1 / 3), atol=1e-5)


def test_imresize_needs_scale_or_size():
    """Neither scale nor size is an error."""
    with pytest.raises(ValueError):
        degrade.imresize(np.zeros((4, 4, 3)))


def test_imresize_batch_equals_per_image(rng):
    """NHWC input gives the same result as resizing each image alone; float32 dtype is kept."""
    x = rng.random((3, 10, 8, 3)).astype(np.float32)
    y = degrade.imresize(x, scale=0.5)
    assert y.dtype == tf.float32 and y.shape == (3, 5, 4, 3)
    for i in range(3):
        np.testing.assert_allclose(y[i].numpy(), degrade.imresize(x[i], scale=0.5).numpy(), atol=1e-6)
        np.testing.assert_allclose(y[i].numpy(), matlab_imresize(x[i].astype(np.float64), 0.5), atol=1e-6)


def test_imresize_in_dataset_map(rng, dynamic_map):
    """imresize runs in tf.data.Dataset.map on batches of unknown N, H, W and matches the reference."""
    batches = [rng.random((2, 12, 9, 3)).astype(np.float32), rng.random((1, 7, 10, 3)).astype(np.float32)]
    out = dynamic_map(lambda b: degrade.imresize(b, scale=1 / 3), batches)
    assert [o.shape for o in out] == [(2, 4, 3, 3), (1, 3, 4, 3)]
    for x, y in zip(batches, out, strict=True):
        for i in range(len(x)):
            np.testing.assert_allclose(y[i], matlab_imresize(x[i].astype(np.float64), 1 / 3), atol=1e-5)


def test_bicubic_lr_and_helpers(rng):
    """bicubic_lr = mod-crop, MATLAB bicubic by 1/s, rounded to uint8 levels."""
    x = rng.random((11, 14, 3))
    lr = degrade.bicubic_lr(x, 3).numpy()
    ref = np.round(np.clip(matlab_imresize(x[:9, :12], 1 / 3), 0, 1) * 255) / 255
    assert lr.shape == (3, 4, 3)
    np.testing.assert_allclose(lr, ref, atol=1e-12)
    assert degrade.mod_crop(np.zeros((2, 11, 14, 3)), 4).shape == (2, 8, 12, 3)
    np.testing.assert_array_equal(
        degrade.to_uint8_range(np.array([-0.2, 0.5, 0.0019, 1.3])).numpy(), [0.0, 128 / 255, 0.0, 1.0]
    )


# ---------------------------------------------------------------------------
# gaussian_blur / blur_decimate
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.5])
def test_gaussian_blur_matches_scipy(rng, sigma):
    """gaussian_blur equals scipy.ndimage.gaussian_filter(mode='reflect', truncate=4) per channel."""
    x = rng.random((16, 19, 3))
    y = degrade.gaussian_blur(x, sigma).numpy()
    ref = np.stack(
        [scipy.ndimage.gaussian_filter(x[..., c], sigma, mode="reflect", truncate=4.0) for c in range(3)], -1
    )
    np.testing.assert_allclose(y, ref, atol=1e-10)


def test_gaussian_blur_small_image_matches_scipy(rng):
    """On a 5x5 image with sigma=2 (radius 8 > side 5) scipy still works; srlib should too."""
    x = rng.random((5, 5, 1))
    ref = scipy.ndimage.gaussian_filter(x[..., 0], 2.0, mode="reflect", truncate=4.0)
    np.testing.assert_allclose(degrade.gaussian_blur(x, 2.0).numpy()[..., 0], ref, atol=1e-10)


def test_gaussian_kernel1d_matches_scipy():
    """Taps equal scipy.ndimage's internal Gaussian kernel (filtering a unit impulse)."""
    k = degrade.gaussian_kernel1d(1.3)
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
        k = degrade.decimate_fir(q)
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
    y = degrade.blur_decimate(x[None, :, None], q, sigma=0).numpy()
    assert y.shape == (1, math.ceil(37 / q), 1)
    centre = scipy.signal.decimate(np.ones(1), q, ftype="fir")[0]
    np.testing.assert_allclose(y[0, :, 0], centre * scipy.signal.decimate(x, q, ftype="fir"), atol=1e-6)


@pytest.mark.parametrize("q", [2, 3, 4])
def test_blur_decimate_2d_matches_scipy(rng, q):
    """sigma=0: equals scipy.signal.decimate(ftype='fir') along axis 0 then axis 1, per channel."""
    x = rng.random((23, 30, 2))
    y = degrade.blur_decimate(x, q, sigma=0).numpy()
    ref = scipy.signal.decimate(scipy.signal.decimate(x, q, ftype="fir", axis=0), q, ftype="fir", axis=1)
    assert y.shape == ref.shape == (math.ceil(23 / q), math.ceil(30 / q), 2)
    np.testing.assert_allclose(y, ref, atol=1e-6)


def test_blur_decimate_with_blur_matches_scipy(rng):
    """sigma>0: Gaussian blur (scipy reflect) then FIR decimation; NHWC batch too."""
    x = rng.random((2, 18, 15, 3))
    y = degrade.blur_decimate(x, 3, sigma=1.2).numpy()
    for i in range(2):
        blurred = scipy.ndimage.gaussian_filter(x[i], (1.2, 1.2, 0), mode="reflect", truncate=4.0)
        ref = scipy.signal.decimate(scipy.signal.decimate(blurred, 3, ftype="fir", axis=0), 3, ftype="fir", axis=1)
        np.testing.assert_allclose(y[i], ref, atol=1e-6)


# ---------------------------------------------------------------------------
# pixelate_noise / add_noise / resize / jpeg
# ---------------------------------------------------------------------------


def _block_mean(x, s):
    h, w, c = x.shape[0] // s, x.shape[1] // s, x.shape[2]
    return x[: h * s, : w * s].reshape(h, s, w, s, c).mean(axis=(1, 3))


@pytest.mark.parametrize("s", [2, 3])
def test_pixelate_without_noise_is_block_mean(rng, s):
    """sigma=0: each output pixel is the numpy mean of an s x s block; partial blocks are dropped."""
    x = rng.random((2, 11, 8, 3))
    y = degrade.pixelate_noise(x, s, sigma=0).numpy()
    assert y.shape == (2, 11 // s, 8 // s, 3)
    for i in range(2):
        np.testing.assert_allclose(y[i], _block_mean(x[i], s), atol=1e-12)
    np.testing.assert_allclose(degrade.pixelate_noise(x[0], s, sigma=0).numpy(), _block_mean(x[0], s), atol=1e-12)


def test_pixelate_noise_seeded(rng):
    """Same seed -> identical output; a different seed -> a different one."""
    x = rng.random((12, 12, 3)).astype(np.float32)
    a = degrade.pixelate_noise(x, 2, sigma=0.05, seed=(3, 4)).numpy()
    b = degrade.pixelate_noise(x, 2, sigma=0.05, seed=(3, 4)).numpy()
    c = degrade.pixelate_noise(x, 2, sigma=0.05, seed=(3, 5)).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_pixelate_noise_std_on_mid_grey():
    """On mid grey (no clipping) the noise has mean 0 and std sigma (12288 samples: within 5 %)."""
    x = np.full((128, 128, 3), 0.5, np.float32)
    y = degrade.pixelate_noise(x, 2, sigma=0.05, seed=(7, 11)).numpy()
    noise = y.astype(np.float64) - 0.5
    assert abs(noise.std() - 0.05) < 0.05 * 0.05
    assert abs(noise.mean()) < 0.002


def test_resize_area_integer_factor_is_block_mean(rng):
    """TF 'area' resize by 1/2 equals numpy 2x2 block means; output side = round(side * scale)."""
    x = rng.random((2, 8, 12, 3)).astype(np.float32)
    y = degrade.resize(x, 0.5, method="area").numpy()
    assert y.shape == (2, 4, 6, 3)
    np.testing.assert_allclose(y[1], _block_mean(x[1], 2), atol=1e-6)
    assert degrade.resize(x[0], 1 / 3, method="bilinear").shape == (3, 4, 3)  # round(2.67), round(4)


def test_add_noise_seeded_and_clipped():
    """add_noise is reproducible for a seed and clips to [0, 1]."""
    x = np.array([[[0.0, 1.0, 0.5]]] * 4, np.float32)
    a = degrade.add_noise(x, 0.3, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, degrade.add_noise(x, 0.3, seed=(1, 2)).numpy())
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert not np.array_equal(a, x)


def test_jpeg_close_to_input():
    """A JPEG round trip at quality 95 keeps a smooth image within a few levels; quality 10 loses more."""
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    x = np.stack([yy, xx, 0.5 * (xx + yy)], -1).astype(np.float32)
    hi = degrade.jpeg(x, quality=95).numpy()
    lo = degrade.jpeg(x, quality=10).numpy()
    assert hi.shape == x.shape and hi.dtype == np.float32
    assert np.abs(hi - x).mean() < 3 / 255
    assert np.abs(lo - x).mean() > np.abs(hi - x).mean()
    gray = degrade.jpeg(np.stack([x[..., :1]] * 2), quality=95).numpy()  # NHWC, one channel
    assert gray.shape == (2, 32, 32, 1)
    assert np.abs(gray[1] - x[..., :1]).mean() < 3 / 255


# ---------------------------------------------------------------------------
# Everything in tf.data, and Pipeline
# ---------------------------------------------------------------------------

PIPELINE_STEPS = [
    ("blur", {"sigma": 1.0}),
    ("imresize", {"scale": 0.5}),
    ("noise", {"sigma": 0.02}),
    ("jpeg", {"quality": 80}),
    ("round", {}),
]


@pytest.mark.parametrize(
    ("name", "fn", "out_hw"),
    [
        ("imresize", lambda b: degrade.imresize(b, scale=1 / 3), (5, 6)),
        ("blur_decimate", lambda b: degrade.blur_decimate(b, 3, sigma=1.0), (5, 6)),
        ("pixelate_noise", lambda b: degrade.pixelate_noise(b, 3, sigma=0.02, seed=(1, 2)), (4, 5)),
        ("resize_area", lambda b: degrade.resize(b, 1 / 3, method="area"), (4, 6)),
        ("resize_bilinear", lambda b: degrade.resize(b, 2, method="bilinear"), (26, 34)),
        ("jpeg", lambda b: degrade.jpeg(b, quality=70), (13, 17)),
        ("pipeline", lambda b: degrade.Pipeline(PIPELINE_STEPS)(b, seed=(5, 6)), (7, 9)),
    ],
)
def test_degradations_in_dataset_map(rng, dynamic_map, name, fn, out_hw):
    """Each degradation runs in tf.data.Dataset.map on a (2, 13, 17, 3) batch of unknown shape."""
    batch = rng.random((2, 13, 17, 3)).astype(np.float32)
    (out,) = dynamic_map(fn, [batch])
    assert out.shape == (2,) + out_hw + (3,), name
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_pipeline_matches_eager_in_dataset_map(rng, dynamic_map):
    """The pipeline gives the same result in graph mode (Dataset.map) as eagerly, for the same seed."""
    batch = rng.random((2, 12, 10, 3)).astype(np.float32)
    deg = degrade.Pipeline(PIPELINE_STEPS)
    (graph,) = dynamic_map(lambda b: deg(b, seed=(8, 9)), [batch])
    np.testing.assert_allclose(graph, deg(batch, seed=(8, 9)).numpy(), atol=1e-6)


def test_pipeline_deterministic_given_seed(rng):
    """Same seed -> same LR, different seed -> different LR; steps apply in order."""
    x = rng.random((16, 16, 3)).astype(np.float32)
    deg = degrade.Pipeline([("blur", {"sigma": 1.0}), ("imresize", {"scale": 0.5}), ("noise", {"sigma": 0.05})])
    a = deg(x, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, deg(x, seed=(1, 2)).numpy())
    assert np.abs(a - deg(x, seed=(1, 3)).numpy()).max() > 1e-3
    assert a.shape == (8, 8, 3)
    clean = degrade.Pipeline([("blur", {"sigma": 1.0}), ("imresize", {"scale": 0.5})])(x).numpy()
    np.testing.assert_allclose(clean, degrade.imresize(degrade.gaussian_blur(x, 1.0), scale=0.5).numpy(), atol=1e-6)


def test_pipeline_unknown_step():
    """An unknown step name raises ValueError naming it."""
    with pytest.raises(ValueError, match="sharpen"):
        degrade.Pipeline([("blur", {"sigma": 1.0}), ("sharpen", {})])
