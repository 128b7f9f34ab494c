"""`srlib upscale` and `srlib.upscale()` on the files people have: the robustness matrix of docs/upscaler.md's table,
tiles without seams, the default model, and inputs that never change."""

import hashlib
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import srlib
from srlib.app.choose import for_image as best_model
from srlib.app.upscaling import upscale
from srlib.cli import main
from srlib.io import read_image, write_image


@pytest.fixture
def photo():
    from skimage import data

    return data.astronaut()[100:161, 150:223]  # 61 x 73 RGB uint8: odd sizes


def _cases(folder, photo):
    """{name: (file, expected output shape, dtype) or an error fragment} for every kind of input."""
    rng = np.random.default_rng(0)
    grey16 = (rng.random((20, 23)) * 65535).astype(np.uint16)
    rgb16 = (rng.random((20, 23, 3)) * 65535).astype(np.uint16)
    la = np.stack([photo[..., 0], np.full(photo.shape[:2], 200, np.uint8)], -1)
    rgba = np.concatenate([photo, np.linspace(0, 255, photo.shape[1], dtype=np.uint8)[None, :, None]
                           .repeat(photo.shape[0], 0)], -1)
    write_image(folder / "rgb.png", photo)
    write_image(folder / "grey16.png", grey16)
    write_image(folder / "rgb16.png", rgb16)
    write_image(folder / "la.png", la)
    write_image(folder / "rgba.png", rgba)
    write_image(folder / "one.png", photo[:1, :1])
    write_image(folder / "tiny.png", photo[:3, :4])
    Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "palette.png")
    Image.fromarray(photo).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(photo).save(folder / "photo.jpg", quality=90)
    good_png, good_jpg = (folder / "rgb.png").read_bytes(), (folder / "photo.jpg").read_bytes()
    (folder / "cut.png").write_bytes(good_png[: len(good_png) // 2])
    (folder / "short.jpg").write_bytes(good_jpg[:200])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("not a picture")
    (folder / "bomb.png").write_bytes(_png_header(100_000, 100_000))  # claims 10 billion pixels, holds none
    Image.fromarray(photo).save(folder / "web.webp", lossless=True)
    Image.fromarray(photo).save(folder / "bitmap.bmp")
    pages = [Image.fromarray(photo), Image.fromarray(photo[::-1])]
    pages[0].save(folder / "pages.tif", save_all=True, append_images=pages[1:])
    pages[0].save(folder / "moving.gif", save_all=True, append_images=pages[1:], duration=100, loop=0)
    Image.fromarray(photo[..., 0].astype(np.float32) / 255).save(folder / "float.tif")
    Image.fromarray(photo[..., 0].astype(np.float32)).save(folder / "float255.tif")  # levels 0..255, not [0, 1]
    write_image(folder / "é ä space.png", photo)
    write_image(folder / "-dash.png", photo)
    write_image(folder / "same.bmp", photo)
    write_image(folder / "same.png", photo)  # same output name as same.bmp
    h, w = photo.shape[:2]
    return {
        "rgb.png": ((2 * h, 2 * w, 3), np.uint8), "grey16.png": ((40, 46, 1), np.uint16),
        "rgb16.png": ((40, 46, 3), np.uint16), "la.png": ((2 * h, 2 * w, 2), np.uint8),
        "rgba.png": ((2 * h, 2 * w, 4), np.uint8), "one.png": ((2, 2, 3), np.uint8), "tiny.png": ((6, 8, 3), np.uint8),
        "palette.png": ((2 * h, 2 * w, 3), np.uint8), "cmyk.jpg": ((2 * h, 2 * w, 3), np.uint8),
        "photo.jpg": ((2 * h, 2 * w, 3), np.uint8),
        "cut.png": "unreadable image", "short.jpg": "unreadable image", "empty.png": "not an image file",
        "notes.jpg": "not an image file",
        "bomb.png": "its header claims 10,000,000,000 pixels", "web.webp": ((2 * h, 2 * w, 3), np.uint8),
        "bitmap.bmp": ((2 * h, 2 * w, 3), np.uint8), "pages.tif": ((2 * h, 2 * w, 3), np.uint8),
        "moving.gif": ((2 * h, 2 * w, 3), np.uint8), "float.tif": ((2 * h, 2 * w, 1), np.uint16),
        "float255.tif": "float pixels outside [0, 1]", "é ä space.png": ((2 * h, 2 * w, 3), np.uint8),
        "-dash.png": ((2 * h, 2 * w, 3), np.uint8), "same.bmp": ((2 * h, 2 * w, 3), np.uint8),
        "same.png": "its output",
    }


def _png_header(w, h):
    """The signature, IHDR (8-bit RGB) and IEND chunks of a PNG: a header without pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_robustness_matrix(tmp_path, photo, capsys):
    """Every kind of input in one batch: the good ones written with their channels and bit depth, each bad one a
    line in the summary, exit 2, and not one input changed."""
    src = tmp_path / "in"
    src.mkdir()
    cases = _cases(src, photo)
    before = _digest(src)
    out = tmp_path / "out"
    code = main(["upscale", str(src), "-o", str(out), "--model", "espcn-x2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert _digest(src) == before
    for name, expect in cases.items():
        dst = out / f"{name.rsplit('.', 1)[0]}_x2.png"
        if isinstance(expect, str):
            assert f"{name}: {expect}" in err and (not dst.exists() or name == "same.png"), name  # same.bmp's
        else:
            got = read_image(dst)
            assert (got.shape, got.dtype) == expect, name
    written = sum(not isinstance(e, str) for e in cases.values())
    assert f"{written} of {len(cases)} written" in err
    assert "pages.tif: 2 frames: upscaled the first" in err and "moving.gif: 2 frames: upscaled the first" in err


def test_alpha_is_upscaled_not_dropped(tmp_path, photo):
    """RGBA: the alpha ramp survives (MATLAB bicubic of it, monotone along the row)."""
    ramp = np.linspace(0, 255, photo.shape[1], dtype=np.uint8)[None, :, None].repeat(photo.shape[0], 0)
    out = upscale(np.concatenate([photo, ramp], -1), "espcn-x2")
    assert out.shape[-1] == 4 and out[..., 3].min() <= 5 and out[..., 3].max() >= 250
    assert np.all(np.diff(out[10, 4:-4, 3].astype(int)) >= 0)


def test_sixteen_bits_keep_their_precision(photo):
    """16-bit in, 16-bit out, with more than 256 levels used."""
    x = (photo.astype(np.uint16) * 257 + np.arange(photo.shape[1], dtype=np.uint16)[None, :, None])
    out = upscale(x, "espcn-x2")
    assert out.dtype == np.uint16 and len(np.unique(out)) > 256 * 3


def test_grey_stays_grey(photo):
    out = upscale(photo[..., 0], "espcn-x2")
    assert out.shape == (2 * photo.shape[0], 2 * photo.shape[1]) and out.dtype == np.uint8


def test_existing_output_needs_force(tmp_path, photo, capsys):
    write_image(tmp_path / "a.png", photo)
    (tmp_path / "out.png").write_bytes(b"keep me")
    args = ["upscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "out.png"), "--model", "espcn-x2", "--quiet"]
    assert main(args) == 2
    assert "exists (use --force" in capsys.readouterr().err
    assert (tmp_path / "out.png").read_bytes() == b"keep me"
    assert main([*args, "--force"]) == 0
    assert read_image(tmp_path / "out.png").shape == (2 * photo.shape[0], 2 * photo.shape[1], 3)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_output_folder(tmp_path, photo, capsys):
    write_image(tmp_path / "a.png", photo)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["upscale", str(tmp_path / "a.png"), "-o", str(locked / "o.png"), "--model", "espcn-x2"]) == 2
        assert "cannot write" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_output_folder_that_is_a_file(tmp_path, photo, capsys):
    """An output 'folder' that cannot be created (a file is in the way) fails each input with a line, exit 2."""
    write_image(tmp_path / "a.png", photo)
    (tmp_path / "blocker").write_text("x")
    code = main(["upscale", str(tmp_path / "a.png"), "-o", str(tmp_path / "blocker" / "sub" / "o.png"),
                 "--model", "espcn-x2", "--quiet"])
    assert code == 2 and "cannot write" in capsys.readouterr().err


def test_exif_orientation_is_applied(tmp_path, photo):
    """A JPEG stored landscape with orientation 6 (rotate 90) comes out portrait, as viewers show it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(photo).save(tmp_path / "turned.jpg", exif=exif.tobytes())
    h, w = photo.shape[:2]
    assert read_image(tmp_path / "turned.jpg").shape[:2] == (w, h)
    assert upscale(tmp_path / "turned.jpg", "espcn-x2").shape[:2] == (2 * w, 2 * h)


def test_glob_and_default_model(tmp_path, photo, capsys):
    """A quoted glob expands; without --model the best shipped model for the scale is used and named."""
    for n in ("a", "b"):
        write_image(tmp_path / f"{n}.png", photo)
    assert main(["upscale", str(tmp_path / "*.png"), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_x2.png", "b_x2.png"]
    assert f"model: {best_model(2)}" in capsys.readouterr().err


def test_python_api_mirrors_the_cli(tmp_path, photo):
    """srlib.upscale on an array and on its file give the same pixels, in the input's dtype."""
    write_image(tmp_path / "a.png", photo)
    a, b = srlib.upscale(photo, "espcn-x2"), srlib.upscale(tmp_path / "a.png", "espcn-x2")
    assert a.dtype == np.uint8 and np.array_equal(a, b)
    f = srlib.upscale(photo / np.float32(255), "espcn-x2")
    assert f.dtype == np.float32 and np.abs(f * 255 - a).max() <= 0.51
    with pytest.raises(ValueError, match="C in 1..4"):
        srlib.upscale(np.zeros((4, 4, 5), np.uint8))


def test_best_model_reads_the_cards():
    """The default per scale is the shipped model with the highest Set5 PSNR on bicubic LR (the cards' rows: ae-skip-x2
    37.21 dB over cppn-any's 37.10 at x2; cppn-any 33.29 / 31.08 over ae-skip 33.24 / 30.89 at x3 / x4), and the
    arbitrary-scale model at a scale no card scores. tests/test_zoo.py checks the rule on a made-up zoo."""
    assert [best_model(s) for s in (2, 3, 4, 2.5, 8)] == ["ae-skip-x2", "cppn-any", "cppn-any", "cppn-any", "cppn-any"]


def _ffmpeg(*args):
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


@pytest.mark.slow
def test_video_matrix(tmp_path, capsys):
    """Videos as people have them: odd sides keep every pixel (ceil(side * s), rounded up to even for 4:2:0), a
    rotated clip comes out as viewers show it, 10-bit is written as 8 bits with a note, names with spaces, accents or
    a leading dash work; audio-only and truncated files fail with one line each; no input changes."""
    src = tmp_path / "in"
    src.mkdir()
    clip = ("-f", "lavfi", "-i", "testsrc=size=160x90:rate=25", "-t", "0.4", "-c:v", "libx264")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=161x91:rate=25", "-t", "0.4", "-c:v", "mpeg4", src / "odd.avi")
    _ffmpeg(*clip, "-pix_fmt", "yuv420p", src / "plain.mp4")
    _ffmpeg("-display_rotation", "90", "-i", src / "plain.mp4", "-c", "copy", src / "turned.mp4")
    _ffmpeg(*clip, "-pix_fmt", "yuv420p10le", src / "deep.mp4")
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5", "-c:a", "aac", src / "sound.mp4")
    (src / "cut.mp4").write_bytes((src / "plain.mp4").read_bytes()[:3000])
    (src / "plain.mp4").rename(src / "é ä -x.mp4")
    before = _digest(src)
    out = tmp_path / "out"
    assert main(["upscale", str(src), "-o", str(out), "--model", "espcn-x2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert _digest(src) == before
    from srlib.videoio import probe

    sizes = {p.name: probe(p).size for p in out.iterdir()}
    assert sizes == {"odd_x2.mp4": (322, 182), "turned_x2.mp4": (180, 320), "deep_x2.mp4": (320, 180),
                     "é ä -x_x2.mp4": (320, 180)}
    assert "deep.mp4: 10-bit video written as 8-bit H.264" in err
    assert "sound.mp4: not a readable video (no video stream)" in err and "cut.mp4: not a readable video" in err
    assert "4 of 6 written" in err


def test_leading_dash_and_links(tmp_path, photo, capsys, monkeypatch):
    """A file named '-x.png' after '--'; an output that is a link to an input is refused, the input kept."""
    write_image(tmp_path / "-x.png", photo)
    monkeypatch.chdir(tmp_path)
    assert main(["upscale", "-o", "out.png", "--model", "espcn-x2", "--quiet", "--", "-x.png"]) == 0
    (tmp_path / "link.png").symlink_to(tmp_path / "-x.png")
    before = (tmp_path / "-x.png").read_bytes()
    assert main(["upscale", "-o", "link.png", "--model", "espcn-x2", "--force", "--quiet", "--", "-x.png"]) == 2
    assert "refusing to write over the input" in capsys.readouterr().err
    assert (tmp_path / "-x.png").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["upscale", "a.png", "-o", "b.png", "--scale", "0.5"], "above 1 and at most 16"),
    (["upscale", "a.png", "-o", "b.png", "--scale", "40"], "above 1 and at most 16"),
    (["upscale", "a.png", "-o", "b.png", "--scale", "two"], "not a number"),
    (["upscale", "a.png", "-o", "b.png", "--tile", "-3"], "at least 16"),
    (["upscale", "a.png", "-o", "b.png", "--tile", "8"], "at least 16"),
])
def test_arguments_outside_their_domain(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_nothing_to_do_is_an_error(tmp_path, capsys):
    """An empty folder or a pattern that matches nothing fails (exit 2, one line each); so does --only 99."""
    (tmp_path / "empty").mkdir()
    assert main(["upscale", str(tmp_path / "empty"), str(tmp_path / "*.png"), "-o", str(tmp_path / "o"),
                 "--model", "espcn-x2"]) == 2
    err = capsys.readouterr().err
    assert "empty: no images or videos in this folder" in err and "no file matches this pattern" in err
    assert main(["reproduce", "--only", "99"]) == 2
    assert "no notebook matches 99" in capsys.readouterr().err


def test_a_long_run_says_how_long_first(monkeypatch, caplog):
    """A large output (over upscaling.TIME_OUTPUTS_OVER pixels, here lowered) is timed on a small crop first; a run
    expected to take over 30 s says so."""
    import logging

    from srlib.app import upscaling

    monkeypatch.setattr(upscaling, "TIME_OUTPUTS_OVER", 10_000)
    monkeypatch.setattr(upscaling, "seconds_per_output_pixel", lambda up: 1e-3)  # 40 s for 200 x 200
    with caplog.at_level(logging.INFO, logger="srlib.app.upscaling"):
        out = upscaling.upscale(np.zeros((100, 100, 3), np.uint8), "bicubic", 2, name="big.png")
    assert out.shape == (200, 200, 3) and "big.png: about 40 s (100 x 100 -> 200 x 200 with bicubic)" in caplog.text
    caplog.clear()
    upscaling.upscale(np.zeros((60, 60, 3), np.uint8), "bicubic", 2, name="small.png")  # 14 s: nothing said
    assert "small.png" not in caplog.text
