"""Tests for srlib.video.pipeline on tiny synthetic clips made with imageio-ffmpeg (no data needed)."""

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srlib import paths, precision, videoio
from srlib.color import rgb_to_ycbcr
from srlib.data import frames_dataset
from srlib.inference.frames import FastLuma
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.inference.lite import LiteNet
from srlib.models.espcn import espcn
from srlib.precision import with_precision
from srlib.video import panels, pipeline

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def colour_frames(n=10, w=32, h=24):
    """n flat-colour uint8 (h, w, 3) frames, a different red level each."""
    return [np.full((h, w, 3), (40 + 15 * i, 120, 200), np.uint8) for i in range(n)]


def make_clip(path, frames, fps=10):
    """Encode uint8 frames losslessly with imageio-ffmpeg (independent of VideoWriter)."""
    h, w = frames[0].shape[:2]
    gen = imageio_ffmpeg.write_frames(
        str(path), (w, h), fps=fps, codec="libx264", quality=None, macro_block_size=1,
        ffmpeg_log_level="error", output_params=["-crf", "0"],
    )
    gen.send(None)
    for f in frames:
        gen.send(f)
    gen.close()
    return path


def lavfi_clip(path, size="48x36", seconds=1, audio=False):
    """A testsrc2 clip at 10 fps, with a 440 Hz sine track when ``audio``."""
    cmd = [FFMPEG, "-y", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-c:a", "aac"]
    cmd += ["-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def streams(path):
    """Stream lines of ``ffmpeg -i path``'s header."""
    err = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return [ln.strip() for ln in err.splitlines() if ln.strip().startswith("Stream #")]


class Raising:
    """Bicubic x2 that raises on its ``fail_at``-th frame."""

    def __init__(self, fail_at):
        self.scale, self.fail_at, self.calls = 2, fail_at, 0

    def __call__(self, lr):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("model exploded")
        return np.repeat(np.repeat(lr, 2, axis=0), 2, axis=1)


def test_write_read_round_trip(tmp_path):
    frames = colour_frames()
    with videoio.VideoWriter(tmp_path / "a.mp4", fps=12, crf=0) as w:
        for f in frames:
            w.write(f)
    info = videoio.probe(tmp_path / "a.mp4")
    assert (info.fps, info.size, info.n_frames, info.has_audio, info.codec) == (12.0, (32, 24), 10, False, "h264")
    back = list(videoio.read_frames(tmp_path / "a.mp4"))
    assert len(back) == 10 and back[0].shape == (24, 32, 3) and back[0].dtype == np.uint8
    # 4:2:0 with BT.601 studio range both ways: flat colours come back within a level or two.
    assert max(np.abs(b.astype(int) - f).max() for b, f in zip(back, frames, strict=True)) <= 2
    assert len(list(videoio.read_frames(tmp_path / "a.mp4", max_frames=3))) == 3


def test_odd_size_padded_to_even(tmp_path):
    ramp = np.tile(np.linspace(20, 230, 31).astype(np.uint8)[None, :, None], (23, 1, 3))
    with videoio.VideoWriter(tmp_path / "odd.mp4", fps=10, crf=0) as w:
        for _ in range(3):
            w.write(ramp)
    assert w.size == (32, 24) and videoio.probe(tmp_path / "odd.mp4").size == (32, 24)
    back = next(videoio.read_frames(tmp_path / "odd.mp4")).astype(int)
    assert np.abs(back[:23, :31] - ramp).max() <= 3  # content kept, not rescaled
    assert np.abs(back[:, 31] - back[:, 30]).max() <= 3  # padding repeats the last column


def test_audio_passthrough(tmp_path):
    src = lavfi_clip(tmp_path / "av.mp4", audio=True)
    assert videoio.probe(src).has_audio
    stats = pipeline.upscale_video(src, tmp_path / "out.mp4", Bicubic(2), progress=False)
    assert stats["frames"] == 10
    out_streams = streams(tmp_path / "out.mp4")
    assert any("Audio: aac" in s for s in out_streams) and any("Video: h264" in s for s in out_streams)
    # A source without audio gives a silent video, no error.
    silent = make_clip(tmp_path / "silent.mp4", colour_frames(3))
    with videoio.VideoWriter(tmp_path / "quiet.mp4", fps=10, audio_from=silent) as w:
        w.write(colour_frames(1)[0])
    assert not any("Audio:" in s for s in streams(tmp_path / "quiet.mp4"))


@pytest.mark.parametrize("kind", ["garbage", "empty", "no_video", "zero_frames", "missing"])
def test_unreadable_input_is_one_line_video_error(tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    if kind == "garbage":
        path.write_bytes(b"not a video at all" * 50)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "no_video":
        cmd = ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.3", "-c:a", "aac"]
        subprocess.run([FFMPEG, "-y", "-v", "error", *cmd, str(path)], check=True)
    elif kind == "zero_frames":
        cmd = ["-f", "lavfi", "-i", "testsrc2=size=32x24:rate=10", "-frames:v", "0", "-c:v", "libx264"]
        subprocess.run([FFMPEG, "-y", "-v", "error", *cmd, str(path)], check=True)
    for call in (lambda: videoio.probe(path), lambda: list(videoio.read_frames(path))):
        with pytest.raises(videoio.VideoError) as e:
            call()
        assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)
    with pytest.raises(videoio.VideoError):
        pipeline.upscale_video(path, tmp_path / "out.mp4", Bicubic(2), progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_no_frames_read_is_an_error(tmp_path):
    clip = make_clip(tmp_path / "a.mp4", colour_frames(2))
    with pytest.raises(videoio.VideoError, match="no frames"):
        list(videoio.read_frames(clip, max_frames=0))


def test_frame_folder(tmp_path):
    for i, f in enumerate(colour_frames(4, w=11, h=7)):
        Image.fromarray(f).save(tmp_path / f"{i:04d}.png")
    frames = list(videoio.read_frames(tmp_path))
    assert len(frames) == 4 and np.array_equal(frames[2], colour_frames(4, w=11, h=7)[2])
    info = videoio.probe(tmp_path)
    assert (info.size, info.n_frames, info.fps) == ((11, 7), 4, videoio.FOLDER_FPS)
    Image.fromarray(np.zeros((8, 11, 3), np.uint8)).save(tmp_path / "0009.png")
    with pytest.raises(videoio.VideoError, match="0009.png: frame is 11x8"):
        list(videoio.frame_folder(tmp_path))
    ds = frames_dataset(tmp_path, max_frames=2)
    assert [tuple(x.shape) for x in ds] == [(7, 11, 3)] * 2


def test_missing_output_folder_is_created(tmp_path):
    out = tmp_path / "new" / "deeper" / "x.mp4"
    with videoio.VideoWriter(out, fps=10) as w:
        w.write(colour_frames(1)[0])
    assert out.is_file() and [p.name for p in out.parent.iterdir()] == ["x.mp4"]


def test_video_gets_the_permissions_of_an_image(tmp_path):
    """The finished video is readable by others as saved images are (0666 minus the umask), not mkstemp's 0600."""
    import os

    with videoio.VideoWriter(tmp_path / "v.mp4", fps=10) as w:
        w.write(colour_frames(2))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "v.mp4").stat().st_mode & 0o777 == 0o666 & ~umask


def test_writer_rejects_bad_suffix_and_empty_video(tmp_path):
    with pytest.raises(videoio.VideoError, match="H.264 output needs"):
        videoio.VideoWriter(tmp_path / "x.webm", fps=10)
    with pytest.raises(videoio.VideoError, match="no frames written"):
        with videoio.VideoWriter(tmp_path / "x.mp4", fps=10):
            pass
    assert list(tmp_path.iterdir()) == []


def test_failed_run_leaves_no_file(tmp_path):
    src = make_clip(tmp_path / "src.mp4", colour_frames())
    dst = tmp_path / "out" / "dst.mp4"
    with pytest.raises(RuntimeError, match="model exploded"):
        pipeline.upscale_video(src, dst, Raising(fail_at=6), compare=tmp_path / "out" / "cmp.mp4", progress=False,
                            animation=[tmp_path / "out" / "anim.gif", tmp_path / "out" / "anim.mp4"])
    assert list(dst.parent.iterdir()) == []  # neither the outputs nor their temporary files (5 frames were written)
    dst.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        pipeline.upscale_video(src, dst, Raising(fail_at=3), progress=False)
    assert dst.read_bytes() == b"previous result" and len(list(dst.parent.iterdir())) == 1


def test_upscale_bicubic_size_and_frames(tmp_path):
    src = make_clip(tmp_path / "src.mp4", colour_frames())
    stats = pipeline.upscale_video(src, tmp_path / "x3.mp4", Bicubic(3), progress=False)
    assert stats["frames"] == 10 and stats["output_size"] == (96, 72)
    info = videoio.probe(tmp_path / "x3.mp4")
    assert (info.size, info.n_frames, info.fps) == ((96, 72), 10, 10.0)
    assert {"decode", "colour", "network", "encode"} <= set(stats["stages_s"])
    assert stats["latency_ms"]["p50"] <= stats["latency_ms"]["p95"]
    with pytest.raises(videoio.VideoError, match="refusing to overwrite"):
        pipeline.upscale_video(src, src, Bicubic(3), progress=False)


def test_degrade_mode_scores_every_frame(tmp_path):
    src = lavfi_clip(tmp_path / "hr.mp4", size="50x38", seconds=0.7)  # 7 frames, cropped to 48x36
    stats = pipeline.upscale_video(src, None, Bicubic(3), degrade_scale=3, progress=False)
    assert stats["frames"] == 7 and len(stats["psnr"]) == 7 and len(stats["ssim"]) == 7
    assert stats["input_size"] == (16, 12) and stats["output_size"] == (48, 36)
    assert all(10 < p < 60 for p in stats["psnr"]) and stats["psnr_mean"] == pytest.approx(np.mean(stats["psnr"]))
    with pytest.raises(ValueError, match="degrade_scale 2"):
        pipeline.upscale_video(src, None, Bicubic(3), degrade_scale=2, progress=False)


def test_compare_video_and_animation(tmp_path):
    """The animation: the crop of bicubic | SR | HR at native size under a label strip, one frame per video frame."""
    src = lavfi_clip(tmp_path / "hr.mp4", size="240x96", seconds=0.5)  # 5 frames of a moving test pattern
    y, x, h, w = crop = (6, 9, 60, 210)  # wide enough for the labels
    stats = pipeline.upscale_video(
        src, tmp_path / "sr.mp4", Bicubic(3), degrade_scale=3, compare=tmp_path / "cmp.mp4", progress=False,
        animation=[tmp_path / "cmp.gif", tmp_path / "anim.mp4"], crop=crop, animation_frames=4, animation_fps=5,
    )
    assert videoio.probe(tmp_path / "cmp.mp4").size == (3 * 240, 96)  # bicubic | SR | HR, whole frames
    size = (3 * w + 2 * panels.PANEL_GAP, panels.LABEL_HEIGHT + h)
    info = videoio.probe(tmp_path / "anim.mp4")
    assert (info.size, info.n_frames, info.fps) == (size, 4, 5.0)
    hr = list(videoio.read_frames(src))
    with Image.open(tmp_path / "cmp.gif") as gif:
        assert gif.size == size and gif.n_frames == 4 and gif.info["duration"] == 200
        strips = []
        for i in range(4):
            gif.seek(i)
            frame = np.asarray(gif.convert("RGB")).astype(int)
            panel = frame[panels.LABEL_HEIGHT :, 2 * (w + panels.PANEL_GAP) :]
            assert np.abs(panel - hr[i][y : y + h, x : x + w]).mean() < 4  # the HR crop, pixel for pixel
            strips.append(frame[: panels.LABEL_HEIGHT])
    for strip in strips:  # black text on white above each of the three panels
        for j in range(3):
            part = strip[:, j * (w + panels.PANEL_GAP) : j * (w + panels.PANEL_GAP) + w]
            assert part.min() < 100 and np.median(part) > 250
    assert not np.array_equal(strips[0], strips[1])  # the labels change with the frame (number, PSNR)
    assert len(stats["psnr"]) == 5  # the animation's limit does not limit the run


def test_animation_defaults_and_bad_crop(tmp_path):
    src = make_clip(tmp_path / "hr.mp4", colour_frames(3, w=48, h=36))
    pipeline.upscale_video(src, None, Bicubic(3), progress=False, animation=tmp_path / "a.gif", animation_frames=None)
    with Image.open(tmp_path / "a.gif") as gif:  # no HR: bicubic | SR over the whole 144 x 108 output (< 240)
        assert gif.size == (2 * 144 + panels.PANEL_GAP, panels.LABEL_HEIGHT + 108) and gif.n_frames == 3
    with pytest.raises(ValueError, match=r"crop \(100, 0, 20, 20\) .* not inside the 144x108"):
        pipeline.upscale_video(src, None, Bicubic(3), progress=False, animation=tmp_path / "b.gif",
                               crop=(100, 0, 20, 20))
    assert not (tmp_path / "b.gif").exists()


def test_compose_keeps_pixels_and_labels_apart():
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (10, n, 3), dtype=np.uint8) for n in (40, 25))
    out = panels.compose([a, b], ["a label far too long for its forty-pixel panel", ""])
    assert out.shape == (panels.LABEL_HEIGHT + 10, 40 + panels.PANEL_GAP + 25, 3) and out.dtype == np.uint8
    assert np.array_equal(out[panels.LABEL_HEIGHT :, :40], a) and np.array_equal(out[panels.LABEL_HEIGHT :, -25:], b)
    assert out[: panels.LABEL_HEIGHT, :40].min() < 100  # the first label is drawn...
    assert (out[:, 40 : 40 + panels.PANEL_GAP] == 255).all()  # ...cut at its panel: the gap stays white
    assert (out[: panels.LABEL_HEIGHT, -25:] == 255).all()  # an empty label draws nothing
    with pytest.raises(ValueError, match="one height"):
        panels.compose([a, b[:5]], ["a", "b"])


def test_committed_animation_is_small_long_and_labelled():
    """results/figures/06_compare_x3.gif and .mp4 (notebook 06): >= 30 frames of 3 labelled panels, each < 4 MB."""
    gif_path = paths.results_dir() / "figures" / "06_compare_x3.gif"
    mp4 = gif_path.with_suffix(".mp4")
    assert gif_path.stat().st_size < 4e6 and mp4.stat().st_size < 4e6
    with Image.open(gif_path) as gif:
        size, n = gif.size, gif.n_frames
    info = videoio.probe(mp4)
    assert n >= 30 and (info.size, info.n_frames) == (size, n)
    assert (size[0] - 2 * panels.PANEL_GAP) % 3 == 0 and size[1] > panels.LABEL_HEIGHT


def test_bounded_memory(tmp_path):
    """Frames alive at once never exceed the queue-derived bound, however long the clip."""
    src = make_clip(tmp_path / "long.mp4", colour_frames(40, w=16, h=12))
    stats = pipeline.upscale_video(src, tmp_path / "out.mp4", Raising(fail_at=None), queue_size=2, progress=False)
    assert stats["frames"] == 40
    assert stats["in_flight_bound"] == 1 + 2 + 1 * (2 + 2)
    assert stats["max_in_flight"] <= stats["in_flight_bound"] < 40


def test_fast_luma_matches_model_upscaler():
    """Quality mode of the compiled path is ModelUpscaler's image; fast mode emits I420 planes."""
    model = espcn(3)
    lr = (np.random.default_rng(0).random((2, 7, 11, 3)) * 255).astype(np.uint8)
    fast = FastLuma(model, 3)
    y, cbcr = fast.split(lr)
    rgb = fast.merge(fast.net(y), cbcr, quality=True)
    ref = ModelUpscaler(model, 3)(lr[1].astype(np.float32) / 255.0)
    assert rgb.shape == (2, 21, 33, 3) and np.abs(rgb[1].astype(int) - np.round(ref * 255)).max() <= 1
    i420 = fast.merge(fast.net(y), cbcr)
    assert i420.shape == (2, 22 * 3 // 2, 34)  # 33 x 21 padded to even, then Y + U + V planes
    assert np.abs(i420[1, :21, :33].astype(int) - np.round(fast.net(y)[1, ..., 0].clip(0, 1) * 255)).max() <= 1


@pytest.mark.parametrize(
    "precision, policies",
    [("float32", ["float32"] * 3), ("mixed_bfloat16", ["mixed_bfloat16"] * 2 + ["float32"]),
     ("bfloat16", ["mixed_bfloat16"] * 3)],
)
def test_precision_policies(precision, policies):
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # as a checkpoint saved by mixed-precision training
    try:
        model = espcn(3)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    fast = FastLuma(model, 3, precision=precision)
    assert [layer.dtype_policy.name for layer in fast.model.layers if layer.weights] == policies
    y = np.random.default_rng(1).random((1, 8, 8, 1)).astype(np.float32)
    assert fast.net(y).dtype == tf.float32
    assert np.abs(fast.net(y) - with_precision(model, "float32")(y).numpy()).max() < 0.03


@pytest.mark.parametrize("native, expected", [("bf16", "mixed_bfloat16"), ("fp32", "float32")])
def test_auto_precision_picks_bfloat16_only_where_native(monkeypatch, native, expected):
    monkeypatch.setattr(precision, "auto_precision", lambda: native)
    fast = FastLuma(espcn(3), 3, precision="auto")
    assert fast.precision == expected and expected in fast.name


def test_fast_luma_video_odd_output(tmp_path):
    """ESPCN through upscale_video (I420 path) on 11x7 frames: 33x21 output padded to 34x22."""
    for i, f in enumerate(colour_frames(5, w=11, h=7)):
        Image.fromarray(f).save(tmp_path / f"{i:04d}.png")
    stats = pipeline.upscale_video(tmp_path, tmp_path / "out" / "sr.mp4", ModelUpscaler(espcn(3), 3), batch=2,
                                progress=False)
    assert stats["frames"] == 5 and stats["output_size"] == (33, 21)
    info = videoio.probe(tmp_path / "out" / "sr.mp4")
    assert (info.size, info.n_frames) == ((34, 22), 5)


@pytest.mark.slow
def test_cli_upscales_video(tmp_path, capsys, monkeypatch):
    """The default is chosen by a trial on the clip; the model chosen is loaded once, for the trial and the run."""
    from srlib.app import choose
    from srlib.cli import main
    from srlib.inference import infer

    loaded, load = [], infer.load_net
    monkeypatch.setattr(infer, "load_net", lambda name: loaded.append(name) or load(name))
    for cached in (choose.video_engine, choose.clip_fps):
        cached.cache_clear()
    src = make_clip(tmp_path / "clip.mp4", colour_frames(4, w=24, h=18))
    assert main(["upscale", str(src), "-o", str(tmp_path / "out"), "--scale", "3", "--degrade", "--compare"]) == 0
    assert loaded and len(loaded) == len(set(loaded))  # each candidate timed was loaded once, the pick included
    assert videoio.probe(tmp_path / "out" / "clip_x3.mp4").size == (24, 18)  # LR 8x6 of the HR clip, x3
    assert (tmp_path / "out" / "clip_x3_compare.mp4").is_file() and (tmp_path / "out" / "clip_x3_compare.gif").is_file()
    out = capsys.readouterr().out
    assert "4 frames" in out and "PSNR" in out
    (tmp_path / "bad.mp4").write_bytes(b"junk")
    assert main(["upscale", str(tmp_path / "bad.mp4"), "-o", str(tmp_path / "x.mp4"), "--scale", "2"]) == 2
    assert "bad.mp4: not a readable video" in capsys.readouterr().err


def test_lite_net_matches_keras():
    """The XNNPACK float32 network gives the Keras model's output; a wrong shape is refused."""
    model = espcn(3)
    x = np.random.default_rng(2).random((2, 9, 13, 1)).astype(np.float32)
    net = LiteNet(model, x.shape)
    assert np.abs(net(x) - model(x).numpy()).max() < 1e-5
    with pytest.raises(ValueError, match="shape"):
        net(x[:1])


def test_fast_luma_runtimes():
    model = espcn(3)
    assert FastLuma(model, 3).runtime == "tflite"  # float32 on a CPU-only machine
    from srlib.models.cnn import cnn

    assert FastLuma(cnn(3), 3).runtime == "tensorflow"  # XNNPACK's transposed convolution is the slower one
    assert FastLuma(model, 3, jit_compile=True).runtime == "tensorflow"
    with pytest.raises(ValueError, match="float32"):
        FastLuma(model, 3, precision="bfloat16", runtime="tflite")
    y = np.random.default_rng(3).random((1, 8, 10, 1)).astype(np.float32)
    lite, plain = (FastLuma(model, 3, runtime=r).net(y) for r in ("tflite", "tensorflow"))
    assert np.abs(lite - plain).max() < 1e-5


def test_read_frames_i420(tmp_path):
    """yuv420p reading gives the decoder's planes: its Y is the BT.601 luma of the RGB reading."""
    src = make_clip(tmp_path / "clip.mp4", colour_frames(3, w=24, h=18))
    planes = list(videoio.read_frames(src, pix_fmt="yuv420p"))
    rgb = list(videoio.read_frames(src))
    assert len(planes) == 3 and planes[0].shape == (27, 24) and planes[0].dtype == np.uint8
    y = rgb_to_ycbcr(rgb[1].astype(np.float32) / 255.0)[..., 0].numpy() * 255.0
    assert np.abs(planes[1][:18].astype(float) - y).max() <= 1.5  # RGB rounding only
    with pytest.raises(ValueError, match="rgb24"):
        next(videoio.read_frames(tmp_path, pix_fmt="yuv420p"))


@pytest.mark.slow
def test_upscale_video_i420_path_matches_rgb_path(tmp_path):
    """A video file of even size goes I420 -> network -> I420; same picture as the RGB path."""
    src = make_clip(tmp_path / "clip.mp4", colour_frames(4, w=16, h=12))
    fast = FastLuma(load_upscaler("espcn-x3").model, 3)
    pipeline.upscale_video(src, tmp_path / "i420.mp4", fast, progress=False)
    pipeline.upscale_video(src, tmp_path / "rgb.mp4", fast, quality=True, progress=False)
    a, b = (np.stack(list(videoio.read_frames(tmp_path / f, pix_fmt="yuv420p"))).astype(float)
            for f in ("i420.mp4", "rgb.mp4"))
    assert a.shape == b.shape == (4, 54, 48)
    assert np.abs(a[:, :36] - b[:, :36]).mean() < 0.5  # Y: RGB rounding and x264 at crf 18
    assert np.abs(a[:, 36:] - b[:, 36:]).mean() < 0.5  # CbCr: bilinear from 4:2:0 vs bicubic from RGB


@pytest.mark.slow
def test_lite_stages_match_tensorflow_stages():
    """FastLuma's NumPy/TFLite stages give the TensorFlow stages' I420 planes (odd output sizes included)."""
    model = espcn(3)
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (2, 7, 11, 3), dtype=np.uint8)  # -> 21 x 33, padded to 22 x 34
    i420 = rng.integers(0, 256, (2, 12, 10), dtype=np.uint8)  # 8 x 10 frames as I420 planes -> 24 x 30
    for frames in (rgb, i420):
        outs = []
        for runtime in ("tflite", "tensorflow"):
            fast = FastLuma(model, 3, runtime=runtime)
            y, cbcr = fast.split(frames)
            outs.append(fast.merge(fast.net(y), cbcr))
        assert outs[0].dtype == np.uint8 and outs[0].shape == outs[1].shape
        diff = np.abs(outs[0].astype(int) - outs[1].astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01  # float rounding at .5 only
