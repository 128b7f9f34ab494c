"""srlib.research.stats and srlib.research.study: paired bootstrap, Holm, verdicts, the bicubic floor, cached and
resumable studies."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from srlib.io import save_image
from srlib.outputs import Outputs
from srlib.research import evidence
from srlib.research.budgets import steps_for_equal_time
from srlib.research.scoring import extra_metrics
from srlib.research.stats import paired_bootstrap, table
from srlib.research.study import Study
from srlib.research.study_view import show, summary, verdict_lines
from srlib.training.experiment import Recipe


def scores_frame(test, val=None, seeds=(1, 2, 3)):
    """Long score rows from {variant: (n_images,) test PSNRs per seed (callable seed -> array)}; SSIM = PSNR / 100."""
    rows = []
    for variant, per_seed in test.items():
        for seed in [0] if variant == "bicubic" else seeds:
            values = per_seed(seed)
            for split, vals in (("test", values), ("val", values[:10] if val is None else val)):
                rows += [{"variant": variant, "seed": seed, "split": split, "image": f"set/{i:03d}.png",
                          "psnr": float(p), "ssim": float(p) / 100} for i, p in enumerate(vals)]
    return pd.DataFrame(rows)


def test_a_tenth_of_a_db_over_100_images_is_measured_better():
    """Variant = baseline + 0.1 dB + N(0, 0.2) per image (100 images, 3 seeds): 'better', interval excluding 0."""
    rng = np.random.default_rng(3)
    base = rng.normal(30, 2, 100)
    shift = 0.1 + rng.normal(0, 0.2, 100)
    frame = scores_frame({"bicubic": lambda s: base - 1.0, "base": lambda s: base + rng.normal(0, 0.01, 100),
                          "plus": lambda s: base + shift + rng.normal(0, 0.01, 100),
                          "minus": lambda s: base - shift + rng.normal(0, 0.01, 100)})
    rows = {r["variant"]: r for r in table(frame, "base", {"base": 1000, "plus": 1000, "minus": 1000})}
    assert rows["plus"]["verdict"] == "better" and rows["minus"]["verdict"] == "worse"
    assert 0 < rows["plus"]["d_psnr_low"] < 0.1 < rows["plus"]["d_psnr_high"] < 0.2
    assert rows["plus"]["d_psnr"] == pytest.approx(shift.mean(), abs=0.005)
    assert rows["plus"]["verdict_ssim"] == "higher" and rows["base"]["verdict"] == "baseline"
    assert rows["plus"]["seeds"] == "1 2 3" and rows["plus"]["budget_steps"] == 1000
    assert rows["plus"]["test_psnr_std"] < 0.01 and rows["bicubic"]["test_psnr_std"] is None


def test_bootstrap_of_three_images_matches_the_exact_27_resamples():
    """diff = (0, 0, 3): a resample's mean is k, the draws of the third image, k ~ Binomial(3, 1/3):
    P(0) = 8/27, P(3) = 1/27 > 2.5 %, so the interval is exactly [0, 3]; p = 2 P(mean <= 0) = 16/27."""
    mean, low, high, p = paired_bootstrap([0.0, 0.0, 3.0])
    assert (mean, low, high) == (1.0, 0.0, 3.0)
    assert p == pytest.approx(16 / 27, abs=0.02)
    assert paired_bootstrap([0.0, 0.0, 3.0]) == (mean, low, high, p)  # fixed seed: the same numbers


def test_a_variant_at_or_below_bicubic_failed_to_learn_and_is_not_compared():
    rng = np.random.default_rng(5)
    base = rng.normal(30, 2, 100)
    frame = scores_frame({"bicubic": lambda s: base, "good": lambda s: base + 1.0, "at": lambda s: base,
                          "below": lambda s: base - 0.5, "better": lambda s: base + 1.5})
    rows = {r["variant"]: r for r in table(frame, "good", {"good": 10, "at": 10, "below": 10, "better": 10})}
    assert rows["at"]["verdict"] == rows["below"]["verdict"] == "failed to learn"
    assert rows["at"]["d_psnr"] is None and rows["below"]["p_holm_psnr"] is None
    assert rows["better"]["verdict"] == "better"
    assert rows["better"]["p_holm_psnr"] < 1e-6 and rows["at"]["learned"] == "0 of 3"
    rows = {r["variant"]: r for r in table(frame, "at", {"at": 10, "good": 10})}
    assert rows["at"]["verdict"] == "baseline: 0 of 3 learned, too few to compare"
    assert rows["good"]["verdict"] == "baseline 0 of 3 learned: too few to compare"


def test_extra_metrics_by_hand(rng):
    """Red raised by 10 levels: Cb moves by 37.797 * 10 / 255 levels and Cr by 112 * 10 / 255 (MATLAB rgb2ycbcr)."""
    hr = np.round(rng.uniform(0.1, 0.9, (20, 20, 3)) * 255) / 255
    sr = hr + np.array([10 / 255, 0, 0])
    m = extra_metrics(2, "psnr_rgb", "psnr_cb", "psnr_cr", "ciede2000", "sharpness")
    assert m["psnr_cb"](sr, hr) == pytest.approx(20 * np.log10(255 / (37.797 * 10 / 255)), abs=1e-5)  # float32 levels
    assert m["psnr_cr"](sr, hr) == pytest.approx(20 * np.log10(255 / (112 * 10 / 255)), abs=1e-5)  # float32 levels
    assert m["psnr_rgb"](sr, hr) == pytest.approx(10 * np.log10(255**2 * 3 / 100), abs=1e-5)  # float32 levels
    assert m["ciede2000"](hr, hr) == 0 and m["ciede2000"](sr, hr) > 1
    assert m["sharpness"](hr, hr) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="bogus"):
        extra_metrics(2, "bogus")


@pytest.fixture
def tiny_data(tmp_path):
    """20 smooth 40x40 training images (10 become the holdout) and 4 test images."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, 40)[None, :, None]
    for folder, n in (("train", 20), ("test", 4)):
        for i in range(n):
            img = np.clip(ramp * rng.random(3) + 0.2 * rng.random((40, 40, 3)), 0, 1)
            save_image(tmp_path / folder / f"{i:02d}.png", img)
    return tmp_path


STUDY = """
import sys
from srlib.training.experiment import Recipe
from srlib.outputs import Outputs
from srlib.research.study import Study
data = sys.argv[1]
base = Recipe("espcn", scale=2, args={"filters": [4, 4]}, patch=8, batch=4, precision="fp32", schedule="constant")
study = Study("study_99_cache", "tanh", {"tanh": base, "relu": base.replace(args={"filters": [4, 4],
              "activation": "relu"})}, seeds=(1, 2, 3), budget=2, epochs=1, test=data + "/test",
              sources=[data + "/train"])
rows = study.run(Outputs("full", root=data + "/results"), command="test_study")
print("trained steps:", study.trained_steps)
"""


@pytest.mark.slow
def test_a_finished_study_reruns_in_a_fresh_process_with_zero_steps_and_the_same_bytes(tiny_data):
    code = textwrap.dedent(STUDY)
    first = {}
    exec(code.replace("sys.argv[1]", repr(str(tiny_data))), first)
    assert first["study"].trained_steps == 2 * 3 * 2  # variants x seeds x steps
    table_csv = tiny_data / "results" / "tables" / "study_99_cache.csv"
    before = table_csv.read_bytes()
    out = subprocess.run([sys.executable, "-c", code, str(tiny_data)], capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "trained steps: 0" in out.stdout
    assert table_csv.read_bytes() == before
    text = before.decode()
    assert "# machine" not in text and "# date" not in text
    df = pd.read_csv(table_csv, comment="#")
    assert list(df["variant"]) == ["bicubic", "tanh", "relu"] and list(df["budget_steps"]) == [0, 2, 2]
    pattern = r"baseline|failed to learn|better|worse|no measurable difference|(baseline:? )?\d of 3 learned.*"
    assert df["verdict"].dropna().str.fullmatch(pattern).all(), list(df["verdict"])
    meta, scores = evidence.read("study_99_cache", tiny_data / "results" / "studies")  # the committed evidence
    assert meta["per_image"] and len(scores) == 7 * len(scores.query("variant == 'bicubic'"))
    rebuilt = tiny_data / "rebuilt"
    evidence.write_tables(Outputs("full", root=rebuilt), meta, scores)
    assert (rebuilt / "tables" / "study_99_cache.csv").read_bytes() == before
    runs = pd.read_csv(tiny_data / "results" / "tables" / "study_99_cache_runs.csv", comment="#")
    assert list(zip(runs["variant"], runs["seed"], strict=True)) == [("tanh", k) for k in (1, 2, 3)] + [
        ("relu", k) for k in (1, 2, 3)]
    cached = pd.read_csv(first["study"].run_dir("relu", 2) / "scores_test.csv")  # relu seed 2's per-image scores
    assert runs["test_psnr"].iloc[4] == pytest.approx(cached.query("split == 'test'")["psnr"].mean(), rel=1e-3)
    floor = df.loc[df["variant"] == "bicubic", "test_psnr_mean"].iloc[0]
    assert list(runs["learned"]) == list(runs["test_psnr"] > floor)
    timing = pd.read_csv(tiny_data / "results" / "tables" / "study_99_cache_timing.csv", comment="#")
    assert len(timing) == 6 and (timing["train_s"] > 0).all()
    curve = first["study"].learning_curve(reference="espcn-x2")  # the shipped model: well above bicubic
    assert list(curve["curve"]["step"]) == [2] and curve["reference"] > curve["bicubic"]
    assert curve["fraction"] == pytest.approx((curve["curve"]["mean"].iloc[-1] - curve["bicubic"])
                                              / (curve["reference"] - curve["bicubic"]))


def test_study_refuses_bad_names_and_budgets():
    r = Recipe("espcn", scale=2)
    with pytest.raises(ValueError, match="study_<notebook>_<question>"):
        Study("activation", "a", {"a": r})
    with pytest.raises(ValueError, match="multiples of epochs"):
        Study("study_02_activation", "a", {"a": r}, budget=15, epochs=10)
    with pytest.raises(ValueError, match="differ in scale"):
        Study("study_02_activation", "a", {"a": r, "b": r.replace(scale=3)}, budget=10, epochs=10)


def test_equal_time_gives_the_slower_variant_fewer_steps(tiny_data):
    small = Recipe("espcn", scale=2, args={"filters": [2, 2]}, patch=16, batch=8, precision="fp32")
    big = small.replace(args={"filters": [128, 128]})  # about 6x slower per step here
    steps = steps_for_equal_time({"small": small, "big": big}, seconds=20, probe_steps=30, multiple=5,
                                 sources=[tiny_data / "train"])
    assert all(s % 5 == 0 and s >= 5 for s in steps.values())
    assert steps["big"] < steps["small"], steps


def test_equal_time_anchored_on_a_variant_measures_once_and_keeps_the_budget(tmp_path, monkeypatch):
    """(name, steps): the anchor keeps its steps exactly and the others get the steps that take as long (hand
    counts at fixed rates); the rates are cached with the machine, read back without measuring, and a cache of
    other recipes is refused."""
    import srlib.research.budgets as study

    post = Recipe("autoencoder", scale=2, patch=16, batch=16)
    recipes = {"post": post, "pre": post.replace(args={"placement": "pre"})}
    monkeypatch.setattr(study, "step_rates", lambda recipes, probe_steps, sources=None: {"post": 23.7, "pre": 6.1})
    cache = tmp_path / "study_03_x" / study.RATES
    # post: 20,000 steps take 843.9 s; pre runs 6.1 x 843.9 = 5147.7 steps then, 5140 in multiples of 10
    assert steps_for_equal_time(recipes, ("post", 20_000), multiple=10, cache=cache) == {"post": 20_000, "pre": 5_140}
    kept = json.loads(cache.read_text())
    assert kept["steps_per_s"] == {"post": 23.7, "pre": 6.1} and kept["machine"]

    def unmeasured(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(study, "step_rates", unmeasured)
    assert steps_for_equal_time(recipes, ("post", 1_000), multiple=10, cache=cache) == {"post": 1_000, "pre": 250}
    assert steps_for_equal_time(recipes, 100, cache=cache) == {"post": 2_370, "pre": 610}  # seconds, as before
    with pytest.raises(ValueError, match="other recipes"):
        steps_for_equal_time({**recipes, "pre": post.replace(patch=24)}, 100, cache=cache)


def test_matrix_gives_each_cell_its_gain_over_bicubic():
    """A train x test matrix from its evidence (:func:`srlib.research.evidence.tabulate`): per test column the study
    table, and each variant's gain over bicubic on that LR with its interval, Holm-adjusted over the cells: +0.5 dB on
    every image is +0.5 with the interval [0.5, 0.5], 'above bicubic'; -0.3 'below bicubic'. A run learned when it beat
    bicubic on its own training LR, so b (trained on JPEG) is compared in every column, the clean one included,
    where it is below bicubic. A Vid4 clip is a column too, with no validation split."""
    base = np.random.default_rng(5).normal(28, 2, 100)
    gains = {("BSD100", "bicubic"): {"a": 0.5, "b": -0.3}, ("BSD100", "bicubic_jpeg"): {"a": -0.3, "b": 0.5},
             ("Vid4 calendar", "bicubic_h264_clip"): {"a": 0.2, "b": -0.1}}
    parts = []
    for (test, d), g in gains.items():
        part = scores_frame({"bicubic": lambda s: base, "a": lambda s, g=g: base + g["a"],
                             "b": lambda s, g=g: base + g["b"]}).assign(test=test, test_degradation=d)
        parts.append(part.query("split == 'test'") if test.startswith("Vid4") else part)
    meta = {"name": "study_99_matrix", "baseline": "a", "budgets": {"a": 10, "b": 10}, "seeds": [1, 2, 3],
            "columns": [list(c) for c in gains], "own": {"a": "bicubic", "b": "bicubic_jpeg"}}
    rows, runs = evidence.tabulate(meta, pd.concat(parts, ignore_index=True))
    rows = {(x["test_degradation"], x["variant"]): x for x in rows}
    assert len(rows) == 9 and rows["bicubic", "bicubic"]["gain_psnr"] is None
    assert rows["bicubic_h264_clip", "a"]["test"] == "Vid4 calendar" and rows["bicubic", "a"]["test"] == "BSD100"
    assert rows["bicubic_h264_clip", "a"]["val_psnr_mean"] is None and rows["bicubic", "a"]["val_psnr_mean"] > 28
    for (_, d), g in gains.items():
        for v, gain in g.items():
            cell = rows[d, v]
            assert cell["gain_psnr"] == pytest.approx(gain) and cell["gain_psnr_low"] == pytest.approx(gain)
            assert cell["verdict_gain"] == ("above bicubic" if gain > 0 else "below bicubic")
            assert cell["p_holm_gain"] < 0.05 and cell["learned"] == "3 of 3"
    assert rows["bicubic", "b"]["verdict"] == "worse" and rows["bicubic_jpeg", "b"]["verdict"] == "better"
    assert len(runs) == 3 * 2 * 3 and {r["test"] for r in runs} == {"BSD100", "Vid4 calendar"}
    r = Recipe("espcn", scale=2)
    variants = {"a": r, "b": r.replace(degradation="bicubic_jpeg", data=("cockatoo-720p",))}
    with pytest.raises(ValueError, match="differ in scale / degradation"):
        Study("study_99_matrix", "a", variants, budget=10, epochs=1)
    with pytest.raises(ValueError, match="unknown degradation 'h265'"):
        Study("study_99_matrix", "a", variants, budget=10, epochs=1, test_degradations=("h265",))


def test_summary_and_verdict_lines_read_the_table():
    """The notebooks' view of a study table: +0.4 dB on every image is 'psnr +0.400 [+0.400, +0.400]' and 'better';
    a variant below bicubic says it failed to learn, with both PSNRs."""
    base = np.random.default_rng(3).normal(28, 2, 100)
    rows = table(scores_frame({"bicubic": lambda s: base, "a": lambda s: base + 0.5, "b": lambda s: base + 0.9,
                               "c": lambda s: base - 0.2}), "a", {"a": 10, "b": 10, "c": 10})
    lines = verdict_lines(rows, "a", ("psnr",))
    assert lines[0] == ("b minus a, 3 of 3 seeds learned (per seed +0.400 +0.400 +0.400): psnr +0.400 [+0.400, "
                        "+0.400] -> better")
    assert lines[1].startswith("c: failed to learn, 0 of 3 seeds learned (test PSNR")
    assert f"bicubic {base.mean():.2f} dB" in lines[1]
    df = summary(rows)
    assert list(df["variant"]) == ["bicubic", "a", "b", "c"] and df.loc[2, "d_psnr"] == pytest.approx(0.4)


def test_show_names_metrics_a_table_lacks(capsys):
    """study_01_loss's evidence was recovered from per-run means (PSNR and SSIM only): the chapter asks for
    sharpness too, and show() says it is missing instead of failing."""
    rows = evidence.tabulate(*evidence.read("study_01_loss"))[0]
    df = show(rows, "mse", ("sharpness",))
    out = capsys.readouterr().out
    assert "not in this table's evidence: sharpness" in out and "ssim minus mse" in out
    assert list(df["variant"]) == ["bicubic", "mse", "ssim", "mse+ssim"] and "test_sharpness_mean" not in df


def test_quick_profile_tabulates_committed_evidence_and_trains_one_stand_in(tiny_data, monkeypatch):
    """Under quick a study trains no grid: one stand-in run (a tenth of its budget, the baseline's first seed) proves
    the code path, and the table comes from the full profile's committed evidence; without evidence, None."""
    monkeypatch.setenv("SRLIB_RUNS", str(tiny_data / "runs"))
    base = Recipe("espcn", scale=2, args={"filters": [4, 4]}, patch=8, batch=4, precision="fp32", schedule="constant")
    variants = {"a": base, "b": base.replace(args={"filters": [4, 4], "activation": "relu"})}
    study = Study("study_99_quick", "a", variants, seeds=(1, 2, 3), budget=20, epochs=2, test=tiny_data / "test",
                  sources=[tiny_data / "train"], profile="quick")
    rng = np.random.default_rng(1)
    images = rng.normal(30, 2, 20)
    rows = [{"variant": v, "seed": s, "split": "test", "image": f"t/{i}", "psnr": p + d + rng.normal(0, 0.01),
             "ssim": 0.9} for v, d, seeds in (("bicubic", -1.0, [0]), ("a", 0.0, [1, 2, 3]), ("b", 0.3, [1, 2, 3]))
            for s in seeds for i, p in enumerate(images)]
    meta = {"name": "study_99_quick", "baseline": "a", "budgets": {"a": 20, "b": 20}, "seeds": [1, 2, 3],
            "metrics": ["psnr", "ssim"], "command": "test", "notes": {}, "per_image": True, "curves": {}}
    score_path = evidence.write(Outputs("full", root=tiny_data / "results"), meta, pd.DataFrame(rows))
    monkeypatch.setattr(evidence, "files", lambda name, root=None: (tiny_data / "none.csv.gz", tiny_data / "none.json"))
    assert study.run() is None and (study.root / "stand_in" / "a" / "seed1" / "log.csv").exists()
    monkeypatch.setattr(evidence, "files", lambda name, root=None: (score_path, score_path.with_name(f"{name}.json")))
    got = {r["variant"]: r for r in study.run()}
    assert got["b"]["verdict"] == "better" and got["b"]["learned"] == "3 of 3" and not study.has_curves
    recipe = json.loads((study.root / "stand_in" / "a" / "seed1" / "run.json").read_text())["recipe"]
    assert recipe["steps"] == 1 and recipe["epochs"] == 2  # a tenth of 20 / 2 steps per epoch
