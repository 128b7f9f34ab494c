"""srlib.research.stats: the interval over seeds and images against SciPy's t-tests, its coverage on simulated nulls,
seed effects of opposite sign, Holm by hand, failure intervals, failed runs kept out of a verdict."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from srlib.research.stats import compare, failure_interval, holm, paired_bootstrap, seeds_and_images, t_test, table


def runs(rng, shift=0.0, seed_sd=0.0, noise=0.05, seed_effects=None, images=None, n=100, k=3):
    """(k, n) per-run, per-image PSNRs: image difficulty + shift + a seed effect per run + noise."""
    images = rng.normal(30, 2, n) if images is None else images
    effects = rng.normal(0, seed_sd, (k, 1)) if seed_effects is None else np.asarray(seed_effects)[:, None]
    return images + shift + effects + rng.normal(0, noise, (k, n))


def test_one_run_each_side_is_the_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(30, 1, 50), rng.normal(29.9, 1, 50)
    d, var, df = seeds_and_images(a[None], b[None])
    low, high, p = t_test(d, var, df)
    ref = sp.ttest_rel(a, b)
    assert (d, df) == (pytest.approx((a - b).mean()), 49)
    assert p == pytest.approx(ref.pvalue) and (low, high) == pytest.approx(tuple(ref.confidence_interval()))


def test_run_means_only_is_welch_over_seeds():
    """One value per run (n = 1): the interval is over seeds only, Welch's unequal-variance t-test."""
    a, b = np.array([[31.20], [31.12], [31.09]]), np.array([[31.13], [31.13], [31.11], [31.10]])
    low, high, p = t_test(*seeds_and_images(a, b))
    ref = sp.ttest_ind(a[:, 0], b[:, 0], equal_var=False)
    assert p == pytest.approx(ref.pvalue) and (low, high) == pytest.approx(tuple(ref.confidence_interval()))


@pytest.mark.parametrize("seed_sd, noise, image_sd", [(0.05, 0.02, 0.0), (0.0, 0.1, 0.1), (0.02, 0.2, 0.1)])
def test_the_95_percent_interval_covers_a_null_about_95_percent_of_the_time(seed_sd, noise, image_sd):
    """1,000 simulated studies without an effect, 3 seeds a side, 100 images, in three regimes (seeds dominate;
    images dominate; both): the interval holds 0 in 93-97 % of them (binomial sd at 95 %: 0.7 %)."""
    rng = np.random.default_rng(11)
    held = 0
    for _ in range(1_000):
        images = rng.normal(30, 2, 100)
        a = runs(rng, seed_sd=seed_sd, noise=noise, images=images + rng.normal(0, image_sd, 100))
        low, high, _ = t_test(*seeds_and_images(a, runs(rng, seed_sd=seed_sd, noise=noise, images=images)))
        held += low <= 0 <= high
    assert 930 <= held <= 970, held


def test_seed_effects_of_opposite_sign_give_no_measurable_difference():
    """The reviewer's case (study_02_colour's rgb: +0.07, -0.01, -0.02 per seed): per image the variant is
    consistent (noise 0.01 dB), so an images-only bootstrap of seed means calls it; over seeds it is a tie."""
    rng = np.random.default_rng(2)
    images = rng.normal(30, 2, 100)
    a = runs(rng, seed_effects=[0.07, -0.01, -0.02], noise=0.01, images=images)
    b = runs(rng, seed_effects=[0.0, 0.0, 0.0], noise=0.01, images=images)
    r = compare({"rgb": (a, b)})["rgb"]
    assert r["low"] < 0 < r["high"] and r["verdict"] == "no measurable difference"
    assert paired_bootstrap(a.mean(axis=0) - b.mean(axis=0))[1] > 0  # the old interval excluded 0


def test_a_consistent_effect_gets_its_verdict():
    rng = np.random.default_rng(3)
    images = rng.normal(30, 2, 100)
    b = runs(rng, seed_sd=0.02, images=images)
    out = compare({"up": (runs(rng, 0.1, 0.02, images=images), b), "down": (runs(rng, -0.1, 0.02, images=images), b)})
    assert out["up"]["verdict"] == "better" and out["down"]["verdict"] == "worse"
    assert 0 < out["up"]["low"] < 0.1 < out["up"]["high"]


def test_holm_by_hand():
    """Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04; running max 0.02, 0.03, 0.06, 0.06."""
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])


def test_holm_level_intervals_agree_with_their_verdicts():
    """Five comparisons, effects 0 to 0.04 dB: each interval excludes 0 exactly when its Holm p is below 0.05,
    and is wider than the plain 95 % interval where the family adjusts it."""
    rng = np.random.default_rng(4)
    images = rng.normal(30, 2, 100)
    b = runs(rng, seed_sd=0.01, noise=0.05, images=images)
    pairs = {e: (runs(rng, e, 0.01, noise=0.05, images=images), b) for e in (0.0, 0.01, 0.02, 0.03, 0.04)}
    out = compare(pairs)
    assert {r["verdict"] for r in out.values()} >= {"better", "no measurable difference"}
    for e, r in out.items():
        assert (r["low"] > 0) == (r["p_holm"] < 0.05)
        plain = t_test(*seeds_and_images(*pairs[e]))
        assert r["high"] - r["low"] >= plain[1] - plain[0] - 1e-12


def test_failure_interval_is_clopper_pearson():
    """0 of 3: upper 1 - 0.025^(1/3) = 0.708; 3 of 3: lower 0.025^(1/3) = 0.292; 1 of 3 by SciPy's binomtest."""
    assert failure_interval(0, 3) == (0.0, pytest.approx(1 - 0.025 ** (1 / 3)))
    assert failure_interval(3, 3) == (pytest.approx(0.025 ** (1 / 3)), 1.0)
    ci = sp.binomtest(1, 3).proportion_ci(method="exact")
    assert failure_interval(1, 3) == pytest.approx((ci.low, ci.high))


def frame(variants, n=100):
    """Long score rows from {variant: (runs, n) PSNRs}; bicubic is one run, seed 0; SSIM = PSNR / 100."""
    rows = []
    for v, values in variants.items():
        for k, per_image in enumerate(np.atleast_2d(values)):
            for split, vals in (("test", per_image), ("val", per_image[:10])):
                rows += [{"variant": v, "seed": 0 if v == "bicubic" else k + 1, "split": split, "image": f"s/{i:03d}",
                          "psnr": float(p), "ssim": float(p) / 100} for i, p in enumerate(vals)]
    return pd.DataFrame(rows)


def test_a_run_that_failed_is_counted_not_averaged():
    """no_skips: two of three seeds end at bicubic. The row says '1 of 3', keeps their PSNR out of its mean, shows
    'failed' among its per-seed differences and compares nothing (too few learned); 3 of 5 learned compares."""
    rng = np.random.default_rng(5)
    images = rng.normal(30, 2, 100)
    base = runs(rng, 1.0, 0.01, images=images)
    flaky = runs(rng, 1.05, 0.01, images=images)
    flaky[1:] = images - 0.2
    five = np.vstack([runs(rng, 1.0, 0.01, images=images, k=3), np.tile(images - 0.2, (2, 1))])
    budgets = {"base": 10, "no_skips": 10, "five": 10}
    rows = {r["variant"]: r for r in table(frame({"bicubic": images, "base": base, "no_skips": flaky, "five": five}),
                                           "base", budgets)}
    r = rows["no_skips"]
    assert r["learned"] == "1 of 3" and r["verdict"] == "1 of 3 learned: too few to compare" and r["d_psnr"] is None
    assert r["test_psnr_mean"] == pytest.approx(flaky[0].mean()) and r["test_psnr_std"] is None
    assert r["d_psnr_seeds"].split()[1:] == ["failed", "failed"]
    assert r["failed_low"] > 0.09 and r["failed_high"] > 0.99
    assert rows["five"]["learned"] == "3 of 5" and rows["five"]["verdict"] == "no measurable difference"
    assert rows["base"]["verdict"] == "baseline" and rows["base"]["learned"] == "3 of 3"


def test_table_rows_show_per_seed_differences():
    rng = np.random.default_rng(6)
    images = rng.normal(30, 2, 100)
    base, plus = runs(rng, 1.0, images=images, noise=0.0), runs(rng, 1.3, images=images, noise=0.0)
    rows = {r["variant"]: r for r in table(frame({"bicubic": images, "base": base, "plus": plus}), "base",
                                           {"base": 10, "plus": 10})}
    expected = " ".join(f"{d:+.3f}" for d in plus.mean(axis=1) - base.mean(axis=1))
    assert rows["plus"]["d_psnr_seeds"] == expected and rows["plus"]["verdict"] == "better"
    assert rows["plus"]["verdict_ssim"] == "higher"
