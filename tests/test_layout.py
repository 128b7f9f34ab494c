"""The layout is the architecture: srlib's subpackages are its layers, and no module imports a layer above its own.

Layers, bottom to top (docs/ARCHITECTURE.md draws them): the core (the modules at the top of ``srlib/``), then
``models`` and ``sources``, ``inference``, ``training`` and ``video``, ``research``, ``app``, and the entry points
(``srlib/__init__.py``, ``__main__.py``, ``cli.py``, ``launch.py``), which may import anything. A module imports
only modules of its own layer or of a lower rank; two layers of one rank (models / sources, training / video) do
not import each other. Every import counts, those inside functions too.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "srlib"
CORE = "core"
ENTRY = "entry"
RANKS = {CORE: 0, "models": 1, "sources": 1, "inference": 2, "training": 3, "video": 3, "research": 4, "app": 5,
         ENTRY: 6}  # a subpackage's name -> its rank
ENTRY_POINTS = {"__init__", "__main__", "cli", "launch"}  # modules at the top of srlib/ that may import anything
MAX_LINES = 300
LONG_ALLOWED = {"sources/datasets.py"}  # the dataset registry: one table of sets, read as one


def layer(parts):
    """The layer of a module given as its dotted parts below the package ('cli', 'inference.zoo', 'io', 'video')."""
    if not parts or parts[0] in ENTRY_POINTS:
        return ENTRY
    return parts[0] if parts[0] in RANKS else CORE


def _targets(node, root, here):
    """The modules (dotted parts below the package at ``root``) that import ``node`` names; ``here`` is the importing
    module's parts (for relative imports)."""
    package = root.name
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1:] for a in node.names if a.name.split(".")[0] == package]
    if node.level:  # relative: from the importing module's package
        base = here[: len(here) - node.level]
        module = base + (node.module.split(".") if node.module else [])
    elif node.module and node.module.split(".")[0] == package:
        module = node.module.split(".")[1:]
    else:
        return []
    # 'from srlib import io, cli', 'from srlib.sources import digits': each name that is a module; else the module
    names = [[*module, a.name] for a in node.names if (root.joinpath(*module, a.name + ".py").exists()
                                                       or root.joinpath(*module, a.name).is_dir())]
    return names or [module]


def violations(root):
    """Every import in the package at ``root`` (a folder named as the package) of a higher layer or of another
    layer of the same rank, as 'file:line: a (layer) imports b (layer)'."""
    root = Path(root)
    problems = []
    for file in sorted(root.rglob("*.py")):
        parts = list(file.relative_to(root).with_suffix("").parts)
        here = parts[:-1] if parts[-1] == "__init__" else parts
        mine = layer(parts if parts[-1] != "__init__" or len(parts) > 1 else ["__init__"])
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, root, here):
                theirs = layer(target)
                if theirs == mine or RANKS[theirs] < RANKS[mine]:
                    continue
                problems.append(f"{file.relative_to(root.parent)}:{node.lineno}: {'.'.join([root.name, *here])} "
                                f"({mine}) imports {'.'.join([root.name, *target])} ({theirs})")
    return problems


def subpackages():
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def test_no_module_imports_a_higher_layer_or_a_sibling():
    assert violations(PACKAGE) == []


def test_the_contract_catches_a_back_import_and_a_sibling_import(tmp_path):
    """A synthetic tree: the core importing research (inside a function), training importing video, models
    importing sources, an inference module importing the CLI are caught; downward imports and imports within a
    layer are not."""
    pkg = tmp_path / "srlib"
    files = {
        "__init__.py": "from srlib.app import upscaling\n",
        "cli.py": "from srlib import io\nfrom srlib.research import study\n",
        "io.py": "import numpy\nfrom srlib import paths\n\ndef f():\n    from srlib.research.study import Study\n",
        "paths.py": "",
        "models/__init__.py": '"""models"""\n',
        "models/espcn.py": "from srlib.sources import digits\nfrom srlib import io\n",
        "sources/__init__.py": "",
        "sources/digits.py": "from srlib.io import quantize\n",
        "inference/__init__.py": "",
        "inference/zoo.py": "from . import infer\nfrom srlib import cli\n",
        "inference/infer.py": "from srlib.models import espcn\n",
        "training/__init__.py": "",
        "training/train.py": "import srlib.video.pipe\nfrom srlib.inference import zoo\n",
        "video/__init__.py": "",
        "video/pipe.py": "",
        "research/__init__.py": "",
        "research/study.py": "from srlib.training.train import fit\nfrom .stats import KEYS\n",
        "research/stats.py": "",
        "app/__init__.py": "",
        "app/upscaling.py": "from srlib.research import study\n",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    found = violations(pkg)
    assert found == [
        "srlib/inference/zoo.py:2: srlib.inference.zoo (inference) imports srlib.cli (entry)",
        "srlib/io.py:5: srlib.io (core) imports srlib.research.study (research)",
        "srlib/models/espcn.py:1: srlib.models.espcn (models) imports srlib.sources.digits (sources)",
        "srlib/training/train.py:1: srlib.training.train (training) imports srlib.video.pipe (video)",
    ]


def test_every_subpackage_is_a_layer_with_a_docstring_and_is_installed():
    """At least five subpackages; each is a layer of the contract, its ``__init__`` says what it holds and what it
    may import, and ``pyproject.toml`` lists it, so a plain ``pip install .`` ships it."""
    found = subpackages()
    assert len(found) >= 5, found
    assert set(found) <= set(RANKS), f"place {sorted(set(found) - set(RANKS))} in RANKS (a layer) of this test"
    pyproject = (ROOT / "pyproject.toml").read_text()
    installed = re.search(r"^packages = \[([^\]]*)\]", pyproject, re.M).group(1)
    for name in found:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and re.search(r"[Mm]ay import", doc), f"srlib/{name}/__init__.py: say what it holds and may import"
        assert f'"srlib.{name}"' in installed, f"pyproject.toml [tool.setuptools] packages lacks srlib.{name}"


@pytest.mark.parametrize("file", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_is_longer_than_300_lines(file):
    """One concept per module: at most 300 lines, the dataset registry excepted."""
    if file.relative_to(PACKAGE).as_posix() in LONG_ALLOWED:
        return
    lines = len(file.read_text().splitlines())
    assert lines <= MAX_LINES, f"srlib/{file.relative_to(PACKAGE)} has {lines} lines; split it by concept"
