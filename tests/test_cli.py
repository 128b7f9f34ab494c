"""The command line: bad input gives one clear line and exit status 2, never a traceback."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from srlib.cli import main
from srlib.research.reproduce import ROOT


def _png(path, arr, mode=None):
    Image.fromarray(arr, mode=mode).save(path)
    return path


@pytest.fixture
def images(tmp_path):
    """One folder of valid images in the formats users have: RGB, gray, RGBA, 16-bit gray."""
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(0)
    _png(d / "rgb.png", (rng.random((30, 36, 3)) * 255).astype(np.uint8))
    _png(d / "gray.png", (rng.random((30, 36)) * 255).astype(np.uint8))
    _png(d / "rgba.png", (rng.random((30, 36, 4)) * 255).astype(np.uint8))
    _png(d / "deep.png", (rng.random((30, 36)) * 65535).astype(np.uint16))
    return d


def _run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "srlib", *args], capture_output=True, text=True, env=env, timeout=300)


def test_evaluate_converts_gray_rgba_16bit(images, capsys):
    """Gray, RGBA (alpha dropped) and 16-bit files are all evaluated, not rejected."""
    assert main(["evaluate", "--model", "bicubic", "--scale", "2", "--dataset", str(images), "--quiet"]) == 0
    out = capsys.readouterr().out
    for name in ("rgb.png", "gray.png", "rgba.png", "deep.png"):
        assert name in out
    assert "**mean**" in out


def test_evaluate_many_scales_writes_summary(images, tmp_path, capsys):
    """Several scales and folders give one summary row each, also written to --table and --json."""
    table, js = tmp_path / "t.md", tmp_path / "r.json"
    args = ["evaluate", "--scale", "2", "3", "--dataset", str(images), str(images), "--quiet"]
    assert main([*args, "--table", str(table), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"\| bicubic +\| +x\d", out)) == 4 and "rgb.png" not in out
    assert len(re.findall(r"\| bicubic +\| +x\d", table.read_text())) == 4
    import json

    assert [r["scale"] for r in json.loads(js.read_text())] == [2, 2, 3, 3]


def test_evaluate_bad_files_keep_going(images, capsys):
    """A non-image and a truncated PNG are skipped with one line each; the others are still scored."""
    (images / "notes.png").write_text("hello")
    good = (images / "rgb.png").read_bytes()
    (images / "cut.png").write_bytes(good[: len(good) // 2])
    assert main(["evaluate", "--scale", "2", "--dataset", str(images), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "notes.png: not an image file" in err
    assert "cut.png: unreadable image" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "--scale", "2", "--dataset", "{empty}"], "no images"),
        (["evaluate", "--scale", "2", "--dataset", "{missing}"], "not a folder or a known dataset"),
        (["evaluate", "--dataset", "{imgs}"], "bicubic needs --scale"),
        (["evaluate", "--model", "nope-x9", "--scale", "2", "--dataset", "{imgs}"], "no such model"),
        (["upscale", "{imgs}/rgb.png", "-o", "{imgs}/rgb.png", "--scale", "2"], "refusing to write over the input"),
        (["upscale", "{tmp}/notes.txt", "-o", "{tmp}/o.png", "--scale", "2"], "not an image file"),
    ],
)
def test_errors_are_one_line(args, message, images, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    fill = {"empty": tmp_path / "empty", "missing": tmp_path / "nope", "imgs": images, "tmp": tmp_path}
    code = main([a.format(**fill) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_verbose_shows_the_traceback_and_version_is_the_project_s(tmp_path, capsys, monkeypatch):
    """--verbose: the traceback, then the same one line; --version: pyproject.toml's version."""
    monkeypatch.setenv("SRLIB_VERBOSE", "")  # main sets it under --verbose; restored after the test
    assert main(["--verbose", "evaluate", "--scale", "2", "--dataset", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "Traceback (most recent call last):" and err[-2].startswith("srlib.cli.UserError: ")
    assert err[-1] == f"srlib evaluate: {tmp_path / 'nope'}: " + err[-2].split(": ", 2)[2]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    (project,) = re.findall(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert done.value.code == 0 and capsys.readouterr().out == f"srlib {project}\n" and project == "0.1.0"


def test_upscale_writes_outputs_and_reports_failures(images, tmp_path, capsys):
    """A batch of inputs with one bad file: the good ones are written, the bad one reported, exit 2."""
    (images / "bad.png").write_text("x")
    out = tmp_path / "out"
    files = [str(images / n) for n in ("rgb.png", "bad.png", "gray.png")]
    assert main(["upscale", *files, "-o", str(out), "--scale", "2"]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["gray_x2.png", "rgb_x2.png"]
    assert Image.open(out / "rgb_x2.png").size == (72, 60)
    assert "bad.png" in capsys.readouterr().err


@pytest.mark.slow
def test_console_entry_point_runs(images):
    """`python -m srlib` works as the `srlib` command; an error is one line on stderr."""
    ok = _run("evaluate", "--scale", "3", "--dataset", str(images), "--quiet")
    assert ok.returncode == 0 and "**mean**" in ok.stdout
    bad = _run("evaluate", "--scale", "3", "--dataset", str(images / "missing"))
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


def test_models_lists_the_zoo_without_tensorflow():
    """`srlib models`: one row per shipped model with its Set5 score, and TensorFlow never imported."""
    code = ("import sys; from srlib.cli import main; rc = main(['models']); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    from srlib.inference import zoo

    for name in zoo.names():
        assert name in out.stdout
    assert "Set5 PSNR" in out.stdout


@pytest.mark.slow
def test_start_up_is_quiet(images):
    """No TensorFlow C++ start-up lines (CUDA probe, oneDNN notes) on stderr by default."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SRLIB_VERBOSE")}
    quiet = subprocess.run([sys.executable, "-m", "srlib", "evaluate", "--scale", "2", "--dataset", str(images),
                            "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0 and "cuda" not in quiet.stderr.lower() and "onednn" not in quiet.stderr.lower()
