"""Tests for srlib.io on image files generated with PIL in tmp_path."""

import numpy as np
import pytest
from PIL import Image

from srlib import io
from srlib.io import ImageError


@pytest.fixture
def rgb_u8(rng):
    return rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)


def assert_one_line_error(excinfo, path):
    """ImageError's message is one line starting with the path."""
    msg = str(excinfo.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_load_lossless_rgb(tmp_path, rgb_u8, suffix):
    """Lossless RGB files load as float32 HWC equal to uint8 / 255."""
    path = tmp_path / f"img{suffix}"
    Image.fromarray(rgb_u8).save(path)
    x = io.load_image(path)
    assert x.dtype == np.float32 and x.shape == (7, 9, 3)
    np.testing.assert_array_equal(x, rgb_u8.astype(np.float32) / 255.0)


def test_load_jpeg(tmp_path, rgb_u8):
    """JPEG loads as the decoded uint8 pixels / 255 (PIL's own decode as reference)."""
    path = tmp_path / "img.jpg"
    Image.fromarray(rgb_u8).save(path, quality=90)
    with Image.open(path) as im:
        ref = np.asarray(im.convert("RGB"), np.float32) / 255.0
    x = io.load_image(path)
    assert x.shape == (7, 9, 3)
    np.testing.assert_array_equal(x, ref)


def test_load_grayscale(tmp_path, rng):
    """Grayscale PNG -> 3 identical channels by default; channels=None and channels=1 keep one."""
    g = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    path = tmp_path / "gray.png"
    Image.fromarray(g).save(path)
    x = io.load_image(path)
    assert x.shape == (5, 6, 3)
    for c in range(3):
        np.testing.assert_array_equal(x[..., c], g / np.float32(255.0))
    for channels in (None, 1):
        one = io.load_image(path, channels=channels)
        assert one.shape == (5, 6, 1)
        np.testing.assert_array_equal(one[..., 0], g / np.float32(255.0))


def test_load_rgba(tmp_path, rng):
    """RGBA: alpha dropped by default (also with channels=None); keep_alpha=True returns it as channel 4."""
    rgba = rng.integers(0, 256, (4, 5, 4), dtype=np.uint8)
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    x = io.load_image(path)
    assert x.shape == (4, 5, 3)
    np.testing.assert_array_equal(x, rgba[..., :3] / np.float32(255.0))
    assert io.load_image(path, channels=None).shape == (4, 5, 3)
    xa = io.load_image(path, keep_alpha=True)
    assert xa.shape == (4, 5, 4)
    np.testing.assert_array_equal(xa, rgba / np.float32(255.0))


def test_load_gray_alpha(tmp_path, rng):
    """LA: gray tiled to 3 channels, alpha kept as 4th with keep_alpha=True."""
    la = rng.integers(0, 256, (4, 5, 2), dtype=np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(path)
    assert io.load_image(path).shape == (4, 5, 3)
    xa = io.load_image(path, keep_alpha=True)
    np.testing.assert_array_equal(xa[..., 3], la[..., 1] / np.float32(255.0))
    np.testing.assert_array_equal(xa[..., 2], la[..., 0] / np.float32(255.0))


def test_load_palette_and_bilevel(tmp_path, rgb_u8):
    """Palette PNGs load as their RGB colours; 1-bit images as 0.0 / 1.0."""
    pal = Image.fromarray(rgb_u8).quantize(colors=16)
    path = tmp_path / "pal.png"
    pal.save(path)
    ref = np.asarray(pal.convert("RGB"), np.float32) / 255.0
    np.testing.assert_array_equal(io.load_image(path), ref)
    bits = np.array([[0, 1, 1], [1, 0, 1]], bool)
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    x = io.load_image(path, channels=None)
    assert x.shape == (2, 3, 1)
    np.testing.assert_array_equal(x[..., 0], bits.astype(np.float32))


def test_colour_image_where_one_channel_required(tmp_path, rgb_u8):
    """channels=1 on an RGB file raises ImageError '<path>: ...'."""
    path = tmp_path / "rgb.png"
    Image.fromarray(rgb_u8).save(path)
    with pytest.raises(ImageError) as excinfo:
        io.load_image(path, channels=1)
    assert_one_line_error(excinfo, path)


def test_load_16bit_gray_png(tmp_path):
    """16-bit grayscale PNG is scaled by 65535, not 255."""
    arr = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 5957).astype(np.uint16)  # up to 65527
    path = tmp_path / "g16.png"
    Image.fromarray(arr).save(path)
    x = io.load_image(path, channels=None)
    assert x.shape == (3, 4, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], arr / 65535.0, atol=1e-7)
    assert x.max() <= 1.0
    assert io.load_image(path).shape == (3, 4, 3)


def test_not_an_image(tmp_path):
    """A text file named .png raises ImageError '<path>: ...'."""
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\nsecond line\n")
    with pytest.raises(ImageError) as excinfo:
        io.load_image(path)
    assert_one_line_error(excinfo, path)


def test_truncated_png(tmp_path, rng):
    """A valid PNG cut to half its bytes raises ImageError (not a raw PIL/zlib error)."""
    path = tmp_path / "cut.png"
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError) as excinfo:
        io.load_image(path)
    assert_one_line_error(excinfo, path)


def test_missing_file(tmp_path):
    """A missing path raises ImageError (ValueError subclass) starting with the path."""
    path = tmp_path / "nope" / "missing.png"
    with pytest.raises(ImageError) as excinfo:
        io.load_image(path)
    assert_one_line_error(excinfo, path)
    assert isinstance(excinfo.value, ValueError)


def test_list_images(tmp_path, rgb_u8):
    """list_images finds image suffixes case-insensitively, sorted, recursive by default."""
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "A.JPG", "sub/c.bmp"):
        Image.fromarray(rgb_u8).save(tmp_path / name)
    (tmp_path / "readme.txt").write_text("x")
    assert [p.name for p in io.list_images(tmp_path)] == ["A.JPG", "b.png", "c.bmp"]
    assert [p.name for p in io.list_images(tmp_path, recursive=False)] == ["A.JPG", "b.png"]


def test_list_images_empty_or_missing_folder(tmp_path):
    """An empty folder (or one with no images) and a missing folder raise ImageError starting with the path."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImageError) as excinfo:
        io.list_images(empty)
    assert_one_line_error(excinfo, empty)
    (empty / "notes.txt").write_text("x")
    with pytest.raises(ImageError):
        io.list_images(empty)
    missing = tmp_path / "missing"
    with pytest.raises(ImageError) as excinfo:
        io.list_images(missing)
    assert_one_line_error(excinfo, missing)


def test_save_image_round_trip(tmp_path, rgb_u8):
    """save_image creates the parent folder, leaves no temp file, and round-trips uint8 values exactly."""
    path = tmp_path / "new" / "deeper" / "out.png"
    io.save_image(path, rgb_u8 / 255.0)
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), rgb_u8)
    np.testing.assert_array_equal(io.load_image(path), rgb_u8 / np.float32(255.0))


def test_save_image_rounds_and_clips(tmp_path):
    """Floats are rounded to the nearest level and clipped; (H, W, 1) and (H, W) save as grayscale."""
    x = np.array([[-0.5, 0.0, 0.4 / 255, 0.6 / 255, 1.0, 2.0]])
    for arr, name in ((x, "g2.png"), (x[..., None], "g3.png")):
        path = io.save_image(tmp_path / name, arr)
        with Image.open(path) as im:
            assert im.mode == "L"
            got = np.asarray(im)
        assert got.tolist() == [[0, 0, 0, 1, 255, 255]]


def test_save_image_failure_is_atomic(tmp_path, rgb_u8):
    """A failing write (unknown format) leaves neither the target nor a temp file, and keeps an old file."""
    path = tmp_path / "out.unknownext"
    with pytest.raises(ValueError):
        io.save_image(path, rgb_u8 / 255.0)
    assert list(tmp_path.iterdir()) == []
    good = tmp_path / "keep.png"
    io.save_image(good, rgb_u8 / 255.0)
    before = good.read_bytes()

    def broken(tmp):
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.atomic_write(good, broken)
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_quantize_numpy_and_tensor_agree():
    """One quantiser: clip to [0, 1], round half to even on the 0..255 grid; levels as floats or uint8 codes, the same
    for numpy arrays and TF tensors (whose dtype stays)."""
    import tensorflow as tf

    x = np.array([-0.2, 0.5, 0.0019, 1.3, 0.5 / 255, 1.5 / 255], np.float32)
    codes = [0, 128, 0, 255, 0, 2]  # 127.5 -> 128, 0.4845 -> 0, 0.5 -> 0 and 1.5 -> 2 (half to even)
    np.testing.assert_array_equal(io.quantize(x, uint8=True), codes)
    np.testing.assert_array_equal(io.quantize(x), np.array(codes, np.float32) / np.float32(255))
    t = io.quantize(tf.constant(x[:4], tf.float64))  # the ties are ties in float32 only
    assert t.dtype == tf.float64
    np.testing.assert_allclose(t.numpy(), np.array(codes[:4]) / 255, atol=1e-12)
    assert io.quantize(tf.constant(x), uint8=True).dtype == tf.uint8
    np.testing.assert_array_equal(io.quantize(tf.constant(x), uint8=True).numpy(), codes)
    assert io.to_uint8(x).dtype == np.uint8


def test_png16_writes_colour_pixels_that_read_back_exactly(tmp_path):
    """:func:`srlib.png16.png16`: 16-bit RGB as PNG bytes, read back with all 16 bits by :func:`io.read_image`."""
    from srlib.png16 import png16

    arr = (np.random.default_rng(0).random((5, 7, 3)) * 65535).astype(np.uint16)
    (tmp_path / "c16.png").write_bytes(png16(arr))
    back = io.read_image(tmp_path / "c16.png")
    assert back.dtype == np.uint16 and np.array_equal(back, arr)
