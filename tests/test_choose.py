"""srlib.choose: the video default keeps up with the clip where a model can, else the fastest at SRCNN's quality,
and reads nothing but the cards (a made-up zoo, with measured speeds replaced by known ones)."""

import json

import pytest

from srlib import choose, zoo


def _card(name, macs, psnr, scale=3):
    return {
        "model": name, "architecture": "toy", "task": "photo", "scale": scale, "scales": [scale],
        "arbitrary_scale": False, "channels": "Y (MATLAB rgb2ycbcr)", "parameters": 10,
        "macs_per_output_pixel": macs, "data": "T91", "degradation": "bicubic", "recipe": {}, "steps": 1,
        "epochs": 1, "wall_time_s": 1.0, "samples_per_s_during_run": 1.0, "trained_on": "m", "fps": None,
        "benchmark_convention": "Y", "scored_on": "m", "extra": {},
        "benchmark": [{"dataset": "Set5", "scale": scale, "lr": "bicubic", "psnr": psnr, "ssim": 0.9}],
    }


@pytest.fixture
def made_up_zoo(tmp_path, monkeypatch):
    """fast-x3 (40 fps here, under SRCNN), mid-x3 (20 fps, above), big-x3 (2 fps, best); SRCNN's Set5 x3 32.75."""
    monkeypatch.setenv("SRLIB_WEIGHTS", str(tmp_path))
    for name, macs, psnr in [("fast-x3", 1000, 31.9), ("mid-x3", 2500, 32.8), ("big-x3", 90000, 33.2)]:
        (tmp_path / f"{zoo.file_stem(name)}.json").write_text(json.dumps(_card(name, macs, psnr)))
        (tmp_path / f"{zoo.file_stem(name)}.keras").write_bytes(b"")
    speeds = {"fast-x3": 40.0, "mid-x3": 20.0, "big-x3": 2.0}
    measured = []

    def fps(name, w, h):
        measured.append(name)
        return speeds[name]

    monkeypatch.setattr(choose, "frame_fps", fps)
    monkeypatch.setattr(choose, "_floor", lambda scale: 32.75)
    return measured


@pytest.mark.parametrize("clip_fps, expected, why", [
    (10, "mid-x3", "keeps up"),  # both cheap ones keep up: the better one
    (25, "fast-x3", "keeps up"),  # only the fastest keeps up, even under SRCNN
    (50, "mid-x3", "at or above SRCNN"),  # nothing keeps up: the fastest at SRCNN's quality, never big-x3
])
def test_video_default(made_up_zoo, clip_fps, expected, why):
    name, fps, reason = choose.for_video(3, 640, 360, clip_fps)
    assert name == expected and why in reason and fps > 1
    assert ("big-x3" in made_up_zoo) == (clip_fps == 10)  # timed only while the cheaper ones keep up


def test_image_default_is_the_best_set5(made_up_zoo):
    assert choose.for_image(3) == "big-x3"
    assert choose.for_image(2) == "bicubic"


def test_no_video_model_for_the_scale_falls_back(made_up_zoo):
    name, fps, reason = choose.for_video(2, 640, 360, 25)
    assert (name, fps) == ("bicubic", None) and "image default" in reason
