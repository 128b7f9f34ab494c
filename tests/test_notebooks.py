"""Notebooks: committed without outputs, and every one runs top to bottom in the smoke profile."""

import json

import pandas as pd
import pytest

from srlib import paths
from srlib.research.reproduce import ROOT, NotebookFailed, notebooks, run_notebook

BOOKS = notebooks()


def test_there_are_notebooks():
    assert BOOKS and BOOKS[0].name.startswith("00_")


@pytest.mark.parametrize("nb", BOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(nb):
    """Outputs live in results/, not in the notebook files."""
    cells = json.loads(nb.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, f"{nb.name} has outputs"
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "profile" in "".join(tagged[0]["source"])


@pytest.mark.slow
@pytest.mark.parametrize("nb", BOOKS, ids=lambda p: p.name)
def test_smoke_profile_runs(nb, tmp_path):
    """Every cell runs; the smoke profile writes under runs/, never over the committed results/, and trains
    what it trains into this test session's own runs folder (never reusing a finished run from elsewhere)."""
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "results").rglob("*") if p.is_file()}
    run_notebook(nb, "smoke", tmp_path)
    assert (tmp_path / nb.name).exists()
    after = {p: p.stat().st_mtime_ns for p in (ROOT / "results").rglob("*") if p.is_file()}
    changed = sorted(str(p) for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"{nb.name} (smoke) wrote into results/: {changed}"
    if nb.name.startswith("02_"):
        log = pd.read_csv(paths.runs_dir("smoke") / "espcn_x3_short" / "log.csv")
        assert len(log) == 2 and log["wall_s"].iloc[-1] > 0  # trained here, in the session's SRLIB_RUNS


def test_failure_names_notebook_and_cell(tmp_path):
    """A raising cell gives a one-line NotebookFailed with the notebook name and the cell number."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell('profile = "quick"')
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell("x = 1"), new_code_cell("raise RuntimeError('boom')")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookFailed) as e:
        run_notebook(path, "smoke", tmp_path / "out")
    msg = str(e.value)
    assert "99_broken.ipynb" in msg and "RuntimeError: boom" in msg and "cell" in msg and "\n" not in msg


def test_os_level_stderr_stays_out_of_notebooks(tmp_path, capfd):
    """What C/C++ libraries write to file descriptor 2 (TensorFlow's CUDA and oneDNN start-up lines) appears
    neither in the executed notebook nor in the terminal; print() output and Python warnings still do."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell('profile = "quick"')
    cell.metadata["tags"] = ["parameters"]
    code = ("import os, warnings\nos.write(2, b'C-LEVEL-NOISE\\n')\n"
            "print('hel' + 'lo')\nwarnings.warn('python ' + 'warning')")
    nb = new_notebook(cells=[cell, new_code_cell(code)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "98_noise.ipynb")
    cells = json.loads(run_notebook(tmp_path / "98_noise.ipynb", "smoke", tmp_path / "out").read_text())["cells"]
    out = json.dumps([c.get("outputs", []) for c in cells])
    assert "hello" in out and "python warning" in out and "C-LEVEL-NOISE" not in out
    assert "C-LEVEL-NOISE" not in capfd.readouterr().err


def test_reproduce_warns_in_the_terminal_without_data(tmp_path, monkeypatch, caplog):
    """With no benchmark data, `srlib reproduce` says before any notebook runs that the numbers will not be
    benchmark numbers (the notebooks' own fallback message is only inside the executed notebook)."""
    import logging

    from srlib.research.reproduce import reproduce

    monkeypatch.setenv("SRLIB_DATA_DIR", str(tmp_path / "empty"))
    with (caplog.at_level(logging.WARNING, logger="srlib.research.reproduce"),
          pytest.raises(ValueError, match="no notebook")):
        reproduce("smoke", only=["no-such-notebook"])  # warns, then refuses the name: nothing runs
    assert "NOT benchmark numbers" in caplog.text and "T91" in caplog.text


def test_reproduce_names_test_sets_it_leaves_out(tmp_path, monkeypatch, caplog):
    """Training sets present but Set14 / BSD100 absent: no fallback, and the warning names what tables lack."""
    import logging

    from srlib.research.reproduce import check_data

    root = tmp_path / "data"
    for folder in ("train/T91", "train/BSD200", "benchmark/Set5"):
        (root / folder).mkdir(parents=True)
        (root / folder / "a.png").write_bytes((ROOT / "results" / "figures" / "00_loader_throughput.png").read_bytes())
    monkeypatch.setenv("SRLIB_DATA_DIR", str(root))
    with caplog.at_level(logging.WARNING, logger="srlib.research.reproduce"):
        assert check_data() == ["Set14", "BSD100"]
    assert "leave those sets out" in caplog.text and "NOT benchmark" not in caplog.text
