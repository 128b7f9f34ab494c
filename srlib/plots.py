"""Figures: comparison grids with zoom insets, training curves, per-frame plots.

Every function returns the matplotlib Figure and, given ``path``, saves it
(PNG, atomically) so notebooks can both show and keep it.
"""

import matplotlib.pyplot as plt
import numpy as np

from srlib.io import atomic_write


def save(fig, path, dpi=110):
    """Save ``fig`` to ``path`` atomically and return ``fig``."""
    if path:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png"))
    return fig


def comparison(images, titles, box=None, zoom_size=None, path=None, width=3.2):
    """Side-by-side panels with an optional zoomed inset row.

    Args:
      images: list of (H, W, 3) or (H, W, 1) float arrays in [0, 1]; sizes may
        differ (smaller ones, e.g. LR, are shown nearest-upscaled to the largest).
      titles: one label per image (e.g. with its PSNR).
      box: (y, x, h, w) region in the coordinates of the largest image,
        drawn as a rectangle and shown enlarged below.
    """
    big = max(images, key=lambda im: im.shape[0])
    rows = 2 if box else 1
    fig, axes = plt.subplots(rows, len(images), figsize=(width * len(images), width * rows), squeeze=False)
    for j, (im, title) in enumerate(zip(images, titles, strict=True)):
        rows = np.arange(big.shape[0]) * im.shape[0] // big.shape[0]  # nearest pixel, any (also non-integer) ratio
        cols = np.arange(big.shape[1]) * im.shape[1] // big.shape[1]
        shown = im[rows][:, cols] if im.shape[:2] != big.shape[:2] else im
        shown = np.clip(shown[..., 0] if shown.shape[-1] == 1 else shown, 0, 1)
        cmap = "gray" if shown.ndim == 2 else None
        axes[0, j].imshow(shown, cmap=cmap, vmin=0, vmax=1)
        axes[0, j].set_title(title, fontsize=9)
        if box:
            y, x, h, w = box
            axes[0, j].add_patch(plt.Rectangle((x, y), w, h, fill=False, color="yellow", lw=1.2))
            axes[1, j].imshow(shown[y : y + h, x : x + w], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return save(fig, path)


def curves(logs, keys=("loss", "val_loss"), path=None, logy=True, xlabel="epoch"):
    """Training curves: ``logs`` maps a run name to a dict of metric -> list of values."""
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for name, log in logs.items():
            if key in log:
                ax.plot(np.arange(1, len(log[key]) + 1), log[key], label=name)
        ax.set_title(key)
        ax.set_xlabel(xlabel)
        if logy and "loss" in key:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def bars(labels, values, ylabel, path=None, title=None, baseline=None, log=False):
    """Horizontal bar chart, e.g. throughput per method; ``baseline`` draws a reference line."""
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(labels) + 1.2))
    ax.barh(labels, values, color="tab:blue")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.0f}" if v >= 100 else f" {v:.2f}", va="center", fontsize=8)
    if baseline is not None:
        ax.axvline(baseline, color="tab:red", ls="--", lw=1)
    ax.set_xlabel(ylabel)
    if log:
        ax.set_xscale("log")
    if title:
        ax.set_title(title)
    ax.invert_yaxis()
    fig.tight_layout()
    return save(fig, path)
