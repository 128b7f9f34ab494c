"""Re-score the shipped models' cards from their weights: every benchmark row measured again, scored_on this machine.

For each zoo model (or those named): Set5, Set14 and BSD100 at each scale its card scores, on its own degradation
when the card has rows on it (:func:`srlib.inference.cards.rescored`; digit models: the MNIST test half they never
trained on), and every other row of the card on its own LR (the compressed-input rows by
:func:`srlib.inference.cards.compressed_rows`), then the card is written back with the same schema
(:func:`srlib.inference.cards.write_card`); the training record (``trained_on``, wall time, recipe) is kept. Prints one
line per row that moved (old -> new) or was dropped, and the seconds each model took.

Usage:
  python benchmarks/rescore_cards.py [NAME ...] [--scales 2 3] [--dry-run]
  python benchmarks/rescore_cards.py --compressed NAME ... [--dry-run]

``--scales`` limits an arbitrary-scale model to those of its scales (the other rows are kept as they were);
``--compressed`` adds or refreshes only the compressed-input rows of the named photo models
(:data:`srlib.inference.cards.COMPRESSED_ROWS`: BSD100 ``bicubic_jpeg``, Vid4 ``bicubic_h264_clip``; what
:mod:`srlib.app.choose` ranks JPEG photos and videos by; an arbitrary-scale model at each of its scales, or those of
``--scales``) and keeps their other rows; ``--dry-run`` prints without writing. Run it again after a change to the
upscalers (tiling, colour) that may move the rows; ``results/benchmark.csv`` is notebook 07's and is not touched here.
"""

import argparse
import logging
import time

from srlib.inference import zoo
from srlib.inference.cards import COMPRESSED_ROWS, benchmark_rows, compressed_rows, rescored, write_card
from srlib.inference.infer import load_upscaler
from srlib.precision import machine
from srlib.sources import datasets


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="zoo names (default: all)")
    p.add_argument("--scales", nargs="*", type=float, help="only these scales of arbitrary-scale models")
    p.add_argument("--compressed", action="store_true", help="only the compressed-input rows of the named models")
    p.add_argument("--dry-run", action="store_true", help="print, do not write the cards")
    args = p.parse_args(argv)
    if args.compressed and not args.names:
        p.error("--compressed: name the models to score")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.names or zoo.names():
        old = zoo.card(name)
        start = time.perf_counter()
        scales = [s for s in old.scales if not args.scales or s in args.scales] if old.arbitrary_scale else None
        if args.compressed:
            new = _with_compressed(name, old, [old.scale] if scales is None else scales)
        else:
            own = any(r["lr"] == old.degradation for r in old.benchmark)  # a card may hold clean rows only
            new = rescored(name, scales=scales) if own else {**old.raw, "scored_on": machine()}
            redone = (new["benchmark"] if own else []) + _other_lr(name, old, scales or old.scales)
            kept = [r for r in old.benchmark if scales is not None and r["scale"] not in scales]
            new["benchmark"] = sorted(kept + redone, key=_order)
            new["scales"] = sorted({r["scale"] for r in new["benchmark"]})
        for row in new["benchmark"]:
            before = old.row(row["dataset"], row["scale"], row["lr"])
            if before != row:
                was = f"{before['psnr']:.2f} / {before['ssim']:.4f}" if before else "none"
                print(f"{name} x{row['scale']} {row['dataset']} {row['lr']}: {was} -> "
                      f"{row['psnr']:.2f} / {row['ssim']:.4f}")
        fresh = {(r["dataset"], r["scale"], r["lr"]) for r in new["benchmark"]}
        for row in old.benchmark:
            if (row["dataset"], row["scale"], row["lr"]) not in fresh:
                print(f"{name} x{row['scale']} {row['dataset']} {row['lr']}: dropped")
        if not args.dry_run:
            write_card(new)
        print(f"{name}: {time.perf_counter() - start:.0f} s")


def _with_compressed(name, old, scales):
    """The card dict of ``name`` with its compressed-input rows at ``scales`` measured from its weights (added, or
    replacing those it had) and its other rows kept; ValueError for a model that is not a photo model."""
    if old.task != "photo":
        raise ValueError(f"{name}: compressed-input rows are for photo models, not {old.task}")
    rows = [r for s in scales for r in compressed_rows(load_upscaler(name, s if old.arbitrary_scale else None), s)]
    fresh = {(r["dataset"], r["scale"], r["lr"]) for r in rows}
    kept = [r for r in old.benchmark if (r["dataset"], r["scale"], r["lr"]) not in fresh]
    raw = {**old.raw, "benchmark": sorted(kept + rows, key=_order), "scored_on": machine()}
    return {**raw, "scales": sorted({r["scale"] for r in raw["benchmark"]})}


def _other_lr(name, old, scales):
    """The rows of ``old`` at ``scales`` on LR other than its degradation, measured again: the compressed-input
    rows by :func:`srlib.inference.cards.compressed_rows`, any other by :func:`srlib.inference.cards.benchmark_rows` on
    its LR."""
    rows = []
    for scale in scales:
        others = [r for r in old.benchmark if r["scale"] == scale and r["lr"] != old.degradation]
        if not others:
            continue
        up = load_upscaler(name, scale if old.arbitrary_scale else None)
        if any((r["dataset"], r["lr"]) in COMPRESSED_ROWS for r in others):
            rows += compressed_rows(up, scale)
        plain = [r for r in others if (r["dataset"], r["lr"]) not in COMPRESSED_ROWS]
        for lr in dict.fromkeys(r["lr"] for r in plain):
            sets = {r["dataset"]: datasets.require(r["dataset"]) for r in plain if r["lr"] == lr}
            rows += benchmark_rows(up, scale, sets, lr)
    return rows


def _order(row):
    """Rows by scale, then LR (bicubic first), then Set5, Set14, BSD100, others."""
    sets = ("Set5", "Set14", "BSD100")
    return row["scale"], row["lr"] != "bicubic", row["lr"], sets.index(row["dataset"]) if row["dataset"] in sets else 3


if __name__ == "__main__":
    main()
