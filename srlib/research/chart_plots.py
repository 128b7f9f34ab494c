"""Charts and the figure file: heat maps with colour bars, labelled scatters, bars, :func:`save`.

* :func:`heatmap` always draws a colour bar on a fixed scale.
* :func:`bars` writes each value so that no decimal reads as a thousands separator (``37.8``, ``17 035``).
* :func:`label_points` places point labels so that none overlaps another label or a point.

Every function that makes a figure returns the matplotlib Figure and, given ``path``, saves it (PNG, atomically,
:func:`save`), so notebooks can both show and keep it.
"""

import matplotlib.pyplot as plt
import numpy as np

from srlib.io import atomic_write

FONT = 8  # points, panel titles and colour-bar labels


def save(fig, path, dpi=110):
    """Save ``fig`` to ``path`` atomically and return ``fig``."""
    if path:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png"))
    return fig


def heatmap(ax, values, vmax, label, vmin=0.0, cmap="magma", cax=None):
    """Show the 2-D array ``values`` (H, W) on the fixed scale [``vmin``, ``vmax``] with a colour bar labelled
    ``label`` (in ``cax``, or beside ``ax``); pixels drawn by nearest neighbour. Returns the colour bar."""
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    bar = ax.figure.colorbar(im, cax=cax, ax=None if cax else ax)
    bar.set_label(label, fontsize=FONT)
    bar.ax.tick_params(labelsize=FONT - 1)
    return bar


def label_points(ax, xs, ys, labels, fontsize=7, pad=3, gap=2):
    """Label each point (``xs``, ``ys`` in data coordinates) so that no label overlaps another label (``gap`` pixels
    apart at least), a point or the axes' edge, and no label is read as another point's: each label takes the first
    of a ring of positions around its point that is free and nearer its own point than any other point, trying rings
    further out (with a leader line to its point) when the near ones are taken. Call after the axis limits and the
    figure's layout are final. Returns the annotations."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    r = fontsize * 0.6 * fig.dpi / 72  # a marker's radius in pixels
    taken = [(x - r, y - r, x + r, y + r) for x, y in pts]
    overlap = lambda a, b: a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap
    near = lambda box, x, y: np.hypot(max(box[0] - x, 0, x - box[2]), max(box[1] - y, 0, y - box[3]))
    placed = []
    for (px, py), label in sorted(zip(pts.tolist(), labels, strict=True), key=lambda t: (t[0][0], t[0][1])):
        text = ax.text(0, 0, label, fontsize=fontsize)
        bb = text.get_window_extent(renderer)
        w, h = bb.width, bb.height
        text.remove()
        best = None
        for ring in range(12):
            d = pad + r + ring * h
            for dx, dy in ((d, d * 0.3), (d, -h - d * 0.3), (-w - d, d * 0.3), (-w - d, -h - d * 0.3),
                           (-w / 2, d), (-w / 2, -h - d), (d, -h / 2), (-w - d, -h / 2)):
                box = (px + dx, py + dy, px + dx + w, py + dy + h)
                inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
                own = near(box, px, py)  # a label without a leader line must sit nearer its point than any other
                ambiguous = not ring and any(near(box, x, y) <= own + gap for x, y in pts if (x, y) != (px, py))
                if inside and not ambiguous and not any(overlap(box, t) for t in taken):
                    best = (dx, dy, ring)
                    break
            if best:
                break
        dx, dy, ring = best or (pad, pad, 0)
        x, y = ax.transData.inverted().transform((px, py))
        scale = 72 / fig.dpi  # pixels -> points
        arrow = {"arrowstyle": "-", "color": "0.5", "lw": 0.6, "shrinkA": 0, "shrinkB": r} if ring else None
        placed.append(ax.annotate(label, (x, y), xytext=(dx * scale, dy * scale), textcoords="offset points",
                                  fontsize=fontsize, ha="left", va="bottom", arrowprops=arrow))
        taken.append((px + dx, py + dy, px + dx + w, py + dy + h))
    return placed


def number(v):
    """``v`` written for a label: at least three significant figures, a point for decimals and a thin space between
    thousands (``37.8``, ``524``, ``17 035``), so that no decimal reads as a thousands separator or the reverse."""
    v = float(v)
    if abs(v) >= 1000:
        return f"{v:,.0f}".replace(",", "\u2009")
    if abs(v) >= 100 or v == 0:
        return f"{v:.0f}"
    return f"{v:.{max(0, 2 - int(np.floor(np.log10(abs(v)))))}f}"


def bars(labels, values, ylabel, path=None, title=None, baseline=None, log=False):
    """Horizontal bar chart, e.g. throughput per method, each bar labelled with its value (:func:`number`) just past
    its end; ``baseline`` draws a reference line. On a log axis (``log``) the axis starts a decade or more below the
    smallest value, so that every bar has a visible length and its label clears the axis."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(labels) + 1.2))
    ax.barh(labels, values, color="tab:blue")
    for i, v in enumerate(values):
        ax.annotate(number(v), (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    if baseline is not None:
        ax.axvline(baseline, color="tab:red", ls="--", lw=1)
    ax.set_xlabel(ylabel)
    if log:
        ax.set_xscale("log")
        low = min(v for v in values if v > 0)
        ax.set_xlim(10 ** np.floor(np.log10(low) - 0.3), max(values) * 10)  # a decade of room for the labels
    else:
        ax.set_xlim(min(0, min(values)), max(values) * 1.2)
    if title:
        ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    return save(fig, path)
