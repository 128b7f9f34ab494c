"""The default model for an input, chosen in one place from the model cards.

Nothing here names a model: a new zoo model (an int8 engine, a model for compressed input) is considered as soon as
its card is in the zoo.

Candidates are the photo models at the scale, whatever LR they were trained on; each input ranks them by a key, a
benchmark row of their cards (:class:`Key`):

* a still image from a clean file (PNG, TIFF, ...; an array): :data:`CLEAN`, Set5 PSNR on MATLAB-bicubic LR;
* a JPEG photo (``.jpg`` / ``.jpeg``, :func:`is_jpeg`): :data:`JPEG`, BSD100 PSNR on bicubic LR saved as JPEG
  quality 50. The quality the file was saved at, estimated from its quantisation tables (:func:`image_input`), is
  passed in and stated in the reason; no rule uses it yet (see :func:`image_default`);
* a video (every real video is compressed): :data:`VIDEO`, PSNR on Vid4 calendar and city, bicubic LR encoded as
  one H.264 stream per clip (CRF 28), their frames pooled.

A compressed key compares like with like or not at all: it ranks the candidates whose cards have its row only when
the model the clean key picks has that row too (:func:`srlib.inference.cards.compressed_rows` scores it;
``benchmarks/rescore_cards.py --compressed``); otherwise the clean key decides and the reason says so. A card
without the key's row is not ranked by it.

* Images (:func:`for_image`, :func:`image_default`): the best by the key; an arbitrary-scale model for a scale no
  card scores; else bicubic.
* Videos (:func:`for_video`): the best by the key among the luma models that keep up with the clip's frame rate on
  this machine, end to end with the encoder, measured here and now on the clip's first frames (:func:`clip_fps`,
  :data:`TRIAL_FRAMES` each); if none does, the
  fastest model at or above SRCNN's published Set5 PSNR (clean LR) at that scale (the fastest of all when that row is
  unknown), so a default never runs at a fraction of a frame per second when a real-time model exists.
"""

import dataclasses
import functools
import logging
import tempfile
from pathlib import Path

import numpy as np

from srlib.inference import zoo
from srlib.inference.jpeg_quality import jpeg_quality

log = logging.getLogger(__name__)

QUALITY_FLOOR = "SRCNN"  # the published method a video default must reach when nothing keeps up
JPEG_SUFFIXES = (".jpg", ".jpeg")
TRIAL_FRAMES = 30  # frames of the clip each video candidate is timed on (clip_fps)


@dataclasses.dataclass(frozen=True)
class Key:
    """What candidates are ranked by: the PSNR of their card's row of ``dataset`` on LR ``lr`` at the scale;
    ``says`` names it in reasons."""

    dataset: str
    lr: str
    says: str

    def scores(self, cards, scale):
        """{name: PSNR} of the ``cards`` ({name: Card}) that have this row at ``scale``."""
        psnr = {n: c.psnr(self.dataset, scale, self.lr) for n, c in cards.items()}
        return {n: p for n, p in psnr.items() if p is not None}


CLEAN = Key("Set5", "bicubic", "Set5 PSNR (clean bicubic LR)")
JPEG = Key("BSD100", "bicubic_jpeg", "PSNR on JPEG photos (BSD100, quality 50)")
VIDEO = Key("Vid4", "bicubic_h264_clip", "PSNR on H.264 video (Vid4, CRF 28)")


def is_jpeg(path):
    """True for a JPEG file by its suffix (:data:`JPEG_SUFFIXES`, any case): ranked by :data:`JPEG`."""
    return Path(path).suffix.lower() in JPEG_SUFFIXES


def image_input(path):
    """(jpeg, quality) of image file ``path``: whether it is ranked by :data:`JPEG` (:func:`is_jpeg`) and, for a JPEG,
    the IJG quality it was saved at, estimated from its quantisation tables
    (:func:`srlib.inference.jpeg_quality.jpeg_quality`; None when its content is not JPEG). ImageError (one line) for a
    JPEG whose header cannot be read."""
    jpeg = is_jpeg(path)
    return jpeg, jpeg_quality(path) if jpeg else None


def _photo_cards(scale):
    """{name: Card} of the photo models that upscale by ``scale``, whatever LR they were trained on."""
    return {n: c for n, c in zoo.cards().items()
            if c.task == "photo" and (c.arbitrary_scale or float(c.scale) == float(scale))}


def _unlike(key, clean_pick):
    """The reason's tail when ``key`` cannot be used: ``clean_pick`` has no row of it."""
    return f"; {clean_pick} has no {key.dataset} {key.lr} row, so {key.says} cannot compare"


def image_default(scale, jpeg=False, quality=None):
    """(zoo name or 'bicubic', reason) of the default model for still images at ``scale``: by :data:`JPEG` for a JPEG
    photo (``jpeg``), else by :data:`CLEAN`, under the module's like-with-like rule.

    ``quality``: the JPEG quality the file was saved at (:func:`image_input`), or None; the reason states it. It does
    not rank yet: a model for JPEG input will bring the rule, one line here (e.g. its card's quality range deciding
    whether :data:`JPEG` or a quality-matched row ranks), and every caller already passes the estimate.
    """
    if jpeg and quality is not None:
        name, why = image_default(scale, jpeg)
        return name, f"JPEG quality {quality:g}, estimated from its quantisation tables; {why}"
    cards = _photo_cards(scale)
    clean = CLEAN.scores(cards, scale)
    if not clean:
        anyscale = [n for n, c in cards.items() if c.arbitrary_scale]
        return (anyscale[0], f"no card scores x{scale:g}: the arbitrary-scale model") if anyscale else (
            "bicubic", f"no shipped model for x{scale:g}")
    pick = max(clean, key=clean.get)
    why = f"the best {CLEAN.says} among the shipped x{scale:g} models"
    if not jpeg:
        return pick, why
    scores = JPEG.scores(cards, scale)
    if pick not in scores:
        return pick, why + _unlike(JPEG, pick)
    best = max(scores, key=scores.get)
    return best, f"the best {JPEG.says} among the x{scale:g} models scored on it"


def for_image(scale, jpeg=False, quality=None):
    """Zoo name (or 'bicubic') of the default model for still images at ``scale`` (:func:`image_default`)."""
    return image_default(scale, jpeg, quality)[0]


@functools.cache
def video_engine(name):
    """The frame engine of luma zoo model ``name`` (:class:`srlib.inference.frames.FastLuma` of a Keras model or an int8
    ``.tflite``), built once per process: the trial of :func:`clip_fps` and the run of the model it picks share it, so
    the pick is loaded and compiled once."""
    from srlib.inference.frames import FastLuma
    from srlib.inference.infer import load_net

    return FastLuma(load_net(name), zoo.card(name).scale, name=name)


@functools.cache
def clip_fps(name, clip, scale, degrade=False, frames=TRIAL_FRAMES):
    """Frames per second of the whole video pipeline (decode, zoo model ``name``'s frame engine, x264 encode to a
    temporary file: :func:`srlib.video.pipeline.upscale_video`) on the first ``frames`` frames of ``clip`` at ``scale``
    on this machine now, after the first frame is out (start-up and compiling left out). ``degrade``: ``clip`` is HR,
    made LR and scored, as ``srlib upscale --degrade`` does. The encoder's share of the CPU is in it: a frame engine
    timed alone keeps up where the command does not. Measured once per process (not stored: a figure taken while the
    machine is busy would stay wrong)."""
    from srlib.video.pipeline import upscale_video

    with tempfile.TemporaryDirectory() as tmp:
        stats = upscale_video(clip, Path(tmp) / "trial.mp4", video_engine(name),
                              degrade_scale=scale if degrade else None, max_frames=frames, progress=False)
    return stats["steady_fps"]


def _floor(scale):
    """SRCNN's published Set5 PSNR at ``scale``, or None where the reference table is absent."""
    from srlib.evaluate import published

    row = published().get((QUALITY_FLOOR, int(scale), "Set5")) if float(scale).is_integer() else None
    return row[0] if row else None


def _engine(card):
    """The engine a card's model runs on: its ``extra.engine`` (e.g. 'tflite int8'), else 'keras' (float)."""
    return card.raw["extra"].get("engine", "keras")


def _keeping_up(cards, key, scale, clip, fps, degrade):
    """(name, frames per second, reason) of the best by ``key`` among ``cards`` ({name: Card}, each with ``key``'s
    row) that keep up with ``fps``, timed from the cheapest (multiply-adds per pixel, from the cards) until one falls
    behind; if none keeps up, the fastest at or above SRCNN's Set5 PSNR on clean LR (the cheapest when none is)."""
    score = key.scores(cards, scale)
    order = sorted(cards, key=lambda n: cards[n].macs_per_output_pixel)
    measured, behind = {}, set()
    for name in order:  # the cheapest first; once one falls behind, costlier ones on its engine would too
        if _engine(cards[name]) in behind:
            continue
        measured[name] = clip_fps(name, clip, scale, degrade)
        if measured[name] < fps:
            behind.add(_engine(cards[name]))
    fast = [n for n in measured if measured[n] >= fps]
    if fast:
        best = max(fast, key=score.get)
        return best, measured[best], f"the best {key.says} that keeps up with {fps:g} fps here"
    floor, clean = _floor(scale), CLEAN.scores(cards, scale)
    good = [n for n in order if floor is not None and clean.get(n, -np.inf) >= floor] or order[:1]
    cheapest = cards[good[0]].macs_per_output_pixel  # 4x its multiply-adds is never the faster one: not timed
    speeds = {n: measured.get(n) or clip_fps(n, clip, scale, degrade) for n in good
              if cards[n].macs_per_output_pixel <= 4 * cheapest}
    best = max(speeds, key=speeds.get)
    why = (f"nothing keeps up with {fps:g} fps here: the fastest at or above {QUALITY_FLOOR}'s Set5 {floor:.2f} dB"
           if floor is not None and clean.get(best, -np.inf) >= floor
           else f"nothing keeps up with {fps:g} fps here: the cheapest")
    return best, speeds[best], why if key == CLEAN else f"{why}, of those scored on {key.dataset} {key.lr}"


def for_video(scale, clip, fps, degrade=False):
    """(zoo name, expected frames per second of the whole command, reason) for video file ``clip`` of ``fps`` frames
    per second upscaled by ``scale`` (``degrade``: ``clip`` is HR, made LR and scored first; :func:`clip_fps`).

    Candidates are the fixed-scale luma photo models (the frame engine runs Y models). The pick by :data:`CLEAN`
    (:func:`_keeping_up` over the candidates with the clean row) decides whether :data:`VIDEO` may rank: when it has
    the Vid4 row, the pick is by :data:`VIDEO` over the candidates with that row; otherwise it stays, and the reason
    says why. Falls back to :func:`image_default` (speed unmeasured: None) when no candidate has the clean row, e.g.
    for a non-integer scale.
    """
    luma = {n: c for n, c in _photo_cards(scale).items() if not c.arbitrary_scale and c.channels.startswith("Y")}
    clean = {n: luma[n] for n in CLEAN.scores(luma, scale)}
    if not clean:
        return image_default(scale)[0], None, "no video model for this scale: the image default"
    pick, speed, why = _keeping_up(clean, CLEAN, scale, clip, fps, degrade)
    video = {n: luma[n] for n in VIDEO.scores(luma, scale)}
    if pick not in video:
        return pick, speed, why + _unlike(VIDEO, pick)
    return _keeping_up(video, VIDEO, scale, clip, fps, degrade)
