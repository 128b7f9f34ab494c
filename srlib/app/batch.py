"""A batch of inputs for ``srlib upscale``: which files, and which output each one gets, decided before any work.

Files, folders (their images and videos, not recursive) and glob patterns expand to files in order, once each.
Every input gets an output path or a one-line reason why not, so that nothing is lost and nothing is replaced
within a batch: an input is never an output (also through a link), and two inputs never share an output.
"""

import dataclasses
import glob
from pathlib import Path

from srlib.io import IMAGE_SUFFIXES
from srlib.videoio import VIDEO_SUFFIXES


@dataclasses.dataclass(frozen=True)
class Job:
    """One input and where its result goes; ``video`` says which engine."""

    src: Path
    dst: Path
    video: bool


def expand(items):
    """(files in order, once each; one-line failures): a folder with nothing to upscale and a glob that matches
    nothing are failures; a missing file is passed on (the reader names it)."""
    found, failures = [], []
    known = IMAGE_SUFFIXES + VIDEO_SUFFIXES
    for item in items:
        p = Path(item)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in known)
            found += files
            if not files:
                failures.append(f"{p}: no images or videos in this folder ({' '.join(known)})")
        elif not p.exists() and any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            found += matches
            if not matches:
                failures.append(f"{item}: no file matches this pattern")
        else:
            found.append(p)
    return list(dict.fromkeys(found)), failures


def _label(scale):
    return f"x{scale:g}".replace(".", "p")  # x2, x2p5: a dot would read as a suffix


def plan(items, output, scale):
    """(jobs, failures) for upscaling ``items`` by ``scale`` into ``output``.

    ``output`` is a file when there is one input and it has a suffix; else a folder, where an image becomes
    ``<stem>_x<scale>.png`` and a video ``<stem>_x<scale>.mp4`` (x2.5: ``_x2p5``). Refused, each with one line:
    an output that is one of the inputs (or a link to one) and a second input whose output name is taken.
    """
    inputs, failures = expand(items)
    out = Path(output)
    many = len(inputs) + len(failures) > 1 or out.is_dir() or not out.suffix
    sources = {p.resolve(): p for p in inputs if p.exists()}
    taken, jobs = {}, []
    for src in inputs:
        video = src.suffix.lower() in VIDEO_SUFFIXES
        dst = out / f"{src.stem}_{_label(scale)}{'.mp4' if video else '.png'}" if many else out
        key = dst.resolve()
        if key in sources:
            failures.append(f"{src}: refusing to write over the input {sources[key]}")
        elif key in taken:
            failures.append(f"{src}: its output {dst} is already {taken[key]}'s in this batch "
                            "(rename one, or upscale them separately)")
        else:
            taken[key] = src
            jobs.append(Job(src, dst, video))
    return jobs, failures
