"""The x3 model for real inputs: RTSR trained on compressed LR, scored where real inputs are.

    nice -n 10 python benchmarks/real_model.py [--degradation bicubic_codec] [--epochs 40] [--start RUN]
                                               [--score-only] [--ship]

1. Training (resumable, checkpoints every epoch under ``$SRLIB_RUNS/real_rtsr_x3_<degradation>_e<epochs>``):
   :func:`srlib.models.rtsr.rtsr` x3, 64 / 32 filters (espcn-x3's convolutions: the same cost), on T91 + BSD200
   degraded by ``bicubic_codec`` (:func:`srlib.mixtures.bicubic_codec`: MATLAB bicubic, then per image nothing,
   JPEG at quality 30-95 or H.264 at CRF 18-38; its codec bank is built once under ``$SRLIB_RUNS/degraded``) or
   another registry entry (``mixture_h264``: blur, four resize kernels, sensor noise and JPEG in a random order,
   then H.264, failed: see the chapter), validated on held-out training images under the same degradation's
   benchmark form; warm-started from the float RTSR of ``benchmarks/int8_model.py --arch rtsr`` (run
   ``rtsr_x3_f24_from_rtsr_x3_f12``: clean-trained), so it starts as a clean model and learns the codecs;
   ``--start RUN``: from another clean float RTSR run of that script instead, in its design (widths and kernels;
   a branched run's fused checkpoint), run folder + ``_from_<RUN>``.
2. Scores (benchmark convention, Y channel, border 3) of bicubic, espcn-x3 and this model, per image:
   Vid4 calendar and city by ``bicubic_h264_clip`` (MATLAB bicubic x3, then one H.264 stream per clip: libx264,
   preset medium, CRF 28, yuv420p, one thread; :func:`srlib.evaluate.evaluate_clip`), BSD100 by ``bicubic_jpeg``
   (JPEG quality 50), and clean Set5, Set14 and BSD100 (``bicubic``). The paired difference of this model against
   each, per image (per frame for a clip), with its 95 % bootstrap interval
   (:func:`srlib.research.stats.paired_bootstrap`), -> ``results/tables/real_model_<degradation>.csv``; then the
   acceptance verdict.
3. ``--ship``: export it into the zoo as ``rtsr-x3-real`` (card: its degradation, what it is for, its clean
   benchmark rows and the degraded ones) when every bar holds.
"""

import argparse
import json
import logging

import pandas as pd

from srlib import paths
from srlib.evaluate import evaluate, evaluate_clip
from srlib.inference.cards import BENCHMARK_SETS, benchmark_rows, compressed_rows, export
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.outputs import Outputs, write_csv
from srlib.research import stats
from srlib.sources import datasets
from srlib.training.experiment import Recipe, best, train

NAME = "rtsr-x3-real"
START = "rtsr_x3_f24_from_rtsr_x3_f12"  # the clean float RTSR it starts from, by default (espcn-x3's cost)
CLEAN = "espcn-x3"  # the clean model of the same cost
GAIN, CLEAN_TOLERANCE = 0.5, 0.5  # dB: the acceptance bars
# (test set, folder kind, LR degradation): the compressed inputs the bars name, then clean LR
TESTS = [("Vid4 calendar", "clip", "bicubic_h264_clip"), ("Vid4 city", "clip", "bicubic_h264_clip"),
         ("BSD100", "images", "bicubic_jpeg"), *((s, "images", "bicubic") for s in BENCHMARK_SETS)]


def recipe(degradation, epochs, start=START):
    """The training recipe, warm-started from the best checkpoint of the clean float RTSR run ``start`` of
    benchmarks/int8_model.py (``best_fused.keras`` of a branched run), in its design."""
    run = paths.runs_dir() / start
    design = json.loads((run / "run.json").read_text())["recipe"]["args"]
    args = {k: v for k, v in design.items() if k in ("filters", "kernels")}
    checkpoint = run / ("best_fused.keras" if design.get("branches") else "best.keras")
    return Recipe("rtsr", scale=3, args=args, degradation=degradation, patch=24, batch=32, steps=500, epochs=epochs,
                  learning_rate=2e-4, precision="fp32", seed=1, val="holdout", warm_start=str(checkpoint))


def folder(test):
    """The HR folder of a test set name ('Vid4 calendar' -> its frames)."""
    if test.startswith("Vid4 "):
        return paths.vid4()[test.split()[1]]
    return datasets.require(test)


def per_image(upscalers):
    """Long table: one row per (test, lr, method, image) with psnr and ssim."""
    rows = []
    for test, kind, degradation in TESTS:
        for method, up in upscalers.items():
            run = evaluate_clip if kind == "clip" else evaluate
            result = run(up, folder(test), 3, degradation=degradation, progress=False)
            rows += [{"test": test, "lr": degradation, "method": method, "image": r["image"], "psnr": r["psnr"],
                      "ssim": r["ssim"]} for r in result["rows"]]
            logging.info("%s %s %s: %.2f dB", test, degradation, method, result["mean"]["psnr"])
    return pd.DataFrame(rows)


def comparisons(scores):
    """Per (test, lr): each method's mean, and this model minus bicubic / espcn-x3 with the 95 % interval."""
    rows = []
    for (test, lr), group in scores.groupby(["test", "lr"], sort=False):
        wide = group.pivot(index="image", columns="method", values="psnr")
        ssim = group.groupby("method")["ssim"].mean()
        row = {"test": test, "lr": lr, "images": len(wide)}
        for method in wide.columns:
            row[f"psnr_{method}"], row[f"ssim_{method}"] = wide[method].mean(), ssim[method]
        for other in ("bicubic", CLEAN):
            d, low, high, _ = stats.paired_bootstrap((wide[NAME] - wide[other]).to_numpy())
            row |= {f"d_{other}": d, f"d_{other}_low": low, f"d_{other}_high": high}
        rows.append(row)
    return rows


def verdict(rows):
    """{check: met}: the compressed gains (>= GAIN dB, interval above 0) and the clean tolerance."""
    checks = {}
    for r in rows:
        where = f"{r['test']} {r['lr']}"
        if r["lr"] == "bicubic":
            if r["test"] in ("Set5", "Set14"):
                checks[f"{where}: within {CLEAN_TOLERANCE} dB of {CLEAN}"] = r[f"d_{CLEAN}"] >= -CLEAN_TOLERANCE
            continue
        for other in ("bicubic", CLEAN):
            met = r[f"d_{other}"] >= GAIN and r[f"d_{other}_low"] > 0
            checks[f"{where}: >= {GAIN} dB over {other}, interval above 0"] = met
    return checks


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--degradation", default="bicubic_codec", help="the training degradation (a registry name)")
    p.add_argument("--epochs", type=int, default=40, help="epochs of 500 steps")
    p.add_argument("--start", default=START, help="the clean float RTSR run (under $SRLIB_RUNS) to start from")
    p.add_argument("--score-only", action="store_true", help="score the best checkpoint so far, no training")
    p.add_argument("--ship", action="store_true", help=f"export {NAME} into the zoo when every bar holds")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not (paths.runs_dir() / args.start / "run.json").is_file():
        raise SystemExit(f"--start {args.start}: no training run there ({paths.display(paths.runs_dir())})")
    rec = recipe(args.degradation, args.epochs, args.start)
    run = paths.runs_dir() / (f"real_rtsr_x3_{args.degradation}_e{args.epochs}"
                              + (f"_from_{args.start}" if args.start != START else ""))
    if not args.score_only:
        train(rec, run, verbose=2)
    model = best(run)
    scores = per_image({"bicubic": Bicubic(3), CLEAN: load_upscaler(CLEAN), NAME: ModelUpscaler(model, 3, name=NAME)})
    rows = comparisons(scores)
    out = Outputs("full")
    write_csv(out(f"tables/real_model_{args.degradation}.csv"),
              [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
              notes={"comparison": f"{NAME} minus each method: mean per-image (per-frame for a clip) PSNR-Y "
                                   "difference, 95 % paired bootstrap interval (B = 10000, seed 0)",
                     "run": f"{run.name}, best validation checkpoint (held-out training images, {args.degradation})"})
    checks = verdict(rows)
    for check, met in checks.items():
        print(f"  {check}: {'met' if met else 'NOT met'}")
    if args.ship:
        if not all(checks.values()):
            raise SystemExit(f"{NAME} not shipped: it must meet every bar")
        up = ModelUpscaler(model, 3, name=NAME)  # its card rows: clean LR, then as every card's compressed rows
        rows = benchmark_rows(up, 3, {s: datasets.require(s) for s in BENCHMARK_SETS}) + compressed_rows(up, 3)
        export(model, NAME, rec, pd.read_csv(run / "log.csv"), run, benchmark=rows,
               architecture=f"RTSR: {'-'.join(map(str, rec.args.get('kernels', (5, 3, 3))))}, "
                            f"{'/'.join(map(str, rec.args['filters']))} filters, ReLU, + nearest-neighbour "
                            "residual, Y channel",
               extra={"for": f"compressed inputs: H.264 video and JPEG photos (trained on {args.degradation})"})
        print(f"shipped {NAME} -> {paths.display(paths.weights_dir())}")


if __name__ == "__main__":
    main()
