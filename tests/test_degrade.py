"""Tests for srlib.degrade: the registry entries against scipy, PIL and hand-computed values, chains, the benchmark
LR (the ops themselves: tests/test_imaging.py, tests/test_codec.py)."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
from test_codec import pil_jpeg
from test_resize import matlab_imresize

from srlib import codec, degrade, imaging, mixtures
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
    ref = imaging.pixelate_noise(x, 2, sigma=0.02, seed=(7, 7)).numpy()
    np.testing.assert_array_equal(a, np.round(np.clip(ref, 0, 1) * 255) / np.float32(255))
    np.testing.assert_array_equal(a, degrade.benchmark_lr(x, 2, "pixelate_noise")[1])
    other = imaging.pixelate_noise(x, 2, sigma=0.02, seed=(7, 8)).numpy()
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
        ("blur_decimate", lambda b: imaging.blur_decimate(b, 3, sigma=1.0), (5, 6)),
        ("pixelate_noise", lambda b: imaging.pixelate_noise(b, 3, sigma=0.02, seed=(1, 2)), (4, 5)),
        ("resize_area", lambda b: imaging.resize(b, 1 / 3, method="area"), (4, 6)),
        ("resize_bilinear", lambda b: imaging.resize(b, 2, method="bilinear"), (26, 34)),
        ("jpeg", lambda b: codec.jpeg(b, quality=70), (13, 17)),
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
    np.testing.assert_allclose(clean, quantize(imresize(imaging.gaussian_blur(x, 1.0), scale=0.5)).numpy(), atol=1e-6)


def test_chain_unknown_step():
    """An unknown step name raises ValueError naming it."""
    with pytest.raises(ValueError, match="sharpen"):
        degrade.chain("c", [("blur", {"sigma": 1.0}), ("sharpen", {})])


# ---------------------------------------------------------------------------
# The entries of degradations people meet: JPEG, H.264, sensor noise, blur kernels, resize kernels, the mixture
# ---------------------------------------------------------------------------


def test_bicubic_jpeg_benchmark_is_quality_50(photo):
    """The benchmark form of bicubic_jpeg is PIL's JPEG at quality 50 of the rounded MATLAB bicubic LR (the
    issue's BSD100 x3 setting); its training form draws the quality per image, so a fixed range of one quality
    gives the same LR, and the range (30, 95) another."""
    hr, lr = degrade.benchmark_lr(photo, 3, "bicubic_jpeg")
    _, clean = degrade.benchmark_lr(photo, 3)
    np.testing.assert_array_equal(lr, pil_jpeg(clean, 50))
    entry = degrade.get("bicubic_jpeg")
    np.testing.assert_array_equal(entry(hr, 3, seed=(4, 4), quality=50).numpy(), lr)
    assert not np.array_equal(entry(hr, 3, seed=(4, 4)).numpy(), lr)


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


@pytest.mark.parametrize("name", NEW_ENTRIES + ["bicubic_h264", "bicubic_h264_pan", "mixture_h264"])
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
    u = mixtures._image_uniforms((8, 8), np.stack([photo, other]), 14).numpy()
    assert np.abs(u[0] - u[1]).min() > 0
    np.testing.assert_array_equal(mixtures._image_uniforms((8, 8), np.stack([other, photo]), 14).numpy()[::-1], u)
    assert not np.array_equal(mixtures._image_uniforms((8, 9), photo[None], 14).numpy()[0], u[0])
    lr = mixtures.mixture(photo, 3, (8, 8)).numpy()
    assert lr.shape == (32, 40, 3)
    np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)


@pytest.mark.parametrize(("name", "params", "word"), [
    ("bicubic_jpeg", {"quality": 120}, "quality"),
    ("bicubic_jpeg", {"quality": (90, 30)}, "quality"),
    ("bicubic_h264", {"crf": 60}, "crf"),
    ("bicubic_h264_pan", {"speed": (4, 1)}, "speed"),
    ("bicubic_h264_pan", {"frames": 1}, "frames"),
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
