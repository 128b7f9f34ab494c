"""JPEG quality from the quantisation tables: files written by Pillow's own encoder (libjpeg) at a known quality."""

import numpy as np
import pytest
from PIL import Image

from srlib.inference.jpeg_quality import ANNEX_K, ijg_tables, jpeg_quality
from srlib.io import ImageError


@pytest.fixture
def pixels():
    return (np.random.default_rng(0).random((24, 40, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize("quality", [10, 20, 50, 75, 90, 95, 100])
def test_pillow_qualities_come_back_exactly(tmp_path, pixels, quality):
    """Colour (two tables) and grey (luminance only) files saved by Pillow at ``quality``."""
    Image.fromarray(pixels).save(tmp_path / "c.jpg", quality=quality)
    Image.fromarray(pixels[..., 0]).save(tmp_path / "g.jpeg", quality=quality)
    assert jpeg_quality(tmp_path / "c.jpg") == quality
    assert jpeg_quality(tmp_path / "g.jpeg") == quality


def test_ijg_scaling_by_hand():
    """q 50 is Annex K itself; q 75 halves it ((16 * 50 + 50) // 100 = 8); q 100 is all ones; q 10 is 5x, clipped."""
    assert np.array_equal(ijg_tables(50), ANNEX_K)
    assert ijg_tables(75)[0, :4].tolist() == [8, 6, 5, 8]
    assert (ijg_tables(100) == 1).all()
    assert ijg_tables(10)[0, :3].tolist() == [80, 55, 50] and ijg_tables(10)[1, 4] == 255


def test_own_tables_give_the_nearest_quality(tmp_path, pixels):
    """A camera-like file whose tables are IJG q 80's, one more and one less in turn: the nearest IJG quality, 80
    (all one more would be nearer q 79's)."""
    tables = [list(t + np.resize([1, -1], 64)) for t in ijg_tables(80)]
    Image.fromarray(pixels).save(tmp_path / "own.jpg", qtables=tables)
    assert jpeg_quality(tmp_path / "own.jpg") == 80


def test_not_a_jpeg_is_none(tmp_path, pixels):
    """A PNG, also one named .jpg, has no JPEG quality."""
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(pixels).save(tmp_path / "png.jpg", format="PNG")
    assert jpeg_quality(tmp_path / "a.png") is None and jpeg_quality(tmp_path / "png.jpg") is None


def test_corrupt_jpeg_is_a_one_line_error(tmp_path, pixels):
    Image.fromarray(pixels).save(tmp_path / "good.jpg", quality=50)
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "good.jpg").read_bytes()[:30])  # cut inside the header
    with pytest.raises(ImageError, match=r"cut\.jpg: corrupt JPEG") as e:
        jpeg_quality(tmp_path / "cut.jpg")
    assert "\n" not in str(e.value)
    with pytest.raises(ImageError, match=r"gone\.jpg: no such file"):
        jpeg_quality(tmp_path / "gone.jpg")
