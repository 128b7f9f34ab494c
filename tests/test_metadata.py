"""What a photo carries survives ``srlib upscale``: its ICC profile bytes and its EXIF (Orientation reset to 1 once
the pixels are turned), in every format that holds them; HEIC and AVIF photos in and AVIF out. Real files made here
with Pillow (and pillow-heif), upscaled by the smallest shipped model."""

import struct

import numpy as np
import pytest
from PIL import Image, ImageCms, features

from srlib.cli import main
from srlib.io import read_image, write_image
from srlib.meta import Meta, read_meta, upright_exif

MODEL = "espcn-x3-fast"  # the smallest shipped model (444 multiply-adds per output pixel)
DATE, MAKE, CAMERA = "2023:07:14 18:42:05", "Fujifilm", "X-T30"


@pytest.fixture(scope="module")
def icc():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def photo():
    from skimage import data

    return data.astronaut()[100:124, 150:182]  # 24 x 32 RGB, stored landscape


def _exif(orientation=6):
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = MAKE, CAMERA, orientation  # Make, Model, Orientation
    exif.get_ifd(0x8769)[0x9003] = DATE  # Exif IFD: DateTimeOriginal
    return exif.tobytes()


def _upscale(src, dst):
    assert main(["upscale", str(src), "-o", str(dst), "--model", MODEL, "--quiet"]) == 0


def _tags(path):
    exif = Image.open(path).getexif()
    return exif.get(0x010F), exif.get(0x0110), exif.get(0x0112), exif.get_ifd(0x8769).get(0x9003)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"] + [".avif"] * features.check("avif"))
def test_profile_and_exif_survive(tmp_path, photo, icc, suffix):
    """A camera JPEG (sRGB profile, date, make, model, Orientation 6) comes out portrait with the same profile bytes,
    the same date and camera, Orientation 1; every other EXIF byte kept (JPEG, PNG: the block itself)."""
    src = tmp_path / "camera.jpg"
    Image.fromarray(photo).save(src, quality=92, icc_profile=icc, exif=_exif(6))
    _upscale(src, dst := tmp_path / f"big{suffix}")
    h, w = photo.shape[:2]
    assert read_image(dst).shape == (3 * w, 3 * h, 3)  # turned once
    assert Image.open(dst).info["icc_profile"] == icc
    upright = None if suffix == ".avif" else 1  # Pillow moves an AVIF's orientation into its irot box: 1 is no tag
    assert _tags(dst) == (MAKE, CAMERA, upright, DATE)
    if suffix in (".jpg", ".png"):
        expected = (tmp_path / "camera.jpg").read_bytes()
        block = Image.open(src).info["exif"]
        assert block in expected and read_meta(dst).exif == upright_exif(block) != block


def test_sixteen_bit_png_carries_them_too(tmp_path, icc):
    """The hand-written 16-bit colour PNG gets iCCP and eXIf chunks that Pillow reads and OpenCV still decodes."""
    pixels = (np.random.default_rng(1).random((5, 7, 3)) * 65535).astype(np.uint16)
    write_image(tmp_path / "deep.png", pixels, Meta(icc, b"Exif\0\0" + _exif(1)))
    assert np.array_equal(read_image(tmp_path / "deep.png"), pixels)
    assert Image.open(tmp_path / "deep.png").info["icc_profile"] == icc
    assert _tags(tmp_path / "deep.png") == (MAKE, CAMERA, 1, DATE)


def test_a_profile_that_does_not_fit_is_dropped_and_bmp_says_so(tmp_path, photo, icc, capsys):
    """A CMYK profile does not describe the RGB a CMYK JPEG is read as: not written. BMP holds neither: a note."""
    cmyk = icc[:16] + b"CMYK" + icc[20:]
    Image.fromarray(photo).convert("CMYK").save(tmp_path / "print.jpg", icc_profile=cmyk)
    _upscale(tmp_path / "print.jpg", tmp_path / "print.png")
    assert "icc_profile" not in Image.open(tmp_path / "print.png").info
    Image.fromarray(photo).save(tmp_path / "camera.jpg", icc_profile=icc)
    _upscale(tmp_path / "camera.jpg", tmp_path / "camera.bmp")
    assert "camera.jpg: colour profile and EXIF dropped: this format keeps neither" in capsys.readouterr().err


def test_upright_exif_by_hand():
    """Little-endian IFD0 with one entry, Orientation (0x0112) SHORT 6: the value becomes 1, nothing else moves."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack("<I", 0)
    block = b"II*\0" + struct.pack("<I", 8) + ifd
    assert upright_exif(block) == block[:18] + b"\x01\x00" + block[20:]
    assert upright_exif(b"Exif\0\0" + block) == b"Exif\0\0" + upright_exif(block)
    no_orientation = block.replace(struct.pack("<H", 0x0112), struct.pack("<H", 0x010F))
    assert upright_exif(no_orientation) == no_orientation
    assert upright_exif(b"II*\0\xff\xff\xff\x00") is None and upright_exif(b"garbage") is None


def test_heic_photo_upscales(tmp_path, photo, icc):
    """A phone's HEIC (written by pillow-heif), Orientation 6: read, turned once, upscaled, profile and date kept."""
    Image.fromarray(photo).save(tmp_path / "phone.heic", quality=95, icc_profile=icc, exif=_exif(6))
    h, w = photo.shape[:2]
    assert read_image(tmp_path / "phone.heic").shape == (w, h, 3)
    _upscale(tmp_path / "phone.heic", tmp_path / "phone.png")
    assert read_image(tmp_path / "phone.png").shape == (3 * w, 3 * h, 3)
    assert Image.open(tmp_path / "phone.png").info["icc_profile"] == icc
    assert _tags(tmp_path / "phone.png") == (MAKE, CAMERA, 1, DATE)


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec (PIL.features.check('avif'))")
def test_avif_round_trip(tmp_path, photo):
    """AVIF in and AVIF out (quality 95): the upscaled AVIF is within 1/20 of the lossless PNG of the same run."""
    Image.fromarray(photo).save(tmp_path / "a.avif", quality=95)
    assert read_image(tmp_path / "a.avif").shape == photo.shape
    _upscale(tmp_path / "a.avif", tmp_path / "big.avif")
    _upscale(tmp_path / "a.avif", tmp_path / "big.png")
    lossy, exact = read_image(tmp_path / "big.avif").astype(float), read_image(tmp_path / "big.png").astype(float)
    assert lossy.shape == exact.shape == (72, 96, 3)
    assert np.sqrt(np.mean((lossy - exact) ** 2)) < 255 / 20
