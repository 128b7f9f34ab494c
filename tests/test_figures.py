"""The figure rules as tests: a zoom a title states is the zoom drawn, never a shrink; a label never reads as another
number or another point's; a learning curve draws no 80 % mark it cannot mean; and no committed figure comes from
a smaller profile than the numbers of its chapter (``results/provenance.json``)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from srlib.paths import PROFILES
from srlib.research import chart_plots, curve_plots, image_plots

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def _grid(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.float32) / 255


def _stated_zooms(text):
    """Every integer zoom a text states ("×4", "x4" after "shown nearest" / "enlarged")."""
    return [int(z) for z in re.findall(r"(?:nearest|enlarged) ×(\d+)", text)]


def check_zooms(fig):
    """The rule, on a figure of :func:`srlib.research.image_plots.comparison`: every panel is drawn at an integer zoom
    of its array (panel pixels = array pixels × zoom, on the canvas: no shrink, no resampling), a zoom a panel's title
    states is that panel's zoom, and every panel's zoom is one the figure states (its title's, or the header's)."""
    fig.canvas.draw()
    header = " ".join(t.get_text() for t in fig.texts)
    stated = set(_stated_zooms(header))
    assert fig.srlib_panels, "the figure records no panels"
    for panel in fig.srlib_panels:
        z, (h, w) = panel["zoom"], panel["native"]
        assert isinstance(z, int) and z >= 1
        box = panel["axes"].get_window_extent()
        assert (round(box.height), round(box.width)) == (h * z, w * z), panel["title"]
        own = _stated_zooms(panel["title"])
        assert all(k == z for k in own), f"title {panel['title']!r} states ×{own}, drawn ×{z}"
        assert z == 1 or own or z in stated, f"panel {panel['title']!r} drawn ×{z}, not stated"


def test_a_small_image_in_an_enlarged_comparison_states_its_whole_zoom():
    """01_face_64_to_128's case: a 64 x 64 LR beside 128 x 128 images, all enlarged x2: the LR is drawn x4, and its
    title says x4 (it said x2, the LR's factor alone)."""
    lr, big = _grid((16, 16, 1), 1), _grid((32, 32, 1), 2)
    fig = image_plots.comparison([lr, big, big], ["LR", "SR", "HR"], zoom=2)
    check_zooms(fig)
    assert fig.srlib_panels[0]["zoom"] == 4 and fig.srlib_panels[0]["title"] == "LR\nshown nearest ×4"


def test_digit_rows_state_the_zoom_they_are_drawn_at():
    """05_digits' case: 7 x 7 and 26 x 26 LR digits among 28 x 28 ones, all enlarged x4, eight to a row."""
    digits = [_grid((7, 7, 1), 1), _grid((26, 26, 1), 2)] + [_grid((28, 28, 1), s) for s in range(3, 9)]
    fig = image_plots.comparison(digits, ["LR 7", "LR 26"] + [""] * 6, zoom=4, cols=8)
    check_zooms(fig)
    assert [p["zoom"] for p in fig.srlib_panels[:3]] == [16, 4, 4]


@pytest.mark.parametrize("full", [True, False])
def test_crops_and_error_maps_state_the_zoom_they_are_drawn_at(full):
    lr, sr = _grid((12, 12, 3), 1), _grid((36, 36, 3), 2)
    fig = image_plots.comparison([lr, sr, sr], ["LR", "SR", "HR"], hr=sr, scale=3, box=(6, 9, 12, 12), error=True,
                           heat_max=8, full=full)
    check_zooms(fig)
    assert {p["zoom"] for p in fig.srlib_panels if p["native"] == (12, 12)} >= {21}


def test_the_zoom_check_fails_on_a_title_that_states_another_zoom():
    """The check can fail: a title claiming x2 on a panel drawn x4 (the old 01 / 05 figures)."""
    fig = image_plots.comparison([_grid((16, 16, 1)), _grid((32, 32, 1))], ["LR", "SR"], zoom=2)
    fig.srlib_panels[0]["axes"].set_title("LR\nshown nearest ×2")
    fig.srlib_panels[0]["title"] = "LR\nshown nearest ×2"
    with pytest.raises(AssertionError, match="drawn ×4"):
        check_zooms(fig)


def test_signed_maps_get_a_diverging_scale_centred_on_zero_with_its_colour_bar():
    """02_colour_artefacts' fix: one variant's ΔE minus another's, on a symmetric scale that separates them."""
    values = np.linspace(-3, 3, 32 * 32).reshape(32, 32).astype(np.float32)
    fig = image_plots.comparison([_grid((32, 32, 3))], ["SR"], maps={"ΔE rgb − y": values}, heat_min=-2, heat_max=2,
                           heat_label="ΔE2000 difference")
    heat = next(p["axes"] for p in fig.srlib_panels if p["kind"] == "heat")
    assert heat.images[0].get_clim() == (-2, 2) and heat.images[0].get_cmap().name == "RdBu_r"
    bar = fig.axes[-1]
    assert bar.get_ylabel() == "ΔE2000 difference" and bar.get_ylim() == (-2, 2)
    assert "-2 to 2 ΔE2000 difference" in fig.texts[0].get_text()
    check_zooms(fig)


@pytest.mark.parametrize("value, text", [(37.8, "37.8"), (523.7, "524"), (5776.7, "5\u2009777"), (3.125, "3.12"),
                                         (17035.0, "17\u2009035"), (0.0421, "0.0421")])
def test_bar_values_never_read_as_another_number(value, text):
    """00_loader_throughput's case: 37.8 was written "37.80" beside "5,777", and read as 3,780. Decimals take a
    point, thousands a thin space, so neither reads as the other."""
    assert chart_plots.number(value) == text


def test_log_bars_start_below_the_smallest_value_so_every_label_clears_the_axis():
    fig = chart_plots.bars(["loop", "pipeline"], [37.8, 40191.8], "pairs / s", log=True)
    (ax,) = fig.axes
    low, high = ax.get_xlim()
    assert low <= 37.8 / 3 and high >= 40191.8 * 3
    fig.canvas.draw()
    frame = ax.get_window_extent()
    for t in ax.texts:
        b = t.get_window_extent()
        assert frame.x0 < b.x0 and b.x1 <= frame.x1


def test_crowded_point_labels_are_each_nearest_their_own_point():
    """07_quality_vs_speed's cluster near 200 ms: a label without a leader line sits nearer its own point than any
    other point, so no label can be read as its neighbour's."""
    import matplotlib.pyplot as plt

    xs = [124, 190, 210, 257, 515, 520, 26, 35, 65, 37, 163]
    ys = [3.06, 2.80, 2.84, 2.84, 3.31, 3.53, 1.51, 2.50, 2.40, 2.10, 2.46]
    names = ["espcn-x2", "vae-x2", "vae-res-x2", "ae-skip-x3", "cnn-x2", "ae-skip-x2", "espcn-x3-fast",
             "rtsr-x3-int8", "espcn-x3", "espcn-x4", "ae-skip-x4"]
    fig, ax = plt.subplots(figsize=(9, 5.6))
    ax.scatter(xs, ys)
    ax.set_xscale("log")
    ax.margins(x=0.12, y=0.12)
    texts = chart_plots.label_points(ax, xs, ys, names)
    fig.canvas.draw()
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    boxes = [t.get_window_extent() for t in texts]
    for t, b in zip(texts, boxes, strict=True):
        own = pts[names.index(t.get_text())]
        d = [np.hypot(max(b.x0 - x, 0, x - b.x1), max(b.y0 - y, 0, y - b.y1)) for x, y in pts]
        if t.arrow_patch is None:  # no leader line: nearness is what ties the label to its point
            assert min(d) == d[names.index(t.get_text())], f"{t.get_text()} is nearer another point"
        assert not any(b.overlaps(o) for o in boxes if o is not b)
        assert not (b.x0 < own[0] < b.x1 and b.y0 < own[1] < b.y1)


class _Recipe:
    batch, patch, scale, data = 16, 16, 2, ["T91", "BSD200"]


class _Study:
    """What :func:`srlib.research.curve_plots.study_curve` reads of a study: a learning curve ending ``end`` dB, a
    reference."""

    name, baseline, seeds, sources, files = "study_x", "base", (1, 2), None, [list(range(10))]

    def __init__(self, end, reference):
        self.end, self.ref = end, reference

    def recipe(self, variant, seed):
        return _Recipe()

    def learning_curve(self, reference=None):
        mean = np.linspace(31.0, self.end, 5)
        curve = pd.DataFrame({"step": np.arange(1, 6) * 1000, "seed1": mean - 0.01, "seed2": mean + 0.01,
                              "mean": mean})
        return {"curve": curve, "bicubic": 30.0, "reference": self.ref, "fraction": (self.end - 30) / (self.ref - 30)}


def _lines(fig):
    return {line.get_label(): line.get_ydata()[0] for line in fig.axes[0].lines if line.get_label()[0] != "_"}


def test_study_curve_draws_the_80_percent_mark_only_below_a_reference_above_the_baseline(tmp_path, capsys):
    import matplotlib.pyplot as plt

    curve_plots.study_curve(_Study(32.0, 32.5), "ref-x2", tmp_path / "a.png")
    lines = _lines(plt.gcf())
    assert lines["80 % of the way from bicubic to ref-x2"] == pytest.approx(30 + 0.8 * 2.5)
    assert "covers 80% of the way" in capsys.readouterr().out
    plt.close("all")
    curve_plots.study_curve(_Study(32.55, 32.48), "vae-res-x2", tmp_path / "b.png")  # 04_study_curve's case
    lines = _lines(plt.gcf())
    assert not any(label.startswith("80 %") for label in lines)
    assert "vae-res-x2 (shipped) 32.48 dB: the baseline ends +0.07 dB above it, no 80 % mark" in lines
    assert "0.07 dB above vae-res-x2" in capsys.readouterr().out
    plt.close("all")


def chapter_profiles():
    """{chapter number: the largest profile of the result tables its notebook made}, from provenance.json. A table is
    the notebook's when its header's command names the notebook (``# command: notebooks/04_vae.ipynb, ...``: the
    studies' tables) or the notebook's code writes it (``out("tables/espcn_benchmark.csv")``)."""
    known = json.loads((RESULTS / "provenance.json").read_text())
    out = {}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
        made = set()
        for rel in (r for r in known if r.startswith("tables/") or r == "benchmark.csv"):
            head = "".join(line for line in (RESULTS / rel).read_text().splitlines(True)[:8] if line.startswith("#"))
            if f"notebooks/{nb.name}" in head or f'"{rel}"' in code:
                made.add(rel)
        if made:
            out[nb.name[:2]] = max((known[m] for m in made), key=PROFILES.index)
    return out


def test_no_committed_figure_comes_from_a_smaller_profile_than_its_chapters_numbers():
    known = json.loads((RESULTS / "provenance.json").read_text())
    chapters = chapter_profiles()
    assert {"00", "02", "04", "05", "07"} <= set(chapters)
    committed = sorted(p.name for p in (RESULTS / "figures").iterdir())
    assert not [f for f in committed if f"figures/{f}" not in known], "a committed figure without provenance"
    low = [f"{f}: {known[f'figures/{f}']} < {chapters[f[:2]]}" for f in committed if f[:2] in chapters
           and PROFILES.index(known[f"figures/{f}"]) < PROFILES.index(chapters[f[:2]])]
    assert not low, f"figures from a smaller profile than their chapter's numbers: {low}"
