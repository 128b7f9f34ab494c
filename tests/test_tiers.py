"""The fast tier (`pytest -m "not slow"`) still covers every srlib module: a test that runs there imports it."""

import ast

from srlib.research.reproduce import ROOT

TESTS = ROOT / "tests"


def _is_slow(node):
    """A test function or class decorated with ``pytest.mark.slow``."""
    return any(ast.unparse(d).startswith("pytest.mark.slow") for d in getattr(node, "decorator_list", []))


def fast_imports(source):
    """The srlib modules ('cards', 'models.espcn', ...) that the code of ``source`` imports outside slow-marked tests
    (a module whose ``pytestmark`` holds ``slow`` imports none)."""
    tree = ast.parse(source)
    found = set()

    def visit(node):
        if _is_slow(node):
            return
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            if "slow" in ast.unparse(node.value):
                raise StopIteration
        if isinstance(node, ast.Import):
            found.update(a.name[len("srlib."):] for a in node.names if a.name.startswith("srlib."))
        if isinstance(node, ast.ImportFrom) and node.module and (node.module + ".").startswith("srlib."):
            base = node.module[len("srlib."):]
            found.update(f"{base}.{a.name}".strip(".") for a in node.names)  # 'from srlib import zoo' -> zoo
            if base:
                found.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    try:
        visit(tree)
    except StopIteration:
        return set()
    return found


def srlib_modules():
    """Every module of the package, dotted below srlib ('io', 'inference.zoo', 'models.vae'), without __init__ and
    __main__."""
    return {p.relative_to(ROOT / "srlib").with_suffix("").as_posix().replace("/", ".")
            for p in (ROOT / "srlib").rglob("*.py") if not p.name.startswith("__")}


def test_the_parser_sees_imports_and_slow_marks():
    """Hand cases: a slow test's imports do not count; nested packages and 'from srlib import x' do."""
    source = '''
import pytest
from srlib import paths
from srlib.inference import zoo
from srlib.models.espcn import espcn
import srlib.io

def test_a():
    from srlib.inference.cards import export

@pytest.mark.slow
def test_b():
    from srlib.video import pipeline

@pytest.mark.slow()
class TestC:
    def test_c(self):
        import srlib.inference.lite
'''
    assert fast_imports(source) >= {"inference.zoo", "paths", "models.espcn", "io", "inference.cards"}
    assert not fast_imports(source) & {"video.pipeline", "inference.lite"}
    assert fast_imports("import pytest\npytestmark = pytest.mark.slow\nfrom srlib import zoo\n") == set()


def test_every_module_is_imported_by_a_fast_test():
    covered = set()
    for file in TESTS.glob("test_*.py"):
        covered |= fast_imports(file.read_text())
    assert sorted(srlib_modules() - covered) == []
