"""srlib.data: aligned (LR, HR) pairs, shapes, determinism, sources, bad files, streaming memory, benchmark pairs."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from test_resize import matlab_imresize

from srlib import color, degrade
from srlib.data import SkipLog, benchmark_pairs, image_source, make_dataset
from srlib.io import load_image, quantize
from srlib.resize import imresize

SIZES = [(60, 80), (75, 64), (96, 70), (64, 64), (81, 99), (70, 120)]


def _photo(rng, h, w):
    """uint8 (h, w, 3) 'photo': smooth per-channel gradients plus mild noise (so pixel triples are nearly unique)."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.5 + 0.35 * np.sin(3 * x + 2 * y + c) for c in range(3)], axis=-1)
    noisy = base + rng.normal(0.0, 0.04, base.shape)
    return np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)


def _write(path, pixels):
    """Save uint8 pixels (format from the suffix), creating the parent folder; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def photos(tmp_path, rng):
    """Folder of six PNG photos of varied sizes; returns (folder, their float images as load_image reads them)."""
    folder = tmp_path / "photos"
    files = [_write(folder / f"p{i}.png", _photo(rng, h, w)) for i, (h, w) in enumerate(SIZES)]
    return folder, [load_image(f) for f in files]


def _batches(ds, n):
    """First ``n`` batches of a dataset as lists of NumPy arrays."""
    return [[t.numpy() for t in batch] for batch in ds.take(n)]


def _dihedral_variants(patch):
    """The 8 flips / 90-degree rotations of a square (P, P, C) patch; index 0 is the patch itself."""
    rots = [np.rot90(patch, k) for k in range(4)]
    return rots + [r[:, ::-1] for r in rots]


def _locate(patch, images):
    """Index (0..7) of the dihedral variant of ``patch`` that is an exact crop of one of ``images``, or None."""
    s = patch.shape[0]
    for k, q in enumerate(_dihedral_variants(patch)):
        for im in images:
            ys, xs = np.nonzero(np.all(im[: im.shape[0] - s + 1, : im.shape[1] - s + 1] == q[0, 0], axis=-1))
            if any(np.array_equal(im[y : y + s, x : x + s], q) for y, x in zip(ys, xs, strict=True)):
                return k
    return None


def _count_pairs(source, scale=2, patch_size=8, patches_per_image=2, **kwargs):
    """Number of pairs in one pass (batch size 1, so nothing is dropped)."""
    ds = make_dataset(
        source, scale, patch_size, batch_size=1, patches_per_image=patches_per_image, repeat=False, **kwargs
    )
    return sum(1 for _ in ds)


# ---------------------------------------------------------------------------
# Alignment, shapes, determinism
# ---------------------------------------------------------------------------


def test_pairs_aligned_with_augmentation(photos):
    """With flips/rotations on, every LR patch is the benchmark bicubic LR of its HR patch (1e-6), and every
    HR patch is an exact crop of a source image under some flip/rotation, not always the identity."""
    folder, images = photos
    ds = make_dataset(
        folder,
        3,
        patch_size=8,
        degradation="bicubic",
        batch_size=8,
        patches_per_image=4,
        y_only=False,
        augment=True,
        shuffle_buffer=32,
        seed=1,
    )
    transforms = []
    for lr, hr in _batches(ds, 4):
        assert lr.shape == (8, 8, 8, 3) and hr.shape == (8, 24, 24, 3)
        expected = quantize(imresize(hr, scale=1 / 3)).numpy()
        np.testing.assert_allclose(lr, expected, rtol=0, atol=1e-6)
        transforms += [_locate(p, images) for p in hr]
    assert None not in transforms, "an HR patch is not a crop of any source image"
    assert len(set(transforms)) > 1, "augmentation never changed a patch"


def test_y_only_is_y_of_rgb_pairs(photos):
    """y_only=True gives Y (MATLAB rgb2ycbcr) of the RGB LR and HR that the same seed gives with y_only=False."""
    folder, _ = photos
    kwargs = dict(scale=3, patch_size=8, batch_size=8, patches_per_image=4, shuffle_buffer=32, seed=5)
    rgb = _batches(make_dataset(folder, y_only=False, **kwargs), 2)
    y = _batches(make_dataset(folder, y_only=True, **kwargs), 2)
    for (lr_rgb, hr_rgb), (lr_y, hr_y) in zip(rgb, y, strict=True):
        assert lr_y.shape == (8, 8, 8, 1) and hr_y.shape == (8, 24, 24, 1)
        np.testing.assert_allclose(lr_y, color.rgb_to_y(lr_rgb).numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(hr_y, color.rgb_to_y(hr_rgb).numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(("scale", "patch_size"), [(2, 9), (3, 7), (4, 5)])
@pytest.mark.parametrize("y_only", [True, False])
def test_shapes_and_dtypes(photos, scale, patch_size, y_only):
    """LR is (B, p, p, C), HR (B, p*scale, p*scale, C), float32 in [0, 1], statically and in the data."""
    folder, _ = photos
    c, hr_size = (1 if y_only else 3), patch_size * scale
    ds = make_dataset(folder, scale, patch_size, batch_size=4, patches_per_image=2, y_only=y_only, shuffle_buffer=8)
    lr_spec, hr_spec = ds.element_spec
    assert lr_spec.shape == (4, patch_size, patch_size, c) and lr_spec.dtype == tf.float32
    assert hr_spec.shape == (4, hr_size, hr_size, c) and hr_spec.dtype == tf.float32
    for lr, hr in _batches(ds, 2):
        assert lr.shape == (4, patch_size, patch_size, c) and lr.dtype == np.float32
        assert hr.shape == (4, hr_size, hr_size, c) and hr.dtype == np.float32
        assert 0 <= hr.min() and hr.max() <= 1 and 0 <= lr.min() and lr.max() <= 1


def test_seed_determinism(photos):
    """The same seed gives identical first 3 batches (crops, augmentation, order); another seed does not."""
    folder, _ = photos

    def first(seed):
        return _batches(make_dataset(folder, 2, 8, batch_size=8, patches_per_image=4, shuffle_buffer=64, seed=seed), 3)

    a, b, c = first(7), first(7), first(8)
    for (lr_a, hr_a), (lr_b, hr_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(lr_a, lr_b)
        np.testing.assert_array_equal(hr_a, hr_b)
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c, strict=True))


@pytest.mark.parametrize("degradation", ["bicubic", "blur_decimate", "pixelate_noise", "area", "bilinear"])
def test_every_named_degradation_gives_patch_size(rng, degradation):
    """Each degradation name yields (B, p, p, C) LR patches inside the pipeline, with values in [0, 1]."""
    images = np.stack([_photo(rng, 40, 40) for _ in range(2)])
    ds = make_dataset(images, 3, 8, degradation=degradation, batch_size=4, patches_per_image=2, shuffle_buffer=4)
    assert ds.element_spec[0].shape == (4, 8, 8, 1)
    lr, hr = _batches(ds, 1)[0]
    assert lr.shape == (4, 8, 8, 1) and hr.shape == (4, 24, 24, 1)
    assert np.isfinite(lr).all() and lr.min() >= 0 and lr.max() <= 1


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


def test_recursive_folder_of_mixed_formats(tmp_path, rng):
    """A folder with a subfolder and PNG / JPEG / BMP / TIFF files: every image is decoded and used."""
    root = tmp_path / "mixed"
    paths = [root / "a.png", root / "b.JPG", root / "sub" / "c.bmp", root / "sub" / "deeper" / "d.tiff"]
    shapes = [(40, 50), (45, 41), (50, 60), (41, 44)]
    for path, (h, w) in zip(paths, shapes, strict=True):
        _write(path, _photo(rng, h, w))
    (root / "notes.txt").write_text("not an image")
    decoded = [x.numpy() for x in image_source(root)]
    assert sorted(x.shape for x in decoded) == sorted((h, w, 3) for h, w in shapes)
    assert all(x.dtype == np.uint8 for x in decoded)  # pixels become float32 after cropping
    assert _count_pairs(root) == 2 * len(paths)


def test_list_of_files_and_list_of_folders(tmp_path, rng):
    """A list of files reads exactly those files; a list of folders reads all their images."""
    a = [_write(tmp_path / "a" / f"{i}.png", _photo(rng, 40 + i, 40)) for i in range(3)]
    b = [_write(tmp_path / "b" / f"{i}.png", _photo(rng, 50 + i, 40)) for i in range(2)]
    chosen = [str(a[2]), b[0]]
    assert [x.shape[0] for x in image_source(chosen)] == [42, 50]
    assert _count_pairs(chosen) == 4
    assert _count_pairs([tmp_path / "a", str(tmp_path / "b")]) == 2 * 5


def test_uint8_array_source_is_scaled_and_tiled(rng):
    """An in-memory uint8 (N, H, W, 1) array gives images with 3 identical channels (kept uint8), and
    the pipeline's HR patches are those pixels / 255 as float32."""
    gray = np.stack([_photo(rng, 30, 34)[..., :1] for _ in range(3)])
    decoded = [x.numpy() for x in image_source(gray)]
    assert len(decoded) == 3 and decoded[0].shape == (30, 34, 3) and decoded[0].dtype == np.uint8
    np.testing.assert_array_equal(decoded[1], np.repeat(gray[1], 3, axis=-1))
    lr, hr = _batches(make_dataset(gray, 2, 8, batch_size=4, patches_per_image=2, y_only=False), 1)[0]
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 16, 16, 3) and hr.dtype == np.float32
    np.testing.assert_array_equal(hr[..., 0], hr[..., 2])
    levels = np.unique(np.round(hr * 255, 3))
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)  # exactly k / 255
    assert _count_pairs(gray) == 6


def test_dataset_source(rng):
    """A ``tf.data.Dataset`` of float (H, W, 3) images of varied sizes is used as is."""
    images = [_photo(rng, h, w).astype(np.float32) / 255 for h, w in [(40, 48), (52, 40), (44, 44)]]
    spec = tf.TensorSpec((None, None, 3), tf.float32)
    ds = tf.data.Dataset.from_generator(lambda: iter(images), output_signature=spec)
    assert _count_pairs(ds) == 2 * len(images)
    _, hr = _batches(make_dataset(ds, 2, 8, batch_size=6, patches_per_image=2, y_only=False), 1)[0]
    assert all(_locate(p, images) is not None for p in hr)


# ---------------------------------------------------------------------------
# Bad and small files
# ---------------------------------------------------------------------------


def test_bad_truncated_and_small_files_are_skipped_and_logged(tmp_path, rng):
    """A text file named .png, a truncated PNG and a too-small image are skipped: batches still come, the
    SkipLog names them, and a warning names each unreadable file."""
    folder = tmp_path / "messy"
    for i in range(3):
        _write(folder / f"good{i}.png", _photo(rng, 40, 44))
    bad = folder / "bad.png"
    bad.write_text("this is not a PNG")
    whole = _write(tmp_path / "whole.png", _photo(rng, 60, 60)).read_bytes()
    truncated = folder / "truncated.png"
    truncated.write_bytes(whole[: len(whole) // 2])
    small = _write(folder / "small.png", _photo(rng, 12, 40))  # HR patch is 8 * 2 = 16

    skipped = SkipLog()
    with pytest.warns(UserWarning) as record:
        n = _count_pairs(folder, scale=2, patch_size=8, skipped=skipped)
    assert n == 2 * 3
    assert sorted(skipped.unreadable) == sorted([str(bad), str(truncated)])
    assert skipped.too_small == [str(small)]
    messages = " ".join(str(w.message) for w in record)
    assert "bad.png" in messages and "truncated.png" in messages
    # With repeat on, the bad files are skipped on every pass and batches keep coming; a SkipLog that
    # already names a file logs (and warns about) it only once.
    lr, hr = _batches(make_dataset(folder, 2, 8, batch_size=8, patches_per_image=2, skipped=skipped), 6)[-1]
    assert lr.shape == (8, 8, 8, 1) and hr.shape == (8, 16, 16, 1)
    assert len(skipped.unreadable) == 2 and len(skipped.too_small) == 1


# ---------------------------------------------------------------------------
# Streaming memory bound
# ---------------------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])  # same parallelism on any machine
    import psutil
    from srlib.data import make_dataset

    ds = make_dataset(sys.argv[1], 3, patch_size=17, batch_size=64, patches_per_image=16,
                      shuffle_buffer=256, cache=False, repeat=False)
    baseline = psutil.Process().memory_info().rss
    batches = sum(1 for _ in ds)
    # VmHWM: this process's own peak (ru_maxrss would include the RSS of the parent it was forked from)
    peak = int(next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")).split()[1]) * 1024
    print(json.dumps({"batches": batches, "baseline": baseline, "peak": peak}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units and sched_setaffinity are Linux's")
def test_one_pass_streams_within_a_memory_bound(tmp_path):
    """One pass over 48 images of 1500 x 1500 x 3 (27 MB each as float32, 1.30 GB decoded in all) grows the
    process's peak RSS by less than 40% of that (518 MB).

    A loader that decodes the set up front would need the full 1.30 GB. The streaming pipeline holds only
    the images being decoded or cropped and the queues of small patches: measured 310-350 MB of growth
    on 2 cores whether the folder has 10, 40 or 48 images (it does not grow with the set), that is the TF
    runtime's first-iteration overhead (~60 MB) plus a handful of images in flight, each with its transient
    decode copies (PIL buffer, uint8 array, float32 array). In-flight images grow with tf.data's AUTOTUNE
    parallelism, i.e. with cores, so the subprocess is pinned to 2 CPUs. The subprocess keeps the
    measurement clean: the baseline RSS is taken after importing TF and building the dataset, and the
    peak is VmHWM at the end (not ru_maxrss, which counts the RSS of the pytest process it was forked
    from). Images are smooth gradients, so the PNGs are small and quick to write.
    """
    n, side = 48, 1500
    total = n * side * side * 3 * 4
    y = np.arange(side, dtype=np.int32)[:, None, None]
    x = np.arange(side, dtype=np.int32)[None, :, None]
    c = np.arange(3, dtype=np.int32)
    for i in range(n):
        pixels = ((x * (c + 1) + y * (i % 5 + 1)) // 8 + 17 * i).astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"big{i:02d}.png", compress_level=1)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    m = json.loads(out.stdout.strip().splitlines()[-1])
    assert m["batches"] == n * 16 // 64
    growth = m["peak"] - m["baseline"]
    assert growth < 0.4 * total, f"peak RSS grew {growth / 2**20:.0f} MiB over {total / 2**20:.0f} MiB of images"


# ---------------------------------------------------------------------------
# Benchmark pairs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("y_only", [False, True])
def test_benchmark_pairs(tmp_path, rng, y_only):
    """Known length (one element per file); HR is the mod-cropped image, LR its benchmark bicubic LR (the
    independent MATLAB loop reference, rounded)."""
    shapes = [(50, 61), (64, 64), (47, 55)]
    files = [_write(tmp_path / f"{i}.png", _photo(rng, h, w)) for i, (h, w) in enumerate(shapes)]
    ds = benchmark_pairs(tmp_path, 3, y_only=y_only)
    assert ds.cardinality().numpy() == len(files)
    for f, (lr, hr) in zip(files, ds, strict=True):
        ref_hr = degrade.mod_crop(tf.constant(load_image(f)), 3)
        ref_lr = tf.constant(np.round(np.clip(matlab_imresize(ref_hr.numpy().astype(np.float64), 1 / 3), 0, 1) * 255)
                             / 255, tf.float32)
        if y_only:
            ref_lr, ref_hr = color.rgb_to_y(ref_lr), color.rgb_to_y(ref_hr)
        h, w = ref_hr.shape[:2]
        assert h % 3 == 0 and w % 3 == 0
        assert hr.shape == (1, h, w, 1 if y_only else 3) and lr.shape == (1, h // 3, w // 3, hr.shape[-1])
        np.testing.assert_array_equal(hr.numpy()[0], ref_hr.numpy())
        np.testing.assert_allclose(lr.numpy()[0], ref_lr.numpy(), rtol=0, atol=1e-6)


def test_validation_lr_is_the_test_lr(tmp_path, rng):
    """For every registry degradation, benchmark_pairs' LR (validation) is the Y channel of the LR evaluate scores
    on (srlib.degrade.benchmark_lr, with the entry's fixed seed), image by image."""
    files = [_write(tmp_path / f"{i}.png", _photo(rng, 30 + i, 36)) for i in range(3)]
    for name in ("bicubic", "pixelate_noise", "blur_decimate", "area", "bilinear"):
        for f, (lr, _) in zip(files, benchmark_pairs(tmp_path, 2, degradation=name), strict=True):
            test_lr = degrade.benchmark_lr(load_image(f), 2, name)[1]
            np.testing.assert_array_equal(lr.numpy()[0], color.rgb_to_y(test_lr).numpy(), err_msg=name)


def test_prefetch_to_device_gives_the_same_batches(rng):
    """The GPU path (prefetch_to_device) exercised on the CPU device: same batches as host prefetch."""
    images = np.stack([_photo(rng, 40, 40) for _ in range(3)])
    host = _batches(make_dataset(images, 2, 8, batch_size=4, seed=5, device=None), 2)
    dev = _batches(make_dataset(images, 2, 8, batch_size=4, seed=5, device="/CPU:0"), 2)
    for (a, b), (c, d) in zip(host, dev, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


# ---------------------------------------------------------------------------
# Out-of-graph degradations (codecs): LR made once per file and bank seed, cached, cropped aligned
# ---------------------------------------------------------------------------


def _codec_lr(hr, k):
    """The fake codec's LR of float (H, W, C) levels: 2 x 2 block sums of the uint8 codes, integer-divided by 4,
    darkened by 10 levels per k (exact integer arithmetic), as float levels."""
    h, w, c = hr.shape
    codes = np.round(hr * 255).astype(np.int64).reshape(h // 2, 2, w // 2, 2, c).sum(axis=(1, 3))
    return (np.maximum(codes // 4 - 10 * k, 0) / 255).astype(np.float32)


def _fake_codec(name, calls):
    """An in_graph=False entry whose LR is a local function of the HR (:func:`_codec_lr`) under bank seed k
    (seed[0]); every call recorded."""

    def fn(hr, scale, seed):
        calls.append(seed)
        return _codec_lr(hr, seed[0])

    return degrade.Degradation(name, fn, in_graph=False)


def test_codec_pairs_are_aligned_and_cached(photos):
    """Each LR patch is the entry's LR of its HR patch under one of the bank seeds (a block mean commutes with
    cropping on the 2-pixel grid and with the dihedral transforms, so this holds only if LR and HR were cropped at
    the same place and flipped alike); the LR of each file is made once per bank seed and found again after."""
    folder, images = photos
    calls = []
    entry = _fake_codec("fake_codec_aligned", calls)
    ds = make_dataset(folder, 2, 8, entry, batch_size=8, patches_per_image=4, y_only=False, seed=3, shuffle_buffer=64)
    assert len(calls) == 6 * 4 and {k for k, _ in calls} == {0, 1, 2, 3}  # 6 files, bank of 4
    banks, first = set(), _batches(ds, 6)
    for lr, hr in first:
        assert lr.shape == (8, 8, 8, 3) and hr.shape == (8, 16, 16, 3)
        for a, b in zip(lr, hr, strict=True):
            k = [k for k in range(4) if np.array_equal(a, _codec_lr(b, k))]
            assert k, "LR patch is not the degradation of its HR patch"
            banks.add(k[0])
    assert len(banks) > 1  # crops come from several LR images of the bank
    calls.clear()
    again = make_dataset(folder, 2, 8, entry, batch_size=8, patches_per_image=4, y_only=False, seed=3,
                         shuffle_buffer=64)
    assert calls == []
    np.testing.assert_array_equal(_batches(again, 2)[1][0], first[1][0])


def test_codec_pairs_refuse_arrays_and_small_sets(rng, tmp_path):
    """A codec trains on files only (its LR is cached per file); a folder of images all too small for one patch
    is a one-line error."""
    entry = _fake_codec("fake_codec_refuse", [])
    with pytest.raises(ValueError, match="fake_codec_refuse.*files or folders"):
        make_dataset(rng.random((2, 32, 32, 3)), 2, 8, entry)
    _write(tmp_path / "small" / "a.png", _photo(rng, 12, 12))
    with pytest.raises(ValueError, match="no readable training image of at least 16 pixels"):
        make_dataset(tmp_path / "small", 2, 8, entry)


def test_h264_training_pairs_crop_the_cached_codec_lr(photos):
    """bicubic_h264 trains through the cache: each LR patch is an exact crop of the H.264 LR of its image (the
    PNG written once under runs/degraded/) at 1/3 of the HR patch's place, and that LR is the entry's training form
    at the bank seed."""
    from srlib.codec_data import codec_bank
    from srlib.io import image_files
    from srlib.paths import runs_dir

    folder, images = photos
    ds = make_dataset(folder, 3, 8, "bicubic_h264", batch_size=6, patches_per_image=2, y_only=False, augment=False,
                      bank=1, seed=1, shuffle_buffer=16)
    pairs = codec_bank(image_files(folder), 3, "bicubic_h264", bank=1)
    assert all(Path(lr).parent == runs_dir() / "degraded" / "bicubic_h264_x3" for _, [lr] in pairs)
    lrs = [load_image(lr) for _, [lr] in pairs]
    hrs = [load_image(f) for f, _ in pairs]
    first = hrs[0][: hrs[0].shape[0] // 3 * 3, : hrs[0].shape[1] // 3 * 3]
    digest = Path(pairs[0][1][0]).stem.split("_")[0]
    np.testing.assert_array_equal(lrs[0], degrade.get("bicubic_h264").fn(first, 3, (0, int(digest[:7], 16))))
    (lr, hr), = _batches(ds, 1)
    for a, b in zip(lr, hr, strict=True):
        found = [(i, y, x) for i, im in enumerate(hrs) for y, x in zip(*np.nonzero(np.all(im == b[0, 0], -1)),
                                                                       strict=True)
                 if y % 3 == 0 and x % 3 == 0 and np.array_equal(im[y : y + 24, x : x + 24], b)]
        assert found, "HR patch not found at a multiple of 3"
        i, y, x = found[0]
        np.testing.assert_array_equal(a, lrs[i][y // 3 : y // 3 + 8, x // 3 : x // 3 + 8])
