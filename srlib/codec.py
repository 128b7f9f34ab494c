"""Lossy compression as image and video files get it: JPEG (PIL's to the bit) and H.264 (libx264 through the ffmpeg
that imageio-ffmpeg ships).

Float images in [0, 1], HWC or NHWC, rounded to uint8 levels first; :func:`jpeg` is TF ops (graph-safe),
:func:`h264` runs ffmpeg on numpy arrays (out of graph). The registry entries built on them are :mod:`srlib.degrade`.
"""

import functools
import subprocess

import imageio_ffmpeg
import numpy as np
import tensorflow as tf

from srlib.io import quantize
from srlib.resize import as_batch


def jpeg(image, quality=75):
    """JPEG round trip of HWC or NHWC in [0, 1], 1 or 3 channels, at ``quality`` (1..100; one number, or one per
    image, shape (N,)).

    Rounded to uint8 levels, encoded by libjpeg as PIL encodes (the standard tables scaled by quality, 4:2:0
    chroma) and decoded with the accurate integer DCT: it equals PIL's ``save(quality=q)`` then ``open``, to the
    bit. Returns uint8 levels in the input's float dtype.
    """
    if isinstance(quality, (int, float)) and not 1 <= quality <= 100:
        raise ValueError(f"jpeg: quality {quality} outside 1..100")
    x, squeeze = as_batch(image)
    u8 = quantize(tf.cast(x, tf.float32), uint8=True)
    q = tf.broadcast_to(tf.cast(quality, tf.int32), tf.shape(u8)[:1])
    channels = x.shape[-1] or 0

    def one(args):
        code = tf.raw_ops.EncodeJpegVariableQuality(images=args[0], quality=args[1])
        return tf.io.decode_jpeg(code, channels=channels, dct_method="INTEGER_ACCURATE")

    y = tf.reshape(tf.map_fn(one, (u8, q), fn_output_signature=tf.uint8), tf.shape(u8))
    y = tf.cast(y, x.dtype) / 255.0
    return y[0] if squeeze else y


H264 = ("-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p", "-threads", "1",
        "-colorspace", "smpte170m", "-color_range", "tv")  # the codec of the H.264 entries
H264_FPS = 25  # frame rate a clip is encoded at (x264's rate control reads it)


def _ffmpeg(args, data, what):
    """stdout of the ffmpeg that imageio-ffmpeg ships, run with ``args`` on ``data``; one-line RuntimeError."""
    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", *args], input=data, capture_output=True)
    if done.returncode or not done.stdout:
        lines = done.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {done.returncode}"]
        raise RuntimeError(f"ffmpeg ({what}): {lines[-1]}")
    return done.stdout


def h264_stream(frames, crf=28):
    """The H.264 stream (Annex B bytes) of uint8 RGB frames (N, H, W, 3), H and W even: libx264, preset medium,
    yuv420p (ffmpeg's BT.601 studio-range conversion), one thread, ``crf``, one clip at :data:`H264_FPS`.
    Deterministic: the same frames give the same bytes."""
    n, h, w, _ = frames.shape
    return _ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(H264_FPS), "-i", "-",
                    *H264, "-crf", str(int(crf)), "-f", "h264", "-"], np.ascontiguousarray(frames).tobytes(),
                   f"libx264 crf {crf}")


@functools.lru_cache(maxsize=256)  # BSD100 at x3: about 100 kB an entry, the 110 images of a study fit
def _h264_roundtrip(data, shape, crf):
    """uint8 RGB frames of ``shape`` (bytes) -> encoded at ``crf`` and decoded (bytes); cached in this process."""
    stream = h264_stream(np.frombuffer(data, np.uint8).reshape(shape), crf)
    return _ffmpeg(["-threads", "1", "-f", "h264", "-i", "-", "-sws_flags", "accurate_rnd+full_chroma_int",
                    "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], stream, "h264 decode")


def h264(image, crf=28, clip=False):
    """H.264 round trip (:func:`h264_stream`, then decoded to RGB as :func:`srlib.videoio.read_frames` decodes) of a
    float image (H, W, C) or images (N, H, W, C) in [0, 1], C = 1 or 3, numpy; uint8 levels as float32 out.

    Each image is one intra frame at ``crf`` (a number, or one per image), unless ``clip``: then the N images are
    the frames of one video, in order, encoded as one stream (P and B frames) at one ``crf``. Rounded to uint8
    first; an odd side is padded by repeating its last row / column (4:2:0 needs even sides) and cropped back
    after; one channel is encoded as grey RGB. An input met again in this process (one of the last 256) is not
    encoded again.
    """
    x = np.asarray(quantize(image, uint8=True))
    batch = x if x.ndim == 4 else x[None]
    n, h, w, c = batch.shape
    rgb = np.pad(np.repeat(batch, 3, axis=-1) if c == 1 else batch, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)),
                 mode="edge")
    groups = [rgb] if clip else [f[None] for f in rgb]
    crfs = np.broadcast_to(np.asarray(crf).ravel(), (len(groups),)) if np.ndim(crf) else [crf] * len(groups)
    out = np.concatenate([np.frombuffer(_h264_roundtrip(g.tobytes(), g.shape, int(q)), np.uint8).reshape(g.shape)
                          for g, q in zip(groups, crfs, strict=True)])[:, :h, :w, :c]
    out = out.astype(np.float32) / np.float32(255)
    return out if x.ndim == 4 else out[0]
