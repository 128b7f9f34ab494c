"""Redraw the notebooks' still figures from shipped weights, their logs and cached runs, without training anything.

    SRLIB_DATA_DIR=... SRLIB_RUNS=... python benchmarks/redraw_figures.py            # every notebook below, full
    python benchmarks/redraw_figures.py 07 04                                        # some of them

A figure is drawn by its own notebook cell; this script executes, for each notebook, its setup cell, its ``studies``
cell (definitions only) and then only the cells that draw figures (by cell id), with the parameters of the ``full``
profile set so that nothing trains and no study runs (``full_train = []``, ``run_studies = False``, ...). Where a
figure cell needs a value that a heavy cell computes (the benchmark table of notebook 07, the digit study objects,
the shipped ``cppn-any``), a few lines below give it from the committed table or the shipped weights instead.
Figures go where the notebook would write them (``results/figures/``, recorded in ``results/provenance.json`` by
:class:`srlib.outputs.Outputs`); any table a figure cell also writes goes to a temporary folder, so a redraw never
rewrites a result table.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from srlib.reproduce import ROOT

# notebook: (parameters, cell ids to run after the setup cell, lines run after the setup cell)
PLAN = {
    "00_data_prep": ({}, ["2838ccbf", "6a9347de"], ""),
    "01_cnn_autoencoder": ({"full_train": [], "run_studies": False}, ["8b92acb2", "c26f1a01", "7b6c204a"], ""),
    "02_espcn": ({"full_scales": [], "train_fast": False, "run_studies": False}, ["2d68415a", "41f32cdb"], ""),
    "03_autoencoder_skip": ({"full_scales": [], "run_studies": False}, ["3e84eedf", "c26f1a03"], ""),
    "04_vae": ({"full_train": [], "run_studies": False}, ["905ba0cf", "b43e1603", "c26f1a04", "87d9e126"], ""),
    "05_gan_cppn": ({}, ["68393fd7", "c26f1a05", "c26f1a15", "f3430048"], """
from srlib.digit_study import DigitStudy
studies = {f"{s} -> 28": DigitStudy(s, profile=profile) for s in (26, 7)}  # the cached study runs, not rerun
photo, photo_label = zoo.load("cppn-any"), "cppn-any"
tests = {k: v for k, v in data.test.items() if k in ("Set5", "Set14")} or data.test
"""),
    "07_report": ({}, ["97590c0e", "b1333623"], """
from srlib import paths
bench = pd.read_csv(paths.results_dir() / "benchmark.csv", comment="#")  # the committed quality table
ours = bench[bench.source == "ours"].drop(columns="source")
speed = pd.read_csv(paths.results_dir() / "tables" / "speed_1080p.csv", comment="#")  # and the committed timings
scales = sorted({s for ss in models.values() for s in ss})
"""),
}


def setup_cell(cells):
    """The id of the first code cell after the ``parameters`` cell (imports, ``out``, ``data``)."""
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    return next(c["id"] for c in cells[tagged[0] + 1 :] if c["cell_type"] == "code")


def redraw(name, profile, scratch):
    params, ids, glue = PLAN[name]
    path = ROOT / "notebooks" / f"{name}.ipynb"
    cells = json.loads(path.read_text())["cells"]
    by_id = {c.get("id"): "".join(c["source"]) for c in cells}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SystemExit(f"{path.name}: no cell with id {', '.join(missing)} (update PLAN in {Path(__file__).name})")
    ns = {"profile": profile, **params, "display": print, "__name__": "__main__"}
    exec(compile(by_id[setup_cell(cells)], f"{name}[setup]", "exec"), ns)
    for c in cells:  # the studies cell defines functions (and imports) that later cells use; it trains nothing
        if "studies" in c.get("metadata", {}).get("tags", []):
            exec(compile("".join(c["source"]), f"{name}[studies]", "exec"), ns)
    outputs = ns["out"]
    ns["out"] = lambda rel: outputs(rel) if str(rel).startswith("figures/") else Path(scratch, name, rel)
    Path(scratch, name, "tables").mkdir(parents=True, exist_ok=True)
    exec(compile(glue, f"{name}[glue]", "exec"), ns)
    for i in ids:
        print(f"{name}: cell {i}", flush=True)
        exec(compile(by_id[i], f"{name}[{i}]", "exec"), ns)
        plt.close("all")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: all of them)")
    ap.add_argument("--profile", default="full", help="the profile whose figures to redraw (default: full)")
    args = ap.parse_args(argv)
    names = [n for n in PLAN if not args.notebooks or any(n.startswith(a) for a in args.notebooks)]
    if not names:
        raise SystemExit(f"no notebook matches {args.notebooks}; known: {', '.join(PLAN)}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            redraw(name, args.profile, scratch)


if __name__ == "__main__":
    sys.exit(main())
