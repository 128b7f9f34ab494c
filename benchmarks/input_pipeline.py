"""Input path for a device that trains faster than a host degrades: host pipeline throughput with and without the
degradation, the device step's pairing, and what ESPCN x3 consumes, in one process.

Same setting as ``loader.py``: x3, LR patch 17x17 (HR 51x51), batch 64, Y channel, 16 crops per decoded image,
decoded images cached in memory (a full first pass is the warm-up), ``$SRLIB_DATA_DIR/train/T91`` and ``BSD200``
(scikit-image photos if absent):

1. host, degradation on the host -- ``srlib.data.make_dataset(cache=True)``: crops, MATLAB bicubic LR (rounded),
   Y conversion, all in ``tf.data``: float32 (LR, HR) pairs.
2. host, uint8 HR crops only -- ``srlib.data.hr_batches(cache=True)``: what a step with the degradation moved into
   it needs from the host (a quarter of float32's bytes; no LR).
3. device step's pairing -- ``srlib.data.pair_fn(3)`` in a ``tf.function`` on one constant uint8 batch (the work
   moved from the host to the device).
4. ESPCN x3 consumption -- a training step of :class:`srlib.training.distributed.Step` (the multi-worker loop's, under
   the default strategy here) on one constant batch: on ready (LR, HR) pairs, and on uint8 HR crops paired inside
   the step; the first 10 steps are the warm-up.

Every row is timed in 5 rounds, the rows taking turns in each round (60 untimed batches first), and reports its
median round: on a machine shared with other jobs, rows timed one after the other would compare different loads.

Ratios: host uint8 crops / host with degradation (what moving the degradation frees on the host), and each host
pipeline / ESPCN consumption (above 1: the step never waits for data).

Usage:
  python benchmarks/input_pipeline.py [--quick] [--data DIR ...] [--out CSV]

Writes ``results/tables/input_pipeline.csv`` (``--quick``: the quick profile's copy; columns what, pairs_per_s,
bytes_per_pair; '#' header with date, machine, command, ratios and the load average) through
:class:`srlib.outputs.Outputs`.
"""

import argparse
import os
import time
from pathlib import Path

import keras
import tensorflow as tf

from srlib import data, paths
from srlib.io import list_images
from srlib.metrics import mse_loss
from srlib.models.espcn import espcn
from srlib.outputs import Outputs, write_timing
from srlib.sources import datasets
from srlib.training import distributed

SCALE, PATCH, BATCH, PER_IMAGE = 3, 17, 64, 16
HR = SCALE * PATCH


def log(msg):
    """Progress line on stdout, flushed at once."""
    print(msg, flush=True)


def warm(step, warmup):
    """``step`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    return step


def interleaved(steps, n, rounds=5, settle=60):
    """Median pairs/s of each of ``steps`` (name -> callable giving one batch of :data:`BATCH`) over ``rounds``
    rounds of ``n // rounds`` calls, the rows taking turns in every round (so a change in the machine's load hits
    all of them alike); each turn starts with ``settle`` untimed calls, which empty the batches a pipeline
    prefetched while the other rows ran."""
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            warm(step, settle)
            t = time.perf_counter()
            for _ in range(n // rounds):
                step()
            rates[name].append(n // rounds * BATCH / (time.perf_counter() - t))
    return {name: sorted(r)[rounds // 2] for name, r in rates.items()}


def host(ds, n_images):
    """One batch of a cached pipeline per call, after a whole first pass (decoding) as the warm-up."""
    it = iter(ds.prefetch(tf.data.AUTOTUNE))
    return warm(lambda: next(it), -(-n_images * PER_IMAGE // BATCH) + 2)


def device_pairing():
    """The bicubic LR + Y conversion of a uint8 HR batch in one ``tf.function``, one batch per call."""
    pair = tf.function(data.pair_fn(SCALE))
    hr = tf.cast(tf.random.stateless_uniform([BATCH, HR, HR, 3], [0, 0], 0, 256, tf.int32), tf.uint8)
    i = tf.constant(0, tf.int64)
    return warm(lambda: pair(i, hr)[0].numpy(), 3)


def espcn_step(on_device):
    """One training step of ESPCN x3 per call on a constant batch: ready (LR, HR) pairs, or (``on_device``) uint8
    HR crops that the step pairs itself."""
    model = espcn(SCALE)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=mse_loss)
    hr = tf.cast(tf.random.stateless_uniform([BATCH, HR, HR, 3], [0, 0], 0, 256, tf.int32), tf.uint8)
    i = tf.constant(0, tf.int64)
    pair = data.pair_fn(SCALE)
    batch = (i, hr) if on_device else pair(i, hr)
    model.train_on_batch(*pair(i, hr))  # builds the model's metrics and optimizer
    step = distributed.Step(tf.distribute.get_strategy(), model, pair if on_device else None)
    it = iter(tf.data.Dataset.from_tensors(batch).repeat())
    return warm(lambda: step(it)["loss"].numpy(), 10)


def main(argv=None):
    """Run the four measurements, print them and the ratios, write the CSV."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", type=Path, default=[datasets.path("T91"), datasets.path("BSD200")])
    p.add_argument("--quick", action="store_true", help="fewer batches: a few seconds per row")
    p.add_argument("--out", type=Path, help="CSV to write (default: results/tables/input_pipeline.csv)")
    args = p.parse_args(argv)
    folders = [str(f) for f in args.data if f.is_dir()] or [str(datasets.sample_folder("srlib_input_bench_"))]
    n_images = sum(len(list_images(f)) for f in folders)
    n, load = 100 if args.quick else 400, os.getloadavg()[0]
    log(f"{n_images} images in {', '.join(folders)}; x{SCALE}, LR {PATCH}x{PATCH}, batch {BATCH}, {n} batches a row")
    log("[1/2] warm-up: two cached pipelines (a whole pass each), the step's pairing, two ESPCN steps ...")
    steps = {"host: make_dataset, LR + Y on the host (float32 pairs)": host(
                 data.make_dataset(folders, SCALE, PATCH, batch_size=BATCH, cache=True, device=None), n_images),
             "host: hr_batches, uint8 HR crops only": host(data.hr_batches(folders, HR, BATCH, cache=True), n_images),
             "device step: pair_fn (bicubic LR + Y) alone": device_pairing(),
             "ESPCN x3 train step, pairing before (float32 pairs in)": espcn_step(False),
             "ESPCN x3 train step, pairing in the step (uint8 in)": espcn_step(True)}
    log(f"[2/2] {n} batches a row, in 5 interleaved rounds ...")
    rows = interleaved(steps, n)

    host_deg, host_u8 = rows["host: make_dataset, LR + Y on the host (float32 pairs)"], rows[
        "host: hr_batches, uint8 HR crops only"]
    consume, consume_dev = (rows["ESPCN x3 train step, pairing before (float32 pairs in)"],
                            rows["ESPCN x3 train step, pairing in the step (uint8 in)"])
    ratios = {"host uint8 crops / host with degradation": host_u8 / host_deg,
              "host with degradation / ESPCN step on pairs": host_deg / consume,
              "host uint8 crops / ESPCN step pairing in the step": host_u8 / consume_dev}
    width = max(map(len, rows | ratios))
    log("")
    for what, value in rows.items():
        log(f"{what:{width}s} {value:10.0f} pairs/s")
    for what, value in ratios.items():
        log(f"{what:{width}s} {value:10.1f} x")
    out = args.out or Outputs("quick" if args.quick else "full")("tables/input_pipeline.csv")
    sizes = {"host: make_dataset, LR + Y on the host (float32 pairs)": 4 * (PATCH**2 + HR**2),
             "host: hr_batches, uint8 HR crops only": 3 * HR**2}
    notes = {"data": f"{n_images} images in {', '.join(paths.display(f) for f in folders)}",
             "setting": f"x{SCALE}, LR {PATCH}x{PATCH}, HR {HR}x{HR}, batch {BATCH}, {PER_IMAGE} crops per image, "
                        "decoded images cached in memory; ESPCN x3 (64, 32) fp32, Y",
             "ratios": "; ".join(f"{k} = {v:.2f}" for k, v in ratios.items()),
             "load": f"1-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
                     f"({os.cpu_count()} cores; other processes share them)"}
    write_timing(out, [{"what": what, "pairs_per_s": f"{value:.0f}", "bytes_per_pair": sizes.get(what, "")}
                    for what, value in rows.items()], notes=notes)
    log(f"wrote {paths.display(out)}")


if __name__ == "__main__":
    main()
