"""Labelled side-by-side panels of a video and the comparison animation made of them.

:func:`compose` lays panels side by side at their native size, each under a label burned in with PIL (never
scaled, so the pixels are the network's); :class:`Animation` makes the bicubic | SR | HR animation of
:func:`srlib.video.pipeline.upscale_video` (``animation=...``) from a crop of every frame, with the crop's PSNR /
SSIM in the labels when there is an HR frame, written as H.264 files and GIFs.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw, ImageFont

from srlib.evaluate import score
from srlib.io import atomic_write
from srlib.videoio import VideoWriter

LABEL_HEIGHT = 20  # pixels of the label strip above the panels of compose()
PANEL_GAP = 4  # white pixels between two panels of compose()
ANIMATION_SIDE = 240  # side of the default animation window, HR pixels


def compose(panels, labels, font_size=13):
    """Panels side by side at their native size, each under its own label, burned into the pixels.

    Args:
      panels: uint8 (h, w_i, 3) arrays of one height h (nothing is resized).
      labels: one string per panel, black on a white strip above it (PIL's default font),
        cut at the panel's width so that it never runs into the next one.
      font_size: pixels.

    Returns:
      uint8 (LABEL_HEIGHT + h, sum(w_i) + PANEL_GAP * (n - 1), 3): the panels' pixels as they are,
      white strip and gaps.
    """
    if len(labels) != len(panels) or len({p.shape[0] for p in panels}) != 1:
        raise ValueError(f"compose takes one label per panel and panels of one height, not {len(labels)} labels "
                         f"for heights {[p.shape[0] for p in panels]}")
    font = ImageFont.load_default(size=font_size)
    out = np.full((LABEL_HEIGHT + panels[0].shape[0], sum(p.shape[1] for p in panels)
                   + PANEL_GAP * (len(panels) - 1), 3), 255, np.uint8)
    x = 0
    for panel, label in zip(panels, labels, strict=True):
        w = panel.shape[1]
        strip = Image.new("RGB", (w, LABEL_HEIGHT), "white")
        ImageDraw.Draw(strip).text((3, 2), label, fill="black", font=font)
        out[:LABEL_HEIGHT, x : x + w] = np.asarray(strip)
        out[LABEL_HEIGHT:, x : x + w] = panel
        x += w + PANEL_GAP
    return out


def _write_gif(path, frames, fps):
    """uint8 (H, W, 3) frames -> a looping GIF, one adaptive 256-colour palette per frame, undithered."""
    images = [Image.fromarray(f).quantize(256, dither=Image.Dither.NONE) for f in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)


class Animation:
    """The comparison animation: per frame, the ``crop`` (y, x, h, w) of bicubic | SR | HR at native size under
    labels (:func:`compose`) with the crop's PSNR / SSIM (:func:`srlib.evaluate.score`) when there is an HR frame.

    Frames go to each H.264 file of ``paths`` as they come (:class:`srlib.videoio.VideoWriter`, atomic) and are
    kept for each ``.gif``, written by :meth:`write_gifs` at the end; the first ``max_frames`` only (None: all).
    """

    def __init__(self, paths, crop, max_frames, names, scale, fps, crf):
        paths = [Path(p) for p in paths]
        self.gifs = [p for p in paths if p.suffix.lower() == ".gif"]
        self.writers = [VideoWriter(p, fps, crf, "medium") for p in paths if p.suffix.lower() != ".gif"]
        self.crop, self.max_frames, self.names, self.scale, self.fps = crop, max_frames, names, scale, fps
        self.frames, self.n = [], 0

    def add(self, panels, hr):
        """``panels``: uint8 full frames (bicubic, SR); ``hr`` the HR frame or None."""
        if self.max_frames is not None and self.n >= self.max_frames:
            return
        self.n += 1
        y, x, h, w = self.crop
        cuts = [p[y : y + h, x : x + w] for p in panels]
        labels = list(self.names)
        if hr is not None:
            hr_cut = hr[y : y + h, x : x + w]
            for i, cut in enumerate(cuts):
                p, s = score(cut.astype(np.float32) / 255.0, hr_cut.astype(np.float32) / 255.0, self.scale,
                             dtype=tf.float32)
                labels[i] += f"  {p:.2f} dB  SSIM {s:.3f}"
            cuts.append(hr_cut)
            labels.append(f"HR (ground truth)  frame {self.n}")
        frame = compose(cuts, labels)
        for writer in self.writers:
            writer.write(frame)
        if self.gifs:
            self.frames.append(frame)

    def write_gifs(self):
        for path in self.gifs:
            atomic_write(path, lambda tmp: _write_gif(tmp, self.frames, self.fps))
