"""Video super-resolution speed and quality, side by side in one process.

Same frames for every method: the first ``--frames`` frames of the cockatoo clip
downscaled to 640x360 (the LR input) and upscaled x3 to 1920x1080, plus Vid4
calendar and city at x3 for PSNR/SSIM (benchmark convention, degrade mode).

Methods: (a) srlib MATLAB bicubic, (b) srlib ESPCN float32 run by TensorFlow
(plain Keras), (c) srlib ESPCN in the fastest setting of a small grid (TFLite
XNNPACK float32 / TensorFlow float32, bfloat16 where native, XLA, batch), (d) the
shipped espcn-x3-fast (16/16 filters instead of 64/32) in that setting, (d') the int8 model
(``--int8-model``: the shipped x3 int8 model, else the newest QAT run's ``best_int8.tflite``; int8 inside,
float32 at its edges, run by XNNPACK through LiteRT), (e) OpenCV
``dnn_superres`` ESPCN x3 (network only: its net on Y; end to end: decode ->
``upsample`` -> the same H.264 writer, the usual sequential loop). OpenCV's ESPCN
has ESPCN's 64/32 filters, like (b) and (c).

Network-only timings go frame by frame round-robin over the methods, so load
from other processes hits them alike (thread pools still spinning after one
method's call can slow the next one a little). End to end, each round runs OpenCV and then
every method on the whole clip; a method's ratio to OpenCV is the median over
``--rounds`` of its fps over OpenCV's fps in the same round (this machine's speed
drifts by tens of percent within minutes, so only back-to-back runs compare), and its
fps and stage split are those of its median round. Compiling / model loading and
one warm-up frame are left out for every method. End to end includes starting
ffmpeg and flushing x264, a fixed cost of about 0.1 s per clip: 120 frames
(4.8 s of video) keep it small, as in real clips, for the fast methods too. Each end-to-end run also
records its CPU time per frame, this process (network, colour, queues) and its ffmpeg children (decode,
x264), against cores x wall: the CPU budget, which says whether anything but a cheaper network can still
raise the frame rate.

Memory allocation: OpenCV's ESPCN allocates blobs of ~60 MB per frame; with
glibc's defaults each comes from a fresh mmap (thousands of page faults) and
OpenCV runs about half as fast as it can, or not, depending on the heap's
history. :func:`steady_heap` makes glibc keep large blocks on the heap for the
whole process of the speed run, so every method runs at its best and the same
in every run (srlib's path is unaffected, within noise). ``--memory`` leaves
glibc at its defaults.

Usage:
  python benchmarks/video.py [--model espcn-x3 | path.keras] [--fast-model espcn-x3-fast | path.keras | none]
                             [--int8-model rtsr-x3-int8 | path.tflite | none] [--frames 120] [--rounds 5]
  python benchmarks/video.py --memory      # peak RSS, 1,000 vs 100 frames

Writes results/tables/video_benchmark.csv (or video_memory.csv), atomically.
"""

import argparse
import ctypes
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import tensorflow as tf

from srlib import paths, videoio
from srlib.inference import zoo
from srlib.inference.frames import FastLuma
from srlib.inference.infer import Bicubic, load_net, load_upscaler
from srlib.models.espcn import espcn
from srlib.outputs import Outputs, write_timing
from srlib.precision import auto_precision, machine
from srlib.video import pipeline

PEERS = paths.peers_dir()
CLIP = paths.clip("cockatoo-720p")
VID4 = list(paths.vid4().values())
SCALE = 3
LR_SIZE = (640, 360)
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def steady_heap():
    """glibc: serve blocks up to 1 GiB from the heap and never trim it (mallopt M_MMAP_THRESHOLD, M_TRIM_THRESHOLD)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to set
        return False
    return bool(libc.mallopt(-3, 1 << 30)) and bool(libc.mallopt(-1, 1 << 30))


def notes():
    """Header lines for the CSVs: what the speeds also depend on."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"load average": load, "OpenCV": cv2.__version__}


def find_fast_model(arg):
    """(keras model, label) of the fast model: --fast-model, else the shipped espcn-x3-fast; None for 'none'/absent."""
    name = arg or ("espcn-x3-fast" if "espcn-x3-fast" in zoo.names() else "none")
    return None if name == "none" else (load_upscaler(name, SCALE).model, _label(name))


def find_int8_model(arg):
    """(LiteFile, label) of the int8 model: --int8-model, else the shipped x3 int8 model with the best Set5 (its
    card's extra.engine), else the newest ``$SRLIB_RUNS/*/best_int8.tflite`` (benchmarks/int8_model.py writes it);
    None for 'none' / absent."""
    shipped = {n: c.psnr("Set5", SCALE) or 0 for n, c in zoo.cards().items()
               if c.raw["extra"].get("engine") == "tflite int8" and c.scale == SCALE}
    if arg is None and shipped:
        arg = max(shipped, key=shipped.get)
    if arg is None:
        found = sorted(paths.runs_dir().glob("*/best_int8.tflite"), key=lambda p: -p.stat().st_mtime)
        arg = str(found[0]) if found else "none"
    return None if arg == "none" else (load_net(arg), _label(arg))


def _label(name):
    """A zoo name as it is; a .keras file as :func:`srlib.paths.display` shows it (no machine path in the table)."""
    return name if name in zoo.names() else paths.display(name)


def find_model(arg):
    """(keras model, label): --model, else shipped weights, else the newest training checkpoint, else untrained."""
    if arg:
        return load_upscaler(arg, SCALE).model, _label(arg)
    if "espcn-x3" in zoo.names():
        return zoo.load("espcn-x3"), "espcn-x3"
    found = sorted(paths.runs_dir().glob("espcn_x3*/last.keras"), key=lambda p: -p.stat().st_mtime)
    if found:
        return load_upscaler(str(found[0]), SCALE).model, paths.display(found[0])
    print("\n" + "!" * 78 + "\n!! NO TRAINED ESPCN x3 WEIGHTS: using an UNTRAINED espcn(3).\n"
          "!! Speed is unaffected; its PSNR numbers are meaningless.\n" + "!" * 78 + "\n")
    return espcn(SCALE), "untrained espcn(3)"


class OpenCVESPCN:
    """OpenCV dnn_superres ESPCN as an srlib upscaler (float RGB in [0, 1] -> float RGB), via uint8 BGR."""

    def __init__(self, scale=SCALE):
        pb = PEERS / "opencv_espcn" / f"ESPCN_x{scale}.pb"
        self.sr = cv2.dnn_superres.DnnSuperResImpl_create()
        self.sr.readModel(str(pb))
        self.sr.setModel("espcn", scale)
        self.net = cv2.dnn.readNetFromTensorflow(str(pb))  # the same graph, for network-only timing
        self.scale, self.name = scale, "opencv dnn_superres espcn"

    def upsample_rgb(self, rgb):
        """uint8 RGB (h, w, 3) -> uint8 RGB (h * s, w * s, 3)."""
        return cv2.cvtColor(self.sr.upsample(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), cv2.COLOR_BGR2RGB)

    def __call__(self, lr):
        return self.upsample_rgb(np.round(lr * 255).astype(np.uint8)).astype(np.float32) / 255.0

    def forward(self, y):
        """Network only: Y float32 (h, w) in [0, 1] -> SR Y (h * s, w * s)."""
        self.net.setInput(y[None, None])
        return self.net.forward()[0, 0]


def make_lr_clip(path, frames):
    """First ``frames`` frames of the cockatoo clip, bicubic-downscaled to 640x360, near-lossless H.264."""
    w, h = LR_SIZE
    cmd = [FFMPEG, "-y", "-v", "error", "-i", str(CLIP), "-frames:v", str(frames),
           "-vf", f"scale={w}:{h}:flags=bicubic", "-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def network_only(methods, lr_frames):
    """{name: median seconds per frame} of each method's network alone, timed frame by frame round-robin.

    ``methods``: {name: (prepare(uint8 (h, w, 3)) -> input, run(input))}; prepare is not timed.
    """
    inputs = {name: [prep(f) for f in lr_frames] for name, (prep, _) in methods.items()}
    for name, (_, run) in methods.items():
        run(inputs[name][0])  # warm-up
    times = {name: [] for name in methods}
    for i in range(len(lr_frames)):
        for name, (_, run) in methods.items():
            t = time.perf_counter()
            run(inputs[name][i])
            times[name].append(time.perf_counter() - t)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def luma_net(fast, batch):
    """(prepare, run) for :func:`network_only`: a FastLuma's network on ``batch`` copies of a frame's Y."""
    return lambda f: fast.split(np.repeat(f[None], batch, axis=0))[0], fast.net


def opencv_end_to_end(cv, src, dst):
    """Sequential decode -> dnn_superres upsample -> H.264 (same writer settings as srlib). Returns stats."""
    frames = videoio.read_frames(src)
    cv.upsample_rgb(np.zeros((LR_SIZE[1], LR_SIZE[0], 3), np.uint8))  # warm-up, like our compile
    stages = {"decode": 0.0, "network": 0.0, "encode": 0.0}
    n, start = 0, time.perf_counter()
    with videoio.VideoWriter(dst, videoio.probe(src).fps) as w:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t1 = time.perf_counter()
            if frame is None:
                break
            sr = cv.upsample_rgb(frame)
            t2 = time.perf_counter()
            w.write(sr)
            t3 = time.perf_counter()
            for stage, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                stages[stage] += dt
            n += 1
    wall = time.perf_counter() - start
    return {"frames": n, "fps": n / wall, "stages_s": stages}


def with_cpu(run):
    """``run()``'s stats with ``cpu_s``: CPU seconds (user + system) of this process (every srlib thread) and of
    its finished child processes (ffmpeg decoding and x264 encoding) while it ran."""
    t0 = os.times()
    stats = run()
    t1 = os.times()
    stats["cpu_s"] = {"python": t1.user + t1.system - t0.user - t0.system,
                      "ffmpeg": t1.children_user + t1.children_system - t0.children_user - t0.children_system}
    return stats


def vid4_scores(up):
    """{'calendar': (psnr, ssim, frames), 'city': ..., 'vid4': frame-weighted means} at x3, degrade mode."""
    out = {}
    for seq in VID4:
        s = pipeline.upscale_video(seq, None, up, degrade_scale=SCALE, progress=False)
        out[seq.name] = (s["psnr_mean"], s["ssim_mean"], s["frames"])
    n = sum(v[2] for v in out.values())
    out["vid4"] = tuple(sum(v[i] * v[2] for v in out.values()) / n for i in (0, 1)) + (n,)
    return out


def speed_and_quality(args):
    missing = [p for p in [CLIP, PEERS / "opencv_espcn", *VID4] if not p.exists()]
    if missing:
        sys.exit(f"missing {', '.join(map(str, missing))} (set SRLIB_DATA_DIR / SRLIB_PEERS_DIR)")
    print(f"steady heap (glibc mallopt): {steady_heap()}")
    model, label = find_model(args.model)
    fast_model = find_fast_model(args.fast_model)
    int8_model = find_int8_model(args.int8_model)
    print(f"machine: {machine()}, load {notes()['load average']}")
    print(f"model: {label}; fast model: {fast_model[1] if fast_model else 'none'};"
          f" int8 model: {int8_model[1] if int8_model else 'none'}")
    with tempfile.TemporaryDirectory(prefix="srlib-video-bench-") as tmp:
        rows = _speed_and_quality(args, model, label, fast_model, Path(tmp), int8_model)
    write_timing(Outputs("full")("tables/video_benchmark.csv"), rows, notes=notes())


def _speed_and_quality(args, model, label, fast_model, tmp, int8_model=None):
    """The measurements of :func:`speed_and_quality`, with scratch files in ``tmp``; returns the table rows."""
    lr_clip = make_lr_clip(tmp / "lr_640x360.mp4", args.frames)
    lr_frames = list(videoio.read_frames(lr_clip))
    print(f"input: {len(lr_frames)} frames of {CLIP.name} at {LR_SIZE[0]}x{LR_SIZE[1]} -> x{SCALE}")
    cv = OpenCVESPCN()

    # The fastest setting: network only, round-robin over a small grid.
    # (runtime, precision, XLA, batch)
    grid = [("tflite", "float32", False, 1), ("tensorflow", "float32", False, 4), ("tensorflow", "float32", True, 1)]
    if auto_precision() == "bf16":  # emulated bfloat16 (no AVX512-BF16 / AMX) is slower than float32: skipped
        grid += [("tensorflow", p, False, 1) for p in ("mixed_bfloat16", "bfloat16")]
        grid += [("tensorflow", "bfloat16", False, 4), ("tensorflow", "bfloat16", True, 1)]
    variants = {g: FastLuma(model, SCALE, precision=g[1], jit_compile=g[2], runtime=g[0]) for g in grid}
    grid_s = network_only({g: luma_net(f, g[3]) for g, f in variants.items()}, lr_frames[: args.grid_frames])
    for (runtime, precision, jit, batch), sec in grid_s.items():
        print(f"  grid {runtime:10s} {precision:14s} xla={jit!s:5s} batch={batch}: {1000 * sec / batch:6.1f} ms/frame")
    runtime, precision, jit, batch = min(grid_s, key=lambda g: grid_s[g] / g[3])
    fastest = variants[runtime, precision, jit, batch]
    fast_setting = f"{runtime} {precision}{' xla' if jit else ''} batch {batch}"
    print(f"fastest: {fast_setting}")

    fp32 = FastLuma(model, SCALE, precision="float32", runtime="tensorflow")
    bicubic = Bicubic(SCALE)
    ups = {"bicubic": bicubic, "espcn fp32": fp32, "espcn fast": fastest}
    labels = {"espcn fp32": label, "espcn fast": label}
    settings = {"bicubic": "MATLAB imresize", "espcn fp32": "tensorflow float32 batch 1",
                "espcn fast": fast_setting, "opencv": "dnn_superres ESPCN_x3.pb"}
    if fast_model is not None:  # the small model, in the setting found fastest for the big one
        ups["espcn-x3-fast"] = FastLuma(fast_model[0], SCALE, precision=precision, jit_compile=jit,
                                              runtime=runtime)
        labels["espcn-x3-fast"], settings["espcn-x3-fast"] = fast_model[1], fast_setting
    if int8_model is not None:  # int8 inside, float32 edges: its own engine, one frame per call
        ups["espcn int8"] = FastLuma(int8_model[0], SCALE)
        labels["espcn int8"], settings["espcn int8"] = int8_model[1], "tflite int8 (LiteRT XNNPACK) batch 1"
    batches = {name: batch if name in ("espcn fast", "espcn-x3-fast") else 1 for name in ups}
    prepare_y = lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32) / 255.0  # noqa: E731
    net = network_only({
        "bicubic": (lambda f: f.astype(np.float32) / 255.0, bicubic),
        **{name: luma_net(up, batches[name]) for name, up in ups.items() if name != "bicubic"},
        "opencv": (prepare_y, cv.forward),
    }, lr_frames)
    net = {name: sec / batches.get(name, 1) for name, sec in net.items()}

    e2e = {name: [] for name in ["opencv", *ups]}
    for r in range(args.rounds):
        for name in e2e:
            if name == "opencv":
                run = functools.partial(opencv_end_to_end, cv, lr_clip, tmp / "opencv.mp4")
            else:
                run = functools.partial(pipeline.upscale_video, lr_clip, tmp / "out.mp4", ups[name],
                                        batch=batches[name], progress=False)
            e2e[name].append(with_cpu(run))
            print(f"  round {r + 1} {name:13s} end to end {e2e[name][-1]['fps']:5.2f} fps")
    ratio = {name: float(np.median([a["fps"] / b["fps"] for a, b in zip(stats, e2e["opencv"], strict=True)]))
             for name, stats in e2e.items()}
    typical = {name: sorted(stats, key=lambda s: s["fps"])[len(stats) // 2] for name, stats in e2e.items()}

    quality = {}
    if not args.skip_vid4:
        for name, up in [*ups.items(), ("opencv", cv)]:
            t = time.perf_counter()
            quality[name] = vid4_scores(up)
            print(f"  vid4 {name:13s} {quality[name]['vid4'][0]:.2f} dB ({time.perf_counter() - t:.0f} s)")

    rows = []
    for name in [*ups, "opencv"]:
        s = typical[name]
        row = {
            "method": name, "setting": settings[name], "model": labels.get(name, ""),
            "frames": s["frames"], "net_ms_per_frame": 1000 * net[name], "net_fps": 1 / net[name],
            "net_x_opencv": net["opencv"] / net[name],
            "e2e_fps": s["fps"], "e2e_x_opencv": ratio[name],
        }
        for stage in ("decode", "colour", "network", "encode"):  # OpenCV's colour work is inside its network
            row[f"{stage}_ms_per_frame"] = 1000 * s["stages_s"][stage] / s["frames"] if stage in s["stages_s"] else ""
        for proc, sec in s["cpu_s"].items():
            row[f"cpu_{proc}_ms_per_frame"] = 1000 * sec / s["frames"]
        for seq in quality.get(name, {}):
            row[f"psnr_{seq}"], row[f"ssim_{seq}"] = quality[name][seq][:2]
        rows.append(row)

    print(f"\nx{SCALE} {LR_SIZE[0]}x{LR_SIZE[1]} -> {LR_SIZE[0] * SCALE}x{LR_SIZE[1] * SCALE}, {len(lr_frames)} frames;"
          f" model {label}")
    print(f"{'method':13s} {'setting':30s} {'net fps':>8s} {'xOpenCV':>8s} {'e2e fps':>8s} {'xOpenCV':>8s}"
          f" {'Vid4 PSNR':>9s} {'SSIM':>7s}")
    for r in rows:
        psnr = f"{r['psnr_vid4']:9.2f} {r['ssim_vid4']:7.4f}" if "psnr_vid4" in r else f"{'-':>9s} {'-':>7s}"
        print(f"{r['method']:13s} {r['setting']:30s} {r['net_fps']:8.2f} {r['net_x_opencv']:8.2f} {r['e2e_fps']:8.2f}"
              f" {r['e2e_x_opencv']:8.2f} {psnr}")
    for name in ups:
        if name == "bicubic":
            continue
        s = typical[name]
        split = ", ".join(f"{k} {1000 * v / s['frames']:.1f}" for k, v in s["stages_s"].items())
        print(f"\n{name} end to end, busy ms per frame by stage (stages overlap): {split};"
              f" wall {1000 * s['wall_s'] / s['frames']:.1f}; network p50 {s['latency_ms']['p50']:.1f},"
              f" p95 {s['latency_ms']['p95']:.1f} ms; compile {s['compile_s']:.1f} s")
        cpu, cores = {k: 1000 * v / s["frames"] for k, v in s["cpu_s"].items()}, os.cpu_count()
        print(f"  CPU ms per frame: python {cpu['python']:.1f} (network, colour, queues), ffmpeg {cpu['ffmpeg']:.1f}"
              f" (decode, x264); total {sum(cpu.values()):.1f} of {cores * 1000 * s['wall_s'] / s['frames']:.1f}"
              f" ({cores} cores x wall)")
    print()
    q = {name: scores["vid4"][0] for name, scores in quality.items()}
    for r in rows[1:-1]:  # the ESPCN rows, against the acceptance target
        rounds = ", ".join(f"{a['fps'] / b['fps']:.2f}" for a, b in zip(e2e[r["method"]], e2e["opencv"], strict=True))
        verdict = f"{r['method']}: end to end {r['e2e_x_opencv']:.2f}x OpenCV (rounds {rounds}; target >= 5x)"
        if q:
            above = q[r["method"]] > max(q["bicubic"], q["opencv"])
            verdict += (f"; Vid4 {q[r['method']]:.2f} dB vs bicubic {q['bicubic']:.2f}, OpenCV {q['opencv']:.2f}"
                        f" ({'above both' if above else 'NOT above both'})")
        print(verdict)
    if "espcn int8" in ups:
        r = next(r for r in rows if r["method"] == "espcn int8")
        print(f"espcn int8: end to end {r['e2e_fps']:.2f} fps (target >= 24), {r['e2e_x_opencv']:.2f}x OpenCV"
              f" (target >= 2x); network {r['net_fps']:.1f} fps, {r['net_x_opencv']:.2f}x OpenCV's network")
    return rows


def memory_child(clip):
    """Upscale ``clip`` with the fast ESPCN path; print JSON with frames and this process's peak RSS."""
    fast = FastLuma(espcn(SCALE), SCALE, precision="auto")
    with tempfile.TemporaryDirectory() as tmp:
        stats = pipeline.upscale_video(clip, Path(tmp) / "out.mp4", fast, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"precision": fast.precision, "frames": stats["frames"], "peak_rss_mb": peak, "fps": stats["fps"],
                      "max_in_flight": stats["max_in_flight"], "in_flight_bound": stats["in_flight_bound"]}))


def memory(args):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 1000):
            clip = Path(tmp) / f"synthetic_{n}.mp4"
            cmd = [FFMPEG, "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
                   "-frames:v", str(n), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)]
            subprocess.run(cmd, check=True)
            out = subprocess.run([sys.executable, __file__, "--memory-child", str(clip)], check=True,
                                 capture_output=True, text=True).stdout
            result = json.loads(out.splitlines()[-1])
            rows.append({"clip": f"testsrc2 320x180 -> 960x540 (x3, espcn {result.pop('precision')})", **result})
            print(f"{n:5d} frames: peak RSS {rows[-1]['peak_rss_mb']:.0f} MB, {rows[-1]['fps']:.1f} fps,"
                  f" at most {rows[-1]['max_in_flight']} frames in flight (bound {rows[-1]['in_flight_bound']})")
    ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    print(f"peak RSS 1,000 / 100 frames: {ratio:.3f}x (target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})")
    write_timing(Outputs("full")("tables/video_memory.csv"), rows, notes=notes())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="zoo name or .keras file (default: shipped weights, else newest checkpoint)")
    p.add_argument("--fast-model", help="the small model (default: shipped espcn-x3-fast if present; 'none' to skip)")
    p.add_argument("--int8-model", help="zoo name or .tflite file of the int8 model ('none' to skip; default: "
                   "the shipped x3 int8 model, else the newest QAT run's best_int8.tflite)")
    p.add_argument("--frames", type=int, default=120, help="frames of the cockatoo clip")
    p.add_argument("--grid-frames", type=int, default=8, help="frames per setting when searching the fastest")
    p.add_argument("--rounds", type=int, default=5, help="end-to-end rounds (the median ratio counts)")
    p.add_argument("--skip-vid4", action="store_true", help="no PSNR/SSIM on Vid4")
    p.add_argument("--memory", action="store_true", help="peak RSS for 1,000 vs 100 frames instead")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = p.parse_args()
    tf.get_logger().setLevel("ERROR")  # retracing notes from building several FastLuma variants
    if args.memory_child:
        memory_child(args.memory_child)
    elif args.memory:
        memory(args)
    else:
        speed_and_quality(args)


if __name__ == "__main__":
    main()
