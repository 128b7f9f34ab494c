"""Result files and their provenance: CSV tables with a provenance header, and where a run under a profile writes.

    out = Outputs("quick")                                   # profiles: srlib.paths.PROFILES
    write_csv(out("tables/vid4.csv"), rows)                  # results/tables/vid4.csv, header: date, machine, command

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


def write_csv(path, rows, command=None, date=True, notes=None, machine_line=True):
    """``rows`` (dicts) -> CSV at ``path``, atomically, under a '#' provenance header: date (if ``date``),
    machine (if ``machine_line``; both off: the same rows give the same bytes on any machine), command (default:
    this process's) and ``notes`` ({key: one line}). Floats keep 4 significant digits (format them first for
    more); read it back with ``pandas.read_csv(path, comment='#')``."""
    command = command or " ".join(["python", *[paths.display(a) if Path(a).exists() else a for a in sys.argv]])
    buf = io.StringIO()
    if date:
        buf.write(f"# date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}\n")
    if machine_line:
        buf.write(f"# machine: {machine()}\n")
    buf.write(f"# command: {command}\n")
    buf.writelines(f"# {key}: {value}\n" for key, value in (notes or {}).items())
    fields = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(buf, fields, lineterminator="\n")
    w.writeheader()
    w.writerows({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in r.items()} for r in rows)
    atomic_write(path, lambda tmp: Path(tmp).write_text(buf.getvalue()))
    log.info("wrote %s", paths.display(path))
    return Path(path)


class Outputs:
    """Where a run under ``profile`` writes a result file, so that a smaller profile never replaces a bigger one's.

    ``outputs("tables/vid4.csv")`` is ``results/tables/vid4.csv`` unless ``results/provenance.json``
    says a bigger profile produced that file; then it is ``runs/<profile>/results/tables/vid4.csv``
    (and a log line says so). The smoke profile always writes under ``runs/smoke/results``.
    Writing a file through here records its profile in the manifest.
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
        if self.profile == "smoke":
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
