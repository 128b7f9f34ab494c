"""Time to quality: wall time until ESPCN x3, trained from scratch, reaches a PSNR on Set5.

The shipped espcn-x3's recipe, read from its card (T91 + BSD200, MATLAB-bicubic LR, 24x24 Y
patches, batch 32, epochs of 2,000 steps, Adam with cosine decay over 90 epochs) at one precision;
after each epoch Set5 x3 is scored as the notebook's validation does (Y channel,
border 3). Stops at ``--target`` dB or after ``--max-minutes``. Wall time counts
training and validation (the first epoch also fills the decoded-image cache, as in the notebook).

Usage:
  python benchmarks/time_to_quality.py [--precision fp32|bf16|auto] [--target 32.5] [--max-minutes 60] [--steps 2000]

Adds a row to results/tables/time_to_quality.csv (machine, precision, epochs,
steps, samples/s, seconds to target or '' when not reached); the per-epoch log goes
to $SRLIB_RUNS/ttq_<precision>/log.csv.
"""

import argparse
import csv
import io
import time
from pathlib import Path

import keras

from srlib import paths
from srlib.io import atomic_write
from srlib.metrics import PSNR, mse_loss
from srlib.outputs import Outputs
from srlib.precision import auto_precision, machine, set_precision
from srlib.training.experiment import Recipe, build, datasets_for

RECIPE = Recipe.from_card("espcn-x3").replace(val="Set5", warm_start=None)  # the shipped x3's recipe, scored on Set5


class StopAt(keras.callbacks.Callback):
    """Times each epoch (training + validation) and stops at ``target`` dB val PSNR or after ``max_s``."""

    def __init__(self, target, max_s, log_path, batch, steps):
        super().__init__()
        self.target, self.max_s, self.log_path = target, max_s, log_path
        self.batch, self.steps = batch, steps
        self.wall, self.reached, self.rows = 0.0, None, []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t
        self.wall += dt
        rate = self.batch * self.steps / dt
        row = {"epoch": epoch + 1, "val_psnr": logs["val_psnr"], "samples_per_s": rate, "wall_s": self.wall}
        self.rows.append(row)
        with open(self.log_path, "a", newline="") as f:
            csv.DictWriter(f, row).writerow(row)
        print(f"epoch {epoch + 1}: Set5 {logs['val_psnr']:.3f} dB, {row['samples_per_s']:.0f} samples/s,"
              f" {self.wall / 60:.1f} min", flush=True)
        if logs["val_psnr"] >= self.target:
            self.reached = self.wall
        if self.reached is not None or self.wall > self.max_s:
            self.model.stop_training = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"])
    p.add_argument("--target", type=float, default=32.5, help="Set5 x3 PSNR (dB) to reach")
    p.add_argument("--max-minutes", type=float, default=60.0)
    p.add_argument("--steps", type=int, default=RECIPE.steps, help="steps per epoch (the shipped recipe's: 2000)")
    args = p.parse_args()
    precision = auto_precision() if args.precision == "auto" else args.precision
    r = RECIPE.replace(steps=args.steps, precision=precision)
    keras.utils.set_random_seed(r.seed)
    set_precision(precision)
    train, val = datasets_for(r)
    model = build(r)
    sched = keras.optimizers.schedules.CosineDecay(r.learning_rate, r.epochs * r.steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss=mse_loss,
                  metrics=[PSNR(y_channel=False, crop_border=r.scale)])
    run = paths.runs_dir() / f"ttq_{precision}"
    run.mkdir(parents=True, exist_ok=True)
    (run / "log.csv").write_text("epoch,val_psnr,samples_per_s,wall_s\n")
    stop = StopAt(args.target, 60 * args.max_minutes, run / "log.csv", r.batch, r.steps)
    model.fit(train, validation_data=val, epochs=r.epochs, steps_per_epoch=r.steps, callbacks=[stop], verbose=0)

    last = stop.rows[-1]
    row = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(),
        "precision": precision, "target_db": args.target, "steps_per_epoch": r.steps, "epochs": last["epoch"],
        "steps": last["epoch"] * r.steps,
        "best_db": round(max(x["val_psnr"] for x in stop.rows), 3),
        "median_samples_per_s": round(sorted(x["samples_per_s"] for x in stop.rows)[len(stop.rows) // 2]),
        "seconds_to_target": round(stop.reached) if stop.reached is not None else "",
    }
    table = Outputs("full")("tables/time_to_quality.csv")
    rows = list(csv.DictReader(table.open())) if table.exists() else []
    buf = io.StringIO()
    w = csv.DictWriter(buf, row, lineterminator="\n")
    w.writeheader()
    w.writerows([*rows, row])
    atomic_write(table, lambda tmp: Path(tmp).write_text(buf.getvalue()))
    print(row)


if __name__ == "__main__":
    main()
