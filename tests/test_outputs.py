"""srlib.outputs: CSV tables with a provenance header, and where a run under each profile writes."""

import json

import pandas as pd
import pytest

from srlib import paths
from srlib.outputs import Outputs, write_csv


def test_outputs_never_let_a_smaller_profile_replace_a_bigger_one(tmp_path):
    root = tmp_path / "results"
    full = Outputs("full", root=root)
    assert full("tables/a.csv") == root / "tables" / "a.csv"
    quick = Outputs("quick", root=root)
    assert quick("tables/a.csv") == tmp_path / "runs" / "quick" / "results" / "tables" / "a.csv"
    assert quick("tables/b.csv") == root / "tables" / "b.csv"  # a new file: quick owns it
    assert Outputs("full", root=root)("tables/b.csv") == root / "tables" / "b.csv"  # full may replace quick's
    assert json.loads((root / "provenance.json").read_text()) == {"tables/a.csv": "full", "tables/b.csv": "full"}
    assert Outputs("smoke", root=root)("tables/b.csv") == tmp_path / "runs" / "smoke" / "results" / "tables" / "b.csv"


def test_write_csv_header_has_machine_and_no_machine_paths(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"a": 1, "b": 0.123456}], command="cmd", date=False,
                     notes={"data": paths.display(paths.data_dir() / "train" / "T91")})
    text = path.read_text()
    assert text.startswith("# machine: ") and "# command: cmd\n" in text and "# data: $SRLIB_DATA_DIR/train/T91" in text
    assert str(paths.data_dir()) not in text
    assert pd.read_csv(path, comment="#").to_dict("records") == [{"a": 1, "b": 0.1235}]


def test_profiles_are_defined_once_and_checked():
    """Outputs and reproduce take their profile names from srlib.paths.PROFILES; an unknown one is refused."""
    from srlib import reproduce

    assert paths.PROFILES == ("smoke", "quick", "full") and not hasattr(reproduce, "PROFILES")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        Outputs("huge")


def test_write_csv_without_date_or_machine_is_the_same_bytes_anywhere(tmp_path):
    """date=False, machine_line=False: only the command and notes head the rows (study tables)."""
    path = write_csv(tmp_path / "t.csv", [{"a": 1}], command="cmd", date=False, machine_line=False)
    assert path.read_text() == "# command: cmd\na\n1\n"
