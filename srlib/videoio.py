"""Video containers: probe, decode and encode one frame at a time (ffmpeg through a pipe, via imageio-ffmpeg).

Frames cross this module's boundary as uint8 RGB arrays (H, W, 3), the video analogue
of :mod:`srlib.io`'s files, or as I420 planes (H * 3 // 2, W) where asked:
:func:`read_frames` and :func:`frame_folder` decode one frame at a time and
:class:`VideoWriter` encodes one at a time, so nothing ever holds a whole video.

Colour: frames are decoded to RGB and encoded from RGB or I420 with the BT.601
studio-range matrix (MATLAB ``rgb2ycbcr``, ffmpeg's default), and the output is
tagged so (``smpte170m``, ``tv`` range).

Failures raise :class:`VideoError`, whose message is one line: ``"<path>: <reason>"``.
"""

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from srlib.io import ImageError, list_images, load_image

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
WRITE_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")  # containers that take H.264
FOLDER_FPS = 25.0  # frame rate assumed for a folder of frames
_AUDIO_COPY = ("aac", "mp3", "ac3")  # audio codecs copied as they are; others are re-encoded to AAC
# imageio-ffmpeg warns when ffmpeg turns a video by its rotation metadata; turning it is what viewers do, and wanted.
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)


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
      bits: bits per sample of the decoded pixel format (8; 10 for 'yuv420p10le'); frames are read as 8 bits.

    A video with rotation metadata is described, and decoded, as viewers show it (ffmpeg turns it).
    """

    fps: float
    size: tuple
    n_frames: int | None
    has_audio: bool
    codec: str | None
    audio_codec: str | None = None
    bits: int = 8


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
    depth = re.search(r"p(\d+)(le|be)", meta.get("pix_fmt") or "")
    return VideoInfo(meta["fps"] or None, tuple(meta["size"]), n, audio is not None, meta.get("codec"), audio,
                     int(depth.group(1)) if depth else 8)


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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a video gets the same permissions as an image
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
