"""Command line: ``srlib evaluate | upscale | models | reproduce | data``.

Errors the user can fix (bad files, unknown models, missing data) print one
line to stderr and exit with status 2; with ``--verbose``, after their traceback.
Results go to stdout, progress and notes (srlib's log) to stderr. TensorFlow is
imported only by the verbs that need it, without its start-up chatter unless
``--verbose``.
"""

import argparse
import logging
import os
import sys
from pathlib import Path


class UserError(Exception):
    """An error reported as one line, without traceback."""


def _folder(name):
    """A dataset argument: an existing folder, or a registered set name (fetched if missing)."""
    if Path(name).is_dir():
        return Path(name)
    from srlib.sources import datasets

    if name in datasets.REGISTRY:
        return datasets.require(name)
    raise UserError(f"{name}: not a folder or a known dataset ({', '.join(datasets.REGISTRY)})")


def _evaluate(args):
    from srlib.evaluate import evaluate, format_table, published, summary_table
    from srlib.inference.infer import load_upscaler
    from srlib.io import write_json

    folders = [_folder(d) for d in args.dataset]
    scales = args.scale or [None]
    ref = published()
    results = []
    for scale in scales:
        up = load_upscaler(args.model, scale)
        for folder in folders:
            res = evaluate(up, folder, up.scale, progress=not args.quiet)
            results.append({"model": args.model, "scale": up.scale, "dataset": folder.name, **res})
            if len(scales) * len(folders) == 1:
                print(format_table(res, f"{args.model} x{up.scale} on {folder.name}"))
            for skipped in res["skipped"]:
                print(f"skipped {skipped}", file=sys.stderr)
    table = summary_table(results, ref)
    print("\n" + table)
    if args.json:
        write_json(args.json, results)
    if args.table:
        from srlib.io import atomic_write

        atomic_write(args.table, lambda tmp: Path(tmp).write_text(table + "\n"))


def _upscale_video(job, args, scale):
    """One video file: the model named, or :func:`srlib.app.choose.for_video` for this clip; ``--degrade`` scores it
    as HR; ``--compare`` adds <dst>_compare.mp4 and .gif."""
    from srlib.app import choose
    from srlib.app.upscaling import upscaler
    from srlib.video.pipeline import upscale_video
    from srlib.videoio import VideoError, probe

    if job.dst.exists() and not args.force:
        raise VideoError(f"{job.dst}: exists (use --force to replace it)")
    if not float(scale).is_integer():
        raise VideoError(f"{job.src}: videos take an integer scale (x2, x3, x4), not x{scale:g}")
    info, model, up = probe(job.src), args.model, None
    if model is None:
        model, fps, why = choose.for_video(scale, job.src, info.fps or 25.0, degrade=args.degrade)
        speed = f"; about {fps:.0f} fps end to end here" if fps else ""
        print(f"model: {model} for {job.src} ({why}{speed}; choose with --model)", file=sys.stderr)
        if fps:  # timed on this clip: the trial's engine runs it, loaded and compiled once
            up = choose.video_engine(model)
    up = up or upscaler(model, scale)
    side = job.dst.with_name(f"{job.dst.stem}_compare.mp4") if args.compare else None
    stats = upscale_video(job.src, job.dst, up, degrade_scale=up.scale if args.degrade else None, compare=side,
                          animation=side.with_suffix(".gif") if side else None, progress=not args.quiet)
    scores = f", PSNR {stats['psnr_mean']:.2f} dB, SSIM {stats['ssim_mean']:.4f}" if args.degrade else ""
    print(f"{job.src}: {stats['frames']} frames, {stats['fps']:.1f} fps{scores}")
    return stats.get("note", "")


def _upscale(args):
    from tqdm.auto import tqdm

    from srlib.app import batch, choose
    from srlib.app.upscaling import DEFAULT_SCALE, upscale_file, upscaler
    from srlib.io import ImageError
    from srlib.videoio import VideoError

    scale = upscaler(args.model, args.scale).scale if args.model else args.scale or DEFAULT_SCALE
    jobs, failures = batch.plan(args.inputs, args.output, scale)
    notes, errors, told = [], [], set()  # told: the image kinds whose default is named (JPEG or not, quality)
    for job in tqdm(jobs, desc="upscale", unit="file", disable=len(jobs) < 2 or args.quiet):
        try:
            if job.video:
                note = _upscale_video(job, args, scale)
            else:
                if not args.model and (jpeg_quality := choose.image_input(job.src)) not in told:
                    told.add(jpeg_quality)
                    name, why = choose.image_default(scale, *jpeg_quality)
                    kind = "JPEG files" if jpeg_quality[0] else "images"
                    print(f"model: {name} for {kind} ({why}; choose with --model)", file=sys.stderr)
                note = upscale_file(job.src, job.dst, args.model, scale, args.tile, args.force,
                                    progress=not args.quiet)
            notes += [f"{job.src}: {note}"] if note else []
            print(f"{job.src} -> {job.dst}")
        except (ImageError, VideoError, ValueError) as e:
            errors.append(str(e))
        except OSError as e:
            errors.append(f"{job.dst}: cannot write ({e.strerror or e})")
    failures += errors
    for line in notes:
        print(f"note: {line}", file=sys.stderr)
    if failures:
        total = len(jobs) + len(failures) - len(errors)
        print(f"{len(jobs) - len(errors)} of {total} written; failed:", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        raise UserError(f"{len(failures)} of {total} inputs failed")


def _reproduce(args):
    from srlib.research.reproduce import NotebookFailed, reproduce

    try:
        reproduce(args.profile, only=args.only)
    except NotebookFailed as e:
        raise UserError(str(e)) from None


def _models(args):
    from tabulate import tabulate

    from srlib import paths
    from srlib.inference import zoo

    rows = zoo.table()
    if not rows:
        raise UserError(f"no shipped models in {paths.weights_dir()}")
    headers = {"model": "model", "scale": "scale", "parameters": "parameters",
               "macs_per_output_pixel": "MACs / output pixel", "set5_psnr": "Set5 PSNR (dB)", "set5_ssim": "Set5 SSIM",
               "lr": "Set5 LR"}
    print(tabulate([[r[k] for k in headers] for r in rows], headers=list(headers.values()), tablefmt="github",
                   intfmt=",", floatfmt=("", "", "", ",.0f", ".2f", ".4f", "")))
    print("\nSet5: benchmark convention (Y channel, border = scale), LR by MATLAB bicubic or, for a model trained on")
    print("another degradation, that degradation with a fixed seed; from each model's card.")


def _data(args):
    from srlib.sources import datasets

    if args.action == "list":
        for name, present, count, path in datasets.status():
            print(f"{name:12s} {'present' if present else 'missing':8s} {count:6d}  {path}")
    else:
        for name in args.names:
            print(f"{name}: {datasets.get(name)}")


def _import_tf_quietly():
    """Import TensorFlow and probe devices with the C++ start-up chatter (absl, oneDNN, CUDA) sent to /dev/null."""
    from srlib.quiet import silenced

    with silenced((2,)):
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")  # the CUDA probe logs here too


NEEDS_TF = ("evaluate", "upscale")


def _scale(text):
    """A --scale value: above 1 and at most 16; integers stay int (x3, not x3.0)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: not a number") from None
    if not 1 < value <= 16:
        raise argparse.ArgumentTypeError(f"{text}: a scale must be above 1 and at most 16")
    return int(value) if value.is_integer() else value


def _tile(text):
    """A --tile value: a whole number of LR pixels, at least 16."""
    if not text.isdigit() or int(text) < 16:
        raise argparse.ArgumentTypeError(f"{text}: a tile is a whole number of LR pixels, at least 16")
    return int(text)


def _shipped():
    """The zoo's names for help texts (reads the cards only)."""
    from srlib.inference import zoo

    return ", ".join(zoo.names()) or "none found"


def version():
    """srlib's version: the installed package's metadata, else (a checkout never installed) pyproject.toml's."""
    from importlib import metadata

    try:
        return metadata.version("srlib")
    except metadata.PackageNotFoundError:
        import re

        text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
        return re.search(r'^version = "([^"]+)"', text, re.MULTILINE).group(1)


def parser():
    from srlib import paths

    p = argparse.ArgumentParser(prog="srlib", description="Image and video super-resolution.")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="debug log, TensorFlow's start-up messages, and a traceback with every error")
    p.add_argument("--version", action="version", version=f"srlib {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("evaluate", help="PSNR/SSIM table of a model on a folder of HR images")
    e.add_argument("--model", default="bicubic", help="bicubic, a shipped model (see: srlib models) or a .keras file")
    e.add_argument("--scale", type=_scale, nargs="+", help="upscaling factor(s) (default: the model's; "
                                                           "an arbitrary-scale model such as cppn-any takes e.g. 2.5)")
    e.add_argument("--dataset", required=True, nargs="+", help="folders of HR images or set names (Set5 ...)")
    e.add_argument("--json", help="also write per-image results to this JSON file")
    e.add_argument("--table", help="also write the summary table (Markdown) to this file")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_evaluate)

    u = sub.add_parser("upscale", help="upscale image or video files, folders or glob patterns")
    u.add_argument("inputs", nargs="+", help="image or video (.mp4 .mov .avi .mkv .webm) files, folders or "
                                             "quoted glob patterns ('photos/*.jpg')")
    u.add_argument("-o", "--output", required=True, help="output file (one input; format from its suffix) or folder "
                                                         "(<name>_x<scale>.png / .mp4)")
    u.add_argument("--model", help=f"bicubic, a shipped model ({_shipped()}; details: srlib models) or a .keras "
                                   "file (default: the shipped model with the best Set5 PSNR at the scale)")
    u.add_argument("--scale", type=_scale, help="upscaling factor: a fixed-scale model's own by default, 2 without "
                                                "--model; bicubic and cppn-any take any, e.g. 2.5")
    u.add_argument("--degrade", action="store_true", help="videos: input is HR; upscale its bicubic LR, score it")
    u.add_argument("--compare", action="store_true", help="videos: also write <output>_compare.mp4 and .gif")
    u.add_argument("--tile", type=_tile, help="images: LR tile side (default: the whole image when it fits in "
                                              "memory); tiles overlap, so the result is the same, only memory changes")
    u.add_argument("--force", action="store_true", help="replace outputs that exist (inputs are never replaced)")
    u.add_argument("--quiet", action="store_true", help="no progress bars")
    u.set_defaults(func=_upscale)

    m = sub.add_parser("models", help="list the shipped models: size, cost and Set5 score")
    m.set_defaults(func=_models)

    r = sub.add_parser("reproduce", help="run the notebooks top to bottom")
    r.add_argument("--profile", choices=paths.PROFILES, default="quick")
    r.add_argument("--only", nargs="*", help="run only notebooks whose name contains one of these")
    r.set_defaults(func=_reproduce)

    d = sub.add_parser("data", help="list or download datasets")
    d.add_argument("action", choices=("list", "get"))
    d.add_argument("names", nargs="*")
    d.set_defaults(func=_data)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if args.verbose:
        os.environ["SRLIB_VERBOSE"] = "1"  # notebooks started by `srlib reproduce` keep TensorFlow's messages too
    from srlib.io import ImageError

    try:
        if args.command == "evaluate":
            from srlib.io import list_images

            for d in args.dataset:  # fail fast, before TensorFlow loads
                list_images(_folder(d))
        if args.command == "data" and args.action == "get" and not args.names:
            raise UserError("name the sets to get, e.g. srlib data get Set5 Set14 (see: srlib data list)")
        if args.command in NEEDS_TF and not args.verbose:
            _import_tf_quietly()
        args.func(args)
    except (UserError, ImageError, ValueError, FileNotFoundError) as e:
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"srlib {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
