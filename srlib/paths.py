"""Where things are: the one module that turns settings into folders and files.

Every location srlib reads or writes is resolved here, from environment variables with
defaults, and always as an absolute path (a relative setting is taken from the current
directory of the process that reads it; ``srlib reproduce`` resolves them before it starts
the notebook kernels, whose current directory is ``notebooks/``):

=====================  ===================================  ==============================================
what                   setting                              default
=====================  ===================================  ==============================================
data sets              ``SRLIB_DATA_DIR``                   ``data/``
published tables       ``SRLIB_REFERENCE``                  ``<data dir>/../reference/published_results.csv``
peer models            ``SRLIB_PEERS_DIR``                  ``<data dir>/../peers``
training runs          ``SRLIB_RUNS``                       ``~/.cache/srlib/runs``
shipped models (zoo)   ``SRLIB_WEIGHTS``                    ``results/weights`` in a checkout, else the
                                                            ``srlib/weights`` package data of an install
=====================  ===================================  ==============================================

Registered clips (:data:`CLIPS`) live under the data directory.
"""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # the checkout, when srlib runs from one (notebooks/, results/ beside the package)
ENV = ("SRLIB_DATA_DIR", "SRLIB_REFERENCE", "SRLIB_PEERS_DIR", "SRLIB_RUNS", "SRLIB_WEIGHTS")
CLIPS = {"cockatoo-720p": "video/clips/cockatoo_720p.mp4"}  # name -> file under the data directory
VID4 = ("calendar", "city")  # the Vid4 sequences the benchmarks use, under video/vid4/


PROFILES = ("smoke", "quick", "full")  # run profiles, smallest first: runs_dir(profile), srlib.outputs.Outputs


def _setting(name, default):
    value = os.environ.get(name)
    return Path(value).expanduser().absolute() if value else Path(default).expanduser().absolute()


def data_dir():
    """The data directory: ``$SRLIB_DATA_DIR``, else ``data/`` in the current directory."""
    return _setting("SRLIB_DATA_DIR", "data")


def reference_file():
    """The published-results CSV: ``$SRLIB_REFERENCE``, else ``reference/`` beside the data directory."""
    return _setting("SRLIB_REFERENCE", data_dir().parent / "reference" / "published_results.csv")


def peers_dir():
    """Peer models to benchmark against (OpenCV's ESPCN): ``$SRLIB_PEERS_DIR``, else ``peers/`` beside the data."""
    return _setting("SRLIB_PEERS_DIR", data_dir().parent / "peers")


def clip(name):
    """The file of a registered clip (a key of :data:`CLIPS`); it may not exist."""
    if name not in CLIPS:
        raise ValueError(f"unknown clip {name!r} (known: {', '.join(CLIPS)})")
    return data_dir() / CLIPS[name]


def vid4():
    """{sequence: folder} of the Vid4 sequences in :data:`VID4` (folders may not exist)."""
    return {name: data_dir() / "video" / "vid4" / name for name in VID4}


def runs_dir(profile=None):
    """Training runs: ``$SRLIB_RUNS`` (default ``~/.cache/srlib/runs``); profiles but 'full' get a subfolder."""
    root = _setting("SRLIB_RUNS", Path.home() / ".cache" / "srlib" / "runs")
    return root if profile in (None, "full") else root / profile


def weights_dir():
    """The shipped models and their cards (see the module docstring)."""
    if os.environ.get("SRLIB_WEIGHTS"):
        return _setting("SRLIB_WEIGHTS", "")
    checkout = ROOT / "results" / "weights"
    return checkout if checkout.is_dir() else PACKAGE / "weights"


def results_dir():
    """``results/`` of the checkout: what the notebooks and benchmarks write and the README quotes."""
    return ROOT / "results"


def absolute_env(env=None):
    """A copy of ``env`` (default ``os.environ``) with every srlib location setting made absolute, and
    ``SRLIB_DATA_DIR`` always set (its default, ``data/``, is relative to the current directory too)."""
    env = dict(os.environ if env is None else env)
    env.setdefault("SRLIB_DATA_DIR", "data")
    for name in ENV:
        if env.get(name):
            env[name] = str(Path(env[name]).expanduser().absolute())
    return env


def display(path):
    """``path`` for committed outputs: relative to the data directory, the training runs, the checkout or ``~``; no
    machine paths."""
    path = Path(path).absolute()
    for base, label in ((data_dir(), "$SRLIB_DATA_DIR"), (runs_dir(), "$SRLIB_RUNS"), (ROOT, ""),
                        (Path.home(), "~")):
        if path.is_relative_to(base):
            rel = path.relative_to(base).as_posix()
            return f"{label}/{rel}" if label else rel
    return path.name
