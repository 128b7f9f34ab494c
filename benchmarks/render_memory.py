"""Peak memory of rendering with the CPPN models at large sizes: one digit at 1800 x 1800, one photo at x8.

Each case runs in its own fresh process, which loads TensorFlow and the model (the shipped ``cppn-gan-mnist`` and
``cppn-any``; untrained models of the same architecture where they are not shipped: memory does not depend on the
weights), notes its peak resident set size (RSS), renders, and notes the peak again:

1. digit -- one 7 x 7 MNIST test digit (random pixels without MNIST) rendered at 1800 x 1800 by
   ``srlib.models.cppn_gan.render`` (encoder once, CPPN over tiles of 65,536 query points);
2. photo -- a 256 x 256 crop of Set14's largest image (a random image without Set14), RGB, upscaled x8 to
   2048 x 2048 by ``srlib.inference.infer.ImplicitUpscaler`` (Y through the CPPN in tiles, CbCr by MATLAB bicubic).

Usage:
  python benchmarks/render_memory.py [--out CSV]

Prints and writes (atomically, '#' header with date, machine, command) one row per case: peak RSS after loading,
peak RSS after rendering, and render seconds. The target is a peak under 2 GB.
"""

import argparse
import json
import subprocess
import sys

CASE = r"""
import json, resource, sys, time
import numpy as np
from srlib.inference import zoo
from srlib.sources import datasets
from srlib.sources.digits import digit_lr
from srlib.io import list_images, load_image
from srlib.models import cppn_gan as C
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
case = sys.argv[1]
rng = np.random.default_rng(0)
if case == "digit":
    model = zoo.load("cppn-gan-mnist") if "cppn-gan-mnist" in zoo.names() else C.digit_generator(7, latent=32, depth=4)
    lr = digit_lr(datasets.mnist("t10k")[:1], 7) if datasets.mnist_file("t10k") else rng.random((1, 7, 7, 1), "f4")
    run = lambda: C.render(model, lr, (1800, 1800))
    what = "one 7x7 digit rendered at 1800x1800"
else:
    from srlib.inference.infer import ImplicitUpscaler
    model = zoo.load("cppn-any") if "cppn-any" in zoo.names() else C.photo_generator()
    if datasets.is_present("Set14"):
        big = max(list_images(datasets.path("Set14")), key=lambda f: load_image(f).size)
        lr = load_image(big)[:256, :256]
    else:
        lr = rng.random((256, 256, 3), "f4")
    up = ImplicitUpscaler(model, 8)
    run = lambda: up(lr)
    what = f"RGB {lr.shape[1]}x{lr.shape[0]} upscaled x8"
loaded = peak()
t = time.perf_counter()
out = run()
print(json.dumps({"case": what, "output": "x".join(map(str, out.shape)), "peak_rss_loaded_mib": round(loaded),
                  "peak_rss_mib": round(peak()), "seconds": round(time.perf_counter() - t, 2),
                  "model": model.name}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="CSV to write (default: results/tables/render_memory.csv, recorded as the full "
                   "profile's in results/provenance.json)")
    args = p.parse_args()
    from srlib.outputs import Outputs, write_timing

    rows = []
    for case in ("digit", "photo"):
        done = subprocess.run([sys.executable, "-c", CASE, case], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    out = args.out or Outputs("full")("tables/render_memory.csv")
    write_timing(out, rows, notes={"target": "peak RSS under 2048 MiB (whole process: Python, TensorFlow, model)"})


if __name__ == "__main__":
    main()
