"""Run the notebooks' studies in the background, one training process at a time, resumable.

    SRLIB_RUNS=... nohup nice -n 19 python benchmarks/run_studies.py > runs/logs/studies.log 2>&1 &
    python benchmarks/run_studies.py --status           # runs done / total per study, trains nothing
    python benchmarks/run_studies.py --rebuild          # every study's tables from its committed evidence, minutes

A study is defined once, in its notebook: the code cell tagged ``studies`` holds one function per question
(``study_02_activation(profile, ...) -> srlib.research.study.Study``) and ``run_study(study, outputs)``. This script
executes that cell and calls them, in the order given (default: the cheapest first), so the notebook and the
background grid are the same code. ``--rebuild`` trains and scores nothing: it rewrites each study's
``tables/<study>.csv`` and ``<study>_runs.csv`` from ``results/studies/`` (:func:`srlib.research.evidence.rebuild`); the
chapters draw the study figures from the same evidence under the quick profile. Each (variant, seed) is cached under
``runs_dir(profile)/studies/`` and a killed grid loses at most the epoch in progress; a study's evidence and
tables (through :class:`srlib.outputs.Outputs`) are written only once every run of its grid has finished.
"""

import argparse
import json
import logging
import sys
import time

from srlib.outputs import Outputs
from srlib.research import evidence
from srlib.research.reproduce import ROOT
from srlib.training.train import finished

ORDER = ["study_02_activation", "study_03_skips", "study_01_output", "study_04_design", "study_02_colour",
         "study_01_design", "study_01_loss",
         "study_03_design", "study_03_placement", "study_08_matrix"]


def definitions(notebook):
    """{name: function} of the ``studies`` cell of ``notebook`` (its ``study_*`` functions and ``run_study``)."""
    cells = json.loads(notebook.read_text())["cells"]
    tagged = [c for c in cells if "studies" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise SystemExit(f"{notebook.name}: want one code cell tagged 'studies', found {len(tagged)}")
    namespace = {}
    exec(compile("".join(tagged[0]["source"]), f"{notebook.name}[studies]", "exec"), namespace)
    return namespace


def progress(study):
    """(finished runs, runs) of ``study``'s grid."""
    done = sum(finished(study.run_dir(v, k), study.epochs) for v, k in study.grid())
    return done, len(study.grid())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("studies", nargs="*", default=ORDER, help=f"study names, in order (default: {' '.join(ORDER)})")
    p.add_argument("--profile", default="full", help="the notebooks' profile (default: full)")
    p.add_argument("--status", action="store_true", help="print runs done / total per study and exit")
    p.add_argument("--rebuild", action="store_true", help="rewrite the tables from the committed evidence and exit")
    args = p.parse_args(argv)
    if args.rebuild:
        for name in args.studies:
            if evidence.files(name)[0].exists():
                rows = evidence.rebuild(name, Outputs(args.profile))
                print(f"{name}: {len(rows)} rows from {evidence.files(name)[0].name}", flush=True)
            else:
                print(f"{name}: no committed evidence (results/studies/); retrain it to make some", flush=True)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stdout)
    for name in args.studies:
        notebook = next((ROOT / "notebooks").glob(f"{name.split('_')[1]}_*.ipynb"), None)
        if notebook is None:
            raise SystemExit(f"{name}: no notebook {name.split('_')[1]}_*.ipynb under notebooks/")
        ns = definitions(notebook)
        if name not in ns:
            raise SystemExit(f"{notebook.name}: its studies cell defines no {name}()")
        study = ns[name](args.profile)
        done, total = progress(study)
        print(f"{name}: {done}/{total} runs done, {study.budgets[study.baseline]:,} steps each, "
              f"under {study.root}", flush=True)
        if args.status:
            continue
        t = time.time()
        ns["run_study"](study, Outputs(args.profile), verbose=2)  # Keras prints a line per epoch
        print(f"{name}: finished ({study.trained_steps:,} steps trained in this process, "
              f"{time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
