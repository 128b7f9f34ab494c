"""Tiles one at a time or in batches: `srlib.upscale` on one image, the same tiles, batch 1 against batch 4.

A 1536 x 2048 LR photo-like image (a smooth gradient plus noise) is upscaled x2 with 256-pixel tiles (48 tiles, most
of one shape), by espcn-x2 and ae-skip-x2, alternating batch sizes over ``--rounds`` rounds; each figure is the median
of its rounds, and the ratio compares equal work (the same tiles, the same pixels out). Also the whole image in one
pass where memory allows, for scale.

Usage:
  python benchmarks/tiles.py [--rounds 3]

Writes results/tables/tiles_batch.csv through Outputs.
"""

import argparse
import os
import time

import numpy as np

from srlib.app.upscaling import upscale
from srlib.outputs import Outputs, write_timing
from srlib.precision import machine


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, 2048, dtype=np.float32)[None, :, None] + np.zeros((1536, 1, 3), np.float32)
    image = np.clip(ramp + rng.normal(0, 20, ramp.shape), 0, 255).astype(np.uint8)
    rows = []
    for model in ("espcn-x2", "ae-skip-x2"):
        upscale(image[:300, :300], model, tile=256)  # load and compile
        times = {1: [], 4: []}
        for _ in range(args.rounds):
            for batch in times:
                t = time.perf_counter()
                out = upscale(image, model, tile=256, batch=batch)
                times[batch].append(time.perf_counter() - t)
        one, four = (float(np.median(times[b])) for b in (1, 4))
        print(f"{model}: 48 tiles of 256 one at a time {one:.2f} s, four at a time {four:.2f} s "
              f"(batch 4 / batch 1 speed: {one / four:.2f}x); output {out.shape[1]} x {out.shape[0]}; "
              f"load average {os.getloadavg()[0]:.2f}")
        rows.append({"model": model, "tiles": 48, "tile": 256, "batch1_s": round(one, 2), "batch4_s": round(four, 2),
                     "speedup_batch4": round(one / four, 2)})
    print(machine())
    write_timing(Outputs("full")("tables/tiles_batch.csv"), rows, command="python benchmarks/tiles.py")


if __name__ == "__main__":
    main()
