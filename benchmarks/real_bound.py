"""How much can a network of the real-input model's cost gain on compressed Vid4 at all? An oracle: trained on the test.

    nice -n 10 python benchmarks/real_bound.py [--start RUN] [--steps 20000]

Issue 28's first bar asks the real-input model (RTSR at espcn-x3's cost) for +0.5 dB PSNR-Y over espcn-x3 on Vid4
calendar and city by ``bicubic_h264_clip`` (MATLAB bicubic x3, one H.264 stream per clip: libx264, CRF 28). Trained
on codec-degraded photos it gains a few hundredths of a dB (``benchmarks/real_model.py``). This asks whether any
training data could take a network of that design further: the best checkpoint of ``--start`` (a run of either
script under ``$SRLIB_RUNS``; default: the best real-input model) is fine-tuned on the very LR / HR frames it is then
scored on (random 24 x 24 LR patches of Y from both clips, batch 32, MSE, Adam at 1e-4, ``--steps``). Training on
the test frames is an oracle no model trained elsewhere is expected to beat, so where it stays under the bar, the bar
is out of reach for that design. A bound, never a result: the oracle is never shipped nor ranked.

Scores per frame (benchmark convention: Y, border 3) of bicubic, espcn-x3, the start and the oracle, and the oracle
minus espcn-x3 and minus bicubic with 95 % paired bootstrap intervals -> ``results/tables/real_bound_<start>.csv``.
"""

import argparse
import logging

import keras
import numpy as np
import tensorflow as tf

from srlib import color, paths
from srlib.degrade import benchmark_lr
from srlib.evaluate import evaluate_clip
from srlib.inference.infer import Bicubic, ModelUpscaler, load_upscaler
from srlib.io import list_images, load_image
from srlib.outputs import Outputs, write_csv
from srlib.research import stats
from srlib.training.experiment import best

START = "real_rtsr_x3_bicubic_codec_pan_e120"
CLEAN = "espcn-x3"
CLIPS = ("calendar", "city")
DEGRADATION = "bicubic_h264_clip"
PATCH, BATCH, SCALE = 24, 32, 3


def clip_pairs(name):
    """(LR Y, HR Y) frames of Vid4 clip ``name`` under :data:`DEGRADATION`: float32 (N, h, w, 1), (N, 3h, 3w, 1)."""
    folder = paths.vid4()[name]
    hr, lr = benchmark_lr(np.stack([load_image(f, channels=3) for f in list_images(folder, recursive=False)]),
                          SCALE, DEGRADATION)
    return color.rgb_to_y(lr).numpy(), color.rgb_to_y(hr).numpy()


def patches(pairs, seed=0):
    """Endless batches of aligned (LR, HR) Y patches, (BATCH, PATCH, PATCH, 1) and (BATCH, 3 PATCH, 3 PATCH, 1), from
    frames drawn uniformly across ``pairs`` ([(LR, HR)] per clip)."""
    frames = [(lr[i], hr[i]) for lr, hr in pairs for i in range(len(lr))]
    rng = np.random.default_rng(seed)
    while True:
        xs, ys = [], []
        for k in rng.integers(len(frames), size=BATCH):
            lr, hr = frames[k]
            a, b = rng.integers(lr.shape[0] - PATCH + 1), rng.integers(lr.shape[1] - PATCH + 1)
            xs.append(lr[a:a + PATCH, b:b + PATCH])
            ys.append(hr[SCALE * a:SCALE * (a + PATCH), SCALE * b:SCALE * (b + PATCH)])
        yield np.stack(xs), np.stack(ys)


def scores(upscalers):
    """{clip: {method: per-frame PSNR-Y array}} on :data:`DEGRADATION`."""
    return {c: {m: np.array([r["psnr"] for r in evaluate_clip(up, paths.vid4()[c], SCALE, DEGRADATION,
                                                             progress=False)["rows"]])
                for m, up in upscalers.items()} for c in CLIPS}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--start", default=START, help="a run under $SRLIB_RUNS whose best checkpoint is fine-tuned")
    p.add_argument("--steps", type=int, default=20_000, help="fine-tuning steps on the test frames")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run = paths.runs_dir() / args.start
    if not (run / "best.keras").is_file():
        raise SystemExit(f"--start {args.start}: no best.keras there ({paths.display(paths.runs_dir())})")
    start, oracle = best(run), best(run)
    keras.utils.set_random_seed(0)
    oracle.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    data = tf.data.Dataset.from_generator(
        lambda: patches([clip_pairs(c) for c in CLIPS]),
        output_signature=(tf.TensorSpec((BATCH, PATCH, PATCH, 1), tf.float32),
                          tf.TensorSpec((BATCH, SCALE * PATCH, SCALE * PATCH, 1), tf.float32))).prefetch(2)
    epochs = 10
    oracle.fit(data, steps_per_epoch=args.steps // epochs, epochs=epochs, verbose=2)
    psnr = scores({"bicubic": Bicubic(SCALE), CLEAN: load_upscaler(CLEAN), "start": ModelUpscaler(start, SCALE),
                   "oracle": ModelUpscaler(oracle, SCALE)})
    rows = []
    for clip, by in psnr.items():
        row = {"clip": clip, "frames": len(by["oracle"]), **{f"psnr_{m}": v.mean() for m, v in by.items()}}
        for other in ("bicubic", CLEAN, "start"):
            d, low, high, _ = stats.paired_bootstrap(by["oracle"] - by[other])
            row |= {f"d_{other}": d, f"d_{other}_low": low, f"d_{other}_high": high}
        rows.append(row)
        print(f"{clip}: oracle {row['psnr_oracle']:.2f} dB, {row[f'd_{CLEAN}']:+.2f} "
              f"[{row[f'd_{CLEAN}_low']:+.2f}, {row[f'd_{CLEAN}_high']:+.2f}] over {CLEAN}")
    write_csv(Outputs("full")(f"tables/real_bound_{args.start}.csv"), rows,
              notes={"oracle": f"best checkpoint of {args.start} fine-tuned {args.steps} steps on the Vid4 test frames "
                               f"({DEGRADATION}): an upper bound for its design, not a result",
                     "comparison": "oracle minus each method: mean per-frame PSNR-Y difference, 95 % paired bootstrap "
                                   "interval (B = 10000, seed 0)"})


if __name__ == "__main__":
    main()
