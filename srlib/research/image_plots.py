"""Image comparisons at native resolution (:func:`comparison`).

:func:`comparison` shows every image at its native resolution or enlarged by an integer factor with nearest
neighbour (the pixels on screen are the pixels of the array), never shrunk; a zoom a title states is the zoom
drawn (the figure records each panel's zoom in ``fig.srlib_panels``); given the reference HR it puts PSNR /
SSIM (the benchmark convention of :func:`srlib.evaluate.score`) in the title of every other HR-sized panel, and
can add an |SR − HR| error row on a fixed, stated scale (signed maps: a diverging scale centred on 0). It returns
the matplotlib Figure and, given ``path``, saves it (PNG, atomically).
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np

from srlib.research.chart_plots import FONT, save

DPI = 100  # comparison figures are laid out in pixels at this resolution
_LINE_PX = 13  # one title line at FONT points and DPI
_GAP = 8  # pixels between panels
_CROP_PX = 256  # the default zoom enlarges a crop to at most this many pixels


def _luma_255(img):
    """Y of MATLAB rgb2ycbcr in grey levels (H, W) of an (H, W, 3) or (H, W, 1) image in [0, 1], rounded to uint8."""
    img = np.round(np.clip(np.asarray(img, np.float64), 0, 1) * 255) / 255
    if img.shape[-1] == 1:
        return img[..., 0] * 255
    return 16 + img @ np.array([65.481, 128.553, 24.966])


def _zoom(img, k):
    """``img`` enlarged ``k`` times (a positive integer) by nearest neighbour."""
    return np.repeat(np.repeat(img, k, 0), k, 1)


def _check_zoom(zoom):
    if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or zoom < 1:
        raise ValueError(f"zoom must be a positive integer (nearest-neighbour enlargement, no shrink), got {zoom!r}")
    return int(zoom)


def comparison(images, titles, hr=None, scale=None, box=None, zoom=None, full=True, error=False, maps=None,
               heat_max=None, heat_label="grey levels (of 255)", cols=None, title=None, path=None, heat_min=0.0):
    """Images side by side, pixel for pixel: the whole images and/or an enlarged crop, with scores and error maps.

    Every panel shows an array at its native resolution or enlarged by an integer factor with nearest neighbour,
    never shrunk. An image smaller than the largest (an LR input) is enlarged by the largest integer factor that fits
    the largest image's size, and its title says so on a line of its own ("shown nearest ×3": the whole zoom it is
    drawn at, ``zoom`` included). The returned figure's ``srlib_panels`` lists every panel drawn: {"axes", "title",
    "kind" ("image" or "heat"), "native" (the array's (H, W) before enlarging), "zoom" (the integer it was enlarged
    by)}, so a test can check a title's zoom against the pixels drawn.

    Args:
      images: list of (H, W, 3) or (H, W, 1) float arrays in [0, 1]; sizes may differ.
      titles: one label per image.
      hr: the reference (H, W, C) array, normally one of ``images``: every other image of its shape is scored with
        :func:`srlib.evaluate.score` (``scale`` pixels shaved) and its title gets "PSNR dB / SSIM".
      scale: the upscaling factor (the border shaved when scoring); required with ``hr``.
      box: (y, x, h, w), a region in the coordinates of the largest image: drawn as a rectangle on the whole images
        and shown below them enlarged ``zoom`` times (in each image's own coordinates for a smaller image).
      zoom: a positive integer; default: the largest that keeps the enlarged crop within 256 pixels. Without a
        box it enlarges the whole images (default 1).
      full: show the whole images; False shows only the crops, after one whole image (``hr``, else the largest)
        with the box drawn on it, so a reader sees where the crop lies.
      error: with ``hr``: add an |SR − HR| map (Y, grey levels) under each scored panel (of the crop, with a box).
      maps: {title: (H, W) array} more heat maps (e.g. the spread of samples), in the coordinates of the largest
        image, each one more item shown like an image (whole and / or cropped).
      heat_max: the top of the one fixed colour scale of every heat map, in the maps' unit (grey levels for the
        error maps); required with ``error`` or ``maps``. Values above it saturate.
      heat_min: the bottom of that scale (default 0); below 0 (signed maps, e.g. one variant's error minus
        another's) the maps are drawn on a diverging scale, white at 0.
      heat_label: the colour bar's label.
      cols: items (images, maps) per row; the items wrap into several rows. Default: all in one row.
      title: a line above the figure; the crop's zoom and the scoring convention are added to it.
      path: where to save the PNG.
    """
    if len(images) != len(titles):
        raise ValueError(f"comparison: {len(images)} images but {len(titles)} titles")
    if hr is not None and scale is None:
        raise ValueError("comparison: scoring against hr needs the scale (the border shaved)")
    if (error or maps) and heat_max is None:
        raise ValueError("comparison: heat maps need heat_max, the top of their fixed colour scale")
    big = max(images, key=lambda im: im.shape[0] * im.shape[1]).shape[:2]
    if zoom is not None:
        zoom = _check_zoom(zoom)
    elif box is not None:
        zoom = max(1, _CROP_PX // max(box[2], box[3]))
    whole = zoom if box is None and zoom else 1  # without a box, zoom enlarges the whole images
    notes = [f"images enlarged ×{whole} by nearest neighbour"] if whole > 1 else []
    ref = None if hr is None else np.clip(np.asarray(hr, np.float32), 0, 1)
    items = []  # per item: a list of panels (array, title, kind, rectangle)
    if not full and box is not None:
        whole_image = ref if ref is not None else max(images, key=lambda im: im.shape[0] * im.shape[1])
        items.append([(whole_image, "whole image (box: the crops)", "image", box, 1)])
    for im, label in zip(images, titles, strict=True):
        im = np.clip(np.asarray(im, np.float32), 0, 1)
        k = max(1, min(big[0] // im.shape[0], big[1] // im.shape[1])) * whole  # integer enlargement, drawn
        scored = ref is not None and im.shape == ref.shape and not np.array_equal(im, ref)
        scores = ""
        if scored:
            from srlib.evaluate import score  # TensorFlow: only when scoring

            p, q = score(im, ref, scale)
            scores = f"\n{p:.2f} dB / {q:.4f}"
        stack = []  # a title states the zoom its panel is drawn at where it differs from the one the header states
        if full or box is None:
            rect = None if box is None else tuple(round(v * k * im.shape[i % 2] / big[i % 2])
                                                  for i, v in enumerate(box))
            stack.append((_zoom(im, k), label + (f"\nshown nearest ×{k}" if k > whole else "") + scores, "image",
                          rect, k))
        if box is not None:
            crop, kc = _crop(im, box, big, zoom)
            note = f"nearest ×{kc}" if kc != zoom else ""
            title_ = note if stack else label + (f"\nshown {note}" if note else "") + scores  # crops only: its title
            stack.append((_zoom(crop, kc), title_, "image", None, kc))
        if scored and error:
            diff = np.abs(_luma_255(im) - _luma_255(ref))
            if box is not None:
                diff = _zoom(_crop(diff[..., None], box, big, zoom)[0], zoom)[..., 0]
            stack.append((diff, "|SR − HR| (Y)", "heat", None, 1 if box is None else zoom))
        items.append(stack)
    for label, values in (maps or {}).items():  # like an image: whole (boxed) and / or its crop
        values = np.asarray(values, np.float32)
        stack = [] if box is not None and not full else [(values, label, "heat", None if box is None else box, 1)]
        if box is not None:
            crop = _zoom(_crop(values[..., None], box, big, zoom)[0], zoom)[..., 0]
            stack.append((crop, "" if full else label, "heat", None, zoom))
        items.append(stack)
    if box is not None:
        notes.append(f"crops: the {box[2]}×{box[3]}-pixel box enlarged ×{zoom} by nearest neighbour")
    if hr is not None:
        notes.append(f"PSNR (dB) / SSIM of the whole image on Y, {int(np.ceil(scale))}-pixel border shaved, "
                     "SR rounded to uint8")
    if any(p[2] == "heat" for stack in items for p in stack):
        notes.append(f"heat maps on one fixed scale, {heat_min:g} to {heat_max:g} {heat_label}")
    fig = _layout(items, cols or len(items), [title] * bool(title) + notes, (heat_min, heat_max), heat_label)
    return save(fig, path, dpi=DPI)


def _crop(im, box, big, zoom):
    """(crop of ``im`` under ``box`` given in the coordinates of an image of size ``big``, its integer zoom): a
    smaller image is cropped in its own coordinates and enlarged more, so every crop shows the same region."""
    r = big[0] / im.shape[0]
    y, x, h, w = (int(round(v / r)) for v in box)
    return im[y : y + max(h, 1), x : x + max(w, 1)], max(1, int(round(zoom * r)))


def _layout(items, cols, header, heat_range, heat_label):
    """A figure of ``items`` (stacks of panels: drawn array, title, kind, rectangle, zoom), ``cols`` per row, every
    array drawn one array pixel to one figure pixel at :data:`DPI`; one colour bar for all heat panels on
    ``heat_range`` (vmin, vmax). The figure's ``srlib_panels`` records each panel (see :func:`comparison`)."""
    col_w = max(a.shape[1] for stack in items for a, *_ in stack)
    fit = max(20, int(col_w / 5.3))  # characters of a title line at FONT points
    items = [[(a, "\n".join(textwrap.fill(t, fit) for t in label.split("\n")) if label else label, kind, rect, z)
              for a, label, kind, rect, z in stack] for stack in items]
    panels = [p for stack in items for p in stack]
    heat_min, heat_max = heat_range
    heat_cmap = "RdBu_r" if heat_min < 0 else "magma"  # signed maps: white at 0
    lines = lambda t: t.count("\n") + 1 if t else 0
    groups = [items[i : i + cols] for i in range(0, len(items), cols)]
    levels = []  # per group, per level: (title band, panel height)
    for g in groups:
        depth = max(len(s) for s in g)
        levels.append([(max(lines(s[j][1]) for s in g if j < len(s)) * _LINE_PX + 4,
                        max(s[j][0].shape[0] for s in g if j < len(s))) for j in range(depth)])
    heat = any(p[2] == "heat" for p in panels)
    bar_w = 70 if heat else 0
    head = sum(lines(h) for h in header) * _LINE_PX + (6 if header else 0)
    width = min(cols, len(items)) * (col_w + _GAP) + bar_w + _GAP
    height = head + sum(t + h + _GAP for lv in levels for t, h in lv) + _GAP
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    fig.srlib_panels = []
    if header:
        fig.text(_GAP / width, 1 - 4 / height, "\n".join(header), fontsize=FONT, va="top", ha="left")
    top, bar_at = head, None
    for g, lv in zip(groups, levels, strict=True):
        for j, (t, h) in enumerate(lv):
            top += t
            for i, stack in enumerate(g):
                if j >= len(stack):
                    continue
                arr, label, kind, rect, z = stack[j]
                ph, pw = arr.shape[:2]
                left = _GAP + i * (col_w + _GAP) + (col_w - pw) // 2
                ax = fig.add_axes([left / width, 1 - (top + ph) / height, pw / width, ph / height])
                if kind == "heat":
                    im = ax.imshow(arr, cmap=heat_cmap, vmin=heat_min, vmax=heat_max, interpolation="nearest",
                                   aspect="auto")
                    bar_at = bar_at or (im, top, ph)
                else:
                    grey = arr.shape[-1] == 1
                    ax.imshow(arr[..., 0] if grey else arr, cmap="gray" if grey else None, vmin=0, vmax=1,
                              interpolation="nearest", aspect="auto")
                if rect is not None:
                    y, x, rh, rw = rect
                    ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), rw, rh, fill=False, color="yellow", lw=1.2))
                ax.set_title(label, fontsize=FONT, pad=2)
                ax.set_axis_off()  # no frame over the edge pixels
                fig.srlib_panels.append({"axes": ax, "title": label, "kind": kind, "zoom": z,
                                         "native": (ph // z, pw // z)})
            top += h + _GAP
    if bar_at:
        im, bar_top, bar_h = bar_at
        cax = fig.add_axes([(width - bar_w + 4) / width, 1 - (bar_top + bar_h) / height, 12 / width, bar_h / height])
        bar = fig.colorbar(im, cax=cax)
        bar.set_label(heat_label, fontsize=FONT)
        bar.ax.tick_params(labelsize=FONT - 1)
    return fig
