"""Tests for srlib.degrade: the degradations against scipy and hand-computed values, the registry, the benchmark LR."""

import math

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
from test_resize import matlab_imresize

from srlib import degrade
from srlib.io import quantize
from srlib.resize import imresize


def test_benchmark_lr_crops_resizes_and_rounds(rng):
    """benchmark_lr = mod-crop, MATLAB bicubic by 1/s (the loop reference), rounded to uint8 levels."""
    x = rng.random((11, 14, 3))
    hr, lr = degrade.benchmark_lr(x, 3)
    ref = np.round(np.clip(matlab_imresize(x[:9, :12], 1 / 3), 0, 1) * 255) / 255
    assert hr.shape == (9, 12, 3) and lr.shape == (3, 4, 3) and lr.dtype == np.float32
    np.testing.assert_allclose(lr, ref, atol=1e-6)
    np.testing.assert_array_equal(hr, x[:9, :12].astype(np.float32))
    assert degrade.mod_crop(np.zeros((2, 11, 14, 3)), 4).shape == (2, 8, 12, 3)


def test_benchmark_lr_non_integer_scale(rng):
    """x2.5 crops to a multiple of 5 and resizes to exactly 2/5 of each side, on uint8 levels."""
    x = rng.random((23, 31, 1)).astype(np.float32)
    hr, lr = degrade.benchmark_lr(x, 2.5)
    assert hr.shape == (20, 30, 1) and lr.shape == (8, 12, 1)
    np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)


def test_benchmark_lr_uses_each_entry_with_its_fixed_seed(rng):
    """pixelate_noise's benchmark LR is the block mean plus noise of seed (7, 7), rounded: the same every call,
    and not the LR of another seed."""
    x = rng.random((12, 16, 3)).astype(np.float32)
    _, a = degrade.benchmark_lr(x, 2, "pixelate_noise")
    ref = degrade.pixelate_noise(x, 2, sigma=0.02, seed=(7, 7)).numpy()
    np.testing.assert_array_equal(a, np.round(np.clip(ref, 0, 1) * 255) / np.float32(255))
    np.testing.assert_array_equal(a, degrade.benchmark_lr(x, 2, "pixelate_noise")[1])
    other = degrade.pixelate_noise(x, 2, sigma=0.02, seed=(7, 8)).numpy()
    assert np.abs(a - other).max() > 0.01


def test_registry_names_and_unknown():
    """The registry holds the recipe degradations and the pipeline steps; an unknown name is one line naming it."""
    assert {"bicubic", "blur_decimate", "pixelate_noise", "area", "bilinear", "jpeg"} <= set(degrade.REGISTRY)
    assert degrade.get("bicubic") is degrade.REGISTRY["bicubic"]
    with pytest.raises(ValueError, match="sharpen"):
        degrade.get("sharpen")


def test_out_of_graph_entry_benchmarks_but_never_runs_in_tf_data(rng):
    """An in_graph=False entry (numpy, one image: a stand-in for an ffmpeg codec) gives a benchmark LR; the patch
    pipeline refuses it on an array (its LR is made once per file and cached: tests/test_data.py) and pair_fn in a
    training step refuses it, each with a one-line reason; chain() refuses it too."""
    from srlib.data import make_dataset, pair_fn

    calls = []

    def codec(hr, scale, seed):
        calls.append(seed)
        return hr[::scale, ::scale] + 0.3  # above 1 where hr > 0.7: benchmark_lr clips

    entry = degrade.Degradation("fake_codec", codec, benchmark_seed=(3, 4), in_graph=False)
    x = rng.random((8, 10, 3)).astype(np.float32)
    _, lr = degrade.benchmark_lr(x, 2, entry)
    np.testing.assert_array_equal(lr, np.round(np.clip(x[::2, ::2] + 0.3, 0, 1) * 255) / np.float32(255))
    assert calls == [(3, 4)]
    with pytest.raises(ValueError, match="fake_codec.*tf.data"):
        make_dataset(x[None], 2, 4, degradation=entry)
    with pytest.raises(ValueError, match="fake_codec.*tf.data"):
        pair_fn(2, entry)
    with pytest.raises(ValueError, match="in-graph"):
        degrade.chain("mix", [("bicubic", {}), (entry, {})])

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
# Everything in tf.data, and chains
# ---------------------------------------------------------------------------

CHAIN_STEPS = [
    ("blur", {"sigma": 1.0}),
    ("bicubic", {}),
    ("noise", {"sigma": 0.02}),
    ("jpeg", {"quality": 80}),
    ("round", {}),
]


@pytest.mark.parametrize(
    ("name", "fn", "out_hw"),
    [
        ("blur_decimate", lambda b: degrade.blur_decimate(b, 3, sigma=1.0), (5, 6)),
        ("pixelate_noise", lambda b: degrade.pixelate_noise(b, 3, sigma=0.02, seed=(1, 2)), (4, 5)),
        ("resize_area", lambda b: degrade.resize(b, 1 / 3, method="area"), (4, 6)),
        ("resize_bilinear", lambda b: degrade.resize(b, 2, method="bilinear"), (26, 34)),
        ("jpeg", lambda b: degrade.jpeg(b, quality=70), (13, 17)),
        ("chain", lambda b: degrade.chain("c", CHAIN_STEPS)(b, 2, seed=(5, 6)), (7, 9)),
    ]
    + [(n, lambda b, n=n: degrade.get(n)(b, 3, seed=(1, 2)), hw)
       for n, hw in [("bicubic", (5, 6)), ("blur_decimate", (5, 6)), ("pixelate_noise", (4, 5)), ("area", (4, 6)),
                     ("bilinear", (4, 6))]],
)
def test_degradations_in_dataset_map(rng, dynamic_map, name, fn, out_hw):
    """Each degradation (and each registry entry at x3) runs in tf.data.Dataset.map on a (2, 13, 17, 3) batch of
    unknown shape."""
    batch = rng.random((2, 13, 17, 3)).astype(np.float32)
    (out,) = dynamic_map(fn, [batch])
    assert out.shape == (2,) + out_hw + (3,), name
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_chain_matches_eager_in_dataset_map(rng, dynamic_map):
    """A chain gives the same result in graph mode (Dataset.map) as eagerly, for the same seed."""
    batch = rng.random((2, 12, 10, 3)).astype(np.float32)
    deg = degrade.chain("c", CHAIN_STEPS)
    (graph,) = dynamic_map(lambda b: deg(b, 2, seed=(8, 9)), [batch])
    np.testing.assert_allclose(graph, deg(batch, 2, seed=(8, 9)).numpy(), atol=1e-6)


def test_chain_deterministic_given_seed(rng):
    """Same seed -> same LR, different seed -> different LR; steps apply in order; the benchmark seed by default."""
    x = rng.random((16, 16, 3)).astype(np.float32)
    deg = degrade.chain("c", [("blur", {"sigma": 1.0}), ("bicubic", {}), ("noise", {"sigma": 0.05})], (1, 2))
    a = deg(x, 2, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, deg(x, 2).numpy())
    assert np.abs(a - deg(x, 2, seed=(1, 3)).numpy()).max() > 1e-3
    assert a.shape == (8, 8, 3)
    clean = degrade.chain("c", [("blur", {"sigma": 1.0}), ("bicubic", {})])(x, 2).numpy()
    np.testing.assert_allclose(clean, quantize(imresize(degrade.gaussian_blur(x, 1.0), scale=0.5)).numpy(), atol=1e-6)


def test_chain_unknown_step():
    """An unknown step name raises ValueError naming it."""
    with pytest.raises(ValueError, match="sharpen"):
        degrade.chain("c", [("blur", {"sigma": 1.0}), ("sharpen", {})])


# ---------------------------------------------------------------------------
# Degradations people meet: JPEG, H.264, sensor noise, blur kernels, resize kernels, the mixture
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photo():
    """A real photo, float32 (96, 120, 3): a crop of scikit-image's astronaut (face, suit, flag: edges and texture)."""
    from skimage import data

    return data.astronaut()[40:136, 150:270].astype(np.float32) / 255


def _pil_jpeg(x, quality):
    """PIL's JPEG round trip of float (H, W, C) levels: save(quality=q), open."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(quantize(x, uint8=True).squeeze(-1) if x.shape[-1] == 1 else quantize(x, uint8=True)).save(
        buf, "JPEG", quality=quality)
    y = np.asarray(Image.open(buf), np.float32) / 255
    return y[..., None] if y.ndim == 2 else y


@pytest.mark.parametrize("quality", [30, 50, 95])
def test_jpeg_equals_pil_to_the_bit(photo, quality):
    """jpeg() is PIL's JPEG at the same quality, bit for bit, in colour and grey, one quality per image of a batch."""
    np.testing.assert_array_equal(degrade.jpeg(photo, quality).numpy(), _pil_jpeg(photo, quality))
    grey = photo[..., :1]
    np.testing.assert_array_equal(degrade.jpeg(grey, quality).numpy(), _pil_jpeg(grey, quality))
    both = degrade.jpeg(np.stack([photo, photo[::-1]]), [quality, 90]).numpy()
    np.testing.assert_array_equal(both[1], _pil_jpeg(photo[::-1], 90))


def test_bicubic_jpeg_benchmark_is_quality_50(photo):
    """The benchmark form of bicubic_jpeg is PIL's JPEG at quality 50 of the rounded MATLAB bicubic LR (the
    issue's BSD100 x3 setting); its training form draws the quality per image, so a fixed range of one quality
    gives the same LR, and the range (30, 95) another."""
    hr, lr = degrade.benchmark_lr(photo, 3, "bicubic_jpeg")
    _, clean = degrade.benchmark_lr(photo, 3)
    np.testing.assert_array_equal(lr, _pil_jpeg(clean, 50))
    entry = degrade.get("bicubic_jpeg")
    np.testing.assert_array_equal(entry(hr, 3, seed=(4, 4), quality=50).numpy(), lr)
    assert not np.array_equal(entry(hr, 3, seed=(4, 4)).numpy(), lr)


def _psnr_y(a, b):
    y = lambda x: 16 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2])  # noqa: E731
    return 10 * np.log10(255**2 / np.mean((y(a) - y(b)) ** 2))


def test_h264_benchmark_is_deterministic_and_plausible(photo):
    """The H.264 stream of a frame is the same bytes twice; the benchmark LR (MATLAB bicubic x3, H.264 CRF 28) is
    the same twice and loses a plausible amount against the clean LR (PSNR-Y 25-40 dB on this small textured crop:
    27.7 measured with the ffmpeg of imageio-ffmpeg 0.6, 35.0 at CRF 18, 21.6 at CRF 38), more at CRF 38 than at 18;
    odd sides come back the size they went in."""
    _, clean = degrade.benchmark_lr(photo, 3)  # 32 x 40
    frames = quantize(clean, uint8=True)[None]
    assert degrade.h264_stream(frames, 28) == degrade.h264_stream(frames.copy(), 28)
    _, lr = degrade.benchmark_lr(photo, 3, "bicubic_h264")
    np.testing.assert_array_equal(lr, degrade.benchmark_lr(photo, 3, "bicubic_h264")[1])
    np.testing.assert_array_equal(lr, degrade.h264(clean, 28))
    psnr = {crf: _psnr_y(degrade.h264(clean, crf), clean) for crf in (18, 28, 38)}
    assert 25 < psnr[28] < 40 and psnr[18] > psnr[28] > psnr[38], psnr
    odd = degrade.h264(clean[:31, :39], 28)
    assert odd.shape == (31, 39, 3) and lr.dtype == np.float32
    clip = degrade.benchmark_lr(np.stack([photo, photo[:, ::-1], photo]), 3, "bicubic_h264_clip")[1]
    assert clip.shape == (3, 32, 40, 3)
    np.testing.assert_array_equal(clip, degrade.benchmark_lr(np.stack([photo, photo[:, ::-1], photo]), 3,
                                                             "bicubic_h264_clip")[1])


def test_gaussian_kernel2d_normalised_and_rotates_as_specified():
    """Taps sum to 1; theta = pi/2 is the transpose of theta = 0; the kernel's second moments are the covariance
    R diag(s1^2, s2^2) R^T: for (2.5, 1.0, pi/4) var_x = var_y = (6.25 + 1) / 2, cov_xy = (6.25 - 1) / 2 (x columns,
    y rows down), and for pi/6 the general formula."""
    k0, k90, k45, k30 = (degrade.gaussian_kernel2d(2.5, 1.0, t, 12).numpy()[0]
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
    iso = degrade.gaussian_kernel2d(1.5, 1.5, 0.7, 6).numpy()[0]
    k1 = degrade.gaussian_kernel1d(1.5, truncate=4.0)
    np.testing.assert_allclose(iso, np.outer(k1, k1), atol=1e-15)


def test_blur_per_image_matches_scipy_correlate(rng):
    """Each image of a batch is correlated with its own (non-symmetric) kernel, mirror border, as scipy.ndimage."""
    x = rng.random((2, 11, 9, 3))
    k = rng.random((2, 5, 5))
    y = degrade.blur_per_image(x, k).numpy()
    for i in range(2):
        ref = np.stack([scipy.ndimage.correlate(x[i, ..., c], k[i], mode="reflect") for c in range(3)], -1)
        np.testing.assert_allclose(y[i], ref, atol=1e-12)
    np.testing.assert_allclose(degrade.blur_per_image(x, k, 3, 1).numpy(), y[:, 1::3, 1::3], atol=1e-12)


def test_blur_iso_benchmark_is_scipy_gaussian_then_centre_pixels(rng):
    """blur_iso's benchmark form: scipy's Gaussian (sigma 1.5, radius 6, mirror border), then every 3rd pixel from
    the 2nd (the LR pixel centres of MATLAB's bicubic)."""
    x = rng.random((27, 33, 3)).astype(np.float32)
    _, lr = degrade.benchmark_lr(x, 3, "blur_iso")
    ref = scipy.ndimage.gaussian_filter(x.astype(np.float64), (1.5, 1.5, 0), mode="reflect", truncate=6 / 1.5)
    np.testing.assert_allclose(lr, quantize(ref[1::3, 1::3]), atol=1 / 255 + 1e-6)
    assert np.mean(lr != quantize(ref[1::3, 1::3])) < 0.01  # float32 rounding may move a level, rarely


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_nearest_keeps_the_centre_pixel_of_each_block(rng, scale):
    """nearest keeps pixel scale // 2 of each scale x scale block."""
    x = rng.random((4 * scale, 5 * scale, 3)).astype(np.float32)
    np.testing.assert_array_equal(degrade.get("nearest")(x, scale).numpy(), x[scale // 2 :: scale, scale // 2 :: scale])


def test_sensor_noise_is_signal_dependent():
    """On flat grey the noise has mean 0 and std sqrt(x / peak + sigma^2): shot noise (Poisson's variance) plus
    read noise (peak 1000, sigma 0.01: 0.0245 at x = 0.5, 0.0141 at x = 0.1; 30,000 samples: within 3 %)."""
    for level, std in ((0.5, np.sqrt(0.5 / 1000 + 1e-4)), (0.1, np.sqrt(0.1 / 1000 + 1e-4))):
        x = np.full((100, 100, 3), level, np.float32)
        y = degrade.sensor_noise(x, 0.01, 1000.0, seed=(3, 4)).numpy() - level
        assert abs(y.std() - std) < 0.03 * std and abs(y.mean()) < 0.001, (level, y.std(), std)
    np.testing.assert_array_equal(degrade.sensor_noise(x, 0.0, None, (1, 1)).numpy(), x)


NEW_ENTRIES = ["nearest", "blur_iso", "blur_aniso", "bicubic_noise", "bicubic_jpeg", "mixture"]


@pytest.mark.parametrize("name", [*NEW_ENTRIES[:-1], pytest.param("mixture", marks=pytest.mark.slow)])  # 20 s
def test_new_entries_in_dataset_map(rng, dynamic_map, name):
    """Each new in-graph entry runs in tf.data.Dataset.map on a (2, 12, 15, 3) batch of unknown shape -> (2, 4, 5, 3)
    at x3, the same values as eagerly for one seed."""
    batch = rng.random((2, 12, 15, 3)).astype(np.float32)
    entry = degrade.get(name)
    (out,) = dynamic_map(lambda b: entry(b, 3, seed=(5, 6)), [batch])
    assert out.shape == (2, 4, 5, 3) and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(out, np.asarray(entry(batch, 3, seed=(5, 6))), atol=2e-6)


@pytest.mark.parametrize("name", NEW_ENTRIES + ["bicubic_h264", "mixture_h264"])
def test_fixed_seed_forms_are_deterministic(photo, name):
    """The benchmark form gives the same LR every time; the training form too for one seed; a random entry
    gives another LR for another seed."""
    _, a = degrade.benchmark_lr(photo, 3, name)
    np.testing.assert_array_equal(a, degrade.benchmark_lr(photo, 3, name)[1])
    entry = degrade.get(name)
    b = np.asarray(entry(photo, 3, seed=(1, 2)))
    np.testing.assert_array_equal(b, np.asarray(entry(photo, 3, seed=(1, 2))))
    if name != "nearest":
        assert np.abs(b - np.asarray(entry(photo, 3, seed=(4, 9)))).max() > 2 / 255


def test_mixture_draws_differ_by_seed_and_by_image(photo):
    """The mixture's per-image draws depend on the seed and on the image, not on its place in the batch; so its
    fixed-seed benchmark form gives each test image its own degradation."""
    other = photo[::-1, ::-1]
    u = degrade._image_uniforms((8, 8), np.stack([photo, other]), 14).numpy()
    assert np.abs(u[0] - u[1]).min() > 0
    np.testing.assert_array_equal(degrade._image_uniforms((8, 8), np.stack([other, photo]), 14).numpy()[::-1], u)
    assert not np.array_equal(degrade._image_uniforms((8, 9), photo[None], 14).numpy()[0], u[0])
    lr = degrade.mixture(photo, 3, (8, 8)).numpy()
    assert lr.shape == (32, 40, 3)
    np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)


@pytest.mark.parametrize(("name", "params", "word"), [
    ("bicubic_jpeg", {"quality": 120}, "quality"),
    ("bicubic_jpeg", {"quality": (90, 30)}, "quality"),
    ("bicubic_h264", {"crf": 60}, "crf"),
    ("blur_iso", {"sigma": "wide"}, "sigma"),
    ("blur_aniso", {"theta": (0, 7)}, "theta"),
    ("bicubic_noise", {"peak": 0}, "peak"),
    ("mixture", {"quality": (0, 50)}, "quality"),
    ("mixture", {"qualty": 50}, "unknown parameter qualty"),
])
def test_bad_parameters_one_line_naming_the_entry(photo, name, params, word):
    """A bad parameter value or name raises a one-line ValueError that names the entry and the parameter."""
    with pytest.raises(ValueError, match=f"^{name}: .*{word}") as e:
        degrade.get(name)(photo, 3, seed=(1, 1), **params)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="blur_iso: needs an integer scale"):
        degrade.get("blur_iso")(photo[:95, :115], 2.5)
    with pytest.raises(ValueError, match="jpeg: unknown parameter sigma"):
        degrade.chain("c", [("bicubic", {}), ("jpeg", {"sigma": 1})])
