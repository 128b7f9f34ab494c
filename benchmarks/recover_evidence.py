"""Seeds-only evidence for a study whose per-image scores were lost with its runs folder.

    python benchmarks/recover_evidence.py study_01_design study_01_loss ...
    python benchmarks/recover_evidence.py --withdraw study_08_matrix study_05_digits_26to28 study_05_digits_7to28

Before srlib.research.evidence existed a study kept its per-image scores only under ``$SRLIB_RUNS``; the committed
``results/tables/<study>_runs.csv`` kept each run's mean validation and test PSNR / SSIM (4 significant digits)
and ``<study>.csv`` bicubic's. This writes them as the study's evidence (:mod:`srlib.research.evidence`), one row per
run and split with image '(run mean)', so :func:`srlib.research.evidence.rebuild` gives the study's table under the
present statistics with an interval over seeds only (the notes say so). Extra metrics (colour, sharpness) are not in the
runs file and drop out. Retraining the grid (``benchmarks/run_studies.py``) replaces it with per-image evidence.

``--withdraw``: for a study that kept neither per-image scores nor per-run means (the matrix and the digit studies
kept only each row's mean and std over seeds), no interval over seeds can be formed; this keeps the table's means,
stds and mean differences and drops its comparisons' intervals and verdicts (images-only, from before seeds were
counted), saying so.
"""

import argparse

import pandas as pd

from srlib.outputs import Outputs, write_csv
from srlib.paths import results_dir
from srlib.research import evidence


def header(path):
    """{key: line} of a result CSV's '# key: value' header."""
    lines = [line[2:].rstrip("\n") for line in path.open() if line.startswith("# ")]
    return dict(line.split(": ", 1) for line in lines)


def recover(name, outputs):
    """Write study ``name``'s seeds-only evidence from its committed tables; returns the scores path."""
    tables = results_dir() / "tables"
    table = pd.read_csv(tables / f"{name}.csv", comment="#")
    runs = pd.read_csv(tables / f"{name}_runs.csv", comment="#")
    head = header(tables / f"{name}.csv")
    bicubic = table[table["variant"] == "bicubic"].iloc[0]
    rows = [{"variant": "bicubic", "seed": 0, "split": split, "image": evidence.RUN_MEAN,
             "psnr": bicubic[f"{split}_psnr_mean"], "ssim": bicubic[f"{split}_ssim_mean"]} for split in ("val", "test")]
    rows += [{"variant": r.variant, "seed": int(r.seed), "split": split, "image": evidence.RUN_MEAN,
              "psnr": getattr(r, f"{split}_psnr"), "ssim": getattr(r, f"{split}_ssim")}
             for r in runs.itertuples() for split in ("val", "test")]
    variants = list(dict.fromkeys(runs["variant"]))
    budgets = {v: int(table.loc[table["variant"] == v, "budget_steps"].iloc[0]) for v in variants}
    baseline = head["comparison"].split("vs ", 1)[1].split(":", 1)[0]
    notes = {"test": head["test"], "convention": head["convention"],
             "comparison": f"vs {baseline}, over the runs that learned (at least 3 a side): mean difference with its "
                           "t interval over seeds only (the per-image scores were lost; each run's mean PSNR / SSIM "
                           f"from {name}_runs.csv, 4 significant digits), at the Holm-adjusted 95 % level over all "
                           "comparisons of this table; at or below bicubic's test PSNR: 'failed to learn', counted, "
                           "never averaged",
             "evidence": f"seeds only: results/studies/{name}_scores.csv.gz (benchmarks/recover_evidence.py)"}
    seeds = sorted(int(s) for s in runs["seed"].unique())
    meta = {"name": name, "baseline": baseline, "budgets": budgets, "seeds": seeds,
            "metrics": ["psnr", "ssim"], "command": head["command"], "notes": notes, "per_image": False, "curves": {}}
    return evidence.write(outputs, meta, pd.DataFrame(rows))


def withdraw(name, outputs):
    """Rewrite ``tables/<name>.csv`` without its interval, p and verdict columns; returns the path."""
    path = results_dir() / "tables" / f"{name}.csv"
    head, table = header(path), pd.read_csv(path, comment="#", dtype={"seeds": str})
    gone = [c for c in table.columns if c.startswith(("p_holm", "verdict"))
            or c.startswith(("d_", "gain_")) and c.endswith(("_low", "_high"))]
    notes = {k: v for k, v in head.items() if k not in ("command", "comparison", "matrix")}
    notes["comparison"] = ("withdrawn: its comparisons' intervals were over images only and its verdicts averaged "
                           "every seed; the per-run scores were not kept, so no interval over seeds can be formed; "
                           "means and stds over the seeds and the mean differences (d_, gain_) are kept, without "
                           "intervals; the grid's rerun (benchmarks/run_studies.py) restores them")
    rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in table.drop(columns=gone).to_dict("records")]
    return write_csv(outputs(f"tables/{name}.csv"), rows, command=head["command"], notes=notes)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("studies", nargs="+", help="study names with committed <study>.csv and <study>_runs.csv")
    p.add_argument("--withdraw", action="store_true", help="drop the intervals and verdicts of a study without runs")
    args = p.parse_args(argv)
    outputs = Outputs("full")
    for name in args.studies:
        if args.withdraw:
            print(f"{name}: {withdraw(name, outputs)}")
            continue
        print(f"{name}: {recover(name, outputs)}")
        evidence.rebuild(name, outputs)


if __name__ == "__main__":
    main()
