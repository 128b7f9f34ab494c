"""Frame-by-frame video upscaling: decode -> network -> encode in three threads joined by bounded queues.

Memory depends on the queue size and the batch, never on the length of the video (a GIF keeps the
frames it shows, ``animation_frames`` at most). Any
upscaler works (a callable on float32 (H, W, 3) frames in [0, 1], see :mod:`srlib.inference.infer`);
luma models take the frame engine :class:`srlib.inference.frames.FastLuma`, which can skip the HR RGB
image altogether and hand the encoder 4:2:0 planes. Containers are :mod:`srlib.videoio`;
scores follow :mod:`srlib.evaluate`'s benchmark convention; the comparison
animation (bicubic | SR | HR) is :mod:`srlib.video.panels`'s.
"""

import contextlib
import itertools
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from srlib.degrade import benchmark_lr
from srlib.evaluate import score
from srlib.inference.frames import FastLuma
from srlib.inference.infer import Bicubic, ModelUpscaler
from srlib.io import to_uint8
from srlib.video.panels import ANIMATION_SIDE, Animation
from srlib.video.pipe import END, Pipe
from srlib.videoio import FOLDER_FPS, VideoError, VideoWriter, probe, read_frames


class _Decode:
    """Stage 1: frames from ``src`` into ``pipe.q_in`` as (LR uint8, HR uint8 or None); the end mark last.

    With ``degrade_scale`` each frame is HR: the benchmark LR of :func:`srlib.degrade.benchmark_lr` goes on.
    """

    def __init__(self, src, max_frames, pix_fmt, degrade_scale):
        self.src, self.max_frames, self.pix_fmt, self.degrade_scale = src, max_frames, pix_fmt, degrade_scale

    def __call__(self, pipe):
        frames = read_frames(self.src, self.max_frames, self.pix_fmt)
        try:
            while True:
                with pipe.timed("decode"):
                    frame = next(frames, None)
                if frame is None:
                    break
                hr = None
                if self.degrade_scale:
                    with pipe.timed("degrade"):
                        hr, lr = benchmark_lr(frame.astype(np.float32) / 255.0, self.degrade_scale)
                        frame, hr = to_uint8(lr), to_uint8(hr)
                pipe.enter()
                pipe.put(pipe.q_in, (frame, hr))
            pipe.put(pipe.q_in, END)
        finally:
            frames.close()


class _Network:
    """Stage 2 (the caller's thread): batches from ``q_in`` through the upscaler into ``q_out``; network latency."""

    def __init__(self, upscaler, batch, warmup):
        self.up, self.batch, self.warmup = upscaler, batch, warmup
        self.fast = isinstance(upscaler, FastLuma)
        self.latency_ms = []

    def _run(self, pipe, items):
        """(network output, seconds in the network) for one batch of (lr, hr) items."""
        if self.fast:
            last = items[-1][0]
            frames = np.stack([lr for lr, _ in items] + [last] * (self.batch - len(items)))  # RGB or I420
            with pipe.timed("colour"):
                y, cbcr = self.up.split(frames)
            t = time.perf_counter()
            return (self.up.net(y), cbcr), time.perf_counter() - t
        with pipe.timed("colour"):
            lr = items[0][0].astype(np.float32) / 255.0
        t = time.perf_counter()
        return self.up(lr)[None], time.perf_counter() - t

    def __call__(self, pipe):
        for n_batch in itertools.count():
            items = []
            while len(items) < self.batch and (item := pipe.get(pipe.q_in)) is not END:
                items.append(item)
            if items:
                out, dt = self._run(pipe, items)
                pipe.add("network", dt)
                if n_batch >= self.warmup:
                    self.latency_ms += [1000.0 * dt / len(items)] * len(items)
                pipe.put(pipe.q_out, (items, out))
            if len(items) < self.batch:  # the decoder's end mark was reached
                pipe.put(pipe.q_out, END)
                return


class _Encode:
    """Stage 3: output frames from ``q_out`` -> scores, the video, the comparison video and animation."""

    def __init__(self, upscaler, quality, writers, scale, score_frames, animation, total, progress):
        self.up, self.quality, self.scale = upscaler, quality, scale
        self.fast = isinstance(upscaler, FastLuma)
        self.video, self.side = writers
        self.animation = animation
        self.score_frames, self.total, self.progress = score_frames, total, progress
        self.bicubic = Bicubic(scale) if self.side is not None or animation is not None else None
        self.scores = {"psnr": [], "ssim": []}

    def _panels(self, pipe, lr, sr, hr):
        with pipe.timed("compare"):
            bicubic = to_uint8(self.bicubic(lr.astype(np.float32) / 255.0))
            if self.side is not None:
                self.side.write(np.concatenate([bicubic, sr] + ([hr] if hr is not None else []), axis=1))
            if self.animation is not None:
                self.animation.add([bicubic, sr], hr)

    def __call__(self, pipe):
        with contextlib.ExitStack() as stack:
            for writer in (self.video, self.side, *(self.animation.writers if self.animation else ())):
                if writer is not None:
                    stack.enter_context(writer)  # deletes its temporary file on any exception
            bar = stack.enter_context(tqdm(total=self.total, unit="frame", disable=not self.progress, leave=False))
            while (item := pipe.get(pipe.q_out)) is not END:
                items, out = item
                with pipe.timed("colour"):
                    frames = self.up.merge(*out, self.quality) if self.fast else to_uint8(out)
                for (lr, hr), frame in zip(items, frames[: len(items)], strict=True):  # drop batch padding
                    if self.score_frames:
                        with pipe.timed("metrics"):
                            p, s = score(frame.astype(np.float32) / 255.0, hr.astype(np.float32) / 255.0,
                                         self.scale, dtype=tf.float32)
                            self.scores["psnr"].append(p)
                            self.scores["ssim"].append(s)
                    if self.video is not None:
                        with pipe.timed("encode"):
                            self.video.write(frame)
                    if self.bicubic is not None:
                        self._panels(pipe, lr, frame, hr)
                    pipe.leave()
                    bar.update(1)


def upscale_video(
    src, dst, upscaler, batch=1, degrade_scale=None, compare=None, progress=True, *,
    quality=None, animation=None, crop=None, animation_frames=60, animation_fps=None, max_frames=None, fps=None,
    crf=18, preset="ultrafast", queue_size=8, warmup=1,
):
    """Upscale a video file or frame folder, frame by frame, to an H.264 file.

    Decode, network and encode run in three threads joined by bounded queues,
    so memory stays flat however long the video is (``stats['in_flight_bound']``
    frames at most). Audio is copied from ``src`` when it has some.

    Args:
      src: video file (any ffmpeg-readable container) or folder of frame images.
      dst: output file (see :class:`srlib.videoio.VideoWriter`), or None to only measure.
      upscaler: float32 (h, w, 3) -> (h * s, w * s, 3) callable with a ``scale``
        (:mod:`srlib.inference.infer`), or a :class:`srlib.inference.frames.FastLuma`. A luma ``ModelUpscaler``
        is turned into a float32 FastLuma.
      batch: frames per network call (FastLuma only; others run frame by frame).
      degrade_scale: if set (must equal the upscaler's scale), ``src`` is HR: each frame
        becomes its benchmark LR (:func:`srlib.degrade.benchmark_lr`), is upscaled and
        scored against the HR frame (:func:`srlib.evaluate.score`, SSIM in float32).
      compare: path of a side-by-side video, bicubic | SR | HR (HR with ``degrade_scale`` only).
      progress: show a progress bar.
      quality: exact colour for FastLuma: CbCr by MATLAB bicubic, RGB to the encoder.
        Default: on when scoring or comparing, else off (bilinear CbCr, 4:2:0 planes
        to the encoder; a video file of even size is then decoded to I420 planes
        too, so no RGB image is made at either end).
      animation: a path, or several, of the labelled comparison animation: ``.gif`` for a GIF, else an H.264
        file (:class:`srlib.videoio.VideoWriter`, preset 'medium'). Each frame is the ``crop`` of bicubic |
        SR | HR (HR with ``degrade_scale`` only) at native size, under labels burned in
        (:func:`srlib.video.panels.compose`): the method, and with HR the crop's PSNR / SSIM
        (:func:`srlib.evaluate.score`) and the frame number.
      crop: (y, x, h, w) of the HR frame shown in the animation; default a centred window of
        ``ANIMATION_SIDE`` pixels at most each way.
      animation_frames: the first frames shown in the animation (None: all; a GIF keeps them in memory).
      animation_fps: its frame rate (default: the output's).
      max_frames: stop after this many frames.
      fps: output frame rate (default: the source's).
      crf, preset: x264 settings, see :class:`srlib.videoio.VideoWriter`.
      queue_size: frames between decoder and network.
      warmup: network batches left out of the latency percentiles.

    Returns:
      dict: ``frames``; ``wall_s`` and ``fps`` (after compiling); ``steady_fps``: the frames after the first over
      the seconds after it was encoded (the pipeline's start-up left out); ``compile_s``;
      ``latency_ms`` {'p50', 'p95'} of network time per frame; ``stages_s``
      {decode, colour, network, encode, and degrade/metrics/compare when used}:
      busy seconds of each stage (they overlap, so they add up to more than
      ``wall_s``); ``input_size`` / ``output_size`` (w, h); ``max_in_flight`` and
      ``in_flight_bound`` frames; ``note``: '' or what the output lost (a 10-bit source is written as
      8 bits); with ``degrade_scale`` also ``psnr``, ``ssim``
      (per frame) and ``psnr_mean``, ``ssim_mean``.

    Raises:
      VideoError for unreadable input or unwritable output; whatever the
      upscaler raises. Nothing is left under ``dst`` (or ``compare``, ``animation``) then.
    """
    src = Path(src)
    info = probe(src)
    animation = [animation] if isinstance(animation, (str, Path)) else list(animation or [])
    for out in (dst, compare, *animation):
        if out is not None and Path(out).resolve() == src.resolve():
            raise VideoError(f"{out}: refusing to overwrite the input")
    if isinstance(upscaler, ModelUpscaler) and upscaler.channels == 1:
        upscaler = FastLuma(upscaler.model, upscaler.scale, name=upscaler.name)
    s = upscaler.scale
    if degrade_scale is not None and degrade_scale != s:
        raise ValueError(f"degrade_scale {degrade_scale} differs from the upscaler's scale {s}")
    fast = isinstance(upscaler, FastLuma)
    batch = batch if fast else 1
    panels = compare is not None or bool(animation)
    quality = (degrade_scale is not None or panels) if quality is None else quality
    w, h = info.size
    lr_w, lr_h = (w // s, h // s) if degrade_scale else (w, h)
    out_fps = fps or info.fps or FOLDER_FPS
    if animation:
        hr_w, hr_h = lr_w * s, lr_h * s
        ch, cw = min(ANIMATION_SIDE, hr_h), min(ANIMATION_SIDE, hr_w)
        crop = tuple(crop) if crop is not None else ((hr_h - ch) // 2, (hr_w - cw) // 2, ch, cw)
        y, x, ch, cw = crop
        if y < 0 or x < 0 or ch < 1 or cw < 1 or y + ch > hr_h or x + cw > hr_w:
            raise ValueError(f"{src}: crop {crop} (y, x, h, w) is not inside the {hr_w}x{hr_h} output frame")
        names = [f"bicubic x{s}", getattr(upscaler, "name", type(upscaler).__name__)]
        animation = Animation(animation, crop, animation_frames, names, s, animation_fps or out_fps, crf)
    total = min(n for n in (info.n_frames, max_frames) if n is not None) if info.n_frames or max_frames else None
    audio = src if src.is_file() else None
    # Fastest path: the decoder's own I420 planes in, I420 planes out, no RGB image at all.
    i420 = fast and not (quality or panels or degrade_scale) and src.is_file() and w % 2 == h % 2 == 0
    writers = (VideoWriter(dst, out_fps, crf, preset, audio, "rgb24" if quality or not fast else "yuv420p")
               if dst else None, VideoWriter(compare, out_fps, crf, preset, audio) if compare else None)
    compile_s = upscaler.compile(batch, lr_h, lr_w, quality, i420) if fast else 0.0

    pipe = Pipe(queue_size, batch)
    decode = _Decode(src, max_frames, "yuv420p" if i420 else "rgb24", degrade_scale)
    network = _Network(upscaler, batch, warmup)
    encode = _Encode(upscaler, quality, writers, s, degrade_scale is not None, animation or None, total, progress)
    start = time.perf_counter()
    threads = [pipe.thread(lambda: decode(pipe), "srlib-decode"), pipe.thread(lambda: encode(pipe), "srlib-encode")]
    try:
        network(pipe)
    except BaseException as e:
        pipe.fail(e)
    for t in threads:
        t.join()
    if pipe.error is not None:
        raise pipe.error
    if animation:
        animation.write_gifs()
    end = time.perf_counter()
    wall, after_first = end - start, end - (pipe.first_out or end)
    lat = network.latency_ms
    stats = {
        "upscaler": getattr(upscaler, "name", type(upscaler).__name__),
        "frames": pipe.done, "wall_s": wall, "fps": pipe.done / wall, "compile_s": compile_s,
        "steady_fps": (pipe.done - 1) / after_first if pipe.done > 1 and after_first > 0 else pipe.done / wall,
        "latency_ms": {q: float(np.percentile(lat, int(q[1:]))) for q in ("p50", "p95")} if lat else None,
        "stages_s": dict(pipe.seconds), "input_size": (lr_w, lr_h), "output_size": (lr_w * s, lr_h * s),
        "max_in_flight": pipe.peak, "in_flight_bound": pipe.bound,
        "note": f"{info.bits}-bit video written as 8-bit H.264" if info.bits > 8 else "",
    }
    if degrade_scale:
        sc = encode.scores
        stats.update(sc, psnr_mean=float(np.mean(sc["psnr"])), ssim_mean=float(np.mean(sc["ssim"])))
    return stats
