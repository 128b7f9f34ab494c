"""Peak memory of ``srlib.upscale`` on a large image: 8000 x 8000 RGB uint8, x2 with ``espcn-x2``.

Runs in this process: notes the peak resident set size (RSS) after TensorFlow and the model are loaded (a 64 x 64
warm-up), builds the image (a smooth gradient plus noise, uint8, 192 MB), upscales it in tiles (default tile side),
and notes the peak again. The output alone is 16000 x 16000 x 3 uint8 = 768 MB; a float32 output would be 3 GB.

Usage:
  python benchmarks/upscale_memory.py [--side 8000] [--model espcn-x2] [--out CSV]

Prints and writes one row ('#' header: date, machine, command). Target: peak RSS under 3 GB (3072 MiB).
"""

import argparse
import resource
import time

import numpy as np


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=8000)
    p.add_argument("--model", default="espcn-x2")
    p.add_argument("--out", help="CSV to write (default: results/tables/upscale_memory.csv, recorded as the full "
                   "profile's in results/provenance.json)")
    args = p.parse_args()
    import srlib
    from srlib.outputs import Outputs, write_timing

    srlib.upscale(np.zeros((64, 64, 3), np.uint8), args.model)
    loaded = peak_mib()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 200, args.side, dtype=np.float32)
    image = np.empty((args.side, args.side, 3), np.uint8)
    for i in range(0, args.side, 1000):  # built in strips: no full-size float temporary
        rows = ramp[i : i + 1000, None, None] * 0.5 + ramp[None, :, None] * 0.5
        image[i : i + 1000] = np.clip(rows + rng.normal(0, 8, (len(rows), args.side, 3)), 0, 255).astype(np.uint8)
    t = time.perf_counter()
    out = srlib.upscale(image, args.model)
    row = {"input": f"{args.side}x{args.side} RGB uint8", "model": args.model, "output": "x".join(map(str, out.shape)),
           "peak_rss_loaded_mib": round(loaded), "peak_rss_mib": round(peak_mib()),
           "seconds": round(time.perf_counter() - t, 1)}
    print(row)
    table = args.out or Outputs("full")("tables/upscale_memory.csv")
    write_timing(table, [row], notes={"target": "peak RSS under 3072 MiB (whole process)"})


if __name__ == "__main__":
    main()
