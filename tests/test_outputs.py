"""srlib.outputs: CSV tables with a provenance header, and where a run under each profile writes."""

import datetime
import json
import re

import pandas as pd
import pytest

from srlib import outputs, paths
from srlib.outputs import Outputs, split_timing, write_csv, write_timing

TABLES = paths.ROOT / "results" / "tables"
# Tables whose every value is the machine's, besides <name>_timing.csv: notebook 07's 1080p timings and the
# benchmark that appends a row per run (its date and machine are columns).
TIMING_TABLES = {"speed_1080p.csv", "time_to_quality.csv"}
MACHINE_COLUMN = re.compile(r"(^|_)(s|ms|fps|seconds|date|machine)$")


def test_outputs_never_let_a_smaller_profile_replace_a_bigger_one(tmp_path):
    root = tmp_path / "results"
    full = Outputs("full", root=root)
    assert full("tables/a.csv") == root / "tables" / "a.csv"
    quick = Outputs("quick", root=root)
    assert quick("tables/a.csv") == tmp_path / "runs" / "quick" / "results" / "tables" / "a.csv"
    assert quick("tables/b.csv") == tmp_path / "runs" / "quick" / "results" / "tables" / "b.csv"  # never results/
    assert Outputs("full", root=root)("tables/b.csv") == root / "tables" / "b.csv"
    assert json.loads((root / "provenance.json").read_text()) == {"tables/a.csv": "full", "tables/b.csv": "full"}
    assert Outputs("smoke", root=root)("tables/b.csv") == tmp_path / "runs" / "smoke" / "results" / "tables" / "b.csv"


def test_write_timing_header_has_date_and_machine_and_no_machine_paths(tmp_path):
    path = write_timing(tmp_path / "t.csv", [{"a": 1, "b": 0.123456}], command="cmd",
                        notes={"data": paths.display(paths.data_dir() / "train" / "T91")})
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# date: 20") and lines[1].startswith("# machine: ") and lines[2] == "# command: cmd"
    assert lines[3] == "# data: $SRLIB_DATA_DIR/train/T91" and str(paths.data_dir()) not in path.read_text()
    assert pd.read_csv(path, comment="#").to_dict("records") == [{"a": 1, "b": 0.1235}]


def test_display_writes_no_machine_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SRLIB_RUNS", str(tmp_path / "runs"))
    assert paths.display(tmp_path / "runs" / "r1" / "best.keras") == "$SRLIB_RUNS/r1/best.keras"
    assert paths.display(paths.data_dir() / "Set5") == "$SRLIB_DATA_DIR/Set5"
    assert paths.display(paths.ROOT / "results" / "x.csv") == "results/x.csv"
    assert paths.display(tmp_path / "elsewhere" / "x.png") == "x.png"


def test_profiles_are_defined_once_and_checked():
    """Outputs and reproduce take their profile names from srlib.paths.PROFILES; an unknown one is refused."""
    from srlib.research import reproduce

    assert paths.PROFILES == ("smoke", "quick", "full") and not hasattr(reproduce, "PROFILES")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        Outputs("huge")


def _elsewhere(monkeypatch, cpu, year):
    """Pretend to run on another machine, in another year."""
    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(year, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

    monkeypatch.setattr(outputs, "machine", lambda: f"{cpu}, 2 cores, no GPU")
    monkeypatch.setattr(outputs.datetime, "datetime", Clock)


def test_a_result_table_is_the_same_bytes_on_another_machine_and_day(tmp_path, monkeypatch):
    """The same results written on two machines on two dates: the result table is byte for byte the same (a
    rerun elsewhere leaves the committed file as it is); only its timing table, which holds the seconds, changes."""
    rows = [{"variant": "pre", "psnr": 31.3612, "steps": 200}, {"variant": "post", "psnr": 31.01, "steps": 800}]
    written = []
    for cpu, year, seconds in (("AMD EPYC", 2026, (125, 68)), ("Intel Xeon", 2031, (40, 21))):
        _elsewhere(monkeypatch, cpu, year)
        timed = [{**r, "train_s": t} for r, t in zip(rows, seconds, strict=True)]
        scores, timing = split_timing(timed, ("train_s",), key=("variant",))
        path = write_csv(tmp_path / "t.csv", scores, command="cmd", notes={"budget": "60 s"})
        write_timing(tmp_path / "t_timing.csv", timing, command="cmd")
        written.append((path.read_bytes(), (tmp_path / "t_timing.csv").read_text()))
    (first, timing_first), (second, timing_second) = written
    assert first == second == b"# command: cmd\n# budget: 60 s\nvariant,psnr,steps\npre,31.36,200\npost,31.01,800\n"
    assert timing_first != timing_second and "# machine: Intel Xeon, 2 cores, no GPU" in timing_second
    assert "# date: 2031-01-02" in timing_second
    assert pd.read_csv(tmp_path / "t_timing.csv", comment="#").to_dict("records") == [
        {"variant": "pre", "train_s": 40}, {"variant": "post", "train_s": 21}]


def test_split_timing_keeps_the_key_columns_named():
    rows = [{"scale": 2, "clip": "city", "method": "bicubic", "psnr": 29.21, "fps": 7.9}]
    scores, timing = split_timing(rows, ("fps",), key=("scale", "clip", "method"))
    assert scores == [{"scale": 2, "clip": "city", "method": "bicubic", "psnr": 29.21}]
    assert timing == [{"scale": 2, "clip": "city", "method": "bicubic", "fps": 7.9}]
    with pytest.raises(ValueError, match="no column frames, seconds in the rows"):
        split_timing(rows, ("seconds",), key=("frames",))


def _committed_tables():
    return sorted(p for p in TABLES.glob("*.csv") if not p.name.endswith("_timing.csv")
                  and p.name not in TIMING_TABLES and "benchmarks/" not in _header(p))


def _header(path):
    return "".join(line for line in path.read_text().splitlines(keepends=True) if line.startswith("#"))


@pytest.mark.parametrize("path", _committed_tables(), ids=lambda p: p.name)
def test_committed_result_tables_hold_nothing_of_the_machine(path):
    """Result tables written by notebooks and studies: no date, no machine line and no seconds or frame-rate
    column (those go to <name>_timing.csv), so rerunning a profile on another machine rewrites none of them."""
    header = _header(path)
    assert "# date:" not in header and "# machine:" not in header, f"{path.name}: date or machine in the header"
    columns = pd.read_csv(path, comment="#", nrows=0).columns
    assert not [c for c in columns if MACHINE_COLUMN.search(c)], f"{path.name}: a machine-dependent column"
