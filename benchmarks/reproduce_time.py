"""How long `make reproduce` (quick) takes a new user: a fresh clone, its .venv set up, every notebook run.

    python benchmarks/reproduce_time.py            # writes results/tables/reproduce_quick_timing.csv

Clones this checkout's HEAD into a temporary folder (beside ../shared, so the Makefile finds the data the same
way), runs `make reproduce` there with an empty runs folder (nothing trained before), and writes each notebook's
seconds (from the clone's runs/quick/reproduce_timing.csv), the set-up of .venv (the rest of the wall time) and
the total, with this machine. The clone's `git status` must be clean afterwards (the quick profile writes only
under runs/); the script fails otherwise.
"""

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

from srlib.outputs import Outputs, write_timing
from srlib.research.reproduce import ROOT


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as tmp:
        clone, runs = Path(tmp) / "srlib", Path(tmp) / "runs"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SRLIB_", "VIRTUAL_ENV"))}
        if (ROOT.parent / "shared" / "datasets").is_dir():  # the Makefile looks for ../shared beside the clone
            (Path(tmp) / "shared").symlink_to(ROOT.parent / "shared")
        t = time.perf_counter()
        subprocess.run(["make", "reproduce", f"PROFILE={args.profile}"], cwd=clone, check=True,
                       env={**env, "SRLIB_RUNS": str(runs)})
        total = time.perf_counter() - t
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
        if dirty.strip():
            raise SystemExit(f"make reproduce left the clone dirty:\n{dirty}")
        books = pd.read_csv(clone / "runs" / args.profile / "reproduce_timing.csv", comment="#")
    rows = books.to_dict("records")
    rows += [{"notebook": "setup (.venv)", "seconds": round(total - books["seconds"].sum(), 1)},
             {"notebook": "total", "seconds": round(total, 1)}]
    write_timing(Outputs("full")(f"tables/reproduce_{args.profile}_timing.csv"), rows,
                 notes={"what": f"make reproduce (PROFILE={args.profile}) on a fresh clone, .venv set up included, "
                                "git status clean after"})
    print(f"make reproduce ({args.profile}): {total / 60:.1f} min")


if __name__ == "__main__":
    main()
