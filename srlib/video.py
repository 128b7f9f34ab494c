"""Streaming video I/O and frame-by-frame upscaling.

Frames cross this module's boundary as uint8 RGB arrays (H, W, 3), the video
analogue of :mod:`srlib.io`'s files: :func:`read_frames` and
:func:`frame_folder` decode one frame at a time (ffmpeg through a pipe, via
imageio-ffmpeg) and :class:`VideoWriter` encodes one at a time, so nothing
ever holds a whole video.

:func:`upscale_video` runs decode -> upscale -> encode as three threads joined
by bounded queues; memory depends on the queue size and the batch, never on
the length of the video. Any upscaler works (a callable on float32 (H, W, 3)
frames in [0, 1], see :mod:`srlib.infer`); luma models (one input channel,
e.g. ESPCN) take the compiled path of :class:`FastLuma`, which can skip the
HR RGB image altogether and hand the encoder 4:2:0 planes.

Colour: frames are decoded to RGB and encoded from RGB or YCbCr with the
BT.601 studio-range matrix (MATLAB ``rgb2ycbcr``, ffmpeg's default), and the
output is tagged so (``smpte170m``, ``tv`` range). The fast path of a luma
model skips RGB: the decoder's Y plane is the model's input and its chroma
planes are resized (the values an RGB round trip would give, up to rounding).

Failures raise :class:`VideoError`, whose message is one line: ``"<path>: <reason>"``.
"""

import contextlib
import itertools
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from srlib import color
from srlib.degrade import bicubic_lr, imresize
from srlib.infer import Bicubic, ModelUpscaler
from srlib.io import ImageError, atomic_write, list_images, load_image, to_uint8
from srlib.lite import LiteNet
from srlib.metrics import psnr, ssim
from srlib.train import auto_precision

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
WRITE_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")  # containers that take H.264
FOLDER_FPS = 25.0  # frame rate assumed for a folder of frames
_AUDIO_COPY = ("aac", "mp3", "ac3")  # audio codecs copied as they are; others are re-encoded to AAC


class VideoError(ValueError):
    """A video that cannot be read or written; ``str(e)`` is ``"<path>: <reason>"``, one line."""


def _reason(err):
    """One line out of an imageio-ffmpeg error: 'no video stream' or ffmpeg's first complaint."""
    text = str(err)
    log = text.split("=== stderr ===", 1)[-1]
    if "Input #" in log and " Video: " not in log:
        return "no video stream"
    complaints = [re.sub(r"^(\[[^]]*\]\s*)+", "", ln).strip() for ln in log.splitlines() if ln.startswith("[")]
    serious = [ln for ln in complaints if re.search(r"error|invalid|corrupt|not found|partial", ln, re.I)]
    lines = [ln for ln in serious + complaints + text.splitlines() if ln.strip()]
    return lines[0].strip() if lines else type(err).__name__


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg's header says about a video (nothing is decoded).

    Attributes:
      fps: frames per second (:data:`FOLDER_FPS` for a frame folder).
      size: (width, height) of the decoded frames.
      n_frames: duration x fps from the container, rounded: an estimate (the
        container's duration may include audio); exact for a frame folder;
        None when the container gives no duration.
      has_audio: whether there is an audio stream.
      codec: video codec name ('h264', ...; 'png' for a frame folder).
      audio_codec: codec of the first audio stream, or None.
    """

    fps: float
    size: tuple
    n_frames: int | None
    has_audio: bool
    codec: str | None
    audio_codec: str | None = None


def _folder_files(folder):
    try:
        return list_images(folder, recursive=False)
    except ImageError as e:
        raise VideoError(str(e)) from None


def _load_frame(path):
    """A frame file as uint8 (H, W, 3)."""
    try:
        return load_image(path, dtype=np.uint8)
    except ImageError as e:
        raise VideoError(str(e)) from None


def _open(path, pix_fmt="rgb24"):
    """(imageio-ffmpeg frame generator, its meta dict) for a video file; VideoError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if pix_fmt == "rgb24":  # exact YUV -> RGB rounding: swscale's default fast path is about 2 levels dark
        gen = imageio_ffmpeg.read_frames(str(path), output_params=["-sws_flags", "accurate_rnd+full_chroma_int"])
    else:
        gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="yuv420p", bits_per_pixel=12)
    try:
        return gen, next(gen)
    except Exception as e:  # ffmpeg cannot parse it: corrupt, truncated, no video stream
        gen.close()
        raise VideoError(f"{path}: not a readable video ({_reason(e)})") from None


def probe(path, fps=FOLDER_FPS):
    """:class:`VideoInfo` of a video file or a folder of frames (``fps`` is used for folders)."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        h, w = _load_frame(files[0]).shape[:2]
        return VideoInfo(fps, (w, h), len(files), False, "png")
    gen, meta = _open(path)
    gen.close()
    n = round(meta["duration"] * meta["fps"]) if meta.get("duration") and meta.get("fps") else None
    audio = meta.get("audio_codec")
    return VideoInfo(meta["fps"] or None, tuple(meta["size"]), n, audio is not None, meta.get("codec"), audio)


def frame_folder(folder, max_frames=None):
    """Yield the image files of ``folder`` in name order as uint8 (H, W, 3) frames.

    Gray, 16-bit and alpha files are handled as :func:`srlib.io.load_image` does.
    Raises VideoError for an empty folder, an unreadable file or a frame whose
    size differs from the first one's.
    """
    first = None
    for f in _folder_files(folder)[:max_frames]:
        frame = _load_frame(f)
        if first is None:
            first = frame.shape
        elif frame.shape != first:
            raise VideoError(f"{f}: frame is {frame.shape[1]}x{frame.shape[0]}, the first one {first[1]}x{first[0]}")
        yield frame


def read_frames(path, max_frames=None, pix_fmt="rgb24"):
    """Yield the frames of a video file (or a frame folder) one at a time.

    ``pix_fmt='rgb24'``: uint8 (H, W, 3) RGB. ``'yuv420p'`` (video files of even
    width and height only): uint8 (H * 3 // 2, W) I420 planes as decoded, no
    colour conversion (the layout :class:`VideoWriter` takes).
    Streams: one frame is in memory at a time. Errors surface on the first
    ``next``: VideoError for a missing, corrupt or zero-frame file.
    """
    path = Path(path)
    if pix_fmt not in ("rgb24", "yuv420p"):
        raise ValueError(f"pix_fmt must be 'rgb24' or 'yuv420p', not {pix_fmt!r}")
    if path.is_dir():
        if pix_fmt != "rgb24":
            raise ValueError(f"{path}: frame folders are read as rgb24 only")
        yield from frame_folder(path, max_frames)
        return
    gen, meta = _open(path, pix_fmt)
    w, h = meta["size"]
    shape = (h, w, 3) if pix_fmt == "rgb24" else (h * 3 // 2, w)
    if pix_fmt == "yuv420p" and (w % 2 or h % 2):
        gen.close()
        raise ValueError(f"{path}: {w}x{h} has an odd side; read it as rgb24")
    n = 0
    try:
        while max_frames is None or n < max_frames:
            try:
                buf = next(gen)
            except StopIteration:
                break
            except Exception as e:
                raise VideoError(f"{path}: frame {n + 1} unreadable ({_reason(e)})") from None
            yield np.frombuffer(buf, np.uint8).reshape(shape)
            n += 1
    finally:
        gen.close()
    if n == 0:
        raise VideoError(f"{path}: no frames")


def frames_dataset(path, max_frames=None):
    """``tf.data.Dataset`` of a video's frames, float32 (H, W, 3) in [0, 1], decoded lazily.

    A frame source for :mod:`srlib.data` (a folder of frames works too).
    """
    w, h = probe(path).size
    frames = lambda: (f.astype(np.float32) / 255.0 for f in read_frames(path, max_frames))
    return tf.data.Dataset.from_generator(frames, output_signature=tf.TensorSpec((h, w, 3), tf.float32))


class VideoWriter:
    """H.264 (libx264, yuv420p) writer, used as a context manager.

    Args:
      path: output file, one of :data:`WRITE_SUFFIXES`. Missing parent folders are created.
      fps: frame rate.
      crf: x264 constant rate factor (0 lossless, 18 about visually lossless, 23 x264's default).
      preset: x264 preset: 'ultrafast' (fastest, larger files) ... 'medium' (x264's default).
      audio_from: a file whose first audio stream is muxed in (copied when it is
        AAC/MP3/AC-3, else re-encoded to AAC; cut to the video's length); a file
        without audio is fine and gives a silent video.
      pix_fmt: what :meth:`write` takes: 'rgb24', uint8 (H, W, 3); or 'yuv420p',
        uint8 (H * 3 // 2, W) I420 planes (Y, then U, then V at half size; BT.601
        studio range; H and W even), the layout of ``cv2.COLOR_RGB2YUV_I420``.

    Odd sizes: 4:2:0 needs even sides, so an odd RGB frame is padded by repeating
    its last row and/or column: the video is (W + W % 2) x (H + H % 2), no pixel
    is lost and nothing is rescaled.

    Atomic: frames go to a hidden temporary file beside ``path``, renamed to
    ``path`` when the ``with`` block ends without an exception; otherwise (or
    when no frame was written) the temporary file is deleted and ``path`` is
    left as it was.

    Example:
      with VideoWriter("out.mp4", fps=25, audio_from="in.mp4") as w:
          for frame in read_frames("in.mp4"):
              w.write(frame)
    """

    def __init__(self, path, fps, crf=18, preset="ultrafast", audio_from=None, pix_fmt="rgb24"):
        self.path = Path(path)
        if self.path.suffix.lower() not in WRITE_SUFFIXES:
            raise VideoError(f"{self.path}: H.264 output needs a {'/'.join(WRITE_SUFFIXES)} file")
        if pix_fmt not in ("rgb24", "yuv420p"):
            raise ValueError(f"pix_fmt must be 'rgb24' or 'yuv420p', not {pix_fmt!r}")
        self.fps, self.crf, self.preset, self.pix_fmt = float(fps), crf, preset, pix_fmt
        self.audio = None
        if audio_from is not None:
            info = probe(audio_from)
            if info.has_audio:
                self.audio = (str(audio_from), "copy" if info.audio_codec in _AUDIO_COPY else "aac")
        self.size, self.frames = None, 0  # (w, h) of the video, frames written
        self._gen = self._tmp = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        return self

    def _start(self, size):
        params = ["-preset", self.preset, "-crf", str(self.crf), "-colorspace", "smpte170m", "-color_range", "tv"]
        audio = {}
        if self.audio:
            audio = {"audio_path": self.audio[0], "audio_codec": self.audio[1]}
            params.append("-shortest")
        self._gen = imageio_ffmpeg.write_frames(
            str(self._tmp), size, pix_fmt_in=self.pix_fmt, fps=self.fps, codec="libx264", quality=None,
            macro_block_size=1, ffmpeg_log_level="error", output_params=params, **audio,
        )
        self._gen.send(None)
        self.size = size

    def write(self, frame):
        """Append one frame (see ``pix_fmt``)."""
        if self._tmp is None:
            raise RuntimeError("use VideoWriter in a with block")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise TypeError(f"frames must be uint8, not {frame.dtype}")
        if self.pix_fmt == "rgb24":
            h, w = frame.shape[:2]
            if h % 2 or w % 2:
                frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            size = (frame.shape[1], frame.shape[0])
        else:
            size = (frame.shape[1], frame.shape[0] * 2 // 3)
            if frame.ndim != 2 or frame.shape[0] % 3 or size[0] % 2 or size[1] % 2:
                raise ValueError(f"I420 frames are (H * 3 // 2, W) with H, W even, not {frame.shape}")
        if self._gen is None:
            self._start(size)
        elif size != self.size:
            raise VideoError(f"{self.path}: frame {self.frames + 1} is {size[0]}x{size[1]}, the video {self.size}")
        self._gen.send(np.ascontiguousarray(frame))
        self.frames += 1

    def __exit__(self, exc_type, exc, tb):
        done = False
        try:
            if self._gen is not None:
                self._gen.close()  # ffmpeg flushes and exits
            if exc_type is None:
                if self.frames == 0:
                    raise VideoError(f"{self.path}: no frames written")
                if self._tmp.stat().st_size == 0:
                    raise VideoError(f"{self.path}: ffmpeg wrote nothing")
                os.replace(self._tmp, self.path)
                done = True
        finally:
            if not done:
                self._tmp.unlink(missing_ok=True)
            self._tmp = None


PRECISIONS = {  # name: (dtype policy of the body, of the last weighted layer and what follows it)
    "float32": ("float32", "float32"),
    "mixed_bfloat16": ("mixed_bfloat16", "float32"),
    "bfloat16": ("mixed_bfloat16", "mixed_bfloat16"),
}


def with_precision(model, precision):
    """Copy of ``model`` with the same weights, computing at ``precision`` (a key of :data:`PRECISIONS`).

    'float32': every layer float32 (whatever policy the model was saved with).
    'mixed_bfloat16': layers before the last one with weights compute in bfloat16
    (float32 variables), that layer and those after it in float32 -- the output
    keeps float32 resolution, as :func:`srlib.models.espcn.espcn` intends.
    'bfloat16': every layer in bfloat16; the output is rounded to 8 significant
    bits, up to half a uint8 level near white.
    """
    body, head = PRECISIONS[precision]
    last = max(i for i, layer in enumerate(model.layers) if layer.weights)
    policy = {layer.name: body if i < last else head for i, layer in enumerate(model.layers)}

    def clone(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": policy[layer.name]})

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _to_u8(x):
    return tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8)


def _lite_stages(model, n, h, w, s):
    """(split_i420, net, merge_i420) of :class:`FastLuma` in NumPy and TFLite: no TensorFlow op per frame.

    Same contract as the TensorFlow stages; the network and the chroma resize run
    on XNNPACK (:class:`srlib.lite.LiteNet`), the rest is a few NumPy passes.
    """
    hs, ws = h * s, w * s
    he, we = hs + hs % 2, ws + ws % 2
    lite = LiteNet(model, (n, h, w, 1))
    resizers = {}  # by CbCr shape: LR (RGB frames) or LR / 2 (I420 frames)

    def split_i420(planes):
        c = planes[:, h:].reshape(n, 2, h // 2, w // 2).transpose(0, 2, 3, 1)
        return planes[:, :h, :, None] * np.float32(1 / 255), c * np.float32(1 / 255)

    def merge_i420(y, cbcr):
        cbcr = np.asarray(cbcr, np.float32)
        if cbcr.shape not in resizers:  # CbCr in [0, 1] -> 255 * bilinear + 0.5, planar (n, 2, he / 2, we / 2)
            inp = keras.Input(cbcr.shape[1:], batch_size=n)
            x = keras.layers.Resizing(he // 2, we // 2, interpolation="bilinear")(inp)  # centre-sited chroma
            x = keras.layers.Permute((3, 1, 2))(keras.layers.Rescaling(255.0, offset=0.5)(x))
            resizers[cbcr.shape] = LiteNet(keras.Model(inp, x), cbcr.shape)
        out = np.empty((n, he * 3 // 2, we), np.uint8)
        y = np.asarray(y)[..., 0] * np.float32(255)
        y += np.float32(0.5)
        out[:, :hs, :ws] = np.clip(y, 0, 255, out=y)  # float -> uint8 truncates: with the 0.5, rounding
        if (he, we) != (hs, ws):  # an odd side: repeat the last row / column, as VideoWriter does
            out[:, hs:he, :ws] = out[:, hs - 1 : hs, :ws]
            out[:, :he, ws:we] = out[:, :he, ws - 1 : ws]
        out[:, he:] = resizers[cbcr.shape](cbcr).reshape(n, he // 2, we)  # in [0.5, 255.5]: no clipping needed
        return out

    return split_i420, lite, merge_i420


class FastLuma:
    """Compiled path for luma models on batches of uint8 frames.

    Three stages, each built once per frame shape: :meth:`split` (RGB or I420
    frames -> Y, CbCr at LR), :meth:`net` (the model on Y) and :meth:`merge`
    (SR Y + CbCr -> output frames), all taking and returning NumPy arrays. They are
    ``tf.function``s with a fixed input signature; with runtime 'tflite' the
    network and the I420 stages are :class:`srlib.lite.LiteNet` graphs and NumPy
    (:func:`_lite_stages`), so no TensorFlow op runs per frame.

    Args:
      model: Keras luma model, (N, h, w, 1) -> (N, h * s, w * s, 1) in [0, 1].
      scale: its factor s.
      precision: 'float32', 'mixed_bfloat16' or 'bfloat16', see :func:`with_precision`
        (the model is cloned with its weights; the policy it was saved with is ignored);
        'auto': 'mixed_bfloat16' where bfloat16 is native (:func:`srlib.train.auto_precision`),
        else 'float32' (emulated bfloat16 is slower than float32).
      jit_compile: compile the network with XLA (runtime 'tensorflow' only).
      name: label for tables.
      runtime: 'tensorflow', or 'tflite' (float32 only: the XNNPACK CPU kernels of
        :class:`srlib.lite.LiteNet`, same output, about 1.4x faster on an AVX2 CPU);
        'auto': 'tflite' for float32 without XLA on a machine with no GPU, else 'tensorflow'.
    """

    def __init__(self, model, scale, precision="float32", jit_compile=False, name=None, runtime="auto"):
        if model.input_shape[-1] != 1:
            raise ValueError(f"{model.name}: FastLuma needs a 1-channel (Y) model")
        if precision == "auto":
            precision = "mixed_bfloat16" if auto_precision() == "bf16" else "float32"
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        if runtime == "auto":
            cpu_only = not tf.config.list_physical_devices("GPU")
            runtime = "tflite" if precision == "float32" and not jit_compile and cpu_only else "tensorflow"
        if runtime not in ("tensorflow", "tflite"):
            raise ValueError(f"runtime must be 'tensorflow', 'tflite' or 'auto', not {runtime!r}")
        if runtime == "tflite" and (precision != "float32" or jit_compile):
            raise ValueError("runtime 'tflite' runs float32 without XLA only")
        self.model = with_precision(model, precision)
        self.scale, self.precision, self.jit_compile, self.runtime = scale, precision, jit_compile, runtime
        tag = " xla" if jit_compile else " tflite" if runtime == "tflite" else ""
        self.name = name or f"{model.name} {precision}{tag}"
        self._fns = {}

    def _functions(self, n, h, w):
        """(split_rgb, split_i420, net, merge_rgb, merge_i420) for batches of n frames of h x w."""
        if (n, h, w) in self._fns:
            return self._fns[n, h, w]
        s, model = self.scale, self.model
        hs, ws = h * s, w * s
        he, we = hs + hs % 2, ws + ws % 2  # 4:2:0 grid: odd sides padded like VideoWriter

        @tf.function(input_signature=[tf.TensorSpec((n, h, w, 3), tf.uint8)])
        def split_rgb(rgb):
            ycc = color.rgb_to_ycbcr(tf.cast(rgb, tf.float32) / 255.0)
            return ycc[..., :1], ycc[..., 1:]

        @tf.function(input_signature=[tf.TensorSpec((n, hs, ws, 1), tf.float32), tf.TensorSpec((n, h, w, 2))])
        def merge_rgb(y, cbcr):
            cbcr = tf.cast(imresize(cbcr, scale=s), tf.float32)  # MATLAB bicubic, as ModelUpscaler
            return _to_u8(color.ycbcr_to_rgb(tf.concat([y, cbcr], axis=-1)))

        if self.runtime == "tflite":
            split_i420, net, merge_i420 = _lite_stages(model, n, h, w, s)
        else:
            @tf.function(input_signature=[tf.TensorSpec((n, h * 3 // 2, w), tf.uint8)])
            def split_i420(planes):
                c = tf.transpose(tf.reshape(planes[:, h:], (n, 2, h // 2, w // 2)), [0, 2, 3, 1])
                return tf.cast(planes[:, :h, :, None], tf.float32) / 255.0, tf.cast(c, tf.float32) / 255.0

            @tf.function(input_signature=[tf.TensorSpec((n, h, w, 1), tf.float32)], jit_compile=self.jit_compile)
            def net(y):
                return tf.cast(model(y, training=False), tf.float32)

            @tf.function(input_signature=[tf.TensorSpec((n, hs, ws, 1), tf.float32), tf.TensorSpec((n, None, None, 2))])
            def merge_i420(y, cbcr):
                y8 = _to_u8(tf.pad(y, [[0, 0], [0, he - hs], [0, we - ws], [0, 0]], mode="SYMMETRIC"))
                c8 = _to_u8(tf.image.resize(cbcr, (he // 2, we // 2), method="bilinear"))  # centre-sited chroma
                planes = [tf.reshape(p, (n, -1)) for p in (y8, c8[..., 0], c8[..., 1])]
                return tf.reshape(tf.concat(planes, axis=1), (n, he * 3 // 2, we))

        self._fns[n, h, w] = (split_rgb, split_i420, net, merge_rgb, merge_i420)
        return self._fns[n, h, w]

    def compile(self, n, h, w, quality=False, i420=False):
        """Build and run every stage once on zeros for (n, h, w) frames; returns the seconds it took.

        ``i420``: the frames will come as I420 planes (see :meth:`split`).
        """
        t = time.perf_counter()
        frames = np.zeros((n, h * 3 // 2, w) if i420 else (n, h, w, 3), np.uint8)
        y, cbcr = self.split(frames)
        self.merge(self.net(y), cbcr, quality)
        return time.perf_counter() - t

    def split(self, frames):
        """Frames -> (Y (N, h, w, 1), CbCr), float32 arrays in [0, 1].

        ``frames``: uint8 RGB (N, h, w, 3), CbCr then (N, h, w, 2); or uint8 I420
        planes (N, h * 3 // 2, w) (:func:`read_frames` with ``pix_fmt='yuv420p'``),
        CbCr then (N, h / 2, w / 2, 2) as decoded, with no colour conversion.
        """
        if frames.ndim == 4:
            y, cbcr = self._functions(*frames.shape[:3])[0](frames)
        else:
            n, h32, w = frames.shape
            y, cbcr = self._functions(n, h32 * 2 // 3, w)[1](frames)
        return np.asarray(y), np.asarray(cbcr)

    def net(self, y):
        """Y (N, h, w, 1) -> SR Y (N, h * s, w * s, 1), float32 array, not clipped."""
        return np.asarray(self._functions(*y.shape[:3])[2](y))

    def merge(self, y, cbcr, quality=False):
        """SR Y (N, H, W, 1) and LR CbCr from :meth:`split` -> uint8 output frames.

        ``quality=True`` (CbCr from RGB frames only): CbCr upscaled by MATLAB bicubic
        (:func:`srlib.degrade.imresize`), returns RGB (N, H, W, 3) -- the same image
        as :class:`srlib.infer.ModelUpscaler`.
        ``quality=False``: CbCr resized bilinearly straight onto the 4:2:0 grid and
        returned with Y as I420 planes (N, H' * 3 // 2, W') for ``VideoWriter(pix_fmt='yuv420p')``,
        H', W' = H, W rounded up to even; no HR RGB image is formed.
        """
        n, hs, ws = y.shape[:3]
        return np.asarray(self._functions(n, hs // self.scale, ws // self.scale)[3 if quality else 4](y, cbcr))


class _Pipe:
    """Bounded queues between the stage threads, a shared stop flag and per-stage timers."""

    def __init__(self, queue_size, batch, out_batches=2):
        self.q_in = queue.Queue(queue_size)  # frames: reader -> network
        self.q_out = queue.Queue(out_batches)  # batches: network -> encoder
        # Frames alive at once: 1 held by the reader + q_in + 1 batch in the network
        # stage + q_out + 1 batch in the encoder.
        self.bound = 1 + queue_size + batch * (out_batches + 2)
        self.stop = threading.Event()
        self.error = None
        self.seconds = {}
        self.in_flight = self.peak = self.done = 0
        self._lock = threading.Lock()

    def fail(self, err):
        with self._lock:
            if self.error is None and not isinstance(err, _Stopped):
                self.error = err
        self.stop.set()

    def put(self, q, item):
        while not self.stop.is_set():
            try:
                return q.put(item, timeout=0.05)
            except queue.Full:
                pass
        raise _Stopped

    def get(self, q):
        while not self.stop.is_set():
            try:
                return q.get(timeout=0.05)
            except queue.Empty:
                pass
        raise _Stopped

    def enter(self):
        """A frame was decoded."""
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def leave(self):
        """A frame was encoded (or scored)."""
        with self._lock:
            self.in_flight -= 1
            self.done += 1

    def add(self, stage, seconds):
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextlib.contextmanager
    def timed(self, stage):
        t = time.perf_counter()
        yield
        self.add(stage, time.perf_counter() - t)

    def thread(self, target, name):
        def run():
            try:
                target()
            except BaseException as e:  # handed to the caller's thread
                self.fail(e)

        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        return t


class _Stopped(Exception):
    """Raised in a stage thread when another stage failed."""


_END = object()


def _side_by_side(panels):
    """uint8 (H, W, 3) panels of one height -> one (H, sum W, 3) frame."""
    return np.concatenate(panels, axis=1)


def _thumbnail(frame, width):
    """uint8 (H, W, 3) -> uint8 (round(H * width / W), width, 3), area-averaged."""
    h, w = frame.shape[:2]
    size = (max(1, round(h * width / w)), width)
    return tf.cast(tf.round(tf.image.resize(frame, size, method="area")), tf.uint8).numpy()


def upscale_video(
    src, dst, upscaler, batch=1, degrade_scale=None, compare=None, progress=True, *,
    quality=None, gif=None, gif_frames=30, gif_width=480, max_frames=None, fps=None,
    crf=18, preset="ultrafast", queue_size=8, warmup=1,
):
    """Upscale a video file or frame folder, frame by frame, to an H.264 file.

    Decode, network and encode run in three threads joined by bounded queues,
    so memory stays flat however long the video is (``stats['in_flight_bound']``
    frames at most). Audio is copied from ``src`` when it has some.

    Args:
      src: video file (any ffmpeg-readable container) or folder of frame images.
      dst: output file (see :class:`VideoWriter`), or None to only measure.
      upscaler: float32 (h, w, 3) -> (h * s, w * s, 3) callable with a ``scale``
        (:mod:`srlib.infer`), or a :class:`FastLuma`. A luma ``ModelUpscaler`` is
        turned into a float32 :class:`FastLuma`.
      batch: frames per network call (FastLuma only; others run frame by frame).
      degrade_scale: if set (must equal the upscaler's scale), ``src`` is HR: each
        frame is mod-cropped, made LR by :func:`srlib.degrade.bicubic_lr`, upscaled
        and scored against the HR frame (benchmark convention: Y channel, border = scale;
        SSIM is computed in float32, ~10x faster than float64 and within 1e-6 of it).
      compare: path of a side-by-side video, bicubic | SR | HR (HR with ``degrade_scale`` only).
      progress: show a progress bar.
      quality: exact colour for FastLuma: CbCr by MATLAB bicubic, RGB to the encoder.
        Default: on when scoring or comparing, else off (bilinear CbCr, 4:2:0 planes
        to the encoder; a video file of even size is then decoded to I420 planes
        too, so no RGB image is made at either end).
      gif: path of a GIF of the first ``gif_frames`` comparison frames, ``gif_width`` wide.
      max_frames: stop after this many frames.
      fps: output frame rate (default: the source's).
      crf, preset: x264 settings, see :class:`VideoWriter`.
      queue_size: frames between decoder and network.
      warmup: network batches left out of the latency percentiles.

    Returns:
      dict: ``frames``; ``wall_s`` and ``fps`` (after compiling); ``compile_s``;
      ``latency_ms`` {'p50', 'p95'} of network time per frame; ``stages_s``
      {decode, colour, network, encode, and degrade/metrics/compare when used}:
      busy seconds of each stage (they overlap, so they add up to more than
      ``wall_s``); ``input_size`` / ``output_size`` (w, h); ``max_in_flight`` and
      ``in_flight_bound`` frames; with ``degrade_scale`` also ``psnr``, ``ssim``
      (per frame) and ``psnr_mean``, ``ssim_mean``.

    Raises:
      VideoError for unreadable input or unwritable output; whatever the
      upscaler raises. Nothing is left under ``dst`` (or ``compare``, ``gif``) then.
    """
    src = Path(src)
    info = probe(src)
    for out in (dst, compare, gif):
        if out is not None and Path(out).resolve() == src.resolve():
            raise VideoError(f"{out}: refusing to overwrite the input")
    if isinstance(upscaler, ModelUpscaler) and upscaler.channels == 1:
        upscaler = FastLuma(upscaler.model, upscaler.scale, name=upscaler.name)
    s = upscaler.scale
    if degrade_scale is not None and degrade_scale != s:
        raise ValueError(f"degrade_scale {degrade_scale} differs from the upscaler's scale {s}")
    fast = isinstance(upscaler, FastLuma)
    batch = batch if fast else 1
    panels = compare is not None or gif is not None
    quality = (degrade_scale is not None or panels) if quality is None else quality
    w, h = info.size
    lr_h, lr_w = (h // s, w // s) if degrade_scale else (h, w)
    out_fps = fps or info.fps or FOLDER_FPS
    total = min(n for n in (info.n_frames, max_frames) if n is not None) if info.n_frames or max_frames else None
    audio = src if src.is_file() else None
    pix_fmt = "rgb24" if quality or not fast else "yuv420p"
    video = VideoWriter(dst, out_fps, crf, preset, audio, pix_fmt) if dst else None
    side = VideoWriter(compare, out_fps, crf, preset, audio) if compare else None
    # Fastest path: the decoder's own I420 planes in, I420 planes out, no RGB image at all.
    i420 = fast and not (quality or panels or degrade_scale) and src.is_file() and w % 2 == h % 2 == 0
    compile_s = upscaler.compile(batch, lr_h, lr_w, quality, i420) if fast else 0.0
    bicubic = Bicubic(s) if panels else None

    pipe = _Pipe(queue_size, batch)
    latency, scores, thumbs = [], {"psnr": [], "ssim": []}, []

    def decode():
        frames = read_frames(src, max_frames, "yuv420p" if i420 else "rgb24")
        try:
            while True:
                with pipe.timed("decode"):
                    frame = next(frames, None)
                if frame is None:
                    break
                hr = None
                if degrade_scale:
                    with pipe.timed("degrade"):
                        hr = frame[: frame.shape[0] - frame.shape[0] % s, : frame.shape[1] - frame.shape[1] % s]
                        frame = to_uint8(bicubic_lr(hr.astype(np.float32) / 255.0, s).numpy())
                pipe.enter()
                pipe.put(pipe.q_in, (frame, hr))
            pipe.put(pipe.q_in, _END)
        finally:
            frames.close()

    def encode():
        with contextlib.ExitStack() as stack:
            for writer in (video, side):
                if writer is not None:
                    stack.enter_context(writer)  # deletes its temporary file on any exception
            bar = stack.enter_context(tqdm(total=total, unit="frame", disable=not progress, leave=False))
            while (item := pipe.get(pipe.q_out)) is not _END:
                items, out = item
                with pipe.timed("colour"):
                    frames = upscaler.merge(*out, quality) if fast else to_uint8(out)
                for (lr, hr), frame in zip(items, frames[: len(items)], strict=True):  # drop batch padding
                    if degrade_scale:
                        with pipe.timed("metrics"):
                            sr, ref = frame.astype(np.float32) / 255.0, hr.astype(np.float32) / 255.0
                            scores["psnr"].append(float(psnr(sr, ref, crop_border=s)))
                            scores["ssim"].append(float(ssim(sr, ref, crop_border=s, dtype=tf.float32)))
                    if video is not None:
                        with pipe.timed("encode"):
                            video.write(frame)
                    if panels:
                        with pipe.timed("compare"):
                            row = [to_uint8(bicubic(lr.astype(np.float32) / 255.0)), frame]
                            row = _side_by_side(row + ([hr] if hr is not None else []))
                            if side is not None:
                                side.write(row)
                            if gif is not None and len(thumbs) < gif_frames:
                                thumbs.append(_thumbnail(row, gif_width))
                    pipe.leave()
                    bar.update(1)

    def network():  # in the caller's thread
        for n_batch in itertools.count():
            items = []
            while len(items) < batch and (item := pipe.get(pipe.q_in)) is not _END:
                items.append(item)
            if items:
                k = len(items)
                if fast:
                    lrs = np.stack([lr for lr, _ in items] + [items[-1][0]] * (batch - k))  # RGB or I420 frames
                    with pipe.timed("colour"):
                        y, cbcr = upscaler.split(lrs)
                    t = time.perf_counter()
                    out = (upscaler.net(y), cbcr)
                else:
                    with pipe.timed("colour"):
                        lr = items[0][0].astype(np.float32) / 255.0
                    t = time.perf_counter()
                    out = upscaler(lr)[None]
                dt = time.perf_counter() - t
                pipe.add("network", dt)
                if n_batch >= warmup:
                    latency.extend([1000.0 * dt / k] * k)
                pipe.put(pipe.q_out, (items, out))
            if len(items) < batch:  # the decoder's end mark was reached
                pipe.put(pipe.q_out, _END)
                return

    start = time.perf_counter()
    threads = [pipe.thread(decode, "srlib-decode"), pipe.thread(encode, "srlib-encode")]
    try:
        network()
    except BaseException as e:
        pipe.fail(e)
    for t in threads:
        t.join()
    if pipe.error is not None:
        raise pipe.error
    if gif is not None:
        atomic_write(gif, lambda tmp: iio.imwrite(tmp, np.stack(thumbs), duration=1000.0 / out_fps, loop=0))
    wall = time.perf_counter() - start
    stats = {
        "upscaler": getattr(upscaler, "name", type(upscaler).__name__),
        "frames": pipe.done,
        "wall_s": wall,
        "fps": pipe.done / wall,
        "compile_s": compile_s,
        "latency_ms": {q: float(np.percentile(latency, int(q[1:]))) for q in ("p50", "p95")} if latency else None,
        "stages_s": dict(pipe.seconds),
        "input_size": (lr_w, lr_h),
        "output_size": (lr_w * s, lr_h * s),
        "max_in_flight": pipe.peak,
        "in_flight_bound": pipe.bound,
    }
    if degrade_scale:
        stats.update(scores, psnr_mean=float(np.mean(scores["psnr"])), ssim_mean=float(np.mean(scores["ssim"])))
    return stats
