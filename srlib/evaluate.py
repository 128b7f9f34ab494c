"""Benchmark harness: any upscaler x image folder x scale -> per-image and mean PSNR/SSIM.

Convention (as SR papers report it; ``CONVENTION`` says it in one line): HR cropped to a multiple of the scale,
LR = MATLAB bicubic rounded to uint8, SR rounded to uint8, Y channel of MATLAB
rgb2ycbcr (grayscale files are compared on their single channel), ``scale``
pixels shaved from each border, PSNR peak 255, SSIM Gaussian 11x11 window.
"""

import csv
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tabulate import tabulate
from tqdm.auto import tqdm

from srlib import paths
from srlib.degrade import benchmark_lr
from srlib.io import ImageError, list_images, load_image
from srlib.metrics import psnr, ssim

CONVENTION = "Y channel (MATLAB rgb2ycbcr), border = scale, LR by MATLAB bicubic, uint8-rounded"


def score(sr, hr, scale, dtype=tf.float64):
    """(PSNR, SSIM) of SR against HR under the convention: Y channel of (H, W, 3) images (a
    one-channel image is compared as it is), ``scale`` pixels shaved, SR rounded to uint8.

    ``dtype=tf.float32`` computes SSIM about 10x faster, within 1e-6 of float64 (video uses it).
    """
    kw = dict(y_channel=hr.shape[-1] == 3, crop_border=math.ceil(scale))
    return float(psnr(sr, hr, **kw)), float(ssim(sr, hr, dtype=dtype, **kw))


def evaluate_image(upscaler, hr, scale, degradation="bicubic"):
    """PSNR/SSIM of ``upscaler`` on one HR image (H, W, C), C = 1 (gray) or 3; LR by :func:`srlib.degrade.benchmark_lr`
    with ``degradation`` (a registry name: its fixed-seed benchmark form).

    Returns (psnr, ssim, sr) with sr the (H', W', C) upscaled image.
    """
    return evaluate_many([upscaler], hr, scale, degradation)[0]


def evaluate_many(upscalers, hr, scale, degradation="bicubic"):
    """[(psnr, ssim, sr)] of each of ``upscalers`` on one HR image, as :func:`evaluate_image`, from one benchmark LR
    made once for all of them (a codec's LR costs far more than a small network's pass)."""
    gray = hr.shape[-1] == 1
    hr, lr = benchmark_lr(np.repeat(hr, 3, axis=-1) if gray else hr, scale, degradation)
    if gray:
        hr = hr[..., :1]
    out = []
    for upscaler in upscalers:
        sr = upscaler(lr)
        sr = sr.mean(axis=-1, keepdims=True) if gray else sr
        out.append((*score(sr, hr, scale), sr))
    return out


def evaluate(upscaler, folder, scale, progress=True, degradation="bicubic"):
    """Evaluate on every image of ``folder`` (LR by :func:`srlib.degrade.benchmark_lr` with ``degradation``).

    Returns a dict: ``rows`` (image, psnr, ssim, seconds), ``mean`` (psnr, ssim),
    ``skipped`` (one-line reasons for files that could not be read).
    """
    rows, skipped = [], []
    files = list_images(folder)
    for f in tqdm(files, desc=f"{Path(folder).name} x{scale}", disable=not progress, leave=False):
        try:
            hr = load_image(f, channels=None)
        except ImageError as e:
            skipped.append(str(e))
            continue
        t = time.perf_counter()
        p, s, _ = evaluate_image(upscaler, hr, scale, degradation)
        rows.append({"image": f.name, "psnr": p, "ssim": s, "seconds": time.perf_counter() - t})
    if not rows:
        raise ImageError(f"{folder}: no readable images")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}
    return {"rows": rows, "mean": mean, "skipped": skipped}


def evaluate_clip(upscaler, folder, scale, degradation="bicubic_h264_clip", progress=True):
    """Evaluate on the frames of one clip: ``folder``'s images in name order, the frames of one video (Vid4).

    The frames (N, H, W, 3) go through :func:`srlib.degrade.benchmark_lr` together, so a clip degradation
    (``bicubic_h264_clip``: one H.264 stream with P and B frames) degrades them as a video; then each frame is
    upscaled and scored alone, benchmark convention. Returns the dict of :func:`evaluate`, a row per frame
    (``seconds``: the upscaling alone). Raises ImageError naming the file for an unreadable frame (a clip with a
    missing frame is not that clip) and ValueError for frames of different sizes.
    """
    files = list_images(folder, recursive=False)  # its own frames only; ImageError for a folder with none
    frames = [load_image(f, channels=3) for f in files]
    if len({f.shape for f in frames}) != 1:
        raise ValueError(f"{folder}: the frames of a clip must share one size")
    hr, lr = benchmark_lr(np.stack(frames), scale, degradation)
    rows = []
    triples = list(zip([f.name for f in files], hr, lr, strict=True))
    for name, h, low in tqdm(triples, desc=f"{Path(folder).name} x{scale}", disable=not progress, leave=False):
        t = time.perf_counter()
        sr = upscaler(low)
        seconds = time.perf_counter() - t
        p, s = score(sr, h, scale)
        rows.append({"image": name, "psnr": p, "ssim": s, "seconds": seconds})
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}
    return {"rows": rows, "mean": mean, "skipped": []}


PUBLISHED_EXTRA = Path(__file__).with_name("published_extra.csv")  # rows the reference table lacks (RED30, LIIF)


def published(path=None):
    """Published rows {(method, scale, dataset): (psnr, ssim or None)} of ``path`` (default: the reference table,
    :func:`srlib.paths.reference_file`, plus :data:`PUBLISHED_EXTRA`); files that are absent add nothing."""
    out = {}
    for f in [Path(path)] if path else [paths.reference_file(), PUBLISHED_EXTRA]:
        if not f.is_file():
            continue
        lines = [ln for ln in f.read_text().splitlines() if ln and not ln.startswith("#")]
        for r in csv.DictReader(lines):
            ssim = float(r["ssim"]) if r["ssim"] else None
            out[(r["method"], int(r["scale"]), r["dataset"])] = (float(r["psnr"]), ssim)
    return out


def _markdown(rows, headers, align):
    """A Markdown (pipe) table of already formatted cells; ``align``: 'left' / 'right' per column."""
    return tabulate(rows, headers=headers, tablefmt="pipe", colalign=align, disable_numparse=True)


def format_table(result, title):
    """Markdown per-image + mean table."""
    rows = [[r["image"], f"{r['psnr']:.2f}", f"{r['ssim']:.4f}"] for r in result["rows"]]
    rows.append(["**mean**", f"**{result['mean']['psnr']:.2f}**", f"**{result['mean']['ssim']:.4f}**"])
    table = _markdown(rows, ["image", "PSNR (dB)", "SSIM"], ("left", "right", "right"))
    lines = [f"### {title}", "", f"Convention: {CONVENTION}.", "", table]
    lines += [f"\nskipped: {s}" for s in result["skipped"]]
    return "\n".join(lines)


def summary_table(results, reference=None, methods=("bicubic", "SRCNN", "ESPCN")):
    """Markdown table of mean PSNR/SSIM per (model, scale, dataset), published rows beside.

    ``results``: dicts with model, scale, dataset and mean; ``reference``: :func:`published`
    rows; ``methods``: the published methods shown as extra columns ("–" where not published).
    """
    reference = reference or {}
    rows = []
    for r in results:
        pub = []
        for method in methods:
            ref = reference.get((method, r["scale"], r["dataset"]))
            pub.append("–" if not ref else f"{ref[0]:.2f}" + (f" / {ref[1]:.4f}" if ref[1] is not None else ""))
        m = r["mean"]
        rows.append([r["model"], f"x{r['scale']}", r["dataset"], f"{m['psnr']:.2f}", f"{m['ssim']:.4f}", *pub])
    headers = ["model", "scale", "dataset", "PSNR (dB)", "SSIM", *(f"{m} (published)" for m in methods)]
    align = ("left", "right", "left", "right", "right", *("right",) * len(methods))
    return f"Convention: {CONVENTION}.\n\n" + _markdown(rows, headers, align)
