"""Redraw the notebooks' still figures from shipped weights, their logs and cached runs, without training anything.

    SRLIB_DATA_DIR=... SRLIB_RUNS=... python benchmarks/redraw_figures.py            # every notebook below, full
    python benchmarks/redraw_figures.py 07 04                                        # some of them
    python benchmarks/redraw_figures.py 05 --figures 05_any_resolution                # only some figures

A figure is drawn by its own notebook cell; this script executes, for each notebook, its setup cell, its ``studies``
cell (definitions only) and then only the cells that draw figures (by cell id), with the parameters of the ``full``
profile set so that nothing trains and no study runs (``full_train = []``, ``run_studies = False``, ...). Where a
figure cell needs a value that a heavy cell computes (the benchmark table of notebook 07, the digit study objects,
the shipped ``cppn-any``), a few lines below give it from the committed table or the shipped weights instead.
Figures go where the notebook would write them (``results/figures/``, recorded in ``results/provenance.json`` by
:class:`srlib.outputs.Outputs`); any table a figure cell also writes goes to a temporary folder, so a redraw never
rewrites a result table.

``--figures NAME ...`` runs, of the planned cells, those that write one of the named figures and those that write no
figure (definitions): a figure whose cell needs runs that are not on this machine (notebook 05's digit study runs)
need not stop the redraw of the others.
"""

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from srlib.research.reproduce import ROOT

# notebook: (parameters, cell ids to run after the setup cell, lines run after the setup cell)
PLAN = {
    "00_data_prep": ({}, ["2838ccbf", "6a9347de", "d7d37ed6", "5e0c1a7d"], """
table = paths.results_dir() / "tables" / "loader_benchmark.csv"  # the committed loader benchmark, not rerun
"""),
    "01_cnn_autoencoder": ({"full_train": [], "run_studies": False}, ["8b92acb2", "c26f1a01", "7b6c204a"], ""),
    "02_espcn": ({"full_scales": [], "train_fast": False, "run_studies": False}, ["2d68415a", "41f32cdb", "b4dde301"],
                 """
models = {s: zoo.load(f"espcn-x{s}") for s in (2, 3, 4)}  # the shipped models (the benchmark cell is not rerun)
"""),
    "03_autoencoder_skip": ({"full_scales": [], "run_studies": False}, ["3e84eedf", "c26f1a03", "152d2587"], ""),
    "04_vae": ({"full_train": [], "run_studies": False},
               ["905ba0cf", "b43e1603", "c26f1a04", "87d9e126", "6896302c"], """
folder = next(iter(tests.values()))  # Set5, as the samples cell sets it (the KL cell's images)
"""),
    "05_gan_cppn": ({}, ["68393fd7", "7931f480", "c26f1a05", "62170d95", "c26f1a15", "f3430048"], """
import pandas as pd
from srlib.research.digit_study import DigitStudy
studies = {f"{s} -> 28": DigitStudy(s, profile=profile) for s in (26, 7)}  # the cached study runs, not rerun
study_rows = {f"{s} -> 28": pd.read_csv(paths.results_dir() / "tables" / f"study_05_digits_{s}to28.csv",
                                        comment="#").to_dict("records") for s in (26, 7)}  # the committed tables
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
    "08_real_inputs": ({"run_studies": False}, ["9294f4b8"], ""),
}


def setup_cell(cells):
    """The id of the first code cell after the ``parameters`` cell (imports, ``out``, ``data``)."""
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    return next(c["id"] for c in cells[tagged[0] + 1 :] if c["cell_type"] == "code")


def wanted(source, figures):
    """Whether a planned cell runs when only ``figures`` (names without .png; None: all) are to be redrawn: it
    writes one of them, or no figure at all. A name the cell formats (``figures/07_crops_x{s}.png``) matches any
    value in the braces."""
    if figures is None:
        return True
    written = [re.escape(n).replace(r"\{", "{") for n in re.findall(r"figures/([^\"']+?)\.png", source)]
    patterns = [re.sub(r"\{[^}]*\}", ".+", n) for n in written]
    return not patterns or any(re.fullmatch(pat, f) for pat in patterns for f in figures)


def redraw(name, profile, scratch, figures=None):
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
        if not wanted(by_id[i], figures):
            continue
        print(f"{name}: cell {i}", flush=True)
        exec(compile(by_id[i], f"{name}[{i}]", "exec"), ns)
        plt.close("all")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: all of them)")
    ap.add_argument("--profile", default="full", help="the profile whose figures to redraw (default: full)")
    ap.add_argument("--figures", nargs="+", metavar="NAME",
                    help="redraw only these figures (e.g. 05_any_resolution), with the cells that define what they use")
    args = ap.parse_args(argv)
    names = [n for n in PLAN if not args.notebooks or any(n.startswith(a) for a in args.notebooks)]
    if not names:
        raise SystemExit(f"no notebook matches {args.notebooks}; known: {', '.join(PLAN)}")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            redraw(name, args.profile, scratch, [f.removesuffix(".png") for f in args.figures or []] or None)


if __name__ == "__main__":
    sys.exit(main())
