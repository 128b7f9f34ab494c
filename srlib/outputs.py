"""Result files and their provenance: CSV tables with a provenance header, and where a run under a profile writes.

    out = Outputs("quick")                                   # profiles: srlib.paths.PROFILES
    scores, speed = split_timing(rows, ("fps",), key=("scale", "clip", "method"))
    write_csv(out("tables/vid4.csv"), scores)                # header: command; the same bytes on any machine
    write_timing(out("tables/vid4_timing.csv"), speed)       # header: date, machine, command

A result table holds what the profile and the data determine; what the machine decides (seconds, frame rates,
the date, the machine itself) goes to a timing table, so a rerun elsewhere leaves committed results as they are.
:class:`Outputs` keeps a smaller profile from replacing what a bigger one produced (``results/provenance.json``
records the profile of each file).
"""

import csv
import datetime
import io
import json
import logging
import sys
from pathlib import Path

from srlib import paths
from srlib.io import atomic_write, write_json
from srlib.paths import PROFILES
from srlib.precision import machine

log = logging.getLogger(__name__)


def write_csv(path, rows, command=None, notes=None):
    """Result ``rows`` (dicts) -> CSV at ``path``, atomically, under a '#' header: command (default: this
    process's) and ``notes`` ({key: one line}); no date and no machine, so the same rows give the same bytes on any
    machine. Floats keep 4 significant digits (format them first for more); read it back with
    ``pandas.read_csv(path, comment='#')``."""
    return _write(path, rows, _header(command, notes))


def write_timing(path, rows, command=None, notes=None):
    """Machine-dependent ``rows`` (benchmarks, training seconds, frame rates) -> CSV at ``path`` as
    :func:`write_csv`, with the date and this machine (:func:`srlib.precision.machine`) first in the header."""
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return _write(path, rows, [f"date: {now}", f"machine: {machine()}", *_header(command, notes)])


def split_timing(rows, timing, key):
    """``rows`` -> (the rows without the ``timing`` columns, for :func:`write_csv`; the ``key`` and ``timing``
    columns of each row, for :func:`write_timing`)."""
    fields = _fields(rows)
    if missing := [k for k in (*key, *timing) if k not in fields]:
        raise ValueError(f"no column {', '.join(missing)} in the rows (columns: {', '.join(fields)})")
    return ([{k: v for k, v in r.items() if k not in timing} for r in rows],
            [{k: r.get(k) for k in (*key, *timing)} for r in rows])


def _header(command, notes):
    command = command or " ".join(["python", *[paths.display(a) if Path(a).exists() else a for a in sys.argv]])
    return [f"command: {command}", *(f"{k}: {v}" for k, v in (notes or {}).items())]


def _fields(rows):
    return list(dict.fromkeys(k for r in rows for k in r))


def _write(path, rows, header):
    buf = io.StringIO()
    buf.writelines(f"# {line}\n" for line in header)
    w = csv.DictWriter(buf, _fields(rows), lineterminator="\n")
    w.writeheader()
    w.writerows({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    atomic_write(path, lambda tmp: Path(tmp).write_text(buf.getvalue()))
    log.info("wrote %s", paths.display(path))
    return Path(path)


class Outputs:
    """Where a run under ``profile`` writes a result file, so that a smaller profile never replaces a bigger one's.

    Only the full profile writes the committed ``results/``: ``outputs("tables/vid4.csv")`` is
    ``results/tables/vid4.csv`` there, and writing a file through it records the profile in
    ``results/provenance.json``. The quick and smoke profiles always write under ``runs/<profile>/results``, so
    ``make reproduce`` (quick) leaves the checkout as it was (files an earlier quick run committed stay as they are).
    """

    def __init__(self, profile, root=None):
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
        self.profile = profile
        self.root = Path(root or paths.results_dir())
        self.scratch = self.root.parent / "runs" / profile / "results"
        self.manifest = self.root / "provenance.json"

    def _read(self):
        return json.loads(self.manifest.read_text()) if self.manifest.exists() else {}

    def __call__(self, rel):
        rel = Path(rel).as_posix()
        if self.profile != "full":
            return self._ready(self.scratch / rel)
        known = self._read()
        owner = known.get(rel)
        if owner is not None and PROFILES.index(owner) > PROFILES.index(self.profile):
            log.warning("results/%s comes from the %s profile: kept; this %s run writes runs/%s/results/%s",
                        rel, owner, self.profile, self.profile, rel)
            return self._ready(self.scratch / rel)
        if owner != self.profile:
            known[rel] = self.profile
            write_json(self.manifest, dict(sorted(known.items())))
        return self._ready(self.root / rel)

    @staticmethod
    def _ready(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
