"""The int8 x3 model: quantisation-aware fine-tune of a float x3 model, its int8 TFLite export, its scores.

Architectures (``--arch``):

* ``espcn``: the shipped espcn-x3 itself, fine-tuned with fake quantisation (:mod:`srlib.quant`); run
  ``$SRLIB_RUNS/espcn_x3_int8``; its fp32 twin is espcn-x3.
* ``rtsr``: :func:`srlib.models.rtsr.rtsr` (ESPCN's layers plus a nearest-neighbour residual), first a float32
  fine-tune (run ``rtsr_x3_f<epochs>``: the fp32 twin) warm-started from espcn-x3's hidden layers with its output layer
  zeroed (``rtsr_x3_start.keras``: the network starts as the nearest-neighbour upscale and learns the
  correction; espcn-x3's own output layer would start it near twice the image), then its QAT fine-tune
  (``rtsr_x3_f<epochs>_int8``); ``--float-start`` continues a finished float run instead. ``--branches``: the float
  run trains the re-parameterised RTSR (``rtsr(..., branches=True)``, ECBSR's branches; run name + ``_rep``), started
  as exactly the plain start (:func:`srlib.models.rtsr.rtsr_branched_from`, ``<run>_start.keras``); its best
  checkpoint is fused into the plain RTSR (``best_fused.keras`` in its run), which the QAT run starts from: the int8
  model has the plain model's cost.
* ``rtsr`` with ``--filters`` / ``--kernels``: another RTSR design (e.g. ``--filters 64 32 32 --kernels 3 3 3 3``:
  a 3 x 3 first layer, about half the 5 x 5's int8 time on one channel, and one more 32-wide layer), trained from
  scratch (no espcn-x3 layers fit it) at espcn-x3's learning rate for ``--float-epochs`` x ``--float-steps``; run
  ``rtsr_x3_<filters>_k<kernels>_f<epochs>x<steps>`` (+ ``_rep``), its QAT run + ``_int8``. With ``--float-start``
  (a design that extends the start's by layers as wide as the one before, e.g. ``--filters 64 32 32 --kernels
  5 3 1 3`` from a 5-3-3 run): the finished run deepened by identity layers
  (:func:`srlib.models.rtsr.rtsr_deepened_from`, ``<run>_start.keras``), continued at lr 1e-4; run name +
  ``_from_<float_start>``.

Steps (each resumable: run the same command again after a crash or to continue a stopped run):

1. training, checkpoints every epoch under ``$SRLIB_RUNS`` (:func:`srlib.training.experiment.train`);
2. the best QAT checkpoint converted to int8 (:func:`srlib.inference.lite.to_tflite`, written as ``best_int8.tflite`` in
   its run) and scored through the int8 engine itself (:class:`srlib.inference.lite.LiteFile`, whole images at their
   size) on Set5, Set14 and BSD100 x3, beside its fp32 twin; prints the acceptance verdict;
3. ``--ship``: export it into the zoo as ``espcn-x3-int8`` / ``rtsr-x3-int8`` (.tflite + card + log) when it meets
   every bar (Set5 >= SRCNN's 32.75; within 0.1 dB of its fp32 twin on Set5; Set14 / BSD100 no more than 0.1 dB
   under espcn-x3).

Usage:
  nice -n 10 python benchmarks/int8_model.py [--arch espcn|rtsr] [--epochs 24] [--steps 500]
                                             [--float-epochs 12] [--float-start RUN] [--branches]
                                             [--filters 64 32 32 --kernels 3 3 3 3 --float-steps 2000]
                                             [--score-only] [--ship]
"""

import argparse
import dataclasses
import logging
import time

import keras
import pandas as pd

from srlib import paths
from srlib.evaluate import published
from srlib.inference import zoo
from srlib.inference.cards import BENCHMARK_SETS, benchmark_rows, export
from srlib.inference.infer import LiteUpscaler, ModelUpscaler
from srlib.inference.lite import LiteFile, to_tflite
from srlib.models.rtsr import RepConv2D, fuse, rtsr_branched_from, rtsr_deepened_from
from srlib.sources import datasets
from srlib.training.experiment import Recipe, best, build, train

SHIPPED = "espcn-x3"  # the float model the int8 one must stay within 0.1 dB of on Set14 and BSD100
TOLERANCE = 0.1  # dB
ARGS = {"espcn": {"activation": "relu", "filters": [64, 32]}, "rtsr": {"filters": [64, 32]}}


def design(filters, kernels):
    """RTSR's builder arguments: espcn-x3's widths and kernels (``ARGS['rtsr']``) when ``filters`` is None."""
    return {"filters": list(filters), "kernels": list(kernels)} if filters else ARGS["rtsr"]


def recipes(arch, epochs, steps, float_epochs=12, float_start=None, branches=False, filters=None, kernels=None,
            float_steps=None, patch=24):
    """{run folder name: Recipe} in training order: the QAT fine-tune last (float32: fake-quant runs there).

    RTSR's float run ``rtsr_x3_f<float_epochs>`` (``_from_<float_start>``: continued from that run's best
    checkpoint at half the learning rate, instead of from espcn-x3's hidden layers; ``_rep``: ``branches``, the
    re-parameterised RTSR, started by :func:`branched_start`), its QAT run the same name + ``_int8`` (from the float
    run's ``best_fused.keras`` with ``branches``: :func:`write_fused`). ``filters`` and ``kernels``: another RTSR
    design, its float run from scratch (learning rate 1e-3, ``float_steps`` steps per epoch). ``patch``: the LR
    patch side of both runs (batch 32 x (24 / patch)^2: the same pixels per step; run names + ``_p<patch>``): with
    'same' zero padding the outer 4 LR pixels of a patch see zeros the whole image does not have, more than half a
    24-pixel patch and under a third of a 48-pixel one."""
    if arch == "espcn":
        return {"espcn_x3_int8": Recipe("espcn", scale=3, args=ARGS["espcn"], warm_start=SHIPPED, quantize="int8",
                                        precision="fp32", learning_rate=5e-5, steps=steps, epochs=epochs)}
    args, float_steps = design(filters, kernels), float_steps or steps
    float_args = {**args, "branches": True} if branches else args
    size = {"patch": patch, "batch": max(1, round(32 * (24 / patch) ** 2))}
    tag = f"_p{patch}" if patch != 24 else ""
    if filters:
        float_run = (f"rtsr_x3_{'-'.join(map(str, filters))}_k{''.join(map(str, kernels))}"
                     f"_f{float_epochs}x{float_steps}" + (f"_from_{float_start}" if float_start else "")
                     + tag + "_rep" * branches)
        start = {}
        if float_start:  # the finished run's function, deepened by identity layers, goes on training
            start = {"warm_start": str(deepened_start(paths.runs_dir() / float_start / "best.keras", args, float_run))}
        float_recipe = Recipe("rtsr", scale=3, args=float_args, precision="fp32",
                              learning_rate=1e-4 if float_start else 1e-3, steps=float_steps, epochs=float_epochs,
                              **start, **size)
    else:
        float_run = (f"rtsr_x3_f{float_epochs}" + (f"x{float_steps}" if float_steps != steps else "")
                     + (f"_from_{float_start}" if float_start else "") + tag + "_rep" * branches)
        start = paths.runs_dir() / float_start / "best.keras" if float_start else rtsr_start()
        float_recipe = Recipe("rtsr", scale=3, args=float_args, precision="fp32",
                              warm_start=str(branched_start(start, float_run) if branches else start),
                              learning_rate=1e-4 if float_start else 2e-4, steps=float_steps,
                              epochs=float_epochs, **size)
    return {
        float_run: float_recipe,
        f"{float_run}_int8": Recipe("rtsr", scale=3, args=args, quantize="int8", precision="fp32",
                                    warm_start=str(paths.runs_dir() / float_run
                                                   / ("best_fused.keras" if branches else "best.keras")),
                                    learning_rate=5e-5, steps=steps, epochs=epochs, **size),
    }


def rtsr_start():
    """``$SRLIB_RUNS/rtsr_x3_start.keras``: espcn-x3's weights with its output layer zeroed (written once)."""
    file = paths.runs_dir() / "rtsr_x3_start.keras"
    if not file.exists():
        model = zoo.load(SHIPPED)
        last = [layer for layer in model.layers if layer.weights][-1]
        last.set_weights([w * 0 for w in last.get_weights()])
        file.parent.mkdir(parents=True, exist_ok=True)
        model.save(file)
    return file


def deepened_start(start, args, run):
    """``$SRLIB_RUNS/<run>_start.keras`` (written once): the plain RTSR ``start`` (a .keras file) deepened to the
    design ``args`` (filters, kernels) by identity layers (:func:`srlib.models.rtsr.rtsr_deepened_from`): the same
    outputs as ``start``."""
    file = paths.runs_dir() / f"{run}_start.keras"
    if not file.exists():
        rtsr_deepened_from(zoo.load_file(start), args["filters"], args["kernels"]).save(file)
    return file


def branched_start(start, run):
    """The start of the branched float run ``run``: ``start`` itself when it is a branched RTSR already (a ``_rep``
    run continued), else ``$SRLIB_RUNS/<run>_start.keras`` (written once): the branched RTSR that computes exactly
    what the plain RTSR warm-started from ``start`` computes (:func:`srlib.models.rtsr.rtsr_branched_from`)."""
    file = paths.runs_dir() / f"{run}_start.keras"
    if file.exists():
        return file
    if any(isinstance(layer, RepConv2D) for layer in zoo.load_file(start).layers):
        return start
    keras.utils.set_random_seed(1)  # the expand and edge 1 x 1 weights that start random
    plain = build(Recipe("rtsr", scale=3, args=ARGS["rtsr"], warm_start=str(start)))
    rtsr_branched_from(plain).save(file)
    return file


def write_fused(run_dir):
    """Write ``best_fused.keras`` in the branched run ``run_dir``: its best checkpoint fused into the plain RTSR
    (:func:`srlib.models.rtsr.fuse`), what the QAT run starts from."""
    fuse(best(run_dir)).save(run_dir / "best_fused.keras")


def twin_rows(runs, sets):
    """The fp32 twin's benchmark rows: espcn-x3's card, or the float run's best checkpoint scored here (fused into
    the plain RTSR for a branched run)."""
    if len(runs) == 1:
        card = zoo.card(SHIPPED)
        return [card.row(s, 3) for s in sets]
    run, rec = list(runs.items())[0]
    run_dir = paths.runs_dir() / run
    model = zoo.load_file(run_dir / "best_fused.keras") if rec.args.get("branches") else best(run_dir)
    return benchmark_rows(ModelUpscaler(model, 3), 3, {s: datasets.require(s) for s in sets})


def score(run_dir, name, sets):
    """(benchmark rows of the int8 engine, the TFLite bytes, the QAT model, its fake-quant Keras Set5 PSNR) of the
    best checkpoint of ``run_dir``; the .tflite is also written there."""
    model = best(run_dir)
    blob = to_tflite(model)
    (run_dir / "best_int8.tflite").write_bytes(blob)
    t = time.perf_counter()
    rows = benchmark_rows(LiteUpscaler(LiteFile(blob), 3, name=name), 3, {s: datasets.require(s) for s in sets})
    print(f"int8 engine scored in {time.perf_counter() - t:.0f} s")
    fake = benchmark_rows(ModelUpscaler(model, 3), 3, {"Set5": datasets.require("Set5")})[0]["psnr"]
    return rows, blob, model, fake


def verdict(rows, twin):
    """{check: (value, bar, met)}: the acceptance bars against SRCNN's published Set5 x3, the twin and espcn-x3."""
    shipped = zoo.card(SHIPPED)
    srcnn = published()[("SRCNN", 3, "Set5")][0]
    got = {r["dataset"]: r["psnr"] for r in rows}
    twin = {r["dataset"]: r["psnr"] for r in twin}
    checks = {"Set5 >= SRCNN": (got["Set5"], srcnn, got["Set5"] >= srcnn)}
    for s in got:
        bar = round(twin[s] - TOLERANCE, 2)
        checks[f"{s} >= fp32 twin - {TOLERANCE}"] = (got[s], bar, got[s] >= bar - 1e-9)
        if s != "Set5":
            bar = round(shipped.psnr(s, 3) - TOLERANCE, 2)
            checks[f"{s} >= {SHIPPED} - {TOLERANCE}"] = (got[s], bar, got[s] >= bar - 1e-9)
    return checks


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", choices=sorted(ARGS), default="espcn")
    p.add_argument("--epochs", type=int, default=24, help="epochs of the QAT fine-tune")
    p.add_argument("--float-epochs", type=int, default=12, help="epochs of RTSR's float fine-tune")
    p.add_argument("--float-start", help="continue RTSR's float fine-tune from this run folder's best checkpoint")
    p.add_argument("--branches", action="store_true",
                   help="train RTSR's float run re-parameterised (ECBSR branches), QAT the fused plain model")
    p.add_argument("--steps", type=int, default=500, help="steps per epoch")
    p.add_argument("--float-steps", type=int, help="steps per epoch of RTSR's float run (default: --steps)")
    p.add_argument("--patch", type=int, default=24, help="LR patch side of RTSR's runs (batch: the same pixels)")
    p.add_argument("--filters", type=int, nargs="+",
                   help="RTSR's hidden widths (with --kernels: from scratch, or --float-start deepened)")
    p.add_argument("--kernels", type=int, nargs="+", help="RTSR's kernel sides, one per hidden layer + output")
    p.add_argument("--score-only", action="store_true", help="score the best checkpoint so far, no training")
    p.add_argument("--sets", nargs="+", default=list(BENCHMARK_SETS))
    p.add_argument("--ship", action="store_true", help="export the int8 model into the zoo when it meets every bar")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.branches and args.arch != "rtsr":
        raise SystemExit("--branches: RTSR only (--arch rtsr)")
    if bool(args.filters) != bool(args.kernels) or (args.filters and args.arch != "rtsr"):
        raise SystemExit("--filters and --kernels go together, with --arch rtsr")
    if args.filters and len(args.kernels) != len(args.filters) + 1:
        raise SystemExit("--filters: one --kernels side per hidden layer plus the output layer")
    if args.filters and args.float_start and args.branches:
        raise SystemExit("--filters with --float-start (a deepened plain run): no --branches")
    runs = recipes(args.arch, args.epochs, args.steps, args.float_epochs, args.float_start, args.branches,
                   args.filters, args.kernels, args.float_steps, args.patch)
    if not args.score_only:
        for run, rec in runs.items():
            train(rec, paths.runs_dir() / run, verbose=2)
            if rec.args.get("branches"):
                write_fused(paths.runs_dir() / run)
    run, rec = list(runs.items())[-1]
    name = f"{args.arch}-x3-int8"
    rows, blob, model, fake = score(paths.runs_dir() / run, name, args.sets)
    twin = twin_rows(runs, args.sets)
    print(f"fake-quant Keras model Set5 x3: {fake:.2f} dB")
    print("int8 engine: " + ", ".join(f"{r['dataset']} {r['psnr']:.2f}" for r in rows))
    print("fp32 twin:   " + ", ".join(f"{r['dataset']} {r['psnr']:.2f}" for r in twin))
    checks = verdict(rows, twin)
    for check, (value, bar, met) in checks.items():
        print(f"  {check:32s} {value:6.2f} vs {bar:6.2f}: {'met' if met else 'NOT met'}")
    if args.ship:
        if not all(met for _, _, met in checks.values()) or set(args.sets) != set(BENCHMARK_SETS):
            raise SystemExit(f"{name} not shipped: it must meet every bar on {', '.join(BENCHMARK_SETS)}")
        log = pd.read_csv(paths.runs_dir() / run / "log.csv")
        if args.arch == "espcn":
            arch = "ESPCN 5-3-3, 64/32 filters, ReLU"
        else:
            shape = (f"{'-'.join(map(str, rec.args['kernels']))}, {'/'.join(map(str, rec.args['filters']))} filters"
                     if args.filters else "ESPCN 5-3-3, 64/32 filters")
            arch = (f"RTSR: {shape}, ReLU, + nearest-neighbour residual"
                    + (", trained with ECBSR re-parameterised branches, fused" if args.branches else ""))
        extra = {"engine": "tflite int8", "fp32_twin": twin, "fake_quant_set5_psnr": fake,
                 "io": "int8 in and out on grey levels (scale 1/255, zero point -128: a uint8 level minus 128), "
                       "int8 inside; srlib.inference.lite quantises float32 callers' inputs and outputs at the edges"}
        if len(runs) > 1:  # the card's steps and wall time are the QAT run's; the float run it started from:
            float_run, float_rec = list(runs.items())[0]
            float_log = pd.read_csv(paths.runs_dir() / float_run / "log.csv")
            extra["float_run"] = {"run": float_run, "steps": int(len(float_log) * float_rec.steps),
                                  "wall_time_s": float(float_log["wall_s"].iloc[-1]),
                                  "warm_start": float_rec.warm_start and paths.display(float_rec.warm_start)}
        rec = dataclasses.replace(rec, warm_start=paths.display(rec.warm_start))  # no machine path in the card
        export(model, name, rec, log, paths.runs_dir() / run, tflite=blob, benchmark=rows,
               architecture=f"{arch}, Y channel; int8 (QAT fine-tune), TFLite", extra=extra)
        print(f"shipped {name} -> {paths.display(zoo.path(name))}")


if __name__ == "__main__":
    main()
