"""Tests for srlib.codec: JPEG against PIL to the bit, H.264 deterministic and plausible."""

import numpy as np
import pytest

from srlib import codec, degrade
from srlib.io import quantize


def test_jpeg_close_to_input():
    """A JPEG round trip at quality 95 keeps a smooth image within a few levels; quality 10 loses more."""
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    x = np.stack([yy, xx, 0.5 * (xx + yy)], -1).astype(np.float32)
    hi = codec.jpeg(x, quality=95).numpy()
    lo = codec.jpeg(x, quality=10).numpy()
    assert hi.shape == x.shape and hi.dtype == np.float32
    assert np.abs(hi - x).mean() < 3 / 255
    assert np.abs(lo - x).mean() > np.abs(hi - x).mean()
    gray = codec.jpeg(np.stack([x[..., :1]] * 2), quality=95).numpy()  # NHWC, one channel
    assert gray.shape == (2, 32, 32, 1)
    assert np.abs(gray[1] - x[..., :1]).mean() < 3 / 255


def pil_jpeg(x, quality):
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
    np.testing.assert_array_equal(codec.jpeg(photo, quality).numpy(), pil_jpeg(photo, quality))
    grey = photo[..., :1]
    np.testing.assert_array_equal(codec.jpeg(grey, quality).numpy(), pil_jpeg(grey, quality))
    both = codec.jpeg(np.stack([photo, photo[::-1]]), [quality, 90]).numpy()
    np.testing.assert_array_equal(both[1], pil_jpeg(photo[::-1], 90))


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
    assert codec.h264_stream(frames, 28) == codec.h264_stream(frames.copy(), 28)
    _, lr = degrade.benchmark_lr(photo, 3, "bicubic_h264")
    np.testing.assert_array_equal(lr, degrade.benchmark_lr(photo, 3, "bicubic_h264")[1])
    np.testing.assert_array_equal(lr, codec.h264(clean, 28))
    psnr = {crf: _psnr_y(codec.h264(clean, crf), clean) for crf in (18, 28, 38)}
    assert 25 < psnr[28] < 40 and psnr[18] > psnr[28] > psnr[38], psnr
    odd = codec.h264(clean[:31, :39], 28)
    assert odd.shape == (31, 39, 3) and lr.dtype == np.float32
    clip = degrade.benchmark_lr(np.stack([photo, photo[:, ::-1], photo]), 3, "bicubic_h264_clip")[1]
    assert clip.shape == (3, 32, 40, 3)
    np.testing.assert_array_equal(clip, degrade.benchmark_lr(np.stack([photo, photo[:, ::-1], photo]), 3,
                                                             "bicubic_h264_clip")[1])


def test_bicubic_codec_is_bicubic_then_one_codec_per_image(photo):
    """Each branch alone is the registry entry it names: nothing (bicubic), JPEG at a fixed quality
    (bicubic_jpeg's benchmark form) or H.264 at a fixed CRF (bicubic_h264's); the draw is per image and seeded."""
    codec_fn = degrade.get("bicubic_codec").fn
    lr = {name: degrade.benchmark_lr(photo, 3, name)[1] for name in ("bicubic", "bicubic_jpeg", "bicubic_h264")}
    hr = degrade.benchmark_lr(photo, 3, "bicubic")[0]
    for p, want in [((1, 0, 0), "bicubic"), ((0, 1, 0), "bicubic_jpeg"), ((0, 0, 1), "bicubic_h264")]:
        np.testing.assert_array_equal(codec_fn(hr, 3, (4, 2), quality=50, crf=28, p=p), lr[want])
    crops = [hr[i : i + 30, j : j + 30] for i in (0, 3, 6) for j in (0, 3, 6, 9)]  # 12 different images
    mixed = codec_fn(np.stack(crops), 3, (1, 1))
    np.testing.assert_array_equal(mixed, codec_fn(np.stack(crops), 3, (1, 1)))  # the same seed, the same draws
    alone = [degrade.benchmark_lr(c, 3, "bicubic_codec")[1] for c in crops]  # the benchmark form, one at a time
    kinds = [0 if np.array_equal(a, degrade.benchmark_lr(c, 3, "bicubic")[1]) else 1 for a, c in zip(alone, crops,
                                                                                                     strict=True)]
    assert 0 < sum(kinds) < len(kinds)  # each test image its own draw: some left clean, some compressed
    with pytest.raises(ValueError, match="bicubic_codec: p="):
        codec_fn(hr, 3, (1, 1), p=(1, 1))
    pan = degrade.get("bicubic_codec_pan").fn  # its H.264 branch: the frame of a panned clip, not an intra frame
    np.testing.assert_array_equal(pan(hr, 3, (0, 0), crf=28, p=(0, 0, 1)),
                                  degrade.benchmark_lr(photo, 3, "bicubic_h264_pan")[1])
    np.testing.assert_array_equal(pan(hr, 3, (4, 2), quality=50, p=(0, 1, 0)), lr["bicubic_jpeg"])


def test_bicubic_h264_pan_is_the_image_frame_of_a_panned_clip(photo):
    """bicubic_h264_pan's LR is the frame of the panned clip that is the image itself: at CRF 0 (x264 lossless) it
    is the clean LR's yuv420p round trip to the bit, still or moving (so it is aligned with the HR, and no other
    frame of the clip); at CRF 28 it is another LR than the one intra frame of bicubic_h264 and than the still clip's,
    plausibly close to the clean LR (PSNR-Y 30.6 measured on this crop, intra 27.7); uint8 levels; each image its own
    draws (one seed, another image: other draws), a batch is each image alone."""
    hr, clean = degrade.benchmark_lr(photo, 3)
    pan = degrade.get("bicubic_h264_pan").fn
    for speed in (0.0, 3.0):
        np.testing.assert_array_equal(pan(hr, 3, (1, 1), crf=0, speed=speed), codec.h264(clean, 0))
    _, lr = degrade.benchmark_lr(photo, 3, "bicubic_h264_pan")
    assert lr.shape == (32, 40, 3) and lr.dtype == np.float32
    np.testing.assert_array_equal(lr * 255, np.round(lr * 255))
    intra = degrade.benchmark_lr(photo, 3, "bicubic_h264")[1]
    still = pan(hr, 3, (0, 0), crf=28, speed=0.0)
    assert np.abs(lr - intra).mean() > 2 / 255 and np.abs(lr - still).mean() > 2 / 255
    assert 25 < _psnr_y(lr, clean) < 40
    both = pan(np.stack([hr, hr[::-1]]), 3, (1, 1))
    assert both.shape == (2, 32, 40, 3)
    np.testing.assert_array_equal(both[1], pan(hr[::-1], 3, (1, 1)))
    dot = hr.copy()
    dot[0, 0] = 1 - dot[0, 0]  # one HR pixel changed: another image, so other draws (motion, frame, CRF)
    assert np.abs(pan(dot, 3, (1, 1)) - both[0]).mean() > 2 / 255
