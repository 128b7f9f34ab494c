"""A study's committed evidence: every run's per-image scores and the study's definition, and the tables made from them.

    write(outputs, meta, scores)          # results/studies/<name>_scores.csv.gz and <name>.json
    meta, scores = read("study_02_activation")
    rows, runs = tabulate(meta, scores)   # the table and one row per run, no training, no images
    rebuild("study_02_activation", Outputs("full"))   # rewrites tables/<name>.csv and <name>_runs.csv

A study (:class:`srlib.research.study.Study`) writes its evidence once every run is scored and makes its tables from
what it reads back, so :func:`rebuild` gives the same bytes from the committed files alone
(``python benchmarks/run_studies.py --rebuild`` does every study).

The scores file is a gzip'd CSV (no timestamp inside: the same scores give the same bytes), one row per (run, split,
image[, test column]): ``variant``, ``seed`` (bicubic: 'bicubic', seed 0), ``split`` ('val' / 'test'), ``image``,
for a matrix ``test`` and ``test_degradation``, then the metrics to 6 decimals. A study whose per-image scores were
lost keeps one row per run and split with image ``(run mean)``: its interval is over seeds only, and
``meta['per_image']`` is false.

``meta`` (JSON): name, baseline, budgets {variant: steps}, seeds, metrics, command, notes {key: line}, per_image,
curves {variant: {seed: [validation PSNR per epoch]}}, steps_per_epoch, and for a matrix ``columns`` [[test,
degradation]] and ``own`` {variant: its training degradation}.
"""

import functools
import json
from pathlib import Path

import pandas as pd

from srlib import paths
from srlib.evaluate import CONVENTION
from srlib.io import atomic_write, write_json
from srlib.outputs import write_csv
from srlib.research.scoring import CLIP_DEGRADATION
from srlib.research.stats import KEYS, MIN_SEEDS, compare, table

RUN_MEAN = "(run mean)"  # the image name of a run's mean where per-image scores were lost
COLUMN = ("test", "test_degradation")  # a matrix's test column


def files(name, root=None):
    """(scores, meta) paths of study ``name`` under ``root`` (default: the committed ``results/studies``)."""
    root = Path(root) if root is not None else paths.results_dir() / "studies"
    return root / f"{name}_scores.csv.gz", root / f"{name}.json"


def write(outputs, meta, scores):
    """``scores`` (DataFrame, columns as the module docstring) and ``meta`` -> ``studies/<name>_scores.csv.gz`` and
    ``studies/<name>.json`` through ``outputs`` (:class:`srlib.outputs.Outputs`); returns the scores path."""
    score_path, meta_path = (outputs(f"studies/{p.name}") for p in files(meta["name"]))
    atomic_write(score_path, lambda tmp: scores.to_csv(
        tmp, index=False, float_format="%.6f", compression={"method": "gzip", "mtime": 0}))
    write_json(meta_path, meta)
    return score_path


def read(name, root=None):
    """(meta, scores) of study ``name`` (:func:`files`); FileNotFoundError names what is missing."""
    score_path, meta_path = files(name, root)
    for p in (score_path, meta_path):
        if not p.exists():
            raise FileNotFoundError(f"{paths.display(p)}: no committed evidence of {name}")
    scores = pd.read_csv(score_path, dtype={"variant": str, "image": str})
    return json.loads(meta_path.read_text()), scores


def run_rows(meta, scores):
    """One row per run (and per test column of a matrix): mean validation and test PSNR / SSIM and ``learned``
    (test PSNR above bicubic's on the same LR)."""
    keys = [c for c in COLUMN if c in scores.columns]
    rows = []
    for col, part in scores.groupby(keys, sort=False) if keys else [((), scores)]:
        means = part.groupby(["variant", "seed", "split"])[["psnr", "ssim"]].mean()
        floor = means.loc[("bicubic", 0, "test"), "psnr"]
        for variant in meta["budgets"]:
            for seed in meta["seeds"]:
                if (variant, seed, "test") not in means.index:
                    continue
                test = means.loc[(variant, seed, "test")]
                val = means.loc[(variant, seed, "val")] if (variant, seed, "val") in means.index else None
                rows.append({**dict(zip(keys, col if isinstance(col, tuple) else (col,), strict=True)),
                             "variant": variant, "seed": seed,
                             "val_psnr": None if val is None else val["psnr"],
                             "val_ssim": None if val is None else val["ssim"],
                             "test_psnr": test["psnr"], "test_ssim": test["ssim"],
                             "learned": bool(test["psnr"] > floor)})
    return rows


def tabulate(meta, scores):
    """(the study's table rows, :func:`run_rows`) from its evidence: :func:`srlib.research.stats.table`, and for a
    matrix one table per test column plus each cell's gain over bicubic on that column's LR (``gain_psnr``, ``_low`` /
    ``_high``: interval over the learned seeds and the images at the Holm-adjusted level over every cell,
    ``p_holm_gain``, ``verdict_gain``). A matrix run has learned when it beat bicubic on its own training LR; that
    decides every column, so no column hides a run."""
    runs = run_rows(meta, scores)
    metrics = [c for c in scores.columns if c not in (*KEYS, *COLUMN)]
    scores = scores[[*KEYS, *(c for c in COLUMN if c in scores.columns), *metrics]]
    if "columns" not in meta:
        return table(scores[[*KEYS, *metrics]], meta["baseline"], meta["budgets"]), runs
    learned = {(r["variant"], r["seed"]): r["learned"] for r in runs
               if r["test_degradation"] == meta["own"][r["variant"]] and r["test"] == meta["columns"][0][0]}
    rows, pairs = [], {}
    for test, degradation in meta["columns"]:
        part = scores[(scores["test"] == test) & (scores["test_degradation"] == degradation)]
        rows += [{"test": test, "test_degradation": degradation, **row}
                 for row in table(part[[*KEYS, *metrics]], meta["baseline"], meta["budgets"], learned)]
        by = part[part["split"] == "test"].pivot_table(index=["variant", "seed"], columns="image", values="psnr")
        for v in meta["budgets"]:
            good = [s for s in meta["seeds"] if learned.get((v, s))]
            if good:
                pairs[test, degradation, v] = (by.loc[[(v, s) for s in good]].to_numpy(),
                                               by.loc[[("bicubic", 0)]].to_numpy())
    gains = compare(pairs, dict.fromkeys(pairs, ("above bicubic", "below bicubic")))
    for row in rows:
        g = gains.get((row["test"], row["test_degradation"], row["variant"]), dict.fromkeys(
            ("d", "low", "high", "p_holm", "verdict")))
        row.update(gain_psnr=g["d"], gain_psnr_low=g["low"], gain_psnr_high=g["high"], p_holm_gain=g["p_holm"],
                   verdict_gain=g["verdict"])
    return rows, runs


def write_tables(outputs, meta, scores):
    """``tables/<name>.csv`` and ``tables/<name>_runs.csv`` from the evidence, through ``outputs``; the rows."""
    rows, runs = tabulate(meta, scores)
    notes = meta["notes"]
    write_csv(outputs(f"tables/{meta['name']}.csv"), rows, command=meta["command"], notes=notes)
    write_csv(outputs(f"tables/{meta['name']}_runs.csv"), runs, command=meta["command"],
              notes={k: notes[k] for k in ("test", "convention", "evidence") if k in notes}
              | {"learned": "test PSNR above bicubic's on the same LR"})
    return rows


def rebuild(name, outputs):
    """Rewrite study ``name``'s tables from its committed evidence (no training, no images); the rows."""
    return write_tables(outputs, *read(name))


def of_study(study, command):
    """(meta, scores) of the finished grid of ``study`` (:class:`srlib.research.study.Study`) as :func:`write` stores
    them: every run's and bicubic's per-image scores (a matrix: on each test column) and the study's definition,
    ``command`` included."""
    (val, test), r = study.files, study.recipe(study.baseline, study.seeds[0])
    notes = {"test": f"{Path(study.test).name} ({len(test)} images); validation: {len(val)} held-out images",
             "convention": CONVENTION,
             "comparison": f"vs {study.baseline}, over the runs that learned (at least {MIN_SEEDS} a side): mean "
             "difference with its t interval over seeds and images (srlib.research.stats.seeds_and_images), at the "
             "Holm-adjusted 95 % level over all comparisons of this table; at or below bicubic's test PSNR: "
             "'failed to learn', counted, never averaged",
             "evidence": f"per-image scores of every run: results/studies/{study.name}_scores.csv.gz"}
    meta = {"name": study.name, "baseline": study.baseline, "budgets": study.budgets, "seeds": list(study.seeds),
            "metrics": ["psnr", "ssim", *study.metrics], "command": command, "notes": notes, "per_image": True,
            "steps_per_epoch": r.steps, "curves": {v: {str(k): pd.read_csv(study.run_dir(v, k) / "log.csv")[
                "val_psnr"].round(4).tolist() for k in study.seeds} for v in study.variants}}
    if not study.test_degradations:
        return meta, study.scores()
    notes["matrix"] = ("rows per test column (its validation and test LR); gain_psnr: vs bicubic on that LR, "
                       "same interval, Holm over every cell of the matrix; a run learned when it beat bicubic "
                       "on its own training LR")
    columns = [(Path(study.test).name, d, functools.partial(study.scores, d)) for d in study.test_degradations]
    columns += [(f"Vid4 {c}", CLIP_DEGRADATION, functools.partial(study.clip_scores, c)) for c in study.clips]
    meta |= {"columns": [[t, d] for t, d, _ in columns],
             "own": {v: rv.degradation for v, rv in study.variants.items()}}
    scores = pd.concat([get().assign(test=t, test_degradation=d) for t, d, get in columns], ignore_index=True)
    return meta, scores[[*KEYS, *COLUMN, *meta["metrics"]]]
