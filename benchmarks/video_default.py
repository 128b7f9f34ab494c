"""`srlib upscale clip.mp4 -o out.mp4 --scale S` with no --model: which model the default picks, and how fast the
whole command runs, on a 640x360 clip at x2, x3 and x4 on this machine.

The clip is the first ``--frames`` frames of the cockatoo clip downscaled to 640x360 (as benchmarks/video.py makes
it). Each scale runs the exact command line in a fresh process, its model trials (``srlib.app.choose.clip_fps``)
included. Printed per scale: the model and reason the command gave on stderr, the
frame rate it reports (frames / seconds after loading the model), the wall time of the whole command (start-up,
model choice, loading and compiling included) and the 1-minute load average before and after.

Usage:
  python benchmarks/video_default.py [--frames 240] [--scales 2 3 4]

Writes results/tables/video_default.csv (machine-dependent: seconds and frame rates) through Outputs.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from video import make_lr_clip

from srlib.outputs import Outputs, write_timing
from srlib.precision import machine


def run(clip, scale, out):
    """(model, reason, reported fps, wall seconds) of the default command at ``scale``."""
    cmd = [sys.executable, "-m", "srlib", "upscale", str(clip), "-o", str(out), "--scale", str(scale), "--quiet"]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    said = re.search(r"model: (\S+) for .*? \((.*)\)", done.stderr)
    fps = float(re.search(r"frames, ([\d.]+) fps", done.stdout).group(1))
    return said.group(1), said.group(2), fps, wall


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=240)
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_lr_clip(Path(tmp) / "clip.mp4", args.frames)
        for scale in args.scales:
            before = os.getloadavg()[0]
            model, why, fps, wall = run(clip, scale, Path(tmp) / f"out_x{scale}.mp4")
            after = os.getloadavg()[0]
            print(f"x{scale}: {model} ({why}); {fps:.1f} fps reported, {args.frames / wall:.1f} fps over the whole "
                  f"command ({wall:.1f} s for {args.frames} frames); load average {before:.2f} -> {after:.2f}")
            rows.append({"scale": scale, "model": model, "reason": why, "frames": args.frames,
                         "fps_reported": round(fps, 1), "fps_whole_command": round(args.frames / wall, 1),
                         "load_before": round(before, 2), "load_after": round(after, 2)})
    print(machine())
    write_timing(Outputs("full")("tables/video_default.csv"), rows, command="python benchmarks/video_default.py")


if __name__ == "__main__":
    main()
