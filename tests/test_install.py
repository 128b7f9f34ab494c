"""A plain (not editable) install works outside the checkout: the zoo is package data."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srlib import paths
from srlib.inference import zoo


@pytest.mark.slow
def test_wheel_install_serves_the_zoo_outside_the_checkout(tmp_path):
    """`pip install <checkout>` into a fresh venv (dependencies borrowed from this environment, not downloaded),
    then, from an unrelated folder, `srlib models` lists every shipped model and `srlib upscale --model espcn-x3`
    writes a 3x image."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    build = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(paths.ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SRLIB_WEIGHTS"}
    srlib = venv / "bin" / "srlib"
    where = subprocess.run([str(py), "-c", "from srlib import paths; print(paths.weights_dir())"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(site) and not where.startswith(str(paths.ROOT))  # the installed copy, not the checkout
    models = subprocess.run([str(srlib), "models"], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert models.returncode == 0, models.stderr[-2000:]
    assert all(name in models.stdout for name in zoo.names())
    Image.fromarray((np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)).save(work / "img.png")
    up = subprocess.run([str(srlib), "upscale", "img.png", "-o", "img_x3.png", "--model", "espcn-x3"], cwd=work,
                        env=env, capture_output=True, text=True, timeout=300)
    assert up.returncode == 0, up.stderr[-2000:]
    assert Image.open(work / "img_x3.png").size == (72, 60)
