"""Time to quality: wall time until ESPCN x3, trained from scratch, reaches a PSNR on Set5.

Notebook 02's x3 recipe (T91 + BSD200, MATLAB-bicubic LR, 24x24 Y patches, batch 32,
epochs of 2,000 steps, Adam with cosine decay over 90 epochs) at one precision;
after each epoch Set5 x3 is scored as the notebook's validation does (Y channel,
border 3). Stops at ``--target`` dB or after ``--max-minutes``. Wall time counts
training and validation (the first epoch also fills the decoded-image cache, as in the notebook).

Usage:
  python benchmarks/time_to_quality.py [--precision fp32|bf16|auto] [--target 32.5] [--max-minutes 60] [--steps 2000]

Adds a row to results/tables/time_to_quality.csv (machine, precision, epochs,
steps, samples/s, seconds to target or '' when not reached); the per-epoch log goes
to ~/.cache/srlib/runs/ttq_<precision>/log.csv.
"""

import argparse
import csv
import io
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from srlib.data import benchmark_pairs, make_dataset  # noqa: E402
from srlib.io import atomic_write  # noqa: E402
from srlib.metrics import PSNR, mse_loss  # noqa: E402
from srlib.models.espcn import espcn  # noqa: E402
from srlib.train import auto_precision, cpu_flags, set_precision  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SRLIB_DATA_DIR", ROOT / "data"))
TABLE = ROOT / "results" / "tables" / "time_to_quality.csv"
RECIPE = dict(patch=24, batch=32, steps=2000, epochs=90, lr=1e-3, seed=1)  # notebook 02's RECIPE


class StopAt(keras.callbacks.Callback):
    """Times each epoch (training + validation) and stops at ``target`` dB val PSNR or after ``max_s``."""

    def __init__(self, target, max_s, log_path):
        super().__init__()
        self.target, self.max_s, self.log_path = target, max_s, log_path
        self.wall, self.reached, self.rows = 0.0, None, []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self._t
        self.wall += dt
        rate = RECIPE["batch"] * RECIPE["steps"] / dt
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
    p.add_argument("--steps", type=int, default=RECIPE["steps"], help="steps per epoch (the notebook's: 2000)")
    args = p.parse_args()
    RECIPE["steps"] = args.steps
    precision = auto_precision() if args.precision == "auto" else args.precision
    train_dirs = [DATA / "train" / "T91", DATA / "train" / "BSD200"]
    set5 = DATA / "benchmark" / "Set5"
    missing = [str(d) for d in [*train_dirs, set5] if not d.is_dir()]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)} (set SRLIB_DATA_DIR)")

    r = RECIPE
    keras.utils.set_random_seed(r["seed"])
    set_precision(precision)
    train = make_dataset([str(d) for d in train_dirs], 3, r["patch"], batch_size=r["batch"], cache=True,
                         seed=r["seed"], y_only=True)
    val = benchmark_pairs(set5, 3, y_only=True)
    model = espcn(3)
    sched = keras.optimizers.schedules.CosineDecay(r["lr"], r["epochs"] * r["steps"], alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(sched), loss=mse_loss,
                  metrics=[PSNR(y_channel=False, crop_border=3)])
    run = Path.home() / ".cache" / "srlib" / "runs" / f"ttq_{precision}"
    run.mkdir(parents=True, exist_ok=True)
    (run / "log.csv").write_text("epoch,val_psnr,samples_per_s,wall_s\n")
    stop = StopAt(args.target, 60 * args.max_minutes, run / "log.csv")
    model.fit(train, validation_data=val, epochs=r["epochs"], steps_per_epoch=r["steps"], callbacks=[stop], verbose=0)

    flags = cpu_flags()
    native = "native bf16" if flags & {"avx512_bf16", "amx_bf16"} else "no native bf16"
    with open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), platform.machine())
    last = stop.rows[-1]
    row = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{cpu}, {os.cpu_count()} cores, {native}",
        "precision": precision, "target_db": args.target, "steps_per_epoch": r["steps"], "epochs": last["epoch"],
        "steps": last["epoch"] * r["steps"],
        "best_db": round(max(x["val_psnr"] for x in stop.rows), 3),
        "median_samples_per_s": round(sorted(x["samples_per_s"] for x in stop.rows)[len(stop.rows) // 2]),
        "seconds_to_target": round(stop.reached) if stop.reached is not None else "",
    }
    rows = list(csv.DictReader(TABLE.open())) if TABLE.exists() else []
    buf = io.StringIO()
    w = csv.DictWriter(buf, row, lineterminator="\n")
    w.writeheader()
    w.writerows([*rows, row])
    atomic_write(TABLE, lambda tmp: Path(tmp).write_text(buf.getvalue()))
    print(row)


if __name__ == "__main__":
    main()
