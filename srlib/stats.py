"""Statistics of a study: paired bootstrap intervals over images, Holm's adjustment, verdicts, the table.

NumPy (pandas for the table's input). A comparison is one vector of per-image differences (variant −
baseline, each the mean over seeds), shape (n_images,). Its uncertainty comes from the images: the test
set is a sample of the photos the method will meet, so images are resampled with replacement (the paired
bootstrap of machine-translation and vision evaluation), B times, and the mean difference recomputed each
time. Seed-to-seed variation enters only through the seed means; the table shows it as the std over seeds.

False positives: each comparison's two-sided bootstrap p-value (:func:`paired_bootstrap`) is
adjusted with Holm's step-down method (:func:`holm`) over every comparison of one table, which keeps
the probability of even one false "better" / "worse" in that table at or below 5 %, whatever the
dependence between comparisons. A verdict needs both the 95 % interval to exclude 0 and the adjusted
p-value to be below 0.05 (:func:`verdict`).
"""

import math

import numpy as np

N_BOOT = 10_000
BOOT_SEED = 0
ALPHA = 0.05
KEYS = ("variant", "seed", "split", "image")  # the columns of a score row that are not metrics


def paired_bootstrap(diff, n_boot=N_BOOT, seed=BOOT_SEED, chunk=1_000):
    """Mean of ``diff`` with its 95 % percentile-bootstrap interval and two-sided bootstrap p-value.

    Args:
      diff: per-image differences, shape (n,), n >= 1, no NaN.
      n_boot: resamples B, each n indices drawn with replacement.
      seed: seed of the NumPy generator (same data and seed -> the same numbers, to the bit).
      chunk: resamples drawn at once (bounds memory to chunk x n indices; the draws do not depend on it).

    Returns:
      (mean, low, high, p): low / high are the 2.5 / 97.5 percentiles (linear interpolation) of the B
      resampled means; p = min(1, 2 (min(#{means <= 0}, #{means >= 0}) + 1) / (B + 1)), the two-sided
      bootstrap p-value with the add-one correction (never 0): below 0.05 when 0 lies in a tail of less
      than about 2.5 % of the resampled means, i.e. when the interval excludes 0.
    """
    diff = np.asarray(diff, np.float64)
    if diff.ndim != 1 or not len(diff) or np.isnan(diff).any():
        raise ValueError(f"paired_bootstrap: need a 1-D vector of per-image differences without NaN, got {diff.shape}")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        means[start:stop] = diff[rng.integers(0, len(diff), (stop - start, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    tail = min(int((means <= 0).sum()), int((means >= 0).sum()))
    p = min(1.0, 2.0 * (tail + 1) / (n_boot + 1))
    return float(diff.mean()), float(low), float(high), p


def holm(pvalues):
    """Holm's step-down adjustment of ``pvalues`` (any order; returned in the same order).

    Sorted ascending, the k-th smallest (k = 1..m) becomes max over j <= k of min(1, (m - j + 1) p_(j)).
    Rejecting where the adjusted value is below alpha controls the family-wise error rate at alpha.
    """
    p = np.asarray(pvalues, np.float64)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def verdict(low, high, p_adjusted, words=("better", "worse"), alpha=ALPHA):
    """``words[0]`` when the interval lies above 0, ``words[1]`` when below, each only with
    ``p_adjusted`` < ``alpha``; otherwise 'no measurable difference'."""
    if p_adjusted < alpha and low > 0:
        return words[0]
    if p_adjusted < alpha and high < 0:
        return words[1]
    return "no measurable difference"


def mean_std(values):
    """(mean, sample standard deviation, ddof 1) of the seeds' values; std is NaN for one seed."""
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def table(scores, baseline, budgets, n_boot=N_BOOT, boot_seed=BOOT_SEED):
    """The study's rows (dicts, bicubic first, then ``budgets``' order) from per-image ``scores``.

    Args:
      scores: DataFrame with columns variant, seed, split ('val' / 'test'), image and one column per
        metric (psnr and ssim first); bicubic's rows have variant 'bicubic'. Every variant must have
        scores on the same test images.
      baseline: the variant the others are compared with.
      budgets: {variant: training steps}, in table order.
      n_boot, boot_seed: see :func:`paired_bootstrap` (fixed seed: reproducible to the bit; every
        comparison resamples the same images).

    Returns per variant: seeds, budget_steps, ``<split>_<metric>_mean`` / ``_std`` (over seeds, ddof 1),
    and against the baseline per test metric ``d_<metric>`` (mean per-image difference of the seed means),
    ``_low`` / ``_high`` (95 % interval), ``p_holm_<metric>``, and ``verdict`` (PSNR: 'better' / 'worse' /
    'no measurable difference' / 'failed to learn') or ``verdict_<metric>`` ('higher' / 'lower' / ...).
    """
    metrics = [c for c in scores.columns if c not in KEYS]
    if baseline not in budgets:
        raise ValueError(f"baseline {baseline!r} is not one of the variants ({', '.join(budgets)})")
    by_image, rows = {}, {}
    for v in ["bicubic", *budgets]:
        mine = scores[scores["variant"] == v]
        if mine.empty:
            raise ValueError(f"no scores for variant {v!r}")
        row = {"variant": v, "seeds": " ".join(str(int(s)) for s in sorted(mine["seed"].unique()) if s > 0),
               "budget_steps": budgets.get(v, 0)}
        for split in ("val", "test"):
            per_seed = mine[mine["split"] == split].groupby("seed")[metrics].mean()
            for m in metrics:  # a split without scores (a clip has no validation frames): None
                mean, std = mean_std(per_seed[m]) if len(per_seed) else (None, float("nan"))
                row[f"{split}_{m}_mean"], row[f"{split}_{m}_std"] = mean, None if math.isnan(std) else std
        by_image[v] = mine[mine["split"] == "test"].groupby("image")[metrics].mean()
        rows[v] = row
    floor = rows["bicubic"]["test_psnr_mean"]
    learned = {v: rows[v]["test_psnr_mean"] > floor for v in budgets}
    compared = [v for v in budgets if v != baseline and learned[v] and learned[baseline]]
    results = {}
    for v in compared:
        if not by_image[v].index.equals(by_image[baseline].index):
            raise ValueError(f"{v!r} and {baseline!r} were scored on different test images")
        for m in metrics:
            results[v, m] = paired_bootstrap((by_image[v][m] - by_image[baseline][m]).to_numpy(), n_boot, boot_seed)
    adjusted = dict(zip(results, holm([r[3] for r in results.values()]), strict=True))
    for v in budgets:
        row = rows[v]
        for m in metrics:
            mean, low, high, _ = results.get((v, m), (None,) * 4)
            p = adjusted.get((v, m))
            row.update({f"d_{m}": mean, f"d_{m}_low": low, f"d_{m}_high": high, f"p_holm_{m}": p})
            if m == "psnr":
                row["verdict"] = ("failed to learn" if not learned[v] else "baseline" if v == baseline
                                  else "baseline failed to learn" if not learned[baseline]
                                  else verdict(low, high, p))
            else:
                row[f"verdict_{m}"] = None if p is None else verdict(low, high, p, ("higher", "lower"))
    return [rows["bicubic"]] + [rows[v] for v in budgets]
