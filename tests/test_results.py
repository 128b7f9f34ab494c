"""Committed outputs: every file under results/ says which profile produced it, and none holds a machine path."""

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from srlib import paths
from srlib.research.reproduce import ROOT

RESULTS = ROOT / "results"
MACHINE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/Users/|/mnt/|/private/var/|[A-Z]:\\\\)")
TEXT = (".csv", ".md", ".json", ".txt")


def _committed():
    """Files under results/ that git tracks (what a commit ships), relative to results/."""
    out = subprocess.run(["git", "ls-files", "results"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        pytest.skip("not a git checkout")
    return {line[len("results/"):] for line in out.stdout.splitlines()}


def test_every_result_file_is_in_provenance():
    manifest = json.loads((RESULTS / "provenance.json").read_text())
    files = _committed() - {"provenance.json"}
    assert sorted(files - set(manifest)) == []
    assert sorted(set(manifest) - files) == []  # and nothing listed that is not there
    assert set(manifest.values()) <= {"quick", "full"}
    assert {k: v for k, v in manifest.items() if k.startswith("weights/")} == {
        f: "full" for f in files if f.startswith("weights/")}


def test_the_machine_path_pattern_catches_what_it_should():
    caught = ["/work/main/results/weights/espcn_x3.keras", "/home/me/data", "/tmp/x.png", r"C:\\Users\\me"]
    assert all(MACHINE_PATH.search(s) for s in caught)
    assert not any(MACHINE_PATH.search(s) for s in ["results/weights/espcn_x3.keras", "$SRLIB_DATA_DIR/Set5", "~/x"])


@pytest.mark.parametrize("file", sorted(p.relative_to(ROOT).as_posix() for p in [
    *RESULTS.rglob("*"), ROOT / "README.md", *(ROOT / "docs").rglob("*.md")] if p.suffix in TEXT))
def test_no_machine_path_in_committed_text(file):
    hits = [ln for ln in (ROOT / file).read_text().splitlines() if MACHINE_PATH.search(ln)]
    assert hits == [], f"{file}: {hits[0][:200]}"


def test_export_into_results_records_provenance(tmp_path, monkeypatch):
    """A model exported into results/weights is listed as the full profile's; one exported elsewhere is not."""
    from srlib.inference.cards import export
    from srlib.models.espcn import espcn
    from srlib.training.experiment import Recipe

    monkeypatch.setattr(paths, "results_dir", lambda: tmp_path / "results")
    recipe = Recipe("espcn", scale=2, args={"filters": [4, 4]})
    log = pd.DataFrame({"wall_s": [1.0], "samples_per_s": [2.0]})
    model = espcn(2, filters=(4, 4))
    export(model, "tiny-x2", recipe, log, weights_dir=tmp_path / "results" / "weights")
    export(model, "other-x2", recipe, log, weights_dir=tmp_path / "elsewhere")
    manifest = json.loads((tmp_path / "results" / "provenance.json").read_text())
    assert manifest == {"weights/tiny_x2.json": "full", "weights/tiny_x2.keras": "full",
                        "weights/tiny_x2_log.csv": "full"}
    card = json.loads((tmp_path / "results" / "weights" / "tiny_x2.json").read_text())
    assert card["benchmark"] == [] and card["scales"] == [2] and card["scored_on"] is None
    assert np.isclose(card["macs_per_output_pixel"], (25 * 4 + 9 * 4 * 4 + 9 * 4 * 4) / 4, atol=0.1)


@pytest.mark.parametrize("name", sorted(p.name.removesuffix("_scores.csv.gz")
                                        for p in (ROOT / "results" / "studies").glob("*_scores.csv.gz")))
def test_every_study_table_rebuilds_byte_for_byte_from_its_committed_evidence(name, tmp_path):
    """``benchmarks/run_studies.py --rebuild``'s path: the committed per-image (or per-run) scores and definition give
    the committed study tables, bytes and all, without training or images."""
    from srlib.outputs import Outputs
    from srlib.research import evidence

    evidence.rebuild(name, Outputs("full", root=tmp_path))
    for table in (f"{name}.csv", f"{name}_runs.csv"):
        assert (tmp_path / "tables" / table).read_bytes() == (ROOT / "results" / "tables" / table).read_bytes(), table
