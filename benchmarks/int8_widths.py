"""The speed side of the int8 front: RTSR x3 at several widths and kernels, int8 network time on a 640x360 Y frame.

    python benchmarks/int8_widths.py [--widths 64,32 48,24 32,32 32,16 64,32,32:3,3,3,3] [--frames 20]

A design is its hidden widths, optionally ``:`` and its kernel sides, one per hidden layer plus the output layer
(default: 5 x 5 first, 3 x 3 after, as espcn-x3). Each design is built (:func:`srlib.models.rtsr.rtsr`), made
fake-quant (:func:`srlib.quant.quantize_model`), its ranges set from one batch of T91 crops
(:func:`srlib.quant.calibrate`; trained weights would change the ranges, not the graph or its cost), exported to int8
(:func:`srlib.inference.lite.to_tflite`) and run by the int8 engine (:class:`srlib.inference.lite.LiteFile`, XNNPACK,
all cores) frame by frame, round-robin over the designs, on the same random uint8 640x360 luma frames through
:meth:`~srlib.inference.lite.LiteFile.grey_levels` (the path video takes; float frames would add a NumPy quantising pass
to every call): median milliseconds per frame, with the
multiply-adds per output pixel beside them (:func:`srlib.models.cost.macs_per_output_pixel`). Untrained: this says which
designs fit a frame budget, not their quality. Prints a table; writes nothing.
"""

import argparse
import time

import numpy as np

from srlib.data import make_dataset
from srlib.inference.lite import LiteFile, to_tflite
from srlib.models.cost import macs_per_output_pixel
from srlib.models.rtsr import rtsr
from srlib.quant import calibrate, quantize_model
from srlib.sources import datasets


def design(text):
    """'64,32' or '64,32,32:3,3,3,3' -> (filters, kernels)."""
    widths, _, sides = text.partition(":")
    try:
        filters = tuple(int(v) for v in widths.split(","))
        kernels = tuple(int(v) for v in sides.split(",")) if sides else (5,) + (3,) * len(filters)
    except ValueError:
        raise SystemExit(f"--widths {text}: want integers, e.g. 64,32 or 64,32,32:3,3,3,3") from None
    if len(kernels) != len(filters) + 1:
        raise SystemExit(f"--widths {text}: want one kernel side per hidden layer plus the output layer")
    return filters, kernels


def engines(designs, batch):
    """{design label: (LiteFile, MACs per output pixel)} of untrained int8 RTSR x3 models."""
    out = {}
    for filters, kernels in designs:
        model = rtsr(3, 1, filters=filters, kernels=kernels)
        q = calibrate(quantize_model(model), batch)
        label = "/".join(map(str, filters)) + " k" + "".join(map(str, kernels))
        out[label] = (LiteFile(to_tflite(q)), macs_per_output_pixel(model, 3))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--widths", nargs="+", default=["64,32", "48,24", "32,32", "32,16"],
                   help="designs: hidden widths w1,w2[,...], optionally :k1,k2,...,k_out")
    p.add_argument("--frames", type=int, default=20, help="timed frames per design (after one warm-up)")
    args = p.parse_args(argv)
    designs = [design(w) for w in args.widths]
    lr, _ = next(iter(make_dataset(datasets.path("T91"), 3, patch_size=24, batch_size=16, seed=0)))
    nets = engines(designs, lr.numpy())
    frames = np.random.default_rng(0).integers(16, 236, (args.frames + 1, 1, 360, 640, 1), dtype=np.uint8)
    times = {k: [] for k in nets}
    for i, frame in enumerate(frames):
        for k, (net, _) in nets.items():
            t = time.perf_counter()
            net.grey_levels(frame)
            if i:  # frame 0 warms up every engine
                times[k].append(1000 * (time.perf_counter() - t))
    print(f"{'design':>20} {'MACs/px':>9} {'ms/frame':>9} {'fps':>6}")
    for k, (_, macs) in nets.items():
        ms = float(np.median(times[k]))
        print(f"{k:>20} {macs:9.0f} {ms:9.1f} {1000 / ms:6.1f}")


if __name__ == "__main__":
    main()
