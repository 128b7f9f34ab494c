"""srlib.research.report and the README's results: the numbers people read are the numbers the notebook wrote."""

import csv

import numpy as np
import pandas as pd

from srlib.evaluate import PUBLISHED_EXTRA, published
from srlib.research.report import benchmark_markdown, pareto_front, parse_markdown, photo_models
from srlib.research.reproduce import ROOT


def _benchmark_csv():
    lines = [ln for ln in (ROOT / "results" / "benchmark.csv").read_text().splitlines() if not ln.startswith("#")]
    return {(r["model"], int(r["scale"]), r["dataset"]): (float(r["psnr"]), float(r["ssim"]) if r["ssim"] else None)
            for r in csv.DictReader(lines)}


def test_readme_numbers_are_the_benchmark_csv():
    """Every PSNR / SSIM of the README's zoo table equals results/benchmark.csv, and no row of the CSV is missing."""
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index("<!-- benchmark.md -->"), readme.index("<!-- /benchmark.md -->")
    shown = parse_markdown(readme[start:end])
    assert shown == _benchmark_csv()
    assert (ROOT / "results" / "benchmark.md").read_text().strip() in readme


def test_markdown_round_trip_and_gaps():
    ours = pd.DataFrame([{"model": "m", "scale": 2, "dataset": "Set5", "psnr": 37.123, "ssim": 0.95867},
                         {"model": "m", "scale": 2, "dataset": "Set14", "psnr": 32.5, "ssim": 0.9}])
    pub = pd.DataFrame([{"model": "X (published)", "scale": 2, "dataset": "Set5", "psnr": 37.0, "ssim": np.nan}])
    text = benchmark_markdown(ours, pub, "conv")
    assert "| X (published) | 37.00 | – |" in text
    assert parse_markdown(text) == {("m", 2, "Set5"): (37.12, 0.9587), ("m", 2, "Set14"): (32.5, 0.9),
                                    ("X (published)", 2, "Set5"): (37.0, None)}


def test_pareto_front():
    """Hand case: (cost, quality) points; (3, 1) and (4, 2.5) are beaten by cheaper, better ones."""
    cost, quality = np.array([1, 2, 3, 4, 5]), np.array([0.5, 2.0, 1.0, 2.5, 3.0])
    assert pareto_front(cost, quality) == [0, 1, 3, 4]
    assert pareto_front(np.array([2, 1]), np.array([1.0, 1.0])) == [1]


def test_photo_models_leave_out_digits_and_other_degradations():
    assert photo_models() == {
        "ae-skip-x2": [2], "ae-skip-x3": [3], "ae-skip-x4": [4], "cnn-x2": [2], "cppn-any": [2, 3, 4], "espcn-x2": [2],
        "espcn-x3": [3], "espcn-x3-fast": [3], "espcn-x4": [4], "rtsr-x3-int8": [3], "vae-res-x2": [2], "vae-x2": [2],
    }


def test_published_extra_rows_load():
    """The extra published rows (RED30, LIIF) parse and hold plausible PSNRs above bicubic's."""
    rows = published(PUBLISHED_EXTRA)
    assert rows and all(20 < p < 45 for p, _ in rows.values())
    assert {m for m, _, _ in rows} >= {"RED30", "RDN-LIIF"}
