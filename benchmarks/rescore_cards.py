"""Re-score the shipped models' cards from their weights: every benchmark row measured again, scored_on this machine.

For each zoo model (or those named): Set5, Set14 and BSD100 at each scale its card scores, on its own degradation
(:func:`srlib.cards.rescored`; digit models: the MNIST test half they never trained on), then the card is written
back with the same schema (:func:`srlib.cards.write_card`); the training record (``trained_on``, wall time, recipe)
is kept. Prints one line per row that moved (old -> new) and the seconds each model took.

Usage:
  python benchmarks/rescore_cards.py [NAME ...] [--scales 2 3] [--dry-run]

``--scales`` limits an arbitrary-scale model to those of its scales (the other rows are kept as they were);
``--dry-run`` prints without writing. Run it again after a change to the upscalers (tiling, colour) that may move
the rows; ``results/benchmark.csv`` is notebook 07's and is not touched here.
"""

import argparse
import logging
import time

from srlib import zoo
from srlib.cards import rescored, write_card


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="zoo names (default: all)")
    p.add_argument("--scales", nargs="*", type=float, help="only these scales of arbitrary-scale models")
    p.add_argument("--dry-run", action="store_true", help="print, do not write the cards")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.names or zoo.names():
        old = zoo.card(name)
        scales = [s for s in old.scales if not args.scales or s in args.scales] if old.arbitrary_scale else None
        start = time.perf_counter()
        new = rescored(name, scales=scales)
        kept = [r for r in old.benchmark if scales is not None and r["scale"] not in scales]
        new["benchmark"] = sorted(kept + new["benchmark"], key=lambda r: (r["scale"], _order(r["dataset"])))
        new["scales"] = sorted({r["scale"] for r in new["benchmark"]})
        for row in new["benchmark"]:
            before = old.row(row["dataset"], row["scale"], row["lr"])
            if before != row:
                was = f"{before['psnr']:.2f} / {before['ssim']:.4f}" if before else "none"
                print(f"{name} x{row['scale']} {row['dataset']}: {was} -> {row['psnr']:.2f} / {row['ssim']:.4f}")
        if not args.dry_run:
            write_card(new)
        print(f"{name}: {time.perf_counter() - start:.0f} s")


def _order(dataset):
    return ("Set5", "Set14", "BSD100").index(dataset) if dataset in ("Set5", "Set14", "BSD100") else 3


if __name__ == "__main__":
    main()
