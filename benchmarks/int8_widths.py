"""The speed side of the int8 front: RTSR x3 at several widths, int8 network time on a 640x360 Y frame.

    python benchmarks/int8_widths.py [--widths 64,32 48,24 32,32 32,16] [--frames 20]

Each width is built (:func:`srlib.models.rtsr.rtsr`), made fake-quant (:func:`srlib.quant.quantize_model`), its
ranges set from one batch of T91 crops (:func:`srlib.quant.calibrate`; trained weights would change the ranges, not
the graph or its cost), exported to int8 (:func:`srlib.quant.to_tflite`) and run by the int8 engine
(:class:`srlib.lite.LiteFile`, XNNPACK, all cores) frame by frame, round-robin over the widths, on the same random
640x360 luma frames: median milliseconds per frame, with the multiply-adds per output pixel beside them
(:func:`srlib.cost.macs_per_output_pixel`). Untrained: this says which widths fit a frame budget, not their quality.
Prints a table; writes nothing.
"""

import argparse
import time

import numpy as np

from srlib import datasets
from srlib.cost import macs_per_output_pixel
from srlib.data import make_dataset
from srlib.lite import LiteFile
from srlib.models.rtsr import rtsr
from srlib.quant import calibrate, quantize_model, to_tflite


def engines(widths, batch):
    """{width label: (LiteFile, MACs per output pixel)} of untrained int8 RTSR x3 models."""
    out = {}
    for w in widths:
        model = rtsr(3, 1, filters=w)
        q = calibrate(quantize_model(model), batch)
        out["/".join(map(str, w))] = (LiteFile(to_tflite(q)), macs_per_output_pixel(model, 3))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--widths", nargs="+", default=["64,32", "48,24", "32,32", "32,16"], help="hidden widths, w1,w2")
    p.add_argument("--frames", type=int, default=20, help="timed frames per width (after one warm-up)")
    args = p.parse_args(argv)
    widths = [tuple(int(v) for v in w.split(",")) for w in args.widths]
    lr, _ = next(iter(make_dataset(datasets.path("T91"), 3, patch_size=24, batch_size=16, seed=0)))
    nets = engines(widths, lr.numpy())
    frames = np.random.default_rng(0).random((args.frames + 1, 1, 360, 640, 1), dtype=np.float32)
    times = {k: [] for k in nets}
    for i, frame in enumerate(frames):
        for k, (net, _) in nets.items():
            t = time.perf_counter()
            net(frame)
            if i:  # frame 0 warms up every engine
                times[k].append(1000 * (time.perf_counter() - t))
    print(f"{'widths':>8} {'MACs/px':>9} {'ms/frame':>9} {'fps':>6}")
    for k, (_, macs) in nets.items():
        ms = float(np.median(times[k]))
        print(f"{k:>8} {macs:9.0f} {ms:9.1f} {1000 / ms:6.1f}")


if __name__ == "__main__":
    main()
