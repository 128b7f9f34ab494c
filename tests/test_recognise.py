"""srlib.research.recognise: the Fréchet distance (known values) and the digit classifier (accurate on unseen digits,
cached); srlib.research.digit_study's bootstrap interval."""

import numpy as np
import pytest

from srlib.research.digit_study import interval
from srlib.research.recognise import FEATURES, digit_classifier, frechet_distance, gaussian, predict
from srlib.sources import datasets, digits


def test_frechet_distance_of_identical_sets_is_zero(rng):
    f = rng.normal(size=(300, 6))
    f[:, 2] = 0.0  # a dead feature: singular covariance
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)  # sqrt of eigenvalues ~1e-15: 3e-8
    assert frechet_distance(f, f + 0.5) == pytest.approx(6 * 0.25, abs=1e-6)  # a shift: |mu_a - mu_b|^2 only


def test_frechet_distance_one_dimensional_by_hand():
    """1-D Gaussians: (m_a - m_b)^2 + (s_a - s_b)^2. a = {0, 2}: mean 1, variance 2 (ddof 1); b = {3, 7}: mean 5,
    variance 8; so 16 + (sqrt 2 - sqrt 8)^2 = 16 + 2 = 18."""
    a, b = np.array([[0.0], [2.0]]), np.array([[3.0], [7.0]])
    assert frechet_distance(a, b) == pytest.approx(18.0, rel=1e-12)
    assert frechet_distance(gaussian(a), b) == pytest.approx(18.0, rel=1e-12)


def test_frechet_distance_matches_scipy_sqrtm(rng):
    """The eigenvalue form equals FID's formula with scipy's matrix square root on full-rank covariances."""
    import scipy.linalg

    a, b = rng.normal(size=(400, 5)), rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 1.0
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-9)


def test_interval_percentiles_and_p():
    """0..999 resampled: the 2.5 / 97.5 percentiles (linear interpolation) 24.975 and 974.025; 0 is in the lower tail
    once (p = 2 * 2 / 1001)."""
    value, low, high, p = interval(3.0, np.arange(1000.0))
    assert (value, low, high) == (3.0, pytest.approx(24.975), pytest.approx(974.025))
    assert p == pytest.approx(4 / 1001)


def test_classifier_recognises_unseen_digits_and_is_cached(tmp_path):
    """One epoch on half a: over 90 % right on 1,000 digits of half b; the second call loads the cached file."""
    if not datasets.mnist_file("t10k"):
        pytest.skip("MNIST's test digits absent")
    model = digit_classifier("MNIST-test-a", epochs=1, folder=tmp_path)
    hr, labels = digits.digits("MNIST-test-b")[:1000], digits.digit_labels("MNIST-test-b")[:1000]
    guess, feats = predict(model, hr)
    assert feats.shape == (1000, FEATURES) and (guess == labels).mean() > 0.9
    assert [p.name for p in tmp_path.iterdir()] == ["MNIST-test-a_e1_seed1.keras"]
    again, _ = predict(digit_classifier("MNIST-test-a", epochs=1, folder=tmp_path), hr)
    np.testing.assert_array_equal(again, guess)


def _scores(rng, psnr, correct, feats, n=50):
    split = {"psnr": psnr, "ssim": np.full(n, 0.9), "correct": correct, "features": feats, "sharpness": 1.0}
    return {"test": split, "val": split}


def test_digit_study_table_known_answers(rng):
    """Synthetic per-digit scores: a variant 1 dB above bicubic on every digit gets d_psnr 1 [1, 1] and 'better'
    (Holm over its comparisons included), its HR features a Fréchet distance 0 against bicubic's 3, equal accuracy no
    measurable difference; one at bicubic's PSNR has 'failed to learn' and no comparison."""
    from srlib.research.digit_study import DigitStudy

    n = 50
    hr_feats, base = rng.normal(size=(n, 3)), rng.normal(20, 2, n)
    right = (np.arange(n) % 5 > 0).astype(float)  # 80 %
    scores = {"HR": {0: _scores(rng, base, np.ones(n), hr_feats)},
              "bicubic": {0: _scores(rng, base, right, hr_feats + 1)},
              "mse_kl": {s: _scores(rng, base + 1, right, hr_feats) for s in (1, 2, 3)},
              "mse_kl_gan": {s: _scores(rng, base, right, hr_feats) for s in (1, 2, 3)}}
    rows = {r["variant"]: r for r in DigitStudy(26, n_boot=1000, n_boot_frechet=1000).table(scores)}
    assert list(rows) == ["bicubic", "mse_kl", "mse_kl_gan", "HR"]
    good = rows["mse_kl"]
    assert (good["d_psnr_vs_bicubic"], good["d_psnr_vs_bicubic_low"], good["d_psnr_vs_bicubic_high"]) == (
        pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))
    assert good["verdict"] == "better" and good["learned"] == "3 of 3" and good["test_psnr_std"] == 0.0
    assert good["frechet_mean"] == pytest.approx(0.0, abs=1e-6)
    assert rows["bicubic"]["frechet_mean"] == pytest.approx(3.0)  # a shift of 1 in each of 3 features
    assert good["verdict_frechet_vs_bicubic"] == "closer to HR"
    assert good["verdict_accuracy_vs_bicubic"] == "no measurable difference"
    assert good["accuracy_mean"] == pytest.approx(0.8)
    assert rows["mse_kl_gan"]["verdict"] == "failed to learn" and "d_psnr_vs_bicubic" not in rows["mse_kl_gan"]
    assert rows["HR"]["accuracy_mean"] == 1.0
