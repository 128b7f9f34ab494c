"""The numbers people read are numbers a command wrote: every notebook ends with its Findings, and each measured
number in a Findings cell, in the README or on a ``docs/`` page is found in a results file that its paragraph cites.

The convention (docs/ARCHITECTURE.md repeats it):

- A text is split into blocks: paragraphs, list items and tables (headings, fenced code, HTML comments and the
  README's generated benchmark block, which ``tests/test_report.py`` checks cell by cell, are skipped).
- A block cites the results files it names, as a markdown link or a code span: ``results/tables/x.csv``,
  ``../results/weights/cnn_x2.json``, or a bare file name such as ``vae_diversity.csv`` when exactly one file under
  ``results/`` has that name. A block that names none is checked against the files of the nearest block above it
  in the same section that names some (a table against its caption, list items against their lead-in); a heading
  ends a section.
- Checked numbers: every number written with decimals (``31.13``, ``0.0018``, ``493.6 ms``, ``1.54×``, ``12.8k``),
  every ``k`` number (``474k``), and every integer followed by a unit of measure (dB, %, points, fps, ms, s, min,
  MiB, kB), also when the unit follows its interval ("5.80 to 5.86 dB") or the interval follows it
  ("90.6 % [89.8, 91.3]"). Integers without such a unit are counts, sizes and settings (3 seeds, 100 images,
  640 × 360, 1,000 steps) and are not checked. Numbers inside code spans and link targets, scales written after
  ``x``/``×`` (x2.5, ×4), parts of names (espcn-x3, 05_digits) and versions (Python 3.10, TF 2.21.0) are not
  numbers of a result.
- A checked number is found when some number in the text of a cited file (cells, comment lines, card values) rounds
  to it at the shown decimals, ignoring sign (a table's −0.56 may be written "0.56 dB below"); a % or "points"
  number may also be the file's fraction × 100, a time in min the file's seconds / 60, a ``k`` or kB number the
  file's value / 1000. A shipped model named as ``x.keras`` cites its card ``x.json``.
- Every notebook's last cell is markdown headed ``## Findings`` and links at least one figure as
  ``../results/figures/<file>``, and every figure it links exists.
"""

import json
import re
from functools import cache
from pathlib import Path

import pytest

from srlib.research.reproduce import ROOT

RESULTS = ROOT / "results"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DOCS = sorted((ROOT / "docs").glob("*.md"))
README_MAX_LINES = 220  # the README is read in five minutes; detail goes to a docs/ page
UNITS = ("dB", "%", "points", "fps", "ms", "s", "min", "MiB", "MB", "kB")
SOURCE = re.compile(r"[\w./-]+\.(?:csv|json|md)")
NUMBER = re.compile(r"(?<![\w.,/=-])[-+−]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(k\b)?")
VERSION = re.compile(r"\b(?:Python|TF|TensorFlow|Keras|OpenCV|version)\s+[\d.]+\+?")
FILE_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
SCALES = {"k": [1e-3], "kB": [1e-3], "%": [1.0, 100.0], "points": [1.0, 100.0], "min": [1.0, 1 / 60]}  # file -> text


def _blocks(text):
    """Markdown text -> list of (section, block) in order; fenced code, HTML comments, headings and the generated
    benchmark block are dropped."""
    text = re.sub(r"<!-- benchmark.md -->.*?<!-- /benchmark.md -->", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    out, section, current = [], 0, []
    for line in text.splitlines() + [""]:
        starts_item = re.match(r"\s{0,3}(?:[-*]|\d+\.)\s", line) is not None
        if not line.strip() or line.startswith("#") or starts_item:
            if current:
                out.append((section, "\n".join(current)))
            current = [line] if starts_item else []
            section += line.startswith("#")
        else:
            current.append(line)
    return out


@cache
def _by_name(results):
    """File name -> its paths under ``results`` (to resolve a bare `vae_diversity.csv`)."""
    names = {}
    for p in results.rglob("*"):
        if p.suffix in (".csv", ".json", ".md"):
            names.setdefault(p.name, []).append(p)
    return names


def _sources(block, base, results):
    """The files under ``results`` a block names (links and code spans), resolved from ``base``, from the
    repository root or by bare name."""
    found = []
    for ref in re.findall(r"\]\(([^)\s]+)\)", block) + re.findall(r"`([^`]+)`", block):
        for name in SOURCE.findall(re.sub(r"\.keras\b", ".json", ref)):
            candidates = [(base / name).resolve(), (ROOT / name).resolve()]
            path = next((p for p in candidates if p.is_file() and results in p.parents), None)
            named = _by_name(results).get(name, [])
            if path is None and "/" not in name and len(named) == 1:
                path = named[0]
            if path is not None and path not in found:
                found.append(path)
    return found


def _unit(rest):
    """The unit of measure that ``rest`` (the text after a number) starts with, or ""."""
    return next((u for u in UNITS if re.match(rf"\]?\s?{re.escape(u)}(?![A-Za-z])", rest)), "")


def _numbers(block):
    """The checked numbers of a block: list of (as written, value, decimals, unit)."""
    prose = re.sub(r"`[^`]*`", " ", block)
    prose = re.sub(r"\]\([^)]*\)", "]", prose)
    prose = VERSION.sub(" ", prose)
    out = []
    for m in NUMBER.finditer(prose):
        whole, decimals, thousands = m.group(1), m.group(2), m.group(3)
        before, rest = prose[max(0, m.start() - 2):m.start()], prose[m.end():]
        # the unit after it, after its interval ("5.80 to 5.86 dB", "0.13 [0.10, 0.17] points"), or the unit of the
        # value an interval in brackets belongs to ("90.6 % [89.8, 91.3]")
        interval = re.match(r"\s?(?:to|–)\s?[-+−]?\d[\d.,]*|,\s?[-+−]?\d[\d.,]*\]|\s?\[[^\]]*\]", rest)
        bracket = re.search(r"([A-Za-z%]+)\**\s*\[[-+−\d., ]*$", prose[:m.start()])
        unit = _unit(rest) or (_unit(rest[interval.end():]) if interval else "") or (
            bracket.group(1) if bracket and bracket.group(1) in UNITS else "")
        if thousands:
            unit = "k"
        elif decimals and re.match(r"\s?×", rest):
            unit = "×"
        if re.search(r"[xX×]\s?$", before) or re.match(r"[A-Za-z_]", rest) and not unit:
            continue  # a scale (x2.5, ×4) or part of a name (2D, 05_digits)
        if decimals or unit:
            value = float(whole.replace(",", "") + (decimals or ""))
            out.append((m.group(0).strip(), value, len(decimals or ".") - 1, unit))
    return out


@cache
def _values(path):
    """Every number in a results file's text (table cells, comment lines, card values)."""
    return [abs(float(v)) for v in FILE_NUMBER.findall(Path(path).read_text())]


def _found(value, decimals, unit, values):
    """Whether one of ``values`` (a file's numbers), in the unit's scale, rounds to ``value`` at ``decimals``."""
    tol = 0.5 * 10 ** -decimals + 1e-9
    return any(abs(v * s - value) <= tol for v in values for s in SCALES.get(unit, [1.0]))


def check(text, base, results=RESULTS):
    """Problems of a markdown text (its relative links start at ``base``) as one line each: a checked number found
    in none of the files under ``results`` that its block cites, or a block with checked numbers that cites none."""
    problems, sources, last_section = [], [], None
    for section, block in _blocks(text):
        if section != last_section:
            sources, last_section = [], section
        sources = _sources(block, base, results) or sources
        numbers = _numbers(block)
        if numbers and not sources:
            problems.append(f"{numbers[0][0]!r} cites no results file: {block[:90]!r}")
            continue
        for written, value, decimals, unit in numbers:
            if not any(_found(value, decimals, unit, _values(p)) for p in sources):
                names = ", ".join(p.relative_to(results.parent).as_posix() for p in sources)
                problems.append(f"{written.strip()} {unit} is in none of {names}: {block[:90]!r}")
    return problems


def _findings(nb):
    """The text of a notebook's last cell if it is markdown, else ""."""
    cells = json.loads(nb.read_text())["cells"]
    return "".join(cells[-1]["source"]) if cells and cells[-1]["cell_type"] == "markdown" else ""


def findings_problems(text, folder):
    """What a notebook's Findings text (its links start at ``folder``) lacks: the heading, a figure, a figure file."""
    if not text.startswith("## Findings"):
        return ["the last cell is not a markdown cell headed ## Findings"]
    figures = re.findall(r"\]\((\.\./results/figures/[^)\s]+)\)", text)
    if not figures:
        return ["its Findings link no figure (../results/figures/...)"]
    return [f"links {f}, which does not exist" for f in figures if not (folder / f).is_file()]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_ends_with_findings_and_a_figure(nb):
    assert findings_problems(_findings(nb), nb.parent) == [], nb.name


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_findings_numbers_are_in_the_tables_they_cite(nb):
    assert check(_findings(nb), nb.parent) == []


def test_readme_numbers_are_in_the_tables_they_cite():
    assert check((ROOT / "README.md").read_text(), ROOT) == []


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to a docs/ page"


@pytest.mark.parametrize("page", DOCS, ids=[p.stem for p in DOCS])
def test_docs_numbers_are_in_the_tables_they_cite(page):
    """Every docs/ page is checked as the README is; its relative links start at docs/ (``../results/...``)."""
    assert check(page.read_text(), page.parent) == []


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=["README", *(p.stem for p in DOCS)])
def test_relative_links_resolve(page):
    """Every relative link of the README and the docs/ pages names a file that exists (a docs/ page reaches results/
    as ``../results/...``)."""
    targets = re.findall(r"\]\(([^)\s]+)\)", re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M))
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert [t for t in local if not (page.parent / t).exists()] == []


def test_readme_layout_lists_every_notebook():
    layout = (ROOT / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    assert [nb.stem for nb in NOTEBOOKS if nb.stem not in layout] == []


def test_findings_problems_catch_a_missing_heading_figure_or_file(tmp_path):
    (tmp_path / "results" / "figures").mkdir(parents=True)
    (tmp_path / "results" / "figures" / "a.png").write_bytes(b"")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    assert findings_problems("## Findings\n\n![a](../results/figures/a.png)", folder) == []
    assert findings_problems("## Results\n\n![a](../results/figures/a.png)", folder) != []
    assert findings_problems("## Findings\n\nno figure", folder) != []
    assert findings_problems("## Findings\n\n![b](../results/figures/b.png)", folder) == [
        "links ../results/figures/b.png, which does not exist"]


def test_the_checker_catches_a_wrong_number(tmp_path):
    """509 ms against a table that says 493.6 fails; 493.6 ms, and counts and sizes around it, pass."""
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    (results / "tables" / "speed.csv").write_text("# timing: median of 3 runs\nmodel,ms,d_psnr\ncnn-x2,493.6,-0.56\n")
    good = "cnn-x2 takes 493.6 ms per 960 × 540 frame, 0.56 dB below, x2, 3 runs (`speed.csv`)."
    assert check(good, tmp_path, results) == []
    wrong = check(good.replace("493.6", "509"), tmp_path, results)
    assert wrong == ["509 ms is in none of results/tables/speed.csv: " + repr(good.replace("493.6", "509"))]
    assert check("It takes 509 ms per frame.", tmp_path, results) == [
        "'509' cites no results file: 'It takes 509 ms per frame.'"]
    assert check("1.3 dB (`results/tables/gone.csv`)", tmp_path, results)


def test_the_checker_units_intervals_and_scope(tmp_path):
    """Fractions as %, seconds as min, intervals that carry their unit, and citations that end at a heading."""
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    (results / "tables" / "t.csv").write_text("acc,acc_low,acc_high,train_s,params\n0.906,0.898,0.913,4378.5,12809\n")
    lead = "Accuracy (`t.csv`):"
    assert check(f"{lead} 90.6 % [89.8, 91.3], 73 min, 12.8k parameters, 95 % of 2 runs.", tmp_path, results) == [
        "95 % is in none of results/tables/t.csv: " + repr(f"{lead} 90.6 % [89.8, 91.3], 73 min, 12.8k parameters, "
                                                            "95 % of 2 runs.")]
    assert len(check(f"{lead} 90.6 % [89.1, 91.3] and 0.898 to 0.914 points.", tmp_path, results)) == 2
    assert check(f"{lead}\n\n- 90.6 %\n- 0.913", tmp_path, results) == []  # list items under their lead-in
    assert check(f"{lead}\n\n## Next\n\n90.6 %", tmp_path, results) == ["'90.6' cites no results file: '90.6 %'"]
