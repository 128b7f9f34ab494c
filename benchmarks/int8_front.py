"""The int8 x3 speed/quality front: trained int8 models scored through their engine and timed end to end, side by
side, on the same clip in one process.

    python benchmarks/int8_front.py [--runs RUN ...] [--frames 120] [--rounds 5]

Each run is a QAT run of ``benchmarks/int8_model.py`` under ``$SRLIB_RUNS`` (default: every run with a
``best_int8.tflite``), its int8 graph as that script wrote it.

* Quality: Set5, Set14 and BSD100 x3 through the int8 engine (:class:`srlib.inference.lite.LiteFile`, whole images;
  :func:`srlib.inference.cards.benchmark_rows`: MATLAB-bicubic LR, Y channel, border 3).
* Cost: multiply-adds per output pixel of the run's best checkpoint (:func:`srlib.models.cost.macs_per_output_pixel`).
* Speed: :func:`srlib.video.pipeline.upscale_video` as ``srlib upscale`` runs a luma model (4:2:0 planes from the
  decoder to the x264 encoder, preset ultrafast, CRF 18) on the first ``--frames`` frames of the cockatoo clip at 640 x
  360 (``benchmarks/video.py``'s clip) -> 1920 x 1080. The runs take turns within each of ``--rounds`` rounds, so a
  busy moment of the machine falls on all of them; per run the median fps over rounds, and the median over rounds of
  its fps over the first run's in the same round.

Writes ``results/tables/int8_front.csv`` (design, cost, PSNR / SSIM: the same on any machine) and
``int8_front_timing.csv`` (frame rates on this machine) through Outputs.
"""

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from video import SCALE, make_lr_clip, steady_heap

from srlib import paths
from srlib.inference.cards import BENCHMARK_SETS, benchmark_rows
from srlib.inference.frames import FastLuma
from srlib.inference.infer import LiteUpscaler
from srlib.inference.lite import LiteFile
from srlib.models.cost import macs_per_output_pixel
from srlib.outputs import Outputs, split_timing, write_csv, write_timing
from srlib.sources import datasets
from srlib.training.experiment import best
from srlib.video.pipeline import upscale_video


def design(run_dir):
    """'RTSR 3-3-3-3, 64/32/32' (or 'ESPCN ...') from the run's recipe: architecture, kernel sides, hidden widths."""
    recipe = json.loads((run_dir / "run.json").read_text())["recipe"]
    filters = recipe["args"]["filters"]
    kernels = recipe["args"].get("kernels", [5] + [3] * len(filters))
    return f"{recipe['model'].upper()} {'-'.join(map(str, kernels))}, {'/'.join(map(str, filters))}"


def quality(run_dir):
    """{'<set>_psnr', '<set>_ssim'} of the run's int8 graph through the int8 engine on the benchmark sets."""
    engine = LiteUpscaler(LiteFile(run_dir / "best_int8.tflite"), SCALE, name=run_dir.name)
    rows = benchmark_rows(engine, SCALE, {s: datasets.require(s) for s in BENCHMARK_SETS})
    return {f"{r['dataset']}_{m}": r[m] for r in rows for m in ("psnr", "ssim")}


def speeds(runs, clip, rounds, folder):
    """{run: [fps of each round]}: every run's int8 engine through the video pipeline on ``clip``, taking turns."""
    engines = {r: FastLuma(LiteFile(r / "best_int8.tflite"), SCALE, name=r.name) for r in runs}
    fps = {r: [] for r in runs}
    for i in range(rounds):
        for r, engine in engines.items():
            fps[r].append(upscale_video(clip, folder / f"out_{i}.mp4", engine, progress=False)["fps"])
            print(f"round {i + 1}/{rounds} {r.name}: {fps[r][-1]:.2f} fps")
    return fps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", nargs="+", help="QAT run folders under $SRLIB_RUNS (default: all with an int8 graph)")
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    runs = ([paths.runs_dir() / r for r in args.runs] if args.runs
            else sorted(f.parent for f in paths.runs_dir().glob("*/best_int8.tflite")))
    if missing := [str(r) for r in runs if not (r / "best_int8.tflite").is_file()]:
        raise SystemExit(f"no best_int8.tflite in {', '.join(missing)} (benchmarks/int8_model.py writes it)")
    steady_heap()  # as benchmarks/video.py runs
    rows = [{"run": r.name, "design": design(r), "macs_per_output_pixel": round(macs_per_output_pixel(best(r), SCALE)),
             **quality(r)} for r in runs]
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_lr_clip(Path(tmp) / "clip.mp4", args.frames)
        fps = speeds(runs, clip, args.rounds, Path(tmp))
    first = fps[runs[0]]
    for row, r in zip(rows, runs, strict=True):
        row["fps_e2e"] = round(float(np.median(fps[r])), 2)
        row["x_first_run"] = round(float(np.median(np.array(fps[r]) / np.array(first))), 3)
        row["fps_rounds"] = " ".join(f"{v:.2f}" for v in fps[r])
        print(f"{r.name}: {row['design']}, {row['macs_per_output_pixel']} MAC/px, Set5 {row['Set5_psnr']:.2f} dB, "
              f"{row['fps_e2e']:.2f} fps end to end ({row['x_first_run']:.3f}x {runs[0].name})")
    scores, timing = split_timing(rows, ("fps_e2e", "x_first_run", "fps_rounds"), key=("run",))
    out = Outputs("full")
    what = (f"x3, 640x360 -> 1920x1080, first {args.frames} frames of the cockatoo clip, "
            "srlib.video.pipeline.upscale_video "
            f"(I420, x264 ultrafast crf 18); {args.rounds} rounds, the runs taking turns; x_first_run: median over "
            f"rounds of fps / {runs[0].name}'s fps in the same round")
    write_csv(out("tables/int8_front.csv"), scores,
              notes={"quality": "int8 engine, benchmark convention (MATLAB-bicubic LR, Y, border 3)"})
    write_timing(out("tables/int8_front_timing.csv"), timing, notes={"speed": what})


if __name__ == "__main__":
    main()
