"""srlib.app.choose: the video default keeps up with the clip where a model can, else the fastest at SRCNN's quality;
each input ranks by its key (Set5 on clean LR, BSD100 JPEG, Vid4 H.264) and falls back to the clean key where the
clean pick has no row of it; nothing but the cards is read (a made-up zoo, with measured speeds replaced by known
ones)."""

import json

import numpy as np
import pytest
from PIL import Image

from srlib.app import choose, upscaling
from srlib.inference import zoo
from srlib.inference.infer import Bicubic


def _card(name, macs, psnr, scale=3, degradation="bicubic", rows=()):
    """A toy card: Set5 ``psnr`` on bicubic LR, plus ``rows`` (dataset, lr, psnr)."""
    return {
        "model": name, "architecture": "toy", "task": "photo", "scale": scale, "scales": [scale],
        "arbitrary_scale": False, "channels": "Y (MATLAB rgb2ycbcr)", "parameters": 10,
        "macs_per_output_pixel": macs, "data": "T91", "degradation": degradation, "recipe": {}, "steps": 1,
        "epochs": 1, "wall_time_s": 1.0, "samples_per_s_during_run": 1.0, "trained_on": "m", "fps": None,
        "benchmark_convention": "Y", "scored_on": "m", "extra": {},
        "benchmark": [{"dataset": d, "scale": scale, "lr": lr, "psnr": p, "ssim": 0.9}
                      for d, lr, p in [("Set5", "bicubic", psnr), *rows]],
    }


def _zoo(folder, monkeypatch, cards, speeds):
    """Write ``cards`` into a zoo at ``folder``; clip_fps answers from ``speeds`` and lists what it timed."""
    monkeypatch.setenv("SRLIB_WEIGHTS", str(folder))
    for card in cards:
        (folder / f"{zoo.file_stem(card['model'])}.json").write_text(json.dumps(card))
        (folder / f"{zoo.file_stem(card['model'])}.keras").write_bytes(b"")
    measured = []

    def fps(name, clip, scale, degrade):
        measured.append(name)
        return speeds[name]

    monkeypatch.setattr(choose, "clip_fps", fps)
    monkeypatch.setattr(choose, "_floor", lambda scale: 32.75)
    return measured


@pytest.fixture
def made_up_zoo(tmp_path, monkeypatch):
    """fast-x3 (40 fps here, under SRCNN), mid-x3 (20 fps, above), big-x3 (2 fps, best); SRCNN's Set5 x3 32.75."""
    cards = [_card("fast-x3", 1000, 31.9), _card("mid-x3", 2500, 32.8), _card("big-x3", 90000, 33.2)]
    return _zoo(tmp_path, monkeypatch, cards, {"fast-x3": 40.0, "mid-x3": 20.0, "big-x3": 2.0})


VID4, JPEG = ("Vid4", "bicubic_h264_clip"), ("BSD100", "bicubic_jpeg")


def _compressed_zoo(folder, monkeypatch, big_jpeg=None, clean_rows=True):
    """made_up_zoo plus real-x3 (mixture_h264-trained, mid-x3's cost and speed: lower clean Set5, the best compressed
    rows; its own-degradation Set5 row 40.0 is not a clean one). ``clean_rows``: the clean models have compressed
    rows; ``big_jpeg``: big-x3's BSD100 JPEG PSNR (None: no such row)."""
    rows = {"fast-x3": [(*VID4, 23.0), (*JPEG, 25.5)], "mid-x3": [(*VID4, 23.4), (*JPEG, 25.9)]} if clean_rows else {}
    cards = [_card("fast-x3", 1000, 31.9, rows=rows.get("fast-x3", ())),
             _card("mid-x3", 2500, 32.8, rows=rows.get("mid-x3", ())),
             _card("big-x3", 90000, 33.2, rows=[(*JPEG, big_jpeg)] if big_jpeg else ()),
             _card("real-x3", 2500, 32.5, degradation="mixture_h264",
                   rows=[("Set5", "mixture_h264", 40.0), (*VID4, 24.5), (*JPEG, 26.8)])]
    return _zoo(folder, monkeypatch, cards, {"fast-x3": 40.0, "mid-x3": 20.0, "big-x3": 2.0, "real-x3": 20.0})


@pytest.mark.parametrize("clip_fps, expected, why", [
    (10, "mid-x3", "keeps up"),  # both cheap ones keep up: the better one
    (25, "fast-x3", "keeps up"),  # only the fastest keeps up, even under SRCNN
    (50, "mid-x3", "at or above SRCNN"),  # nothing keeps up: the fastest at SRCNN's quality, never big-x3
])
def test_video_default(made_up_zoo, clip_fps, expected, why):
    name, fps, reason = choose.for_video(3, "clip.mp4", clip_fps)
    assert name == expected and why in reason and fps > 1
    assert ("big-x3" in made_up_zoo) == (clip_fps == 10)  # timed only while the cheaper ones keep up


def test_image_default_is_the_best_set5(made_up_zoo):
    assert choose.for_image(3) == "big-x3"
    assert choose.for_image(2) == "bicubic"


def test_no_video_model_for_the_scale_falls_back(made_up_zoo):
    name, fps, reason = choose.for_video(2, "clip.mp4", 25)
    assert (name, fps) == ("bicubic", None) and "image default" in reason


@pytest.mark.parametrize("clip_fps, expected", [(10, "real-x3"), (25, "fast-x3")])
def test_video_ranks_by_the_h264_row(tmp_path, monkeypatch, clip_fps, expected):
    """The compressed-trained model wins for video where it keeps up (its Vid4 row is the best), never for a PNG,
    and its own-degradation Set5 row is not taken for a clean one; where it falls behind, the fastest that keeps up."""
    _compressed_zoo(tmp_path, monkeypatch)
    name, fps, reason = choose.for_video(3, "clip.mp4", clip_fps)
    assert name == expected and f"H.264 video (Vid4, CRF 28) that keeps up with {clip_fps} fps" in reason
    assert choose.image_default(3) == ("big-x3", "the best Set5 PSNR (clean bicubic LR) among the shipped x3 models")


@pytest.mark.parametrize("big_jpeg, expected", [(26.0, "real-x3"), (27.0, "big-x3")])
def test_jpeg_ranks_by_the_bsd100_jpeg_row(tmp_path, monkeypatch, big_jpeg, expected):
    """A JPEG photo takes the best BSD100 JPEG row once the clean pick (big-x3) has one: the model for compressed
    input where it scores higher, the clean model where it does."""
    _compressed_zoo(tmp_path, monkeypatch, big_jpeg=big_jpeg)
    assert choose.image_default(3, jpeg=True) == (expected, "the best PSNR on JPEG photos (BSD100, quality 50) "
                                                            "among the x3 models scored on it")
    assert choose.for_image(3) == "big-x3"


def test_compressed_keys_fall_back_where_the_clean_pick_has_no_row(tmp_path, monkeypatch):
    """Only real-x3 is scored on compressed input: nothing to compare it with, so the clean key decides, and says so."""
    _compressed_zoo(tmp_path, monkeypatch, clean_rows=False)
    name, _, reason = choose.for_video(3, "clip.mp4", 10)
    assert name == "mid-x3" and reason.startswith("the best Set5 PSNR (clean bicubic LR) that keeps up")
    assert reason.endswith("mid-x3 has no Vid4 bicubic_h264_clip row, so PSNR on H.264 video (Vid4, CRF 28) "
                           "cannot compare")
    name, reason = choose.image_default(3, jpeg=True)
    assert name == "big-x3" and "big-x3 has no BSD100 bicubic_jpeg row" in reason


def test_jpeg_quality_reaches_the_choice_and_its_reason(tmp_path, monkeypatch):
    """image_input estimates a .jpg's quality (None for PNG content under a .jpg name); image_default states it and
    picks as without it (no rule uses it yet)."""
    _compressed_zoo(tmp_path, monkeypatch, big_jpeg=26.0)
    photo = (np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "q30.jpeg", quality=30)
    Image.fromarray(photo).save(tmp_path / "png.jpg", format="PNG")
    Image.fromarray(photo).save(tmp_path / "c.png")
    assert [choose.image_input(tmp_path / f) for f in ("q30.jpeg", "png.jpg", "c.png")] == [
        (True, 30.0), (True, None), (False, None)]
    name, why = choose.image_default(3, True, 30.0)
    assert (name, why) == ("real-x3", "JPEG quality 30, estimated from its quantisation tables; "
                                      + choose.image_default(3, True)[1])


def test_files_choose_per_file_and_the_cli_says_why(tmp_path, monkeypatch, capsys):
    """upscale() on a .JPG asks for the JPEG default, on a .png for the clean one, --model overrides both; the CLI
    names each default once with its reason."""
    from srlib.cli import main

    _compressed_zoo(tmp_path, monkeypatch, big_jpeg=26.0)
    asked = []
    monkeypatch.setattr(upscaling, "load_upscaler", lambda model, scale: asked.append(model) or Bicubic(scale))
    upscaling.upscaler.cache_clear()
    photo = (np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "a.JPG", quality=75)
    Image.fromarray(photo).save(tmp_path / "b.png")
    try:
        for file in ("a.JPG", "b.png"):
            assert upscaling.upscale(tmp_path / file, scale=3).shape == (24, 24, 3)
        upscaling.upscale(tmp_path / "a.JPG", "bicubic", 3)
        assert asked == ["real-x3", "big-x3", "bicubic"]
        assert main(["upscale", str(tmp_path / "a.JPG"), str(tmp_path / "b.png"), "--scale", "3", "-o",
                     str(tmp_path / "out"), "--quiet"]) == 0
    finally:
        upscaling.upscaler.cache_clear()
    err = capsys.readouterr().err
    assert ("model: real-x3 for JPEG files (JPEG quality 75, estimated from its quantisation tables; the best PSNR on "
            "JPEG photos (BSD100, quality 50)") in err
    assert "model: big-x3 for images (the best Set5 PSNR (clean bicubic LR)" in err
