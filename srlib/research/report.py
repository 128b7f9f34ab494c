"""The zoo report (notebook 07): which shipped models to score, their cost, and the benchmark files.

``results/benchmark.csv`` holds one row per (model, scale, dataset): ours, measured by
:func:`srlib.evaluate.evaluate`, and published ones, as their papers give them. It has no date and no machine, so
it is a function of the shipped weights and the data: every run regenerates it bit for bit.
``results/benchmark.md`` shows the same rows as one Markdown table per scale (what the README embeds);
:func:`parse_markdown` reads such tables back, so a test can check the README against the CSV.
"""

import csv
import io
import re
import statistics
import time
from pathlib import Path

import numpy as np

from srlib.inference import zoo
from srlib.io import atomic_write


def photo_models():
    """{zoo name: [scales]} of the shipped models that upscale photos from bicubic LR, at the scales their cards
    score on Set5 (arbitrary-scale models: x2, x3 and x4)."""
    found = {}
    for name, card in zoo.cards().items():
        scales = [s for s in card.scales if card.psnr("Set5", s) is not None]
        if card.task == "photo" and card.degradation == "bicubic" and scales:
            found[name] = scales
    return found


def card_macs(name, scale):
    """Multiply-adds per output pixel of zoo model ``name`` at ``scale``: its card's; arbitrary-scale models
    recomputed at the scale (:func:`srlib.models.cost.macs_per_output_pixel`), since their encoder's share shrinks with
    it."""
    card = zoo.card(name)
    if not card.arbitrary_scale:
        return card.macs_per_output_pixel
    from srlib.models.cost import macs_per_output_pixel

    return round(macs_per_output_pixel(zoo.load(name), scale), 1)


def time_1080p(name, scale, repeats=3):
    """Median milliseconds for zoo model ``name`` to produce the Y channel of one 1920 x 1080 frame at ``scale``
    (network only, float32 in Keras; an int8 model in its int8 engine, not its fake-quant Keras twin; after one
    warm-up run)."""
    import tensorflow as tf

    from srlib.inference.infer import load_net
    from srlib.inference.lite import LiteFile

    model = load_net(name)
    rng = np.random.default_rng(0)
    lr = rng.random((1, round(1080 / scale), round(1920 / scale), 1)).astype(np.float32)
    if isinstance(model, LiteFile):
        run = lambda: model(lr)  # noqa: E731
    elif isinstance(model.input, dict):
        from srlib.models.cppn_gan import render

        run = lambda: render(model, lr, (1080, 1920))  # noqa: E731
    else:
        fn = tf.function(lambda x: model(x, training=False))
        run = lambda: fn(lr).numpy()  # noqa: E731
    run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def pareto_front(cost, quality):
    """Indices of the points no other point beats on both (lower ``cost``, higher ``quality``), by cost."""
    order = np.argsort(cost, kind="stable")
    front, best = [], -np.inf
    for i in order:
        if quality[i] > best:
            front.append(int(i))
            best = quality[i]
    return front


def _rows(ours, published):
    rows = [{"model": r.model, "source": "ours", "scale": int(r.scale), "dataset": r.dataset,
             "psnr": f"{r.psnr:.2f}", "ssim": f"{r.ssim:.4f}"} for r in ours.itertuples()]
    rows += [{"model": r.model, "source": "published", "scale": int(r.scale), "dataset": r.dataset,
              "psnr": f"{r.psnr:.2f}", "ssim": "" if r.ssim is None or np.isnan(r.ssim) else f"{r.ssim:.4f}"}
             for r in published.itertuples()]
    return rows


def benchmark_markdown(ours, published, convention):
    """One Markdown table per scale: a row per model (ours first, then published), a 'PSNR / SSIM' column per
    dataset, '–' where a paper gives no number."""
    rows = _rows(ours, published)
    datasets = list(dict.fromkeys(r["dataset"] for r in rows if r["source"] == "ours"))
    lines = [f"Convention: {convention}.", ""]
    for scale in sorted({r["scale"] for r in rows}):
        models = list(dict.fromkeys(r["model"] for r in rows if r["scale"] == scale))
        cell = {(r["model"], r["dataset"]): r["psnr"] + (f" / {r['ssim']}" if r["ssim"] else "")
                for r in rows if r["scale"] == scale}
        lines += [f"**x{scale}** (PSNR dB / SSIM)", "", "| model | " + " | ".join(datasets) + " |",
                  "|---|" + "---:|" * len(datasets)]
        lines += [f"| {m} | " + " | ".join(cell.get((m, d), "–") for d in datasets) + " |" for m in models]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_benchmark(csv_path, md_path, ours, published, convention):
    """Write ``results/benchmark.csv`` (no date, no machine: bit-identical on every run) and ``benchmark.md``."""
    buf = io.StringIO()
    buf.write(f"# convention: {convention}\n# command: notebooks/07_report.ipynb\n")
    writer = csv.DictWriter(buf, ["model", "source", "scale", "dataset", "psnr", "ssim"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows(ours, published))
    atomic_write(csv_path, lambda tmp: Path(tmp).write_text(buf.getvalue()))
    md = benchmark_markdown(ours, published, convention)
    atomic_write(md_path, lambda tmp: Path(tmp).write_text(md))


def parse_markdown(text):
    """{(model, scale, dataset): (psnr, ssim or None)} of the tables :func:`benchmark_markdown` writes, in ``text``."""
    found, scale, datasets = {}, None, []
    for line in text.splitlines():
        if m := re.match(r"\*\*x(\d+)\*\*", line):
            scale = int(m.group(1))
        elif line.startswith("| model |") and scale is not None:
            datasets = [c.strip() for c in line.strip("|").split("|")][1:]
        elif line.startswith("| ") and datasets and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            for dataset, value in zip(datasets, cells[1:], strict=True):
                if value != "–":
                    psnr, _, ssim = value.partition(" / ")
                    found[cells[0], scale, dataset] = (float(psnr), float(ssim) if ssim else None)
        elif not line.strip():
            datasets = []
    return found
