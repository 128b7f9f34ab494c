"""The default model for an input, chosen in one place from the model cards.

Nothing here names a model: a new zoo model (an int8 engine, a model for compressed input) is considered as soon as
its card is in the zoo.

* Images (:func:`for_image`): the best Set5 PSNR at the scale among the photo models trained on bicubic LR; an
  arbitrary-scale model for a scale no card scores; else bicubic.
* Videos (:func:`for_video`): the best model whose frame engine keeps up with the clip's frame rate on this
  machine at the clip's frame size, measured here and now (a few frames each); if none does, the
  fastest model at or above SRCNN's published Set5 PSNR at that scale (the fastest of all when that row is
  unknown), so a default never runs at a fraction of a frame per second when a real-time model exists.
"""

import functools
import logging
import time

import numpy as np

from srlib import zoo

log = logging.getLogger(__name__)

QUALITY_FLOOR = "SRCNN"  # the published method a video default must reach when nothing keeps up


def _photo_cards(scale):
    """{name: Card} of the photo models trained on bicubic LR that upscale by ``scale``."""
    return {n: c for n, c in zoo.cards().items() if c.task == "photo" and c.degradation == "bicubic"
            and (c.arbitrary_scale or float(c.scale) == float(scale))}


def for_image(scale):
    """Zoo name (or 'bicubic') of the default model for still images at ``scale``."""
    cards = _photo_cards(scale)
    scored = {n: c.psnr("Set5", scale) for n, c in cards.items() if c.psnr("Set5", scale) is not None}
    if scored:
        return max(scored, key=scored.get)
    anyscale = [n for n, c in cards.items() if c.arbitrary_scale]
    return anyscale[0] if anyscale else "bicubic"


@functools.cache
def frame_fps(name, width, height, frames=3):
    """Frames per second of zoo model ``name``'s frame engine (colour split, network, merge to I420) on LR frames of
    ``width`` x ``height`` on this machine now: the median of ``frames`` timed frames after a warm-up. Measured once
    per process (not stored: a figure taken while the machine is busy would stay wrong)."""
    from srlib.frames import FastLuma
    from srlib.infer import load_net

    engine = FastLuma(load_net(name), zoo.card(name).scale, name=name)  # a Keras model, or an int8 .tflite
    engine.compile(1, height, width, i420=True)
    planes = np.random.default_rng(0).integers(0, 256, (1, height * 3 // 2, width), dtype=np.uint8)
    seconds = []
    for _ in range(frames):
        t = time.perf_counter()
        y, cbcr = engine.split(planes)
        engine.merge(engine.net(y), cbcr)
        seconds.append(time.perf_counter() - t)
    return 1.0 / float(np.median(seconds))


def _floor(scale):
    """SRCNN's published Set5 PSNR at ``scale``, or None where the reference table is absent."""
    from srlib.evaluate import published

    row = published().get((QUALITY_FLOOR, int(scale), "Set5")) if float(scale).is_integer() else None
    return row[0] if row else None


def _engine(card):
    """The engine a card's model runs on: its ``extra.engine`` (e.g. 'tflite int8'), else 'keras' (float)."""
    return card.raw["extra"].get("engine", "keras")


def for_video(scale, width, height, fps):
    """(zoo name, expected frames per second of the network stage, reason) for a clip of LR ``width`` x ``height``
    at ``fps`` frames per second upscaled by ``scale``.

    Candidates are the fixed-scale luma models of :func:`for_image`'s kind (the frame engine runs Y models),
    measured from the cheapest (multiply-adds per pixel, from the cards) until one falls behind the clip. Falls back
    to :func:`for_image` (speed unmeasured: None) when no such model exists, e.g. for a non-integer scale.
    """
    cards = {n: c for n, c in _photo_cards(scale).items() if not c.arbitrary_scale and c.channels.startswith("Y")
             and c.psnr("Set5", scale) is not None}
    if not cards:
        name = for_image(scale)
        return name, None, "no video model for this scale: the image default"
    order = sorted(cards, key=lambda n: cards[n].macs_per_output_pixel)
    measured, behind = {}, set()
    for name in order:  # the cheapest first; once one falls behind, costlier ones on its engine would too
        if _engine(cards[name]) in behind:
            continue
        measured[name] = frame_fps(name, width, height)
        if measured[name] < fps:
            behind.add(_engine(cards[name]))
    fast = [n for n in measured if measured[n] >= fps]
    if fast:
        best = max(fast, key=lambda n: cards[n].psnr("Set5", scale))
        return best, measured[best], f"the best Set5 PSNR that keeps up with {fps:g} fps here"
    floor = _floor(scale)
    good = [n for n in order if floor is not None and cards[n].psnr("Set5", scale) >= floor] or order[:1]
    cheapest = cards[good[0]].macs_per_output_pixel  # 4x its multiply-adds is never the faster one: not timed
    speeds = {n: measured.get(n) or frame_fps(n, width, height) for n in good
              if cards[n].macs_per_output_pixel <= 4 * cheapest}
    best = max(speeds, key=speeds.get)
    why = (f"nothing keeps up with {fps:g} fps here: the fastest at or above {QUALITY_FLOOR}'s Set5 {floor:.2f} dB"
           if floor is not None and cards[best].psnr("Set5", scale) >= floor
           else f"nothing keeps up with {fps:g} fps here: the cheapest")
    return best, speeds[best], why
